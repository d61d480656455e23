//! The storage contract: what kesu-storage promises its callers, checked on
//! SQLite and on PostgreSQL alike. Every `both_backends!` test gets a fresh,
//! migrated database per backend and drops it at the end.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use kesu_domain::codes::AttachmentKind;
use kesu_domain::complaint::ApprovalSubject;
use kesu_domain::{
    Actor, AttachmentId, Channel, Command, Complaint, ComplaintId, ContactMethod, DepartmentId,
    Event, FollowUpOutcome, Policy, Role, Severity, Signal, State,
};
use kesu_storage::catalog::DEFAULT_CATEGORIES;
use kesu_storage::complaints::{
    self, ComplaintRow, CustomerInput, EventRow, ListFilter, NewComplaint, Queue,
};
use kesu_storage::org::NewUser;
use kesu_storage::testing::{Backend, TestDb};
use kesu_storage::{Db, StorageError, Tx, both_backends, ms};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// 2026-01-01T00:00:00Z plus `minutes`.
fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_767_225_600 + minutes * 60).expect("timestamp in range")
}

const DAY: i64 = 24 * 60;
const DAY1: u32 = 20260101;
const DAY2: u32 = 20260102;

/// A small organisation: customer service, two handling departments, one
/// department that has nothing to do with anything, and a general manager.
struct Org {
    sales: DepartmentId,
    parts: DepartmentId,
    agent: Actor,
    sales_manager: Actor,
    parts_manager: Actor,
    finance_manager: Actor,
    gm: Actor,
}

async fn user(
    db: &Db,
    username: &str,
    roles: &[Role],
    department_id: Option<DepartmentId>,
) -> Actor {
    let id = db
        .create_user(
            &NewUser {
                username,
                display_name: username,
                password_hash: None,
                roles,
                department_id,
            },
            at(0),
        )
        .await
        .expect("create user");
    db.user(id)
        .await
        .expect("read user")
        .expect("the user exists")
        .actor()
}

async fn org(db: &Db) -> Org {
    let site = db
        .create_site("hq", "总店", "Asia/Shanghai", at(0))
        .await
        .expect("create site");
    let service = db
        .create_department(site, "service", "客服部", at(0))
        .await
        .expect("create department");
    let sales = db
        .create_department(site, "sales", "销售部", at(0))
        .await
        .expect("create department");
    let parts = db
        .create_department(site, "parts", "配件部", at(0))
        .await
        .expect("create department");
    let finance = db
        .create_department(site, "finance", "财务部", at(0))
        .await
        .expect("create department");
    Org {
        sales,
        parts,
        agent: user(db, "agent", &[Role::Agent], Some(service)).await,
        sales_manager: user(db, "sales_mgr", &[Role::Manager], Some(sales)).await,
        parts_manager: user(db, "parts_mgr", &[Role::Manager], Some(parts)).await,
        finance_manager: user(db, "finance_mgr", &[Role::Manager], Some(finance)).await,
        gm: user(db, "gm", &[Role::Gm], None).await,
    }
}

fn intake(day: u32, received_at: Timestamp, channel: Channel, phone: &str) -> NewComplaint {
    NewComplaint {
        channel,
        received_at,
        day,
        customer: CustomerInput {
            name: "王先生".to_owned(),
            phone: Some(phone.to_owned()),
            email: None,
            wechat_openid: None,
        },
        description: "刹车异响，维修后仍未解决".to_owned(),
        restatement: None,
        event_time: None,
        event_place: None,
        people_involved: None,
        subject: None,
        order_ref: None,
        plate: None,
        urgent: false,
        category: None,
        severity: Severity::General,
        signals: vec![],
        attachments: Vec::new(),
        site_id: None,
        proposal: None,
        forwarded: None,
    }
}

fn classified(
    mut new: NewComplaint,
    category: &str,
    severity: Severity,
    signals: &[Signal],
) -> NewComplaint {
    new.category = Some(category.to_owned());
    new.severity = severity;
    new.signals = signals.to_vec();
    new
}

async fn register(
    db: &Db,
    new: &NewComplaint,
    actor: Option<&Actor>,
    now: Timestamp,
) -> (ComplaintId, String) {
    let (id, number) = db
        .create_complaint(new, actor, now)
        .await
        .expect("create complaint");
    (id, number.as_str().to_owned())
}

async fn row(db: &Db, number: &str) -> ComplaintRow {
    db.complaint(number)
        .await
        .expect("read complaint")
        .expect("the complaint exists")
}

async fn load(tx: &mut Tx, number: &str) -> Complaint {
    complaints::load(tx, number)
        .await
        .expect("load")
        .expect("the complaint exists")
        .to_domain()
        .expect("a valid projection")
}

/// The write path every handler takes: load in a transaction, let the domain
/// decide, record, commit. Also checks that what `record` returns is what a
/// later read gives.
async fn act(db: &Db, number: &str, actor: &Actor, command: Command, now: Timestamp) -> Complaint {
    let policy = db.policy().await.expect("policy");
    let mut tx = db.begin().await.expect("begin");
    let before = load(&mut tx, number).await;
    let events = before
        .decide(command, actor, now, &policy)
        .unwrap_or_else(|r| panic!("{number}: refused: {r:?}"));
    let after = complaints::record(&mut tx, &before, &events, Some(actor.user_id), now)
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    assert_eq!(
        row(db, number)
            .await
            .to_domain()
            .expect("a valid projection"),
        after,
        "the stored projection is what record returned"
    );
    after
}

/// (kind, from_state, to_state) of each history entry.
fn transitions(history: &[EventRow]) -> Vec<(&str, Option<&str>, &str)> {
    history
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.from_state.as_deref(),
                e.to_state.as_str(),
            )
        })
        .collect()
}

fn payload(event: &EventRow) -> Event {
    serde_json::from_str(&event.payload)
        .unwrap_or_else(|e| panic!("payload of {} does not parse: {e}", event.kind))
}

fn numbers(page: &complaints::Page<complaints::ListRow>) -> Vec<&str> {
    page.items.iter().map(|r| r.number.as_str()).collect()
}

