//! In-app notices (the bell, R-NT-2): read, count and mark as read. They are
//! written by the deadline sweep and by `record` (assignments), each once.

use jiff::Timestamp;
use serde::Serialize;

use crate::{Db, Result, ms, on_db};

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
