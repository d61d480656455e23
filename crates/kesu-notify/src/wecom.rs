//! WeCom (企业微信) group robot: `POST /cgi-bin/webhook/send?key=KEY` with a
//! JSON message; the answer is `{"errcode":0,"errmsg":"ok"}`.
//!
//! A WeCom robot has no signature: **the key is the whole secret**. Anyone
//! who has the webhook URL can post to the group, so the key is a
//! [`Secret`], never logged and never part of an error message. If it
//! leaks, remove the robot from the group and add a new one.
//!
//! Errors: `errcode` 45009 (rate limit: 20 messages a minute per robot) and
//! -1 (system busy) are worth another try; any other non-zero `errcode`
//! (93000 invalid webhook, 40008 bad message type, …) is permanent.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{Checker, ConfigError, Secret, default_timeout_secs};
use crate::http;
use crate::outcome::{Delivered, DeliveryError};
use crate::robot::RobotMessage;

const VENDOR: &str = "WeCom";
const DEFAULT_BASE: &str = "https://qyapi.weixin.qq.com";
const PATH: &str = "/cgi-bin/webhook/send";

/// A WeCom group robot, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeComConfig {
    /// The `key` of the robot's webhook URL.
    pub key: Secret,
    /// Replaces `https://qyapi.weixin.qq.com` (tests, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Seconds the whole exchange may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl WeComConfig {
    /// A configuration from the webhook URL WeCom shows when the robot is
    /// added (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`), or
    /// from the bare key.
    pub fn from_webhook(webhook: &str) -> Self {
        let key = reqwest::Url::parse(webhook)
            .ok()
            .and_then(|url| {
                url.query_pairs()
                    .find(|(k, _)| k == "key")
                    .map(|(_, v)| v.into_owned())
            })
            .unwrap_or_else(|| webhook.trim().to_owned());
        Self {
            key: Secret::new(key),
            base_url: None,
            timeout_secs: default_timeout_secs(),
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("WeCom robot");
        check.secret("key", &self.key);
        check.base_url("base_url", self.base_url.as_deref());
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// Posts to one WeCom group.
#[derive(Debug, Clone)]
pub struct WeComRobot {
    key: Secret,
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Answer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WeComRobot {
    /// Validates the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &WeComConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            key: config.key.clone(),
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| DEFAULT_BASE.to_owned()),
            http: http::client("WeCom robot", Duration::from_secs(config.timeout_secs))?,
        })
    }

    /// Posts the message, once.
    ///
    /// # Errors
    /// A [`DeliveryError`]: retryable for network trouble, a timeout, a 5xx
    /// and `errcode` 45009 / -1; permanent otherwise.
    pub async fn send(&self, message: &RobotMessage) -> Result<Delivered, DeliveryError> {
        self.post(message)
            .await
            .map_err(|e| e.scrubbed(&[self.key.expose()]))
    }

    async fn post(&self, message: &RobotMessage) -> Result<Delivered, DeliveryError> {
        message.check()?;
        let mut url = http::endpoint(&self.base, PATH)?;
        url.set_query(Some(&http::query(&[("key", self.key.expose())])));
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
        } if mention_mobiles.is_empty() => json!({"msgtype": "text", "text": {"content": content}}),
        RobotMessage::Text {
            content,
            mention_mobiles,
        } => json!({
            "msgtype": "text",
            "text": {"content": content, "mentioned_mobile_list": mention_mobiles},
        }),
        RobotMessage::Markdown { content, .. } => {
            json!({"msgtype": "markdown", "markdown": {"content": content}})
        }
    }
}

fn classify(code: i64, message: &str) -> DeliveryError {
    let text = format!(
        "{VENDOR} refused the message: errcode {code} ({})",
        http::clip(message)
    );
    let error = match code {
        45009 | -1 => DeliveryError::retryable(text),
        _ => DeliveryError::permanent(text),
    };
    error.with_vendor_code(code.to_string())
}
