//! The shared path of every change to a complaint, for pages and API alike:
//! parse the input → open a transaction → load → check role, department and
//! version → look up what the command names → the domain decides → record
//! events and projection → commit → answer.

use jiff::Timestamp;
use kesu_domain::complaint::Action;
use kesu_domain::input::{self, ComplaintNumber, InputError, InputProblem};
use kesu_domain::{
    Acting, Actor, AttachmentId, Channel, Command, ContactMethod, DepartmentId, FollowUpOutcome,
    Role, Severity, Signal, State, UserId,
};
use kesu_storage::complaints::{self, ComplaintRow, CustomerInput, NewComplaint};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::input::{flex, from_value};

const SHORT: usize = 200;
pub const LONG: usize = 5_000;
pub const DESCRIPTION_MAX: usize = 20_000;

fn invalid(field: &'static str, problem: InputProblem) -> Failure {
    Failure::Invalid(InputError::new(field, problem))
}

fn code<T: std::str::FromStr>(field: &'static str, raw: &str) -> Result<T, Failure> {
    raw.trim()
        .parse()
        .map_err(|_| invalid(field, InputProblem::UnknownValue))
}

fn required(field: &'static str, raw: Option<&str>, max: usize) -> Result<String, Failure> {
    Ok(input::required_text(field, raw, max)?)
}

fn optional(field: &'static str, raw: Option<&str>, max: usize) -> Result<Option<String>, Failure> {
    Ok(input::text(field, raw, max, false)?)
}

/// A time typed by a person: RFC 3339 with an offset, or a local
/// `YYYY-MM-DDTHH:MM` (an HTML `datetime-local` field) in the desk's zone.
///
/// # Errors
/// `BadTime`.
pub fn parse_time(state: &AppState, field: &'static str, raw: &str) -> Result<Timestamp, Failure> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t);
    }
    raw.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(state.config.time_zone.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| invalid(field, InputProblem::BadTime))
}

/// The customer in a new complaint.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CustomerIn {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A complaint to register (R-IN-2). Only `channel`, `customer` and
/// `description` are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewComplaintIn {
    /// `phone`, `walk_in`, `email`, `web`, `app`, `wechat`, `weibo`, `letter`, `regulator`, `media`.
    pub channel: Option<String>,
    #[serde(default)]
    pub customer: CustomerIn,
    /// The complaint in the customer's words.
    pub description: Option<String>,
    /// The agent's restatement (复述).
    pub restatement: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    pub people_involved: Option<String>,
    /// Product or service involved.
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    /// Vehicle plate number.
    pub plate: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    pub urgent: bool,
    /// A category code, to classify at once.
    pub category: Option<String>,
    /// `general` or `major`.
    pub severity: Option<String>,
    #[serde(default)]
    pub signals: Vec<String>,
    /// When the complaint was received (RFC 3339); default now.
    pub received_at: Option<String>,
    /// Site code of the store or branch it concerns; default the registering
    /// person's site (or the first site for group-level staff).
    pub site: Option<String>,
    /// A case forwarded by `12315`, `market_regulator` (市场监管局),
    /// `consumer_assoc` (消协), `financial_regulator` (金融监管/银保监),
    /// `hotline_12345` (12345/信访) or `media` (a newspaper, TV). It is
    /// major by default (signal regulator, consumer_assoc or media), comes in
    /// on the channel `regulator` or `media` unless `letter`, `regulator` or
    /// `media` is given, and its reply deadline runs as the
    /// `regulator_reply` clock.
    pub forwarded_by: Option<String>,
    /// The forwarding body's reference number (转办单号).
    pub forwarded_ref: Option<String>,
    /// The reply deadline the forwarding body set (RFC 3339, or a local
    /// `YYYY-MM-DDTHH:MM`); required with `forwarded_by`.
    pub reply_due: Option<String>,
    /// The WeChat follower who wrote it (their openid): set by the WeChat
    /// endpoint, never read from a request. It stands for the phone or
    /// e-mail a customer otherwise needs.
    #[serde(skip)]
    pub wechat_openid: Option<String>,
}

/// Registers a complaint; returns its row once committed.
///
/// # Errors
/// 422 for bad fields, 403 when the person may not take complaints in or classify.
pub async fn register(
    state: &AppState,
    staff: &Staff,
    input: NewComplaintIn,
    files: Vec<FileIn>,
) -> Result<ComplaintRow, Failure> {
    if !staff.actor.may_take_in() {
        return Err(Failure::Refused(kesu_domain::Refusal::NotPermitted(
            Action::Register,
        )));
    }
    let now = state.now();
    let new = intake(state, Some(&staff.actor), input, files, now).await?;
    let (_, number) = state
        .db
        .create_complaint(&new, Some(&staff.actor), now)
        .await?;
    state
        .db
        .complaint(number.as_str())
        .await?
        .ok_or(Failure::Internal("registered complaint vanished".into()))
}

