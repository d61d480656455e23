//! Customer messages (R-NT-1, R-FB-1): the one place that decides what a
//! customer hears about their complaint, whichever path created or changed
//! it (staff registration, portal, e-mail, intake API, WeChat …).
//!
//! Nothing hooks the paths. [`queue_pass`] (run by `kesu serve` beside the
//! deadline sweep) reads `complaint_events` after a cursor, maps the events
//! to occasions ([`occasions_of`]), picks the customer's channel
//! ([`choose_channel`]), renders the admin's texts and hands the decisions
//! to storage, which writes them with their outbox messages, the tracking
//! code of a staff-registered complaint and the cursor in one transaction,
//! each under a unique key: never twice, whichever node runs it. The outbox
//! sends them with the staff messages ([`crate::outbox::deliver`]): SMS
//! through Alibaba Cloud or Tencent Cloud ([`sms`]), e-mail over SMTP.
//!
//! Switched on for the first time, the cursor starts at the newest event,
//! so old customers hear nothing.

pub mod settings;
pub mod sms;
pub mod text;
pub mod view;

use jiff::{SignedDuration, Timestamp};
use kesu_storage::customer_notices::{NoticeEvent, PlannedMessage, PlannedOutbox, SmsPayload};
use serde::Serialize;

use crate::AppState;
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::outbox::Channels;
use crate::portal::code::TrackingCode;
pub use settings::{CustomerMessages, Occasion, OccasionText, SmsProvider};
use text::Values;

/// Events younger than this are read again at the next pass (a transaction
/// that committed late is not skipped); their keys make that harmless.
pub const SETTLE: SignedDuration = SignedDuration::from_mins(2);

/// How a customer can be reached.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    /// The channel the complaint came by.
    pub complaint_channel: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The customer's WeChat openid (`customers.wechat_openid`).
    pub wechat_openid: Option<&'a str>,
}

/// Which channels can carry this occasion's message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ready {
    /// A provider and the occasion's vendor template are set.
    pub sms: bool,
    /// SMTP is set up.
    pub email: bool,
    /// The WeChat official account is on and set up and the occasion has
    /// its template message.
    pub wechat: bool,
}

/// Where one message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    WeChat(String),
    Email(String),
    /// A mobile number, normalised.
    Sms(String),
    /// No way to reach the customer: recorded, shown on the complaint.
    Unreachable,
}

impl Route {
    pub fn channel(&self) -> &'static str {
        match self {
            Route::WeChat(_) => "wechat",
            Route::Email(_) => "email",
            Route::Sms(_) => "sms",
            Route::Unreachable => "none",
        }
    }
}

/// The customer's channel: their own first (a WeChat complaint by WeChat, an
/// e-mailed complaint by e-mail); otherwise SMS to a mobile number when SMS
/// is set up, else e-mail when they gave an address; else nothing.
pub fn choose_channel(reach: &Reach<'_>, ready: Ready) -> Route {
    let email = reach.email.filter(|e| !e.trim().is_empty());
    if reach.complaint_channel == "wechat"
        && ready.wechat
        && let Some(openid) = reach.wechat_openid.filter(|o| !o.is_empty())
    {
        return Route::WeChat(openid.to_owned());
    }
    if reach.complaint_channel == "email"
        && ready.email
        && let Some(e) = email
    {
        return Route::Email(e.to_owned());
    }
    if ready.sms
        && let Some(phone) = reach.phone.and_then(sms::mobile)
    {
        return Route::Sms(phone);
    }
    if ready.email
        && let Some(e) = email
    {
        return Route::Email(e.to_owned());
    }
    Route::Unreachable
}

/// The occasions an event is (with the key that makes each one once):
/// received once per complaint (not for a complaint e-mailed or sent by a
/// WeChat follower: the automatic answer or the official account's reply is
/// its receipt), progress once per
/// handling round, the others once per event. Internal events: none.
pub fn occasions_of(e: &NoticeEvent) -> Vec<(Occasion, String)> {
    let c = e.complaint_id;
    match e.kind.as_str() {
        // The mail filing's automatic answer and the official account's
        // reply already gave these customers their number.
        "received" | "registered" if e.channel == "email" => Vec::new(),
        "received" | "registered" if e.channel == "wechat" && e.wechat_openid.is_some() => {
            Vec::new()
        }
        "received" | "registered" => {
            let o = if e.has_code {
                Occasion::ReceivedOnline
            } else {
                Occasion::Received
            };
            vec![(o, format!("{c}:received"))]
        }
        "dispatched" | "handling_started" => {
            vec![(Occasion::Progress, format!("{c}:progress:{}", e.round))]
        }
        "proposed" => vec![(Occasion::Proposal, format!("{c}:proposal:{}", e.event_id))],
        "fed_back" => vec![
            (Occasion::Result, format!("{c}:result:{}", e.event_id)),
            (Occasion::Survey, format!("{c}:survey:{}", e.event_id)),
        ],
        "closed" => vec![(Occasion::Closed, format!("{c}:closed:{}", e.event_id))],
        _ => Vec::new(),
    }
}

