//! The shipped holiday files and the parser an administrator's upload goes
//! through.

use std::sync::Arc;

use super::{at, day, hours};
use crate::shipped::FILES;
use crate::{CalendarError, DayKind, Holiday, HolidayTable, SiteCalendar, YearSchedule};

#[test]
fn every_shipped_file_parses_and_is_filed_under_its_year() {
    for (year, text) in FILES {
        let schedule = YearSchedule::from_holiday_cn_json_for(*year, text);
        assert!(schedule.is_ok(), "{year}: {schedule:?}");
    }
    let years: Vec<i16> = HolidayTable::shipped().years().collect();
    assert_eq!(years, (2007..=2026).collect::<Vec<_>>());
    assert!(HolidayTable::shipped().covers(2026));
    assert!(!HolidayTable::shipped().covers(2027));
}

#[test]
fn a_notice_reaching_into_december_is_found_for_that_december() {
    // The 2019 notice starts New Year's break on Sunday 2018-12-30 and moves
    // Monday Dec 31 off, worked on Saturday Dec 29.
    let table = HolidayTable::shipped();
    let off = |name: &str, off| Holiday {
        name: name.to_owned(),
        off,
    };
    assert_eq!(table.lookup(day("2018-12-29")), Some(&off("元旦", false)));
    assert_eq!(table.lookup(day("2018-12-31")), Some(&off("元旦", true)));
    assert_eq!(table.lookup(day("2018-12-28")), None);
    let calendar = SiteCalendar::default();
    assert!(matches!(
        calendar.day_kind(day("2018-12-29")),
        DayKind::MakeUpWorkday { .. }
    ));
    assert!(matches!(
        calendar.day_kind(day("2018-12-31")),
        DayKind::PublicHoliday { .. }
    ));
}

#[test]
fn a_weekday_named_as_a_working_day_is_an_ordinary_workday() {
    // 2020: the Spring Festival was extended to Sunday Feb 2; the notice
    // lists Monday Feb 3 as a working day. Not a make-up day: a workday.
    let calendar = SiteCalendar::default();
    assert_eq!(calendar.day_kind(day("2020-02-03")), DayKind::Workday);
    assert!(matches!(
        calendar.day_kind(day("2020-02-02")),
        DayKind::PublicHoliday { .. }
    ));
}

const UPLOAD_2030: &str = r#"{
    "year": 2030,
    "papers": ["https://www.gov.cn/example"],
    "days": [
        {"name": "元旦", "date": "2029-12-29", "isOffDay": false},
        {"name": "元旦", "date": "2030-01-01", "isOffDay": true}
    ]
}"#;

#[test]
fn an_uploaded_year_is_used_and_covers_its_year() {
    let uploaded = YearSchedule::from_holiday_cn_json_for(2030, UPLOAD_2030).expect("valid");
    assert_eq!(uploaded.year(), 2030);
    assert_eq!(uploaded.papers(), ["https://www.gov.cn/example"]);
    assert_eq!(uploaded.days().count(), 2);
    let table = Arc::new(HolidayTable::shipped_with([uploaded]));
    assert!(table.covers(2030));
    let calendar = SiteCalendar::default().with_holidays(table);
    assert!(
        calendar
            .uncovered_years(day("2030-01-01"), day("2030-12-31"))
            .is_empty()
    );
    assert!(matches!(
        calendar.day_kind(day("2030-01-01")),
        DayKind::PublicHoliday { .. }
    ));
    // Saturday 2029-12-29 is worked (2029 itself still has no notice).
    assert!(matches!(
        calendar.day_kind(day("2029-12-29")),
        DayKind::MakeUpWorkday { .. }
    ));
    assert_eq!(
        calendar.uncovered_years(day("2029-12-01"), day("2030-01-31")),
        vec![2029]
    );
}

#[test]
fn an_uploaded_year_replaces_the_shipped_one() {
    // An admin corrects 2026 to a single day off: the rest of the shipped
    // 2026 no longer applies.
    let corrected = r#"{"year": 2026, "papers": [], "days": [
        {"name": "春节", "date": "2026-02-17", "isOffDay": true}]}"#;
    let corrected = YearSchedule::from_holiday_cn_json(corrected).expect("valid");
    let table = HolidayTable::shipped_with([corrected]);
    assert_eq!(table.year(2026).map(|s| s.days().count()), Some(1));
    assert_eq!(table.lookup(day("2026-02-16")), None);
    let calendar = SiteCalendar::default().with_holidays(Arc::new(table));
    // Friday Feb 13 17:00 + 2h: Saturday Feb 14 is a plain weekend now, so
    // Monday Feb 16 09:00–10:00.
    let due = calendar.add_working(at("2026-02-13T17:00+08:00"), hours(2));
    assert_eq!(due.expect("due"), at("2026-02-16T10:00+08:00"));
}

fn upload(json: &str) -> CalendarError {
    match YearSchedule::from_holiday_cn_json(json) {
        Ok(schedule) => panic!("accepted {schedule:?}"),
        Err(error) => error,
    }
}

fn days(list: &str) -> String {
    format!(r#"{{"year": 2027, "papers": [], "days": [{list}]}}"#)
}

#[test]
fn the_parser_names_what_is_wrong_with_an_upload() {
    assert!(matches!(upload("not json"), CalendarError::HolidayJson(_)));
    assert!(matches!(
        upload(r#"{"year": 2027}"#),
        CalendarError::HolidayJson(_)
    ));
    let no_flag = days(r#"{"name": "元旦", "date": "2027-01-01"}"#);
    assert!(matches!(upload(&no_flag), CalendarError::HolidayJson(_)));
    let typo = r#"{"year": 20027, "papers": [], "days": []}"#;
    assert!(matches!(
        upload(typo),
        CalendarError::ImplausibleYear { year: 20027 }
    ));

    for bad in [
        "2027-02-30",
        "2027/01/01",
        "2027-1-1",
        "2027-01-01T00:00",
        "",
    ] {
        let json = days(&format!(
            r#"{{"name": "x", "date": "{bad}", "isOffDay": true}}"#
        ));
        assert!(
            matches!(upload(&json), CalendarError::BadDate { index: 0, ref value } if value == bad),
            "{bad}"
        );
    }

    let twice = days(
        r#"{"name": "元旦", "date": "2027-01-01", "isOffDay": true},
           {"name": "元旦", "date": "2027-01-01", "isOffDay": false}"#,
    );
    let error = upload(&twice);
    assert!(matches!(
        error,
        CalendarError::DuplicateDate { index: 1, .. }
    ));
    assert_eq!(error.to_string(), "day 1: 2027-01-01 is listed twice");

    for outside in ["2028-01-01", "2026-11-30", "2025-12-31"] {
        let json = days(&format!(
            r#"{{"name": "x", "date": "{outside}", "isOffDay": true}}"#
        ));
        let error = upload(&json);
        assert!(
            matches!(error, CalendarError::DateOutsideYear { year: 2027, .. }),
            "{outside}"
        );
    }
    // The December before the year is allowed (New Year breaks start there).
    let december = days(r#"{"name": "元旦", "date": "2026-12-31", "isOffDay": true}"#);
    assert!(YearSchedule::from_holiday_cn_json(&december).is_ok());
}

#[test]
fn an_upload_for_another_year_is_refused() {
    let error = YearSchedule::from_holiday_cn_json_for(2027, UPLOAD_2030);
    assert!(matches!(
        error,
        Err(CalendarError::WrongYear {
            expected: 2027,
            found: 2030
        })
    ));
}
