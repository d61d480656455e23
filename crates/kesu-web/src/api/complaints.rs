//! `/api/v1/complaints`: register, list, read, history, and every lifecycle
//! action as a sub-resource.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kesu_storage::complaints::{ListFilter, Queue};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::actions::{self, Op};
use crate::auth::Staff;
use crate::error::Failure;
use crate::input;
use crate::view::{
    AttachmentView, ComplaintView, EventView, ListItemView, ListView, ProposalView, TaskView,
};

pub fn router() -> Router<AppState> {
    let r = Router::new()
        .route("/complaints", post(create_complaint).get(list_complaints))
        .route("/complaints/{number}", get(get_complaint))
        .route("/complaints/{number}/history", get(get_history))
        .route(
            "/complaints/{number}/personal-data-views",
            get(list_personal_data_views),
        )
        .route(
            "/complaints/{number}/proposals",
            get(list_proposals).post(propose),
        )
        .route(
            "/complaints/{number}/proposals/{round}/answer",
            post(answer_proposal),
        )
        .route(
            "/complaints/{number}/tasks",
            get(list_tasks).post(create_task),
        )
        .route(
            "/complaints/{number}/tasks/{seq}/complete",
            post(complete_task),
        )
        .route(
            "/complaints/{number}/attachments",
            get(list_attachments).post(upload_attachment),
        )
        .route(
            "/complaints/{number}/attachments/{id}",
            get(download_attachment),
        );
    r.route("/complaints/{number}/replies", post(send_reply))
        .route("/complaints/{number}/register", post(register))
        .route("/complaints/{number}/classify", post(classify))
        .route("/complaints/{number}/dispatch", post(dispatch))
        .route("/complaints/{number}/contacts", post(log_contact))
        .route("/complaints/{number}/notes", post(add_note))
        .route("/complaints/{number}/approvals", post(approve))
        .route("/complaints/{number}/takeover", post(take_over))
        .route("/complaints/{number}/execution", post(record_execution))
        .route("/complaints/{number}/feedback", post(feed_back))
        .route("/complaints/{number}/follow-ups", post(follow_up))
        .route("/complaints/{number}/close", post(close))
        .route("/complaints/{number}/reopen", post(reopen))
        .route("/complaints/{number}/merge", post(merge))
        .route("/complaints/{number}/links", post(link_complaint))
        .route("/complaints/{number}/withdraw", post(withdraw))
        .route("/complaints/{number}/reject", post(reject))
        .route("/complaints/{number}/details", post(amend))
}

/// The version in `If-Match` (`"3"`, `W/"3"` or `3`), if any.
///
/// # Errors
/// 400 for an `If-Match` that is not a version.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Failure> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = v
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    raw.parse()
        .map(Some)
        .map_err(|_| Failure::Malformed("If-Match must be a complaint version".into()))
}

async fn complaint_response(
    state: &AppState,
    staff: &Staff,
    row: &kesu_storage::complaints::ComplaintRow,
    status: StatusCode,
) -> Result<Response, Failure> {
    let mut view = ComplaintView::new(row, &staff.actor, &state.config.time_zone);
    let deadlines = state.db.deadlines(kesu_domain::ComplaintId(row.id)).await?;
    view.deadlines = deadlines
        .iter()
        .map(|d| crate::view::DeadlineView::new(d, &state.config.time_zone))
        .collect();
    view.forwarded = state
        .db
        .forwarded_case(kesu_domain::ComplaintId(row.id))
        .await?
        .map(|f| crate::view::ForwardedView::new(&f, &state.config.time_zone));
    let open = !row
        .state
        .parse::<kesu_domain::State>()
        .is_ok_and(kesu_domain::State::is_terminal);
    view.related = crate::related::related(state, &staff.actor, row.id, open).await?;
    let mut res = (status, Json(view)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", row.version)) {
        res.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/complaints/{}", row.number))
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

/// Register a complaint (R-IN-2). Answers 201 only after the record is committed.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = crate::actions::NewComplaintIn,
    responses((status = 201, body = ComplaintView), (status = 400, description = "malformed JSON"), (status = 422, description = "invalid field")))]
