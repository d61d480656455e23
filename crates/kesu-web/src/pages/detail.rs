//! A complaint's page: the facts, the customer, the proposals and sub-tasks,
//! the attachments, the whole history as a timeline, and exactly the actions
//! the reader may take now, as forms.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_domain::complaint::Action;
use kesu_domain::{
    ComplaintId, ContactMethod, FollowUpOutcome, Severity, Signal, State as LifecycleState,
};
use kesu_storage::catalog::Category;
use kesu_storage::complaints::ComplaintRow;
use kesu_storage::org::{Department, User};
use serde_json::Value;

use super::forms::{ActionForm, Field, FieldKind, Opt};
use super::{Ctx, render};
use crate::AppState;
use crate::actions::{self, Op};
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::Lang;
use crate::view::{contact_for, short_time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints/{number}", get(detail_page))
        .route("/complaints/{number}/{action}", post(act))
        .route(
            "/complaints/{number}/proposals/{round}/answer",
            post(answer),
        )
        .route(
            "/complaints/{number}/tasks/{seq}/complete",
            post(complete_task),
        )
        .route("/complaints/{number}/link", post(link))
        .route("/complaints/{number}/attachments", post(upload))
        .route("/complaints/{number}/attachments/{id}", get(download))
}

pub struct TimelineItem {
    pub kind: String,
    pub title: String,
    pub at: String,
    pub actor: String,
    pub state_change: Option<String>,
    pub details: Vec<(String, String)>,
}

pub struct Block {
    pub seq: i64,
    pub title: String,
    pub status: String,
    pub facts: Vec<(String, String)>,
}

pub struct AttachmentItem {
    pub id: i64,
    pub filename: String,
    pub kind: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    ctx: Ctx,
    notice: Option<String>,
    number: String,
    state: String,
    state_code: String,
    major: bool,
    urgent: bool,
    flags: Vec<String>,
    description: String,
    restatement: Option<String>,
    facts: Vec<(String, String)>,
    customer: Vec<(String, String)>,
    proposals: Vec<Block>,
    tasks: Vec<Block>,
    attachments: Vec<AttachmentItem>,
    timeline: Vec<TimelineItem>,
    forms: Vec<ActionForm>,
    clocks: Vec<ClockItem>,
    version: i64,
    version_hint: String,
    /// Possible duplicates, linked and merged complaints (R-IN-3).
    related: crate::related::Related,
    /// Whether the reader may link and merge from the proposals.
    may_link: bool,
    /// What the customer was told, by which channel, and how it went.
    customer_messages: Vec<crate::customer_messages::view::MessageItem>,
}

/// A deadline as the complaint page shows it.
struct ClockItem {
    kind: String,
    name: String,
    due: String,
    status: String,
    /// `ok`, `soon`, `late` (running); `met`, `missed`, `paused`, `off`.
    tone: &'static str,
}

/// "1 天 3 小时", "2 小时 5 分", "35 分".
fn span_text(ctx: &Ctx, d: jiff::SignedDuration) -> String {
    let minutes = d.as_secs().abs() / 60;
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    let unit = |key: &str, n: i64| ctx.t(key).replace("%{n}", &n.to_string());
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(unit("clock.days", days));
    }
    if hours > 0 {
        parts.push(unit("clock.hours", hours));
    }
    if days == 0 && (mins > 0 || hours == 0) {
        parts.push(unit("clock.minutes", mins));
    }
    parts.join(" ")
}

