//! Complaints: registration, the projection the rules decide on, the
//! append-only history, proposals, tasks and attachments.

use jiff::Timestamp;
use kesu_domain::codes::AttachmentKind;
use kesu_domain::complaint::{ApprovalSubject, Change, CurrentProposal, DetailField, Proposed};
use kesu_domain::input::ComplaintNumber;
use kesu_domain::{
    Actor, AttachmentId, Channel, Complaint, ComplaintId, DepartmentId, Event, Role, Severity,
    Signal, SiteId, State, UserId,
};
use serde::Serialize;

use crate::{Db, Result, StorageError, Tx, ms, on_db, on_tx};

/// The customer as given at registration.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A WeChat follower's openid (their id within the desk's Official
    /// Account): the customer is found by it, and it may be their only
    /// contact (staff registration still asks for a phone or an e-mail).
    pub wechat_openid: Option<String>,
}

/// Everything R-IN-2 records at registration.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub channel: Channel,
    pub received_at: Timestamp,
    /// The day of receipt in the desk's time zone, as `yyyymmdd`.
    pub day: u32,
    pub customer: CustomerInput,
    pub description: String,
    pub restatement: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    pub people_involved: Option<String>,
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    pub plate: Option<String>,
    pub urgent: bool,
    pub category: Option<String>,
    pub severity: Severity,
    pub signals: Vec<Signal>,
    /// Files handed in with the complaint (photos, receipts), already checked.
    pub attachments: Vec<NewAttachment>,
    /// The site it concerns; `None` for the first site (the group's own).
    pub site_id: Option<SiteId>,
    /// What the classification engine proposed, recorded before anything
    /// the registering person chose.
    pub proposal: Option<Proposed>,
    /// A case forwarded by a regulator, a consumer association or the press.
    pub forwarded: Option<Forwarded>,
}

/// Who forwarded a case, their reference and the reply deadline they set
/// (R-IN-1): the deadline becomes the `regulator_reply` clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarded {
    pub body: kesu_domain::ForwardingBody,
    pub reference: Option<String>,
    pub reply_due_at: Timestamp,
}

/// A checked file to store with a complaint.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub kind: AttachmentKind,
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A stored complaint with the names a page shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ComplaintRow {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub channel: String,
    pub received_at: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    /// The customer follows the desk's WeChat official account (came by it).
    pub customer_wechat: bool,
    pub description: String,
    pub restatement: Option<String>,
    pub event_time: Option<String>,
    pub event_place: Option<String>,
    pub people_involved: Option<String>,
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    pub plate: Option<String>,
    pub urgent: bool,
    pub category: Option<String>,
    pub severity: String,
    pub signals: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub taken_over: bool,
    pub proposals: i64,
    pub current_round: Option<i64>,
    pub current_compensation_fen: Option<i64>,
    pub tasks: i64,
    pub execution_done: bool,
    pub agreement_attached: bool,
    pub close_exception_pending: bool,
    pub satisfied: bool,
    pub satisfaction_score: Option<i64>,
    pub merged_into_number: Option<String>,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
}

const COMPLAINT_SELECT: &str = "SELECT c.id, c.number, c.state, c.channel, c.received_at, c.customer_id, \
    cu.name AS customer_name, cu.phone AS customer_phone, cu.email AS customer_email, \
    (cu.wechat_openid IS NOT NULL) AS customer_wechat, c.description, c.restatement, c.event_time, c.event_place, c.people_involved, c.subject, c.order_ref, c.plate, \
    c.urgent, c.category, c.severity, c.signals, c.department_id, d.name AS department_name, \
    c.assignee_id, u.display_name AS assignee_name, c.taken_over, c.proposals, c.current_round, c.current_compensation_fen, \
    c.tasks, c.execution_done, c.agreement_attached, c.close_exception_pending, c.satisfied, c.satisfaction_score, \
    m.number AS merged_into_number, c.updated_at, c.closed_at, c.version, c.site_id, si.name AS site_name \
    FROM complaints c JOIN customers cu ON cu.id = c.customer_id \
    LEFT JOIN sites si ON si.id = c.site_id \
    LEFT JOIN departments d ON d.id = c.department_id \
    LEFT JOIN users u ON u.id = c.assignee_id \
    LEFT JOIN complaints m ON m.id = c.merged_into_id";

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(what.to_owned())
}

impl ComplaintRow {
    /// The projection the domain rules decide on.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for codes the domain does not know.
    pub fn to_domain(&self) -> Result<Complaint> {
        Ok(Complaint {
            id: ComplaintId(self.id),
            state: self.state.parse().map_err(|_| corrupt("state"))?,
            severity: self.severity.parse().map_err(|_| corrupt("severity"))?,
            category: self.category.clone(),
            department_id: self.department_id.map(DepartmentId),
            assignee_id: self.assignee_id.map(UserId),
            taken_over: self.taken_over,
            proposals: i32::try_from(self.proposals).map_err(|_| corrupt("proposals"))?,
            current_proposal: match (self.current_round, self.current_compensation_fen) {
                (Some(r), Some(c)) => Some(CurrentProposal {
                    round: i32::try_from(r).map_err(|_| corrupt("round"))?,
                    compensation_fen: c,
                }),
                _ => None,
            },
            tasks: i32::try_from(self.tasks).map_err(|_| corrupt("tasks"))?,
            execution_done: self.execution_done,
            agreement_attached: self.agreement_attached,
            close_exception_pending: self.close_exception_pending,
            satisfied: self.satisfied,
            version: self.version,
        })
    }

