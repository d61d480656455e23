//! fetch_unseen and mark_seen against a real Dovecot.

use std::time::Duration;

use kesu_mail::{ImapConfig, ImapError, Security, fetch_unseen, mark_seen, parse};
use tokio::net::TcpStream;

use crate::dovecot::{Dovecot, PASSWORD, USER};
use crate::fixture;

fn config(server: &Dovecot) -> ImapConfig {
    let mut config = ImapConfig::new("127.0.0.1", server.port, Security::Plain, USER, PASSWORD);
    config.connect_timeout_secs = 5;
    config.command_timeout_secs = 10;
    config
}

/// Puts a message into the user's INBOX with IMAP APPEND (CRLF line ends,
/// as the protocol wants).
async fn append(server: &Dovecot, raw: &[u8], flags: Option<&str>) {
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let tcp = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.expect("greeting");
    let mut session = client
        .login(USER, PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .expect("login");
    session
        .append("INBOX", flags, None, text.as_bytes())
        .await
        .expect("append");
    session.logout().await.expect("logout");
}

fn subjects(mails: &[kesu_mail::FetchedMail]) -> Vec<String> {
    mails
        .iter()
        .map(|m| parse(&m.raw).expect("parse").subject)
        .collect()
}

#[tokio::test]
async fn fetch_returns_unseen_mail_until_it_is_marked_seen() {
    let server = Dovecot::start();
    let config = config(&server);
    assert!(
        fetch_unseen(&config, 10)
            .await
            .expect("empty fetch")
            .is_empty()
    );

    append(&server, &fixture("gb2312_base64.eml"), None).await;
    append(&server, &fixture("mailing_list.eml"), Some("(\\Seen)")).await;
    append(&server, &fixture("reply.eml"), None).await;
    append(&server, &fixture("attachments.eml"), None).await;

    let fetched = fetch_unseen(&config, 10).await.expect("fetch");
    assert_eq!(
        subjects(&fetched),
        vec![
            "投诉：冰箱不制冷",
            "回复：关于投诉 KS-20261123-0042 的处理",
            "商品破损照片"
        ],
        "the seen list mail is left out; oldest first. Dovecot log:\n{}",
        server.log()
    );
    let uids: Vec<u32> = fetched.iter().map(|m| m.uid).collect();
    assert!(uids.windows(2).all(|w| w[0] < w[1]), "{uids:?}");
    let attachments = parse(&fetched[2].raw).expect("parse").attachments;
    assert_eq!(attachments[0].filename, "破损照片.jpg");

    // Fetching marks nothing: the same mail comes again; the limit holds.
    assert_eq!(fetch_unseen(&config, 10).await.expect("fetch").len(), 3);
    let first_two = fetch_unseen(&config, 2).await.expect("fetch");
    assert_eq!(
        first_two.iter().map(|m| m.uid).collect::<Vec<_>>(),
        uids[..2]
    );

    // A changed UIDVALIDITY marks nothing.
    let validity = fetched[0].uid_validity;
    let err = mark_seen(&config, validity.wrapping_add(1), &uids[..2])
        .await
        .expect_err("stale");
    assert!(matches!(err, ImapError::UidValidityChanged { .. }), "{err}");
    assert_eq!(fetch_unseen(&config, 10).await.expect("fetch").len(), 3);

    mark_seen(&config, validity, &uids[..2])
        .await
        .expect("mark");
    let rest = fetch_unseen(&config, 10).await.expect("fetch");
    assert_eq!(subjects(&rest), vec!["商品破损照片"]);
    assert_eq!(rest[0].uid, uids[2]);

    // Marking again, or nothing, is harmless.
    mark_seen(&config, validity, &uids[..2])
        .await
        .expect("mark again");
    mark_seen(&config, validity, &[])
        .await
        .expect("mark nothing");
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error() {
    let server = Dovecot::start();
    let mut config = config(&server);
    config.password = "wrong".into();
    let err = fetch_unseen(&config, 10).await.expect_err("refused");
    assert!(matches!(err, ImapError::Auth { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("the IMAP server refused the login of \"kesu\""),
        "{err}"
    );
    assert!(
        !err.to_string().contains("wrong"),
        "the password is not in the message: {err}"
    );

    config.username = "nobody".into();
    let err = mark_seen(&config, 1, &[1]).await.expect_err("refused");
    assert!(matches!(err, ImapError::Auth { .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_mailbox_is_a_mailbox_error() {
    let server = Dovecot::start();
    let mut config = config(&server);
    config.mailbox = "投诉/不存在".into();
    let err = fetch_unseen(&config, 10)
        .await
        .expect_err("no such mailbox");
    assert!(matches!(err, ImapError::Mailbox { .. }), "{err:?}");
}

#[tokio::test]
async fn tls_with_a_trusted_ca_fetches_and_an_unknown_ca_is_refused() {
    let server = Dovecot::start_with_tls();
    append(&server, &fixture("big5.eml"), None).await;
    let mut config = config(&server);
    config.security = Security::Tls;
    config.port = server.tls_port.expect("tls port");

    let err = fetch_unseen(&config, 10)
        .await
        .expect_err("untrusted certificate");
    assert!(matches!(err, ImapError::Tls { .. }), "{err:?}");

    config.ca_file = server.ca_file.clone();
    let fetched = fetch_unseen(&config, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(subjects(&fetched), vec!["訂單延遲發貨"]);
    mark_seen(&config, fetched[0].uid_validity, &[fetched[0].uid])
        .await
        .expect("mark");
    assert!(fetch_unseen(&config, 10).await.expect("fetch").is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bound but not listening: connections are refused, and no other
    // test's server can take the port meanwhile.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let port = socket.local_addr().expect("addr").port();
    let config = ImapConfig::new("127.0.0.1", port, Security::Plain, USER, PASSWORD);
    let err = fetch_unseen(&config, 10).await.expect_err("refused");
    assert!(matches!(err, ImapError::Connect { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "cannot connect to the IMAP server 127.0.0.1:{port}"
        )),
        "{err}"
    );
    drop(socket);
}

#[tokio::test]
async fn a_server_that_never_greets_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(socket);
    });
    let mut config = ImapConfig::new("127.0.0.1", port, Security::Plain, USER, PASSWORD);
    config.command_timeout_secs = 1;
    let err = fetch_unseen(&config, 10).await.expect_err("timeout");
    assert!(
        matches!(
            err,
            ImapError::Timeout {
                step: "the greeting",
                secs: 1
            }
        ),
        "{err:?}"
    );
    hold.abort();
}
