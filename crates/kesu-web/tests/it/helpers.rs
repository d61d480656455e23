//! A running kesu for tests: a fresh database (SQLite or PostgreSQL) with a
//! small organisation, the real router on a local port, a clock that only
//! moves when told, and typed clients for the API.
//!
//! ```ignore
//! both_backends!(async fn something(backend: Backend) {
//!     let Some(app) = TestApp::spawn(backend).await else { return };
//!     let agent = app.client("agent1");
//!     let created = app.create_complaint("agent1", json!({})).await;
//!     …
//!     app.stop().await;
//! });
//! ```
//!
//! The organisation (see [`USERS`]): departments `cs` (客户部), `service`
//! (售后服务部) and `sales` (销售部) under the first site, and one user per
//! role, all with the password [`PASSWORD`] and an API token each.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kesu_domain::{DepartmentId, Role, SiteId, UserId};
use kesu_storage::Db;
use kesu_storage::org::NewUser;
use kesu_storage::testing::{Backend, TestDb};
use kesu_web::{AppState, MockClock, WebConfig};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

/// The password of every test user.
pub const PASSWORD: &str = "password-123";

/// Where the clock stands when the app starts: 10:00 in Shanghai.
pub const START: &str = "2026-11-23T02:00:00Z";

/// The departments: code and name.
pub const DEPARTMENTS: &[(&str, &str)] = &[
    ("cs", "客户部"),
    ("service", "售后服务部"),
    ("sales", "销售部"),
];

/// A test user: username, display name, role and department code.
#[derive(Debug, Clone, Copy)]
pub struct TestUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub department: Option<&'static str>,
}

/// Every user [`TestApp::spawn`] creates.
pub const USERS: &[TestUser] = &[
    TestUser {
        username: "agent1",
        display_name: "客服李娜",
        role: Role::Agent,
        department: Some("cs"),
    },
    TestUser {
        username: "mgr_service",
        display_name: "售后王经理",
        role: Role::Manager,
        department: Some("service"),
    },
    TestUser {
        username: "mgr_sales",
        display_name: "销售赵经理",
        role: Role::Manager,
        department: Some("sales"),
    },
    TestUser {
        username: "gm1",
        display_name: "陈总",
        role: Role::Gm,
        department: None,
    },
    TestUser {
        username: "sup1",
        display_name: "督导周敏",
        role: Role::Supervisor,
        department: None,
    },
    TestUser {
        username: "admin1",
        display_name: "管理员",
        role: Role::Admin,
        department: None,
    },
];

/// The test user with this username.
///
/// # Panics
/// For a name not in [`USERS`].
pub fn user(username: &str) -> TestUser {
    *USERS
        .iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("no test user {username}"))
}

/// Events a complaint has right after registration: `registered` and the
/// engine's `classification_proposed`.
pub const EVENTS_AT_REGISTRATION: usize = 2;

/// The body of a complaint as an agent registers it on the phone.
pub fn sample_complaint() -> Value {
    json!({
        "channel": "phone",
        "customer": {"name": "王先生", "phone": "13800138000"},
        "description": "保养后空调出风口有异味，希望尽快处理"
    })
}

/// `base` with the keys of `overrides` replaced (one level deep; `null`
/// removes a key).
pub fn merged(base: Value, overrides: Value) -> Value {
    let mut out = base;
    if let (Some(o), Value::Object(over)) = (out.as_object_mut(), overrides) {
        for (k, v) in over {
            if v.is_null() {
                o.remove(&k);
            } else {
                o.insert(k, v);
            }
        }
    }
    out
}

/// An answer from the API: status, body (JSON, or `Value::Null` when the
/// body is empty or not JSON) and headers.
pub type Answer = (StatusCode, Value, HeaderMap);

/// A running application on a fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    pub db: Db,
    /// The application's clock; move it with `clock.advance(…)`.
    pub clock: Arc<MockClock>,
    pub backend: Backend,
    /// API tokens by username.
    pub tokens: HashMap<&'static str, String>,
    /// Department ids by code.
    pub departments: HashMap<&'static str, DepartmentId>,
    /// User ids by username.
    pub user_ids: HashMap<&'static str, UserId>,
    /// A plain HTTP client (no cookies, no proxy).
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    test_db: TestDb,
}

