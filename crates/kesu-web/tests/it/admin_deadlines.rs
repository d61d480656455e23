//! The admin side of deadlines and notifications over HTTP: a site's working
//! calendar, holiday years, the duty roster, the notification channels and
//! their failures, and a person's notice e-mail.

use jiff::{SignedDuration, Timestamp};
use kesu_calendar::DayKind;
use kesu_domain::{SiteId, UserId};
use kesu_web::outbox::Channels;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::{PASSWORD, TestApp, location, raw_keys};

/// A browser-like client: keeps cookies, does not follow redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn login(app: &TestApp, username: &str) -> Browser {
        kesu_notify::install_crypto_provider();
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
        let (s, _, _) = b
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/account"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "login {username}");
        let (_, html, _) = b.get("/account").await;
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf token") + 19;
        b.csrf = html[at..].split('"').next().unwrap_or_default().to_owned();
        b
    }

    async fn get(&self, path: &str) -> (StatusCode, String, HeaderMap) {
        self.get_in(path, "zh-CN").await
    }

    async fn get_in(&self, path: &str, lang: &str) -> (StatusCode, String, HeaderMap) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept-language", lang)
            .send()
            .await
            .expect("get");
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.text().await.unwrap_or_default(), h)
    }

    /// Posts a form with the session's CSRF token added.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, HeaderMap) {
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
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.text().await.unwrap_or_default(), h)
    }

    /// Uploads a holiday file for `year`.
    async fn upload_year(&self, year: &str, json: &str) -> (StatusCode, String, HeaderMap) {
        let form = reqwest::multipart::Form::new()
            .text("csrf", self.csrf.clone())
            .text("year", year.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(json.as_bytes().to_vec()).file_name("2027.json"),
            );
        let r = self
            .http
            .post(format!("{}/admin/holidays", self.base))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.text().await.unwrap_or_default(), h)
    }
}

async fn first_site(app: &TestApp) -> i64 {
    app.db.sites().await.expect("sites")[0].id
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// A calendar form with the defaults and `overrides` in place.
fn calendar_form<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("time_zone", "Asia/Shanghai"),
        ("opens", "09:00"),
        ("closes", "18:00"),
        ("lunch_start", ""),
        ("lunch_end", ""),
        ("china_public_holidays", "true"),
    ];
    for (k, v) in overrides {
        form.retain(|(name, _)| name != k);
        form.push((k, v));
    }
    form.push(("weekend", "saturday"));
    form.push(("weekend", "sunday"));
    form
}