pub async fn create_complaint(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = input::body(body)?;
    let new: actions::NewComplaintIn = input::json(&body)?;
    let row = actions::register(&state, &staff, new, Vec::new()).await?;
    complaint_response(&state, &staff, &row, StatusCode::CREATED).await
}

/// List filters.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `team` (default: all I may see) or `mine` (waiting for me).
    pub queue: Option<String>,
    pub state: Option<String>,
    /// Department code (or id).
    pub department: Option<String>,
    /// Site code (or id).
    pub site: Option<String>,
    /// The customer's phone number.
    pub phone: Option<String>,
    /// Words to search for (Chinese is cut into words: 退款 finds 申请退款,
    /// 市长 does not find 南京市长江大桥); every word must be present. With a
    /// search the list is newest-registered first.
    pub q: Option<String>,
    /// `soon` (a running deadline is near) or `overdue` (one has passed);
    /// the list is then the nearest deadline first.
    pub due: Option<String>,
    pub severity: Option<String>,
    pub channel: Option<String>,
    /// `true` for open complaints only.
    pub open: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// The longest search text taken.
const MAX_QUERY_CHARS: usize = 200;

impl ListQuery {
    /// Parses a raw query string; unknown keys are ignored.
    pub fn parse(raw: Option<&str>) -> ListQuery {
        serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default()
    }

    /// Turns a department code into its id (the filter takes either).
    ///
    /// # Errors
    /// 422 for an unknown department code.
    pub async fn resolve(mut self, state: &AppState) -> Result<ListQuery, Failure> {
        use kesu_domain::input::{InputError, InputProblem};
        if let Some(code) = self
            .department
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty() && d.parse::<i64>().is_err())
        {
            let dept = state
                .db
                .department_by_code(code)
                .await?
                .ok_or(Failure::Invalid(InputError::new(
                    "department",
                    InputProblem::UnknownValue,
                )))?;
            self.department = Some(dept.id.to_string());
        }
        if let Some(code) = self
            .site
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty() && d.parse::<i64>().is_err())
        {
            let site = state
                .db
                .sites()
                .await?
                .into_iter()
                .find(|s| s.code == code)
                .ok_or(Failure::Invalid(InputError::new(
                    "site",
                    InputProblem::UnknownValue,
                )))?;
            self.site = Some(site.id.to_string());
        }
        Ok(self)
    }

    /// The storage filter, or 422 for unknown codes.
    ///
    /// # Errors
    /// [`Failure::Invalid`].
    pub fn filter(&self, default_per_page: u32) -> Result<ListFilter, Failure> {
        use kesu_domain::input::{InputError, InputProblem};
        fn opt<T: std::str::FromStr>(
            field: &'static str,
            v: &Option<String>,
        ) -> Result<Option<T>, Failure> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => s.parse().map(Some).map_err(|_| {
                    Failure::Invalid(InputError::new(field, InputProblem::UnknownValue))
                }),
                None => Ok(None),
            }
        }
        Ok(ListFilter {
            queue: if self.queue.as_deref() == Some("mine") {
                Queue::Mine
            } else {
                Queue::Team
            },
            state: opt("state", &self.state)?,
            department_id: opt::<i64>("department", &self.department)?
                .map(kesu_domain::DepartmentId),
            site_id: opt::<i64>("site", &self.site)?.map(kesu_domain::SiteId),
            customer_phone: match self
                .phone
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                Some(p) => Some(kesu_domain::input::phone("phone", p)?),
                None => None,
            },
            text: match self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
                    return Err(Failure::Invalid(InputError::new(
                        "q",
                        InputProblem::TooLong {
                            max: MAX_QUERY_CHARS,
                        },
                    )));
                }
                Some(q) => Some(q.to_owned()),
                None => None,
            },
            due: match self.due.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                None => None,
                Some("soon") => Some(kesu_storage::complaints::Due::Soon),
                Some("overdue") => Some(kesu_storage::complaints::Due::Overdue),
                Some(_) => {
                    return Err(Failure::Invalid(InputError::new(
                        "due",
                        InputProblem::UnknownValue,
                    )));
                }
            },
            sort: if self.queue.as_deref() == Some("mine") {
                kesu_storage::complaints::Sort::Urgency
            } else {
                kesu_storage::complaints::Sort::Newest
            },
            now: 0,
            severity: opt("severity", &self.severity)?,
            channel: opt("channel", &self.channel)?,
            open_only: matches!(self.open.as_deref(), Some("true" | "1" | "on")),
            page: opt::<u32>("page", &self.page)?.unwrap_or(1),
            per_page: opt::<u32>("per_page", &self.per_page)?.unwrap_or(default_per_page),
        })
    }
}

