//! The outbox: messages to send (e-mail, WeCom, DingTalk …), written in the
//! transaction of what caused them, so a message exists exactly when its
//! cause was committed, and sent afterwards by a worker that may fail
//! without touching complaint work.
//!
//! A worker claims due rows for a lease (`locked_until`, `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), sends, then marks each sent or schedules a retry
//! with backoff; after too many attempts, or a permanent refusal, the row
//! gives up and the admin sees it. A node that dies mid-send leaves a lease
//! that expires, and the row is sent again (at least once; e-mail keeps the
//! Message-ID of the row, so a repeat is recognisable).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::{Db, Result, Tx, ms, on_db, on_tx};

/// The settings key of the notification channels (JSON, read by the web layer).
pub const CHANNELS_KEY: &str = "notify_channels";

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// One message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    /// `email`, `wecom`, `dingtalk`, …
    pub channel: String,
    /// An address for e-mail; empty for a group robot.
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    /// An e-mail's Message-ID (`<…@…>`), chosen when it was queued; `None`
    /// for older rows and robots (the worker makes one from the row id).
    pub message_id: Option<String>,
    /// The Message-ID an e-mail answers.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first, space-separated.
    pub refs: String,
    /// An automatic answer (`Auto-Submitted: auto-replied`).
    pub auto_submitted: bool,
    /// What a templated message needs besides its text (JSON): an SMS's
    /// vendor template and parameters (`customer_notices::SmsPayload`).
    pub payload: Option<String>,
}

/// The threading headers of an e-mail queued with [`enqueue_mail`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailHeaders {
    /// `<unique@domain>`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first.
    pub references: Vec<String>,
    /// Mark it as an automatic answer (RFC 3834).
    pub auto_submitted: bool,
}

/// Queues an e-mail with its own Message-ID and thread headers; a second
/// message with the same key is ignored. Returns 1 when queued.
///
/// # Errors
/// The driver's error.
pub async fn enqueue_mail(
    tx: &mut Tx,
    key: &str,
    recipient: &str,
    subject: &str,
    body: &str,
    headers: &MailHeaders,
    now: Timestamp,
) -> Result<usize> {
    let sql = "INSERT INTO outbox (key, channel, recipient, subject, body, created_at, next_attempt_at, \
               message_id, in_reply_to, refs, auto_submitted) \
               VALUES ($1, 'email', $2, $3, $4, $5, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(key)
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(ms(now))
        .bind(&headers.message_id)
        .bind(&headers.in_reply_to)
        .bind(headers.references.join(" "))
        .bind(headers.auto_submitted)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Queues a message once: a second message with the same key is ignored.
/// Returns 1 when queued.
///
/// # Errors
/// The driver's error.
pub async fn enqueue(
    tx: &mut Tx,
    key: &str,
    channel: &str,
    recipient: &str,
    subject: &str,
    body: &str,
    now: Timestamp,
) -> Result<usize> {
    let sql = "INSERT INTO outbox (key, channel, recipient, subject, body, created_at, next_attempt_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (key) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(key)
        .bind(channel)
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

const FIELDS: &str = "id, key, channel, recipient, subject, body, created_at, attempts, sent_at, gave_up_at, last_error, next_attempt_at, \
                      message_id, in_reply_to, refs, auto_submitted, payload";

impl Db {
    /// Claims up to `limit` messages due at `now` for `lease`: no other
    /// worker gets them until the lease ends. Counts the attempt.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let mut tx = self.begin().await?;
        let lock = if matches!(tx, Tx::Pg(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {FIELDS} FROM outbox WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT {limit}{lock}"
        );
        let rows: Vec<OutboxRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(ms(now)).fetch_all(c).await)?;
        let until = ms(now.checked_add(lease).unwrap_or(now));
        for r in &rows {
            on_tx!(&mut tx, c => sqlx::query("UPDATE outbox SET next_attempt_at = $1, locked_until = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(until)
                .bind(r.id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                r.attempts += 1;
                r
            })
            .collect())
    }

    /// The message may not go out yet (an SMS in quiet hours): back to
    /// waiting until `at`, the claim not counted as an attempt.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn outbox_postpone(&self, id: i64, at: Timestamp) -> Result<()> {
        let sql = "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, \
                   attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $2";
        on_db!(self, p => sqlx::query(sql).bind(ms(at)).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The message went out.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn outbox_sent(&self, id: i64, now: Timestamp) -> Result<()> {
        let sql = "UPDATE outbox SET sent_at = $1, next_attempt_at = NULL, locked_until = NULL, last_error = NULL WHERE id = $2";
        on_db!(self, p => sqlx::query(sql).bind(ms(now)).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The message failed: try again at `retry_at`, or give up (None).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn outbox_failed(
        &self,
        id: i64,
        now: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let sql = "UPDATE outbox SET last_error = $1, locked_until = NULL, next_attempt_at = $2, \
                   gave_up_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END WHERE id = $4";
        on_db!(self, p => sqlx::query(sql)
            .bind(error)
            .bind(retry_at.map(ms))
            .bind(ms(now))
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Messages that failed (given up, or failing and waiting to retry),
    /// newest first: what the admin must look at.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn outbox_problems(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {FIELDS} FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL \
             ORDER BY created_at DESC, id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?)
    }

    /// All messages, newest first (for tests and the admin's view).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn outbox(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {FIELDS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT {}",
            limit.clamp(1, 5000)
        );
        Ok(on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?)
    }

    /// A raw setting (JSON text), if saved.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            on_db!(self, p => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await)?,
        )
    }

    /// Saves a raw setting.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(key).bind(value).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// Where a person's notices go by e-mail (None: not by e-mail).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_user_email(&self, user: i64, email: Option<&str>) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, c => sqlx::query("UPDATE users SET email = $1 WHERE id = $2").bind(email).bind(user).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// A person's notice e-mail address.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn user_email(&self, user: i64) -> Result<Option<String>> {
        let v: Option<Option<String>> = on_db!(self, p => sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(user).fetch_optional(p).await)?;
        Ok(v.flatten())
    }

    /// How many complaints carry a category a person chose or confirmed.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn confirmed_classification_count(&self) -> Result<i64> {
        Ok(
            on_db!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM complaints WHERE category IS NOT NULL").fetch_one(p).await)?,
        )
    }

    /// The newest `limit` confirmed classifications as training examples:
    /// (the customer's words and the restatement, channel, category).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn confirmed_examples(&self, limit: u32) -> Result<Vec<(String, String, String)>> {
        let sql = format!(
            "SELECT description, restatement, channel, category FROM complaints WHERE category IS NOT NULL ORDER BY id DESC LIMIT {limit}"
        );
        let rows: Vec<(String, Option<String>, String, String)> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(d, r, ch, cat)| {
                let text = match r {
                    Some(r) => format!("{d}\n{r}"),
                    None => d,
                };
                (text, ch, cat)
            })
            .collect())
    }
}
