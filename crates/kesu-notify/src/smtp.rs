//! E-mail through an SMTP server (lettre on tokio, rustls with ring).
//!
//! One connection per message, closed after it: the outbox sends a few
//! mails a minute, not thousands, and a fresh connection never inherits a
//! broken one. Chinese subjects, display names and bodies go out as UTF-8
//! (RFC 2047 encoded words in headers; quoted-printable or base64 bodies,
//! whichever lettre finds shorter).
//!
//! Errors: the server's 5xx replies (bad credentials, unknown recipient,
//! message refused) and an address or message that cannot be written are
//! permanent; 4xx replies, refused or dropped connections, TLS failures and
//! timeouts are worth another try.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{Checker, ConfigError, Problem, Secret, default_timeout_secs};
use crate::outcome::{Delivered, DeliveryError};

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain text (port 25): only for a relay on the same host or network.
    None,
    /// Plain connect, then STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
}

impl SmtpSecurity {
    fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// An SMTP server and sender, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpConfig {
    /// The server's host name (checked against its TLS certificate).
    pub host: String,
    /// Leave out for the usual port of `security` (25, 587, 465).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    /// Login name, with `password`; leave both out for no AUTH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The sender address (`kesu@example.com`).
    pub from_address: String,
    /// The sender's display name (`某某汽车客服中心`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// Seconds the whole exchange (connect, TLS, every command, the data)
    /// may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl SmtpConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("SMTP");
        if self.host.trim().is_empty() {
            check.fail("host", "must not be empty");
        } else if self.host.contains(['/', ':', ' ']) {
            check.fail("host", "must be a host name only (put the port in `port`)");
        }
        if self.port == Some(0) {
            check.fail("port", "must be between 1 and 65535");
        }
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => {
                check.text("username", user);
                check.secret("password", password);
                if self.security == SmtpSecurity::None {
                    check.fail(
                        "security",
                        "must be start_tls or tls when logging in: `none` would send the password in clear",
                    );
                }
            }
            (Some(_), None) => check.fail("password", "is required with a username"),
            (None, Some(_)) => check.fail("username", "is required with a password"),
            (None, None) => {}
        }
        if self.from_address.parse::<Address>().is_err() {
            check.fail("from_address", "is not an e-mail address");
        }
        if self
            .from_name
            .as_ref()
            .is_some_and(|name| name.chars().any(char::is_control))
        {
            check.fail(
                "from_name",
                "must not contain line breaks or control characters",
            );
        }
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// One mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// `name@example.com` or `张三 <name@example.com>`.
    pub to: String,
    pub subject: String,
    /// The plain-text body (always sent).
    pub text: String,
    /// An HTML alternative of the same content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The Message-ID (`<…@…>`), chosen once by the caller and kept, so a
    /// retry sends the same one and the customer's client sees one mail, not
    /// two. [`SmtpMailer::message_id`] makes one. When left out, each
    /// attempt gets a new random one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The Message-ID this mail answers (threading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// An automatic answer: sent with `Auto-Submitted: auto-replied` (RFC
    /// 3834), so that another system's automatic answer does not answer it
    /// back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_submitted: bool,
}

/// The `Auto-Submitted` header (RFC 3834) of an automatic answer.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-replied".to_owned())
    }
}

/// Sends mail through one SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    password: Option<Secret>,
    timeout: Duration,
}

