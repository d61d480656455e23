//! What a complaint looks like to its reader: JSON views for the API, and the
//! formatting helpers (time in the desk's zone, masking) pages share.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use kesu_domain::{Actor, Role};
use kesu_storage::complaints::{
    AttachmentRow, ComplaintRow, EventRow, ListRow, ProposalRow, TaskRow,
};
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 3339 in the desk's zone, e.g. `2026-11-22T09:30:00+08:00`.
pub fn rfc3339(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

/// `2026-11-22 09:30` in the desk's zone, for pages.
pub fn short_time(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Whether this reader needs the customer's contact details unmasked
/// (R-GV-3): customer service, handlers and the general manager do;
/// supervisors and admins see them masked.
pub fn sees_contacts(actor: &Actor) -> bool {
    actor
        .roles
        .iter()
        .any(|r| matches!(r, Role::Agent | Role::Manager | Role::Gm))
}

/// A contact detail as this reader may see it: whole, or masked (R-GV-3).
pub fn contact_for(actor: &Actor, value: Option<&str>) -> Option<String> {
    value.map(|v| {
        if sees_contacts(actor) {
            v.to_owned()
        } else {
            mask(v)
        }
    })
}

/// `13800138000` → `138****8000`; `wang@example.cn` → `w***@example.cn`.
pub fn mask(value: &str) -> String {
    if let Some((local, domain)) = value.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{head}****{tail}")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A deadline of the complaint (R-HD-*, R-FB-2): running while `met_at`,
/// `breached_at` and `ended_at` are all null.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    /// `register`, `classify`, `dispatch`, `first_contact`, `initial_reply`,
    /// `progress_report`, `resolve`, `report_back`, `follow_up` or
    /// `regulator_reply` (a forwarding body's own reply deadline).
    pub kind: String,
    /// RFC 3339; for the follow-up visit the end of its window.
    pub due_at: String,
    /// The start of the window (the follow-up visit: day 5).
    pub earliest_at: Option<String>,
    pub started_at: String,
    pub met_at: Option<String>,
    /// When it was breached (its due time), even if the work was done later.
    pub breached_at: Option<String>,
    /// When it stopped (met, done late, or cancelled).
    pub ended_at: Option<String>,
    /// Paused while waiting for the customer's answer.
    pub paused: bool,
    /// Cancelled: the complaint ended another way (withdrawn, merged …).
    pub cancelled: bool,
    /// On the fast track (major or urgent).
    pub fast: bool,
}

impl DeadlineView {
    pub fn new(d: &kesu_storage::deadlines::DeadlineRow, tz: &TimeZone) -> DeadlineView {
        let opt = |v: Option<i64>| v.map(|v| rfc3339(v, tz));
        DeadlineView {
            kind: d.kind.clone(),
            due_at: rfc3339(d.due_at, tz),
            earliest_at: opt(d.earliest_at),
            started_at: rfc3339(d.started_at, tz),
            met_at: opt(d.met_at),
            breached_at: opt(d.breached_at),
            ended_at: opt(d.ended_at),
            paused: d.paused_at.is_some(),
            cancelled: d.cancelled,
            fast: d.fast,
        }
    }
}

/// A complaint as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    /// e.g. `KS-20261122-0007`
    pub number: String,
    /// Lifecycle state code.
    pub state: String,
    pub channel: String,
    /// RFC 3339.
    pub received_at: String,
    pub category: Option<String>,
    /// `general` or `major`.
    pub severity: String,
    pub signals: Vec<String>,
    pub deadlines: Vec<DeadlineView>,
    pub urgent: bool,
    pub customer: CustomerView,
    pub description: String,
    pub restatement: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    pub people_involved: Option<String>,
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    pub plate: Option<String>,
    pub department: Option<String>,
    pub department_id: Option<i64>,
    /// The store or branch it concerns.
    pub site: Option<String>,
    pub assignee: Option<String>,
    pub taken_over: bool,
    pub proposals: i64,
    pub tasks: i64,
    pub execution_done: bool,
    pub close_exception_pending: bool,
    pub satisfaction_score: Option<i64>,
    pub merged_into: Option<String>,
    pub updated_at: String,
    pub closed_at: Option<String>,
    /// Send back as `If-Match` to refuse acting on a stale view.
    pub version: i64,
    /// The actions the caller may take now.
    pub actions: Vec<String>,
    /// Who forwarded the case (R-IN-1), when a regulator, a consumer
    /// association or the press did.
    pub forwarded: Option<ForwardedView>,
    /// Possible duplicates, linked complaints and those merged into it (R-IN-3).
    #[serde(flatten)]
    pub related: crate::related::Related,
}

/// A case forwarded by a regulator, a consumer association or the press.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForwardedView {
    /// `12315`, `market_regulator`, `consumer_assoc`, `financial_regulator`,
    /// `hotline_12345` or `media`.
    pub body: String,
    /// The forwarding body's reference number.
    pub reference: Option<String>,
    /// The reply deadline it set (RFC 3339); also the `regulator_reply` deadline.
    pub reply_due_at: String,
}

impl ForwardedView {
    pub fn new(row: &kesu_storage::intake::ForwardedRow, tz: &TimeZone) -> ForwardedView {
        ForwardedView {
            body: row.body.clone(),
            reference: row.reference.clone(),
            reply_due_at: rfc3339(row.reply_due_at, tz),
        }
    }
}

