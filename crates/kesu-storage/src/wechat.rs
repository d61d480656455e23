//! The WeChat Official Account (公众号): the messages WeChat delivered to
//! `POST /wechat`, keyed by their MsgId, with what each became and the
//! answer given, and the follower's open complaint.
//!
//! Filing one message is one transaction that the caller (kesu-web's
//! `wechat` module) composes: [`claim_message`] first (a retry of the same
//! message finds the row and stops there; on PostgreSQL a concurrent retry
//! waits on the unique index and then finds it), then the complaint — with
//! its portal tracking code, [`create_complaint_with_code`] — or the added
//! message, then [`finish_message`] with the answer, then commit. The
//! follower is a customer row found by `wechat_openid`
//! (`complaints::CustomerInput::wechat_openid`); [`lock_follower`] finds or
//! creates it and locks it, so two messages of one follower never both open
//! a complaint.

use jiff::Timestamp;
use kesu_domain::ComplaintId;
use kesu_domain::input::ComplaintNumber;
use serde::Serialize;

use crate::complaints::{CustomerInput, NewComplaint, create_complaint_in};
use crate::{Db, Result, Tx, ms, on_db, on_tx};

/// The settings key of the account (JSON, read and written by the web layer;
/// the App ID and AppSecret in it are what template messages are sent with).
pub const WECHAT_KEY: &str = "wechat";

/// One message WeChat delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WeChatMessageRow {
    /// The MsgId, or `event:<Event>:<openid>:<CreateTime>` for an event.
    pub msg_key: String,
    pub openid: String,
    /// WeChat's `MsgType` (`text`, `image`, `event`, …).
    pub msg_type: String,
    /// What it became (see the migration `0011_wechat.sql`).
    pub outcome: String,
    pub complaint_id: Option<i64>,
    /// The text answered to the follower; a new complaint's tracking code
    /// is `%{code}` in it.
    pub reply: String,
    /// The tracking code while WeChat may still retry (then `None`).
    pub pending_code: Option<String>,
    pub at: i64,
}

const FIELDS: &str = "msg_key, openid, msg_type, outcome, complaint_id, reply, pending_code, at";