/// The portal's tracking page, or its name when no address is set.
pub fn portal_link(settings: &CustomerMessages) -> String {
    match settings.portal_url.as_deref().filter(|u| !u.is_empty()) {
        Some(base) => format!("{}/portal/track", base.trim_end_matches('/')),
        None => t(Lang::Zh, "cmsg.portal_no_link"),
    }
}

/// The three texts of one message, filled in.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub sms: String,
    /// The vendor's parameters, in the admin's order.
    pub sms_params: Vec<(String, String)>,
}

pub fn render(text: &OccasionText, values: &Values) -> Rendered {
    Rendered {
        subject: text::render(&text.email_subject, values),
        body: text::render(&text.email_body, values),
        sms: text::render(&text.sms_text, values),
        sms_params: text
            .sms_params
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    values.get(p.as_str()).cloned().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The values of the sample complaint the admin page previews with.
pub fn sample_values(settings: &CustomerMessages) -> Values {
    Values::from([
        ("customer", "张先生".to_owned()),
        ("number", "KS-20261123-0001".to_owned()),
        ("code", "ABCD-EFGH".to_owned()),
        ("link", portal_link(settings)),
        ("due", "2026-11-30 18:00".to_owned()),
    ])
}

/// What one pass decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueReport {
    /// Events read.
    pub events: usize,
    /// New decisions written (messages and unreachable customers).
    pub queued: usize,
    /// The cursor was started at the newest event (first switched on).
    pub started: bool,
}

/// A WeChat template message as the outbox keeps it (`payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WeChatPayload {
    pub template_id: String,
    /// Where tapping the message leads (the portal), when it is a web address.
    pub url: Option<String>,
    /// Keyword and value, in the admin's order.
    pub data: Vec<(String, String)>,
}

/// The official account the outbox sends with, kept between passes: its
/// access token is cached inside and WeChat limits how often one may be
/// fetched. A changed configuration gets a new adapter.
static WECHAT: std::sync::Mutex<
    Option<(
        kesu_notify::WeChatMpConfig,
        std::sync::Arc<kesu_notify::WeChatMp>,
    )>,
> = std::sync::Mutex::new(None);

/// Sends one outbox row of channel `wechat`: a template message to the
/// follower (`recipient` is the openid, `payload` a [`WeChatPayload`]).
///
/// # Errors
/// A permanent error when the account is off or the row is unreadable;
/// otherwise the adapter's.
pub async fn send_wechat(
    account: Option<&kesu_notify::WeChatMpConfig>,
    row: &kesu_storage::outbox::OutboxRow,
) -> Result<(), kesu_notify::DeliveryError> {
    use kesu_notify::DeliveryError;
    let account = account
        .ok_or_else(|| DeliveryError::permanent("the WeChat official account is not set up"))?;
    let payload: WeChatPayload = row
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .ok_or_else(|| DeliveryError::permanent("the WeChat message has no template"))?;
    let mp = {
        let mut cached = WECHAT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cached.as_ref() {
            Some((config, mp)) if config == account => mp.clone(),
            _ => {
                let mp = std::sync::Arc::new(
                    kesu_notify::WeChatMp::new(account)
                        .map_err(|e| DeliveryError::permanent(e.to_string()))?,
                );
                *cached = Some((account.clone(), mp.clone()));
                mp
            }
        }
    };
    let data: Vec<(&str, &str)> = payload
        .data
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    mp.send_template(
        &row.recipient,
        &payload.template_id,
        payload.url.as_deref(),
        &data,
    )
    .await
    .map(|_| ())
}