impl ComplaintView {
    pub fn new(row: &ComplaintRow, actor: &Actor, tz: &TimeZone) -> ComplaintView {
        let contact = |v: &Option<String>| contact_for(actor, v.as_deref());
        let actions = row
            .to_domain()
            .map(|c| {
                c.available_actions(actor)
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        ComplaintView {
            number: row.number.clone(),
            state: row.state.clone(),
            channel: row.channel.clone(),
            received_at: rfc3339(row.received_at, tz),
            category: row.category.clone(),
            severity: row.severity.clone(),
            signals: row
                .signal_list()
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            deadlines: Vec::new(),
            urgent: row.urgent,
            customer: CustomerView {
                name: row.customer_name.clone(),
                phone: contact(&row.customer_phone),
                email: contact(&row.customer_email),
            },
            description: row.description.clone(),
            restatement: row.restatement.clone(),
            event_time: row.event_time.clone(),
            event_place: row.event_place.clone(),
            people_involved: row.people_involved.clone(),
            subject: row.subject.clone(),
            order_ref: row.order_ref.clone(),
            plate: row.plate.clone(),
            department: row.department_name.clone(),
            department_id: row.department_id,
            site: row.site_name.clone(),
            assignee: row.assignee_name.clone(),
            taken_over: row.taken_over,
            proposals: row.proposals,
            tasks: row.tasks,
            execution_done: row.execution_done,
            close_exception_pending: row.close_exception_pending,
            satisfaction_score: row.satisfaction_score,
            merged_into: row.merged_into_number.clone(),
            updated_at: rfc3339(row.updated_at, tz),
            closed_at: row.closed_at.map(|t| rfc3339(t, tz)),
            version: row.version,
            actions,
            forwarded: None,
            related: crate::related::Related::default(),
        }
    }
}

/// A complaint in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListItemView {
    pub number: String,
    pub state: String,
    pub channel: String,
    pub received_at: String,
    pub customer_name: String,
    pub category: Option<String>,
    pub severity: String,
    pub urgent: bool,
    pub department: Option<String>,
    pub assignee: Option<String>,
    /// The first 80 characters of the customer's words.
    pub summary: String,
}

impl ListItemView {
    pub fn new(r: &ListRow, tz: &TimeZone) -> Self {
        ListItemView {
            number: r.number.clone(),
            state: r.state.clone(),
            channel: r.channel.clone(),
            received_at: rfc3339(r.received_at, tz),
            customer_name: r.customer_name.clone(),
            category: r.category.clone(),
            severity: r.severity.clone(),
            urgent: r.urgent,
            department: r.department_name.clone(),
            assignee: r.assignee_name.clone(),
            summary: summary(&r.description, 80),
        }
    }
}

/// The first `n` characters, with an ellipsis when cut.
pub fn summary(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    pub items: Vec<ListItemView>,
    pub page: u32,
    pub per_page: u32,
    pub has_next: bool,
}

/// One entry of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    /// Event code, e.g. `dispatched`.
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: Option<String>,
    pub at: String,
    /// The event's own fields.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl EventView {
    pub fn new(e: &EventRow, tz: &TimeZone) -> Self {
        EventView {
            seq: e.seq,
            kind: e.kind.clone(),
            from_state: e.from_state.clone(),
            to_state: e.to_state.clone(),
            actor: e.actor_name.clone(),
            at: rfc3339(e.at, tz),
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalView {
    pub round: i64,
    pub measures: String,
    pub owner: String,
    pub due_at: String,
    pub follow_up: String,
    pub compensation_yuan: f64,
    /// `pending`, `accepted`, `rejected`, `approved`, `declined`.
    pub status: String,
    pub customer_words: Option<String>,
}

impl ProposalView {
    pub fn new(p: &ProposalRow, tz: &TimeZone) -> Self {
        #[expect(clippy::cast_precision_loss, reason = "amounts far below 2^52 fen")]
        let yuan = p.compensation_fen as f64 / 100.0;
        ProposalView {
            round: p.round,
            measures: p.measures.clone(),
            owner: p.owner.clone(),
            due_at: rfc3339(p.due_at, tz),
            follow_up: p.follow_up.clone(),
            compensation_yuan: yuan,
            status: p.status.clone(),
            customer_words: p.customer_words.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub seq: i64,
    pub department: String,
    pub owner: Option<String>,
    pub title: String,
    pub due_at: Option<String>,
    pub done: bool,
    pub result: Option<String>,
}

impl TaskView {
    pub fn new(t: &TaskRow, tz: &TimeZone) -> Self {
        TaskView {
            seq: t.seq,
            department: t.department_name.clone(),
            owner: t.owner_name.clone(),
            title: t.title.clone(),
            due_at: t.due_at.map(|d| rfc3339(d, tz)),
            done: t.done,
            result: t.result.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: String,
}

impl AttachmentView {
    pub fn new(a: &AttachmentRow, tz: &TimeZone) -> Self {
        AttachmentView {
            id: a.id,
            kind: a.kind.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            uploaded_at: rfc3339(a.uploaded_at, tz),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_enough_to_recognise_and_hides_the_rest() {
        assert_eq!(mask("13800138000"), "138****8000");
        assert_eq!(mask("wang@example.cn"), "w***@example.cn");
        assert_eq!(mask("123"), "***");
    }
}