    pub fn signal_list(&self) -> Vec<Signal> {
        self.signals
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

pub fn signals_text(signals: &[Signal]) -> String {
    signals
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// One entry of the history (timeline).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub at: i64,
    pub payload: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProposalRow {
    pub round: i64,
    pub measures: String,
    pub owner: String,
    pub due_at: i64,
    pub follow_up: String,
    pub compensation_fen: i64,
    pub status: String,
    pub customer_words: Option<String>,
    pub proposed_at: i64,
    pub answered_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TaskRow {
    pub seq: i64,
    pub department_id: i64,
    pub department_name: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub title: String,
    pub due_at: Option<i64>,
    pub done: bool,
    pub result: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: i64,
}

/// A file's bytes, for download.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentData {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A complaint in a list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub number: String,
    pub state: String,
    pub channel: String,
    pub received_at: i64,
    pub customer_name: String,
    pub category: Option<String>,
    pub severity: String,
    pub urgent: bool,
    pub department_name: Option<String>,
    pub assignee_name: Option<String>,
    pub description: String,
    /// The earliest due time of its running (not paused) clocks.
    pub next_due_at: Option<i64>,
}

/// Only complaints whose deadlines press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// A running clock is past its warning time (or due within two hours).
    Soon,
    /// A running clock is past its due time.
    Overdue,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest received first.
    #[default]
    Newest,
    /// The nearest deadline first; complaints without a running clock last.
    Urgency,
}

/// Which list: everything the person may see, or what waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Queue {
    /// The team queue: every complaint the person may see.
    #[default]
    Team,
    /// My work: what waits for an action of mine, by my roles.
    Mine,
}

/// Filters and paging for complaint lists.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub queue: Queue,
    pub state: Option<State>,
    pub department_id: Option<DepartmentId>,
    pub site_id: Option<SiteId>,
    pub severity: Option<Severity>,
    pub channel: Option<Channel>,
    /// Only open complaints (not closed, merged, withdrawn or rejected).
    pub open_only: bool,
    /// Only this customer's complaints (by their normalised phone number).
    pub customer_phone: Option<String>,
    /// Only complaints with all the words of this text (full-text search);
    /// the list is then newest-registered first.
    pub text: Option<String>,
    /// Only complaints whose deadlines press, as of `now`.
    pub due: Option<Due>,
    pub sort: Sort,
    /// Unix ms; what "soon" and "overdue" are measured against.
    pub now: i64,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

/// One page of a list, and whether another follows.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub has_next: bool,
}

/// A value bound to a dynamically built query.
enum Arg {
    I64(i64),
    Text(String),
}

struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn push(&mut self, clause: &str, arg: Arg) {
        self.push_all(clause, vec![arg]);
    }
    /// A clause with one `?` per argument, in order.
    fn push_all(&mut self, clause: &str, args: Vec<Arg>) {
        let mut numbered = String::with_capacity(clause.len() + 8);
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                numbered.push_str(&format!("${}", self.args.len() + i));
            }
            numbered.push_str(part);
        }
        self.args.extend(args);
        self.clauses.push(numbered);
    }
    fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

const TERMINAL: &str = "('closed','merged','withdrawn','rejected')";

fn queue_clause(w: &mut Where, actor: &Actor) {
    let mut any = Vec::new();
    if actor.has(Role::Agent) {
        any.push(
            "c.state IN ('received','registered','reopened','fed_back','follow_up')".to_owned(),
        );
    }
    if actor.has(Role::Manager)
        && let Some(d) = actor.department_id
    {
        any.push(format!(
            "(c.department_id = {d} AND c.state IN ('dispatched','in_progress','proposed','executing','reopened')) \
             OR EXISTS (SELECT 1 FROM tasks t WHERE t.complaint_id = c.id AND t.department_id = {d} AND t.done = FALSE)",
            d = d.0
        ));
    }
    if actor.has(Role::Gm) {
        any.push(format!("c.state = 'awaiting_approval' OR c.close_exception_pending = TRUE OR (c.assignee_id = {} AND c.state NOT IN {TERMINAL})", actor.user_id.0));
    }
    if actor.has(Role::Supervisor) {
        any.push(format!("c.state NOT IN {TERMINAL}"));
    }
    any.push(format!(
        "(c.assignee_id = {} AND c.state NOT IN {TERMINAL})",
        actor.user_id.0
    ));
    w.raw(format!("({})", any.join(" OR ")));
}

fn visibility_clause(w: &mut Where, actor: &Actor) {
    if let Some(sql) = visibility_sql(actor) {
        w.raw(sql);
    }
}