async fn plan(
    state: &AppState,
    settings: &CustomerMessages,
    channels: &Channels,
    wechat_on: bool,
    e: &NoticeEvent,
    now: Timestamp,
) -> Result<Vec<PlannedMessage>, Failure> {
    let mut out = Vec::new();
    let mut promised: Option<Timestamp> = None;
    for (occasion, key) in occasions_of(e) {
        let text = settings.text(occasion);
        if !text.on {
            continue;
        }
        let ready = Ready {
            sms: settings.sms.is_set() && !text.sms_template.trim().is_empty(),
            email: channels.smtp.is_some(),
            wechat: wechat_on && !text.wechat_template.trim().is_empty(),
        };
        let route = choose_channel(
            &Reach {
                complaint_channel: &e.channel,
                phone: e.phone.as_deref(),
                email: e.email.as_deref(),
                wechat_openid: e.wechat_openid.as_deref(),
            },
            ready,
        );
        let new_code = if occasion == Occasion::Received && route != Route::Unreachable {
            Some(TrackingCode::generate()?)
        } else {
            None
        };
        let tz = &state.config.time_zone;
        // The promised time, read once per event (a result and its survey
        // share it).
        let resolve_by = match promised {
            Some(at) => at,
            None => {
                let received_at = Timestamp::from_millisecond(e.received_at).unwrap_or(now);
                let at = crate::portal::expected_for(state, e.complaint_id, received_at)
                    .await?
                    .resolve_by;
                promised = Some(at);
                at
            }
        };
        let values = Values::from([
            ("customer", e.customer_name.clone()),
            ("number", e.number.clone()),
            (
                "code",
                new_code
                    .as_ref()
                    .map(TrackingCode::display)
                    .unwrap_or_default(),
            ),
            ("link", portal_link(settings)),
            (
                "due",
                crate::view::short_time(resolve_by.as_millisecond(), tz),
            ),
        ]);
        let r = render(&text, &values);
        // The survey follows the result after the configured delay.
        let after = if occasion == Occasion::Survey {
            now.checked_add(SignedDuration::from_hours(i64::from(
                settings.survey_delay_hours,
            )))
            .unwrap_or(now)
        } else {
            now
        };
        let outbox = match &route {
            Route::Sms(phone) => Some(PlannedOutbox {
                channel: "sms".to_owned(),
                recipient: phone.clone(),
                subject: t(Lang::Zh, &format!("cmsg.occasion.{}", occasion.as_str())),
                body: r.sms,
                payload: serde_json::to_string(&SmsPayload {
                    template: text.sms_template.trim().to_owned(),
                    params: r.sms_params,
                })
                .ok(),
                message_id: None,
                not_before: settings.sms_not_before(after, tz),
            }),
            Route::Email(address) => Some(PlannedOutbox {
                channel: "email".to_owned(),
                recipient: address.clone(),
                subject: r.subject,
                body: r.body,
                payload: None,
                message_id: None,
                not_before: after,
            }),
            Route::WeChat(openid) => Some(PlannedOutbox {
                channel: "wechat".to_owned(),
                recipient: openid.clone(),
                subject: t(Lang::Zh, &format!("cmsg.occasion.{}", occasion.as_str())),
                body: r.sms.clone(),
                payload: serde_json::to_string(&WeChatPayload {
                    template_id: text.wechat_template.trim().to_owned(),
                    url: values
                        .get("link")
                        .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
                        .cloned(),
                    data: text
                        .wechat_fields
                        .iter()
                        .map(|(k, p)| {
                            (
                                k.clone(),
                                values.get(p.as_str()).cloned().unwrap_or_default(),
                            )
                        })
                        .collect(),
                })
                .ok(),
                message_id: None,
                not_before: after,
            }),
            Route::Unreachable => None,
        };
        if route == Route::Unreachable {
            tracing::info!(
                complaint.number = %e.number,
                occasion = occasion.as_str(),
                "the customer cannot be reached: no channel for them is set up"
            );
        }
        out.push(PlannedMessage {
            key,
            complaint_id: e.complaint_id,
            event_id: e.event_id,
            occasion: occasion.as_str().to_owned(),
            channel: route.channel().to_owned(),
            new_code: new_code.map(|c| (e.number.clone(), c.as_str().to_owned())),
            outbox,
        });
    }
    Ok(out)
}

/// One pass: the events since the cursor become customer messages in the
/// outbox. Does nothing while every occasion is off or nothing was saved.
///
/// # Errors
/// The driver's error.
pub async fn queue_pass(state: &AppState, now: Timestamp) -> Result<QueueReport, Failure> {
    let mut report = QueueReport::default();
    let Some(settings) = CustomerMessages::load(state)
        .await?
        .filter(CustomerMessages::any_on)
    else {
        return Ok(report);
    };
    let Some(mut cursor) = state.db.customer_notice_cursor().await? else {
        state.db.start_customer_notice_cursor().await?;
        report.started = true;
        return Ok(report);
    };
    let channels = Channels::load(state).await?;
    let wechat_on = crate::wechat::settings::WeChatSettings::load(state)
        .await?
        .is_some_and(|w| w.enabled && w.account.validate().is_ok());
    let settled = now.checked_sub(SETTLE).unwrap_or(now);
    const BATCH: u32 = 200;
    loop {
        let (events, to) = state
            .db
            .customer_notice_events(cursor, settled, BATCH)
            .await?;
        let mut planned = Vec::new();
        for e in &events {
            planned.extend(plan(state, &settings, &channels, wechat_on, e, now).await?);
        }
        report.events += events.len();
        report.queued += state.db.queue_customer_messages(&planned, to, now).await?;
        if events.len() < BATCH as usize || to <= cursor {
            return Ok(report);
        }
        cursor = to;
    }
}
