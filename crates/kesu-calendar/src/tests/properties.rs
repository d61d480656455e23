//! Property-style checks over many (calendar, start, duration) triples drawn
//! from a fixed-seed generator (no extra dependency, the same cases on every
//! run).

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};

use super::calendar;
use crate::{Exception, LunchBreak, SiteCalendar};

/// xorshift64*: small, deterministic, good enough to spread test cases.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        i64::try_from(self.next() % n).unwrap_or(0)
    }

    /// An instant between 2024-12-01 and 2026-12-31, to the second.
    fn instant(&mut self) -> Timestamp {
        let from = 1_733_011_200; // 2024-12-01T00:00:00Z
        let span = 2 * 366 * 86_400;
        Timestamp::from_second(from + self.below(span)).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Mostly short durations (minutes to a few days of work), some long.
    fn duration(&mut self) -> SignedDuration {
        let seconds = match self.below(4) {
            0 => self.below(3_600),
            1 => self.below(10 * 3_600),
            2 => self.below(60 * 3_600),
            _ => self.below(400 * 3_600),
        };
        SignedDuration::from_secs(seconds)
    }
}

fn calendars() -> Vec<(&'static str, SiteCalendar)> {
    let lunch = Some(LunchBreak {
        start: Time::constant(12, 0, 0, 0),
        end: Time::constant(13, 30, 0, 0),
    });
    vec![
        ("shanghai", calendar(|_| {})),
        ("shanghai with lunch", calendar(|s| s.lunch_break = lunch)),
        (
            "berlin",
            calendar(|s| {
                s.time_zone = "Europe/Berlin".to_owned();
                s.china_public_holidays = false;
            }),
        ),
        (
            "new york night shift",
            calendar(|s| {
                s.time_zone = "America/New_York".to_owned();
                s.weekend = Vec::new();
                s.opens = Time::constant(1, 15, 0, 0);
                s.closes = Time::constant(3, 45, 0, 0);
            }),
        ),
        (
            "always open with a closed day",
            calendar(|s| {
                s.always_open = true;
                let note = "装修".to_owned();
                let closed = "2025-10-02".parse().expect("a date");
                s.exceptions.insert(closed, Exception::Closed { note });
            }),
        ),
    ]
}

#[test]
fn working_between_measures_back_what_add_working_added() {
    let mut cases = Cases(0x9E37_79B9_7F4A_7C15);
    for (name, calendar) in calendars() {
        for _ in 0..400 {
            let (start, duration) = (cases.instant(), cases.duration());
            let due = calendar.add_working(start, duration).expect("due");
            assert!(
                due >= start,
                "{name}: {start} + {duration:?} went back to {due}"
            );
            let measured = calendar.working_between(start, due);
            assert_eq!(measured, duration, "{name}: {start} + {duration:?} = {due}");
            assert_eq!(calendar.working_between(due, start), -duration, "{name}");
            // The result is working time or the end of a period: the moment
            // just before it always is (for a positive duration).
            if duration > SignedDuration::ZERO {
                let just_before = due - SignedDuration::from_nanos(1);
                assert!(
                    calendar.is_working_time(just_before),
                    "{name}: {start} + {duration:?} = {due}"
                );
            }
        }
    }
}

#[test]
fn add_working_is_monotonic_in_the_duration() {
    let mut cases = Cases(0xD1B5_4A32_D192_ED03);
    for (name, calendar) in calendars() {
        for _ in 0..200 {
            let start = cases.instant();
            let (a, b) = (cases.duration(), cases.duration());
            let (short, long) = if a <= b { (a, b) } else { (b, a) };
            let early = calendar.add_working(start, short).expect("due");
            let late = calendar.add_working(start, long).expect("due");
            assert!(early <= late, "{name}: {start} + {short:?} / {long:?}");
        }
    }
}

#[test]
fn the_next_working_time_is_working_time_and_nothing_before_it_is() {
    let mut cases = Cases(0x1234_5678_9ABC_DEF1);
    for (name, calendar) in calendars() {
        for _ in 0..300 {
            let start = cases.instant();
            let next = calendar.next_working_time(start).expect("next");
            assert!(next >= start, "{name}");
            assert!(calendar.is_working_time(next), "{name}: {start} → {next}");
            assert_eq!(
                calendar.working_between(start, next),
                SignedDuration::ZERO,
                "{name}"
            );
            // add_working of any positive duration starts counting there.
            let one = SignedDuration::from_secs(1);
            assert_eq!(
                calendar.add_working(start, one).expect("due"),
                next + one,
                "{name}"
            );
        }
    }
}

#[test]
fn working_days_land_in_working_time_after_the_start() {
    let mut cases = Cases(0x0F0F_1234_ABCD_9999);
    for (name, calendar) in calendars() {
        for _ in 0..200 {
            let start = cases.instant();
            let n = u32::try_from(cases.below(6) + 1).unwrap_or(1);
            let due = calendar.add_working_days(start, n).expect("due");
            assert!(due > start, "{name}: {start} + {n} days");
            assert!(
                at_work(&calendar, due),
                "{name}: {start} + {n} days = {due}"
            );
            let end = calendar.end_of_working_day(start).expect("end");
            assert!(
                end > start && at_work(&calendar, end),
                "{name}: {start} → {end}"
            );
        }
    }
}

/// In working time, or at the very end of a period.
fn at_work(calendar: &SiteCalendar, ts: Timestamp) -> bool {
    calendar.is_working_time(ts) || calendar.is_working_time(ts - SignedDuration::from_nanos(1))
}
