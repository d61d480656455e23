//! WeChat template messages against a local peer that hands out access
//! tokens for a known AppID/AppSecret and accepts a message only with a
//! token it issued and has not invalidated, as api.weixin.qq.com does.

use std::sync::{Arc, Mutex};

use kesu_notify::{Retry, Secret, WeChatMp, WeChatMpConfig};
use serde_json::json;

use crate::peer::{Peer, Reply, Seen, bounded};

const APP_ID: &str = "wx1234567890abcdef";
const APP_SECRET: &str = "0123456789abcdef0123456789abcdef";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// What the peer knows: tokens issued so far (`token-1`, `token-2`, …),
/// the first still accepted, and the errcode to answer sends with.
#[derive(Default)]
struct Account {
    issued: u32,
    valid_from: u32,
    expires_in: u64,
    send_errcode: i64,
    send_status: u16,
}

fn mp(peer: &Peer, secret: &str) -> WeChatMp {
    WeChatMp::new(&WeChatMpConfig {
        app_id: APP_ID.to_owned(),
        app_secret: Secret::new(secret),
        base_url: Some(peer.base_url.clone()),
        timeout_secs: 5,
    })
    .expect("a valid configuration")
}

fn weixin(account: Arc<Mutex<Account>>) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        let mut a = account.lock().expect("not poisoned");
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/cgi-bin/token") => {
                if seen.param("grant_type") != Some("client_credential")
                    || seen.param("appid") != Some(APP_ID)
                {
                    return Reply::Json(
                        200,
                        json!({"errcode": 40013, "errmsg": "invalid appid rid: 6789-abc"}),
                    );
                }
                if seen.param("secret") != Some(APP_SECRET) {
                    return Reply::Json(
                        200,
                        json!({"errcode": 40125, "errmsg": "invalid appsecret rid: 6789-abc"}),
                    );
                }
                a.issued += 1;
                Reply::Json(
                    200,
                    json!({"access_token": format!("token-{}", a.issued), "expires_in": a.expires_in}),
                )
            }
            ("POST", "/cgi-bin/message/template/send") => {
                let good = seen
                    .param("access_token")
                    .and_then(|t| t.strip_prefix("token-"))
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n >= a.valid_from && n <= a.issued);
                if !good {
                    return Reply::Json(
                        200,
                        json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}),
                    );
                }
                if a.send_status != 200 {
                    return Reply::Json(a.send_status, json!({}));
                }
                let body = seen.json();
                if body["touser"].as_str().is_none() || body["template_id"].as_str().is_none() {
                    return Reply::Json(
                        200,
                        json!({"errcode": 47001, "errmsg": "data format error"}),
                    );
                }
                if a.send_errcode != 0 {
                    return Reply::Json(
                        200,
                        json!({"errcode": a.send_errcode, "errmsg": "refused"}),
                    );
                }
                Reply::Json(
                    200,
                    json!({"errcode": 0, "errmsg": "ok", "msgid": 200_228_332}),
                )
            }
            _ => Reply::Json(404, json!({})),
        }
    }
}

fn account() -> Arc<Mutex<Account>> {
    Arc::new(Mutex::new(Account {
        expires_in: 7200,
        send_status: 200,
        ..Account::default()
    }))
}

fn count(peer: &Peer, path: &str) -> usize {
    peer.seen().iter().filter(|s| s.path == path).count()
}

