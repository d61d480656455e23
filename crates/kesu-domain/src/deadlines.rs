//! Deadlines (时限): which clocks a complaint runs, when they start, pause,
//! resume and stop, and when each is due — decided from the events of the
//! lifecycle, a site's working calendar and the deadline policy.
//!
//! The policy is data ([`DeadlinePolicy`], kept as JSON in the settings): for
//! each clock what starts and stops it, how long it runs, in working or
//! calendar time, a shorter limit for the fast track (major or urgent,
//! R-CL-3), whether it pauses while the desk waits for the customer, when to
//! warn and whom to tell on breach. The defaults are the seeds' numbers.
//!
//! Nothing here reads the clock or a database: storage passes the running
//! clocks and the time, and writes the returned [`ClockChange`]s in the
//! transaction that records the events. The sweep that warns and escalates
//! asks [`ClockRule::escalation`] what to do when.

use jiff::{SignedDuration, Timestamp};
use kesu_calendar::SiteCalendar;
use serde::{Deserialize, Serialize};

use crate::codes::{ClockKind, Rung, State, Trigger};
use crate::complaint::Event;

/// Whether a clock counts the site's working time or every hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    Working,
    Calendar,
}

/// How long a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Limit {
    /// A duration, counted as the rule says.
    Minutes { minutes: i64 },
    /// This many working days later, at the same time of day (3 个工作日).
    WorkingDays { days: u32 },
    /// The end of the working day it started in (当天).
    EndOfWorkingDay,
    /// A window: not before `earliest_days`, not after `latest_days`
    /// (calendar days; the follow-up visit on day 5 to 7).
    Window {
        earliest_days: i64,
        latest_days: i64,
    },
}

/// One step of the escalation ladder: `after_minutes` past the due time,
/// these people are told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub after_minutes: i64,
    pub notify: Vec<Rung>,
}

/// The policy of one clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRule {
    pub kind: ClockKind,
    pub enabled: bool,
    pub starts: Vec<Trigger>,
    pub stops: Vec<Trigger>,
    pub limit: Limit,
    /// The limit on the fast track (major or urgent); `None`: the same.
    pub fast_limit: Option<Limit>,
    pub counting: Counting,
    /// Paused while a proposal waits for the customer's answer.
    pub pauses_for_customer: bool,
    /// Warn the owner when this share of the time is used (0: no warning;
    /// a window warns when it opens).
    pub warn_percent: u8,
    /// Who is told on breach and later, step by step.
    pub escalation: Vec<Step>,
    /// Told at the breach of a major complaint's clock, besides the ladder.
    pub major_notify: Vec<Rung>,
}

impl ClockRule {
    fn limit_for(&self, fast: bool) -> Limit {
        if fast {
            self.fast_limit.unwrap_or(self.limit)
        } else {
            self.limit
        }
    }
}

/// Every clock's rule (R-CL-3 fast track included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    pub rules: Vec<ClockRule>,
}

fn ladder(first: &[Rung], later_minutes: i64, later: &[Rung]) -> Vec<Step> {
    vec![
        Step {
            after_minutes: 0,
            notify: first.to_vec(),
        },
        Step {
            after_minutes: later_minutes,
            notify: later.to_vec(),
        },
    ]
}

