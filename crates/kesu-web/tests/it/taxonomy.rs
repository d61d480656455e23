//! Sub-categories (industry templates' and the admin's), the sub-category
//! proposed below the engine's category, who confirmed or corrected it,
//! and the classifier's status page with "retrain now" (R-CL-1).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, location, raw_keys};

/// A signed-in browser without a cookie jar: the session cookie on every
/// request, the session's CSRF token for forms.
struct Page {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Page {
    async fn open(app: &TestApp, username: &str) -> Page {
        let (cookie, csrf) = app.session(username).await;
        Page {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("client"),
            base: app.url.clone(),
            cookie: format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE),
            csrf,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }

    async fn get_en(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept-language", "en")
            .send()
            .await
            .expect("get");
        r.text().await.unwrap_or_default()
    }

    /// Posts a form with the session's CSRF token; status and redirect.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        fields.extend_from_slice(form);
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .expect("post");
        let (s, loc) = (r.status(), location(r.headers()));
        (s, loc, r.text().await.unwrap_or_default())
    }
}

fn keywords_of(tree: &Value, code: &str) -> Option<Vec<String>> {
    tree.as_array()?
        .iter()
        .find(|c| c["code"] == code)
        .map(|c| {
            c["keywords"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        })
}

fn active(tree: &Value, code: &str) -> Option<bool> {
    tree.as_array()?
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["active"].as_bool())
}

