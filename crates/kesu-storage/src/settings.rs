//! What an admin sets for deadlines and notifications, besides the policy:
//! a site's working calendar, the holiday years uploaded beyond the shipped
//! ones, and the duty roster (R-OR-3: who is the on-duty leader when).
//!
//! The calendar is stored as the checked settings of a
//! [`SiteCalendar`] (so nothing unchecked reaches `sites.calendar`), an
//! uploaded year as the holiday-cn text it came as (read again by
//! [`crate::deadlines`] with the same parser), a roster entry as a half-open
//! span of Unix milliseconds for one site or, with no site, for every site.

use jiff::Timestamp;
use kesu_calendar::{HolidayTable, SiteCalendar, YearSchedule};
use kesu_domain::{SiteId, UserId};
use serde::Serialize;

use crate::{Db, Result, StorageError, Tx, ms, on_db, on_tx};

/// The settings key of notification channels the admin switched off: kept
/// (with their secrets) so switching one on again needs no retyping, but
/// never read by the sender.
pub const CHANNELS_OFF_KEY: &str = "notify_channels_off";

/// A holiday year an admin uploaded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HolidayYear {
    pub year: i64,
    /// The holiday-cn JSON as uploaded.
    pub source: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: i64,
}

/// One entry of the duty roster: `user_id` is the on-duty leader from
/// `starts_at` (inclusive) to `ends_at` (exclusive) for `site_id`, or for
/// every site when it is `None`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DutyEntry {
    pub id: i64,
    pub site_id: Option<i64>,
    pub user_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_at: i64,
}

const DUTY_FIELDS: &str = "id, site_id, user_id, starts_at, ends_at, created_at";

