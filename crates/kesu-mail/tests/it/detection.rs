//! The auto-reply, bounce, list and no-reply rules on small hand-written mails.

use kesu_mail::{AutoAnswer, MailKind, SuppressReason, parse};

/// Headers of a small mail with `extra` added, for the detection rules.
fn with_headers(extra: &str, from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: kefu@kesu.example\r\nSubject: {subject}\r\n{extra}\
         Message-ID: <t@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n正文\r\n"
    )
    .into_bytes()
}

fn kind_of(extra: &str, from: &str, subject: &str) -> MailKind {
    parse(&with_headers(extra, from, subject))
        .expect("parse")
        .kind
}

fn is_auto_reply(kind: &MailKind) -> bool {
    matches!(kind, MailKind::AutoReply { .. })
}

fn is_bounce(kind: &MailKind) -> bool {
    matches!(kind, MailKind::Bounce { .. })
}

#[test]
fn auto_reply_headers_and_subjects_are_recognised() {
    let person = "zhangsan@example.com";
    for extra in [
        "Auto-Submitted: auto-replied\r\n",
        "Auto-Submitted: auto-generated; owner-email=x@y\r\n",
        "X-Autoreply: yes\r\n",
        "X-Autorespond: vacation\r\n",
        "Precedence: auto_reply\r\n",
        "Return-Path: <>\r\n",
    ] {
        assert!(
            is_auto_reply(&kind_of(extra, person, "关于投诉")),
            "{extra}"
        );
    }
    for subject in [
        "自动回复：关于投诉",
        "自动答复: 投诉",
        "Out of Office: x",
        "Automatic reply: x",
        "=?UTF-8?B?6Ieq5Yqo5Zue5aSN77ya?=",
    ] {
        assert!(is_auto_reply(&kind_of("", person, subject)), "{subject}");
    }
    assert_eq!(
        kind_of("Auto-Submitted: no\r\n", person, "关于投诉"),
        MailKind::Normal
    );
    assert_eq!(kind_of("", person, "关于自动回复的投诉"), MailKind::Normal);
}

#[test]
fn bounce_senders_and_subjects_are_recognised() {
    for (from, subject) in [
        ("MAILER-DAEMON@mx.example.com", "failure"),
        ("postmaster@mx.example.com", "x"),
        ("system@mail.163.example", "系统退信"),
        ("system@qq.example", "退信：投诉已受理"),
        ("x@exchange.example", "Undeliverable: 投诉已受理"),
        ("x@gmail.example", "Delivery Status Notification (Failure)"),
    ] {
        assert!(is_bounce(&kind_of("", from, subject)), "{from} {subject}");
    }
    assert!(is_bounce(&kind_of(
        "X-Failed-Recipients: a@b\r\n",
        "x@y.example",
        "x"
    )));
    assert_eq!(
        kind_of("", "zhangsan@example.com", "退信用卡年费"),
        MailKind::Normal
    );
    // A bounce wins over the Auto-Submitted every bounce carries.
    assert!(is_bounce(&kind_of(
        "Auto-Submitted: auto-replied\r\n",
        "MAILER-DAEMON@mx.example",
        "x"
    )));
}

#[test]
fn noreply_senders_and_suppressing_senders_get_no_automatic_answer() {
    let mail = parse(&with_headers("", "No-Reply@Shop.example", "投诉")).expect("parse");
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::NoReplyAddress)
    );
    let mail = parse(&with_headers(
        "X-Auto-Response-Suppress: DR, OOF\r\n",
        "a@example.com",
        "投诉",
    ))
    .expect("parse");
    assert_eq!(mail.kind, MailKind::Normal);
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::SenderAsked)
    );
    let mail = parse(&with_headers(
        "List-Id: <x.example>\r\n",
        "a@example.com",
        "投诉",
    ))
    .expect("parse");
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::Bulk)
    );
    let mail = parse(&with_headers(
        "X-Auto-Response-Suppress: None\r\n",
        "a@example.com",
        "投诉",
    ))
    .expect("parse");
    assert!(matches!(mail.auto_answer(), AutoAnswer::Send { .. }));
}

#[test]
fn a_chinese_bounce_with_the_original_attached_threads_to_it() {
    let raw = "From: postmaster@163.example\r\nTo: kefu@kesu.example\r\n\
               Subject: =?UTF-8?B?57O757uf6YCA5L+h?=\r\nMIME-Version: 1.0\r\n\
               Content-Type: multipart/mixed; boundary=b\r\n\r\n\
               --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n邮件无法送达\r\n\
               --b\r\nContent-Type: message/rfc822\r\n\r\n\
               From: kefu@kesu.example\r\nTo: wrong@163.example\r\nMessage-ID: <outbound-7@kesu.example>\r\n\
               Subject: x\r\n\r\n您的投诉已受理\r\n--b--\r\n";
    let mail = parse(raw.as_bytes()).expect("parse");
    assert_eq!(mail.subject, "系统退信");
    assert!(is_bounce(&mail.kind), "{:?}", mail.kind);
    assert_eq!(mail.text, "邮件无法送达");
    assert_eq!(
        mail.original_message_id.as_deref(),
        Some("outbound-7@kesu.example")
    );
}
