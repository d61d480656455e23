//! Staff notifications beyond the bell: a breached deadline goes out by
//! e-mail through a real SMTP server (Python's aiosmtpd on 127.0.0.1) and to
//! a DingTalk robot (a local peer); a channel that fails retries with
//! backoff, gives up after the last attempt, shows up for the admin — and
//! never holds up the desk.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use kesu_web::outbox::{Channels, deliver, sweep};
use kesu_web::{AppState, WebConfig};
use serde_json::json;

use crate::helpers::TestApp;

pub struct Smtp {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Smtp {
    pub fn start(tag: &str) -> Smtp {
        let installed = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "this test needs Python's aiosmtpd (scripts/test installs it)"
        );
        let maildir =
            std::env::temp_dir().join(format!("kesu-web-mail-{}-{tag}", std::process::id()));
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .args(["-l", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts");
        let smtp = Smtp {
            child,
            port,
            maildir,
        };
        let until = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        smtp
    }

    /// (to, decoded subject, decoded body) of every message received.
    pub fn messages(&self) -> Vec<(String, String, String)> {
        let script = r#"
import mailbox, sys, json
from email.header import decode_header, make_header
out = []
for m in mailbox.Maildir(sys.argv[1], create=False):
    body = m.get_payload(decode=True) if not m.is_multipart() else m.get_payload(0).get_payload(decode=True)
    out.append([m["To"], str(make_header(decode_header(m["Subject"]))), body.decode("utf-8")])
print(json.dumps(out))
"#;
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&self.maildir)
            .output()
            .expect("python3 reads the maildir");
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }
}

/// A DingTalk robot endpoint that records what it was sent.
async fn dingtalk_peer() -> (u16, Arc<Mutex<Vec<(String, serde_json::Value)>>>) {
    let got: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/robot/send",
        axum::routing::post(
            move |uri: axum::http::Uri, body: axum::Json<serde_json::Value>| {
                let seen = seen.clone();
                async move {
                    if let Ok(mut v) = seen.lock() {
                        v.push((uri.query().unwrap_or_default().to_owned(), body.0));
                    }
                    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, got)
}

/// A complaint dispatched to mgr_service whose first contact is overdue.
async fn overdue(app: &TestApp) -> String {
    let c = app.create_complaint("agent1", json!({})).await;
    let number = c["number"].as_str().unwrap_or_default().to_owned();
    app.act(
        "agent1",
        &number,
        "classify",
        json!({"category": "repair_quality", "severity": "general"}),
    )
    .await;
    app.act(
        "agent1",
        &number,
        "dispatch",
        json!({"department": "service", "assignee": "mgr_service"}),
    )
    .await;
    app.clock.advance(SignedDuration::from_mins(150));
    number
}

kesu_storage::both_backends!(
    async fn a_breach_goes_out_by_mail_and_to_the_dingtalk_robot_once(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let smtp = Smtp::start(&format!("{backend:?}"));
        let (robot_port, robot) = dingtalk_peer().await;
        let channels: Channels = serde_json::from_value(json!({
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "kesu@desk.example", "from_name": "客诉系统"},
            "dingtalk": {"access_token": "tok", "secret": "SEC-test", "base_url": format!("http://127.0.0.1:{robot_port}")}
        }))
        .expect("channels");
        app.db
            .set_setting(
                kesu_storage::outbox::CHANNELS_KEY,
                &serde_json::to_string(&channels).expect("json"),
            )
            .await
            .expect("save channels");
        let manager = app.user_ids["mgr_service"].0;
        app.db
            .set_user_email(manager, Some("wang@desk.example"))
            .await
            .expect("email");
        let number = overdue(&app).await;

        let state = AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default());
        let r = sweep(&state, app.now()).await.expect("sweep");
        assert_eq!(r.breaches, 1);
        let d = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!((d.sent, d.retrying, d.gave_up), (2, 0, 0), "{d:?}");
        // Again: nothing left to send, nothing sent twice.
        sweep(&state, app.now()).await.expect("sweep");
        assert_eq!(deliver(&state, app.now()).await.expect("deliver").sent, 0);

        let mails = smtp.messages();
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].0.contains("wang@desk.example"));
        assert!(
            mails[0].1.contains(&number) && mails[0].1.contains("已超时"),
            "{:?}",
            mails[0]
        );
        assert!(mails[0].2.contains("首次联系客户"), "{:?}", mails[0]);
        let calls = robot.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(calls.len(), 1);
        assert!(
            calls[0].0.contains("access_token=tok") && calls[0].0.contains("sign="),
            "{}",
            calls[0].0
        );
        assert!(
            calls[0].1["text"]["content"]
                .as_str()
                .unwrap_or_default()
                .contains(&number)
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_failing_channel_retries_then_gives_up_and_the_desk_goes_on(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        // A WeCom robot behind a port where nothing listens.
        let dead = free_port();
        let channels: Channels = serde_json::from_value(json!({
            "wecom": {"key": "k", "base_url": format!("http://127.0.0.1:{dead}"), "timeout_secs": 2}
        }))
        .expect("channels");
        app.db
            .set_setting(
                kesu_storage::outbox::CHANNELS_KEY,
                &serde_json::to_string(&channels).expect("json"),
            )
            .await
            .expect("save channels");
        let number = overdue(&app).await;
        let state = AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default());
        sweep(&state, app.now()).await.expect("sweep");
        let first = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!((first.sent, first.retrying), (0, 1));
        // Not again before the backoff is over.
        assert_eq!(
            deliver(&state, app.now()).await.expect("deliver"),
            Default::default()
        );
        let row = &app.db.outbox(10).await.expect("outbox")[0];
        assert_eq!((row.attempts, row.sent_at), (1, None));
        assert!(row.last_error.is_some());
        // The desk goes on meanwhile.
        app.act(
            "mgr_service",
            &number,
            "contacts",
            json!({"method": "phone", "summary": "已致电客户"}),
        )
        .await;
        let mut gave_up = 0;
        for _ in 0..10 {
            app.clock.advance(SignedDuration::from_hours(2));
            gave_up += deliver(&state, app.now()).await.expect("deliver").gave_up;
        }
        assert_eq!(gave_up, 1);
        let problems = app.db.outbox_problems(10).await.expect("problems");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].gave_up_at.is_some());
        assert_eq!(problems[0].attempts, kesu_storage::outbox::MAX_ATTEMPTS);
        app.stop().await;
    }
);
