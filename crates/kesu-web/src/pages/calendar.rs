//! Working calendars (admin): each site's time zone, hours, lunch break,
//! weekend, China's public holidays, 24/7 and dated exceptions, saved as the
//! site's `calendar` JSON (kesu-calendar's `CalendarSettings`, checked by
//! `SiteCalendar::new` before it is stored); and the overview with the
//! holiday years, where [`super::holidays`] uploads new ones.
//!
//! A refused form comes back with what was typed and one readable message.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use kesu_calendar::{CalendarSettings, Exception, SiteCalendar};
use kesu_domain::SiteId;
use kesu_storage::org::Site;
use serde_json::{Map, Value};

mod form;

use form::{
    CalendarInput, ExceptionInput, WEEKDAYS, calendar_error, hm, parse_date, weekday_label,
};

use super::holidays::{HolidaysCard, UploadInput};
use super::{Ctx, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(calendar_overview))
        .route(
            "/admin/calendar/{site}",
            get(edit_calendar).post(save_calendar),
        )
        .route("/admin/calendar/{site}/exceptions", post(add_exception))
        .route(
            "/admin/calendar/{site}/exceptions/{date}/delete",
            post(remove_exception),
        )
}

/// One site as the overview lists it.
pub struct SiteRow {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub hours: String,
    pub weekend: String,
    pub holidays: bool,
    pub always_open: bool,
    pub exceptions: usize,
    /// Never saved: the deadlines use the defaults.
    pub unset: bool,
    pub uncovered: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct OverviewPage {
    ctx: Ctx,
    notice: Option<String>,
    sites: Vec<SiteRow>,
    holidays: HolidaysCard,
}

/// The years from this one to next year that a site following China's
/// holidays has no notice for (there the deadlines count plain weekends).
pub(super) fn uncovered(calendar: &SiteCalendar, now: Timestamp) -> Vec<i16> {
    let today = now.to_zoned(calendar.time_zone().clone()).date();
    let next = Date::new(today.year().saturating_add(1), 12, 31).unwrap_or(today);
    calendar.uncovered_years(today, next)
}

/// The warning for a year without holiday data.
pub(super) fn uncovered_text(lang: Lang, year: i16) -> String {
    t(lang, "holidays.uncovered").replace("%{year}", &year.to_string())
}

fn hours_text(lang: Lang, s: &CalendarSettings) -> String {
    if s.always_open {
        return t(lang, "calendar.always_open_short");
    }
    match s.lunch_break {
        Some(l) => t(lang, "calendar.hours_with_lunch")
            .replace("%{opens}", &hm(s.opens))
            .replace("%{closes}", &hm(s.closes))
            .replace("%{start}", &hm(l.start))
            .replace("%{end}", &hm(l.end)),
        None => format!("{}–{}", hm(s.opens), hm(s.closes)),
    }
}

/// Renders the overview; `upload` keeps a refused upload's year and says why.
pub(super) async fn overview(
    state: &AppState,
    staff: &Staff,
    upload: UploadInput,
    notice: Option<String>,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", "/admin/calendar");
    let now = state.now();
    let mut sites = Vec::new();
    let mut missing: Vec<i16> = Vec::new();
    for site in state.db.sites().await? {
        let unset = state
            .db
            .site_calendar_json(SiteId(site.id))
            .await?
            .is_none();
        let calendar = state.db.site_calendar(Some(site.id)).await?;
        let s = calendar.settings();
        let years = uncovered(&calendar, now);
        for y in &years {
            if !missing.contains(y) {
                missing.push(*y);
            }
        }
        sites.push(SiteRow {
            id: site.id,
            name: site.name.clone(),
            time_zone: s.time_zone.clone(),
            hours: hours_text(ctx.lang, s),
            weekend: s
                .weekend
                .iter()
                .map(|d| weekday_label(ctx.lang, *d))
                .collect::<Vec<_>>()
                .join(&ctx.t("common.list_separator")),
            holidays: s.china_public_holidays,
            always_open: s.always_open,
            exceptions: s.exceptions.len(),
            unset,
            uncovered: years.iter().map(|y| uncovered_text(ctx.lang, *y)).collect(),
        });
    }
    missing.sort_unstable();
    let holidays = HolidaysCard::load(state, &ctx, &missing, upload).await?;
    let failed = holidays.error.is_some();
    let mut res = render(&OverviewPage {
        ctx,
        notice,
        sites,
        holidays,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn calendar_overview(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let notice = raw
        .as_deref()
        .filter(|r| r.contains("saved"))
        .map(|_| t(staff.lang, "admin.saved"));
    overview(&state, &staff, UploadInput::default(), notice).await
}

/// One exception as the site page lists it.
pub struct ExceptionRow {
    pub date: String,
    pub weekday: String,
    pub closed: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "admin_calendar_site.html")]
struct SitePage {
    ctx: Ctx,
    site: Site,
    /// Never saved: what is shown are the defaults.
    unset: bool,
    saved: bool,
    input: CalendarInput,
    /// (code, label, checked)
    weekdays: Vec<(String, String, bool)>,
    error: Option<String>,
    exceptions: Vec<ExceptionRow>,
    exception: ExceptionInput,
    exception_error: Option<String>,
    uncovered: Vec<String>,
}

/// What the site page shows besides the stored calendar.
#[derive(Default)]
struct Shown {
    input: Option<CalendarInput>,
    error: Option<String>,
    exception: ExceptionInput,
    exception_error: Option<String>,
    saved: bool,
}

async fn site_of(state: &AppState, raw: &str) -> Result<Site, Failure> {
    let id: i64 = raw.parse().map_err(|_| Failure::NotFound)?;
    state
        .db
        .sites()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Failure::NotFound)
}

/// The site's stored calendar; for one never saved, the defaults in the
/// site's own time zone.
async fn stored(state: &AppState, site: &Site) -> Result<(SiteCalendar, bool), Failure> {
    let unset = state
        .db
        .site_calendar_json(SiteId(site.id))
        .await?
        .is_none();
    let mut calendar = state.db.site_calendar(Some(site.id)).await?;
    if unset {
        let settings = CalendarSettings {
            time_zone: site.time_zone.clone(),
            ..CalendarSettings::default()
        };
        if let Ok(c) = SiteCalendar::new(settings) {
            calendar = c.with_holidays(std::sync::Arc::new(state.db.holiday_table().await?));
        }
    }
    Ok((calendar, unset))
}

async fn site_page(
    state: &AppState,
    staff: &Staff,
    site: Site,
    shown: Shown,
) -> Result<Response, Failure> {
    let ctx = Ctx::new(staff, "admin", &format!("/admin/calendar/{}", site.id));
    let (calendar, unset) = stored(state, &site).await?;
    let input = shown
        .input
        .unwrap_or_else(|| CalendarInput::from_settings(calendar.settings()));
    let weekdays = WEEKDAYS
        .iter()
        .map(|(code, day)| {
            (
                (*code).to_owned(),
                weekday_label(ctx.lang, *day),
                input.weekend.iter().any(|w| w == code),
            )
        })
        .collect();
    let exceptions = calendar
        .settings()
        .exceptions
        .iter()
        .map(|(date, e)| {
            let (closed, note) = match e {
                Exception::Closed { note } => (true, note.clone()),
                Exception::Open { note } => (false, note.clone()),
            };
            ExceptionRow {
                date: date.to_string(),
                weekday: weekday_label(ctx.lang, date.weekday()),
                closed,
                note,
            }
        })
        .collect();
    let uncovered = uncovered(&calendar, state.now())
        .iter()
        .map(|y| uncovered_text(ctx.lang, *y))
        .collect();
    let refused = shown.error.is_some() || shown.exception_error.is_some();
    let mut res = render(&SitePage {
        ctx,
        site,
        unset,
        saved: shown.saved,
        input,
        weekdays,
        error: shown.error,
        exceptions,
        exception: shown.exception,
        exception_error: shown.exception_error,
        uncovered,
    })?;
    if refused {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn edit_calendar(
    State(state): State<AppState>,
    staff: Staff,
    Path(site): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let site = site_of(&state, &site).await?;
    let shown = Shown {
        saved: raw.as_deref().is_some_and(|r| r.contains("saved")),
        ..Shown::default()
    };
    site_page(&state, &staff, site, shown).await
}

fn admin_form(
    staff: &Staff,
    body: Result<Bytes, BytesRejection>,
    lists: &[&str],
) -> Result<Map<String, Value>, Failure> {
    staff.require_admin()?;
    super::posted_form(staff, body, lists)
}

fn saved_at(site: &Site) -> Response {
    Redirect::to(&format!("/admin/calendar/{}?saved=1", site.id)).into_response()
}

async fn save_calendar(
    State(state): State<AppState>,
    staff: Staff,
    Path(site): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let form = admin_form(&staff, body, &["weekend"])?;
    let site = site_of(&state, &site).await?;
    let input = CalendarInput::from_form(&form);
    let (current, _) = stored(&state, &site).await?;
    match input.parse(staff.lang, current.settings().exceptions.clone()) {
        Ok(calendar) => {
            state
                .db
                .set_site_calendar(SiteId(site.id), &calendar)
                .await?;
            Ok(saved_at(&site))
        }
        Err(error) => {
            let shown = Shown {
                input: Some(input),
                error: Some(error),
                ..Shown::default()
            };
            site_page(&state, &staff, site, shown).await
        }
    }
}

async fn add_exception(
    State(state): State<AppState>,
    staff: Staff,
    Path(site): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let form = admin_form(&staff, body, &[])?;
    let site = site_of(&state, &site).await?;
    let input = ExceptionInput::from_form(&form);
    let lang = staff.lang;
    let parsed = input.parse(lang);
    let (current, _) = stored(&state, &site).await?;
    let outcome = parsed.and_then(|(date, exception)| {
        let mut settings = current.settings().clone();
        settings.exceptions.insert(date, exception);
        SiteCalendar::new(settings).map_err(|e| calendar_error(lang, &e))
    });
    match outcome {
        Ok(calendar) => {
            state
                .db
                .set_site_calendar(SiteId(site.id), &calendar)
                .await?;
            Ok(saved_at(&site))
        }
        Err(error) => {
            let shown = Shown {
                exception: input,
                exception_error: Some(error),
                ..Shown::default()
            };
            site_page(&state, &staff, site, shown).await
        }
    }
}

async fn remove_exception(
    State(state): State<AppState>,
    staff: Staff,
    Path((site, date)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    admin_form(&staff, body, &[])?;
    let site = site_of(&state, &site).await?;
    let date = parse_date(&date).ok_or(Failure::NotFound)?;
    let (current, _) = stored(&state, &site).await?;
    let mut settings = current.settings().clone();
    if settings.exceptions.remove(&date).is_none() {
        return Err(Failure::NotFound);
    }
    let calendar = SiteCalendar::new(settings)
        .map_err(|e| Failure::InvalidText(calendar_error(staff.lang, &e)))?;
    state
        .db
        .set_site_calendar(SiteId(site.id), &calendar)
        .await?;
    Ok(saved_at(&site))
}
