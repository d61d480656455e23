//! kesu's HTTP face: staff pages (server-rendered HTML), the JSON API under
//! `/api/v1`, sessions, CSRF protection and the zh-CN/en catalogs.
//!
//! A request flows one way: extract ([`auth`], [`input`]) → parse into domain
//! types → the domain decides ([`actions`]) → storage writes state and events
//! in one transaction → render ([`pages`] as HTML, [`api`] as JSON). Both
//! faces share [`actions`], so a button and an API call do the same thing.
//!
//! This crate must not contain SQL (that is `kesu-storage`) nor process rules
//! (that is `kesu-domain`).

pub mod actions;
pub mod api;
pub mod auth;
pub mod clock;
pub mod customer_messages;
pub mod error;
pub mod i18n;
pub mod input;
pub mod learning;
pub mod mail;
pub mod outbox;
pub mod pages;
pub mod portal;
pub mod related;
pub mod view;
pub mod wechat;

use std::sync::Arc;

use axum::Router;
use jiff::tz::TimeZone;
use kesu_storage::Db;

pub use clock::{Clock, MockClock, SystemClock};

rust_i18n::i18n!("locales", fallback = "zh-CN");

/// Settings of the web layer.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The desk's time zone: numbers and shown times use it.
    pub time_zone: TimeZone,
    /// How long a login lasts without activity.
    pub session_hours: i64,
    /// The largest attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Behind a reverse proxy: the header it sets to the client's address
    /// (`x-real-ip`, `x-forwarded-for`), which the customer portal's limits
    /// count by; `None`: the connection's peer address. Set it only when
    /// the proxy overwrites that header.
    pub client_ip_header: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            time_zone: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
            session_hours: 12,
            max_attachment_bytes: 10 * 1024 * 1024,
            secure_cookies: false,
            client_ip_header: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    /// The classification model this node proposes with.
    pub learned: learning::Learned,
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: WebConfig) -> Self {
        AppState {
            db,
            clock,
            config: Arc::new(config),
            learned: learning::Learned::default(),
        }
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// The whole application: pages, API, static assets.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_attachment_bytes + 64 * 1024;
    Router::new()
        .merge(pages::router())
        .merge(portal::router())
        .merge(wechat::router())
        .nest("/api/v1", api::router())
        .route(
            "/api/openapi.json",
            axum::routing::get(api::openapi::openapi_json),
        )
        .fallback(|| async { error::Failure::NotFound })
        .layer(axum::middleware::from_fn(error::render_failures))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Serves the application on a bound listener until the process is stopped.
///
/// # Errors
/// When the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
