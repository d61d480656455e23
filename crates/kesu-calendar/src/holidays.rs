//! One year of China's public holidays and make-up working days (调休), read
//! from the holiday-cn JSON format, and the table of all known years.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::CalendarError;

/// What the State Council's notice says about one date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The festival the date belongs to, as in the notice (`春节`, `国庆节、中秋节`).
    pub name: String,
    /// `true`: a day off (放假). `false`: a working day, usually a make-up
    /// working day on a Saturday or Sunday (调休上班).
    pub off: bool,
}

/// One year's notice: the dates that differ from the Monday-to-Friday pattern.
///
/// Besides dates of its own year, a notice may list dates in the December
/// before it (a New Year break, or its make-up days, that fall in late
/// December); lookups find them (see [`HolidayTable::lookup`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearSchedule {
    year: i16,
    papers: Vec<String>,
    days: BTreeMap<Date, Holiday>,
}

/// Years a notice may be for. China's public holidays as a system date from
/// 1949; the upper bound keeps a typo (`20255`) from becoming a "year".
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i64> = 1949..=2200;

#[derive(Deserialize)]
struct RawYear {
    year: i64,
    #[serde(default)]
    papers: Vec<String>,
    days: Vec<RawDay>,
}

#[derive(Deserialize)]
struct RawDay {
    name: String,
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

impl YearSchedule {
    /// Reads one year's file in the holiday-cn format
    /// (<https://github.com/NateScarlet/holiday-cn>): `{"year": 2027,
    /// "papers": [...], "days": [{"name": "元旦", "date": "2027-01-01",
    /// "isOffDay": true}, ...]}`. Other top-level keys (`$schema`, `$id`) are
    /// ignored; `papers` may be missing.
    ///
    /// # Errors
    ///
    /// [`CalendarError::HolidayJson`] when the text is not such JSON,
    /// [`CalendarError::ImplausibleYear`], [`CalendarError::BadDate`] for a
    /// date not written `YYYY-MM-DD` or not on the calendar (`2027-02-30`),
    /// [`CalendarError::DuplicateDate`], and
    /// [`CalendarError::DateOutsideYear`] for a date that is neither in the
    /// year nor in the December before it.
    pub fn from_holiday_cn_json(json: &str) -> Result<Self, CalendarError> {
        let raw: RawYear = serde_json::from_str(json).map_err(CalendarError::HolidayJson)?;
        let year = i16::try_from(raw.year)
            .ok()
            .filter(|_| PLAUSIBLE_YEARS.contains(&raw.year))
            .ok_or(CalendarError::ImplausibleYear { year: raw.year })?;
        let mut days = BTreeMap::new();
        for (index, day) in raw.days.into_iter().enumerate() {
            let date = parse_iso_date(&day.date).ok_or_else(|| CalendarError::BadDate {
                index,
                value: day.date.clone(),
            })?;
            let in_year = date.year() == year || (date.year() == year - 1 && date.month() == 12);
            if !in_year {
                return Err(CalendarError::DateOutsideYear { index, date, year });
            }
            let holiday = Holiday {
                name: day.name,
                off: day.is_off_day,
            };
            if days.insert(date, holiday).is_some() {
                return Err(CalendarError::DuplicateDate { index, date });
            }
        }
        Ok(YearSchedule {
            year,
            papers: raw.papers,
            days,
        })
    }

    /// Like [`YearSchedule::from_holiday_cn_json`], for an upload into a
    /// given year's slot: catches last year's file sent by mistake.
    ///
    /// # Errors
    ///
    /// Those of [`YearSchedule::from_holiday_cn_json`], and
    /// [`CalendarError::WrongYear`] when the file's `year` is not `expected`.
    pub fn from_holiday_cn_json_for(expected: i16, json: &str) -> Result<Self, CalendarError> {
        let schedule = Self::from_holiday_cn_json(json)?;
        if schedule.year != expected {
            return Err(CalendarError::WrongYear {
                expected,
                found: schedule.year,
            });
        }
        Ok(schedule)
    }

    /// The year the notice is for.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// The notices' addresses, as given in the file.
    pub fn papers(&self) -> &[String] {
        &self.papers
    }

    /// Every listed date, in order.
    pub fn days(&self) -> impl Iterator<Item = (Date, &Holiday)> + '_ {
        self.days.iter().map(|(date, holiday)| (*date, holiday))
    }

    /// What the notice says about `date`, if it lists it.
    pub fn get(&self, date: Date) -> Option<&Holiday> {
        self.days.get(&date)
    }
}

/// Parses exactly `YYYY-MM-DD` (jiff alone would also take a date-time).
fn parse_iso_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    text.parse().ok()
}

/// All years known to kesu: the shipped ones ([`HolidayTable::shipped`])
/// plus the ones an administrator uploaded, which replace a shipped year of
/// the same number wholesale.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolidayTable {
    years: BTreeMap<i16, YearSchedule>,
}

impl HolidayTable {
    /// A table with no years at all: every date falls back to weekends.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The years compiled into kesu (2007–2026 at the time of writing).
    pub fn shipped() -> &'static HolidayTable {
        crate::shipped::table()
    }

    /// The shipped years plus `uploaded` ones; an uploaded year replaces the
    /// shipped year of the same number, and a later one in `uploaded` an
    /// earlier one.
    pub fn shipped_with(uploaded: impl IntoIterator<Item = YearSchedule>) -> Self {
        let mut table = Self::shipped().clone();
        for schedule in uploaded {
            table.insert(schedule);
        }
        table
    }

    /// Adds a year, replacing (and returning) the one it had for that year.
    pub fn insert(&mut self, schedule: YearSchedule) -> Option<YearSchedule> {
        self.years.insert(schedule.year, schedule)
    }

    /// Whether the table has a notice for `year`.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// The years the table has, ascending.
    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    /// The notice for `year`, if the table has it.
    pub fn year(&self, year: i16) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// What the notices say about `date`: its own year's notice, or for a
    /// December date the next year's (whose New Year break may start in
    /// December). `None` for an ordinary day, or a year not covered.
    pub fn lookup(&self, date: Date) -> Option<&Holiday> {
        let own = self.years.get(&date.year()).and_then(|s| s.get(date));
        own.or_else(|| {
            if date.month() != 12 {
                return None;
            }
            let next = date.year().checked_add(1)?;
            self.years.get(&next).and_then(|s| s.get(date))
        })
    }
}
