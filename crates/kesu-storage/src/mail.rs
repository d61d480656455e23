//! E-mail in and out: every message kesu received or sent, keyed by its
//! Message-ID, and what it became.
//!
//! Filing an inbound mail is one transaction that the caller (kesu-web's
//! `mail` module) composes: [`claim_inbound`] first (a second delivery of
//! the same mail finds the row and stops there; on PostgreSQL a concurrent
//! second delivery waits on the unique index and then finds it), then the
//! complaint or the added message with its attachments, then
//! [`set_inbound_outcome`], the automatic reply in the outbox and its
//! [`record_outbound`] row, then commit. The Message-IDs kesu sends are kept
//! here too, so that a customer's reply threads by In-Reply-To/References.

use jiff::Timestamp;
use kesu_domain::ComplaintId;
use serde::Serialize;

use crate::{Db, Result, Tx, ms, on_db, on_tx};

/// The settings key of the mailbox kesu polls (JSON, read by the web layer).
pub const MAILBOX_KEY: &str = "mailbox";
/// The settings key of the poller's last result (JSON, for the admin page).
pub const MAILBOX_STATUS_KEY: &str = "mailbox_status";

/// One message received or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MailMessageRow {
    pub id: i64,
    pub message_id: String,
    /// `in` or `out`.
    pub direction: String,
    /// What it became (see the migration `0009_mail.sql`).
    pub outcome: String,
    pub complaint_id: Option<i64>,
    /// The sender of a received mail, the recipient of a sent one.
    pub address: String,
    pub subject: String,
    /// Why a mail was refused or ignored, in a few words.
    pub detail: Option<String>,
    pub at: i64,
}

const FIELDS: &str =
    "id, message_id, direction, outcome, complaint_id, address, subject, detail, at";

/// Claims a received mail by its Message-ID: `true` when it is new (the
/// row now exists with the outcome `receiving`, to be set before the
/// commit), `false` when it was filed before (nothing written).
///
/// # Errors
/// The driver's error.
pub async fn claim_inbound(
    tx: &mut Tx,
    message_id: &str,
    sender: &str,
    subject: &str,
    now: Timestamp,
) -> Result<bool> {
    let sql = "INSERT INTO mail_messages (message_id, direction, outcome, address, subject, at) \
               VALUES ($1, 'in', 'receiving', $2, $3, $4) ON CONFLICT (message_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(message_id)
        .bind(sender)
        .bind(subject)
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Says what a claimed mail became.
///
/// # Errors
/// The driver's error.
pub async fn set_inbound_outcome(
    tx: &mut Tx,
    message_id: &str,
    outcome: &str,
    complaint: Option<ComplaintId>,
    detail: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE mail_messages SET outcome = $1, complaint_id = $2, detail = $3 WHERE message_id = $4";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(outcome)
        .bind(complaint.map(|c| c.0))
        .bind(detail)
        .bind(message_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a mail kesu sends (queued in the outbox in the same
/// transaction), so that answers to it thread to its complaint.
///
/// # Errors
/// The driver's error.
pub async fn record_outbound(
    tx: &mut Tx,
    message_id: &str,
    outcome: &str,
    complaint: ComplaintId,
    recipient: &str,
    subject: &str,
    now: Timestamp,
) -> Result<()> {
    let sql = "INSERT INTO mail_messages (message_id, direction, outcome, complaint_id, address, subject, at) \
               VALUES ($1, 'out', $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(message_id)
        .bind(outcome)
        .bind(complaint.0)
        .bind(recipient)
        .bind(subject)
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

impl Db {
    /// The number of the complaint the first of `ids` that kesu knows
    /// belongs to (ids nearest first, as `kesu_mail::ThreadKey::MessageIds`
    /// gives them).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn complaint_by_message_ids(&self, ids: &[String]) -> Result<Option<String>> {
        let sql = "SELECT c.number FROM mail_messages m JOIN complaints c ON c.id = m.complaint_id WHERE m.message_id = $1";
        for id in ids.iter().take(50) {
            let found: Option<String> =
                on_db!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// A message received or sent, by its Message-ID.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn mail_message(&self, message_id: &str) -> Result<Option<MailMessageRow>> {
        let sql = format!("SELECT {FIELDS} FROM mail_messages WHERE message_id = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(message_id).fetch_optional(p).await)?,
        )
    }

    /// A complaint's number by its id.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn complaint_number(&self, id: i64) -> Result<Option<String>> {
        Ok(
            on_db!(self, p => sqlx::query_scalar("SELECT number FROM complaints WHERE id = $1").bind(id).fetch_optional(p).await)?,
        )
    }

    /// The mails of a complaint, received and sent, oldest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn complaint_mails(&self, id: ComplaintId) -> Result<Vec<MailMessageRow>> {
        let sql = format!(
            "SELECT {FIELDS} FROM mail_messages WHERE complaint_id = $1 ORDER BY at, id LIMIT 500"
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id.0).fetch_all(p).await)?,
        )
    }

    /// The newest received mails, newest first (for the admin page).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn recent_inbound_mail(&self, limit: u32) -> Result<Vec<MailMessageRow>> {
        let sql = format!(
            "SELECT {FIELDS} FROM mail_messages WHERE direction = 'in' ORDER BY at DESC, id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?)
    }
}
