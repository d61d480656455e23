//! DingTalk (钉钉) custom robot with 加签 (signing):
//! `POST /robot/send?access_token=TOKEN&timestamp=MS&sign=SIGN` with a JSON
//! message; the answer is `{"errcode":0,"errmsg":"ok"}`.
//!
//! `sign` is `base64(HMAC-SHA256(key = secret, msg = "{timestamp}\n{secret}"))`,
//! URL-encoded in the query ([`sign`] returns it before encoding). DingTalk
//! refuses a timestamp more than an hour away from its clock, so `send` takes
//! the current time.
//!
//! Errors: `errcode` 130101 and 410100 (sending too fast: 20 messages a
//! minute per robot) and -1 (system busy) are worth another try; any other
//! (310000 sign, keyword or IP allow-list mismatch, 300001 bad token,
//! 400102 robot disabled, …) is permanent.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{Checker, ConfigError, Secret, default_timeout_secs};
use crate::http;
use crate::outcome::{Delivered, DeliveryError};
use crate::robot::RobotMessage;

const VENDOR: &str = "DingTalk";
const DEFAULT_BASE: &str = "https://oapi.dingtalk.com";
const PATH: &str = "/robot/send";

/// A DingTalk custom robot with signing, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DingTalkConfig {
    /// The `access_token` of the robot's webhook URL.
    pub access_token: Secret,
    /// The 加签 secret shown in the robot's security settings (`SEC…`).
    pub secret: Secret,
    /// Replaces `https://oapi.dingtalk.com` (tests, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Seconds the whole exchange may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl DingTalkConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("DingTalk robot");
        check.secret("access_token", &self.access_token);
        check.secret("secret", &self.secret);
        check.base_url("base_url", self.base_url.as_deref());
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// The 加签 signature for `timestamp_ms` (Unix milliseconds), base64, not yet
/// URL-encoded.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    let mac = crate::mac::hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Posts to one DingTalk group.
#[derive(Debug, Clone)]
pub struct DingTalkRobot {
    access_token: Secret,
    secret: Secret,
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Answer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl DingTalkRobot {
    /// Validates the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &DingTalkConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            access_token: config.access_token.clone(),
            secret: config.secret.clone(),
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| DEFAULT_BASE.to_owned()),
            http: http::client("DingTalk robot", Duration::from_secs(config.timeout_secs))?,
        })
    }

    /// Posts the message, once, signed for `now` (the current time).
    ///
    /// # Errors
    /// A [`DeliveryError`]: retryable for network trouble, a timeout, a 5xx
    /// and `errcode` 130101 / 410100 / -1; permanent otherwise.
    pub async fn send(
        &self,
        message: &RobotMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        self.post(message, now)
            .await
            .map_err(|e| e.scrubbed(&[self.access_token.expose(), self.secret.expose()]))
    }

    async fn post(
        &self,
        message: &RobotMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        message.check()?;
        let timestamp = now.as_millisecond();
        let signature = sign(self.secret.expose(), timestamp);
        let mut url = http::endpoint(&self.base, PATH)?;
        url.set_query(Some(&http::query(&[
            ("access_token", self.access_token.expose()),
            ("timestamp", &timestamp.to_string()),
            ("sign", &signature),
        ])));
        let reply = http::exchange(self.http.post(url).json(&body(message)), VENDOR).await?;
        if let Some(e) = reply.transient_status(VENDOR) {
            return Err(e);
        }
        let answer: Answer =
            serde_json::from_slice(&reply.body).map_err(|_| reply.unreadable(VENDOR))?;
        match answer.errcode {
            0 => Ok(Delivered::default()),
            code => Err(classify(code, &answer.errmsg)),
        }
    }
}

fn body(message: &RobotMessage) -> serde_json::Value {
    match message {
        RobotMessage::Text {
            content,
            mention_mobiles,
        } => {
            let at_all = mention_mobiles.iter().any(|m| m == "@all");
            let mobiles: Vec<&String> = mention_mobiles.iter().filter(|m| *m != "@all").collect();
            json!({
                "msgtype": "text",
                "text": {"content": content},
                "at": {"atMobiles": mobiles, "isAtAll": at_all},
            })
        }
        RobotMessage::Markdown { title, content } => json!({
            "msgtype": "markdown",
            "markdown": {"title": title, "text": content},
        }),
    }
}

fn classify(code: i64, message: &str) -> DeliveryError {
    let text = format!(
        "{VENDOR} refused the message: errcode {code} ({})",
        http::clip(message)
    );
    let error = match code {
        130101 | 410100 | -1 => DeliveryError::retryable(text),
        _ => DeliveryError::permanent(text),
    };
    error.with_vendor_code(code.to_string())
}
