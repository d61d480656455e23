//! The registration form, built for a phone agent: type the caller's number,
//! press Enter, and a known customer fills in; then the customer's words,
//! and Enter on the button. Keyboard only, sensible defaults.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kesu_domain::{Channel, Role, Severity, Signal};
use serde_json::{Value, json};

use super::forms::Opt;
use super::{Ctx, render};
use crate::AppState;
use crate::actions::{self, NewComplaintIn};
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
        ctx,
    };
    render(&page)
}

/// `POST /complaints`: the form becomes the API's input and goes the same way.
pub async fn create_complaint(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let mut form = super::posted_form(&staff, body, &["signals"])?;
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
    });
    let input: NewComplaintIn = crate::input::from_value(input)?;
    let row = actions::register(&state, &staff, input).await?;
    Ok(Redirect::to(&format!("/complaints/{}?created=1", row.number)).into_response())
}
