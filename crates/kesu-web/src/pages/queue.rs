//! The work queues: "my work" (what waits for me) and the team queue, with
//! filters by state, department, severity and channel, and paging.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use kesu_domain::{Channel, Severity, State as LifecycleState};
use kesu_storage::complaints::Queue;

use super::forms::Opt;
use super::{Ctx, render};
use crate::AppState;
use crate::api::complaints::ListQuery;
use crate::auth::Staff;
use crate::error::Failure;
use crate::view::{short_time, summary};

pub fn router() -> Router<AppState> {
    Router::new().route("/find", get(find)).route(
        "/complaints",
        get(queue_page).post(super::register::create_complaint),
    )
}

pub struct Row {
    pub number: String,
    pub received: String,
    pub channel: String,
    pub customer: String,
    pub summary: String,
    pub category: Option<String>,
    pub state: String,
    pub state_code: String,
    pub major: bool,
    pub urgent: bool,
    pub department: String,
    pub assignee: Option<String>,
    /// The nearest running deadline: text and `ok`/`soon`/`late`.
    pub due: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    ctx: Ctx,
    heading: String,
    mine: bool,
    open_only: bool,
    /// The search text, when searching.
    search: String,
    /// `soon` or `overdue` when showing pressing deadlines.
    due: String,
    states: Vec<Opt>,
    severities: Vec<Opt>,
    channels: Vec<Opt>,
    departments: Vec<Opt>,
    /// Empty unless the reader sees several sites.
    sites: Vec<Opt>,
    rows: Vec<Row>,
    page_label: String,
    prev_link: Option<String>,
    next_link: Option<String>,
}

fn link_with_page(q: &ListQuery, page: u32) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("queue", &q.queue),
        ("state", &q.state),
        ("severity", &q.severity),
        ("channel", &q.channel),
        ("department", &q.department),
        ("site", &q.site),
        ("phone", &q.phone),
        ("q", &q.q),
        ("due", &q.due),
        ("open", &q.open),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.append_pair(k, v);
        }
    }
    pairs.append_pair("page", &page.to_string());
    format!("/complaints?{}", pairs.finish())
}

async fn queue_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let q = ListQuery::parse(raw.as_deref());
    let mut filter = q.clone().resolve(&state).await?.filter(25)?;
    filter.now = state.now().as_millisecond();
    let mine = filter.queue == Queue::Mine;
    let page = state.db.list_complaints(&staff.actor, &filter).await?;
    let path = format!(
        "/complaints{}",
        raw.as_deref().map(|r| format!("?{r}")).unwrap_or_default()
    );
    let ctx = Ctx::new(&staff, if mine { "mine" } else { "team" }, &path);
    let categories = state.db.categories().await?;
    let category_name = |code: &str| {
        categories.iter().find(|c| c.code == code).map_or_else(
            || code.to_owned(),
            |c| {
                if ctx.lang == crate::i18n::Lang::En {
                    c.name_en.clone()
                } else {
                    c.name_zh.clone()
                }
            },
        )
    };
    let tz = &state.config.time_zone;
    let rows = page
        .items
        .iter()
        .map(|r| Row {
            number: r.number.clone(),
            received: short_time(r.received_at, tz),
            channel: ctx.label("channel", &r.channel),
            customer: r.customer_name.clone(),
            summary: summary(&r.description, 60),
            category: r.category.as_deref().map(category_name),
            state: ctx.label("state", &r.state),
            state_code: r.state.clone(),
            major: r.severity == "major",
            urgent: r.urgent,
            department: r.department_name.clone().unwrap_or_default(),
            assignee: r.assignee_name.clone(),
            due: r.next_due_at.map(|due| {
                let left = due - filter.now;
                if left < 0 {
                    (
                        ctx.t("clock.overdue_since")
                            .replace("%{t}", &short_time(due, tz)),
                        "late",
                    )
                } else {
                    (
                        ctx.t("clock.due_at").replace("%{t}", &short_time(due, tz)),
                        if left <= 2 * 3_600_000 { "soon" } else { "ok" },
                    )
                }
            }),
        })
        .collect();
    let departments = state.db.departments().await?;
    let all_sites = state.db.sites().await?;
    let page_tpl = QueuePage {
        heading: ctx.t(if mine {
            "queue.title_mine"
        } else {
            "queue.title_team"
        }),
        mine,
        open_only: filter.open_only,
        search: filter.text.clone().unwrap_or_default(),
        due: q.due.clone().unwrap_or_default(),
        states: LifecycleState::ALL
            .iter()
            .map(|s| {
                Opt::new(s.as_str(), ctx.label("state", s.as_str()))
                    .selected_if(filter.state == Some(*s))
            })
            .collect(),
        severities: Severity::ALL
            .iter()
            .map(|s| {
                Opt::new(s.as_str(), ctx.label("severity", s.as_str()))
                    .selected_if(filter.severity == Some(*s))
            })
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| {
                Opt::new(c.as_str(), ctx.label("channel", c.as_str()))
                    .selected_if(filter.channel == Some(*c))
            })
            .collect(),
        departments: departments
            .iter()
            .map(|d| {
                Opt::new(d.id.to_string(), d.name.clone())
                    .selected_if(filter.department_id.map(|x| x.0) == Some(d.id))
            })
            .collect(),
        sites: if staff.actor.site_id.is_none() && all_sites.len() > 1 {
            all_sites
                .iter()
                .map(|s| {
                    Opt::new(s.id.to_string(), s.name.clone())
                        .selected_if(filter.site_id.map(|x| x.0) == Some(s.id))
                })
                .collect()
        } else {
            Vec::new()
        },
        rows,
        page_label: ctx
            .t("common.page")
            .replace("%{page}", &page.page.to_string()),
        prev_link: (page.page > 1).then(|| link_with_page(&q, page.page - 1)),
        next_link: page.has_next.then(|| link_with_page(&q, page.page + 1)),
        ctx,
    };
    render(&page_tpl)
}

/// The header's search box: a complaint number opens the complaint, a phone
/// number lists that customer's complaints, anything else is searched for in
/// the text of every complaint the reader may see.
async fn find(RawQuery(raw): RawQuery) -> Result<Response, Failure> {
    use axum::response::{IntoResponse, Redirect};
    #[derive(serde::Deserialize, Default)]
    struct Q {
        q: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let text = q.q.unwrap_or_default();
    let text = text.trim();
    if let Ok(number) = kesu_domain::input::ComplaintNumber::parse(text) {
        return Ok(Redirect::to(&format!("/complaints/{number}")).into_response());
    }
    if let Ok(phone) = kesu_domain::input::phone("q", text) {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("queue", "team").append_pair("phone", &phone);
        return Ok(Redirect::to(&format!("/complaints?{}", s.finish())).into_response());
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("queue", "team").append_pair("q", text);
    Ok(Redirect::to(&format!("/complaints?{}", s.finish())).into_response())
}
