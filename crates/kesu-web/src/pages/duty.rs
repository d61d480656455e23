//! The duty roster (值班表, R-OR-3): who is the on-duty leader when, per
//! site or for every site. An urgent complaint that arrives outside working
//! hours goes to whoever [`kesu_storage::Db::on_duty`] names (R-IN-6).
//!
//! Arranging duty is a leader's decision (the seeds: 联系公司领导), so
//! besides admins the general managers keep the roster: a group-level
//! general manager for every site, a store's general manager for that store
//! only. The on-duty leader is an active general manager, manager or
//! supervisor. Times are typed in the chosen site's zone (for every site,
//! the desk's zone) and shown in it.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use kesu_domain::{Role, SiteId, UserId};
use kesu_storage::org::{Site, User};

use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::t;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/duty", get(duty_page).post(add_duty))
        .route("/duty/{id}/delete", post(delete_duty))
}

/// Which entries a person may arrange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Admins and group-level general managers: every site, and entries for
    /// all sites.
    All,
    /// A store's general manager: that store's entries.
    Site(i64),
}

impl Scope {
    /// The person's scope; `None` when they may not arrange duty.
    pub fn of(staff: &Staff) -> Option<Scope> {
        if staff.actor.is_admin() {
            Some(Scope::All)
        } else if staff.actor.has(Role::Gm) {
            Some(staff.actor.site_id.map_or(Scope::All, |s| Scope::Site(s.0)))
        } else {
            None
        }
    }

    /// Whether an entry for `site` (`None`: every site) is theirs to arrange.
    fn covers(self, site: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Site(s) => site == Some(s),
        }
    }

    /// Whether the entry concerns what they look after (shown to them).
    fn concerns(self, site: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Site(s) => site.is_none_or(|x| x == s),
        }
    }

    /// Whether `user` may be put on duty by them: a leader, of their store
    /// or of the group.
    fn may_name(self, user: &User) -> bool {
        let leader = user.active
            && user
                .role_list()
                .iter()
                .any(|r| matches!(r, Role::Gm | Role::Manager | Role::Supervisor));
        leader
            && match self {
                Scope::All => true,
                Scope::Site(s) => user.site_id.is_none_or(|x| x == s),
            }
    }
}

fn require(staff: &Staff) -> Result<Scope, Failure> {
    Scope::of(staff).ok_or(Failure::Forbidden)
}

/// The zone a site's duty times are typed and shown in.
fn zone_of(state: &AppState, sites: &[Site], site: Option<i64>) -> TimeZone {
    site.and_then(|id| sites.iter().find(|s| s.id == id))
        .and_then(|s| TimeZone::get(&s.time_zone).ok())
        .unwrap_or_else(|| state.config.time_zone.clone())
}

pub struct OnDutyRow {
    pub site: String,
    pub leaders: String,
}

pub struct EntryRow {
    pub id: i64,
    pub site: String,
    pub leader: String,
    pub from: String,
    pub to: String,
    /// Covers the present moment.
    pub now: bool,
    pub removable: bool,
}

/// The add form as typed.
#[derive(Debug, Clone, Default)]
pub struct DutyInput {
    /// A site id, or `all`.
    pub site: String,
    pub user: String,
    pub starts: String,
    pub ends: String,
}

