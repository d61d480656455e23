//! Clocks in the database: started, paused, resumed and stopped in the
//! transaction that records the events (so a deadline can never disagree
//! with the history), and the sweep that warns, records breaches and
//! escalates — once, whichever node and however late it runs.
//!
//! The sweep claims due clocks by `next_check_at` with `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL (SQLite has one writer at a time), moves them past
//! what it did and writes the notices in the same transaction; each notice
//! has a unique key, so even a replayed step cannot tell anyone twice.

use std::sync::Arc;

use jiff::Timestamp;
use kesu_calendar::{CalendarSettings, HolidayTable, SiteCalendar};
use kesu_domain::codes::{ClockKind, Rung, Severity, State};
use kesu_domain::complaint::Event;
use kesu_domain::deadlines::{ClockChange, DeadlinePolicy, Notice, Progress, Running, Situation};
use kesu_domain::ids::ComplaintId;
use serde::Serialize;

use crate::{Db, Result, StorageError, Tx, ms, on_db, on_tx};

/// The settings key of the deadline policy.
pub const DEADLINE_POLICY_KEY: &str = "deadline_policy";

/// One event with the states around it, as `record` applies them.
pub(crate) struct Step<'a> {
    pub before: Option<State>,
    pub after: State,
    pub event: &'a Event,
}

async fn policy_in(tx: &mut Tx) -> Result<DeadlinePolicy> {
    let raw: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(DEADLINE_POLICY_KEY)
        .fetch_optional(c)
        .await)?;
    Ok(policy_of(raw.as_deref()))
}

/// The stored policy (or the defaults); a clock the stored policy does not
/// know yet (one added after it was saved) keeps its default rule.
fn policy_of(raw: Option<&str>) -> DeadlinePolicy {
    let mut policy: DeadlinePolicy = raw
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    for rule in DeadlinePolicy::default().rules {
        if !policy.rules.iter().any(|r| r.kind == rule.kind) {
            policy.rules.push(rule);
        }
    }
    policy
}

/// Starts a clock whose due time is a fixed instant given at registration
/// (a forwarding body's reply deadline), not a limit of the policy; it warns
/// when the rule's share of the time is used and escalates as its rule says.
/// Nothing is started when the rule is switched off.
pub(crate) async fn start_fixed(
    tx: &mut Tx,
    id: ComplaintId,
    kind: ClockKind,
    now: Timestamp,
    due_at: Timestamp,
) -> Result<()> {
    let policy = policy_in(tx).await?;
    let Some(rule) = policy.rule(kind) else {
        return Ok(());
    };
    let warn_at = (rule.warn_percent > 0 && due_at > now).then(|| {
        let span = due_at.duration_since(now);
        now.checked_add(span * i32::from(rule.warn_percent) / 100)
            .unwrap_or(now)
    });
    insert_starts(
        tx,
        id,
        &policy,
        &[(kind, now, due_at, None, warn_at, false)],
    )
    .await
}

/// The admin's holiday uploads as a table, or None for the shipped one.
fn uploaded_holidays(rows: Vec<(i64, String)>) -> Option<Arc<HolidayTable>> {
    (!rows.is_empty()).then(|| {
        Arc::new(crate::settings::holidays_with(
            rows.iter().map(|(y, s)| (*y, s.as_str())),
        ))
    })
}

/// What deciding a complaint's clocks needs, read with one statement: the
/// complaint's urgency, its site's calendar and zone, the deadline policy,
/// and whether any holiday year was uploaded (rare; then read too).
#[derive(sqlx::FromRow)]
struct ContextRow {
    urgent: bool,
    calendar: Option<String>,
    time_zone: Option<String>,
    policy: Option<String>,
    uploads: bool,
}

/// A site's calendar from its stored settings (defaults when none or unreadable).
pub(crate) fn calendar_of(
    raw: Option<&str>,
    site_zone: Option<&str>,
    holidays: Option<Arc<HolidayTable>>,
) -> SiteCalendar {
    // A site never saved keeps the defaults in its own time zone.
    let settings: CalendarSettings = raw
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_else(|| CalendarSettings {
            time_zone: site_zone.unwrap_or("Asia/Shanghai").to_owned(),
            ..CalendarSettings::default()
        });
    let calendar = SiteCalendar::new(settings).unwrap_or_default();
    match holidays {
        Some(h) => calendar.with_holidays(h),
        None => calendar,
    }
}

