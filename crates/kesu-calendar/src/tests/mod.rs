//! The crate's tests, one file per subject. Expected instants are worked out
//! by hand in the comments, from the shipped notices.

mod china;
mod dst;
mod holiday_files;
mod properties;
mod settings;
mod site;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::{CalendarSettings, SiteCalendar};

/// An instant written with its offset, e.g. `2025-09-30T17:00+08:00`.
fn at(text: &str) -> Timestamp {
    text.parse().expect("a test instant")
}

fn day(text: &str) -> Date {
    text.parse().expect("a test date")
}

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// The default calendar (Asia/Shanghai, Mon–Fri 09:00–18:00, China's
/// holidays, no lunch break) changed by `change`.
fn calendar(change: impl FnOnce(&mut CalendarSettings)) -> SiteCalendar {
    let mut settings = CalendarSettings::default();
    change(&mut settings);
    SiteCalendar::new(settings).expect("valid test settings")
}
