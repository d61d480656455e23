//! The calendar forms: what was typed, kept as typed, and its parsing into
//! a checked [`SiteCalendar`] or an exception, with readable refusals.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use kesu_calendar::{CalendarError, CalendarSettings, Exception, LunchBreak, SiteCalendar};
use serde_json::{Map, Value};

use crate::error::Failure;
use crate::i18n::{Lang, t};

/// The weekdays in form order, with their codes (as `CalendarSettings`
/// stores them).
pub(super) const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

pub(super) fn weekday_label(lang: Lang, day: Weekday) -> String {
    let code = WEEKDAYS
        .iter()
        .find(|(_, d)| *d == day)
        .map_or("monday", |(c, _)| c);
    t(lang, &format!("calendar.{code}"))
}

pub(super) fn hm(time: Time) -> String {
    time.strftime("%H:%M").to_string()
}

/// The calendar form as typed (or as stored), kept when refused.
#[derive(Debug, Clone, Default)]
pub struct CalendarInput {
    pub time_zone: String,
    pub opens: String,
    pub closes: String,
    pub lunch_start: String,
    pub lunch_end: String,
    pub weekend: Vec<String>,
    pub china_public_holidays: bool,
    pub always_open: bool,
}

pub(super) fn text(form: &Map<String, Value>, key: &str) -> String {
    form.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned()
}

pub(super) fn checked(form: &Map<String, Value>, key: &str) -> bool {
    matches!(text(form, key).as_str(), "true" | "on" | "1")
}

impl CalendarInput {
    pub(super) fn from_settings(s: &CalendarSettings) -> Self {
        CalendarInput {
            time_zone: s.time_zone.clone(),
            opens: hm(s.opens),
            closes: hm(s.closes),
            lunch_start: s.lunch_break.map(|l| hm(l.start)).unwrap_or_default(),
            lunch_end: s.lunch_break.map(|l| hm(l.end)).unwrap_or_default(),
            weekend: s
                .weekend
                .iter()
                .filter_map(|d| {
                    WEEKDAYS
                        .iter()
                        .find(|(_, w)| w == d)
                        .map(|(c, _)| (*c).to_owned())
                })
                .collect(),
            china_public_holidays: s.china_public_holidays,
            always_open: s.always_open,
        }
    }

    pub(super) fn from_form(form: &Map<String, Value>) -> Self {
        CalendarInput {
            time_zone: text(form, "time_zone"),
            opens: text(form, "opens"),
            closes: text(form, "closes"),
            lunch_start: text(form, "lunch_start"),
            lunch_end: text(form, "lunch_end"),
            weekend: form
                .get("weekend")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            china_public_holidays: checked(form, "china_public_holidays"),
            always_open: checked(form, "always_open"),
        }
    }

    /// The checked calendar, with `exceptions` kept as they are; or what is
    /// wrong, readably.
    pub(super) fn parse(
        &self,
        lang: Lang,
        exceptions: BTreeMap<Date, Exception>,
    ) -> Result<SiteCalendar, String> {
        let time = |key: &str, raw: &str| -> Result<Time, String> {
            raw.parse::<Time>().map_err(|_| {
                t(lang, "calendar.bad_time")
                    .replace("%{field}", &t(lang, &format!("calendar.{key}")))
                    .replace("%{value}", raw)
            })
        };
        let lunch_break = match (self.lunch_start.is_empty(), self.lunch_end.is_empty()) {
            (true, true) => None,
            (false, false) => Some(LunchBreak {
                start: time("lunch_start", &self.lunch_start)?,
                end: time("lunch_end", &self.lunch_end)?,
            }),
            _ => return Err(t(lang, "calendar.lunch_half")),
        };
        let mut weekend = Vec::new();
        for code in &self.weekend {
            let day = WEEKDAYS
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, d)| *d)
                .ok_or_else(|| t(lang, "input.unknown_value"))?;
            weekend.push(day);
        }
        let settings = CalendarSettings {
            time_zone: self.time_zone.clone(),
            opens: time("opens", &self.opens)?,
            closes: time("closes", &self.closes)?,
            lunch_break,
            weekend,
            china_public_holidays: self.china_public_holidays,
            exceptions,
            always_open: self.always_open,
        };
        SiteCalendar::new(settings).map_err(|e| calendar_error(lang, &e))
    }
}

/// A calendar's refusal in the reader's language.
pub(super) fn calendar_error(lang: Lang, e: &CalendarError) -> String {
    match e {
        CalendarError::UnknownTimeZone { name } => {
            t(lang, "calendar.error_time_zone").replace("%{name}", name)
        }
        CalendarError::HoursEndBeforeStart { opens, closes } => t(lang, "calendar.error_hours")
            .replace("%{opens}", &hm(*opens))
            .replace("%{closes}", &hm(*closes)),
        CalendarError::LunchEndBeforeStart { start, end } => t(lang, "calendar.error_lunch_order")
            .replace("%{start}", &hm(*start))
            .replace("%{end}", &hm(*end)),
        CalendarError::LunchOutsideHours {
            start,
            end,
            opens,
            closes,
        } => t(lang, "calendar.error_lunch_outside")
            .replace("%{start}", &hm(*start))
            .replace("%{end}", &hm(*end))
            .replace("%{opens}", &hm(*opens))
            .replace("%{closes}", &hm(*closes)),
        CalendarError::NoWorkingWeekday => t(lang, "calendar.error_no_workday"),
        other => crate::pages::holidays::holiday_error(lang, other),
    }
}

/// The exception form as typed.
#[derive(Debug, Clone, Default)]
pub struct ExceptionInput {
    pub date: String,
    pub kind: String,
    pub note: String,
}

impl ExceptionInput {
    pub(super) fn from_form(form: &Map<String, Value>) -> Self {
        ExceptionInput {
            date: text(form, "date"),
            kind: text(form, "kind"),
            note: text(form, "note"),
        }
    }

    /// The date and what happens on it, or what is wrong, readably.
    pub(super) fn parse(&self, lang: Lang) -> Result<(Date, Exception), String> {
        let date = parse_date(&self.date)
            .ok_or_else(|| t(lang, "calendar.bad_date").replace("%{value}", &self.date))?;
        let note = kesu_domain::input::text("note", Some(&self.note), NOTE_MAX, false)
            .map_err(|e| Failure::Invalid(e).describe(lang).1)?
            .unwrap_or_default();
        let exception = match self.kind.as_str() {
            "closed" => Exception::Closed { note },
            "open" => Exception::Open { note },
            _ => return Err(t(lang, "calendar.bad_kind")),
        };
        Ok((date, exception))
    }
}

/// The longest note an exception may have.
const NOTE_MAX: usize = 100;

/// `YYYY-MM-DD` (what a date input sends).
pub(super) fn parse_date(raw: &str) -> Option<Date> {
    (raw.len() == 10)
        .then(|| raw.parse::<Date>().ok())
        .flatten()
}