#[derive(sqlx::FromRow)]
struct RunningRow {
    kind: String,
    started_at: i64,
    due_at: i64,
    warn_at: Option<i64>,
    paused_at: Option<i64>,
    fast: bool,
}

fn ts(v: i64) -> Timestamp {
    crate::ts(v).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Starts, stops, pauses and moves the complaint's clocks for events just
/// recorded. Called by `create_complaint` and `record` in their transaction.
pub(crate) async fn on_events(
    tx: &mut Tx,
    id: ComplaintId,
    steps: &[Step<'_>],
    severity: Severity,
    now: Timestamp,
) -> Result<()> {
    if steps.iter().all(|s| {
        kesu_domain::deadlines::triggers(s.before, s.event).is_empty()
            && s.before == Some(s.after)
            && !matches!(s.event, Event::Classified { .. })
    }) {
        return Ok(());
    }
    // Registration and every write that moves a clock pass here, inside the
    // write transaction: as few statements as possible.
    let sql = "SELECT c.urgent, s.calendar, s.time_zone, \
               (SELECT value FROM settings WHERE key = $2) AS policy, \
               EXISTS (SELECT 1 FROM holiday_years) AS uploads \
               FROM complaints c LEFT JOIN sites s ON s.id = c.site_id WHERE c.id = $1";
    let ctx: ContextRow = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(id.0)
        .bind(DEADLINE_POLICY_KEY)
        .fetch_one(c)
        .await)?;
    let policy = policy_of(ctx.policy.as_deref());
    let holidays = if ctx.uploads {
        let rows: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query_as("SELECT year, source FROM holiday_years ORDER BY year")
            .fetch_all(c)
            .await)?;
        uploaded_holidays(rows)
    } else {
        None
    };
    let urgent = ctx.urgent;
    let calendar = calendar_of(ctx.calendar.as_deref(), ctx.time_zone.as_deref(), holidays);
    // A complaint's first event finds no clocks yet.
    let rows: Vec<RunningRow> = if steps.first().is_some_and(|s| s.before.is_none()) {
        Vec::new()
    } else {
        on_tx!(tx, c => sqlx::query_as(
            "SELECT kind, started_at, due_at, warn_at, paused_at, fast FROM deadlines WHERE complaint_id = $1 AND ended_at IS NULL ORDER BY id")
            .bind(id.0)
            .fetch_all(c)
            .await)?
    };
    let mut running: Vec<Running> = rows
        .iter()
        .filter_map(|r| {
            Some(Running {
                kind: r.kind.parse().ok()?,
                started_at: ts(r.started_at),
                due_at: ts(r.due_at),
                warn_at: r.warn_at.map(ts),
                paused_at: r.paused_at.map(ts),
                fast: r.fast,
            })
        })
        .collect();
    let fast = urgent || severity == Severity::Major;
    let mut changes = Vec::new();
    for s in steps {
        changes.extend(policy.on_event(
            &calendar,
            &mut running,
            Situation {
                before: s.before,
                after: s.after,
                fast,
                urgent,
            },
            s.event,
            now,
        ));
    }
    // Clocks started together (registration starts four) go in one statement.
    let mut starts = Vec::new();
    for change in &changes {
        if let ClockChange::Start {
            kind,
            started_at,
            due_at,
            earliest_at,
            warn_at,
            fast,
        } = *change
        {
            starts.push((kind, started_at, due_at, earliest_at, warn_at, fast));
            continue;
        }
        insert_starts(tx, id, &policy, &std::mem::take(&mut starts)).await?;
        write_change(tx, id, change).await?;
    }
    insert_starts(tx, id, &policy, &starts).await
}

type Start = (
    ClockKind,
    Timestamp,
    Timestamp,
    Option<Timestamp>,
    Option<Timestamp>,
    bool,
);

