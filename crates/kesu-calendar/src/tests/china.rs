//! The default site (Asia/Shanghai, Mon–Fri 09:00–18:00, China's holidays)
//! against real notices.

use jiff::civil::Weekday;

use super::{at, calendar, day, hours, minutes};
use crate::{DayKind, SiteCalendar};

#[test]
fn national_day_2025_pushes_a_two_hour_deadline_to_october_9() {
    // 2025 notice: Oct 1–8 off (国庆节、中秋节), Sunday Sep 28 and Saturday
    // Oct 11 worked. Tuesday Sep 30 17:00 + 2 working hours: 17:00–18:00 is
    // the first hour; Oct 1–8 are off; Thursday Oct 9 09:00–10:00 the second.
    let calendar = SiteCalendar::default();
    assert_eq!(day("2025-09-30").weekday(), Weekday::Tuesday);
    let due = calendar.add_working(at("2025-09-30T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-10-09T10:00+08:00"));
}

#[test]
fn national_day_2025_make_up_days_are_worked() {
    let calendar = SiteCalendar::default();
    let name = "国庆节、中秋节".to_owned();
    // Sep 28 is a Sunday, Oct 11 a Saturday: both make-up working days.
    assert_eq!(day("2025-09-28").weekday(), Weekday::Sunday);
    assert_eq!(day("2025-10-11").weekday(), Weekday::Saturday);
    assert_eq!(
        calendar.day_kind(day("2025-09-28")),
        DayKind::MakeUpWorkday { name: name.clone() }
    );
    assert_eq!(
        calendar.day_kind(day("2025-10-11")),
        DayKind::MakeUpWorkday { name: name.clone() }
    );
    assert_eq!(
        calendar.day_kind(day("2025-10-03")),
        DayKind::PublicHoliday { name }
    );
    // A Saturday that is not a make-up day stays a weekend.
    assert_eq!(calendar.day_kind(day("2025-09-27")), DayKind::Weekend);

    // Saturday Sep 27 10:00 + 2h: nothing counts on Saturday; Sunday Sep 28
    // is worked, 09:00–11:00.
    let due = calendar.add_working(at("2025-09-27T10:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-09-28T11:00+08:00"));
    // Friday Oct 10 17:00 + 2h: 17:00–18:00, then the make-up Saturday Oct
    // 11 09:00–10:00.
    let due = calendar.add_working(at("2025-10-10T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2025-10-11T10:00+08:00"));
}

#[test]
fn national_day_2025_working_time_between_counts_only_worked_days() {
    // Sep 30 (9h), then Oct 9, 10 and the make-up Saturday Oct 11 (9h each):
    // 36 hours from Sep 30 09:00 to Oct 12 09:00.
    let calendar = SiteCalendar::default();
    let worked =
        calendar.working_between(at("2025-09-30T09:00+08:00"), at("2025-10-12T09:00+08:00"));
    assert_eq!(worked, hours(36));
    // Nothing at all during the break itself.
    let during =
        calendar.working_between(at("2025-09-30T18:00+08:00"), at("2025-10-09T09:00+08:00"));
    assert_eq!(during, hours(0));
}

#[test]
fn three_working_days_from_september_30_end_on_the_make_up_saturday() {
    // The working days after Tuesday Sep 30 are Oct 9, Oct 10 and Saturday
    // Oct 11 (make-up): 10:00 on the third.
    let calendar = SiteCalendar::default();
    let due = calendar.add_working_days(at("2025-09-30T10:00+08:00"), 3);
    assert_eq!(due.expect("due"), at("2025-10-11T10:00+08:00"));
}

#[test]
fn spring_festival_2026_is_skipped_and_its_saturdays_worked() {
    // 2026 notice: Feb 15 (Sunday) to Feb 23 (Monday) off, Saturdays Feb 14
    // and Feb 28 worked (春节).
    let calendar = SiteCalendar::default();
    assert_eq!(day("2026-02-13").weekday(), Weekday::Friday);
    assert_eq!(day("2026-02-14").weekday(), Weekday::Saturday);
    assert_eq!(day("2026-02-24").weekday(), Weekday::Tuesday);
    assert_eq!(day("2026-02-28").weekday(), Weekday::Saturday);
    let name = "春节".to_owned();
    assert_eq!(
        calendar.day_kind(day("2026-02-14")),
        DayKind::MakeUpWorkday { name: name.clone() }
    );
    assert_eq!(
        calendar.day_kind(day("2026-02-23")),
        DayKind::PublicHoliday { name: name.clone() }
    );
    assert_eq!(
        calendar.day_kind(day("2026-02-28")),
        DayKind::MakeUpWorkday { name }
    );

    // Friday Feb 13 17:00 + 2h: 17:00–18:00, Saturday Feb 14 09:00–10:00.
    let due = calendar.add_working(at("2026-02-13T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2026-02-14T10:00+08:00"));
    // Saturday Feb 14 17:30 + 1h: half an hour that day, nine days off,
    // Tuesday Feb 24 09:00–09:30.
    let due = calendar.add_working(at("2026-02-14T17:30+08:00"), hours(1));
    assert_eq!(due.expect("due"), at("2026-02-24T09:30+08:00"));
    // Three working days from Friday Feb 13 10:00: Feb 14, Feb 24, Feb 25.
    let due = calendar.add_working_days(at("2026-02-13T10:00+08:00"), 3);
    assert_eq!(due.expect("due"), at("2026-02-25T10:00+08:00"));
}

