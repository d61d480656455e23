//! A local HTTP peer standing in for a vendor: an axum server on
//! 127.0.0.1:0 that records each request and answers what the test scripts
//! (the vendor's JSON with a status, or no answer at all).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as the vendor would see it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The query, decoded, in the order sent.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// What the peer answers.
pub enum Reply {
    Json(u16, Value),
    /// Never answers: the client must give up by its own timeout.
    Hang,
}

type Answer = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Peer {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Peer {
    /// Starts the peer; `answer` runs on a blocking thread (it may run
    /// python3 to check a signature).
    pub async fn start(answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port");
        let base_url = format!("http://{}", listener.local_addr().expect("bound"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer: Arc<Answer> = Arc::new(answer);
        let state = (Arc::clone(&seen), answer);
        let app = Router::new().fallback(move |request: Request| {
            let (seen, answer) = state.clone();
            async move { handle(request, seen, answer).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url, seen }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }

    /// The only request so far.
    pub fn one(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(
            seen.len(),
            1,
            "expected exactly one request, got {}",
            seen.len()
        );
        seen.into_iter().next().expect("one request")
    }
}

async fn handle(request: Request, seen: Arc<Mutex<Vec<Seen>>>, answer: Arc<Answer>) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| {
            reqwest::Url::parse(&format!("http://peer/?{q}"))
                .expect("a query")
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let request = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers,
        body,
    };
    seen.lock().expect("not poisoned").push(request.clone());
    let reply = tokio::task::spawn_blocking(move || answer(&request))
        .await
        .expect("the answer does not panic");
    match reply {
        Reply::Json(status, value) => (
            StatusCode::from_u16(status).expect("a status"),
            axum::Json(value),
        )
            .into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

/// Runs a test body with a hard limit, so a hang fails instead of blocking.
pub async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("the test finished within 30 s")
}
