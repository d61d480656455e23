//! Arithmetic on working time: adding it, measuring it, finding the next of
//! it. Everything steps day by day over the site's working periods; a search
//! for working time gives up after [`MAX_CLOSED_DAYS`] days without any.

use std::ops::ControlFlow;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::error::CalendarError;
use crate::site::{Periods, SiteCalendar};

/// How many consecutive days without working time a search crosses before it
/// gives up with [`CalendarError::NoWorkingTime`] (three years: no real
/// closure is that long, and a calendar that never works must not loop).
pub const MAX_CLOSED_DAYS: u32 = 366 * 3;

impl SiteCalendar {
    /// Whether `ts` is working time (periods are half-open: the opening
    /// instant is working time, the closing instant is not).
    pub fn is_working_time(&self, ts: Timestamp) -> bool {
        self.periods_around(ts)
            .any(|(start, end)| start <= ts && ts < end)
    }

    /// The first working instant at or after `ts`: `ts` itself in working
    /// time, else the next opening (a complaint at 22:00 starts counting at
    /// 09:00 on the next working day).
    ///
    /// # Errors
    ///
    /// [`CalendarError::NoWorkingTime`] when the site does not work for
    /// [`MAX_CLOSED_DAYS`] days; [`CalendarError::OutOfRange`] at the end of
    /// time.
    pub fn next_working_time(&self, ts: Timestamp) -> Result<Timestamp, CalendarError> {
        self.scan(ts, |periods| {
            match periods.iter().find(|(_, end)| *end > ts) {
                Some((start, _)) => ControlFlow::Break(start.max(ts)),
                None => ControlFlow::Continue(()),
            }
        })
    }

    /// The instant at which `duration` of working time after `start` has
    /// elapsed. Time outside working periods does not count; when the
    /// duration runs out exactly at the end of a period the result is that
    /// end (Friday 17:50 + 10 minutes is Friday 18:00, not Monday 09:00). A
    /// zero or negative duration gives `start` itself, unmoved.
    ///
    /// # Errors
    ///
    /// As [`SiteCalendar::next_working_time`].
    pub fn add_working(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if duration <= SignedDuration::ZERO {
            return Ok(start);
        }
        let mut remaining = duration;
        let mut cursor = start;
        self.scan(start, |periods| {
            for (period_start, period_end) in periods.iter() {
                if period_end <= cursor {
                    continue;
                }
                let from = period_start.max(cursor);
                let available = from.duration_until(period_end);
                if remaining <= available {
                    return ControlFlow::Break(from.checked_add(remaining));
                }
                remaining -= available;
                cursor = period_end;
            }
            ControlFlow::Continue(())
        })?
        .map_err(CalendarError::OutOfRange)
    }

