//! Customer messages (admin, R-NT-1): per occasion on/off and its texts
//! (e-mail subject and body, SMS text, the vendor's template and which
//! placeholders fill its parameters) with a preview on a sample complaint;
//! the SMS provider and its account; quiet hours for SMS; the portal's
//! public address. Saved as [`CustomerMessages`] for the worker.
//!
//! A form with any problem stores nothing and names each problem on its
//! field. Secrets (the vendors' keys) are never written into the page: a
//! field left empty keeps the stored one.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_notify::{AliyunSmsConfig, ConfigError, DEFAULT_TIMEOUT_SECS, Secret, TencentSmsConfig};
use serde_json::{Map, Value};

use super::form_text as text_of;
use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::customer_messages::settings::{SETTINGS_KEY, parse_clock};
use crate::customer_messages::text::{self, TextProblem};
use crate::customer_messages::{
    CustomerMessages, Occasion, OccasionText, SmsProvider, render as render_texts, sample_values,
};
use crate::error::Failure;
use crate::i18n::{Lang, t};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/customer-messages",
            get(customer_messages_page).post(save_customer_messages),
        )
        .route(
            "/admin/customer-messages/restore",
            post(restore_default_texts),
        )
}

/// The form's plain fields as typed or stored (never a secret).
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub portal_url: String,
    pub quiet_start: String,
    pub quiet_end: String,
    pub survey_delay_hours: String,
    pub provider: String,
    pub aliyun_access_key_id: String,
    pub aliyun_sign_name: String,
    pub aliyun_region_id: String,
    pub tencent_secret_id: String,
    pub tencent_sdk_app_id: String,
    pub tencent_sign_name: String,
    pub tencent_region: String,
}

/// One occasion's part of the form, with its preview.
pub struct OccasionForm {
    pub code: &'static str,
    pub label: String,
    pub hint: String,
    pub on: bool,
    pub email_subject: String,
    pub email_body: String,
    pub sms_text: String,
    pub sms_template: String,
    pub sms_params: String,
    pub wechat_template: String,
    pub wechat_fields: String,
    pub preview_subject: String,
    pub preview_body: String,
    pub preview_sms: String,
    pub preview_params: String,
    problems: BTreeMap<&'static str, String>,
}

impl OccasionForm {
    pub fn problem(&self, part: &str) -> Option<&String> {
        self.problems.get(part)
    }
}

#[derive(Template)]
#[template(path = "admin_customer_messages.html")]
struct Page {
    ctx: Ctx,
    saved: bool,
    restored: bool,
    input: Input,
    occasions: Vec<OccasionForm>,
    aliyun_secret_set: bool,
    tencent_secret_set: bool,
    /// Problems of the plain fields, by field name.
    problems: BTreeMap<String, String>,
    /// Every problem, for the summary at the top.
    summary: Vec<String>,
}

impl Page {
    fn problem(&self, field: &str) -> Option<&String> {
        self.problems.get(field)
    }
}

impl Input {
    fn from_stored(s: &CustomerMessages) -> Input {
        let mut input = Input {
            portal_url: s.portal_url.clone().unwrap_or_default(),
            quiet_start: s.quiet_start.clone(),
            quiet_end: s.quiet_end.clone(),
            survey_delay_hours: s.survey_delay_hours.to_string(),
            provider: s.sms.code().to_owned(),
            aliyun_region_id: "cn-hangzhou".to_owned(),
            tencent_region: "ap-guangzhou".to_owned(),
            ..Input::default()
        };
        match &s.sms {
            SmsProvider::None => {}
            SmsProvider::Aliyun(c) => {
                input.aliyun_access_key_id.clone_from(&c.access_key_id);
                input.aliyun_sign_name.clone_from(&c.sign_name);
                input.aliyun_region_id.clone_from(&c.region_id);
            }
            SmsProvider::Tencent(c) => {
                input.tencent_secret_id.clone_from(&c.secret_id);
                input.tencent_sdk_app_id.clone_from(&c.sdk_app_id);
                input.tencent_sign_name.clone_from(&c.sign_name);
                input.tencent_region.clone_from(&c.region);
            }
        }
        input
    }

