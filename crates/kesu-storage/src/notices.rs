//! In-app notices (the bell, R-NT-2): read, count and mark as read. They are
//! written by the deadline sweep and by `record` (assignments), each once.

use jiff::Timestamp;
use serde::Serialize;

use crate::deadlines::{NoticePayload, active_with_email, by_role, notify};
use crate::{Db, Result, Tx, ms, on_db, on_tx};

/// Tells whoever handles a complaint — its assignee, else the customer
/// service of its site — of something that needs a person (a bounced mail
/// to the customer, …), once per `key`: the notice's key is `key` and the
/// user. Returns how many notices were written.
///
/// # Errors
/// The driver's error.
pub async fn notify_handlers(
    tx: &mut Tx,
    complaint: i64,
    key: &str,
    kind: &str,
    now: Timestamp,
) -> Result<usize> {
    let sql = "SELECT number, assignee_id, site_id FROM complaints WHERE id = $1";
    let Some((number, assignee, site)): Option<(String, Option<i64>, Option<i64>)> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(complaint).fetch_optional(c).await)?
    else {
        return Ok(0);
    };
    let mut users: Vec<i64> = match assignee {
        Some(a) => active_with_email(tx, a)
            .await?
            .map(|(id, _)| id)
            .into_iter()
            .collect(),
        None => Vec::new(),
    };
    if users.is_empty() {
        users = by_role(tx, "agent", None, site)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
    }
    let payload = NoticePayload {
        number,
        clock: None,
        due_at: None,
        step: None,
    };
    let mut written = 0;
    for user in users {
        written += notify(
            tx,
            &format!("{key}:{user}"),
            user,
            Some(complaint),
            kind,
            &payload,
            now,
        )
        .await?;
    }
    Ok(written)
}

/// One notice; `payload` is a `deadlines::NoticePayload` as JSON.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl NoticeRow {
    /// The payload, or an empty one when unreadable.
    pub fn details(&self) -> crate::deadlines::NoticePayload {
        serde_json::from_str(&self.payload).unwrap_or(crate::deadlines::NoticePayload {
            number: String::new(),
            clock: None,
            due_at: None,
            step: None,
        })
    }
}

impl Db {
    /// How many notices the user has not read.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn unread_notices(&self, user: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
        Ok(on_db!(self, p => sqlx::query_scalar(sql).bind(user).fetch_one(p).await)?)
    }

    /// The user's latest notices, unread first, newest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn notices(&self, user: i64, limit: u32) -> Result<Vec<NoticeRow>> {
        let sql = format!(
            "SELECT id, kind, payload, created_at, read_at FROM notifications WHERE user_id = $1 \
             ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user).fetch_all(p).await)?,
        )
    }

    /// Marks all the user's notices read; returns how many were unread.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn mark_notices_read(&self, user: i64, now: Timestamp) -> Result<u64> {
        let sql = "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL";
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(ms(now)).bind(user).execute(p).await.map(|r| r.rows_affected()))?,
        )
    }
}
