//! Customer messages (R-NT-1) end to end: the worker reads the events,
//! queues one message per occasion in the outbox, and the outbox sends it —
//! SMS to local Alibaba Cloud / Tencent Cloud peers that check the
//! signatures independently, e-mail to a real SMTP server (aiosmtpd) — once,
//! not at night, retried or given up and listed for the admin.

use jiff::{SignedDuration, Timestamp};
use kesu_notify::{AliyunSmsConfig, Secret, TencentSmsConfig};
use kesu_storage::Db;
use kesu_storage::outbox::OutboxRow;
use kesu_web::customer_messages::{CustomerMessages, Occasion, SmsProvider, queue_pass};
use kesu_web::outbox::{Channels, deliver};
use kesu_web::{AppState, WebConfig};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::portal::Customer;
use crate::sms_peer::{ALIYUN_KEY_ID, ALIYUN_SECRET, Mood, SmsPeer, TENCENT_ID, TENCENT_KEY};

pub fn aliyun(peer: &SmsPeer, secret: &str) -> SmsProvider {
    SmsProvider::Aliyun(AliyunSmsConfig {
        access_key_id: ALIYUN_KEY_ID.to_owned(),
        access_key_secret: Secret::new(secret),
        sign_name: "某某汽车".to_owned(),
        region_id: "cn-hangzhou".to_owned(),
        base_url: Some(peer.base_url.clone()),
        timeout_secs: 5,
    })
}

pub fn tencent(peer: &SmsPeer, key: &str) -> SmsProvider {
    SmsProvider::Tencent(TencentSmsConfig {
        secret_id: TENCENT_ID.to_owned(),
        secret_key: Secret::new(key),
        sdk_app_id: "1400006666".to_owned(),
        sign_name: "某某汽车".to_owned(),
        region: "ap-guangzhou".to_owned(),
        base_url: Some(peer.base_url.clone()),
        timeout_secs: 5,
    })
}

/// The settings with SMS templates for every occasion.
pub fn with_sms(sms: SmsProvider) -> CustomerMessages {
    let mut s = CustomerMessages {
        sms,
        ..CustomerMessages::default()
    };
    for (i, o) in Occasion::ALL.iter().enumerate() {
        let mut text = o.default_text();
        text.sms_template = format!("SMS_10{i}");
        s.occasions.insert(o.as_str().to_owned(), text);
    }
    s
}

pub async fn save(db: &Db, s: &CustomerMessages) {
    db.set_setting(
        "customer_messages",
        &serde_json::to_string(s).expect("json"),
    )
    .await
    .expect("save settings");
}

pub fn state_of(app: &TestApp) -> AppState {
    AppState::new(app.db.clone(), app.clock.clone(), WebConfig::default())
}

async fn customer_rows(app: &TestApp) -> Vec<OutboxRow> {
    let mut rows: Vec<OutboxRow> = app
        .db
        .outbox(100)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| r.key.starts_with("customer:"))
        .collect();
    rows.sort_by_key(|r| r.id);
    rows
}

/// The tracking code in a receipt (`ABCD-EFGH`).
fn code_in(text: &str) -> String {
    let at = text.find("查询码").expect("a code in the receipt") + "查询码".len();
    text[at..]
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(9)
        .collect()
}