impl Default for DeadlinePolicy {
    /// The seeds' deadlines.
    fn default() -> Self {
        use ClockKind as K;
        use Rung as R;
        use Trigger as T;
        let minutes = |m| Limit::Minutes { minutes: m };
        let rule =
            |kind, starts: &[Trigger], stops: &[Trigger], limit, fast_limit, counting| ClockRule {
                kind,
                enabled: true,
                starts: starts.to_vec(),
                stops: stops.to_vec(),
                limit,
                fast_limit,
                counting,
                pauses_for_customer: false,
                warn_percent: 75,
                escalation: ladder(&[R::Owner, R::DepartmentManager], 60, &[R::Supervisor]),
                major_notify: vec![R::GeneralManager],
            };
        let service = ladder(&[R::CustomerService], 60, &[R::Supervisor]);
        DeadlinePolicy {
            rules: vec![
                ClockRule {
                    escalation: service.clone(),
                    ..rule(
                        K::Register,
                        &[T::TakenIn],
                        &[T::Registered],
                        minutes(30),
                        None,
                        Counting::Working,
                    )
                },
                ClockRule {
                    escalation: service.clone(),
                    ..rule(
                        K::Classify,
                        &[T::Receipt],
                        &[T::Classified],
                        minutes(30),
                        Some(minutes(15)),
                        Counting::Working,
                    )
                },
                ClockRule {
                    escalation: service.clone(),
                    ..rule(
                        K::Dispatch,
                        &[T::Classified],
                        &[T::Dispatched],
                        minutes(30),
                        Some(minutes(15)),
                        Counting::Working,
                    )
                },
                rule(
                    K::FirstContact,
                    &[T::Dispatched],
                    &[T::ContactLogged],
                    minutes(120),
                    Some(minutes(60)),
                    Counting::Working,
                ),
                rule(
                    K::InitialReply,
                    &[T::Receipt],
                    &[T::ContactLogged, T::FedBack],
                    minutes(24 * 60),
                    Some(minutes(12 * 60)),
                    Counting::Calendar,
                ),
                ClockRule {
                    warn_percent: 0,
                    escalation: ladder(
                        &[R::Owner, R::DepartmentManager],
                        24 * 60,
                        &[R::Supervisor],
                    ),
                    pauses_for_customer: true,
                    ..rule(
                        K::ProgressReport,
                        &[T::Receipt, T::Reopened],
                        &[T::FedBack],
                        Limit::WorkingDays { days: 3 },
                        None,
                        Counting::Working,
                    )
                },
                ClockRule {
                    pauses_for_customer: true,
                    escalation: ladder(&[R::Owner, R::DepartmentManager], 8 * 60, &[R::Supervisor]),
                    ..rule(
                        K::Resolve,
                        &[T::Receipt, T::Reopened],
                        &[T::FedBack],
                        minutes(72 * 60),
                        Some(minutes(48 * 60)),
                        Counting::Calendar,
                    )
                },
                rule(
                    K::ReportBack,
                    &[T::ExecutionCompleted],
                    &[T::FedBack],
                    Limit::EndOfWorkingDay,
                    None,
                    Counting::Working,
                ),
                ClockRule {
                    warn_percent: 0,
                    escalation: vec![Step {
                        after_minutes: 0,
                        notify: vec![R::OnDuty],
                    }],
                    major_notify: Vec::new(),
                    ..rule(
                        K::DutyAlert,
                        &[T::Receipt],
                        &[],
                        minutes(0),
                        None,
                        Counting::Calendar,
                    )
                },
                // The reply a forwarding body (12315, 市场监管, the press …)
                // asked for by its own date: started at registration with
                // that fixed due time (the limit here is not used), stopped
                // when the result is fed back.
                ClockRule {
                    escalation: ladder(
                        &[R::Owner, R::DepartmentManager, R::CustomerService],
                        60,
                        &[R::Supervisor],
                    ),
                    ..rule(
                        K::RegulatorReply,
                        &[],
                        &[T::FedBack],
                        minutes(0),
                        None,
                        Counting::Calendar,
                    )
                },
                ClockRule {
                    escalation: service,
                    major_notify: Vec::new(),
                    ..rule(
                        K::FollowUp,
                        &[T::FedBack],
                        &[T::FollowedUp],
                        Limit::Window {
                            earliest_days: 5,
                            latest_days: 7,
                        },
                        None,
                        Counting::Calendar,
                    )
                },
            ],
        }
    }
}

/// A clock that is running (or paused), as storage holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub kind: ClockKind,
    pub started_at: Timestamp,
    pub due_at: Timestamp,
    pub warn_at: Option<Timestamp>,
    pub paused_at: Option<Timestamp>,
    pub fast: bool,
}