/// Parses a complaint to register (R-IN-2), checks its files and asks the
/// classification engine for its proposal: everything a registration
/// writes, before anything is written. `actor` is the staff member taking
/// it in, or `None` for the customer filing on the portal, who gives only
/// the customer's own fields (no category, severity, signals, receipt time
/// or restatement: those are customer service's).
///
/// # Errors
/// 422 for bad fields and files, 413 for a file over the limit, 403 for
/// fields the actor may not set.
pub async fn intake(
    state: &AppState,
    actor: Option<&Actor>,
    input: NewComplaintIn,
    files: Vec<FileIn>,
    now: jiff::Timestamp,
) -> Result<NewComplaint, Failure> {
    let staff_only = input.category.is_some()
        || input.severity.is_some()
        || !input.signals.is_empty()
        || input.received_at.is_some()
        || input.restatement.is_some()
        || input.forwarded_by.is_some()
        || input.forwarded_ref.is_some()
        || input.reply_due.is_some();
    if actor.is_none() && staff_only {
        return Err(Failure::Forbidden);
    }
    let forwarded = forwarded(state, &input, now)?;
    let channel: Channel = match (&forwarded, input.channel.as_deref().map(str::trim)) {
        (Some(_), Some("letter" | "regulator" | "media")) => {
            code("channel", input.channel.as_deref().unwrap_or_default())?
        }
        (Some(f), _) => f.body.channel(),
        (None, raw) => code(
            "channel",
            raw.filter(|c| !c.is_empty())
                .ok_or_else(|| invalid("channel", InputProblem::Missing))?,
        )?,
    };
    let name = required("customer.name", input.customer.name.as_deref(), 100)?;
    let phone = match input
        .customer
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(input::phone("customer.phone", p)?),
        None => None,
    };
    let email = match input
        .customer
        .email
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(e) => Some(input::email("customer.email", e)?),
        None => None,
    };
    let wechat_openid = input.wechat_openid.clone();
    if phone.is_none() && email.is_none() && (wechat_openid.is_none() || actor.is_some()) {
        return Err(invalid("customer.phone", InputProblem::Missing));
    }
    let description = required("description", input.description.as_deref(), DESCRIPTION_MAX)?;
    let received_at = match input
        .received_at
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(raw) => {
            let t = parse_time(state, "received_at", raw)?;
            if t > now + jiff::SignedDuration::from_mins(5) {
                return Err(invalid("received_at", InputProblem::BadTime));
            }
            t
        }
        None => now,
    };
    let signals = input
        .signals
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| code::<Signal>("signals", s))
        .collect::<Result<Vec<_>, _>>()?;
    let severity = match input.severity.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => code("severity", s)?,
        None if signals.is_empty() => Severity::General,
        None => Severity::Major,
    };
    let site_id = intake_site(state, actor, input.site.as_deref()).await?;
    let category = match input
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => {
            if !actor.is_some_and(|a| {
                a.roles
                    .iter()
                    .any(|r| matches!(r, Role::Agent | Role::Supervisor | Role::Gm))
            }) {
                return Err(Failure::Refused(kesu_domain::Refusal::NotPermitted(
                    Action::Classify,
                )));
            }
            let cat = state
                .db
                .category(c)
                .await?
                .filter(|c| c.active)
                .ok_or_else(|| invalid("category", InputProblem::UnknownValue))?;
            Some(cat.code)
        }
        None => None,
    };
    let restatement = optional("restatement", input.restatement.as_deref(), DESCRIPTION_MAX)?;
    let order_ref = optional("order_ref", input.order_ref.as_deref(), SHORT)?;
    let plate = optional("plate", input.plate.as_deref(), 20)?;
    // The same customer back about the same vehicle or order within the
    // window is a repeated fault (R-CL-2).
    let window_days = state.db.policy().await?.repeat_window_days;
    let since = received_at
        .checked_sub(jiff::SignedDuration::from_hours(
            24 * window_days.clamp(0, 3650),
        ))
        .unwrap_or(received_at);
    let same_product_recently = state
        .db
        .same_matter_since(
            phone.as_deref(),
            email.as_deref(),
            plate.as_deref(),
            order_ref.as_deref(),
            since,
        )
        .await?;
    // The engine reads the customer's words (and the restatement) on arrival.
    let mut proposal = propose(
        &state.learned.engine(),
        &description,
        restatement.as_deref(),
        channel,
        kesu_classify::signals::History {
            same_product_recently,
        },
    );
    // Below the best category, the desk's sub-category its words name.
    proposal.subcategory = crate::learning::propose_subcategory(
        state,
        proposal.categories.first().map(|(c, _)| c.as_str()),
        &description,
        restatement.as_deref(),
    )
    .await?;
    // A forwarded case is major by default (R-CL-2), the forwarding body
    // the reason.
    if let Some(f) = &forwarded {
        let signal = f.body.signal();
        let reason = crate::i18n::t(
            crate::i18n::Lang::Zh,
            &format!("forwarding_body.{}", f.body.as_str()),
        );
        proposal.signals.retain(|(s, _)| *s != signal);
        proposal.signals.insert(0, (signal, reason));
        proposal.severity = Severity::Major;
    }
    // A category chosen without a severity takes the proposed severity and
    // signals, so choosing a category never silently drops a major signal.
    let (severity, signals) = if category.is_some()
        && input
            .severity
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        && signals.is_empty()
    {
        (
            proposal.severity,
            proposal.signals.iter().map(|(s, _)| *s).collect(),
        )
    } else {
        (severity, signals)
    };
    let day = received_at.to_zoned(state.config.time_zone.clone()).date();
    let day = u32::try_from(
        i32::from(day.year()) * 10_000 + i32::from(day.month()) * 100 + i32::from(day.day()),
    )
    .unwrap_or(0);
    Ok(NewComplaint {
        channel,
        received_at,
        day,
        customer: CustomerInput {
            name,
            phone,
            email,
            wechat_openid,
        },
        description,
        restatement,
        event_time: optional("event_time", input.event_time.as_deref(), SHORT)?,
        event_place: optional("event_place", input.event_place.as_deref(), SHORT)?,
        people_involved: optional("people_involved", input.people_involved.as_deref(), SHORT)?,
        subject: optional("subject", input.subject.as_deref(), SHORT)?,
        order_ref,
        plate,
        urgent: input.urgent,
        category,
        severity,
        signals,
        attachments: checked_files(state, files)?,
        site_id,
        proposal: Some(proposal),
        forwarded,
    })
}

