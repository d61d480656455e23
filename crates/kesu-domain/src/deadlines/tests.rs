//! The default deadlines on a Shanghai desk (09:00–18:00, Monday to Friday,
//! China's holidays), with dates from the real 2025 notices: National Day and
//! Mid-Autumn made 1–8 October 2025 a holiday, with Sunday 28 September and
//! Saturday 11 October worked instead.

use jiff::Timestamp;
use kesu_calendar::SiteCalendar;

use super::*;
use crate::codes::{Channel, ContactMethod, Severity};
use crate::ids::DepartmentId;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn calendar() -> SiteCalendar {
    SiteCalendar::default()
}

fn situation(before: Option<State>, after: State) -> Situation {
    Situation {
        before,
        after,
        fast: false,
        urgent: false,
    }
}

fn registered() -> Event {
    Event::Registered {
        channel: Channel::Phone,
    }
}

fn dispatched() -> Event {
    Event::Dispatched {
        department_id: DepartmentId(1),
        assignee_id: None,
    }
}

fn started(changes: &[ClockChange], kind: ClockKind) -> (Timestamp, Timestamp) {
    changes
        .iter()
        .find_map(|c| match c {
            ClockChange::Start {
                kind: k,
                started_at,
                due_at,
                ..
            } if *k == kind => Some((*started_at, *due_at)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{kind} did not start: {changes:?}"))
}

#[test]
fn a_complaint_at_1750_on_friday_is_classified_by_0920_on_the_make_up_sunday() {
    // Friday 26 September 2025, 17:50: 10 working minutes are left that day.
    // Saturday 27 is off; Sunday 28 is a make-up working day (调休), so the
    // remaining 20 minutes run 09:00–09:20 on Sunday.
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    let now = t("2025-09-26T17:50:00+08:00");
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        now,
    );
    assert_eq!(
        started(&changes, ClockKind::Classify),
        (now, t("2025-09-28T09:20:00+08:00"))
    );
    // 24 hours of calendar time for the initial reply, from receipt.
    assert_eq!(
        started(&changes, ClockKind::InitialReply).1,
        t("2025-09-27T17:50:00+08:00")
    );
    // 3 working days at the same time of day: Sun 28, Mon 29, Tue 30 → Tuesday 17:50.
    assert_eq!(
        started(&changes, ClockKind::ProgressReport).1,
        t("2025-09-30T17:50:00+08:00")
    );
    // Only receipt clocks started; the register clock is for complaints taken in elsewhere.
    let kinds: Vec<ClockKind> = running.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ClockKind::Classify,
            ClockKind::InitialReply,
            ClockKind::ProgressReport,
            ClockKind::Resolve
        ]
    );
    // The warning comes at 75 % of the 30 working minutes: Friday 17:50 + 22.5 min
    // = 10 min Friday + 12.5 min on Sunday → 09:12:30.
    let classify = running
        .iter()
        .find(|r| r.kind == ClockKind::Classify)
        .and_then(|r| r.warn_at);
    assert_eq!(classify, Some(t("2025-09-28T09:12:30+08:00")));
}

#[test]
fn first_contact_after_dispatch_on_the_eve_of_national_day_is_due_after_the_holiday() {
    // Dispatched Tuesday 30 September 2025 at 17:00: one working hour that
    // day; 1–8 October are off; Thursday 9 October 09:00 + 1 hour.
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    let at = t("2025-09-30T17:00:00+08:00");
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::Registered), State::Dispatched),
        &dispatched(),
        at,
    );
    assert_eq!(
        started(&changes, ClockKind::FirstContact).1,
        t("2025-10-09T10:00:00+08:00")
    );

    // On the fast track (major or urgent) it is one hour: 18:00 the same day.
    let mut fast_running = Vec::new();
    let changes = policy.on_event(
        &calendar(),
        &mut fast_running,
        Situation {
            fast: true,
            ..situation(Some(State::Registered), State::Dispatched)
        },
        &dispatched(),
        at,
    );
    assert_eq!(
        started(&changes, ClockKind::FirstContact).1,
        t("2025-09-30T18:00:00+08:00")
    );

    // The contact stops the clock.
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::Dispatched), State::Dispatched),
        &Event::ContactLogged {
            method: ContactMethod::Phone,
            summary: "已联系".to_owned(),
        },
        t("2025-10-09T09:30:00+08:00"),
    );
    assert!(changes.contains(&ClockChange::Stop {
        kind: ClockKind::FirstContact,
        at: t("2025-10-09T09:30:00+08:00")
    }));
    assert!(running.is_empty());
}

