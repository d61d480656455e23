//! Each fixture decoded exactly.

use kesu_mail::{AutoAnswer, MailKind, Mailbox, SuppressReason, ThreadKey, parse};

use crate::fixture;

fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox {
        name: name.map(str::to_string),
        address: address.to_string(),
    }
}

#[test]
fn gb2312_base64_body_and_encoded_word_subject_decode() {
    let mail = parse(&fixture("gb2312_base64.eml")).expect("parse");
    assert_eq!(mail.subject, "投诉：冰箱不制冷");
    assert_eq!(
        mail.text,
        "您好，我在贵店购买的冰箱不制冷，要求退货。\n联系电话：13800138000"
    );
    assert_eq!(mail.from, mailbox(Some("张三"), "zhangsan@example.com"));
    assert_eq!(
        mail.message_id.as_deref(),
        Some("gb2312-0001@mail.example.com")
    );
    assert_eq!(mail.to, vec![mailbox(None, "kefu@kesu.example")]);
    assert_eq!(
        mail.date.map(|d| d.to_string()).as_deref(),
        Some("2026-11-23T01:30:00Z")
    );
    assert_eq!(mail.kind, MailKind::Normal);
    assert_eq!(mail.html_sanitized, None);
    assert_eq!(mail.thread_key(), ThreadKey::New);
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Send {
            to: mailbox(Some("张三"), "zhangsan@example.com")
        }
    );
}

#[test]
fn gbk_quoted_printable_decodes_characters_outside_gb2312() {
    let mail = parse(&fixture("gbk_quoted_printable.eml")).expect("parse");
    assert_eq!(mail.subject, "快递包裹破损（李镕堃）");
    assert_eq!(
        mail.text,
        "客服您好：\n我是李镕堃，快递员把包裹扔在门口，外包装破损。"
    );
}

#[test]
fn gb18030_decodes_characters_outside_gbk() {
    let mail = parse(&fixture("gb18030.eml")).expect("parse");
    assert_eq!(mail.subject, "𠮷田的会员积分");
    assert_eq!(mail.text, "我叫𠮷田，会员卡积分被清零了。");
}

#[test]
fn big5_body_and_subject_decode_to_traditional_characters() {
    let mail = parse(&fixture("big5.eml")).expect("parse");
    assert_eq!(mail.subject, "訂單延遲發貨");
    assert_eq!(mail.text, "您好，我的訂單遲遲沒有發貨，請儘快處理。");
}

#[test]
fn utf8_alternative_keeps_plain_text_and_sanitized_html() {
    let mail = parse(&fixture("utf8_alternative.eml")).expect("parse");
    assert_eq!(mail.subject, "投诉：服务态度差");
    assert_eq!(mail.text, "店员态度很差，还骂人。\n希望给个说法。");
    assert_eq!(
        mail.html_sanitized.as_deref(),
        Some("<p>店员态度<b>很差</b>，还骂人。</p><p>希望给个说法。</p>")
    );
    assert_eq!(mail.from, mailbox(Some("王五"), "wangwu@example.com"));
    assert_eq!(
        mail.reply_to,
        vec![mailbox(Some("王五（手机）"), "wangwu.mobile@example.com")]
    );
    assert_eq!(mail.cc, vec![mailbox(None, "boss@example.com")]);
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Send {
            to: mailbox(Some("王五（手机）"), "wangwu.mobile@example.com")
        },
        "answers go to Reply-To"
    );
}

#[test]
fn html_only_mail_gets_text_and_safe_html() {
    let mail = parse(&fixture("html_only.eml")).expect("parse");
    assert_eq!(
        mail.text,
        "投诉：退款未到账\n\n订单号 A&B-2026，金额 <1000> 元。\n\n已等待十天。\n\n\
         第一次联系：11月1日\n第二次联系：11月8日\n\n点我 订单页面"
    );
    let html = mail.html_sanitized.expect("html");
    for bad in [
        "<script",
        "alert",
        "onclick",
        "onload",
        "javascript:",
        "tracker.example",
        "<style",
        "投诉信",
        "更多脚本",
    ] {
        assert!(!html.contains(bad), "{bad:?} left in {html}");
    }
    assert!(html.contains("<h1>投诉：退款未到账</h1>"), "{html}");
    assert!(
        html.contains(
            r#"<a href="https://shop.example/orders/1" rel="noopener noreferrer">订单页面</a>"#
        ),
        "{html}"
    );
    assert!(html.contains(r#"<img alt="跟踪像素">"#), "{html}");
}

#[test]
fn attachments_are_decoded_named_and_cleaned() {
    let mail = parse(&fixture("attachments.eml")).expect("parse");
    assert_eq!(mail.text, "照片见附件。");
    let names: Vec<(&str, &str, bool)> = mail
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.content_type.as_str(), a.inline))
        .collect();
    assert_eq!(
        names,
        vec![
            ("破损照片.jpg", "image/jpeg", false),
            ("passwd", "application/octet-stream", false),
            ("发票.pdf", "application/pdf", false),
            ("logo.jpg", "image/jpeg", true),
        ]
    );
    let photo = &mail.attachments[0];
    assert_eq!(&photo.data[..4], b"\xff\xd8\xff\xe0");
    assert_eq!(photo.data.len(), 20 + 256 + 2);
    assert_eq!(
        mail.attachments[1].data,
        b"root:x:0:0:root:/root:/bin/bash\n"
    );
    assert_eq!(mail.attachments[2].data, b"%PDF-1.4\n%kesu\n");
    assert_eq!(
        mail.attachments[3].content_id.as_deref(),
        Some("logo@example.com")
    );
}