/// List complaints I may see, newest first, with filters and paging.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints", params(ListQuery), responses((status = 200, body = ListView)))]
pub async fn list_complaints(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(q): RawQuery,
) -> Result<Json<ListView>, Failure> {
    let mut filter = ListQuery::parse(q.as_deref())
        .resolve(&state)
        .await?
        .filter(50)?;
    filter.now = state.now().as_millisecond();
    let page = state.db.list_complaints(&staff.actor, &filter).await?;
    let tz = &state.config.time_zone;
    Ok(Json(ListView {
        items: page
            .items
            .iter()
            .map(|r| ListItemView::new(r, tz))
            .collect(),
        page: page.page,
        per_page: page.per_page,
        has_next: page.has_next,
    }))
}

/// One complaint by number.
#[utoipa::path(get, path = "/api/v1/complaints/{number}", tag = "complaints", params(("number" = String, Path, description = "e.g. KS-20261122-0007")),
    responses((status = 200, body = ComplaintView), (status = 404, description = "unknown number")))]
pub async fn get_complaint(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Response, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    actions::log_contact_view(&state, &staff, &row, "api").await?;
    complaint_response(&state, &staff, &row, StatusCode::OK).await
}

/// Who was shown the customer's unmasked contact details (PIPL), newest
/// first: for the general manager, supervisors and admins.
#[utoipa::path(get, path = "/api/v1/complaints/{number}/personal-data-views", tag = "complaints", params(("number" = String, Path)),
    responses((status = 200, body = Vec<PersonalDataViewView>), (status = 403, description = "not for this role")))]
pub async fn list_personal_data_views(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Vec<PersonalDataViewView>>, Failure> {
    use kesu_domain::Role;
    if !staff
        .actor
        .roles
        .iter()
        .any(|r| matches!(r, Role::Gm | Role::Supervisor | Role::Admin))
    {
        return Err(Failure::Forbidden);
    }
    let row = actions::visible(&state, &staff, &number).await?;
    let views = state.db.personal_data_views(row.customer_id, 500).await?;
    let tz = &state.config.time_zone;
    Ok(Json(
        views
            .into_iter()
            .map(|v| PersonalDataViewView {
                username: v.username,
                complaint: v.complaint_number,
                purpose: v.purpose,
                at: crate::view::rfc3339(v.at, tz),
            })
            .collect(),
    ))
}

/// One showing of a customer's contact details.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PersonalDataViewView {
    pub username: String,
    /// The complaint it was shown with (any complaint of the same customer).
    pub complaint: Option<String>,
    /// `page`, `api` or `lookup`.
    pub purpose: String,
    pub at: String,
}

/// The append-only history of a complaint, oldest first.
#[utoipa::path(get, path = "/api/v1/complaints/{number}/history", tag = "complaints", params(("number" = String, Path)), responses((status = 200, body = Vec<EventView>)))]
pub async fn get_history(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Vec<EventView>>, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let events = state.db.history(kesu_domain::ComplaintId(row.id)).await?;
    Ok(Json(
        events
            .iter()
            .map(|e| EventView::new(e, &state.config.time_zone))
            .collect(),
    ))
}

