//! Following a complaint by its number and tracking code (R-KB-2): where it
//! stands in plain words, the proposal waiting for the customer and their
//! answer (R-HD-8), the follow-up survey (R-FB-3).
//!
//! Every request carries the number and the code (hidden fields once the
//! customer is in), and each is checked again: a wrong pair counts against
//! the address and gets the same neutral answer whatever was wrong.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use kesu_domain::State as Lifecycle;
use kesu_domain::input::ComplaintNumber;
use kesu_storage::complaints::ComplaintRow;
use serde::Deserialize;

use super::code::TrackingCode;
use super::{PortalCtx, Visitor, WRONG_TRACKING, render};
use crate::AppState;
use crate::actions::{self, AnswerIn, FollowUpIn, Op};
use crate::error::Failure;

/// The five steps the customer sees.
const STEPS: [&str; 5] = ["received", "handling", "proposal", "result", "follow_up"];

/// Which step a state is at: `None` for an ended complaint that did not
/// run the course (merged, withdrawn, rejected); `Some(5)` when all are done.
fn step_of(state: Lifecycle) -> Option<usize> {
    use Lifecycle::*;
    match state {
        Received | Registered => Some(0),
        Dispatched | InProgress | Reopened => Some(1),
        Proposed | AwaitingApproval => Some(2),
        Executing => Some(3),
        FedBack | FollowUp => Some(4),
        Closed => Some(5),
        Merged | Withdrawn | Rejected => None,
    }
}

pub struct Step {
    pub label: String,
    /// `done`, `now` or `todo`.
    pub class: &'static str,
}

/// The proposal waiting for the customer's answer.
pub struct WaitingProposal {
    pub round: i64,
    pub measures: String,
    pub due: String,
    pub follow_up: String,
    pub compensation: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/track.html")]
struct TrackPage {
    ctx: PortalCtx,
    number: String,
    code: String,
    state_code: String,
    status: String,
    notice: Option<String>,
    received: String,
    steps: Vec<Step>,
    contact_by: Option<String>,
    resolve_by: Option<String>,
    description: String,
    proposal: Option<WaitingProposal>,
    survey: bool,
}

#[derive(Template)]
#[template(path = "portal/track_form.html")]
struct TrackForm {
    ctx: PortalCtx,
    number: String,
    problem: Option<String>,
}

/// `GET /portal/track`: the form asking for the number and the code.
pub async fn track_form(visitor: Visitor) -> Result<Response, Failure> {
    let page = TrackForm {
        ctx: PortalCtx::new(visitor.lang, "/portal/track"),
        number: String::new(),
        problem: None,
    };
    render(&page, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
struct Posted {
    number: Option<String>,
    code: Option<String>,
    round: Option<String>,
    decision: Option<String>,
    words: Option<String>,
    satisfied: Option<String>,
    score: Option<String>,
    comment: Option<String>,
}

fn posted(body: Result<Bytes, BytesRejection>) -> Result<Posted, Failure> {
    let body = crate::input::body(body)?;
    serde_urlencoded::from_bytes(&body).map_err(|e| Failure::InvalidText(e.to_string()))
}

/// A complaint proven to be the customer's by its number and code.
struct Proven {
    number: ComplaintNumber,
    code: TrackingCode,
}

/// Checks the pair. `Ok(None)` when it does not match (counted against the
/// address); 429 when the address made too many wrong attempts.
async fn prove(state: &AppState, visitor: &Visitor, p: &Posted) -> Result<Option<Proven>, Failure> {
    WRONG_TRACKING.check(state, &visitor.address).await?;
    let number = p
        .number
        .as_deref()
        .and_then(|n| ComplaintNumber::parse(n).ok());
    let code = p.code.as_deref().and_then(TrackingCode::parse);
    if let (Some(number), Some(code)) = (number, code)
        && state
            .db
            .tracking_code_matches(number.as_str(), code.as_str())
            .await?
    {
        return Ok(Some(Proven { number, code }));
    }
    WRONG_TRACKING.count(state, &visitor.address).await?;
    Ok(None)
}

/// The one answer to a wrong number or code.
fn refused(visitor: &Visitor, p: &Posted) -> Result<Response, Failure> {
    let ctx = PortalCtx::new(visitor.lang, "/portal/track");
    let page = TrackForm {
        number: p.number.clone().unwrap_or_default().trim().to_owned(),
        problem: Some(ctx.t("portal.track.wrong")),
        ctx,
    };
    render(&page, StatusCode::NOT_FOUND)
}

/// `POST /portal/track`: the complaint's page, when the pair matches.
pub async fn track(
    State(state): State<AppState>,
    visitor: Visitor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let p = posted(body)?;
    match prove(&state, &visitor, &p).await? {
        Some(proven) => show(&state, &visitor, &proven, None).await,
        None => refused(&visitor, &p),
    }
}

/// `POST /portal/answer`: the customer accepts or rejects the proposal
/// waiting for them, in their own words.
pub async fn answer(
    State(state): State<AppState>,
    visitor: Visitor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let p = posted(body)?;
    let Some(proven) = prove(&state, &visitor, &p).await? else {
        return refused(&visitor, &p);
    };
    let round = p
        .round
        .as_deref()
        .and_then(|r| r.trim().parse::<i32>().ok())
        .ok_or(Failure::NotFound)?;
    let accepted = match p.decision.as_deref() {
        Some("accept") => Some(true),
        Some("reject") => Some(false),
        _ => None,
    };
    let op = Op::Answer(
        round,
        AnswerIn {
            accepted,
            customer_words: p.words.clone(),
        },
    );
    actions::perform_for_customer(&state, &proven.number, op).await?;
    let key = if accepted == Some(true) {
        "portal.answer.accepted"
    } else {
        "portal.answer.rejected"
    };
    show(&state, &visitor, &proven, Some(key)).await
}

/// `POST /portal/survey`: the customer's follow-up answer: satisfied or
/// not, a score, a comment. Not satisfied reopens the complaint (R-FB-2).
pub async fn survey(
    State(state): State<AppState>,
    visitor: Visitor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let p = posted(body)?;
    let Some(proven) = prove(&state, &visitor, &p).await? else {
        return refused(&visitor, &p);
    };
    let outcome = match p.satisfied.as_deref() {
        Some("yes") => Some("satisfied".to_owned()),
        Some("no") => Some("not_satisfied".to_owned()),
        _ => None,
    };
    let score = match p.score.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            Failure::Invalid(kesu_domain::input::InputError::new(
                "score",
                kesu_domain::input::InputProblem::BadScore,
            ))
        })?),
        None => None,
    };
    let op = Op::FollowUp(FollowUpIn {
        outcome,
        score,
        comment: p.comment.clone(),
    });
    actions::perform_for_customer(&state, &proven.number, op).await?;
    show(&state, &visitor, &proven, Some("portal.survey.thanks")).await
}

