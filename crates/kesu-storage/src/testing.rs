//! Fresh databases for tests, on both backends.
//!
//! Every storage and API test runs once on SQLite and once on PostgreSQL.
//! PostgreSQL is required: a test fails when it cannot reach it, unless
//! `KESU_SKIP_POSTGRES=1` is set, which prints a notice and skips (for a
//! laptop without PostgreSQL; CI never sets it). The server is taken from
//! `KESU_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test gets its own database, dropped when the [`TestDb`] is dropped.

use std::path::PathBuf;

use crate::Db;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database that removes itself afterwards.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

fn unique_name() -> String {
    let mut b = [0u8; 6];
    let _ = getrandom::fill(&mut b);
    format!("kesu_t_{}_{}", std::process::id(), hex::encode(b))
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("KESU_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL tests may be skipped on this machine.
pub fn postgres_skippable() -> bool {
    std::env::var("KESU_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

impl TestDb {
    /// Creates and migrates a database. Returns `None` only when PostgreSQL
    /// is unreachable and skipping was asked for (a notice is printed).
    ///
    /// # Panics
    /// When the database cannot be created: a test must not pass silently.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let name = unique_name();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
                (crate::sqlite_url(&dir), Cleanup::Dir(dir))
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match sqlx::PgPool::connect(&admin_url).await {
                    Ok(p) => p,
                    Err(e) if postgres_skippable() => {
                        eprintln!(
                            "NOTICE: PostgreSQL at {admin_url} unreachable ({e}); skipping the PostgreSQL run (KESU_SKIP_POSTGRES=1)"
                        );
                        return None;
                    }
                    Err(e) => panic!(
                        "PostgreSQL at {admin_url} is required for this test ({e}); start it, or set KESU_SKIP_POSTGRES=1 to skip locally"
                    ),
                };
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("create database: {e}"));
                admin.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b)
                    .to_owned();
                (
                    format!("{base}/{name}"),
                    Cleanup::PgDatabase { admin_url, name },
                )
            }
        };
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        Some(TestDb { db, url, cleanup })
    }

    /// Closes the pool and removes the database.
    pub async fn drop_async(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Declares a test that runs on SQLite and on PostgreSQL:
/// `both_backends!(async fn name(backend: Backend) { … });` makes
/// `name::sqlite` and `name::postgres`. A trailing comma after the
/// parameter is accepted (rustfmt adds one when the name is long).
#[macro_export]
macro_rules! both_backends {
    ($(#[$m:meta])* async fn $name:ident($b:ident : Backend $(,)?) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($b: $crate::testing::Backend) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run($crate::testing::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run($crate::testing::Backend::Postgres).await }
        }
    };
}
