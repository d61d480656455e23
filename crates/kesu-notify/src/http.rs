//! The HTTP side shared by the robot and SMS adapters: one way to build a
//! client (rustls with ring, the Mozilla roots), one way to turn transport
//! failures and HTTP statuses into [`DeliveryError`]s, and the RFC 3986
//! percent-encoding the vendors sign over.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url};

use crate::config::{ConfigError, Problem};
use crate::outcome::DeliveryError;

/// Builds the client an adapter keeps: the whole exchange must finish within
/// `timeout`, redirects are not followed (a vendor API never redirects, and
/// the URL carries credentials).
pub(crate) fn client(
    channel: &'static str,
    timeout: Duration,
) -> Result<reqwest::Client, ConfigError> {
    let fail = |problem: String| ConfigError {
        channel,
        problems: vec![Problem {
            field: "tls",
            problem,
        }],
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| fail(format!("cannot set up TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kesu-notify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            fail(format!(
                "cannot build the HTTP client: {}",
                chain(&e.without_url())
            ))
        })
}

/// The vendor's endpoint: `base` (the configured override or the vendor's
/// host) with `path`.
pub(crate) fn endpoint(base: &str, path: &str) -> Result<Url, DeliveryError> {
    let mut url =
        Url::parse(base).map_err(|e| DeliveryError::permanent(format!("invalid base URL: {e}")))?;
    let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    Ok(url)
}

/// An answer with its status and body, read in full.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The failure the status alone decides: 5xx, 429 and 408 are worth
    /// another try whatever the body says.
    pub(crate) fn transient_status(&self, vendor: &str) -> Option<DeliveryError> {
        let s = self.status;
        (s.is_server_error()
            || s == StatusCode::TOO_MANY_REQUESTS
            || s == StatusCode::REQUEST_TIMEOUT)
            .then(|| DeliveryError::retryable(format!("{vendor} answered HTTP {s}")))
    }

    /// The failure for an answer whose body could not be read as the
    /// vendor's JSON: a success status with an unreadable body may have been
    /// a proxy's page, so try again; any other status is final.
    pub(crate) fn unreadable(&self, vendor: &str) -> DeliveryError {
        let s = self.status;
        if s.is_success() {
            DeliveryError::retryable(format!(
                "{vendor} answered HTTP {s} with an unreadable body"
            ))
        } else {
            DeliveryError::permanent(format!("{vendor} answered HTTP {s}"))
        }
    }
}

/// Sends the request and reads the whole answer, mapping transport failures:
/// every one of them (refused, reset, timed out) is worth another try.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    vendor: &str,
) -> Result<Reply, DeliveryError> {
    let response = request.send().await.map_err(|e| transport(e, vendor))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| transport(e, vendor))?;
    Ok(Reply {
        status,
        body: body.to_vec(),
    })
}

fn transport(e: reqwest::Error, vendor: &str) -> DeliveryError {
    let e = e.without_url();
    if e.is_timeout() {
        DeliveryError::retryable(format!("{vendor} did not answer in time"))
    } else if e.is_builder() {
        DeliveryError::permanent(format!(
            "cannot build the request to {vendor}: {}",
            chain(&e)
        ))
    } else if e.is_connect() {
        DeliveryError::retryable(format!("cannot connect to {vendor}: {}", chain(&e)))
    } else {
        DeliveryError::retryable(format!("request to {vendor} failed: {}", chain(&e)))
    }
}

/// An error and its causes on one line (reqwest's own text is terse).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// RFC 3986 percent-encoding of UTF-8: everything but `A–Z a–z 0–9 - _ . ~`
/// becomes `%XX` (upper-case hex); a space is `%20`, never `+`. This is the
/// encoding Alibaba Cloud's POP signature prescribes, and a safe one for any
/// query value.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `key=value&…` with both sides percent-encoded, in the given order.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Cuts a vendor's message to a readable length (on a character boundary).
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
