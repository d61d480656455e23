//! The public intake API (`/api/v1/intake`): integration keys made and
//! revoked by an admin, what a key may and may not do, `Idempotency-Key`
//! (replay, reuse with another body, concurrent requests, expiry), photos in
//! base64.

use base64::Engine as _;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ApiClient, TestApp, assert_problem};
use crate::portal::PNG;

/// A complaint as the app sends it.
pub fn app_complaint() -> Value {
    json!({
        "customer": {"name": "刘女士", "phone": "13911112222"},
        "description": "在App下单的洗衣机送来时外壳有凹痕，要求换货",
        "order_ref": "APP-20261123-88"
    })
}

/// Creates an integration straight in the database; returns its key.
pub async fn integration_key(app: &TestApp, name: &str, channel: kesu_domain::Channel) -> String {
    app.db
        .create_integration(name, channel, None, app.now())
        .await
        .expect("create integration")
        .1
}

async fn file(client: &ApiClient, body: &Value, key: Option<&str>) -> crate::helpers::Answer {
    match key {
        Some(k) => {
            client
                .post_with_headers("/api/v1/intake/complaints", body, &[("idempotency-key", k)])
                .await
        }
        None => client.post("/api/v1/intake/complaints", body).await,
    }
}

kesu_storage::both_backends!(
    async fn an_integration_key_files_a_complaint_and_reads_back_its_status_only(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let key = integration_key(&app, "App", kesu_domain::Channel::App).await;
        assert!(key.starts_with("ki_"));
        let client = app.with_token(&key);
        let (s, body, h) = file(&client, &app_complaint(), None).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let number = body["number"].as_str().expect("number").to_owned();
        assert_eq!(body["state"], "received");
        assert_eq!(
            body["tracking_code"].as_str().map(str::len),
            Some(9),
            "ABCD-EFGH: {body}"
        );
        assert!(
            body["contact_by"]
                .as_str()
                .is_some_and(|t| t > body["received_at"].as_str().unwrap_or(""))
        );
        assert!(body["resolve_by"].as_str().is_some());
        assert_eq!(
            h.get("location").and_then(|v| v.to_str().ok()),
            Some(format!("/api/v1/intake/complaints/{number}").as_str())
        );
        // Staff see it with the integration's channel, received from the customer.
        let seen = app.complaint("agent1", &number).await;
        assert_eq!(seen["channel"], "app");
        assert_eq!(seen["state"], "received");
        assert_eq!(seen["customer"]["name"], "刘女士", "{seen}");
        // The tracking code works on the portal.
        let code = body["tracking_code"].as_str().unwrap_or_default();
        assert!(
            app.db
                .tracking_code_matches(&number, &code.replace('-', ""))
                .await
                .expect("match")
        );
        // The status, read back by the key that filed it.
        let (s, status, _) = client
            .get(&format!("/api/v1/intake/complaints/{number}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{status}");
        assert_eq!(status["state"], "received");
        assert_eq!(status["contact_by"], body["contact_by"]);
        // Another integration does not see it.
        let other = app.with_token(&integration_key(&app, "官网", kesu_domain::Channel::Web).await);
        let answer = other
            .get(&format!("/api/v1/intake/complaints/{number}"))
            .await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        // A staff token is not an integration key.
        let answer = file(&app.client("agent1"), &app_complaint(), None).await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_integration_key_is_refused_on_every_other_route(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let key = integration_key(&app, "小程序", kesu_domain::Channel::Wechat).await;
        let client = app.with_token(&key);
        let (_, filed, _) = file(&client, &app_complaint(), None).await;
        let number = filed["number"].as_str().expect("number").to_owned();
        let gets = [
            "/api/v1/complaints".to_owned(),
            format!("/api/v1/complaints/{number}"),
            format!("/api/v1/complaints/{number}/history"),
            "/api/v1/departments".to_owned(),
            "/api/v1/users".to_owned(),
            "/api/v1/customers?phone=13911112222".to_owned(),
        ];
        for path in &gets {
            let answer = client.get(path).await;
            assert_problem(&answer, StatusCode::FORBIDDEN, "integration_key_scope");
        }
        let posts = [
            (
                "/api/v1/complaints".to_owned(),
                json!({"channel": "app", "customer": {"name": "x", "phone": "13911112222"}, "description": "x"}),
            ),
            (format!("/api/v1/complaints/{number}/register"), json!({})),
            (
                format!("/api/v1/complaints/{number}/withdraw"),
                json!({"reason": "x"}),
            ),
            (
                "/api/v1/departments".to_owned(),
                json!({"code": "x", "name": "x"}),
            ),
        ];
        for (path, body) in &posts {
            let answer = client.post(path, body).await;
            assert_problem(&answer, StatusCode::FORBIDDEN, "integration_key_scope");
        }
        assert_eq!(app.complaint_count().await, 1, "nothing else was written");
        // A revoked key files nothing.
        let id = app.db.integrations().await.expect("list")[0].id;
        assert!(
            app.db
                .revoke_integration(id, app.now())
                .await
                .expect("revoke")
        );
        let answer = file(&client, &app_complaint(), None).await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
        let answer = client.get("/api/v1/complaints").await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_retried_request_files_one_complaint_and_a_reused_key_is_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let client = app.with_token(&integration_key(&app, "App", kesu_domain::Channel::App).await);
        let (s1, first, _) = file(&client, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(s1, StatusCode::CREATED, "{first}");
        let (s2, again, h) = file(&client, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(s2, StatusCode::CREATED, "{again}");
        assert_eq!(again, first, "the same answer, tracking code included");
        assert_eq!(
            h.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
            Some("true")
        );
        assert_eq!(app.complaint_count().await, 1);
        // The same key with another body: a clear refusal, nothing written.
        let mut other = app_complaint();
        other["description"] = json!("另一件事：送货员态度很差");
        let answer = file(&client, &other, Some("order-88-try")).await;
        assert_problem(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        );
        assert!(
            answer.1["detail"]
                .as_str()
                .is_some_and(crate::helpers::has_cjk)
        );
        assert_eq!(app.complaint_count().await, 1);
        let kept = app
            .complaint("agent1", first["number"].as_str().unwrap_or_default())
            .await;
        assert_eq!(kept["description"], app_complaint()["description"]);
        let (_, still, _) = file(&client, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(still, first, "the first answer stands");
        // Bad input stores nothing: the key may be sent again, corrected.
        let answer = file(
            &client,
            &json!({"customer": {"name": "刘女士"}, "description": "x"}),
            Some("fix-me"),
        )
        .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let (s, fixed, _) = file(&client, &other, Some("fix-me")).await;
        assert_eq!(s, StatusCode::CREATED, "{fixed}");
        assert_ne!(fixed["number"], first["number"]);
        // Another integration's key of the same name is its own.
        let web = app.with_token(&integration_key(&app, "官网", kesu_domain::Channel::Web).await);
        let (s, theirs, _) = file(&web, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_ne!(theirs["number"], first["number"]);
        // A malformed key is refused before anything.
        let long = "k".repeat(256);
        let answer = file(&client, &app_complaint(), Some(&long)).await;
        assert_problem(&answer, StatusCode::BAD_REQUEST, "malformed_json");
        // After 24 hours the key is forgotten: the same request files anew.
        app.clock.advance(SignedDuration::from_hours(25));
        let (s, later, h) = file(&client, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(h.get("idempotent-replayed").is_none());
        assert_ne!(later["number"], first["number"]);
        assert_eq!(app.complaint_count().await, 4);
        // The hourly housekeeping removes the keys past their window (fix-me
        // and the other integration's) and keeps the one just used.
        let forgotten = app.db.forget_idempotency_keys(app.now()).await;
        assert_eq!(forgotten.expect("forget"), 2);
        let (_, replay, h) = file(&client, &app_complaint(), Some("order-88-try")).await;
        assert_eq!(replay, later, "the fresh key still replays");
        assert_eq!(
            h.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
            Some("true")
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn concurrent_requests_with_one_key_file_one_complaint(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let client = app.with_token(&integration_key(&app, "App", kesu_domain::Channel::App).await);
        let body = app_complaint();
        let tries = (0..8).map(|_| {
            let (client, body) = (client.clone(), body.clone());
            tokio::spawn(async move { file(&client, &body, Some("same-moment")).await })
        });
        let mut numbers = Vec::new();
        for t in tries {
            let (s, answer, _) = t.await.expect("task");
            assert_eq!(s, StatusCode::CREATED, "{answer}");
            numbers.push(answer["number"].as_str().expect("number").to_owned());
        }
        numbers.dedup();
        assert_eq!(numbers.len(), 1, "one number for all: {numbers:?}");
        assert_eq!(app.complaint_count().await, 1);
        // Concurrent requests with one key and different bodies: one files,
        // the others are refused.
        let tries = (0..4).map(|i| {
            let client = client.clone();
            let mut body = app_complaint();
            body["description"] = json!(format!("第{i}次：送来的洗衣机外壳凹陷"));
            tokio::spawn(async move { file(&client, &body, Some("raced")).await })
        });
        let mut created = 0;
        for t in tries {
            let answer = t.await.expect("task");
            if answer.0 == StatusCode::CREATED {
                created += 1;
            } else {
                assert_problem(
                    &answer,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                );
            }
        }
        assert_eq!(created, 1);
        assert_eq!(app.complaint_count().await, 2);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn photos_come_as_base64_and_bad_ones_are_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let client = app.with_token(&integration_key(&app, "App", kesu_domain::Channel::App).await);
        let mut body = app_complaint();
        body["photos"] = json!([{"filename": "凹痕.png", "data": base64::engine::general_purpose::STANDARD.encode(PNG)}]);
        let (s, filed, _) = file(&client, &body, None).await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let number = filed["number"].as_str().unwrap_or_default();
        let (_, files, _) = app
            .client("agent1")
            .get(&format!("/api/v1/complaints/{number}/attachments"))
            .await;
        assert_eq!(files[0]["filename"], "凹痕.png", "{files}");
        assert_eq!(files[0]["content_type"], "image/png");
        for (photos, field) in [
            (
                json!([{"filename": "a.png", "data": "不是base64!!"}]),
                "photos",
            ),
            (json!([{"filename": "a.png"}]), "photos"),
            (
                json!([{"filename": "a.exe", "data": base64::engine::general_purpose::STANDARD.encode(b"MZ\x90\0binary")}]),
                "",
            ),
        ] {
            let mut bad = app_complaint();
            bad["photos"] = photos;
            let answer = file(&client, &bad, Some("photo-try")).await;
            assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
            if !field.is_empty() {
                assert_eq!(answer.1["field"], field);
            }
        }
        // Fields only staff set are not taken.
        let mut staff_only = app_complaint();
        staff_only["severity"] = json!("major");
        let answer = file(&client, &staff_only, None).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let answer = client
            .post_raw("/api/v1/intake/complaints", "application/json", "{not json")
            .await;
        assert_problem(&answer, StatusCode::BAD_REQUEST, "malformed_json");
        assert_eq!(app.complaint_count().await, 1);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_admin_creates_lists_and_revokes_integration_keys_on_a_page(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let (cookie, csrf) = app.session("admin1").await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let cookie = format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE);
        let post = |path: &str, form: Vec<(&str, &str)>| {
            http.post(app.at(path))
                .header("cookie", &cookie)
                .form(&form)
                .send()
        };
        let res = post(
            "/admin/integrations",
            vec![("csrf", &csrf), ("name", "官网"), ("channel", "web")],
        )
        .await
        .expect("post");
        assert_eq!(res.status(), StatusCode::CREATED);
        let html = res.text().await.unwrap_or_default();
        let at = html.find("id=\"new-key\">").expect("the key is shown") + 13;
        let key = html[at..].split('<').next().unwrap_or_default().to_owned();
        assert!(key.starts_with("ki_"), "{key}");
        // Shown once: the list names it but never shows the key again.
        let html = http
            .get(app.at("/admin/integrations"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .unwrap_or_default();
        assert!(html.contains("官网") && html.contains("从未使用"));
        assert!(!html.contains(&key));
        let client = app.with_token(&key);
        let (s, _, _) = file(&client, &app_complaint(), None).await;
        assert_eq!(s, StatusCode::CREATED);
        let html = http
            .get(app.at("/admin/integrations"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .unwrap_or_default();
        assert!(!html.contains("从未使用"), "the last use is listed");
        // Bad input: a readable page, nothing created.
        for form in [
            vec![("csrf", csrf.as_str()), ("name", ""), ("channel", "web")],
            vec![("csrf", csrf.as_str()), ("name", "x"), ("channel", "phone")],
            vec![
                ("csrf", csrf.as_str()),
                ("name", "官网"),
                ("channel", "app"),
            ],
        ] {
            let res = post("/admin/integrations", form).await.expect("post");
            assert!(res.status().is_client_error());
            let html = res.text().await.unwrap_or_default();
            assert!(html.contains("id=\"problem\""), "{html}");
        }
        assert_eq!(app.db.integrations().await.expect("list").len(), 1);
        // Only admins.
        let (agent_cookie, agent_csrf) = app.session("agent1").await;
        let res = http
            .post(app.at("/admin/integrations"))
            .header(
                "cookie",
                format!("{}={agent_cookie}", kesu_web::auth::SESSION_COOKIE),
            )
            .form(&[
                ("csrf", agent_csrf.as_str()),
                ("name", "x"),
                ("channel", "web"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Revoke.
        let id = app.db.integrations().await.expect("list")[0].id;
        let res = post(
            &format!("/admin/integrations/{id}/revoke"),
            vec![("csrf", &csrf)],
        )
        .await
        .expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let answer = file(&client, &app_complaint(), None).await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_openapi_document_describes_the_intake_api(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let (s, doc, _) = app.anonymous().get("/api/openapi.json").await;
        assert_eq!(s, StatusCode::OK);
        let post = &doc["paths"]["/api/v1/intake/complaints"]["post"];
        assert!(post["requestBody"].is_object(), "{post}");
        assert!(post["parameters"].to_string().contains("Idempotency-Key"));
        assert!(doc["paths"]["/api/v1/intake/complaints/{number}"]["get"].is_object());
        app.stop().await;
    }
);

/// A case forwarded by 12315, as an agent registers it.
fn forwarded_case(app: &TestApp) -> Value {
    json!({
        "channel": "letter",
        "customer": {"name": "赵先生", "phone": "13700001111"},
        "description": "消费者反映购买的电动车电池三个月即无法充电",
        "forwarded_by": "12315",
        "forwarded_ref": "ZJ12315-2026-000123",
        "reply_due": app.in_days(5),
    })
}

kesu_storage::both_backends!(
    async fn a_case_forwarded_by_a_regulator_is_major_and_its_reply_deadline_is_a_clock(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let body = forwarded_case(&app);
        let created = app.create_complaint("agent1", body.clone()).await;
        let number = created["number"].as_str().expect("number").to_owned();
        assert_eq!(created["severity"], "major", "{created}");
        assert!(
            created["signals"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("regulator")))
        );
        assert_eq!(created["channel"], "letter", "a letter stays a letter");
        assert_eq!(created["forwarded"]["body"], "12315");
        assert_eq!(created["forwarded"]["reference"], "ZJ12315-2026-000123");
        let clock = created["deadlines"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["kind"] == "regulator_reply"))
            .cloned()
            .unwrap_or_else(|| panic!("a regulator_reply deadline: {created}"));
        let due: jiff::Timestamp = clock["due_at"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .expect("due");
        let asked: jiff::Timestamp = body["reply_due"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .expect("asked");
        assert_eq!(due, asked, "the fixed instant given");
        // The engine's proposal names the forwarding body as the reason.
        let history = app.history(&number).await;
        let proposed = history
            .iter()
            .find(|e| e["kind"] == "classification_proposed")
            .expect("proposal");
        assert!(proposed.to_string().contains("全国12315平台"), "{proposed}");
        // A phone channel becomes the body's own channel; the press is media.
        let mut by_press = forwarded_case(&app);
        by_press["channel"] = json!("phone");
        by_press["forwarded_by"] = json!("media");
        let created = app.create_complaint("agent1", by_press).await;
        assert_eq!(created["channel"], "media");
        assert!(
            created["signals"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("media")))
        );
        // Past the reply deadline the sweep records the breach and tells people.
        app.clock.advance(SignedDuration::from_hours(5 * 24 + 1));
        let r = app
            .db
            .sweep_deadlines(
                app.now(),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert!(r.breaches >= 1 && r.notices >= 1, "{r:?}");
        let now = app.complaint("agent1", &number).await;
        let clock = now["deadlines"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["kind"] == "regulator_reply"))
            .cloned()
            .unwrap_or_default();
        assert!(clock["breached_at"].is_string(), "{clock}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn bad_forwarding_details_are_refused_and_nothing_is_written(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let base = forwarded_case(&app);
        let past = (app.now() - SignedDuration::from_hours(1)).to_string();
        for (change, field) in [
            (json!({"forwarded_by": "某报社"}), "forwarded_by"),
            (json!({"reply_due": null}), "reply_due"),
            (json!({"reply_due": "下周一"}), "reply_due"),
            (json!({"reply_due": past}), "reply_due"),
            (json!({"forwarded_by": null}), "forwarded_by"),
        ] {
            let body = crate::helpers::merged(base.clone(), change);
            let answer = agent.post("/api/v1/complaints", &body).await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            assert_eq!(answer.1["field"], field, "{body}");
        }
        assert_eq!(app.complaint_count().await, 0);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_registration_page_takes_a_forwarded_case_and_the_complaint_page_shows_it(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let (cookie, csrf) = app.session("agent1").await;
        let cookie = format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let html = http
            .get(app.at("/complaints/new"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .unwrap_or_default();
        assert!(html.contains("name=\"forwarded_by\"") && html.contains("市场监管局"));
        let res = http
            .post(app.at("/complaints"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("channel", "regulator"),
                ("customer_name", "孙女士"),
                ("customer_phone", "13600002222"),
                ("description", "市场监管局转来：购买的奶粉临近过期未告知"),
                ("forwarded_by", "market_regulator"),
                ("forwarded_ref", "SJ-2026-77"),
                ("reply_due", "2026-11-30T17:00"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let to = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let html = http
            .get(app.at(&to))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            html.contains("转办单位") && html.contains("市场监管局") && html.contains("SJ-2026-77"),
            "{html}"
        );
        assert!(html.contains(r#"data-kind="regulator_reply""#) && html.contains("转办答复"));
        assert!(html.contains("id=\"severity-major\""));
        // A form with an empty forwarding section is an ordinary complaint.
        let res = http
            .post(app.at("/complaints"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("channel", "phone"),
                ("customer_name", "周先生"),
                ("customer_phone", "13600003333"),
                ("description", "空调不制冷"),
                ("forwarded_by", ""),
                ("forwarded_ref", ""),
                ("reply_due", ""),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    }
);

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["number"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

kesu_storage::both_backends!(
    async fn a_new_complaint_proposes_possible_duplicates_to_link_or_merge(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let first = app
            .create_complaint("agent1", json!({"customer": {"name": "王先生", "phone": "13800138000", "email": "wang@example.cn"},
                "description": "保养后空调出风口有异味，希望尽快处理"}))
            .await;
        let a = first["number"].as_str().unwrap_or_default().to_owned();
        // The same customer (by e-mail) on another channel: proposed.
        let key = integration_key(&app, "App", kesu_domain::Channel::App).await;
        let (_, filed, _) = file(
            &app.with_token(&key),
            &json!({"customer": {"name": "王先生", "email": "wang@example.cn"},
            "description": "上周投诉的问题还没人联系我"}),
            None,
        )
        .await;
        let b = filed["number"].as_str().unwrap_or_default().to_owned();
        let seen = app.complaint("agent1", &b).await;
        assert_eq!(
            numbers(&seen["possible_duplicates"]),
            vec![a.clone()],
            "{seen}"
        );
        assert_eq!(seen["possible_duplicates"][0]["reason"], "same_customer");
        // Another customer with much the same words: proposed while open.
        let third = app
            .create_complaint(
                "agent1",
                json!({"customer": {"name": "李女士", "phone": "13900001111"},
                "description": "保养以后空调出风口有很大异味，希望尽快处理"}),
            )
            .await;
        let c = third["number"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            numbers(&third["possible_duplicates"]),
            vec![a.clone()],
            "{third}"
        );
        assert_eq!(third["possible_duplicates"][0]["reason"], "similar_words");
        // Unrelated words and customers: nothing.
        let other = app
            .create_complaint("agent1", json!({"customer": {"name": "钱先生", "phone": "13500005555"}, "description": "销售顾问承诺的赠品没有给"}))
            .await;
        assert_eq!(numbers(&other["possible_duplicates"]), Vec::<String>::new());
        // Link: seen on both, no longer proposed.
        let (s, linked, _) = agent
            .post(
                &format!("/api/v1/complaints/{b}/links"),
                &json!({"number": a}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{linked}");
        assert_eq!(numbers(&linked["linked"]), vec![a.clone()]);
        assert!(numbers(&linked["possible_duplicates"]).is_empty());
        assert_eq!(
            numbers(&app.complaint("agent1", &a).await["linked"]),
            vec![b.clone()]
        );
        let (s, _, _) = agent
            .post(
                &format!("/api/v1/complaints/{b}/links"),
                &json!({"number": a}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "linking twice changes nothing");
        // Bad links.
        let answer = agent
            .post(
                &format!("/api/v1/complaints/{b}/links"),
                &json!({"number": b}),
            )
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let answer = agent
            .post(&format!("/api/v1/complaints/{b}/links"), &json!({}))
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let answer = agent
            .post(
                &format!("/api/v1/complaints/{b}/links"),
                &json!({"number": "KS-20991231-9999"}),
            )
            .await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        let answer = app
            .client("mgr_sales")
            .post(
                &format!("/api/v1/complaints/{b}/links"),
                &json!({"number": a}),
            )
            .await;
        assert_eq!(
            answer.0,
            StatusCode::NOT_FOUND,
            "a manager sees neither: {}",
            answer.1
        );
        // Merge: the merged one keeps its history and customer and names the
        // survivor; the survivor lists it with its customer's contacts.
        let before = app.history(&c).await.len();
        let (s, merged, _) = agent
            .post(
                &format!("/api/v1/complaints/{c}/merge"),
                &json!({"into": a}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{merged}");
        assert_eq!(merged["state"], "merged");
        assert_eq!(merged["merged_into"], a.as_str());
        assert!(
            numbers(&merged["possible_duplicates"]).is_empty(),
            "a merged complaint proposes nothing"
        );
        assert_eq!(
            app.history(&c).await.len(),
            before + 1,
            "its history is kept"
        );
        let survivor = app.complaint("agent1", &a).await;
        assert_eq!(
            numbers(&survivor["merged_from"]),
            vec![c.clone()],
            "{survivor}"
        );
        assert_eq!(
            survivor["merged_from"][0]["customer"]["phone"],
            "13900001111"
        );
        assert_eq!(survivor["customer"]["phone"], "13800138000");
        assert!(app.history(&a).await.len() >= 2);
        // Outside the window the same customer's old complaints are not proposed.
        app.clock.advance(SignedDuration::from_hours(24 * 31));
        let later = app
            .create_complaint("agent1", json!({"customer": {"name": "王先生", "phone": "13800138000"}, "description": "新买的脚垫尺寸不对"}))
            .await;
        assert!(numbers(&later["possible_duplicates"]).is_empty(), "{later}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_complaint_page_offers_link_and_merge_for_possible_duplicates(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let a = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let b = app
            .create_complaint("agent1", json!({"description": "车子保养后变速箱异响"}))
            .await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (cookie, csrf) = app.session("agent1").await;
        let cookie = format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let page = |n: String| {
            let (http, cookie, url) = (
                http.clone(),
                cookie.clone(),
                app.at(&format!("/complaints/{n}")),
            );
            async move {
                http.get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .expect("get")
                    .text()
                    .await
                    .unwrap_or_default()
            }
        };
        let html = page(b.clone()).await;
        assert!(
            html.contains("可能重复") && html.contains("同一客户"),
            "{html}"
        );
        assert!(
            html.contains(&format!("id=\"link-{a}\""))
                && html.contains(&format!("id=\"merge-{a}\""))
        );
        let res = http
            .post(app.at(&format!("/complaints/{b}/link")))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("number", a.as_str())])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = page(b.clone()).await;
        assert!(
            html.contains("关联投诉")
                && html.contains("id=\"linked\"")
                && !html.contains("可能重复")
        );
        assert!(
            page(a.clone())
                .await
                .contains(&format!("href=\"/complaints/{b}\""))
        );
        // A link to an unknown complaint: a readable page.
        let res = http
            .post(app.at(&format!("/complaints/{b}/link")))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("number", "KS-20991231-9999")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.text().await.unwrap_or_default().contains("<html"));
        app.stop().await;
    }
);