#[test]
fn after_hours_a_normal_complaint_waits_for_the_next_working_time_and_an_urgent_one_does_not() {
    // Saturday 4 October 2025, 22:00, in the National Day holiday. The next
    // working time is Thursday 9 October 09:00.
    let policy = DeadlinePolicy::default();
    let at = t("2025-10-04T22:00:00+08:00");
    let mut running = Vec::new();
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        at,
    );
    assert_eq!(
        started(&changes, ClockKind::InitialReply),
        (
            t("2025-10-09T09:00:00+08:00"),
            t("2025-10-10T09:00:00+08:00")
        )
    );

    let mut running = Vec::new();
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        Situation {
            fast: true,
            urgent: true,
            ..situation(None, State::Registered)
        },
        &registered(),
        at,
    );
    // Urgent: from 22:00 at once, 12 hours on the fast track.
    assert_eq!(
        started(&changes, ClockKind::InitialReply),
        (at, t("2025-10-05T10:00:00+08:00"))
    );
}

#[test]
fn becoming_major_moves_running_clocks_to_the_fast_track() {
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    let at = t("2025-09-29T10:00:00+08:00"); // Monday
    policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        at,
    );
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        Situation {
            fast: true,
            ..situation(Some(State::Registered), State::Registered)
        },
        &Event::Classified {
            category: Some("safety".to_owned()),
            severity: Severity::Major,
            signals: Vec::new(),
            reason: None,
        },
        t("2025-09-29T10:05:00+08:00"),
    );
    // Resolve: 72 → 48 hours from receipt.
    assert!(changes.contains(&ClockChange::Retime {
        kind: ClockKind::Resolve,
        due_at: t("2025-10-01T10:00:00+08:00"),
        warn_at: Some(t("2025-09-30T22:00:00+08:00")),
    }));
    // Classification stopped its clock and started the dispatch clock (fast: 15 min).
    assert!(changes.contains(&ClockChange::Stop {
        kind: ClockKind::Classify,
        at: t("2025-09-29T10:05:00+08:00")
    }));
    assert_eq!(
        started(&changes, ClockKind::Dispatch).1,
        t("2025-09-29T10:20:00+08:00")
    );
}

/// Fields added to the answer over time keep their defaults here.
fn answer_template() -> Event {
    serde_json::from_value(serde_json::json!({
        "kind": "proposal_answered", "round": 1, "accepted": true,
        "customer_words": "", "needs_approval": false
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn waiting_for_the_customer_pauses_the_resolution_clock() {
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        t("2025-11-03T10:00:00+08:00"), // Monday
    );
    let resolve_due = |running: &[Running]| {
        running
            .iter()
            .find(|r| r.kind == ClockKind::Resolve)
            .map(|r| r.due_at)
    };
    assert_eq!(resolve_due(&running), Some(t("2025-11-06T10:00:00+08:00")));
    let proposal = Event::Proposed {
        round: 1,
        measures: "更换".to_owned(),
        owner: "张经理".to_owned(),
        due_at: t("2025-11-10T10:00:00+08:00"),
        follow_up: "回访".to_owned(),
        compensation_fen: 0,
    };
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::InProgress), State::Proposed),
        &proposal,
        t("2025-11-04T10:00:00+08:00"),
    );
    assert!(changes.contains(&ClockChange::Pause {
        kind: ClockKind::Resolve,
        at: t("2025-11-04T10:00:00+08:00")
    }));
    // The customer answers a day and a half later: the calendar clock moves
    // by 36 hours; the working-time progress report by the working time
    // that passed (Tue 10:00 → Wed 22:00 = 8 h Tue + 9 h Wed = 17 h).
    let answer = answer_template();
    policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::Proposed), State::Executing),
        &answer,
        t("2025-11-05T22:00:00+08:00"),
    );
    assert_eq!(resolve_due(&running), Some(t("2025-11-07T22:00:00+08:00")));
    let report = running
        .iter()
        .find(|r| r.kind == ClockKind::ProgressReport)
        .map(|r| r.due_at);
    // The progress report was due Thursday 6 Nov 10:00 (3 working days from
    // Monday 10:00). At the pause (Tue 10:00) 18 working hours were left
    // (Tue 8 + Wed 9 + Thu 1); counted again from Wed 22:00, i.e. from
    // Thu 09:00: Thu 9 h + Fri 9 h → Friday 18:00.
    assert_eq!(report, Some(t("2025-11-07T18:00:00+08:00")));
}

