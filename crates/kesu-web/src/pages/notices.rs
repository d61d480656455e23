//! The bell (R-NT-2): what kesu told this person — assignments, deadlines
//! about to pass, breaches and escalations — newest first, unread on top.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_storage::notices::NoticeRow;

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::view::short_time;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notices", get(notices_page))
        .route("/notices/read", post(mark_read))
}

pub struct NoticeItem {
    pub text: String,
    pub number: String,
    pub at: String,
    pub unread: bool,
    pub kind: String,
}

/// A notice in the reader's language.
pub fn notice_text(ctx: &Ctx, n: &NoticeRow, tz: &jiff::tz::TimeZone) -> String {
    crate::outbox::notice_sentence(ctx.lang, &n.kind, &n.details(), tz)
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    ctx: Ctx,
    items: Vec<NoticeItem>,
}

async fn notices_page(State(state): State<AppState>, staff: Staff) -> Result<Response, Failure> {
    let ctx = Ctx::new(&staff, "notices", "/notices");
    let tz = &state.config.time_zone;
    let items = state
        .db
        .notices(staff.user.id, 200)
        .await?
        .iter()
        .map(|n| NoticeItem {
            text: notice_text(&ctx, n, tz),
            number: n.details().number,
            at: short_time(n.created_at, tz),
            unread: n.read_at.is_none(),
            kind: n.kind.clone(),
        })
        .collect();
    render(&NoticesPage { ctx, items })
}

async fn mark_read(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    super::posted_form(&staff, body, &[])?;
    state
        .db
        .mark_notices_read(staff.user.id, state.now())
        .await?;
    Ok(Redirect::to("/notices").into_response())
}
