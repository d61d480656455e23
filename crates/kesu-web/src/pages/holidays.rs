//! Holiday years (admin): the years shipped with kesu, the ones an admin
//! uploaded (a holiday-cn JSON file per year, checked by
//! `YearSchedule::from_holiday_cn_json_for` before it is stored, replacing
//! an earlier upload or the shipped year), and the years the sites still
//! lack. Shown on the calendar overview ([`super::calendar`]).

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use kesu_calendar::{CalendarError, HolidayTable, YearSchedule};
use kesu_domain::UserId;

use super::Ctx;
use super::calendar::{overview, uncovered_text};
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/holidays", post(upload_holiday_year))
        .route("/admin/holidays/{year}/delete", post(delete_holiday_year))
}

/// A year's notice is a few kilobytes; anything much larger is a mistake.
const MAX_FILE_BYTES: usize = 256 * 1024;

/// The upload form as typed, and why it was refused.
#[derive(Debug, Clone, Default)]
pub struct UploadInput {
    pub year: String,
    pub error: Option<String>,
}

/// An uploaded year as listed.
pub struct UploadedRow {
    pub year: i64,
    pub uploaded_at: String,
    pub by: String,
    /// It takes the place of a year shipped with kesu.
    pub replaces_shipped: bool,
    /// Days off and make-up working days the file lists.
    pub summary: String,
}

/// The holiday card of the calendar overview.
pub struct HolidaysCard {
    /// The shipped years as ranges (`2007–2026`).
    pub shipped: String,
    pub uploaded: Vec<UploadedRow>,
    /// Warnings for the years the sites lack.
    pub uncovered: Vec<String>,
    /// The year field: as typed, or the first missing year.
    pub year: String,
    pub error: Option<String>,
}

/// Consecutive years joined into ranges: `2007–2026`, `2007–2020、2022`.
fn ranges(years: impl Iterator<Item = i16>, separator: &str) -> String {
    let mut parts: Vec<(i16, i16)> = Vec::new();
    for y in years {
        match parts.last_mut() {
            Some((_, end)) if *end + 1 == y => *end = y,
            _ => parts.push((y, y)),
        }
    }
    parts
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(separator)
}

impl HolidaysCard {
    /// The card with `missing` years (from the sites' calendars).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(
        state: &AppState,
        ctx: &Ctx,
        missing: &[i16],
        upload: UploadInput,
    ) -> Result<HolidaysCard, Failure> {
        let shipped = HolidayTable::shipped();
        let users = state.db.users().await?;
        let tz = &state.config.time_zone;
        let uploaded = state
            .db
            .holiday_years()
            .await?
            .into_iter()
            .map(|r| {
                let schedule = i16::try_from(r.year)
                    .ok()
                    .and_then(|y| YearSchedule::from_holiday_cn_json_for(y, &r.source).ok());
                let summary = schedule.map_or_else(
                    || t(ctx.lang, "holidays.unreadable"),
                    |s| {
                        let off = s.days().filter(|(_, h)| h.off).count();
                        let work = s.days().filter(|(_, h)| !h.off).count();
                        t(ctx.lang, "holidays.summary")
                            .replace("%{off}", &off.to_string())
                            .replace("%{work}", &work.to_string())
                    },
                );
                UploadedRow {
                    year: r.year,
                    uploaded_at: crate::view::short_time(r.uploaded_at, tz),
                    by: r
                        .uploaded_by
                        .and_then(|id| users.iter().find(|u| u.id == id))
                        .map(|u| u.display_name.clone())
                        .unwrap_or_default(),
                    replaces_shipped: i16::try_from(r.year).is_ok_and(|y| shipped.covers(y)),
                    summary,
                }
            })
            .collect();
        let year = if upload.year.is_empty() {
            missing.first().map(ToString::to_string).unwrap_or_default()
        } else {
            upload.year
        };
        Ok(HolidaysCard {
            shipped: ranges(shipped.years(), &ctx.t("common.list_separator")),
            uploaded,
            uncovered: missing
                .iter()
                .map(|y| uncovered_text(ctx.lang, *y))
                .collect(),
            year,
            error: upload.error,
        })
    }
}

