//! Inbound mail for kesu: customers complain by e-mail.
//!
//! This crate reads mail and says what it is; it stores nothing and knows no
//! database, no complaint and no clock. The caller (the binary's MTA pipe
//! command and its IMAP poller) decides what to file where. It must never
//! depend on `kesu-storage` or `kesu-web`.
//!
//! # Reading one message (an MTA pipe)
//!
//! ```
//! use kesu_mail::{MailKind, ThreadKey};
//!
//! let raw = b"From: =?UTF-8?B?5byg5LiJ?= <ZhangSan@Example.com>\r\n\
//!             To: kefu@kesu.example\r\n\
//!             Subject: =?UTF-8?B?5Zue5aSN77yaS1MtMjAyNjExMjMtMDA0Mg==?=\r\n\
//!             Message-ID: <a1@example.com>\r\n\
//!             \r\n\
//!             Thanks.\r\n";
//! let mail = kesu_mail::parse(raw)?;
//! assert_eq!(mail.from.name.as_deref(), Some("张三"));
//! assert_eq!(mail.from.address, "zhangsan@example.com");
//! assert_eq!(mail.subject, "回复：KS-20261123-0042");
//! assert_eq!(mail.kind, MailKind::Normal);
//! assert_eq!(mail.thread_key(), ThreadKey::ComplaintNumber("KS-20261123-0042".into()));
//! # Ok::<(), kesu_mail::MailError>(())
//! ```
//!
//! Then, by [`InboundMail::kind`]:
//!
//! - [`MailKind::Normal`]: look the mail up by [`InboundMail::thread_key`]
//!   (the complaint number in the subject first, else the message ids it
//!   answers, matched against the Message-IDs of mails kesu sent or
//!   received); add it to that complaint, or register a new one. Keep
//!   [`InboundMail::message_id`] so that replies can be threaded and a
//!   message fetched twice is filed once.
//! - [`MailKind::AutoReply`]: keep it on the complaint if it threads, but
//!   never answer it and never open a complaint for it.
//! - [`MailKind::Bounce`]: a mail kesu sent did not arrive (the customer's
//!   address is wrong): tell the staff; never answer it.
//!
//! Before sending an automatic receipt, ask [`InboundMail::auto_answer`]:
//! it refuses auto-replies, bounces, list and bulk mail, senders who asked
//! for none and `noreply@` addresses (RFC 3834). Automatic answers kesu sends
//! must carry `Auto-Submitted: auto-replied`.
//!
//! [`InboundMail::text`] is what a person reads (for HTML-only mail, text
//! rendered from the HTML); [`InboundMail::html_sanitized`] may be shown in
//! a page as it is: no scripts, no event handlers, no `javascript:`, no
//! remote images (a tracking pixel would tell the sender the mail was read).
//!
//! Size limits: [`parse_with_limits`] with [`Limits`] (default 25 MiB per
//! message, 20 MiB per attachment) refuses larger mail with
//! [`MailError::TooLarge`]. Bytes that are not a mail with a sender give
//! [`MailError::Malformed`]; no input makes the parser panic.
//!
//! Chinese mail: GB2312, GBK, GB18030 and Big5 bodies and RFC 2047 words
//! decode through mail-parser's `full_encoding` feature (encoding_rs);
//! without it they would turn into U+FFFD. Attachment names in RFC 2231
//! (`filename*=utf-8''…`) or in encoded words (`filename="=?GBK?B?…?="`, as
//! Foxmail writes them) are decoded, then cleaned ([`clean_filename`]).
//!
//! # Polling a mailbox
//!
//! ```no_run
//! # async fn poll() -> Result<(), Box<dyn std::error::Error>> {
//! use kesu_mail::{ImapConfig, Security};
//!
//! let config = ImapConfig::new("imap.exmail.qq.com", 993, Security::Tls, "kefu@kesu.example", "…");
//! let fetched = kesu_mail::fetch_unseen(&config, 50).await?;
//! let mut stored = Vec::new();
//! for m in &fetched {
//!     match kesu_mail::parse(&m.raw) {
//!         Ok(mail) => { /* file it in one transaction, commit */ }
//!         Err(e) => { /* keep the raw bytes for a person, or drop it: log e */ }
//!     }
//!     stored.push(m.uid);
//! }
//! if let Some(first) = fetched.first() {
//!     // Only after the commit: a crash before this line re-reads, never loses.
//!     kesu_mail::mark_seen(&config, first.uid_validity, &stored).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! Mark seen also the messages that failed to parse (after keeping or
//! logging them): otherwise they come back at every poll.
//!
//! [`fetch_unseen`] never changes the mailbox (read-only `EXAMINE`,
//! `BODY.PEEK[]`); [`mark_seen`] sets `\Seen` on exactly the UIDs given, and
//! refuses when the mailbox's UIDVALIDITY changed since the fetch. Each
//! call opens and closes its own connection, with a connect timeout and a
//! timeout per server answer ([`ImapConfig`]). TLS is rustls with the ring
//! provider and the Mozilla roots (webpki-roots), plus an optional
//! [`ImapConfig::ca_file`]; STARTTLS is not supported (use port 993).

mod detect;
mod error;
mod filename;
mod html;
mod imap;
mod message;
mod parse;
mod thread;

pub use detect::{MailKind, is_noreply_address};
pub use error::{MailError, Oversized};
pub use filename::clean_filename;
pub use imap::{FetchedMail, ImapConfig, ImapError, Security, fetch_unseen, mark_seen};
pub use message::{Attachment, AutoAnswer, InboundMail, Mailbox, SuppressReason};
pub use parse::{Limits, parse, parse_with_limits};
pub use thread::{ThreadKey, find_complaint_number, normalize_message_id, thread_key};

/// Renders HTML as plain text the way [`InboundMail::text`] is made for
/// HTML-only mail.
pub fn html_to_text(html: &str) -> String {
    html::to_text(html)
}

/// Sanitizes HTML the way [`InboundMail::html_sanitized`] is made.
pub fn sanitize_html(html: &str) -> String {
    html::sanitize(html)
}