kesu_storage::both_backends!(
    async fn a_phone_complaint_gets_one_sms_with_number_and_code_that_works_on_the_portal(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let peer = SmsPeer::start("aliyun").await;
        let state = state_of(&app);
        // A customer from before: switching the messages on does not write to them.
        let old = app.create_complaint("agent1", json!({})).await;
        save(&app.db, &with_sms(aliyun(&peer, ALIYUN_SECRET))).await;
        let first = queue_pass(&state, app.now()).await.expect("pass");
        assert!(first.started && first.queued == 0, "{first:?}");

        let c = app.create_complaint("agent1", json!({})).await;
        let number = c["number"].as_str().expect("number").to_owned();
        let r = queue_pass(&state, app.now()).await.expect("pass");
        assert_eq!(r.queued, 1, "{r:?}");
        // Again, and on a second node at the same moment: nothing twice.
        let other = AppState::new(
            Db::connect(app.database_url()).await.expect("second node"),
            app.clock.clone(),
            WebConfig::default(),
        );
        let (a, b) = tokio::join!(queue_pass(&state, app.now()), queue_pass(&other, app.now()));
        assert_eq!(a.expect("node 1").queued + b.expect("node 2").queued, 0);
        // Later passes, with the events settled, change nothing either.
        app.clock.advance(SignedDuration::from_mins(5));
        assert_eq!(queue_pass(&state, app.now()).await.expect("pass").queued, 0);

        let rows = customer_rows(&app).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let sms = &rows[0];
        assert_eq!(
            (sms.channel.as_str(), sms.recipient.as_str()),
            ("sms", "13800138000")
        );
        assert!(sms.body.contains(&number), "{}", sms.body);
        assert!(
            sms.body.contains("请访问客服门户"),
            "no public address set: {}",
            sms.body
        );
        let code = code_in(&sms.body);
        assert_eq!(code.len(), 9, "{}", sms.body);
        assert!(!sms.body.contains(old["number"].as_str().unwrap_or("?")));

        let d = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!((d.sent, d.retrying, d.gave_up), (1, 0, 0), "{d:?}");
        assert_eq!(deliver(&state, app.now()).await.expect("again").sent, 0);
        let got = peer.accepted();
        assert_eq!(got.len(), 1);
        assert_eq!(peer.refused(), 0);
        let p = &got[0].params;
        assert_eq!(p["PhoneNumbers"], "13800138000");
        assert_eq!(p["TemplateCode"], "SMS_100");
        assert_eq!(p["SignName"], "某某汽车");
        let vars: serde_json::Value =
            serde_json::from_str(p["TemplateParam"].as_str().expect("params")).expect("json");
        assert_eq!(vars, json!({"number": number, "code": code}));

        // The code opens the complaint on the portal.
        let (status, html) = Customer::new(&app).track(&number, &code).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(&number));

        // The agent sees it on the complaint page.
        let (client, _) = app.session_client("agent1").await;
        let (s, _, _) = client.get(&format!("/complaints/{number}")).await;
        assert_eq!(s, StatusCode::OK);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_sms_at_night_waits_for_the_morning_and_a_throttled_one_is_retried(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let peer = SmsPeer::start("tencent").await;
        let state = state_of(&app);
        save(&app.db, &with_sms(tencent(&peer, TENCENT_KEY))).await;
        queue_pass(&state, app.now()).await.expect("start");
        // 22:00 in Beijing (the test starts at 10:00).
        app.clock.advance(SignedDuration::from_hours(12));
        let c = app.create_complaint("agent1", json!({})).await;
        let number = c["number"].as_str().expect("number").to_owned();
        assert_eq!(queue_pass(&state, app.now()).await.expect("pass").queued, 1);
        let morning: Timestamp = "2026-11-24T00:00:00Z".parse().expect("08:00 Beijing");
        let row = &customer_rows(&app).await[0];
        assert_eq!(row.next_attempt_at, Some(morning.as_millisecond()));
        assert_eq!(deliver(&state, app.now()).await.expect("night").sent, 0);
        app.clock.advance(SignedDuration::from_mins(9 * 60 + 59));
        assert_eq!(deliver(&state, app.now()).await.expect("07:59").sent, 0);
        assert!(peer.accepted().is_empty() && peer.refused() == 0);

        // 08:00: the vendor throttles first, then takes it.
        app.clock.advance(SignedDuration::from_mins(1));
        peer.set_mood(Mood::Throttle);
        let d = deliver(&state, app.now()).await.expect("08:00");
        assert_eq!((d.sent, d.retrying), (0, 1), "{d:?}");
        peer.set_mood(Mood::Accept);
        app.clock.advance(SignedDuration::from_mins(1));
        assert_eq!(deliver(&state, app.now()).await.expect("retry").sent, 1);
        let got = peer.accepted();
        assert_eq!(got.len(), 1);
        let p = &got[0].params;
        assert_eq!(p["PhoneNumberSet"], json!(["+8613800138000"]));
        assert_eq!(p["TemplateId"], "SMS_100");
        assert_eq!(p["TemplateParamSet"][0], number);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_refused_signature_gives_up_and_the_admin_sees_it_with_the_phone_masked(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let peer = SmsPeer::start("aliyun").await;
        let state = state_of(&app);
        save(&app.db, &with_sms(aliyun(&peer, "a-wrong-secret"))).await;
        queue_pass(&state, app.now()).await.expect("start");
        app.create_complaint("agent1", json!({})).await;
        queue_pass(&state, app.now()).await.expect("pass");
        let d = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!((d.sent, d.gave_up), (0, 1), "{d:?}");
        assert_eq!(peer.refused(), 1);
        let problems = app.db.outbox_problems(10).await.expect("problems");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("SignatureDoesNotMatch"),
            "{problems:?}"
        );
        let (admin, _) = app.session_client("admin1").await;
        let (s, _, _) = admin.get("/admin/channels").await;
        assert_eq!(s, StatusCode::OK);
        let html = app
            .http
            .get(app.at("/admin/channels"))
            .header(
                "cookie",
                format!(
                    "{}={}",
                    kesu_web::auth::SESSION_COOKIE,
                    app.session("admin1").await.0
                ),
            )
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            html.contains("138****8000") && !html.contains("13800138000"),
            "masked"
        );
        assert!(html.contains("短信"), "the channel is named");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_email_complaint_hears_of_its_result_by_mail_and_gets_no_second_receipt(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let smtp = crate::notify::Smtp::start(&format!("cmsg-{backend:?}"));
        let channels: Channels = serde_json::from_value(json!({
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "kefu@desk.example", "from_name": "客服中心"}
        }))
        .expect("channels");
        app.db
            .set_setting(
                kesu_storage::outbox::CHANNELS_KEY,
                &serde_json::to_string(&channels).expect("json"),
            )
            .await
            .expect("channels");
        let state = state_of(&app);
        // No SMS provider: e-mail only.
        save(
            &app.db,
            &CustomerMessages {
                portal_url: Some("https://kefu.example.com".into()),
                ..CustomerMessages::default()
            },
        )
        .await;
        queue_pass(&state, app.now()).await.expect("start");
        let number = app
            .complaint_in_state(
                "fed_back",
                json!({"channel": "email", "customer": {"name": "李女士", "email": "li@example.com"}}),
            )
            .await;
        // A phone-only customer with a landline: no way to reach them.
        let landline = app
            .create_complaint(
                "agent1",
                json!({"customer": {"name": "赵先生", "phone": "010-12345678"}}),
            )
            .await;
        queue_pass(&state, app.now()).await.expect("pass");
        let rows = customer_rows(&app).await;
        let subjects: Vec<&str> = rows.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(
            rows.len(),
            4,
            "progress, proposal, result, survey: {subjects:?}"
        );
        assert!(
            rows.iter()
                .all(|r| r.channel == "email" && r.recipient == "li@example.com")
        );
        assert!(
            !subjects.iter().any(|s| s.contains("受理")),
            "no second receipt: {subjects:?}"
        );
        // The survey waits a day after the result (the default delay).
        let d = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!(d.sent, 3, "{d:?}");
        let survey_row = customer_rows(&app)
            .await
            .into_iter()
            .find(|r| r.key.contains(":survey:"))
            .expect("the survey row");
        assert_eq!(
            survey_row.next_attempt_at,
            Some(app.now().as_millisecond() + 24 * 3_600_000),
            "{survey_row:?}"
        );
        app.clock.advance(SignedDuration::from_hours(24));
        let d = deliver(&state, app.now()).await.expect("deliver");
        assert_eq!(d.sent, 1, "the survey: {d:?}");
        let mails = smtp.messages();
        let result = mails
            .iter()
            .find(|m| m.1.contains("处理结果"))
            .unwrap_or_else(|| panic!("the result mail: {mails:?}"));
        assert!(
            result.0.contains("li@example.com") && result.1.contains(&number),
            "{result:?}"
        );
        let survey = mails
            .iter()
            .find(|m| m.1.contains("评价"))
            .expect("the survey mail");
        assert!(
            survey.2.contains("https://kefu.example.com/portal/track"),
            "{survey:?}"
        );

        // The complaint pages tell what was sent, and whom kesu could not reach.
        let (client, _) = app.session_client("agent1").await;
        let (_, _, _) = client.get(&format!("/complaints/{number}")).await;
        let page = |n: String| {
            let app = &app;
            async move {
                app.http
                    .get(app.at(&format!("/complaints/{n}")))
                    .header(
                        "cookie",
                        format!(
                            "{}={}",
                            kesu_web::auth::SESSION_COOKIE,
                            app.session("agent1").await.0
                        ),
                    )
                    .send()
                    .await
                    .expect("page")
                    .text()
                    .await
                    .expect("html")
            }
        };
        let html = page(number.clone()).await;
        assert!(
            html.contains("id=\"customer-messages\"") && html.contains("已发送"),
            "{html}"
        );
        let html = page(landline["number"].as_str().expect("number").to_owned()).await;
        assert!(html.contains("客户没有可用的联系方式"), "{html}");
        app.stop().await;
    }
);

