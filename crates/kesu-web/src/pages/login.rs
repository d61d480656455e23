//! Login and logout. Sessions live in the database, so every node knows them.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::SignedDuration;
use kesu_domain::UserId;

use super::{Ctx, render, safe_next};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, Staff, cookie_value, session_cookie, verify_password};
use crate::error::Failure;
use crate::i18n::Lang;

/// Failed logins per username within the window before it is locked.
const MAX_FAILURES: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    next: String,
    username: String,
    failed: bool,
}

async fn login_page(lang: Lang, RawQuery(q): RawQuery) -> Result<Response, Failure> {
    #[derive(serde::Deserialize, Default)]
    struct Q {
        next: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    render(&LoginPage {
        ctx: Ctx::anonymous(lang, "/login"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        failed: false,
    })
}

async fn login(
    State(state): State<AppState>,
    lang: Lang,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = crate::input::body(body)?;
    let form = crate::input::form_value(&body, &[]);
    let get = |k: &str| {
        form.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let username = get("username").trim().to_ascii_lowercase();
    let password = get("password");
    let next = safe_next(Some(&get("next")));
    // Ten failures in 15 minutes lock the username for the rest of the
    // window, on every node (the count is in the database).
    let now = state.now();
    let window = SignedDuration::from_mins(15);
    if !username.is_empty()
        && state
            .db
            .login_failures_since(&username, now - window)
            .await?
            >= MAX_FAILURES
    {
        tracing::warn!(user.name = %username, "login locked after repeated failures");
        return Err(Failure::TooManyAttempts);
    }
    let found = if username.is_empty() || password.is_empty() {
        None
    } else {
        state.db.password_hash(&username).await?
    };
    let user = match found {
        Some((user, Some(hash))) if verify_password(&password, &hash) => user,
        _ => {
            tracing::info!(user.name = %username, "login refused");
            if !username.is_empty() {
                state
                    .db
                    .record_login_failure(&username, now, now - window)
                    .await?;
            }
            let mut res = render(&LoginPage {
                ctx: Ctx::anonymous(lang, "/login"),
                next,
                username,
                failed: true,
            })?;
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            return Ok(res);
        }
    };
    state.db.clear_login_failures(&user.username).await?;
    let hours = state.config.session_hours;
    let (token, _csrf) = state
        .db
        .create_session(
            UserId(user.id),
            state.now(),
            SignedDuration::from_hours(hours),
        )
        .await?;
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(
        &token,
        hours * 3600,
        state.config.secure_cookies,
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn logout(
    State(state): State<AppState>,
    staff: Option<Staff>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    if let Some(staff) = staff {
        super::posted_form(&staff, body, &[])?;
        if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
            state.db.delete_session(&token).await?;
        }
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
