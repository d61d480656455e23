//! The WeChat Official Account endpoint driven as WeChat drives it: every
//! request signed by a signer written here from WeChat's documentation
//! (sha1 of the sorted token, timestamp and nonce), messages as WeChat's
//! XML, answers read as the passive reply XML; and the admin's settings page.

use std::sync::atomic::{AtomicU64, Ordering};

use kesu_storage::wechat::WECHAT_KEY;
use reqwest::StatusCode;
use serde_json::json;
use sha1::Digest;

use crate::helpers::{TestApp, location, raw_keys};

const TOKEN: &str = "kesuToken2025";
const ACCOUNT: &str = "gh_0123456789ab";
const APP_ID: &str = "wx1234567890abcdef";
const APP_SECRET: &str = "0123456789abcdef0123456789abcdef";

/// WeChat's signature as its documentation gives it: the three strings
/// sorted, joined, SHA-1, lower-case hex.
fn wechat_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    let mut parts = [token, timestamp, nonce];
    parts.sort();
    hex::encode(sha1::Sha1::digest(parts.concat().as_bytes()))
}

static NONCE: AtomicU64 = AtomicU64::new(1_000);

/// `/wechat?signature=…&timestamp=…&nonce=…` signed with `token` at
/// `timestamp`, plus `extra` query pairs.
fn signed_path(token: &str, timestamp: i64, extra: &str) -> String {
    let ts = timestamp.to_string();
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed).to_string();
    format!(
        "/wechat?signature={}&timestamp={ts}&nonce={nonce}{extra}",
        wechat_signature(token, &ts, &nonce)
    )
}

async fn configure(app: &TestApp, enabled: bool) {
    let settings = json!({
        "enabled": enabled,
        "token": TOKEN,
        "public_url": "https://kesu.example.com",
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
    });
    app.db
        .set_setting(WECHAT_KEY, &settings.to_string())
        .await
        .expect("save settings");
}

fn text_xml(openid: &str, msg_id: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>1735700000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

fn other_xml(openid: &str, msg_type: &str, inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>1735700001</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{inner}</xml>"
    )
}

/// Posts a body to the endpoint, signed now; status and body.
async fn post_signed(app: &TestApp, body: String) -> (StatusCode, String) {
    post_to(app, signed_path(TOKEN, app.now().as_second(), ""), body).await
}

async fn post_to(app: &TestApp, path: String, body: String) -> (StatusCode, String) {
    let r = app
        .http
        .post(app.at(&path))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = r.status();
    (status, r.text().await.expect("body"))
}

/// The passive reply: (ToUserName, FromUserName, MsgType, Content).
fn reply(xml: &str) -> (String, String, String, String) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let field = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .map(|n| n.children().filter_map(|c| c.text()).collect::<String>())
            .unwrap_or_default()
    };
    (
        field("ToUserName"),
        field("FromUserName"),
        field("MsgType"),
        field("Content"),
    )
}

/// The complaint number in an answer.
fn number_in(text: &str) -> String {
    let at = text
        .find("KS-")
        .unwrap_or_else(|| panic!("no number in {text}"));
    text[at..at + 16].to_owned()
}

/// The tracking code in an answer (after 查询码：).
fn code_in(text: &str) -> String {
    let at = text
        .find("查询码：")
        .unwrap_or_else(|| panic!("no code in {text}"))
        + "查询码：".len();
    text[at..].chars().take(9).collect()
}

async fn nothing_stored(app: &TestApp) {
    assert_eq!(app.complaint_count().await, 0, "no complaint");
    assert!(
        app.db.last_wechat_message().await.expect("query").is_none(),
        "no message recorded"
    );
}