fn filter() -> ListFilter {
    ListFilter {
        page: 1,
        per_page: 50,
        ..ListFilter::default()
    }
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

both_backends!(
    async fn creating_a_complaint_numbers_it_per_day_and_records_how_it_came_in(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;

        // Customer service registers: `registered`, nothing classified yet.
        let (id1, n1) = register(
            db,
            &intake(DAY1, at(60), Channel::Phone, "13800138001"),
            Some(&org.agent),
            at(61),
        )
        .await;
        assert_eq!(n1, "KS-20260101-0001");
        let r1 = row(db, &n1).await;
        assert_eq!(
            (
                r1.id,
                r1.state.as_str(),
                r1.channel.as_str(),
                r1.received_at
            ),
            (id1.0, "registered", "phone", ms(at(60)))
        );
        assert_eq!(
            (
                r1.category.as_deref(),
                r1.severity.as_str(),
                r1.signals.as_str(),
                r1.version
            ),
            (None, "general", "", 0)
        );
        assert_eq!(r1.customer_phone.as_deref(), Some("13800138001"));
        let h1 = db.history(id1).await.expect("history");
        assert_eq!(transitions(&h1), vec![("registered", None, "registered")]);
        assert_eq!(
            (h1[0].seq, h1[0].actor_id, h1[0].at),
            (1, Some(org.agent.user_id.0), ms(at(61)))
        );
        assert_eq!(h1[0].actor_name.as_deref(), Some("agent"));
        assert_eq!(
            payload(&h1[0]),
            Event::Registered {
                channel: Channel::Phone
            }
        );

        // A channel with nobody logged in: `received`.
        let (id2, n2) = register(
            db,
            &intake(DAY1, at(70), Channel::Web, "13800138002"),
            None,
            at(71),
        )
        .await;
        assert_eq!(n2, "KS-20260101-0002");
        assert_eq!(row(db, &n2).await.state, "received");
        let h2 = db.history(id2).await.expect("history");
        assert_eq!(transitions(&h2), vec![("received", None, "received")]);
        assert_eq!(h2[0].actor_id, None);

        // Another day starts at 0001; another department taking it in is not customer service.
        let (id3, n3) = register(
            db,
            &intake(DAY2, at(DAY + 10), Channel::WalkIn, "13800138003"),
            Some(&org.sales_manager),
            at(DAY + 11),
        )
        .await;
        assert_eq!(n3, "KS-20260102-0001");
        assert_eq!(row(db, &n3).await.state, "received");
        let h3 = db.history(id3).await.expect("history");
        assert_eq!(transitions(&h3), vec![("received", None, "received")]);
        assert_eq!(h3[0].actor_id, Some(org.sales_manager.user_id.0));

        // Each day has its own counter: day 1 continues where it stopped.
        let new = classified(
            intake(DAY1, at(80), Channel::Phone, "13800138004"),
            "safety",
            Severity::Major,
            &[Signal::Safety, Signal::Media],
        );
        let (id4, n4) = register(db, &new, Some(&org.agent), at(81)).await;
        assert_eq!(n4, "KS-20260101-0003");

        // Registered with a category: the classification is an event of its own.
        let r4 = row(db, &n4).await;
        assert_eq!(
            (
                r4.state.as_str(),
                r4.category.as_deref(),
                r4.severity.as_str(),
                r4.signals.as_str()
            ),
            ("registered", Some("safety"), "major", "safety,media")
        );
        assert_eq!(r4.signal_list(), vec![Signal::Safety, Signal::Media]);
        assert_eq!(r4.version, 1);
        let h4 = db.history(id4).await.expect("history");
        assert_eq!(
            transitions(&h4),
            vec![
                ("registered", None, "registered"),
                ("classified", Some("registered"), "registered")
            ]
        );
        assert_eq!(
            h4.iter().map(|e| (e.seq, e.actor_id)).collect::<Vec<_>>(),
            vec![
                (1, Some(org.agent.user_id.0)),
                (2, Some(org.agent.user_id.0))
            ]
        );
        assert_eq!(
            payload(&h4[1]),
            Event::Classified {
                category: Some("safety".to_owned()),
                severity: Severity::Major,
                signals: vec![Signal::Safety, Signal::Media],
                reason: None
            }
        );

        t.drop_async().await;
    }
);

both_backends!(
    async fn a_second_complaint_from_the_same_phone_reuses_the_customer(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;

        let (_, n1) = register(
            db,
            &intake(DAY1, at(10), Channel::Phone, "13900000001"),
            Some(&org.agent),
            at(10),
        )
        .await;
        let mut again = intake(DAY1, at(20), Channel::Email, "13900000001");
        again.customer.email = Some("wang@example.cn".to_owned());
        let (_, n2) = register(db, &again, Some(&org.agent), at(20)).await;
        let (_, n3) = register(
            db,
            &intake(DAY1, at(30), Channel::Phone, "13900000002"),
            Some(&org.agent),
            at(30),
        )
        .await;

        let (r1, r2, r3) = (row(db, &n1).await, row(db, &n2).await, row(db, &n3).await);
        assert_eq!(r1.customer_id, r2.customer_id);
        assert_ne!(r1.customer_id, r3.customer_id);

        let found = db
            .customers_by_phone("13900000001")
            .await
            .expect("customers by phone");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].id, found[0].complaints, found[0].open_complaints),
            (r1.customer_id, 2, 2)
        );
        assert_eq!(
            found[0].email.as_deref(),
            Some("wang@example.cn"),
            "what the second registration added is kept"
        );
        assert_eq!(
            db.customers_by_phone("13900000002")
                .await
                .expect("customers by phone")[0]
                .complaints,
            1
        );
        assert!(
            db.customers_by_phone("10000")
                .await
                .expect("customers by phone")
                .is_empty()
        );

        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Recording changes
// ---------------------------------------------------------------------------

both_backends!(
    async fn recording_on_a_stale_version_is_a_conflict_and_writes_nothing(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let policy = Policy::default();
        let (id, n) = register(
            db,
            &intake(DAY1, at(10), Channel::Phone, "13800138001"),
            Some(&org.agent),
            at(10),
        )
        .await;

        // Someone reads the complaint …
        let mut tx = db.begin().await.expect("begin");
        let stale = load(&mut tx, &n).await;
        drop(tx);
        // … meanwhile someone else classifies it.
        let classify = Command::Classify {
            category: "delay".to_owned(),
            severity: Severity::General,
            signals: vec![],
            reason: None,
        };
        act(db, &n, &org.agent, classify, at(20)).await;
        let history_before = db.history(id).await.expect("history").len();
        assert_eq!(history_before, 2);

        // The first one's change is refused and rolled back.
        let mut tx = db.begin().await.expect("begin");
        let command = Command::LogContact {
            method: ContactMethod::Phone,
            summary: "已致电客户".to_owned(),
        };
        let events = stale
            .decide(command, &org.agent, at(30), &policy)
            .expect("decide");
        let err = complaints::record(&mut tx, &stale, &events, Some(org.agent.user_id), at(30))
            .await
            .expect_err("a stale version must conflict");
        assert!(matches!(err, StorageError::Conflict), "{err:?}");
        drop(tx);

        assert_eq!(
            db.history(id).await.expect("history").len(),
            history_before,
            "the refused events were rolled back"
        );
        let r = row(db, &n).await;
        assert_eq!(
            (r.version, r.category.as_deref(), r.updated_at),
            (1, Some("delay"), ms(at(20)))
        );

        // With a fresh read the same change goes through.
        act(
            db,
            &n,
            &org.agent,
            Command::LogContact {
                method: ContactMethod::Phone,
                summary: "已致电客户".to_owned(),
            },
            at(40),
        )
        .await;
        assert_eq!(
            db.history(id).await.expect("history").len(),
            history_before + 1
        );

        t.drop_async().await;
    }
);