/// A browser-like client: keeps cookies, does not follow redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn login(app: &TestApp, username: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let mut b = Browser {
            http,
            base: app.url.clone(),
            csrf: String::new(),
        };
        let form = [
            ("username", username),
            ("password", crate::helpers::PASSWORD),
            ("next", "/account"),
        ];
        let (s, _) = b.post("/login", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "login {username}");
        let (_, html) = b.get("/account", "zh-CN").await;
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf token") + 19;
        b.csrf = html[at..].split('"').next().unwrap_or_default().to_owned();
        b
    }

    async fn get(&self, path: &str, lang: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept-language", lang)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if !self.csrf.is_empty() {
            fields.push(("csrf", &self.csrf));
        }
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&fields)
            .send()
            .await
            .expect("post");
        (r.status(), r.text().await.unwrap_or_default())
    }
}

/// The whole form as the page shows it for `s` (secrets left empty).
fn form_of(s: &CustomerMessages) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        (
            "portal_url".into(),
            s.portal_url.clone().unwrap_or_default(),
        ),
        ("quiet_start".into(), s.quiet_start.clone()),
        ("quiet_end".into(), s.quiet_end.clone()),
        (
            "survey_delay_hours".into(),
            s.survey_delay_hours.to_string(),
        ),
        ("provider".into(), s.sms.code().into()),
    ];
    if let SmsProvider::Aliyun(c) = &s.sms {
        f.push(("aliyun_access_key_id".into(), c.access_key_id.clone()));
        f.push(("aliyun_access_key_secret".into(), String::new()));
        f.push(("aliyun_sign_name".into(), c.sign_name.clone()));
        f.push(("aliyun_region_id".into(), c.region_id.clone()));
    }
    for o in Occasion::ALL {
        let text = s.text(*o);
        let code = o.as_str();
        if text.on {
            f.push((format!("{code}_on"), "true".into()));
        }
        f.push((format!("{code}_email_subject"), text.email_subject));
        f.push((format!("{code}_email_body"), text.email_body));
        f.push((format!("{code}_sms_text"), text.sms_text));
        f.push((format!("{code}_sms_template"), text.sms_template));
        f.push((format!("{code}_sms_params"), text.sms_params.join(", ")));
        f.push((
            format!("{code}_wechat_template"),
            text.wechat_template.clone(),
        ));
        let fields: Vec<String> = text
            .wechat_fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        f.push((format!("{code}_wechat_fields"), fields.join(", ")));
    }
    f
}

