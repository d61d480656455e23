//! Bad input gets a problem (RFC 9457) with a stable type, never a 500, and
//! never writes anything.

use kesu_storage::both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const CREATE: &str = "/api/v1/complaints";

both_backends!(
    async fn malformed_json_is_400(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        for body in [r#"{"channel":"#, "not json", r#"{"channel": "phone",}"#] {
            let answer = agent
                .post_raw(CREATE, "application/json", body.to_owned())
                .await;
            assert_problem(&answer, StatusCode::BAD_REQUEST, "malformed_json");
        }
        // The same on an action.
        let n = app.complaint_in_state("registered", json!({})).await;
        let answer = agent
            .post_raw(
                &format!("{CREATE}/{n}/classify"),
                "application/json",
                "{".to_owned(),
            )
            .await;
        assert_problem(&answer, StatusCode::BAD_REQUEST, "malformed_json");
        assert_eq!(app.complaint_count().await, 1);
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        app.stop().await;
    }
);

both_backends!(
    async fn wrongly_typed_fields_are_422(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        for overrides in [
            json!({"customer": 5}),
            json!({"urgent": "maybe"}),
            json!({"description": ["a", "b"]}),
            json!({"signals": "compensation"}),
        ] {
            let answer = agent
                .post(CREATE, &merged(sample_complaint(), overrides.clone()))
                .await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            assert!(
                answer.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{overrides}: {}",
                answer.1
            );
        }
        let n = app.complaint_in_state("fed_back", json!({})).await;
        let before = app.history(&n).await.len();
        let answer = agent
            .post(
                &format!("{CREATE}/{n}/follow-ups"),
                &json!({"outcome": "satisfied", "score": "five"}),
            )
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let answer = agent
            .post(
                &format!("{CREATE}/{n}/follow-ups"),
                &json!({"outcome": "satisfied", "score": 9}),
            )
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert_eq!(answer.1["field"], "score");
        assert_eq!(app.history(&n).await.len(), before);
        assert_eq!(app.complaint_count().await, 1);
        app.stop().await;
    }
);

