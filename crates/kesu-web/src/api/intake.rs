//! `/api/v1/intake`: the public intake API for the website, the app and a
//! WeChat mini program (R-IN-1, R-IN-4). An integration authenticates with
//! its own key (`Authorization: Bearer ki_…`, created by an admin), which may
//! only file complaints and read back the ones it filed; every other route
//! refuses it.
//!
//! A complaint filed here goes through [`actions::intake`] like any
//! registration (same parsing, file checks and engine) without a staff
//! actor, on the integration's channel, in state `received`. An
//! `Idempotency-Key` header makes a retry safe: the key, the SHA-256 of the
//! body and the answer are written in the complaint's transaction; the same
//! key with the same body answers the same again, with another body 422
//! `idempotency_key_reused`. Keys are remembered for 24 hours.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use jiff::Timestamp;
use kesu_domain::input::{InputError, InputProblem};
use kesu_storage::StorageError;
use kesu_storage::intake::{Idempotency, Integration};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;

use crate::AppState;
use crate::actions::{self, CustomerIn, FileIn, NewComplaintIn};
use crate::error::Failure;
use crate::input;
use crate::portal::code::TrackingCode;
use crate::portal::expected_handling;
use crate::view::rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/intake/complaints", post(create_intake_complaint))
        .route("/intake/complaints/{number}", get(get_intake_complaint))
}

/// The integration calling (`Authorization: Bearer ki_…`).
pub struct Caller(pub Integration);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Failure::Unauthenticated)?;
        state
            .db
            .integration_by_key(key, state.now())
            .await?
            .map(Caller)
            .ok_or(Failure::Unauthenticated)
    }
}

/// The customer filing.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct IntakeCustomer {
    pub name: Option<String>,
    /// A mainland mobile or landline number; a phone or an e-mail is required.
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A photo or document, its bytes in base64 (standard alphabet, padding
/// optional). The type is judged from the bytes: JPEG, PNG, GIF, WebP, PDF …
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct IntakePhoto {
    pub filename: Option<String>,
    /// The file's bytes, base64-encoded.
    pub data: Option<String>,
}

/// A complaint filed for a customer. The channel is the integration's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeIn {
    #[serde(default)]
    pub customer: IntakeCustomer,
    /// The complaint in the customer's words.
    pub description: Option<String>,
    /// Site code of the store or branch it concerns; default the first site.
    pub site: Option<String>,
    pub order_ref: Option<String>,
    /// Vehicle plate number.
    pub plate: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    /// At most 10 files, each within the desk's attachment limit (10 MB by
    /// default); the whole request body within that limit too.
    #[serde(default)]
    pub photos: Vec<IntakePhoto>,
}

/// The acknowledgement of a filed complaint (R-IN-4).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeAnswer {
    /// The complaint number to give the customer.
    pub number: String,
    /// `received`.
    pub state: String,
    pub received_at: String,
    /// With the number, lets the customer follow the complaint on the portal
    /// (`/portal/track`); shown once (a retry with the same
    /// `Idempotency-Key` within 24 hours answers it again).
    pub tracking_code: String,
    /// Customer service contacts the customer by then.
    pub contact_by: String,
    /// The complaint should be resolved by then.
    pub resolve_by: String,
    /// Where this integration reads the complaint's status.
    pub status_url: String,
}

/// A filed complaint's status, as its integration reads it back.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeStatus {
    pub number: String,
    /// The state code (`received`, `registered`, …, `closed`).
    pub state: String,
    pub received_at: String,
    pub contact_by: String,
    pub resolve_by: String,
    pub closed_at: Option<String>,
    /// The number it was merged into, when it was a duplicate.
    pub merged_into: Option<String>,
}

/// The longest `Idempotency-Key` taken.
const MAX_KEY: usize = 255;

/// The request's `Idempotency-Key`, if any.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Failure::Malformed(
            "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        ));
    }
    Ok(Some(key.to_owned()))
}

