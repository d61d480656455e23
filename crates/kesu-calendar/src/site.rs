//! A site's checked calendar: which dates are working days, and the working
//! periods of a date as instants.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::error::CalendarError;
use crate::holidays::HolidayTable;
use crate::settings::{CalendarSettings, Exception};

/// A site's working time, checked and ready to compute with.
///
/// Built from [`CalendarSettings`] by [`SiteCalendar::new`] (or by
/// deserializing the settings' JSON, which runs the same checks), with the
/// shipped holiday table; attach a table with uploaded years through
/// [`SiteCalendar::with_holidays`]. Serializes as its settings.
///
/// Working hours are wall-clock times in the site's zone. Each date's
/// periods are turned into instants with the zone's rules: a time a DST
/// change skips (02:30 on a spring-forward night) maps to the instant of the
/// jump, a time it repeats to its first occurrence. The mapping is monotonic,
/// so periods never overlap or run backwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarSettings", into = "CalendarSettings")]
pub struct SiteCalendar {
    settings: CalendarSettings,
    tz: TimeZone,
    /// Bit `n` set: the weekday with `to_monday_zero_offset() == n` is off.
    weekend: u8,
    holidays: Arc<HolidayTable>,
}

/// What kind of day a date is for a site, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day.
    Workday,
    /// One of the site's weekly days off.
    Weekend,
    /// A public holiday (放假) from the holiday table.
    PublicHoliday { name: String },
    /// A weekend day on which China works to make up for a holiday (调休上班).
    MakeUpWorkday { name: String },
    /// Closed by an administrator's exception.
    ClosedException { note: String },
    /// Opened by an administrator's exception.
    OpenException { note: String },
}

impl DayKind {
    /// Whether the site works (during its hours) on such a day.
    pub fn is_working(&self) -> bool {
        matches!(
            self,
            DayKind::Workday | DayKind::MakeUpWorkday { .. } | DayKind::OpenException { .. }
        )
    }
}