/// The condition on `c` (a `complaints` row) that keeps what the actor may
/// see (R-OR-1); None when they see everything.
pub(crate) fn visibility_sql(actor: &Actor) -> Option<String> {
    match actor.visibility() {
        kesu_domain::access::Visibility::All => None,
        kesu_domain::access::Visibility::Site(site) => Some(format!("c.site_id = {}", site.0)),
        kesu_domain::access::Visibility::Department(d) => Some(format!(
            "(c.department_id = {d} OR EXISTS (SELECT 1 FROM tasks t WHERE t.complaint_id = c.id AND t.department_id = {d}))",
            d = d.0
        )),
        kesu_domain::access::Visibility::Nothing => Some("1 = 0".to_owned()),
    }
}

impl Db {
    /// Registers a complaint: finds or creates the customer, draws the next
    /// number of the day, writes the complaint and its first events. Returns
    /// after the commit, so the number may be given to the customer.
    ///
    /// # Errors
    /// The driver's error; nothing is written then.
    pub async fn create_complaint(
        &self,
        new: &NewComplaint,
        actor: Option<&Actor>,
        now: Timestamp,
    ) -> Result<(ComplaintId, ComplaintNumber)> {
        let mut tx = self.begin().await?;
        let created = create_complaint_in(&mut tx, new, actor, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Whether the same customer (by phone or e-mail) complained about the
    /// same vehicle (plate) or order since `since` — a repeated fault
    /// (R-CL-2). Without a plate or an order there is nothing to compare.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn same_matter_since(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        plate: Option<&str>,
        order_ref: Option<&str>,
        since: Timestamp,
    ) -> Result<bool> {
        if (phone.is_none() && email.is_none()) || (plate.is_none() && order_ref.is_none()) {
            return Ok(false);
        }
        let norm = |v: Option<&str>| v.map(|s| s.trim().to_uppercase().replace([' ', '-'], ""));
        // Driven from the customer's rows (indexed by phone and e-mail), then
        // their complaints (indexed by customer): a handful of rows, not the
        // window's thousands.
        let sql = "SELECT COUNT(*) FROM complaints c \
                   WHERE c.customer_id IN (SELECT cu.id FROM customers cu WHERE cu.phone = $2 UNION SELECT cu.id FROM customers cu WHERE cu.email = $3) \
                   AND c.received_at >= $1 \
                   AND (($4 IS NOT NULL AND REPLACE(REPLACE(UPPER(c.plate), ' ', ''), '-', '') = $4) \
                     OR ($5 IS NOT NULL AND REPLACE(REPLACE(UPPER(c.order_ref), ' ', ''), '-', '') = $5))";
        let n: i64 = on_db!(self, p => sqlx::query_scalar(sql)
            .bind(ms(since))
            .bind(phone)
            .bind(email)
            .bind(norm(plate))
            .bind(norm(order_ref))
            .fetch_one(p)
            .await)?;
        Ok(n > 0)
    }

    /// A complaint by its number.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn complaint(&self, number: &str) -> Result<Option<ComplaintRow>> {
        let sql = format!("{COMPLAINT_SELECT} WHERE c.number = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(number).fetch_optional(p).await)?,
        )
    }