async fn insert_starts(
    tx: &mut Tx,
    id: ComplaintId,
    policy: &DeadlinePolicy,
    starts: &[Start],
) -> Result<()> {
    if starts.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..starts.len())
        .map(|i| {
            let b = i * 8;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO deadlines (complaint_id, kind, fast, started_at, earliest_at, due_at, warn_at, next_check_at) VALUES {}",
        rows.join(", ")
    );
    on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for &(kind, started_at, due_at, earliest_at, warn_at, fast) in starts {
            q = q
                .bind(id.0)
                .bind(kind.as_str())
                .bind(fast)
                .bind(ms(started_at))
                .bind(earliest_at.map(ms))
                .bind(ms(due_at))
                .bind(warn_at.map(ms))
                .bind(first_check(policy, kind, warn_at, due_at));
        }
        q.execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

fn first_check(
    policy: &DeadlinePolicy,
    kind: ClockKind,
    warn_at: Option<Timestamp>,
    due_at: Timestamp,
) -> Option<i64> {
    let progress = Progress {
        warn_at,
        warned: false,
        due_at,
        breached: false,
        escalations: 0,
    };
    policy
        .rule(kind)
        .and_then(|r| r.next_check(&progress))
        .map(ms)
}

async fn write_change(tx: &mut Tx, id: ComplaintId, change: &ClockChange) -> Result<()> {
    let n = match *change {
        // Inserted by `insert_starts`.
        ClockChange::Start { .. } => 0,
        ClockChange::Stop { kind, at } => {
            let sql = "UPDATE deadlines SET ended_at = $1, \
                       met_at = CASE WHEN $1 <= due_at AND breached_at IS NULL THEN $1 ELSE NULL END, \
                       breached_at = CASE WHEN breached_at IS NULL AND $1 > due_at THEN due_at ELSE breached_at END, \
                       paused_at = NULL, next_check_at = NULL \
                       WHERE complaint_id = $2 AND kind = $3 AND ended_at IS NULL";
            on_tx!(tx, c => sqlx::query(sql).bind(ms(at)).bind(id.0).bind(kind.as_str()).execute(c).await.map(|r| r.rows_affected()))?
        }
        ClockChange::Cancel { kind, at } => {
            let sql = "UPDATE deadlines SET ended_at = $1, cancelled = TRUE, paused_at = NULL, next_check_at = NULL \
                       WHERE complaint_id = $2 AND kind = $3 AND ended_at IS NULL";
            on_tx!(tx, c => sqlx::query(sql).bind(ms(at)).bind(id.0).bind(kind.as_str()).execute(c).await.map(|r| r.rows_affected()))?
        }
        ClockChange::Pause { kind, at } => {
            let sql = "UPDATE deadlines SET paused_at = $1, next_check_at = NULL WHERE complaint_id = $2 AND kind = $3 AND ended_at IS NULL";
            on_tx!(tx, c => sqlx::query(sql).bind(ms(at)).bind(id.0).bind(kind.as_str()).execute(c).await.map(|r| r.rows_affected()))?
        }
        ClockChange::Resume {
            kind,
            due_at,
            warn_at,
            ..
        }
        | ClockChange::Retime {
            kind,
            due_at,
            warn_at,
        } => {
            // Already warned or breached clocks keep that; only the times move.
            let sql = "UPDATE deadlines SET paused_at = NULL, due_at = $1, warn_at = $2, fast = (fast OR $3), \
                       next_check_at = CASE WHEN breached_at IS NOT NULL THEN next_check_at \
                                            WHEN warned_at IS NULL AND $2 IS NOT NULL AND $2 < $1 THEN $2 ELSE $1 END \
                       WHERE complaint_id = $4 AND kind = $5 AND ended_at IS NULL";
            let retime = matches!(change, ClockChange::Retime { .. });
            on_tx!(tx, c => sqlx::query(sql)
                .bind(ms(due_at))
                .bind(warn_at.map(ms))
                .bind(retime)
                .bind(id.0)
                .bind(kind.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?
        }
    };
    if n > 1 {
        return Err(StorageError::Corrupt(format!(
            "complaint {} has {n} running clocks of one kind",
            id.0
        )));
    }
    Ok(())
}

/// A complaint's deadline as lists and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadlineRow {
    pub kind: String,
    pub fast: bool,
    pub started_at: i64,
    pub earliest_at: Option<i64>,
    pub due_at: i64,
    pub paused_at: Option<i64>,
    pub met_at: Option<i64>,
    pub breached_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancelled: bool,
}

impl DeadlineRow {
    /// Still running (possibly paused).
    pub fn running(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// Where the sweep's notices go besides the bell: e-mail to people who gave
/// an address, and the group robots (WeCom, DingTalk) that are set up.
pub struct Outbound<'a> {
    /// The (subject, body) of a notice (`kind`, payload), in the desk's language.
    pub render: &'a (dyn Fn(&str, &NoticePayload) -> (String, String) + Send + Sync),
    pub email: bool,
    /// Outbox channels of the group robots, e.g. `["wecom", "dingtalk"]`.
    pub robots: Vec<&'static str>,
}

fn render_nothing(_: &str, _: &NoticePayload) -> (String, String) {
    (String::new(), String::new())
}

impl Outbound<'static> {
    /// Only the bell.
    pub fn bell_only() -> Outbound<'static> {
        Outbound {
            render: &render_nothing,
            email: false,
            robots: Vec::new(),
        }
    }
}

/// What one sweep pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub clocks: usize,
    pub warnings: usize,
    pub breaches: usize,
    pub notices: usize,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    complaint_id: i64,
    kind: String,
    due_at: i64,
    warn_at: Option<i64>,
    warned_at: Option<i64>,
    breached_at: Option<i64>,
    escalations: i64,
    number: String,
    severity: String,
    department_id: Option<i64>,
    assignee_id: Option<i64>,
    site_id: Option<i64>,
}

