//! What a fresh database needs before anyone logs in.

use jiff::Timestamp;

use crate::{Db, Result};

impl Db {
    /// Seeds the default taxonomy and a first site (`main`) when there is
    /// none. Safe to run at every start.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn bootstrap(&self, now: Timestamp) -> Result<()> {
        self.seed_categories().await?;
        if self.sites().await?.is_empty() {
            self.create_site("main", "总部", "Asia/Shanghai", now)
                .await?;
        }
        Ok(())
    }
}