fn with(form: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| {
            if k == key {
                (k.clone(), value.to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

fn refs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

kesu_storage::both_backends!(
    async fn texts_edited_on_the_page_are_what_is_sent_and_bad_ones_store_nothing(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let peer = SmsPeer::start("aliyun").await;
        let state = state_of(&app);
        let stored = || async {
            app.db
                .setting("customer_messages")
                .await
                .expect("setting")
                .unwrap_or_default()
        };
        let admin = Browser::login(&app, "admin1").await;
        for lang in ["zh-CN", "en"] {
            let (s, html) = admin.get("/admin/customer-messages", lang).await;
            assert_eq!(s, StatusCode::OK);
            assert!(
                crate::helpers::raw_keys(&html).is_empty(),
                "{:?}",
                crate::helpers::raw_keys(&html)
            );
        }
        let (_, html) = admin.get("/admin", "zh-CN").await;
        assert!(html.contains("id=\"link-customer-messages\""));
        // The preview fills in a sample complaint.
        let (_, html) = admin.get("/admin/customer-messages", "zh-CN").await;
        assert!(html.contains("KS-20261123-0001") && html.contains("ABCD-EFGH"));

        save(&app.db, &with_sms(aliyun(&peer, ALIYUN_SECRET))).await;
        let (_, html) = admin.get("/admin/customer-messages", "zh-CN").await;
        assert!(
            !html.contains(ALIYUN_SECRET),
            "the secret never reaches the page"
        );
        assert!(html.contains("id=\"aliyun-secret-set\""));
        let base = form_of(&with_sms(aliyun(&peer, ALIYUN_SECRET)));
        let before = stored().await;

        // An unknown placeholder: refused, named on its field, nothing stored.
        let bad = with(&base, "received_sms_text", "您好{name}，编号{number}");
        let (s, html) = admin.post("/admin/customer-messages", &refs(&bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("id=\"problem-received_sms_text\"") && html.contains("{name}"),
            "{html}"
        );
        assert!(!html.contains(ALIYUN_SECRET));
        assert_eq!(stored().await, before);
        let bad = with(&base, "survey_sms_params", "number, phone");
        let (s, html) = admin.post("/admin/customer-messages", &refs(&bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("id=\"problem-survey_sms_params\"") && html.contains("{phone}"));
        assert_eq!(stored().await, before);
        // A quiet hour that is no time, a missing vendor field: the same.
        for (key, value, field) in [
            ("quiet_start", "25:00", "quiet_start"),
            ("quiet_end", "", "quiet_start"),
            ("aliyun_sign_name", "", "aliyun_sign_name"),
            ("portal_url", "ftp://x", "portal_url"),
            ("survey_delay_hours", "-1", "survey_delay_hours"),
            ("survey_delay_hours", "1000", "survey_delay_hours"),
            (
                "received_wechat_template",
                "模板",
                "received_wechat_template",
            ),
            (
                "received_wechat_fields",
                "keyword1=phone",
                "received_wechat_fields",
            ),
        ] {
            let bad = with(&base, key, value);
            let bad = if key == "quiet_end" {
                with(&bad, "quiet_start", "")
            } else {
                bad
            };
            let bad = if key == "quiet_end" {
                with(&bad, "quiet_end", "08:00")
            } else {
                bad
            };
            let (s, html) = admin.post("/admin/customer-messages", &refs(&bad)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{key}");
            assert!(
                html.contains(&format!("id=\"problem-{field}\"")),
                "{key}: {html}"
            );
            assert_eq!(stored().await, before, "{key}");
        }
        // Nobody else may see or change it.
        let agent = Browser::login(&app, "agent1").await;
        assert_eq!(
            agent.get("/admin/customer-messages", "zh-CN").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            agent.post("/admin/customer-messages", &refs(&base)).await.0,
            StatusCode::FORBIDDEN
        );

        // A good edit (secret left empty: kept) is stored and is what is sent.
        let good = with(
            &base,
            "received_sms_text",
            "{customer}：投诉{number}已登记，查询码{code}。",
        );
        let good = with(&good, "received_sms_template", "SMS_777");
        let good = with(&good, "received_sms_params", "code，number");
        let good = with(&good, "portal_url", "https://kefu.example.com/");
        let (s, _) = admin.post("/admin/customer-messages", &refs(&good)).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let saved: CustomerMessages = serde_json::from_str(&stored().await).expect("saved");
        assert_eq!(
            saved.sms,
            aliyun(&peer, ALIYUN_SECRET),
            "secret and base URL kept"
        );
        assert_eq!(
            saved.portal_url.as_deref(),
            Some("https://kefu.example.com")
        );
        let c = app.create_complaint("agent1", json!({})).await;
        let number = c["number"].as_str().expect("number").to_owned();
        queue_pass(&state, app.now()).await.expect("pass");
        let row = &customer_rows(&app).await[0];
        let code = row
            .body
            .split("查询码")
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches('。')
            .to_owned();
        assert_eq!(
            row.body,
            format!("王先生：投诉{number}已登记，查询码{code}。")
        );
        assert_eq!(deliver(&state, app.now()).await.expect("deliver").sent, 1);
        let p = &peer.accepted()[0].params;
        assert_eq!(p["TemplateCode"], "SMS_777");
        let vars: serde_json::Value =
            serde_json::from_str(p["TemplateParam"].as_str().expect("params")).expect("json");
        assert_eq!(vars, json!({"code": code, "number": number}));

        // Restoring the defaults brings the Chinese text back, keeps the template.
        let (s, _) = admin
            .post(
                "/admin/customer-messages/restore",
                &[("occasion", "received")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let saved: CustomerMessages = serde_json::from_str(&stored().await).expect("saved");
        let received = saved.text(Occasion::Received);
        assert_eq!(
            received.sms_text,
            Occasion::Received.default_text().sms_text
        );
        assert_eq!(received.sms_template, "SMS_777");
        let (s, _) = admin
            .post(
                "/admin/customer-messages/restore",
                &[("occasion", "nonsense")],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
);
