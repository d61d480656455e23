//! The deadline policy (admin, issue 4 item 2): every clock's start and stop
//! steps, its limit (minutes, hours, working days, the end of the working
//! day, or a window of days), the fast track (R-CL-3), working or calendar
//! time, the pause while the customer decides, the warning share and the
//! escalation ladder — the [`DeadlinePolicy`] the seeds' numbers fill by
//! default, edited as a form and checked by [`DeadlinePolicy::problems`]
//! before it is stored. A refused form comes back with what was typed and a
//! message on each clock that is wrong.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_domain::codes::{ClockKind, Rung, Trigger};
use kesu_domain::deadlines::{ClockRule, Counting, DeadlinePolicy, Limit, PolicyProblem, Step};
use serde_json::{Map, Value};

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/deadlines", get(policy_page).post(save_policy))
        .route("/admin/deadlines/reset", post(reset_policy))
}

/// Escalation rows a clock offers in the form (filled ones plus room for
/// one more).
const STEP_ROWS: usize = 3;

const LIMIT_UNITS: &[&str] = &[
    "minutes",
    "hours",
    "working_days",
    "end_of_working_day",
    "window",
];
const FAST_UNITS: &[&str] = &[
    "same",
    "minutes",
    "hours",
    "working_days",
    "end_of_working_day",
];

/// One escalation step as typed.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    /// Hours after the due time (decimals allowed).
    pub after_hours: String,
    pub notify: Vec<String>,
}

/// One clock's rule as typed or stored.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub code: &'static str,
    /// The duty alert has no deadline: only on/off and whom it tells.
    pub alert: bool,
    /// Due at a date given with the case (a regulator's reply deadline): no
    /// limit, counting or start steps of its own.
    pub fixed: bool,
    pub enabled: bool,
    pub starts: Vec<String>,
    pub stops: Vec<String>,
    pub limit_unit: String,
    pub limit: String,
    pub latest: String,
    pub fast_unit: String,
    pub fast: String,
    pub counting: String,
    pub pauses: bool,
    pub warn: String,
    pub steps: Vec<StepInput>,
    pub major_notify: Vec<String>,
    pub error: Option<String>,
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// A limit as (unit, amount, latest).
fn limit_fields(limit: Limit) -> (&'static str, String, String) {
    match limit {
        Limit::Minutes { minutes } if minutes >= 60 && minutes % 60 == 0 => {
            ("hours", (minutes / 60).to_string(), String::new())
        }
        Limit::Minutes { minutes } => ("minutes", minutes.to_string(), String::new()),
        Limit::WorkingDays { days } => ("working_days", days.to_string(), String::new()),
        Limit::EndOfWorkingDay => ("end_of_working_day", String::new(), String::new()),
        Limit::Window {
            earliest_days,
            latest_days,
        } => ("window", earliest_days.to_string(), latest_days.to_string()),
    }
}

fn codes<T: Copy>(items: &[T], code: impl Fn(T) -> &'static str) -> Vec<String> {
    items.iter().map(|i| code(*i).to_owned()).collect()
}

impl RuleInput {
    fn from_rule(rule: &ClockRule) -> RuleInput {
        let (limit_unit, limit, latest) = limit_fields(rule.limit);
        let (fast_unit, fast) = match rule.fast_limit {
            None => ("same", String::new()),
            Some(l) => {
                let (u, a, _) = limit_fields(l);
                (u, a)
            }
        };
        let mut steps: Vec<StepInput> = rule
            .escalation
            .iter()
            .map(|s| StepInput {
                after_hours: number(s.after_minutes as f64 / 60.0),
                notify: codes(&s.notify, Rung::as_str),
            })
            .collect();
        steps.resize((steps.len() + 1).max(STEP_ROWS), StepInput::default());
        RuleInput {
            code: rule.kind.as_str(),
            alert: rule.kind == ClockKind::DutyAlert,
            fixed: rule.kind == ClockKind::RegulatorReply,
            enabled: rule.enabled,
            starts: codes(&rule.starts, Trigger::as_str),
            stops: codes(&rule.stops, Trigger::as_str),
            limit_unit: limit_unit.to_owned(),
            limit,
            latest,
            fast_unit: fast_unit.to_owned(),
            fast,
            counting: match rule.counting {
                Counting::Working => "working",
                Counting::Calendar => "calendar",
            }
            .to_owned(),
            pauses: rule.pauses_for_customer,
            warn: rule.warn_percent.to_string(),
            steps,
            major_notify: codes(&rule.major_notify, Rung::as_str),
            error: None,
        }
    }

