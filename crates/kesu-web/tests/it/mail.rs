//! E-mail in and out: mails built by Python's email package (kesu-mail's
//! fixtures and mails written here) are filed, answered automatically and
//! answered by staff through a real SMTP server (aiosmtpd on 127.0.0.1).

use std::process::Command;

use kesu_web::mail::{Outcome, file_mail};
use kesu_web::outbox::{Channels, deliver};
use kesu_web::{AppState, WebConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::notify::Smtp;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kesu-mail/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A mail written by Python's email package: `args` are
/// (message id, subject, in-reply-to, body, attachment size, attachment name).
fn python_mail(args: &[&str]) -> Vec<u8> {
    python_mail_from("张三 <zhangsan@example.com>", args)
}

/// [`python_mail`] from another sender.
fn python_mail_from(from: &str, args: &[&str]) -> Vec<u8> {
    let script = r#"
import os, sys
from email.message import EmailMessage
from email.policy import SMTP
mid, subject, irt, body, size, name = sys.argv[1:7]
m = EmailMessage(policy=SMTP)
m["From"] = os.environ.get("MAIL_FROM", "张三 <zhangsan@example.com>")
m["To"] = "kefu@kesu.example"
m["Subject"] = subject
m["Message-ID"] = mid
if irt:
    m["In-Reply-To"] = irt
    m["References"] = irt
m.set_content(body, charset="gbk", cte="base64")
if int(size) > 0:
    m.add_attachment(b"%PDF-1.4\n" + b"0" * (int(size) - 9), maintype="application", subtype="pdf", filename=name)
sys.stdout.buffer.write(m.as_bytes())
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .env("MAIL_FROM", from)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every message aiosmtpd received, as a map of the headers that matter
/// and the decoded text body.
fn received(smtp: &Smtp) -> Vec<Value> {
    let script = r#"
import mailbox, sys, json
from email.header import decode_header, make_header
out = []
for m in mailbox.Maildir(sys.argv[1], create=False):
    part = m if not m.is_multipart() else m.get_payload(0)
    out.append({
        "to": m["To"],
        "subject": str(make_header(decode_header(m["Subject"]))),
        "message_id": m["Message-ID"],
        "in_reply_to": m["In-Reply-To"],
        "references": m["References"],
        "auto_submitted": m["Auto-Submitted"],
        "body": part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"),
    })
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&smtp.maildir)
        .output()
        .expect("python3 reads the maildir");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "maildir unreadable: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

async fn with_smtp(app: &TestApp, smtp: &Smtp) -> AppState {
    let channels: Channels = serde_json::from_value(json!({
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                 "from_address": "kefu@desk.example", "from_name": "客诉中心"}
    }))
    .expect("channels");
    app.db
        .set_setting(
            kesu_storage::outbox::CHANNELS_KEY,
            &serde_json::to_string(&channels).expect("json"),
        )
        .await
        .expect("save channels");
    AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default())
}

