//! What went wrong talking to the mail server.

use std::path::PathBuf;

/// What went wrong talking to the mail server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// Refused, unreachable, unknown host.
    #[error("cannot connect to the IMAP server {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("the TLS handshake with {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    #[error("{host:?} is not a valid server name for TLS")]
    ServerName { host: String },
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    /// The server said NO to LOGIN: wrong username or password, or the
    /// account may not log in this way.
    #[error("the IMAP server refused the login of {username:?}: {message}")]
    Auth { username: String, message: String },
    #[error("the IMAP mailbox {mailbox:?} cannot be opened: {message}")]
    Mailbox { mailbox: String, message: String },
    #[error("the IMAP server did not answer {step} within {secs} s")]
    Timeout { step: &'static str, secs: u64 },
    /// The mailbox was recreated since the UIDs were fetched: they may now
    /// name other messages, so nothing was marked. The next fetch reads the
    /// unseen mails again.
    #[error("the mailbox's UIDVALIDITY changed from {expected} to {found}: nothing was marked")]
    UidValidityChanged { expected: u32, found: u32 },
    #[error("IMAP {command} failed: {source}")]
    Protocol {
        command: &'static str,
        source: async_imap::error::Error,
    },
}
