//! `/admin/classifier`: which category model proposes (the shipped one or
//! the desk's own, its version, when and on what it was trained, how it did
//! on the shipped blind holdout), how far the next automatic training is,
//! whether one runs or the last one failed, and "retrain now" (R-CL-1).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::learning::{self, Figures, RETRAIN_EVERY, Retrain};
use crate::view::short_time;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/classifier", get(classifier_page))
        .route("/admin/classifier/retrain", post(retrain))
}

/// Holdout figures as the page shows them.
pub struct FiguresRow {
    pub label: String,
    pub complaints: usize,
    pub top1: String,
    pub top3: String,
    pub major_recall: String,
}

#[derive(Template)]
#[template(path = "admin_classifier.html")]
struct ClassifierPage {
    ctx: Ctx,
    notice: Option<String>,
    /// The desk's model: (version, facts); `None` on the shipped model.
    desk_model: Option<(u64, Vec<(String, String)>)>,
    /// The shipped model's training examples.
    shipped_examples: usize,
    /// What this node proposes with, when it differs from the stored one.
    node_note: Option<String>,
    confirmations: i64,
    since_training: i64,
    until_next: i64,
    running_since: Option<String>,
    last_error: Option<(String, String)>,
    figures: Vec<FiguresRow>,
}

fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn figures_row(label: String, f: &Figures, none: &str) -> FiguresRow {
    FiguresRow {
        label,
        complaints: f.complaints,
        top1: percent(f.top1),
        top3: percent(f.top3),
        major_recall: f.major_recall.map_or_else(|| none.to_owned(), percent),
    }
}

async fn classifier_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let ctx = Ctx::new(&staff, "admin", "/admin/classifier");
    let tz = &state.config.time_zone;
    let status = learning::status(&state, state.now()).await?;
    let shipped = learning::shipped_figures().await?;
    let none = ctx.t("common.none");
    let mut figures = Vec::new();
    let desk_model = status.stored.as_ref().map(|m| {
        if let Some(f) = &m.holdout {
            figures.push(figures_row(
                ctx.t("classifier.desk_model_v")
                    .replace("%{version}", &m.version.to_string()),
                f,
                &none,
            ));
        }
        let facts = vec![
            (ctx.t("classifier.trained_at"), short_time(m.trained_at, tz)),
            (
                ctx.t("classifier.trained_on"),
                ctx.t("classifier.examples")
                    .replace("%{shipped}", &m.shipped_examples.to_string())
                    .replace("%{desk}", &m.desk_examples.to_string()),
            ),
            (
                ctx.t("classifier.trigger"),
                ctx.t(if m.manual {
                    "classifier.trigger_manual"
                } else {
                    "classifier.trigger_auto"
                }),
            ),
        ];
        (m.version, facts)
    });
    figures.push(figures_row(
        ctx.t("classifier.shipped_model"),
        &shipped,
        &none,
    ));
    let node_note = match (&status.stored, &status.in_use) {
        (Some(m), in_use) if in_use.as_deref() != Some(m.version.to_string().as_str()) => {
            Some(ctx.t("classifier.node_pending"))
        }
        _ => None,
    };
    #[derive(serde::Deserialize, Default)]
    struct Q {
        started: Option<String>,
        running: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let notice = if q.started.is_some() {
        Some(ctx.t("classifier.started"))
    } else if q.running.is_some() {
        Some(ctx.t("classifier.already_running"))
    } else {
        None
    };
    let page = ClassifierPage {
        notice,
        desk_model,
        shipped_examples: kesu_classify::shipped_examples().len(),
        node_note,
        confirmations: status.confirmations,
        since_training: status.since_training,
        until_next: (RETRAIN_EVERY - status.since_training).max(0),
        running_since: status.running_since.map(|t| short_time(t, tz)),
        last_error: status.last_error.map(|e| (short_time(e.at, tz), e.message)),
        figures,
        ctx,
    };
    render(&page)
}

async fn retrain(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    super::posted_form(&staff, body, &[])?;
    let to = match learning::retrain_now(&state, state.now()).await? {
        Retrain::Started => {
            tracing::info!(by = %staff.user.username, "classification model retraining asked for");
            "/admin/classifier?started=1"
        }
        Retrain::AlreadyRunning => "/admin/classifier?running=1",
    };
    Ok(Redirect::to(to).into_response())
}
