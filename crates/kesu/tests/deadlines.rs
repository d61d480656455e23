//! Deadlines across restarts and nodes, with real `kesu serve` processes: a
//! deadline that passed while kesu was down fires once at start, and two
//! nodes on one PostgreSQL database tell everyone once.
//!
//! No test waits for a deadline: the deadline is moved into the past in the
//! database while kesu is down, which is what time passing does to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kesu_domain::deadlines::{ClockRule, Counting, DeadlinePolicy, Limit, Step};
use kesu_domain::{Channel, ClockKind, Role, Rung, Severity};
use kesu_storage::complaints::{CustomerInput, NewComplaint};
use kesu_storage::deadlines::DEADLINE_POLICY_KEY;
use kesu_storage::org::NewUser;
use kesu_storage::testing::{Backend, TestDb};
use kesu_storage::{Db, both_backends};

/// Only the classification clock, due at once, telling customer service.
fn policy() -> DeadlinePolicy {
    let mut p = DeadlinePolicy::default();
    for r in &mut p.rules {
        r.enabled = false;
    }
    p.rules.push(ClockRule {
        kind: ClockKind::Classify,
        enabled: true,
        starts: vec![kesu_domain::Trigger::Receipt],
        stops: vec![kesu_domain::Trigger::Classified],
        limit: Limit::Minutes { minutes: 30 },
        fast_limit: None,
        counting: Counting::Calendar,
        pauses_for_customer: false,
        warn_percent: 0,
        escalation: vec![Step {
            after_minutes: 0,
            notify: vec![Rung::CustomerService],
        }],
        major_notify: Vec::new(),
    });
    p
}

async fn sql(db: &Db, statement: &str) {
    match db {
        Db::Sqlite(p, _) => sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
        Db::Pg(p) => sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

async fn count(db: &Db, statement: &str) -> i64 {
    match db {
        Db::Sqlite(p, _) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(statement.to_owned()))
                .fetch_one(p)
                .await
        }
        Db::Pg(p) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(statement.to_owned()))
                .fetch_one(p)
                .await
        }
    }
    .unwrap_or_else(|e| panic!("{statement}: {e}"))
}

/// An agent to be told, the policy, and `n` urgent complaints.
async fn desk(db: &Db, n: usize) {
    let value = serde_json::to_string(&policy()).expect("policy json");
    sql(
        db,
        &format!(
            "INSERT INTO settings (key, value) VALUES ('{DEADLINE_POLICY_KEY}', '{}')",
            value.replace('\'', "''")
        ),
    )
    .await;
    db.create_user(
        &NewUser {
            username: "agent",
            display_name: "客服",
            password_hash: None,
            roles: &[Role::Agent],
            department_id: None,
        },
        Timestamp::now(),
    )
    .await
    .expect("user");
    for i in 0..n {
        let now = Timestamp::now();
        let new = NewComplaint {
            channel: Channel::Phone,
            received_at: now,
            day: 20261123,
            customer: CustomerInput {
                name: format!("客户{i}"),
                phone: Some(format!("1390000{i:04}")),
                email: None,
                wechat_openid: None,
            },
            description: "门店员工态度恶劣".to_owned(),
            restatement: None,
            event_time: None,
            event_place: None,
            people_involved: None,
            subject: None,
            order_ref: None,
            plate: None,
            urgent: true,
            category: None,
            severity: Severity::General,
            signals: Vec::new(),
            attachments: Vec::new(),
            site_id: None,
            proposal: None,
            forwarded: None,
        };
        db.create_complaint(&new, None, now)
            .await
            .expect("complaint");
    }
}

/// While kesu is down, the deadlines pass.
async fn time_passes(db: &Db) {
    let past = Timestamp::now().as_millisecond() - 3_600_000;
    sql(
        db,
        &format!(
            "UPDATE deadlines SET due_at = {past}, next_check_at = {past} WHERE ended_at IS NULL"
        ),
    )
    .await;
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn serve(t: &TestDb, dir: &std::path::Path, sweep_seconds: u64) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_kesu"))
        .args([
            "--data-dir",
            &dir.to_string_lossy(),
            "--database",
            &t.url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("KESU_SWEEP_SECONDS", sweep_seconds.to_string())
        .env("KESU_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start kesu serve");
    let server = Server(child);
    kesu_notify::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let up = client
            .get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return server;
        }
        assert!(Instant::now() < until, "kesu serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls (bounded) until `query` counts `want`.
async fn eventually(db: &Db, query: &str, want: i64) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let n = count(db, query).await;
        if n == want {
            return;
        }
        assert!(n < want, "{query}: {n} > {want}");
        assert!(Instant::now() < until, "{query}: {n}, waited for {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const NOTICES: &str = "SELECT COUNT(*) FROM notifications WHERE kind = 'deadline_breached'";

both_backends!(
    async fn a_deadline_that_passed_while_kesu_was_down_fires_once_at_start(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let dir =
            std::env::temp_dir().join(format!("kesu-restart-{}-{backend:?}", std::process::id()));
        desk(&t.db, 1).await;
        // kesu runs (the next sweep an hour away) and is killed with the
        // deadline pending; the deadline passes while it is down.
        let server = serve(&t, &dir, 3600).await;
        drop(server);
        assert_eq!(count(&t.db, NOTICES).await, 0);
        time_passes(&t.db).await;
        // At start it fires: once.
        let server = serve(&t, &dir, 3600).await;
        eventually(&t.db, NOTICES, 1).await;
        drop(server);
        let server = serve(&t, &dir, 1).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        drop(server);
        assert_eq!(
            count(&t.db, NOTICES).await,
            1,
            "a restart does not tell again"
        );
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM deadlines WHERE breached_at IS NOT NULL AND next_check_at IS NULL").await,
            1
        );
        let _ = std::fs::remove_dir_all(&dir);
        t.drop_async().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_database_tell_everyone_once() {
    let Some(t) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kesu-two-nodes-{}", std::process::id()));
    desk(&t.db, 40).await;
    time_passes(&t.db).await;
    let a = serve(&t, &dir, 1).await;
    let b = serve(&t, &dir, 1).await;
    eventually(&t.db, NOTICES, 40).await;
    // A few more sweeps of both nodes change nothing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop((a, b));
    assert_eq!(count(&t.db, NOTICES).await, 40);
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM deadlines WHERE escalations = 1 AND next_check_at IS NULL"
        )
        .await,
        40,
        "every clock was moved past its one step exactly once"
    );
    let _ = std::fs::remove_dir_all(&dir);
    t.drop_async().await;
}