both_backends!(
    async fn missing_and_invalid_fields_are_422_naming_the_field(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let cases: Vec<(Value, &str)> = vec![
            (json!({"description": null}), "description"),
            (json!({"description": "   "}), "description"),
            (json!({"customer": {"name": "王先生"}}), "customer.phone"),
            (
                json!({"customer": {"phone": "13800138000"}}),
                "customer.name",
            ),
            (
                json!({"customer": {"name": "王先生", "phone": "call me maybe"}}),
                "customer.phone",
            ),
            (
                json!({"customer": {"name": "王先生", "phone": "12"}}),
                "customer.phone",
            ),
            (
                json!({"customer": {"name": "王先生", "email": "not-an-address"}}),
                "customer.email",
            ),
            (json!({"channel": "carrier_pigeon"}), "channel"),
            (json!({"channel": null}), "channel"),
            (json!({"description": "刹".repeat(20_001)}), "description"),
            (json!({"description": "刹车\u{0007}异响"}), "description"),
            (
                json!({"customer": {"name": "王\u{0000}先生", "phone": "13800138000"}}),
                "customer.name",
            ),
            (json!({"severity": "apocalyptic"}), "severity"),
            (json!({"received_at": "yesterday"}), "received_at"),
        ];
        for (overrides, field) in cases {
            let answer = agent
                .post(CREATE, &merged(sample_complaint(), overrides.clone()))
                .await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            assert_eq!(answer.1["field"], field, "{overrides}: {}", answer.1);
        }
        // "Too long" says so, with the limit.
        let long = agent
            .post(
                CREATE,
                &merged(
                    sample_complaint(),
                    json!({"description": "x".repeat(20_001)}),
                ),
            )
            .await;
        assert_problem(&long, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(
            long.1["detail"]
                .as_str()
                .is_some_and(|d| d.contains("20000")),
            "{}",
            long.1
        );
        // Exactly at the limit is fine.
        app.create_complaint("agent1", json!({"description": "x".repeat(20_000)}))
            .await;
        assert_eq!(app.complaint_count().await, 1);
        app.stop().await;
    }
);

both_backends!(
    async fn an_oversize_body_is_413(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let body = serde_json::to_string(&merged(
            sample_complaint(),
            json!({"description": "x".repeat(11 * 1024 * 1024)}),
        ))
        .expect("json");
        let answer =
            answer_despite_resets(|| agent.try_post_raw(CREATE, "application/json", body.clone()))
                .await;
        assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        let n = app.complaint_in_state("registered", json!({})).await;
        let body = serde_json::to_string(
            &json!({"category": "other", "reason": "x".repeat(11 * 1024 * 1024)}),
        )
        .expect("json");
        let path = format!("{CREATE}/{n}/classify");
        let answer =
            answer_despite_resets(|| agent.try_post_raw(&path, "application/json", body.clone()))
                .await;
        assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert_eq!(app.complaint_count().await, 1);
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        app.stop().await;
    }
);

both_backends!(
    async fn unknown_numbers_and_paths_are_404(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        assert_problem(
            &agent.get(&format!("{CREATE}/KS-20990101-0001")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &agent
                .get(&format!("{CREATE}/KS-20990101-0001/history"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let answer = agent
            .post(
                &format!("{CREATE}/KS-20990101-0001/classify"),
                &json!({"category": "other"}),
            )
            .await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        for bad in ["not-a-number", "KS-2026-1", "KS-20261123-12ab", "%E5%88%B9"] {
            let answer = agent.get(&format!("{CREATE}/{bad}")).await;
            assert!(answer.0.is_client_error(), "{bad}: {}", answer.0);
            assert_problem(&answer, answer.0, "");
        }
        let n = app.complaint_in_state("registered", json!({})).await;
        assert_problem(
            &agent
                .post(&format!("{CREATE}/{n}/explode"), &json!({}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &agent.get("/api/v1/no-such-resource").await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &agent
                .post(&format!("{CREATE}/{n}/proposals/abc/answer"), &json!({}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &agent.get(&format!("{CREATE}/{n}/attachments/999")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        app.stop().await;
    }
);

both_backends!(
    async fn an_illegal_transition_is_409_in_the_readers_language(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let n = app.complaint_in_state("registered", json!({})).await;
        let path = format!("{CREATE}/{n}/feedback");
        let body = json!({"method": "phone", "content": "已告知"});
        let zh = agent.post(&path, &body).await;
        assert_problem(&zh, StatusCode::CONFLICT, "illegal_transition");
        let detail = zh.1["detail"].as_str().unwrap_or_default();
        assert!(
            has_cjk(detail),
            "default detail should be Chinese: {detail:?}"
        );
        let en = agent
            .post_with_headers(&path, &body, &[("accept-language", "en")])
            .await;
        assert_problem(&en, StatusCode::CONFLICT, "illegal_transition");
        let detail = en.1["detail"].as_str().unwrap_or_default();
        assert!(
            detail.chars().any(|c| c.is_ascii_alphabetic()) && !has_cjk(detail),
            "English detail: {detail:?}"
        );
        // A browser preferring English over Chinese gets English too.
        let en = agent
            .post_with_headers(
                &path,
                &body,
                &[("accept-language", "en-US,en;q=0.9,zh-CN;q=0.8")],
            )
            .await;
        assert!(
            !has_cjk(en.1["detail"].as_str().unwrap_or("中")),
            "{}",
            en.1
        );
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        assert_eq!(app.complaint("agent1", &n).await["state"], "registered");
        app.stop().await;
    }
);

both_backends!(
    async fn no_or_bad_token_is_401(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("registered", json!({})).await;
        let strangers = [
            app.anonymous(),
            app.with_token("ks_0000000000000000000000000000000000000000000000000000000000000000"),
            app.with_token("garbage"),
        ];
        for client in &strangers {
            for answer in [
                client.get(CREATE).await,
                client.get(&format!("{CREATE}/{n}")).await,
                client.post(CREATE, &sample_complaint()).await,
                client
                    .post(
                        &format!("{CREATE}/{n}/classify"),
                        &json!({"category": "other"}),
                    )
                    .await,
            ] {
                assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
            }
        }
        // Not "Bearer": refused as well.
        let basic = app
            .anonymous()
            .get_with_headers(
                CREATE,
                &[("authorization", "Basic YWdlbnQxOnBhc3N3b3JkLTEyMw==")],
            )
            .await;
        assert_problem(&basic, StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(app.complaint_count().await, 1);
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);
        app.stop().await;
    }
);

both_backends!(
    async fn roles_beyond_their_rights_are_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("executing", json!({})).await;
        let before = app.history(&n).await.len();
        let path = |action: &str| format!("{CREATE}/{n}/{action}");
        let answer = app
            .client("agent1")
            .post(&path("approvals"), &json!({"approved": true}))
            .await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "not_permitted");
        let answer = app
            .client("admin1")
            .post(
                &path("classify"),
                &json!({"category": "other", "severity": "general"}),
            )
            .await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "not_permitted");
        let answer = app
            .client("sup1")
            .post(
                &path("execution"),
                &json!({"progress": "x", "completed": true}),
            )
            .await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "not_permitted");
        // A manager of another department does not even see it.
        let answer = app
            .client("mgr_sales")
            .post(
                &path("execution"),
                &json!({"progress": "x", "completed": true}),
            )
            .await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        assert_problem(
            &app.client("mgr_sales").get(&format!("{CREATE}/{n}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        // An admin configures, but does not take complaints in.
        let answer = app.client("admin1").post(CREATE, &sample_complaint()).await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "not_permitted");
        assert_eq!(app.history(&n).await.len(), before);
        assert_eq!(app.complaint("agent1", &n).await["state"], "executing");
        assert_eq!(app.complaint_count().await, 1);
        app.stop().await;
    }
);

both_backends!(
    async fn a_stale_version_is_a_conflict(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let agent = app.client("agent1");
        let n = app.complaint_in_state("registered", json!({})).await;
        let (status, seen, headers) = agent.get(&format!("{CREATE}/{n}")).await;
        assert_eq!(status, StatusCode::OK);
        let old = seen["version"].as_i64().expect("version");
        let etag = headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .expect("etag")
            .to_owned();
        assert_eq!(etag, format!("\"{old}\""));

        // Acting on the version just read works and moves it.
        let classify = json!({"category": "repair_quality", "severity": "general"});
        let (status, after, headers) = agent
            .post_with_headers(
                &format!("{CREATE}/{n}/classify"),
                &classify,
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{after}");
        let new = after["version"].as_i64().expect("version");
        assert!(new > old);
        assert_eq!(
            headers.get("etag").and_then(|v| v.to_str().ok()),
            Some(format!("\"{new}\"").as_str())
        );

        // Acting on the old one is refused and changes nothing.
        let history = app.history(&n).await.len();
        let dispatch = json!({"department": "service", "assignee": "mgr_service"});
        let stale = agent
            .post_with_headers(
                &format!("{CREATE}/{n}/dispatch"),
                &dispatch,
                &[("if-match", &etag)],
            )
            .await;
        assert_problem(&stale, StatusCode::CONFLICT, "version_conflict");
        let stale = agent
            .post_with_headers(
                &format!("{CREATE}/{n}/classify"),
                &json!({"category": "other"}),
                &[("if-match", &old.to_string())],
            )
            .await;
        assert_problem(&stale, StatusCode::CONFLICT, "version_conflict");
        let now = app.complaint("agent1", &n).await;
        assert_eq!(
            (
                now["state"].as_str(),
                now["category"].as_str(),
                now["version"].as_i64()
            ),
            (Some("registered"), Some("repair_quality"), Some(new))
        );
        assert_eq!(app.history(&n).await.len(), history);
        // An If-Match that is not a version is a bad request.
        let bad = agent
            .post_with_headers(
                &format!("{CREATE}/{n}/dispatch"),
                &dispatch,
                &[("if-match", "\"yesterday\"")],
            )
            .await;
        assert_problem(&bad, StatusCode::BAD_REQUEST, "");
        // The weak form of the current version is accepted.
        let weak = format!("W/\"{new}\"");
        let (status, _, _) = agent
            .post_with_headers(
                &format!("{CREATE}/{n}/dispatch"),
                &dispatch,
                &[("if-match", &weak)],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        app.stop().await;
    }
);

both_backends!(
    async fn concurrent_actions_on_one_version_let_exactly_one_through(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        for round in 0..3 {
            let n = app.complaint_in_state("classified", json!({})).await;
            let seen = app.complaint("agent1", &n).await;
            let etag = format!("\"{}\"", seen["version"]);
            let history = app.history(&n).await.len();
            let path = format!("{CREATE}/{n}/dispatch");
            let (a, b) = (app.client("agent1"), app.client("agent1"));
            let (to_service, to_sales) = (
                json!({"department": "service", "assignee": "mgr_service"}),
                json!({"department": "sales", "assignee": "mgr_sales"}),
            );
            let if_match = [("if-match", etag.as_str())];
            let (first, second) = tokio::join!(
                a.post_with_headers(&path, &to_service, &if_match),
                b.post_with_headers(&path, &to_sales, &if_match)
            );
            let mut statuses = [first.0, second.0];
            statuses.sort();
            assert_eq!(
                statuses,
                [StatusCode::OK, StatusCode::CONFLICT],
                "round {round}: {} / {}",
                first.1,
                second.1
            );
            let (winner, loser) = if first.0 == StatusCode::OK {
                (&first, &second)
            } else {
                (&second, &first)
            };
            assert_problem(loser, StatusCode::CONFLICT, "version_conflict");
            let now = app.complaint("agent1", &n).await;
            assert_eq!(now["department"], winner.1["department"]);
            assert_eq!(now["version"], winner.1["version"]);
            assert_eq!(
                app.history(&n).await.len(),
                history + 1,
                "round {round}: one dispatch recorded"
            );
        }
        app.stop().await;
    }
);

both_backends!(
    async fn concurrent_actions_without_a_version_are_all_kept(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("registered", json!({})).await;
        let path = format!("{CREATE}/{n}/notes");
        let (agent, sup) = (app.client("agent1"), app.client("sup1"));
        let (first, second) = (
            json!({"text": "客户来电催促"}),
            json!({"text": "督导提醒按时回复"}),
        );
        let (a, b) = tokio::join!(agent.post(&path, &first), sup.post(&path, &second));
        assert_eq!(
            (a.0, b.0),
            (StatusCode::OK, StatusCode::OK),
            "{} / {}",
            a.1,
            b.1
        );
        let history = app.history(&n).await;
        assert_eq!(history.len(), EVENTS_AT_REGISTRATION + 2);
        let seqs: Vec<i64> = history.iter().filter_map(|e| e["seq"].as_i64()).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        let row = app.db.complaint(&n).await.expect("read").expect("stored");
        assert_eq!(
            row.version, 2,
            "one version per action; the proposal comes with the registration"
        );
        app.stop().await;
    }
);

both_backends!(
    async fn bad_attachments_are_refused(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let n = app.complaint_in_state("registered", json!({})).await;
        let list = format!("{CREATE}/{n}/attachments");
        let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
            // Text is only taken from .txt files; the path is never honoured.
            (
                "../../etc/passwd",
                b"root:x:0:0:root:/root:/bin/bash\n".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_file",
            ),
            (
                "setup.exe",
                b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_file",
            ),
            (
                "invoice.pdf",
                b"<script>alert(1)</script>".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_file",
            ),
            (
                "empty.pdf",
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
            ),
            (
                "huge.pdf",
                [b"%PDF-1.4\n".as_slice(), &vec![b'0'; 11 * 1024 * 1024]].concat(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
            ),
        ];
        for (name, data, status, code) in cases {
            let answer = answer_despite_resets(|| {
                app.try_upload("agent1", &n, "evidence", name, data.clone())
            })
            .await;
            assert_problem(&answer, status, code);
        }
        let answer = app
            .upload(
                "agent1",
                &n,
                "contract",
                "ok.pdf",
                b"%PDF-1.4\n%%EOF\n".to_vec(),
            )
            .await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let (status, files, _) = app.client("agent1").get(&list).await;
        assert_eq!((status, files), (StatusCode::OK, json!([])));
        assert_eq!(app.history(&n).await.len(), EVENTS_AT_REGISTRATION);

        // A text file is fine, and its name loses the path.
        let (status, _, _) = app
            .upload(
                "agent1",
                &n,
                "evidence",
                "../../notes/来电记录.txt",
                "客户来电记录".as_bytes().to_vec(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, files, _) = app.client("agent1").get(&list).await;
        assert_eq!(files[0]["filename"], "来电记录.txt", "{files}");
        app.stop().await;
    }
);
