//! Notification channels (admin, R-NT-2): the SMTP server, the WeCom robot
//! and the DingTalk robot the outbox sends through, saved as the
//! [`Channels`] JSON; and the messages that failed, so an admin sees a
//! channel that keeps failing (issue 4, item 6).
//!
//! Secrets (the SMTP password, the robots' keys) are never written into the
//! page: a field left empty keeps the stored value, and the page only says
//! that one is set. A channel switched off is kept under
//! [`CHANNELS_OFF_KEY`], out of the sender's sight, so switching it on again
//! needs no retyping.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kesu_notify::{
    ConfigError, DEFAULT_TIMEOUT_SECS, DingTalkConfig, Secret, SmtpConfig, SmtpSecurity,
    WeComConfig,
};
use kesu_storage::outbox::{CHANNELS_KEY, OutboxRow};
use kesu_storage::settings::CHANNELS_OFF_KEY;
use serde_json::{Map, Value};

use super::form_text as text;
use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::outbox::Channels;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/channels", get(channels_page).post(save_channels))
}

/// The form's plain fields as typed or stored (never a secret).
#[derive(Debug, Clone, Default)]
pub struct ChannelsInput {
    pub smtp_enabled: bool,
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_from_address: String,
    pub smtp_from_name: String,
    pub wecom_enabled: bool,
    pub dingtalk_enabled: bool,
}

/// Which secrets are stored (shown as "set", never as values).
#[derive(Debug, Clone, Copy, Default)]
pub struct SecretsSet {
    pub smtp_password: bool,
    pub wecom_key: bool,
    pub dingtalk_token: bool,
    pub dingtalk_secret: bool,
}

/// A failed message as the admin sees it.
pub struct FailureRow {
    pub id: i64,
    pub created: String,
    pub channel: String,
    pub recipient: String,
    pub attempts: i64,
    pub error: String,
    pub gave_up: bool,
    pub status: String,
}

#[derive(Template)]
#[template(path = "admin_channels.html")]
struct ChannelsPage {
    ctx: Ctx,
    saved: bool,
    input: ChannelsInput,
    set: SecretsSet,
    problems: Vec<String>,
    failures: Vec<FailureRow>,
}

fn security_code(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::StartTls => "start_tls",
        SmtpSecurity::Tls => "tls",
    }
}

/// The saved channels: those switched on, and those kept switched off.
async fn stored(state: &AppState) -> Result<(Channels, Channels), Failure> {
    let on = Channels::load(state).await?;
    let off = match state.db.setting(CHANNELS_OFF_KEY).await? {
        Some(raw) => serde_json::from_str(&raw).unwrap_or_default(),
        None => Channels::default(),
    };
    Ok((on, off))
}

impl ChannelsInput {
    fn from_stored(on: &Channels, off: &Channels) -> Self {
        let smtp = on.smtp.as_ref().or(off.smtp.as_ref());
        ChannelsInput {
            smtp_enabled: on.smtp.is_some(),
            smtp_host: smtp.map(|s| s.host.clone()).unwrap_or_default(),
            smtp_port: smtp
                .and_then(|s| s.port)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            smtp_security: security_code(smtp.map_or(SmtpSecurity::StartTls, |s| s.security))
                .to_owned(),
            smtp_username: smtp.and_then(|s| s.username.clone()).unwrap_or_default(),
            smtp_from_address: smtp.map(|s| s.from_address.clone()).unwrap_or_default(),
            smtp_from_name: smtp.and_then(|s| s.from_name.clone()).unwrap_or_default(),
            wecom_enabled: on.wecom.is_some(),
            dingtalk_enabled: on.dingtalk.is_some(),
        }
    }
}

impl SecretsSet {
    fn of(on: &Channels, off: &Channels) -> Self {
        let smtp = on.smtp.as_ref().or(off.smtp.as_ref());
        let dingtalk = on.dingtalk.as_ref().or(off.dingtalk.as_ref());
        SecretsSet {
            smtp_password: smtp.is_some_and(|s| s.password.is_some()),
            wecom_key: on.wecom.is_some() || off.wecom.is_some(),
            dingtalk_token: dingtalk.is_some(),
            dingtalk_secret: dingtalk.is_some(),
        }
    }
}

/// An outbox channel's name (`email`, `wecom`, …) in the reader's language.
fn channel_label(lang: Lang, code: &str) -> String {
    let key = format!("channels.kind_{code}");
    let label = t(lang, &key);
    if label == key { code.to_owned() } else { label }
}