#[test]
fn friday_1750_leaves_ten_minutes_and_continues_on_monday() {
    // 2025-06-13 is an ordinary Friday (the Dragon Boat break was May 31 –
    // Jun 2).
    let calendar = SiteCalendar::default();
    let friday = at("2025-06-13T17:50+08:00");
    assert_eq!(day("2025-06-13").weekday(), Weekday::Friday);
    // Used up exactly at closing: the result is Friday 18:00 itself.
    assert_eq!(
        calendar.add_working(friday, minutes(10)).expect("due"),
        at("2025-06-13T18:00+08:00")
    );
    // 30 minutes: 10 on Friday, 20 on Monday from 09:00.
    let due = calendar.add_working(friday, minutes(30)).expect("due");
    assert_eq!(due, at("2025-06-16T09:20+08:00"));
    assert_eq!(calendar.working_between(friday, due), minutes(30));
}

#[test]
fn zero_duration_leaves_the_start_where_it_is() {
    let calendar = SiteCalendar::default();
    // Even on a Saturday evening: no time to add, nothing moves.
    let saturday = at("2025-06-14T22:00+08:00");
    assert_eq!(
        calendar.add_working(saturday, minutes(0)).expect("same"),
        saturday
    );
    assert_eq!(
        calendar.add_working(saturday, minutes(-5)).expect("same"),
        saturday
    );
    assert_eq!(
        calendar.add_working_days(saturday, 0).expect("same"),
        saturday
    );
}

#[test]
fn a_complaint_after_hours_starts_counting_at_the_next_opening() {
    // Tuesday 2025-06-10 22:00: the clock starts Wednesday 09:00.
    let calendar = SiteCalendar::default();
    let late = at("2025-06-10T22:00+08:00");
    assert!(!calendar.is_working_time(late));
    assert_eq!(
        calendar.next_working_time(late).expect("next"),
        at("2025-06-11T09:00+08:00")
    );
    assert_eq!(
        calendar.add_working(late, hours(1)).expect("due"),
        at("2025-06-11T10:00+08:00")
    );
    // In working time, the next working time is the instant itself; at the
    // closing instant it is the next opening (periods are half-open).
    let busy = at("2025-06-10T11:11+08:00");
    assert_eq!(calendar.next_working_time(busy).expect("next"), busy);
    assert!(calendar.is_working_time(at("2025-06-10T09:00+08:00")));
    assert!(!calendar.is_working_time(at("2025-06-10T18:00+08:00")));
    let closing = at("2025-06-10T18:00+08:00");
    assert_eq!(
        calendar.next_working_time(closing).expect("next"),
        at("2025-06-11T09:00+08:00")
    );
}

#[test]
fn working_days_are_counted_from_the_next_opening_outside_hours() {
    let calendar = SiteCalendar::default();
    // Monday 10:00 + 3 working days: Thursday 10:00.
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-16T10:00+08:00"), 3)
            .expect("due"),
        at("2025-06-19T10:00+08:00")
    );
    // Monday 07:00 counts from Monday's opening: Mon, Tue, Wed → Wednesday
    // 18:00 (the same working instant as Thursday 09:00, shown as the end
    // of the third day).
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-16T07:00+08:00"), 3)
            .expect("due"),
        at("2025-06-18T18:00+08:00")
    );
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-16T07:00+08:00"), 1)
            .expect("due"),
        at("2025-06-16T18:00+08:00")
    );
    // Friday 22:00 counts from Monday: Mon, Tue, Wed → Wednesday 18:00.
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-13T22:00+08:00"), 3)
            .expect("due"),
        at("2025-06-18T18:00+08:00")
    );
    // Saturday likewise.
    assert_eq!(
        calendar
            .add_working_days(at("2025-06-14T10:00+08:00"), 3)
            .expect("due"),
        at("2025-06-18T18:00+08:00")
    );
}

#[test]
fn end_of_working_day_is_today_or_the_next_working_day() {
    let calendar = SiteCalendar::default();
    let cases = [
        // During the day and before opening: that day's 18:00.
        ("2025-06-10T10:00+08:00", "2025-06-10T18:00+08:00"),
        ("2025-06-10T07:00+08:00", "2025-06-10T18:00+08:00"),
        // After closing: the next working day's.
        ("2025-06-10T19:00+08:00", "2025-06-11T18:00+08:00"),
        // Before the National Day break: the first day after it, Oct 9.
        ("2025-09-30T19:00+08:00", "2025-10-09T18:00+08:00"),
        // On the make-up Saturday itself.
        ("2025-10-11T10:00+08:00", "2025-10-11T18:00+08:00"),
    ];
    for (now, end) in cases {
        assert_eq!(
            calendar.end_of_working_day(at(now)).expect("end"),
            at(end),
            "from {now}"
        );
    }
}

#[test]
fn a_year_without_a_notice_falls_back_to_weekends_and_is_reported() {
    let site = SiteCalendar::default();
    // 2030 has no notice: New Year's Day (a Tuesday) is an ordinary workday,
    // Saturday Jan 5 an ordinary weekend.
    assert_eq!(day("2030-01-01").weekday(), Weekday::Tuesday);
    assert_eq!(site.day_kind(day("2030-01-01")), DayKind::Workday);
    assert_eq!(site.day_kind(day("2030-01-05")), DayKind::Weekend);
    assert_eq!(
        site.uncovered_years(day("2029-12-01"), day("2031-01-01")),
        vec![2029, 2030, 2031]
    );
    assert_eq!(
        site.uncovered_years(day("2026-06-01"), day("2027-06-01")),
        vec![2027]
    );
    assert!(
        site.uncovered_years(day("2007-01-01"), day("2026-12-31"))
            .is_empty()
    );
    // A site that ignores public holidays has nothing to warn about.
    let plain = calendar(|s| s.china_public_holidays = false);
    assert!(
        plain
            .uncovered_years(day("2030-01-01"), day("2030-12-31"))
            .is_empty()
    );
    assert_eq!(plain.day_kind(day("2025-10-01")), DayKind::Workday);
}
