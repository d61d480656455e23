//! The complaint lifecycle (SPEC "Lifecycle", R-HD, R-FB): a state machine fed
//! commands, an actor and the time, answering with events or a refusal.
//!
//! ```text
//! received ─► registered ─► dispatched ─► in_progress ─► proposed ─► (awaiting_approval) ─► executing ─► fed_back ─► follow_up ─► closed
//!                                             ▲              │ customer rejects                              │ not satisfied
//!                                             └──────────────┴───────────────────────────────────────────────┴──► reopened
//! ```
//! Any open complaint may also be merged, withdrawn or (early on) rejected.
//!
//! [`Complaint::decide`] checks the role, the department and the state and
//! returns the events to record; [`Complaint::apply`] folds an event into the
//! projection. Storage writes both in one transaction with a version check.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::access::{Acting, Actor};
use crate::codes::{
    AttachmentKind, Channel, ContactMethod, FollowUpOutcome, Role, Severity, Signal, State,
};
use crate::ids::{AttachmentId, ComplaintId, DepartmentId, UserId};
use crate::policy::Policy;

/// The current proposal of a complaint, as far as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentProposal {
    /// 1 for the first proposal, 2 after the customer rejected it, …
    pub round: i32,
    pub compensation_fen: i64,
}

/// The projection of a complaint that the rules decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub id: ComplaintId,
    pub state: State,
    pub severity: Severity,
    pub category: Option<String>,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    /// The general manager took the case over (R-HD-7).
    pub taken_over: bool,
    /// How many proposals were made so far.
    pub proposals: i32,
    pub current_proposal: Option<CurrentProposal>,
    /// How many sub-tasks were created so far.
    pub tasks: i32,
    pub execution_done: bool,
    pub agreement_attached: bool,
    /// A close with an exception waits for the general manager (R-FB-5).
    pub close_exception_pending: bool,
    /// The last follow-up visit found the customer satisfied.
    pub satisfied: bool,
    /// Bumped by every change; a stale version is a conflict.
    pub version: i64,
}

impl Complaint {
    /// A complaint as it is created: `received` when another department or a
    /// channel takes it in, `registered` when customer service does.
    pub fn new(id: ComplaintId, state: State) -> Self {
        Complaint {
            id,
            state,
            severity: Severity::General,
            category: None,
            department_id: None,
            assignee_id: None,
            taken_over: false,
            proposals: 0,
            current_proposal: None,
            tasks: 0,
            execution_done: false,
            agreement_attached: false,
            close_exception_pending: false,
            satisfied: false,
            version: 0,
        }
    }

    /// The first event of a complaint taken in by `actor` on `channel`.
    pub fn intake_event(actor: Option<&Actor>, channel: Channel) -> Event {
        if actor.is_some_and(|a| a.has(Role::Agent)) {
            Event::Registered { channel }
        } else {
            Event::Received { channel }
        }
    }
}

/// A sub-task as the rules need to know it (R-HD-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFacts {
    pub seq: i32,
    pub department_id: DepartmentId,
    pub owner_id: Option<UserId>,
    pub done: bool,
}

/// What someone asks to do with a complaint. Ids named in a command were
/// looked up by the caller; the facts the rules need come with them.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Customer service completes the registration of a received complaint
    /// (the channel it came in by is kept).
    Register {
        channel: Channel,
    },
    Classify {
        category: String,
        severity: Severity,
        signals: Vec<Signal>,
        reason: Option<String>,
    },
    /// `assignee` with the department the person belongs to.
    Dispatch {
        department_id: DepartmentId,
        assignee: Option<(UserId, Option<DepartmentId>)>,
    },
    LogContact {
        method: ContactMethod,
        summary: String,
    },
    AddNote {
        text: String,
        consulted: Option<String>,
        root_cause: Option<String>,
        customer_expects: Option<String>,
    },
    Propose {
        measures: String,
        owner: String,
        due_at: Timestamp,
        follow_up: String,
        compensation_fen: i64,
    },
    AnswerProposal {
        round: i32,
        accepted: bool,
        customer_words: String,
    },
    Approve {
        approved: bool,
        comment: Option<String>,
    },
    TakeOver,
    RecordExecution {
        progress: String,
        completed: bool,
    },
    CreateTask {
        department_id: DepartmentId,
        owner: Option<(UserId, Option<DepartmentId>)>,
        title: String,
        due_at: Option<Timestamp>,
    },
    CompleteTask {
        task: TaskFacts,
        result: String,
    },
    FeedBack {
        method: ContactMethod,
        content: String,
    },
    FollowUp {
        outcome: FollowUpOutcome,
        score: Option<u8>,
        comment: Option<String>,
    },
    /// Close; with a reason, as an exception that the general manager approves.
    Close {
        exception_reason: Option<String>,
    },
    Reopen {
        reason: String,
    },
    /// Merge into another open complaint, given by its number and whether it is open.
    Merge {
        into_number: String,
        into_id: ComplaintId,
        into_open: bool,
    },
    Withdraw {
        reason: String,
    },
    Reject {
        reason: String,
    },
    Attach {
        attachment_id: AttachmentId,
        kind: AttachmentKind,
        filename: String,
        size: i64,
    },
    /// Corrects registration details (never the customer's own words); each
    /// change carries the value it replaces, so the history keeps both.
    Amend {
        changes: Vec<Change>,
    },
    /// The customer writes again about the complaint (a further e-mail, and
    /// later a follower's further message on WeChat). Only the customer does
    /// this; staff record what the customer said as a contact.
    CustomerWrite {
        channel: Channel,
        subject: Option<String>,
        text: String,
    },
}