/// Renders what the customer may see of their complaint.
async fn show(
    state: &AppState,
    visitor: &Visitor,
    proven: &Proven,
    notice: Option<&str>,
) -> Result<Response, Failure> {
    let row: ComplaintRow = state
        .db
        .complaint(proven.number.as_str())
        .await?
        .ok_or(Failure::NotFound)?;
    let lifecycle: Lifecycle = row
        .state
        .parse()
        .map_err(|_| Failure::Internal("unknown state".into()))?;
    let ctx = PortalCtx::new(visitor.lang, "/portal/track");
    let received = Timestamp::from_millisecond(row.received_at)
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let step = step_of(lifecycle);
    let steps = match step {
        Some(at) => STEPS
            .iter()
            .enumerate()
            .map(|(i, key)| Step {
                label: ctx.t(&format!("portal.step.{key}")),
                class: match i.cmp(&at) {
                    std::cmp::Ordering::Less => "done",
                    std::cmp::Ordering::Equal => "now",
                    std::cmp::Ordering::Greater => "todo",
                },
            })
            .collect(),
        None => Vec::new(),
    };
    // Expected times while they are still ahead (R-IN-4).
    let expected = super::file::expected_for(state, row.id, received).await?;
    let contact_by = (step == Some(0)).then(|| ctx.time(expected.contact_by, &state.config));
    let resolve_by = step
        .is_some_and(|s| s < 4)
        .then(|| ctx.time(expected.resolve_by, &state.config));
    let proposal = if lifecycle == Lifecycle::Proposed {
        let round = row.current_round.unwrap_or(row.proposals);
        state
            .db
            .proposals(kesu_domain::ComplaintId(row.id))
            .await?
            .into_iter()
            .find(|p| p.round == round && p.status == "pending")
            .map(|p| WaitingProposal {
                round: p.round,
                measures: p.measures,
                due: crate::view::short_time(p.due_at, &state.config.time_zone),
                follow_up: p.follow_up,
                compensation: (p.compensation_fen > 0).then(|| {
                    ctx.t("portal.proposal.yuan")
                        .replace("%{amount}", &yuan(p.compensation_fen))
                }),
            })
    } else {
        None
    };
    // The survey is open after the result was fed back, until the customer
    // (or customer service for them) said they are satisfied.
    let survey =
        lifecycle == Lifecycle::FedBack || (lifecycle == Lifecycle::FollowUp && !row.satisfied);
    let status_key = if lifecycle == Lifecycle::FollowUp && row.satisfied {
        "portal.status.follow_up_satisfied".to_owned()
    } else {
        format!("portal.status.{}", row.state)
    };
    let page = TrackPage {
        number: row.number.clone(),
        code: proven.code.as_str().to_owned(),
        state_code: row.state.clone(),
        status: ctx.t(&status_key),
        notice: notice.map(|k| ctx.t(k)),
        received: ctx.time(received, &state.config),
        steps,
        contact_by,
        resolve_by,
        description: row.description.clone(),
        proposal,
        survey,
        ctx,
    };
    render(&page, StatusCode::OK)
}

/// Fen as yuan with two decimals.
fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_place_in_the_customers_progress() {
        for state in Lifecycle::ALL {
            let step = step_of(*state);
            assert_eq!(
                step.is_none(),
                matches!(
                    state,
                    Lifecycle::Merged | Lifecycle::Withdrawn | Lifecycle::Rejected
                ),
                "{state}"
            );
        }
        assert_eq!(step_of(Lifecycle::Proposed), Some(2));
        assert_eq!(step_of(Lifecycle::Closed), Some(STEPS.len()));
    }

    #[test]
    fn compensation_reads_as_yuan() {
        assert_eq!(yuan(80_000), "800.00");
        assert_eq!(yuan(12_345), "123.45");
    }
}
