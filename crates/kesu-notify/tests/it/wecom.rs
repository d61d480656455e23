//! The WeCom robot against a local peer that checks requests as WeCom does.

use kesu_notify::{Retry, RobotMessage, Secret, WeComConfig, WeComRobot};
use serde_json::json;

use crate::peer::{Peer, Reply, Seen, bounded};

const KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";

fn robot(peer: &Peer, timeout_secs: u64) -> WeComRobot {
    WeComRobot::new(&WeComConfig {
        key: Secret::new(KEY),
        base_url: Some(peer.base_url.clone()),
        timeout_secs,
    })
    .expect("a valid configuration")
}

/// What WeCom answers a well-formed request with a known key.
fn wecom(seen: &Seen) -> Reply {
    if seen.method != "POST" || seen.path != "/cgi-bin/webhook/send" {
        return Reply::Json(404, json!({}));
    }
    if seen.param("key") != Some(KEY) {
        return Reply::Json(
            200,
            json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
        );
    }
    if !seen
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Reply::Json(
            200,
            json!({"errcode": 40035, "errmsg": "invalid parameter"}),
        );
    }
    Reply::Json(200, json!({"errcode": 0, "errmsg": "ok"}))
}

#[tokio::test]
async fn posts_text_with_mentions_to_the_webhook() {
    bounded(async {
        let peer = Peer::start(wecom).await;
        let message = RobotMessage::Text {
            content: "投诉 TS-0001 即将超时".to_owned(),
            mention_mobiles: vec!["13800138000".to_owned(), "@all".to_owned()],
        };
        robot(&peer, 5).send(&message).await.expect("delivered");
        assert_eq!(
            peer.one().json(),
            json!({
                "msgtype": "text",
                "text": {
                    "content": "投诉 TS-0001 即将超时",
                    "mentioned_mobile_list": ["13800138000", "@all"],
                },
            })
        );
    })
    .await;
}

#[tokio::test]
async fn posts_markdown_without_a_title() {
    bounded(async {
        let peer = Peer::start(wecom).await;
        let message = RobotMessage::markdown("新投诉", "### 新投诉\n> 门店：一店");
        robot(&peer, 5).send(&message).await.expect("delivered");
        assert_eq!(
            peer.one().json(),
            json!({"msgtype": "markdown", "markdown": {"content": "### 新投诉\n> 门店：一店"}})
        );
    })
    .await;
}

#[tokio::test]
async fn rate_limit_is_retryable_and_a_bad_key_permanent() {
    bounded(async {
        let limited = Peer::start(|_: &Seen| {
            Reply::Json(
                200,
                json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
            )
        })
        .await;
        let e = robot(&limited, 5)
            .send(&RobotMessage::text("hi"))
            .await
            .expect_err("limited");
        assert_eq!(e.retry(), Retry::Later);
        assert_eq!(e.vendor_code(), Some("45009"));

        let peer = Peer::start(wecom).await;
        let wrong = WeComRobot::new(&WeComConfig {
            key: Secret::new("not-the-key"),
            base_url: Some(peer.base_url.clone()),
            timeout_secs: 5,
        })
        .expect("valid");
        let e = wrong
            .send(&RobotMessage::text("hi"))
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Never);
        assert_eq!(e.vendor_code(), Some("93000"));
        assert!(e.message().contains("invalid webhook url"), "{e}");
        assert!(!e.message().contains("not-the-key"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn server_errors_and_hangs_are_retryable_without_the_key_in_the_message() {
    bounded(async {
        let broken = Peer::start(|_: &Seen| Reply::Json(502, json!({}))).await;
        let e = robot(&broken, 5)
            .send(&RobotMessage::text("hi"))
            .await
            .expect_err("502");
        assert_eq!(e.retry(), Retry::Later);
        assert!(e.message().contains("502"), "{e}");

        let hanging = Peer::start(|_: &Seen| Reply::Hang).await;
        let started = std::time::Instant::now();
        let e = robot(&hanging, 1)
            .send(&RobotMessage::text("hi"))
            .await
            .expect_err("timeout");
        assert_eq!(e.retry(), Retry::Later);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!e.message().contains(KEY), "{e}");
    })
    .await;
}

#[test]
fn reads_the_key_from_the_webhook_url() {
    let config = WeComConfig::from_webhook(&format!(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    ));
    assert_eq!(config.key.expose(), KEY);
    assert_eq!(WeComConfig::from_webhook(KEY).key.expose(), KEY);
    assert!(config.validate().is_ok());
}
