//! WeChat Official Account (微信公众号) template messages (模板消息): tell a
//! follower about their complaint in a template the account had approved.
//!
//! As WeChat documents it:
//! 1. `GET /cgi-bin/token?grant_type=client_credential&appid=APPID&secret=APPSECRET`
//!    answers `{"access_token":"…","expires_in":7200}` (or `errcode`/`errmsg`).
//!    The token is kept until five minutes before it expires (at most half
//!    its life for short-lived ones) and shared by every send of this
//!    adapter; one fetch at a time.
//! 2. `POST /cgi-bin/message/template/send?access_token=TOKEN` with
//!    `{"touser":OPENID,"template_id":…,"url":…,"data":{"key":{"value":…}}}`
//!    answers `{"errcode":0,"errmsg":"ok","msgid":…}`. When WeChat says the
//!    token is invalid or expired (40001, 40014, 42001: another node or
//!    process may have fetched a newer one), the token is fetched again and
//!    the message sent once more.
//!
//! Errors: -1 (system busy), 45009 and 45011 (rate limits), network
//! trouble and 5xx are worth another try; 40003 (invalid openid), 43004
//! (the follower unsubscribed), 40037 (invalid template), 40013/40125
//! (wrong AppID/AppSecret), 40164 (this server's address not whitelisted)
//! and every other code are permanent.
//!
//! The token cache reads the monotonic clock (`tokio::time::Instant`): it
//! decides nothing but when to ask WeChat again. The AppSecret, the access
//! token and the openid never appear in an error message.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{Checker, ConfigError, Secret, default_timeout_secs};
use crate::http;
use crate::outcome::{Delivered, DeliveryError};

const VENDOR: &str = "WeChat";
const DEFAULT_BASE: &str = "https://api.weixin.qq.com";

/// An Official Account's developer credentials (公众号 → 设置与开发 → 基本配置), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeChatMpConfig {
    /// The AppID (开发者ID, `wx…`; not secret).
    pub app_id: String,
    /// The AppSecret (开发者密码).
    pub app_secret: Secret,
    /// Replaces `https://api.weixin.qq.com` (tests, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Seconds each exchange may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl WeChatMpConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("WeChat Official Account");
        check.text("app_id", &self.app_id);
        let alnum =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric());
        let app_id = self.app_id.as_str();
        let well_formed = app_id.starts_with("wx") && alnum(app_id, 18);
        if !app_id.trim().is_empty() && !well_formed {
            check.fail("app_id", "must be wx followed by 16 letters or digits");
        }
        check.secret("app_secret", &self.app_secret);
        let secret = self.app_secret.expose();
        if !secret.trim().is_empty() && !alnum(secret, 32) {
            check.fail("app_secret", "must be 32 letters or digits");
        }
        check.base_url("base_url", self.base_url.as_deref());
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// A fetched access token and when to stop using it.
struct Token {
    value: Secret,
    until: Instant,
}

/// Sends template messages through one Official Account.
pub struct WeChatMp {
    config: WeChatMpConfig,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
}

impl std::fmt::Debug for WeChatMp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeChatMp")
            .field("app_id", &self.config.app_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    msgid: Option<Value>,
}

/// The codes that say the access token is no longer good.
const STALE_TOKEN: [i64; 3] = [40001, 40014, 42001];

