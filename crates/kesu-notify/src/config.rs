//! What the channel configurations share: [`Secret`], the [`ConfigError`]
//! that `validate()` returns, and the checks behind it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A credential (password, key, token). `Debug` prints `Secret(***)`; there
/// is no `Display`. Serialising writes the value, because storage keeps
/// configurations as JSON: never send a serialised configuration to a
/// browser or a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for signing or sending.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The JSON field name (`host`, `access_key_secret`, …).
    pub field: &'static str,
    /// What is wrong, in English, without the value if it is a secret.
    pub problem: String,
}

/// A configuration that cannot work, with every problem found at once (so a
/// settings form can mark all its fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {channel} configuration: {}", list(.problems))]
pub struct ConfigError {
    /// The channel: `SMTP`, `WeCom robot`, `DingTalk robot`, …
    pub channel: &'static str,
    /// Each problem, in field order.
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects problems while a `validate()` walks the fields.
pub(crate) struct Checker {
    channel: &'static str,
    problems: Vec<Problem>,
}

impl Checker {
    pub(crate) fn new(channel: &'static str) -> Self {
        Self {
            channel,
            problems: Vec::new(),
        }
    }

    pub(crate) fn fail(&mut self, field: &'static str, problem: impl Into<String>) {
        self.problems.push(Problem {
            field,
            problem: problem.into(),
        });
    }

    pub(crate) fn text(&mut self, field: &'static str, value: &str) {
        if value.trim().is_empty() {
            self.fail(field, "must not be empty");
        } else if value.trim() != value {
            self.fail(field, "must not start or end with spaces");
        }
    }

    pub(crate) fn secret(&mut self, field: &'static str, value: &Secret) {
        if value.is_blank() {
            self.fail(field, "must not be empty");
        } else if value.0.trim() != value.0 {
            self.fail(field, "must not start or end with spaces");
        }
    }

    pub(crate) fn timeout(&mut self, field: &'static str, secs: u64) {
        if !(1..=MAX_TIMEOUT_SECS).contains(&secs) {
            self.fail(
                field,
                format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
            );
        }
    }

    /// An optional base URL override: `http` or `https`, a host, no query.
    pub(crate) fn base_url(&mut self, field: &'static str, value: Option<&str>) {
        let Some(value) = value else { return };
        match reqwest::Url::parse(value) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                self.fail(field, "must start with http:// or https://");
            }
            Ok(url) if url.host_str().is_none() => self.fail(field, "must name a host"),
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                self.fail(field, "must not have a query or fragment");
            }
            Ok(_) => {}
            Err(e) => self.fail(field, format!("is not a URL ({e})")),
        }
    }

    pub(crate) fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                channel: self.channel,
                problems: self.problems,
            })
        }
    }
}

/// The longest timeout a configuration may ask for.
pub const MAX_TIMEOUT_SECS: u64 = 300;

/// The timeout a configuration gets when its JSON leaves it out.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

pub(crate) fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
