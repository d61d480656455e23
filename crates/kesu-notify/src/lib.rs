//! Outbound delivery for kesu: one adapter per channel that hands one
//! message to one vendor and says how that went.
//!
//! | channel | adapter | configuration | message |
//! | --- | --- | --- | --- |
//! | e-mail (staff, customers) | [`SmtpMailer`] | [`SmtpConfig`] | [`OutgoingMail`] |
//! | WeCom 企业微信 group robot (staff) | [`WeComRobot`] | [`WeComConfig`] | [`RobotMessage`] |
//! | DingTalk 钉钉 group robot (staff) | [`DingTalkRobot`] | [`DingTalkConfig`] | [`RobotMessage`] |
//! | SMS, Alibaba Cloud 阿里云 (customers) | [`AliyunSms`] | [`AliyunSmsConfig`] | [`AliyunMessage`] |
//! | SMS, Tencent Cloud 腾讯云 (customers) | [`TencentSms`] | [`TencentSmsConfig`] | [`TencentMessage`] |
//! | WeChat Official Account 公众号 template message (customers) | [`WeChatMp`] | [`WeChatMpConfig`] | openid, template, fields |
//!
//! In-app notifications are rows in the database and need no adapter.
//!
//! # What this crate never does
//!
//! - **No database.** Configurations are serde structs that storage keeps
//!   as JSON; this crate neither reads nor writes them.
//! - **No retries.** Each `send` makes exactly one attempt. The caller's
//!   outbox decides when to try again: a [`DeliveryError`] says whether that
//!   can help ([`Retry::Later`]: network trouble, a timeout, a 5xx, the
//!   vendor's rate limit) or not ([`Retry::Never`]: bad credentials, an
//!   invalid recipient, a rejected template). Delivery is at least once: a
//!   timeout after the vendor accepted a message means it goes out twice on
//!   retry; a mail keeps its Message-ID, so clients show it once.
//! - **No clock of its own.** Signed requests take `now` as an argument
//!   (DingTalk, Alibaba Cloud, Tencent Cloud). Nonces are random.
//! - **No secrets in output.** Keys, tokens and passwords are [`Secret`]s,
//!   which `Debug` prints as `***`; error messages carry neither secrets nor
//!   request URLs, nor the recipient's phone number or address.
//!
//! # How to use it
//!
//! Build an adapter once from its validated configuration (it keeps a
//! connection pool), then call `send` for each message:
//!
//! ```no_run
//! use kesu_notify::{DingTalkConfig, DingTalkRobot, RobotMessage, Retry, Secret};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config: DingTalkConfig = serde_json::from_str(
//!     r#"{"access_token": "…", "secret": "SEC…"}"#,
//! )?;
//! config.validate()?; // the settings page shows each problem by field
//! let robot = DingTalkRobot::new(&config)?;
//!
//! let message = RobotMessage::text("投诉 TS20250101-0001 已超时，请处理");
//! match robot.send(&message, jiff::Timestamp::now()).await {
//!     Ok(_) => { /* mark the outbox row sent */ }
//!     Err(e) if e.retry() == Retry::Later => { /* schedule another try */ }
//!     Err(e) => { /* give up; show e.message() to an admin */ }
//! }
//! # Ok(()) }
//! ```
//!
//! TLS is rustls with the *ring* provider and the Mozilla roots
//! (webpki-roots), for SMTP and HTTP alike. Every HTTP configuration has a
//! `base_url` that replaces the vendor's host, which is how the tests talk
//! to a local peer.

pub mod aliyun;
mod config;
pub mod dingtalk;
mod http;
mod mac;
mod outcome;
mod robot;
pub mod smtp;
pub mod tencent;
pub mod wechat;
pub mod wecom;

pub use aliyun::{AliyunMessage, AliyunSms, AliyunSmsConfig};
pub use config::{ConfigError, DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS, Problem, Secret};
pub use dingtalk::{DingTalkConfig, DingTalkRobot};
pub use http::percent_encode;
pub use outcome::{Delivered, DeliveryError, Retry};
pub use robot::RobotMessage;
pub use smtp::{OutgoingMail, SmtpConfig, SmtpMailer, SmtpSecurity};
pub use tencent::{TencentMessage, TencentSms, TencentSmsConfig};
pub use wechat::{WeChatMp, WeChatMpConfig};
pub use wecom::{WeComConfig, WeComRobot};

/// Makes ring the process-wide rustls provider, once; later calls do nothing.
///
/// kesu-notify builds its own clients with ring and needs no global state,
/// but it switches on reqwest's `rustls-no-provider` feature, and Cargo
/// unifies features: every other `reqwest::Client` in the same build then
/// panics when built unless a provider is installed. Binaries (and tests)
/// that build their own reqwest clients call this first.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