impl TestApp {
    /// Creates the database and the organisation and starts serving.
    /// `None` when PostgreSQL is skipped (`KESU_SKIP_POSTGRES=1`).
    ///
    /// # Panics
    /// When any step of the setup fails.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        let test_db = TestDb::new(backend).await?;
        let db = test_db.db.clone();
        let now: Timestamp = START.parse().expect("start time");
        db.bootstrap(now).await.expect("bootstrap");
        let site = db
            .sites()
            .await
            .expect("sites")
            .into_iter()
            .next()
            .expect("bootstrap creates a site");
        let mut departments = HashMap::new();
        for (code, name) in DEPARTMENTS {
            let id = db
                .create_department(SiteId(site.id), code, name, now)
                .await
                .expect("create department");
            departments.insert(*code, id);
        }
        let hash = kesu_web::auth::hash_password(PASSWORD).expect("hash password");
        let mut tokens = HashMap::new();
        let mut user_ids = HashMap::new();
        for u in USERS {
            let new = NewUser {
                username: u.username,
                display_name: u.display_name,
                password_hash: Some(&hash),
                roles: &[u.role],
                department_id: u.department.map(|d| departments[d]),
            };
            let id = db.create_user(&new, now).await.expect("create user");
            tokens.insert(
                u.username,
                db.create_api_token(id, now).await.expect("create token"),
            );
            user_ids.insert(u.username, id);
        }
        let clock = Arc::new(MockClock::new(now));
        let state = AppState::new(db.clone(), clock.clone(), WebConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local address");
        let router = kesu_web::router(state);
        let server = tokio::spawn(async move {
            let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("test server stopped: {e}");
            }
        });
        kesu_notify::install_crypto_provider();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        Some(TestApp {
            url: format!("http://{addr}"),
            db,
            clock,
            backend,
            tokens,
            departments,
            user_ids,
            http,
            server,
            test_db,
        })
    }

    /// The database URL, for a second node with its own connections.
    pub fn database_url(&self) -> &str {
        &self.test_db.url
    }

    /// Stops the server and removes the database.
    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        self.test_db.drop_async().await;
    }

    /// The database name the health endpoint reports.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// An absolute URL for a path (`/api/v1/…`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// An API client authenticated as `username` (bearer token).
    ///
    /// # Panics
    /// For a name not in [`USERS`].
    pub fn client(&self, username: &str) -> ApiClient {
        let token = self
            .tokens
            .get(username)
            .unwrap_or_else(|| panic!("no token for {username}"))
            .clone();
        ApiClient {
            base: self.url.clone(),
            http: self.http.clone(),
            token: Some(token),
            headers: Vec::new(),
        }
    }

    /// Opens a web session for `username` straight in the database (as a
    /// login would); returns the cookie value and the session's CSRF token.
    /// For browser tests: set it as the `kesu_session` cookie.
    ///
    /// # Panics
    /// For a name not in [`USERS`] or when the database fails.
    pub async fn session(&self, username: &str) -> (String, String) {
        let id = *self
            .user_ids
            .get(username)
            .unwrap_or_else(|| panic!("no user {username}"));
        self.db
            .create_session(id, self.now(), SignedDuration::from_hours(12))
            .await
            .expect("create session")
    }

    /// An API client authenticated by a session cookie instead of a token,
    /// and the session's CSRF token (to send as `X-CSRF-Token` on writes).
    pub async fn session_client(&self, username: &str) -> (ApiClient, String) {
        let (cookie, csrf) = self.session(username).await;
        let headers = vec![(
            "cookie".to_owned(),
            format!("{}={cookie}", kesu_web::auth::SESSION_COOKIE),
        )];
        (
            ApiClient {
                base: self.url.clone(),
                http: self.http.clone(),
                token: None,
                headers,
            },
            csrf,
        )
    }

    /// An API client that sends no credentials.
    pub fn anonymous(&self) -> ApiClient {
        ApiClient {
            base: self.url.clone(),
            http: self.http.clone(),
            token: None,
            headers: Vec::new(),
        }
    }

    /// An API client that sends this exact bearer token.
    pub fn with_token(&self, token: &str) -> ApiClient {
        ApiClient {
            base: self.url.clone(),
            http: self.http.clone(),
            token: Some(token.to_owned()),
            headers: Vec::new(),
        }
    }

    /// The time now on the app's clock.
    pub fn now(&self) -> Timestamp {
        use kesu_web::Clock;
        self.clock.now()
    }

    /// RFC 3339 for `days` from now (for due times).
    pub fn in_days(&self, days: i64) -> String {
        (self.now() + SignedDuration::from_hours(24 * days)).to_string()
    }

    /// Registers a complaint as `username`: [`sample_complaint`] with
    /// `overrides` merged in. Returns the complaint as the API shows it.
    ///
    /// # Panics
    /// Unless the answer is 201.
    pub async fn create_complaint(&self, username: &str, overrides: Value) -> Value {
        let (status, body, _) = self
            .client(username)
            .post("/api/v1/complaints", &merged(sample_complaint(), overrides))
            .await;
        assert_eq!(status, StatusCode::CREATED, "create complaint: {body}");
        body
    }

    /// Performs an action (`classify`, `proposals/1/answer`, …) on a
    /// complaint as `username` and returns the complaint afterwards.
    ///
    /// # Panics
    /// Unless the answer is 200.
    pub async fn act(&self, username: &str, number: &str, action: &str, body: Value) -> Value {
        let (status, answer, _) = self
            .client(username)
            .post(&format!("/api/v1/complaints/{number}/{action}"), &body)
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{username} {action} on {number}: {answer}"
        );
        answer
    }

    /// The complaint as `username` sees it.
    ///
    /// # Panics
    /// Unless the answer is 200.
    pub async fn complaint(&self, username: &str, number: &str) -> Value {
        let (status, body, _) = self
            .client(username)
            .get(&format!("/api/v1/complaints/{number}"))
            .await;
        assert_eq!(status, StatusCode::OK, "get {number}: {body}");
        body
    }

    /// The history of a complaint (as the agent sees it).
    ///
    /// # Panics
    /// Unless the answer is 200 with a list.
    pub async fn history(&self, number: &str) -> Vec<Value> {
        let (status, body, _) = self
            .client("agent1")
            .get(&format!("/api/v1/complaints/{number}/history"))
            .await;
        assert_eq!(status, StatusCode::OK, "history of {number}: {body}");
        body.as_array().expect("history is a list").clone()
    }

    /// How many complaints the agent's list holds (up to 200).
    ///
    /// # Panics
    /// Unless the answer is 200.
    pub async fn complaint_count(&self) -> usize {
        let (status, body, _) = self
            .client("agent1")
            .get("/api/v1/complaints?per_page=200")
            .await;
        assert_eq!(status, StatusCode::OK, "list: {body}");
        body["items"].as_array().expect("items").len()
    }

    /// Uploads a file to a complaint as `username` (multipart `file` and `kind`).
    ///
    /// # Panics
    /// When the request cannot be sent or the answer read.
    pub async fn upload(
        &self,
        username: &str,
        number: &str,
        kind: &str,
        filename: &str,
        data: Vec<u8>,
    ) -> Answer {
        self.try_upload(username, number, kind, filename, data)
            .await
            .expect("upload and read the answer")
    }

    /// Like [`TestApp::upload`], but a transport error is returned, not a panic.
    ///
    /// # Errors
    /// When the request cannot be sent or the answer read.
    pub async fn try_upload(
        &self,
        username: &str,
        number: &str,
        kind: &str,
        filename: &str,
        data: Vec<u8>,
    ) -> Result<Answer, reqwest::Error> {
        let part = reqwest::multipart::Part::bytes(data).file_name(filename.to_owned());
        // Like a browser: the file name as raw UTF-8, not percent-encoded.
        let form = reqwest::multipart::Form::new()
            .percent_encode_noop()
            .text("kind", kind.to_owned())
            .part("file", part);
        self.client(username)
            .try_send(
                self.http
                    .post(self.at(&format!("/api/v1/complaints/{number}/attachments")))
                    .multipart(form),
            )
            .await
    }

    /// A new general complaint, driven by the right people to `state`:
    /// `registered`, `classified` (still registered), `dispatched` (to
    /// `service`, assignee `mgr_service`), `in_progress`, `proposed`,
    /// `executing`, `fed_back`, `follow_up` (satisfied) or `closed`.
    /// Returns its number.
    ///
    /// # Panics
    /// For another state, or when a step is refused.
    pub async fn complaint_in_state(&self, state: &str, overrides: Value) -> String {
        const ORDER: &[&str] = &[
            "registered",
            "classified",
            "dispatched",
            "in_progress",
            "proposed",
            "executing",
            "fed_back",
            "follow_up",
            "closed",
        ];
        let target = ORDER
            .iter()
            .position(|s| *s == state)
            .unwrap_or_else(|| panic!("complaint_in_state cannot reach {state}"));
        let created = self
            .create_complaint(
                "agent1",
                merged(
                    json!({"description": "收银员态度冷淡，希望道歉"}),
                    overrides,
                ),
            )
            .await;
        let number = created["number"].as_str().expect("number").to_owned();
        let n = number.as_str();
        for step in &ORDER[1..=target] {
            match *step {
                "classified" => {
                    self.act(
                        "agent1",
                        n,
                        "classify",
                        json!({"category": "service_attitude", "severity": "general"}),
                    )
                    .await
                }
                "dispatched" => {
                    self.act(
                        "agent1",
                        n,
                        "dispatch",
                        json!({"department": "service", "assignee": "mgr_service"}),
                    )
                    .await
                }
                "in_progress" => {
                    self.act(
                        "mgr_service",
                        n,
                        "contacts",
                        json!({"method": "phone", "summary": "已致电客户了解情况"}),
                    )
                    .await
                }
                "proposed" => {
                    let body = json!({"measures": "当面道歉并赠送优惠券", "owner": "售后王经理", "due_at": self.in_days(2), "follow_up": "三天后回访"});
                    self.act("mgr_service", n, "proposals", body).await
                }
                "executing" => {
                    let round = self.complaint("agent1", n).await["proposals"]
                        .as_i64()
                        .expect("proposals");
                    self.act(
                        "mgr_service",
                        n,
                        &format!("proposals/{round}/answer"),
                        json!({"accepted": true, "customer_words": "可以接受"}),
                    )
                    .await
                }
                "fed_back" => {
                    self.act(
                        "mgr_service",
                        n,
                        "execution",
                        json!({"progress": "已道歉并送券", "completed": true}),
                    )
                    .await;
                    self.act(
                        "mgr_service",
                        n,
                        "feedback",
                        json!({"method": "phone", "content": "已告知客户处理结果"}),
                    )
                    .await
                }
                "follow_up" => {
                    self.act(
                        "agent1",
                        n,
                        "follow-ups",
                        json!({"outcome": "satisfied", "score": 5}),
                    )
                    .await
                }
                "closed" => self.act("agent1", n, "close", json!({})).await,
                _ => unreachable!(),
            };
        }
        let now = self.complaint("agent1", n).await;
        let expected = if state == "classified" {
            "registered"
        } else {
            state
        };
        assert_eq!(now["state"], expected, "complaint_in_state({state}): {now}");
        number
    }
}

