//! The signed-in person's own account: changing the password (the first
//! admin's one-time password is meant to be changed here).

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
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    saved: bool,
    /// The password was handed out: say why this page came first.
    first: bool,
    error: Option<String>,
}

async fn account_page(staff: Staff, RawQuery(raw): RawQuery) -> Result<Response, Failure> {
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    render(&AccountPage {
        ctx: Ctx::new(&staff, "account", "/account"),
        saved,
        first: staff.user.must_change_password,
        error: None,
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