    fn from_form(form: &Map<String, Value>) -> Input {
        Input {
            portal_url: text_of(form, "portal_url"),
            quiet_start: text_of(form, "quiet_start"),
            quiet_end: text_of(form, "quiet_end"),
            survey_delay_hours: text_of(form, "survey_delay_hours"),
            provider: text_of(form, "provider"),
            aliyun_access_key_id: text_of(form, "aliyun_access_key_id"),
            aliyun_sign_name: text_of(form, "aliyun_sign_name"),
            aliyun_region_id: text_of(form, "aliyun_region_id"),
            tencent_secret_id: text_of(form, "tencent_secret_id"),
            tencent_sdk_app_id: text_of(form, "tencent_sdk_app_id"),
            tencent_sign_name: text_of(form, "tencent_sign_name"),
            tencent_region: text_of(form, "tencent_region"),
        }
    }
}

/// A text area keeps its inner spacing; only line endings are normalised.
fn area_of(form: &Map<String, Value>, key: &str) -> String {
    form.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace("\r\n", "\n")
        .trim()
        .to_owned()
}

fn occasion_form(
    lang: Lang,
    o: Occasion,
    text: &OccasionText,
    settings: &CustomerMessages,
    problems: BTreeMap<&'static str, String>,
) -> OccasionForm {
    let preview = render_texts(text, &sample_values(settings));
    OccasionForm {
        code: o.as_str(),
        label: t(lang, &format!("cmsg.occasion.{}", o.as_str())),
        hint: t(lang, &format!("cmsg.occasion_hint.{}", o.as_str())),
        on: text.on,
        email_subject: text.email_subject.clone(),
        email_body: text.email_body.clone(),
        sms_text: text.sms_text.clone(),
        sms_template: text.sms_template.clone(),
        sms_params: text.sms_params.join(", "),
        wechat_template: text.wechat_template.clone(),
        wechat_fields: text
            .wechat_fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        preview_subject: preview.subject,
        preview_body: preview.body,
        preview_sms: preview.sms,
        preview_params: preview
            .sms_params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
        problems,
    }
}

async fn stored(state: &AppState) -> Result<Option<CustomerMessages>, Failure> {
    Ok(CustomerMessages::load(state).await?)
}

/// What the page shows after a refused form: the typed texts.
struct Refused {
    input: Input,
    texts: Vec<(Occasion, OccasionText, BTreeMap<&'static str, String>)>,
    problems: BTreeMap<String, String>,
    summary: Vec<String>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    refused: Option<Refused>,
    saved: bool,
    restored: bool,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/customer-messages");
    let lang = ctx.lang;
    let settings = stored(state).await?.unwrap_or_default();
    let (aliyun_secret_set, tencent_secret_set) = match &settings.sms {
        SmsProvider::Aliyun(c) => (!c.access_key_secret.expose().is_empty(), false),
        SmsProvider::Tencent(c) => (false, !c.secret_key.expose().is_empty()),
        SmsProvider::None => (false, false),
    };
    let is_refused = refused.is_some();
    let (input, occasions, problems, summary) = match refused {
        Some(r) => {
            let occasions = r
                .texts
                .into_iter()
                .map(|(o, text, p)| occasion_form(lang, o, &text, &settings, p))
                .collect();
            (r.input, occasions, r.problems, r.summary)
        }
        None => (
            Input::from_stored(&settings),
            Occasion::ALL
                .iter()
                .map(|o| occasion_form(lang, *o, &settings.text(*o), &settings, BTreeMap::new()))
                .collect(),
            BTreeMap::new(),
            Vec::new(),
        ),
    };
    let mut res = render(&Page {
        ctx,
        saved,
        restored,
        input,
        occasions,
        aliyun_secret_set,
        tencent_secret_set,
        problems,
        summary,
    })?;
    if is_refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn customer_messages_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let raw = raw.unwrap_or_default();
    page(
        &state,
        &staff,
        None,
        raw.contains("saved"),
        raw.contains("restored"),
    )
    .await
}

fn problem_text(lang: Lang, p: &TextProblem) -> String {
    match p {
        TextProblem::Unknown(name) => {
            t(lang, "cmsg.problem.unknown_placeholder").replace("%{name}", name)
        }
        TextProblem::Unclosed => t(lang, "cmsg.problem.unclosed"),
    }
}

/// Collects the problems of one form.
struct Problems {
    lang: Lang,
    fields: BTreeMap<String, String>,
    summary: Vec<String>,
}

impl Problems {
    fn add(&mut self, field: &str, label_key: &str, problem: String) {
        self.summary.push(
            t(self.lang, "cmsg.problem_line")
                .replace("%{field}", &t(self.lang, label_key))
                .replace("%{problem}", &problem),
        );
        self.fields.entry(field.to_owned()).or_insert(problem);
    }