#[test]
fn the_follow_up_visit_is_a_window_from_day_5_to_day_7() {
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    let at = t("2025-11-03T15:00:00+08:00");
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::Executing), State::FedBack),
        &Event::FedBack {
            method: ContactMethod::Phone,
            content: "已告知结果".to_owned(),
        },
        at,
    );
    let window = changes.iter().find_map(|c| match c {
        ClockChange::Start {
            kind: ClockKind::FollowUp,
            earliest_at,
            due_at,
            warn_at,
            ..
        } => Some((*earliest_at, *due_at, *warn_at)),
        _ => None,
    });
    assert_eq!(
        window,
        Some((
            Some(t("2025-11-08T15:00:00+08:00")),
            t("2025-11-10T15:00:00+08:00"),
            Some(t("2025-11-08T15:00:00+08:00"))
        ))
    );
}

#[test]
fn an_ended_complaint_cancels_its_clocks() {
    let policy = DeadlinePolicy::default();
    let mut running = Vec::new();
    policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        t("2025-11-03T10:00:00+08:00"),
    );
    let n = running.len();
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(Some(State::Registered), State::Withdrawn),
        &Event::Withdrawn {
            reason: "客户撤诉".to_owned(),
        },
        t("2025-11-03T11:00:00+08:00"),
    );
    assert_eq!(
        changes
            .iter()
            .filter(|c| matches!(c, ClockChange::Cancel { .. }))
            .count(),
        n
    );
    assert!(running.is_empty());
}

#[test]
fn the_policy_is_data_that_round_trips_as_json() {
    let policy = DeadlinePolicy::default();
    let json = serde_json::to_string(&policy).unwrap_or_default();
    assert!(json.contains("\"kind\":\"first_contact\""), "{json}");
    let back: DeadlinePolicy = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, policy);
    let mut kinds: Vec<ClockKind> = policy.rules.iter().map(|r| r.kind).collect();
    kinds.sort();
    assert_eq!(kinds, ClockKind::ALL.to_vec(), "a rule for every clock");
}

#[test]
fn the_sweep_warns_then_escalates_step_by_step_and_skips_a_stale_warning() {
    let policy = DeadlinePolicy::default();
    let rule = policy
        .rule(ClockKind::FirstContact)
        .cloned()
        .unwrap_or_else(|| panic!("rule"));
    let due = t("2025-11-03T12:00:00+08:00");
    let mut p = Progress {
        warn_at: Some(t("2025-11-03T11:30:00+08:00")),
        warned: false,
        due_at: due,
        breached: false,
        escalations: 0,
    };
    assert_eq!(rule.next_check(&p), Some(t("2025-11-03T11:30:00+08:00")));
    assert!(
        rule.due_notices(&mut p, false, t("2025-11-03T11:00:00+08:00"))
            .is_empty()
    );
    assert_eq!(
        rule.due_notices(&mut p, false, t("2025-11-03T11:31:00+08:00")),
        vec![Notice::Warning]
    );
    assert_eq!(rule.next_check(&p), Some(due));
    // The breach tells the owner and the department manager, and on a major
    // complaint the general manager too.
    assert_eq!(
        rule.due_notices(&mut p, true, due),
        vec![Notice::Escalation {
            step: 0,
            notify: vec![Rung::Owner, Rung::DepartmentManager, Rung::GeneralManager]
        }]
    );
    assert_eq!(rule.next_check(&p), Some(t("2025-11-03T13:00:00+08:00")));
    assert_eq!(
        rule.due_notices(&mut p, true, t("2025-11-03T13:00:00+08:00")),
        vec![Notice::Escalation {
            step: 1,
            notify: vec![Rung::Supervisor]
        }]
    );
    assert_eq!(rule.next_check(&p), None);
    assert!(
        rule.due_notices(&mut p, true, t("2025-11-04T13:00:00+08:00"))
            .is_empty()
    );

    // Found two hours late (kesu was down): no warning, both steps at once.
    let mut late = Progress {
        warn_at: Some(t("2025-11-03T11:30:00+08:00")),
        warned: false,
        due_at: due,
        breached: false,
        escalations: 0,
    };
    let notices = rule.due_notices(&mut late, false, t("2025-11-03T14:00:00+08:00"));
    assert_eq!(notices.len(), 2);
    assert!(!notices.contains(&Notice::Warning));
}

