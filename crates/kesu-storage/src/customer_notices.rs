//! Customer messages (R-NT-1): the events a customer hears of, read after a
//! cursor, and the decisions about them written once.
//!
//! The web layer's worker reads [`Db::customer_notice_events`] after the
//! cursor kept in settings ([`CURSOR_KEY`]), decides per event what to say
//! and by which channel, and hands its decisions to
//! [`Db::queue_customer_messages`], which writes in one transaction: each
//! decision as a `customer_messages` row under its unique key (`ON CONFLICT
//! DO NOTHING`: a decision already made — by this node in an earlier pass,
//! or by another node at the same moment — is skipped with everything that
//! belongs to it), the tracking code a staff-registered complaint gets with
//! its receipt, the outbox message, and the cursor (never moved backwards).
//!
//! The cursor stops before events younger than the settle time the caller
//! gives, so an event whose transaction commits a little after a younger
//! one's is still read: the events of the last minutes are read on every
//! pass, and the keys make that harmless.

use jiff::Timestamp;
use kesu_domain::ComplaintId;
use kesu_domain::input::ComplaintNumber;
use serde::{Deserialize, Serialize};

use crate::portal::insert_tracking_code;
use crate::{Db, Result, StorageError, Tx, ms, on_db, on_tx};

/// The settings key of the last event id the worker is done with.
pub const CURSOR_KEY: &str = "customer_notices_cursor";

/// The event kinds a customer may hear of; every other kind (notes, tasks,
/// approvals, classification …) is internal.
pub const CUSTOMER_EVENT_KINDS: &[&str] = &[
    "received",
    "registered",
    "dispatched",
    "handling_started",
    "proposed",
    "fed_back",
    "closed",
];

/// One event the customer may hear of, with what a message about it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeEvent {
    pub event_id: i64,
    pub complaint_id: i64,
    pub kind: String,
    pub at: i64,
    /// The event's JSON.
    pub payload: String,
    pub number: String,
    /// The channel the complaint came by.
    pub channel: String,
    pub received_at: i64,
    pub customer_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The customer's WeChat openid, when they came by the official account.
    pub wechat_openid: Option<String>,
    /// Whether the complaint has a portal tracking code.
    pub has_code: bool,
    /// How often the complaint was reopened before this event: a handling
    /// round after a reopening tells the customer of its progress again.
    pub round: i64,
}

/// An SMS's vendor template and its parameters, in the order the admin
/// mapped them (Alibaba takes them by name, Tencent by position).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsPayload {
    pub template: String,
    pub params: Vec<(String, String)>,
}

/// The message of a decision.
#[derive(Debug, Clone)]
pub struct PlannedOutbox {
    /// `sms`, `email` (later `wechat`).
    pub channel: String,
    /// The phone number, the address (or the WeChat openid).
    pub recipient: String,
    pub subject: String,
    /// The text as the customer reads it.
    pub body: String,
    /// JSON the adapter needs besides the text ([`SmsPayload`] for SMS).
    pub payload: Option<String>,
    /// E-mail: the Message-ID chosen for it.
    pub message_id: Option<String>,
    /// Not before this (the end of quiet hours for an SMS).
    pub not_before: Timestamp,
}

/// One decision about one event.
#[derive(Debug, Clone)]
pub struct PlannedMessage {
    /// Unique: one decision per key, ever.
    pub key: String,
    pub complaint_id: i64,
    pub event_id: i64,
    pub occasion: String,
    /// `sms`, `email`, `wechat` or `none` (no way to reach the customer).
    pub channel: String,
    /// The tracking code issued with this message (the complaint had none);
    /// stored as its hash in the same transaction.
    pub new_code: Option<(String, String)>,
    pub outbox: Option<PlannedOutbox>,
}

/// A customer message as the complaint page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerMessageRow {
    pub id: i64,
    pub occasion: String,
    pub channel: String,
    pub created_at: i64,
    pub recipient: Option<String>,
    pub sent_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
}

async fn insert_outbox(
    tx: &mut Tx,
    key: &str,
    o: &PlannedOutbox,
    now: Timestamp,
) -> Result<Option<i64>> {
    let sql = "INSERT INTO outbox (key, channel, recipient, subject, body, created_at, next_attempt_at, message_id, payload) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(key)
        .bind(&o.channel)
        .bind(&o.recipient)
        .bind(&o.subject)
        .bind(&o.body)
        .bind(ms(now))
        .bind(ms(o.not_before.max(now)))
        .bind(&o.message_id)
        .bind(&o.payload)
        .fetch_optional(c)
        .await)?)
}

