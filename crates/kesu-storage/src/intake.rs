//! Integrations: outside systems (the website, the app, a WeChat mini
//! program) that file complaints for customers through the public intake
//! API. Each holds a key stored as its SHA-256 only (as API tokens are), a
//! channel its complaints carry, and the `Idempotency-Key`s it used in the
//! last 24 hours with the hash of the request body and the answer given, so
//! that a retried request never files a second complaint.

use jiff::{SignedDuration, Timestamp};
use kesu_domain::input::ComplaintNumber;
use kesu_domain::{Channel, ComplaintId, UserId};
use serde::Serialize;

use crate::complaints::{NewComplaint, create_complaint_in};
use crate::{Db, Result, StorageError, ms, new_token, on_db, on_tx, token_hash};

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The prefix of an integration key (staff API tokens start with `ks_`).
pub const KEY_PREFIX: &str = "ki_";

/// An integration as listed for admins (never with its key).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Integration {
    pub id: i64,
    pub name: String,
    /// The channel its complaints carry (`web`, `app`, `wechat`).
    pub channel: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Integration {
    /// The channel as the domain's code.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for a code the domain does not know.
    pub fn channel(&self) -> Result<Channel> {
        self.channel
            .parse()
            .map_err(|_| StorageError::Corrupt("integration channel".into()))
    }
}

/// What an `Idempotency-Key` was used for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredAnswer {
    /// SHA-256 (hex) of the request body it came with.
    pub body_sha256: String,
    /// The answer given (JSON).
    pub answer: String,
}

/// A request's `Idempotency-Key` and the SHA-256 (hex) of its body.
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    pub key: &'a str,
    pub body_sha256: &'a str,
}

const INTEGRATION_FIELDS: &str =
    "SELECT id, name, channel, created_at, last_used_at, revoked_at FROM integrations";

