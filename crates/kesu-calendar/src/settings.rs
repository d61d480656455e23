//! What an administrator sets for a site's working time, as plain data (the
//! admin form and the stored JSON). [`crate::SiteCalendar::new`] checks it.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use serde::{Deserialize, Serialize};

/// A site's working-time settings, unchecked.
///
/// Stored as JSON, e.g.
/// `{"time_zone":"Asia/Shanghai","opens":"09:00:00","closes":"18:00:00",
/// "lunch_break":null,"weekend":["saturday","sunday"],
/// "china_public_holidays":true,"exceptions":{"2025-06-30":{"kind":"closed",
/// "note":"盘点"}},"always_open":false}`. Missing fields take their
/// [`Default`] values, so settings stored by an older kesu still load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarSettings {
    /// IANA time zone name; working hours are wall-clock times there.
    pub time_zone: String,
    /// Start of the working day (local wall-clock time).
    pub opens: Time,
    /// End of the working day, after `opens` on the same day (shifts across
    /// midnight are not supported; a site open around the clock sets
    /// `always_open`).
    pub closes: Time,
    /// A break that does not count as working time, inside the hours.
    /// Default: none — a complaint desk usually answers through lunch, and a
    /// two-hour deadline should not stretch to three unless the site says so.
    pub lunch_break: Option<LunchBreak>,
    /// Days off every week.
    #[serde(with = "weekday_names")]
    pub weekend: Vec<Weekday>,
    /// Follow China's public holidays and make-up working days (调休).
    pub china_public_holidays: bool,
    /// Dates that differ from all of the above, set by an administrator.
    pub exceptions: BTreeMap<Date, Exception>,
    /// Every hour of every day is working time (24/7 sites); weekends, hours,
    /// lunch and public holidays are then ignored, but a
    /// [`Exception::Closed`] date still closes the whole day.
    pub always_open: bool,
}

impl Default for CalendarSettings {
    /// Asia/Shanghai, Monday to Friday 09:00–18:00 without a lunch break,
    /// China's public holidays on, no exceptions.
    fn default() -> Self {
        CalendarSettings {
            time_zone: "Asia/Shanghai".to_owned(),
            opens: Time::constant(9, 0, 0, 0),
            closes: Time::constant(18, 0, 0, 0),
            lunch_break: None,
            weekend: vec![Weekday::Saturday, Weekday::Sunday],
            china_public_holidays: true,
            exceptions: BTreeMap::new(),
            always_open: false,
        }
    }
}

/// A daily break (wall-clock times) that is not working time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LunchBreak {
    pub start: Time,
    pub end: Time,
}

/// An administrator's decision about one date; it beats weekends and the
/// holiday table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exception {
    /// Closed all day although it would be a working day (stock-taking 盘点,
    /// a company outing).
    Closed { note: String },
    /// Open with the usual hours although it would be a day off (a special
    /// working day, a sales weekend).
    Open { note: String },
}

/// Weekdays as lowercase English names (`"saturday"`), which jiff's
/// `Weekday` has no serde form for.
mod weekday_names {
    use jiff::civil::Weekday;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const NAMES: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];

    fn name(day: Weekday) -> &'static str {
        match day {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    pub(super) fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        days.iter()
            .map(|d| name(*d))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|text| {
                NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(text))
                    .map(|(_, day)| *day)
                    .ok_or_else(|| {
                        D::Error::custom(format!(
                            "unknown weekday {text:?} (expected e.g. \"saturday\")"
                        ))
                    })
            })
            .collect()
    }
}
