//! Personal data (PIPL, R-GV-3): every showing of a customer's unmasked
//! contact details is recorded, so that "who saw this customer's phone
//! number" always has an answer.

use jiff::Timestamp;
use kesu_domain::UserId;
use serde::Serialize;

use crate::{Db, Result, ms, on_db};

/// One recorded showing.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonalDataView {
    pub user_id: i64,
    pub username: String,
    pub complaint_number: Option<String>,
    pub purpose: String,
    pub at: i64,
}

impl Db {
    /// Records that `user` was shown the customer's unmasked contact details.
    ///
    /// # Errors
    /// The driver's error (the caller then shows nothing).
    pub async fn log_personal_data_view(
        &self,
        user: UserId,
        customer_id: i64,
        complaint_id: Option<i64>,
        purpose: &str,
        now: Timestamp,
    ) -> Result<()> {
        let sql = "INSERT INTO personal_data_views (user_id, customer_id, complaint_id, purpose, at) VALUES ($1, $2, $3, $4, $5)";
        on_db!(self, p => sqlx::query(sql).bind(user.0).bind(customer_id).bind(complaint_id).bind(purpose).bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Who was shown this customer's contact details, newest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn personal_data_views(
        &self,
        customer_id: i64,
        limit: i64,
    ) -> Result<Vec<PersonalDataView>> {
        let sql = "SELECT v.user_id, u.username, c.number AS complaint_number, v.purpose, v.at FROM personal_data_views v \
                   JOIN users u ON u.id = v.user_id LEFT JOIN complaints c ON c.id = v.complaint_id \
                   WHERE v.customer_id = $1 ORDER BY v.at DESC LIMIT $2";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(customer_id).bind(limit).fetch_all(p).await)?)
    }
}