both_backends!(
    async fn a_major_complaint_walks_from_registration_to_close(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let (agent, manager, gm) = (&org.agent, &org.sales_manager, &org.gm);
        let (id, n) = register(
            db,
            &intake(DAY1, at(1000), Channel::Phone, "13800138001"),
            Some(agent),
            at(1000),
        )
        .await;
        let due = at(1000 + 7 * DAY);

        act(
            db,
            &n,
            agent,
            Command::Classify {
                category: "product_quality".to_owned(),
                severity: Severity::Major,
                signals: vec![Signal::Compensation],
                reason: None,
            },
            at(1001),
        )
        .await;
        act(
            db,
            &n,
            agent,
            Command::Dispatch {
                department_id: org.sales,
                assignee: Some((manager.user_id, Some(org.sales))),
            },
            at(1002),
        )
        .await;
        let c = act(
            db,
            &n,
            manager,
            Command::LogContact {
                method: ContactMethod::Phone,
                summary: "与客户约定到店检测".to_owned(),
            },
            at(1003),
        )
        .await;
        assert_eq!(c.state, State::InProgress);
        // Amounts in fen: 200 and 800 yuan.
        let propose = |measures: &str, compensation_fen: i64| Command::Propose {
            measures: measures.to_owned(),
            owner: "销售经理".to_owned(),
            due_at: due,
            follow_up: "三日后回访".to_owned(),
            compensation_fen,
        };
        act(db, &n, manager, propose("免费更换刹车片", 20_000), at(1004)).await;
        let c = act(
            db,
            &n,
            agent,
            Command::AnswerProposal {
                round: 1,
                accepted: false,
                customer_words: "补偿太少了".to_owned(),
            },
            at(1005),
        )
        .await;
        assert_eq!((c.state, c.current_proposal), (State::InProgress, None));
        act(
            db,
            &n,
            manager,
            propose("更换刹车总成并补偿", 80_000),
            at(1006),
        )
        .await;
        let c = act(
            db,
            &n,
            agent,
            Command::AnswerProposal {
                round: 2,
                accepted: true,
                customer_words: "同意这个方案".to_owned(),
            },
            at(1007),
        )
        .await;
        assert_eq!(
            c.state,
            State::AwaitingApproval,
            "a major complaint needs the general manager"
        );
        act(
            db,
            &n,
            gm,
            Command::Approve {
                approved: true,
                comment: None,
            },
            at(1008),
        )
        .await;

        // The signed agreement: the file and its event in one transaction.
        let agreement = b"%PDF-1.4 signed agreement \x00\x01\x02\xff".to_vec();
        let size = i64::try_from(agreement.len()).expect("small file");
        let mut tx = db.begin().await.expect("begin");
        let before = load(&mut tx, &n).await;
        let attachment = complaints::insert_attachment(
            &mut tx,
            id,
            AttachmentKind::Agreement.as_str(),
            "agreement.pdf",
            "application/pdf",
            &agreement,
            manager.user_id,
            at(1009),
        )
        .await
        .expect("insert attachment");
        let attach = Command::Attach {
            attachment_id: AttachmentId(attachment),
            kind: AttachmentKind::Agreement,
            filename: "agreement.pdf".to_owned(),
            size,
        };
        let events = before
            .decide(attach, manager, at(1009), &Policy::default())
            .expect("decide attach");
        complaints::record(&mut tx, &before, &events, Some(manager.user_id), at(1009))
            .await
            .expect("record attach");
        tx.commit().await.expect("commit");

        act(
            db,
            &n,
            manager,
            Command::RecordExecution {
                progress: "已更换并支付补偿".to_owned(),
                completed: true,
            },
            at(1010),
        )
        .await;
        act(
            db,
            &n,
            agent,
            Command::FeedBack {
                method: ContactMethod::Phone,
                content: "已告知处理结果".to_owned(),
            },
            at(1011),
        )
        .await;
        act(
            db,
            &n,
            agent,
            Command::FollowUp {
                outcome: FollowUpOutcome::Satisfied,
                score: Some(5),
                comment: Some("满意".to_owned()),
            },
            at(1012),
        )
        .await;
        let c = act(
            db,
            &n,
            agent,
            Command::Close {
                exception_reason: None,
            },
            at(1013),
        )
        .await;
        assert_eq!(c.state, State::Closed);

        // The projection.
        let r = row(db, &n).await;
        assert_eq!(r.state, "closed");
        assert_eq!(r.closed_at, Some(ms(at(1013))));
        assert_eq!(r.updated_at, ms(at(1013)));
        assert_eq!(
            (
                r.category.as_deref(),
                r.severity.as_str(),
                r.signals.as_str()
            ),
            (Some("product_quality"), "major", "compensation")
        );
        assert_eq!(
            (r.department_id, r.department_name.as_deref()),
            (Some(org.sales.0), Some("销售部"))
        );
        assert_eq!(
            (r.assignee_id, r.assignee_name.as_deref()),
            (Some(manager.user_id.0), Some("sales_mgr"))
        );
        assert_eq!(
            (r.proposals, r.current_round, r.current_compensation_fen),
            (2, Some(2), Some(80_000))
        );
        assert!(
            r.execution_done
                && r.agreement_attached
                && r.satisfied
                && !r.close_exception_pending
                && !r.taken_over
        );
        assert_eq!(r.satisfaction_score, Some(5));
        assert_eq!(r.version, 13, "one version per recorded decision");

        // Both proposals, with what the customer said.
        let proposals = db.proposals(id).await.expect("proposals");
        let summary: Vec<_> = proposals
            .iter()
            .map(|p| {
                (
                    p.round,
                    p.status.as_str(),
                    p.customer_words.as_deref(),
                    p.compensation_fen,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "rejected", Some("补偿太少了"), 20_000),
                (2, "approved", Some("同意这个方案"), 80_000)
            ]
        );
        assert_eq!(
            (
                proposals[0].proposed_at,
                proposals[0].answered_at,
                proposals[0].due_at
            ),
            (ms(at(1004)), Some(ms(at(1005))), ms(due))
        );
        assert_eq!(
            (
                proposals[1].measures.as_str(),
                proposals[1].owner.as_str(),
                proposals[1].follow_up.as_str()
            ),
            ("更换刹车总成并补偿", "销售经理", "三日后回访")
        );
        assert_eq!(proposals[1].answered_at, Some(ms(at(1007))));

        // The history, in order.
        let history = db.history(id).await.expect("history");
        assert_eq!(
            transitions(&history),
            vec![
                ("registered", None, "registered"),
                ("classified", Some("registered"), "registered"),
                ("dispatched", Some("registered"), "dispatched"),
                ("handling_started", Some("dispatched"), "in_progress"),
                ("contact_logged", Some("in_progress"), "in_progress"),
                ("proposed", Some("in_progress"), "proposed"),
                ("proposal_answered", Some("proposed"), "in_progress"),
                ("proposed", Some("in_progress"), "proposed"),
                ("proposal_answered", Some("proposed"), "awaiting_approval"),
                ("approval_decided", Some("awaiting_approval"), "executing"),
                ("attachment_added", Some("executing"), "executing"),
                ("execution_recorded", Some("executing"), "executing"),
                ("fed_back", Some("executing"), "fed_back"),
                ("followed_up", Some("fed_back"), "follow_up"),
                ("closed", Some("follow_up"), "closed"),
            ]
        );
        assert_eq!(
            history.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=15).collect::<Vec<i64>>()
        );
        let (a, m, g) = (
            Some(agent.user_id.0),
            Some(manager.user_id.0),
            Some(gm.user_id.0),
        );
        assert_eq!(
            history.iter().map(|e| e.actor_id).collect::<Vec<_>>(),
            vec![a, a, a, m, m, m, a, m, a, g, m, m, a, a, a]
        );
        assert!(
            history.windows(2).all(|w| w[0].at <= w[1].at),
            "times never go back"
        );
        assert_eq!(
            payload(&history[5]),
            Event::Proposed {
                round: 1,
                measures: "免费更换刹车片".to_owned(),
                owner: "销售经理".to_owned(),
                due_at: due,
                follow_up: "三日后回访".to_owned(),
                compensation_fen: 20_000
            }
        );
        assert_eq!(
            payload(&history[9]),
            Event::ApprovalDecided {
                subject: ApprovalSubject::Proposal { round: 2 },
                approved: true,
                comment: None
            }
        );

        // The file.
        let listed = db.attachments(id).await.expect("attachments");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].id,
                listed[0].kind.as_str(),
                listed[0].filename.as_str(),
                listed[0].size
            ),
            (attachment, "agreement", "agreement.pdf", size)
        );
        use sha2::Digest;
        assert_eq!(
            listed[0].sha256,
            hex::encode(sha2::Sha256::digest(&agreement))
        );
        let data = db
            .attachment_data(id, attachment)
            .await
            .expect("attachment data")
            .expect("the file exists");
        assert_eq!(
            (data.filename.as_str(), data.content_type.as_str()),
            ("agreement.pdf", "application/pdf")
        );
        assert_eq!(data.data, agreement);
        assert!(
            db.attachment_data(ComplaintId(id.0 + 1), attachment)
                .await
                .expect("attachment data")
                .is_none(),
            "a file belongs to its complaint"
        );

        t.drop_async().await;
    }
);