/// The resolution proposals and the customer's answers (R-HD-6, R-HD-8).
#[utoipa::path(get, path = "/api/v1/complaints/{number}/proposals", tag = "complaints", params(("number" = String, Path)), responses((status = 200, body = Vec<ProposalView>)))]
pub async fn list_proposals(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Vec<ProposalView>>, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let items = state.db.proposals(kesu_domain::ComplaintId(row.id)).await?;
    Ok(Json(
        items
            .iter()
            .map(|p| ProposalView::new(p, &state.config.time_zone))
            .collect(),
    ))
}

/// Sub-tasks asked of other departments (R-HD-10).
#[utoipa::path(get, path = "/api/v1/complaints/{number}/tasks", tag = "complaints", params(("number" = String, Path)), responses((status = 200, body = Vec<TaskView>)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Vec<TaskView>>, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let items = state.db.tasks(kesu_domain::ComplaintId(row.id)).await?;
    Ok(Json(
        items
            .iter()
            .map(|t| TaskView::new(t, &state.config.time_zone))
            .collect(),
    ))
}

/// The files attached to a complaint.
#[utoipa::path(get, path = "/api/v1/complaints/{number}/attachments", tag = "complaints", params(("number" = String, Path)), responses((status = 200, body = Vec<AttachmentView>)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Vec<AttachmentView>>, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let items = state
        .db
        .attachments(kesu_domain::ComplaintId(row.id))
        .await?;
    Ok(Json(
        items
            .iter()
            .map(|a| AttachmentView::new(a, &state.config.time_zone))
            .collect(),
    ))
}

/// Downloads an attachment (always as a download, never rendered inline).
#[utoipa::path(get, path = "/api/v1/complaints/{number}/attachments/{id}", tag = "complaints", params(("number" = String, Path), ("id" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 404)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let file = state
        .db
        .attachment_data(kesu_domain::ComplaintId(row.id), id)
        .await?
        .ok_or(Failure::NotFound)?;
    Ok(file_response(file))
}

/// A stored file as an attachment download.
pub fn file_response(file: kesu_storage::complaints::AttachmentData) -> Response {
    let disposition = format!(
        "attachment; filename=\"download\"; filename*=UTF-8''{}",
        crate::error::url_escape(&file.filename)
    );
    let mut res = file.data.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// Attach a file (multipart: `file`, optional `kind` = evidence | agreement | other).
#[utoipa::path(post, path = "/api/v1/complaints/{number}/attachments", tag = "complaints", params(("number" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` and optional `kind`"),
    responses((status = 200, body = ComplaintView), (status = 413, description = "too large"), (status = 422, description = "unsupported type")))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    multipart: Multipart,
) -> Result<Response, Failure> {
    let upload = read_upload(multipart).await?;
    let row = actions::attach(
        &state,
        &staff,
        &number,
        &upload.kind,
        &upload.filename,
        &upload.data,
    )
    .await?;
    complaint_response(&state, &staff, &row, StatusCode::OK).await
}

/// The parts of an upload form.
#[derive(Debug, Default)]
pub struct Upload {
    pub kind: String,
    pub filename: String,
    pub data: Vec<u8>,
    pub csrf: Option<String>,
}

/// Reads `file`, `kind` and `csrf` from a multipart body.
///
/// # Errors
/// 413 when the body is over the limit, 400 when it is not multipart.
pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, Failure> {
    let mut up = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_failure(&e)),
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                up.filename = field.file_name().unwrap_or("file").to_owned();
                up.data = field
                    .bytes()
                    .await
                    .map_err(|e| multipart_failure(&e))?
                    .to_vec();
            }
            "kind" => up.kind = field.text().await.map_err(|e| multipart_failure(&e))?,
            "csrf" => up.csrf = Some(field.text().await.map_err(|e| multipart_failure(&e))?),
            _ => {}
        }
    }
    Ok(up)
}

