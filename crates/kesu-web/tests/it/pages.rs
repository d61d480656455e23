//! The staff pages over HTTP (without a browser): login, sessions, CSRF,
//! readable error pages, registration by form, every page for every role.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, USERS, location, raw_keys};

/// A browser-like client: keeps cookies, does not follow redirects.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        kesu_notify::install_crypto_provider();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        Browser {
            http,
            base: app.url.clone(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String, HeaderMap) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get");
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.text().await.unwrap_or_default(), h)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, HeaderMap) {
        self.post_with(path, form, &[]).await
    }

    async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, String, HeaderMap) {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("post");
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.text().await.unwrap_or_default(), h)
    }

    pub(crate) async fn login(&self, username: &str) {
        let (s, _, h) = self
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/complaints"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "login {username}");
        assert_eq!(location(&h), "/complaints");
    }

    /// The CSRF token of the session, read from a page's form.
    async fn csrf(&self) -> String {
        let (_, html, _) = self.get("/complaints/new").await;
        csrf_in(&html)
    }
}

/// The CSRF token in a page's first form.
fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf token")
        + 19;
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

kesu_storage::both_backends!(
    async fn login_opens_a_session_and_a_wrong_password_says_so(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        let (s, html, _) = b.get("/login").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("登录"), "Chinese by default");
        let (s, html, _) = b
            .post(
                "/login",
                &[
                    ("username", "agent1"),
                    ("password", "wrong-password"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(html.contains("用户名或密码不正确"));
        // A foreign `next` is not followed.
        let (s, _, h) = b
            .post(
                "/login",
                &[
                    ("username", "agent1"),
                    ("password", PASSWORD),
                    ("next", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/");
        let (s, html, _) = b.get("/complaints?queue=mine").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("客服李娜"), "the page names who is logged in");
        // Logout ends the session in the database.
        let csrf = b.csrf().await;
        let (s, _, h) = b.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/login");
        let (s, _, h) = b.get("/complaints").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(location(&h).starts_with("/login?next=/complaints"));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_expired_session_leads_back_to_the_login(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        b.login("agent1").await;
        assert_eq!(b.get("/complaints").await.0, StatusCode::OK);
        app.clock.advance(SignedDuration::from_hours(13));
        let (s, _, h) = b.get("/complaints?queue=team").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(location(&h).starts_with("/login?next="), "{h:?}");
        // The API answers 401 problem details for the same expired cookie.
        let r = b
            .http
            .get(format!("{}/api/v1/complaints", app.url))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn forms_without_the_csrf_token_or_from_another_site_are_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let before = app.complaint_count().await;
        let b = Browser::new(&app);
        b.login("agent1").await;
        let form = [
            ("channel", "phone"),
            ("customer_name", "王先生"),
            ("customer_phone", "13800138000"),
            ("description", "投诉内容"),
        ];
        let (s, html, _) = b.post("/complaints", &form).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(html.contains("表单已过期"), "a readable message: {html}");
        let csrf = b.csrf().await;
        let mut with_token = form.to_vec();
        with_token.push(("csrf", &csrf));
        let (s, _, _) = b
            .post_with(
                "/complaints",
                &with_token,
                &[("origin", "http://evil.example")],
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = b
            .post_with(
                "/complaints",
                &with_token,
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Cookie-authenticated API writes need the token as a header too.
        let r = b.http.post(format!("{}/api/v1/complaints", app.url)).json(&json!({"channel":"phone","customer":{"name":"王","phone":"13800138000"},"description":"x"})).send().await.expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.complaint_count().await, before, "nothing was written");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn registering_by_form_acknowledges_the_number_after_the_commit(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        b.login("agent1").await;
        let csrf = b.csrf().await;
        // A known customer is found by phone.
        app.create_complaint("agent1", json!({})).await;
        let (_, html, _) = b.get("/complaints/new?phone=138-0013-8000").await;
        assert!(
            html.contains("id=\"known-customer\""),
            "known customer shown"
        );
        assert!(html.contains("value=\"王先生\""), "name filled in");

        let form = [
            ("csrf", csrf.as_str()),
            ("channel", "walk_in"),
            ("customer_name", "赵女士"),
            ("customer_phone", "13911112222"),
            ("description", "超市买的牛奶过期了"),
            ("category", "product_quality"),
            ("severity", ""),
            ("signals", "safety"),
            ("urgent", "true"),
        ];
        let (s, _, h) = b.post("/complaints", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = location(&h);
        assert!(
            to.starts_with("/complaints/KS-20261123-") && to.ends_with("?created=1"),
            "{to}"
        );
        let number = to
            .trim_start_matches("/complaints/")
            .trim_end_matches("?created=1")
            .to_owned();
        let (s, html, _) = b.get(&to).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&format!("已登记，投诉编号 {number}")));
        let api = app.complaint("agent1", &number).await;
        assert_eq!(api["channel"], "walk_in");
        assert_eq!(api["severity"], "major", "a signal makes it major");
        assert_eq!(api["signals"], json!(["safety"]));
        assert_eq!(api["urgent"], true);

        // A form with a missing field: a readable 422 page, nothing written.
        let before = app.complaint_count().await;
        let (s, html, _) = b
            .post(
                "/complaints",
                &[
                    ("csrf", &csrf),
                    ("channel", "phone"),
                    ("customer_name", "钱先生"),
                    ("customer_phone", "13900000000"),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("客户原话") && html.contains("必填"),
            "names the field: {html}"
        );
        assert_eq!(app.complaint_count().await, before);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_stale_form_and_an_illegal_step_get_readable_refusals(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let b = Browser::new(&app);
        b.login("agent1").await;
        let csrf = b.csrf().await;
        let path = format!("/complaints/{number}/classify");
        let (s, _, h) = b
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("version", "0"),
                    ("category", "repair_quality"),
                    ("severity", "general"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), format!("/complaints/{number}?done=classify"));
        // Someone acts on the old page (version 0): refused, told to reload.
        let (s, html, _) = b
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("version", "0"),
                    ("category", "pricing"),
                    ("severity", "general"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(html.contains("已被他人修改"), "{html}");
        assert!(
            html.contains(&format!("href=\"/complaints/{number}\"")),
            "a way back to the complaint"
        );
        assert_eq!(
            app.complaint("agent1", &number).await["category"],
            "repair_quality",
            "the stale change was not applied"
        );
        // A step the state does not allow.
        let (s, html, _) = b
            .post(
                &format!("/complaints/{number}/feedback"),
                &[("csrf", &csrf), ("method", "phone"), ("content", "x")],
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(html.contains("不能执行"), "{html}");
        // An unknown complaint.
        let (s, html, _) = b.get("/complaints/KS-20990101-0001").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(html.contains("未找到"));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn every_page_renders_for_every_role_without_untranslated_text(backend: Backend) {
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
            json!({"category": "repair_quality", "severity": "major", "signals": ["compensation"]}),
        )
        .await;
        app.act(
            "agent1",
            &number,
            "dispatch",
            json!({"department": "service", "assignee": "mgr_service"}),
        )
        .await;
        for u in USERS {
            let b = Browser::new(&app);
            b.login(u.username).await;
            let admin = u.username == "admin1";
            let mut pages = vec![
                "/complaints?queue=mine".to_owned(),
                "/complaints?queue=team&open=true".to_owned(),
                format!("/complaints/{number}"),
                "/account".to_owned(),
            ];
            if !admin {
                pages.push("/complaints/new".to_owned());
            } else {
                pages.push("/admin".to_owned());
                pages.push("/admin/integrations".to_owned());
                pages.push("/admin/classifier".to_owned());
            }
            for p in &pages {
                let (s, html, _) = b.get(p).await;
                let visible = !(u.username == "mgr_sales" && p.contains("KS-"));
                let expected = if visible {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(s, expected, "{} {p}", u.username);
                assert!(
                    raw_keys(&html).is_empty(),
                    "{} {p}: untranslated {:?}",
                    u.username,
                    raw_keys(&html)
                );
                for lang in ["en"] {
                    let r = b
                        .http
                        .get(format!("{}{p}", app.url))
                        .header("accept-language", lang)
                        .send()
                        .await
                        .expect("get");
                    let html = r.text().await.unwrap_or_default();
                    assert!(
                        raw_keys(&html).is_empty(),
                        "{} {p} ({lang}): untranslated {:?}",
                        u.username,
                        raw_keys(&html)
                    );
                }
            }
            if !admin {
                for p in ["/admin", "/admin/classifier"] {
                    assert_eq!(
                        b.get(p).await.0,
                        StatusCode::FORBIDDEN,
                        "{} may not configure {p}",
                        u.username
                    );
                }
            }
        }
        // The supervisor sees the phone masked on the page.
        let b = Browser::new(&app);
        b.login("sup1").await;
        let (_, html, _) = b.get(&format!("/complaints/{number}")).await;
        assert!(html.contains("138****8000") && !html.contains("13800138000"));
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_admin_sets_up_departments_and_staff_by_form(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        b.login("admin1").await;
        let (_, html, _) = b.get("/admin").await;
        let csrf = csrf_in(&html);
        let (s, _, h) = b
            .post(
                "/admin/departments",
                &[
                    ("csrf", &csrf),
                    ("code", "parts"),
                    ("name", "备品部"),
                    ("site", "main"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{h:?}");
        let (s, _, _) = b
            .post(
                "/admin/users",
                &[
                    ("csrf", &csrf),
                    ("username", "parts_mgr"),
                    ("display_name", "备品孙主管"),
                    ("password", "longenough1"),
                    ("roles", "manager"),
                    ("department", "parts"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, html, _) = b
            .post(
                "/admin/users",
                &[
                    ("csrf", &csrf),
                    ("username", "parts_mgr"),
                    ("display_name", "x"),
                    ("password", "longenough1"),
                    ("roles", "agent"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(html.contains("已存在"));
        let (s, _, _) = b
            .post(
                "/admin/policy",
                &[("csrf", &csrf), ("approval_limit_yuan", "1000")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(
            app.db.policy().await.expect("policy").approval_limit_fen,
            100_000
        );
        let (_, html, _) = b.get("/admin").await;
        assert!(html.contains("备品部") && html.contains("备品孙主管"));
        // The new manager can log in.
        let nb = Browser::new(&app);
        let (s, _, _) = nb
            .post(
                "/login",
                &[
                    ("username", "parts_mgr"),
                    ("password", "longenough1"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn repeated_wrong_passwords_lock_the_username_for_a_while(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        for _ in 0..10 {
            let (s, _, _) = b
                .post(
                    "/login",
                    &[("username", "agent1"), ("password", "guess"), ("next", "/")],
                )
                .await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        // Even the right password is refused now, with a readable page.
        let (s, html, _) = b
            .post(
                "/login",
                &[
                    ("username", "agent1"),
                    ("password", PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("尝试次数过多"), "{html}");
        // Other users are not affected; after the window the user may log in again.
        let other = Browser::new(&app);
        other.login("mgr_service").await;
        app.clock.advance(SignedDuration::from_mins(16));
        b.login("agent1").await;
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn a_handed_out_password_is_replaced_before_anything_else(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        app.db
            .require_password_change(app.user_ids["agent1"])
            .await
            .expect("flag");
        let b = Browser::new(&app);
        b.login("agent1").await;
        let (s, _, h) = b.get("/complaints?queue=mine").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/account?first=1");
        let (s, html, _) = b.get("/account?first=1").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("一次性密码"), "{html}");
        let csrf = csrf_in(&html);
        // The same password again, or a wrong current one, is refused.
        let (s, _, _) = b
            .post(
                "/account/password",
                &[("csrf", &csrf), ("current", PASSWORD), ("new", PASSWORD)],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, html, _) = b
            .post(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current", "wrong"),
                    ("new", "a-new-password"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("当前密码不正确"));
        let (s, _, h) = b
            .post(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current", PASSWORD),
                    ("new", "a-new-password"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), "/", "after the forced change, on to the work");
        assert_eq!(location(&b.get("/").await.2), "/complaints?queue=mine");
        assert_eq!(b.get("/complaints?queue=mine").await.0, StatusCode::OK);
        // The old password no longer works; the new one does.
        let nb = Browser::new(&app);
        let (s, _, _) = nb
            .post(
                "/login",
                &[
                    ("username", "agent1"),
                    ("password", PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = nb
            .post(
                "/login",
                &[
                    ("username", "agent1"),
                    ("password", "a-new-password"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn an_admin_moves_a_person_to_another_department_by_form(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        b.login("admin1").await;
        let (_, html, _) = b.get("/admin").await;
        assert!(html.contains("id=\"admin-edit-user\""));
        let csrf = csrf_in(&html);
        let (s, _, _) = b
            .post(
                "/admin/users/edit",
                &[
                    ("csrf", &csrf),
                    ("username", "mgr_sales"),
                    ("display_name", ""),
                    ("roles", "manager"),
                    ("roles", "supervisor"),
                    ("department", "service"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let u = app
            .db
            .user_by_username("mgr_sales")
            .await
            .expect("db")
            .expect("user");
        assert_eq!(u.department_id, Some(app.departments["service"].0));
        assert_eq!(u.roles, "manager,supervisor");
        assert_eq!(
            u.display_name, "销售赵经理",
            "an empty name keeps the old one"
        );
        let (s, html, _) = b
            .post(
                "/admin/users/edit",
                &[
                    ("csrf", &csrf),
                    ("username", "mgr_sales"),
                    ("display_name", ""),
                    ("department", "service"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "at least one role");
        assert!(html.contains("角色"), "{html}");
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn photos_handed_in_at_registration_are_stored_with_it_or_refused_whole(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let b = Browser::new(&app);
        b.login("agent1").await;
        let csrf = b.csrf().await;
        let form = |files: Vec<(&'static str, Vec<u8>)>| {
            let mut f = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text("channel", "walk_in")
                .text("customer_name", "孙女士")
                .text("customer_phone", "13700001111")
                .text("description", "收银台多收了钱，有小票为证")
                .text("signals", "")
                .text("signals", "large_loss");
            for (name, data) in files {
                f = f.part(
                    "files",
                    reqwest::multipart::Part::bytes(data).file_name(name),
                );
            }
            f
        };
        let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        let r = b
            .http
            .post(app.at("/complaints"))
            .multipart(form(vec![
                ("小票.jpg", jpeg.clone()),
                ("../../etc/证据.pdf", b"%PDF-1.4 x".to_vec()),
            ]))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(r.headers());
        let number = to
            .trim_start_matches("/complaints/")
            .trim_end_matches("?created=1")
            .to_owned();
        let (_, files, _) = app
            .client("agent1")
            .get(&format!("/api/v1/complaints/{number}/attachments"))
            .await;
        let names: Vec<&str> = files
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["filename"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, vec!["小票.jpg", "证据.pdf"]);
        let history = app.history(&number).await;
        assert_eq!(
            history
                .iter()
                .filter(|e| e["kind"] == "attachment_added")
                .count(),
            2
        );
        assert_eq!(
            app.complaint("agent1", &number).await["signals"],
            json!(["large_loss"])
        );

        // One bad file refuses the whole registration: nothing is written.
        let before = app.complaint_count().await;
        let r = b
            .http
            .post(app.at("/complaints"))
            .multipart(form(vec![
                ("ok.jpg", jpeg),
                ("tool.exe", b"MZ\x90\x00".to_vec()),
            ]))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("不支持的文件类型")
        );
        assert_eq!(app.complaint_count().await, before);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_search_box_opens_a_number_and_lists_a_callers_complaints(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        app.create_complaint(
            "agent1",
            json!({"customer": {"name": "别人", "phone": "13600000000"}}),
        )
        .await;
        let b = Browser::new(&app);
        b.login("agent1").await;
        let (s, _, h) = b.get(&format!("/find?q={}", number.to_lowercase())).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location(&h), format!("/complaints/{number}"));
        let (s, _, h) = b.get("/find?q=138-0013-8000").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = location(&h);
        let (_, html, _) = b.get(&to).await;
        assert!(
            html.contains(&number) && !html.contains("别人"),
            "only the caller's complaints: {to}"
        );
        // Anything else is searched for in the text, by words.
        let (s, _, h) = b.get("/find?q=%E5%BC%82%E5%91%B3").await; // 异味
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = location(&h);
        let (_, html, _) = b.get(&to).await;
        assert!(html.contains(&number), "异味 finds the complaint: {to}");
        assert!(
            html.contains(r#"value="异味""#),
            "the search box keeps the words"
        );
        let (s, _, h) = b.get("/find?q=%E5%B8%82%E9%95%BF").await; // 市长
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, html, _) = b.get(&location(&h)).await;
        assert!(
            html.contains("没有找到含“市长”的投诉") && !html.contains(&number),
            "an empty search says so"
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn each_person_starts_where_their_work_is(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let anonymous = Browser::new(&app);
        assert_eq!(location(&anonymous.get("/").await.2), "/login");
        for (user, start) in [
            ("admin1", "/admin"),
            ("agent1", "/complaints?queue=mine"),
            ("mgr_service", "/complaints?queue=mine"),
        ] {
            let b = Browser::new(&app);
            b.login(user).await;
            assert_eq!(location(&b.get("/").await.2), start, "{user}");
        }
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn the_details_form_corrects_a_plate_and_clears_urgency(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app
            .create_complaint("agent1", json!({"plate": "苏A1234", "urgent": true}))
            .await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let b = Browser::new(&app);
        b.login("agent1").await;
        let (_, html, _) = b.get(&format!("/complaints/{number}")).await;
        assert!(
            html.contains("id=\"action-details\"") && html.contains("value=\"苏A1234\""),
            "the form shows the current values"
        );
        let csrf = b.csrf().await;
        // An unticked box sends only the hidden "false".
        let (s, _, h) = b
            .post(
                &format!("/complaints/{number}/details"),
                &[
                    ("csrf", &csrf),
                    ("plate", "苏A12345"),
                    ("restatement", ""),
                    ("urgent", "false"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{h:?}");
        let c = app.complaint("agent1", &number).await;
        assert_eq!(c["plate"], "苏A12345");
        assert_eq!(c["urgent"], false);
        let (_, html, _) = b.get(&format!("/complaints/{number}")).await;
        assert!(
            html.contains("苏A1234 → 苏A12345"),
            "the timeline shows old and new"
        );
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn clocks_show_on_the_complaint_and_breaches_reach_the_bell(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        // Monday 23 November 2026, 10:00 in Shanghai.
        let c = app.create_complaint("agent1", json!({})).await;
        let number = c["number"].as_str().unwrap_or_default().to_owned();
        let kinds: Vec<&str> = c["deadlines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            vec!["classify", "initial_reply", "progress_report", "resolve"]
        );
        let classify = &c["deadlines"][0];
        assert_eq!(classify["due_at"], "2026-11-23T10:30:00+08:00");
        assert!(classify["met_at"].is_null());
        app.act(
            "agent1",
            &number,
            "classify",
            json!({"category": "repair_quality", "severity": "general"}),
        )
        .await;
        let c = app
            .act(
                "agent1",
                &number,
                "dispatch",
                json!({"department": "service", "assignee": "mgr_service"}),
            )
            .await;
        assert_eq!(c["deadlines"][0]["met_at"], "2026-11-23T10:00:00+08:00");

        let manager = Browser::new(&app);
        manager.login("mgr_service").await;
        let (_, html, _) = manager.get(&format!("/complaints/{number}")).await;
        assert!(
            html.contains(r#"id="unread">1<"#),
            "the bell counts the assignment"
        );
        assert!(
            html.contains(r#"data-kind="first_contact" data-tone="ok""#),
            "the running first-contact clock is shown: {}",
            &html[html.find("id=\"clocks\"").unwrap_or(0)..]
                .chars()
                .take(600)
                .collect::<String>()
        );
        assert!(html.contains("剩余 2小时（工作时间）"));

        // Two and a half hours later the first contact is overdue; the sweep
        // tells the manager, once.
        app.clock.advance(jiff::SignedDuration::from_mins(150));
        let r = app
            .db
            .sweep_deadlines(
                app.now(),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!(r.breaches, 1, "{r:?}");
        assert_eq!(
            app.db
                .sweep_deadlines(
                    app.now(),
                    100,
                    &kesu_storage::deadlines::Outbound::bell_only()
                )
                .await
                .expect("sweep")
                .notices,
            0
        );
        let (_, html, _) = manager.get(&format!("/complaints/{number}")).await;
        assert!(html.contains(r#"data-kind="first_contact" data-tone="late""#));
        assert!(html.contains("已超时 30分"));
        // The supervisor's views of pressing deadlines.
        let other = app.create_complaint("agent1", json!({})).await;
        let other = other["number"].as_str().unwrap_or_default().to_owned();
        let (_, html, _) = manager.get("/complaints?queue=team&due=overdue").await;
        assert!(
            html.contains(&number) && !html.contains(&other),
            "only the overdue one: {number} {other} {}",
            &html[html.find("<main>").unwrap_or(0)..]
        );
        assert!(html.contains(r#"class="due late""#));
        let (_, html, _) = manager.get("/complaints?queue=team&due=soon").await;
        assert!(!html.contains(&number));
        let (s, body, _) = app.client("gm1").get("/api/v1/complaints?due=late").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            body["detail"], "时限筛选: 不是可选的值",
            "the field in words: {body}"
        );
        let (_, html, _) = manager.get("/notices").await;
        assert!(
            html.contains(&format!("投诉 {number} 已分派给您")),
            "{html}"
        );
        assert!(html.contains("“首次联系客户（2小时）”已超时"));
        // The sweep first ran after the due time: the breach, no stale warning.
        assert!(
            html.contains(r#"id="unread">2<"#),
            "the assignment and the breach"
        );
        let csrf = csrf_in(&html);
        let (s, _, _) = manager.post("/notices/read", &[("csrf", &csrf)]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, html, _) = manager.get("/notices").await;
        assert!(!html.contains(r#"id="unread""#));
        assert!(raw_keys(&html).is_empty(), "{:?}", raw_keys(&html));

        // Someone without notices sees an empty state that says what comes here.
        let agent = Browser::new(&app);
        agent.login("gm1").await;
        let (_, html, _) = agent.get("/notices").await;
        assert!(html.contains("暂时没有通知"));
        app.stop().await;
    }
);

#[test]
fn the_untranslated_key_check_finds_keys_in_text_and_attributes() {
    assert_eq!(
        raw_keys(r#"<p>field.due: 不是可选的值</p><input placeholder="queue.search_hint">"#),
        vec!["field.due".to_owned(), "queue.search_hint".to_owned()]
    );
    assert!(raw_keys("<p>截止 2026-11-24 · due.soon field.nothing</p>").is_empty());
}
