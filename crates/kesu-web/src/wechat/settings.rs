//! The Official Account as the admin set it up (settings key `wechat`):
//! on/off, the Token (令牌) WeChat signs its requests with, the App ID and
//! AppSecret template messages are sent with (a [`WeChatMpConfig`], so the
//! notification outbox builds a [`kesu_notify::WeChatMp`] from the same
//! JSON), and the desk's public address.

use kesu_notify::{Secret, WeChatMpConfig};
use kesu_storage::StorageError;
use kesu_storage::wechat::WECHAT_KEY;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The account's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeChatSettings {
    /// The endpoint answers only when on (404 otherwise).
    #[serde(default)]
    pub enabled: bool,
    /// The Token (令牌) typed into the account's server configuration:
    /// 3–32 letters or digits. A shared secret: never shown again.
    pub token: Secret,
    /// The desk's public address (`https://kesu.example.com`): the URL to
    /// paste into WeChat is this plus `/wechat`, and answers point to the
    /// portal here. `None`: the page shows the address it was reached at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(flatten)]
    pub account: WeChatMpConfig,
}

impl WeChatSettings {
    /// The saved account, if any (unreadable settings are logged and ignored).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(state: &AppState) -> Result<Option<WeChatSettings>, StorageError> {
        Ok(state
            .db
            .setting(WECHAT_KEY)
            .await?
            .and_then(|raw| match serde_json::from_str(&raw) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "WeChat settings unreadable; the endpoint is off");
                    None
                }
            }))
    }

    /// Saves the account.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn save(&self, state: &AppState) -> Result<(), StorageError> {
        let json = serde_json::to_string(self).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        state.db.set_setting(WECHAT_KEY, &json).await
    }

    /// The portal's address for answers (`https://…/portal`), when known.
    pub fn portal_url(&self) -> Option<String> {
        self.public_url
            .as_deref()
            .map(|u| format!("{}/portal", u.trim_end_matches('/')))
    }
}

/// Whether a Token is one WeChat accepts: 3–32 letters or digits.
pub fn token_ok(token: &str) -> bool {
    (3..=32).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric())
}