/// [`DayKind`] borrowing its texts, so the stepping loops do not allocate.
enum Kind<'a> {
    Workday,
    Weekend,
    Holiday(&'a str),
    MakeUp(&'a str),
    Closed(&'a str),
    Open(&'a str),
}

/// At most two working periods a day (morning and afternoon around lunch).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Periods {
    items: [(Timestamp, Timestamp); 2],
    len: usize,
}

impl Periods {
    fn push(&mut self, start: Option<Timestamp>, end: Option<Timestamp>) {
        if let (Some(start), Some(end)) = (start, end)
            && start < end
            && self.len < self.items.len()
        {
            self.items[self.len] = (start, end);
            self.len += 1;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        self.items[..self.len].iter().copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// From the start of the first period to the end of the last.
    pub(crate) fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self.items[..self.len].first()?;
        let last = self.items[..self.len].last()?;
        Some((first.0, last.1))
    }
}

impl IntoIterator for Periods {
    type Item = (Timestamp, Timestamp);
    type IntoIter = std::iter::Take<std::array::IntoIter<(Timestamp, Timestamp), 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter().take(self.len)
    }
}

impl SiteCalendar {
    /// Checks `settings` and builds the calendar, with the shipped holidays.
    ///
    /// The weekend list is sorted (Monday first) and deduplicated.
    ///
    /// # Errors
    ///
    /// [`CalendarError::UnknownTimeZone`], [`CalendarError::HoursEndBeforeStart`]
    /// (`closes` must be after `opens`), [`CalendarError::LunchEndBeforeStart`],
    /// [`CalendarError::LunchOutsideHours`] (the break must lie strictly inside
    /// the hours), [`CalendarError::NoWorkingWeekday`] (all seven days are
    /// weekend days on a site that is not always open).
    pub fn new(mut settings: CalendarSettings) -> Result<Self, CalendarError> {
        let tz =
            TimeZone::get(&settings.time_zone).map_err(|_| CalendarError::UnknownTimeZone {
                name: settings.time_zone.clone(),
            })?;
        let (opens, closes) = (settings.opens, settings.closes);
        if closes <= opens {
            return Err(CalendarError::HoursEndBeforeStart { opens, closes });
        }
        if let Some(lunch) = settings.lunch_break {
            if lunch.end <= lunch.start {
                return Err(CalendarError::LunchEndBeforeStart {
                    start: lunch.start,
                    end: lunch.end,
                });
            }
            if lunch.start <= opens || lunch.end >= closes {
                return Err(CalendarError::LunchOutsideHours {
                    start: lunch.start,
                    end: lunch.end,
                    opens,
                    closes,
                });
            }
        }
        settings.weekend.sort_by_key(|d| d.to_monday_zero_offset());
        settings.weekend.dedup();
        let weekend = settings
            .weekend
            .iter()
            .fold(0u8, |bits, d| bits | 1 << d.to_monday_zero_offset());
        if weekend == 0b111_1111 && !settings.always_open {
            return Err(CalendarError::NoWorkingWeekday);
        }
        Ok(SiteCalendar {
            settings,
            tz,
            weekend,
            holidays: crate::shipped::shared(),
        })
    }

    /// The same calendar using `holidays` (e.g. the shipped years plus the
    /// uploaded ones, [`HolidayTable::shipped_with`]).
    #[must_use]
    pub fn with_holidays(mut self, holidays: Arc<HolidayTable>) -> Self {
        self.holidays = holidays;
        self
    }

    /// The settings it was built from (weekend normalized).
    pub fn settings(&self) -> &CalendarSettings {
        &self.settings
    }

    /// The site's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The holiday table in use.
    pub fn holidays(&self) -> &HolidayTable {
        &self.holidays
    }

    /// What kind of day `date` is. An exception beats everything; then an
    /// always-open site works every day; then the holiday table (if the site
    /// follows it); then the weekend. A year the table does not cover falls
    /// back to plain weekends — ask [`SiteCalendar::uncovered_years`] to warn.
    pub fn day_kind(&self, date: Date) -> DayKind {
        match self.kind(date) {
            Kind::Workday => DayKind::Workday,
            Kind::Weekend => DayKind::Weekend,
            Kind::Holiday(name) => DayKind::PublicHoliday {
                name: name.to_owned(),
            },
            Kind::MakeUp(name) => DayKind::MakeUpWorkday {
                name: name.to_owned(),
            },
            Kind::Closed(note) => DayKind::ClosedException {
                note: note.to_owned(),
            },
            Kind::Open(note) => DayKind::OpenException {
                note: note.to_owned(),
            },
        }
    }

    /// The years from `from`'s to `to`'s (inclusive) for which this site
    /// should follow China's holidays but the table has no notice: there the
    /// calendar counts plain weekends, and the admin page should say so.
    /// Empty for a site that does not follow the holidays or is always open.
    pub fn uncovered_years(&self, from: Date, to: Date) -> Vec<i16> {
        if !self.settings.china_public_holidays || self.settings.always_open {
            return Vec::new();
        }
        (from.year()..=to.year())
            .filter(|year| !self.holidays.covers(*year))
            .collect()
    }

    fn kind(&self, date: Date) -> Kind<'_> {
        match self.settings.exceptions.get(&date) {
            Some(Exception::Closed { note }) => return Kind::Closed(note),
            Some(Exception::Open { note }) => return Kind::Open(note),
            None => {}
        }
        if self.settings.always_open {
            return Kind::Workday;
        }
        let weekend = self.is_weekend(date.weekday());
        if self.settings.china_public_holidays
            && let Some(holiday) = self.holidays.lookup(date)
        {
            return match (holiday.off, weekend) {
                (true, _) => Kind::Holiday(&holiday.name),
                (false, true) => Kind::MakeUp(&holiday.name),
                // A weekday the notice names as a working day (2020-02-03,
                // the end of the extended Spring Festival): ordinary work.
                (false, false) => Kind::Workday,
            };
        }
        if weekend {
            Kind::Weekend
        } else {
            Kind::Workday
        }
    }

    fn is_weekend(&self, day: Weekday) -> bool {
        self.weekend & (1 << day.to_monday_zero_offset()) != 0
    }

    fn works_on(&self, date: Date) -> bool {
        matches!(
            self.kind(date),
            Kind::Workday | Kind::MakeUp(_) | Kind::Open(_)
        )
    }

    /// The working periods of `date` as instants, in order; empty on a day
    /// off (or at the edge of the supported range).
    pub(crate) fn periods(&self, date: Date) -> Periods {
        let mut periods = Periods::default();
        if !self.works_on(date) {
            return periods;
        }
        let at = |time: Time| self.instant(date, time);
        if self.settings.always_open {
            let next_midnight = date
                .tomorrow()
                .ok()
                .and_then(|d| self.instant(d, Time::MIN));
            periods.push(at(Time::MIN), next_midnight);
            return periods;
        }
        let (opens, closes) = (self.settings.opens, self.settings.closes);
        match self.settings.lunch_break {
            Some(lunch) => {
                periods.push(at(opens), at(lunch.start));
                periods.push(at(lunch.end), at(closes));
            }
            None => periods.push(at(opens), at(closes)),
        }
        periods
    }

    /// The local date of an instant at the site.
    pub(crate) fn local_date(&self, ts: Timestamp) -> Date {
        self.tz.to_datetime(ts).date()
    }

    /// The local wall-clock time of an instant at the site.
    pub(crate) fn local_time(&self, ts: Timestamp) -> Time {
        self.tz.to_datetime(ts).time()
    }

    /// The first instant at which the site's wall clock reads `time` on
    /// `date` or later. Unambiguous times map to their one instant; in a fold
    /// (the clock turned back) the first occurrence; in a gap (the clock
    /// jumped forward over `time`) the instant of the jump. This keeps the
    /// mapping monotonic, so working periods never overlap or run backwards,
    /// and a DST day simply has an hour more or less of work.
    pub(crate) fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        let ambiguous = self.tz.to_ambiguous_timestamp(date.to_datetime(time));
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
                ambiguous.earlier().ok()
            }
            AmbiguousOffset::Gap { .. } => {
                // `earlier` reads the time with the offset after the gap,
                // which gives an instant before the jump; the jump is the
                // zone's next transition.
                let before_jump = ambiguous.earlier().ok()?;
                self.tz
                    .following(before_jump)
                    .next()
                    .map(|transition| transition.timestamp())
            }
        }
    }
}

impl Default for SiteCalendar {
    /// The default settings ([`CalendarSettings::default`]) with the shipped
    /// holidays.
    fn default() -> Self {
        SiteCalendar {
            settings: CalendarSettings::default(),
            tz: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::fixed(jiff::tz::offset(8))),
            weekend: 1 << 5 | 1 << 6,
            holidays: crate::shipped::shared(),
        }
    }
}

impl TryFrom<CalendarSettings> for SiteCalendar {
    type Error = CalendarError;

    fn try_from(settings: CalendarSettings) -> Result<Self, Self::Error> {
        SiteCalendar::new(settings)
    }
}

impl From<SiteCalendar> for CalendarSettings {
    fn from(calendar: SiteCalendar) -> Self {
        calendar.settings
    }
}