/// Calls the API as one user (or anonymously).
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    /// Sent with every request (e.g. a session cookie).
    headers: Vec<(String, String)>,
}

impl ApiClient {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds this client's credentials and headers to a request.
    pub fn authorize(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req
    }

    /// Sends a request with this client's credentials and reads the answer.
    ///
    /// # Panics
    /// When the request cannot be sent or the answer read.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        self.try_send(req)
            .await
            .expect("send request and read the answer")
    }

    /// Like [`ApiClient::send`], but a transport error is returned, not a panic.
    ///
    /// # Errors
    /// When the request cannot be sent or the answer read.
    pub async fn try_send(&self, req: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
        let res = self.authorize(req).send().await?;
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, body, headers))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    /// `GET path` with extra headers.
    pub async fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(self.http.get(self.url(path)).headers(header_map(headers)))
            .await
    }

    /// `GET path` for raw bytes (downloads).
    ///
    /// # Panics
    /// When the request fails.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, Vec<u8>, HeaderMap) {
        let res = self
            .authorize(self.http.get(self.url(path)))
            .send()
            .await
            .expect("send request");
        let status = res.status();
        let headers = res.headers().clone();
        (
            status,
            res.bytes().await.expect("read body").to_vec(),
            headers,
        )
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// `POST path` with a JSON body and extra headers (`If-Match`, `Accept-Language`, …).
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.send(
            self.http
                .post(self.url(path))
                .json(body)
                .headers(header_map(headers)),
        )
        .await
    }

    /// `POST path` with a raw body of the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        self.try_post_raw(path, content_type, body)
            .await
            .expect("send request and read the answer")
    }

    /// Like [`ApiClient::post_raw`], but a transport error is returned, not a panic.
    ///
    /// # Errors
    /// When the request cannot be sent or the answer read.
    pub async fn try_post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<Answer, reqwest::Error> {
        self.try_send(
            self.http
                .post(self.url(path))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }
}

fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
    }
    map
}

/// Asserts that an answer is an RFC 9457 problem with this status and
/// `type` = `urn:kesu:problem:<code>` (any code when `code` is empty).
///
/// # Panics
/// When it is not.
pub fn assert_problem(answer: &Answer, status: StatusCode, code: &str) {
    let (got, body, headers) = answer;
    assert_eq!(*got, status, "status: {body}");
    let ct = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct:?} for {body}"
    );
    let ty = body["type"]
        .as_str()
        .unwrap_or_else(|| panic!("problem without type: {body}"));
    assert!(ty.starts_with("urn:kesu:problem:"), "type {ty}");
    if !code.is_empty() {
        assert_eq!(ty, format!("urn:kesu:problem:{code}"), "problem: {body}");
    }
    assert_eq!(body["status"], status.as_u16(), "problem status: {body}");
}

/// Whether text contains CJK ideographs.
pub fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The answer to a request whose body the server refuses before reading it
/// all (413): the server answers, then closes the connection with the rest
/// of the body unread, and the client may see the reset before the answer.
/// Sends again (up to ten times) while the transport fails; panics when no
/// attempt got an answer.
pub async fn answer_despite_resets<F, Fut>(mut attempt: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, reqwest::Error>>,
{
    let mut errors = Vec::new();
    for _ in 0..10 {
        match attempt().await {
            Ok(answer) => return answer,
            Err(e) => errors.push(e.to_string()),
        }
    }
    panic!("no answer in ten attempts: {errors:?}");
}

/// Every key of the message catalog (every `locales/*.yml`).
static CATALOG_KEYS: std::sync::LazyLock<std::collections::HashSet<String>> =
    std::sync::LazyLock::new(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/locales");
        let mut keys = std::collections::HashSet::new();
        for entry in std::fs::read_dir(dir).expect("the locales folder") {
            let path = entry.expect("a locales entry").path();
            if path.extension().is_some_and(|e| e == "yml") {
                let text = std::fs::read_to_string(&path).expect("a catalog file");
                keys.extend(
                    text.lines()
                        .filter(|l| !l.starts_with([' ', '_', '#']))
                        .filter_map(|l| l.strip_suffix(':'))
                        .map(str::to_owned),
                );
            }
        }
        keys
    });

/// Catalog keys that leaked into a page (its text or attribute values) or
/// an answer untranslated: any word that is exactly a key of the catalog.
pub fn raw_keys(html: &str) -> Vec<String> {
    html.split(|c: char| c.is_whitespace() || "<>\"'=:,;()，。：".contains(c))
        .filter(|w| CATALOG_KEYS.contains(*w))
        .map(str::to_owned)
        .collect()
}

/// Where a redirect points.
pub fn location(h: &HeaderMap) -> String {
    h.get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
