//! Staff notifications beyond the bell (R-NT-2): the channels the admin set
//! up (SMTP, WeCom and DingTalk group robots), the deadline sweep that
//! queues messages for them in its transaction, and the worker that sends
//! the queue with retries — a channel that fails never blocks complaint work.

use jiff::{SignedDuration, Timestamp};
use kesu_notify::{
    DeliveryError, DingTalkConfig, DingTalkRobot, OutgoingMail, RobotMessage, SmtpConfig,
    SmtpMailer, WeComConfig, WeComRobot,
};
use kesu_storage::deadlines::{NoticePayload, Outbound, SweepReport};
use kesu_storage::outbox::{CHANNELS_KEY, MAX_ATTEMPTS, OutboxRow};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::customer_messages::CustomerMessages;
use crate::i18n::{Lang, t};

/// The notification channels as the admin configured them (settings JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wecom: Option<WeComConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dingtalk: Option<DingTalkConfig>,
}

impl Channels {
    /// The saved channels; none when unset or unreadable (logged).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(state: &AppState) -> Result<Channels, kesu_storage::StorageError> {
        let raw = state.db.setting(CHANNELS_KEY).await?;
        Ok(match raw {
            None => Channels::default(),
            Some(r) => serde_json::from_str(&r).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "notification channels unreadable; using none");
                Channels::default()
            }),
        })
    }

    fn robots(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.wecom.is_some() {
            v.push("wecom");
        }
        if self.dingtalk.is_some() {
            v.push("dingtalk");
        }
        v
    }
}

/// A notice in words: the bell's list and the messages share this.
pub fn notice_sentence(
    lang: Lang,
    kind: &str,
    p: &NoticePayload,
    tz: &jiff::tz::TimeZone,
) -> String {
    let clock = p
        .clock
        .as_deref()
        .map(|c| t(lang, &format!("clock.{c}")))
        .unwrap_or_default();
    let due = p
        .due_at
        .map(|ms| crate::view::short_time(ms, tz))
        .unwrap_or_default();
    let key = match (kind, p.step) {
        ("deadline_warning", _) => "notice.warning",
        ("deadline_breached", Some(0) | None) => "notice.breached",
        ("deadline_breached", Some(_)) => "notice.escalated",
        ("assigned", _) => "notice.assigned",
        ("urgent_after_hours", _) => "notice.urgent_after_hours",
        ("mail_bounced", _) => "notice.mail_bounced",
        _ => "notice.other",
    };
    t(lang, key)
        .replace("%{number}", &p.number)
        .replace("%{clock}", &clock)
        .replace("%{due}", &due)
}

/// A notice as (subject, body) for e-mail and robots, in the desk's
/// language (zh-CN) and time zone.
pub fn render_notice(kind: &str, p: &NoticePayload, tz: &jiff::tz::TimeZone) -> (String, String) {
    let text = notice_sentence(Lang::Zh, kind, p, tz);
    (format!("【{}】{text}", t(Lang::Zh, "app.name")), text)
}

/// One pass of the deadline sweep, queueing e-mail and robot messages for
/// the channels that are set up.
///
/// # Errors
/// The driver's error.
pub async fn sweep(
    state: &AppState,
    now: Timestamp,
) -> Result<SweepReport, kesu_storage::StorageError> {
    let channels = Channels::load(state).await?;
    let tz = state.config.time_zone.clone();
    let render = move |kind: &str, p: &NoticePayload| render_notice(kind, p, &tz);
    let outbound = Outbound {
        render: &render,
        email: channels.smtp.is_some(),
        robots: channels.robots(),
    };
    let mut total = SweepReport::default();
    loop {
        let r = state.db.sweep_deadlines(now, 500, &outbound).await?;
        total.clocks += r.clocks;
        total.warnings += r.warnings;
        total.breaches += r.breaches;
        total.notices += r.notices;
        if r.clocks < 500 {
            return Ok(total);
        }
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub gave_up: usize,
    /// SMS put back until the quiet hours end.
    pub waiting: usize,
}

/// The wait before attempt `n + 1`: 30 s, 1 min, 2 min … at most an hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let secs = 30_i64.saturating_mul(1_i64 << attempts.clamp(0, 7).saturating_sub(1));
    SignedDuration::from_secs(secs.min(3600))
}

