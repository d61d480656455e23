//! The registration form, built for a phone agent: type the caller's number,
//! press Enter, and a known customer fills in; then the customer's words,
//! and Enter on the button. Keyboard only, sensible defaults.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kesu_domain::{Channel, Role, Severity, Signal};
use serde_json::{Value, json};

use super::forms::Opt;
use super::{Ctx, render};
use crate::AppState;
use crate::actions::{self, FileIn, NewComplaintIn};
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new().route("/complaints/new", get(new_page))
}

#[derive(Template)]
#[template(path = "new.html")]
struct NewPage {
    ctx: Ctx,
    phone: String,
    name: String,
    email: String,
    known: Option<String>,
    is_agent: bool,
    channels: Vec<Opt>,
    categories: Vec<Opt>,
    severities: Vec<Opt>,
    signals: Vec<Opt>,
    /// Sites to choose from (group-level staff of a desk with several sites).
    sites: Vec<Opt>,
    /// The bodies that forward cases (12315, 市场监管局 …).
    forwarding_bodies: Vec<Opt>,
}

async fn new_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    if !staff.actor.may_take_in() {
        return Err(Failure::Forbidden);
    }
    #[derive(serde::Deserialize, Default)]
    struct Q {
        phone: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let ctx = Ctx::new(&staff, "new", "/complaints/new");
    let mut phone = q.phone.unwrap_or_default().trim().to_owned();
    let (mut name, mut email, mut known) = (String::new(), String::new(), None);
    if !phone.is_empty()
        && let Ok(p) = kesu_domain::input::phone("phone", &phone)
    {
        phone = p.clone();
        if let Some(c) = state.db.customers_by_phone(&p).await?.into_iter().next() {
            state
                .db
                .log_personal_data_view(staff.actor.user_id, c.id, None, "lookup", state.now())
                .await?;
            name = c.name.clone();
            email = c.email.clone().unwrap_or_default();
            known = Some(
                ctx.t("new.known_customer")
                    .replace("%{name}", &c.name)
                    .replace("%{count}", &c.complaints.to_string())
                    .replace("%{open}", &c.open_complaints.to_string()),
            );
        }
    }
    let categories = state.db.categories().await?;
    let all_sites = state.db.sites().await?;
    let sites = if staff.actor.site_id.is_none() && all_sites.len() > 1 {
        all_sites
            .iter()
            .map(|s| Opt::new(s.code.clone(), s.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let page = NewPage {
        phone,
        name,
        email,
        known,
        is_agent: staff.actor.has(Role::Agent),
        channels: Channel::ALL
            .iter()
            .map(|c| {
                Opt::new(c.as_str(), ctx.label("channel", c.as_str()))
                    .selected_if(*c == Channel::Phone)
            })
            .collect(),
        categories: categories
            .iter()
            .filter(|c| c.active)
            .map(|c| {
                Opt::new(
                    c.code.clone(),
                    if ctx.lang == Lang::En {
                        c.name_en.clone()
                    } else {
                        c.name_zh.clone()
                    },
                )
            })
            .collect(),
        severities: Severity::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), ctx.label("severity", s.as_str())))
            .collect(),
        signals: Signal::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), ctx.label("signal", s.as_str())))
            .collect(),
        sites,
        forwarding_bodies: kesu_domain::ForwardingBody::ALL
            .iter()
            .map(|b| Opt::new(b.as_str(), ctx.label("forwarding_body", b.as_str())))
            .collect(),
        ctx,
    };
    render(&page)
}

/// `POST /complaints`: the form becomes the API's input and goes the same
/// way. The form is multipart when it carries photos; plain forms work too.
pub async fn create_complaint(
    State(state): State<AppState>,
    staff: Staff,
    req: Request,
) -> Result<Response, Failure> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (mut form, files) = if multipart {
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| Failure::Malformed(e.body_text()))?;
        read_registration(mp).await?
    } else {
        let body = Bytes::from_request(req, &state).await;
        (
            crate::input::form_value(&crate::input::body(body)?, &["signals"]),
            Vec::new(),
        )
    };
    let csrf = form.remove("csrf");
    staff.check_csrf(csrf.as_ref().and_then(|v| v.as_str()))?;
    let mut take = |k: &str| form.remove(k).unwrap_or(Value::Null);
    let input = json!({
        "customer": { "name": take("customer_name"), "phone": take("customer_phone"), "email": take("customer_email") },
        "channel": take("channel"),
        "description": take("description"),
        "restatement": take("restatement"),
        "event_time": take("event_time"),
        "event_place": take("event_place"),
        "people_involved": take("people_involved"),
        "subject": take("subject"),
        "order_ref": take("order_ref"),
        "plate": take("plate"),
        "urgent": take("urgent"),
        "category": take("category"),
        "severity": take("severity"),
        "signals": take("signals"),
        "site": take("site"),
        "forwarded_by": take("forwarded_by"),
        "forwarded_ref": take("forwarded_ref"),
        "reply_due": take("reply_due"),
    });
    let input: NewComplaintIn = crate::input::from_value(input)?;
    let row = actions::register(&state, &staff, input, files).await?;
    Ok(Redirect::to(&format!("/complaints/{}?created=1", row.number)).into_response())
}

/// The text fields (signals as a list) and the chosen files of a multipart
/// registration form. An empty file input sends one empty part: skipped.
pub(crate) async fn read_registration(
    mut mp: Multipart,
) -> Result<(serde_json::Map<String, Value>, Vec<FileIn>), Failure> {
    let mut map = serde_json::Map::new();
    let mut signals = Vec::new();
    let mut files = Vec::new();
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::Malformed(e.body_text())
        }
    };
    while let Some(field) = mp.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "files" {
            let filename = field.file_name().unwrap_or("").to_owned();
            let data = field.bytes().await.map_err(too_large)?.to_vec();
            if !(filename.is_empty() && data.is_empty()) {
                files.push(FileIn {
                    kind: "evidence".into(),
                    filename,
                    data,
                });
            }
        } else {
            let text = field.text().await.map_err(too_large)?;
            if name == "signals" {
                signals.push(Value::String(text));
            } else {
                map.insert(name, Value::String(text));
            }
        }
    }
    map.insert("signals".into(), Value::Array(signals));
    Ok((map, files))
}
