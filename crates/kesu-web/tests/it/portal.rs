//! The customer portal over HTTP (without a browser): filing with photos,
//! the number and tracking code, tracking (right, wrong, flooded), bad
//! files, answering a proposal and the survey, and what staff see of it.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, answer_despite_resets, raw_keys};

/// A PNG's first bytes: enough for the type check.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";

/// The customer's side: a plain client without cookies or redirects.
pub struct Customer {
    http: reqwest::Client,
    base: String,
}

/// What the portal answered: status and page.
pub type Page = (StatusCode, String);

impl Customer {
    pub fn new(app: &TestApp) -> Customer {
        Customer {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("client"),
            base: app.url.clone(),
        }
    }

    async fn page(res: reqwest::Response) -> Page {
        let status = res.status();
        (status, res.text().await.unwrap_or_default())
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// Posts the complaint form: text fields and files (name, bytes).
    pub async fn try_file(
        &self,
        fields: &[(&str, &str)],
        files: &[(&str, Vec<u8>)],
    ) -> Result<Page, reqwest::Error> {
        let mut form = Form::new().percent_encode_noop();
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        for (name, data) in files {
            form = form.part(
                "files",
                Part::bytes(data.clone()).file_name((*name).to_owned()),
            );
        }
        let res = self
            .http
            .post(format!("{}/portal/complaints", self.base))
            .multipart(form)
            .send()
            .await?;
        let status = res.status();
        Ok((status, res.text().await?))
    }

    pub async fn file(&self, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        self.try_file(fields, files).await.expect("file")
    }

    /// Files the sample complaint; returns the number and the code.
    pub async fn file_sample(&self) -> (String, String) {
        let (status, html) = self.file(&sample(), &[]).await;
        assert_eq!(status, StatusCode::CREATED, "{html}");
        number_and_code(&html)
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::page(req.send().await.expect("post")).await
    }

    pub async fn track(&self, number: &str, code: &str) -> Page {
        self.post("/portal/track", &[("number", number), ("code", code)])
            .await
    }
}

/// The fields of a typical portal complaint.
pub fn sample() -> Vec<(&'static str, &'static str)> {
    vec![
        ("customer_name", "孙女士"),
        ("customer_phone", "139 1234 5678"),
        ("customer_email", ""),
        (
            "description",
            "昨天在你们店买的电饭煲，第一次用就漏电，手被电了一下，要求退货并赔偿",
        ),
        ("order_ref", "DD20261120-88"),
        ("plate", ""),
        ("event_place", "南京路店"),
    ]
}

/// The text of the element with this id (no nested tags).
pub fn by_id(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_owned())
}

/// The number and the code (without its dash) on the acknowledgement page.
pub fn number_and_code(html: &str) -> (String, String) {
    let number = by_id(html, "number").expect("the page shows the number");
    let code = by_id(html, "code").expect("the page shows the code");
    (number, code.replace('-', ""))
}

/// Drives a complaint filed on the portal (state `received`) as staff to
/// `proposed` (round 1, with this compensation). The engine proposed it as
/// major (an electric shock, compensation): customer service downgrades it.
pub async fn staff_propose(app: &TestApp, number: &str, yuan: i64) {
    app.act("agent1", number, "register", json!({})).await;
    app.act(
        "agent1",
        number,
        "classify",
        json!({"category": "product_quality", "severity": "general", "reason": "经检测为插座接地问题，无人身伤害"}),
    )
    .await;
    app.act(
        "agent1",
        number,
        "dispatch",
        json!({"department": "service", "assignee": "mgr_service"}),
    )
    .await;
    app.act(
        "mgr_service",
        number,
        "contacts",
        json!({"method": "phone", "summary": "已致电客户，约好上门检测"}),
    )
    .await;
    propose(app, number, "上门检测并更换新品", yuan).await;
}

pub async fn propose(app: &TestApp, number: &str, measures: &str, yuan: i64) {
    app.act(
        "mgr_service",
        number,
        "proposals",
        json!({"measures": measures, "owner": "售后王经理", "due_at": app.in_days(2),
               "follow_up": "三天后回访", "compensation_yuan": yuan}),
    )
    .await;
}