#[derive(Template)]
#[template(path = "duty.html")]
struct DutyPage {
    ctx: Ctx,
    saved: bool,
    on_duty: Vec<OnDutyRow>,
    entries: Vec<EntryRow>,
    /// (value, label)
    site_options: Vec<(String, String)>,
    leader_options: Vec<(String, String)>,
    input: DutyInput,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    scope: Scope,
    input: DutyInput,
    error: Option<String>,
    saved: bool,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "duty", "/duty");
    let now = state.now();
    let sites = state.db.sites().await?;
    let users = state.db.users().await?;
    let name = |id: i64| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    };
    let site_name = |site: Option<i64>| match site {
        None => ctx.t("duty.all_sites"),
        Some(id) => sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    };
    let mut on_duty = Vec::new();
    for s in sites.iter().filter(|s| scope.concerns(Some(s.id))) {
        let leaders = state.db.on_duty(Some(SiteId(s.id)), now).await?;
        on_duty.push(OnDutyRow {
            site: s.name.clone(),
            leaders: leaders
                .iter()
                .map(|u| name(u.0))
                .collect::<Vec<_>>()
                .join(&ctx.t("common.list_separator")),
        });
    }
    let now_ms = now.as_millisecond();
    let entries = state
        .db
        .duty_entries(now, 300)
        .await?
        .into_iter()
        .filter(|e| scope.concerns(e.site_id))
        .map(|e| {
            let tz = zone_of(state, &sites, e.site_id);
            EntryRow {
                id: e.id,
                site: site_name(e.site_id),
                leader: name(e.user_id),
                from: crate::view::short_time(e.starts_at, &tz),
                to: crate::view::short_time(e.ends_at, &tz),
                now: e.starts_at <= now_ms && now_ms < e.ends_at,
                removable: scope.covers(e.site_id),
            }
        })
        .collect();
    let mut site_options = Vec::new();
    if scope == Scope::All {
        site_options.push(("all".to_owned(), ctx.t("duty.all_sites")));
    }
    site_options.extend(
        sites
            .iter()
            .filter(|s| scope.covers(Some(s.id)))
            .map(|s| (s.id.to_string(), s.name.clone())),
    );
    let leader_options = users
        .iter()
        .filter(|u| scope.may_name(u))
        .map(|u| {
            (
                u.id.to_string(),
                format!("{} ({})", u.display_name, u.username),
            )
        })
        .collect();
    let failed = error.is_some();
    let mut res = render(&DutyPage {
        ctx,
        saved,
        on_duty,
        entries,
        site_options,
        leader_options,
        input,
        error,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn duty_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let scope = require(&staff)?;
    let saved = raw.as_deref().is_some_and(|r| r.contains("saved"));
    page(&state, &staff, scope, DutyInput::default(), None, saved).await
}

/// A `datetime-local` value (`2026-11-23T18:00`) in `tz`.
fn local_time(raw: &str, tz: &TimeZone) -> Option<Timestamp> {
    let dt: DateTime = raw.parse().ok()?;
    dt.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

async fn add_duty(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let scope = require(&staff)?;
    let form = super::posted_form(&staff, body, &[])?;
    let get = |k: &str| super::form_text(&form, k);
    let input = DutyInput {
        site: get("site"),
        user: get("user"),
        starts: get("starts"),
        ends: get("ends"),
    };
    let lang = staff.lang;
    let sites = state.db.sites().await?;
    // `None`: no such site; `Some(None)`: every site.
    let site: Option<Option<i64>> = match input.site.as_str() {
        "all" => Some(None),
        raw => raw
            .parse::<i64>()
            .ok()
            .filter(|id| sites.iter().any(|s| s.id == *id))
            .map(Some),
    };
    let user = match input.user.parse::<i64>() {
        Ok(id) => state.db.user(UserId(id)).await?,
        Err(_) => None,
    };
    let checked = (|| {
        let site = site
            .filter(|s| scope.covers(*s))
            .ok_or_else(|| t(lang, "duty.bad_site"))?;
        let user = user
            .filter(|u| scope.may_name(u))
            .ok_or_else(|| t(lang, "duty.bad_user"))?;
        let tz = zone_of(&state, &sites, site);
        let bad_time = |field: &str| t(lang, "duty.bad_time").replace("%{field}", &t(lang, field));
        let starts = local_time(&input.starts, &tz).ok_or_else(|| bad_time("duty.starts"))?;
        let ends = local_time(&input.ends, &tz).ok_or_else(|| bad_time("duty.ends"))?;
        if ends <= starts {
            return Err(t(lang, "duty.ends_before_starts"));
        }
        Ok((site, user, starts, ends))
    })();
    match checked {
        Ok((site, user, starts, ends)) => {
            state
                .db
                .add_duty(site.map(SiteId), UserId(user.id), starts, ends, state.now())
                .await?;
            Ok(Redirect::to("/duty?saved=1").into_response())
        }
        Err(error) => page(&state, &staff, scope, input, Some(error), false).await,
    }
}

async fn delete_duty(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let scope = require(&staff)?;
    super::posted_form(&staff, body, &[])?;
    let id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let entry = state.db.duty_entry(id).await?.ok_or(Failure::NotFound)?;
    if !scope.covers(entry.site_id) {
        return Err(Failure::Forbidden);
    }
    state.db.delete_duty(id).await?;
    Ok(Redirect::to("/duty?saved=1").into_response())
}
