//! What a delivered message becomes, and the answer.
//!
//! - A text message: the follower's open complaint (not closed, withdrawn,
//!   rejected; a merged one stands for the complaint it was merged into)
//!   gets a `customer_wrote` event, as a customer's mail does; without one
//!   the text becomes a new complaint through [`actions::intake`] (channel
//!   `wechat`, state `received`, the engine's proposal) with a portal
//!   tracking code, and the answer gives the number, the code and the
//!   promised times (R-IN-4).
//! - `subscribe`: a welcome that says how to complain. Other events: no
//!   answer.
//! - Images, voice, video, locations, links: a polite answer that only text
//!   is taken here; nothing is filed.
//! - More than [`HOURLY_LIMIT`] messages of one follower in an hour: a polite
//!   refusal; nothing is filed.
//!
//! Every message is claimed by its key in the transaction that files it and
//! its answer stored with it, so WeChat's retries (up to three, also at the
//! same moment) file once and get the same answer again.

use jiff::{SignedDuration, Timestamp};
use kesu_domain::input::ComplaintNumber;
use kesu_domain::{Acting, Channel, Command, ComplaintId};
use kesu_storage::complaints;
use kesu_storage::wechat as stored;

use super::message::Inbound;
use super::settings::WeChatSettings;
use crate::AppState;
use crate::actions::{self, CustomerIn, NewComplaintIn};
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::portal::code::TrackingCode;

/// How many messages one follower may send in an hour.
pub const HOURLY_LIMIT: i64 = 20;

/// What a message became (`wechat_messages.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    NewComplaint,
    Added,
    Welcome,
    /// Not text: answered, not filed.
    Unsupported,
    /// Over the hourly limit: answered, not filed.
    Limited,
    /// An event that needs no answer, or an empty text.
    Ignored,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::NewComplaint => "new_complaint",
            Outcome::Added => "added",
            Outcome::Welcome => "welcome",
            Outcome::Unsupported => "unsupported",
            Outcome::Limited => "limited",
            Outcome::Ignored => "ignored",
        }
    }
}

/// The customer's language: answers are Chinese, like the desk's mail.
fn zh(key: &str) -> String {
    t(Lang::Zh, key)
}

fn portal_hint(settings: &WeChatSettings) -> String {
    settings
        .portal_url()
        .map(|u| zh("wechat.reply.portal_at").replace("%{url}", &u))
        .unwrap_or_default()
}

/// Files one message and returns the text to answer (empty: no answer).
///
/// # Errors
/// [`Failure::Internal`] and the driver's errors (nothing written: WeChat
/// retries).
#[tracing::instrument(skip_all, fields(wechat.follower = %msg.follower_tail(), wechat.msg_type = %msg.msg_type))]
pub async fn receive(
    state: &AppState,
    settings: &WeChatSettings,
    msg: &Inbound,
) -> Result<String, Failure> {
    let key = msg.key();
    if let Some(before) = state.db.wechat_message(&key).await? {
        tracing::info!("WeChat message received before; same answer");
        return Ok(answer_text(before));
    }
    let now = state.now();
    if msg.msg_type == "event" {
        return match msg.event.as_deref() {
            Some("subscribe") => {
                answer(
                    state,
                    msg,
                    &key,
                    Outcome::Welcome,
                    &zh("wechat.reply.welcome"),
                )
                .await
            }
            _ => answer(state, msg, &key, Outcome::Ignored, "").await,
        };
    }
    let recent = state
        .db
        .wechat_messages_since(&msg.from, now - SignedDuration::from_hours(1))
        .await?;
    if recent >= HOURLY_LIMIT {
        tracing::info!("WeChat follower over the hourly limit; not filed");
        return answer(
            state,
            msg,
            &key,
            Outcome::Limited,
            &zh("wechat.reply.limited"),
        )
        .await;
    }
    if msg.msg_type != "text" {
        let text = zh("wechat.reply.unsupported").replace("%{portal}", &portal_hint(settings));
        return answer(state, msg, &key, Outcome::Unsupported, &text).await;
    }
    let text = clean_text(msg.content.as_deref().unwrap_or_default());
    if text.is_empty() {
        return answer(
            state,
            msg,
            &key,
            Outcome::Ignored,
            &zh("wechat.reply.empty"),
        )
        .await;
    }
    file_text(state, settings, msg, &key, text, now).await
}

/// Records a message that files nothing, with its answer.
async fn answer(
    state: &AppState,
    msg: &Inbound,
    key: &str,
    outcome: Outcome,
    text: &str,
) -> Result<String, Failure> {
    let mut tx = state.db.begin().await?;
    if !stored::claim_message(&mut tx, key, &msg.from, &msg.msg_type, state.now()).await? {
        drop(tx);
        return answered_before(state, key).await;
    }
    stored::finish_message(&mut tx, key, outcome.as_str(), None, text, None).await?;
    tx.commit().await?;
    tracing::info!(wechat.outcome = outcome.as_str(), "WeChat message answered");
    Ok(text.to_owned())
}

/// How long WeChat may retry a message (three retries, 5 s each, with
/// margin): a new complaint's tracking code is kept for its answer that long.
const RETRY_WINDOW: SignedDuration = SignedDuration::from_mins(2);