async fn send_one(
    channels: &Channels,
    customer: &CustomerMessages,
    wechat: Option<&kesu_notify::WeChatMpConfig>,
    row: &OutboxRow,
    now: Timestamp,
) -> Result<(), DeliveryError> {
    let not_set_up =
        || DeliveryError::permanent(format!("the {} channel is not set up", row.channel));
    match row.channel.as_str() {
        "email" => {
            let config = channels.smtp.as_ref().ok_or_else(not_set_up)?;
            let mailer =
                SmtpMailer::new(config).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            let mail = OutgoingMail {
                to: row.recipient.clone(),
                subject: row.subject.clone(),
                text: row.body.clone(),
                html: None,
                // Chosen when queued (customer mail, recorded for threading),
                // else made from the row: every attempt carries the same.
                message_id: Some(
                    row.message_id
                        .clone()
                        .unwrap_or_else(|| mailer.message_id(&format!("kesu-outbox-{}", row.id))),
                ),
                in_reply_to: row.in_reply_to.clone(),
                references: row.refs.split_whitespace().map(str::to_owned).collect(),
                auto_submitted: row.auto_submitted,
            };
            mailer.send(&mail).await.map(|_| ())
        }
        "wecom" => {
            let config = channels.wecom.as_ref().ok_or_else(not_set_up)?;
            let robot =
                WeComRobot::new(config).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            robot
                .send(&RobotMessage::text(row.body.clone()))
                .await
                .map(|_| ())
        }
        "dingtalk" => {
            let config = channels.dingtalk.as_ref().ok_or_else(not_set_up)?;
            let robot =
                DingTalkRobot::new(config).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            robot
                .send(&RobotMessage::text(row.body.clone()), now)
                .await
                .map(|_| ())
        }
        "sms" => crate::customer_messages::sms::send(&customer.sms, row, now).await,
        "wechat" => crate::customer_messages::send_wechat(wechat, row).await,
        _ => Err(not_set_up()),
    }
}

/// Sends what is due in the outbox: each message once it succeeds, a
/// failing one again later with backoff, and after [`MAX_ATTEMPTS`] or a
/// permanent refusal not again (the admin sees it under Settings).
///
/// # Errors
/// The driver's error (a failed send is not an error here).
pub async fn deliver(
    state: &AppState,
    now: Timestamp,
) -> Result<DeliveryReport, kesu_storage::StorageError> {
    let channels = Channels::load(state).await?;
    let customer = CustomerMessages::load(state).await?.unwrap_or_default();
    let wechat = crate::wechat::settings::WeChatSettings::load(state)
        .await?
        .filter(|w| w.enabled)
        .map(|w| w.account);
    let mut report = DeliveryReport::default();
    let rows = state
        .db
        .claim_outbox(now, SignedDuration::from_mins(2), 20)
        .await?;
    for row in &rows {
        // No SMS at night: one due (or retried) in quiet hours waits.
        if row.channel == "sms" {
            let at = customer.sms_not_before(now, &state.config.time_zone);
            if at > now {
                state.db.outbox_postpone(row.id, at).await?;
                report.waiting += 1;
                continue;
            }
        }
        match send_one(&channels, &customer, wechat.as_ref(), row, now).await {
            Ok(()) => {
                state.db.outbox_sent(row.id, now).await?;
                report.sent += 1;
            }
            Err(e) => {
                let again = e.is_retryable() && row.attempts < MAX_ATTEMPTS;
                let retry_at = again.then(|| now.checked_add(backoff(row.attempts)).unwrap_or(now));
                tracing::warn!(
                    outbox.id = row.id,
                    outbox.channel = %row.channel,
                    outbox.recipient = %crate::view::mask(&row.recipient),
                    attempts = row.attempts,
                    retry = again,
                    error = %e,
                    "notification not sent"
                );
                state
                    .db
                    .outbox_failed(row.id, now, &e.to_string(), retry_at)
                    .await?;
                if again {
                    report.retrying += 1;
                } else {
                    report.gave_up += 1;
                }
            }
        }
    }
    Ok(report)
}
