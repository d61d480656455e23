//! What a parsed mail is: the values the caller stores.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::detect::{MailKind, is_noreply_address};
use crate::thread::{ThreadKey, thread_key};

/// A sender or recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// The display name, decoded (`张三`); `None` when absent or empty.
    pub name: Option<String>,
    /// The address, lower-cased (`zhangsan@example.com`).
    pub address: String,
}

/// A file that came with the mail.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Decoded and cleaned by [`clean_filename`](crate::clean_filename):
    /// a plain name, safe to show and to store (`attachment` when the mail
    /// gave none).
    pub filename: String,
    /// `type/subtype`, lower-cased, without parameters
    /// (`application/octet-stream` when the mail gave none).
    pub content_type: String,
    /// Shown within the body rather than offered as a file
    /// (`Content-Disposition: inline`, or an unnamed part of the body).
    pub inline: bool,
    /// The `Content-ID` without angle brackets: what `cid:` URLs in the
    /// sanitized HTML point at.
    pub content_id: Option<String>,
    /// The content after transfer decoding (base64, quoted-printable).
    /// Text attachments are given in UTF-8, whatever charset they came in.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("inline", &self.inline)
            .field("content_id", &self.content_id)
            .field("size", &self.data.len())
            .finish()
    }
}

/// One parsed inbound mail. Nothing here has been stored: the caller files
/// it (a new complaint, a note on an existing one, a bounce on a sent mail).
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMail {
    /// Without angle brackets; `None` when the mail had none.
    pub message_id: Option<String>,
    /// Ids this mail answers, without angle brackets, as written.
    pub in_reply_to: Vec<String>,
    /// The conversation so far, oldest first, without angle brackets.
    pub references: Vec<String>,
    pub from: Mailbox,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded (RFC 2047), trimmed; empty when absent.
    pub subject: String,
    /// When the sender says it was written; `None` when absent or invalid.
    pub date: Option<Timestamp>,
    /// The text a person reads, with `\n` line ends: the text/plain body,
    /// or for HTML-only mail text rendered from the HTML (scripts and
    /// styles dropped, blocks as line breaks, entities decoded).
    pub text: String,
    /// The HTML body made safe to show (see [`sanitize_html`](crate::sanitize_html));
    /// `None` when the mail had no HTML body.
    pub html_sanitized: Option<String>,
    pub attachments: Vec<Attachment>,
    pub kind: MailKind,
    /// Why this is list or bulk mail (`Precedence: bulk`, `List-Id: …`), if
    /// it is. Such mail may still concern a complaint; it is never answered
    /// automatically.
    pub bulk: Option<String>,
    /// The sender asked for no automatic answers (`X-Auto-Response-Suppress`).
    pub suppress_auto_response: bool,
    /// For a bounce: the Message-ID of the mail that did not arrive, read
    /// from the returned original (`message/rfc822` or `text/rfc822-headers`),
    /// without angle brackets.
    pub original_message_id: Option<String>,
    /// A kesu complaint number found in the subject (`KS-20261123-0042`).
    pub complaint_number: Option<String>,
    /// Size of the raw message in bytes, as received.
    pub raw_size: usize,
}

/// Whether kesu may send an automatic answer (a receipt, 已收到您的投诉) to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoAnswer {
    /// Answer to this mailbox (Reply-To if given, else From).
    Send { to: Mailbox },
    /// Do not answer automatically; a person still may.
    Suppress(SuppressReason),
}

/// Why no automatic answer may be sent (RFC 3834 section 2 and loop safety).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressReason {
    AutoReply,
    Bounce,
    /// List or bulk mail.
    Bulk,
    /// `X-Auto-Response-Suppress: All | OOF | AutoReply`.
    SenderAsked,
    /// The answer would go to `noreply@…`, `mailer-daemon@…` and the like.
    NoReplyAddress,
}

impl InboundMail {
    /// How the caller finds the complaint this mail continues: the complaint
    /// number in the subject first, else the ids it answers (for a bounce,
    /// the id of the returned mail comes last).
    pub fn thread_key(&self) -> ThreadKey {
        let mut answered = self.in_reply_to.clone();
        answered.extend(self.original_message_id.clone());
        thread_key(
            self.complaint_number.as_deref(),
            &answered,
            &self.references,
        )
    }

    /// Whether an automatic answer may be sent, and to whom. Never to
    /// auto-replies, bounces, list or bulk mail, senders who asked for none,
    /// or addresses that read no answers. Outbound automatic answers must
    /// themselves carry `Auto-Submitted: auto-replied`, so that two systems
    /// answering each other stop after one round.
    pub fn auto_answer(&self) -> AutoAnswer {
        let reason = match (&self.kind, &self.bulk) {
            (MailKind::Bounce { .. }, _) => Some(SuppressReason::Bounce),
            (MailKind::AutoReply { .. }, _) => Some(SuppressReason::AutoReply),
            (MailKind::Normal, Some(_)) => Some(SuppressReason::Bulk),
            (MailKind::Normal, None) if self.suppress_auto_response => {
                Some(SuppressReason::SenderAsked)
            }
            (MailKind::Normal, None) => None,
        };
        if let Some(reason) = reason {
            return AutoAnswer::Suppress(reason);
        }
        let to = self.reply_to.first().unwrap_or(&self.from).clone();
        if is_noreply_address(&to.address) {
            return AutoAnswer::Suppress(SuppressReason::NoReplyAddress);
        }
        AutoAnswer::Send { to }
    }
}