/// What the classification engine proposed on arrival (R-CL-1, R-CL-2):
/// a suggestion that customer service confirms or corrects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposed {
    /// The likeliest categories, best first, with confidence in percent.
    pub categories: Vec<(String, u8)>,
    pub severity: Severity,
    /// Each signal that fired and the words that fired it.
    pub signals: Vec<(Signal, String)>,
    /// The desk's sub-category below the best category whose keyword
    /// phrases the words match best, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<ProposedSubcategory>,
}

/// A sub-category proposed by its keyword phrases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedSubcategory {
    pub code: String,
    /// Its phrases found in the complaint's words.
    pub phrases: Vec<String>,
}

/// A registration detail that can be corrected after registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailField {
    Restatement,
    EventTime,
    EventPlace,
    PeopleInvolved,
    Subject,
    OrderRef,
    Plate,
    Urgent,
}

impl DetailField {
    pub const ALL: &'static [DetailField] = &[
        DetailField::Restatement,
        DetailField::EventTime,
        DetailField::EventPlace,
        DetailField::PeopleInvolved,
        DetailField::Subject,
        DetailField::OrderRef,
        DetailField::Plate,
        DetailField::Urgent,
    ];

    /// The field's code (also its column and its catalog key `field.<code>`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DetailField::Restatement => "restatement",
            DetailField::EventTime => "event_time",
            DetailField::EventPlace => "event_place",
            DetailField::PeopleInvolved => "people_involved",
            DetailField::Subject => "subject",
            DetailField::OrderRef => "order_ref",
            DetailField::Plate => "plate",
            DetailField::Urgent => "urgent",
        }
    }
}

/// One corrected detail: what it was and what it is now (`None`: empty;
/// for `urgent`, `"true"` or `"false"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: DetailField,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A command without its payload: what the UI offers as buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Register,
    Classify,
    Dispatch,
    LogContact,
    AddNote,
    Propose,
    AnswerProposal,
    Approve,
    TakeOver,
    RecordExecution,
    CreateTask,
    CompleteTask,
    FeedBack,
    FollowUp,
    Close,
    Reopen,
    Merge,
    Withdraw,
    Reject,
    Attach,
    Amend,
    CustomerWrite,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Register,
        Action::Classify,
        Action::Dispatch,
        Action::LogContact,
        Action::AddNote,
        Action::Propose,
        Action::AnswerProposal,
        Action::Approve,
        Action::TakeOver,
        Action::RecordExecution,
        Action::CreateTask,
        Action::CompleteTask,
        Action::FeedBack,
        Action::FollowUp,
        Action::Close,
        Action::Reopen,
        Action::Merge,
        Action::Withdraw,
        Action::Reject,
        Action::Attach,
        Action::Amend,
        Action::CustomerWrite,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Classify => "classify",
            Action::Dispatch => "dispatch",
            Action::LogContact => "log_contact",
            Action::AddNote => "add_note",
            Action::Propose => "propose",
            Action::AnswerProposal => "answer_proposal",
            Action::Approve => "approve",
            Action::TakeOver => "take_over",
            Action::RecordExecution => "record_execution",
            Action::CreateTask => "create_task",
            Action::CompleteTask => "complete_task",
            Action::FeedBack => "feed_back",
            Action::FollowUp => "follow_up",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Merge => "merge",
            Action::Withdraw => "withdraw",
            Action::Reject => "reject",
            Action::Attach => "attach",
            Action::Amend => "amend",
            Action::CustomerWrite => "customer_write",
        }
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Register { .. } => Action::Register,
            Command::Classify { .. } => Action::Classify,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::LogContact { .. } => Action::LogContact,
            Command::AddNote { .. } => Action::AddNote,
            Command::Propose { .. } => Action::Propose,
            Command::AnswerProposal { .. } => Action::AnswerProposal,
            Command::Approve { .. } => Action::Approve,
            Command::TakeOver => Action::TakeOver,
            Command::RecordExecution { .. } => Action::RecordExecution,
            Command::CreateTask { .. } => Action::CreateTask,
            Command::CompleteTask { .. } => Action::CompleteTask,
            Command::FeedBack { .. } => Action::FeedBack,
            Command::FollowUp { .. } => Action::FollowUp,
            Command::Close { .. } => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
            Command::Merge { .. } => Action::Merge,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Reject { .. } => Action::Reject,
            Command::Attach { .. } => Action::Attach,
            Command::Amend { .. } => Action::Amend,
            Command::CustomerWrite { .. } => Action::CustomerWrite,
        }
    }
}