fn multipart_failure(e: &axum::extract::multipart::MultipartError) -> Failure {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::TooLarge
    } else {
        Failure::Malformed(e.body_text())
    }
}

async fn act(
    state: AppState,
    staff: Staff,
    number: String,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    segment: &str,
    sub: Option<i32>,
) -> Result<Response, Failure> {
    let body = input::body(body)?;
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        input::json(&body)?
    };
    let op = Op::parse(segment, sub, value)?;
    let row = actions::perform(&state, &staff, &number, if_match(headers)?, op).await?;
    complaint_response(&state, &staff, &row, StatusCode::OK).await
}

/// Reply to the customer by e-mail: sent through the outbox over SMTP,
/// threaded to the customer's last mail, the number in the subject; recorded
/// as a contact by e-mail.
#[utoipa::path(post, path = "/api/v1/complaints/{number}/replies", tag = "complaint actions",
    request_body = crate::mail::reply::ReplyIn,
    params(("number" = String, Path), ("If-Match" = Option<String>, Header, description = "the complaint version this reply was written on")),
    responses((status = 200, body = ComplaintView), (status = 403, description = "not permitted for this role or department"),
        (status = 404, description = "unknown number"), (status = 409, description = "illegal in this state, or changed meanwhile"),
        (status = 422, description = "no text, the customer has no e-mail address, or no SMTP server is set up")))]
pub async fn send_reply(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = input::body(body)?;
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        input::json(&body)?
    };
    let value = if value.is_null() {
        serde_json::json!({})
    } else {
        value
    };
    let reply = crate::input::from_value(value)?;
    let row =
        crate::mail::reply::reply_by_mail(&state, &staff, &number, if_match(&headers)?, reply)
            .await?;
    complaint_response(&state, &staff, &row, StatusCode::OK).await
}

macro_rules! action_endpoint {
    ($(#[$doc:meta])* $name:ident, $path:literal, $segment:literal, $body:ty) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "complaint actions", request_body = $body,
            params(("number" = String, Path), ("If-Match" = Option<String>, Header, description = "the complaint version this action was decided on")),
            responses((status = 200, body = ComplaintView), (status = 403, description = "not permitted for this role or department"),
                (status = 404, description = "unknown number"), (status = 409, description = "illegal in this state, or changed meanwhile"),
                (status = 422, description = "invalid field")))]
        pub async fn $name(State(state): State<AppState>, staff: Staff, Path(number): Path<String>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Response, Failure> {
            act(state, staff, number, &headers, body, $segment, None).await
        }
    };
}

action_endpoint!(
    /// Complete the registration of a received complaint (customer service).
    register, "/api/v1/complaints/{number}/register", "register", crate::actions::Empty);
action_endpoint!(
    /// Classify: category, severity and the major signals (R-CL-1, R-CL-2).
    classify, "/api/v1/complaints/{number}/classify", "classify", crate::actions::ClassifyIn);
action_endpoint!(
    /// Dispatch to the responsible department and person (R-HD-1).
    dispatch, "/api/v1/complaints/{number}/dispatch", "dispatch", crate::actions::DispatchIn);
action_endpoint!(
    /// Log a contact with the customer (R-HD-3).
    log_contact, "/api/v1/complaints/{number}/contacts", "contacts", crate::actions::ContactIn);
action_endpoint!(
    /// Add an investigation note (R-HD-5).
    add_note, "/api/v1/complaints/{number}/notes", "notes", crate::actions::NoteIn);
action_endpoint!(
    /// Propose a resolution: measures, owner, time, follow-up, compensation (R-HD-6).
    propose, "/api/v1/complaints/{number}/proposals", "proposals", crate::actions::ProposalIn);
action_endpoint!(
    /// Approve or decline (general manager): the accepted plan or a close exception (R-HD-7, R-FB-5).
    approve, "/api/v1/complaints/{number}/approvals", "approvals", crate::actions::ApprovalIn);
