//! The WeChat Official Account (admin, issue 5 item 4): on/off, the Token
//! WeChat signs its requests with, the AppID and AppSecret, the desk's
//! public address, saved as [`WeChatSettings`]; the server URL to paste
//! into the account's console, and the last message received. The Token
//! and the AppSecret are never written into the page: a field left empty
//! keeps the stored one.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kesu_notify::{DEFAULT_TIMEOUT_SECS, Secret, WeChatMpConfig};
use serde_json::{Map, Value};

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::wechat::settings::{WeChatSettings, token_ok};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/wechat", get(wechat_page).post(save_wechat))
}

/// The form as typed or stored (never the Token or the AppSecret).
#[derive(Debug, Clone, Default)]
pub struct WeChatInput {
    pub enabled: bool,
    pub app_id: String,
    pub public_url: String,
}

impl WeChatInput {
    fn from_settings(s: &WeChatSettings) -> WeChatInput {
        WeChatInput {
            enabled: s.enabled,
            app_id: s.account.app_id.clone(),
            public_url: s.public_url.clone().unwrap_or_default(),
        }
    }

    /// The settings to store, keeping the stored Token and AppSecret when
    /// none was typed. The first problem found, in the reader's words.
    fn parse(
        &self,
        lang: Lang,
        token: &str,
        app_secret: &str,
        stored: Option<&WeChatSettings>,
    ) -> Result<WeChatSettings, String> {
        let bad = |k: &str| t(lang, &format!("wechat.bad_{k}"));
        let token = match (token.trim(), stored) {
            ("", Some(s)) => s.token.clone(),
            (typed, _) => Secret::new(typed),
        };
        if !token_ok(token.expose()) {
            return Err(bad("token"));
        }
        let app_secret = match (app_secret.trim(), stored) {
            ("", Some(s)) => s.account.app_secret.clone(),
            (typed, _) => Secret::new(typed),
        };
        let account = WeChatMpConfig {
            app_id: self.app_id.clone(),
            app_secret,
            base_url: stored.and_then(|s| s.account.base_url.clone()),
            timeout_secs: stored.map_or(DEFAULT_TIMEOUT_SECS, |s| s.account.timeout_secs),
        };
        if let Err(e) = account.validate() {
            let field = e.problems.first().map_or("app_id", |p| p.field);
            return Err(bad(if field == "app_secret" {
                "app_secret"
            } else {
                "app_id"
            }));
        }
        let public_url =
            Some(self.public_url.trim_end_matches('/').to_owned()).filter(|u| !u.is_empty());
        if let Some(u) = &public_url {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 200
                && !u.contains(['?', '#', ' ', '"', '<', '>'])
                && u.split("://").nth(1).is_some_and(|h| !h.is_empty());
            if !ok {
                return Err(bad("public_url"));
            }
        }
        Ok(WeChatSettings {
            enabled: self.enabled,
            token,
            public_url,
            account,
        })
    }
}

fn from_form(form: &Map<String, Value>) -> (WeChatInput, String, String) {
    let text = |k: &str| super::form_text(form, k);
    (
        WeChatInput {
            enabled: text("enabled") == "true",
            app_id: text("app_id"),
            public_url: text("public_url"),
        },
        text("token"),
        text("app_secret"),
    )
}

/// The last message in words.
pub struct LastView {
    pub at: String,
    /// `wechat.outcome.*`.
    pub outcome: String,
    pub number: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_wechat.html")]
struct WeChatPage {
    ctx: Ctx,
    saved: bool,
    input: WeChatInput,
    token_set: bool,
    secret_set: bool,
    /// The server URL to paste into the account's console.
    endpoint: String,
    error: Option<String>,
    last: Option<LastView>,
}

/// The server URL: the public address when set, else the address this
/// page was reached at.
fn endpoint(stored: Option<&WeChatSettings>, headers: &HeaderMap, state: &AppState) -> String {
    if let Some(u) = stored.and_then(|s| s.public_url.as_deref()) {
        return format!("{u}/wechat");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"', '<', '>']))
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/wechat")
}

async fn page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    input: Option<WeChatInput>,
    error: Option<String>,
    saved: bool,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/wechat");
    let stored = WeChatSettings::load(state).await?;
    let last = match state.db.last_wechat_message().await? {
        Some(m) => Some(LastView {
            at: crate::view::short_time(m.at, &state.config.time_zone),
            outcome: format!("wechat.outcome.{}", m.outcome),
            number: match m.complaint_id {
                Some(id) => state.db.complaint_number(id).await?,
                None => None,
            },
        }),
        None => None,
    };
    let refused = error.is_some();
    let mut res = render(&WeChatPage {
        ctx,
        saved,
        input: input.unwrap_or_else(|| {
            stored
                .as_ref()
                .map(WeChatInput::from_settings)
                .unwrap_or_default()
        }),
        token_set: stored.is_some(),
        secret_set: stored.is_some(),
        endpoint: endpoint(stored.as_ref(), headers, state),
        error,
        last,
    })?;
    if refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn wechat_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    page(&state, &staff, &headers, None, None, saved).await
}

async fn save_wechat(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let (input, token, app_secret) = from_form(&form);
    let stored = WeChatSettings::load(&state).await?;
    match input.parse(staff.lang, &token, &app_secret, stored.as_ref()) {
        Ok(settings) => {
            settings.save(&state).await?;
            tracing::info!(wechat.enabled = settings.enabled, "WeChat account saved");
            Ok(Redirect::to("/admin/wechat?saved=1").into_response())
        }
        Err(e) => page(&state, &staff, &headers, Some(input), Some(e), false).await,
    }
}
