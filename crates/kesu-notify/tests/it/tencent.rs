//! Tencent Cloud SMS against a local peer that checks the TC3 signature
//! with an independent implementation, as sms.tencentcloudapi.com does.

use kesu_notify::{Retry, Secret, TencentMessage, TencentSms, TencentSmsConfig};
use serde_json::{Value, json};

use crate::peer::{Peer, Reply, Seen, bounded};
use crate::pyref;

const SECRET_ID: &str = "AKIDtestSecretId0123456789";
const SECRET_KEY: &str = "testSecretKey0123456789abcdef";
const PHONE: &str = "+8613800138000";
const NOW: i64 = 1_735_700_000;

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(NOW).expect("a valid time")
}

fn sms(peer: &Peer, key: &str, timeout_secs: u64) -> TencentSms {
    TencentSms::new(&TencentSmsConfig {
        secret_id: SECRET_ID.to_owned(),
        secret_key: Secret::new(key),
        sdk_app_id: "1400006666".to_owned(),
        sign_name: "某某汽车".to_owned(),
        region: "ap-guangzhou".to_owned(),
        base_url: Some(peer.base_url.clone()),
        timeout_secs,
    })
    .expect("a valid configuration")
}

fn message() -> TencentMessage {
    TencentMessage {
        phone_number: PHONE.to_owned(),
        template_id: "1110".to_owned(),
        template_params: vec!["TS20250101-0001".to_owned(), "一店".to_owned()],
        session_context: Some("outbox-42".to_owned()),
    }
}

fn error(code: &str, message: &str) -> Reply {
    Reply::Json(
        200,
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "ed93f3cb-test"}}),
    )
}

fn status(code: &str, message: &str) -> Reply {
    Reply::Json(
        200,
        json!({"Response": {
            "SendStatusSet": [{
                "SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": PHONE, "Fee": 1,
                "SessionContext": "outbox-42", "Code": code, "Message": message, "IsoCode": "CN",
            }],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }}),
    )
}

/// A sms.tencentcloudapi.com stand-in: common headers, a fresh timestamp,
/// a signature recomputed independently over the Host and body received.
fn tencent(seen: &Seen) -> Reply {
    if seen.method != "POST" || seen.path != "/" {
        return error("InvalidAction", "the action is not found");
    }
    let fixed = [
        ("content-type", "application/json; charset=utf-8"),
        ("x-tc-action", "SendSms"),
        ("x-tc-version", "2021-01-11"),
        ("x-tc-region", "ap-guangzhou"),
    ];
    for (name, value) in fixed {
        if seen.header(name) != Some(value) {
            return error(
                "MissingParameter",
                &format!("the header {name} is missing or wrong"),
            );
        }
    }
    let Some(timestamp) = seen
        .header("x-tc-timestamp")
        .and_then(|t| t.parse::<i64>().ok())
    else {
        return error("MissingParameter", "X-TC-Timestamp");
    };
    if (timestamp - NOW).abs() > 300 {
        return error("AuthFailure.SignatureExpire", "signature expired");
    }
    let host = seen.header("host").unwrap_or_default();
    let expected = pyref::tc3_authorization(
        SECRET_ID,
        SECRET_KEY,
        "sms",
        host,
        "application/json; charset=utf-8",
        &seen.body,
        timestamp,
    );
    if seen.header("authorization") != Some(expected.as_str()) {
        return error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        );
    }
    status("Ok", "send success")
}

#[tokio::test]
async fn sends_a_signed_request_and_keeps_the_serial_number() {
    bounded(async {
        let peer = Peer::start(tencent).await;
        let delivered = sms(&peer, SECRET_KEY, 5).send(&message(), now()).await.expect("delivered");
        assert_eq!(delivered.receipt.as_deref(), Some("5000:1045710669157053657849499619"));
        assert_eq!(delivered.request_id.as_deref(), Some("a0aabda6-cf91-4f3e-a81f-9198114a2279"));
        let seen = peer.one();
        assert_eq!(seen.header("x-tc-timestamp"), Some(NOW.to_string().as_str()));
        assert!(
            seen.header("authorization")
                .is_some_and(|a| a.starts_with(&format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/2025-01-01/sms/tc3_request, SignedHeaders=content-type;host, Signature="))),
            "{:?}",
            seen.header("authorization")
        );
        let body: Value = seen.json();
        assert_eq!(
            body,
            json!({
                "PhoneNumberSet": [PHONE],
                "SmsSdkAppId": "1400006666",
                "SignName": "某某汽车",
                "TemplateId": "1110",
                "TemplateParamSet": ["TS20250101-0001", "一店"],
                "SessionContext": "outbox-42",
            })
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_key_is_permanent_and_never_quoted() {
    bounded(async {
        let peer = Peer::start(tencent).await;
        let e = sms(&peer, "notTheKey0123", 5)
            .send(&message(), now())
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Never);
        assert_eq!(e.vendor_code(), Some("AuthFailure.SignatureFailure"));
        assert!(
            !e.message().contains("notTheKey0123") && !e.message().contains(PHONE),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn limits_are_retryable_and_a_rejected_template_permanent() {
    bounded(async {
        let per_number = Peer::start(|_: &Seen| {
            status(
                "LimitExceeded.PhoneNumberDailyLimit",
                "单个手机号日下发短信条数超过设定的上限",
            )
        })
        .await;
        let e = sms(&per_number, SECRET_KEY, 5)
            .send(&message(), now())
            .await
            .expect_err("limited");
        assert_eq!(
            (e.retry(), e.vendor_code()),
            (Retry::Later, Some("LimitExceeded.PhoneNumberDailyLimit"))
        );

        let api =
            Peer::start(|_: &Seen| error("RequestLimitExceeded", "请求的次数超过了频率限制")).await;
        let e = sms(&api, SECRET_KEY, 5)
            .send(&message(), now())
            .await
            .expect_err("limited");
        assert_eq!(e.retry(), Retry::Later);

        let template = Peer::start(|_: &Seen| {
            error(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "模板未审批或内容不匹配",
            )
        })
        .await;
        let e = sms(&template, SECRET_KEY, 5)
            .send(&message(), now())
            .await
            .expect_err("rejected");
        assert_eq!(e.retry(), Retry::Never);
        assert!(e.message().contains("模板未审批"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn server_errors_and_hangs_are_retryable() {
    bounded(async {
        let broken = Peer::start(|_: &Seen| Reply::Json(500, json!({}))).await;
        let e = sms(&broken, SECRET_KEY, 5)
            .send(&message(), now())
            .await
            .expect_err("500");
        assert_eq!(e.retry(), Retry::Later);

        let hanging = Peer::start(|_: &Seen| Reply::Hang).await;
        let e = sms(&hanging, SECRET_KEY, 1)
            .send(&message(), now())
            .await
            .expect_err("timeout");
        assert_eq!(e.retry(), Retry::Later);
        assert!(!e.message().contains(SECRET_KEY), "{e}");
    })
    .await;
}
