//! Tencent Cloud SMS (腾讯云短信): `SendSms`, API version 2021-01-11, a JSON
//! POST to `https://sms.tencentcloudapi.com/` signed with TC3-HMAC-SHA256
//! ([`tc3`]) and the headers `X-TC-Action`, `X-TC-Version`,
//! `X-TC-Timestamp`, `X-TC-Region` and `Authorization`.
//!
//! Answers: `Response.SendStatusSet[0].Code == "Ok"` is accepted (its
//! `SerialNo` is the receipt). `Response.Error` — or a status other than
//! `Ok` for the number — is a failure: `LimitExceeded*`,
//! `RequestLimitExceeded*`, `InternalError` and `InternalError.Timeout` are
//! worth another try; every other code (`AuthFailure.*`,
//! `FailedOperation.TemplateIncorrectOrUnapproved`,
//! `InvalidParameterValue.IncorrectPhoneNumber`, …) is permanent.

pub mod tc3;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{Checker, ConfigError, Secret, default_timeout_secs};
use crate::http;
use crate::outcome::{Delivered, DeliveryError};

const VENDOR: &str = "Tencent Cloud SMS";
const DEFAULT_BASE: &str = "https://sms.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A Tencent Cloud SMS application, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TencentSmsConfig {
    /// The API key's `SecretId` (an identifier, not secret).
    pub secret_id: String,
    /// The API key's `SecretKey`.
    pub secret_key: Secret,
    /// `SmsSdkAppId` of the SMS application (`1400006666`).
    pub sdk_app_id: String,
    /// The approved signature name (短信签名).
    pub sign_name: String,
    /// `X-TC-Region` (default `ap-guangzhou`).
    #[serde(default = "default_region")]
    pub region: String,
    /// Replaces `https://sms.tencentcloudapi.com` (tests, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Seconds the whole exchange may take (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_region() -> String {
    "ap-guangzhou".to_owned()
}

impl TencentSmsConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Every problem found, by field name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut check = Checker::new("Tencent Cloud SMS");
        check.text("secret_id", &self.secret_id);
        check.secret("secret_key", &self.secret_key);
        check.text("sdk_app_id", &self.sdk_app_id);
        if !self.sdk_app_id.chars().all(|c| c.is_ascii_digit()) {
            check.fail(
                "sdk_app_id",
                "must be digits (SmsSdkAppId, like 1400006666)",
            );
        }
        check.text("sign_name", &self.sign_name);
        check.text("region", &self.region);
        check.base_url("base_url", self.base_url.as_deref());
        check.timeout("timeout_secs", self.timeout_secs);
        check.finish()
    }
}

/// One text message to one phone number, from an approved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TencentMessage {
    /// E.164 (`+8613800138000`); an 11-digit mainland number also works.
    pub phone_number: String,
    /// The approved template's id (`1110`).
    pub template_id: String,
    /// The template's variables, in order.
    #[serde(default)]
    pub template_params: Vec<String>,
    /// `SessionContext`: the caller's id, echoed in delivery receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<String>,
}

/// Sends SMS through one Tencent Cloud SMS application.
#[derive(Debug, Clone)]
pub struct TencentSms {
    config: TencentSmsConfig,
    http: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    response: Answer,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    error: Option<Status>,
    #[serde(default)]
    send_status_set: Vec<Status>,
    #[serde(default)]
    request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Status {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    serial_no: Option<String>,
}

impl TencentSms {
    /// Validates the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// The configuration's problems.
    pub fn new(config: &TencentSmsConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            http: http::client(
                "Tencent Cloud SMS",
                Duration::from_secs(config.timeout_secs),
            )?,
        })
    }

    /// The JSON body `SendSms` takes for one message.
    pub fn payload(&self, message: &TencentMessage) -> String {
        let mut body = json!({
            "PhoneNumberSet": [message.phone_number],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": message.template_id,
            "TemplateParamSet": message.template_params,
        });
        if let (Some(context), Some(map)) = (&message.session_context, body.as_object_mut()) {
            map.insert("SessionContext".to_owned(), json!(context));
        }
        body.to_string()
    }

    /// Sends the message, once, signed for `now` (the current time: Tencent
    /// refuses a timestamp more than five minutes off).
    ///
    /// # Errors
    /// A [`DeliveryError`]: retryable for network trouble, a timeout, a 5xx
    /// and the codes listed in the module docs; permanent otherwise.
    pub async fn send(
        &self,
        message: &TencentMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        self.post(message, now)
            .await
            .map_err(|e| e.scrubbed(&[self.config.secret_key.expose(), &message.phone_number]))
    }

    async fn post(
        &self,
        message: &TencentMessage,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        check_message(message)?;
        let base = self.config.base_url.as_deref().unwrap_or(DEFAULT_BASE);
        let url = http::endpoint(base, "/")?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(DeliveryError::permanent("the base URL names no host")),
        };
        let payload = self.payload(message);
        let timestamp = now.as_second();
        let authorization = tc3::authorization(&tc3::Tc3Request {
            secret_id: &self.config.secret_id,
            secret_key: self.config.secret_key.expose(),
            service: "sms",
            host: &host,
            content_type: CONTENT_TYPE,
            payload: payload.as_bytes(),
            timestamp,
        })
        .map_err(|e| DeliveryError::permanent(format!("cannot sign for this time: {e}")))?;
        let request = self
            .http
            .post(url)
            .header("Host", &host)
            .header("Content-Type", CONTENT_TYPE)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Version", "2021-01-11")
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &self.config.region)
            .header("Authorization", authorization)
            .body(payload);
        let reply = http::exchange(request, VENDOR).await?;
        if let Some(e) = reply.transient_status(VENDOR) {
            return Err(e);
        }
        let Envelope { response: answer } =
            serde_json::from_slice(&reply.body).map_err(|_| reply.unreadable(VENDOR))?;
        if let Some(error) = answer.error {
            return Err(classify(&error.code, &error.message));
        }
        match answer.send_status_set.into_iter().next() {
            Some(status) if status.code == "Ok" => Ok(Delivered {
                receipt: status.serial_no,
                request_id: answer.request_id,
            }),
            Some(status) => Err(classify(&status.code, &status.message)),
            None => Err(reply.unreadable(VENDOR)),
        }
    }
}

fn check_message(message: &TencentMessage) -> Result<(), DeliveryError> {
    let phone = message.phone_number.trim_start_matches('+');
    if phone.is_empty() || !phone.chars().all(|c| c.is_ascii_digit()) {
        return Err(DeliveryError::permanent(
            "invalid recipient: the phone number must be digits",
        ));
    }
    if message.template_id.trim().is_empty() {
        return Err(DeliveryError::permanent("the template id is empty"));
    }
    Ok(())
}

fn classify(code: &str, message: &str) -> DeliveryError {
    let text = format!(
        "{VENDOR} refused the message: {code} ({})",
        http::clip(message)
    );
    let retryable = code.starts_with("LimitExceeded")
        || code.starts_with("RequestLimitExceeded")
        || matches!(code, "InternalError" | "InternalError.Timeout");
    let error = if retryable {
        DeliveryError::retryable(text)
    } else {
        DeliveryError::permanent(text)
    };
    error.with_vendor_code(code)
}