/// What the approval decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "subject", rename_all = "snake_case")]
pub enum ApprovalSubject {
    Proposal { round: i32 },
    CloseException,
}

/// Something that happened to a complaint. The history is the list of these,
/// appended and never rewritten (R-GV-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Received {
        channel: Channel,
    },
    Registered {
        channel: Channel,
    },
    /// Category (None: severity marked at registration before a category
    /// was chosen), severity and the signals that make it major.
    Classified {
        category: Option<String>,
        severity: Severity,
        signals: Vec<Signal>,
        reason: Option<String>,
    },
    Dispatched {
        department_id: DepartmentId,
        assignee_id: Option<UserId>,
    },
    /// The responsible person starts (or resumes) the handling: `in_progress`.
    HandlingStarted,
    ContactLogged {
        method: ContactMethod,
        summary: String,
    },
    NoteAdded {
        text: String,
        consulted: Option<String>,
        root_cause: Option<String>,
        customer_expects: Option<String>,
    },
    Proposed {
        round: i32,
        measures: String,
        owner: String,
        due_at: Timestamp,
        follow_up: String,
        compensation_fen: i64,
    },
    ProposalAnswered {
        round: i32,
        accepted: bool,
        customer_words: String,
        needs_approval: bool,
        /// The customer answered themself on the portal (not staff on their
        /// behalf); absent in older history, which means staff.
        #[serde(default, skip_serializing_if = "is_false")]
        by_customer: bool,
    },
    ApprovalDecided {
        #[serde(flatten)]
        subject: ApprovalSubject,
        approved: bool,
        comment: Option<String>,
    },
    TakenOver {
        by: UserId,
    },
    ExecutionRecorded {
        progress: String,
        completed: bool,
    },
    TaskCreated {
        seq: i32,
        department_id: DepartmentId,
        owner_id: Option<UserId>,
        title: String,
        due_at: Option<Timestamp>,
    },
    TaskCompleted {
        seq: i32,
        result: String,
    },
    FedBack {
        method: ContactMethod,
        content: String,
    },
    FollowedUp {
        outcome: FollowUpOutcome,
        score: Option<u8>,
        comment: Option<String>,
        /// The customer answered the survey themself on the portal.
        #[serde(default, skip_serializing_if = "is_false")]
        by_customer: bool,
    },
    CloseExceptionRequested {
        reason: String,
    },
    Closed {
        exception_reason: Option<String>,
    },
    Reopened {
        reason: String,
    },
    Merged {
        into_number: String,
        into_id: ComplaintId,
    },
    Withdrawn {
        reason: String,
    },
    Rejected {
        reason: String,
    },
    AttachmentAdded {
        attachment_id: AttachmentId,
        attachment_kind: AttachmentKind,
        filename: String,
        size: i64,
    },
    DetailsAmended {
        changes: Vec<Change>,
    },
    /// The engine's proposal on arrival; recorded without an actor.
    ClassificationProposed {
        #[serde(flatten)]
        proposed: Proposed,
    },
    /// The customer wrote again (来信): a further e-mail on the complaint,
    /// by whatever channel it came. Recorded without an actor.
    CustomerWrote {
        channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        text: String,
    },
    /// A file that came with the customer's message was not kept (too
    /// large, a type the desk does not accept, too many): the message itself
    /// was filed. `reason` is `too_large`, `unsupported_type`, `empty` or
    /// `too_many`. Recorded without an actor.
    AttachmentRefused {
        filename: String,
        reason: String,
    },
}