both_backends!(
    async fn a_sub_task_shows_the_complaint_to_the_asked_department_only(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let new = classified(
            intake(DAY1, at(10), Channel::Phone, "13800138001"),
            "delay",
            Severity::General,
            &[],
        );
        let (id, n) = register(db, &new, Some(&org.agent), at(10)).await;
        act(
            db,
            &n,
            &org.agent,
            Command::Dispatch {
                department_id: org.sales,
                assignee: Some((org.sales_manager.user_id, Some(org.sales))),
            },
            at(11),
        )
        .await;
        let task = Command::CreateTask {
            department_id: org.parts,
            owner: Some((org.parts_manager.user_id, Some(org.parts))),
            title: "核对配件到货时间".to_owned(),
            due_at: Some(at(2 * DAY)),
        };
        let c = act(db, &n, &org.sales_manager, task, at(12)).await;
        assert_eq!(c.tasks, 1);

        let tasks = db.tasks(id).await.expect("tasks");
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            (
                tasks[0].seq,
                tasks[0].department_id,
                tasks[0].department_name.as_str()
            ),
            (1, org.parts.0, "配件部")
        );
        assert_eq!(
            (tasks[0].owner_id, tasks[0].owner_name.as_deref()),
            (Some(org.parts_manager.user_id.0), Some("parts_mgr"))
        );
        assert_eq!(
            (
                tasks[0].due_at,
                tasks[0].done,
                tasks[0].result.as_deref(),
                tasks[0].completed_at
            ),
            (Some(ms(at(2 * DAY))), false, None, None)
        );

        // While the task is open: the asked department sees it and has it in its queue.
        let r = row(db, &n).await;
        assert!(db.may_see(&org.parts_manager, &r).await.expect("may see"));
        assert!(db.may_see(&org.sales_manager, &r).await.expect("may see"));
        assert!(
            !db.may_see(&org.finance_manager, &r).await.expect("may see"),
            "an unrelated department does not see it"
        );
        let mine = ListFilter {
            queue: Queue::Mine,
            ..filter()
        };
        assert_eq!(
            numbers(
                &db.list_complaints(&org.parts_manager, &mine)
                    .await
                    .expect("list")
            ),
            vec![n.as_str()]
        );
        assert_eq!(
            numbers(
                &db.list_complaints(&org.parts_manager, &filter())
                    .await
                    .expect("list")
            ),
            vec![n.as_str()]
        );
        assert!(
            db.list_complaints(&org.finance_manager, &filter())
                .await
                .expect("list")
                .items
                .is_empty()
        );
        assert!(
            db.list_complaints(&org.finance_manager, &mine)
                .await
                .expect("list")
                .items
                .is_empty()
        );

        // The asked department answers.
        let mut tx = db.begin().await.expect("begin");
        let before = load(&mut tx, &n).await;
        assert!(
            complaints::load_task(&mut tx, id, 2)
                .await
                .expect("load task")
                .is_none()
        );
        let facts = complaints::load_task(&mut tx, id, 1)
            .await
            .expect("load task")
            .expect("task 1 exists");
        assert_eq!(
            (facts.seq, facts.department_id, facts.owner_id, facts.done),
            (1, org.parts, Some(org.parts_manager.user_id), false)
        );
        let events = before
            .decide(
                Command::CompleteTask {
                    task: facts,
                    result: "配件周五到货".to_owned(),
                },
                &org.parts_manager,
                at(20),
                &Policy::default(),
            )
            .expect("decide");
        complaints::record(
            &mut tx,
            &before,
            &events,
            Some(org.parts_manager.user_id),
            at(20),
        )
        .await
        .expect("record");
        tx.commit().await.expect("commit");

        let tasks = db.tasks(id).await.expect("tasks");
        assert_eq!(
            (
                tasks[0].done,
                tasks[0].result.as_deref(),
                tasks[0].completed_at
            ),
            (true, Some("配件周五到货"), Some(ms(at(20))))
        );
        let history = db.history(id).await.expect("history");
        assert_eq!(
            transitions(&history)[3..],
            [
                ("task_created", Some("dispatched"), "dispatched"),
                ("task_completed", Some("dispatched"), "dispatched")
            ]
        );

        // Done: no longer waiting for the department, still visible to it.
        assert!(
            db.list_complaints(&org.parts_manager, &mine)
                .await
                .expect("list")
                .items
                .is_empty()
        );
        assert_eq!(
            numbers(
                &db.list_complaints(&org.parts_manager, &filter())
                    .await
                    .expect("list")
            ),
            vec![n.as_str()]
        );
        assert!(
            db.may_see(&org.parts_manager, &row(db, &n).await)
                .await
                .expect("may see")
        );

        // A task is done once: the stored fact says so.
        let mut tx = db.begin().await.expect("begin");
        let before = load(&mut tx, &n).await;
        let facts = complaints::load_task(&mut tx, id, 1)
            .await
            .expect("load task")
            .expect("task 1 exists");
        assert!(facts.done);
        let refusal = before.decide(
            Command::CompleteTask {
                task: facts,
                result: "again".to_owned(),
            },
            &org.parts_manager,
            at(21),
            &Policy::default(),
        );
        assert_eq!(refusal, Err(kesu_domain::Refusal::TaskDone));
        drop(tx);

        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

both_backends!(
    async fn lists_filter_by_state_severity_channel_department_and_openness_and_page_newest_first(
        backend: Backend,
    ) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let agent = &org.agent;
        let general = |new| classified(new, "delay", Severity::General, &[]);

        let (_, n1) = register(
            db,
            &general(intake(DAY1, at(10), Channel::Phone, "13800000001")),
            Some(agent),
            at(10),
        )
        .await;
        let major = classified(
            intake(DAY1, at(20), Channel::Email, "13800000002"),
            "safety",
            Severity::Major,
            &[Signal::Safety],
        );
        let (_, n2) = register(db, &major, Some(agent), at(20)).await;
        let (_, n3) = register(
            db,
            &intake(DAY1, at(30), Channel::Web, "13800000003"),
            None,
            at(30),
        )
        .await;
        let (_, n4) = register(
            db,
            &general(intake(DAY1, at(40), Channel::Phone, "13800000004")),
            Some(agent),
            at(40),
        )
        .await;
        act(
            db,
            &n4,
            agent,
            Command::Dispatch {
                department_id: org.sales,
                assignee: Some((org.sales_manager.user_id, Some(org.sales))),
            },
            at(41),
        )
        .await;
        let (_, n5) = register(
            db,
            &general(intake(DAY1, at(50), Channel::Wechat, "13800000005")),
            Some(agent),
            at(50),
        )
        .await;
        act(
            db,
            &n5,
            agent,
            Command::Reject {
                reason: "重复提交".to_owned(),
            },
            at(51),
        )
        .await;
        let (n1, n2, n3, n4, n5) = (
            n1.as_str(),
            n2.as_str(),
            n3.as_str(),
            n4.as_str(),
            n5.as_str(),
        );

        let list = async |f: ListFilter| db.list_complaints(agent, &f).await.expect("list");
        assert_eq!(numbers(&list(filter()).await), vec![n5, n4, n3, n2, n1]);
        assert_eq!(
            numbers(
                &list(ListFilter {
                    state: Some(State::Registered),
                    ..filter()
                })
                .await
            ),
            vec![n2, n1]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    state: Some(State::Received),
                    ..filter()
                })
                .await
            ),
            vec![n3]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    state: Some(State::Rejected),
                    ..filter()
                })
                .await
            ),
            vec![n5]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    severity: Some(Severity::Major),
                    ..filter()
                })
                .await
            ),
            vec![n2]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    severity: Some(Severity::General),
                    ..filter()
                })
                .await
            ),
            vec![n5, n4, n3, n1]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    channel: Some(Channel::Phone),
                    ..filter()
                })
                .await
            ),
            vec![n4, n1]
        );
        assert!(
            list(ListFilter {
                channel: Some(Channel::Letter),
                ..filter()
            })
            .await
            .items
            .is_empty()
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    department_id: Some(org.sales),
                    ..filter()
                })
                .await
            ),
            vec![n4]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    open_only: true,
                    ..filter()
                })
                .await
            ),
            vec![n4, n3, n2, n1]
        );
        assert_eq!(
            numbers(
                &list(ListFilter {
                    open_only: true,
                    channel: Some(Channel::Phone),
                    severity: Some(Severity::General),
                    ..filter()
                })
                .await
            ),
            vec![n4, n1]
        );

        // What a row carries.
        let page = list(ListFilter {
            department_id: Some(org.sales),
            ..filter()
        })
        .await;
        let r = &page.items[0];
        assert_eq!(
            (
                r.state.as_str(),
                r.channel.as_str(),
                r.received_at,
                r.customer_name.as_str()
            ),
            ("dispatched", "phone", ms(at(40)), "王先生")
        );
        assert_eq!(
            (
                r.department_name.as_deref(),
                r.assignee_name.as_deref(),
                r.category.as_deref(),
                r.severity.as_str()
            ),
            (Some("销售部"), Some("sales_mgr"), Some("delay"), "general")
        );

        // Paging, newest first.
        let paged = |page| ListFilter {
            page,
            per_page: 2,
            ..filter()
        };
        let p1 = list(paged(1)).await;
        let p2 = list(paged(2)).await;
        let p3 = list(paged(3)).await;
        assert_eq!(
            (numbers(&p1), p1.has_next, p1.page, p1.per_page),
            (vec![n5, n4], true, 1, 2)
        );
        assert_eq!((numbers(&p2), p2.has_next), (vec![n3, n2], true));
        assert_eq!((numbers(&p3), p3.has_next), (vec![n1], false));
        assert!(list(paged(4)).await.items.is_empty());
        let exact = list(ListFilter {
            per_page: 5,
            ..filter()
        })
        .await;
        assert_eq!(
            (exact.items.len(), exact.has_next),
            (5, false),
            "a page that holds the rest has no next"
        );

        // Who sees what: a manager only their department's; customer service's own queue.
        assert_eq!(
            numbers(
                &db.list_complaints(&org.sales_manager, &filter())
                    .await
                    .expect("list")
            ),
            vec![n4]
        );
        assert!(
            db.list_complaints(&org.parts_manager, &filter())
                .await
                .expect("list")
                .items
                .is_empty()
        );
        let mine = ListFilter {
            queue: Queue::Mine,
            ..filter()
        };
        assert_eq!(
            numbers(&db.list_complaints(agent, &mine).await.expect("list")),
            vec![n3, n2, n1]
        );
        assert_eq!(
            numbers(
                &db.list_complaints(&org.sales_manager, &mine)
                    .await
                    .expect("list")
            ),
            vec![n4]
        );

        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Sessions and tokens
