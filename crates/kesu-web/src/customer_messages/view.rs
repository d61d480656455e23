//! The customer messages of one complaint as its page shows them, so an
//! agent can tell the customer "we texted you at 14:02".

use jiff::tz::TimeZone;
use kesu_storage::customer_notices::CustomerMessageRow;

use crate::i18n::{Lang, t};
use crate::view::{mask, short_time};

/// One message on the complaint page.
pub struct MessageItem {
    pub occasion: String,
    pub channel: String,
    /// Masked phone or address; empty when none.
    pub recipient: String,
    pub at: String,
    /// `sent`, `waiting`, `retrying`, `failed`, `unreachable`.
    pub tone: &'static str,
    pub status: String,
}

pub fn items(lang: Lang, tz: &TimeZone, rows: &[CustomerMessageRow]) -> Vec<MessageItem> {
    rows.iter()
        .map(|r| {
            let (tone, status) = if r.channel == "none" {
                ("unreachable", t(lang, "cmsg.detail.unreachable"))
            } else if let Some(at) = r.sent_at {
                (
                    "sent",
                    t(lang, "cmsg.detail.sent").replace("%{t}", &short_time(at, tz)),
                )
            } else if r.gave_up_at.is_some() {
                ("failed", t(lang, "cmsg.detail.failed"))
            } else if let (Some(_), Some(at)) = (&r.last_error, r.next_attempt_at) {
                (
                    "retrying",
                    t(lang, "cmsg.detail.retrying").replace("%{t}", &short_time(at, tz)),
                )
            } else {
                let at = r.next_attempt_at.unwrap_or(r.created_at);
                (
                    "waiting",
                    t(lang, "cmsg.detail.waiting").replace("%{t}", &short_time(at, tz)),
                )
            };
            MessageItem {
                occasion: t(lang, &format!("cmsg.occasion.{}", r.occasion)),
                channel: t(lang, &format!("cmsg.channel.{}", r.channel)),
                recipient: r.recipient.as_deref().map(mask).unwrap_or_default(),
                at: short_time(r.created_at, tz),
                tone,
                status,
            }
        })
        .collect()
}