#[test]
fn a_reply_threads_by_the_number_in_its_subject() {
    let mail = parse(&fixture("reply.eml")).expect("parse");
    assert_eq!(mail.subject, "回复：关于投诉 KS-20261123-0042 的处理");
    assert_eq!(mail.complaint_number.as_deref(), Some("KS-20261123-0042"));
    assert_eq!(mail.in_reply_to, vec!["outbound-42@kesu.example"]);
    assert_eq!(
        mail.references,
        vec!["first-41@kesu.example", "outbound-42@kesu.example"]
    );
    assert_eq!(
        mail.thread_key(),
        ThreadKey::ComplaintNumber("KS-20261123-0042".into())
    );
    assert_eq!(mail.kind, MailKind::Normal);
}

#[test]
fn a_reply_without_a_number_threads_by_the_ids_it_answers() {
    let raw = String::from_utf8(fixture("reply.eml")).expect("utf-8");
    // Drop the Subject field with its folded continuation lines.
    let mut in_subject = false;
    let without: Vec<&str> = raw
        .lines()
        .filter(|l| {
            in_subject = l.starts_with("Subject:") || (in_subject && l.starts_with([' ', '\t']));
            !in_subject
        })
        .collect();
    let raw = format!("Subject: Re: your answer\n{}\n", without.join("\n"));
    let mail = parse(raw.as_bytes()).expect("parse");
    assert_eq!(mail.complaint_number, None);
    assert_eq!(
        mail.thread_key(),
        ThreadKey::MessageIds(vec![
            "outbound-42@kesu.example".into(),
            "first-41@kesu.example".into()
        ])
    );
}

#[test]
fn an_outlook_auto_reply_is_recognised_and_never_answered() {
    let mail = parse(&fixture("auto_reply.eml")).expect("parse");
    assert_eq!(mail.subject, "自动答复: 关于投诉 KS-20261123-0042 的处理");
    assert_eq!(mail.text, "我正在休假，11月30日回来。紧急事务请联系同事。");
    assert_eq!(
        mail.kind,
        MailKind::AutoReply {
            reason: "Auto-Submitted: auto-generated".into()
        }
    );
    assert!(mail.suppress_auto_response);
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::AutoReply)
    );
    assert_eq!(mail.complaint_number.as_deref(), Some("KS-20261123-0042"));
}

#[test]
fn a_delivery_status_report_is_a_bounce_of_the_mail_it_returns() {
    let mail = parse(&fixture("bounce.eml")).expect("parse");
    assert_eq!(
        mail.kind,
        MailKind::Bounce {
            reason: "multipart/report; report-type=delivery-status".into()
        }
    );
    assert_eq!(
        mail.from,
        mailbox(
            Some("Mail Delivery System"),
            "mailer-daemon@mx.kesu.example"
        )
    );
    assert_eq!(
        mail.original_message_id.as_deref(),
        Some("outbound-42@kesu.example")
    );
    assert_eq!(
        mail.thread_key(),
        ThreadKey::MessageIds(vec!["outbound-42@kesu.example".into()])
    );
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::Bounce)
    );
    assert!(
        mail.text.contains("550 5.1.1 User unknown"),
        "{}",
        mail.text
    );
}

#[test]
fn list_mail_is_normal_but_never_answered() {
    let mail = parse(&fixture("mailing_list.eml")).expect("parse");
    assert_eq!(mail.subject, "[促销] 本周特价");
    assert_eq!(mail.kind, MailKind::Normal);
    assert_eq!(mail.bulk.as_deref(), Some("Precedence: list"));
    assert_eq!(
        mail.auto_answer(),
        AutoAnswer::Suppress(SuppressReason::Bulk)
    );
}
