//! Alibaba Cloud SMS (阿里云短信, `dysmsapi`, API version 2017-05-25):
//! `SendSms` as an RPC-style `GET /?…&Signature=…`.
//!
//! The signature is Alibaba's POP v1 (HMAC-SHA1): every parameter but
//! `Signature`, sorted by name, each name and value [`percent_encode`]d and
//! joined as `k=v&k=v` (the canonicalized query);
//! `StringToSign = "GET&%2F&" + percent_encode(canonicalized)`;
//! `Signature = base64(HMAC-SHA1(key = AccessKeySecret + "&", StringToSign))`.
//! [`signature`] is that function alone; the nonce and timestamp are
//! arguments of [`AliyunSms::signed_query`], so both can be checked against
//! Alibaba's worked examples.
//!
//! Answers: `{"Code":"OK","BizId":…,"RequestId":…}` is accepted. Throttling
//! is worth another try (`isv.BUSINESS_LIMIT_CONTROL`, `isv.DAY_LIMIT_CONTROL`,
//! `Throttling*`), and so are `SignatureNonceUsed` (the retry draws a new
//! nonce), `isp.SYSTEM_ERROR`, `ServiceUnavailable` and `InternalError`; every
//! other code (`isv.MOBILE_NUMBER_ILLEGAL`, `isv.SMS_TEMPLATE_ILLEGAL`,
//! `InvalidAccessKeyId.NotFound`, `SignatureDoesNotMatch`, …) is permanent.
//!
//! [`percent_encode`]: crate::percent_encode

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::config::{Checker, ConfigError, Secret, default_timeout_secs};
use crate::http::{self, percent_encode};
use crate::outcome::{Delivered, DeliveryError};

const VENDOR: &str = "Alibaba Cloud SMS";
const DEFAULT_BASE: &str = "https://dysmsapi.aliyuncs.com";

/// An Alibaba Cloud SMS account, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliyunSmsConfig {
    /// The AccessKey ID (an identifier, not secret).
    pub access_key_id: String,
    /// The AccessKey secret.
    pub access_key_secret: Secret,
    /// The approved signature name (短信签名) shown as 【…】 in the message.
    pub sign_name: String,
    /// `RegionId` (default `cn-hangzhou`).
    #[serde(default = "default_region")]
    pub region_id: String,
    /// Replaces `https://dysmsapi.aliyuncs.com` (tests, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Seconds the whole exchange may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_region() -> String {
    "cn-hangzhou".to_owned()
}

impl AliyunSmsConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("Alibaba Cloud SMS");
        check.text("access_key_id", &self.access_key_id);
        check.secret("access_key_secret", &self.access_key_secret);
        check.text("sign_name", &self.sign_name);
        check.text("region_id", &self.region_id);
        check.base_url("base_url", self.base_url.as_deref());
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// One text message to one phone number, from an approved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliyunMessage {
    /// The mainland number (`13800138000`) or `+`/`00` and country code.
    pub phone_number: String,
    /// The approved template (`SMS_123456789`).
    pub template_code: String,
    /// The template's variables by name (`{"code": "1234"}`); sent as
    /// `TemplateParam` JSON, left out when empty.
    #[serde(default)]
    pub template_param: BTreeMap<String, String>,
    /// `OutId`: the caller's id, echoed in delivery receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_id: Option<String>,
}

/// Alibaba Cloud's POP v1 signature of `params` (every parameter but
/// `Signature`; the order given does not matter), base64, not URL-encoded.
pub fn signature<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    access_key_secret: &str,
) -> String {
    let key = format!("{access_key_secret}&");
    let mac = crate::mac::hmac_sha1(key.as_bytes(), string_to_sign(params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// `GET&%2F&` + the percent-encoded canonicalized query.
pub fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    format!("GET&%2F&{}", percent_encode(&canonicalized(params)))
}

fn canonicalized<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, _)| *k != "Signature")
        .collect();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sends SMS through one Alibaba Cloud account.