/// What happens to the clocks because of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockChange {
    Start {
        kind: ClockKind,
        started_at: Timestamp,
        due_at: Timestamp,
        earliest_at: Option<Timestamp>,
        warn_at: Option<Timestamp>,
        fast: bool,
    },
    /// The clock's work was done at `at`: met when not after the due time.
    Stop {
        kind: ClockKind,
        at: Timestamp,
    },
    /// The complaint ended another way (closed, merged, withdrawn,
    /// rejected): the clock neither met nor breached.
    Cancel {
        kind: ClockKind,
        at: Timestamp,
    },
    Pause {
        kind: ClockKind,
        at: Timestamp,
    },
    Resume {
        kind: ClockKind,
        at: Timestamp,
        due_at: Timestamp,
        warn_at: Option<Timestamp>,
    },
    /// Moved to the fast track: an earlier due time.
    Retime {
        kind: ClockKind,
        due_at: Timestamp,
        warn_at: Option<Timestamp>,
    },
}

/// The triggers an event fires; `before` is the state before it (None for
/// the first event of a complaint).
pub fn triggers(before: Option<State>, event: &Event) -> Vec<Trigger> {
    match event {
        Event::Received { .. } => vec![Trigger::Receipt, Trigger::TakenIn],
        Event::Registered { .. } if before.is_none() => vec![Trigger::Receipt],
        Event::Registered { .. } => vec![Trigger::Registered],
        Event::Classified {
            category: Some(_), ..
        } => vec![Trigger::Classified],
        Event::Dispatched { .. } => vec![Trigger::Dispatched],
        Event::ContactLogged { .. } => vec![Trigger::ContactLogged],
        Event::ExecutionRecorded {
            completed: true, ..
        } => vec![Trigger::ExecutionCompleted],
        Event::FedBack { .. } => vec![Trigger::FedBack],
        Event::FollowedUp { .. } => vec![Trigger::FollowedUp],
        Event::Reopened { .. } => vec![Trigger::Reopened],
        _ => Vec::new(),
    }
}

/// The facts about a complaint the clocks depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    /// State before the event (None: the complaint's first event).
    pub before: Option<State>,
    pub after: State,
    /// Major or urgent: the fast track (R-CL-3).
    pub fast: bool,
    /// Marked urgent when it came in: its clocks start at once even after
    /// hours (R-IN-6); other clocks start at the next working time.
    pub urgent: bool,
}

fn is_terminal(s: State) -> bool {
    matches!(
        s,
        State::Closed | State::Merged | State::Withdrawn | State::Rejected
    )
}

/// Why a policy an admin wrote cannot be used; each names the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyProblem {
    /// The same clock is described twice.
    Duplicate(ClockKind),
    /// An enabled clock that nothing starts.
    NeverStarts(ClockKind),
    /// A deadline clock that nothing stops (it could only be breached).
    NeverStops(ClockKind),
    /// The same step both starts and stops it.
    StartsAndStops(ClockKind, Trigger),
    /// A duration of zero or less, or beyond a year.
    BadLimit(ClockKind),
    /// A window whose earliest day is after its latest.
    BadWindow(ClockKind),
    /// The fast track is longer than the normal limit.
    SlowFastTrack(ClockKind),
    /// A warning share of 100 % or more.
    BadWarning(ClockKind),
    /// An escalation step that tells nobody, comes before an earlier step,
    /// or is more than 30 days after the due time.
    BadStep(ClockKind),
}

impl PolicyProblem {
    pub fn kind(self) -> ClockKind {
        match self {
            PolicyProblem::Duplicate(k)
            | PolicyProblem::NeverStarts(k)
            | PolicyProblem::NeverStops(k)
            | PolicyProblem::StartsAndStops(k, _)
            | PolicyProblem::BadLimit(k)
            | PolicyProblem::BadWindow(k)
            | PolicyProblem::SlowFastTrack(k)
            | PolicyProblem::BadWarning(k)
            | PolicyProblem::BadStep(k) => k,
        }
    }
}

