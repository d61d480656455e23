//! The customer portal's data: the tracking code of a complaint filed there
//! (only its hash is stored, as for sessions) and the attempt counters that
//! limit the portal per client address on every node alike (as
//! `login_failures` does for logins).

use jiff::Timestamp;
use kesu_domain::ComplaintId;
use kesu_domain::input::ComplaintNumber;

use crate::complaints::{NewComplaint, create_complaint_in};
use crate::{Db, Result, StorageError, Tx, ms, on_db, on_tx, token_hash};

/// What a portal attempt was, for counting per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A complaint form was posted.
    Filing,
    /// A number and tracking code that do not belong together.
    WrongTracking,
}

impl Attempt {
    pub const fn as_str(self) -> &'static str {
        match self {
            Attempt::Filing => "filing",
            Attempt::WrongTracking => "wrong_tracking",
        }
    }
}

/// Stores the hash of a complaint's tracking code in the transaction that
/// files it (a complaint filed through the intake API is tracked on the
/// portal too).
///
/// # Errors
/// The driver's error.
pub(crate) async fn insert_tracking_code(
    tx: &mut Tx,
    id: ComplaintId,
    number: &ComplaintNumber,
    code: &str,
    now: Timestamp,
) -> Result<()> {
    let sql =
        "INSERT INTO tracking_codes (complaint_id, code_hash, created_at) VALUES ($1, $2, $3)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(id.0)
        .bind(code_hash(number.as_str(), code))
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The stored hash of a tracking code: bound to its complaint's number, so
/// equal codes of two complaints differ.
fn code_hash(number: &str, code: &str) -> String {
    token_hash(&format!("{number}:{code}"))
}

impl Db {
    /// Files a complaint from the portal: the complaint as any registration
    /// (no staff actor) and the hash of its tracking code, in one
    /// transaction, so a number is never handed out without its code.
    ///
    /// # Errors
    /// [`StorageError::Duplicate`] when `form_key` already filed a complaint
    /// (nothing is written then); the driver's error.
    pub async fn create_portal_complaint(
        &self,
        new: &NewComplaint,
        code: &str,
        form_key: Option<&str>,
        now: Timestamp,
    ) -> Result<(ComplaintId, ComplaintNumber)> {
        let mut tx = self.begin().await?;
        if let Some(key) = form_key {
            let sql = "SELECT COUNT(*) FROM tracking_codes WHERE form_key = $1";
            let n: i64 =
                on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(key).fetch_one(c).await)?;
            if n > 0 {
                return Err(StorageError::Duplicate("form_key".into()));
            }
        }
        let (id, number) = create_complaint_in(&mut tx, new, None, now).await?;
        let sql = "INSERT INTO tracking_codes (complaint_id, code_hash, form_key, created_at) VALUES ($1, $2, $3, $4)";
        on_tx!(&mut tx, c => sqlx::query(sql)
            .bind(id.0)
            .bind(code_hash(number.as_str(), code))
            .bind(form_key)
            .bind(ms(now))
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok((id, number))
    }

    /// The number of the complaint a filing form already filed.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn portal_complaint_by_form_key(&self, form_key: &str) -> Result<Option<String>> {
        let sql = "SELECT c.number FROM tracking_codes t JOIN complaints c ON c.id = t.complaint_id WHERE t.form_key = $1";
        Ok(on_db!(self, p => sqlx::query_scalar(sql).bind(form_key).fetch_optional(p).await)?)
    }

    /// Whether `code` is the tracking code of complaint `number`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn tracking_code_matches(&self, number: &str, code: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM tracking_codes t JOIN complaints c ON c.id = t.complaint_id \
                   WHERE c.number = $1 AND t.code_hash = $2";
        let n: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(number).bind(code_hash(number, code)).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Whether the complaint was filed by the customer on the portal.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn filed_on_portal(&self, id: ComplaintId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM tracking_codes WHERE complaint_id = $1";
        let n: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(id.0).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// How many attempts of this kind came from `address` since `since`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn portal_attempts_since(
        &self,
        kind: Attempt,
        address: &str,
        since: Timestamp,
    ) -> Result<i64> {
        let sql =
            "SELECT COUNT(*) FROM portal_attempts WHERE kind = $1 AND address = $2 AND at > $3";
        Ok(
            on_db!(self, p => sqlx::query_scalar(sql).bind(kind.as_str()).bind(address).bind(ms(since)).fetch_one(p).await)?,
        )
    }

    /// Records an attempt and forgets those of its kind older than
    /// `forget_before`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn record_portal_attempt(
        &self,
        kind: Attempt,
        address: &str,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        on_db!(self, p => sqlx::query("DELETE FROM portal_attempts WHERE kind = $1 AND at <= $2").bind(kind.as_str()).bind(ms(forget_before)).execute(p).await.map(|r| r.rows_affected()))?;
        on_db!(self, p => sqlx::query("INSERT INTO portal_attempts (kind, address, at) VALUES ($1, $2, $3)").bind(kind.as_str()).bind(address).bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
