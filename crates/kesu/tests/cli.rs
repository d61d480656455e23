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
        assert!(text(&out.stdout).contains("6 departments added"));
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
        // Bad input: one clear line on stderr and a non-zero exit.
        for (args, stdin, says) in [
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
