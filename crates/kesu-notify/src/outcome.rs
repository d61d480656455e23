//! What a delivery attempt answers: [`Delivered`], or a [`DeliveryError`]
//! that says whether trying again later can help.

/// The vendor accepted the message.
///
/// Accepted is not read: an SMS gateway reports the handset's receipt later,
/// and a mail server may still bounce. Keep `receipt` to match those reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The vendor's handle on this message: the Message-ID of a mail,
    /// Alibaba Cloud's `BizId`, Tencent Cloud's `SerialNo`. Robots give none.
    pub receipt: Option<String>,
    /// The vendor's id of the API call (`RequestId`), for a support ticket.
    pub request_id: Option<String>,
}

/// Whether an attempt that failed may succeed later unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Network trouble, a timeout, a 5xx, the vendor's rate limit: the
    /// caller's outbox should try again later (with backoff).
    Later,
    /// Bad credentials, an invalid recipient, a rejected template or
    /// signature: the same request will fail again. Someone must change the
    /// configuration or the message; the outbox should stop and report.
    Never,
}

/// A failed delivery: how it failed ([`Retry`]) and a message for people.
///
/// The message never contains a secret (keys, tokens, passwords, signatures)
/// nor the request URL; it may quote the vendor's own error code and text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    retry: Retry,
    message: String,
    vendor_code: Option<String>,
}

impl DeliveryError {
    /// A failure worth another try later.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            retry: Retry::Later,
            message: message.into(),
            vendor_code: None,
        }
    }

    /// A failure that will repeat until someone changes something.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            retry: Retry::Never,
            message: message.into(),
            vendor_code: None,
        }
    }

    /// Attaches the vendor's error code (`45009`, `isv.BUSINESS_LIMIT_CONTROL`, …).
    #[must_use]
    pub fn with_vendor_code(mut self, code: impl Into<String>) -> Self {
        self.vendor_code = Some(code.into());
        self
    }

    /// Whether the caller should try again later.
    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// Shorthand for `retry() == Retry::Later`.
    pub fn is_retryable(&self) -> bool {
        self.retry == Retry::Later
    }

    /// The readable message (also the `Display` text).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The vendor's error code, when the vendor answered with one.
    pub fn vendor_code(&self) -> Option<&str> {
        self.vendor_code.as_deref()
    }

    /// Removes every occurrence of the given secrets from the message: a
    /// last line of defence against a vendor or library echoing one.
    pub(crate) fn scrubbed(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            if self.message.contains(secret) {
                self.message = self.message.replace(secret, "***");
            }
        }
        self
    }
}