/// What a notice says; rendered in the reader's language when shown.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct NoticePayload {
    pub number: String,
    pub clock: Option<String>,
    pub due_at: Option<i64>,
    pub step: Option<usize>,
}

impl Db {
    /// How many clocks are running (for benchmarks and the admin).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn running_clock_count(&self) -> Result<i64> {
        Ok(
            on_db!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM deadlines WHERE ended_at IS NULL").fetch_one(p).await)?,
        )
    }

    /// The complaint's clocks, oldest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn deadlines(&self, id: ComplaintId) -> Result<Vec<DeadlineRow>> {
        let sql = "SELECT kind, fast, started_at, earliest_at, due_at, paused_at, met_at, breached_at, ended_at, cancelled \
                   FROM deadlines WHERE complaint_id = $1 AND kind <> 'duty_alert' ORDER BY id";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }

    /// A site's working calendar with the admin's holiday uploads (the
    /// defaults for no site or unreadable settings).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn site_calendar(&self, site_id: Option<i64>) -> Result<SiteCalendar> {
        let row: Option<(Option<String>, String)> = match site_id {
            Some(id) => {
                on_db!(self, p => sqlx::query_as("SELECT calendar, time_zone FROM sites WHERE id = $1").bind(id).fetch_optional(p).await)?
            }
            None => None,
        };
        let rows: Vec<(i64, String)> = on_db!(self, p => sqlx::query_as("SELECT year, source FROM holiday_years ORDER BY year").fetch_all(p).await)?;
        let holidays = uploaded_holidays(rows);
        Ok(calendar_of(
            row.as_ref().and_then(|r| r.0.as_deref()),
            row.as_ref().map(|r| r.1.as_str()),
            holidays,
        ))
    }

    /// The deadline policy, or the seeds' defaults when none was saved.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn deadline_policy(&self) -> Result<DeadlinePolicy> {
        let raw: Option<String> = on_db!(self, p => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(DEADLINE_POLICY_KEY)
            .fetch_optional(p)
            .await)?;
        Ok(policy_of(raw.as_deref()))
    }

    /// Saves the deadline policy (None: back to the seeds' defaults). Clocks
    /// already running keep their due times; the sweep escalates them by
    /// the policy it reads at each pass.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_deadline_policy(&self, policy: Option<&DeadlinePolicy>) -> Result<()> {
        let mut tx = self.begin().await?;
        match policy {
            Some(p) => {
                let json = serde_json::to_string(p)
                    .map_err(|e| StorageError::Corrupt(format!("deadline policy: {e}")))?;
                let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
                on_tx!(&mut tx, c => sqlx::query(sql).bind(DEADLINE_POLICY_KEY).bind(&json).execute(c).await.map(|r| r.rows_affected()))?;
            }
            None => {
                on_tx!(&mut tx, c => sqlx::query("DELETE FROM settings WHERE key = $1").bind(DEADLINE_POLICY_KEY).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the admin saved a policy of their own.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn deadline_policy_saved(&self) -> Result<bool> {
        Ok(self.setting(DEADLINE_POLICY_KEY).await?.is_some())
    }

    /// One pass of the deadline sweep at `now`: up to `limit` due clocks.
    /// Returns what it did; call again while `clocks == limit`.
    ///
    /// # Errors
    /// The driver's error; the pass is rolled back and nothing is told.
    pub async fn sweep_deadlines(
        &self,
        now: Timestamp,
        limit: u32,
        outbound: &Outbound<'_>,
    ) -> Result<SweepReport> {
        let mut tx = self.begin().await?;
        let policy = policy_in(&mut tx).await?;
        let lock = if matches!(tx, Tx::Pg(_)) {
            " FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT d.id, d.complaint_id, d.kind, d.due_at, d.warn_at, d.warned_at, d.breached_at, d.escalations, \
             c.number, c.severity, c.department_id, c.assignee_id, c.site_id \
             FROM deadlines d JOIN complaints c ON c.id = d.complaint_id \
             WHERE d.next_check_at IS NOT NULL AND d.next_check_at <= $1 ORDER BY d.next_check_at LIMIT {limit}{lock}"
        );
        let due: Vec<DueRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(ms(now)).fetch_all(c).await)?;
        let mut report = SweepReport {
            clocks: due.len(),
            ..SweepReport::default()
        };
        for d in &due {
            let Some(rule) = d
                .kind
                .parse::<ClockKind>()
                .ok()
                .and_then(|k| policy.rule(k))
            else {
                // A clock whose rule was switched off: nothing more to do.
                on_tx!(&mut tx, c => sqlx::query("UPDATE deadlines SET next_check_at = NULL WHERE id = $1").bind(d.id).execute(c).await.map(|r| r.rows_affected()))?;
                continue;
            };
            let mut p = Progress {
                warn_at: d.warn_at.map(ts),
                warned: d.warned_at.is_some(),
                due_at: ts(d.due_at),
                breached: d.breached_at.is_some(),
                escalations: usize::try_from(d.escalations).unwrap_or(0),
            };
            let was_breached = p.breached;
            let alert = d.kind == ClockKind::DutyAlert.as_str();
            let notices = rule.due_notices(&mut p, d.severity == "major", now);
            for notice in &notices {
                let (rungs, step, kind): (Vec<Rung>, Option<usize>, &str) = match notice {
                    Notice::Warning => {
                        report.warnings += 1;
                        (vec![Rung::Owner], None, "deadline_warning")
                    }
                    Notice::Escalation { step, notify } if alert => {
                        (notify.clone(), Some(*step), "urgent_after_hours")
                    }
                    Notice::Escalation { step, notify } => {
                        (notify.clone(), Some(*step), "deadline_breached")
                    }
                };
                let users = recipients(&mut tx, d, &rungs, now).await?;
                let payload = NoticePayload {
                    number: d.number.clone(),
                    clock: Some(d.kind.clone()),
                    due_at: Some(d.due_at),
                    step,
                };
                let what = step.map_or_else(|| "warn".to_owned(), |s| format!("step{s}"));
                let (subject, body) = if outbound.email || !outbound.robots.is_empty() {
                    (outbound.render)(kind, &payload)
                } else {
                    (String::new(), String::new())
                };
                for (user, email) in users {
                    let key = format!("deadline:{}:{what}:user:{user}", d.id);
                    report.notices += notify(
                        &mut tx,
                        &key,
                        user,
                        Some(d.complaint_id),
                        kind,
                        &payload,
                        now,
                    )
                    .await?;
                    if let Some(address) = email.filter(|e| outbound.email && !e.trim().is_empty())
                    {
                        let key = format!("deadline:{}:{what}:email:{user}", d.id);
                        crate::outbox::enqueue(
                            &mut tx, &key, "email", &address, &subject, &body, now,
                        )
                        .await?;
                    }
                }
                for robot in &outbound.robots {
                    let key = format!("deadline:{}:{what}:{robot}", d.id);
                    crate::outbox::enqueue(&mut tx, &key, robot, "", &subject, &body, now).await?;
                }
            }
            if p.breached && !was_breached && !alert {
                report.breaches += 1;
            }
            let next = rule.next_check(&p).map(ms);
            // The duty alert is not a deadline: once it told, it ends.
            let sql = "UPDATE deadlines SET warned_at = CASE WHEN $1 AND warned_at IS NULL THEN $2 ELSE warned_at END, \
                       breached_at = CASE WHEN $3 AND breached_at IS NULL AND kind <> 'duty_alert' THEN due_at ELSE breached_at END, \
                       ended_at = CASE WHEN kind = 'duty_alert' AND $5 IS NULL THEN $2 ELSE ended_at END, \
                       escalations = $4, next_check_at = $5 WHERE id = $6";
            on_tx!(&mut tx, c => sqlx::query(sql)
                .bind(p.warned)
                .bind(ms(now))
                .bind(p.breached)
                .bind(i64::try_from(p.escalations).unwrap_or(0))
                .bind(next)
                .bind(d.id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// The active users a rung of the ladder names for this complaint: its
/// owner, its department's managers, and the supervisors, general managers
/// or customer-service agents of its site (or of the group).
async fn recipients(
    tx: &mut Tx,
    d: &DueRow,
    rungs: &[Rung],
    now: Timestamp,
) -> Result<Vec<(i64, Option<String>)>> {
    let mut users: Vec<(i64, Option<String>)> = Vec::new();
    for rung in rungs {
        let found: Vec<(i64, Option<String>)> = match rung {
            Rung::Owner => match d.assignee_id {
                Some(a) => active_with_email(tx, a).await?.into_iter().collect(),
                None => by_role(tx, "manager", d.department_id, d.site_id).await?,
            },
            Rung::DepartmentManager => match d.department_id {
                Some(_) => by_role(tx, "manager", d.department_id, d.site_id).await?,
                None => Vec::new(),
            },
            Rung::Supervisor => by_role(tx, "supervisor", None, d.site_id).await?,
            Rung::GeneralManager => by_role(tx, "gm", None, d.site_id).await?,
            Rung::CustomerService => by_role(tx, "agent", None, d.site_id).await?,
            Rung::OnDuty => {
                let mut on_duty = Vec::new();
                for id in crate::settings::on_duty_in(tx, d.site_id, now).await? {
                    on_duty.extend(active_with_email(tx, id).await?);
                }
                if on_duty.is_empty() {
                    by_role(tx, "gm", None, d.site_id).await?
                } else {
                    on_duty
                }
            }
        };
        for u in found {
            if !users.iter().any(|(id, _)| *id == u.0) {
                users.push(u);
            }
        }
    }
    Ok(users)
}

/// An active user and their notice e-mail; None when inactive or gone.
pub(crate) async fn active_with_email(
    tx: &mut Tx,
    user: i64,
) -> Result<Option<(i64, Option<String>)>> {
    let email: Option<Option<String>> = on_tx!(tx, c => sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND active = TRUE")
        .bind(user)
        .fetch_optional(c)
        .await)?;
    Ok(email.map(|e| (user, e)))
}

pub(crate) async fn by_role(
    tx: &mut Tx,
    role: &str,
    department: Option<i64>,
    site: Option<i64>,
) -> Result<Vec<(i64, Option<String>)>> {
    let sql = "SELECT u.id, u.email FROM users u LEFT JOIN departments dp ON dp.id = u.department_id LEFT JOIN sites st ON st.id = dp.site_id \
               WHERE u.active = TRUE AND (',' || u.roles || ',') LIKE $1 \
               AND ($2 IS NULL OR u.department_id = $2) \
               AND ($3 IS NULL OR dp.id IS NULL OR st.is_group = TRUE OR st.id = $3) ORDER BY u.id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql)
        .bind(format!("%,{role},%"))
        .bind(department)
        .bind(site)
        .fetch_all(c)
        .await)?)
}

/// Writes an in-app notice once: a second write with the same key is ignored.
/// Returns 1 when written.
pub(crate) async fn notify(
    tx: &mut Tx,
    key: &str,
    user: i64,
    complaint: Option<i64>,
    kind: &str,
    payload: &NoticePayload,
    now: Timestamp,
) -> Result<usize> {
    let payload =
        serde_json::to_string(payload).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let sql = "INSERT INTO notifications (key, user_id, complaint_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (key) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(key)
        .bind(user)
        .bind(complaint)
        .bind(kind)
        .bind(&payload)
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(usize::try_from(n).unwrap_or(0))
}
