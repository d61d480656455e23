//! The signed-in person's own account: changing the password (the first
//! admin's one-time password is meant to be changed here) and the address
//! their notices go to by e-mail.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_domain::UserId;

use super::{Ctx, render};
use crate::AppState;
use crate::auth::{Staff, hash_password, verify_password};
use crate::error::Failure;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/email", post(set_email))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    saved: bool,
    /// The password was handed out: say why this page came first.
    first: bool,
    error: Option<String>,
    /// The notice e-mail address (as stored, or as typed when refused).
    email: String,
    email_error: Option<String>,
}

async fn account_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    render(&AccountPage {
        ctx: Ctx::new(&staff, "account", "/account"),
        saved,
        first: staff.user.must_change_password,
        error: None,
        email: state
            .db
            .user_email(staff.user.id)
            .await?
            .unwrap_or_default(),
        email_error: None,
    })
}

async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let form = super::posted_form(&staff, body, &[])?;
    let get = |k: &str| {
        form.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let (current, new) = (get("current"), get("new"));
    let ctx = Ctx::new(&staff, "account", "/account");
    let stored = state
        .db
        .password_hash(&staff.user.username)
        .await?
        .and_then(|(_, h)| h);
    let problem = if !stored
        .as_deref()
        .is_some_and(|h| verify_password(&current, h))
    {
        Some(ctx.t("account.wrong_current"))
    } else if new.chars().count() < 8 || new.len() > 200 {
        Some(ctx.t("account.too_short"))
    } else if new == current {
        Some(ctx.t("account.same"))
    } else {
        None
    };
    if let Some(error) = problem {
        let mut res = render(&AccountPage {
            ctx,
            saved: false,
            first: staff.user.must_change_password,
            error: Some(error),
            email: state
                .db
                .user_email(staff.user.id)
                .await?
                .unwrap_or_default(),
            email_error: None,
        })?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    state
        .db
        .set_password_hash(UserId(staff.user.id), &hash_password(&new)?)
        .await?;
    // After the first, forced change, go on to the work.
    let next = if staff.user.must_change_password {
        "/"
    } else {
        "/account?saved=1"
    };
    Ok(Redirect::to(next).into_response())
}

/// `POST /account/email`: sets (or, empty, clears) where this person's
/// notices go by e-mail.
async fn set_email(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let form = super::posted_form(&staff, body, &[])?;
    let typed = form
        .get("email")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .trim()
        .to_owned();
    let email = if typed.is_empty() {
        None
    } else {
        match kesu_domain::input::email("email", &typed) {
            Ok(e) => Some(e),
            Err(e) => {
                let mut res = render(&AccountPage {
                    ctx: Ctx::new(&staff, "account", "/account"),
                    saved: false,
                    first: staff.user.must_change_password,
                    error: None,
                    email: typed,
                    email_error: Some(Failure::Invalid(e).describe(staff.lang).1),
                })?;
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(res);
            }
        }
    };
    state
        .db
        .set_user_email(staff.user.id, email.as_deref())
        .await?;
    Ok(Redirect::to("/account?saved=1").into_response())
}