    fn from_form(stored: &ClockRule, form: &Map<String, Value>) -> RuleInput {
        let code = stored.kind.as_str();
        let text = |f: &str| {
            form.get(&format!("{code}.{f}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let list = |f: &str| -> Vec<String> {
            form.get(&format!("{code}.{f}"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let steps = (0..STEP_ROWS.max(stored.escalation.len() + 1))
            .map(|i| StepInput {
                after_hours: text(&format!("step{i}.after_hours")),
                notify: list(&format!("step{i}.notify")),
            })
            .collect();
        RuleInput {
            code,
            alert: stored.kind == ClockKind::DutyAlert,
            fixed: stored.kind == ClockKind::RegulatorReply,
            enabled: text("enabled") == "true",
            starts: list("starts"),
            stops: list("stops"),
            limit_unit: text("limit_unit"),
            limit: text("limit"),
            latest: text("latest"),
            fast_unit: text("fast_unit"),
            fast: text("fast"),
            counting: text("counting"),
            pauses: text("pauses") == "true",
            warn: text("warn"),
            steps,
            major_notify: list("major_notify"),
            error: None,
        }
    }

    /// The form names of this clock's multi-value fields.
    fn list_names(stored: &ClockRule) -> Vec<String> {
        let code = stored.kind.as_str();
        let mut names: Vec<String> = ["starts", "stops", "major_notify"]
            .iter()
            .map(|f| format!("{code}.{f}"))
            .collect();
        for i in 0..STEP_ROWS.max(stored.escalation.len() + 1) {
            names.push(format!("{code}.step{i}.notify"));
        }
        names
    }

    /// The rule typed, or the message for the first field that cannot be
    /// read. The duty alert keeps its stored limit and triggers.
    fn parse(&self, lang: Lang, stored: &ClockRule) -> Result<ClockRule, String> {
        let bad = |field: &str| t(lang, &format!("policy.bad_{field}"));
        let rungs = |codes: &[String]| -> Result<Vec<Rung>, String> {
            codes
                .iter()
                .map(|c| c.parse::<Rung>().map_err(|_| bad("rung")))
                .collect()
        };
        let triggers = |codes: &[String]| -> Result<Vec<Trigger>, String> {
            codes
                .iter()
                .map(|c| c.parse::<Trigger>().map_err(|_| bad("trigger")))
                .collect()
        };
        let mut escalation = Vec::new();
        for s in &self.steps {
            if s.notify.is_empty() && s.after_hours.is_empty() {
                continue;
            }
            let hours: f64 = if s.after_hours.is_empty() {
                0.0
            } else {
                s.after_hours
                    .parse()
                    .ok()
                    .filter(|h: &f64| h.is_finite() && *h >= 0.0)
                    .ok_or_else(|| bad("step_hours"))?
            };
            escalation.push(Step {
                after_minutes: (hours * 60.0).round() as i64,
                notify: rungs(&s.notify)?,
            });
        }
        if self.alert {
            return Ok(ClockRule {
                enabled: self.enabled,
                escalation,
                ..stored.clone()
            });
        }
        let warn_percent = if self.warn.is_empty() {
            0
        } else {
            self.warn.parse::<u8>().map_err(|_| bad("warn"))?
        };
        if self.fixed {
            return Ok(ClockRule {
                enabled: self.enabled,
                stops: triggers(&self.stops)?,
                warn_percent,
                escalation,
                major_notify: rungs(&self.major_notify)?,
                ..stored.clone()
            });
        }
        let limit =
            parse_limit(&self.limit_unit, &self.limit, &self.latest).ok_or_else(|| bad("limit"))?;
        let fast_limit = if self.fast_unit == "same" || self.fast_unit.is_empty() {
            None
        } else {
            Some(parse_limit(&self.fast_unit, &self.fast, "").ok_or_else(|| bad("fast"))?)
        };
        let counting = match self.counting.as_str() {
            "working" => Counting::Working,
            "calendar" => Counting::Calendar,
            _ => return Err(bad("counting")),
        };
        Ok(ClockRule {
            kind: stored.kind,
            enabled: self.enabled,
            starts: triggers(&self.starts)?,
            stops: triggers(&self.stops)?,
            limit,
            fast_limit,
            counting,
            pauses_for_customer: self.pauses,
            warn_percent,
            escalation,
            major_notify: rungs(&self.major_notify)?,
        })
    }
}

fn parse_limit(unit: &str, amount: &str, latest: &str) -> Option<Limit> {
    let whole = |s: &str| s.parse::<i64>().ok();
    Some(match unit {
        "minutes" => Limit::Minutes {
            minutes: whole(amount)?,
        },
        "hours" => {
            let h: f64 = amount.parse().ok().filter(|h: &f64| h.is_finite())?;
            Limit::Minutes {
                minutes: (h * 60.0).round() as i64,
            }
        }
        "working_days" => Limit::WorkingDays {
            days: amount.parse().ok()?,
        },
        "end_of_working_day" => Limit::EndOfWorkingDay,
        "window" => Limit::Window {
            earliest_days: whole(amount)?,
            latest_days: whole(latest)?,
        },
        _ => return None,
    })
}

fn problem_text(lang: Lang, p: PolicyProblem) -> String {
    let key = match p {
        PolicyProblem::Duplicate(_) => "policy.problem.duplicate",
        PolicyProblem::NeverStarts(_) => "policy.problem.never_starts",
        PolicyProblem::NeverStops(_) => "policy.problem.never_stops",
        PolicyProblem::StartsAndStops(..) => "policy.problem.starts_and_stops",
        PolicyProblem::BadLimit(_) => "policy.problem.bad_limit",
        PolicyProblem::BadWindow(_) => "policy.problem.bad_window",
        PolicyProblem::SlowFastTrack(_) => "policy.problem.slow_fast_track",
        PolicyProblem::BadWarning(_) => "policy.problem.bad_warning",
        PolicyProblem::BadStep(_) => "policy.problem.bad_step",
    };
    let step = match p {
        PolicyProblem::StartsAndStops(_, trigger) => t(lang, &format!("trigger.{trigger}")),
        _ => String::new(),
    };
    t(lang, key).replace("%{step}", &step)
}

/// A (code, label) option list.
fn options(lang: Lang, kind: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), t(lang, &format!("{kind}.{c}"))))
        .collect()
}

#[derive(Template)]
#[template(path = "admin_deadlines.html")]
struct PolicyPage {
    ctx: Ctx,
    saved: bool,
    reset: bool,
    /// The admin saved a policy of their own (else: the shipped defaults).
    custom: bool,
    error: Option<String>,
    rules: Vec<RuleInput>,
    triggers: Vec<(String, String)>,
    rungs: Vec<(String, String)>,
    limit_units: Vec<(String, String)>,
    fast_units: Vec<(String, String)>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    rules: Option<Vec<RuleInput>>,
    error: Option<String>,
    query: Option<&str>,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/deadlines");
    let lang = ctx.lang;
    let rules = match rules {
        Some(r) => r,
        None => state
            .db
            .deadline_policy()
            .await?
            .rules
            .iter()
            .map(RuleInput::from_rule)
            .collect(),
    };
    let refused = error.is_some();
    let trigger_codes: Vec<&str> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
    let rung_codes: Vec<&str> = Rung::ALL.iter().map(|r| r.as_str()).collect();
    let mut res = render(&PolicyPage {
        saved: query.is_some_and(|q| q.contains("saved")),
        reset: query.is_some_and(|q| q.contains("reset")),
        custom: state.db.deadline_policy_saved().await?,
        error,
        rules,
        triggers: options(lang, "trigger", &trigger_codes),
        rungs: options(lang, "rung", &rung_codes),
        limit_units: options(lang, "policy.unit", LIMIT_UNITS),
        fast_units: options(lang, "policy.unit", FAST_UNITS),
        ctx,
    })?;
    if refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn policy_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    page(&state, &staff, None, None, raw.as_deref()).await
}

async fn save_policy(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let stored = state.db.deadline_policy().await?;
    let names: Vec<String> = stored
        .rules
        .iter()
        .flat_map(RuleInput::list_names)
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let form = super::posted_form(&staff, body, &refs)?;
    let lang = staff.lang;

    let mut inputs: Vec<RuleInput> = stored
        .rules
        .iter()
        .map(|r| RuleInput::from_form(r, &form))
        .collect();
    let mut rules = Vec::new();
    let mut failed = false;
    for (input, rule) in inputs.iter_mut().zip(&stored.rules) {
        match input.parse(lang, rule) {
            Ok(r) => rules.push(r),
            Err(e) => {
                input.error = Some(e);
                failed = true;
            }
        }
    }
    if !failed {
        let policy = DeadlinePolicy { rules };
        let problems = policy.problems();
        if problems.is_empty() {
            state.db.set_deadline_policy(Some(&policy)).await?;
            return Ok(Redirect::to("/admin/deadlines?saved=1").into_response());
        }
        for p in problems {
            if let Some(input) = inputs.iter_mut().find(|i| i.code == p.kind().as_str())
                && input.error.is_none()
            {
                input.error = Some(problem_text(lang, p));
            }
        }
    }
    let error = Some(t(lang, "policy.refused"));
    page(&state, &staff, Some(inputs), error, None).await
}

async fn reset_policy(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    super::posted_form(&staff, body, &[])?;
    state.db.set_deadline_policy(None).await?;
    Ok(Redirect::to("/admin/deadlines?reset=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_comes_back_unchanged_through_the_form_fields() {
        for rule in DeadlinePolicy::default().rules {
            let input = RuleInput::from_rule(&rule);
            assert_eq!(
                input.parse(Lang::Zh, &rule),
                Ok(rule.clone()),
                "{}",
                input.code
            );
        }
    }

    #[test]
    fn hours_minutes_and_windows_are_read_as_typed() {
        assert_eq!(
            parse_limit("hours", "1.5", ""),
            Some(Limit::Minutes { minutes: 90 })
        );
        assert_eq!(
            parse_limit("window", "3", "10"),
            Some(Limit::Window {
                earliest_days: 3,
                latest_days: 10
            })
        );
        assert_eq!(parse_limit("working_days", "-1", ""), None);
        assert_eq!(parse_limit("hours", "abc", ""), None);
        assert_eq!(parse_limit("fortnights", "1", ""), None);
    }
}