/// Claims a delivered message: `true` when it is new (the row now exists
/// with the outcome `receiving`, to be finished before the commit), `false`
/// when it was received before (nothing written).
///
/// # Errors
/// The driver's error.
pub async fn claim_message(
    tx: &mut Tx,
    msg_key: &str,
    openid: &str,
    msg_type: &str,
    now: Timestamp,
) -> Result<bool> {
    let sql = "INSERT INTO wechat_messages (msg_key, openid, msg_type, outcome, reply, at) \
               VALUES ($1, $2, $3, 'receiving', '', $4) ON CONFLICT (msg_key) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(msg_key)
        .bind(openid)
        .bind(msg_type)
        .bind(ms(now))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Says what a claimed message became and what was answered.
///
/// # Errors
/// The driver's error.
pub async fn finish_message(
    tx: &mut Tx,
    msg_key: &str,
    outcome: &str,
    complaint: Option<ComplaintId>,
    reply: &str,
    pending_code: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE wechat_messages SET outcome = $1, complaint_id = $2, reply = $3, pending_code = $4 WHERE msg_key = $5";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(outcome)
        .bind(complaint.map(|c| c.0))
        .bind(reply)
        .bind(pending_code)
        .bind(msg_key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets the tracking codes of messages received before `before` (WeChat
/// no longer retries them).
///
/// # Errors
/// The driver's error.
pub async fn forget_pending_codes(tx: &mut Tx, before: Timestamp) -> Result<u64> {
    let sql =
        "UPDATE wechat_messages SET pending_code = NULL WHERE pending_code IS NOT NULL AND at < $1";
    Ok(
        on_tx!(tx, c => sqlx::query(sql).bind(ms(before)).execute(c).await.map(|r| r.rows_affected()))?,
    )
}

/// Finds or creates the follower's customer row (named `name` when new;
/// a name staff corrected is kept) and locks it for the transaction.
///
/// # Errors
/// The driver's error.
pub async fn lock_follower(tx: &mut Tx, openid: &str, name: &str, now: Timestamp) -> Result<i64> {
    let input = CustomerInput {
        name: name.to_owned(),
        wechat_openid: Some(openid.to_owned()),
        ..CustomerInput::default()
    };
    crate::complaints::find_or_create_customer(tx, &input, now).await
}

/// The follower's open complaint (not closed, withdrawn, rejected): the
/// newest; a merged one stands for the complaint it was merged into, when
/// that is open.
///
/// # Errors
/// The driver's error.
pub async fn open_complaint(tx: &mut Tx, customer_id: i64) -> Result<Option<String>> {
    let sql = "SELECT c.number, c.state, c.merged_into_id FROM complaints c WHERE c.customer_id = $1 \
               AND c.state NOT IN ('closed','withdrawn','rejected') \
               ORDER BY CASE WHEN c.state = 'merged' THEN 1 ELSE 0 END, c.received_at DESC, c.id DESC LIMIT 1";
    let mut found: Option<(String, String, Option<i64>)> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(customer_id)
        .fetch_optional(c)
        .await)?;
    // A chain of merges is short; the bound guards against a cycle.
    for _ in 0..5 {
        match found {
            Some((number, state, _)) if state != "merged" => return Ok(Some(number)),
            Some((_, _, Some(target))) => {
                let sql = "SELECT number, state, merged_into_id FROM complaints WHERE id = $1 \
                           AND state NOT IN ('closed','withdrawn','rejected')";
                found = on_tx!(tx, c => sqlx::query_as(sql).bind(target).fetch_optional(c).await)?;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Registers a complaint with its portal tracking code (only the code's
/// hash is stored), as the portal does, inside the caller's transaction.
///
/// # Errors
/// The driver's error; the caller rolls back.
pub async fn create_complaint_with_code(
    tx: &mut Tx,
    new: &NewComplaint,
    code: &str,
    now: Timestamp,
) -> Result<(ComplaintId, ComplaintNumber)> {
    let (id, number) = create_complaint_in(tx, new, None, now).await?;
    crate::portal::insert_tracking_code(tx, id, &number, code, now).await?;
    Ok((id, number))
}

/// The due times of a complaint's clocks as written in this transaction
/// (`(kind, due_at)`, oldest clock first), for the promise in the answer.
///
/// # Errors
/// The driver's error.
pub async fn due_times(tx: &mut Tx, id: ComplaintId) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT kind, due_at FROM deadlines WHERE complaint_id = $1 AND kind <> 'duty_alert' ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(id.0).fetch_all(c).await)?)
}

impl Db {
    /// A delivered message by its key.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn wechat_message(&self, msg_key: &str) -> Result<Option<WeChatMessageRow>> {
        let sql = format!("SELECT {FIELDS} FROM wechat_messages WHERE msg_key = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(msg_key).fetch_optional(p).await)?,
        )
    }

    /// How many messages the follower sent since `since` (the flood limit).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn wechat_messages_since(&self, openid: &str, since: Timestamp) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM wechat_messages WHERE openid = $1 AND at > $2";
        Ok(
            on_db!(self, p => sqlx::query_scalar(sql).bind(openid).bind(ms(since)).fetch_one(p).await)?,
        )
    }

    /// The newest message received (for the admin page).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn last_wechat_message(&self) -> Result<Option<WeChatMessageRow>> {
        let sql = format!("SELECT {FIELDS} FROM wechat_messages ORDER BY at DESC, id DESC LIMIT 1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_optional(p).await)?,
        )
    }

    /// The customer id of a follower, if they wrote before.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn wechat_customer(&self, openid: &str) -> Result<Option<i64>> {
        let sql = "SELECT id FROM customers WHERE wechat_openid = $1";
        Ok(on_db!(self, p => sqlx::query_scalar(sql).bind(openid).fetch_optional(p).await)?)
    }
}