fn clock_items(
    ctx: &Ctx,
    rows: &[kesu_storage::deadlines::DeadlineRow],
    policy: &kesu_domain::deadlines::DeadlinePolicy,
    calendar: &kesu_calendar::SiteCalendar,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Vec<ClockItem> {
    use kesu_domain::deadlines::Counting;
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(now);
    let mut items: Vec<ClockItem> = rows
        .iter()
        .filter(|d| !d.cancelled)
        .map(|d| {
            let due = at(d.due_at);
            let working = d
                .kind
                .parse::<kesu_domain::ClockKind>()
                .ok()
                .and_then(|k| policy.rule(k))
                .is_some_and(|r| r.counting == Counting::Working);
            let left = if working {
                calendar.working_between(now, due)
            } else {
                due.duration_since(now)
            };
            let total = if working {
                calendar.working_between(at(d.started_at), due)
            } else {
                due.duration_since(at(d.started_at))
            };
            let (status, tone) = if let Some(_met) = d.met_at {
                (ctx.t("clock.met"), "met")
            } else if d.ended_at.is_some() {
                (ctx.t("clock.late"), "missed")
            } else if d.paused_at.is_some() {
                (ctx.t("clock.paused"), "paused")
            } else if d.earliest_at.is_some_and(|e| at(e) > now) {
                (
                    ctx.t("clock.window_opens")
                        .replace("%{t}", &short_time(d.earliest_at.unwrap_or(d.due_at), tz)),
                    "ok",
                )
            } else if left.is_negative() || d.breached_at.is_some() {
                (
                    ctx.t("clock.overdue")
                        .replace("%{t}", &span_text(ctx, left)),
                    "late",
                )
            } else {
                let soon = total.as_secs() > 0 && left.as_secs() * 4 <= total.as_secs();
                (
                    ctx.t(if working {
                        "clock.left_working"
                    } else {
                        "clock.left"
                    })
                    .replace("%{t}", &span_text(ctx, left)),
                    if soon { "soon" } else { "ok" },
                )
            };
            ClockItem {
                kind: d.kind.clone(),
                name: ctx.label("clock", &d.kind),
                due: short_time(d.due_at, tz),
                status,
                tone,
            }
        })
        .collect();
    // Running clocks first, the most pressing on top.
    let rank = |t: &str| match t {
        "late" => 0,
        "soon" => 1,
        "ok" => 2,
        "paused" => 3,
        _ => 4,
    };
    items.sort_by_key(|i| rank(i.tone));
    items
}

/// Names the page shows for ids and codes.
struct Names {
    departments: Vec<Department>,
    users: Vec<User>,
    categories: Vec<Category>,
    lang: Lang,
}

impl Names {
    fn department(&self, id: i64) -> String {
        self.departments
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| id.to_string(), |d| d.name.clone())
    }
    fn user(&self, id: i64) -> String {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_string(), |u| u.display_name.clone())
    }
    fn category(&self, code: &str) -> String {
        self.categories.iter().find(|c| c.code == code).map_or_else(
            || code.to_owned(),
            |c| {
                if self.lang == Lang::En {
                    c.name_en.clone()
                } else {
                    c.name_zh.clone()
                }
            },
        )
    }
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn describe(
    ctx: &Ctx,
    names: &Names,
    tz: &jiff::tz::TimeZone,
    payload: &Value,
) -> Vec<(String, String)> {
    let Some(obj) = payload.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    for (k, v) in obj {
        if k == "kind" || v.is_null() {
            continue;
        }
        // The customer's own message: its subject and words, as text.
        if kind == "customer_wrote" && matches!(k.as_str(), "subject" | "text") {
            let label = if k == "subject" {
                "field.mail_subject"
            } else {
                "field.message"
            };
            out.push((ctx.t(label), v.as_str().unwrap_or_default().to_owned()));
            continue;
        }
        let text = match (k.as_str(), v) {
            ("reason", Value::String(s)) if kind == "attachment_refused" => {
                ctx.label("attachment_refusal", s)
            }
            ("channel", Value::String(s)) => ctx.label("channel", s),
            ("severity", Value::String(s)) => ctx.label("severity", s),
            ("method", Value::String(s)) => ctx.label("contact_method", s),
            ("outcome", Value::String(s)) => ctx.label("follow_up_outcome", s),
            ("attachment_kind", Value::String(s)) => ctx.label("attachment_kind", s),
            ("subject", Value::String(s)) => ctx.t(if s == "proposal" {
                "action.propose"
            } else {
                "action.close"
            }),
            ("category", Value::String(s)) => names.category(s),
            // A proposed sub-category: its name and the phrases that named it.
            ("subcategory", Value::Object(sub)) => format!(
                "{}（{}）",
                names.category(sub.get("code").and_then(Value::as_str).unwrap_or_default()),
                sub.get("phrases")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|p| format!("“{p}”"))
                            .collect::<Vec<_>>()
                            .join("、")
                    })
                    .unwrap_or_default()
            ),
            ("signals", Value::Array(a)) if a.is_empty() => continue,
            ("signals", Value::Array(a)) => a
                .iter()
                .map(|s| match s {
                    // A proposed signal: [code, the words that fired it].
                    Value::Array(pair) => format!(
                        "{}（“{}”）",
                        ctx.label(
                            "signal",
                            pair.first().and_then(Value::as_str).unwrap_or_default()
                        ),
                        pair.get(1).and_then(Value::as_str).unwrap_or_default()
                    ),
                    other => ctx.label("signal", other.as_str().unwrap_or_default()),
                })
                .collect::<Vec<_>>()
                .join("、"),
            ("categories", Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_array)
                .map(|pair| {
                    format!(
                        "{} {}%",
                        names.category(pair.first().and_then(Value::as_str).unwrap_or_default()),
                        pair.get(1).and_then(Value::as_u64).unwrap_or(0)
                    )
                })
                .collect::<Vec<_>>()
                .join("、"),
            ("department_id", Value::Number(n)) => names.department(n.as_i64().unwrap_or(0)),
            ("assignee_id" | "owner_id" | "by", Value::Number(n)) => {
                names.user(n.as_i64().unwrap_or(0))
            }
            ("compensation_fen", Value::Number(n)) => {
                format!("{} {}", yuan(n.as_i64().unwrap_or(0)), ctx.t("common.yuan"))
            }
            ("due_at", Value::String(s)) => s
                .parse::<jiff::Timestamp>()
                .map_or_else(|_| s.clone(), |t| short_time(t.as_millisecond(), tz)),
            ("attachment_id" | "into_id", _) => continue,
            ("changes", Value::Array(changes)) => {
                for c in changes {
                    let field = c["field"].as_str().unwrap_or_default();
                    let show = |v: &Value| match (field, v.as_str()) {
                        ("urgent", Some(b)) => ctx.t(if b == "true" {
                            "common.yes"
                        } else {
                            "common.no"
                        }),
                        (_, Some(s)) => s.to_owned(),
                        (_, None) => ctx.t("common.none"),
                    };
                    out.push((
                        ctx.t(&format!("field.{field}")),
                        format!("{} → {}", show(&c["from"]), show(&c["to"])),
                    ));
                }
                continue;
            }
            (_, Value::Bool(b)) => ctx.t(if *b { "common.yes" } else { "common.no" }),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        let key = if k == "subject" {
            "subject_kind"
        } else {
            k.as_str()
        };
        out.push((ctx.t(&format!("field.{key}")), text));
    }
    out
}