action_endpoint!(
    /// The general manager takes the case over (R-HD-7).
    take_over, "/api/v1/complaints/{number}/takeover", "takeover", crate::actions::Empty);
action_endpoint!(
    /// Record execution progress; `completed` ends it (R-HD-9).
    record_execution, "/api/v1/complaints/{number}/execution", "execution", crate::actions::ExecutionIn);
action_endpoint!(
    /// Ask another department for input (R-HD-10).
    create_task, "/api/v1/complaints/{number}/tasks", "tasks", crate::actions::TaskIn);
action_endpoint!(
    /// Feed the result back to the customer (R-FB-1).
    feed_back, "/api/v1/complaints/{number}/feedback", "feedback", crate::actions::FeedbackIn);
action_endpoint!(
    /// Record the follow-up visit: satisfied, not satisfied (reopens) or unreachable (R-FB-2, R-FB-3).
    follow_up, "/api/v1/complaints/{number}/follow-ups", "follow-ups", crate::actions::FollowUpIn);
action_endpoint!(
    /// Close: after a satisfied follow-up, or as an exception with a reason (R-FB-5).
    close, "/api/v1/complaints/{number}/close", "close", crate::actions::CloseIn);
action_endpoint!(
    /// Reopen a fed-back, followed-up or closed complaint.
    reopen, "/api/v1/complaints/{number}/reopen", "reopen", crate::actions::ReasonIn);
action_endpoint!(
    /// Merge into another open complaint (a duplicate, R-IN-3).
    merge, "/api/v1/complaints/{number}/merge", "merge", crate::actions::MergeIn);
action_endpoint!(
    /// The customer withdraws the complaint.
    withdraw, "/api/v1/complaints/{number}/withdraw", "withdraw", crate::actions::ReasonIn);
action_endpoint!(
    /// Correct registration details (restatement, event time and place, people, product, order, plate, urgency); the old values stay in the history.
    amend,
    "/api/v1/complaints/{number}/details",
    "details",
    crate::actions::AmendIn
);
action_endpoint!(
    /// Reject as invalid, with a reason.
    reject, "/api/v1/complaints/{number}/reject", "reject", crate::actions::ReasonIn);

/// Record the customer's answer to a proposal (R-HD-8).
#[utoipa::path(post, path = "/api/v1/complaints/{number}/proposals/{round}/answer", tag = "complaint actions", request_body = crate::actions::AnswerIn,
    params(("number" = String, Path), ("round" = i32, Path)), responses((status = 200, body = ComplaintView), (status = 409, description = "no such proposal waiting")))]
pub async fn answer_proposal(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, round)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let round = round.parse().map_err(|_| Failure::NotFound)?;
    act(state, staff, number, &headers, body, "answer", Some(round)).await
}

/// Complete a sub-task with its result.
#[utoipa::path(post, path = "/api/v1/complaints/{number}/tasks/{seq}/complete", tag = "complaint actions", request_body = crate::actions::TaskDoneIn,
    params(("number" = String, Path), ("seq" = i32, Path)), responses((status = 200, body = ComplaintView)))]
pub async fn complete_task(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, seq)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let seq = seq.parse().map_err(|_| Failure::NotFound)?;
    act(state, staff, number, &headers, body, "complete", Some(seq)).await
}

/// Link another complaint about the same problem (R-IN-3): the relation is
/// listed on both (`linked`). Linking twice changes nothing.
#[utoipa::path(post, path = "/api/v1/complaints/{number}/links", tag = "complaints", request_body = crate::related::LinkIn,
    params(("number" = String, Path, description = "The complaint number")),
    responses((status = 200, body = ComplaintView), (status = 403, description = "not permitted"), (status = 404, description = "unknown or not visible"), (status = 422, description = "missing number or the complaint itself")))]
pub async fn link_complaint(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = input::body(body)?;
    let link: crate::related::LinkIn = input::json(&body)?;
    let row = crate::related::link(&state, &staff, &number, link).await?;
    complaint_response(&state, &staff, &row, StatusCode::OK).await
}
