//! Bulk writing of generated complaints (`kesu generate`): the data behind
//! the search and queue benchmarks at a million complaints. Each complaint
//! gets its customer, its row, its registration event and its search row, a
//! batch per transaction; nothing else of the lifecycle is replayed, so this
//! is for benchmark and demonstration desks only, and only for an empty one.

use jiff::Timestamp;
use kesu_domain::complaint::Event;
use kesu_domain::{Channel, Severity, State};

use crate::complaints::CustomerInput;
use crate::{Db, Result, StorageError, ms, on_db, on_tx};

/// One generated complaint, its number and search words decided by the caller.
#[derive(Debug, Clone)]
pub struct GeneratedComplaint {
    pub number: String,
    pub day: u32,
    pub seq: i64,
    pub state: State,
    pub channel: Channel,
    pub received_at: Timestamp,
    pub customer: CustomerInput,
    pub description: String,
    pub subject: Option<String>,
    pub order_ref: Option<String>,
    pub plate: Option<String>,
    pub event_place: Option<String>,
    pub urgent: bool,
    pub category: Option<String>,
    pub severity: Severity,
    pub department_id: Option<i64>,
    pub closed_at: Option<Timestamp>,
    pub satisfaction_score: Option<i64>,
    /// The search words (see `kesu_classify::search::index_document`).
    pub terms: String,
    /// Running clocks: (kind, started_at, due_at, warn_at).
    pub clocks: Vec<(&'static str, Timestamp, Timestamp, Option<Timestamp>)>,
}

impl Db {
    /// How many complaints the database holds.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn complaint_count(&self) -> Result<i64> {
        Ok(
            on_db!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM complaints").fetch_one(p).await)?,
        )
    }

    /// Writes a batch of generated complaints in one transaction and moves
    /// the per-day number counters past them.
    ///
    /// # Errors
    /// The driver's error (a number already taken is a duplicate); nothing
    /// of the batch is written then.
    pub async fn insert_generated(&self, batch: &[GeneratedComplaint]) -> Result<()> {
        let mut tx = self.begin().await?;
        for g in batch {
            let t = ms(g.received_at);
            let customer: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
                "INSERT INTO customers (name, phone, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
                .bind(&g.customer.name)
                .bind(&g.customer.phone)
                .bind(&g.customer.email)
                .bind(t)
                .fetch_one(c)
                .await)?;
            let sql = "INSERT INTO complaints (number, state, channel, received_at, customer_id, description, subject, order_ref, plate, \
                       event_place, urgent, category, severity, department_id, updated_at, closed_at, satisfaction_score, satisfied, site_id, version) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, (SELECT MIN(id) FROM sites), 0) RETURNING id";
            let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
                .bind(&g.number)
                .bind(g.state.as_str())
                .bind(g.channel.as_str())
                .bind(t)
                .bind(customer)
                .bind(&g.description)
                .bind(&g.subject)
                .bind(&g.order_ref)
                .bind(&g.plate)
                .bind(&g.event_place)
                .bind(g.urgent)
                .bind(&g.category)
                .bind(g.severity.as_str())
                .bind(g.department_id)
                .bind(g.closed_at.map(ms).unwrap_or(t))
                .bind(g.closed_at.map(ms))
                .bind(g.satisfaction_score)
                .bind(g.state == State::Closed)
                .fetch_one(c)
                .await)?;
            let event = Event::Registered { channel: g.channel };
            let payload =
                serde_json::to_string(&event).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO complaint_events (complaint_id, seq, kind, from_state, to_state, actor_id, at, payload) VALUES ($1, 1, $2, NULL, 'registered', NULL, $3, $4)")
                .bind(id)
                .bind(event.kind())
                .bind(t)
                .bind(&payload)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
            on_tx!(&mut tx, c => sqlx::query("INSERT INTO complaint_search (complaint_id, terms) VALUES ($1, $2)")
                .bind(id)
                .bind(&g.terms)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
            for (kind, started, due, warn) in &g.clocks {
                let next = warn.filter(|w| w < due).unwrap_or(*due);
                on_tx!(&mut tx, c => sqlx::query(
                    "INSERT INTO deadlines (complaint_id, kind, fast, started_at, due_at, warn_at, next_check_at) VALUES ($1, $2, FALSE, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(*kind)
                    .bind(ms(*started))
                    .bind(ms(*due))
                    .bind(warn.map(ms))
                    .bind(ms(next))
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))?;
            }
        }
        let mut last: std::collections::BTreeMap<u32, i64> = std::collections::BTreeMap::new();
        for g in batch {
            let e = last.entry(g.day).or_insert(0);
            *e = (*e).max(g.seq);
        }
        for (day, seq) in last {
            let sql = "INSERT INTO number_counters (day, last) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE \
                       SET last = CASE WHEN excluded.last > number_counters.last THEN excluded.last ELSE number_counters.last END";
            on_tx!(&mut tx, c => sqlx::query(sql).bind(i64::from(day)).bind(seq).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn analyze(&self) -> Result<()> {
        on_db!(self, p => sqlx::query("ANALYZE").execute(p).await.map(|_| ()))?;
        Ok(())
    }
}