    /// The working time elapsed between `a` and `b`. Antisymmetric: negative
    /// when `b` is before `a` (`working_between(now, deadline)` is the
    /// working time left, negative once overdue), zero when they are equal.
    ///
    /// Steps over every day between the two, so it costs in proportion to
    /// the distance; it never fails.
    pub fn working_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        if b < a {
            return -self.working_between(b, a);
        }
        let (first, last) = (self.local_date(a), self.local_date(b));
        // One day of margin on each side, for zones whose clocks turn back
        // across midnight.
        let mut date = first.yesterday().unwrap_or(first);
        let last = last.tomorrow().unwrap_or(last);
        let mut total = SignedDuration::ZERO;
        loop {
            total += overlap(&self.periods(date), a, b);
            match date.tomorrow() {
                Ok(next) if next <= last => date = next,
                _ => return total,
            }
        }
    }

    /// n working days after `start`, at the same local time of day — for
    /// "resolved within 3 working days". The time is clamped into the
    /// working hours of the day reached: a time in the lunch break becomes
    /// the start of the break; a start before opening counts from the
    /// opening (Monday 07:00 + 3 → Wednesday at closing); a start after
    /// closing or on a day off counts from the next opening (Friday 22:00 +
    /// 3 → Wednesday at closing). `n == 0` gives `start` itself.
    ///
    /// # Errors
    ///
    /// As [`SiteCalendar::next_working_time`].
    pub fn add_working_days(&self, start: Timestamp, n: u32) -> Result<Timestamp, CalendarError> {
        if n == 0 {
            return Ok(start);
        }
        let start_date = self.local_date(start);
        let today = self.periods(start_date);
        match today.span() {
            Some((opens, closes)) if opens <= start && start < closes => {
                let day = self.nth_working_day_after(start_date, n)?;
                let same_time = self.instant(day.date, self.local_time(start));
                Ok(day.clamp(same_time))
            }
            Some((opens, closes)) if start < opens => {
                if n == 1 {
                    return Ok(closes);
                }
                Ok(self.nth_working_day_after(start_date, n - 1)?.closes)
            }
            _ => Ok(self.nth_working_day_after(start_date, n)?.closes),
        }
    }

    /// The end of the working day containing `ts` — or, when `ts` is after
    /// that day's closing or on a day off, the end of the next working day
    /// (for "reported back the same day").
    ///
    /// # Errors
    ///
    /// As [`SiteCalendar::next_working_time`].
    pub fn end_of_working_day(&self, ts: Timestamp) -> Result<Timestamp, CalendarError> {
        self.scan(ts, |periods| match periods.span() {
            Some((_, closes)) if closes > ts => ControlFlow::Break(closes),
            _ => ControlFlow::Continue(()),
        })
    }

    /// `start` plus `duration` of plain elapsed time, for deadlines counted
    /// in calendar hours ("within 72 hours"); here so that callers can treat
    /// both kinds of clocks alike.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OutOfRange`] past the end of time.
    pub fn add_calendar(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        start
            .checked_add(duration)
            .map_err(CalendarError::OutOfRange)
    }

    /// Plain elapsed time from `a` to `b` (negative when `b` is before `a`),
    /// the calendar counterpart of [`SiteCalendar::working_between`].
    pub fn calendar_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        a.duration_until(b)
    }

    /// Walks the days from the one before `ts`'s local date (a safety margin
    /// for zones whose clocks turn back across midnight), handing each day's
    /// periods to `step` until it breaks. Gives up after
    /// [`MAX_CLOSED_DAYS`] consecutive days without working time.
    fn scan<T>(
        &self,
        ts: Timestamp,
        mut step: impl FnMut(Periods) -> ControlFlow<T>,
    ) -> Result<T, CalendarError> {
        let local = self.local_date(ts);
        let mut date = local.yesterday().unwrap_or(local);
        let mut closed_since = date;
        let mut closed_days = 0u32;
        loop {
            let periods = self.periods(date);
            if periods.is_empty() {
                if closed_days == 0 {
                    closed_since = date;
                }
                closed_days += 1;
                if closed_days > MAX_CLOSED_DAYS {
                    return Err(CalendarError::NoWorkingTime {
                        from: closed_since,
                        days: MAX_CLOSED_DAYS,
                    });
                }
            } else {
                closed_days = 0;
            }
            if let ControlFlow::Break(found) = step(periods) {
                return Ok(found);
            }
            date = date.tomorrow().map_err(CalendarError::OutOfRange)?;
        }
    }

    /// The `n`th working day after `date` (not counting `date`). `n >= 1`.
    fn nth_working_day_after(&self, date: Date, n: u32) -> Result<WorkingDay, CalendarError> {
        let mut counted = 0u32;
        let mut day = date;
        let mut closed_days = 0u32;
        loop {
            day = day.tomorrow().map_err(CalendarError::OutOfRange)?;
            let periods = self.periods(day);
            let Some((opens, closes)) = periods.span() else {
                closed_days += 1;
                if closed_days > MAX_CLOSED_DAYS {
                    return Err(CalendarError::NoWorkingTime {
                        from: date,
                        days: MAX_CLOSED_DAYS,
                    });
                }
                continue;
            };
            closed_days = 0;
            counted += 1;
            if counted >= n {
                return Ok(WorkingDay {
                    date: day,
                    periods,
                    opens,
                    closes,
                });
            }
        }
    }

    /// The periods of the days around `ts` (its local date and one on each
    /// side), enough to contain any period that contains `ts`.
    fn periods_around(&self, ts: Timestamp) -> impl Iterator<Item = (Timestamp, Timestamp)> {
        let date = self.local_date(ts);
        [date.yesterday().ok(), Some(date), date.tomorrow().ok()]
            .into_iter()
            .flatten()
            .flat_map(|d| self.periods(d))
    }
}

/// How much of `periods` lies within `[a, b)`.
fn overlap(periods: &Periods, a: Timestamp, b: Timestamp) -> SignedDuration {
    periods
        .iter()
        .map(|(start, end)| {
            let (from, to) = (start.max(a), end.min(b));
            if from < to {
                from.duration_until(to)
            } else {
                SignedDuration::ZERO
            }
        })
        .sum()
}

/// A day with working time: its periods and their span.
struct WorkingDay {
    date: Date,
    periods: Periods,
    opens: Timestamp,
    closes: Timestamp,
}

impl WorkingDay {
    /// `candidate` moved into the day's working time: before opening → the
    /// opening; after closing → the closing; in a break → the start of the
    /// break (the end of the period before it). An instant that could not
    /// be computed (the end of time) → the closing.
    fn clamp(&self, candidate: Option<Timestamp>) -> Timestamp {
        let Some(at) = candidate else {
            return self.closes;
        };
        if at <= self.opens {
            return self.opens;
        }
        self.periods
            .iter()
            .filter(|(start, _)| *start <= at)
            .last()
            .map_or(self.opens, |(_, end)| at.min(end))
    }
}