kesu_storage::both_backends!(
    async fn a_mail_is_answered_with_its_number_the_answer_threads_and_staff_reply_by_mail(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let smtp = Smtp::start(&format!("mail-{backend:?}"));
        let state = with_smtp(&app, &smtp).await;

        let first = file_mail(&state, &fixture("gb2312_base64.eml"))
            .await
            .expect("filed");
        assert_eq!(first.outcome, Outcome::NewComplaint);
        assert!(first.answered, "the customer gets an automatic answer");
        let number = first.number.clone().expect("a number");

        // The same mail delivered twice at once: one complaint.
        let raw = fixture("big5.eml");
        let (a, b) = tokio::join!(file_mail(&state, &raw), file_mail(&state, &raw));
        let outcomes = [a.expect("a").outcome, b.expect("b").outcome];
        assert!(
            outcomes.contains(&Outcome::NewComplaint)
                && outcomes.contains(&Outcome::Duplicate("new_complaint".into())),
            "{outcomes:?}"
        );
        assert_eq!(app.complaint_count().await, 2);

        let sent = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!(sent.sent, 2, "{sent:?}");
        let mails = received(&smtp);
        let answer = mails
            .iter()
            .find(|m| m["to"] == "zhangsan@example.com")
            .unwrap_or_else(|| panic!("an answer to the customer: {mails:?}"));
        assert!(
            answer["subject"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("[{number}]"))),
            "{answer}"
        );
        assert_eq!(answer["auto_submitted"], "auto-replied");
        assert_eq!(answer["in_reply_to"], "<gb2312-0001@mail.example.com>");
        let body = answer["body"].as_str().unwrap_or_default();
        assert!(
            body.contains(&format!("我们已收到您的投诉，投诉编号为 {number}")),
            "{body}"
        );

        // The customer answers the automatic answer (no number in the
        // subject): it threads by In-Reply-To.
        let ours = answer["message_id"].as_str().unwrap_or_default().to_owned();
        let reply = python_mail(&[
            "<answer-1@mail.example.com>",
            "补充说明",
            &ours,
            "冰箱是上个月买的，发票在这里。",
            "0",
            "",
        ]);
        let added = file_mail(&state, &reply).await.expect("filed");
        assert_eq!(added.outcome, Outcome::Added);
        assert_eq!(added.number.as_deref(), Some(number.as_str()));
        assert!(!added.answered, "a further mail gets no receipt");
        let history = app.history(&number).await;
        let wrote = history
            .iter()
            .find(|e| e["kind"] == "customer_wrote")
            .expect("customer_wrote in the history");
        assert!(
            wrote.to_string().contains("冰箱是上个月买的，发票在这里。"),
            "{wrote}"
        );

        // Staff answer from the complaint: over SMTP, threaded, in the history.
        let agent = app.client("agent1");
        let (status, body, _) = agent
            .post(
                &format!("/api/v1/complaints/{number}/replies"),
                &json!({"text": "张先生您好：我们明天上午上门检修。"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body, _) = agent
            .post(&format!("/api/v1/complaints/{number}/replies"), &json!({}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        deliver(&state, app.now()).await.expect("deliver");
        let mails = received(&smtp);
        let staff = mails
            .iter()
            .find(|m| m["auto_submitted"].is_null() && m["to"] == "zhangsan@example.com")
            .unwrap_or_else(|| panic!("the staff reply: {mails:?}"));
        assert_eq!(staff["in_reply_to"], "<answer-1@mail.example.com>");
        let refs = staff["references"].as_str().unwrap_or_default();
        for id in [
            "<gb2312-0001@mail.example.com>",
            ours.as_str(),
            "<answer-1@mail.example.com>",
        ] {
            assert!(refs.contains(id), "{id} in {refs}");
        }
        assert!(
            staff["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("Re: 补充说明") && s.contains(&number)),
            "{staff}"
        );
        assert_eq!(
            staff["body"].as_str().map(str::trim_end),
            Some("张先生您好：我们明天上午上门检修。")
        );
        let history = app.history(&number).await;
        assert!(
            history
                .iter()
                .any(|e| e["kind"] == "contact_logged" && e.to_string().contains("上门检修")),
            "the reply is in the history"
        );

        // The automatic answer bounces: nothing is filed, and customer
        // service (nobody owns the complaint yet) hears of it in the bell.
        let bounce = String::from_utf8(fixture("bounce.eml"))
            .expect("ascii")
            .replace(
                "Message-ID: <bounce-0001@mx.kesu.example>",
                &format!("Message-ID: <bounce-7@mx.kesu.example>\nIn-Reply-To: {ours}"),
            );
        let bounced = file_mail(&state, bounce.as_bytes()).await.expect("filed");
        assert_eq!(
            (bounced.outcome.clone(), bounced.number.as_deref()),
            (Outcome::IgnoredBounce, Some(number.as_str()))
        );
        let again = file_mail(&state, bounce.as_bytes()).await.expect("filed");
        assert!(matches!(again.outcome, Outcome::Duplicate(_)));
        let agent_page = crate::pages::Browser::new(&app);
        agent_page.login("agent1").await;
        let (_, html, _) = agent_page.get("/notices").await;
        assert_eq!(
            html.matches(&format!("发给投诉 {number} 客户的邮件被退回"))
                .count(),
            1,
            "{html}"
        );

        // Numbers are sequential: a stranger naming one in the subject adds
        // nothing to that complaint; the mail is a complaint of its own that
        // names the number for staff to link or merge.
        let before = app.history(&number).await.len();
        let stranger = python_mail_from(
            "李四 <lisi@example.net>",
            &[
                "<stranger-1@example.net>",
                &format!("Re: [{number}] 我也要投诉"),
                "",
                "这是我自己的事：我家冰箱也不制冷。",
                "0",
                "",
            ],
        );
        let filed = file_mail(&state, &stranger).await.expect("filed");
        assert_eq!(filed.outcome, Outcome::NewComplaint, "{filed:?}");
        let theirs = filed.number.clone().expect("a number");
        assert_ne!(theirs, number);
        assert_eq!(app.history(&number).await.len(), before, "nothing added");
        let seen = app.complaint("agent1", &theirs).await;
        assert!(
            seen["description"]
                .as_str()
                .is_some_and(|d| d.contains(&number) && d.contains("发件人不是该投诉的客户")),
            "{seen}"
        );
        assert_eq!(seen["customer"]["email"], "lisi@example.net");
        // The customer naming it continues it, and so does anyone answering
        // a mail kesu sent (its Message-ID cannot be guessed).
        let own = python_mail(&[
            "<answer-2@mail.example.com>",
            &format!("[{number}] 还有一张照片"),
            "",
            "照片稍后补上。",
            "0",
            "",
        ]);
        let added = file_mail(&state, &own).await.expect("filed");
        assert_eq!(
            (added.outcome, added.number.as_deref()),
            (Outcome::Added, Some(number.as_str()))
        );
        let forwarded = python_mail_from(
            "张太太 <zhangtaitai@example.org>",
            &[
                "<spouse-1@example.org>",
                &format!("Re: [{number}] 补充"),
                &ours,
                "我是张先生的爱人，下午家里有人。",
                "0",
                "",
            ],
        );
        let added = file_mail(&state, &forwarded).await.expect("filed");
        assert_eq!(
            (added.outcome, added.number.as_deref()),
            (Outcome::Added, Some(number.as_str()))
        );

        // A customer without an e-mail address cannot be answered by mail.
        let phoned = app.create_complaint("agent1", json!({})).await;
        let (status, body, _) = agent
            .post(
                &format!(
                    "/api/v1/complaints/{}/replies",
                    phoned["number"].as_str().unwrap_or_default()
                ),
                &json!({"text": "您好"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn scripts_bad_files_and_oversized_files_are_made_harmless_and_the_mail_is_kept(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let state = AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default());

        // HTML-only mail with scripts: the complaint holds the text only.
        let html = file_mail(&state, &fixture("html_only.eml"))
            .await
            .expect("filed");
        let number = html.number.expect("a number");
        let row = app.db.complaint(&number).await.expect("read").expect("row");
        assert!(
            row.description
                .contains("订单号 A&B-2026，金额 <1000> 元。")
        );
        for bad in ["alert", "更多脚本", "javascript:"] {
            assert!(!row.description.contains(bad), "{bad}");
        }
        let (cookie, _) = app.session("agent1").await;
        let page = app
            .http
            .get(app.at(&format!("/complaints/{number}")))
            .header(
                "cookie",
                format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE),
            )
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.expect("html");
        assert!(page.contains("已等待十天"), "the text is shown");
        assert!(!page.contains("<1000>"), "escaped");
        assert!(!page.contains("alert("), "no script from the mail");

        // `../../etc/passwd` (text without .txt): refused, the rest kept.
        let filed = file_mail(&state, &fixture("attachments.eml"))
            .await
            .expect("filed");
        assert_eq!(filed.outcome, Outcome::NewComplaint);
        let number = filed.number.expect("a number");
        let row = app.db.complaint(&number).await.expect("read").expect("row");
        let kept: Vec<String> = app
            .db
            .attachments(kesu_domain::ComplaintId(row.id))
            .await
            .expect("attachments")
            .into_iter()
            .map(|a| a.filename)
            .collect();
        assert_eq!(kept, vec!["破损照片.jpg", "发票.pdf", "logo.jpg"]);
        let history = app.history(&number).await;
        let refused: Vec<&Value> = history
            .iter()
            .filter(|e| e["kind"] == "attachment_refused")
            .collect();
        assert_eq!(refused.len(), 1, "{history:?}");
        assert!(refused[0].to_string().contains("passwd"));
        assert!(refused[0].to_string().contains("unsupported_type"));

        // A 30 MB file: refused, the complaint filed all the same.
        let big = python_mail(&[
            "<big-1@mail.example.com>",
            "发票扫描件",
            "",
            "扫描件太大，请查收。",
            &(30 * 1024 * 1024).to_string(),
            "扫描件.pdf",
        ]);
        let filed = file_mail(&state, &big).await.expect("filed");
        assert_eq!(filed.outcome, Outcome::NewComplaint);
        assert_eq!(filed.refused.len(), 1);
        assert_eq!(filed.refused[0].reason, "too_large");
        let number = filed.number.expect("a number");
        let row = app.db.complaint(&number).await.expect("read").expect("row");
        assert!(row.description.contains("扫描件太大，请查收。"));
        assert!(
            app.db
                .attachments(kesu_domain::ComplaintId(row.id))
                .await
                .expect("attachments")
                .is_empty()
        );
        assert!(
            app.history(&number)
                .await
                .iter()
                .any(|e| e["kind"] == "attachment_refused" && e.to_string().contains("too_large"))
        );
        app.stop().await;
    }
);

/// kesu-mail's private Dovecot, shared with its tests.
#[path = "../../../kesu-mail/tests/it/dovecot.rs"]
#[expect(dead_code, reason = "the TLS half is used by kesu-mail's tests")]
mod dovecot;

async fn append(server: &dovecot::Dovecot, raw: &[u8]) {
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.expect("greeting");
    let mut session = client
        .login(dovecot::USER, dovecot::PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .expect("login");
    session
        .append("INBOX", None, None, text.as_bytes())
        .await
        .expect("append");
    session.logout().await.expect("logout");
}

kesu_storage::both_backends!(
    async fn the_mailbox_is_polled_filed_once_and_marked_seen(backend: Backend) {
        use kesu_web::mail::poll::{MailboxSettings, PollStatus, poll_once};
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let state = AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default());
        let server = dovecot::Dovecot::start();
        let mut imap = kesu_mail::ImapConfig::new(
            "127.0.0.1",
            server.port,
            kesu_mail::Security::Plain,
            dovecot::USER,
            dovecot::PASSWORD,
        );
        imap.connect_timeout_secs = 5;
        imap.command_timeout_secs = 10;
        let mut settings = MailboxSettings {
            enabled: false,
            imap,
        };
        settings.save(&state).await.expect("save");
        append(&server, &fixture("gbk_quoted_printable.eml")).await;
        append(&server, &fixture("auto_reply.eml")).await;
        append(&server, b"not a mail at all").await;
        assert_eq!(poll_once(&state).await.expect("poll"), None, "switched off");

        settings.enabled = true;
        settings.save(&state).await.expect("save");
        let status = poll_once(&state).await.expect("poll").expect("polled");
        assert_eq!(status.error, None, "{}", server.log());
        assert_eq!((status.fetched, status.filed, status.unreadable), (3, 2, 1));
        assert_eq!(app.complaint_count().await, 1);
        // Marked seen: the next poll finds nothing.
        let again = poll_once(&state).await.expect("poll").expect("polled");
        assert_eq!(again.fetched, 0);
        assert_eq!(PollStatus::load(&state).await.expect("load"), Some(again));

        // A crash after filing and before marking seen: the mail comes
        // again (appended anew) and is filed once.
        append(&server, &fixture("gbk_quoted_printable.eml")).await;
        let status = poll_once(&state).await.expect("poll").expect("polled");
        assert_eq!(status.fetched, 1);
        assert_eq!(app.complaint_count().await, 1);

        // A mailbox that does not answer is a status, never a crash.
        drop(server);
        let status = poll_once(&state).await.expect("poll").expect("polled");
        assert!(status.error.is_some());
        app.stop().await;
    }
);
