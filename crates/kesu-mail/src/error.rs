//! Why a message could not be read.

/// What was too large.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oversized {
    /// The whole message, as received.
    Message,
    /// One attachment, after transfer decoding (its cleaned file name).
    Attachment(String),
}

impl std::fmt::Display for Oversized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Oversized::Message => f.write_str("the message"),
            Oversized::Attachment(name) => write!(f, "the attachment {name:?}"),
        }
    }
}

/// Why [`parse`](crate::parse) refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Over a limit of [`Limits`](crate::Limits). Nothing was decoded past
    /// the limit; tell the sender (if at all) that the mail was too large.
    #[error("{what} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        what: Oversized,
        size: usize,
        limit: usize,
    },
    /// Not an e-mail message kesu can file: no header, no sender, or bytes
    /// the parser could not read at all.
    #[error("not a readable e-mail message: {0}")]
    Malformed(&'static str),
}
