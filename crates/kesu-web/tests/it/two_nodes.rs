//! Two kesu nodes on one database: sessions, numbers and attachments are in
//! the database, so either node serves what the other wrote.

use std::sync::Arc;

use kesu_web::{AppState, WebConfig};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, sample_complaint};

/// A second node: the same router on the same database, with its own
/// connection pool and port.
async fn second_node(app: &TestApp) -> (String, tokio::task::JoinHandle<()>) {
    // Its own pool, as a second process would have.
    let db = kesu_storage::Db::connect(app.database_url())
        .await
        .expect("second pool");
    let state = AppState::new(
        db,
        Arc::clone(&app.clock) as Arc<dyn kesu_web::Clock>,
        WebConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let router = kesu_web::router(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, task)
}

kesu_storage::both_backends!(
    async fn a_second_node_serves_the_sessions_numbers_and_files_of_the_first(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let (node_b, task) = second_node(&app).await;

        // Log in on node A; the same cookie works on node B.
        kesu_notify::install_crypto_provider();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let r = http
            .post(app.at("/login"))
            .form(&[
                ("username", "agent1"),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        kesu_notify::install_crypto_provider();
        let on_b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        let r = on_b
            .get(format!("{node_b}/complaints?queue=mine"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the session made on node A is known on node B"
        );

        // Registrations on both nodes at once never share a number.
        let token = app.tokens["agent1"].clone();
        let mut calls = Vec::new();
        for i in 0..40 {
            let base = if i % 2 == 0 {
                app.url.clone()
            } else {
                node_b.clone()
            };
            let client = on_b.clone();
            let token = token.clone();
            calls.push(tokio::spawn(async move {
                let r = client
                    .post(format!("{base}/api/v1/complaints"))
                    .bearer_auth(token)
                    .json(&sample_complaint())
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), StatusCode::CREATED);
                let body: serde_json::Value = r.json().await.expect("json");
                body["number"].as_str().unwrap_or_default().to_owned()
            }));
        }
        let mut numbers = Vec::new();
        for c in calls {
            numbers.push(c.await.expect("task"));
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 40, "40 registrations, 40 different numbers");
        assert_eq!(numbers.last().map(String::as_str), Some("KS-20261123-0040"));

        // A file stored through node A downloads from node B.
        let number = numbers[0].clone();
        let (status, _, _) = app
            .upload(
                "agent1",
                &number,
                "evidence",
                "照片.jpg",
                vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let list: serde_json::Value = on_b
            .get(format!("{node_b}/api/v1/complaints/{number}/attachments"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let id = list[0]["id"].as_i64().unwrap_or_default();
        let bytes = on_b
            .get(format!(
                "{node_b}/api/v1/complaints/{number}/attachments/{id}"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(bytes.as_ref(), &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);

        task.abort();
        app.stop().await;
    }
);
