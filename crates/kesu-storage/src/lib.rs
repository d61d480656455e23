//! kesu's data layer: one set of SQL for SQLite and PostgreSQL.
//!
//! # How to use it
//! - [`Db::connect`] opens the database named by a URL (`sqlite://…` or
//!   `postgres://…`) and [`Db::migrate`] brings its schema up to date.
//! - Reads are methods on [`Db`] grouped per aggregate (`org`, `auth`,
//!   `catalog`, `complaints`), each named for what it answers.
//! - Every change to a complaint goes through [`Db::begin`], the load in that
//!   transaction, the domain's decision, and [`complaints::record`], which
//!   writes the events, the projection and the side tables together and checks
//!   the version. Commit, then acknowledge.
//!
//! # One code path for two databases
//! The same SQL text runs on both (SQLite accepts `$1` placeholders; both know
//! `RETURNING` and `ON CONFLICT`). [`on_db!`] and [`on_tx!`] run one body on
//! either concrete pool, so each query is written once and compiled twice.
//! Times are stored as Unix milliseconds (`BIGINT`), lists as text, so that
//! the two schemas differ only where DDL must (identity columns, `BYTEA`).
//!
//! This crate must not depend on the web layer; it knows nothing of HTTP.

pub mod auth;
pub mod bulk;
pub mod catalog;
pub mod complaints;
pub mod customer_notices;
pub mod deadlines;
pub mod intake;
pub mod mail;
pub mod notices;
pub mod org;
pub mod outbox;
pub mod portal;
pub mod privacy;
pub mod related;
pub mod search;
pub mod settings;
pub mod setup;
pub mod taxonomy;
pub mod templates;
pub mod testing;
pub mod wechat;

pub use testing::Backend;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    /// The pool, and the queue writers wait in (see [`Db::begin`]).
    Sqlite(SqlitePool, Arc<tokio::sync::Mutex<()>>),
    Pg(PgPool),
}

/// An open write transaction on either database.
pub enum Tx {
    /// The transaction, and the writer's place at the head of the queue.
    Sqlite(
        sqlx::Transaction<'static, sqlx::Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool, _) => $body,
            $crate::Db::Pg($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Pg(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Someone else changed the record since it was read.
    #[error("the record was changed by someone else")]
    Conflict,
    /// A unique value (username, code, number) already exists.
    #[error("duplicate value for {0}")]
    Duplicate(String),
    /// The URL names no supported database.
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    #[error("no random numbers: {0}")]
    Random(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StorageError::Duplicate(
                db.constraint().unwrap_or_else(|| db.message()).to_owned(),
            );
        }
        StorageError::Db(e)
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The default SQLite URL inside a data directory.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("kesu.db").display())
}

impl Db {
    /// Opens a pool. SQLite runs in WAL mode with `synchronous=FULL` (every
    /// commit is on disk before it returns), foreign keys on and a busy
    /// timeout so that writers queue instead of failing.
    ///
    /// # Errors
    /// [`StorageError::UnsupportedUrl`] or the driver's connection error.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool, Arc::new(tokio::sync::Mutex::new(()))))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // Lists are one statement whose selectivity swings with the
            // filters (a search word in 40 % of the complaints or in none):
            // a generic plan cached after five runs picked a plan that took
            // seconds for some words. Plan each execution with its values.
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)?
                .options([("plan_cache_mode", "force_custom_plan")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Pg(pool))
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }

    /// Which database this is: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    /// Applies the embedded migrations for this database.
    ///
    /// # Errors
    /// A failed or inconsistent migration.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p, _) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Pg(p) => PG_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way; the
    /// writers of this process first queue, in order, for their turn, so
    /// that they do not poll SQLite's busy handler (whose back-off sleeps
    /// made a tail of 100 ms and more under load). Other processes on the
    /// same file still meet the busy timeout.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p, queue) => {
                let turn = Arc::clone(queue).lock_owned().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        on_db!(self, p => p.close().await);
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Commits: after this returns, the change is durable.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Unix milliseconds of a timestamp.
pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// The timestamp of stored Unix milliseconds.
///
/// # Errors
/// [`StorageError::Corrupt`] when out of range.
pub fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A 256-bit random token, hex encoded, and the hash stored in its place.
///
/// # Errors
/// [`StorageError::Random`] when the OS has no entropy source.
pub fn new_token() -> Result<(String, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StorageError::Random(e.to_string()))?;
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// The hash under which a token is stored (tokens themselves never are).
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
