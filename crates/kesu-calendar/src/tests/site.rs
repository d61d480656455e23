//! Site settings at work: lunch breaks, exceptions, 24/7 sites, sites that
//! never work.

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};

use super::{at, calendar, day, hours, minutes};
use crate::{CalendarError, DayKind, Exception, LunchBreak, MAX_CLOSED_DAYS};

fn lunch_12_to_13() -> Option<LunchBreak> {
    Some(LunchBreak {
        start: Time::constant(12, 0, 0, 0),
        end: Time::constant(13, 0, 0, 0),
    })
}

#[test]
fn a_lunch_break_does_not_count() {
    let calendar = calendar(|s| s.lunch_break = lunch_12_to_13());
    // Tuesday 2025-06-10 11:30 + 1h: 11:30–12:00, lunch, 13:00–13:30.
    let start = at("2025-06-10T11:30+08:00");
    let due = calendar.add_working(start, hours(1)).expect("due");
    assert_eq!(due, at("2025-06-10T13:30+08:00"));
    assert_eq!(calendar.working_between(start, due), hours(1));
    // Half an hour runs out at the start of lunch, which is the result.
    assert_eq!(
        calendar.add_working(start, minutes(30)).expect("due"),
        at("2025-06-10T12:00+08:00")
    );
    assert!(!calendar.is_working_time(at("2025-06-10T12:30+08:00")));
    assert_eq!(
        calendar
            .next_working_time(at("2025-06-10T12:30+08:00"))
            .expect("next"),
        at("2025-06-10T13:00+08:00")
    );
    // A day is 8 working hours now.
    assert_eq!(
        calendar.working_between(at("2025-06-10T00:00+08:00"), at("2025-06-11T00:00+08:00")),
        hours(8)
    );
    // One working day from lunch: the next day at the start of lunch.
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-10T12:30+08:00"), 1)
            .expect("due"),
        at("2025-06-11T12:00+08:00")
    );
}

#[test]
fn a_closed_exception_closes_a_working_day() {
    let calendar = calendar(|s| {
        s.exceptions.insert(
            day("2025-06-11"),
            Exception::Closed {
                note: "盘点".to_owned(),
            },
        );
    });
    assert_eq!(
        calendar.day_kind(day("2025-06-11")),
        DayKind::ClosedException {
            note: "盘点".to_owned()
        }
    );
    // Tuesday 17:00 + 2h: 17:00–18:00, Wednesday closed, Thursday 09:00–10:00.
    let due = calendar.add_working(at("2025-06-10T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-06-12T10:00+08:00"));
}

#[test]
fn an_open_exception_opens_a_day_off() {
    let calendar = calendar(|s| {
        s.exceptions.insert(
            day("2025-06-14"),
            Exception::Open {
                note: "周末促销".to_owned(),
            },
        );
    });
    assert_eq!(day("2025-06-14").weekday(), Weekday::Saturday);
    assert!(calendar.day_kind(day("2025-06-14")).is_working());
    // Friday 17:00 + 2h: 17:00–18:00, the opened Saturday 09:00–10:00.
    let due = calendar.add_working(at("2025-06-13T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-06-14T10:00+08:00"));
}

#[test]
fn exceptions_beat_the_holiday_table() {
    let calendar = calendar(|s| {
        let closed = Exception::Closed {
            note: "停电".to_owned(),
        };
        let open = Exception::Open {
            note: "国庆值班".to_owned(),
        };
        s.exceptions.insert(day("2025-09-28"), closed); // a make-up Sunday
        s.exceptions.insert(day("2025-10-03"), open); // a holiday
    });
    assert!(matches!(
        calendar.day_kind(day("2025-09-28")),
        DayKind::ClosedException { .. }
    ));
    assert!(matches!(
        calendar.day_kind(day("2025-10-03")),
        DayKind::OpenException { .. }
    ));
    // Sep 30 17:00 + 2h: one hour that day, the second on the opened Oct 3.
    let due = calendar.add_working(at("2025-09-30T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-10-03T10:00+08:00"));
}

#[test]
fn an_always_open_site_counts_every_hour() {
    let calendar = calendar(|s| s.always_open = true);
    // Through the National Day break, at night: 30 hours are 30 hours.
    let start = at("2025-09-30T22:15+08:00");
    assert!(calendar.is_working_time(start));
    assert_eq!(
        calendar.add_working(start, hours(30)).expect("due"),
        at("2025-10-02T04:15+08:00")
    );
    assert_eq!(
        calendar.working_between(start, at("2025-10-09T22:15+08:00")),
        hours(9 * 24)
    );
    assert_eq!(calendar.day_kind(day("2025-10-01")), DayKind::Workday);
    assert!(
        calendar
            .uncovered_years(day("2030-01-01"), day("2030-12-31"))
            .is_empty()
    );
    // The same day ends at midnight.
    assert_eq!(
        calendar.end_of_working_day(start).expect("end"),
        at("2025-10-01T00:00+08:00")
    );
}

#[test]
fn a_closed_exception_still_closes_an_always_open_site() {
    let calendar = calendar(|s| {
        s.always_open = true;
        s.exceptions.insert(
            day("2025-06-11"),
            Exception::Closed {
                note: "装修".to_owned(),
            },
        );
    });
    // Tuesday 23:00 + 2h: 23:00–24:00, Wednesday closed all day, Thursday
    // 00:00–01:00.
    let due = calendar.add_working(at("2025-06-10T23:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-06-12T01:00+08:00"));
}

#[test]
fn a_site_that_never_works_gives_up_instead_of_looping() {
    // Open on Mondays only, and every Monday of four years closed (and no
    // public holidays, whose make-up days would be worked).
    let calendar = calendar(|s| {
        s.china_public_holidays = false;
        s.weekend = vec![
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ];
        let mut monday = day("2025-06-16");
        while monday < day("2029-06-16") {
            let note = "closed".to_owned();
            s.exceptions.insert(monday, Exception::Closed { note });
            monday = monday
                .checked_add(jiff::Span::new().days(7))
                .expect("a Monday");
        }
    });
    let start = at("2025-06-14T10:00+08:00");
    let gave_up = |result: Result<Timestamp, CalendarError>| matches!(result, Err(CalendarError::NoWorkingTime { days, .. }) if days == MAX_CLOSED_DAYS);
    assert!(gave_up(calendar.add_working(start, hours(1))));
    assert!(gave_up(calendar.next_working_time(start)));
    assert!(gave_up(calendar.end_of_working_day(start)));
    assert!(gave_up(calendar.add_working_days(start, 1)));
    // Measuring is bounded by its two ends and simply finds nothing.
    assert_eq!(
        calendar.working_between(start, at("2026-06-14T10:00+08:00")),
        hours(0)
    );
}

#[test]
fn working_between_is_antisymmetric() {
    let calendar = calendar(|_| {});
    let (a, b) = (at("2025-06-13T17:00+08:00"), at("2025-06-16T10:00+08:00"));
    assert_eq!(calendar.working_between(a, b), hours(2));
    assert_eq!(calendar.working_between(b, a), hours(-2));
    assert_eq!(calendar.working_between(a, a), hours(0));
}

#[test]
fn calendar_time_is_plain_elapsed_time() {
    let calendar = calendar(|_| {});
    let start = at("2025-09-30T17:00+08:00");
    let due = calendar.add_calendar(start, hours(72)).expect("due");
    assert_eq!(due, at("2025-10-03T17:00+08:00"));
    assert_eq!(calendar.calendar_between(start, due), hours(72));
}
