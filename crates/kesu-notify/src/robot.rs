//! The message a group robot posts (WeCom 企业微信 and DingTalk 钉钉 alike).

use serde::{Deserialize, Serialize};

/// A message for a staff group chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RobotMessage {
    /// Plain text. `mention_mobiles` are the mobile numbers of group members
    /// to @-mention (WeCom `mentioned_mobile_list`, DingTalk `atMobiles`);
    /// WeCom also understands `"@all"`.
    Text {
        content: String,
        #[serde(default)]
        mention_mobiles: Vec<String>,
    },
    /// Markdown. `title` is what DingTalk shows in the chat list (WeCom has
    /// no title and ignores it). Neither vendor @-mentions from markdown by
    /// mobile number here: use a text message to call someone.
    Markdown { title: String, content: String },
}

impl RobotMessage {
    /// A text message without mentions.
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text {
            content: content.into(),
            mention_mobiles: Vec::new(),
        }
    }

    /// A markdown message.
    pub fn markdown(title: impl Into<String>, content: impl Into<String>) -> Self {
        Self::Markdown {
            title: title.into(),
            content: content.into(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), crate::DeliveryError> {
        let content = match self {
            Self::Text { content, .. } | Self::Markdown { content, .. } => content,
        };
        if content.trim().is_empty() {
            return Err(crate::DeliveryError::permanent(
                "the robot message is empty",
            ));
        }
        Ok(())
    }
}
