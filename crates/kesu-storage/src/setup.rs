//! What a fresh database needs before anyone logs in.

use jiff::Timestamp;

use crate::{Db, Result};

impl Db {
    /// Seeds the default taxonomy and a first site (`main`, the group level)
    /// when there is none. Safe to run at every start.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn bootstrap(&self, now: Timestamp) -> Result<()> {
        self.seed_categories().await?;
        if self.sites().await?.is_empty() {
            // The first site is the group (总部): its staff see every site.
            let main = self
                .create_site("main", "总部", "Asia/Shanghai", now)
                .await?;
            self.set_site_group(main, true).await?;
        }
        Ok(())
    }
}