fn failure_row(lang: Lang, tz: &jiff::tz::TimeZone, r: &OutboxRow) -> FailureRow {
    let gave_up = r.gave_up_at.is_some();
    let status = match (r.gave_up_at, r.next_attempt_at) {
        (Some(at), _) => {
            t(lang, "channels.gave_up").replace("%{t}", &crate::view::short_time(at, tz))
        }
        (None, Some(at)) => {
            t(lang, "channels.retrying").replace("%{t}", &crate::view::short_time(at, tz))
        }
        (None, None) => t(lang, "channels.sending"),
    };
    FailureRow {
        id: r.id,
        created: crate::view::short_time(r.created_at, tz),
        channel: channel_label(lang, &r.channel),
        recipient: if r.recipient.is_empty() {
            t(lang, "channels.group")
        } else {
            crate::view::mask(&r.recipient)
        },
        attempts: r.attempts,
        error: r.last_error.clone().unwrap_or_default(),
        gave_up,
        status,
    }
}

async fn page(
    state: &AppState,
    staff: &Staff,
    input: Option<ChannelsInput>,
    problems: Vec<String>,
    saved: bool,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/channels");
    let (on, off) = stored(state).await?;
    let tz = &state.config.time_zone;
    let failures = state
        .db
        .outbox_problems(100)
        .await?
        .iter()
        .map(|r| failure_row(ctx.lang, tz, r))
        .collect();
    let refused = !problems.is_empty();
    let mut res = render(&ChannelsPage {
        saved,
        input: input.unwrap_or_else(|| ChannelsInput::from_stored(&on, &off)),
        set: SecretsSet::of(&on, &off),
        problems,
        failures,
        ctx,
    })?;
    if refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn channels_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    page(&state, &staff, None, Vec::new(), saved).await
}

fn checked(form: &Map<String, Value>, key: &str) -> bool {
    matches!(text(form, key).as_str(), "true" | "on" | "1")
}

/// A secret as typed, or the stored one when the field was left empty
/// (pages never show a secret, so an empty field means "keep it").
pub fn secret(typed: String, stored: Option<&Secret>) -> Option<Secret> {
    if typed.is_empty() {
        stored.cloned()
    } else {
        Some(Secret::new(typed))
    }
}

/// A kesu-notify configuration problem (English, from `validate()`) in the
/// reader's words; one it does not know stays as it is.
pub fn config_problem(lang: Lang, problem: &str) -> String {
    match problem {
        "must not be empty" => t(lang, "channels.problem_empty"),
        "must not start or end with spaces" => t(lang, "channels.problem_spaces"),
        "must be between 1 and 65535" => t(lang, "channels.problem_port"),
        "is required with a username" => t(lang, "channels.problem_password_needed"),
        "is required with a password" => t(lang, "channels.problem_username_needed"),
        "is not an e-mail address" => t(lang, "channels.problem_email"),
        "must not contain line breaks or control characters" => t(lang, "channels.problem_control"),
        p if p.starts_with("must be a host name only") => t(lang, "channels.problem_host"),
        p if p.starts_with("must be start_tls or tls") => t(lang, "channels.problem_plain_login"),
        p if p.starts_with("is not one of") => t(lang, "input.unknown_value"),
        p if p.starts_with("must be digits") => t(lang, "channels.problem_digits"),
        other => other.to_owned(),
    }
}

/// One problem, readably: `SMTP · 服务器: 不能为空`.
fn problem_text(lang: Lang, channel: &str, field: &str, problem: &str) -> String {
    let what = config_problem(lang, problem);
    t(lang, "channels.problem_line")
        .replace("%{channel}", &t(lang, &format!("channels.{channel}")))
        .replace("%{field}", &t(lang, &format!("channels.field_{field}")))
        .replace("%{problem}", &what)
}

fn problems_of(lang: Lang, channel: &str, e: &ConfigError) -> Vec<String> {
    e.problems
        .iter()
        .map(|p| problem_text(lang, channel, p.field, &p.problem))
        .collect()
}