/// The form the reader most likely wants next, shown unfolded.
fn primary(row: &ComplaintRow) -> Option<Action> {
    let state: LifecycleState = row.state.parse().ok()?;
    Some(match state {
        LifecycleState::Received => Action::Register,
        LifecycleState::Registered if row.category.is_none() => Action::Classify,
        LifecycleState::Registered => Action::Dispatch,
        LifecycleState::Dispatched | LifecycleState::Reopened => Action::LogContact,
        LifecycleState::InProgress => Action::Propose,
        LifecycleState::Proposed => Action::AnswerProposal,
        LifecycleState::AwaitingApproval => Action::Approve,
        LifecycleState::Executing if row.execution_done => Action::FeedBack,
        LifecycleState::Executing => Action::RecordExecution,
        LifecycleState::FedBack => Action::FollowUp,
        LifecycleState::FollowUp if row.satisfied => Action::Close,
        LifecycleState::FollowUp => Action::FollowUp,
        _ => return None,
    })
}

fn reason_form(ctx: &Ctx, base: &str, key: &str, action: Action) -> ActionForm {
    ActionForm {
        key: key.to_owned(),
        title: ctx.label("action", action.as_str()),
        url: format!("{base}/{key}"),
        submit: ctx.label("action", action.as_str()),
        fields: vec![Field::new("reason", ctx.t("field.reason"), FieldKind::TextArea).required()],
        multipart: false,
        open: false,
    }
}

