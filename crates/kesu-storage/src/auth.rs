//! Sessions and API tokens, kept in the database so that every node sees them.
//! Only hashes of the secrets are stored.

use jiff::{SignedDuration, Timestamp};
use kesu_domain::UserId;

use crate::org::{USER_FIELDS, USER_JOINS, User};
use crate::{Db, Result, ms, new_token, on_db, token_hash};

/// A logged-in session: the user and the CSRF token bound to it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: User,
    csrf_token: String,
    expires_at: i64,
}

impl Db {
    /// Opens a session; returns the cookie value (never stored) and the CSRF token.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn create_session(
        &self,
        user: UserId,
        now: Timestamp,
        lifetime: SignedDuration,
    ) -> Result<(String, String)> {
        let (token, hash) = new_token()?;
        let (csrf, _) = new_token()?;
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        let expires = ms(now + lifetime);
        on_db!(self, p => sqlx::query(sql).bind(&hash).bind(user.0).bind(&csrf).bind(ms(now)).bind(expires).execute(p).await.map(|r| r.rows_affected()))?;
        Ok((token, csrf))
    }

    /// The session for a cookie value, if it exists, has not expired and its user is active.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn session(&self, token: &str, now: Timestamp) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {USER_FIELDS}, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id {USER_JOINS} \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = TRUE"
        );
        let row: Option<SessionRow> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash(token)).bind(ms(now)).fetch_optional(p).await)?;
        Ok(row.map(|r| Session {
            user: r.user,
            csrf_token: r.csrf_token,
            expires_at: r.expires_at,
        }))
    }

    /// Ends a session (logout).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_db!(self, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        Ok(
            on_db!(self, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?,
        )
    }

    /// Creates an API token for a user; returns the token (shown once).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn create_api_token(&self, user: UserId, now: Timestamp) -> Result<String> {
        let (token, hash) = new_token()?;
        let sql = "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)";
        on_db!(self, p => sqlx::query(sql).bind(&hash).bind(user.0).bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(format!("ks_{token}"))
    }

    /// The active user owning an unrevoked API token.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn user_by_api_token(&self, token: &str) -> Result<Option<User>> {
        let Some(raw) = token.strip_prefix("ks_") else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {USER_FIELDS} FROM api_tokens t JOIN users u ON u.id = t.user_id {USER_JOINS} \
             WHERE t.token_hash = $1 AND t.revoked = FALSE AND u.active = TRUE"
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash(raw)).fetch_optional(p).await)?,
        )
    }
}

impl Db {
    /// How many failed logins `username` had since `since`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn login_failures_since(&self, username: &str, since: Timestamp) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $2";
        Ok(
            on_db!(self, p => sqlx::query_scalar(sql).bind(username).bind(ms(since)).fetch_one(p).await)?,
        )
    }

    /// Records a failed login and forgets those older than `forget_before`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn record_login_failure(
        &self,
        username: &str,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        on_db!(self, p => sqlx::query("DELETE FROM login_failures WHERE at <= $1").bind(ms(forget_before)).execute(p).await.map(|r| r.rows_affected()))?;
        on_db!(self, p => sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)").bind(username).bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forgets the failed logins of a user who just logged in.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn clear_login_failures(&self, username: &str) -> Result<()> {
        on_db!(self, p => sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(username).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