impl IntakeIn {
    fn into_registration(
        self,
        channel: kesu_domain::Channel,
    ) -> Result<(NewComplaintIn, Vec<FileIn>), Failure> {
        let files = self
            .photos
            .into_iter()
            .map(|p| {
                let raw = p.data.ok_or(Failure::Invalid(InputError::new(
                    "photos",
                    InputProblem::Missing,
                )))?;
                let cleaned: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                let data = base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(cleaned.trim_end_matches('='))
                    .map_err(|_| {
                        Failure::Invalid(InputError::new("photos", InputProblem::BadBase64))
                    })?;
                Ok(FileIn {
                    kind: "evidence".into(),
                    filename: p.filename.unwrap_or_default(),
                    data,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let input = NewComplaintIn {
            channel: Some(channel.as_str().to_owned()),
            customer: CustomerIn {
                name: self.customer.name,
                phone: self.customer.phone,
                email: self.customer.email,
            },
            description: self.description,
            event_time: self.event_time,
            event_place: self.event_place,
            order_ref: self.order_ref,
            plate: self.plate,
            site: self.site,
            ..NewComplaintIn::default()
        };
        Ok((input, files))
    }
}

/// The stored answer again, or the refusal of a key reused with another body.
fn replay(
    stored: &kesu_storage::intake::StoredAnswer,
    body_sha256: &str,
) -> Result<Response, Failure> {
    if stored.body_sha256 != body_sha256 {
        return Err(Failure::IdempotencyKeyReused);
    }
    let answer: IntakeAnswer = serde_json::from_str(&stored.answer)
        .map_err(|e| Failure::Internal(format!("stored intake answer: {e}")))?;
    let mut res = answered(answer);
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(res)
}

fn answered(answer: IntakeAnswer) -> Response {
    let location = HeaderValue::from_str(&answer.status_url).ok();
    let mut res = (StatusCode::CREATED, Json(answer)).into_response();
    if let Some(loc) = location {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// File a complaint for a customer (website, app, mini program). Answers
/// 201 with the number, the portal tracking code and the expected handling
/// times once the complaint is committed. Send an `Idempotency-Key` header
/// (any 1–255 visible ASCII characters, e.g. a UUID) to make a retry safe:
/// within 24 hours the same key with the same body answers the same (header
/// `Idempotent-Replayed: true`) and files nothing; the same key with another
/// body is refused (422 `idempotency_key_reused`). A request refused for its
/// input stores nothing, so its key may be sent again with a corrected body.
#[utoipa::path(post, path = "/api/v1/intake/complaints", tag = "intake", request_body = IntakeIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 hours")),
    responses((status = 201, body = IntakeAnswer), (status = 400, description = "malformed JSON or Idempotency-Key"),
        (status = 401, description = "no valid integration key"), (status = 413, description = "a file over the limit"),
        (status = 422, description = "invalid field, or idempotency_key_reused")))]
pub async fn create_intake_complaint(
    State(state): State<AppState>,
    Caller(integration): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = input::body(body)?;
    let key = idempotency_key(&headers)?;
    let body_sha256 = hex::encode(sha2::Sha256::digest(&body));
    let now = state.now();
    if let Some(k) = &key
        && let Some(stored) = state.db.idempotent_answer(integration.id, k, now).await?
    {
        return replay(&stored, &body_sha256);
    }
    let filing: IntakeIn = input::json(&body)?;
    let (registration, files) = filing.into_registration(integration.channel()?)?;
    let new = actions::intake(&state, None, registration, files, now).await?;
    let code = TrackingCode::generate()?;
    let tz = state.config.time_zone.clone();
    let received_at = new.received_at;
    let build = |number: &kesu_domain::input::ComplaintNumber, clocks: &[(String, i64)]| {
        let fixed = expected_handling(received_at);
        let due = |kind: &str, fallback: Timestamp| {
            clocks
                .iter()
                .rev()
                .find(|(k, _)| k == kind)
                .map_or(fallback.as_millisecond(), |(_, d)| *d)
        };
        let answer = IntakeAnswer {
            number: number.to_string(),
            state: "received".into(),
            received_at: rfc3339(received_at.as_millisecond(), &tz),
            tracking_code: code.display(),
            contact_by: rfc3339(due("initial_reply", fixed.contact_by), &tz),
            resolve_by: rfc3339(due("resolve", fixed.resolve_by), &tz),
            status_url: format!("/api/v1/intake/complaints/{number}"),
        };
        serde_json::to_string(&answer).unwrap_or_default()
    };
    let idempotency = key.as_deref().map(|k| Idempotency {
        key: k,
        body_sha256: &body_sha256,
    });
    match state
        .db
        .create_integration_complaint(&new, integration.id, code.as_str(), idempotency, build, now)
        .await
    {
        Ok((_, number, answer)) => {
            tracing::info!(complaint.number = %number, integration = %integration.name, "complaint filed through the intake API");
            let answer: IntakeAnswer = serde_json::from_str(&answer)
                .map_err(|e| Failure::Internal(format!("intake answer: {e}")))?;
            Ok(answered(answer))
        }
        // The same key at the same moment: the other request filed it.
        Err(StorageError::Duplicate(what)) if what == "idempotency_key" => {
            let stored = state
                .db
                .idempotent_answer(integration.id, key.as_deref().unwrap_or_default(), now)
                .await?
                .ok_or(Failure::Internal("idempotency key without answer".into()))?;
            replay(&stored, &body_sha256)
        }
        Err(e) => Err(e.into()),
    }
}

/// Read back the status of a complaint this integration filed (404 for any
/// other number).
#[utoipa::path(get, path = "/api/v1/intake/complaints/{number}", tag = "intake",
    params(("number" = String, Path, description = "The complaint number")),
    responses((status = 200, body = IntakeStatus), (status = 401, description = "no valid integration key"), (status = 404, description = "not filed by this integration")))]
pub async fn get_intake_complaint(
    State(state): State<AppState>,
    Caller(integration): Caller,
    Path(number): Path<String>,
) -> Result<Json<IntakeStatus>, Failure> {
    let row = state
        .db
        .complaint(number.trim())
        .await?
        .ok_or(Failure::NotFound)?;
    if !state
        .db
        .filed_by_integration(integration.id, kesu_domain::ComplaintId(row.id))
        .await?
    {
        return Err(Failure::NotFound);
    }
    let received = Timestamp::from_millisecond(row.received_at)
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let expected = crate::portal::expected_for(&state, row.id, received).await?;
    let tz = &state.config.time_zone;
    Ok(Json(IntakeStatus {
        number: row.number.clone(),
        state: row.state.clone(),
        received_at: rfc3339(row.received_at, tz),
        contact_by: rfc3339(expected.contact_by.as_millisecond(), tz),
        resolve_by: rfc3339(expected.resolve_by.as_millisecond(), tz),
        closed_at: row.closed_at.map(|t| rfc3339(t, tz)),
        merged_into: row.merged_into_number.clone(),
    }))
}
