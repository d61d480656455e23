//! Checking settings, and their stored JSON form.

use jiff::civil::{Time, Weekday};

use super::day;
use crate::{CalendarError, CalendarSettings, Exception, LunchBreak, SiteCalendar};

fn check(change: impl FnOnce(&mut CalendarSettings)) -> Result<SiteCalendar, CalendarError> {
    let mut settings = CalendarSettings::default();
    change(&mut settings);
    SiteCalendar::new(settings)
}

fn time(h: i8, m: i8) -> Time {
    Time::constant(h, m, 0, 0)
}

#[test]
fn the_default_is_shanghai_nine_to_six_without_lunch() {
    let settings = CalendarSettings::default();
    assert_eq!(settings.time_zone, "Asia/Shanghai");
    assert_eq!((settings.opens, settings.closes), (time(9, 0), time(18, 0)));
    assert_eq!(settings.lunch_break, None);
    assert_eq!(settings.weekend, [Weekday::Saturday, Weekday::Sunday]);
    assert!(settings.china_public_holidays && !settings.always_open);
    let checked = SiteCalendar::new(settings).expect("the default is valid");
    assert_eq!(checked, SiteCalendar::default());
}

#[test]
fn bad_settings_are_refused_with_the_reason() {
    let unknown = check(|s| s.time_zone = "Asia/Beijing".to_owned());
    assert!(
        matches!(unknown, Err(CalendarError::UnknownTimeZone { ref name }) if name == "Asia/Beijing")
    );
    let backwards = check(|s| s.closes = time(8, 0));
    assert!(matches!(
        backwards,
        Err(CalendarError::HoursEndBeforeStart { .. })
    ));
    let empty = check(|s| s.closes = time(9, 0));
    assert!(matches!(
        empty,
        Err(CalendarError::HoursEndBeforeStart { .. })
    ));
    let lunch = |start, end| {
        move |s: &mut CalendarSettings| s.lunch_break = Some(LunchBreak { start, end })
    };
    let reversed = check(lunch(time(13, 0), time(12, 0)));
    assert!(matches!(
        reversed,
        Err(CalendarError::LunchEndBeforeStart { .. })
    ));
    let outside = check(lunch(time(17, 30), time(18, 30)));
    assert!(matches!(
        outside,
        Err(CalendarError::LunchOutsideHours { .. })
    ));
    let at_opening = check(lunch(time(9, 0), time(10, 0)));
    assert!(matches!(
        at_opening,
        Err(CalendarError::LunchOutsideHours { .. })
    ));
    let never = check(|s| s.weekend = never_weekdays());
    assert!(matches!(never, Err(CalendarError::NoWorkingWeekday)));
    // …unless the site is open around the clock anyway.
    assert!(
        check(|s| {
            s.weekend = never_weekdays();
            s.always_open = true;
        })
        .is_ok()
    );
}

fn never_weekdays() -> Vec<Weekday> {
    (0..7)
        .map(|n| Weekday::from_monday_zero_offset(n).expect("a weekday"))
        .collect()
}

#[test]
fn settings_round_trip_through_json() {
    let calendar = check(|s| {
        s.time_zone = "Europe/Berlin".to_owned();
        s.lunch_break = Some(LunchBreak {
            start: time(12, 0),
            end: time(13, 0),
        });
        s.weekend = vec![Weekday::Sunday, Weekday::Saturday, Weekday::Sunday];
        s.exceptions.insert(
            day("2025-06-11"),
            Exception::Closed {
                note: "盘点".to_owned(),
            },
        );
    })
    .expect("valid");
    // The weekend is kept sorted and without repeats.
    assert_eq!(
        calendar.settings().weekend,
        [Weekday::Saturday, Weekday::Sunday]
    );
    let json = serde_json::to_string(&calendar).expect("serializes");
    assert!(
        json.contains(r#""weekend":["saturday","sunday"]"#),
        "{json}"
    );
    assert!(
        json.contains(r#""2025-06-11":{"kind":"closed","note":"盘点"}"#),
        "{json}"
    );
    assert!(json.contains(r#""time_zone":"Europe/Berlin""#), "{json}");
    let back: SiteCalendar = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, calendar);
}

#[test]
fn stored_json_is_checked_and_missing_fields_take_defaults() {
    let empty: SiteCalendar = serde_json::from_str("{}").expect("defaults");
    assert_eq!(empty, SiteCalendar::default());
    let partial: SiteCalendar =
        serde_json::from_str(r#"{"opens": "08:30", "weekend": ["Sunday"]}"#).expect("partial");
    assert_eq!(partial.settings().opens, time(8, 30));
    assert_eq!(partial.settings().weekend, [Weekday::Sunday]);

    let bad_zone = serde_json::from_str::<SiteCalendar>(r#"{"time_zone": "Mars/Olympus"}"#);
    let message = bad_zone.map(|_| ()).expect_err("refused").to_string();
    assert!(
        message.contains("unknown time zone \"Mars/Olympus\""),
        "{message}"
    );
    let bad_day = serde_json::from_str::<SiteCalendar>(r#"{"weekend": ["caturday"]}"#);
    let message = bad_day.map(|_| ()).expect_err("refused").to_string();
    assert!(
        message.contains("unknown weekday \"caturday\""),
        "{message}"
    );
}
