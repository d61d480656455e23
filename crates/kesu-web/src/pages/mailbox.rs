//! The desk's mailbox (admin, issue 5 item 2): where `kesu serve` fetches
//! complaints by IMAP — server, port, TLS or plain, login, folder, on/off —
//! saved as [`MailboxSettings`] for the poller; and what the last poll did,
//! so an admin sees a mailbox that keeps failing. The password is never
//! written into the page: a field left empty keeps the stored one.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kesu_mail::{ImapConfig, Security};
use serde_json::{Map, Value};

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::mail::poll::{MailboxSettings, PollStatus};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/mailbox", get(mailbox_page).post(save_mailbox))
}

/// The form as typed or stored (never the password).
#[derive(Debug, Clone)]
pub struct MailboxInput {
    pub enabled: bool,
    pub host: String,
    pub port: String,
    /// `tls` or `plain`.
    pub security: String,
    pub username: String,
    pub folder: String,
}

impl Default for MailboxInput {
    fn default() -> Self {
        MailboxInput {
            enabled: false,
            host: String::new(),
            port: "993".to_owned(),
            security: "tls".to_owned(),
            username: String::new(),
            folder: "INBOX".to_owned(),
        }
    }
}

impl MailboxInput {
    fn from_settings(s: &MailboxSettings) -> MailboxInput {
        MailboxInput {
            enabled: s.enabled,
            host: s.imap.host.clone(),
            port: s.imap.port.to_string(),
            security: match s.imap.security {
                Security::Tls => "tls",
                Security::Plain => "plain",
            }
            .to_owned(),
            username: s.imap.username.clone(),
            folder: s.imap.mailbox.clone(),
        }
    }

    fn from_form(form: &Map<String, Value>) -> MailboxInput {
        let text = |k: &str| super::form_text(form, k);
        MailboxInput {
            enabled: text("enabled") == "true",
            host: text("host"),
            port: text("port"),
            security: text("security"),
            username: text("username"),
            folder: text("folder"),
        }
    }

    /// The settings to store, keeping the stored password when none was
    /// typed and the stored timeouts and certificates.
    fn parse(
        &self,
        lang: Lang,
        password: &str,
        stored: Option<&MailboxSettings>,
    ) -> Result<MailboxSettings, String> {
        let bad = |k: &str| t(lang, &format!("mailbox.bad_{k}"));
        let port: u16 = self
            .port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("port"))?;
        let security = match self.security.as_str() {
            "tls" => Security::Tls,
            "plain" => Security::Plain,
            _ => return Err(bad("security")),
        };
        if self.host.is_empty() || self.host.contains(char::is_whitespace) || self.host.len() > 253
        {
            return Err(bad("host"));
        }
        if self.username.is_empty() || self.username.len() > 320 {
            return Err(bad("username"));
        }
        let password = if password.is_empty() {
            stored
                .map(|s| s.imap.password.clone())
                .filter(|p| !p.is_empty())
                .ok_or_else(|| bad("password"))?
        } else {
            password.to_owned()
        };
        let folder = if self.folder.is_empty() {
            "INBOX".to_owned()
        } else {
            self.folder.clone()
        };
        if folder.len() > 200 || folder.chars().any(char::is_control) {
            return Err(bad("folder"));
        }
        let mut imap = ImapConfig::new(&self.host, port, security, &self.username, password);
        imap.mailbox = folder;
        if let Some(s) = stored {
            imap.ca_file.clone_from(&s.imap.ca_file);
            imap.connect_timeout_secs = s.imap.connect_timeout_secs;
            imap.command_timeout_secs = s.imap.command_timeout_secs;
        }
        Ok(MailboxSettings {
            enabled: self.enabled,
            imap,
        })
    }
}

/// The last poll in words.
pub struct StatusView {
    pub at: String,
    pub fetched: usize,
    pub filed: usize,
    pub unreadable: usize,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_mailbox.html")]
struct MailboxPage {
    ctx: Ctx,
    saved: bool,
    input: MailboxInput,
    password_set: bool,
    error: Option<String>,
    status: Option<StatusView>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    input: Option<MailboxInput>,
    error: Option<String>,
    saved: bool,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/mailbox");
    let stored = MailboxSettings::load(state).await?;
    let tz = &state.config.time_zone;
    let status = PollStatus::load(state).await?.map(|s| StatusView {
        at: crate::view::short_time(s.at, tz),
        fetched: s.fetched,
        filed: s.filed,
        unreadable: s.unreadable,
        error: s.error,
    });
    let refused = error.is_some();
    let mut res = render(&MailboxPage {
        ctx,
        saved,
        input: input.unwrap_or_else(|| {
            stored
                .as_ref()
                .map(MailboxInput::from_settings)
                .unwrap_or_default()
        }),
        password_set: stored.is_some_and(|s| !s.imap.password.is_empty()),
        error,
        status,
    })?;
    if refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn mailbox_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    page(&state, &staff, None, None, saved).await
}

async fn save_mailbox(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let input = MailboxInput::from_form(&form);
    let password = form
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let stored = MailboxSettings::load(&state).await?;
    match input.parse(staff.lang, password, stored.as_ref()) {
        Ok(settings) => {
            settings.save(&state).await?;
            Ok(Redirect::to("/admin/mailbox?saved=1").into_response())
        }
        Err(e) => page(&state, &staff, Some(input), Some(e), false).await,
    }
}