impl WeChatMp {
    /// Validates the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &WeChatMpConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            http: http::client(
                "WeChat Official Account",
                Duration::from_secs(config.timeout_secs),
            )?,
            token: Mutex::new(None),
        })
    }

    /// Sends one template message to the follower `openid`: `template_id`
    /// as approved in the account, `url` opened when the follower taps it,
    /// `data` the template's fields in order (`("number", "KS-…")` becomes
    /// `"number": {"value": "KS-…"}`). One attempt (plus one with a fresh
    /// token when WeChat says the cached one went stale).
    ///
    /// # Errors
    /// A [`DeliveryError`]: retryable for network trouble, a timeout, a 5xx,
    /// -1, 45009 and 45011; permanent for every other `errcode`.
    pub async fn send_template(
        &self,
        openid: &str,
        template_id: &str,
        url: Option<&str>,
        data: &[(&str, &str)],
    ) -> Result<Delivered, DeliveryError> {
        let result = self.send_once(openid, template_id, url, data).await;
        let mut secrets = vec![self.config.app_secret.expose(), openid];
        let token = self.token.lock().await;
        if let Some(t) = token.as_ref() {
            secrets.push(t.value.expose());
        }
        result.map_err(|e| e.scrubbed(&secrets))
    }

    async fn send_once(
        &self,
        openid: &str,
        template_id: &str,
        url: Option<&str>,
        data: &[(&str, &str)],
    ) -> Result<Delivered, DeliveryError> {
        if openid.trim().is_empty() {
            return Err(DeliveryError::permanent("invalid recipient: no openid"));
        }
        if template_id.trim().is_empty() {
            return Err(DeliveryError::permanent("the template id is empty"));
        }
        let fields: Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!({ "value": v })))
            .collect();
        let mut body = json!({
            "touser": openid,
            "template_id": template_id,
            "data": fields,
        });
        if let Some(url) = url {
            body["url"] = json!(url);
        }
        let token = self.access_token(false).await?;
        match self.post(&token, &body).await {
            Err(Stale) => {
                let token = self.access_token(true).await?;
                self.post(&token, &body).await.map_err(|Stale| {
                    DeliveryError::retryable(
                        "WeChat refused a freshly fetched access token; trying again later",
                    )
                })?
            }
            Ok(answer) => answer,
        }
    }

    /// The cached access token, or a new one when there is none, it is about
    /// to expire, or `refresh` (WeChat refused it).
    async fn access_token(&self, refresh: bool) -> Result<Secret, DeliveryError> {
        let mut cached = self.token.lock().await;
        if !refresh
            && let Some(t) = cached.as_ref()
            && Instant::now() < t.until
        {
            return Ok(t.value.clone());
        }
        *cached = None;
        let base = self.config.base_url.as_deref().unwrap_or(DEFAULT_BASE);
        let mut url = http::endpoint(base, "/cgi-bin/token")?;
        url.set_query(Some(&http::query(&[
            ("grant_type", "client_credential"),
            ("appid", &self.config.app_id),
            ("secret", self.config.app_secret.expose()),
        ])));
        let reply = http::exchange(self.http.get(url), VENDOR).await?;
        if let Some(e) = reply.transient_status(VENDOR) {
            return Err(e);
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&reply.body).map_err(|_| reply.unreadable(VENDOR))?;
        match (answer.access_token, answer.errcode.unwrap_or(0)) {
            (Some(token), 0) if !token.is_empty() => {
                let life = answer.expires_in.unwrap_or(7200);
                let keep = life.saturating_sub(300).max(life / 2);
                let token = Secret::new(token);
                *cached = Some(Token {
                    value: token.clone(),
                    until: Instant::now() + Duration::from_secs(keep),
                });
                Ok(token)
            }
            (_, code) => Err(classify(
                "refused the access token request",
                code,
                answer.errmsg.as_deref().unwrap_or_default(),
            )),
        }
    }

    /// Posts the message; `Err(Stale)` when WeChat refused the token.
    async fn post(
        &self,
        token: &Secret,
        body: &Value,
    ) -> Result<Result<Delivered, DeliveryError>, Stale> {
        let base = self.config.base_url.as_deref().unwrap_or(DEFAULT_BASE);
        let url = match http::endpoint(base, "/cgi-bin/message/template/send") {
            Ok(mut url) => {
                url.set_query(Some(&http::query(&[("access_token", token.expose())])));
                url
            }
            Err(e) => return Ok(Err(e)),
        };
        let reply = match http::exchange(self.http.post(url).json(body), VENDOR).await {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(e) = reply.transient_status(VENDOR) {
            return Ok(Err(e));
        }
        let Ok(answer) = serde_json::from_slice::<SendAnswer>(&reply.body) else {
            return Ok(Err(reply.unreadable(VENDOR)));
        };
        if STALE_TOKEN.contains(&answer.errcode) {
            return Err(Stale);
        }
        if answer.errcode == 0 {
            return Ok(Ok(Delivered {
                receipt: answer.msgid.map(|id| match id {
                    Value::String(s) => s,
                    other => other.to_string(),
                }),
                request_id: None,
            }));
        }
        Ok(Err(classify(
            "refused the message",
            answer.errcode,
            &answer.errmsg,
        )))
    }
}

/// WeChat refused the access token (40001, 40014, 42001).
struct Stale;

fn classify(what: &str, code: i64, message: &str) -> DeliveryError {
    // WeChat appends a request id (`rid: …`) to errmsg; keep the words.
    let message = message.split(" rid:").next().unwrap_or_default();
    let text = format!("{VENDOR} {what}: {code} ({})", http::clip(message.trim()));
    let error = if matches!(code, -1 | 45009 | 45011) {
        DeliveryError::retryable(text)
    } else {
        DeliveryError::permanent(text)
    };
    error.with_vendor_code(code.to_string())
}