impl Db {
    /// A site's stored calendar settings (JSON), `None` when never saved
    /// (the deadlines then use the defaults) or for an unknown site.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn site_calendar_json(&self, site: SiteId) -> Result<Option<String>> {
        let raw: Option<Option<String>> = on_db!(self, p => sqlx::query_scalar("SELECT calendar FROM sites WHERE id = $1")
            .bind(site.0)
            .fetch_optional(p)
            .await)?;
        Ok(raw.flatten())
    }

    /// Saves a site's working calendar (its checked settings) and keeps the
    /// site's `time_zone` column in step with it. Returns whether the site
    /// exists.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_site_calendar(&self, site: SiteId, calendar: &SiteCalendar) -> Result<bool> {
        let json = serde_json::to_string(calendar.settings())
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let sql = "UPDATE sites SET calendar = $1, time_zone = $2 WHERE id = $3";
        let n = on_tx!(&mut tx, c => sqlx::query(sql)
            .bind(&json)
            .bind(&calendar.settings().time_zone)
            .bind(site.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Saves several raw settings at once: all or none.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_settings(&self, pairs: &[(&str, &str)]) -> Result<()> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        for (key, value) in pairs {
            on_tx!(&mut tx, c => sqlx::query(sql).bind(*key).bind(*value).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The uploaded holiday years, ascending.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn holiday_years(&self) -> Result<Vec<HolidayYear>> {
        let sql = "SELECT year, source, uploaded_by, uploaded_at FROM holiday_years ORDER BY year";
        Ok(on_db!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// The holiday table the deadlines use: the shipped years with the
    /// uploaded ones in their place. An upload that no longer parses is
    /// left out (its year then shows as not covered).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn holiday_table(&self) -> Result<HolidayTable> {
        let rows = self.holiday_years().await?;
        Ok(holidays_with(
            rows.iter().map(|r| (r.year, r.source.as_str())),
        ))
    }

    /// Stores an uploaded year, replacing an earlier upload of that year.
    /// `schedule` is `source` parsed, so only a readable file is stored.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn save_holiday_year(
        &self,
        schedule: &YearSchedule,
        source: &str,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO holiday_years (year, source, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (year) DO UPDATE SET source = excluded.source, uploaded_by = excluded.uploaded_by, \
                   uploaded_at = excluded.uploaded_at";
        on_tx!(&mut tx, c => sqlx::query(sql)
            .bind(i64::from(schedule.year()))
            .bind(source)
            .bind(by.map(|u| u.0))
            .bind(ms(now))
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an uploaded year (a shipped year of that number applies
    /// again). Returns whether there was one.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn delete_holiday_year(&self, year: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM holiday_years WHERE year = $1")
            .bind(year)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Adds a roster entry; `site` `None` means every site. The caller
    /// checks that `starts_at < ends_at` and that the user is a leader.
    ///
    /// # Errors
    /// The driver's error (an unknown site or user violates a foreign key).
    pub async fn add_duty(
        &self,
        site: Option<SiteId>,
        user: UserId,
        starts_at: Timestamp,
        ends_at: Timestamp,
        now: Timestamp,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO duty_roster (site_id, user_id, starts_at, ends_at, created_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
            .bind(site.map(|s| s.0))
            .bind(user.0)
            .bind(ms(starts_at))
            .bind(ms(ends_at))
            .bind(ms(now))
            .fetch_one(c)
            .await)?;
        tx.commit().await?;
        Ok(id)
    }

    /// One roster entry.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn duty_entry(&self, id: i64) -> Result<Option<DutyEntry>> {
        let sql = format!("SELECT {DUTY_FIELDS} FROM duty_roster WHERE id = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await)?,
        )
    }

    /// Removes a roster entry. Returns whether it existed.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn delete_duty(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM duty_roster WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Roster entries that end after `after` (current and coming ones),
    /// soonest first, at most `limit`.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn duty_entries(&self, after: Timestamp, limit: u32) -> Result<Vec<DutyEntry>> {
        let sql = format!(
            "SELECT {DUTY_FIELDS} FROM duty_roster WHERE ends_at > $1 ORDER BY starts_at, id LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(ms(after)).fetch_all(p).await)?,
        )
    }

    /// Who is on duty at `at` for `site` (R-OR-3): the active users of the
    /// entries covering `at` for that site, then those for every site, each
    /// once. With no site, only the entries for every site count.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn on_duty(&self, site: Option<SiteId>, at: Timestamp) -> Result<Vec<UserId>> {
        let rows: Vec<i64> = on_db!(self, p => sqlx::query_scalar(ON_DUTY)
            .bind(ms(at))
            .bind(site.map(|s| s.0))
            .fetch_all(p)
            .await)?;
        Ok(distinct(rows).into_iter().map(UserId).collect())
    }
}

/// The shipped holiday years with uploaded ones (year, holiday-cn JSON) in
/// their place; an upload that no longer parses is left out.
pub(crate) fn holidays_with<'a>(uploads: impl IntoIterator<Item = (i64, &'a str)>) -> HolidayTable {
    HolidayTable::shipped_with(uploads.into_iter().filter_map(|(year, source)| {
        YearSchedule::from_holiday_cn_json_for(i16::try_from(year).ok()?, source).ok()
    }))
}

/// [`Db::on_duty`] inside a transaction (for work that notifies the on-duty
/// leader in the transaction of its cause).
///
/// # Errors
/// The driver's error.
pub async fn on_duty_in(tx: &mut Tx, site: Option<i64>, at: Timestamp) -> Result<Vec<i64>> {
    let rows: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar(ON_DUTY)
        .bind(ms(at))
        .bind(site)
        .fetch_all(c)
        .await)?;
    Ok(distinct(rows))
}

/// The site's own entries first, then those for every site.
const ON_DUTY: &str = "SELECT r.user_id FROM duty_roster r JOIN users u ON u.id = r.user_id \
    WHERE u.active = TRUE AND r.starts_at <= $1 AND r.ends_at > $1 AND (r.site_id IS NULL OR r.site_id = $2) \
    ORDER BY CASE WHEN r.site_id IS NULL THEN 1 ELSE 0 END, r.starts_at, r.id";

fn distinct(ids: Vec<i64>) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}