    /// Whether the actor may see this complaint (R-OR-1).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn may_see(&self, actor: &Actor, row: &ComplaintRow) -> Result<bool> {
        Ok(match actor.visibility() {
            kesu_domain::access::Visibility::All => true,
            kesu_domain::access::Visibility::Site(site) => row.site_id == Some(site.0),
            kesu_domain::access::Visibility::Nothing => false,
            kesu_domain::access::Visibility::Department(d) => {
                if row.department_id == Some(d.0) {
                    true
                } else {
                    let sql =
                        "SELECT COUNT(*) FROM tasks WHERE complaint_id = $1 AND department_id = $2";
                    let n: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(row.id).bind(d.0).fetch_one(p).await)?;
                    n > 0
                }
            }
        })
    }

    /// A page of the complaints the actor may see, newest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn list_complaints(
        &self,
        actor: &Actor,
        filter: &ListFilter,
    ) -> Result<Page<ListRow>> {
        let mut w = Where {
            clauses: Vec::new(),
            args: Vec::new(),
        };
        visibility_clause(&mut w, actor);
        if filter.queue == Queue::Mine {
            queue_clause(&mut w, actor);
        }
        if let Some(s) = filter.state {
            w.push("c.state = ?", Arg::Text(s.as_str().to_owned()));
        } else if filter.open_only {
            w.raw(format!("c.state NOT IN {TERMINAL}"));
        }
        if let Some(d) = filter.department_id {
            w.push("c.department_id = ?", Arg::I64(d.0));
        }
        if let Some(site) = filter.site_id {
            w.push("c.site_id = ?", Arg::I64(site.0));
        }
        if let Some(s) = filter.severity {
            w.push("c.severity = ?", Arg::Text(s.as_str().to_owned()));
        }
        if let Some(ch) = filter.channel {
            w.push("c.channel = ?", Arg::Text(ch.as_str().to_owned()));
        }
        if let Some(phone) = &filter.customer_phone {
            w.push("cu.phone = ?", Arg::Text(phone.clone()));
        }
        let mut order = "c.received_at DESC, c.id DESC";
        let mut from = "complaints c";
        // Running, unpaused clocks (the duty alert is no deadline).
        const PRESSING: &str = "EXISTS (SELECT 1 FROM deadlines dl WHERE dl.complaint_id = c.id \
             AND dl.ended_at IS NULL AND dl.kind <> 'duty_alert' AND dl.paused_at IS NULL AND ";
        match filter.due {
            Some(Due::Overdue) => {
                w.push(&format!("{PRESSING}dl.due_at <= ?)"), Arg::I64(filter.now));
            }
            Some(Due::Soon) => w.push_all(
                &format!(
                    "{PRESSING}dl.due_at > ? AND ((dl.warn_at IS NOT NULL AND dl.warn_at <= ?) OR dl.due_at <= ?))"
                ),
                vec![
                    Arg::I64(filter.now),
                    Arg::I64(filter.now),
                    Arg::I64(filter.now + 2 * 3_600_000),
                ],
            ),
            None => {}
        }
        if filter.sort == Sort::Urgency || filter.due.is_some() {
            order = "next_due_at ASC NULLS LAST, c.received_at DESC, c.id DESC";
        }
        if let Some(text) = &filter.text {
            let terms = kesu_classify::search::query_terms(text);
            if terms.is_empty() {
                // Nothing to search by (punctuation, emoji, stop words).
                w.raw("1 = 0".to_owned());
            } else {
                let (clause, query) = crate::search::match_clause(self, &terms);
                w.push(&clause, Arg::Text(query));
                if matches!(self, Db::Sqlite(..)) {
                    // FTS5 hands its matches out newest first, so the first
                    // page stops after enough of them pass the filters.
                    from = "complaint_fts f JOIN complaints c ON c.id = f.rowid";
                    order = "f.rowid DESC";
                } else {
                    order = "c.id DESC";
                }
            }
        }
        let per_page = filter.per_page.clamp(1, 200);
        let page = filter.page.max(1);
        let offset = i64::from(page - 1) * i64::from(per_page);
        let sql = format!(
            "SELECT c.number, c.state, c.channel, c.received_at, cu.name AS customer_name, c.category, c.severity, c.urgent, \
             d.name AS department_name, u.display_name AS assignee_name, c.description, \
             (SELECT MIN(dl.due_at) FROM deadlines dl WHERE dl.complaint_id = c.id AND dl.ended_at IS NULL AND dl.kind <> 'duty_alert' AND dl.paused_at IS NULL) AS next_due_at \
             FROM {from} JOIN customers cu ON cu.id = c.customer_id \
             LEFT JOIN departments d ON d.id = c.department_id LEFT JOIN users u ON u.id = c.assignee_id{} \
             ORDER BY {order} LIMIT {} OFFSET {offset}",
            w.sql(),
            per_page + 1
        );
        let mut items: Vec<ListRow> = on_db!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for a in &w.args {
                q = match a {
                    Arg::I64(v) => q.bind(*v),
                    Arg::Text(v) => q.bind(v.clone()),
                };
            }
            q.fetch_all(p).await
        })?;
        let has_next = items.len() > per_page as usize;
        items.truncate(per_page as usize);
        Ok(Page {
            items,
            page,
            per_page,
            has_next,
        })
    }

    /// The history of a complaint, oldest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn history(&self, id: ComplaintId) -> Result<Vec<EventRow>> {
        let sql = "SELECT e.seq, e.kind, e.from_state, e.to_state, e.actor_id, u.display_name AS actor_name, e.at, e.payload \
                   FROM complaint_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.complaint_id = $1 ORDER BY e.seq";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn proposals(&self, id: ComplaintId) -> Result<Vec<ProposalRow>> {
        let sql = "SELECT round, measures, owner, due_at, follow_up, compensation_fen, status, customer_words, proposed_at, answered_at \
                   FROM proposals WHERE complaint_id = $1 ORDER BY round";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn tasks(&self, id: ComplaintId) -> Result<Vec<TaskRow>> {
        let sql = "SELECT t.seq, t.department_id, d.name AS department_name, t.owner_id, u.display_name AS owner_name, t.title, t.due_at, \
                   t.done, t.result, t.created_at, t.completed_at FROM tasks t JOIN departments d ON d.id = t.department_id \
                   LEFT JOIN users u ON u.id = t.owner_id WHERE t.complaint_id = $1 ORDER BY t.seq";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn attachments(&self, id: ComplaintId) -> Result<Vec<AttachmentRow>> {
        let sql = "SELECT id, kind, filename, content_type, size, sha256, uploaded_at FROM attachments WHERE complaint_id = $1 ORDER BY id";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn attachment_data(
        &self,
        complaint: ComplaintId,
        id: i64,
    ) -> Result<Option<AttachmentData>> {
        let sql = "SELECT filename, content_type, data FROM attachments WHERE complaint_id = $1 AND id = $2";
        Ok(
            on_db!(self, p => sqlx::query_as(sql).bind(complaint.0).bind(id).fetch_optional(p).await)?,
        )
    }

    /// The customers with this phone number, with how many complaints each has.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn customers_by_phone(&self, phone: &str) -> Result<Vec<CustomerMatch>> {
        let sql = "SELECT cu.id, cu.name, cu.phone, cu.email, \
                   (SELECT COUNT(*) FROM complaints c WHERE c.customer_id = cu.id) AS complaints, \
                   (SELECT COUNT(*) FROM complaints c WHERE c.customer_id = cu.id AND c.state NOT IN ('closed','merged','withdrawn','rejected')) AS open_complaints \
                   FROM customers cu WHERE cu.phone = $1 ORDER BY cu.updated_at DESC LIMIT 5";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(phone).fetch_all(p).await)?)
    }
}