impl SmtpMailer {
    /// Validates the configuration and prepares the transport (no connection
    /// is made until the first `send`).
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &SmtpConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let address: Address = config.from_address.parse().map_err(|_| ConfigError {
            channel: "SMTP",
            problems: vec![Problem {
                field: "from_address",
                problem: "is not an e-mail address".to_owned(),
            }],
        })?;
        let tls_parameters = || {
            TlsParameters::new(config.host.clone()).map_err(|e| ConfigError {
                channel: "SMTP",
                problems: vec![Problem {
                    field: "security",
                    problem: format!("cannot set up TLS: {e}"),
                }],
            })
        };
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
                .port(config.port.unwrap_or(config.security.default_port()))
                .tls(tls)
                .timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from: Mailbox::new(config.from_name.clone(), address),
            password: config.password.clone(),
            timeout,
        })
    }

    /// A Message-ID for this sender's domain, `<{unique}@{domain}>`: pass a
    /// value unique to the mail (the outbox row's id), so every attempt of
    /// that mail carries the same id.
    pub fn message_id(&self, unique: &str) -> String {
        format!("<{unique}@{}>", self.from.email.domain())
    }

    /// Sends the mail, once.
    ///
    /// # Errors
    /// A [`DeliveryError`]: see the module docs for which are retryable.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<Delivered, DeliveryError> {
        // lettre bounds connecting and each command, not the wait for the
        // server's greeting: bound the whole exchange here.
        let outcome = tokio::time::timeout(self.timeout, self.deliver(mail))
            .await
            .unwrap_or_else(|_| {
                Err(DeliveryError::retryable(
                    "the mail server did not answer in time",
                ))
            });
        let address = mail
            .to
            .parse::<Mailbox>()
            .map(|m| m.email.to_string())
            .unwrap_or_default();
        let mut private: Vec<&str> = vec![mail.to.as_str(), address.as_str()];
        if let Some(password) = &self.password {
            private.push(password.expose());
        }
        outcome.map_err(|e| e.scrubbed(&private))
    }

    async fn deliver(&self, mail: &OutgoingMail) -> Result<Delivered, DeliveryError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| DeliveryError::permanent("invalid recipient: not an e-mail address"))?;
        let message_id = match &mail.message_id {
            Some(id) => checked_id("message_id", id)?,
            None => self.message_id(&random_part()?),
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .message_id(Some(message_id.clone()));
        if let Some(parent) = &mail.in_reply_to {
            builder = builder.in_reply_to(checked_id("in_reply_to", parent)?);
        }
        if !mail.references.is_empty() {
            let ids = mail
                .references
                .iter()
                .map(|id| checked_id("references", id))
                .collect::<Result<Vec<_>, _>>()?;
            builder = builder.references(ids.join(" "));
        }
        if mail.auto_submitted {
            builder = builder.header(AutoSubmitted);
        }
        let message = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text.clone()),
            ),
        }
        .map_err(|e| DeliveryError::permanent(format!("cannot write the mail: {e}")))?;
        let response = self.transport.send(message).await.map_err(classify)?;
        Ok(Delivered {
            receipt: Some(message_id),
            request_id: Some(response.message().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty()),
        })
    }
}

/// A Message-ID as given, or `<id>` when the brackets were left out;
/// refused when it could break the header (spaces, line breaks).
fn checked_id(field: &str, id: &str) -> Result<String, DeliveryError> {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    if bare.is_empty()
        || !bare.contains('@')
        || bare
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(DeliveryError::permanent(format!(
            "{field} is not a Message-ID (`<unique@domain>`)"
        )));
    }
    Ok(format!("<{bare}>"))
}

fn random_part() -> Result<String, DeliveryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| DeliveryError::retryable(format!("no randomness for the Message-ID: {e}")))?;
    Ok(format!("kesu.{}", hex::encode(bytes)))
}

fn classify(e: lettre::transport::smtp::Error) -> DeliveryError {
    let text = crate::http::chain(&e);
    if e.is_permanent() {
        let code = e.status().map(|c| c.to_string());
        let error = DeliveryError::permanent(format!("the mail server refused the mail: {text}"));
        match code {
            Some(code) => error.with_vendor_code(code),
            None => error,
        }
    } else if e.is_transient() {
        let code = e.status().map(|c| c.to_string());
        let error = DeliveryError::retryable(format!("the mail server deferred the mail: {text}"));
        match code {
            Some(code) => error.with_vendor_code(code),
            None => error,
        }
    } else if e.is_timeout() {
        DeliveryError::retryable(format!("the mail server did not answer in time: {text}"))
    } else if e.is_client() {
        DeliveryError::permanent(format!("cannot talk to the mail server: {text}"))
    } else {
        DeliveryError::retryable(format!("cannot reach the mail server: {text}"))
    }
}
