//! Sites in a zone with daylight saving time: working hours are wall-clock
//! times, so their UTC instants move with the offset.

use jiff::civil::Time;

use super::{at, calendar, day, hours, minutes};
use crate::SiteCalendar;

fn berlin() -> SiteCalendar {
    calendar(|s| {
        s.time_zone = "Europe/Berlin".to_owned();
        s.china_public_holidays = false;
    })
}

#[test]
fn berlin_office_hours_follow_the_march_change() {
    // Sunday 2025-03-30 02:00 CET (+01) → 03:00 CEST (+02). Friday Mar 28
    // 17:00 CET + 2h: 17:00–18:00 CET (16:00–17:00Z), then Monday Mar 31
    // 09:00–10:00 CEST (07:00–08:00Z).
    let calendar = berlin();
    let friday = at("2025-03-28T17:00+01:00");
    assert_eq!(
        calendar.add_working(friday, hours(1)).expect("due"),
        at("2025-03-28T17:00Z")
    );
    let due = calendar.add_working(friday, hours(2)).expect("due");
    assert_eq!(due, at("2025-03-31T10:00+02:00"));
    assert_eq!(due, at("2025-03-31T08:00Z"));
    // Monday opens at 07:00Z where Friday opened at 08:00Z.
    assert_eq!(
        calendar
            .next_working_time(at("2025-03-29T12:00Z"))
            .expect("next"),
        at("2025-03-31T07:00Z")
    );
    assert_eq!(
        calendar
            .next_working_time(at("2025-03-28T05:00Z"))
            .expect("next"),
        at("2025-03-28T08:00Z")
    );
    // A week across the change: five days of nine hours, plus Monday 09–12.
    let week = calendar.working_between(at("2025-03-24T00:00+01:00"), at("2025-03-31T12:00+02:00"));
    assert_eq!(week, hours(48));
}

#[test]
fn berlin_office_hours_follow_the_october_change() {
    // Sunday 2025-10-26 03:00 CEST (+02) → 02:00 CET (+01). Friday Oct 24
    // 17:00 CEST + 2h: 17:00–18:00 CEST (15:00–16:00Z), then Monday Oct 27
    // 09:00–10:00 CET (08:00–09:00Z).
    let calendar = berlin();
    let due = calendar
        .add_working(at("2025-10-24T17:00+02:00"), hours(2))
        .expect("due");
    assert_eq!(due, at("2025-10-27T10:00+01:00"));
    assert_eq!(due, at("2025-10-27T09:00Z"));
    assert_eq!(
        calendar
            .end_of_working_day(at("2025-10-25T12:00Z"))
            .expect("end"),
        at("2025-10-27T17:00Z")
    );
    assert!(calendar.is_working_time(at("2025-10-27T08:00Z")));
    assert!(!calendar.is_working_time(at("2025-10-27T07:59Z")));
}

/// A night-shift site working every day 02:30–05:00 Berlin time: its hours
/// touch the very hour the clocks skip or repeat.
fn berlin_night_shift() -> SiteCalendar {
    calendar(|s| {
        s.time_zone = "Europe/Berlin".to_owned();
        s.china_public_holidays = false;
        s.weekend = Vec::new();
        s.opens = Time::constant(2, 30, 0, 0);
        s.closes = Time::constant(5, 0, 0, 0);
    })
}

#[test]
fn a_shift_opening_in_the_skipped_hour_opens_at_the_jump() {
    // 2025-03-30: 02:30 does not exist (02:00 CET jumps to 03:00 CEST at
    // 01:00Z). The shift opens at the jump and closes at 05:00 CEST
    // (03:00Z): two hours instead of two and a half.
    let calendar = berlin_night_shift();
    let day_of = |date: &str| {
        let start = calendar.instant(day(date), Time::MIN).expect("midnight");
        let end = calendar
            .instant(day(date).tomorrow().expect("next"), Time::MIN)
            .expect("midnight");
        calendar.working_between(start, end)
    };
    assert_eq!(day_of("2025-03-29"), minutes(150));
    assert_eq!(day_of("2025-03-30"), hours(2));
    assert!(calendar.is_working_time(at("2025-03-30T01:00Z")));
    assert!(!calendar.is_working_time(at("2025-03-30T00:59Z")));
    let due = calendar
        .add_working(at("2025-03-30T00:00+01:00"), minutes(30))
        .expect("due");
    assert_eq!(due, at("2025-03-30T03:30+02:00"));
}

#[test]
fn a_shift_opening_in_the_repeated_hour_opens_at_its_first_occurrence() {
    // 2025-10-26: 02:30 happens twice (00:30Z in CEST, 01:30Z in CET). The
    // shift opens at the first and closes at 05:00 CET (04:00Z): three and a
    // half hours.
    let calendar = berlin_night_shift();
    assert_eq!(
        calendar
            .next_working_time(at("2025-10-26T00:00+02:00"))
            .expect("next"),
        at("2025-10-26T00:30Z")
    );
    assert_eq!(
        calendar.working_between(at("2025-10-26T00:00Z"), at("2025-10-26T12:00Z")),
        minutes(210)
    );
    assert_eq!(
        calendar
            .end_of_working_day(at("2025-10-26T00:00Z"))
            .expect("end"),
        at("2025-10-26T04:00Z")
    );
}