#[expect(clippy::too_many_lines, reason = "one form per action, in one place")]
fn action_forms(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    row: &ComplaintRow,
    names: &Names,
    open_tasks: &[(i64, String)],
    suggested: Option<&str>,
) -> Vec<ActionForm> {
    let Ok(complaint) = row.to_domain() else {
        return Vec::new();
    };
    let base = format!("/complaints/{}", row.number);
    let tz = &state.config.time_zone;
    let next = primary(row);
    let in_3_days = (state.now() + jiff::SignedDuration::from_hours(72))
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let methods = || {
        ContactMethod::ALL
            .iter()
            .map(|m| {
                Opt::new(m.as_str(), ctx.label("contact_method", m.as_str()))
                    .selected_if(*m == ContactMethod::Phone)
            })
            .collect::<Vec<_>>()
    };
    let departments = || {
        names
            .departments
            .iter()
            .filter(|d| d.active)
            .map(|d| Opt::new(d.code.clone(), d.name.clone()))
            .collect::<Vec<_>>()
    };
    let people = || {
        names
            .users
            .iter()
            .filter(|u| u.active && u.department_id.is_some())
            .map(|u| {
                Opt::new(
                    u.username.clone(),
                    format!(
                        "{} ({})",
                        u.display_name,
                        names.department(u.department_id.unwrap_or(0))
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    let yes_no =
        |yes: &str, no: &str| vec![Opt::new("true", ctx.t(yes)), Opt::new("false", ctx.t(no))];
    let mut forms = Vec::new();
    for action in complaint.available_actions(&staff.actor) {
        let simple = |key: &str, fields: Vec<Field>| ActionForm {
            key: key.to_owned(),
            title: ctx.label("action", action.as_str()),
            url: format!("{base}/{key}"),
            submit: ctx.label("action", action.as_str()),
            fields,
            multipart: false,
            open: next == Some(action),
        };
        match action {
            Action::Register => forms.push(simple("register", vec![])),
            Action::Classify => {
                let signals = row.signal_list();
                forms.push(simple(
                    "classify",
                    vec![
                        Field::new("category", ctx.t("field.category"), FieldKind::Select)
                            .required()
                            .options(
                                names
                                    .categories
                                    .iter()
                                    .filter(|c| c.active)
                                    .map(|c| {
                                        Opt::new(c.code.clone(), names.category(&c.code))
                                            .selected_if(
                                                row.category.as_deref().or(suggested)
                                                    == Some(&c.code),
                                            )
                                    })
                                    .collect(),
                            ),
                        Field::new("severity", ctx.t("field.severity"), FieldKind::Select)
                            .required()
                            .options(
                                Severity::ALL
                                    .iter()
                                    .map(|s| {
                                        Opt::new(s.as_str(), ctx.label("severity", s.as_str()))
                                            .selected_if(row.severity == s.as_str())
                                    })
                                    .collect(),
                            ),
                        Field::new("signals", ctx.t("field.signals"), FieldKind::Checks).options(
                            Signal::ALL
                                .iter()
                                .map(|s| {
                                    Opt::new(s.as_str(), ctx.label("signal", s.as_str()))
                                        .selected_if(signals.contains(s))
                                })
                                .collect(),
                        ),
                        Field::new("reason", ctx.t("field.reason"), FieldKind::Text),
                    ],
                ));
            }
            Action::Dispatch => forms.push(simple(
                "dispatch",
                vec![
                    Field::new("department", ctx.t("field.department"), FieldKind::Select)
                        .required()
                        .options(departments()),
                    Field::new("assignee", ctx.t("field.assignee"), FieldKind::Select)
                        .options(people()),
                ],
            )),
            Action::LogContact => {
                forms.push(simple(
                    "contacts",
                    vec![
                        Field::new("method", ctx.t("field.method"), FieldKind::Select)
                            .required()
                            .options(methods()),
                        Field::new("summary", ctx.t("field.summary"), FieldKind::TextArea)
                            .required(),
                    ],
                ));
                // A reply by e-mail is a contact too, for customers with an address.
                if row.customer_email.is_some() {
                    forms.push(ActionForm {
                        key: "replies".to_owned(),
                        title: ctx.t("action.reply_by_mail"),
                        url: format!("{base}/replies"),
                        submit: ctx.t("action.reply_by_mail"),
                        fields: vec![
                            Field::new("text", ctx.t("field.reply_text"), FieldKind::TextArea)
                                .required(),
                        ],
                        multipart: false,
                        open: false,
                    });
                }
            }
            Action::AddNote => forms.push(simple(
                "notes",
                vec![
                    Field::new("text", ctx.t("field.text"), FieldKind::TextArea).required(),
                    Field::new("consulted", ctx.t("field.consulted"), FieldKind::Text),
                    Field::new("root_cause", ctx.t("field.root_cause"), FieldKind::Text),
                    Field::new(
                        "customer_expects",
                        ctx.t("field.customer_expects"),
                        FieldKind::Text,
                    ),
                ],
            )),
            Action::Propose => forms.push(simple(
                "proposals",
                vec![
                    Field::new("measures", ctx.t("field.measures"), FieldKind::TextArea).required(),
                    Field::new("owner", ctx.t("field.owner"), FieldKind::Text)
                        .required()
                        .value(staff.user.display_name.clone()),
                    Field::new("due_at", ctx.t("field.due_at"), FieldKind::DateTime)
                        .required()
                        .value(in_3_days.clone()),
                    Field::new("follow_up", ctx.t("field.follow_up"), FieldKind::Text),
                    Field::new(
                        "compensation_yuan",
                        ctx.t("field.compensation_yuan"),
                        FieldKind::Number,
                    )
                    .value("0"),
                ],
            )),
            Action::AnswerProposal => {
                let round = row.current_round.unwrap_or(row.proposals);
                let mut f = simple(
                    &format!("answer-{round}"),
                    vec![
                        Field::new("accepted", ctx.t("field.accepted"), FieldKind::Select)
                            .required()
                            .options(yes_no("detail.accept", "detail.reject")),
                        Field::new(
                            "customer_words",
                            ctx.t("field.customer_words"),
                            FieldKind::TextArea,
                        )
                        .required(),
                    ],
                );
                f.url = format!("{base}/proposals/{round}/answer");
                forms.push(f);
            }
            Action::Approve => forms.push(simple(
                "approvals",
                vec![
                    Field::new("approved", ctx.t("field.approved"), FieldKind::Select)
                        .required()
                        .options(yes_no("detail.approve", "detail.decline")),
                    Field::new("comment", ctx.t("field.comment"), FieldKind::TextArea),
                ],
            )),
            Action::TakeOver => forms.push(simple("takeover", vec![])),
            Action::RecordExecution => forms.push(simple(
                "execution",
                vec![
                    Field::new("progress", ctx.t("field.progress"), FieldKind::TextArea).required(),
                    Field::new("completed", ctx.t("field.completed"), FieldKind::Checkbox),
                ],
            )),
            Action::CreateTask => forms.push(simple(
                "tasks",
                vec![
                    Field::new("department", ctx.t("field.department"), FieldKind::Select)
                        .required()
                        .options(departments()),
                    Field::new("owner", ctx.t("field.owner"), FieldKind::Select).options(people()),
                    Field::new("title", ctx.t("field.title"), FieldKind::TextArea).required(),
                    Field::new("due_at", ctx.t("field.due_at"), FieldKind::DateTime),
                ],
            )),
            Action::CompleteTask => {
                for (seq, title) in open_tasks {
                    let mut f = simple(
                        &format!("complete-{seq}"),
                        vec![
                            Field::new("result", ctx.t("field.result"), FieldKind::TextArea)
                                .required(),
                        ],
                    );
                    f.title = format!("{} #{seq} {title}", ctx.t("detail.task_complete"));
                    f.url = format!("{base}/tasks/{seq}/complete");
                    forms.push(f);
                }
            }
            Action::FeedBack => forms.push(simple(
                "feedback",
                vec![
                    Field::new("method", ctx.t("field.method"), FieldKind::Select)
                        .required()
                        .options(methods()),
                    Field::new("content", ctx.t("field.content"), FieldKind::TextArea).required(),
                ],
            )),
            Action::FollowUp => forms.push(simple(
                "follow-ups",
                vec![
                    Field::new("outcome", ctx.t("field.outcome"), FieldKind::Select)
                        .required()
                        .options(
                            FollowUpOutcome::ALL
                                .iter()
                                .map(|o| {
                                    Opt::new(o.as_str(), ctx.label("follow_up_outcome", o.as_str()))
                                })
                                .collect(),
                        ),
                    Field::new("score", ctx.t("field.score"), FieldKind::Select).options(
                        (1..=5)
                            .rev()
                            .map(|s| Opt::new(s.to_string(), s.to_string()))
                            .collect(),
                    ),
                    Field::new("comment", ctx.t("field.comment"), FieldKind::TextArea),
                ],
            )),
            Action::Close => {
                let satisfied = row.state == "follow_up" && row.satisfied;
                let fields = if satisfied {
                    vec![]
                } else {
                    vec![
                        Field::new(
                            "exception_reason",
                            ctx.t("field.exception_reason"),
                            FieldKind::TextArea,
                        )
                        .required(),
                    ]
                };
                let mut form = simple("close", fields);
                if !satisfied {
                    // Not satisfied (yet): this is the exception route (R-FB-5).
                    let title = ctx.t(if staff.actor.has(kesu_domain::Role::Gm) {
                        "detail.close_exception_gm"
                    } else {
                        "detail.close_exception"
                    });
                    form.title.clone_from(&title);
                    form.submit = title;
                }
                forms.push(form);
            }
            Action::Reopen => forms.push(reason_form(ctx, &base, "reopen", action)),
            Action::Withdraw => forms.push(reason_form(ctx, &base, "withdraw", action)),
            Action::Reject => forms.push(reason_form(ctx, &base, "reject", action)),
            Action::Merge => forms.push(simple(
                "merge",
                vec![Field::new("into", ctx.t("field.into"), FieldKind::Text).required()],
            )),
            Action::Amend => {
                let text = |name: &'static str, value: &Option<String>, area: bool| {
                    Field::new(
                        name,
                        ctx.t(&format!("field.{name}")),
                        if area {
                            FieldKind::TextArea
                        } else {
                            FieldKind::Text
                        },
                    )
                    .value(value.clone().unwrap_or_default())
                };
                let urgent = Field::new("urgent", ctx.t("field.urgent"), FieldKind::Checkbox)
                    .value(row.urgent.to_string());
                forms.push(simple(
                    "details",
                    vec![
                        text("restatement", &row.restatement, true),
                        text("event_time", &row.event_time, false),
                        text("event_place", &row.event_place, false),
                        text("people_involved", &row.people_involved, false),
                        text("subject", &row.subject, false),
                        text("order_ref", &row.order_ref, false),
                        text("plate", &row.plate, false),
                        // Unchecked boxes send nothing: this hidden field says "false" first.
                        Field::new("urgent", String::new(), FieldKind::Hidden).value("false"),
                        urgent,
                    ],
                ));
            }
            Action::Attach => {
                let mut f = simple(
                    "attachments",
                    vec![
                        Field::new("kind", ctx.t("field.kind"), FieldKind::Select)
                            .required()
                            .options(
                                kesu_domain::codes::AttachmentKind::ALL
                                    .iter()
                                    .map(|k| {
                                        Opt::new(
                                            k.as_str(),
                                            ctx.label("attachment_kind", k.as_str()),
                                        )
                                    })
                                    .collect(),
                            ),
                        Field::new("file", ctx.t("field.file"), FieldKind::File),
                    ],
                );
                f.multipart = true;
                forms.push(f);
            }
            // The customer's own action (an e-mail, a message): no form.
            Action::CustomerWrite => {}
        }
    }
    forms
}

async fn detail_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    actions::log_contact_view(&state, &staff, &row, "page").await?;
    let id = ComplaintId(row.id);
    let ctx = Ctx::new(&staff, "", &format!("/complaints/{}", row.number));
    let tz = state.config.time_zone.clone();
    let names = Names {
        departments: state.db.departments().await?,
        users: state.db.users().await?,
        categories: state.db.categories().await?,
        lang: ctx.lang,
    };
    let history = state.db.history(id).await?;
    let proposals = state.db.proposals(id).await?;
    let tasks = state.db.tasks(id).await?;
    let attachments = state.db.attachments(id).await?;
    let on_portal = state.db.filed_on_portal(id).await?;

    #[derive(serde::Deserialize, Default)]
    struct Q {
        created: Option<String>,
        done: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let notice = if q.created.is_some() {
        Some(ctx.t("new.created").replace("%{number}", &row.number))
    } else {
        q.done
            .filter(|d| d.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(|d| format!("✓ {}", ctx.label("action", &d)))
    };

    let contact = |v: &Option<String>| contact_for(&staff.actor, v.as_deref());
    let mut customer = vec![(ctx.t("field.customer.name"), row.customer_name.clone())];
    if let Some(p) = contact(&row.customer_phone) {
        customer.push((ctx.t("field.customer.phone"), p));
    }
    if let Some(e) = contact(&row.customer_email) {
        customer.push((ctx.t("field.customer.email"), e));
    }
    if row.customer_wechat {
        customer.push((ctx.t("field.customer.wechat"), ctx.t("wechat.follower")));
    }

    let mut facts = vec![
        (ctx.t("field.received_at"), short_time(row.received_at, &tz)),
        (
            ctx.t("field.site"),
            row.site_name.clone().unwrap_or_default(),
        ),
        (ctx.t("field.channel"), ctx.label("channel", &row.channel)),
        (
            ctx.t("field.category"),
            row.category
                .as_deref()
                .map_or_else(|| ctx.t("common.none"), |c| names.category(c)),
        ),
        (
            ctx.t("field.severity"),
            ctx.label("severity", &row.severity),
        ),
    ];
    let signals = row.signal_list();
    if !signals.is_empty() {
        facts.push((
            ctx.t("field.signals"),
            signals
                .iter()
                .map(|s| ctx.label("signal", s.as_str()))
                .collect::<Vec<_>>()
                .join("、"),
        ));
    }
    for (key, value) in [
        ("field.department", &row.department_name),
        ("field.assignee", &row.assignee_name),
        ("field.event_time", &row.event_time),
        ("field.event_place", &row.event_place),
        ("field.people_involved", &row.people_involved),
        ("field.subject", &row.subject),
        ("field.order_ref", &row.order_ref),
        ("field.plate", &row.plate),
    ] {
        if let Some(v) = value {
            facts.push((ctx.t(key), v.clone()));
        }
    }
    if let Some(s) = row.satisfaction_score {
        facts.push((ctx.t("detail.score"), format!("{s} / 5")));
    }

    let mut flags = Vec::new();
    if row.taken_over {
        flags.push(ctx.t("detail.taken_over"));
    }
    if row.close_exception_pending {
        flags.push(ctx.t("detail.exception_pending"));
    }
    if let Some(m) = &row.merged_into_number {
        flags.push(ctx.t("detail.merged_into").replace("%{number}", m));
    }

    let timeline = history
        .iter()
        .map(|e| {
            let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
            let state_change = match &e.from_state {
                Some(from) if *from != e.to_state => Some(format!(
                    "{} → {}",
                    ctx.label("state", from),
                    ctx.label("state", &e.to_state)
                )),
                None => Some(ctx.label("state", &e.to_state)),
                _ => None,
            };
            TimelineItem {
                kind: e.kind.clone(),
                title: ctx.label("event", &e.kind),
                at: short_time(e.at, &tz),
                actor: e.actor_name.clone().unwrap_or_else(|| {
                    // The customer on the portal has no account: their
                    // answers say so, and so do the filing and its photos.
                    let by_customer = payload["by_customer"] == Value::Bool(true)
                        || (on_portal
                            && matches!(e.kind.as_str(), "received" | "attachment_added"));
                    if e.kind == "customer_wrote" || e.kind == "attachment_refused" {
                        let channel = payload["channel"].as_str().unwrap_or("email");
                        ctx.t("actor.customer_by")
                            .replace("%{channel}", &ctx.label("channel", channel))
                    } else if by_customer {
                        ctx.t("actor.customer_online")
                    } else {
                        String::new()
                    }
                }),
                state_change,
                details: describe(&ctx, &names, &tz, &payload),
            }
        })
        .collect();

    let proposal_blocks = proposals
        .iter()
        .map(|p| {
            let mut facts = vec![
                (ctx.t("field.measures"), p.measures.clone()),
                (ctx.t("field.owner"), p.owner.clone()),
                (ctx.t("field.due_at"), short_time(p.due_at, &tz)),
            ];
            if !p.follow_up.is_empty() {
                facts.push((ctx.t("field.follow_up"), p.follow_up.clone()));
            }
            if p.compensation_fen > 0 {
                facts.push((
                    ctx.t("field.compensation_fen"),
                    format!("{} {}", yuan(p.compensation_fen), ctx.t("common.yuan")),
                ));
            }
            if let Some(w) = &p.customer_words {
                facts.push((ctx.t("field.customer_words"), w.clone()));
            }
            Block {
                seq: p.round,
                title: ctx
                    .t("detail.round")
                    .replace("%{round}", &p.round.to_string()),
                status: ctx.label("proposal_status", &p.status),
                facts,
            }
        })
        .collect();
    let open_tasks: Vec<(i64, String)> = tasks
        .iter()
        .filter(|t| !t.done)
        .map(|t| (t.seq, t.title.clone()))
        .collect();
    let task_blocks = tasks
        .iter()
        .map(|t| {
            let mut facts = vec![(ctx.t("field.department"), t.department_name.clone())];
            if let Some(o) = &t.owner_name {
                facts.push((ctx.t("field.owner"), o.clone()));
            }
            if let Some(d) = t.due_at {
                facts.push((ctx.t("field.due_at"), short_time(d, &tz)));
            }
            if let Some(r) = &t.result {
                facts.push((ctx.t("field.result"), r.clone()));
            }
            Block {
                seq: t.seq,
                title: t.title.clone(),
                status: ctx.t(if t.done { "detail.done" } else { "detail.open" }),
                facts,
            }
        })
        .collect();
    let attachment_items = attachments
        .iter()
        .map(|a| AttachmentItem {
            id: a.id,
            filename: a.filename.clone(),
            kind: ctx.label("attachment_kind", &a.kind),
            size: format!("{:.1} KB", a.size as f64 / 1024.0),
        })
        .collect();
    // The engine's proposal (its sub-category, else its best category)
    // preselects the category until someone classifies.
    let proposed = history
        .iter()
        .rev()
        .find(|e| e.kind == "classification_proposed")
        .and_then(
            |e| match serde_json::from_str::<kesu_domain::Event>(&e.payload) {
                Ok(kesu_domain::Event::ClassificationProposed { proposed }) => Some(proposed),
                _ => None,
            },
        );
    let suggested = proposed.as_ref().and_then(|p| {
        p.subcategory
            .as_ref()
            .map(|s| s.code.clone())
            .or_else(|| p.categories.first().map(|(c, _)| c.clone()))
    });
    if let Some(p) = &proposed {
        let mut shown = p
            .categories
            .first()
            .map(|(c, pct)| format!("{} {pct}%", names.category(c)))
            .unwrap_or_default();
        if let Some(sub) = &p.subcategory {
            shown = format!("{shown} › {}", names.category(&sub.code));
        }
        let at = facts.len().min(4);
        facts.insert(at, (ctx.t("classifier.proposal"), shown));
        // Who confirmed or corrected it: the person of the last classification.
        let chosen = history.iter().rev().find_map(|e| {
            (e.kind == "classified")
                .then(|| serde_json::from_str::<Value>(&e.payload).ok())
                .flatten()
                .and_then(|v| v["category"].as_str().map(str::to_owned))
                .map(|c| (c, e.actor_name.clone().unwrap_or_default()))
        });
        if let (Some((chosen, by)), Some(proposed_code)) = (chosen, suggested.as_deref()) {
            let verdict = if chosen == proposed_code {
                ctx.t("classifier.confirmed_by").replace("%{name}", &by)
            } else {
                ctx.t("classifier.corrected_by")
                    .replace("%{proposed}", &names.category(proposed_code))
                    .replace("%{chosen}", &names.category(&chosen))
                    .replace("%{name}", &by)
            };
            facts.insert(at + 1, (ctx.t("classifier.verdict"), verdict));
        }
    }
    let forms = action_forms(
        &state,
        &ctx,
        &staff,
        &row,
        &names,
        &open_tasks,
        suggested.as_deref(),
    );
    let clock_rows = state.db.deadlines(id).await?;
    let clocks = if clock_rows.is_empty() {
        Vec::new()
    } else {
        let policy = state.db.deadline_policy().await?;
        let calendar = state.db.site_calendar(row.site_id).await?;
        clock_items(
            &ctx,
            &clock_rows,
            &policy,
            &calendar,
            state.clock.now(),
            &tz,
        )
    };
    if let Some(f) = state.db.forwarded_case(id).await? {
        facts.push((
            ctx.t("field.forwarded_by"),
            ctx.label("forwarding_body", &f.body),
        ));
        if let Some(r) = f.reference {
            facts.push((ctx.t("field.forwarded_ref"), r));
        }
        facts.push((ctx.t("field.reply_due"), short_time(f.reply_due_at, &tz)));
    }
    let open = !row
        .state
        .parse::<kesu_domain::State>()
        .is_ok_and(kesu_domain::State::is_terminal);
    let related = crate::related::related(&state, &staff.actor, row.id, open).await?;
    let may_link =
        open && (staff.actor.may_take_in() || staff.actor.has(kesu_domain::Role::Supervisor));
    let customer_messages = crate::customer_messages::view::items(
        ctx.lang,
        &tz,
        &state.db.customer_messages_of(id).await?,
    );
    let page = DetailPage {
        customer_messages,
        clocks,
        related,
        may_link,
        notice,
        number: row.number.clone(),
        state: ctx.label("state", &row.state),
        state_code: row.state.clone(),
        major: row.severity == "major",
        urgent: row.urgent,
        flags,
        description: row.description.clone(),
        restatement: row.restatement.clone(),
        facts,
        customer,
        proposals: proposal_blocks,
        tasks: task_blocks,
        attachments: attachment_items,
        timeline,
        forms,
        version: row.version,
        version_hint: ctx
            .t("detail.version_hint")
            .replace("%{version}", &row.version.to_string()),
        ctx,
    };
    render(&page)
}

fn done(number: &str, action: &str) -> Response {
    Redirect::to(&format!("/complaints/{number}?done={action}")).into_response()
}

async fn run(
    state: AppState,
    staff: Staff,
    number: String,
    body: Result<Bytes, BytesRejection>,
    segment: &str,
    sub: Option<i32>,
    done_code: &str,
) -> Result<Response, Failure> {
    let mut form = super::posted_form(&staff, body, &["signals"])?;
    let version = form
        .remove("version")
        .and_then(|v| v.as_str().and_then(|s| s.trim().parse::<i64>().ok()));
    let op = Op::parse(segment, sub, Value::Object(form))?;
    let row = actions::perform(&state, &staff, &number, version, op).await?;
    Ok(done(&row.number, done_code))
}

fn action_code(segment: &str) -> &'static str {
    match segment {
        "register" => "register",
        "classify" => "classify",
        "dispatch" => "dispatch",
        "contacts" => "log_contact",
        "notes" => "add_note",
        "proposals" => "propose",
        "approvals" => "approve",
        "takeover" => "take_over",
        "execution" => "record_execution",
        "tasks" => "create_task",
        "feedback" => "feed_back",
        "follow-ups" => "follow_up",
        "close" => "close",
        "reopen" => "reopen",
        "merge" => "merge",
        "withdraw" => "withdraw",
        "reject" => "reject",
        "details" => "amend",
        _ => "",
    }
}

async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, segment)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    if segment == "replies" {
        let mut form = super::posted_form(&staff, body, &[])?;
        let version = form
            .remove("version")
            .and_then(|v| v.as_str().and_then(|s| s.trim().parse::<i64>().ok()));
        let input = crate::input::from_value(Value::Object(form))?;
        let row =
            crate::mail::reply::reply_by_mail(&state, &staff, &number, version, input).await?;
        return Ok(done(&row.number, "reply_by_mail"));
    }
    let code = action_code(&segment);
    if code.is_empty() {
        return Err(Failure::NotFound);
    }
    run(state, staff, number, body, &segment, None, code).await
}

async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, round)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let round = round.parse().map_err(|_| Failure::NotFound)?;
    run(
        state,
        staff,
        number,
        body,
        "answer",
        Some(round),
        "answer_proposal",
    )
    .await
}