kesu_storage::both_backends!(
    async fn a_lunch_break_and_a_stock_taking_day_are_what_the_deadlines_count(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let site = first_site(&app).await;
        let admin = Browser::login(&app, "admin1").await;
        let (s, html, _) = admin.get(&format!("/admin/calendar/{site}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"unset\""), "a site never saved says so");

        let path = format!("/admin/calendar/{site}");
        let form = calendar_form(&[("lunch_start", "12:00"), ("lunch_end", "13:00")]);
        let (s, _, h) = admin.post(&path, &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), format!("{path}?saved=1"));
        let (s, _, _) = admin
            .post(
                &format!("{path}/exceptions"),
                &[("date", "2026-11-30"), ("kind", "closed"), ("note", "盘点")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);

        let calendar = app.db.site_calendar(Some(site)).await.expect("calendar");
        // Tuesday 2026-11-24 11:30, one working hour: 11:30–12:00, lunch
        // 12:00–13:00 does not count, 13:00–13:30.
        let due = calendar
            .add_working(
                at("2026-11-24T11:30:00+08:00"),
                SignedDuration::from_hours(1),
            )
            .expect("add working");
        assert_eq!(due, at("2026-11-24T13:30:00+08:00"));
        // Friday 2026-11-27 17:30, one hour: 30 minutes that day, the
        // weekend, Monday 30th closed for stock-taking, then Tuesday 09:30.
        let due = calendar
            .add_working(
                at("2026-11-27T17:30:00+08:00"),
                SignedDuration::from_hours(1),
            )
            .expect("add working");
        assert_eq!(due, at("2026-12-01T09:30:00+08:00"));
        assert_eq!(
            calendar.day_kind(jiff::civil::date(2026, 11, 30)),
            DayKind::ClosedException {
                note: "盘点".to_owned()
            }
        );

        let (_, html, _) = admin.get(&path).await;
        assert!(html.contains("盘点") && html.contains("12:00") && !html.contains("id=\"unset\""));
        let (_, html, _) = admin.get("/admin/calendar").await;
        assert!(html.contains("09:00–18:00（午休 12:00–13:00）"), "{html}");

        // Saving the hours again keeps the exception; removing it removes it.
        let (s, _, _) = admin.post(&path, &calendar_form(&[])).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let calendar = app.db.site_calendar(Some(site)).await.expect("calendar");
        assert!(calendar.settings().lunch_break.is_none());
        assert_eq!(calendar.settings().exceptions.len(), 1);
        let (s, _, _) = admin
            .post(&format!("{path}/exceptions/2026-11-30/delete"), &[])
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let calendar = app.db.site_calendar(Some(site)).await.expect("calendar");
        assert!(calendar.settings().exceptions.is_empty());
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_bad_time_zone_or_hours_that_end_before_they_start_are_refused_readably(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let site = first_site(&app).await;
        let admin = Browser::login(&app, "admin1").await;
        let path = format!("/admin/calendar/{site}");

        let (s, html, _) = admin
            .post(
                &path,
                &calendar_form(&[("time_zone", "Asia/Shanghia"), ("lunch_start", "12:15")]),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // The lunch break is checked first: it has a start and no end.
        assert!(html.contains("午休需要同时填写开始和结束时间"), "{html}");
        let (s, html, _) = admin
            .post(&path, &calendar_form(&[("time_zone", "Asia/Shanghia")]))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("未知的时区“Asia/Shanghia”"), "{html}");
        assert!(
            html.contains("value=\"Asia/Shanghia\""),
            "the input is kept"
        );

        let (s, html, _) = admin
            .post(
                &path,
                &calendar_form(&[("opens", "09:30"), ("closes", "08:00")]),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("下班时间 08:00 必须晚于上班时间 09:30"),
            "{html}"
        );
        assert!(html.contains("value=\"08:00\"") && html.contains("value=\"09:30\""));

        let (s, html, _) = admin
            .post(
                &format!("{path}/exceptions"),
                &[("date", "2026-02-30"), ("kind", "closed"), ("note", "盘点")],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("“2026-02-30”不是有效的日期"), "{html}");
        assert!(html.contains("value=\"盘点\""), "the note is kept");

        // Nothing was stored by any of these.
        assert!(
            app.db
                .site_calendar_json(SiteId(site))
                .await
                .expect("calendar")
                .is_none()
        );
        app.stop().await;
    }
);

/// A small but real 2027 notice: New Year's Day and a Spring Festival
/// make-up Saturday.
const YEAR_2027: &str = r#"{"year": 2027, "papers": [], "days": [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
    {"name": "春节", "date": "2027-02-06", "isOffDay": false},
    {"name": "春节", "date": "2027-02-08", "isOffDay": true}
]}"#;

