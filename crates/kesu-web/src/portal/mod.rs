//! The customer portal (`/portal`): a customer files a complaint with photos
//! (R-IN-1, channel `web`), is told its number and when to expect what
//! (R-IN-4), follows it later by number and tracking code (R-KB-2), answers
//! a proposed resolution (R-HD-8) and the follow-up survey (R-FB-3).
//! Mobile first, no JavaScript, Chinese by default with the staff pages'
//! language switch.
//!
//! There is no login and no session. Who may see a complaint is proven per
//! request by its number and tracking code ([`code`]), which travel in the
//! form body, never in a URL or a cookie. Defences:
//! - every POST passes the staff pages' origin check (`Origin`,
//!   `Sec-Fetch-Site`); as no cookie carries any authority here, a forged
//!   cross-site form can achieve nothing else either;
//! - filings and wrong tracking attempts are counted per client address in
//!   the database, so the limits hold across nodes ([`FILINGS`],
//!   [`WRONG_TRACKING`]); over the limit the answer is a readable 429 page;
//! - a wrong number and a wrong code get the same answer.
//!
//! What the customer sees of their complaint is chosen here, not derived
//! from staff views: progress in plain words, their own words, the proposal
//! waiting for them. Never notes, staff names or anything of another
//! customer.
//!
//! Everything goes through [`crate::actions`] like a staff action: filing
//! is [`actions::intake`] (the same parsing, file checks and classification
//! engine as a registration) without a staff actor; answers are
//! [`actions::perform_for_customer`], which the domain decides for
//! [`kesu_domain::Acting::Customer`].

pub mod code;
mod file;
mod track;

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use kesu_storage::portal::Attempt;

use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::{AppState, WebConfig};

pub use file::{expected_for, expected_handling};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(file::form_page))
        .route("/portal/complaints", post(file::file_complaint))
        .route("/portal/track", get(track::track_form).post(track::track))
        .route("/portal/answer", post(track::answer))
        .route("/portal/survey", post(track::survey))
}

/// How often one client address may do something.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub attempt: Attempt,
    pub max: i64,
    pub window: SignedDuration,
}

/// At most 5 complaint forms per address in 10 minutes (counted when
/// posted, before the body is read, whether or not they are valid).
pub const FILINGS: Limit = Limit {
    attempt: Attempt::Filing,
    max: 5,
    window: SignedDuration::from_mins(10),
};

/// At most 20 wrong number/code pairs per address in an hour; then the
/// address may not track at all until the hour has passed (otherwise the
/// difference between "wrong" and "locked" would still tell right from
/// wrong).
pub const WRONG_TRACKING: Limit = Limit {
    attempt: Attempt::WrongTracking,
    max: 20,
    window: SignedDuration::from_hours(1),
};

impl Limit {
    /// Refuses when the address used up this limit.
    ///
    /// # Errors
    /// [`Failure::TooManyAttempts`], or the driver's error.
    pub async fn check(&self, state: &AppState, address: &str) -> Result<(), Failure> {
        let now = state.now();
        let n = state
            .db
            .portal_attempts_since(self.attempt, address, now - self.window)
            .await?;
        if n >= self.max {
            tracing::info!(portal.limit = self.attempt.as_str(), "portal limit reached");
            Err(Failure::TooManyAttempts)
        } else {
            Ok(())
        }
    }

    /// Counts one attempt of the address.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn count(&self, state: &AppState, address: &str) -> Result<(), Failure> {
        let now = state.now();
        state
            .db
            .record_portal_attempt(self.attempt, address, now, now - self.window)
            .await?;
        Ok(())
    }
}

/// Someone on the portal: their language and the address their attempts
/// are counted under. Extracting it refuses a cross-site POST.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub lang: Lang,
    pub address: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && crate::auth::cross_site(parts) {
            return Err(Failure::Csrf);
        }
        Ok(Visitor {
            lang: Lang::from_headers(&parts.headers),
            address: client_address(parts, &state.config),
        })
    }
}

/// The client's address: from the header the reverse proxy sets, when one
/// is configured, else the connection's peer. IPv6 clients count per /64
/// (one customer's line usually owns a whole /64).
fn client_address(parts: &Parts, config: &WebConfig) -> String {
    let forwarded = config
        .client_ip_header
        .as_deref()
        .and_then(|h| parts.headers.get(h))
        .and_then(|v| v.to_str().ok())
        // The proxy appends the address it saw: the last entry.
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    forwarded
        .or(peer)
        .map_or_else(|| "unknown".to_owned(), address_key)
}

fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// What every portal page's frame needs.
#[derive(Debug, Clone)]
pub struct PortalCtx {
    pub lang: Lang,
    /// Where the language switch returns to (escaped for a URL).
    pub back: String,
}

impl PortalCtx {
    pub fn new(lang: Lang, back: &str) -> PortalCtx {
        PortalCtx {
            lang,
            back: crate::error::url_escape(back),
        }
    }

    pub fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }

    pub fn time(&self, at: Timestamp, config: &WebConfig) -> String {
        crate::view::short_time(at.as_millisecond(), &config.time_zone)
    }
}

/// Renders a portal page. Pages may show a tracking code or the customer's
/// words: never stored by caches.
///
/// # Errors
/// [`Failure::Internal`] when rendering fails (a bug).
fn render<T: Template>(tpl: &T, status: axum::http::StatusCode) -> Result<Response, Failure> {
    let html = tpl
        .render()
        .map_err(|e| Failure::Internal(format!("template: {e}")))?;
    let mut res = (status, Html(html)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Not `no-referrer`: browsers then send `Origin: null` with the form,
    // which the origin check must refuse.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    ctx: PortalCtx,
    title: String,
    detail: String,
    back: &'static str,
}

/// A failure on a portal path as a portal page, in the customer's words.
pub fn failure_page(f: &Failure, lang: Lang, path: &str) -> Response {
    let (mut title, mut detail) = f.describe(lang);
    let portal_key = match f {
        Failure::TooManyAttempts => Some("too_many"),
        Failure::Csrf => Some("csrf"),
        Failure::TooLarge => Some("too_large"),
        Failure::UnsupportedFile => Some("unsupported_file"),
        Failure::NotFound => Some("not_found"),
        Failure::Internal(_) => Some("internal"),
        _ => None,
    };
    if let Some(key) = portal_key {
        title = t(lang, &format!("portal.error.{key}"));
        detail = t(lang, &format!("portal.error.{key}_detail"));
    }
    let back = if path.starts_with("/portal/track")
        || path.starts_with("/portal/answer")
        || path.starts_with("/portal/survey")
    {
        "/portal/track"
    } else {
        "/portal"
    };
    let page = ErrorPage {
        ctx: PortalCtx::new(lang, back),
        title,
        detail,
        back,
    };
    render(&page, f.status()).unwrap_or_else(|_| f.status().into_response())
}