impl Event {
    /// The words this event adds to what the complaint can be found by
    /// (notes, contacts, the customer's answers, corrected details …).
    pub fn searchable_text(&self) -> Vec<&str> {
        fn opt(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("")
        }
        match self {
            Event::ContactLogged { summary, .. } => vec![summary.as_str()],
            Event::NoteAdded {
                text,
                consulted,
                root_cause,
                customer_expects,
            } => vec![
                text.as_str(),
                opt(consulted),
                opt(root_cause),
                opt(customer_expects),
            ],
            Event::Proposed {
                measures, owner, ..
            } => vec![measures.as_str(), owner.as_str()],
            Event::ProposalAnswered { customer_words, .. } => vec![customer_words.as_str()],
            Event::ApprovalDecided { comment, .. } => vec![opt(comment)],
            Event::ExecutionRecorded { progress, .. } => vec![progress.as_str()],
            Event::TaskCreated { title, .. } => vec![title.as_str()],
            Event::TaskCompleted { result, .. } => vec![result.as_str()],
            Event::FedBack { content, .. } => vec![content.as_str()],
            Event::FollowedUp { comment, .. } => vec![opt(comment)],
            Event::CloseExceptionRequested { reason }
            | Event::Reopened { reason }
            | Event::Withdrawn { reason }
            | Event::Rejected { reason } => vec![reason.as_str()],
            Event::AttachmentAdded { filename, .. } | Event::AttachmentRefused { filename, .. } => {
                vec![filename.as_str()]
            }
            Event::CustomerWrote { subject, text, .. } => vec![opt(subject), text.as_str()],
            Event::DetailsAmended { changes } => {
                changes.iter().filter_map(|c| c.to.as_deref()).collect()
            }
            _ => Vec::new(),
        }
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect()
    }

    /// The stable code of the event (its `kind` in JSON and storage).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Received { .. } => "received",
            Event::Registered { .. } => "registered",
            Event::Classified { .. } => "classified",
            Event::Dispatched { .. } => "dispatched",
            Event::HandlingStarted => "handling_started",
            Event::ContactLogged { .. } => "contact_logged",
            Event::NoteAdded { .. } => "note_added",
            Event::Proposed { .. } => "proposed",
            Event::ProposalAnswered { .. } => "proposal_answered",
            Event::ApprovalDecided { .. } => "approval_decided",
            Event::TakenOver { .. } => "taken_over",
            Event::ExecutionRecorded { .. } => "execution_recorded",
            Event::TaskCreated { .. } => "task_created",
            Event::TaskCompleted { .. } => "task_completed",
            Event::FedBack { .. } => "fed_back",
            Event::FollowedUp { .. } => "followed_up",
            Event::CloseExceptionRequested { .. } => "close_exception_requested",
            Event::Closed { .. } => "closed",
            Event::Reopened { .. } => "reopened",
            Event::Merged { .. } => "merged",
            Event::Withdrawn { .. } => "withdrawn",
            Event::Rejected { .. } => "rejected",
            Event::AttachmentAdded { .. } => "attachment_added",
            Event::DetailsAmended { .. } => "details_amended",
            Event::ClassificationProposed { .. } => "classification_proposed",
            Event::CustomerWrote { .. } => "customer_wrote",
            Event::AttachmentRefused { .. } => "attachment_refused",
        }
    }
}

/// Why a command was refused. Each has a stable code that the web layer
/// translates and maps to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The role or department may not do this (403).
    #[error("not permitted to {0:?}")]
    NotPermitted(Action),
    /// Not in this state (409).
    #[error("cannot {action:?} a complaint that is {state}")]
    IllegalInState { action: Action, state: State },
    #[error("classify the complaint before dispatching it")]
    NotClassified,
    #[error("the person does not belong to that department")]
    AssigneeNotInDepartment,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the due time is in the past")]
    DueInPast,
    #[error("attach the signed agreement first")]
    AgreementRequired,
    #[error("record the execution as completed first")]
    ExecutionNotDone,
    #[error("the customer has not said they are satisfied")]
    NotSatisfied,
    #[error("no proposal {0} is waiting for an answer")]
    NoSuchProposal(i32),
    #[error("the task is already done")]
    TaskDone,
    #[error("a complaint cannot be merged into itself")]
    MergeIntoItself,
    #[error("the target complaint is not open")]
    MergeTargetClosed,
    #[error("the general manager already handles this complaint")]
    AlreadyTakenOver,
    #[error("a close exception is already waiting for approval")]
    ExceptionPending,
    #[error("nothing was changed")]
    NothingChanged,
}