/// Registers a complaint inside an open write transaction (see
/// [`Db::create_complaint`]), for callers that write more with it (the
/// portal's tracking code). Nothing is acknowledged before the commit.
///
/// # Errors
/// The driver's error; the caller rolls back.
pub async fn create_complaint_in(
    tx: &mut Tx,
    new: &NewComplaint,
    actor: Option<&Actor>,
    now: Timestamp,
) -> Result<(ComplaintId, ComplaintNumber)> {
    let customer_id = find_or_create_customer(tx, &new.customer, now).await?;
    let counter_sql = "INSERT INTO number_counters (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = number_counters.last + 1 RETURNING last";
    let day = i64::from(new.day);
    let seq: i64 = on_tx!(tx, c => sqlx::query_scalar(counter_sql).bind(day).fetch_one(c).await)?;
    let number = ComplaintNumber::new(new.day, seq);
    let first = Complaint::intake_event(actor, new.channel);
    let (proposed_severity, proposed_signals) = match &new.proposal {
        Some(p) => (
            p.severity,
            signals_text(&p.signals.iter().map(|(s, _)| *s).collect::<Vec<_>>()),
        ),
        None => (Severity::General, String::new()),
    };
    let state = if matches!(first, Event::Registered { .. }) {
        State::Registered
    } else {
        State::Received
    };
    let sql = "INSERT INTO complaints (number, state, channel, received_at, customer_id, description, restatement, event_time, event_place, \
               people_involved, subject, order_ref, plate, urgent, severity, signals, created_by, updated_at, site_id, version) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
               COALESCE($19, (SELECT MIN(id) FROM sites)), 0) RETURNING id";
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(number.as_str())
        .bind(state.as_str())
        .bind(new.channel.as_str())
        .bind(ms(new.received_at))
        .bind(customer_id)
        .bind(&new.description)
        .bind(&new.restatement)
        .bind(&new.event_time)
        .bind(&new.event_place)
        .bind(&new.people_involved)
        .bind(&new.subject)
        .bind(&new.order_ref)
        .bind(&new.plate)
        .bind(new.urgent)
        .bind(proposed_severity.as_str())
        .bind(&proposed_signals)
        .bind(actor.map(|a| a.user_id.0))
        .bind(ms(now))
        .bind(new.site_id.map(|s| s.0))
        .fetch_one(c)
        .await)?;
    let id = ComplaintId(id);
    let customer = &new.customer;
    let texts = [
        Some(new.description.as_str()),
        new.restatement.as_deref(),
        new.subject.as_deref(),
        new.order_ref.as_deref(),
        new.plate.as_deref(),
        new.event_place.as_deref(),
        new.people_involved.as_deref(),
        Some(customer.name.as_str()),
        customer.phone.as_deref(),
        customer.email.as_deref(),
    ];
    crate::search::index_new(tx, id, texts.into_iter().flatten()).await?;
    let complaint = Complaint::new(id, state);
    insert_event(
        tx,
        id,
        1,
        &first,
        None,
        state,
        actor.map(|a| a.user_id),
        now,
    )
    .await?;
    crate::deadlines::on_events(
        tx,
        id,
        &[crate::deadlines::Step {
            before: None,
            after: state,
            event: &first,
        }],
        proposed_severity.max(new.severity),
        now,
    )
    .await?;
    if let Some(f) = &new.forwarded {
        let sql = "INSERT INTO forwarded_cases (complaint_id, body, reference, reply_due_at) VALUES ($1, $2, $3, $4)";
        on_tx!(tx, c => sqlx::query(sql)
            .bind(id.0)
            .bind(f.body.as_str())
            .bind(&f.reference)
            .bind(ms(f.reply_due_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        crate::deadlines::start_fixed(
            tx,
            id,
            kesu_domain::ClockKind::RegulatorReply,
            now,
            f.reply_due_at,
        )
        .await?;
    }
    let mut complaint = complaint;
    // The engine's proposal is written with the row (severity and signals
    // above) and as the second event, without an actor: no extra update.
    if let Some(proposed) = &new.proposal {
        let event = Event::ClassificationProposed {
            proposed: proposed.clone(),
        };
        insert_event(tx, id, 2, &event, Some(state), state, None, now).await?;
        complaint.apply(&event);
    }
    let mut events = Vec::new();
    // A category, or a severity or signals marked at once, is recorded
    // as the first classification.
    if new.category.is_some() || new.severity == Severity::Major || !new.signals.is_empty() {
        events.push(Event::Classified {
            category: new.category.clone(),
            severity: new.severity,
            signals: new.signals.clone(),
            reason: None,
        });
    }
    // Files come with the complaint from staff and from the customer
    // (the portal: no uploader).
    for file in &new.attachments {
        let attachment = store_attachment(
            tx,
            id,
            file.kind.as_str(),
            &file.filename,
            &file.content_type,
            &file.data,
            actor.map(|a| a.user_id),
            now,
        )
        .await?;
        events.push(Event::AttachmentAdded {
            attachment_id: AttachmentId(attachment),
            attachment_kind: file.kind,
            filename: file.filename.clone(),
            size: i64::try_from(file.data.len()).unwrap_or(i64::MAX),
        });
    }
    if !events.is_empty() {
        record(tx, &complaint, &events, actor.map(|a| a.user_id), now).await?;
    }
    Ok((id, number))
}

/// A known customer found by phone at registration.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CustomerMatch {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub complaints: i64,
    pub open_complaints: i64,
}

pub(crate) async fn find_or_create_customer(
    tx: &mut Tx,
    input: &CustomerInput,
    now: Timestamp,
) -> Result<i64> {
    // A WeChat follower is their openid: one row however often they write,
    // and the name staff corrected is kept. The upsert locks the row, so two
    // messages of one follower are filed one after the other.
    if let Some(openid) = &input.wechat_openid {
        let sql = "INSERT INTO customers (name, phone, email, wechat_openid, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
                   ON CONFLICT (wechat_openid) DO UPDATE SET updated_at = excluded.updated_at RETURNING id";
        return Ok(
            on_tx!(tx, c => sqlx::query_scalar(sql).bind(&input.name).bind(&input.phone).bind(&input.email).bind(openid).bind(ms(now)).fetch_one(c).await)?,
        );
    }
    let found: Option<i64> = match (&input.phone, &input.email) {
        (Some(phone), _) => {
            on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM customers WHERE phone = $1 ORDER BY id LIMIT 1").bind(phone).fetch_optional(c).await)?
        }
        (None, Some(email)) => {
            on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM customers WHERE email = $1 ORDER BY id LIMIT 1").bind(email).fetch_optional(c).await)?
        }
        (None, None) => None,
    };
    if let Some(id) = found {
        let sql = "UPDATE customers SET name = $1, email = COALESCE($2, email), phone = COALESCE($3, phone), updated_at = $4 WHERE id = $5";
        on_tx!(tx, c => sqlx::query(sql).bind(&input.name).bind(&input.email).bind(&input.phone).bind(ms(now)).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        return Ok(id);
    }
    let sql = "INSERT INTO customers (name, phone, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(&input.name).bind(&input.phone).bind(&input.email).bind(ms(now)).fetch_one(c).await)?,
    )
}

#[expect(clippy::too_many_arguments, reason = "one row of the history")]
async fn insert_event(
    tx: &mut Tx,
    id: ComplaintId,
    seq: i64,
    event: &Event,
    from: Option<State>,
    to: State,
    actor: Option<UserId>,
    now: Timestamp,
) -> Result<()> {
    let payload = serde_json::to_string(event).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let sql = "INSERT INTO complaint_events (complaint_id, seq, kind, from_state, to_state, actor_id, at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(id.0)
        .bind(seq)
        .bind(event.kind())
        .bind(from.map(State::as_str))
        .bind(to.as_str())
        .bind(actor.map(|a| a.0))
        .bind(ms(now))
        .bind(&payload)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Loads a complaint by number inside a write transaction. On PostgreSQL the
/// row stays locked until the transaction ends, so that two writers of one
/// complaint queue and the second reads what the first committed (SQLite's
/// `BEGIN IMMEDIATE` does the same); without the lock they raced for the next
/// event number and the loser failed with a duplicate key.
///
/// # Errors
/// The driver's error.
pub async fn load(tx: &mut Tx, number: &str) -> Result<Option<ComplaintRow>> {
    let lock = if matches!(tx, Tx::Pg(_)) {
        " FOR UPDATE OF c"
    } else {
        ""
    };
    let sql = format!("{COMPLAINT_SELECT} WHERE c.number = $1{lock}");
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(number).fetch_optional(c).await)?,
    )
}

