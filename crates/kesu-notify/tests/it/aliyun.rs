//! Alibaba Cloud SMS against a local peer that checks the POP signature with
//! an independent implementation, as dysmsapi does.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use kesu_notify::{AliyunMessage, AliyunSms, AliyunSmsConfig, Retry, Secret};
use serde_json::json;

use crate::peer::{Peer, Reply, Seen, bounded};
use crate::pyref;

const KEY_ID: &str = "LTAI5tTestKeyId";
const KEY_SECRET: &str = "testAccessKeySecretValue";
const PHONE: &str = "13800138000";

fn now() -> jiff::Timestamp {
    "2025-01-01T03:04:05Z".parse().expect("a valid time")
}

fn sms(peer: &Peer, secret: &str, timeout_secs: u64) -> AliyunSms {
    AliyunSms::new(&AliyunSmsConfig {
        access_key_id: KEY_ID.to_owned(),
        access_key_secret: Secret::new(secret),
        sign_name: "某某汽车".to_owned(),
        region_id: "cn-hangzhou".to_owned(),
        base_url: Some(peer.base_url.clone()),
        timeout_secs,
    })
    .expect("a valid configuration")
}

fn message() -> AliyunMessage {
    AliyunMessage {
        phone_number: PHONE.to_owned(),
        template_code: "SMS_123456789".to_owned(),
        template_param: BTreeMap::from([
            ("number".to_owned(), "TS20250101-0001".to_owned()),
            ("store".to_owned(), "一店 & 二店".to_owned()),
        ]),
        out_id: Some("outbox-42".to_owned()),
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::Json(
        status,
        json!({"RequestId": "0E7A-TEST", "Code": code, "Message": message}),
    )
}

/// A dysmsapi stand-in: required parameters, a known key, a fresh nonce and
/// a signature recomputed independently.
fn dysmsapi() -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    let nonces = Mutex::new(HashSet::new());
    move |seen: &Seen| {
        if seen.method != "GET" || seen.path != "/" {
            return error(404, "InvalidAction.NotFound", "Specified api is not found");
        }
        let fixed = [
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("Version", "2017-05-25"),
        ];
        for (name, value) in fixed {
            if seen.param(name) != Some(value) {
                return error(
                    400,
                    "MissingParameter",
                    &format!("{name} is mandatory for this action."),
                );
            }
        }
        for name in [
            "PhoneNumbers",
            "SignName",
            "TemplateCode",
            "SignatureNonce",
            "Timestamp",
            "Signature",
        ] {
            if seen.param(name).is_none_or(str::is_empty) {
                return error(
                    400,
                    "MissingParameter",
                    &format!("{name} is mandatory for this action."),
                );
            }
        }
        if seen.param("AccessKeyId") != Some(KEY_ID) {
            return error(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            );
        }
        let expected = pyref::aliyun_signature(&seen.query, KEY_SECRET);
        if seen.param("Signature") != Some(expected.as_str()) {
            let phones = seen.param("PhoneNumbers").unwrap_or_default();
            return error(
                400,
                "SignatureDoesNotMatch",
                &format!(
                    "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&AccessKeyId%3D{KEY_ID}%26PhoneNumbers%3D{phones}"
                ),
            );
        }
        let nonce = seen.param("SignatureNonce").unwrap_or_default().to_owned();
        if !nonces.lock().expect("not poisoned").insert(nonce) {
            return error(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            );
        }
        Reply::Json(
            200,
            json!({"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "BizId": "900619746936498440^0", "Code": "OK"}),
        )
    }
}

#[tokio::test]
async fn sends_a_signed_request_and_keeps_the_biz_id() {
    bounded(async {
        let peer = Peer::start(dysmsapi()).await;
        let sms = sms(&peer, KEY_SECRET, 5);
        let delivered = sms.send(&message(), now()).await.expect("delivered");
        assert_eq!(delivered.receipt.as_deref(), Some("900619746936498440^0"));
        assert_eq!(
            delivered.request_id.as_deref(),
            Some("F655A8D5-B967-440B-8683-DAD6FF8DE990")
        );
        let seen = peer.one();
        assert_eq!(seen.param("PhoneNumbers"), Some(PHONE));
        assert_eq!(seen.param("SignName"), Some("某某汽车"));
        assert_eq!(seen.param("TemplateCode"), Some("SMS_123456789"));
        assert_eq!(seen.param("OutId"), Some("outbox-42"));
        assert_eq!(seen.param("Timestamp"), Some("2025-01-01T03:04:05Z"));
        let param: serde_json::Value =
            serde_json::from_str(seen.param("TemplateParam").expect("TemplateParam"))
                .expect("JSON");
        assert_eq!(
            param,
            json!({"number": "TS20250101-0001", "store": "一店 & 二店"})
        );

        // A second send draws a fresh nonce (the peer refuses a reused one).
        sms.send(&message(), now()).await.expect("delivered again");
        let nonces: HashSet<String> = peer
            .seen()
            .iter()
            .map(|s| s.param("SignatureNonce").unwrap_or_default().to_owned())
            .collect();
        assert_eq!(nonces.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_is_permanent_and_quotes_neither_secret_nor_phone() {
    bounded(async {
        let peer = Peer::start(dysmsapi()).await;
        let e = sms(&peer, "notTheSecret", 5)
            .send(&message(), now())
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Never);
        assert_eq!(e.vendor_code(), Some("SignatureDoesNotMatch"));
        for private in ["notTheSecret", PHONE, "string to sign"] {
            assert!(!e.message().contains(private), "{e}");
        }
    })
    .await;
}

#[tokio::test]
async fn throttling_is_retryable_and_an_invalid_number_permanent() {
    bounded(async {
        let limited = Peer::start(|_: &Seen| {
            error(200, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
        })
        .await;
        let e = sms(&limited, KEY_SECRET, 5)
            .send(&message(), now())
            .await
            .expect_err("limited");
        assert_eq!(
            (e.retry(), e.vendor_code()),
            (Retry::Later, Some("isv.BUSINESS_LIMIT_CONTROL"))
        );
        assert!(e.message().contains("触发小时级流控"), "{e}");

        let invalid =
            Peer::start(|_: &Seen| error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")).await;
        let e = sms(&invalid, KEY_SECRET, 5)
            .send(&message(), now())
            .await
            .expect_err("invalid");
        assert_eq!(e.retry(), Retry::Never);
    })
    .await;
}

#[tokio::test]
async fn server_errors_and_hangs_are_retryable() {
    bounded(async {
        let broken = Peer::start(|_: &Seen| error(503, "ServiceUnavailable", "busy")).await;
        let e = sms(&broken, KEY_SECRET, 5)
            .send(&message(), now())
            .await
            .expect_err("503");
        assert_eq!(e.retry(), Retry::Later);

        let hanging = Peer::start(|_: &Seen| Reply::Hang).await;
        let e = sms(&hanging, KEY_SECRET, 1)
            .send(&message(), now())
            .await
            .expect_err("timeout");
        assert_eq!(e.retry(), Retry::Later);
        assert!(
            !e.message().contains(KEY_SECRET) && !e.message().contains(PHONE),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_phone_number_that_is_not_digits_is_refused_before_sending() {
    bounded(async {
        let peer = Peer::start(dysmsapi()).await;
        let mut bad = message();
        bad.phone_number = "138-0013".to_owned();
        let e = sms(&peer, KEY_SECRET, 5)
            .send(&bad, now())
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Never);
        assert!(peer.seen().is_empty());
    })
    .await;
}