/// How the web layer should answer a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalClass {
    Forbidden,
    Conflict,
    Invalid,
}

impl Refusal {
    /// The stable code (catalog key and problem type).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotPermitted(_) => "not_permitted",
            Refusal::IllegalInState { .. } => "illegal_transition",
            Refusal::NotClassified => "not_classified",
            Refusal::AssigneeNotInDepartment => "assignee_not_in_department",
            Refusal::ReasonRequired => "reason_required",
            Refusal::DueInPast => "due_in_past",
            Refusal::AgreementRequired => "agreement_required",
            Refusal::ExecutionNotDone => "execution_not_done",
            Refusal::NotSatisfied => "not_satisfied",
            Refusal::NoSuchProposal(_) => "no_such_proposal",
            Refusal::TaskDone => "task_done",
            Refusal::MergeIntoItself => "merge_into_itself",
            Refusal::MergeTargetClosed => "merge_target_closed",
            Refusal::AlreadyTakenOver => "already_taken_over",
            Refusal::ExceptionPending => "exception_pending",
            Refusal::NothingChanged => "nothing_changed",
        }
    }

    pub fn class(&self) -> RefusalClass {
        match self {
            Refusal::NotPermitted(_) => RefusalClass::Forbidden,
            Refusal::AssigneeNotInDepartment
            | Refusal::ReasonRequired
            | Refusal::DueInPast
            | Refusal::MergeIntoItself
            | Refusal::NothingChanged => RefusalClass::Invalid,
            _ => RefusalClass::Conflict,
        }
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(b: &bool) -> bool {
    !*b
}

impl Complaint {
    /// Whether the actor handles this complaint: the general manager, the
    /// assigned person, or a manager of the department it is dispatched to.
    pub fn is_handler(&self, actor: &Actor) -> bool {
        actor.has(Role::Gm)
            || (self.assignee_id.is_some() && self.assignee_id == Some(actor.user_id))
            || (actor.has(Role::Manager)
                && actor.department_id.is_some()
                && actor.department_id == self.department_id)
    }

    fn permitted(&self, action: Action, by: Acting<'_>) -> bool {
        let Acting::Staff(actor) = by else {
            // The customer answers what waits for them and writes again,
            // nothing else.
            return matches!(
                action,
                Action::AnswerProposal | Action::FollowUp | Action::CustomerWrite
            );
        };
        let cs = actor.has(Role::Agent);
        let sup = actor.has(Role::Supervisor);
        let gm = actor.has(Role::Gm);
        match action {
            Action::Register => cs,
            Action::Classify
            | Action::Dispatch
            | Action::Reopen
            | Action::Merge
            | Action::Withdraw
            | Action::Reject => cs || sup || gm,
            Action::LogContact | Action::AnswerProposal | Action::FeedBack => {
                cs || self.is_handler(actor)
            }
            Action::AddNote | Action::Attach => cs || sup || self.is_handler(actor),
            Action::Amend => cs || self.is_handler(actor),
            Action::Propose | Action::RecordExecution | Action::CreateTask => {
                self.is_handler(actor)
            }
            // Task owners are checked against the task itself in `decide`.
            Action::CompleteTask => gm || actor.has(Role::Manager) || cs,
            Action::Approve | Action::TakeOver => gm,
            Action::FollowUp => cs || sup,
            Action::Close => cs || sup || gm,
            // Staff record what the customer said as a contact or a note.
            Action::CustomerWrite => false,
        }
    }

    fn legal_in_state(&self, action: Action) -> bool {
        use State::*;
        let s = self.state;
        match action {
            Action::Register => s == Received,
            Action::Classify
            | Action::LogContact
            | Action::AddNote
            | Action::Merge
            | Action::Withdraw
            | Action::CompleteTask => !s.is_terminal(),
            Action::Dispatch => matches!(s, Registered | Reopened | Dispatched | InProgress),
            Action::Propose => {
                matches!(s, Dispatched | InProgress | Reopened) && self.department_id.is_some()
            }
            Action::AnswerProposal => s == Proposed,
            Action::Approve => {
                s == AwaitingApproval || (self.close_exception_pending && !s.is_terminal())
            }
            Action::TakeOver => matches!(
                s,
                Registered
                    | Dispatched
                    | InProgress
                    | Proposed
                    | AwaitingApproval
                    | Executing
                    | Reopened
            ),
            Action::RecordExecution => s == Executing,
            Action::CreateTask => matches!(
                s,
                Dispatched | InProgress | Proposed | AwaitingApproval | Executing | Reopened
            ),
            Action::FeedBack => s == Executing,
            Action::FollowUp => matches!(s, FedBack | FollowUp),
            Action::Close => !s.is_terminal(),
            Action::Reopen => matches!(s, FedBack | FollowUp | Closed),
            Action::Reject => matches!(s, Received | Registered | Dispatched | InProgress),
            Action::Attach => !matches!(s, Merged | Rejected),
            Action::Amend => !s.is_terminal(),
            // A closed complaint is done and a merged one lives on in its
            // target: the caller files the message elsewhere (see
            // kesu-web's mail module). A withdrawn or rejected complaint
            // still hears from its customer, who may disagree.
            Action::CustomerWrite => !matches!(s, Closed | Merged),
        }
    }

    /// Checks role, department and state for an action, without its payload.
    ///
    /// # Errors
    /// [`Refusal::NotPermitted`] or [`Refusal::IllegalInState`].
    pub fn check<'a>(&self, action: Action, by: impl Into<Acting<'a>>) -> Result<(), Refusal> {
        if !self.permitted(action, by.into()) {
            return Err(Refusal::NotPermitted(action));
        }
        if !self.legal_in_state(action) {
            return Err(Refusal::IllegalInState {
                action,
                state: self.state,
            });
        }
        Ok(())
    }

    /// The actions this person may take now: exactly the buttons to show.
    pub fn available_actions<'a>(&self, by: impl Into<Acting<'a>>) -> Vec<Action> {
        let by = by.into();
        Action::ALL
            .iter()
            .copied()
            .filter(|a| self.check(*a, by).is_ok())
            .filter(|a| self.ready_for(*a))
            .collect()
    }

    /// Payload-independent preconditions beyond the state, used to hide
    /// buttons that would only be refused.
    fn ready_for(&self, action: Action) -> bool {
        match action {
            Action::Dispatch => self.category.is_some(),
            Action::FeedBack => self.execution_done,
            Action::TakeOver => !self.taken_over,
            Action::CompleteTask => self.tasks > 0,
            _ => true,
        }
    }

    /// Decides a command: the events to record, or why not.
    ///
    /// # Errors
    /// A [`Refusal`] when the actor may not, the state does not allow it, or
    /// the payload breaks a rule.
    /// `by` is a staff member (`&Actor`) or [`Acting::Customer`].
    pub fn decide<'a>(
        &self,
        command: Command,
        by: impl Into<Acting<'a>>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<Event>, Refusal> {
        let by = by.into();
        let action = command.action();
        self.check(action, by)?;
        let staff = || by.staff().ok_or(Refusal::NotPermitted(action));
        let event = match command {
            Command::Register { channel } => Event::Registered { channel },
            Command::Classify {
                category,
                severity,
                signals,
                reason,
            } => {
                let downgrade = self.severity == Severity::Major && severity == Severity::General;
                if downgrade && reason.as_deref().is_none_or(blank) {
                    return Err(Refusal::ReasonRequired);
                }
                Event::Classified {
                    category: Some(category),
                    severity,
                    signals,
                    reason,
                }
            }
            Command::Dispatch {
                department_id,
                assignee,
            } => {
                if self.category.is_none() {
                    return Err(Refusal::NotClassified);
                }
                if let Some((_, dept)) = assignee
                    && dept != Some(department_id)
                {
                    return Err(Refusal::AssigneeNotInDepartment);
                }
                Event::Dispatched {
                    department_id,
                    assignee_id: assignee.map(|(u, _)| u),
                }
            }
            Command::LogContact { method, summary } => Event::ContactLogged { method, summary },
            Command::AddNote {
                text,
                consulted,
                root_cause,
                customer_expects,
            } => Event::NoteAdded {
                text,
                consulted,
                root_cause,
                customer_expects,
            },
            Command::Propose {
                measures,
                owner,
                due_at,
                follow_up,
                compensation_fen,
            } => {
                if due_at <= now {
                    return Err(Refusal::DueInPast);
                }
                Event::Proposed {
                    round: self.proposals + 1,
                    measures,
                    owner,
                    due_at,
                    follow_up,
                    compensation_fen,
                }
            }
            Command::AnswerProposal {
                round,
                accepted,
                customer_words,
            } => {
                let current = self
                    .current_proposal
                    .filter(|p| p.round == round)
                    .ok_or(Refusal::NoSuchProposal(round))?;
                let needs_approval = self.severity == Severity::Major
                    || current.compensation_fen > policy.approval_limit_fen;
                Event::ProposalAnswered {
                    round,
                    accepted,
                    customer_words,
                    needs_approval,
                    by_customer: by.is_customer(),
                }
            }
            Command::Approve { approved, comment } => {
                let subject = if self.state == State::AwaitingApproval {
                    ApprovalSubject::Proposal {
                        round: self.current_proposal.map_or(self.proposals, |p| p.round),
                    }
                } else {
                    ApprovalSubject::CloseException
                };
                if !approved && comment.as_deref().is_none_or(blank) {
                    return Err(Refusal::ReasonRequired);
                }
                Event::ApprovalDecided {
                    subject,
                    approved,
                    comment,
                }
            }
            Command::TakeOver => {
                if self.taken_over {
                    return Err(Refusal::AlreadyTakenOver);
                }
                Event::TakenOver {
                    by: staff()?.user_id,
                }
            }
            Command::RecordExecution {
                progress,
                completed,
            } => {
                let compensation = self
                    .current_proposal
                    .is_some_and(|p| p.compensation_fen > 0);
                if completed
                    && (self.severity == Severity::Major || compensation)
                    && !self.agreement_attached
                {
                    return Err(Refusal::AgreementRequired);
                }
                Event::ExecutionRecorded {
                    progress,
                    completed,
                }
            }
            Command::CreateTask {
                department_id,
                owner,
                title,
                due_at,
            } => {
                if let Some((_, dept)) = owner
                    && dept != Some(department_id)
                {
                    return Err(Refusal::AssigneeNotInDepartment);
                }
                if due_at.is_some_and(|d| d <= now) {
                    return Err(Refusal::DueInPast);
                }
                Event::TaskCreated {
                    seq: self.tasks + 1,
                    department_id,
                    owner_id: owner.map(|(u, _)| u),
                    title,
                    due_at,
                }
            }
            Command::CompleteTask { task, result } => {
                let actor = staff()?;
                let owns = task.owner_id == Some(actor.user_id)
                    || actor.has(Role::Gm)
                    || (actor.has(Role::Manager)
                        && actor.department_id == Some(task.department_id))
                    || self.is_handler(actor);
                if !owns {
                    return Err(Refusal::NotPermitted(action));
                }
                if task.done {
                    return Err(Refusal::TaskDone);
                }
                Event::TaskCompleted {
                    seq: task.seq,
                    result,
                }
            }
            Command::FeedBack { method, content } => {
                if !self.execution_done {
                    return Err(Refusal::ExecutionNotDone);
                }
                Event::FedBack { method, content }
            }
            Command::FollowUp {
                outcome,
                score,
                comment,
            } => {
                // Only staff can find the customer unreachable.
                if by.is_customer() && outcome == FollowUpOutcome::Unreachable {
                    return Err(Refusal::NotPermitted(action));
                }
                Event::FollowedUp {
                    outcome,
                    score,
                    comment,
                    by_customer: by.is_customer(),
                }
            }
            Command::Close {
                exception_reason: None,
            } => {
                if self.state != State::FollowUp || !self.satisfied {
                    return Err(Refusal::NotSatisfied);
                }
                Event::Closed {
                    exception_reason: None,
                }
            }
            Command::Close {
                exception_reason: Some(reason),
            } => {
                if blank(&reason) {
                    return Err(Refusal::ReasonRequired);
                }
                if staff()?.has(Role::Gm) {
                    Event::Closed {
                        exception_reason: Some(reason),
                    }
                } else if self.close_exception_pending {
                    return Err(Refusal::ExceptionPending);
                } else {
                    Event::CloseExceptionRequested { reason }
                }
            }
            Command::Reopen { reason }
            | Command::Withdraw { reason }
            | Command::Reject { reason }
                if blank(&reason) =>
            {
                return Err(Refusal::ReasonRequired);
            }
            Command::Reopen { reason } => Event::Reopened { reason },
            Command::Withdraw { reason } => Event::Withdrawn { reason },
            Command::Reject { reason } => Event::Rejected { reason },
            Command::Merge {
                into_number,
                into_id,
                into_open,
            } => {
                if into_id == self.id {
                    return Err(Refusal::MergeIntoItself);
                }
                if !into_open {
                    return Err(Refusal::MergeTargetClosed);
                }
                Event::Merged {
                    into_number,
                    into_id,
                }
            }
            Command::Attach {
                attachment_id,
                kind,
                filename,
                size,
            } => Event::AttachmentAdded {
                attachment_id,
                attachment_kind: kind,
                filename,
                size,
            },
            Command::Amend { changes } => {
                let changes: Vec<Change> = changes.into_iter().filter(|c| c.from != c.to).collect();
                if changes.is_empty() {
                    return Err(Refusal::NothingChanged);
                }
                Event::DetailsAmended { changes }
            }
            Command::CustomerWrite {
                channel,
                subject,
                text,
            } => Event::CustomerWrote {
                channel,
                subject,
                text,
            },
        };
        // The handler's first contact or note starts the handling (R-HD-3).
        let starts = matches!(event, Event::ContactLogged { .. } | Event::NoteAdded { .. })
            && matches!(self.state, State::Dispatched | State::Reopened)
            && self.department_id.is_some()
            && by.staff().is_some_and(|actor| self.is_handler(actor));
        Ok(if starts {
            vec![Event::HandlingStarted, event]
        } else {
            vec![event]
        })
    }

    /// Folds one event into the projection (and bumps nothing: the version is
    /// storage's). Events are facts: applying never fails.
    pub fn apply(&mut self, event: &Event) {
        use State::*;
        match event {
            Event::Received { .. } => self.state = Received,
            Event::Registered { .. } => self.state = Registered,
            Event::Classified {
                category, severity, ..
            } => {
                if category.is_some() {
                    self.category.clone_from(category);
                }
                self.severity = *severity;
            }
            Event::Dispatched {
                department_id,
                assignee_id,
            } => {
                self.department_id = Some(*department_id);
                self.assignee_id = *assignee_id;
                self.taken_over = false;
                self.state = Dispatched;
            }
            Event::HandlingStarted => self.state = InProgress,
            Event::ContactLogged { .. } | Event::NoteAdded { .. } => {}
            Event::Proposed {
                round,
                compensation_fen,
                ..
            } => {
                self.proposals = *round;
                self.current_proposal = Some(CurrentProposal {
                    round: *round,
                    compensation_fen: *compensation_fen,
                });
                self.state = Proposed;
            }
            Event::ProposalAnswered {
                accepted,
                needs_approval,
                ..
            } => {
                self.state = match (accepted, needs_approval) {
                    (false, _) => InProgress,
                    (true, true) => AwaitingApproval,
                    (true, false) => Executing,
                };
                if !accepted {
                    self.current_proposal = None;
                }
            }
            Event::ApprovalDecided {
                subject: ApprovalSubject::Proposal { .. },
                approved,
                ..
            } => {
                self.state = if *approved { Executing } else { InProgress };
                if !approved {
                    self.current_proposal = None;
                }
            }
            Event::ApprovalDecided {
                subject: ApprovalSubject::CloseException,
                approved,
                ..
            } => {
                self.close_exception_pending = false;
                if *approved {
                    self.state = Closed;
                }
            }
            Event::TakenOver { by } => {
                self.assignee_id = Some(*by);
                self.taken_over = true;
            }
            Event::ExecutionRecorded { completed, .. } => self.execution_done |= completed,
            Event::TaskCreated { seq, .. } => self.tasks = *seq,
            Event::TaskCompleted { .. } => {}
            Event::FedBack { .. } => {
                self.state = FedBack;
                self.satisfied = false;
            }
            Event::FollowedUp { outcome, .. } => match outcome {
                FollowUpOutcome::Satisfied => {
                    self.satisfied = true;
                    self.state = FollowUp;
                }
                FollowUpOutcome::Unreachable => self.state = FollowUp,
                FollowUpOutcome::NotSatisfied => self.reopen(),
            },
            Event::CloseExceptionRequested { .. } => self.close_exception_pending = true,
            Event::Closed { .. } => {
                self.close_exception_pending = false;
                self.state = Closed;
            }
            Event::Reopened { .. } => self.reopen(),
            Event::Merged { .. } => self.state = Merged,
            Event::Withdrawn { .. } => self.state = Withdrawn,
            Event::Rejected { .. } => self.state = Rejected,
            Event::AttachmentAdded {
                attachment_kind, ..
            } => {
                if *attachment_kind == AttachmentKind::Agreement {
                    self.agreement_attached = true;
                }
            }
            // The details are not part of what the rules decide on.
            Event::DetailsAmended { .. } => {}
            // Until someone classifies, the proposed severity stands, so a
            // proposed major complaint is treated (and listed) as major and
            // downgrading it needs a reason.
            Event::ClassificationProposed { proposed } => {
                if self.category.is_none() {
                    self.severity = proposed.severity;
                }
            }
            Event::CustomerWrote { .. } | Event::AttachmentRefused { .. } => {}
        }
    }

    fn reopen(&mut self) {
        self.state = State::Reopened;
        self.satisfied = false;
        self.execution_done = false;
        self.current_proposal = None;
        self.close_exception_pending = false;
    }
}

#[cfg(test)]
mod tests;