/// The forwarding body, its reference and reply deadline of a forwarded
/// case, or `None` for any other complaint.
///
/// # Errors
/// 422 for an unknown body, a reference or deadline without a body, a
/// missing deadline or one already past.
fn forwarded(
    state: &AppState,
    input: &NewComplaintIn,
    now: Timestamp,
) -> Result<Option<kesu_storage::complaints::Forwarded>, Failure> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (body, reference, due) = (
        present(&input.forwarded_by),
        present(&input.forwarded_ref),
        present(&input.reply_due),
    );
    let Some(body) = body else {
        if reference.is_some() || due.is_some() {
            return Err(invalid("forwarded_by", InputProblem::Missing));
        }
        return Ok(None);
    };
    let body: kesu_domain::ForwardingBody = code("forwarded_by", &body)?;
    let reference = optional("forwarded_ref", reference.as_deref(), SHORT)?;
    let due = due.ok_or_else(|| invalid("reply_due", InputProblem::Missing))?;
    let reply_due_at = parse_time(state, "reply_due", &due)?;
    if reply_due_at <= now {
        return Err(invalid("reply_due", InputProblem::BadTime));
    }
    Ok(Some(kesu_storage::complaints::Forwarded {
        body,
        reference,
        reply_due_at,
    }))
}

/// The classification engine's proposal for a complaint's text (R-CL-1/2).
pub fn propose(
    engine: &kesu_classify::Engine,
    description: &str,
    restatement: Option<&str>,
    channel: Channel,
    history: kesu_classify::signals::History,
) -> kesu_domain::complaint::Proposed {
    let text = match restatement {
        Some(r) => format!("{description}\n{r}"),
        None => description.to_owned(),
    };
    let p = engine.classify(&text, channel, history);
    kesu_domain::complaint::Proposed {
        categories: p
            .categories
            .iter()
            .map(|c| {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a confidence in 0..=1 as a percentage"
                )]
                let percent = (c.confidence.clamp(0.0, 1.0) * 100.0).round() as u8;
                (c.code.clone(), percent)
            })
            .collect(),
        severity: p.severity,
        signals: p
            .signals
            .iter()
            .map(|h| (h.signal, h.phrase.clone()))
            .collect(),
        subcategory: None,
    }
}