// ---------------------------------------------------------------------------

both_backends!(
    async fn sessions_expire_end_on_logout_and_on_deactivation_and_api_tokens_find_their_user(
        backend: Backend,
    ) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let agent = &org.agent;
        let eight_hours = SignedDuration::from_hours(8);

        let (token, csrf) = db
            .create_session(agent.user_id, at(0), eight_hours)
            .await
            .expect("create session");
        assert_ne!(token, csrf);
        let session = db
            .session(&token, at(60))
            .await
            .expect("session")
            .expect("a live session");
        assert_eq!(
            (
                session.user.id,
                session.user.username.as_str(),
                session.csrf_token.as_str()
            ),
            (agent.user_id.0, "agent", csrf.as_str())
        );
        assert_eq!(session.expires_at, ms(at(8 * 60)));
        assert_eq!(session.user.actor(), *agent);
        assert!(
            db.session(&token, at(8 * 60 - 1))
                .await
                .expect("session")
                .is_some()
        );
        assert!(
            db.session(&token, at(8 * 60))
                .await
                .expect("session")
                .is_none(),
            "expired at its end"
        );
        assert!(
            db.session(&token, at(9 * 60))
                .await
                .expect("session")
                .is_none()
        );
        assert!(
            db.session("not-a-token", at(60))
                .await
                .expect("session")
                .is_none()
        );

        db.delete_session(&token).await.expect("delete session");
        assert!(
            db.session(&token, at(60)).await.expect("session").is_none(),
            "logged out"
        );

        let (expired, _) = db
            .create_session(agent.user_id, at(0), SignedDuration::from_hours(1))
            .await
            .expect("create session");
        let (live, _) = db
            .create_session(agent.user_id, at(0), eight_hours)
            .await
            .expect("create session");
        assert_eq!(
            db.delete_expired_sessions(at(2 * 60))
                .await
                .expect("delete expired"),
            1
        );
        assert!(
            db.session(&expired, at(30))
                .await
                .expect("session")
                .is_none(),
            "removed, not just filtered"
        );
        assert!(
            db.session(&live, at(2 * 60))
                .await
                .expect("session")
                .is_some()
        );

        // API tokens.
        let api = db
            .create_api_token(agent.user_id, at(0))
            .await
            .expect("create api token");
        assert!(api.starts_with("ks_") && api.len() > 3, "{api}");
        let found = db
            .user_by_api_token(&api)
            .await
            .expect("by token")
            .expect("the token's user");
        assert_eq!(found.id, agent.user_id.0);
        assert!(
            db.user_by_api_token("ks_0000")
                .await
                .expect("by token")
                .is_none()
        );
        assert!(
            db.user_by_api_token(api.trim_start_matches("ks_"))
                .await
                .expect("by token")
                .is_none(),
            "the prefix is part of the token"
        );
        assert!(
            db.user_by_api_token(&format!("{api}0"))
                .await
                .expect("by token")
                .is_none()
        );

        // Deactivation ends the sessions (deleted: reactivating does not revive them) and stops the token.
        assert!(
            db.update_user(
                agent.user_id,
                "agent",
                &[Role::Agent],
                agent.department_id,
                false
            )
            .await
            .expect("update user")
        );
        assert!(
            db.session(&live, at(2 * 60))
                .await
                .expect("session")
                .is_none()
        );
        assert!(
            db.user_by_api_token(&api)
                .await
                .expect("by token")
                .is_none()
        );
        assert!(
            db.password_hash("agent")
                .await
                .expect("password hash")
                .is_none()
        );
        assert!(
            db.update_user(
                agent.user_id,
                "agent",
                &[Role::Agent],
                agent.department_id,
                true
            )
            .await
            .expect("update user")
        );
        assert!(
            db.session(&live, at(2 * 60))
                .await
                .expect("session")
                .is_none()
        );
        assert!(
            db.user_by_api_token(&api)
                .await
                .expect("by token")
                .is_some()
        );

        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Organisation and configuration
// ---------------------------------------------------------------------------

both_backends!(
    async fn a_taken_username_or_department_code_is_a_duplicate(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let org = org(db).await;
        let users_before = db.user_count().await.expect("user count");

        let again = NewUser {
            username: "agent",
            display_name: "另一个",
            password_hash: None,
            roles: &[Role::Agent],
            department_id: None,
        };
        let err = db
            .create_user(&again, at(1))
            .await
            .expect_err("username is taken");
        assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
        assert_eq!(db.user_count().await.expect("user count"), users_before);

        let site = kesu_domain::SiteId(db.sites().await.expect("sites")[0].id);
        let err = db
            .create_department(site, "sales", "又一个销售部", at(1))
            .await
            .expect_err("code is taken");
        assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
        assert_eq!(
            db.department_by_code("sales")
                .await
                .expect("department")
                .map(|d| (d.id, d.name)),
            Some((org.sales.0, "销售部".to_owned()))
        );

        let err = db
            .create_site("hq", "又一个总店", "Asia/Shanghai", at(1))
            .await
            .expect_err("site code is taken");
        assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");

        // Not every error is a duplicate: a missing site is not.
        let err = db
            .create_department(kesu_domain::SiteId(9999), "ghost", "幽灵部", at(1))
            .await
            .expect_err("no such site");
        assert!(!matches!(err, StorageError::Duplicate(_)), "{err:?}");

        t.drop_async().await;
    }
);

both_backends!(
    async fn seeding_categories_is_idempotent_and_the_policy_round_trips(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;

        db.seed_categories().await.expect("seed");
        db.seed_categories().await.expect("seed again");
        let categories = db.categories().await.expect("categories");
        assert_eq!(categories.len(), 11);
        assert_eq!(
            categories
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>(),
            DEFAULT_CATEGORIES.iter().map(|c| c.0).collect::<Vec<_>>()
        );
        assert!(
            categories
                .iter()
                .all(|c| c.active && c.parent_code.is_none())
        );
        let safety = db
            .category("safety")
            .await
            .expect("category")
            .expect("seeded");
        assert_eq!(
            (safety.name_zh.as_str(), safety.name_en.as_str()),
            ("安全", "Safety")
        );

        // An admin's own category survives reseeding; the defaults are not duplicated.
        db.create_category(
            "brake_noise",
            Some("product_quality"),
            "刹车异响",
            "Brake noise",
        )
        .await
        .expect("create category");
        assert!(
            db.set_category_active("other", false)
                .await
                .expect("deactivate")
        );
        db.seed_categories().await.expect("seed a third time");
        let categories = db.categories().await.expect("categories");
        assert_eq!(categories.len(), 12);
        assert!(
            !db.category("other")
                .await
                .expect("category")
                .expect("seeded")
                .active,
            "reseeding does not reactivate"
        );
        assert_eq!(
            categories.last().map(|c| c.code.as_str()),
            Some("other"),
            "inactive last"
        );
        let err = db
            .create_category("safety", None, "安全", "Safety")
            .await
            .expect_err("code is taken");
        assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");

        // The policy: the default until saved, then what was saved, and saved again.
        assert_eq!(db.policy().await.expect("policy"), Policy::default());
        let strict = Policy {
            approval_limit_fen: 10_000,
            repeat_window_days: 30,
            duplicate_window_days: 14,
        };
        db.set_policy(&strict).await.expect("set policy");
        assert_eq!(db.policy().await.expect("policy"), strict);
        let lenient = Policy {
            approval_limit_fen: 200_000,
            ..Policy::default()
        };
        db.set_policy(&lenient).await.expect("set policy again");
        assert_eq!(db.policy().await.expect("policy"), lenient);

        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// The two schemas
// ---------------------------------------------------------------------------

/// (table, column) → nullable, for every table but sqlx's own and SQLite's
/// full-text index (FTS5's virtual table and its shadow tables).
async fn columns(db: &Db) -> BTreeMap<(String, String), bool> {
    match db {
        Db::Sqlite(p, _) => {
            // A PRIMARY KEY column counts as NOT NULL, as PostgreSQL makes it.
            // SQLite enforces that only for `INTEGER PRIMARY KEY` (the rowid);
            // `sessions.token_hash`, `settings.key` and `number_counters.day`
            // would accept NULL there, though kesu never writes one.
            let sql = "SELECT m.name, c.name, c.\"notnull\", c.pk FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                       WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
                       AND m.name NOT LIKE 'complaint_fts%'";
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(sql)
                .fetch_all(p)
                .await
                .expect("sqlite columns");
            rows.into_iter()
                .map(|(t, c, notnull, pk)| ((t, c), notnull == 0 && pk == 0))
                .collect()
        }
        Db::Pg(p) => {
            let sql = "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
                       WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'";
            let rows: Vec<(String, String, String)> = sqlx::query_as(sql)
                .fetch_all(p)
                .await
                .expect("postgres columns");
            rows.into_iter()
                .map(|(t, c, nullable)| ((t, c), nullable == "YES"))
                .collect()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_create_the_same_columns_with_the_same_nullability() {
    let Some(sqlite) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let Some(pg) = TestDb::new(Backend::Postgres).await else {
        sqlite.drop_async().await;
        return;
    };
    let (lite, post) = (columns(&sqlite.db).await, columns(&pg.db).await);
    sqlite.drop_async().await;
    pg.drop_async().await;

    assert!(
        lite.len() > 100,
        "the schema was read: {} columns",
        lite.len()
    );
    let only_sqlite: Vec<_> = lite.keys().filter(|k| !post.contains_key(*k)).collect();
    let only_pg: Vec<_> = post.keys().filter(|k| !lite.contains_key(*k)).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_pg:?}"
    );
    let nullability: Vec<_> = lite
        .iter()
        .filter(|(k, n)| post.get(*k) != Some(n))
        .map(|((t, c), n)| format!("{t}.{c}: nullable in SQLite {n}"))
        .collect();
    assert!(
        nullability.is_empty(),
        "nullability differs: {nullability:?}"
    );
}

both_backends!(
    async fn an_industry_template_adds_its_departments_once(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let now = jiff::Timestamp::from_second(1_795_000_000).expect("time");
        assert_eq!(
            t.db.load_template("car_dealer", now)
                .await
                .expect("load")
                .departments,
            6
        );
        assert_eq!(
            t.db.load_template("car_dealer", now)
                .await
                .expect("load again")
                .departments,
            0,
            "loading twice adds nothing"
        );
        let codes: Vec<String> =
            t.db.departments()
                .await
                .expect("departments")
                .into_iter()
                .map(|d| d.code)
                .collect();
        for c in ["cs", "sales", "service", "parts", "finance", "general"] {
            assert!(codes.iter().any(|x| x == c), "{c} in {codes:?}");
        }
        assert!(t.db.load_template("no_such", now).await.is_err());
        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Full-text search
// ---------------------------------------------------------------------------

fn searching(text: &str) -> ListFilter {
    ListFilter {
        text: Some(text.to_owned()),
        ..filter()
    }
}

async fn found(db: &Db, actor: &Actor, f: &ListFilter) -> Vec<String> {
    let page = db.list_complaints(actor, f).await.expect("search");
    numbers(&page).into_iter().map(str::to_owned).collect()
}

both_backends!(
    async fn search_finds_chinese_words_not_substrings_and_follows_changes(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let o = org(db).await;
        let mut bridge = intake(DAY1, at(0), Channel::Phone, "13800000001");
        bridge.description = "在南京市长江大桥上车抛锚，救援两小时才到".to_owned();
        bridge.plate = Some("苏A12345".to_owned());
        let (_, bridge) = register(db, &bridge, Some(&o.agent), at(1)).await;
        let mut refund = intake(DAY1, at(2), Channel::Email, "13800000002");
        refund.description = "申請退款三週了還沒到賬".to_owned();
        refund.order_ref = Some("JD20261101889".to_owned());
        refund.customer.name = "李秀英".to_owned();
        let (_, refund) = register(db, &refund, Some(&o.agent), at(3)).await;
        let mut mayor = intake(DAY1, at(4), Channel::Phone, "13800000003");
        mayor.description = "市长热线也打过了，刹车片还是异响".to_owned();
        let (_, mayor) = register(db, &mayor, Some(&o.agent), at(5)).await;
        let mut brakes = intake(DAY1, at(6), Channel::Phone, "13800000004");
        brakes.description = "刹车失灵差点出事".to_owned();
        let (_, brakes) = register(db, &brakes, Some(&o.agent), at(7)).await;

        // Words, not substrings: 市长 is not inside 南京市长江大桥.
        assert_eq!(
            found(db, &o.agent, &searching("市长")).await,
            vec![mayor.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("长江大桥")).await,
            vec![bridge.clone()]
        );
        // A two-character word inside longer ones; newest registered first.
        assert_eq!(
            found(db, &o.agent, &searching("刹车")).await,
            vec![brakes.clone(), mayor.clone()]
        );
        // Traditional text, details and the customer are found too.
        assert_eq!(
            found(db, &o.agent, &searching("退款")).await,
            vec![refund.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("jd20261101889")).await,
            vec![refund.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("李秀英")).await,
            vec![refund.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("苏A12345")).await,
            vec![bridge.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("13800000004")).await,
            vec![brakes.clone()]
        );
        // Every word must be present.
        assert_eq!(
            found(db, &o.agent, &searching("刹车 异响")).await,
            vec![mayor.clone()]
        );
        assert!(
            found(db, &o.agent, &searching("刹车 退款"))
                .await
                .is_empty()
        );
        // Nothing to search by finds nothing rather than everything.
        assert!(found(db, &o.agent, &searching("，。！")).await.is_empty());

        // The index follows the complaint: a contact note's words are found.
        act(
            db,
            &brakes,
            &o.agent,
            Command::LogContact {
                method: ContactMethod::Phone,
                summary: "客户要求全额退款并赔偿误工费".to_owned(),
            },
            at(10),
        )
        .await;
        assert_eq!(
            found(db, &o.agent, &searching("退款")).await,
            vec![brakes.clone(), refund.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("误工费")).await,
            vec![brakes.clone()]
        );

        // Search combines with the list filters and the reader's visibility.
        let classify = Command::Classify {
            category: "refund_return".to_owned(),
            severity: Severity::General,
            signals: vec![],
            reason: None,
        };
        act(db, &refund, &o.agent, classify, at(11)).await;
        let mut f = searching("退款");
        f.state = Some(State::Registered);
        assert_eq!(
            found(db, &o.agent, &f).await,
            vec![brakes.clone(), refund.clone()]
        );
        f.channel = Some(Channel::Email);
        assert_eq!(found(db, &o.agent, &f).await, vec![refund.clone()]);
        assert!(
            found(db, &o.finance_manager, &searching("退款"))
                .await
                .is_empty(),
            "a department that was never asked sees none of them"
        );

        // Complaints from before the index are indexed at start, history included.
        assert_eq!(
            db.index_unindexed(100).await.expect("index"),
            0,
            "all are indexed"
        );
        let wipe = "DELETE FROM complaint_search";
        match db {
            Db::Sqlite(p, _) => sqlx::query(wipe).execute(p).await.map(|_| ()),
            Db::Pg(p) => sqlx::query(wipe).execute(p).await.map(|_| ()),
        }
        .expect("wipe the index");
        assert!(found(db, &o.agent, &searching("刹车")).await.is_empty());
        assert_eq!(db.index_unindexed(3).await.expect("index"), 3);
        assert_eq!(db.index_unindexed(3).await.expect("index"), 1);
        assert_eq!(db.index_unindexed(3).await.expect("index"), 0);
        assert_eq!(
            found(db, &o.agent, &searching("误工费")).await,
            vec![brakes.clone()]
        );
        assert_eq!(
            found(db, &o.agent, &searching("市长")).await,
            vec![mayor.clone()]
        );
        t.drop_async().await;
    }
);

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

fn shanghai(s: &str) -> Timestamp {
    format!("{s}+08:00").parse().expect("a timestamp")
}

fn clock<'a>(
    rows: &'a [kesu_storage::deadlines::DeadlineRow],
    kind: &str,
) -> &'a kesu_storage::deadlines::DeadlineRow {
    rows.iter()
        .rev()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {rows:?}"))
}

async fn notices_of(db: &Db, actor: &Actor) -> Vec<(String, Option<usize>)> {
    let mut v: Vec<(String, Option<usize>)> = db
        .notices(actor.user_id.0, 100)
        .await
        .expect("notices")
        .iter()
        .map(|n| (n.kind.clone(), n.details().step))
        .collect();
    v.sort();
    v
}

both_backends!(
    async fn clocks_run_with_the_lifecycle_and_the_sweep_warns_and_escalates_once(
        backend: Backend,
    ) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let o = org(db).await;
        let supervisor = user(db, "sup", &[Role::Supervisor], None).await;
        // Monday 2 March 2026, 10:00 in Shanghai: an ordinary working day.
        let at0 = shanghai("2026-03-02T10:00:00");
        let (id, n) = register(
            db,
            &intake(20260302, at0, Channel::Phone, "13900000000"),
            Some(&o.agent),
            at0,
        )
        .await;
        let rows = db.deadlines(id).await.expect("deadlines");
        let running: Vec<&str> = rows
            .iter()
            .filter(|r| r.running())
            .map(|r| r.kind.as_str())
            .collect();
        assert_eq!(
            running,
            vec!["classify", "initial_reply", "progress_report", "resolve"]
        );
        assert_eq!(
            clock(&rows, "classify").due_at,
            ms(shanghai("2026-03-02T10:30:00"))
        );

        let classify = Command::Classify {
            category: "repair_quality".to_owned(),
            severity: Severity::General,
            signals: vec![],
            reason: None,
        };
        act(db, &n, &o.agent, classify, shanghai("2026-03-02T10:10:00")).await;
        let dispatch = Command::Dispatch {
            department_id: o.sales,
            assignee: Some((o.sales_manager.user_id, Some(o.sales))),
        };
        act(db, &n, &o.agent, dispatch, shanghai("2026-03-02T10:20:00")).await;
        let rows = db.deadlines(id).await.expect("deadlines");
        assert_eq!(
            clock(&rows, "classify").met_at,
            Some(ms(shanghai("2026-03-02T10:10:00")))
        );
        assert_eq!(
            clock(&rows, "dispatch").met_at,
            Some(ms(shanghai("2026-03-02T10:20:00")))
        );
        let contact = clock(&rows, "first_contact");
        assert_eq!(contact.due_at, ms(shanghai("2026-03-02T12:20:00")));
        assert_eq!(
            notices_of(db, &o.sales_manager).await,
            vec![("assigned".to_owned(), None)]
        );

        // Nothing is due before the warning (75 % of 2 h: 11:50).
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T11:00:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!(r.notices, 0);
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T11:55:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!((r.warnings, r.notices), (1, 1));
        // The same pass again tells nobody anything.
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T11:56:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!(r.notices, 0);
        // Found an hour and a half after the breach: the owner and the
        // department manager (the same person here, told once), then the supervisor.
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T13:50:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!((r.breaches, r.notices), (1, 2), "{r:?}");
        assert_eq!(
            notices_of(db, &o.sales_manager).await,
            vec![
                ("assigned".to_owned(), None),
                ("deadline_breached".to_owned(), Some(0)),
                ("deadline_warning".to_owned(), None),
            ]
        );
        assert_eq!(
            notices_of(db, &supervisor).await,
            vec![("deadline_breached".to_owned(), Some(1))]
        );
        assert!(
            notices_of(db, &o.gm).await.is_empty(),
            "a general complaint does not go to the GM"
        );
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T17:50:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!(r.notices, 0, "every step was taken once");

        // The late contact ends the clock breached, at its due time.
        let contact = Command::LogContact {
            method: ContactMethod::Phone,
            summary: "已致电".to_owned(),
        };
        act(
            db,
            &n,
            &o.sales_manager,
            contact,
            shanghai("2026-03-02T14:00:00"),
        )
        .await;
        let rows = db.deadlines(id).await.expect("deadlines");
        let c = clock(&rows, "first_contact");
        assert_eq!(
            (c.met_at, c.breached_at, c.running()),
            (None, Some(ms(shanghai("2026-03-02T12:20:00"))), false)
        );
        assert_eq!(
            clock(&rows, "initial_reply").met_at,
            Some(ms(shanghai("2026-03-02T14:00:00")))
        );

        // Unread count and marking read.
        assert_eq!(
            db.unread_notices(o.sales_manager.user_id.0)
                .await
                .expect("count"),
            3
        );
        db.mark_notices_read(o.sales_manager.user_id.0, shanghai("2026-03-02T15:00:00"))
            .await
            .expect("read");
        assert_eq!(
            db.unread_notices(o.sales_manager.user_id.0)
                .await
                .expect("count"),
            0
        );
        t.drop_async().await;
    }
);

both_backends!(
    async fn a_major_complaint_runs_on_the_fast_track_and_its_breach_reaches_the_general_manager(
        backend: Backend,
    ) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let o = org(db).await;
        let at0 = shanghai("2026-03-02T10:00:00");
        let new = classified(
            intake(20260302, at0, Channel::Phone, "13900000001"),
            "safety",
            Severity::Major,
            &[Signal::Safety],
        );
        let (id, n) = register(db, &new, Some(&o.agent), at0).await;
        let rows = db.deadlines(id).await.expect("deadlines");
        // Resolution in 48 hours instead of 72; classification already met.
        assert_eq!(
            clock(&rows, "resolve").due_at,
            ms(shanghai("2026-03-04T10:00:00"))
        );
        assert!(clock(&rows, "resolve").fast);
        assert!(clock(&rows, "classify").met_at.is_some());
        let dispatch = Command::Dispatch {
            department_id: o.sales,
            assignee: None,
        };
        act(db, &n, &o.agent, dispatch, shanghai("2026-03-02T10:05:00")).await;
        let rows = db.deadlines(id).await.expect("deadlines");
        assert_eq!(
            clock(&rows, "first_contact").due_at,
            ms(shanghai("2026-03-02T11:05:00"))
        );
        db.sweep_deadlines(
            shanghai("2026-03-02T11:06:00"),
            100,
            &kesu_storage::deadlines::Outbound::bell_only(),
        )
        .await
        .expect("sweep");
        assert_eq!(
            notices_of(db, &o.gm).await,
            vec![("deadline_breached".to_owned(), Some(0))]
        );
        // Without an owner, the department's manager is told as the owner.
        assert!(
            notices_of(db, &o.sales_manager)
                .await
                .contains(&("deadline_breached".to_owned(), Some(0)))
        );
        t.drop_async().await;
    }
);

both_backends!(
    async fn an_urgent_complaint_at_night_reaches_the_leader_on_duty_at_once(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let db = &t.db;
        let o = org(db).await;
        // The sales manager is on duty Monday 2 March 2026, 18:00 to 08:00.
        let (from, to) = (
            ms(shanghai("2026-03-02T18:00:00")),
            ms(shanghai("2026-03-03T08:00:00")),
        );
        let roster = format!(
            "INSERT INTO duty_roster (site_id, user_id, starts_at, ends_at, created_at) VALUES (NULL, {}, {from}, {to}, {from})",
            o.sales_manager.user_id.0
        );
        match db {
            Db::Sqlite(p, _) => sqlx::query(sqlx::AssertSqlSafe(roster))
                .execute(p)
                .await
                .map(|_| ()),
            Db::Pg(p) => sqlx::query(sqlx::AssertSqlSafe(roster))
                .execute(p)
                .await
                .map(|_| ()),
        }
        .expect("roster");
        let night = shanghai("2026-03-02T22:00:00");
        let mut urgent = intake(20260302, night, Channel::Phone, "13900000002");
        urgent.urgent = true;
        let (id, _) = register(db, &urgent, Some(&o.agent), night).await;
        let calm = intake(20260302, night, Channel::Phone, "13900000003");
        register(db, &calm, Some(&o.agent), night).await;
        let r = db
            .sweep_deadlines(night, 100, &kesu_storage::deadlines::Outbound::bell_only())
            .await
            .expect("sweep");
        assert_eq!((r.notices, r.breaches), (1, 0), "{r:?}");
        assert_eq!(
            notices_of(db, &o.sales_manager).await,
            vec![("urgent_after_hours".to_owned(), Some(0))]
        );
        assert!(notices_of(db, &o.gm).await.is_empty());
        // The alert is no deadline: not listed, and it does not fire again.
        assert!(
            db.deadlines(id)
                .await
                .expect("deadlines")
                .iter()
                .all(|d| d.kind != "duty_alert")
        );
        let r = db
            .sweep_deadlines(
                shanghai("2026-03-02T23:00:00"),
                100,
                &kesu_storage::deadlines::Outbound::bell_only(),
            )
            .await
            .expect("sweep");
        assert_eq!(r.notices, 0);

        // Nobody on the roster (after 08:00 the next morning is working
        // time; at 07:00 on a Saturday nobody is on duty): the general manager.
        let saturday = shanghai("2026-03-07T07:00:00");
        let mut weekend = intake(20260307, saturday, Channel::Phone, "13900000004");
        weekend.urgent = true;
        register(db, &weekend, Some(&o.agent), saturday).await;
        db.sweep_deadlines(
            saturday,
            100,
            &kesu_storage::deadlines::Outbound::bell_only(),
        )
        .await
        .expect("sweep");
        assert_eq!(
            notices_of(db, &o.gm).await,
            vec![("urgent_after_hours".to_owned(), Some(0))]
        );
        t.drop_async().await;
    }
);
