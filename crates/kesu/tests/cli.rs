//! The `kesu` command line as a user runs it: on SQLite in a data directory
//! and on PostgreSQL by URL; errors are one line and a non-zero exit.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use kesu_storage::testing::{Backend, TestDb};

fn kesu(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kesu"))
        .args(args)
        .env_remove("KESU_DATABASE_URL")
        .env_remove("KESU_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kesu");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for kesu")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

kesu_storage::both_backends!(
    async fn an_admin_sets_up_a_desk_from_the_command_line(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let dir =
            std::env::temp_dir().join(format!("kesu-cli-{}-{}", std::process::id(), t.url.len()));
        let dir_s = dir.to_string_lossy().into_owned();
        let mut base = vec!["--data-dir", dir_s.as_str()];
        if backend == Backend::Postgres {
            base.extend(["--database", t.url.as_str()]);
        }
        let run = |extra: &[&str], stdin: Option<&str>| {
            let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
            kesu(&args, stdin)
        };
        let out = run(&["template", "load", "car_dealer"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("6 departments and 19 sub-categories added"),
            "{}",
            text(&out.stdout)
        );
        let out = run(
            &[
                "user",
                "add",
                "Wang",
                "--role",
                "manager",
                "--department",
                "service",
                "--name",
                "王经理",
                "--password-stdin",
            ],
            Some("a-long-password\n"),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = run(&["token", "create", "--user", "wang"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let token = text(&out.stdout).trim().to_owned();
        assert!(
            token.starts_with("ks_") && !token.contains(' '),
            "only the token is printed: {token:?}"
        );
        // An integration key for the website: only the key is printed, and
        // the list names it without the key.
        let out = run(
            &[
                "integration",
                "create",
                "--name",
                "官网",
                "--channel",
                "web",
            ],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let key = text(&out.stdout).trim().to_owned();
        assert!(
            key.starts_with("ki_") && !key.contains(char::is_whitespace),
            "{key:?}"
        );
        let out = run(&["integration", "list"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let listed = text(&out.stdout);
        assert_eq!(listed.trim(), "官网\tweb\tnever used", "{listed}");
        assert!(!listed.contains(&key));
        // Bad input: one clear line on stderr and a non-zero exit.
        for (args, stdin, says) in [
            (
                vec![
                    "integration",
                    "create",
                    "--name",
                    "官网",
                    "--channel",
                    "app",
                ],
                None,
                "exists already",
            ),
            (
                vec![
                    "integration",
                    "create",
                    "--name",
                    "小程序",
                    "--channel",
                    "phone",
                ],
                None,
                "channel",
            ),
            (
                vec!["integration", "create", "--name", " ", "--channel", "app"],
                None,
                "Name: is required",
            ),
            (
                vec!["user", "add", "wang", "--role", "agent", "--password-stdin"],
                Some("another-password"),
                "already exists",
            ),
            (
                vec!["user", "add", "li", "--role", "boss"],
                None,
                "unknown role",
            ),
            (
                vec!["user", "add", "li", "--role", "manager"],
                None,
                "needs --department",
            ),
            (
                vec!["user", "add", "li", "--role", "agent", "--password-stdin"],
                Some("short"),
                "at least 8",
            ),
            (
                vec!["token", "create", "--user", "nobody"],
                None,
                "no active user",
            ),
            (vec!["template", "load", "bakery"], None, "unknown template"),
        ] {
            let out = run(&args, stdin);
            let err = text(&out.stderr);
            assert!(!out.status.success(), "{args:?} should fail");
            assert!(err.contains(says), "{args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        t.drop_async().await;
    }
);

#[test]
fn an_unreachable_database_is_one_line_and_a_failure() {
    let out = kesu(
        &[
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
            "migrate",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.starts_with("error: cannot open database"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn help_lists_the_commands() {
    let out = kesu(&["--help"], None);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for c in ["serve", "migrate", "user", "token", "template"] {
        assert!(help.contains(c), "{c} in {help}");
    }
}

/// A fixture of kesu-mail's, written by Python's email package
/// (crates/kesu-mail/tests/fixtures/make_fixtures.py).
fn mail_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kesu-mail/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A customer's answer written by Python's email package: GBK,
/// quoted-printable body, the number in an encoded-word subject.
fn python_reply(number: &str) -> Vec<u8> {
    let script = r#"
import sys
from email.message import EmailMessage
from email.policy import SMTP
from email.header import Header
m = EmailMessage(policy=SMTP)
m["From"] = "=?gbk?b?" + __import__("base64").b64encode("张三".encode("gbk")).decode() + "?= <zhangsan@example.com>"
m["To"] = "kefu@kesu.example"
m["Subject"] = Header("回复：您的投诉 [" + sys.argv[1] + "]", "gbk").encode()
m["Message-ID"] = "<reply-" + sys.argv[1] + "@mail.example.com>"
m.set_content("冰箱还是不制冷，请尽快上门。", charset="gbk", cte="quoted-printable")
sys.stdout.buffer.write(m.as_bytes())
"#;
    let out = Command::new("python3")
        .args(["-c", script, number])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

fn mail_in(url: &str, raw: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kesu"))
        .args(["--database", url, "mail-in"])
        .env_remove("KESU_DATABASE_URL")
        .env_remove("KESU_DATA_DIR")
        .env("KESU_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kesu");
    let mut stdin = child.stdin.take().expect("stdin");
    // A large mail is written while kesu reads it.
    let raw = raw.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&raw);
    });
    let out = child.wait_with_output().expect("wait for kesu");
    let _ = writer.join();
    out
}

kesu_storage::both_backends!(
    async fn mail_in_files_a_mail_once_threads_the_reply_and_ignores_auto_replies(
        backend: Backend,
    ) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let out = mail_in(&t.url, &mail_fixture("gb2312_base64.eml"));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let line = text(&out.stdout);
        let number = line
            .strip_prefix("new_complaint ")
            .map(str::trim)
            .unwrap_or_else(|| panic!("one line, new_complaint and the number: {line:?}"))
            .to_owned();
        let row =
            t.db.complaint(&number)
                .await
                .expect("read")
                .expect("the complaint");
        assert_eq!(row.channel, "email");
        assert_eq!(row.state, "received");
        assert_eq!(row.customer_name, "张三");
        assert_eq!(row.customer_email.as_deref(), Some("zhangsan@example.com"));
        assert!(
            row.description
                .contains("您好，我在贵店购买的冰箱不制冷，要求退货。"),
            "{}",
            row.description
        );
        assert!(row.description.contains("投诉：冰箱不制冷"));

        // The same mail delivered again (an MTA retry): filed once.
        let out = mail_in(&t.url, &mail_fixture("gb2312_base64.eml"));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout).trim(),
            format!("duplicate {number} (filed before: new_complaint)")
        );

        // The customer answers with the number in the subject.
        let out = mail_in(&t.url, &python_reply(&number));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), format!("added {number}"));
        let history =
            t.db.history(kesu_domain::ComplaintId(row.id))
                .await
                .expect("history");
        let wrote = history
            .iter()
            .find(|e| e.kind == "customer_wrote")
            .expect("the reply is in the history");
        assert!(
            wrote.payload.contains("冰箱还是不制冷，请尽快上门。"),
            "{}",
            wrote.payload
        );
        assert!(wrote.actor_id.is_none());

        // Auto-replies and bounces open nothing.
        for (fixture, outcome) in [
            ("auto_reply.eml", "ignored_auto_reply"),
            ("bounce.eml", "ignored_bounce"),
            ("mailing_list.eml", "ignored_bulk"),
        ] {
            let out = mail_in(&t.url, &mail_fixture(fixture));
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert!(
                text(&out.stdout).starts_with(outcome),
                "{fixture}: {}",
                text(&out.stdout)
            );
        }
        let second = format!("{}0002", &number[..number.len() - 4]);
        assert!(
            t.db.complaint(&second).await.expect("read").is_none(),
            "one complaint in all"
        );

        // Bytes that are not a mail: EX_DATAERR, one line, nothing written.
        let out = mail_in(&t.url, b"\x00\x01 not a mail");
        assert_eq!(out.status.code(), Some(65), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr).trim().lines().count(),
            1,
            "{}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).starts_with("error: mail not filed"));
        t.drop_async().await;
    }
);

#[test]
fn mail_in_without_a_database_asks_the_mta_to_try_again() {
    let out = mail_in(
        "postgres://kesu@127.0.0.1:1/kesu",
        &mail_fixture("big5.eml"),
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim().lines().count(), 1);
}
