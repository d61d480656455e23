//! The one error type of the web layer, and how it is shown.
//!
//! Handlers return [`Failure`]. Its `IntoResponse` only parks it in the
//! response; [`render_failures`] (a middleware that knows the request's
//! language and whether it was an API call) turns it into
//! `application/problem+json` (RFC 9457) for `/api/…` or a readable page for
//! people. Which to use when:
//! - [`Failure::Invalid`] / [`Failure::InvalidText`]: the input cannot be
//!   parsed (422); [`Failure::Malformed`]: the body is not JSON at all (400);
//! - [`Failure::Refused`]: the domain said no (403/409/422 by its class);
//! - [`Failure::NotFound`]: unknown number or id, or not visible to the actor;
//! - [`Failure::Internal`]: anything unexpected; logged once here, shown opaque.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kesu_domain::Refusal;
use kesu_domain::complaint::RefusalClass;
use kesu_domain::input::InputError;
use kesu_storage::StorageError;
use serde_json::json;

use crate::i18n::{Lang, t};

#[derive(Debug, Clone)]
pub enum Failure {
    /// No valid session or token (401; pages redirect to the login).
    Unauthenticated,
    /// The form's CSRF token or the request's origin did not match (403).
    Csrf,
    /// The role may not use this page or endpoint at all (403).
    Forbidden,
    /// The password was handed out and must be changed first (pages go to
    /// the account page).
    PasswordChangeRequired,
    NotFound,
    Malformed(String),
    Invalid(InputError),
    InvalidText(String),
    Refused(Refusal),
    /// Someone changed the complaint since it was read (409).
    VersionConflict,
    Duplicate(String),
    TooLarge,
    UnsupportedFile,
    TooManyAttempts,
    /// An integration key used outside the intake API (403).
    IntegrationKeyScope,
    /// An `Idempotency-Key` sent again with another body (422).
    IdempotencyKeyReused,
    Internal(String),
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
            Failure::Csrf
            | Failure::Forbidden
            | Failure::PasswordChangeRequired
            | Failure::IntegrationKeyScope => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Malformed(_) => StatusCode::BAD_REQUEST,
            Failure::Invalid(_)
            | Failure::InvalidText(_)
            | Failure::UnsupportedFile
            | Failure::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Refused(r) => match r.class() {
                RefusalClass::Forbidden => StatusCode::FORBIDDEN,
                RefusalClass::Conflict => StatusCode::CONFLICT,
                RefusalClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            },
            Failure::VersionConflict | Failure::Duplicate(_) => StatusCode::CONFLICT,
            Failure::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code: the problem `type` is `urn:kesu:problem:<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Unauthenticated => "unauthenticated",
            Failure::Csrf => "csrf",
            Failure::Forbidden => "forbidden",
            Failure::PasswordChangeRequired => "password_change_required",
            Failure::NotFound => "not_found",
            Failure::Malformed(_) => "malformed_json",
            Failure::Invalid(_) | Failure::InvalidText(_) => "invalid_input",
            Failure::Refused(r) => r.code(),
            Failure::VersionConflict => "version_conflict",
            Failure::Duplicate(_) => "duplicate",
            Failure::TooLarge => "too_large",
            Failure::UnsupportedFile => "unsupported_file",
            Failure::TooManyAttempts => "too_many_attempts",
            Failure::IntegrationKeyScope => "integration_key_scope",
            Failure::IdempotencyKeyReused => "idempotency_key_reused",
            Failure::Internal(_) => "internal",
        }
    }

    /// The human title and detail in the reader's language.
    pub fn describe(&self, lang: Lang) -> (String, String) {
        let title = t(lang, &format!("error.{}", self.code()));
        let detail = match self {
            Failure::Invalid(e) => {
                let field = t(lang, &format!("field.{}", e.field));
                let problem = match &e.problem {
                    kesu_domain::input::InputProblem::TooLong { max } => {
                        t(lang, "input.too_long").replace("%{max}", &max.to_string())
                    }
                    p => t(lang, &format!("input.{}", problem_code(p))),
                };
                format!("{field}: {problem}")
            }
            Failure::InvalidText(m) | Failure::Malformed(m) => m.clone(),
            Failure::Refused(Refusal::IllegalInState { action, state }) => {
                t(lang, "refusal.illegal_transition")
                    .replace(
                        "%{action}",
                        &t(lang, &format!("action.{}", action.as_str())),
                    )
                    .replace("%{state}", &t(lang, &format!("state.{}", state.as_str())))
            }
            Failure::Refused(Refusal::NotPermitted(action)) => t(lang, "refusal.not_permitted")
                .replace(
                    "%{action}",
                    &t(lang, &format!("action.{}", action.as_str())),
                ),
            Failure::Refused(r) => t(lang, &format!("refusal.{}", r.code())),
            Failure::Duplicate(what) => t(lang, "error.duplicate_detail").replace(
                "%{what}",
                &duplicate_field(what, lang).unwrap_or_else(|| what.clone()),
            ),
            other => t(lang, &format!("error.{}_detail", other.code())),
        };
        (title, detail)
    }
}

fn problem_code(p: &kesu_domain::input::InputProblem) -> &'static str {
    use kesu_domain::input::InputProblem as P;
    match p {
        P::Missing => "missing",
        P::TooLong { .. } => "too_long",
        P::ControlCharacters => "control_characters",
        P::BadPhone => "bad_phone",
        P::BadEmail => "bad_email",
        P::BadNumber => "bad_number",
        P::BadAmount => "bad_amount",
        P::UnknownValue => "unknown_value",
        P::BadScore => "bad_score",
        P::BadTime => "bad_time",
        P::TooShort { .. } => "too_short",
        P::BadCode => "bad_code",
        P::BadBase64 => "bad_base64",
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict => Failure::VersionConflict,
            StorageError::Duplicate(what) => Failure::Duplicate(what),
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Invalid(e)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = self.status();
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders parked [`Failure`]s in the request's language and form.
pub async fn render_failures(req: Request, next: Next) -> Response {
    let lang = Lang::from_headers(req.headers());
    let api = req.uri().path().starts_with("/api/");
    let path = req
        .uri()
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut res = next.run(req).await;
    let Some(failure) = res.extensions_mut().remove::<Failure>() else {
        return res;
    };
    if let Failure::Internal(cause) = &failure {
        // The query is left out: it can carry personal data (a phone filter).
        tracing::error!(error = %cause, path = %path.split('?').next().unwrap_or_default(), "request failed");
    }
    let mut res = if api {
        problem(&failure, lang)
    } else {
        page(&failure, lang, &path)
    };
    if matches!(failure, Failure::TooLarge) {
        // The rest of the oversize body is never read: tell the client not
        // to reuse this connection, or its next request meets a closed socket.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// The label of the field a duplicate names, when it names one (a
/// constraint's name has no label).
fn duplicate_field(what: &str, lang: Lang) -> Option<String> {
    if what.is_empty() || !what.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let key = format!("field.{what}");
    let label = t(lang, &key);
    (!label.ends_with(&key)).then_some(label)
}

fn problem(f: &Failure, lang: Lang) -> Response {
    let (title, detail) = f.describe(lang);
    let mut body = json!({
        "type": format!("urn:kesu:problem:{}", f.code()),
        "title": title,
        "status": f.status().as_u16(),
        "detail": detail,
    });
    if let Failure::Invalid(e) = f {
        body["field"] = json!(e.field);
    }
    // A duplicate named by a field (not by a constraint) says which.
    if let Failure::Duplicate(what) = f
        && duplicate_field(what, lang).is_some()
    {
        body["field"] = json!(what);
    }
    let mut res = (f.status(), body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if matches!(f, Failure::Unauthenticated) {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

fn page(f: &Failure, lang: Lang, path: &str) -> Response {
    if path.starts_with("/portal") {
        return crate::portal::failure_page(f, lang, path);
    }
    if matches!(f, Failure::PasswordChangeRequired) {
        return Redirect::to("/account?first=1").into_response();
    }
    if matches!(f, Failure::Unauthenticated) {
        let next: String = url_escape(path);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let (title, detail) = f.describe(lang);
    let html = crate::pages::error_page(lang, &title, &detail, path);
    (f.status(), Html(html)).into_response()
}

/// Percent-encodes a path for a query parameter.
pub fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
