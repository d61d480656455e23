//! Filing a complaint on the portal, and the acknowledgement with the
//! number, the tracking code and the expected handling time (R-IN-4).

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use kesu_domain::input::{InputError, InputProblem};

use super::code::TrackingCode;
use super::{FILINGS, PortalCtx, Visitor, render};
use crate::AppState;
use crate::actions::{self, CustomerIn, NewComplaintIn};
use crate::error::Failure;
use crate::pages::forms::Opt;

/// When the customer may expect what (R-IN-4): customer service contacts
/// them by `contact_by`, and the complaint should be resolved by
/// `resolve_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub contact_by: Timestamp,
    pub resolve_by: Timestamp,
}

/// The expected handling of a complaint received at `received_at`: the
/// seeds' defaults, first contact within 24 hours (R-HD-4) and resolution
/// within 72 hours (R-HD-11). The one place the portal learns these, so the
/// deadlines engine can supply them here.
pub fn expected_handling(received_at: Timestamp) -> Expected {
    Expected {
        contact_by: received_at + SignedDuration::from_hours(24),
        resolve_by: received_at + SignedDuration::from_hours(72),
    }
}

/// The expected handling of a filed complaint from its own clocks (R-IN-4):
/// the initial reply and the resolution as the deadlines engine set them —
/// after hours counted from the next working time, shorter on the fast
/// track; [`expected_handling`] when a clock is off or missing.
///
/// # Errors
/// The driver's error.
pub async fn expected_for(
    state: &AppState,
    complaint_id: i64,
    received_at: Timestamp,
) -> Result<Expected, Failure> {
    let fixed = expected_handling(received_at);
    let clocks = state
        .db
        .deadlines(kesu_domain::ComplaintId(complaint_id))
        .await?;
    let due = |kind: &str| {
        clocks
            .iter()
            .rev()
            .find(|d| d.kind == kind)
            .and_then(|d| Timestamp::from_millisecond(d.due_at).ok())
    };
    Ok(Expected {
        contact_by: due("initial_reply").unwrap_or(fixed.contact_by),
        resolve_by: due("resolve").unwrap_or(fixed.resolve_by),
    })
}

/// What the customer typed, to show the form again after a mistake.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub description: String,
    pub order_ref: String,
    pub plate: String,
    pub event_place: String,
    pub site: String,
    pub form_key: String,
}

#[derive(Template)]
#[template(path = "portal/file.html")]
struct FormPage {
    ctx: PortalCtx,
    typed: Typed,
    sites: Vec<Opt>,
    /// The largest file accepted, in MB.
    max_mb: usize,
    /// What was wrong with the last attempt.
    problem: Option<String>,
}

/// A random key for one filling-in of the form: the same form submitted
/// twice (a double tap, a reload) files one complaint.
fn form_key() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Failure::Internal(format!("random: {e}")))?;
    Ok(hex::encode(bytes))
}

async fn site_options(state: &AppState, chosen: &str) -> Result<Vec<Opt>, Failure> {
    let sites = state.db.sites().await?;
    Ok(if sites.len() > 1 {
        sites
            .into_iter()
            .map(|s| Opt::new(s.code.clone(), s.name).selected_if(s.code == chosen))
            .collect()
    } else {
        Vec::new()
    })
}

async fn show_form(
    state: &AppState,
    visitor: &Visitor,
    typed: Typed,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let page = FormPage {
        ctx: PortalCtx::new(visitor.lang, "/portal"),
        sites: site_options(state, &typed.site).await?,
        max_mb: state.config.max_attachment_bytes / (1024 * 1024),
        typed,
        problem,
    };
    render(&page, status)
}

