//! Working time for kesu: when a site works, and deadlines counted in it.
//!
//! Complaint deadlines (contact the customer within 2 working hours, R-HD-3;
//! a progress report after 3 working days, R-HD-11; report back the same
//! day, R-HD-12; whether it is "outside working hours" now, R-IN-6) count the
//! working time of the site the complaint belongs to. This crate answers
//! those questions, and only those.
//!
//! # What is here
//!
//! - [`CalendarSettings`]: what an administrator sets for a site, as plain
//!   serde data — time zone (IANA name), working hours, an optional lunch
//!   break, weekend days, whether to follow China's public holidays, dated
//!   [`Exception`]s (closed for stock-taking, open on a special day), and
//!   `always_open` for 24/7 sites.
//! - [`SiteCalendar`]: the checked settings plus a [`HolidayTable`], with the
//!   arithmetic: [`SiteCalendar::day_kind`], [`SiteCalendar::is_working_time`],
//!   [`SiteCalendar::next_working_time`], [`SiteCalendar::add_working`],
//!   [`SiteCalendar::working_between`], [`SiteCalendar::add_working_days`],
//!   [`SiteCalendar::end_of_working_day`], [`SiteCalendar::add_calendar`].
//!   It serializes as its settings, and deserializing checks them.
//! - [`HolidayTable`]: China's public holidays and make-up working days (调休)
//!   2007–2026, compiled in from holiday-cn (MIT, `data/holiday-cn/`), plus
//!   years an administrator uploads in the same format
//!   ([`YearSchedule::from_holiday_cn_json`]); an upload replaces the shipped
//!   year of the same number. A year with no notice falls back to plain
//!   weekends and is reported by [`SiteCalendar::uncovered_years`], so the
//!   admin page can warn instead of the deadlines silently guessing.
//!
//! # What it must never depend on
//!
//! No I/O, no clock, no runtime: no tokio, sqlx, axum, file or network
//! access, and never the system time. "Now" is always an argument. The
//! holiday files are compiled in, uploaded years arrive as text, and
//! settings as data; storage persists both and hands them back.
//!
//! # Rules worth knowing
//!
//! - Working hours are wall-clock times in the site's zone, turned into
//!   instants day by day with jiff's zone rules: a wall-clock time that a DST
//!   change skips maps to the instant of the jump, a repeated one to its
//!   first occurrence. A DST day simply has an hour more or less of work.
//! - Periods are half-open: 09:00 is working time, 18:00 is not; a duration
//!   that runs out exactly at 18:00 ends at 18:00, not at the next opening.
//! - Searches for working time give up after [`MAX_CLOSED_DAYS`] days without
//!   any and return [`CalendarError::NoWorkingTime`]; they never loop.
//!
//! # Example
//!
//! ```
//! use jiff::{SignedDuration, Timestamp};
//! use kesu_calendar::{DayKind, SiteCalendar};
//!
//! // Asia/Shanghai, Monday–Friday 09:00–18:00, China's holidays.
//! let calendar = SiteCalendar::default();
//!
//! // Tuesday 2025-09-30 17:00, two working hours to call the customer back:
//! // one hour that day, then the National Day + Mid-Autumn break (Oct 1–8),
//! // so the second hour is Thursday Oct 9, 09:00–10:00.
//! let registered: Timestamp = "2025-09-30T17:00:00+08:00".parse()?;
//! let due = calendar.add_working(registered, SignedDuration::from_hours(2))?;
//! assert_eq!(due, "2025-10-09T10:00:00+08:00".parse::<Timestamp>()?);
//!
//! assert!(matches!(
//!     calendar.day_kind(jiff::civil::date(2025, 10, 11)),
//!     DayKind::MakeUpWorkday { .. } // a Saturday worked to make up (调休)
//! ));
//! assert_eq!(calendar.working_between(registered, due), SignedDuration::from_hours(2));
//!
//! // Storage keeps the settings as JSON; loading checks them again.
//! let json = serde_json::to_string(&calendar)?;
//! let loaded: SiteCalendar = serde_json::from_str(&json)?;
//! assert_eq!(loaded, calendar);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod holidays;
mod settings;
mod shipped;
mod site;
mod working;

pub use error::CalendarError;
pub use holidays::{Holiday, HolidayTable, YearSchedule};
pub use settings::{CalendarSettings, Exception, LunchBreak};
pub use site::{DayKind, SiteCalendar};
pub use working::MAX_CLOSED_DAYS;

#[cfg(test)]
mod tests;