kesu_storage::both_backends!(
    async fn an_uploaded_year_is_covered_and_a_file_for_another_year_is_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let site = first_site(&app).await;
        let admin = Browser::login(&app, "admin1").await;
        let missing = "2027 年尚无节假日数据：按普通周末计算，请上传国务院通知";
        let (s, html, _) = admin.get("/admin/calendar").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(missing), "{html}");
        assert!(html.contains("2007–2026"), "the shipped years are listed");

        // Last year's notice sent by mistake.
        let wrong = YEAR_2027.replace("2027", "2026");
        let (s, html, _) = admin.upload_year("2027", &wrong).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("这是 2026 年的文件，不是 2027 年的"),
            "{html}"
        );
        assert!(html.contains("value=\"2027\""), "the year is kept");
        let twice = YEAR_2027.replace("2027-02-08", "2027-01-01");
        let (s, html, _) = admin.upload_year("2027", &twice).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("第 3 条：2027-01-01 重复出现"), "{html}");
        let (s, html, _) = admin.upload_year("2027", "{\"year\": 2027").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("不是 holiday-cn 格式的节假日文件"), "{html}");
        assert!(app.db.holiday_years().await.expect("years").is_empty());

        let (s, _, h) = admin.upload_year("2027", YEAR_2027).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/admin/calendar?saved=1#holidays");
        let (_, html, _) = admin.get("/admin/calendar").await;
        assert!(!html.contains(missing), "{html}");
        assert!(html.contains("id=\"year-2027\"") && html.contains("放假 2 天，调休上班 1 天"));
        let calendar = app.db.site_calendar(Some(site)).await.expect("calendar");
        assert!(calendar.holidays().covers(2027));
        assert!(matches!(
            calendar.day_kind(jiff::civil::date(2027, 2, 6)),
            DayKind::MakeUpWorkday { .. }
        ));

        let (s, _, _) = admin.post("/admin/holidays/2027/delete", &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, html, _) = admin.get("/admin/calendar").await;
        assert!(html.contains(missing));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_roster_names_the_leader_on_duty_inside_an_entry_and_nobody_outside(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let site = first_site(&app).await;
        let site_text = site.to_string();
        let gm = app.user_ids["gm1"];
        let sup = app.user_ids["sup1"];
        let admin = Browser::login(&app, "admin1").await;
        let (s, html, _) = admin.get("/duty").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("当前无人值班") && html.contains("id=\"no-entries\""));

        // Monday evening 18:00 to Tuesday 09:00 at the site (Asia/Shanghai).
        let gm_text = gm.0.to_string();
        let entry = [
            ("site", site_text.as_str()),
            ("user", gm_text.as_str()),
            ("starts", "2026-11-23T18:00"),
            ("ends", "2026-11-24T09:00"),
        ];
        let (s, _, h) = admin.post("/duty", &entry).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/duty?saved=1");
        let on = |t: &'static str| {
            let db = app.db.clone();
            async move {
                db.on_duty(Some(SiteId(site)), at(t))
                    .await
                    .expect("on duty")
            }
        };
        assert_eq!(on("2026-11-23T20:00:00+08:00").await, vec![gm]);
        assert_eq!(on("2026-11-23T18:00:00+08:00").await, vec![gm]);
        assert!(
            on("2026-11-24T09:00:00+08:00").await.is_empty(),
            "the end is not inside"
        );
        assert!(on("2026-11-24T10:00:00+08:00").await.is_empty());
        assert!(on("2026-11-23T17:59:00+08:00").await.is_empty());

        // An entry for every site counts for this site too, after its own.
        let sup_text = sup.0.to_string();
        let (s, _, _) = admin
            .post(
                "/duty",
                &[
                    ("site", "all"),
                    ("user", sup_text.as_str()),
                    ("starts", "2026-11-23T08:00"),
                    ("ends", "2026-11-23T22:00"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(on("2026-11-23T20:00:00+08:00").await, vec![gm, sup]);
        assert_eq!(on("2026-11-23T10:00:00+08:00").await, vec![sup]);
        assert_eq!(
            app.db
                .on_duty(None, at("2026-11-23T20:00:00+08:00"))
                .await
                .expect("on duty"),
            vec![sup]
        );
        // The page names who is on duty now (10:00: the all-sites entry).
        let (_, html, _) = admin.get("/duty").await;
        assert!(html.contains("<strong>督导周敏</strong>"), "{html}");

        // Refused: not a leader, the end before the start, a bad time.
        let agent = app.user_ids["agent1"].0.to_string();
        for (form, says) in [
            (
                [
                    ("site", site_text.as_str()),
                    ("user", agent.as_str()),
                    ("starts", "2026-11-25T18:00"),
                    ("ends", "2026-11-26T09:00"),
                ],
                "请选择在职的领导",
            ),
            (
                [
                    ("site", site_text.as_str()),
                    ("user", gm_text.as_str()),
                    ("starts", "2026-11-25T18:00"),
                    ("ends", "2026-11-25T09:00"),
                ],
                "结束时间必须晚于开始时间",
            ),
            (
                [
                    ("site", site_text.as_str()),
                    ("user", gm_text.as_str()),
                    ("starts", "tonight"),
                    ("ends", "2026-11-25T09:00"),
                ],
                "请填写有效的开始时间",
            ),
        ] {
            let (s, html, _) = admin.post("/duty", &form).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
            assert!(html.contains(says), "{says}: {html}");
            assert!(
                html.contains(&format!("value=\"{}\"", form[2].1)),
                "input kept"
            );
        }

        // A general manager keeps the roster too; others may not.
        let gm_browser = Browser::login(&app, "gm1").await;
        let (s, html, _) = gm_browser.get("/duty").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"nav-duty\""));
        for who in ["agent1", "mgr_service", "sup1"] {
            let b = Browser::login(&app, who).await;
            assert_eq!(b.get("/duty").await.0, StatusCode::FORBIDDEN, "{who}");
            assert_eq!(
                b.post("/duty", &entry).await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }

        let entries = app.db.duty_entries(app.now(), 10).await.expect("entries");
        assert_eq!(entries.len(), 2);
        let first = entries[0].id;
        let (s, _, _) = gm_browser.post(&format!("/duty/{first}/delete"), &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(
            app.db
                .duty_entries(app.now(), 10)
                .await
                .expect("entries")
                .len(),
            1
        );
        app.stop().await;
    }
);

async fn stored_channels(app: &TestApp) -> Channels {
    let raw = app
        .db
        .setting(kesu_storage::outbox::CHANNELS_KEY)
        .await
        .expect("setting")
        .unwrap_or_default();
    serde_json::from_str(&raw).unwrap_or_default()
}

kesu_storage::both_backends!(
    async fn channels_are_saved_without_showing_secrets_and_a_blank_password_keeps_the_old(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = Browser::login(&app, "admin1").await;
        let (s, html, _) = admin.get("/admin/channels").await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("id=\"smtp-password-set\""));

        let mut form = vec![
            ("smtp_enabled", "true"),
            ("smtp_host", "smtp.example.cn"),
            ("smtp_port", "465"),
            ("smtp_security", "tls"),
            ("smtp_username", "kesu@example.cn"),
            ("smtp_password", "pw-very-secret-1"),
            ("smtp_from_address", "kesu@example.cn"),
            ("smtp_from_name", "客服中心"),
            ("wecom_enabled", "true"),
            (
                "wecom_webhook",
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-123",
            ),
            ("dingtalk_enabled", "true"),
            ("dingtalk_access_token", "ding-token-456"),
            ("dingtalk_secret", "SECding-secret-789"),
        ];
        let (s, _, h) = admin.post("/admin/channels", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/admin/channels?saved=1");
        let saved = stored_channels(&app).await;
        let smtp = saved.smtp.clone().expect("smtp");
        assert_eq!(smtp.port, Some(465));
        assert_eq!(
            smtp.password.as_ref().map(|p| p.expose()),
            Some("pw-very-secret-1")
        );
        assert_eq!(
            saved.wecom.as_ref().map(|w| w.key.expose()),
            Some("wecom-key-123")
        );
        assert_eq!(
            saved.dingtalk.as_ref().map(|d| d.secret.expose()),
            Some("SECding-secret-789")
        );

        let (_, html, _) = admin.get("/admin/channels?saved=1").await;
        for secret in [
            "pw-very-secret-1",
            "wecom-key-123",
            "ding-token-456",
            "SECding-secret-789",
        ] {
            assert!(!html.contains(secret), "{secret} shown");
        }
        assert!(html.contains("id=\"smtp-password-set\"") && html.contains("已设置"));
        assert!(html.contains("value=\"smtp.example.cn\""));

        // Saved again with the secret fields empty: the secrets stay.
        for (k, v) in &mut form {
            if [
                "smtp_password",
                "wecom_webhook",
                "dingtalk_access_token",
                "dingtalk_secret",
            ]
            .contains(&*k)
            {
                *v = "";
            }
            if *k == "smtp_from_name" {
                *v = "售后客服";
            }
        }
        let (s, _, _) = admin.post("/admin/channels", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let again = stored_channels(&app).await;
        assert_eq!(
            again.smtp.as_ref().and_then(|s| s.from_name.as_deref()),
            Some("售后客服")
        );
        assert_eq!(
            again.smtp.as_ref().and_then(|s| s.password.clone()),
            smtp.password
        );
        assert_eq!(again.wecom, saved.wecom);
        assert_eq!(again.dingtalk, saved.dingtalk);

        // Switched off: not used, but kept for switching on again.
        let off: Vec<(&str, &str)> = form
            .iter()
            .copied()
            .filter(|(k, _)| *k != "wecom_enabled")
            .collect();
        let (s, _, _) = admin.post("/admin/channels", &off).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(stored_channels(&app).await.wecom.is_none());
        let (s, _, _) = admin.post("/admin/channels", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(stored_channels(&app).await.wecom, saved.wecom);

        // Refused readably, nothing changed, the password not echoed.
        let bad: Vec<(&str, &str)> = form
            .iter()
            .map(|(k, v)| match *k {
                "smtp_host" => (*k, ""),
                "smtp_security" => (*k, "none"),
                "smtp_password" => (*k, "typed-new-secret"),
                _ => (*k, *v),
            })
            .collect();
        let (s, html, _) = admin.post("/admin/channels", &bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("SMTP 邮件 · 服务器：不能为空"), "{html}");
        assert!(html.contains("登录时必须使用 STARTTLS 或 TLS"), "{html}");
        assert!(!html.contains("typed-new-secret"));
        assert!(html.contains("value=\"售后客服\""), "plain fields are kept");
        assert_eq!(stored_channels(&app).await, again);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_failures_list_shows_a_message_that_was_given_up(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = Browser::login(&app, "admin1").await;
        let (_, html, _) = admin.get("/admin/channels").await;
        assert!(html.contains("id=\"no-failures\"") && html.contains("没有发送失败的消息"));

        let now = app.now();
        let mut tx = app.db.begin().await.expect("begin");
        kesu_storage::outbox::enqueue(
            &mut tx,
            "test:given-up",
            "email",
            "wangfang@example.cn",
            "提醒",
            "KS-1 已超时",
            now,
        )
        .await
        .expect("enqueue");
        kesu_storage::outbox::enqueue(&mut tx, "test:retrying", "wecom", "", "提醒", "x", now)
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
        let rows = app
            .db
            .claim_outbox(now, SignedDuration::from_mins(2), 10)
            .await
            .expect("claim");
        assert_eq!(rows.len(), 2);
        for r in &rows {
            let retry = (r.channel == "wecom").then(|| now + SignedDuration::from_secs(30));
            let error = if retry.is_some() {
                "WeCom busy (errcode -1)"
            } else {
                "550 mailbox unavailable"
            };
            app.db
                .outbox_failed(r.id, now, error, retry)
                .await
                .expect("failed");
        }

        let (s, html, _) = admin.get("/admin/channels").await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("id=\"no-failures\""));
        assert!(
            html.contains("w***@example.cn") && !html.contains("wangfang@"),
            "{html}"
        );
        assert!(html.contains("550 mailbox unavailable") && html.contains("已放弃"));
        assert!(
            html.contains("WeCom busy (errcode -1)") && html.contains("将于 2026-11-23 10:00 重试")
        );
        assert!(html.contains("企业微信") && html.contains("群机器人"));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_person_sets_and_clears_their_notice_email(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let id: UserId = app.user_ids["mgr_service"];
        let b = Browser::login(&app, "mgr_service").await;
        let (s, html, _) = b
            .post("/account/email", &[("email", "wang@@example")])
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("id=\"email-error\"") && html.contains("value=\"wang@@example\""));
        assert_eq!(app.db.user_email(id.0).await.expect("email"), None);

        let (s, _, h) = b
            .post("/account/email", &[("email", " wang@example.cn ")])
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/account?saved=1");
        assert_eq!(
            app.db.user_email(id.0).await.expect("email").as_deref(),
            Some("wang@example.cn")
        );
        let (_, html, _) = b.get("/account").await;
        assert!(html.contains("value=\"wang@example.cn\""));

        let (s, _, _) = b.post("/account/email", &[("email", "")]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(app.db.user_email(id.0).await.expect("email"), None);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_new_pages_are_translated_and_only_admins_configure(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let site = first_site(&app).await;
        let admin = Browser::login(&app, "admin1").await;
        // Something in every list, so that rows are rendered too.
        admin.upload_year("2027", YEAR_2027).await;
        admin
            .post(
                &format!("/admin/calendar/{site}/exceptions"),
                &[("date", "2026-12-01"), ("kind", "open"), ("note", "")],
            )
            .await;
        let gm = app.user_ids["gm1"].0.to_string();
        let site_text = site.to_string();
        admin
            .post(
                "/duty",
                &[
                    ("site", site_text.as_str()),
                    ("user", gm.as_str()),
                    ("starts", "2026-11-23T08:00"),
                    ("ends", "2026-11-23T20:00"),
                ],
            )
            .await;
        let mut tx = app.db.begin().await.expect("begin");
        kesu_storage::outbox::enqueue(&mut tx, "k", "dingtalk", "", "s", "b", app.now())
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
        let row = &app
            .db
            .claim_outbox(app.now(), SignedDuration::from_mins(1), 1)
            .await
            .expect("claim")[0];
        app.db
            .outbox_failed(row.id, app.now(), "310000 sign not match", None)
            .await
            .expect("failed");

        let pages = [
            "/admin".to_owned(),
            "/admin/calendar".to_owned(),
            format!("/admin/calendar/{site}"),
            "/admin/channels".to_owned(),
            "/admin/deadlines".to_owned(),
            "/duty".to_owned(),
            "/account".to_owned(),
        ];
        for p in &pages {
            for lang in ["zh-CN", "en"] {
                let (s, html, _) = admin.get_in(p, lang).await;
                assert_eq!(s, StatusCode::OK, "{p} ({lang})");
                assert!(
                    raw_keys(&html).is_empty(),
                    "{p} ({lang}): {:?}",
                    raw_keys(&html)
                );
            }
        }
        let (_, html, _) = admin.get_in("/admin/calendar", "en").await;
        assert!(html.contains("Working calendars and holidays"));
        // Refused forms are translated too.
        let (_, html, _) = admin
            .post(
                &format!("/admin/calendar/{site}"),
                &calendar_form(&[("closes", "25:00")]),
            )
            .await;
        assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));

        for who in ["agent1", "mgr_service", "gm1", "sup1"] {
            let b = Browser::login(&app, who).await;
            for p in &pages[1..5] {
                assert_eq!(b.get(p).await.0, StatusCode::FORBIDDEN, "{who} {p}");
            }
            for p in [
                format!("/admin/calendar/{site}"),
                format!("/admin/calendar/{site}/exceptions"),
                "/admin/channels".to_owned(),
                "/admin/deadlines".to_owned(),
                "/admin/deadlines/reset".to_owned(),
                "/admin/holidays/2027/delete".to_owned(),
            ] {
                assert_eq!(b.post(&p, &[]).await.0, StatusCode::FORBIDDEN, "{who} {p}");
            }
        }
        // Nothing those attempts touched changed.
        assert_eq!(app.db.holiday_years().await.expect("years").len(), 1);
        app.stop().await;
    }
);

/// The fields a browser would post for the first form of a page: text
/// inputs and hidden fields, ticked checkboxes, each select's chosen option.
fn form_fields(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .expect("the form is on the page");
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..].split('"').next().unwrap_or_default().to_owned())
    };
    let mut fields = Vec::new();
    let mut select: Option<String> = None;
    for piece in html[start..end].split('<').skip(1) {
        let tag = piece.split('>').next().unwrap_or_default();
        if tag.starts_with("input ") {
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            let unticked =
                attr(tag, "type").as_deref() == Some("checkbox") && !tag.contains(" checked");
            if name != "csrf" && !unticked {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("select ") {
            select = attr(tag, "name");
        } else if tag.starts_with("option ") && tag.contains(" selected") {
            if let Some(name) = &select {
                fields.push((name.clone(), attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("/select") {
            select = None;
        }
    }
    fields
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(f) => f.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

kesu_storage::both_backends!(
    async fn an_admin_edits_the_deadline_policy_and_new_clocks_follow_it(backend: Backend) {
        use kesu_domain::codes::ClockKind;
        use kesu_domain::deadlines::{DeadlinePolicy, Limit};
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = Browser::login(&app, "admin1").await;
        let (s, html, _) = admin.get("/admin/deadlines").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("出厂默认时限") && !html.contains("id=\"reset-form\""));
        let mut fields = form_fields(&html, "policy-form");
        assert!(
            fields.contains(&("initial_reply.limit".to_owned(), "24".to_owned())),
            "the shipped 24 hours are shown: {fields:?}"
        );

        // The initial reply within 36 hours, 18 on the fast track; the
        // progress report also told to the GM at the breach of a major one.
        set(&mut fields, "initial_reply.limit", "36");
        set(&mut fields, "initial_reply.fast_unit", "hours");
        set(&mut fields, "initial_reply.fast", "18");
        fields.push(("resolve.step2.after_hours".into(), "24".into()));
        fields.push(("resolve.step2.notify".into(), "general_manager".into()));
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (s, body, h) = admin.post("/admin/deadlines", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(location(&h), "/admin/deadlines?saved=1");
        let policy = app.db.deadline_policy().await.expect("policy");
        let rule = policy.rule(ClockKind::InitialReply).expect("initial reply");
        assert_eq!(rule.limit, Limit::Minutes { minutes: 36 * 60 });
        assert_eq!(rule.fast_limit, Some(Limit::Minutes { minutes: 18 * 60 }));
        let resolve = policy.rule(ClockKind::Resolve).expect("resolve");
        assert_eq!(resolve.escalation.len(), 3);
        assert_eq!(resolve.escalation[2].after_minutes, 24 * 60);
        // Everything not touched is what it was.
        let shipped = DeadlinePolicy::default();
        for kind in [
            ClockKind::Classify,
            ClockKind::FollowUp,
            ClockKind::DutyAlert,
        ] {
            assert_eq!(
                policy.rules.iter().find(|r| r.kind == kind),
                shipped.rules.iter().find(|r| r.kind == kind),
                "{kind}"
            );
        }

        // A complaint registered now gets the new limit.
        let created = app.create_complaint("agent1", serde_json::json!({})).await;
        let number = created["number"].as_str().expect("number");
        let complaint = app.complaint("agent1", number).await;
        let clock = complaint["deadlines"]
            .as_array()
            .expect("deadlines")
            .iter()
            .find(|d| d["kind"] == "initial_reply")
            .expect("an initial-reply clock");
        let started: Timestamp = clock["started_at"]
            .as_str()
            .expect("started")
            .parse()
            .expect("t");
        let due: Timestamp = clock["due_at"].as_str().expect("due").parse().expect("t");
        assert_eq!(due.duration_since(started), SignedDuration::from_hours(36));

        // Mistakes are named on their clocks, what was typed stays, and
        // nothing is stored.
        let (_, html, _) = admin.get("/admin/deadlines").await;
        assert!(
            html.contains("id=\"reset-form\""),
            "an own policy can be undone"
        );
        let mut fields = form_fields(&html, "policy-form");
        set(&mut fields, "follow_up.limit", "8");
        set(&mut fields, "classify.warn", "八十");
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (s, html, _) = admin.post("/admin/deadlines", &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("id=\"error-classify\"") && html.contains("预警比例应为"));
        assert!(html.contains("value=\"八十\""), "what was typed comes back");
        assert!(
            !html.contains("id=\"error-follow_up\""),
            "one mistake at a time per form pass"
        );
        set(&mut fields, "classify.warn", "80");
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (s, html, _) = admin.post("/admin/deadlines", &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("id=\"error-follow_up\"") && html.contains("最早一天不能晚于最晚一天")
        );
        assert_eq!(app.db.deadline_policy().await.expect("policy"), policy);
        assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));

        // Back to the shipped defaults.
        let (s, _, h) = admin.post("/admin/deadlines/reset", &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/admin/deadlines?reset=1");
        assert_eq!(app.db.deadline_policy().await.expect("policy"), shipped);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_mailbox_is_set_up_on_a_page_that_never_shows_its_password(backend: Backend) {
        use kesu_web::mail::poll::MailboxSettings;
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let stored = || async {
            app.db
                .setting(kesu_storage::mail::MAILBOX_KEY)
                .await
                .expect("setting")
                .map(|raw| serde_json::from_str::<MailboxSettings>(&raw).expect("settings"))
        };
        let admin = Browser::login(&app, "admin1").await;
        let (s, html, _) = admin.get("/admin/mailbox").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"never-polled\""));

        let form = |port: &'static str, password: &'static str| {
            vec![
                ("enabled", "true"),
                ("host", "imap.example.com"),
                ("port", port),
                ("security", "tls"),
                ("username", "kefu@example.com"),
                ("password", password),
                ("folder", ""),
            ]
        };
        let (s, html, _) = admin
            .post("/admin/mailbox", &form("99999", "s3cret-码"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("端口应为") && html.contains("imap.example.com"));
        assert!(
            !html.contains("s3cret"),
            "a refused form does not echo the password"
        );
        assert!(stored().await.is_none(), "nothing saved");
        let (s, _, _) = admin.post("/admin/mailbox", &form("993", "")).await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a first save needs a password"
        );

        let (s, _, h) = admin
            .post("/admin/mailbox", &form("993", "s3cret-码"))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/admin/mailbox?saved=1");
        let saved = stored().await.expect("saved");
        assert!(saved.enabled);
        assert_eq!(saved.imap.password, "s3cret-码");
        assert_eq!(saved.imap.mailbox, "INBOX");
        let (_, html, _) = admin.get("/admin/mailbox").await;
        assert!(html.contains("id=\"password-set\"") && !html.contains("s3cret"));

        // Switched off with the password left empty: the password stays.
        let mut off = form("143", "");
        off.retain(|(k, _)| *k != "enabled");
        off.push(("security", "plain"));
        let (s, _, _) = admin.post("/admin/mailbox", &off).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let saved = stored().await.expect("saved");
        assert!(!saved.enabled);
        assert_eq!(saved.imap.port, 143);
        assert_eq!(saved.imap.password, "s3cret-码");

        for who in ["agent1", "gm1", "sup1"] {
            let b = Browser::login(&app, who).await;
            assert_eq!(b.get("/admin/mailbox").await.0, StatusCode::FORBIDDEN);
            assert_eq!(
                b.post("/admin/mailbox", &form("993", "x")).await.0,
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(stored().await.expect("saved").imap.password, "s3cret-码");
        for lang in ["zh-CN", "en"] {
            let (_, html, _) = admin.get_in("/admin/mailbox", lang).await;
            assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));
        }
        app.stop().await;
    }
);