kesu_storage::both_backends!(
    async fn an_admin_adds_edits_and_switches_off_a_sub_category_and_bad_ones_are_refused(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = app.client("admin1");
        let (_, before, _) = admin.get("/api/v1/categories").await;
        let count = before.as_array().map_or(0, Vec::len);
        // Refused, each naming its field, and nothing stored.
        let refusals = [
            (
                json!({"code": "x1", "parent": "nope", "name_zh": "甲", "keywords": ["甲"]}),
                "parent",
            ),
            (
                json!({"code": "x2", "parent": "pricing", "name_zh": "乙"}),
                "keywords",
            ),
            (
                json!({"code": "x3", "parent": "pricing", "name_zh": "丙", "keywords": " 、,\n "}),
                "keywords",
            ),
            (
                json!({"code": "x4", "parent": "pricing", "name_zh": "丁", "keywords": []}),
                "keywords",
            ),
            (
                json!({"code": "x5", "parent": "pricing", "name_zh": "戊", "keywords": [1]}),
                "keywords",
            ),
            (
                json!({"code": "x6", "parent": "pricing", "name_zh": "己", "keywords": ["这是一个远远超过二十个字的关键词短语而且还在继续写下去"]}),
                "keywords",
            ),
            (
                json!({"code": "Bad Code", "parent": "pricing", "name_zh": "庚", "keywords": ["庚"]}),
                "code",
            ),
        ];
        for (body, field) in &refusals {
            let answer = admin.post("/api/v1/categories", body).await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            assert_eq!(answer.1["field"], *field, "{body}: {}", answer.1);
        }
        let (status, created, _) = admin
            .post(
                "/api/v1/categories",
                &json!({"code": "tag_price", "parent": "pricing", "name_zh": "价签不符", "name_en": "Shelf price", "keywords": "价签\n标价、货架价格"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["parent_code"], "pricing");
        assert_eq!(created["keywords"], json!(["价签", "标价", "货架价格"]));
        // One level deep: not below a sub-category, nor below a switched-off category.
        let answer = admin
            .post(
                "/api/v1/categories",
                &json!({"code": "deeper", "parent": "tag_price", "name_zh": "更细", "keywords": ["价签"]}),
            )
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert_eq!(answer.1["field"], "parent");
        let b = Page::open(&app, "admin1").await;
        let (s, _, _) = b.post("/admin/categories/privacy/toggle", &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let answer = admin
            .post(
                "/api/v1/categories",
                &json!({"code": "leak", "parent": "privacy", "name_zh": "泄露", "keywords": ["泄露"]}),
            )
            .await;
        assert_eq!(answer.1["field"], "parent", "{}", answer.1);
        // A taken code, shipped or not.
        for code in ["tag_price", "safety"] {
            let answer = admin
                .post(
                    "/api/v1/categories",
                    &json!({"code": code, "parent": "pricing", "name_zh": "重复", "keywords": ["重复"]}),
                )
                .await;
            assert_problem(&answer, StatusCode::CONFLICT, "duplicate");
            assert_eq!(answer.1["field"], "code", "{}", answer.1);
        }
        let (_, tree, _) = admin.get("/api/v1/categories").await;
        assert_eq!(
            tree.as_array().map_or(0, Vec::len),
            count + 1,
            "only tag_price: {tree}"
        );
        assert_eq!(keywords_of(&tree, "tag_price").map(|k| k.len()), Some(3));

        // By the admin page: add, edit the phrases, switch off.
        let (s, to, body) = b
            .post(
                "/admin/categories",
                &[
                    ("code", "till_overcharge"),
                    ("name_zh", "收银多收"),
                    ("name_en", "Overcharged at the till"),
                    ("parent", "pricing"),
                    ("keywords", "多收\n扫了两次"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(to, "/admin?saved=1");
        let (s, _, body) = b
            .post(
                "/admin/categories",
                &[
                    ("code", "no_words"),
                    ("name_zh", "无词"),
                    ("parent", "pricing"),
                    ("keywords", ""),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("关键词"), "the page names the field: {body}");
        let (s, _, body) = b
            .post(
                "/admin/categories",
                &[
                    ("code", "till_overcharge"),
                    ("name_zh", "又一个"),
                    ("parent", "pricing"),
                    ("keywords", "多收"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            body.contains("已存在相同的值（代码）"),
            "names the field: {body}"
        );
        let (s, _, _) = b
            .post(
                "/admin/categories/till_overcharge/keywords",
                &[("keywords", "多收、重复扣款、小票金额不对")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, _) = b
            .post(
                "/admin/categories/till_overcharge/keywords",
                &[("keywords", " ")],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "empty phrases refused");
        // Shipped categories keep their rules in the engine.
        let (s, _, _) = b
            .post(
                "/admin/categories/pricing/keywords",
                &[("keywords", "价格")],
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, tree, _) = admin.get("/api/v1/categories").await;
        assert_eq!(
            keywords_of(&tree, "till_overcharge"),
            Some(vec![
                "多收".to_owned(),
                "重复扣款".to_owned(),
                "小票金额不对".to_owned()
            ])
        );
        let (s, html) = b.get("/admin").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains("多收、重复扣款、小票金额不对"),
            "editable on the page"
        );
        assert!(
            html.contains(r#"href="/admin/classifier""#),
            "linked from Settings"
        );
        // Not for others.
        let agent = Page::open(&app, "agent1").await;
        let (s, _, _) = agent
            .post(
                "/admin/categories/till_overcharge/keywords",
                &[("keywords", "别的")],
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Switched off: no longer proposed (nor offered).
        let c = app
            .create_complaint(
                "agent1",
                json!({"description": "结账时收银员扫了两次，多收了我一份钱"}),
            )
            .await;
        let history = app.history(c["number"].as_str().unwrap_or_default()).await;
        assert_eq!(
            history[1]["payload"]["categories"][0][0], "pricing",
            "{}",
            history[1]
        );
        assert_eq!(
            history[1]["payload"]["subcategory"]["code"],
            "till_overcharge"
        );
        let (s, _, _) = b
            .post("/admin/categories/till_overcharge/toggle", &[])
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, tree, _) = admin.get("/api/v1/categories").await;
        assert_eq!(active(&tree, "till_overcharge"), Some(false));
        let c = app
            .create_complaint(
                "agent1",
                json!({"description": "结账时收银员扫了两次，多收了我一份钱"}),
            )
            .await;
        let history = app.history(c["number"].as_str().unwrap_or_default()).await;
        assert!(
            history[1]["payload"].get("subcategory").is_none(),
            "{}",
            history[1]
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_registered_complaint_gets_the_sub_category_its_words_name_below_its_category(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let loaded = app
            .db
            .load_template("car_dealer", app.now())
            .await
            .expect("template");
        assert!(loaded.subcategories > 10);
        let c = app
            .create_complaint(
                "agent1",
                json!({"description": "新车买了不到一个月，变速箱就出故障了，换挡顿挫严重，质量太差"}),
            )
            .await;
        let number = c["number"].as_str().unwrap_or_default().to_owned();
        let history = app.history(&number).await;
        let proposal = &history[1]["payload"];
        assert_eq!(
            proposal["categories"][0][0], "product_quality",
            "{proposal}"
        );
        assert_eq!(
            proposal["subcategory"]["code"], "car_engine_gearbox",
            "{proposal}"
        );
        let phrases = proposal["subcategory"]["phrases"].to_string();
        assert!(
            phrases.contains("变速箱") && phrases.contains("顿挫"),
            "{phrases}"
        );
        // Words that name no sub-category: the category alone.
        let plain = app
            .create_complaint(
                "agent1",
                json!({"description": "买的东西质量太差了，用了两天就坏了"}),
            )
            .await;
        let plain_number = plain["number"].as_str().unwrap_or_default().to_owned();
        let history = app.history(&plain_number).await;
        assert!(
            history[1]["payload"].get("subcategory").is_none(),
            "{}",
            history[1]["payload"]
        );

        // The page shows it and preselects it.
        let b = Page::open(&app, "agent1").await;
        let (s, html) = b.get(&format!("/complaints/{number}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains("› 发动机/变速箱故障"),
            "the proposal on the page"
        );
        assert!(
            html.contains(r#"<option value="car_engine_gearbox" selected>"#),
            "preselected in the classify form"
        );
        assert!(html.contains("细分类"), "the timeline names it");
        for page in [&html, &b.get_en(&format!("/complaints/{number}")).await] {
            assert!(raw_keys(page).is_empty(), "{:?}", raw_keys(page));
        }
        // Confirmed by the agent: the sub-category is the classification.
        let after = app
            .act(
                "agent1",
                &number,
                "classify",
                json!({"category": "car_engine_gearbox", "severity": "general"}),
            )
            .await;
        assert_eq!(after["category"], "car_engine_gearbox");
        let (_, html) = b.get(&format!("/complaints/{number}")).await;
        assert!(html.contains("已确认 · 客服李娜"), "who confirmed");
        // Corrected: what was proposed and what was chosen, and by whom.
        app.act(
            "agent1",
            &plain_number,
            "classify",
            json!({"category": "car_electrical", "severity": "general"}),
        )
        .await;
        let (_, html) = b.get(&format!("/complaints/{plain_number}")).await;
        assert!(
            html.contains("已更正（提议 产品质量 → 选定 电子电气故障）· 客服李娜"),
            "who corrected what"
        );
        let en = b.get_en(&format!("/complaints/{plain_number}")).await;
        assert!(en.contains("Corrected (proposed"), "in English too");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_confirmed_sub_category_trains_its_category_and_odd_codes_do_not_break_training(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        app.db
            .load_template("supermarket", app.now())
            .await
            .expect("template");
        // A desk habit filed under a sub-category of environment.
        let texts = [
            "金卡会员日门口排长队，挤得进不去",
            "金卡会员日人太多了，过道全堵住",
            "金卡会员日的时候停车场和门口乱成一团",
            "金卡会员日现场太吵太挤",
            "又是金卡会员日，店里挤得转不开身",
            "金卡会员日门口一片混乱，没人疏导",
        ];
        for text in texts {
            let c = app
                .create_complaint("agent1", json!({"description": text}))
                .await;
            let n = c["number"].as_str().unwrap_or_default().to_owned();
            app.act(
                "agent1",
                &n,
                "classify",
                json!({"category": "sm_crowding_parking", "severity": "general"}),
            )
            .await;
        }
        // An admin's own top-level category, unknown to the model, and a
        // sub-category switched off since: neither breaks training.
        let admin = app.client("admin1");
        let (s, _, _) = admin
            .post(
                "/api/v1/categories",
                &json!({"code": "membership", "name_zh": "会员事务"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let c = app
            .create_complaint("agent1", json!({"description": "会员卡积分没到账"}))
            .await;
        let n = c["number"].as_str().unwrap_or_default().to_owned();
        app.act(
            "agent1",
            &n,
            "classify",
            json!({"category": "membership", "severity": "general"}),
        )
        .await;
        let c = app
            .create_complaint("agent1", json!({"description": "门口地面有水滑倒了"}))
            .await;
        let n = c["number"].as_str().unwrap_or_default().to_owned();
        app.act(
            "agent1",
            &n,
            "classify",
            json!({"category": "sm_slippery_floor", "severity": "major", "signals": ["safety"]}),
        )
        .await;
        assert!(
            app.db
                .set_category_active("sm_slippery_floor", false)
                .await
                .expect("off")
        );

        let node = kesu_web::AppState::new(
            app.db.clone(),
            app.clock.clone(),
            kesu_web::WebConfig::default(),
        );
        let learned = kesu_web::learning::retrain_if_due(&node, app.now(), 5)
            .await
            .expect("train");
        assert_eq!(
            learned,
            Some(7),
            "six below environment, one below safety, not the unknown one"
        );
        assert!(kesu_web::learning::refresh(&node).await.expect("refresh"));
        let p = node.learned.engine().classify(
            "金卡会员日门口又挤满了人",
            kesu_domain::Channel::Phone,
            Default::default(),
        );
        assert_eq!(
            p.category(),
            "environment",
            "learned as its root: {:?}",
            p.categories
        );
        for c in &p.categories {
            assert!(
                kesu_storage::taxonomy::is_shipped_root(&c.code),
                "roots only: {:?}",
                p.categories
            );
        }
        let status = kesu_web::learning::status(&node, app.now())
            .await
            .expect("status");
        let info = status.stored.expect("stored");
        assert_eq!(
            (info.version, info.desk_examples, info.manual),
            (1, 7, false)
        );
        assert!(
            info.holdout
                .is_some_and(|f| f.complaints > 100 && f.top1 > 0.5)
        );
        assert_eq!(status.since_training, 0);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_classifier_page_shows_the_model_and_retrain_now_trains_once(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Page::open(&app, "admin1").await;
        // A fresh desk: the shipped model, and what it takes to learn.
        let (s, html) = b.get("/admin/classifier").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(r#"data-version="shipped""#), "{html}");
        assert!(html.contains(r#"id="classifier-empty""#));
        assert!(html.contains(r#"<dd id="until-next">50</dd>"#), "{html}");
        assert!(
            html.contains(r#"class="top1""#),
            "the shipped model's figures"
        );
        for page in [&html, &b.get_en("/admin/classifier").await] {
            assert!(raw_keys(page).is_empty(), "{:?}", raw_keys(page));
        }
        // Admins only; the button is a CSRF-protected POST.
        for who in ["agent1", "sup1", "gm1", "mgr_service"] {
            let p = Page::open(&app, who).await;
            assert_eq!(
                p.get("/admin/classifier").await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
            assert_eq!(
                p.post("/admin/classifier/retrain", &[]).await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }
        let r = b
            .http
            .post(format!("{}/admin/classifier/retrain", app.url))
            .header("cookie", &b.cookie)
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "without the token");
        assert_eq!(
            app.db
                .setting("classifier_model_version")
                .await
                .expect("read"),
            None
        );

        let c = app
            .create_complaint("agent1", json!({"description": "收银员态度很差"}))
            .await;
        let n = c["number"].as_str().unwrap_or_default().to_owned();
        app.act(
            "agent1",
            &n,
            "classify",
            json!({"category": "service_attitude", "severity": "general"}),
        )
        .await;
        // Two quick clicks: one training.
        let (s1, to1, _) = b.post("/admin/classifier/retrain", &[]).await;
        let (s2, to2, _) = b.post("/admin/classifier/retrain", &[]).await;
        assert_eq!((s1, s2), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
        assert_eq!(to1, "/admin/classifier?started=1");
        assert_eq!(to2, "/admin/classifier?running=1");
        let (_, html) = b.get(&to2).await;
        assert!(html.contains(r#"id="training-running""#), "says it runs");
        let mut version = None;
        for _ in 0..600 {
            version = app
                .db
                .setting("classifier_model_version")
                .await
                .expect("read");
            if version.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(version.as_deref(), Some("1"), "trained");
        // The lease is free again and no second training follows.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            app.db
                .setting("classifier_model_version")
                .await
                .expect("read")
                .as_deref(),
            Some("1")
        );
        let (_, html) = b.get("/admin/classifier").await;
        assert!(
            html.contains(r#"data-version="1""#),
            "the new version: {html}"
        );
        assert!(!html.contains(r#"id="training-running""#));
        assert!(!html.contains(r#"id="classifier-empty""#));
        let shipped = kesu_classify::SHIPPED_TRAINING_DATA
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        assert!(
            html.contains(&format!("{shipped} 条随附示例 + 1 条本台确认的分类")),
            "{html}"
        );
        assert_eq!(
            html.matches(r#"class="top1""#).count(),
            2,
            "the new model's figures and the shipped one's"
        );
        assert!(html.contains(r#"<dd id="since-training">0</dd>"#));
        assert!(
            !html.contains(r#"id="node-pending""#),
            "this node loaded it"
        );
        for page in [&html, &b.get_en("/admin/classifier").await] {
            assert!(raw_keys(page).is_empty(), "{:?}", raw_keys(page));
        }
        // Again: the version goes up by one.
        let (_, to, _) = b.post("/admin/classifier/retrain", &[]).await;
        assert_eq!(to, "/admin/classifier?started=1");
        for _ in 0..600 {
            if app
                .db
                .setting("classifier_model_version")
                .await
                .expect("read")
                .as_deref()
                == Some("2")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(
            app.db
                .setting("classifier_model_version")
                .await
                .expect("read")
                .as_deref(),
            Some("2")
        );
        app.stop().await;
    }
);
