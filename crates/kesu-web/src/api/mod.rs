//! The JSON API under `/api/v1` (SPEC "Interfaces"). A module per resource;
//! handlers are thin: extract, call [`crate::actions`], answer.

pub mod complaints;
pub mod intake;
pub mod openapi;
pub mod org;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::Failure;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(get_health))
        .merge(complaints::router())
        .merge(intake::router())
        .merge(org::router())
        .fallback(|| async { Failure::NotFound })
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub version: String,
}

/// Whether kesu and its database answer (no authentication).
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = Health), (status = 500, description = "database down")))]
pub async fn get_health(State(state): State<AppState>) -> Result<Json<Health>, Failure> {
    state.db.ping().await?;
    Ok(Json(Health {
        status: "ok".into(),
        database: state.db.backend().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