/// A stored answer as sent: the tracking code in place while it is kept,
/// else words saying it was sent before.
fn answer_text(row: stored::WeChatMessageRow) -> String {
    let code = row
        .pending_code
        .unwrap_or_else(|| zh("wechat.reply.code_sent_before"));
    row.reply.replace("%{code}", &code)
}

/// The answer stored by the delivery that claimed the message first.
async fn answered_before(state: &AppState, key: &str) -> Result<String, Failure> {
    state
        .db
        .wechat_message(key)
        .await?
        .map(answer_text)
        .ok_or(Failure::Internal(
            "a claimed WeChat message vanished".into(),
        ))
}

/// Text as a complaint field takes it: no control characters but line
/// breaks and tabs, at most the description's length.
fn clean_text(s: &str) -> String {
    let text: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_owned();
    if text.chars().count() > actions::DESCRIPTION_MAX {
        let mut short: String = text.chars().take(actions::DESCRIPTION_MAX - 1).collect();
        short.push('…');
        short
    } else {
        text
    }
}

async fn file_text(
    state: &AppState,
    settings: &WeChatSettings,
    msg: &Inbound,
    key: &str,
    text: String,
    now: Timestamp,
) -> Result<String, Failure> {
    let name = zh("wechat.customer_name").replace("%{tail}", msg.follower_tail());
    // Everything a new complaint needs is prepared before the transaction
    // (the engine reads the text); whether it is new is decided inside it.
    let input = NewComplaintIn {
        channel: Some(Channel::Wechat.as_str().to_owned()),
        customer: CustomerIn {
            name: Some(name.clone()),
            phone: None,
            email: None,
        },
        description: Some(text.clone()),
        wechat_openid: Some(msg.from.clone()),
        ..NewComplaintIn::default()
    };
    let new = actions::intake(state, None, input, Vec::new(), now).await?;
    let code = TrackingCode::generate()?;
    let policy = state.db.policy().await?;
    let mut tx = state.db.begin().await?;
    if !stored::claim_message(&mut tx, key, &msg.from, &msg.msg_type, now).await? {
        drop(tx);
        return answered_before(state, key).await;
    }
    // Locks the follower: a second message of theirs waits here and then
    // finds the complaint this one opens.
    let customer = stored::lock_follower(&mut tx, &msg.from, &name, now).await?;
    stored::forget_pending_codes(&mut tx, now - RETRY_WINDOW).await?;
    let (outcome, id, reply, pending) = match stored::open_complaint(&mut tx, customer).await? {
        Some(number) => {
            let row = complaints::load(&mut tx, &number)
                .await?
                .ok_or(Failure::Internal("an open complaint vanished".into()))?;
            let complaint = row.to_domain()?;
            let command = Command::CustomerWrite {
                channel: Channel::Wechat,
                subject: None,
                text,
            };
            let events = complaint
                .decide(command, Acting::Customer, now, &policy)
                .map_err(Failure::from)?;
            complaints::record(&mut tx, &complaint, &events, None, now).await?;
            let reply = zh("wechat.reply.added").replace("%{number}", &number);
            (Outcome::Added, complaint.id, reply, None)
        }
        None => {
            let (id, number) =
                stored::create_complaint_with_code(&mut tx, &new, code.as_str(), now).await?;
            let reply = new_complaint_reply(state, settings, &mut tx, id, &number, now).await?;
            (Outcome::NewComplaint, id, reply, Some(code.display()))
        }
    };
    let pending = pending.as_deref();
    stored::finish_message(&mut tx, key, outcome.as_str(), Some(id), &reply, pending).await?;
    tx.commit().await?;
    tracing::info!(
        wechat.outcome = outcome.as_str(),
        complaint.id = id.0,
        "WeChat message filed"
    );
    Ok(reply.replace("%{code}", pending.unwrap_or_default()))
}

/// The acknowledgement of a new complaint (R-IN-4): number, tracking code
/// (left as `%{code}`, filled in when sent: the stored answer must not keep
/// it) and the promised times from its own clocks, as the portal shows them.
async fn new_complaint_reply(
    state: &AppState,
    settings: &WeChatSettings,
    tx: &mut kesu_storage::Tx,
    id: ComplaintId,
    number: &ComplaintNumber,
    received_at: Timestamp,
) -> Result<String, Failure> {
    let fixed = crate::portal::expected_handling(received_at);
    let clocks = stored::due_times(tx, id).await?;
    let due = |kind: &str, or: Timestamp| {
        clocks
            .iter()
            .rev()
            .find(|(k, _)| k == kind)
            .map_or(or.as_millisecond(), |(_, at)| *at)
    };
    let tz = &state.config.time_zone;
    let contact_by = crate::view::short_time(due("initial_reply", fixed.contact_by), tz);
    let resolve_by = crate::view::short_time(due("resolve", fixed.resolve_by), tz);
    Ok(zh("wechat.reply.new")
        .replace("%{number}", number.as_str())
        .replace("%{portal}", &portal_hint(settings))
        .replace("%{contact_by}", &contact_by)
        .replace("%{resolve_by}", &resolve_by))
}
