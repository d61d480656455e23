//! SMTP against a real server (Python's aiosmtpd writing a Maildir, read
//! back with Python's `email` package) and against a scripted one for the
//! server's refusals.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use kesu_notify::{OutgoingMail, Retry, SmtpConfig, SmtpMailer, SmtpSecurity};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::peer::bounded;

/// aiosmtpd on a free local port, killed (and its Maildir removed) on drop.
struct Aiosmtpd {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Aiosmtpd {
    fn start() -> Self {
        let installed = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "the SMTP tests need Python's aiosmtpd: run `python3 -m pip install aiosmtpd` \
             (scripts/test installs it when missing)"
        );
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let maildir = std::env::temp_dir().join(format!(
            "kesu-notify-maildir-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .args(["-l", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let mut server = Self {
            child,
            port,
            maildir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = server.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!("aiosmtpd exited ({status}): {stderr}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: Some(self.port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from_address: "kesu@example.com".to_owned(),
            from_name: Some("某某汽车客服中心".to_owned()),
            timeout_secs: 5,
        }
    }

    /// The one message in the Maildir, as Python's `email` reads it.
    fn only_message(&self) -> (Value, String) {
        let new = self.maildir.join("new");
        let files: Vec<PathBuf> = std::fs::read_dir(&new)
            .expect("the Maildir exists")
            .map(|e| e.expect("an entry").path())
            .collect();
        assert_eq!(files.len(), 1, "one message in {}", new.display());
        let raw = std::fs::read(&files[0]).expect("readable");
        (
            parse_mail(&files[0]),
            String::from_utf8(raw).expect("the raw mail is ASCII"),
        )
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

fn parse_mail(path: &Path) -> Value {
    let script = r#"
import email, email.policy, json, sys
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
plain = m.get_body(("plain",))
html = m.get_body(("html",))
print(json.dumps({
    "subject": m["subject"], "from": m["from"], "to": m["to"],
    "message_id": m["message-id"], "in_reply_to": m["in-reply-to"], "references": m["references"],
    "content_type": m.get_content_type(),
    "text": plain.get_content() if plain else None,
    "html": html.get_content() if html else None,
}))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn mail() -> OutgoingMail {
    OutgoingMail {
        to: "王女士 <wang@example.net>".to_owned(),
        subject: "关于您的投诉 TS20250101-0001 的处理结果".to_owned(),
        text: "王女士您好：\n\n您反映的问题已处理完毕，退款 ¥1,280.00 已原路退回。\n\n某某汽车客服中心".to_owned(),
        html: Some("<p>王女士您好：</p><p>您反映的问题已处理完毕。</p>".to_owned()),
        message_id: Some("<outbox.42@example.com>".to_owned()),
        in_reply_to: Some("<CAF=abc123@mail.example.net>".to_owned()),
        references: vec!["<first@mail.example.net>".to_owned(), "CAF=abc123@mail.example.net".to_owned()],
        auto_submitted: false,
    }
}

#[tokio::test]
async fn delivers_chinese_mail_with_threading_headers_to_a_real_server() {
    let server = Aiosmtpd::start();
    let mailer = SmtpMailer::new(&server.config()).expect("valid");
    let delivered = bounded(mailer.send(&mail())).await.expect("delivered");
    assert_eq!(
        delivered.receipt.as_deref(),
        Some("<outbox.42@example.com>")
    );

    let (parsed, raw) = server.only_message();
    assert_eq!(parsed["subject"], "关于您的投诉 TS20250101-0001 的处理结果");
    assert_eq!(parsed["from"], "某某汽车客服中心 <kesu@example.com>");
    assert_eq!(parsed["to"], "王女士 <wang@example.net>");
    assert_eq!(parsed["message_id"], "<outbox.42@example.com>");
    assert_eq!(parsed["in_reply_to"], "<CAF=abc123@mail.example.net>");
    assert_eq!(
        parsed["references"],
        "<first@mail.example.net> <CAF=abc123@mail.example.net>"
    );
    assert_eq!(parsed["content_type"], "multipart/alternative");
    assert_eq!(
        parsed["text"]
            .as_str()
            .map(|t| t.replace("\r\n", "\n"))
            .as_deref(),
        Some(
            "王女士您好：\n\n您反映的问题已处理完毕，退款 ¥1,280.00 已原路退回。\n\n某某汽车客服中心"
        )
    );
    assert!(
        parsed["html"]
            .as_str()
            .is_some_and(|h| h.contains("<p>王女士您好：</p>"))
    );
    // On the wire every header is ASCII: the subject as RFC 2047 words.
    let subject = raw
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("a Subject");
    assert!(subject.contains("=?utf-8?"), "{subject}");
}

#[tokio::test]
async fn text_only_mail_gets_a_message_id_of_the_senders_domain() {
    let server = Aiosmtpd::start();
    let mailer = SmtpMailer::new(&server.config()).expect("valid");
    assert_eq!(mailer.message_id("outbox.7"), "<outbox.7@example.com>");
    let mail = OutgoingMail {
        to: "li@example.net".to_owned(),
        subject: "回访".to_owned(),
        text: "请问您对处理结果满意吗？".to_owned(),
        html: None,
        message_id: None,
        in_reply_to: None,
        references: Vec::new(),
        auto_submitted: false,
    };
    let delivered = bounded(mailer.send(&mail)).await.expect("delivered");
    let receipt = delivered.receipt.expect("a Message-ID");
    assert!(
        receipt.starts_with("<kesu.") && receipt.ends_with("@example.com>"),
        "{receipt}"
    );

    let (parsed, _) = server.only_message();
    assert_eq!(parsed["message_id"], receipt.as_str());
    assert_eq!(parsed["content_type"], "text/plain");
    assert_eq!(parsed["subject"], "回访");
    assert_eq!(
        parsed["text"].as_str().map(str::trim_end),
        Some("请问您对处理结果满意吗？")
    );
}

#[tokio::test]
async fn tls_against_a_plain_server_fails_and_can_be_retried() {
    let server = Aiosmtpd::start();
    let config = SmtpConfig {
        security: SmtpSecurity::Tls,
        ..server.config()
    };
    let mailer = SmtpMailer::new(&config).expect("valid");
    let e = bounded(mailer.send(&mail()))
        .await
        .expect_err("no TLS there");
    assert_eq!(e.retry(), Retry::Later, "{e}");
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let config = SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(free_port()),
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from_address: "kesu@example.com".to_owned(),
        from_name: None,
        timeout_secs: 5,
    };
    let e = bounded(SmtpMailer::new(&config).expect("valid").send(&mail()))
        .await
        .expect_err("nobody listens");
    assert_eq!(e.retry(), Retry::Later, "{e}");
}

/// A scripted SMTP server for one connection: greets (or not) and answers
/// RCPT with `rcpt_reply`; returns its port.
async fn scripted(greet: bool, rcpt_reply: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("bound").port();
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let (read, mut write) = stream.into_split();
        if !greet {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        let _ = write.write_all(b"220 peer ESMTP\r\n").await;
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let command = line.to_ascii_uppercase();
            let reply = if command.starts_with("EHLO") {
                "250-peer\r\n250 8BITMIME\r\n".to_owned()
            } else if command.starts_with("RCPT") {
                format!("{rcpt_reply}\r\n")
            } else if command.starts_with("QUIT") {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                "250 OK\r\n".to_owned()
            };
            if write.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    port
}

fn scripted_config(port: u16, timeout_secs: u64) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(port),
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from_address: "kesu@example.com".to_owned(),
        from_name: None,
        timeout_secs,
    }
}

#[tokio::test]
async fn a_rejected_recipient_is_permanent_and_not_quoted() {
    bounded(async {
        let port = scripted(
            true,
            "550 5.1.1 <wang@example.net>: Recipient address rejected",
        )
        .await;
        let mailer = SmtpMailer::new(&scripted_config(port, 5)).expect("valid");
        let e = mailer.send(&mail()).await.expect_err("rejected");
        assert_eq!(e.retry(), Retry::Never, "{e}");
        assert_eq!(e.vendor_code(), Some("550"));
        assert!(e.message().contains("Recipient address rejected"), "{e}");
        assert!(!e.message().contains("wang@example.net"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn a_deferred_recipient_is_retryable() {
    bounded(async {
        let port = scripted(true, "451 4.7.1 Greylisted, try again later").await;
        let mailer = SmtpMailer::new(&scripted_config(port, 5)).expect("valid");
        let e = mailer.send(&mail()).await.expect_err("deferred");
        assert_eq!(
            (e.retry(), e.vendor_code()),
            (Retry::Later, Some("451")),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_server_that_never_greets_times_out_as_retryable() {
    bounded(async {
        let port = scripted(false, "").await;
        let mailer = SmtpMailer::new(&scripted_config(port, 1)).expect("valid");
        let started = Instant::now();
        let e = mailer.send(&mail()).await.expect_err("silent");
        assert_eq!(e.retry(), Retry::Later, "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    })
    .await;
}

#[tokio::test]
async fn a_message_id_that_could_break_the_header_is_refused() {
    let mailer = SmtpMailer::new(&scripted_config(free_port(), 1)).expect("valid");
    let mut bad = mail();
    bad.message_id = Some("<x@y>\r\nBcc: all@example.com".to_owned());
    let e = bounded(mailer.send(&bad)).await.expect_err("refused");
    assert_eq!(e.retry(), Retry::Never, "{e}");
}