/// From `executing` to `fed_back`, as staff.
pub async fn staff_feed_back(app: &TestApp, number: &str) {
    app.act(
        "mgr_service",
        number,
        "execution",
        json!({"progress": "已更换新品", "completed": true}),
    )
    .await;
    app.act(
        "mgr_service",
        number,
        "feedback",
        json!({"method": "phone", "content": "已电话告知处理结果"}),
    )
    .await;
}

fn history_kind<'a>(history: &'a [Value], kind: &str) -> Vec<&'a Value> {
    history.iter().filter(|e| e["kind"] == kind).collect()
}

kesu_storage::both_backends!(
    async fn a_complaint_filed_with_a_photo_gets_a_number_and_a_code_and_reaches_the_staff_queue(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let (status, form) = c.get("/portal").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("我要投诉"), "Chinese by default");
        assert!(raw_keys(&form).is_empty(), "{:?}", raw_keys(&form));
        let key_at = form.find("name=\"form_key\" value=\"").expect("form key") + 23;
        let form_key = form[key_at..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(form_key.len(), 32);

        let mut fields = sample();
        fields.push(("form_key", &form_key));
        let (status, html) = c.file(&fields, &[("漏电.png", PNG.to_vec())]).await;
        assert_eq!(status, StatusCode::CREATED, "{html}");
        assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));
        let (number, code) = number_and_code(&html);
        assert!(number.starts_with("KS-20261123-"), "{number}");
        assert_eq!(code.len(), 8, "{code}");
        // R-IN-4: when they will be contacted and by when it should be
        // resolved, from the complaint's own clocks: an electric shock and a
        // demand for compensation make it major, so the fast track (12 h to
        // the first reply, 48 h to resolve) applies.
        assert!(
            html.contains("客服将在 2026-11-23 22:00 前与您联系"),
            "{html}"
        );
        assert!(html.contains("2026-11-25 10:00 前处理完毕"), "{html}");

        // Staff see it like any registration: received on the web channel,
        // the engine's proposal, the photo; waiting in customer service's queue.
        let api = app.complaint("agent1", &number).await;
        assert_eq!(api["state"], "received");
        assert_eq!(api["channel"], "web");
        assert_eq!(
            api["severity"], "major",
            "the engine read 漏电 and 赔偿: {api}"
        );
        let history = app.history(&number).await;
        assert_eq!(history[0]["kind"], "received");
        assert!(history[0]["actor"].is_null(), "no staff actor");
        assert_eq!(history_kind(&history, "classification_proposed").len(), 1);
        let photos = history_kind(&history, "attachment_added");
        assert_eq!(photos.len(), 1, "{history:?}");
        assert_eq!(photos[0]["payload"]["filename"], "漏电.png");
        let (status, mine, _) = app
            .client("agent1")
            .get("/api/v1/complaints?queue=mine&per_page=50")
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            mine["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["number"] == number.as_str())),
            "in the agent's queue: {mine}"
        );
        let (cookie, _) = app.session("agent1").await;
        let staff_page = app
            .http
            .get(app.at(&format!("/complaints/{number}")))
            .header("cookie", format!("kesu_session={cookie}"))
            .send()
            .await
            .expect("staff page")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            staff_page.contains("客户（网上）"),
            "the timeline names the customer on the portal"
        );

        // The same form again (a double tap, a reload): one complaint.
        let before = app.complaint_count().await;
        let (status, again) = c.file(&fields, &[("漏电.png", PNG.to_vec())]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            again.contains(&number) && again.contains("已经提交过"),
            "{again}"
        );
        assert!(by_id(&again, "code").is_none(), "the code is shown once");
        assert_eq!(app.complaint_count().await, before);

        // English through the browser's language.
        let en = c
            .http
            .get(app.at("/portal"))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .expect("get")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            en.contains("Make a complaint") && !en.contains("我要投诉"),
            "{en}"
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_missing_phone_shows_the_form_again_as_typed(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let mut fields: Vec<_> = sample()
            .into_iter()
            .filter(|(k, _)| *k != "customer_phone")
            .collect();
        fields.push(("customer_phone", " "));
        let (status, html) = c.file(&fields, &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("手机号码") && html.contains("必填"), "{html}");
        assert!(html.contains("电饭煲"), "what was typed is kept");
        assert_eq!(app.complaint_count().await, 0);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn tracking_needs_the_number_with_its_code_and_shows_no_staff_internals(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let (number, code) = c.file_sample().await;
        let (other, other_code) = c.file_sample().await;

        let (status, html) = c.track(&number, &code).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));
        assert!(
            html.contains("我们已收到您的投诉"),
            "progress in plain words"
        );
        assert!(html.contains("电饭煲"), "their own words");
        assert!(html.contains("客服将在"), "when to expect contact");
        // Typed as people type: lower case, with the dash.
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(
            c.track(&number.to_lowercase(), &typed).await.0,
            StatusCode::OK
        );

        // One neutral answer for any wrong pair.
        let wrong_code = c.track(&number, "AAAA2222").await;
        let wrong_number = c.track("KS-20261123-9999", &code).await;
        let someone_elses = c.track(&number, &other_code).await;
        let garbage = c.track("hello", "world").await;
        for (what, (status, html)) in [
            ("wrong code", &wrong_code),
            ("wrong number", &wrong_number),
            ("another complaint's code", &someone_elses),
            ("garbage", &garbage),
        ] {
            assert_eq!(*status, StatusCode::NOT_FOUND, "{what}");
            assert!(html.contains("投诉编号或查询码不正确"), "{what}: {html}");
            assert!(!html.contains("电饭煲"), "{what}: nothing shown");
        }
        let strip = |h: &str| h.replace(&number, "").replace("KS-20261123-9999", "");
        assert_eq!(
            strip(&wrong_code.1),
            strip(&wrong_number.1),
            "no hint which was wrong"
        );
        assert_eq!(c.track(&other, &other_code).await.0, StatusCode::OK);

        // Staff work on it: notes, names and contacts never reach the customer.
        app.act("agent1", &number, "register", json!({})).await;
        app.act(
            "agent1",
            &number,
            "notes",
            json!({"text": "内部备注：此客户多次投诉，注意话术", "root_cause": "批次质量问题"}),
        )
        .await;
        app.act(
            "agent1",
            &number,
            "classify",
            json!({"category": "product_quality", "severity": "major", "signals": ["safety"]}),
        )
        .await;
        app.act(
            "agent1",
            &number,
            "dispatch",
            json!({"department": "service", "assignee": "mgr_service"}),
        )
        .await;
        let (status, html) = c.track(&number, &code).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("负责的部门"), "{html}");
        for secret in [
            "内部备注",
            "批次质量问题",
            "售后王经理",
            "客服李娜",
            "售后服务部",
            "13912345678",
            "139 1234 5678",
            "孙女士",
        ] {
            assert!(!html.contains(secret), "the customer page shows {secret}");
        }

        // A form from another site is refused before anything is looked at.
        let (status, _) = c
            .post_with(
                "/portal/track",
                &[("number", &number), ("code", &code)],
                &[("origin", "http://evil.example")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, html) = c
            .post_with(
                "/portal/track",
                &[("number", &number), ("code", &code)],
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("其他网站"), "{html}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_filing_flood_from_one_address_gets_429_and_writes_nothing(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        for _ in 0..5 {
            c.file_sample().await;
        }
        let (status, html) = c.file(&sample(), &[("photo.png", PNG.to_vec())]).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("操作太频繁"), "a readable page: {html}");
        assert_eq!(app.complaint_count().await, 5, "the sixth was not filed");
        // The window passes; the next number follows the fifth: the refused
        // filing drew no number and left nothing behind.
        app.clock.advance(SignedDuration::from_mins(11));
        let (number, code) = c.file_sample().await;
        assert!(number.ends_with("-0006"), "{number}");
        assert_eq!(app.complaint_count().await, 6);
        assert_eq!(c.track(&number, &code).await.0, StatusCode::OK);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn twenty_wrong_tracking_attempts_lock_the_address_for_an_hour(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let (number, code) = c.file_sample().await;
        for i in 0..20 {
            let (status, _) = c.track(&number, &format!("WRONG{i:03}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "attempt {i}");
        }
        // Locked: even the right code is refused, so guessing learns nothing.
        let (status, html) = c.track(&number, &code).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("操作太频繁"), "{html}");
        let (status, _) = c
            .post(
                "/portal/answer",
                &[("number", &number), ("code", &code), ("round", "1")],
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(SignedDuration::from_mins(61));
        assert_eq!(c.track(&number, &code).await.0, StatusCode::OK);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn oversized_and_disallowed_files_are_refused_and_file_names_are_cleaned(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let huge = vec![0x42u8; 30 * 1024 * 1024];
        let (status, body, _) = answer_despite_resets(|| async {
            c.try_file(&sample(), &[("huge.jpg", huge.clone())])
                .await
                .map(|(s, h)| (s, Value::String(h), reqwest::header::HeaderMap::new()))
        })
        .await;
        let html = body.as_str().unwrap_or_default();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(html.contains("文件太大"), "{html}");
        assert_eq!(app.complaint_count().await, 0);

        let (status, html) = c
            .file(
                &sample(),
                &[("invoice.exe", b"MZ\x90\x00\x03\x00".to_vec())],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("不支持的文件类型"), "{html}");
        assert_eq!(app.complaint_count().await, 0);

        let (status, html) = c
            .file(&sample(), &[("../../etc/passwd", PNG.to_vec())])
            .await;
        assert_eq!(status, StatusCode::CREATED, "{html}");
        let (number, _) = number_and_code(&html);
        let history = app.history(&number).await;
        let files = history_kind(&history, "attachment_added");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0]["payload"]["filename"], "passwd", "stored cleaned");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_customer_rejects_a_proposal_on_the_portal_and_accepts_the_next(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let (number, code) = c.file_sample().await;
        staff_propose(&app, &number, 300).await;

        let (status, html) = c.track(&number, &code).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("请查看并答复"), "{html}");
        assert_eq!(
            by_id(&html, "proposal-measures").as_deref(),
            Some("上门检测并更换新品")
        );
        assert_eq!(
            by_id(&html, "proposal-compensation").as_deref(),
            Some("300.00 元")
        );
        assert!(!html.contains("售后王经理"), "no staff names");

        let words = "只换新品不够，电到手了，要求退货退款";
        let (status, html) = c
            .post(
                "/portal/answer",
                &[
                    ("number", &number),
                    ("code", &code),
                    ("round", "1"),
                    ("decision", "reject"),
                    ("words", words),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("您不接受这个方案"), "{html}");
        assert_eq!(
            app.complaint("agent1", &number).await["state"],
            "in_progress"
        );
        let history = app.history(&number).await;
        let answers = history_kind(&history, "proposal_answered");
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["payload"]["customer_words"], words);
        assert_eq!(answers[0]["payload"]["accepted"], false);
        assert_eq!(answers[0]["payload"]["by_customer"], true);
        assert!(answers[0]["actor"].is_null(), "no staff member answered");

        // A forged answer to the same round again is refused by the rules.
        let (status, _) = c
            .post(
                "/portal/answer",
                &[
                    ("number", &number),
                    ("code", &code),
                    ("round", "1"),
                    ("decision", "accept"),
                    ("words", "好"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // R-HD-8: a new proposal, until agreement.
        propose(&app, &number, "全额退款并赔偿医药费", 800).await;
        let (status, html) = c
            .post(
                "/portal/answer",
                &[
                    ("number", &number),
                    ("code", &code),
                    ("round", "2"),
                    ("decision", "accept"),
                    ("words", "同意退款"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let api = app.complaint("agent1", &number).await;
        assert_eq!(
            api["state"], "awaiting_approval",
            "800 yuan needs the GM: {api}"
        );

        // Staff read the customer's own answers, named as theirs.
        let (cookie, _) = app.session("agent1").await;
        let staff_page = app
            .http
            .get(app.at(&format!("/complaints/{number}")))
            .header("cookie", format!("kesu_session={cookie}"))
            .send()
            .await
            .expect("staff page")
            .text()
            .await
            .unwrap_or_default();
        assert!(staff_page.contains(words) && staff_page.contains("同意退款"));
        assert!(
            staff_page.matches("客户（网上）").count() >= 3,
            "filing and two answers"
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_portal_survey_is_the_follow_up_and_not_satisfied_reopens(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let c = Customer::new(&app);
        let (number, code) = c.file_sample().await;
        staff_propose(&app, &number, 0).await;
        // The customer told customer service by phone; general, under the limit.
        app.act(
            "agent1",
            &number,
            "proposals/1/answer",
            json!({"accepted": true, "customer_words": "电话里说可以"}),
        )
        .await;
        staff_feed_back(&app, &number).await;

        let (_, html) = c.track(&number, &code).await;
        assert!(
            html.contains("id=\"survey-form\""),
            "the survey is offered: {html}"
        );
        let (status, html) = c
            .post(
                "/portal/survey",
                &[
                    ("number", &number),
                    ("code", &code),
                    ("satisfied", "no"),
                    ("score", "2"),
                    ("comment", "新的还是有点漏电"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("重新处理"), "{html}");
        let api = app.complaint("agent1", &number).await;
        assert_eq!(api["state"], "reopened");
        let history = app.history(&number).await;
        let surveys = history_kind(&history, "followed_up");
        assert_eq!(surveys[0]["payload"]["outcome"], "not_satisfied");
        assert_eq!(surveys[0]["payload"]["score"], 2);
        assert_eq!(surveys[0]["payload"]["comment"], "新的还是有点漏电");
        assert_eq!(surveys[0]["payload"]["by_customer"], true);

        // Handled again; this time satisfied, and customer service closes.
        app.act(
            "mgr_service",
            &number,
            "contacts",
            json!({"method": "phone", "summary": "再次上门"}),
        )
        .await;
        propose(&app, &number, "换一台不同型号并检查插座", 0).await;
        app.act(
            "agent1",
            &number,
            "proposals/2/answer",
            json!({"accepted": true, "customer_words": "可以"}),
        )
        .await;
        staff_feed_back(&app, &number).await;
        let (status, html) = c
            .post(
                "/portal/survey",
                &[
                    ("number", &number),
                    ("code", &code),
                    ("satisfied", "yes"),
                    ("score", "5"),
                    ("comment", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(!html.contains("id=\"survey-form\""), "answered: no form");
        let api = app.complaint("agent1", &number).await;
        assert_eq!(api["state"], "follow_up");
        app.act("agent1", &number, "close", json!({})).await;
        let (_, html) = c.track(&number, &code).await;
        assert!(html.contains("已处理完毕并结案"), "{html}");

        // A closed complaint takes no more answers.
        let (status, _) = c
            .post(
                "/portal/survey",
                &[("number", &number), ("code", &code), ("satisfied", "no")],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        app.stop().await;
    }
);

/// A customer's phone: headless Chromium at 390×844.
struct Phone<'a> {
    b: fantoccini::Client,
    app: &'a TestApp,
}

impl Phone<'_> {
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .b
            .wait()
            .at_most(std::time::Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let url = self.b.current_url().await.map(|u| u.to_string());
                let html = self.b.source().await.unwrap_or_default();
                let text: String = html
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(3000)
                    .collect();
                panic!("no element {css} ({e}) at {url:?}: {text}")
            }
        }
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    async fn go(&self, path: &str) {
        self.b.goto(&self.app.at(path)).await.expect("navigate");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn expect_state(&self, state: &str) {
        self.find(&format!("#status[data-state='{state}']")).await;
    }

    async fn fits(&self, what: &str) {
        let v = self
            .b
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .expect("measure");
        let (scroll, inner) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
        assert!(
            scroll <= inner,
            "{what}: page is {scroll}px wide in a {inner}px window"
        );
    }
}

kesu_storage::both_backends!(
    async fn on_a_phone_a_customer_files_tracks_rejects_a_proposal_and_answers_the_survey(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let driver = crate::browser::Driver::start().await;
        let p = Phone {
            b: driver.browser(390, 844).await,
            app: &app,
        };

        // File, with a photo.
        p.go("/portal").await;
        p.fits("the complaint form").await;
        p.type_into("#customer_name", "孙女士").await;
        p.type_into("#customer_phone", "13912345678").await;
        p.type_into(
            "#description",
            "昨天买的电饭煲第一次用就漏电，手被电了一下，要求退货并赔偿",
        )
        .await;
        p.type_into("#order_ref", "DD20261120-88").await;
        let photo = std::env::temp_dir().join(format!(
            "kesu-portal-{}-{}.png",
            std::process::id(),
            app.backend_name()
        ));
        std::fs::write(&photo, PNG).expect("write photo");
        p.find("#files")
            .await
            .send_keys(&photo.to_string_lossy())
            .await
            .expect("choose photo");
        p.click("#file-submit").await;
        let number = p.text("#number").await;
        let code = p.text("#code").await;
        assert!(number.starts_with("KS-"), "{number}");
        assert_eq!(code.len(), 9, "ABCD-EFGH: {code}");
        assert!(
            p.text("#contact-by").await.contains("2026-11-23 22:00"),
            "the fast track"
        );
        p.fits("the acknowledgement").await;
        let _ = std::fs::remove_file(&photo);

        // Track straight away.
        p.click("#track-now").await;
        p.expect_state("received").await;
        p.fits("the tracking page").await;

        // Staff propose; the customer comes back by number and code and rejects.
        staff_propose(&app, &number, 300).await;
        p.go("/portal/track").await;
        p.type_into("#number", &number).await;
        p.type_into("#code", &code.to_lowercase()).await;
        p.click("#track-submit").await;
        p.expect_state("proposed").await;
        assert_eq!(p.text("#proposal-measures").await, "上门检测并更换新品");
        p.fits("the proposal").await;
        p.type_into("#words", "只换新品不够，要求退货退款").await;
        p.click("#reject").await;
        p.expect_state("in_progress").await;
        assert!(p.text("#notice").await.contains("不接受"));

        // A second proposal, accepted on the phone.
        propose(&app, &number, "全额退货退款", 0).await;
        p.click("#refresh").await;
        p.expect_state("proposed").await;
        p.type_into("#words", "同意退货退款").await;
        p.click("#accept").await;
        p.expect_state("executing").await;

        // The result, and the survey: not satisfied reopens it.
        staff_feed_back(&app, &number).await;
        p.click("#refresh").await;
        p.expect_state("fed_back").await;
        p.fits("the survey").await;
        p.click("#satisfied-no").await;
        p.click("#score-2").await;
        p.type_into("#comment", "退款到账太慢").await;
        p.click("#survey-submit").await;
        p.expect_state("reopened").await;
        p.fits("after the survey").await;

        let history = app.history(&number).await;
        let answers = history_kind(&history, "proposal_answered");
        assert_eq!(answers.len(), 2);
        assert!(answers.iter().all(|a| a["payload"]["by_customer"] == true));
        assert_eq!(
            history_kind(&history, "followed_up")[0]["payload"]["comment"],
            "退款到账太慢"
        );
        assert_eq!(history_kind(&history, "attachment_added").len(), 1);

        // The language switch works here too.
        p.click("#lang-switch").await;
        p.b.wait()
            .at_most(std::time::Duration::from_secs(10))
            .for_element(fantoccini::Locator::XPath(
                "//h1[text()='Track your complaint']",
            ))
            .await
            .expect("English page");
        p.fits("in English").await;
        p.b.close().await.expect("close browser");
        app.stop().await;
    }
);