/// `GET /portal`: the complaint form.
pub async fn form_page(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, Failure> {
    let typed = Typed {
        form_key: form_key()?,
        ..Typed::default()
    };
    show_form(&state, &visitor, typed, None, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "portal/filed.html")]
struct FiledPage {
    ctx: PortalCtx,
    number: String,
    /// `None` when the form had been submitted before: the code was shown then.
    code: Option<String>,
    code_plain: String,
    contact_by: String,
    resolve_by: String,
}

/// `POST /portal/complaints`: files the complaint (multipart, with photos).
/// The address is checked against [`FILINGS`] before the body is read.
pub async fn file_complaint(
    State(state): State<AppState>,
    visitor: Visitor,
    req: Request,
) -> Result<Response, Failure> {
    FILINGS.check(&state, &visitor.address).await?;
    FILINGS.count(&state, &visitor.address).await?;
    let mp = Multipart::from_request(req, &state)
        .await
        .map_err(|e| Failure::Malformed(e.body_text()))?;
    let (mut form, files) = crate::pages::register::read_registration(mp).await?;
    let mut take = |k: &str| {
        form.remove(k)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let typed = Typed {
        name: take("customer_name"),
        phone: take("customer_phone"),
        email: take("customer_email"),
        description: take("description"),
        order_ref: take("order_ref"),
        plate: take("plate"),
        event_place: take("event_place"),
        site: take("site"),
        form_key: take("form_key"),
    };
    let key = Some(typed.form_key.trim())
        .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    if let Some(k) = &key
        && let Some(number) = state.db.portal_complaint_by_form_key(k).await?
    {
        return filed_before(&visitor, &state, number).await;
    }
    let now = state.now();
    let filed = async {
        // The portal asks for a phone number: customer service calls back.
        if typed.phone.trim().is_empty() {
            return Err(Failure::Invalid(InputError::new(
                "customer.phone",
                InputProblem::Missing,
            )));
        }
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        let input = NewComplaintIn {
            channel: Some("web".into()),
            customer: CustomerIn {
                name: some(&typed.name),
                phone: some(&typed.phone),
                email: some(&typed.email),
            },
            description: some(&typed.description),
            restatement: None,
            event_time: None,
            event_place: some(&typed.event_place),
            people_involved: None,
            subject: None,
            order_ref: some(&typed.order_ref),
            plate: some(&typed.plate),
            urgent: false,
            category: None,
            severity: None,
            signals: Vec::new(),
            received_at: None,
            site: some(&typed.site),
            ..NewComplaintIn::default()
        };
        let new = actions::intake(&state, None, input, files, now).await?;
        let code = TrackingCode::generate()?;
        let (_, number) = state
            .db
            .create_portal_complaint(&new, code.as_str(), key.as_deref(), now)
            .await?;
        Ok((number, code))
    };
    match filed.await {
        Ok((number, code)) => {
            tracing::info!(complaint.number = %number, "complaint filed on the portal");
            let id = state
                .db
                .complaint(&number.to_string())
                .await?
                .map_or(0, |c| c.id);
            let expected = expected_for(&state, id, now).await?;
            let ctx = PortalCtx::new(visitor.lang, "/portal");
            let page = FiledPage {
                number: number.to_string(),
                code: Some(code.display()),
                code_plain: code.as_str().to_owned(),
                contact_by: ctx.time(expected.contact_by, &state.config),
                resolve_by: ctx.time(expected.resolve_by, &state.config),
                ctx,
            };
            render(&page, StatusCode::CREATED)
        }
        // Submitted twice at the same moment: the other one filed it.
        Err(Failure::Duplicate(_)) if key.is_some() => {
            let number = state
                .db
                .portal_complaint_by_form_key(key.as_deref().unwrap_or_default())
                .await?
                .ok_or(Failure::Internal(
                    "duplicate form key without complaint".into(),
                ))?;
            filed_before(&visitor, &state, number).await
        }
        // A field to correct: the form again, as typed (files are chosen again).
        Err(Failure::Invalid(e)) => {
            let detail = problem_text(visitor.lang, e);
            show_form(
                &state,
                &visitor,
                typed,
                Some(detail),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// What is wrong with a field, named as the portal's form names it.
fn problem_text(lang: crate::i18n::Lang, e: InputError) -> String {
    let staff_label = crate::i18n::t(lang, &format!("field.{}", e.field));
    let portal_key = format!("portal.field.{}", e.field);
    let portal_label = crate::i18n::t(lang, &portal_key);
    let (_, detail) = Failure::Invalid(e).describe(lang);
    if portal_label == portal_key {
        detail
    } else {
        detail.replacen(&staff_label, &portal_label, 1)
    }
}

async fn filed_before(
    visitor: &Visitor,
    state: &AppState,
    number: String,
) -> Result<Response, Failure> {
    let ctx = PortalCtx::new(visitor.lang, "/portal");
    let row = state.db.complaint(&number).await?;
    let received = row
        .as_ref()
        .and_then(|c| Timestamp::from_millisecond(c.received_at).ok())
        .unwrap_or_else(|| state.now());
    let expected = expected_for(state, row.map_or(0, |c| c.id), received).await?;
    let page = FiledPage {
        number,
        code: None,
        code_plain: String::new(),
        contact_by: ctx.time(expected.contact_by, &state.config),
        resolve_by: ctx.time(expected.resolve_by, &state.config),
        ctx,
    };
    render(&page, StatusCode::OK)
}