    fn vendor(&mut self, prefix: &str, e: &ConfigError) {
        for p in &e.problems {
            let what = super::channels::config_problem(self.lang, &p.problem);
            let field = format!("{prefix}_{}", p.field);
            self.add(&field, &format!("cmsg.field.{field}"), what);
        }
    }
}

fn portal_url(raw: &str) -> Option<Option<String>> {
    if raw.is_empty() {
        return Some(None);
    }
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    let fine = !host.is_empty()
        && raw.len() <= 300
        && !raw.contains(['?', '#', '"', '<', '>', '\'', '\\'])
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    fine.then(|| Some(raw.trim_end_matches('/').to_owned()))
}

/// [`super::channels::secret`], empty when there is none (`validate()`
/// then names the field).
fn secret(typed: String, stored: Option<&Secret>) -> Secret {
    super::channels::secret(typed, stored).unwrap_or_else(|| Secret::new(""))
}

fn sms_from(
    form: &Map<String, Value>,
    input: &Input,
    stored: &SmsProvider,
    problems: &mut Problems,
) -> SmsProvider {
    match input.provider.as_str() {
        "none" | "" => SmsProvider::None,
        "aliyun" => {
            let old = match stored {
                SmsProvider::Aliyun(c) => Some(c),
                _ => None,
            };
            let config = AliyunSmsConfig {
                access_key_id: input.aliyun_access_key_id.clone(),
                access_key_secret: secret(
                    text_of(form, "aliyun_access_key_secret"),
                    old.map(|c| &c.access_key_secret),
                ),
                sign_name: input.aliyun_sign_name.clone(),
                region_id: if input.aliyun_region_id.is_empty() {
                    "cn-hangzhou".to_owned()
                } else {
                    input.aliyun_region_id.clone()
                },
                base_url: old.and_then(|c| c.base_url.clone()),
                timeout_secs: old.map_or(DEFAULT_TIMEOUT_SECS, |c| c.timeout_secs),
            };
            if let Err(e) = config.validate() {
                problems.vendor("aliyun", &e);
            }
            SmsProvider::Aliyun(config)
        }
        "tencent" => {
            let old = match stored {
                SmsProvider::Tencent(c) => Some(c),
                _ => None,
            };
            let config = TencentSmsConfig {
                secret_id: input.tencent_secret_id.clone(),
                secret_key: secret(
                    text_of(form, "tencent_secret_key"),
                    old.map(|c| &c.secret_key),
                ),
                sdk_app_id: input.tencent_sdk_app_id.clone(),
                sign_name: input.tencent_sign_name.clone(),
                region: if input.tencent_region.is_empty() {
                    "ap-guangzhou".to_owned()
                } else {
                    input.tencent_region.clone()
                },
                base_url: old.and_then(|c| c.base_url.clone()),
                timeout_secs: old.map_or(DEFAULT_TIMEOUT_SECS, |c| c.timeout_secs),
            };
            if let Err(e) = config.validate() {
                problems.vendor("tencent", &e);
            }
            SmsProvider::Tencent(config)
        }
        _ => {
            let what = t(problems.lang, "cmsg.problem.bad_provider");
            problems.add("provider", "cmsg.field.provider", what);
            SmsProvider::None
        }
    }
}

/// One occasion as typed, with the problems of its fields.
fn occasion_from(
    lang: Lang,
    form: &Map<String, Value>,
    o: Occasion,
    problems: &mut Problems,
) -> (OccasionText, BTreeMap<&'static str, String>) {
    let code = o.as_str();
    let field = |part: &str| format!("{code}_{part}");
    let mut own = BTreeMap::new();
    let label = t(lang, &format!("cmsg.occasion.{code}"));
    let mut fail =
        |part: &'static str, problem: String, own: &mut BTreeMap<&'static str, String>| {
            problems.summary.push(
                t(lang, "cmsg.problem_line")
                    .replace(
                        "%{field}",
                        &format!("{label} · {}", t(lang, &format!("cmsg.field.{part}"))),
                    )
                    .replace("%{problem}", &problem),
            );
            problems
                .fields
                .insert(format!("{code}_{part}"), problem.clone());
            own.entry(part).or_insert(problem);
        };
    let mut texts = Vec::new();
    for (part, max) in [
        ("email_subject", 200),
        ("email_body", 4000),
        ("sms_text", 500),
    ] {
        let value = area_of(form, &field(part));
        if value.is_empty() {
            fail(part, t(lang, "cmsg.problem.empty"), &mut own);
        } else if value.chars().count() > max {
            fail(part, t(lang, "cmsg.problem.too_long"), &mut own);
        } else if let Err(p) = text::check(&value) {
            fail(part, problem_text(lang, &p), &mut own);
        }
        texts.push(value);
    }
    let sms_template = text_of(form, &field("sms_template"));
    if sms_template.chars().count() > 64 || sms_template.chars().any(char::is_control) {
        fail("sms_template", t(lang, "cmsg.problem.too_long"), &mut own);
    }
    let raw_params = text_of(form, &field("sms_params"));
    let sms_params = match text::param_list(&raw_params) {
        Ok(p) => p,
        Err(p) => {
            fail("sms_params", problem_text(lang, &p), &mut own);
            Vec::new()
        }
    };
    let wechat_template = text_of(form, &field("wechat_template"));
    let template_ok = wechat_template.len() <= 128
        && wechat_template
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !template_ok {
        fail(
            "wechat_template",
            t(lang, "cmsg.problem.wechat_template"),
            &mut own,
        );
    }
    let raw_fields = text_of(form, &field("wechat_fields"));
    let wechat_fields = match text::field_list(&raw_fields) {
        Ok(f) => f,
        Err(p) => {
            fail("wechat_fields", problem_text(lang, &p), &mut own);
            Vec::new()
        }
    };
    if template_ok
        && !wechat_template.is_empty()
        && wechat_fields.is_empty()
        && raw_fields.trim().is_empty()
    {
        fail("wechat_fields", t(lang, "cmsg.problem.empty"), &mut own);
    }
    let mut texts = texts.into_iter();
    let text = OccasionText {
        on: matches!(text_of(form, &field("on")).as_str(), "true" | "on" | "1"),
        email_subject: texts.next().unwrap_or_default(),
        email_body: texts.next().unwrap_or_default(),
        sms_text: texts.next().unwrap_or_default(),
        sms_template,
        sms_params,
        wechat_template,
        wechat_fields,
    };
    (text, own)
}

async fn save_customer_messages(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let lang = staff.lang;
    let old = stored(&state).await?.unwrap_or_default();
    let input = Input::from_form(&form);
    let mut problems = Problems {
        lang,
        fields: BTreeMap::new(),
        summary: Vec::new(),
    };
    let url = portal_url(&input.portal_url).unwrap_or_else(|| {
        problems.add(
            "portal_url",
            "cmsg.field.portal_url",
            t(lang, "cmsg.problem.bad_url"),
        );
        None
    });
    match (input.quiet_start.is_empty(), input.quiet_end.is_empty()) {
        (true, true) => {}
        (false, false) => {
            for field in ["quiet_start", "quiet_end"] {
                let raw = if field == "quiet_start" {
                    &input.quiet_start
                } else {
                    &input.quiet_end
                };
                if parse_clock(raw).is_none() {
                    problems.add(
                        field,
                        &format!("cmsg.field.{field}"),
                        t(lang, "cmsg.problem.bad_time"),
                    );
                }
            }
        }
        (start_empty, _) => {
            let field = if start_empty {
                "quiet_start"
            } else {
                "quiet_end"
            };
            problems.add(
                field,
                &format!("cmsg.field.{field}"),
                t(lang, "cmsg.problem.quiet_pair"),
            );
        }
    }
    // Left out of the form (an older page): the stored delay stands.
    let survey_delay_hours = if input.survey_delay_hours.is_empty() {
        old.survey_delay_hours
    } else {
        match input.survey_delay_hours.parse::<u32>() {
            Ok(h) if h <= crate::customer_messages::settings::MAX_SURVEY_DELAY_HOURS => h,
            _ => {
                problems.add(
                    "survey_delay_hours",
                    "cmsg.field.survey_delay_hours",
                    t(lang, "cmsg.problem.survey_delay"),
                );
                0
            }
        }
    };
    let sms = sms_from(&form, &input, &old.sms, &mut problems);
    let mut texts = Vec::new();
    for o in Occasion::ALL {
        let (text, own) = occasion_from(lang, &form, *o, &mut problems);
        texts.push((*o, text, own));
    }
    if !problems.summary.is_empty() {
        let refused = Refused {
            input,
            texts,
            problems: problems.fields,
            summary: problems.summary,
        };
        return page(&state, &staff, Some(refused), false, false).await;
    }
    let settings = CustomerMessages {
        occasions: texts
            .into_iter()
            .map(|(o, text, _)| (o.as_str().to_owned(), text))
            .collect(),
        sms,
        quiet_start: input.quiet_start.clone(),
        quiet_end: input.quiet_end.clone(),
        portal_url: url,
        survey_delay_hours,
    };
    store(&state, &settings).await?;
    Ok(Redirect::to("/admin/customer-messages?saved=1").into_response())
}

/// Saves the settings and starts the cursor at the newest event when a
/// first occasion is switched on (forgets it when all are off).
async fn store(state: &AppState, settings: &CustomerMessages) -> Result<(), Failure> {
    let json = serde_json::to_string(settings)
        .map_err(|e| Failure::Internal(format!("customer messages: {e}")))?;
    state.db.set_setting(SETTINGS_KEY, &json).await?;
    if settings.any_on() {
        state.db.start_customer_notice_cursor().await?;
    } else {
        state.db.stop_customer_notice_cursor().await?;
    }
    Ok(())
}

/// `POST /admin/customer-messages/restore`: one occasion's texts back to
/// the shipped Chinese defaults (its switch and vendor template stay).
async fn restore_default_texts(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let form = super::posted_form(&staff, body, &[])?;
    let occasion = Occasion::parse(&text_of(&form, "occasion"))
        .ok_or_else(|| Failure::InvalidText(t(staff.lang, "input.unknown_value")))?;
    if let Some(mut settings) = stored(&state).await? {
        let current = settings.text(occasion);
        let defaults = occasion.default_text();
        settings.occasions.insert(
            occasion.as_str().to_owned(),
            OccasionText {
                email_subject: defaults.email_subject,
                email_body: defaults.email_body,
                sms_text: defaults.sms_text,
                ..current
            },
        );
        store(&state, &settings).await?;
    }
    Ok(Redirect::to("/admin/customer-messages?restored=1").into_response())
}