/// The site a new complaint concerns: site staff register for their own
/// site; group-level staff choose (default: the first site).
async fn intake_site(
    state: &AppState,
    actor: Option<&Actor>,
    raw: Option<&str>,
) -> Result<Option<kesu_domain::SiteId>, Failure> {
    let chosen = match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => {
            let site = state
                .db
                .sites()
                .await?
                .into_iter()
                .find(|s| s.code == code)
                .ok_or_else(|| invalid("site", InputProblem::UnknownValue))?;
            Some(kesu_domain::SiteId(site.id))
        }
        None => None,
    };
    match (actor.and_then(|a| a.site_id), chosen) {
        (Some(own), Some(other)) if own != other => Err(Failure::Forbidden),
        (Some(own), _) => Ok(Some(own)),
        (None, chosen) => Ok(chosen),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ClassifyIn {
    /// Category code.
    pub category: Option<String>,
    /// `general` or `major`.
    pub severity: Option<String>,
    /// Signal codes that make it major (R-CL-2).
    #[serde(default)]
    pub signals: Vec<String>,
    /// Required when a major complaint is downgraded.
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DispatchIn {
    /// Department code.
    pub department: Option<String>,
    /// Username of the responsible person (optional).
    pub assignee: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ContactIn {
    /// `phone`, `visit`, `sms`, `email`, `wechat`.
    pub method: Option<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NoteIn {
    pub text: Option<String>,
    /// Other departments consulted.
    pub consulted: Option<String>,
    pub root_cause: Option<String>,
    /// What the customer expects.
    pub customer_expects: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProposalIn {
    pub measures: Option<String>,
    /// The person responsible for carrying it out.
    pub owner: Option<String>,
    /// When it will be done (RFC 3339, or local `YYYY-MM-DDTHH:MM`).
    pub due_at: Option<String>,
    /// How the result will be followed up.
    pub follow_up: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_f64")]
    pub compensation_yuan: Option<f64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AnswerIn {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    pub accepted: Option<bool>,
    /// The customer's answer in their words.
    pub customer_words: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApprovalIn {
    #[serde(default, deserialize_with = "flex::opt_bool")]
    pub approved: Option<bool>,
    /// Required when declining.
    pub comment: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ExecutionIn {
    pub progress: Option<String>,
    #[serde(default, deserialize_with = "flex::bool")]
    pub completed: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TaskIn {
    /// Department code asked for input.
    pub department: Option<String>,
    /// Username of the task owner (optional).
    pub owner: Option<String>,
    pub title: Option<String>,
    pub due_at: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TaskDoneIn {
    pub result: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FeedbackIn {
    pub method: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FollowUpIn {
    /// `satisfied`, `not_satisfied`, `unreachable`.
    pub outcome: Option<String>,
    /// 1–5 (R-FB-3), optional.
    #[serde(default, deserialize_with = "flex::opt_i64")]
    pub score: Option<i64>,
    pub comment: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseIn {
    /// Close as an exception (needs the general manager's approval).
    pub exception_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReasonIn {
    pub reason: Option<String>,
}

/// Corrected registration details; a field left out stays as it is, an
/// empty string clears it. The customer's own words cannot be changed.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AmendIn {
    pub restatement: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    pub people_involved: Option<String>,
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    pub plate: Option<String>,
    #[serde(default, deserialize_with = "flex::opt_bool")]
    pub urgent: Option<bool>,
}

impl AmendIn {
    /// The changes against the stored complaint, each field parsed as at registration.
    fn changes(&self, row: &ComplaintRow) -> Result<Vec<kesu_domain::complaint::Change>, Failure> {
        use kesu_domain::complaint::{Change, DetailField as F};
        let mut out = Vec::new();
        let texts = [
            (
                F::Restatement,
                "restatement",
                &self.restatement,
                &row.restatement,
                DESCRIPTION_MAX,
            ),
            (
                F::EventTime,
                "event_time",
                &self.event_time,
                &row.event_time,
                SHORT,
            ),
            (
                F::EventPlace,
                "event_place",
                &self.event_place,
                &row.event_place,
                SHORT,
            ),
            (
                F::PeopleInvolved,
                "people_involved",
                &self.people_involved,
                &row.people_involved,
                SHORT,
            ),
            (F::Subject, "subject", &self.subject, &row.subject, SHORT),
            (
                F::OrderRef,
                "order_ref",
                &self.order_ref,
                &row.order_ref,
                SHORT,
            ),
            (F::Plate, "plate", &self.plate, &row.plate, 20),
        ];
        for (field, name, given, stored, max) in texts {
            if let Some(raw) = given {
                out.push(Change {
                    field,
                    from: stored.clone(),
                    to: optional(name, Some(raw), max)?,
                });
            }
        }
        if let Some(urgent) = self.urgent {
            out.push(Change {
                field: F::Urgent,
                from: Some(row.urgent.to_string()),
                to: Some(urgent.to_string()),
            });
        }
        Ok(out)
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MergeIn {
    /// The number of the complaint to merge into.
    pub into: Option<String>,
}

/// A parsed action on a complaint.
#[derive(Debug)]
pub enum Op {
    Register,
    Classify(ClassifyIn),
    Dispatch(DispatchIn),
    Contact(ContactIn),
    Note(NoteIn),
    Propose(ProposalIn),
    Answer(i32, AnswerIn),
    Approve(ApprovalIn),
    TakeOver,
    Execution(ExecutionIn),
    Task(TaskIn),
    CompleteTask(i32, TaskDoneIn),
    Feedback(FeedbackIn),
    FollowUp(FollowUpIn),
    Close(CloseIn),
    Reopen(ReasonIn),
    Merge(MergeIn),
    Withdraw(ReasonIn),
    Reject(ReasonIn),
    Amend(AmendIn),
}

impl Op {
    /// Parses the action named by a URL segment (`classify`, `follow-ups`, …)
    /// with its body. `sub` is the proposal round or task number where the
    /// path has one.
    ///
    /// # Errors
    /// [`Failure::NotFound`] for an unknown action, 422 for a body that does not fit.
    pub fn parse(segment: &str, sub: Option<i32>, body: Value) -> Result<Op, Failure> {
        let body = if body.is_null() {
            Value::Object(serde_json::Map::new())
        } else {
            body
        };
        Ok(match (segment, sub) {
            ("register", None) => Op::Register,
            ("classify", None) => Op::Classify(from_value(body)?),
            ("dispatch", None) => Op::Dispatch(from_value(body)?),
            ("contacts", None) => Op::Contact(from_value(body)?),
            ("notes", None) => Op::Note(from_value(body)?),
            ("proposals", None) => Op::Propose(from_value(body)?),
            ("answer", Some(round)) => Op::Answer(round, from_value(body)?),
            ("approvals", None) => Op::Approve(from_value(body)?),
            ("takeover", None) => Op::TakeOver,
            ("execution", None) => Op::Execution(from_value(body)?),
            ("tasks", None) => Op::Task(from_value(body)?),
            ("complete", Some(seq)) => Op::CompleteTask(seq, from_value(body)?),
            ("feedback", None) => Op::Feedback(from_value(body)?),
            ("follow-ups", None) => Op::FollowUp(from_value(body)?),
            ("close", None) => Op::Close(from_value(body)?),
            ("reopen", None) => Op::Reopen(from_value(body)?),
            ("merge", None) => Op::Merge(from_value(body)?),
            ("withdraw", None) => Op::Withdraw(from_value(body)?),
            ("reject", None) => Op::Reject(from_value(body)?),
            ("details", None) => Op::Amend(from_value(body)?),
            _ => return Err(Failure::NotFound),
        })
    }

    fn action(&self) -> Action {
        match self {
            Op::Register => Action::Register,
            Op::Classify(_) => Action::Classify,
            Op::Dispatch(_) => Action::Dispatch,
            Op::Contact(_) => Action::LogContact,
            Op::Note(_) => Action::AddNote,
            Op::Propose(_) => Action::Propose,
            Op::Answer(..) => Action::AnswerProposal,
            Op::Approve(_) => Action::Approve,
            Op::TakeOver => Action::TakeOver,
            Op::Execution(_) => Action::RecordExecution,
            Op::Task(_) => Action::CreateTask,
            Op::CompleteTask(..) => Action::CompleteTask,
            Op::Feedback(_) => Action::FeedBack,
            Op::FollowUp(_) => Action::FollowUp,
            Op::Close(_) => Action::Close,
            Op::Reopen(_) => Action::Reopen,
            Op::Merge(_) => Action::Merge,
            Op::Withdraw(_) => Action::Withdraw,
            Op::Reject(_) => Action::Reject,
            Op::Amend(_) => Action::Amend,
        }
    }
}

/// Loads a complaint the person may see, or 404 (a complaint they may not
/// see is not told apart from one that does not exist).
///
/// # Errors
/// 422 for a malformed number, 404.
pub async fn visible(
    state: &AppState,
    staff: &Staff,
    number: &str,
) -> Result<ComplaintRow, Failure> {
    let number = ComplaintNumber::parse(number)?;
    let row = state
        .db
        .complaint(number.as_str())
        .await?
        .ok_or(Failure::NotFound)?;
    if state.db.may_see(&staff.actor, &row).await? {
        Ok(row)
    } else {
        Err(Failure::NotFound)
    }
}

/// Records that the reader is shown this complaint's unmasked contact
/// details (PIPL); readers who see them masked leave no record.
///
/// # Errors
/// The driver's error: then nothing is shown.
pub async fn log_contact_view(
    state: &AppState,
    staff: &Staff,
    row: &ComplaintRow,
    purpose: &str,
) -> Result<(), Failure> {
    if crate::view::sees_contacts(&staff.actor)
        && (row.customer_phone.is_some() || row.customer_email.is_some())
    {
        state
            .db
            .log_personal_data_view(
                staff.actor.user_id,
                row.customer_id,
                Some(row.id),
                purpose,
                state.now(),
            )
            .await?;
    }
    Ok(())
}

async fn department(
    state: &AppState,
    field: &'static str,
    raw: Option<&str>,
) -> Result<DepartmentId, Failure> {
    let code = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(field, InputProblem::Missing))?;
    let d = state
        .db
        .department_by_code(code)
        .await?
        .filter(|d| d.active)
        .ok_or_else(|| invalid(field, InputProblem::UnknownValue))?;
    Ok(DepartmentId(d.id))
}

async fn person(
    state: &AppState,
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<(UserId, Option<DepartmentId>)>, Failure> {
    let Some(name) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let u = state
        .db
        .user_by_username(name)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| invalid(field, InputProblem::UnknownValue))?;
    Ok(Some((UserId(u.id), u.department_id.map(DepartmentId))))
}

fn fen(yuan: Option<f64>) -> Result<i64, Failure> {
    Ok(match yuan {
        Some(y) => input::yuan_to_fen("compensation_yuan", y)?,
        None => 0,
    })
}

async fn command(
    state: &AppState,
    tx: &mut kesu_storage::Tx,
    row: &ComplaintRow,
    op: Op,
) -> Result<Command, Failure> {
    Ok(match op {
        Op::Register => Command::Register {
            channel: code("channel", &row.channel)?,
        },
        Op::Classify(i) => {
            let cat = i
                .category
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid("category", InputProblem::Missing))?;
            let cat = state
                .db
                .category(cat)
                .await?
                .filter(|c| c.active)
                .ok_or_else(|| invalid("category", InputProblem::UnknownValue))?;
            let signals = i
                .signals
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| code::<Signal>("signals", s))
                .collect::<Result<Vec<_>, _>>()?;
            let severity = match i.severity.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => code("severity", s)?,
                None if signals.is_empty() => Severity::General,
                None => Severity::Major,
            };
            Command::Classify {
                category: cat.code,
                severity,
                signals,
                reason: optional("reason", i.reason.as_deref(), LONG)?,
            }
        }
        Op::Dispatch(i) => Command::Dispatch {
            department_id: department(state, "department", i.department.as_deref()).await?,
            assignee: person(state, "assignee", i.assignee.as_deref()).await?,
        },
        Op::Contact(i) => Command::LogContact {
            method: code("method", i.method.as_deref().unwrap_or("phone"))?,
            summary: required("summary", i.summary.as_deref(), LONG)?,
        },
        Op::Note(i) => Command::AddNote {
            text: required("text", i.text.as_deref(), LONG)?,
            consulted: optional("consulted", i.consulted.as_deref(), LONG)?,
            root_cause: optional("root_cause", i.root_cause.as_deref(), LONG)?,
            customer_expects: optional("customer_expects", i.customer_expects.as_deref(), LONG)?,
        },
        Op::Propose(i) => Command::Propose {
            measures: required("measures", i.measures.as_deref(), LONG)?,
            owner: required("owner", i.owner.as_deref(), 100)?,
            due_at: parse_time(
                state,
                "due_at",
                i.due_at
                    .as_deref()
                    .ok_or_else(|| invalid("due_at", InputProblem::Missing))?,
            )?,
            follow_up: optional("follow_up", i.follow_up.as_deref(), LONG)?.unwrap_or_default(),
            compensation_fen: fen(i.compensation_yuan)?,
        },
        Op::Answer(round, i) => Command::AnswerProposal {
            round,
            accepted: i
                .accepted
                .ok_or_else(|| invalid("accepted", InputProblem::Missing))?,
            customer_words: required("customer_words", i.customer_words.as_deref(), LONG)?,
        },
        Op::Approve(i) => Command::Approve {
            approved: i
                .approved
                .ok_or_else(|| invalid("approved", InputProblem::Missing))?,
            comment: optional("comment", i.comment.as_deref(), LONG)?,
        },
        Op::TakeOver => Command::TakeOver,
        Op::Execution(i) => Command::RecordExecution {
            progress: required("progress", i.progress.as_deref(), LONG)?,
            completed: i.completed,
        },
        Op::Task(i) => Command::CreateTask {
            department_id: department(state, "department", i.department.as_deref()).await?,
            owner: person(state, "owner", i.owner.as_deref()).await?,
            title: required("title", i.title.as_deref(), LONG)?,
            due_at: match i.due_at.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(raw) => Some(parse_time(state, "due_at", raw)?),
                None => None,
            },
        },
        Op::CompleteTask(seq, i) => {
            let task = complaints::load_task(tx, kesu_domain::ComplaintId(row.id), seq)
                .await?
                .ok_or(Failure::NotFound)?;
            Command::CompleteTask {
                task,
                result: required("result", i.result.as_deref(), LONG)?,
            }
        }
        Op::Feedback(i) => Command::FeedBack {
            method: code::<ContactMethod>("method", i.method.as_deref().unwrap_or("phone"))?,
            content: required("content", i.content.as_deref(), LONG)?,
        },
        Op::FollowUp(i) => Command::FollowUp {
            outcome: code::<FollowUpOutcome>(
                "outcome",
                i.outcome
                    .as_deref()
                    .ok_or_else(|| invalid("outcome", InputProblem::Missing))?,
            )?,
            score: match i.score {
                Some(s) => Some(input::score("score", s)?),
                None => None,
            },
            comment: optional("comment", i.comment.as_deref(), LONG)?,
        },
        Op::Close(i) => Command::Close {
            exception_reason: optional("exception_reason", i.exception_reason.as_deref(), LONG)?,
        },
        Op::Reopen(i) => Command::Reopen {
            reason: required("reason", i.reason.as_deref(), LONG)?,
        },
        Op::Withdraw(i) => Command::Withdraw {
            reason: required("reason", i.reason.as_deref(), LONG)?,
        },
        Op::Reject(i) => Command::Reject {
            reason: required("reason", i.reason.as_deref(), LONG)?,
        },
        Op::Amend(i) => Command::Amend {
            changes: i.changes(row)?,
        },
        Op::Merge(i) => {
            let raw = i
                .into
                .as_deref()
                .ok_or_else(|| invalid("into", InputProblem::Missing))?;
            let number = ComplaintNumber::parse(raw)
                .map_err(|_| invalid("into", InputProblem::BadNumber))?;
            let target = state
                .db
                .complaint(number.as_str())
                .await?
                .ok_or_else(|| invalid("into", InputProblem::UnknownValue))?;
            let open = target
                .state
                .parse::<State>()
                .is_ok_and(|s| !s.is_terminal());
            Command::Merge {
                into_number: target.number,
                into_id: kesu_domain::ComplaintId(target.id),
                into_open: open,
            }
        }
    })
}

/// Loads a complaint inside a write transaction (read once, locked on
/// PostgreSQL), or 404 when it does not exist or the actor may not see it.
///
/// # Errors
/// 404, or the driver's error.
pub(crate) async fn load_visible(
    state: &AppState,
    staff: &Staff,
    tx: &mut kesu_storage::Tx,
    number: &ComplaintNumber,
) -> Result<ComplaintRow, Failure> {
    let row = complaints::load(tx, number.as_str())
        .await?
        .ok_or(Failure::NotFound)?;
    if state.db.may_see(&staff.actor, &row).await? {
        Ok(row)
    } else {
        Err(Failure::NotFound)
    }
}

/// Performs an action on a complaint. `expected_version`, when given, must
/// match the stored one (the form or `If-Match` saw that version).
///
/// # Errors
/// 404 unknown or invisible; 403/409/422 refusals; 409 version conflicts.
pub async fn perform(
    state: &AppState,
    staff: &Staff,
    number: &str,
    expected_version: Option<i64>,
    op: Op,
) -> Result<ComplaintRow, Failure> {
    let number = ComplaintNumber::parse(number)?;
    let now = state.now();
    let policy = state.db.policy().await?;
    let mut tx = state.db.begin().await?;
    let row = load_visible(state, staff, &mut tx, &number).await?;
    if expected_version.is_some_and(|v| v != row.version) {
        return Err(Failure::VersionConflict);
    }
    let complaint = row.to_domain()?;
    complaint.check(op.action(), &staff.actor)?;
    let command = command(state, &mut tx, &row, op).await?;
    let events = complaint.decide(command, &staff.actor, now, &policy)?;
    complaints::record(&mut tx, &complaint, &events, Some(staff.actor.user_id), now).await?;
    tx.commit().await?;
    state
        .db
        .complaint(&row.number)
        .await?
        .ok_or(Failure::NotFound)
}

/// Performs what the customer asks on the portal: answering a proposal
/// (R-HD-8) or the follow-up survey (R-FB-3). The same path as [`perform`],
/// with the domain deciding for [`Acting::Customer`] (who may do nothing
/// else) and no staff actor in the history. The caller proved with the
/// tracking code that the complaint is the customer's.
///
/// # Errors
/// 404 unknown; 403/409/422 refusals.
pub async fn perform_for_customer(
    state: &AppState,
    number: &ComplaintNumber,
    op: Op,
) -> Result<ComplaintRow, Failure> {
    let now = state.now();
    let policy = state.db.policy().await?;
    let mut tx = state.db.begin().await?;
    let row = complaints::load(&mut tx, number.as_str())
        .await?
        .ok_or(Failure::NotFound)?;
    let complaint = row.to_domain()?;
    complaint.check(op.action(), Acting::Customer)?;
    let command = command(state, &mut tx, &row, op).await?;
    let events = complaint.decide(command, Acting::Customer, now, &policy)?;
    complaints::record(&mut tx, &complaint, &events, None, now).await?;
    tx.commit().await?;
    state
        .db
        .complaint(&row.number)
        .await?
        .ok_or(Failure::NotFound)
}

/// A file as uploaded, before it is checked.
#[derive(Debug, Default)]
pub struct FileIn {
    pub kind: String,
    pub filename: String,
    pub data: Vec<u8>,
}

/// At most this many files with one registration.
pub const MAX_FILES: usize = 10;

/// Checks uploaded files (count, size, type by content, clean names) before
/// anything is written.
///
/// # Errors
/// 413 for a file over the limit, 422 for an empty or unsupported one.
pub fn checked_files(
    state: &AppState,
    files: Vec<FileIn>,
) -> Result<Vec<kesu_storage::complaints::NewAttachment>, Failure> {
    if files.len() > MAX_FILES {
        return Err(invalid("file", InputProblem::TooLong { max: MAX_FILES }));
    }
    files
        .into_iter()
        .map(|f| {
            if f.data.len() > state.config.max_attachment_bytes {
                return Err(Failure::TooLarge);
            }
            if f.data.is_empty() {
                return Err(invalid("file", InputProblem::Missing));
            }
            let kind: kesu_domain::codes::AttachmentKind = code(
                "kind",
                if f.kind.trim().is_empty() {
                    "evidence"
                } else {
                    &f.kind
                },
            )?;
            let filename = clean_filename(&f.filename);
            let content_type = sniff(&filename, &f.data).ok_or(Failure::UnsupportedFile)?;
            Ok(kesu_storage::complaints::NewAttachment {
                kind,
                filename,
                content_type: content_type.to_owned(),
                data: f.data,
            })
        })
        .collect()
}

/// File types accepted as attachments: photos, scans, documents, recordings.
const ALLOWED_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "audio/mpeg",
    "audio/amr",
    "audio/m4a",
    "audio/x-wav",
    "video/mp4",
];

/// The content type of an upload, judged from its bytes (never from what the
/// client claims); plain UTF-8 text is accepted for `.txt` files.
pub fn sniff(filename: &str, data: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(data) {
        return ALLOWED_TYPES
            .iter()
            .copied()
            .find(|t| *t == kind.mime_type());
    }
    let is_txt = filename.to_ascii_lowercase().ends_with(".txt");
    (is_txt && std::str::from_utf8(data).is_ok() && !data.contains(&0))
        .then_some("text/plain; charset=utf-8")
}

/// A file name safe to store and to send back: the last path component,
/// without control or quote characters, at most 120 characters.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '<' | '>' | '|' | ':' | '*' | '?'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// Stores an attachment and records it in the history.
///
/// # Errors
/// 413 too large, 422 empty or unsupported type, and as [`perform`].
pub async fn attach(
    state: &AppState,
    staff: &Staff,
    number: &str,
    kind: &str,
    filename: &str,
    data: &[u8],
) -> Result<ComplaintRow, Failure> {
    if data.len() > state.config.max_attachment_bytes {
        return Err(Failure::TooLarge);
    }
    if data.is_empty() {
        return Err(invalid("file", InputProblem::Missing));
    }
    let kind: kesu_domain::codes::AttachmentKind = code(
        "kind",
        if kind.trim().is_empty() {
            "evidence"
        } else {
            kind
        },
    )?;
    let filename = clean_filename(filename);
    let content_type = sniff(&filename, data).ok_or(Failure::UnsupportedFile)?;
    let number = ComplaintNumber::parse(number)?;
    let now = state.now();
    let policy = state.db.policy().await?;
    let mut tx = state.db.begin().await?;
    let row = load_visible(state, staff, &mut tx, &number).await?;
    let complaint = row.to_domain()?;
    complaint.check(Action::Attach, &staff.actor)?;
    let id = complaints::insert_attachment(
        &mut tx,
        complaint.id,
        kind.as_str(),
        &filename,
        content_type,
        data,
        staff.actor.user_id,
        now,
    )
    .await?;
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let command = Command::Attach {
        attachment_id: AttachmentId(id),
        kind,
        filename,
        size,
    };
    let events = complaint.decide(command, &staff.actor, now, &policy)?;
    complaints::record(&mut tx, &complaint, &events, Some(staff.actor.user_id), now).await?;
    tx.commit().await?;
    state
        .db
        .complaint(&row.number)
        .await?
        .ok_or(Failure::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_dangerous_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\王\\协议.pdf"), "协议.pdf");
        assert_eq!(clean_filename("..."), "file");
        assert_eq!(clean_filename("a\"b;c\n.jpg"), "abc.jpg");
    }

    #[test]
    fn uploads_are_typed_by_their_bytes_not_their_names() {
        assert_eq!(sniff("x.jpg", b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(
            sniff("photo.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff("note.txt", "客户来电记录".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(sniff("evil.exe", b"MZ\x90\x00\x03"), None);
        assert_eq!(sniff("page.html", b"<script>alert(1)</script>"), None);
    }
}

/// An action without fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Empty {}
