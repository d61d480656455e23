//! The WeChat Official Account (公众号) endpoint: `GET` and `POST /wechat`,
//! the URL the admin pastes into the account's server configuration
//! (服务器配置). Public: no session, no CSRF token — WeChat's signature is
//! the proof of origin.
//!
//! - Every request is checked first: the account must be set up and on
//!   (404 otherwise), the query's `signature` must match the Token for its
//!   `timestamp` and `nonce`, and the timestamp be within five minutes of
//!   the clock (403 with an empty body otherwise). Nothing else happens
//!   for a refused request.
//! - `GET` is the URL verification: the `echostr` is answered as text.
//! - `POST` is a follower's message (XML, at most [`MAX_BODY_BYTES`]; a
//!   larger body is 413, one that is not a message 400, nothing filed),
//!   filed by [`file::receive`] and answered with a passive text reply.
//!
//! Plaintext mode (明文模式) only: an account in safe mode (安全模式) sends
//! encrypted bodies, refused with 400 and a warning in the log. Logs name
//! the follower by the last four characters of the openid and never carry
//! the message's text.

pub mod file;
pub mod message;
pub mod settings;
pub mod signature;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::Failure;
use message::Inbound;
use settings::WeChatSettings;
use signature::SignedQuery;

/// The largest message body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/wechat", get(verify_url).post(receive_message))
}

fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// The settings of an account that is set up and on, and the query, when
/// the request is signed with its Token; the refusal otherwise.
async fn signed(
    state: &AppState,
    raw: Option<&str>,
) -> Result<Result<(WeChatSettings, SignedQuery), Response>, Failure> {
    let Some(settings) = WeChatSettings::load(state).await?.filter(|s| s.enabled) else {
        return Ok(Err(empty(StatusCode::NOT_FOUND)));
    };
    let query = SignedQuery::parse(raw);
    if !query.verify(settings.token.expose(), state.now()) {
        tracing::warn!("WeChat request with a bad or stale signature refused");
        return Ok(Err(empty(StatusCode::FORBIDDEN)));
    }
    Ok(Ok((settings, query)))
}

/// `GET /wechat`: WeChat checks the URL when the admin saves it.
async fn verify_url(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let (_, query) = match signed(&state, raw.as_deref()).await? {
        Ok(ok) => ok,
        Err(refused) => return Ok(refused),
    };
    match query.echostr {
        Some(echo) if echo.len() <= 256 => {
            tracing::info!("WeChat URL verified");
            Ok(with_type(echo, "text/plain; charset=utf-8"))
        }
        _ => Ok(empty(StatusCode::BAD_REQUEST)),
    }
}

/// `POST /wechat`: one message from a follower.
async fn receive_message(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, Failure> {
    let (settings, query) = match signed(&state, raw.as_deref()).await? {
        Ok(ok) => ok,
        Err(refused) => return Ok(refused),
    };
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await else {
        tracing::warn!("WeChat message over the size limit refused");
        return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE));
    };
    let msg = match Inbound::parse(&body) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "WeChat message not readable; not filed");
            return Ok(empty(StatusCode::BAD_REQUEST));
        }
    };
    if query.encrypt_type.as_deref().is_some_and(|t| t != "raw") {
        tracing::warn!("WeChat message encrypted (safe mode is not supported); not filed");
        return Ok(empty(StatusCode::BAD_REQUEST));
    }
    if query.openid.as_deref().is_some_and(|o| o != msg.from) {
        tracing::warn!("WeChat message from another follower than its query names; not filed");
        return Ok(empty(StatusCode::BAD_REQUEST));
    }
    let reply = file::receive(&state, &settings, &msg).await?;
    if reply.is_empty() {
        // WeChat's "no answer".
        return Ok(with_type("success".to_owned(), "text/plain; charset=utf-8"));
    }
    let xml = message::text_reply(&msg, &reply, state.now().as_second());
    Ok(with_type(xml, "application/xml; charset=utf-8"))
}