async fn complete_task(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, seq)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let seq = seq.parse().map_err(|_| Failure::NotFound)?;
    run(
        state,
        staff,
        number,
        body,
        "complete",
        Some(seq),
        "complete_task",
    )
    .await
}

async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    multipart: Multipart,
) -> Result<Response, Failure> {
    let up = crate::api::complaints::read_upload(multipart).await?;
    staff.check_csrf(up.csrf.as_deref())?;
    let row = actions::attach(&state, &staff, &number, &up.kind, &up.filename, &up.data).await?;
    Ok(done(&row.number, "attach"))
}

async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let row = actions::visible(&state, &staff, &number).await?;
    let id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let file = state
        .db
        .attachment_data(ComplaintId(row.id), id)
        .await?
        .ok_or(Failure::NotFound)?;
    Ok(crate::api::complaints::file_response(file))
}

/// `POST /complaints/{number}/link`: links a proposed duplicate (R-IN-3).
async fn link(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let mut form = super::posted_form(&staff, body, &[])?;
    let other = form
        .remove("number")
        .and_then(|v| v.as_str().map(str::to_owned));
    let row = crate::related::link(
        &state,
        &staff,
        &number,
        crate::related::LinkIn { number: other },
    )
    .await?;
    Ok(done(&row.number, "link"))
}