/// A holiday file's refusal in the reader's language (the file's entries
/// counted from 1).
pub(super) fn holiday_error(lang: Lang, e: &CalendarError) -> String {
    let n = |index: &usize| (index + 1).to_string();
    match e {
        CalendarError::HolidayJson(cause) => {
            t(lang, "holidays.error_json").replace("%{detail}", &cause.to_string())
        }
        CalendarError::ImplausibleYear { year } => {
            t(lang, "holidays.error_year").replace("%{year}", &year.to_string())
        }
        CalendarError::WrongYear { expected, found } => t(lang, "holidays.error_wrong_year")
            .replace("%{found}", &found.to_string())
            .replace("%{expected}", &expected.to_string()),
        CalendarError::BadDate { index, value } => t(lang, "holidays.error_bad_date")
            .replace("%{n}", &n(index))
            .replace("%{value}", value),
        CalendarError::DuplicateDate { index, date } => t(lang, "holidays.error_duplicate")
            .replace("%{n}", &n(index))
            .replace("%{date}", &date.to_string()),
        CalendarError::DateOutsideYear { index, date, year } => t(lang, "holidays.error_outside")
            .replace("%{n}", &n(index))
            .replace("%{date}", &date.to_string())
            .replace("%{year}", &year.to_string()),
        other => other.to_string(),
    }
}

/// The fields of the upload form.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    year: String,
    file: Option<Vec<u8>>,
    too_large: bool,
}

async fn read_upload(mut mp: Multipart) -> Result<Upload, Failure> {
    let mut upload = Upload::default();
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::Malformed(e.body_text())
        }
    };
    while let Some(field) = mp.next_field().await.map_err(malformed)? {
        match field.name().unwrap_or("") {
            "csrf" => upload.csrf = Some(field.text().await.map_err(malformed)?),
            "year" => upload.year = field.text().await.map_err(malformed)?.trim().to_owned(),
            "file" => {
                let data = field.bytes().await.map_err(malformed)?;
                upload.too_large = data.len() > MAX_FILE_BYTES;
                if !data.is_empty() && !upload.too_large {
                    upload.file = Some(data.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /admin/holidays` (multipart: `year`, `file`): checks the file for
/// that year and stores it, or shows the overview again saying why not.
async fn upload_holiday_year(
    State(state): State<AppState>,
    staff: Staff,
    req: Request,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let mp = Multipart::from_request(req, &state)
        .await
        .map_err(|e| Failure::Malformed(e.body_text()))?;
    let upload = read_upload(mp).await?;
    staff.check_csrf(upload.csrf.as_deref())?;
    let lang = staff.lang;
    let checked = (|| {
        let year = upload
            .year
            .parse::<i16>()
            .ok()
            .filter(|y| (1949..=2200).contains(y))
            .ok_or_else(|| t(lang, "holidays.bad_year"))?;
        if upload.too_large {
            return Err(t(lang, "holidays.too_large"));
        }
        let bytes = upload
            .file
            .as_deref()
            .ok_or_else(|| t(lang, "holidays.no_file"))?;
        let text = std::str::from_utf8(bytes).map_err(|_| t(lang, "holidays.not_text"))?;
        let text = text.trim_start_matches('\u{feff}');
        let schedule = YearSchedule::from_holiday_cn_json_for(year, text)
            .map_err(|e| holiday_error(lang, &e))?;
        Ok((schedule, text.to_owned()))
    })();
    match checked {
        Ok((schedule, text)) => {
            state
                .db
                .save_holiday_year(&schedule, &text, Some(UserId(staff.user.id)), state.now())
                .await?;
            Ok(Redirect::to("/admin/calendar?saved=1#holidays").into_response())
        }
        Err(error) => {
            let input = UploadInput {
                year: upload.year,
                error: Some(error),
            };
            overview(&state, &staff, input, None).await
        }
    }
}

async fn delete_holiday_year(
    State(state): State<AppState>,
    staff: Staff,
    Path(year): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    super::posted_form(&staff, body, &[])?;
    let year: i64 = year.parse().map_err(|_| Failure::NotFound)?;
    if !state.db.delete_holiday_year(year).await? {
        return Err(Failure::NotFound);
    }
    Ok(Redirect::to("/admin/calendar?saved=1#holidays").into_response())
}
