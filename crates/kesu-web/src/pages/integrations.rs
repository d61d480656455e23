//! `/admin/integrations`: the keys of the website, the app and mini
//! programs for the public intake API (`/api/v1/intake`). An admin creates a
//! key per integration (shown once, stored as its hash), sees each one's
//! last use and revokes it.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_domain::Channel;
use kesu_domain::input::{InputError, InputProblem};

use super::forms::Opt;
use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::view::short_time;

/// The channels an integration's complaints may carry.
pub const INTEGRATION_CHANNELS: &[Channel] = &[Channel::Web, Channel::App, Channel::Wechat];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/integrations",
            get(integrations_page).post(create_integration),
        )
        .route("/admin/integrations/{id}/revoke", post(revoke_integration))
}

pub struct IntegrationItem {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub created_at: String,
    pub last_used_at: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin_integrations.html")]
struct IntegrationsPage {
    ctx: Ctx,
    items: Vec<IntegrationItem>,
    channels: Vec<Opt>,
    /// The key just created (shown once) and its integration's name.
    created: Option<(String, String)>,
    problem: Option<String>,
}

/// Checks a new integration's name and channel.
///
/// # Errors
/// 422 for a missing or over-long name or a channel not offered.
pub fn parse_integration(
    name: Option<&str>,
    channel: Option<&str>,
) -> Result<(String, Channel), Failure> {
    let name = kesu_domain::input::required_text("name", name, 100)?;
    let channel = channel
        .map(str::trim)
        .and_then(|c| c.parse::<Channel>().ok())
        .filter(|c| INTEGRATION_CHANNELS.contains(c))
        .ok_or(Failure::Invalid(InputError::new(
            "channel",
            InputProblem::UnknownValue,
        )))?;
    Ok((name, channel))
}

async fn show(
    state: &AppState,
    staff: &Staff,
    created: Option<(String, String)>,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/integrations");
    let tz = &state.config.time_zone;
    let items = state
        .db
        .integrations()
        .await?
        .into_iter()
        .map(|i| IntegrationItem {
            id: i.id,
            channel: ctx.label("channel", &i.channel),
            name: i.name,
            created_at: short_time(i.created_at, tz),
            last_used_at: i
                .last_used_at
                .map_or_else(|| ctx.t("integrations.never_used"), |t| short_time(t, tz)),
            revoked: i.revoked_at.is_some(),
        })
        .collect();
    let channels = INTEGRATION_CHANNELS
        .iter()
        .map(|c| Opt::new(c.as_str().to_owned(), ctx.label("channel", c.as_str())))
        .collect();
    let mut res = render(&IntegrationsPage {
        ctx,
        items,
        channels,
        created,
        problem,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

async fn integrations_page(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    show(&state, &staff, None, None, StatusCode::OK).await
}

async fn create_integration(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let field = |k: &str| form.get(k).and_then(|v| v.as_str());
    let created = async {
        let (name, channel) = parse_integration(field("name"), field("channel"))?;
        let (_, key) = state
            .db
            .create_integration(
                &name,
                channel,
                Some(kesu_domain::UserId(staff.user.id)),
                state.now(),
            )
            .await?;
        Ok::<_, Failure>((name, key))
    };
    match created.await {
        Ok((name, key)) => {
            tracing::info!(integration = %name, "integration key created");
            show(&state, &staff, Some((name, key)), None, StatusCode::CREATED).await
        }
        Err(e @ (Failure::Invalid(_) | Failure::Duplicate(_))) => {
            let status = e.status();
            let (_, detail) = e.describe(staff.lang);
            show(&state, &staff, None, Some(detail), status).await
        }
        Err(e) => Err(e),
    }
}

async fn revoke_integration(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    super::posted_form(&staff, body, &[])?;
    if !state.db.revoke_integration(id, state.now()).await? {
        return Err(Failure::NotFound);
    }
    Ok(Redirect::to("/admin/integrations").into_response())
}