impl Db {
    /// Creates an integration; returns its id and its key (shown once).
    ///
    /// # Errors
    /// [`StorageError::Duplicate`] when the name is taken; the driver's error.
    pub async fn create_integration(
        &self,
        name: &str,
        channel: Channel,
        created_by: Option<UserId>,
        now: Timestamp,
    ) -> Result<(i64, String)> {
        let (secret, hash) = new_token()?;
        let sql = "INSERT INTO integrations (name, channel, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let id: i64 = on_db!(self, p => sqlx::query_scalar(sql)
            .bind(name)
            .bind(channel.as_str())
            .bind(&hash)
            .bind(created_by.map(|u| u.0))
            .bind(ms(now))
            .fetch_one(p)
            .await)?;
        Ok((id, format!("{KEY_PREFIX}{secret}")))
    }

    /// Every integration, revoked ones included, by name.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn integrations(&self) -> Result<Vec<Integration>> {
        let sql = format!("{INTEGRATION_FIELDS} ORDER BY name");
        Ok(on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?)
    }

    /// Revokes an integration's key; `false` when there is no such
    /// integration or it was revoked before.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn revoke_integration(&self, id: i64, now: Timestamp) -> Result<bool> {
        let sql = "UPDATE integrations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let n = on_db!(self, p => sqlx::query(sql).bind(ms(now)).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The unrevoked integration owning `key`, noting its use.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn integration_by_key(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<Integration>> {
        let Some(secret) = key.strip_prefix(KEY_PREFIX) else {
            return Ok(None);
        };
        let sql = format!("{INTEGRATION_FIELDS} WHERE key_hash = $1 AND revoked_at IS NULL");
        let found: Option<Integration> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash(secret)).fetch_optional(p).await)?;
        if let Some(i) = &found {
            // Noted at most once a minute: listing the last use needs no more.
            let sql = "UPDATE integrations SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)";
            on_db!(self, p => sqlx::query(sql).bind(ms(now)).bind(i.id).bind(ms(now) - 60_000).execute(p).await.map(|r| r.rows_affected()))?;
        }
        Ok(found)
    }

    /// What `key` was used for by this integration within the window.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn idempotent_answer(
        &self,
        integration: i64,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<StoredAnswer>> {
        let sql = "SELECT body_sha256, answer FROM idempotency_keys WHERE integration_id = $1 AND idempotency_key = $2 AND created_at > $3";
        Ok(on_db!(self, p => sqlx::query_as(sql)
            .bind(integration)
            .bind(key)
            .bind(ms(now - IDEMPOTENCY_WINDOW))
            .fetch_optional(p)
            .await)?)
    }

    /// Forgets `Idempotency-Key`s older than the window; returns how many.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn forget_idempotency_keys(&self, now: Timestamp) -> Result<u64> {
        let sql = "DELETE FROM idempotency_keys WHERE created_at <= $1";
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(ms(now - IDEMPOTENCY_WINDOW)).execute(p).await.map(|r| r.rows_affected()))?,
        )
    }

    /// Files a complaint for an integration, in one transaction: the
    /// complaint as any registration (no staff actor), the hash of its
    /// portal tracking code, the integration that filed it, and — with an
    /// `Idempotency-Key` — the key, the body's hash and the answer, which
    /// `answer` builds from the number and the clocks just started (kind,
    /// due time in Unix ms). The key's row is written first, so a concurrent
    /// request with the same key waits for this one and then finds it.
    ///
    /// # Errors
    /// [`StorageError::Duplicate`] (`idempotency_key`) when the key was used
    /// within the window: nothing is written then; the driver's error.
    pub async fn create_integration_complaint(
        &self,
        new: &NewComplaint,
        integration: i64,
        tracking_code: &str,
        idempotency: Option<Idempotency<'_>>,
        answer: impl FnOnce(&ComplaintNumber, &[(String, i64)]) -> String,
        now: Timestamp,
    ) -> Result<(ComplaintId, ComplaintNumber, String)> {
        let mut tx = self.begin().await?;
        if let Some(idem) = idempotency {
            // An expired row of this key gives way to the new request.
            let sql = "DELETE FROM idempotency_keys WHERE integration_id = $1 AND idempotency_key = $2 AND created_at <= $3";
            on_tx!(&mut tx, c => sqlx::query(sql).bind(integration).bind(idem.key).bind(ms(now - IDEMPOTENCY_WINDOW)).execute(c).await.map(|r| r.rows_affected()))?;
            let sql = "INSERT INTO idempotency_keys (integration_id, idempotency_key, body_sha256, answer, created_at) \
                       VALUES ($1, $2, $3, '', $4) ON CONFLICT (integration_id, idempotency_key) DO NOTHING";
            let n = on_tx!(&mut tx, c => sqlx::query(sql).bind(integration).bind(idem.key).bind(idem.body_sha256).bind(ms(now)).execute(c).await.map(|r| r.rows_affected()))?;
            if n == 0 {
                return Err(StorageError::Duplicate("idempotency_key".into()));
            }
        }
        let (id, number) = create_complaint_in(&mut tx, new, None, now).await?;
        crate::portal::insert_tracking_code(&mut tx, id, &number, tracking_code, now).await?;
        let sql =
            "INSERT INTO integration_complaints (complaint_id, integration_id) VALUES ($1, $2)";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(id.0).bind(integration).execute(c).await.map(|r| r.rows_affected()))?;
        let sql = "SELECT kind, due_at FROM deadlines WHERE complaint_id = $1 AND cancelled = FALSE ORDER BY id";
        let clocks: Vec<(String, i64)> =
            on_tx!(&mut tx, c => sqlx::query_as(sql).bind(id.0).fetch_all(c).await)?;
        let answer = answer(&number, &clocks);
        if let Some(idem) = idempotency {
            let sql = "UPDATE idempotency_keys SET answer = $1, complaint_id = $2 WHERE integration_id = $3 AND idempotency_key = $4";
            on_tx!(&mut tx, c => sqlx::query(sql).bind(&answer).bind(id.0).bind(integration).bind(idem.key).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok((id, number, answer))
    }

    /// Whether this integration filed the complaint.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn filed_by_integration(&self, integration: i64, id: ComplaintId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM integration_complaints WHERE complaint_id = $1 AND integration_id = $2";
        let n: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(id.0).bind(integration).fetch_one(p).await)?;
        Ok(n > 0)
    }
}

/// A forwarded case as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ForwardedRow {
    /// The forwarding body's code (`12315`, `market_regulator`, …).
    pub body: String,
    pub reference: Option<String>,
    pub reply_due_at: i64,
}

impl Db {
    /// Who forwarded the complaint, if anyone did.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn forwarded_case(&self, id: ComplaintId) -> Result<Option<ForwardedRow>> {
        let sql =
            "SELECT body, reference, reply_due_at FROM forwarded_cases WHERE complaint_id = $1";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?)
    }
}
