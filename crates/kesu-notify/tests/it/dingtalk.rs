//! The DingTalk robot against a local peer that checks the 加签 signature
//! with Python's hmac, as DingTalk's documentation computes it.

use kesu_notify::{DingTalkConfig, DingTalkRobot, Retry, RobotMessage, Secret, percent_encode};
use serde_json::json;

use crate::peer::{Peer, Reply, Seen, bounded};
use crate::pyref;

const TOKEN: &str = "1d6e6c2a9b3f4e5d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d";
const SECRET: &str = "SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc";
const NOW_MS: i64 = 1_735_700_000_123;

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(NOW_MS).expect("a valid time")
}

fn robot(peer: &Peer, secret: &str, timeout_secs: u64) -> DingTalkRobot {
    DingTalkRobot::new(&DingTalkConfig {
        access_token: Secret::new(TOKEN),
        secret: Secret::new(secret),
        base_url: Some(peer.base_url.clone()),
        timeout_secs,
    })
    .expect("a valid configuration")
}

/// What DingTalk answers: the token must be known, the timestamp within an
/// hour of the peer's clock (here: the test's fixed time), the sign right.
fn dingtalk(seen: &Seen) -> Reply {
    if seen.method != "POST" || seen.path != "/robot/send" {
        return Reply::Json(404, json!({}));
    }
    if seen.param("access_token") != Some(TOKEN) {
        return Reply::Json(
            200,
            json!({"errcode": 300001, "errmsg": "token is not exist"}),
        );
    }
    let Some(timestamp) = seen.param("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return Reply::Json(
            200,
            json!({"errcode": 310000, "errmsg": "timestamp missing"}),
        );
    };
    if (timestamp - NOW_MS).abs() > 3_600_000 {
        return Reply::Json(
            200,
            json!({"errcode": 310000, "errmsg": "invalid timestamp"}),
        );
    }
    let (expected, _) = pyref::dingtalk_sign(SECRET, timestamp);
    if seen.param("sign") != Some(expected.as_str()) {
        return Reply::Json(200, json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    Reply::Json(200, json!({"errcode": 0, "errmsg": "ok"}))
}

#[tokio::test]
async fn posts_signed_text_with_mentions() {
    bounded(async {
        let peer = Peer::start(dingtalk).await;
        let message = RobotMessage::Text {
            content: "投诉 TS-0002 待审批".to_owned(),
            mention_mobiles: vec!["13900139000".to_owned(), "@all".to_owned()],
        };
        robot(&peer, SECRET, 5)
            .send(&message, now())
            .await
            .expect("delivered");
        let seen = peer.one();
        assert_eq!(seen.param("timestamp"), Some(NOW_MS.to_string().as_str()));
        assert_eq!(
            seen.json(),
            json!({
                "msgtype": "text",
                "text": {"content": "投诉 TS-0002 待审批"},
                "at": {"atMobiles": ["13900139000"], "isAtAll": true},
            })
        );
    })
    .await;
}

#[tokio::test]
async fn posts_signed_markdown_with_its_title() {
    bounded(async {
        let peer = Peer::start(dingtalk).await;
        let message = RobotMessage::markdown("重大投诉", "#### 重大投诉\n- 门店：二店");
        robot(&peer, SECRET, 5).send(&message, now()).await.expect("delivered");
        assert_eq!(
            peer.one().json(),
            json!({"msgtype": "markdown", "markdown": {"title": "重大投诉", "text": "#### 重大投诉\n- 门店：二店"}})
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_is_permanent_and_never_quoted() {
    bounded(async {
        let peer = Peer::start(dingtalk).await;
        let wrong = "SECwrongwrongwrongwrong";
        let e = robot(&peer, wrong, 5)
            .send(&RobotMessage::text("hi"), now())
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Never);
        assert_eq!(e.vendor_code(), Some("310000"));
        assert!(
            !e.message().contains(wrong) && !e.message().contains(TOKEN),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn too_fast_server_errors_and_hangs_are_retryable() {
    bounded(async {
        let limited = Peer::start(|_: &Seen| {
            Reply::Json(
                200,
                json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            )
        })
        .await;
        let e = robot(&limited, SECRET, 5)
            .send(&RobotMessage::text("hi"), now())
            .await
            .expect_err("limited");
        assert_eq!((e.retry(), e.vendor_code()), (Retry::Later, Some("130101")));

        let broken = Peer::start(|_: &Seen| Reply::Json(503, json!({}))).await;
        let e = robot(&broken, SECRET, 5)
            .send(&RobotMessage::text("hi"), now())
            .await
            .expect_err("503");
        assert_eq!(e.retry(), Retry::Later);

        let hanging = Peer::start(|_: &Seen| Reply::Hang).await;
        let e = robot(&hanging, SECRET, 1)
            .send(&RobotMessage::text("hi"), now())
            .await
            .expect_err("timeout");
        assert_eq!(e.retry(), Retry::Later);
        assert!(
            !e.message().contains(TOKEN) && !e.message().contains(SECRET),
            "{e}"
        );
    })
    .await;
}

#[test]
fn sign_matches_the_documented_python_computation() {
    // DingTalk publishes the algorithm with a Python sample, not a fixed
    // vector: check against that sample's code path for a few timestamps.
    for (secret, ts) in [
        (SECRET, NOW_MS),
        ("this is secret", 1_577_836_800_000),
        ("SEC秘密", 1),
    ] {
        let (raw, quoted) = pyref::dingtalk_sign(secret, ts);
        let ours = kesu_notify::dingtalk::sign(secret, ts);
        assert_eq!(ours, raw);
        assert_eq!(
            percent_encode(&ours),
            quoted,
            "the query encoding of the sign"
        );
    }
}