/// A limit's length in minutes, for comparing a fast track with the normal
/// limit (a working day counted as 8 hours, the end of the day as 0).
fn rough_minutes(limit: Limit) -> i64 {
    match limit {
        Limit::Minutes { minutes } => minutes,
        Limit::WorkingDays { days } => i64::from(days) * 8 * 60,
        Limit::EndOfWorkingDay => 0,
        Limit::Window { latest_days, .. } => latest_days * 24 * 60,
    }
}

const YEAR_MINUTES: i64 = 366 * 24 * 60;

fn limit_ok(limit: Limit, zero_allowed: bool) -> Result<(), bool> {
    match limit {
        Limit::Minutes { minutes } if minutes == 0 && zero_allowed => Ok(()),
        Limit::Minutes { minutes } if minutes <= 0 || minutes > YEAR_MINUTES => Err(false),
        Limit::WorkingDays { days } if days == 0 || days > 250 => Err(false),
        Limit::Window {
            earliest_days,
            latest_days,
        } => {
            if earliest_days < 0 || latest_days <= 0 || latest_days > 366 {
                Err(false)
            } else if earliest_days > latest_days {
                Err(true)
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

impl DeadlinePolicy {
    /// What makes the policy unusable, if anything (an admin's edit is
    /// refused with these; the stored policy always passes).
    pub fn problems(&self) -> Vec<PolicyProblem> {
        use PolicyProblem as P;
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let k = rule.kind;
            if self.rules[..i].iter().any(|r| r.kind == k) {
                out.push(P::Duplicate(k));
            }
            if !rule.enabled {
                continue;
            }
            let alert = k == ClockKind::DutyAlert;
            // Started with the regulator's own deadline, not by a step.
            let fixed = k == ClockKind::RegulatorReply;
            if rule.starts.is_empty() && !fixed {
                out.push(P::NeverStarts(k));
            }
            if rule.stops.is_empty() && !alert {
                out.push(P::NeverStops(k));
            }
            if let Some(t) = rule.starts.iter().find(|t| rule.stops.contains(t)) {
                out.push(P::StartsAndStops(k, *t));
            }
            let mut limits_ok = true;
            let limits = std::iter::once(rule.limit)
                .chain(rule.fast_limit)
                .filter(|_| !fixed);
            for limit in limits {
                match limit_ok(limit, alert) {
                    Ok(()) => {}
                    Err(true) => out.push(P::BadWindow(k)),
                    Err(false) => out.push(P::BadLimit(k)),
                }
                limits_ok &= limit_ok(limit, alert).is_ok();
            }
            if limits_ok
                && let Some(fast) = rule.fast_limit
                && rough_minutes(fast) > rough_minutes(rule.limit)
            {
                out.push(P::SlowFastTrack(k));
            }
            if rule.warn_percent >= 100 {
                out.push(P::BadWarning(k));
            }
            let mut last = -1;
            for step in &rule.escalation {
                if step.notify.is_empty()
                    || step.after_minutes <= last
                    || step.after_minutes > 30 * 24 * 60
                {
                    out.push(P::BadStep(k));
                    break;
                }
                last = step.after_minutes;
            }
        }
        out.dedup();
        out
    }

    pub fn rule(&self, kind: ClockKind) -> Option<&ClockRule> {
        self.rules.iter().find(|r| r.kind == kind && r.enabled)
    }

    /// What the event does to the clocks. `running` is updated to match.
    pub fn on_event(
        &self,
        calendar: &SiteCalendar,
        running: &mut Vec<Running>,
        situation: Situation,
        event: &Event,
        now: Timestamp,
    ) -> Vec<ClockChange> {
        let mut changes = Vec::new();
        let fired = triggers(situation.before, event);

        // Stops first, so that an event that stops and restarts a kind
        // (none in the defaults) ends the old clock before the new one.
        for rule in &self.rules {
            if rule.stops.iter().any(|t| fired.contains(t))
                && let Some(i) = running.iter().position(|r| r.kind == rule.kind)
            {
                running.remove(i);
                changes.push(ClockChange::Stop {
                    kind: rule.kind,
                    at: now,
                });
            }
        }
        if is_terminal(situation.after) {
            for r in running.drain(..) {
                changes.push(ClockChange::Cancel {
                    kind: r.kind,
                    at: now,
                });
            }
            return changes;
        }
        for rule in self.rules.iter().filter(|r| r.enabled) {
            if rule.starts.iter().any(|t| fired.contains(t))
                && !running.iter().any(|r| r.kind == rule.kind)
            {
                // The duty alert is for urgent complaints outside working time only.
                if rule.kind == ClockKind::DutyAlert
                    && (!situation.urgent || calendar.is_working_time(now))
                {
                    continue;
                }
                let from = if situation.urgent {
                    now
                } else {
                    calendar.next_working_time(now).unwrap_or(now)
                };
                let limit = rule.limit_for(situation.fast);
                let (due_at, earliest_at) = due(calendar, rule.counting, limit, from);
                let warn_at = warn_at(calendar, rule, from, due_at, earliest_at);
                running.push(Running {
                    kind: rule.kind,
                    started_at: from,
                    due_at,
                    warn_at,
                    paused_at: None,
                    fast: situation.fast,
                });
                changes.push(ClockChange::Start {
                    kind: rule.kind,
                    started_at: from,
                    due_at,
                    earliest_at,
                    warn_at,
                    fast: situation.fast,
                });
            }
        }
        // The fast track shortens clocks already running.
        if situation.fast {
            for r in running.iter_mut().filter(|r| !r.fast) {
                let Some(rule) = self.rule(r.kind) else {
                    continue;
                };
                let Some(limit) = rule.fast_limit else {
                    continue;
                };
                let (due_at, earliest_at) = due(calendar, rule.counting, limit, r.started_at);
                r.fast = true;
                if due_at < r.due_at {
                    r.due_at = due_at;
                    r.warn_at = warn_at(calendar, rule, r.started_at, due_at, earliest_at);
                    changes.push(ClockChange::Retime {
                        kind: r.kind,
                        due_at,
                        warn_at: r.warn_at,
                    });
                }
            }
        }
        // Waiting for the customer's answer pauses the clocks that allow it.
        let waiting = |s: Option<State>| s == Some(State::Proposed);
        if !waiting(situation.before) && waiting(Some(situation.after)) {
            for r in running.iter_mut().filter(|r| r.paused_at.is_none()) {
                if self
                    .rule(r.kind)
                    .is_some_and(|rule| rule.pauses_for_customer)
                {
                    r.paused_at = Some(now);
                    changes.push(ClockChange::Pause {
                        kind: r.kind,
                        at: now,
                    });
                }
            }
        } else if waiting(situation.before) && !waiting(Some(situation.after)) {
            for r in running.iter_mut() {
                let (Some(paused_at), Some(rule)) = (r.paused_at, self.rule(r.kind)) else {
                    continue;
                };
                let shift = |t: Timestamp| match rule.counting {
                    Counting::Calendar => t.checked_add(now.duration_since(paused_at)).unwrap_or(t),
                    Counting::Working => {
                        let left = calendar.working_between(paused_at, t);
                        calendar.add_working(now, left).unwrap_or_else(|_| {
                            t.checked_add(now.duration_since(paused_at)).unwrap_or(t)
                        })
                    }
                };
                r.due_at = shift(r.due_at);
                r.warn_at = r.warn_at.map(|w| if w > paused_at { shift(w) } else { w });
                r.paused_at = None;
                changes.push(ClockChange::Resume {
                    kind: r.kind,
                    at: now,
                    due_at: r.due_at,
                    warn_at: r.warn_at,
                });
            }
        }
        changes
    }
}

/// Where a running clock stands with its warning and escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub warn_at: Option<Timestamp>,
    pub warned: bool,
    pub due_at: Timestamp,
    pub breached: bool,
    /// Escalation steps already taken.
    pub escalations: usize,
}

/// What the sweep must tell, and whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The owner is warned that the deadline nears (or a window opened).
    Warning,
    /// Step `step` of the ladder (step 0 comes with the breach itself).
    Escalation { step: usize, notify: Vec<Rung> },
}

impl ClockRule {
    /// When the sweep must look at this clock next; None when nothing is left.
    pub fn next_check(&self, p: &Progress) -> Option<Timestamp> {
        if !p.breached {
            return Some(match p.warn_at {
                Some(w) if !p.warned && w < p.due_at => w,
                _ => p.due_at,
            });
        }
        self.escalation.get(p.escalations).map(|step| {
            p.due_at
                .checked_add(SignedDuration::from_mins(step.after_minutes))
                .unwrap_or(p.due_at)
        })
    }

    /// The notices due at `now`, in order; `p` is moved past them. A clock
    /// found already overdue (kesu was down) skips its warning. A major
    /// complaint's first step also tells `major_notify`.
    pub fn due_notices(&self, p: &mut Progress, major: bool, now: Timestamp) -> Vec<Notice> {
        let mut out = Vec::new();
        if !p.breached
            && !p.warned
            && let Some(w) = p.warn_at
            && w <= now
        {
            p.warned = true;
            if p.due_at > now {
                out.push(Notice::Warning);
            }
        }
        if !p.breached && p.due_at <= now {
            p.breached = true;
            p.warned = true;
        }
        if p.breached {
            while let Some(step) = self.escalation.get(p.escalations) {
                let at = p
                    .due_at
                    .checked_add(SignedDuration::from_mins(step.after_minutes))
                    .unwrap_or(p.due_at);
                if at > now {
                    break;
                }
                let mut notify = step.notify.clone();
                if p.escalations == 0 && major {
                    for r in &self.major_notify {
                        if !notify.contains(r) {
                            notify.push(*r);
                        }
                    }
                }
                out.push(Notice::Escalation {
                    step: p.escalations,
                    notify,
                });
                p.escalations += 1;
            }
        }
        out
    }
}

/// The due time (and a window's opening) of a limit started at `from`.
pub fn due(
    calendar: &SiteCalendar,
    counting: Counting,
    limit: Limit,
    from: Timestamp,
) -> (Timestamp, Option<Timestamp>) {
    let plain = |d: SignedDuration| from.checked_add(d).unwrap_or(from);
    match limit {
        Limit::Minutes { minutes } => {
            let d = SignedDuration::from_mins(minutes);
            let at = match counting {
                Counting::Working => calendar.add_working(from, d).unwrap_or_else(|_| plain(d)),
                Counting::Calendar => plain(d),
            };
            (at, None)
        }
        Limit::WorkingDays { days } => (
            calendar
                .add_working_days(from, days)
                .unwrap_or_else(|_| plain(SignedDuration::from_hours(24 * i64::from(days)))),
            None,
        ),
        Limit::EndOfWorkingDay => (
            calendar
                .end_of_working_day(from)
                .unwrap_or_else(|_| plain(SignedDuration::from_hours(8))),
            None,
        ),
        Limit::Window {
            earliest_days,
            latest_days,
        } => (
            plain(SignedDuration::from_hours(24 * latest_days)),
            Some(plain(SignedDuration::from_hours(24 * earliest_days))),
        ),
    }
}

fn warn_at(
    calendar: &SiteCalendar,
    rule: &ClockRule,
    from: Timestamp,
    due_at: Timestamp,
    earliest_at: Option<Timestamp>,
) -> Option<Timestamp> {
    if let Some(opens) = earliest_at {
        return Some(opens);
    }
    if rule.warn_percent == 0 || rule.warn_percent >= 100 {
        return None;
    }
    let pct = i32::from(rule.warn_percent);
    Some(match rule.counting {
        Counting::Calendar => from
            .checked_add(due_at.duration_since(from) * pct / 100)
            .unwrap_or(due_at),
        Counting::Working => {
            let total = calendar.working_between(from, due_at);
            calendar
                .add_working(from, total * pct / 100)
                .unwrap_or(due_at)
        }
    })
}

#[cfg(test)]
mod tests;
