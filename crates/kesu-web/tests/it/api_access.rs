//! Who sees what (R-OR-1, R-GV-3), and who may configure the organisation
//! (R-GV-1).

use kesu_storage::both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn listed(app: &TestApp, username: &str) -> Vec<String> {
    let (status, body, _) = app
        .client(username)
        .get("/api/v1/complaints?per_page=200")
        .await;
    assert_eq!(status, StatusCode::OK, "{username}: {body}");
    let mut v: Vec<String> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["number"].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both_backends!(
    async fn managers_see_only_their_department(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let service = app.complaint_in_state("dispatched", json!({})).await;
        let registered = app.complaint_in_state("registered", json!({})).await;
        let sales = app.complaint_in_state("classified", json!({})).await;
        app.act(
            "agent1",
            &sales,
            "dispatch",
            json!({"department": "sales", "assignee": "mgr_sales"}),
        )
        .await;
        // Service asks sales for input on one of its complaints.
        let shared = app.complaint_in_state("in_progress", json!({})).await;
        app.act(
            "mgr_service",
            &shared,
            "tasks",
            json!({"department": "sales", "title": "查询销售记录"}),
        )
        .await;

        let all = sorted(vec![
            service.clone(),
            registered.clone(),
            sales.clone(),
            shared.clone(),
        ]);
        for everyone in ["agent1", "gm1", "sup1", "admin1"] {
            assert_eq!(listed(&app, everyone).await, all, "{everyone}");
        }
        assert_eq!(
            listed(&app, "mgr_service").await,
            sorted(vec![service.clone(), shared.clone()])
        );
        assert_eq!(
            listed(&app, "mgr_sales").await,
            sorted(vec![sales.clone(), shared.clone()])
        );

        // Reading one follows the same rule; an invisible one looks unknown.
        let get = |user: &'static str, n: &str| {
            let client = app.client(user);
            let path = format!("/api/v1/complaints/{n}");
            async move { client.get(&path).await }
        };
        assert_eq!(get("mgr_service", &service).await.0, StatusCode::OK);
        assert_problem(
            &get("mgr_service", &sales).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &get("mgr_service", &registered).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &get("mgr_sales", &service).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        for sub in ["history", "proposals", "tasks", "attachments"] {
            let answer = app
                .client("mgr_sales")
                .get(&format!("/api/v1/complaints/{service}/{sub}"))
                .await;
            assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        // Filtering by another department does not widen the view.
        let service_id = app.departments["service"].0;
        let (status, body, _) = app
            .client("mgr_sales")
            .get(&format!("/api/v1/complaints?department={service_id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let numbers: Vec<&str> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["number"].as_str())
            .collect();
        assert_eq!(numbers, vec![shared.as_str()]);
        app.stop().await;
    }
);

both_backends!(
    async fn contact_details_are_masked_for_roles_that_do_not_need_them(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("dispatched", json!({"customer": {"name": "王先生", "phone": "13800138000", "email": "wang@example.cn"}})).await;
        for (user, phone, email) in [
            ("agent1", "13800138000", "wang@example.cn"),
            ("mgr_service", "13800138000", "wang@example.cn"),
            ("gm1", "13800138000", "wang@example.cn"),
            ("sup1", "138****8000", "w***@example.cn"),
            ("admin1", "138****8000", "w***@example.cn"),
        ] {
            let c = app.complaint(user, &n).await;
            assert_eq!(
                (
                    c["customer"]["phone"].as_str(),
                    c["customer"]["email"].as_str()
                ),
                (Some(phone), Some(email)),
                "{user}"
            );
            assert_eq!(c["customer"]["name"], "王先生");
        }
        // Nor can they look customers up by phone.
        for user in ["sup1", "admin1"] {
            assert_problem(
                &app.client(user)
                    .get("/api/v1/customers?phone=13800138000")
                    .await,
                StatusCode::FORBIDDEN,
                "forbidden",
            );
        }
        let (status, found, _) = app
            .client("agent1")
            .get("/api/v1/customers?phone=13800138000")
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (found[0]["phone"].as_str(), found[0]["complaints"].as_i64()),
            (Some("13800138000"), Some(1)),
            "{found}"
        );
        app.stop().await;
    }
);

both_backends!(
    async fn admins_configure_the_organisation_and_others_may_not(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = app.client("admin1");
        let department = json!({"code": "parts", "name": "备品部"});
        let user = json!({"username": "mgr_parts", "display_name": "备品孙经理", "password": "secret-password", "roles": ["manager"], "department": "parts"});
        let category = json!({"code": "parts_shortage", "parent": "delay", "name_zh": "缺件", "name_en": "Parts shortage", "keywords": ["缺件", "等配件"]});

        for other in ["agent1", "mgr_service", "gm1", "sup1"] {
            let client = app.client(other);
            assert_problem(
                &client.post("/api/v1/departments", &department).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            );
            assert_problem(
                &client.post("/api/v1/users", &user).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            );
            assert_problem(
                &client.post("/api/v1/categories", &category).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            );
        }
        let (_, departments, _) = admin.get("/api/v1/departments").await;
        assert_eq!(
            departments.as_array().map(Vec::len),
            Some(3),
            "{departments}"
        );

        let (status, d, _) = admin.post("/api/v1/departments", &department).await;
        assert_eq!(status, StatusCode::CREATED, "{d}");
        assert_eq!(
            (
                d["code"].as_str(),
                d["name"].as_str(),
                d["active"].as_bool()
            ),
            (Some("parts"), Some("备品部"), Some(true))
        );
        let (status, u, _) = admin.post("/api/v1/users", &user).await;
        assert_eq!(status, StatusCode::CREATED, "{u}");
        assert_eq!(
            (u["username"].as_str(), u["department_id"].as_i64()),
            (Some("mgr_parts"), d["id"].as_i64())
        );
        assert_eq!(u["roles"], json!(["manager"]));
        assert!(
            u.get("password").is_none() && u.get("password_hash").is_none(),
            "{u}"
        );
        let (status, cat, _) = admin.post("/api/v1/categories", &category).await;
        assert_eq!(status, StatusCode::CREATED, "{cat}");
        assert_eq!(cat["parent_code"], "delay");

        // What was configured can be used at once.
        let n = app.complaint_in_state("registered", json!({})).await;
        app.act(
            "agent1",
            &n,
            "classify",
            json!({"category": "parts_shortage"}),
        )
        .await;
        let c = app
            .act(
                "agent1",
                &n,
                "dispatch",
                json!({"department": "parts", "assignee": "mgr_parts"}),
            )
            .await;
        assert_eq!(
            (c["department"].as_str(), c["assignee"].as_str()),
            (Some("备品部"), Some("备品孙经理"))
        );
        // An assignee must belong to the department.
        let wrong = app
            .client("agent1")
            .post(
                &format!("/api/v1/complaints/{n}/dispatch"),
                &json!({"department": "parts", "assignee": "mgr_service"}),
            )
            .await;
        assert_problem(
            &wrong,
            StatusCode::UNPROCESSABLE_ENTITY,
            "assignee_not_in_department",
        );

        // Bad fields are 422 and create nothing.
        for bad in [
            json!({"username": "x", "password": "secret-password", "roles": ["agent"]}),
            json!({"username": "new_agent", "password": "short", "roles": ["agent"]}),
            json!({"username": "new_agent", "password": "secret-password", "roles": ["emperor"]}),
            json!({"username": "new_agent", "password": "secret-password", "roles": ["manager"]}),
            json!({"username": "new_agent", "password": "secret-password", "roles": ["agent"], "department": "nowhere"}),
        ] {
            assert_problem(
                &admin.post("/api/v1/users", &bad).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
            );
        }
        assert_problem(
            &admin
                .post(
                    "/api/v1/departments",
                    &json!({"code": "Bad Code!", "name": "x"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        );
        assert_problem(
            &admin
                .post(
                    "/api/v1/categories",
                    &json!({"code": "orphan", "parent": "nope", "name_zh": "孤儿"}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        );
        let (_, users, _) = admin.get("/api/v1/users").await;
        let names: Vec<&str> = users
            .as_array()
            .expect("users")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(names.len(), USERS.len() + 1, "{names:?}");
        assert!(names.contains(&"mgr_parts"));
        app.stop().await;
    }
);

both_backends!(
    async fn duplicates_are_409(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = app.client("admin1");
        let user = |name: &str| json!({"username": name, "password": "secret-password", "roles": ["agent"], "department": "cs"});
        let dup = admin.post("/api/v1/users", &user("agent1")).await;
        assert_problem(&dup, StatusCode::CONFLICT, "duplicate");
        // Usernames are case-insensitive.
        assert_problem(
            &admin.post("/api/v1/users", &user("AGENT1")).await,
            StatusCode::CONFLICT,
            "duplicate",
        );
        assert_problem(
            &admin
                .post(
                    "/api/v1/departments",
                    &json!({"code": "sales", "name": "又一个销售部"}),
                )
                .await,
            StatusCode::CONFLICT,
            "duplicate",
        );
        assert_problem(
            &admin
                .post(
                    "/api/v1/categories",
                    &json!({"code": "safety", "name_zh": "安全"}),
                )
                .await,
            StatusCode::CONFLICT,
            "duplicate",
        );
        let (_, users, _) = admin.get("/api/v1/users").await;
        assert_eq!(users.as_array().map(Vec::len), Some(USERS.len()));
        let (_, departments, _) = admin.get("/api/v1/departments").await;
        let sales: Vec<&Value> = departments
            .as_array()
            .expect("departments")
            .iter()
            .filter(|d| d["code"] == "sales")
            .collect();
        assert_eq!(
            (sales.len(), sales[0]["name"].as_str()),
            (1, Some("销售部"))
        );
        app.stop().await;
    }
);

both_backends!(
    async fn a_session_cookie_needs_the_csrf_token_to_write(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("registered", json!({})).await;
        let (agent, csrf) = app.session_client("agent1").await;
        // Reading needs only the session.
        let (status, c, _) = agent.get(&format!("/api/v1/complaints/{n}")).await;
        assert_eq!(
            (status, c["number"].as_str()),
            (StatusCode::OK, Some(n.as_str()))
        );
        let path = format!("/api/v1/complaints/{n}/notes");
        let note = json!({"text": "客户情绪激动"});
        // Writing without the CSRF token, with a wrong one, or from another site is refused.
        assert_problem(
            &agent.post(&path, &note).await,
            StatusCode::FORBIDDEN,
            "csrf",
        );
        assert_problem(
            &agent
                .post_with_headers(&path, &note, &[("x-csrf-token", "forged")])
                .await,
            StatusCode::FORBIDDEN,
            "csrf",
        );
        let cross = agent
            .post_with_headers(
                &path,
                &note,
                &[("x-csrf-token", &csrf), ("origin", "https://evil.example")],
            )
            .await;
        assert_problem(&cross, StatusCode::FORBIDDEN, "csrf");
        let cross = agent
            .post_with_headers(
                &path,
                &note,
                &[("x-csrf-token", &csrf), ("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_problem(&cross, StatusCode::FORBIDDEN, "csrf");
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        let (status, body, _) = agent
            .post_with_headers(&path, &note, &[("x-csrf-token", &csrf)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION + 1);
        // An expired or unknown session is no session.
        let (stale, _) = app.session_client("agent1").await;
        app.clock.advance(jiff::SignedDuration::from_hours(13));
        assert_problem(
            &stale.get("/api/v1/complaints").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
        let forged = app
            .anonymous()
            .get_with_headers(
                "/api/v1/complaints",
                &[("cookie", "kesu_session=0123456789abcdef")],
            )
            .await;
        assert_problem(&forged, StatusCode::UNAUTHORIZED, "unauthenticated");
        app.stop().await;
    }
);

both_backends!(
    async fn an_admin_changes_a_users_roles_and_department_and_cannot_lock_themselves_out(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = app.client("admin1");
        let (s, body, _) = admin.post("/api/v1/users", &json!({"username": "zhou", "display_name": "周", "password": "longenough1", "roles": ["agent"], "department": "cs"})).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let patch = |path: &str, body: Value| {
            let req = app.http.patch(app.at(path)).json(&body);
            let c = admin.clone();
            async move { c.send(req).await }
        };
        let (s, body, _) = patch(
            "/api/v1/users/zhou",
            json!({"roles": ["manager"], "department": "service"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["roles"], json!(["manager"]));
        assert_eq!(body["department_id"], json!(app.departments["service"].0));
        assert_eq!(body["display_name"], "周", "untouched fields stay");
        // A manager needs a department; an unknown one is refused.
        let (s, _, _) = patch("/api/v1/users/zhou", json!({"department": ""})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _, _) = patch("/api/v1/users/zhou", json!({"department": "nowhere"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _, _) = patch("/api/v1/users/nobody", json!({"active": false})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // No self-lockout.
        let (s, _, _) = patch("/api/v1/users/admin1", json!({"roles": ["agent"]})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = patch("/api/v1/users/admin1", json!({"active": false})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Others may not.
        let req = app
            .http
            .patch(app.at("/api/v1/users/zhou"))
            .json(&json!({"roles": ["admin"]}));
        let (s, _, _) = app.client("agent1").send(req).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        app.stop().await;
    }
);

both_backends!(
    async fn lists_filter_by_department_code_or_id(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
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
            json!({"department": "service"}),
        )
        .await;
        app.create_complaint("agent1", json!({})).await;
        let agent = app.client("agent1");
        for q in [
            "department=service".to_owned(),
            format!("department={}", app.departments["service"].0),
        ] {
            let (s, body, _) = agent.get(&format!("/api/v1/complaints?{q}")).await;
            assert_eq!(s, StatusCode::OK);
            let items = body["items"].as_array().cloned().unwrap_or_default();
            assert_eq!(items.len(), 1, "{q}: {body}");
            assert_eq!(items[0]["number"], json!(number));
        }
        let (s, _, _) = agent.get("/api/v1/complaints?department=nowhere").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
);

both_backends!(
    async fn staff_of_a_store_see_their_store_and_the_group_sees_all(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let admin = app.client("admin1");
        let (s, body, _) = admin
            .post(
                "/api/v1/sites",
                &json!({"code": "store2", "name": "二号店"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["is_group"], false);
        let (s, _, _) = admin
            .post(
                "/api/v1/departments",
                &json!({"code": "s2cs", "name": "二号店客服", "site": "store2"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, body, _) = admin.post("/api/v1/users", &json!({"username": "agent2", "display_name": "二号店客服", "password": "longenough1", "roles": ["agent"], "department": "s2cs"})).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = kesu_domain::UserId(body["id"].as_i64().unwrap_or_default());
        let token = app.db.create_api_token(id, app.now()).await.expect("token");
        let agent2 = app.with_token(&token);

        let a = app.create_complaint("agent1", json!({})).await;
        assert_eq!(
            a["site"], "总部",
            "group staff register for the first site by default"
        );
        let (s, b, _) = agent2.post("/api/v1/complaints", &sample_complaint()).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["site"], "二号店", "store staff register for their store");
        let c = app
            .create_complaint("agent1", json!({"site": "store2"}))
            .await;
        assert_eq!(c["site"], "二号店", "the group registers for any store");
        let (s, _, _) = agent2
            .post(
                "/api/v1/complaints",
                &merged(sample_complaint(), json!({"site": "main"})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "a store registers only for itself"
        );

        let numbers = |body: &Value| -> Vec<String> {
            body["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i["number"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (_, mine, _) = agent2.get("/api/v1/complaints").await;
        let mut expected = vec![
            c["number"].as_str().unwrap_or_default().to_owned(),
            b["number"].as_str().unwrap_or_default().to_owned(),
        ];
        assert_eq!(numbers(&mine), expected);
        let (s, _, _) = agent2
            .get(&format!(
                "/api/v1/complaints/{}",
                a["number"].as_str().unwrap_or_default()
            ))
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "another store's complaint is not visible"
        );
        let (_, all, _) = app.client("agent1").get("/api/v1/complaints").await;
        assert_eq!(numbers(&all).len(), 3);
        let (_, store2, _) = app
            .client("gm1")
            .get("/api/v1/complaints?site=store2")
            .await;
        expected.sort();
        let mut got = numbers(&store2);
        got.sort();
        assert_eq!(got, expected);
        app.stop().await;
    }
);

both_backends!(
    async fn every_showing_of_unmasked_contact_details_is_recorded(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let path = format!("/api/v1/complaints/{number}/personal-data-views");
        let (s, views, _) = app.client("sup1").get(&path).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(views, json!([]), "registering is not a showing");
        app.client("agent1")
            .get(&format!("/api/v1/complaints/{number}"))
            .await;
        app.client("sup1")
            .get(&format!("/api/v1/complaints/{number}"))
            .await; // masked: not recorded
        app.clock.advance(jiff::SignedDuration::from_mins(1));
        app.client("gm1")
            .get("/api/v1/customers?phone=13800138000")
            .await;
        let (_, views, _) = app.client("sup1").get(&path).await;
        let seen: Vec<(String, String)> = views
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| {
                        (
                            v["username"].as_str().unwrap_or_default().to_owned(),
                            v["purpose"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                ("gm1".to_owned(), "lookup".to_owned()),
                ("agent1".to_owned(), "api".to_owned())
            ]
        );
        let (s, _, _) = app.client("agent1").get(&path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "agents do not audit");
        app.stop().await;
    }
);