#[test]
fn an_urgent_complaint_after_hours_alerts_the_leader_on_duty_at_once() {
    let policy = DeadlinePolicy::default();
    let night = t("2025-11-03T22:00:00+08:00"); // Monday night
    let urgent = Situation {
        fast: true,
        urgent: true,
        ..situation(None, State::Registered)
    };
    let mut running = Vec::new();
    let changes = policy.on_event(&calendar(), &mut running, urgent, &registered(), night);
    assert_eq!(started(&changes, ClockKind::DutyAlert), (night, night));
    // Not when it is not urgent, nor in working time.
    let mut running = Vec::new();
    let changes = policy.on_event(
        &calendar(),
        &mut running,
        situation(None, State::Registered),
        &registered(),
        night,
    );
    assert!(
        !running.iter().any(|r| r.kind == ClockKind::DutyAlert),
        "{changes:?}"
    );
    let mut running = Vec::new();
    policy.on_event(
        &calendar(),
        &mut running,
        urgent,
        &registered(),
        t("2025-11-03T10:00:00+08:00"),
    );
    assert!(!running.iter().any(|r| r.kind == ClockKind::DutyAlert));
}

#[test]
fn the_shipped_policy_has_no_problems() {
    assert_eq!(DeadlinePolicy::default().problems(), Vec::new());
}

#[test]
fn an_edited_policy_names_each_mistake_with_its_clock() {
    let mut p = DeadlinePolicy::default();
    let at = |p: &mut DeadlinePolicy, k| {
        p.rules
            .iter()
            .position(|r| r.kind == k)
            .expect("a shipped clock")
    };
    let i = at(&mut p, ClockKind::FirstContact);
    p.rules[i].limit = Limit::Minutes { minutes: 0 };
    let i = at(&mut p, ClockKind::Resolve);
    p.rules[i].fast_limit = Some(Limit::Minutes { minutes: 100 * 60 });
    let i = at(&mut p, ClockKind::FollowUp);
    p.rules[i].limit = Limit::Window {
        earliest_days: 8,
        latest_days: 7,
    };
    let i = at(&mut p, ClockKind::Dispatch);
    p.rules[i].stops.push(Trigger::Classified);
    let i = at(&mut p, ClockKind::InitialReply);
    p.rules[i].escalation[1].after_minutes = 0;
    let i = at(&mut p, ClockKind::Classify);
    p.rules[i].warn_percent = 100;
    p.rules[i].starts.clear();
    assert_eq!(
        p.problems(),
        vec![
            PolicyProblem::NeverStarts(ClockKind::Classify),
            PolicyProblem::BadWarning(ClockKind::Classify),
            PolicyProblem::StartsAndStops(ClockKind::Dispatch, Trigger::Classified),
            PolicyProblem::BadLimit(ClockKind::FirstContact),
            PolicyProblem::BadStep(ClockKind::InitialReply),
            PolicyProblem::SlowFastTrack(ClockKind::Resolve),
            PolicyProblem::BadWindow(ClockKind::FollowUp),
        ]
    );
}

#[test]
fn a_switched_off_clock_is_not_checked_and_the_duty_alert_may_be_immediate() {
    let mut p = DeadlinePolicy::default();
    let i = p
        .rules
        .iter()
        .position(|r| r.kind == ClockKind::Resolve)
        .expect("a shipped clock");
    p.rules[i].enabled = false;
    p.rules[i].limit = Limit::Minutes { minutes: -5 };
    assert_eq!(p.problems(), Vec::new());
    p.rules.push(p.rules[0].clone());
    assert_eq!(
        p.problems(),
        vec![PolicyProblem::Duplicate(ClockKind::Register)]
    );
}