/// The SMTP configuration the form describes (stored secrets filled in), or
/// the fields that cannot even be read.
fn smtp_from(
    lang: Lang,
    form: &Map<String, Value>,
    stored: Option<&SmtpConfig>,
) -> Result<SmtpConfig, Vec<String>> {
    let mut problems = Vec::new();
    let port = match text(form, "smtp_port").as_str() {
        "" => None,
        raw => match raw.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                problems.push(problem_text(
                    lang,
                    "smtp",
                    "port",
                    "must be between 1 and 65535",
                ));
                None
            }
        },
    };
    let security = match text(form, "smtp_security").as_str() {
        "none" => SmtpSecurity::None,
        "start_tls" | "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        _ => {
            problems.push(problem_text(lang, "smtp", "security", "is not one of"));
            SmtpSecurity::StartTls
        }
    };
    let username = Some(text(form, "smtp_username")).filter(|u| !u.is_empty());
    // The stored password stays only for a login that is kept.
    let password = match username {
        Some(_) => secret(
            text(form, "smtp_password"),
            stored.and_then(|s| s.password.as_ref()),
        ),
        None => None,
    };
    let config = SmtpConfig {
        host: text(form, "smtp_host"),
        port,
        security,
        username,
        password,
        from_address: text(form, "smtp_from_address"),
        from_name: Some(text(form, "smtp_from_name")).filter(|n| !n.is_empty()),
        timeout_secs: stored.map_or(DEFAULT_TIMEOUT_SECS, |s| s.timeout_secs),
    };
    if let Err(e) = config.validate() {
        problems.extend(problems_of(lang, "smtp", &e));
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

fn wecom_from(
    lang: Lang,
    form: &Map<String, Value>,
    stored: Option<&WeComConfig>,
) -> Result<WeComConfig, Vec<String>> {
    let typed = text(form, "wecom_webhook");
    let config = match (typed.is_empty(), stored) {
        (true, Some(s)) => s.clone(),
        _ => WeComConfig {
            base_url: stored.and_then(|s| s.base_url.clone()),
            timeout_secs: stored.map_or(DEFAULT_TIMEOUT_SECS, |s| s.timeout_secs),
            ..WeComConfig::from_webhook(&typed)
        },
    };
    config
        .validate()
        .map(|()| config)
        .map_err(|e| problems_of(lang, "wecom", &e))
}

fn dingtalk_from(
    lang: Lang,
    form: &Map<String, Value>,
    stored: Option<&DingTalkConfig>,
) -> Result<DingTalkConfig, Vec<String>> {
    let config = DingTalkConfig {
        access_token: secret(
            text(form, "dingtalk_access_token"),
            stored.map(|s| &s.access_token),
        )
        .unwrap_or_else(|| Secret::new("")),
        secret: secret(text(form, "dingtalk_secret"), stored.map(|s| &s.secret))
            .unwrap_or_else(|| Secret::new("")),
        base_url: stored.and_then(|s| s.base_url.clone()),
        timeout_secs: stored.map_or(DEFAULT_TIMEOUT_SECS, |s| s.timeout_secs),
    };
    config
        .validate()
        .map(|()| config)
        .map_err(|e| problems_of(lang, "dingtalk", &e))
}

/// Where one channel goes: switched on (its problems refuse the form), or
/// kept switched off (a complete configuration as typed, else what was
/// stored).
fn place<C: Clone>(
    enabled: bool,
    built: Result<C, Vec<String>>,
    stored: Option<&C>,
    problems: &mut Vec<String>,
) -> (Option<C>, Option<C>) {
    match (enabled, built) {
        (true, Ok(c)) => (Some(c), None),
        (true, Err(p)) => {
            problems.extend(p);
            (None, None)
        }
        (false, Ok(c)) => (None, Some(c)),
        (false, Err(_)) => (None, stored.cloned()),
    }
}

async fn save_channels(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let lang = staff.lang;
    let (on, off) = stored(&state).await?;
    let smtp_stored = on.smtp.as_ref().or(off.smtp.as_ref());
    let wecom_stored = on.wecom.as_ref().or(off.wecom.as_ref());
    let dingtalk_stored = on.dingtalk.as_ref().or(off.dingtalk.as_ref());
    let input = ChannelsInput {
        smtp_enabled: checked(&form, "smtp_enabled"),
        smtp_host: text(&form, "smtp_host"),
        smtp_port: text(&form, "smtp_port"),
        smtp_security: text(&form, "smtp_security"),
        smtp_username: text(&form, "smtp_username"),
        smtp_from_address: text(&form, "smtp_from_address"),
        smtp_from_name: text(&form, "smtp_from_name"),
        wecom_enabled: checked(&form, "wecom_enabled"),
        dingtalk_enabled: checked(&form, "dingtalk_enabled"),
    };
    let mut problems = Vec::new();
    // Switched off with its fields emptied: forgotten.
    let smtp_cleared = !input.smtp_enabled
        && input.smtp_host.is_empty()
        && input.smtp_username.is_empty()
        && input.smtp_from_address.is_empty();
    let (smtp_on, smtp_off) = place(
        input.smtp_enabled,
        smtp_from(lang, &form, smtp_stored),
        smtp_stored.filter(|_| !smtp_cleared),
        &mut problems,
    );
    let (wecom_on, wecom_off) = place(
        input.wecom_enabled,
        wecom_from(lang, &form, wecom_stored),
        wecom_stored,
        &mut problems,
    );
    let (dingtalk_on, dingtalk_off) = place(
        input.dingtalk_enabled,
        dingtalk_from(lang, &form, dingtalk_stored),
        dingtalk_stored,
        &mut problems,
    );
    if !problems.is_empty() {
        return page(&state, &staff, Some(input), problems, false).await;
    }
    let json = |c: &Channels| {
        serde_json::to_string(c).map_err(|e| Failure::Internal(format!("channels: {e}")))
    };
    let on = Channels {
        smtp: smtp_on,
        wecom: wecom_on,
        dingtalk: dingtalk_on,
    };
    let off = Channels {
        smtp: smtp_off,
        wecom: wecom_off,
        dingtalk: dingtalk_off,
    };
    state
        .db
        .set_settings(&[
            (CHANNELS_KEY, &json(&on)?),
            (CHANNELS_OFF_KEY, &json(&off)?),
        ])
        .await?;
    Ok(Redirect::to("/admin/channels?saved=1").into_response())
}