#[tokio::test]
async fn fetches_a_token_once_and_posts_the_documented_message() {
    bounded(async {
        let peer = Peer::start(weixin(account())).await;
        let mp = mp(&peer, APP_SECRET);
        let data = [("number", "KS-20250101-0001"), ("state", "处理中")];
        let delivered = mp
            .send_template(
                OPENID,
                "tmpl-1",
                Some("https://kesu.example.com/portal/track"),
                &data,
            )
            .await
            .expect("delivered");
        assert_eq!(delivered.receipt.as_deref(), Some("200228332"));
        mp.send_template(OPENID, "tmpl-1", None, &data)
            .await
            .expect("delivered again");
        assert_eq!(count(&peer, "/cgi-bin/token"), 1, "the token is cached");
        let sends: Vec<Seen> = peer
            .seen()
            .into_iter()
            .filter(|s| s.path == "/cgi-bin/message/template/send")
            .collect();
        assert_eq!(sends.len(), 2);
        assert_eq!(sends[0].param("access_token"), Some("token-1"));
        assert_eq!(
            sends[0].json(),
            json!({
                "touser": OPENID,
                "template_id": "tmpl-1",
                "url": "https://kesu.example.com/portal/track",
                "data": {"number": {"value": "KS-20250101-0001"}, "state": {"value": "处理中"}},
            })
        );
        assert!(
            sends[1].json().get("url").is_none(),
            "no url when none given"
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_refused_as_stale_is_fetched_again_once() {
    bounded(async {
        let account = account();
        let peer = Peer::start(weixin(Arc::clone(&account))).await;
        let mp = mp(&peer, APP_SECRET);
        mp.send_template(OPENID, "t", None, &[("a", "b")])
            .await
            .expect("delivered");
        // Another node fetched a newer token: ours is no longer the latest.
        account.lock().expect("not poisoned").valid_from = 2;
        mp.send_template(OPENID, "t", None, &[("a", "b")])
            .await
            .expect("delivered with a fresh token");
        assert_eq!(count(&peer, "/cgi-bin/token"), 2);
        let last = peer.seen().pop().expect("a request");
        assert_eq!(last.param("access_token"), Some("token-2"));

        // A token WeChat keeps refusing: one refresh, then a retry later.
        account.lock().expect("not poisoned").valid_from = 1000;
        let e = mp
            .send_template(OPENID, "t", None, &[("a", "b")])
            .await
            .expect_err("refused");
        assert_eq!(e.retry(), Retry::Later);
        assert_eq!(count(&peer, "/cgi-bin/token"), 3, "one refresh only");
        assert!(!e.message().contains("token-"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_not_reused() {
    bounded(async {
        let account = account();
        account.lock().expect("not poisoned").expires_in = 0;
        let peer = Peer::start(weixin(account)).await;
        let mp = mp(&peer, APP_SECRET);
        for _ in 0..2 {
            mp.send_template(OPENID, "t", None, &[])
                .await
                .expect("delivered");
        }
        assert_eq!(count(&peer, "/cgi-bin/token"), 2);
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_is_permanent_and_never_quoted() {
    bounded(async {
        let peer = Peer::start(weixin(account())).await;
        let wrong = "ffffffffffffffffffffffffffffffff";
        let e = mp(&peer, wrong)
            .send_template(OPENID, "t", None, &[])
            .await
            .expect_err("refused");
        assert_eq!((e.retry(), e.vendor_code()), (Retry::Never, Some("40125")));
        for private in [wrong, OPENID, "rid:"] {
            assert!(!e.message().contains(private), "{e}");
        }
        assert_eq!(count(&peer, "/cgi-bin/message/template/send"), 0);
    })
    .await;
}

#[tokio::test]
async fn refusals_are_permanent_or_retryable_as_wechat_means_them() {
    bounded(async {
        for (errcode, status, retry) in [
            (40003, 200, Retry::Never),
            (43004, 200, Retry::Never),
            (40037, 200, Retry::Never),
            (-1, 200, Retry::Later),
            (45009, 200, Retry::Later),
            (0, 502, Retry::Later),
        ] {
            let account = account();
            {
                let mut a = account.lock().expect("not poisoned");
                a.send_errcode = errcode;
                a.send_status = status;
            }
            let peer = Peer::start(weixin(account)).await;
            let e = mp(&peer, APP_SECRET)
                .send_template(OPENID, "t", None, &[("a", "b")])
                .await
                .expect_err("refused");
            assert_eq!(e.retry(), retry, "errcode {errcode}, HTTP {status}: {e}");
            if status == 200 {
                assert_eq!(e.vendor_code(), Some(errcode.to_string().as_str()));
            }
            assert!(!e.message().contains(OPENID) && !e.message().contains(APP_SECRET));
        }
    })
    .await;
}

#[tokio::test]
async fn nothing_listens_is_retryable() {
    bounded(async {
        let mp = WeChatMp::new(&WeChatMpConfig {
            app_id: APP_ID.to_owned(),
            app_secret: Secret::new(APP_SECRET),
            base_url: Some("http://127.0.0.1:9".to_owned()),
            timeout_secs: 2,
        })
        .expect("valid");
        let e = mp
            .send_template(OPENID, "t", None, &[])
            .await
            .expect_err("no peer");
        assert_eq!(e.retry(), Retry::Later);
        assert!(!e.message().contains(APP_SECRET), "{e}");
    })
    .await;
}

#[test]
fn the_configuration_names_each_bad_field() {
    let config = WeChatMpConfig {
        app_id: "gh_123".to_owned(),
        app_secret: Secret::new("short"),
        base_url: Some("ftp://x".to_owned()),
        timeout_secs: 0,
    };
    let e = config.validate().expect_err("invalid");
    let fields: Vec<&str> = e.problems.iter().map(|p| p.field).collect();
    assert_eq!(fields, ["app_id", "app_secret", "base_url", "timeout_secs"]);
    assert!(!e.to_string().contains("short"), "{e}");
    let good: WeChatMpConfig =
        serde_json::from_value(json!({"app_id": APP_ID, "app_secret": APP_SECRET}))
            .expect("defaults");
    assert!(good.validate().is_ok());
    assert_eq!(good.timeout_secs, kesu_notify::DEFAULT_TIMEOUT_SECS);
}