kesu_storage::both_backends!(
    async fn url_verification_answers_the_echostr_only_when_signed(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let get = |path: String| {
            let app = &app;
            async move {
                let r = app.http.get(app.at(&path)).send().await.expect("get");
                let s = r.status();
                (s, r.text().await.expect("body"))
            }
        };
        let now = app.now().as_second();
        let verify = |token: &str, at: i64| signed_path(token, at, "&echostr=8207464926150236839");
        assert_eq!(
            get(verify(TOKEN, now)).await,
            (StatusCode::NOT_FOUND, String::new()),
            "not set up"
        );
        configure(&app, true).await;
        assert_eq!(
            get(verify(TOKEN, now)).await,
            (StatusCode::OK, "8207464926150236839".to_owned())
        );
        for (path, why) in [
            (verify("forged", now), "another token"),
            (verify(TOKEN, now - 400), "stale timestamp"),
            (verify(TOKEN, now + 400), "timestamp ahead"),
            ("/wechat?echostr=1".to_owned(), "no signature"),
            (
                format!(
                    "/wechat?signature={}&timestamp={now}&nonce=1&echostr=1",
                    "0".repeat(40)
                ),
                "wrong signature",
            ),
        ] {
            assert_eq!(
                get(path).await,
                (StatusCode::FORBIDDEN, String::new()),
                "{why}"
            );
        }
        configure(&app, false).await;
        assert_eq!(
            get(verify(TOKEN, now)).await.0,
            StatusCode::NOT_FOUND,
            "off"
        );
        // The follower's openid is the endpoint's alone: no API field sets it.
        let (_, doc, _) = app.anonymous().get("/api/openapi.json").await;
        assert!(!doc.to_string().contains("wechat_openid"));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_text_message_becomes_a_complaint_and_the_next_one_is_added(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        configure(&app, true).await;
        let openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
        let (s, xml) = post_signed(
            &app,
            text_xml(
                openid,
                6_100_000_001,
                "新买的冰箱不制冷，门店不给退货，再不处理我就打12315",
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{xml}");
        let (to, from, msg_type, content) = reply(&xml);
        assert_eq!(
            (to.as_str(), from.as_str(), msg_type.as_str()),
            (openid, ACCOUNT, "text")
        );
        let number = number_in(&content);
        let code = code_in(&content);
        assert!(
            content.contains("客服将在") && content.contains("https://kesu.example.com/portal"),
            "{content}"
        );
        assert!(
            app.db
                .tracking_code_matches(&number, &code.replace('-', ""))
                .await
                .expect("query"),
            "the code in the answer tracks the complaint on the portal: {code}"
        );
        let c = app.complaint("agent1", &number).await;
        assert_eq!(c["channel"], "wechat");
        assert_eq!(c["state"], "received");
        assert_eq!(c["customer"]["name"], "微信用户eS6o");
        assert!(
            c["customer"]["phone"].is_null() && c["customer"]["email"].is_null(),
            "{c}"
        );
        let history = app.history(&number).await;
        assert!(
            history
                .iter()
                .any(|e| e["kind"] == "classification_proposed"),
            "the engine read it: {history:?}"
        );

        // The follower writes again: added to the open complaint.
        let (s, xml) =
            post_signed(&app, text_xml(openid, 6_100_000_002, "发票照片我稍后补上")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(reply(&xml).3, format!("已补充到投诉 {number}。"));
        assert_eq!(app.complaint_count().await, 1);
        let history = app.history(&number).await;
        let wrote: Vec<_> = history
            .iter()
            .filter(|e| e["kind"] == "customer_wrote")
            .collect();
        assert_eq!(wrote.len(), 1, "{history:?}");
        assert!(wrote[0].to_string().contains("发票照片我稍后补上"));
        assert!(wrote[0].to_string().contains("wechat"), "{}", wrote[0]);
        // Searchable like a mail reply.
        let (_, found, _) = app
            .client("agent1")
            .get(&format!("/api/v1/complaints?q={}", "发票照片"))
            .await;
        assert_eq!(found["items"][0]["number"], number.as_str(), "{found}");

        // Another follower: another complaint.
        let (_, xml) = post_signed(
            &app,
            text_xml("oOther_follower_0000000001", 6_100_000_003, "服务态度差"),
        )
        .await;
        assert_ne!(number_in(&reply(&xml).3), number);
        assert_eq!(app.complaint_count().await, 2);

        // Once closed, the follower's next message opens a new complaint.
        app.act("agent1", &number, "withdraw", json!({"reason": "客户撤回"}))
            .await;
        let (_, xml) = post_signed(&app, text_xml(openid, 6_100_000_004, "冰箱又坏了")).await;
        let second = number_in(&reply(&xml).3);
        assert_ne!(second, number);
        assert!(reply(&xml).3.contains("查询码"));
        // The same follower's earlier complaint is a possible duplicate (R-IN-3).
        let c = app.complaint("agent1", &second).await;
        let dups = c["possible_duplicates"].as_array().expect("a list");
        assert!(
            dups.iter()
                .any(|d| d["number"] == number.as_str() && d["reason"] == "same_customer"),
            "{c}"
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_same_message_delivered_again_and_at_once_files_once(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        configure(&app, true).await;
        let openid = "oRetry_follower_00000000001";
        let body = text_xml(openid, 7_000_000_001, "车辆保养后发动机异响");
        let answers = futures_join(&app, (0..6).map(|_| body.clone()).collect()).await;
        let first = reply(&answers[0].1).3;
        for (s, xml) in &answers {
            assert_eq!(*s, StatusCode::OK, "{xml}");
            assert_eq!(reply(xml).3, first, "every delivery gets the same answer");
        }
        let (_, again) = post_signed(&app, body.clone()).await;
        assert_eq!(reply(&again).3, first);
        assert_eq!(app.complaint_count().await, 1);
        // The tracking code is kept apart from the stored answer, and only
        // while WeChat may retry: otherwise it exists only as a hash.
        let code = code_in(&first);
        let row = app
            .db
            .wechat_message("7000000001")
            .await
            .expect("q")
            .expect("row");
        assert!(!row.reply.contains(&code) && row.pending_code.as_deref() == Some(code.as_str()));
        app.clock.advance(jiff::SignedDuration::from_mins(3));
        post_signed(
            &app,
            text_xml("oLater_follower_00000000001", 7_000_000_009, "投诉"),
        )
        .await;
        let row = app
            .db
            .wechat_message("7000000001")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(row.pending_code, None);
        let (_, late) = post_signed(&app, body).await;
        let late = reply(&late).3;
        assert!(!late.contains(&code) && late.contains("首次回复"), "{late}");
        assert_eq!(number_in(&late), number_in(&first));
        assert_eq!(app.complaint_count().await, 2);

        // Several different messages of a new follower at once: one
        // complaint, the others added to it.
        let other = "oBurst_follower_0000000001";
        let bodies = (0..4)
            .map(|i| text_xml(other, 7_100_000_000 + i, &format!("第{i}条：门店拒绝保修")))
            .collect();
        let answers = futures_join(&app, bodies).await;
        assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK));
        let numbers: std::collections::HashSet<String> = answers
            .iter()
            .map(|(_, x)| number_in(&reply(x).3))
            .collect();
        assert_eq!(numbers.len(), 1, "{answers:?}");
        assert_eq!(app.complaint_count().await, 3);
        let number = numbers.into_iter().next().expect("one");
        let wrote = app
            .history(&number)
            .await
            .iter()
            .filter(|e| e["kind"] == "customer_wrote")
            .count();
        assert_eq!(wrote, 3);
        app.stop().await;
    }
);

/// Posts the bodies at the same moment, signed now.
async fn futures_join(app: &TestApp, bodies: Vec<String>) -> Vec<(StatusCode, String)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let http = app.http.clone();
            let url = app.at(&signed_path(TOKEN, app.now().as_second(), ""));
            tokio::spawn(async move {
                let r = http.post(url).body(body).send().await.expect("post");
                let s = r.status();
                (s, r.text().await.expect("body"))
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

kesu_storage::both_backends!(
    async fn forged_and_broken_messages_file_nothing(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        configure(&app, true).await;
        let openid = "oForged_follower_000000001";
        let body = || text_xml(openid, 8_000_000_001, "我要投诉");
        let now = app.now().as_second();
        for (path, why) in [
            (signed_path("forged", now, ""), "forged"),
            (signed_path(TOKEN, now - 301, ""), "stale"),
            ("/wechat".to_owned(), "unsigned"),
        ] {
            assert_eq!(
                post_to(&app, path, body()).await,
                (StatusCode::FORBIDDEN, String::new()),
                "{why}"
            );
        }
        for (bad, why) in [
            ("<xml><ToUserName>gh".to_owned(), "cut off"),
            ("not xml at all".to_owned(), "not XML"),
            (
                "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\">]><xml><Content>&a;</Content></xml>"
                    .to_owned(),
                "a DTD",
            ),
            (
                format!(
                    "<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"
                ),
                "text without Content",
            ),
            (text_xml("bad openid!", 1, "x"), "a bad openid"),
            (
                format!(
                    "<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>"
                ),
                "safe mode",
            ),
        ] {
            assert_eq!(
                post_signed(&app, bad).await.0,
                StatusCode::BAD_REQUEST,
                "{why}"
            );
        }
        // The query names another follower than the body.
        let path = signed_path(TOKEN, now, "&openid=oSomeone_else_00000000001");
        assert_eq!(post_to(&app, path, body()).await.0, StatusCode::BAD_REQUEST);
        let huge = text_xml(openid, 8_000_000_002, &"投诉".repeat(40_000));
        assert_eq!(
            post_signed(&app, huge).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        nothing_stored(&app).await;

        configure(&app, false).await;
        assert_eq!(
            post_signed(&app, body()).await,
            (StatusCode::NOT_FOUND, String::new())
        );
        nothing_stored(&app).await;
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn pictures_followers_and_floods_are_answered_without_filing(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        configure(&app, true).await;
        let openid = "oPicture_follower_00000001";
        let (s, xml) = post_signed(
            &app,
            other_xml(openid, "image", "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>9000000001</MsgId>"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (to, _, _, content) = reply(&xml);
        assert_eq!(to, openid);
        assert!(
            content.contains("只能接收文字") && content.contains("https://kesu.example.com/portal"),
            "{content}"
        );
        let (_, xml) = post_signed(
            &app,
            other_xml(
                openid,
                "voice",
                "<MediaId>m2</MediaId><Format>amr</Format><MsgId>9000000002</MsgId>",
            ),
        )
        .await;
        assert!(reply(&xml).3.contains("只能接收文字"));
        assert_eq!(
            app.complaint_count().await,
            0,
            "nothing filed for pictures or voice"
        );

        let (s, xml) = post_signed(
            &app,
            other_xml(openid, "event", "<Event><![CDATA[subscribe]]></Event>"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(reply(&xml).3.contains("感谢关注"), "{xml}");
        let (s, body) = post_signed(
            &app,
            other_xml(openid, "event", "<Event>unsubscribe</Event>"),
        )
        .await;
        assert_eq!((s, body.as_str()), (StatusCode::OK, "success"));
        assert_eq!(app.complaint_count().await, 0);

        // The flood limit: 20 messages an hour are taken (the two above
        // count too), the next are politely refused.
        let flooder = "oFlood_follower_0000000001";
        for i in 0..20 {
            let (s, _) = post_signed(
                &app,
                text_xml(flooder, 9_100_000_000 + i, &format!("第{i}次：退款")),
            )
            .await;
            assert_eq!(s, StatusCode::OK);
        }
        let (_, xml) = post_signed(&app, text_xml(flooder, 9_100_000_100, "还是没退款")).await;
        assert!(reply(&xml).3.contains("消息较多"), "{xml}");
        assert_eq!(app.complaint_count().await, 1);
        let number = app
            .db
            .last_wechat_message()
            .await
            .expect("q")
            .expect("a row");
        assert_eq!(number.outcome, "limited");
        // An hour later the follower is heard again.
        app.clock.advance(jiff::SignedDuration::from_mins(61));
        let (_, xml) = post_signed(&app, text_xml(flooder, 9_100_000_101, "还是没退款")).await;
        assert!(reply(&xml).3.starts_with("已补充到投诉"), "{xml}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_settings_page_keeps_secrets_and_names_bad_values(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let (cookie, csrf) = app.session("admin1").await;
        let cookie = format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let get = |lang: &'static str| {
            let (http, cookie, url) = (http.clone(), cookie.clone(), app.at("/admin/wechat"));
            async move {
                let r = http
                    .get(url)
                    .header("cookie", cookie)
                    .header("accept-language", lang)
                    .send()
                    .await
                    .expect("get");
                (r.status(), r.text().await.expect("page"))
            }
        };
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let (http, cookie, url, csrf) = (
                http.clone(),
                cookie.clone(),
                app.at("/admin/wechat"),
                csrf.clone(),
            );
            async move {
                let mut fields: Vec<(&str, String)> =
                    fields.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
                fields.push(("csrf", csrf));
                let r = http
                    .post(url)
                    .header("cookie", cookie)
                    .form(&fields)
                    .send()
                    .await
                    .expect("post");
                let (s, h) = (r.status(), r.headers().clone());
                (s, r.text().await.expect("page"), location(&h))
            }
        };
        let stored = || async {
            app.db
                .setting(WECHAT_KEY)
                .await
                .expect("setting")
                .map(|raw| serde_json::from_str::<serde_json::Value>(&raw).expect("JSON"))
        };
        let (s, html) = get("zh-CN").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"never-received\"") && html.contains("明文模式"));
        assert!(html.contains("/wechat\""), "the URL to paste is shown");

        let form = |token: &'static str, app_id: &'static str, secret: &'static str| {
            vec![
                ("enabled", "true"),
                ("token", token),
                ("app_id", app_id),
                ("app_secret", secret),
                ("public_url", "https://kesu.example.com/"),
            ]
        };
        for (fields, named) in [
            (form("ab", APP_ID, APP_SECRET), "令牌应为"),
            (form("has space", APP_ID, APP_SECRET), "令牌应为"),
            (form(TOKEN, "gh_123", APP_SECRET), "开发者ID应为"),
            (form(TOKEN, APP_ID, "short"), "开发者密码应为"),
            (form(TOKEN, APP_ID, ""), "开发者密码应为"),
        ] {
            let (s, html, _) = post(fields).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(html.contains(named), "{named}");
            assert!(
                !html.contains(APP_SECRET) && !html.contains(TOKEN),
                "no secret echoed"
            );
        }
        let mut bad_url = form(TOKEN, APP_ID, APP_SECRET);
        bad_url.retain(|(k, _)| *k != "public_url");
        bad_url.push(("public_url", "kesu.example.com"));
        let (s, html, _) = post(bad_url).await;
        assert!(s == StatusCode::UNPROCESSABLE_ENTITY && html.contains("公网地址"));
        assert!(stored().await.is_none(), "nothing saved");

        let (s, _, to) = post(form(TOKEN, APP_ID, APP_SECRET)).await;
        assert_eq!(
            (s, to.as_str()),
            (StatusCode::SEE_OTHER, "/admin/wechat?saved=1")
        );
        let saved = stored().await.expect("saved");
        assert_eq!(
            saved,
            json!({"enabled": true, "token": TOKEN, "public_url": "https://kesu.example.com",
                   "app_id": APP_ID, "app_secret": APP_SECRET, "timeout_secs": 10})
        );
        let (_, html) = get("zh-CN").await;
        assert!(html.contains("id=\"token-set\"") && html.contains("id=\"secret-set\""));
        assert!(
            !html.contains(APP_SECRET) && !html.contains(TOKEN),
            "secrets never shown"
        );
        assert!(html.contains("https://kesu.example.com/wechat"));

        // Switched off with both secrets left empty: they stay.
        let mut off = form("", APP_ID, "");
        off.retain(|(k, _)| *k != "enabled");
        let (s, _, _) = post(off).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let saved = stored().await.expect("saved");
        assert_eq!(
            (
                saved["enabled"].as_bool(),
                saved["token"].as_str(),
                saved["app_secret"].as_str()
            ),
            (Some(false), Some(TOKEN), Some(APP_SECRET))
        );

        // The last message received is shown.
        configure(&app, true).await;
        let (_, xml) = post_signed(&app, text_xml("oPage_follower_00000000001", 1, "投诉")).await;
        let number = number_in(&reply(&xml).3);
        for lang in ["zh-CN", "en"] {
            let (_, html) = get(lang).await;
            assert!(html.contains(&number), "{lang}");
            assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));
        }
        for who in ["agent1", "gm1", "sup1"] {
            let c = app.client(who);
            assert_eq!(
                c.get("/admin/wechat").await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }
        app.stop().await;
    }
);

/// WeChat's API as an official account's server meets it: a token for the
/// right appid and secret, and template messages sent with that token,
/// recorded.
struct MpPeer {
    url: String,
    sent: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

async fn mp_peer() -> MpPeer {
    use axum::extract::Query;
    use std::collections::HashMap;
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = sent.clone();
    let app = axum::Router::new()
        .route(
            "/cgi-bin/token",
            axum::routing::get(|q: Query<HashMap<String, String>>| async move {
                let ok = q.get("grant_type").map(String::as_str) == Some("client_credential")
                    && q.get("appid").map(String::as_str) == Some(APP_ID)
                    && q.get("secret").map(String::as_str) == Some(APP_SECRET);
                axum::Json(if ok {
                    json!({"access_token": "ACCESS-1", "expires_in": 7200})
                } else {
                    json!({"errcode": 40125, "errmsg": "invalid appsecret"})
                })
            }),
        )
        .route(
            "/cgi-bin/message/template/send",
            axum::routing::post(
                move |q: Query<HashMap<String, String>>, body: axum::Json<serde_json::Value>| {
                    let store = store.clone();
                    async move {
                        if q.get("access_token").map(String::as_str) != Some("ACCESS-1") {
                            return axum::Json(
                                json!({"errcode": 40001, "errmsg": "invalid credential"}),
                            );
                        }
                        store.lock().expect("lock").push(body.0);
                        axum::Json(json!({"errcode": 0, "errmsg": "ok", "msgid": 200_228_332}))
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    MpPeer { url, sent }
}

kesu_storage::both_backends!(
    async fn a_follower_hears_of_progress_by_a_template_message(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let peer = mp_peer().await;
        let settings = json!({
            "enabled": true,
            "token": TOKEN,
            "public_url": "https://kesu.example.com",
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "base_url": peer.url,
        });
        app.db
            .set_setting(WECHAT_KEY, &settings.to_string())
            .await
            .expect("save settings");
        let mut messages = kesu_web::customer_messages::CustomerMessages {
            portal_url: Some("https://kesu.example.com".into()),
            ..Default::default()
        };
        for o in kesu_web::customer_messages::Occasion::ALL {
            let mut text = o.default_text();
            text.wechat_template = format!("TPL-{}", o.as_str());
            text.wechat_fields = vec![
                ("keyword1".into(), "number".into()),
                ("keyword2".into(), "due".into()),
            ];
            messages.occasions.insert(o.as_str().to_owned(), text);
        }
        crate::customer_messages::save(&app.db, &messages).await;
        let state = crate::customer_messages::state_of(&app);
        let pass = async |state: &kesu_web::AppState| {
            kesu_web::customer_messages::queue_pass(state, app.now())
                .await
                .expect("pass")
        };
        assert!(pass(&state).await.started);

        let openid = "oFollower0000000000000000042";
        let (s, xml) = post_signed(
            &app,
            text_xml(openid, 42, "空调装好第二天就漏水，师傅不接电话"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{xml}");
        let number = number_in(&reply(&xml).3);
        // The reply was the receipt: no second one.
        assert_eq!(pass(&state).await.queued, 0);
        app.act("agent1", &number, "register", json!({})).await;
        app.act(
            "agent1",
            &number,
            "classify",
            json!({"category": "repair_quality", "severity": "general"}),
        )
        .await;
        app.act(
            "agent1",
            &number,
            "dispatch",
            json!({"department": "service", "assignee": "mgr_service"}),
        )
        .await;
        assert_eq!(pass(&state).await.queued, 1);
        let rows: Vec<_> = app
            .db
            .outbox(50)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|r| r.channel == "wechat")
            .collect();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].recipient, openid);

        let d = kesu_web::outbox::deliver(&state, app.now())
            .await
            .expect("deliver");
        assert_eq!((d.sent, d.gave_up), (1, 0), "{d:?}");
        let sent = peer.sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["touser"], openid);
        // Staff see on the complaint that the customer is a follower.
        let staff = crate::pages::Browser::new(&app);
        staff.login("agent1").await;
        let (_, html, _) = staff.get(&format!("/complaints/{number}")).await;
        assert!(html.contains("公众号关注者"), "{html}");
        assert_eq!(sent[0]["template_id"], "TPL-progress");
        assert_eq!(sent[0]["url"], "https://kesu.example.com/portal/track");
        assert_eq!(sent[0]["data"]["keyword1"]["value"], number.as_str());
        assert!(
            sent[0]["data"]["keyword2"]["value"]
                .as_str()
                .is_some_and(|d| d.starts_with("20")),
            "{sent:?}"
        );
        app.stop().await;
    }
);
