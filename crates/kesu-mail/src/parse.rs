//! From raw RFC 5322 bytes to an [`InboundMail`].
//!
//! mail-parser does the MIME work (transfer encodings, RFC 2047 words,
//! RFC 2231 parameters and encoded words inside them, charsets through
//! encoding_rs); this module decides
//! what kesu keeps, enforces the limits and refuses what is not a mail.

use std::panic::{AssertUnwindSafe, catch_unwind};

use jiff::Timestamp;
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

use crate::detect::{MailKind, signals};
use crate::error::{MailError, Oversized};
use crate::filename::clean_filename;
use crate::html;
use crate::message::{Attachment, InboundMail, Mailbox};
use crate::thread::{find_complaint_number, normalize_message_id};

/// Size limits, checked before anything is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest raw message, in bytes (default 25 MiB, what most providers
    /// accept; base64 makes a message a third larger than its files).
    pub max_message_bytes: usize,
    /// Largest single attachment after decoding, in bytes (default 20 MiB).
    pub max_attachment_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 25 * 1024 * 1024,
            max_attachment_bytes: 20 * 1024 * 1024,
        }
    }
}

/// Parses one raw message with the default [`Limits`].
///
/// # Errors
/// [`MailError::TooLarge`] over a limit, [`MailError::Malformed`] for bytes
/// that are not a mail with a sender. Never panics on any input.
pub fn parse(raw: &[u8]) -> Result<InboundMail, MailError> {
    parse_with_limits(raw, &Limits::default())
}

/// Parses one raw message (as read from an MTA pipe or fetched over IMAP).
///
/// # Errors
/// As [`parse`].
pub fn parse_with_limits(raw: &[u8], limits: &Limits) -> Result<InboundMail, MailError> {
    if raw.len() > limits.max_message_bytes {
        return Err(MailError::TooLarge {
            what: Oversized::Message,
            size: raw.len(),
            limit: limits.max_message_bytes,
        });
    }
    // mail-parser is fuzzed, but one message that panicked would be fetched
    // again at every poll and stop the whole mailbox: refuse it instead.
    catch_unwind(AssertUnwindSafe(|| read(raw, limits))).unwrap_or_else(|_| {
        tracing::error!(
            mail.size = raw.len(),
            "the mail parser panicked on a message"
        );
        Err(MailError::Malformed("the parser could not read it"))
    })
}

fn read(raw: &[u8], limits: &Limits) -> Result<InboundMail, MailError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Malformed("empty"));
    }
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::Malformed("no message found"))?;
    if msg.root_part().headers().is_empty() {
        return Err(MailError::Malformed("no header fields"));
    }
    let from = msg
        .from()
        .and_then(|a| mailboxes(a).into_iter().next())
        .ok_or(MailError::Malformed("no From address"))?;
    let subject = msg.subject().unwrap_or_default().trim().to_string();
    let signals = signals(&msg, &from.address, &subject);

    Ok(InboundMail {
        message_id: msg.message_id().and_then(normalize_message_id),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        reply_to: msg.reply_to().map(mailboxes).unwrap_or_default(),
        to: msg.to().map(mailboxes).unwrap_or_default(),
        cc: msg.cc().map(mailboxes).unwrap_or_default(),
        date: msg
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        text: text(&msg),
        html_sanitized: html_body(&msg),
        attachments: attachments(&msg, limits)?,
        original_message_id: match signals.kind {
            MailKind::Bounce { .. } => returned_message_id(&msg),
            _ => None,
        },
        complaint_number: find_complaint_number(&subject),
        kind: signals.kind,
        bulk: signals.bulk,
        suppress_auto_response: signals.suppress_auto_response,
        raw_size: raw.len(),
        from,
        subject,
    })
}

/// Every mailbox with an address (group members included), lower-cased.
fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address
        .iter()
        .filter_map(|a| {
            let addr = a.address()?.trim().to_lowercase();
            (!addr.is_empty()).then(|| Mailbox {
                name: a
                    .name()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
                address: addr,
            })
        })
        .collect()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(t) => t.split_whitespace().collect(),
        HeaderValue::TextList(list) => list.iter().flat_map(|t| t.split_whitespace()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter().filter_map(normalize_message_id).collect()
}

/// The readable text: plain parts as they are, HTML-only parts rendered.
fn text(msg: &Message<'_>) -> String {
    let parts: Vec<String> = msg
        .text_body
        .iter()
        .filter_map(|id| msg.part(*id))
        .filter_map(|part| match &part.body {
            PartType::Text(t) => Some(t.replace("\r\n", "\n")),
            PartType::Html(h) => Some(html::to_text(h)),
            _ => None,
        })
        .map(|t| t.trim_end().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    parts.join("\n\n")
}

fn html_body(msg: &Message<'_>) -> Option<String> {
    let parts: Vec<String> = msg
        .html_body
        .iter()
        .filter_map(|id| msg.part(*id))
        .filter_map(|part| match &part.body {
            PartType::Html(h) => Some(html::sanitize(h)),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn attachments(msg: &Message<'_>, limits: &Limits) -> Result<Vec<Attachment>, MailError> {
    let mut out = Vec::new();
    for part in msg.attachments() {
        let data: &[u8] = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b,
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            PartType::Message(m) => m.raw_message(),
            PartType::Multipart(_) => continue,
        };
        let filename = clean_filename(part.attachment_name().unwrap_or_default());
        if data.len() > limits.max_attachment_bytes {
            return Err(MailError::TooLarge {
                what: Oversized::Attachment(filename),
                size: data.len(),
                limit: limits.max_attachment_bytes,
            });
        }
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .map(|ct| ct.to_ascii_lowercase())
            .unwrap_or_else(|| match part.body {
                PartType::Text(_) => "text/plain".into(),
                PartType::Message(_) => "message/rfc822".into(),
                _ => "application/octet-stream".into(),
            });
        let inline = part
            .content_disposition()
            .map_or(matches!(part.body, PartType::InlineBinary(_)), |d| {
                d.is_inline()
            });
        out.push(Attachment {
            filename,
            content_type,
            inline,
            content_id: part.content_id().and_then(normalize_message_id),
            data: data.to_vec(),
        });
    }
    Ok(out)
}

/// The Message-ID of the original a bounce returns: a `message/rfc822`
/// part, or the headers in a `text/rfc822-headers` part.
fn returned_message_id(msg: &Message<'_>) -> Option<String> {
    msg.parts.iter().find_map(|part| match &part.body {
        PartType::Message(original) => original.message_id().and_then(normalize_message_id),
        PartType::Text(t) if part.is_content_type("text", "rfc822-headers") => {
            MessageParser::default()
                .parse_headers(t.as_bytes())
                .and_then(|h| h.message_id().and_then(normalize_message_id))
        }
        _ => None,
    })
}
