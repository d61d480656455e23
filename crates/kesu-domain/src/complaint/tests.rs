use super::*;
use crate::ids::{ComplaintId, DepartmentId, UserId};

const SERVICE: DepartmentId = DepartmentId(2);
const SALES: DepartmentId = DepartmentId(3);

fn actor(id: i64, role: Role, dept: Option<DepartmentId>) -> Actor {
    Actor {
        user_id: UserId(id),
        roles: vec![role],
        department_id: dept,
        site_id: None,
    }
}
fn agent() -> Actor {
    actor(1, Role::Agent, Some(DepartmentId(1)))
}
fn manager() -> Actor {
    actor(2, Role::Manager, Some(SERVICE))
}
fn other_manager() -> Actor {
    actor(3, Role::Manager, Some(SALES))
}
fn gm() -> Actor {
    actor(4, Role::Gm, None)
}
fn supervisor() -> Actor {
    actor(5, Role::Supervisor, None)
}
fn admin() -> Actor {
    actor(6, Role::Admin, None)
}

fn now() -> Timestamp {
    Timestamp::from_second(1_795_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}
fn later(hours: i64) -> Timestamp {
    now() + jiff::SignedDuration::from_hours(hours)
}

/// Runs a command, applies its events, and returns the complaint.
#[track_caller]
fn run(c: &mut Complaint, cmd: Command, who: &Actor) {
    let events = c
        .decide(cmd, who, now(), &Policy::default())
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    for e in &events {
        c.apply(e);
    }
}

fn refusal(c: &Complaint, cmd: Command, who: &Actor) -> Refusal {
    match c.decide(cmd, who, now(), &Policy::default()) {
        Ok(events) => panic!("accepted: {events:?}"),
        Err(r) => r,
    }
}

fn registered() -> Complaint {
    Complaint::new(ComplaintId(1), State::Registered)
}

fn classify(sev: Severity) -> Command {
    Command::Classify {
        category: "repair_quality".into(),
        severity: sev,
        signals: vec![],
        reason: None,
    }
}

fn dispatched(sev: Severity) -> Complaint {
    let mut c = registered();
    run(&mut c, classify(sev), &agent());
    run(
        &mut c,
        Command::Dispatch {
            department_id: SERVICE,
            assignee: Some((manager().user_id, Some(SERVICE))),
        },
        &agent(),
    );
    c
}

fn propose(comp: i64) -> Command {
    Command::Propose {
        measures: "免费更换刹车片".into(),
        owner: "王经理".into(),
        due_at: later(48),
        follow_up: "三天后电话回访".into(),
        compensation_fen: comp,
    }
}

fn answer(round: i32, accepted: bool) -> Command {
    Command::AnswerProposal {
        round,
        accepted,
        customer_words: "可以".into(),
    }
}

fn executing(sev: Severity, comp: i64) -> Complaint {
    let mut c = dispatched(sev);
    run(
        &mut c,
        Command::LogContact {
            method: ContactMethod::Phone,
            summary: "已致电".into(),
        },
        &manager(),
    );
    run(&mut c, propose(comp), &manager());
    run(&mut c, answer(1, true), &manager());
    if c.state == State::AwaitingApproval {
        run(
            &mut c,
            Command::Approve {
                approved: true,
                comment: None,
            },
            &gm(),
        );
    }
    c
}

fn fed_back() -> Complaint {
    let mut c = executing(Severity::General, 0);
    run(
        &mut c,
        Command::RecordExecution {
            progress: "已更换".into(),
            completed: true,
        },
        &manager(),
    );
    run(
        &mut c,
        Command::FeedBack {
            method: ContactMethod::Phone,
            content: "已处理完毕".into(),
        },
        &manager(),
    );
    c
}

#[test]
fn an_agent_registration_starts_registered_and_a_forwarded_one_received() {
    assert_eq!(
        Complaint::intake_event(Some(&agent()), Channel::Phone),
        Event::Registered {
            channel: Channel::Phone
        }
    );
    assert_eq!(
        Complaint::intake_event(Some(&manager()), Channel::WalkIn),
        Event::Received {
            channel: Channel::WalkIn
        }
    );
    assert_eq!(
        Complaint::intake_event(None, Channel::Web),
        Event::Received {
            channel: Channel::Web
        }
    );
}

#[test]
fn a_general_complaint_goes_from_registration_to_closed() {
    let mut c = fed_back();
    assert_eq!(c.state, State::FedBack);
    run(
        &mut c,
        Command::FollowUp {
            outcome: FollowUpOutcome::Satisfied,
            score: Some(5),
            comment: None,
        },
        &agent(),
    );
    assert_eq!(c.state, State::FollowUp);
    run(
        &mut c,
        Command::Close {
            exception_reason: None,
        },
        &agent(),
    );
    assert_eq!(c.state, State::Closed);
}

#[test]
fn first_contact_by_the_handler_moves_dispatched_to_in_progress() {
    let mut c = dispatched(Severity::General);
    run(
        &mut c,
        Command::LogContact {
            method: ContactMethod::Phone,
            summary: "x".into(),
        },
        &agent(),
    );
    assert_eq!(
        c.state,
        State::Dispatched,
        "an agent's call does not start the handling"
    );
    run(
        &mut c,
        Command::AddNote {
            text: "查看维修记录".into(),
            consulted: None,
            root_cause: None,
            customer_expects: None,
        },
        &manager(),
    );
    assert_eq!(c.state, State::InProgress);
}

#[test]
fn a_major_complaint_needs_the_general_managers_approval_before_execution() {
    let mut c = dispatched(Severity::Major);
    run(&mut c, propose(0), &manager());
    run(&mut c, answer(1, true), &manager());
    assert_eq!(c.state, State::AwaitingApproval);
    assert_eq!(
        refusal(
            &c,
            Command::Approve {
                approved: true,
                comment: None
            },
            &manager()
        ),
        Refusal::NotPermitted(Action::Approve)
    );
    run(
        &mut c,
        Command::Approve {
            approved: true,
            comment: None,
        },
        &gm(),
    );
    assert_eq!(c.state, State::Executing);
}

#[test]
fn compensation_above_the_limit_needs_approval_even_when_general() {
    let mut c = dispatched(Severity::General);
    run(&mut c, propose(50_001), &manager());
    run(&mut c, answer(1, true), &manager());
    assert_eq!(c.state, State::AwaitingApproval);
    let mut small = dispatched(Severity::General);
    run(&mut small, propose(50_000), &manager());
    run(&mut small, answer(1, true), &manager());
    assert_eq!(small.state, State::Executing);
}

#[test]
fn a_declined_approval_sends_the_case_back_for_a_new_proposal_with_a_reason() {
    let mut c = dispatched(Severity::Major);
    run(&mut c, propose(0), &manager());
    run(&mut c, answer(1, true), &manager());
    assert_eq!(
        refusal(
            &c,
            Command::Approve {
                approved: false,
                comment: None
            },
            &gm()
        ),
        Refusal::ReasonRequired
    );
    run(
        &mut c,
        Command::Approve {
            approved: false,
            comment: Some("赔偿过高".into()),
        },
        &gm(),
    );
    assert_eq!(c.state, State::InProgress);
    run(&mut c, propose(0), &manager());
    assert_eq!(c.current_proposal.map(|p| p.round), Some(2));
}

#[test]
fn a_rejected_proposal_returns_to_in_progress_and_the_next_is_round_two() {
    let mut c = dispatched(Severity::General);
    run(&mut c, propose(0), &manager());
    run(&mut c, answer(1, false), &manager());
    assert_eq!(c.state, State::InProgress);
    assert_eq!(
        refusal(&c, answer(1, true), &manager()),
        Refusal::IllegalInState {
            action: Action::AnswerProposal,
            state: State::InProgress
        }
    );
    run(&mut c, propose(0), &manager());
    assert_eq!(
        refusal(&c, answer(1, true), &manager()),
        Refusal::NoSuchProposal(1)
    );
    run(&mut c, answer(2, true), &manager());
    assert_eq!(c.state, State::Executing);
}

#[test]
fn execution_of_a_major_or_compensated_case_needs_the_signed_agreement() {
    let mut c = executing(Severity::Major, 0);
    let done = Command::RecordExecution {
        progress: "完成".into(),
        completed: true,
    };
    assert_eq!(
        refusal(&c, done.clone(), &manager()),
        Refusal::AgreementRequired
    );
    assert_eq!(
        refusal(
            &c,
            Command::FeedBack {
                method: ContactMethod::Phone,
                content: "x".into()
            },
            &manager()
        ),
        Refusal::ExecutionNotDone
    );
    run(
        &mut c,
        Command::Attach {
            attachment_id: AttachmentId(9),
            kind: AttachmentKind::Agreement,
            filename: "协议.pdf".into(),
            size: 10,
        },
        &manager(),
    );
    run(&mut c, done, &manager());
    run(
        &mut c,
        Command::FeedBack {
            method: ContactMethod::Phone,
            content: "x".into(),
        },
        &manager(),
    );
    assert_eq!(c.state, State::FedBack);
}

#[test]
fn reopens_when_customer_not_satisfied_at_follow_up() {
    let mut c = fed_back();
    run(
        &mut c,
        Command::FollowUp {
            outcome: FollowUpOutcome::NotSatisfied,
            score: Some(2),
            comment: Some("还是响".into()),
        },
        &agent(),
    );
    assert_eq!(c.state, State::Reopened);
    assert!(!c.execution_done);
    assert_eq!(
        c.department_id,
        Some(SERVICE),
        "the reopened case stays with its department"
    );
    run(
        &mut c,
        Command::LogContact {
            method: ContactMethod::Phone,
            summary: "再次联系".into(),
        },
        &manager(),
    );
    assert_eq!(c.state, State::InProgress);
}

#[test]
fn closing_needs_a_satisfied_follow_up_or_an_approved_exception() {
    let mut c = fed_back();
    assert_eq!(
        refusal(
            &c,
            Command::Close {
                exception_reason: None
            },
            &agent()
        ),
        Refusal::NotSatisfied
    );
    run(
        &mut c,
        Command::FollowUp {
            outcome: FollowUpOutcome::Unreachable,
            score: None,
            comment: None,
        },
        &agent(),
    );
    assert_eq!(c.state, State::FollowUp);
    assert_eq!(
        refusal(
            &c,
            Command::Close {
                exception_reason: None
            },
            &agent()
        ),
        Refusal::NotSatisfied
    );
    run(
        &mut c,
        Command::Close {
            exception_reason: Some("三次联系不上".into()),
        },
        &agent(),
    );
    assert!(c.close_exception_pending);
    assert_eq!(c.state, State::FollowUp);
    assert_eq!(
        refusal(
            &c,
            Command::Close {
                exception_reason: Some("again".into())
            },
            &agent()
        ),
        Refusal::ExceptionPending
    );
    run(
        &mut c,
        Command::Approve {
            approved: true,
            comment: None,
        },
        &gm(),
    );
    assert_eq!(c.state, State::Closed);
}

#[test]
fn dispatch_needs_a_category_and_an_assignee_of_that_department() {
    let c = registered();
    assert_eq!(
        refusal(
            &c,
            Command::Dispatch {
                department_id: SERVICE,
                assignee: None
            },
            &agent()
        ),
        Refusal::NotClassified
    );
    let mut c = registered();
    run(&mut c, classify(Severity::General), &agent());
    assert_eq!(
        refusal(
            &c,
            Command::Dispatch {
                department_id: SERVICE,
                assignee: Some((UserId(3), Some(SALES)))
            },
            &agent()
        ),
        Refusal::AssigneeNotInDepartment
    );
}

#[test]
fn downgrading_a_major_complaint_needs_a_reason() {
    let mut c = registered();
    run(&mut c, classify(Severity::Major), &agent());
    assert_eq!(
        refusal(&c, classify(Severity::General), &agent()),
        Refusal::ReasonRequired
    );
    run(
        &mut c,
        Command::Classify {
            category: "repair_quality".into(),
            severity: Severity::General,
            signals: vec![],
            reason: Some("客户撤回赔偿要求".into()),
        },
        &agent(),
    );
    assert_eq!(c.severity, Severity::General);
}

#[test]
fn a_manager_of_another_department_cannot_handle_the_complaint() {
    let c = dispatched(Severity::General);
    assert_eq!(
        refusal(&c, propose(0), &other_manager()),
        Refusal::NotPermitted(Action::Propose)
    );
    assert!(c.available_actions(&other_manager()).is_empty());
}

#[test]
fn the_general_manager_may_take_a_case_over_once_and_then_handles_it() {
    let mut c = dispatched(Severity::Major);
    run(&mut c, Command::TakeOver, &gm());
    assert_eq!(c.assignee_id, Some(gm().user_id));
    assert_eq!(
        refusal(&c, Command::TakeOver, &gm()),
        Refusal::AlreadyTakenOver
    );
    run(&mut c, propose(100_000), &gm());
    assert_eq!(c.state, State::Proposed);
}

#[test]
fn sub_tasks_are_numbered_and_completed_once_by_their_owner_or_department() {
    let mut c = dispatched(Severity::General);
    run(
        &mut c,
        Command::CreateTask {
            department_id: SALES,
            owner: Some((other_manager().user_id, Some(SALES))),
            title: "核实销售合同".into(),
            due_at: Some(later(24)),
        },
        &manager(),
    );
    assert_eq!(c.tasks, 1);
    let task = TaskFacts {
        seq: 1,
        department_id: SALES,
        owner_id: Some(other_manager().user_id),
        done: false,
    };
    run(
        &mut c,
        Command::CompleteTask {
            task,
            result: "合同无误".into(),
        },
        &other_manager(),
    );
    let done = TaskFacts { done: true, ..task };
    assert_eq!(
        refusal(
            &c,
            Command::CompleteTask {
                task: done,
                result: "x".into()
            },
            &other_manager()
        ),
        Refusal::TaskDone
    );
    let stranger = actor(9, Role::Manager, Some(DepartmentId(99)));
    assert_eq!(
        refusal(
            &c,
            Command::CompleteTask {
                task,
                result: "x".into()
            },
            &stranger
        ),
        Refusal::NotPermitted(Action::CompleteTask)
    );
}

#[test]
fn merge_withdraw_and_reject_end_the_complaint() {
    let c = registered();
    assert_eq!(
        refusal(
            &c,
            Command::Merge {
                into_number: "KS-1".into(),
                into_id: c.id,
                into_open: true
            },
            &agent()
        ),
        Refusal::MergeIntoItself
    );
    assert_eq!(
        refusal(
            &c,
            Command::Merge {
                into_number: "KS-2".into(),
                into_id: ComplaintId(2),
                into_open: false
            },
            &agent()
        ),
        Refusal::MergeTargetClosed
    );
    let mut m = registered();
    run(
        &mut m,
        Command::Merge {
            into_number: "KS-2".into(),
            into_id: ComplaintId(2),
            into_open: true,
        },
        &agent(),
    );
    assert_eq!(m.state, State::Merged);
    assert!(
        m.available_actions(&agent())
            .iter()
            .all(|a| *a == Action::Attach)
            || m.available_actions(&agent()).is_empty()
    );
    let mut w = registered();
    assert_eq!(
        refusal(&w, Command::Withdraw { reason: " ".into() }, &agent()),
        Refusal::ReasonRequired
    );
    run(
        &mut w,
        Command::Withdraw {
            reason: "客户已自行解决".into(),
        },
        &agent(),
    );
    assert_eq!(w.state, State::Withdrawn);
    let mut r = registered();
    run(
        &mut r,
        Command::Reject {
            reason: "非本公司业务".into(),
        },
        &agent(),
    );
    assert_eq!(r.state, State::Rejected);
    assert_eq!(
        refusal(&r, Command::Reopen { reason: "x".into() }, &agent()),
        Refusal::IllegalInState {
            action: Action::Reopen,
            state: State::Rejected
        }
    );
}

#[test]
fn an_admin_configures_but_acts_on_no_complaint() {
    let c = dispatched(Severity::General);
    assert!(c.available_actions(&admin()).is_empty());
    assert_eq!(
        refusal(&c, Command::Withdraw { reason: "x".into() }, &admin()),
        Refusal::NotPermitted(Action::Withdraw)
    );
}

#[test]
fn a_proposal_due_in_the_past_is_refused() {
    let c = dispatched(Severity::General);
    let cmd = Command::Propose {
        measures: "x".into(),
        owner: "y".into(),
        due_at: now(),
        follow_up: "z".into(),
        compensation_fen: 0,
    };
    assert_eq!(refusal(&c, cmd, &manager()), Refusal::DueInPast);
}

/// The table: for every state and every role, which actions are offered.
/// Built from the lifecycle; a change to the rules shows up here as a diff.
#[test]
fn offered_actions_per_state_and_role() {
    let mut c = dispatched(Severity::General);
    c.state = State::Proposed;
    c.current_proposal = Some(CurrentProposal {
        round: 1,
        compensation_fen: 0,
    });
    let names = |who: &Actor| {
        c.available_actions(who)
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(
        names(&agent()),
        "classify,log_contact,add_note,answer_proposal,close,merge,withdraw,attach,amend"
    );
    assert_eq!(
        names(&manager()),
        "log_contact,add_note,answer_proposal,create_task,attach,amend"
    );
    assert_eq!(
        names(&gm()),
        "classify,log_contact,add_note,answer_proposal,take_over,create_task,close,merge,withdraw,attach,amend"
    );
    assert_eq!(
        names(&supervisor()),
        "classify,add_note,close,merge,withdraw,attach"
    );

    let mut expected_reopen = 0;
    for state in State::ALL {
        let mut c = dispatched(Severity::General);
        c.state = *state;
        let acts = c.available_actions(&agent());
        assert_eq!(
            acts.contains(&Action::FollowUp),
            matches!(state, State::FedBack | State::FollowUp),
            "{state}"
        );
        assert_eq!(
            acts.contains(&Action::Register),
            *state == State::Received,
            "{state}"
        );
        if acts.contains(&Action::Reopen) {
            expected_reopen += 1;
        }
        if state.is_terminal() {
            assert!(
                acts.iter()
                    .all(|a| matches!(a, Action::Reopen | Action::Attach)),
                "{state}: {acts:?}"
            );
        }
    }
    assert_eq!(
        expected_reopen, 3,
        "reopen from fed_back, follow_up and closed"
    );
}

#[test]
fn events_serialise_with_their_kind_code() {
    let e = Event::ProposalAnswered {
        round: 2,
        accepted: false,
        customer_words: "不接受".into(),
        needs_approval: false,
        by_customer: false,
    };
    let json = serde_json::to_value(&e).unwrap_or_default();
    assert_eq!(json["kind"], e.kind());
    let back: Event = serde_json::from_value(json).unwrap_or(Event::Received {
        channel: Channel::Phone,
    });
    assert_eq!(back, e);
    let a = Event::ApprovalDecided {
        subject: ApprovalSubject::Proposal { round: 1 },
        approved: true,
        comment: None,
    };
    let json = serde_json::to_value(&a).unwrap_or_default();
    assert_eq!(json["subject"], "proposal");
    assert_eq!(serde_json::from_value::<Event>(json).ok(), Some(a));
}

#[test]
fn registration_details_are_corrected_with_the_old_value_kept_but_not_after_closing() {
    let c = dispatched(Severity::General);
    let change = |from: Option<&str>, to: Option<&str>| Change {
        field: DetailField::Plate,
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
    };
    let events = c.decide(
        Command::Amend {
            changes: vec![
                change(Some("苏A1234"), Some("苏A12345")),
                change(None, None),
            ],
        },
        &agent(),
        now(),
        &Policy::default(),
    );
    assert_eq!(
        events,
        Ok(vec![Event::DetailsAmended {
            changes: vec![change(Some("苏A1234"), Some("苏A12345"))]
        }]),
        "unchanged fields are dropped"
    );
    assert_eq!(
        c.decide(
            Command::Amend {
                changes: vec![change(None, None)]
            },
            &agent(),
            now(),
            &Policy::default()
        ),
        Err(Refusal::NothingChanged)
    );
    assert_eq!(
        refusal(
            &c,
            Command::Amend {
                changes: vec![change(None, Some("x"))]
            },
            &other_manager()
        ),
        Refusal::NotPermitted(Action::Amend)
    );
    let mut closed = c.clone();
    closed.state = State::Closed;
    assert_eq!(
        refusal(
            &closed,
            Command::Amend {
                changes: vec![change(None, Some("x"))]
            },
            &agent()
        ),
        Refusal::IllegalInState {
            action: Action::Amend,
            state: State::Closed
        }
    );
}

#[test]
fn a_proposed_major_stands_until_classified_and_downgrading_it_needs_a_reason() {
    let mut c = registered();
    c.apply(&Event::ClassificationProposed {
        proposed: Proposed {
            categories: vec![("repair_quality".into(), 87)],
            severity: Severity::Major,
            signals: vec![(Signal::Compensation, "要求赔偿".into())],
            subcategory: None,
        },
    });
    assert_eq!(c.severity, Severity::Major);
    assert_eq!(
        refusal(&c, classify(Severity::General), &agent()),
        Refusal::ReasonRequired
    );
    run(&mut c, classify(Severity::Major), &agent());
    assert_eq!(c.category.as_deref(), Some("repair_quality"));
    let json = serde_json::to_value(Event::ClassificationProposed {
        proposed: Proposed {
            categories: vec![("delay".into(), 60)],
            severity: Severity::General,
            signals: vec![],
            subcategory: None,
        },
    })
    .unwrap_or_default();
    assert_eq!(json["kind"], "classification_proposed");
    assert_eq!(json["categories"][0][0], "delay");
}

// The customer on the portal (客户（网上）): no role, no user id, two answers.

fn proposed() -> Complaint {
    let mut c = dispatched(Severity::General);
    run(
        &mut c,
        Command::LogContact {
            method: ContactMethod::Phone,
            summary: "已致电".into(),
        },
        &manager(),
    );
    run(&mut c, propose(0), &manager());
    c
}

fn by_customer(c: &Complaint, cmd: Command) -> Result<Vec<Event>, Refusal> {
    c.decide(cmd, Acting::Customer, now(), &Policy::default())
}

#[test]
fn the_customer_answers_a_waiting_proposal_themself_and_the_event_says_so() {
    let mut c = proposed();
    let events = by_customer(
        &c,
        Command::AnswerProposal {
            round: 1,
            accepted: false,
            customer_words: "只换刹车片不够，要求检查整个刹车系统".into(),
        },
    );
    assert_eq!(
        events,
        Ok(vec![Event::ProposalAnswered {
            round: 1,
            accepted: false,
            customer_words: "只换刹车片不够，要求检查整个刹车系统".into(),
            needs_approval: false,
            by_customer: true,
        }])
    );
    for e in events.unwrap_or_default() {
        c.apply(&e);
    }
    assert_eq!(
        c.state,
        State::InProgress,
        "a new proposal is made (R-HD-8)"
    );
    assert_eq!(c.current_proposal, None);
}

#[test]
fn an_answer_recorded_by_staff_is_not_marked_as_the_customers_own() {
    let c = proposed();
    let events = c.decide(answer(1, true), &manager(), now(), &Policy::default());
    assert!(
        matches!(
            events.as_deref(),
            Ok([Event::ProposalAnswered {
                by_customer: false,
                ..
            }])
        ),
        "{events:?}"
    );
}

#[test]
fn the_customer_accepting_a_major_proposal_still_waits_for_the_general_manager() {
    let mut c = dispatched(Severity::Major);
    run(&mut c, propose(50_000), &manager());
    let events = by_customer(&c, answer(1, true)).unwrap_or_default();
    for e in &events {
        c.apply(e);
    }
    assert_eq!(c.state, State::AwaitingApproval);
}

#[test]
fn the_customer_may_only_answer_a_waiting_proposal_or_the_survey() {
    for state in State::ALL {
        let mut c = dispatched(Severity::General);
        c.state = *state;
        c.current_proposal = Some(CurrentProposal {
            round: 1,
            compensation_fen: 0,
        });
        let mut expected = match state {
            State::Proposed => vec![Action::AnswerProposal],
            State::FedBack | State::FollowUp => vec![Action::FollowUp],
            _ => vec![],
        };
        if !matches!(state, State::Closed | State::Merged) {
            expected.push(Action::CustomerWrite);
        }
        assert_eq!(c.available_actions(Acting::Customer), expected, "{state}");
    }
}

#[test]
fn the_customer_holds_no_staff_permission() {
    let c = proposed();
    let staff_only = [
        classify(Severity::General),
        propose(0),
        Command::LogContact {
            method: ContactMethod::Phone,
            summary: "x".into(),
        },
        Command::AddNote {
            text: "x".into(),
            consulted: None,
            root_cause: None,
            customer_expects: None,
        },
        Command::TakeOver,
        Command::Close {
            exception_reason: Some("客户要求".into()),
        },
        Command::Withdraw {
            reason: "客户撤回".into(),
        },
        Command::Approve {
            approved: true,
            comment: None,
        },
    ];
    for cmd in staff_only {
        let action = cmd.action();
        assert_eq!(
            by_customer(&c, cmd),
            Err(Refusal::NotPermitted(action)),
            "{action:?}"
        );
    }
    assert!(
        Action::ALL
            .iter()
            .filter(|a| {
                !matches!(
                    a,
                    Action::AnswerProposal | Action::FollowUp | Action::CustomerWrite
                )
            })
            .all(|a| c.check(*a, Acting::Customer) == Err(Refusal::NotPermitted(*a)))
    );
}

#[test]
fn reopens_when_customer_not_satisfied_in_the_portal_survey() {
    let mut c = fed_back();
    let events = by_customer(
        &c,
        Command::FollowUp {
            outcome: FollowUpOutcome::NotSatisfied,
            score: Some(2),
            comment: Some("刹车还是有异响".into()),
        },
    );
    assert_eq!(
        events,
        Ok(vec![Event::FollowedUp {
            outcome: FollowUpOutcome::NotSatisfied,
            score: Some(2),
            comment: Some("刹车还是有异响".into()),
            by_customer: true,
        }])
    );
    for e in events.unwrap_or_default() {
        c.apply(&e);
    }
    assert_eq!(c.state, State::Reopened);
}

#[test]
fn a_satisfied_portal_survey_lets_customer_service_close() {
    let mut c = fed_back();
    for e in by_customer(
        &c,
        Command::FollowUp {
            outcome: FollowUpOutcome::Satisfied,
            score: Some(5),
            comment: None,
        },
    )
    .unwrap_or_default()
    {
        c.apply(&e);
    }
    assert_eq!(c.state, State::FollowUp);
    assert!(c.satisfied);
    run(
        &mut c,
        Command::Close {
            exception_reason: None,
        },
        &agent(),
    );
    assert_eq!(c.state, State::Closed);
}

#[test]
fn the_customer_cannot_report_themself_unreachable() {
    let c = fed_back();
    assert_eq!(
        by_customer(
            &c,
            Command::FollowUp {
                outcome: FollowUpOutcome::Unreachable,
                score: None,
                comment: None,
            },
        ),
        Err(Refusal::NotPermitted(Action::FollowUp))
    );
}

#[test]
fn history_written_before_the_portal_reads_as_answered_by_staff() {
    let old = serde_json::json!({
        "kind": "followed_up", "outcome": "satisfied", "score": 4, "comment": null
    });
    assert_eq!(
        serde_json::from_value::<Event>(old).ok(),
        Some(Event::FollowedUp {
            outcome: FollowUpOutcome::Satisfied,
            score: Some(4),
            comment: None,
            by_customer: false,
        })
    );
    let staff = Event::FollowedUp {
        outcome: FollowUpOutcome::Satisfied,
        score: None,
        comment: None,
        by_customer: false,
    };
    let json = serde_json::to_value(&staff).unwrap_or_default();
    assert!(
        json.get("by_customer").is_none(),
        "unchanged for staff: {json}"
    );
}

#[test]
fn the_customer_writes_again_in_every_state_but_closed_and_merged() {
    for state in State::ALL {
        let mut c = dispatched(Severity::General);
        c.state = *state;
        let cmd = Command::CustomerWrite {
            channel: Channel::Email,
            subject: Some("回复：KS-20261123-0001".into()),
            text: "还没有人联系我".into(),
        };
        let got = by_customer(&c, cmd);
        if matches!(state, State::Closed | State::Merged) {
            assert!(
                matches!(got, Err(Refusal::IllegalInState { .. })),
                "{state}: {got:?}"
            );
        } else {
            let events = got.unwrap_or_default();
            assert!(
                matches!(events.as_slice(), [Event::CustomerWrote { .. }]),
                "{state}"
            );
            let mut after = c.clone();
            after.apply(&events[0]);
            assert_eq!(after.state, *state, "writing changes no state");
        }
    }
}

#[test]
fn staff_never_write_as_the_customer() {
    let c = dispatched(Severity::General);
    let cmd = Command::CustomerWrite {
        channel: Channel::Email,
        subject: None,
        text: "x".into(),
    };
    assert_eq!(
        c.decide(cmd, &agent(), now(), &Policy::default()),
        Err(Refusal::NotPermitted(Action::CustomerWrite))
    );
}