#[derive(Debug, Clone)]
pub struct AliyunSms {
    config: AliyunSmsConfig,
    http: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

impl AliyunSms {
    /// Validates the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &AliyunSmsConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            http: http::client(
                "Alibaba Cloud SMS",
                Duration::from_secs(config.timeout_secs),
            )?,
        })
    }

    /// The signed query string (`Signature=…&AccessKeyId=…&…`) for one
    /// message, with the given `SignatureNonce` and `Timestamp`.
    ///
    /// # Errors
    /// Permanent, when the template variables cannot be written as JSON.
    pub fn signed_query(
        &self,
        message: &AliyunMessage,
        nonce: &str,
        timestamp: jiff::Timestamp,
    ) -> Result<String, DeliveryError> {
        let timestamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let template_param = if message.template_param.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&message.template_param).map_err(|e| {
                DeliveryError::permanent(format!("cannot write the template variables: {e}"))
            })?)
        };
        let c = &self.config;
        let mut params: Vec<(&str, &str)> = vec![
            ("AccessKeyId", &c.access_key_id),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", &message.phone_number),
            ("RegionId", &c.region_id),
            ("SignName", &c.sign_name),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", &message.template_code),
            ("Timestamp", &timestamp),
            ("Version", "2017-05-25"),
        ];
        if let Some(param) = &template_param {
            params.push(("TemplateParam", param));
        }
        if let Some(out_id) = &message.out_id {
            params.push(("OutId", out_id));
        }
        let signature = signature(params.iter().copied(), c.access_key_secret.expose());
        Ok(format!(
            "Signature={}&{}",
            percent_encode(&signature),
            canonicalized(params.iter().copied())
        ))
    }

    /// Sends the message, once, signed for `now` (the current time) with a
    /// fresh random nonce.
    ///
    /// # Errors
    /// A [`DeliveryError`]: retryable for network trouble, a timeout, a 5xx
    /// and the codes listed in the module docs; permanent otherwise.
    pub async fn send(
        &self,
        message: &AliyunMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        self.get(message, now).await.map_err(|e| {
            e.scrubbed(&[
                self.config.access_key_secret.expose(),
                &message.phone_number,
            ])
        })
    }

    async fn get(
        &self,
        message: &AliyunMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        check_message(message)?;
        let query = self.signed_query(message, &nonce()?, now)?;
        let base = self.config.base_url.as_deref().unwrap_or(DEFAULT_BASE);
        let mut url = http::endpoint(base, "/")?;
        url.set_query(Some(&query));
        let reply = http::exchange(self.http.get(url), VENDOR).await?;
        if let Some(e) = reply.transient_status(VENDOR) {
            return Err(e);
        }
        let answer: Answer =
            serde_json::from_slice(&reply.body).map_err(|_| reply.unreadable(VENDOR))?;
        if answer.code == "OK" {
            return Ok(Delivered {
                receipt: answer.biz_id,
                request_id: answer.request_id,
            });
        }
        Err(classify(&answer.code, &answer.message))
    }
}

fn check_message(message: &AliyunMessage) -> Result<(), DeliveryError> {
    let phone = message.phone_number.trim_start_matches('+');
    if phone.is_empty() || !phone.chars().all(|c| c.is_ascii_digit()) {
        return Err(DeliveryError::permanent(
            "invalid recipient: the phone number must be digits",
        ));
    }
    if message.template_code.trim().is_empty() {
        return Err(DeliveryError::permanent("the template code is empty"));
    }
    Ok(())
}

/// A `SignatureNonce`: 128 random bits in hex.
fn nonce() -> Result<String, DeliveryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| DeliveryError::retryable(format!("no randomness for the nonce: {e}")))?;
    Ok(hex::encode(bytes))
}

fn classify(code: &str, message: &str) -> DeliveryError {
    // SignatureDoesNotMatch quotes the whole string to sign, phone number
    // included: keep only the sentence before it.
    let message = message
        .split("server string to sign is")
        .next()
        .unwrap_or_default();
    let text = format!(
        "{VENDOR} refused the message: {code} ({})",
        http::clip(message.trim())
    );
    let retryable = matches!(
        code,
        "isv.BUSINESS_LIMIT_CONTROL"
            | "isv.DAY_LIMIT_CONTROL"
            | "SignatureNonceUsed"
            | "isp.SYSTEM_ERROR"
            | "ServiceUnavailable"
            | "InternalError"
    ) || code.starts_with("Throttling");
    let error = if retryable {
        DeliveryError::retryable(text)
    } else {
        DeliveryError::permanent(text)
    };
    error.with_vendor_code(code)
}