impl Db {
    /// The cursor, if the feature was ever switched on.
    ///
    /// # Errors
    /// The driver's error; [`StorageError::Corrupt`] for a cursor that is
    /// not a number.
    pub async fn customer_notice_cursor(&self) -> Result<Option<i64>> {
        match self.setting(CURSOR_KEY).await? {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| StorageError::Corrupt(format!("{CURSOR_KEY} is {v:?}"))),
        }
    }

    /// Starts the cursor at the newest event unless it runs already, so
    /// switching the messages on does not write to every earlier customer.
    /// Returns the cursor.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn start_customer_notice_cursor(&self) -> Result<i64> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO settings (key, value) \
                   SELECT $1, CAST(COALESCE(MAX(id), 0) AS TEXT) FROM complaint_events WHERE 1 = 1 \
                   ON CONFLICT (key) DO NOTHING";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(CURSOR_KEY).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(self.customer_notice_cursor().await?.unwrap_or(0))
    }

    /// Forgets the cursor (every occasion switched off): switching on again
    /// starts at the newest event then.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn stop_customer_notice_cursor(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, c => sqlx::query("DELETE FROM settings WHERE key = $1").bind(CURSOR_KEY).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` events a customer may hear of after `cursor`, oldest
    /// first, and where the cursor may move when they are done: past every
    /// event read (or every event, when fewer than `limit` were found), but
    /// never past an event recorded after `settled` (it is read again next
    /// time).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn customer_notice_events(
        &self,
        cursor: i64,
        settled: Timestamp,
        limit: u32,
    ) -> Result<(Vec<NoticeEvent>, i64)> {
        let kinds = CUSTOMER_EVENT_KINDS
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let limit = limit.clamp(1, 1000);
        let newest: Option<i64> = on_db!(self, p => sqlx::query_scalar("SELECT MAX(id) FROM complaint_events").fetch_one(p).await)?;
        let sql = format!(
            "SELECT e.id AS event_id, e.complaint_id, e.kind, e.at, e.payload, c.number, c.channel, c.received_at, \
             cu.name AS customer_name, cu.phone, cu.email, cu.wechat_openid, \
             EXISTS (SELECT 1 FROM tracking_codes t WHERE t.complaint_id = e.complaint_id) AS has_code, \
             (SELECT COUNT(*) FROM complaint_events r WHERE r.complaint_id = e.complaint_id AND r.kind = 'reopened' AND r.id < e.id) AS round \
             FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id JOIN customers cu ON cu.id = c.customer_id \
             WHERE e.id > $1 AND e.kind IN ({kinds}) ORDER BY e.id LIMIT {limit}"
        );
        let events: Vec<NoticeEvent> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(cursor).fetch_all(p).await)?;
        let mut to = if events.len() >= limit as usize {
            events.last().map_or(cursor, |e| e.event_id)
        } else {
            newest.unwrap_or(cursor)
        };
        let first_unsettled: Option<i64> = on_db!(self, p => sqlx::query_scalar(
            "SELECT MIN(id) FROM complaint_events WHERE id > $1 AND at > $2")
            .bind(cursor).bind(ms(settled)).fetch_one(p).await)?;
        if let Some(first) = first_unsettled {
            to = to.min(first - 1);
        }
        Ok((events, to.max(cursor)))
    }

    /// Writes the decisions, their tracking codes and messages, and moves
    /// the cursor to `cursor` (never backwards), in one transaction.
    /// Returns how many decisions were new.
    ///
    /// # Errors
    /// The driver's error; [`StorageError::Duplicate`] when a tracking code
    /// was meant for a complaint that got one meanwhile (nothing is written;
    /// the next pass decides again).
    pub async fn queue_customer_messages(
        &self,
        planned: &[PlannedMessage],
        cursor: i64,
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.begin().await?;
        let mut new = 0;
        for m in planned {
            let sql = "INSERT INTO customer_messages (key, complaint_id, event_id, occasion, channel, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING id";
            let id: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
                .bind(&m.key)
                .bind(m.complaint_id)
                .bind(m.event_id)
                .bind(&m.occasion)
                .bind(&m.channel)
                .bind(ms(now))
                .fetch_optional(c)
                .await)?;
            let Some(id) = id else { continue };
            new += 1;
            if let Some((number, code)) = &m.new_code {
                let number = ComplaintNumber::parse(number)
                    .map_err(|_| StorageError::Corrupt(format!("complaint number {number:?}")))?;
                insert_tracking_code(&mut tx, ComplaintId(m.complaint_id), &number, code, now)
                    .await?;
            }
            if let Some(o) = &m.outbox {
                let key = format!("customer:{}", m.key);
                if let Some(outbox_id) = insert_outbox(&mut tx, &key, o, now).await? {
                    on_tx!(&mut tx, c => sqlx::query("UPDATE customer_messages SET outbox_id = $1 WHERE id = $2")
                        .bind(outbox_id).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
                }
            }
        }
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = \
                   CASE WHEN CAST(settings.value AS BIGINT) < CAST(excluded.value AS BIGINT) THEN excluded.value ELSE settings.value END";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(CURSOR_KEY).bind(cursor.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(new)
    }

    /// The customer messages of a complaint, oldest first, with how their
    /// delivery went.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn customer_messages_of(&self, id: ComplaintId) -> Result<Vec<CustomerMessageRow>> {
        let sql = "SELECT m.id, m.occasion, m.channel, m.created_at, o.recipient, o.sent_at, o.gave_up_at, o.next_attempt_at, o.last_error \
                   FROM customer_messages m LEFT JOIN outbox o ON o.id = m.outbox_id \
                   WHERE m.complaint_id = $1 ORDER BY m.id";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_all(p).await)?)
    }
}
