//! The one error type of the crate: bad holiday files, bad site settings, and
//! computations that cannot finish.

use jiff::civil::{Date, Time};

/// Everything that can go wrong in this crate.
///
/// The messages are meant for an administrator (they name the field or the
/// day at fault); the web layer may show them as they are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    // --- holiday files (an admin uploads next year's notice) ---
    /// The text is not JSON in the holiday-cn format (`year`, `papers`,
    /// `days` with `name`, `date`, `isOffDay`).
    #[error("not a holiday-cn year file: {0}")]
    HolidayJson(#[source] serde_json::Error),
    /// The file's `year` is not a plausible year.
    #[error("the file's year {year} is not a year between 1949 and 2200")]
    ImplausibleYear { year: i64 },
    /// The file is for another year than the one it was uploaded for.
    #[error("the file is for {found}, not for {expected}")]
    WrongYear { expected: i16, found: i16 },
    /// A `date` that is not a `YYYY-MM-DD` calendar date.
    #[error("day {index}: {value:?} is not a date (YYYY-MM-DD)")]
    BadDate { index: usize, value: String },
    /// The same date listed twice.
    #[error("day {index}: {date} is listed twice")]
    DuplicateDate { index: usize, date: Date },
    /// A date neither in the file's year nor in the December before it (the
    /// only place a year's notice may reach: a New Year break that starts in
    /// late December).
    #[error(
        "day {index}: {date} is outside {year} (only {year} and the December before it may appear)"
    )]
    DateOutsideYear { index: usize, date: Date, year: i16 },

    // --- site settings ---
    /// The time zone is not an IANA name kesu knows (e.g. `Asia/Shanghai`).
    #[error("unknown time zone {name:?} (expected an IANA name such as Asia/Shanghai)")]
    UnknownTimeZone { name: String },
    /// Working hours must end after they start, on the same day.
    #[error("working hours end at {closes}, not after they start at {opens}")]
    HoursEndBeforeStart { opens: Time, closes: Time },
    /// The lunch break must end after it starts.
    #[error("the lunch break ends at {end}, not after it starts at {start}")]
    LunchEndBeforeStart { start: Time, end: Time },
    /// The lunch break must lie strictly inside the working hours.
    #[error("the lunch break {start}–{end} is not inside the working hours {opens}–{closes}")]
    LunchOutsideHours {
        start: Time,
        end: Time,
        opens: Time,
        closes: Time,
    },
    /// Every day of the week is a weekend and the site is not always open.
    #[error("every day of the week is a weekend day: the site would never work")]
    NoWorkingWeekday,

    // --- computations ---
    /// No working time was found within the search bound (see
    /// [`crate::MAX_CLOSED_DAYS`]): the site is closed for years on end.
    #[error("no working time in the {days} days from {from}")]
    NoWorkingTime { from: Date, days: u32 },
    /// The result lies outside the range of dates jiff supports (years
    /// -9999 to 9999).
    #[error("the time is out of the supported range")]
    OutOfRange(#[source] jiff::Error),
}