/// The facts of one task, inside a write transaction.
///
/// # Errors
/// The driver's error.
pub async fn load_task(
    tx: &mut Tx,
    id: ComplaintId,
    seq: i32,
) -> Result<Option<kesu_domain::complaint::TaskFacts>> {
    let sql =
        "SELECT seq, department_id, owner_id, done FROM tasks WHERE complaint_id = $1 AND seq = $2";
    let row: Option<(i64, i64, Option<i64>, bool)> = on_tx!(tx, c => sqlx::query_as(sql).bind(id.0).bind(i64::from(seq)).fetch_optional(c).await)?;
    Ok(row.map(
        |(seq, dept, owner, done)| kesu_domain::complaint::TaskFacts {
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            department_id: DepartmentId(dept),
            owner_id: owner.map(UserId),
            done,
        },
    ))
}

/// Stores a file for a complaint inside a write transaction; returns its id.
///
/// # Errors
/// The driver's error.
#[expect(clippy::too_many_arguments, reason = "one row of attachments")]
pub async fn insert_attachment(
    tx: &mut Tx,
    id: ComplaintId,
    kind: &str,
    filename: &str,
    content_type: &str,
    data: &[u8],
    by: UserId,
    now: Timestamp,
) -> Result<i64> {
    store_attachment(tx, id, kind, filename, content_type, data, Some(by), now).await
}

/// Stores a file for a complaint inside a write transaction, from a person
/// (`by`) or from the customer (`None`: the portal, an e-mail); returns its id.
///
/// # Errors
/// The driver's error.
#[expect(clippy::too_many_arguments, reason = "one row of attachments")]
pub async fn store_attachment(
    tx: &mut Tx,
    id: ComplaintId,
    kind: &str,
    filename: &str,
    content_type: &str,
    data: &[u8],
    by: Option<UserId>,
    now: Timestamp,
) -> Result<i64> {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(data));
    let size = i64::try_from(data.len()).map_err(|_| corrupt("size"))?;
    let sql = "INSERT INTO attachments (complaint_id, kind, filename, content_type, size, sha256, data, uploaded_by, uploaded_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(id.0)
        .bind(kind)
        .bind(filename)
        .bind(content_type)
        .bind(size)
        .bind(&sha)
        .bind(data)
        .bind(by.map(|b| b.0))
        .bind(ms(now))
        .fetch_one(c)
        .await)?)
}

/// Records decided events: appends them to the history, updates the side
/// tables they touch and the projection, checking that nobody changed the
/// complaint since `before` was read. Returns the new projection.
///
/// # Errors
/// [`StorageError::Conflict`] when the version moved; the caller rolls back.
pub async fn record(
    tx: &mut Tx,
    before: &Complaint,
    events: &[Event],
    actor: Option<UserId>,
    now: Timestamp,
) -> Result<Complaint> {
    let id = before.id;
    let mut after = before.clone();
    let max: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT MAX(seq) FROM complaint_events WHERE complaint_id = $1").bind(id.0).fetch_one(c).await)?;
    let mut seq = max.unwrap_or(0);
    let t = ms(now);
    let mut words = Vec::new();
    let mut steps = Vec::with_capacity(events.len());
    for event in events {
        let from = after.state;
        after.apply(event);
        seq += 1;
        insert_event(tx, id, seq, event, Some(from), after.state, actor, now).await?;
        side_effects(tx, id, seq, event, actor, t).await?;
        words.extend(event.searchable_text());
        steps.push(crate::deadlines::Step {
            before: Some(from),
            after: after.state,
            event,
        });
    }
    crate::search::index_more(tx, id, &words).await?;
    crate::deadlines::on_events(tx, id, &steps, after.severity, now).await?;
    let closed_at = (after.state == State::Closed).then_some(t);
    let sql = "UPDATE complaints SET state = $1, severity = $2, category = $3, department_id = $4, assignee_id = $5, taken_over = $6, \
               proposals = $7, current_round = $8, current_compensation_fen = $9, tasks = $10, execution_done = $11, agreement_attached = $12, \
               close_exception_pending = $13, satisfied = $14, updated_at = $15, closed_at = COALESCE($16, closed_at), version = version + 1 \
               WHERE id = $17 AND version = $18";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(after.state.as_str())
        .bind(after.severity.as_str())
        .bind(&after.category)
        .bind(after.department_id.map(|d| d.0))
        .bind(after.assignee_id.map(|u| u.0))
        .bind(after.taken_over)
        .bind(i64::from(after.proposals))
        .bind(after.current_proposal.map(|p| i64::from(p.round)))
        .bind(after.current_proposal.map(|p| p.compensation_fen))
        .bind(i64::from(after.tasks))
        .bind(after.execution_done)
        .bind(after.agreement_attached)
        .bind(after.close_exception_pending)
        .bind(after.satisfied)
        .bind(t)
        .bind(closed_at)
        .bind(id.0)
        .bind(before.version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n != 1 {
        return Err(StorageError::Conflict);
    }
    after.version = before.version + 1;
    Ok(after)
}

async fn side_effects(
    tx: &mut Tx,
    id: ComplaintId,
    seq: i64,
    event: &Event,
    actor: Option<UserId>,
    t: i64,
) -> Result<()> {
    match event {
        // The person it is assigned to is told (R-NT-2), unless they did it.
        Event::Dispatched {
            assignee_id: Some(user),
            ..
        } if Some(*user) != actor => {
            let number: String = on_tx!(tx, c => sqlx::query_scalar("SELECT number FROM complaints WHERE id = $1").bind(id.0).fetch_one(c).await)?;
            let payload = crate::deadlines::NoticePayload {
                number,
                clock: None,
                due_at: None,
                step: None,
            };
            let key = format!("assigned:{}:{seq}:user:{}", id.0, user.0);
            crate::deadlines::notify(
                tx,
                &key,
                user.0,
                Some(id.0),
                "assigned",
                &payload,
                crate::ts(t)?,
            )
            .await?;
        }
        Event::Classified { signals, .. } => {
            on_tx!(tx, c => sqlx::query("UPDATE complaints SET signals = $1 WHERE id = $2").bind(signals_text(signals)).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::Proposed {
            round,
            measures,
            owner,
            due_at,
            follow_up,
            compensation_fen,
        } => {
            let sql = "INSERT INTO proposals (complaint_id, round, measures, owner, due_at, follow_up, compensation_fen, status, proposed_by, proposed_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)";
            on_tx!(tx, c => sqlx::query(sql)
                .bind(id.0)
                .bind(i64::from(*round))
                .bind(measures)
                .bind(owner)
                .bind(ms(*due_at))
                .bind(follow_up)
                .bind(*compensation_fen)
                .bind(actor.map(|a| a.0))
                .bind(t)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Event::ProposalAnswered {
            round,
            accepted,
            customer_words,
            ..
        } => {
            let status = if *accepted { "accepted" } else { "rejected" };
            let sql = "UPDATE proposals SET status = $1, customer_words = $2, answered_at = $3 WHERE complaint_id = $4 AND round = $5";
            on_tx!(tx, c => sqlx::query(sql).bind(status).bind(customer_words).bind(t).bind(id.0).bind(i64::from(*round)).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::ApprovalDecided {
            subject: ApprovalSubject::Proposal { round },
            approved,
            ..
        } => {
            let status = if *approved { "approved" } else { "declined" };
            let sql = "UPDATE proposals SET status = $1 WHERE complaint_id = $2 AND round = $3";
            on_tx!(tx, c => sqlx::query(sql).bind(status).bind(id.0).bind(i64::from(*round)).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::TaskCreated {
            seq,
            department_id,
            owner_id,
            title,
            due_at,
        } => {
            let sql = "INSERT INTO tasks (complaint_id, seq, department_id, owner_id, title, due_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
            on_tx!(tx, c => sqlx::query(sql)
                .bind(id.0)
                .bind(i64::from(*seq))
                .bind(department_id.0)
                .bind(owner_id.map(|o| o.0))
                .bind(title)
                .bind(due_at.map(ms))
                .bind(actor.map(|a| a.0))
                .bind(t)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Event::TaskCompleted { seq, result } => {
            let sql = "UPDATE tasks SET done = TRUE, result = $1, completed_at = $2 WHERE complaint_id = $3 AND seq = $4";
            on_tx!(tx, c => sqlx::query(sql).bind(result).bind(t).bind(id.0).bind(i64::from(*seq)).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::FollowedUp {
            score: Some(score), ..
        } => {
            on_tx!(tx, c => sqlx::query("UPDATE complaints SET satisfaction_score = $1 WHERE id = $2").bind(i64::from(*score)).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::ClassificationProposed { proposed } => {
            let signals: Vec<Signal> = proposed.signals.iter().map(|(s, _)| *s).collect();
            let sql = "UPDATE complaints SET signals = $1 WHERE id = $2 AND category IS NULL";
            on_tx!(tx, c => sqlx::query(sql).bind(signals_text(&signals)).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Event::DetailsAmended { changes } => {
            for change in changes {
                amend(tx, id, change).await?;
            }
        }
        Event::Merged { into_id, .. } => {
            on_tx!(tx, c => sqlx::query("UPDATE complaints SET merged_into_id = $1 WHERE id = $2").bind(into_id.0).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        }
        _ => {}
    }
    Ok(())
}

/// Writes one corrected detail. The column comes from a closed set.
async fn amend(tx: &mut Tx, id: ComplaintId, change: &Change) -> Result<()> {
    if change.field == DetailField::Urgent {
        let urgent = change.to.as_deref() == Some("true");
        on_tx!(tx, c => sqlx::query("UPDATE complaints SET urgent = $1 WHERE id = $2").bind(urgent).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        return Ok(());
    }
    let sql = match change.field {
        DetailField::Restatement => "UPDATE complaints SET restatement = $1 WHERE id = $2",
        DetailField::EventTime => "UPDATE complaints SET event_time = $1 WHERE id = $2",
        DetailField::EventPlace => "UPDATE complaints SET event_place = $1 WHERE id = $2",
        DetailField::PeopleInvolved => "UPDATE complaints SET people_involved = $1 WHERE id = $2",
        DetailField::Subject => "UPDATE complaints SET subject = $1 WHERE id = $2",
        DetailField::OrderRef => "UPDATE complaints SET order_ref = $1 WHERE id = $2",
        DetailField::Plate | DetailField::Urgent => {
            "UPDATE complaints SET plate = $1 WHERE id = $2"
        }
    };
    on_tx!(tx, c => sqlx::query(sql).bind(change.to.as_deref()).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
