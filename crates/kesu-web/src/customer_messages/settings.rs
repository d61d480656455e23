//! What the admin sets for customer messages (settings JSON
//! [`SETTINGS_KEY`]): per occasion on/off and its texts, the SMS provider
//! and its account, quiet hours for SMS and the portal's public address.

use std::collections::BTreeMap;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use kesu_notify::{AliyunSmsConfig, TencentSmsConfig};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::i18n::{Lang, t};

/// The settings key.
pub const SETTINGS_KEY: &str = "customer_messages";

/// When a customer hears from the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Occasion {
    /// 受理回执: registered by staff (phone, walk-in …): with the number and
    /// the tracking code issued with it.
    Received,
    /// 受理回执: filed online (portal, app): the code was shown at filing.
    ReceivedOnline,
    /// 处理进展: dispatched / handling started (once per handling round).
    Progress,
    /// 方案待确认: a proposal waits for the customer's answer.
    Proposal,
    /// 处理结果: the result was fed back.
    Result,
    /// 满意度调查: the survey on the portal.
    Survey,
    /// 结案
    Closed,
}

impl Occasion {
    pub const ALL: &'static [Occasion] = &[
        Occasion::Received,
        Occasion::ReceivedOnline,
        Occasion::Progress,
        Occasion::Proposal,
        Occasion::Result,
        Occasion::Survey,
        Occasion::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Occasion::Received => "received",
            Occasion::ReceivedOnline => "received_online",
            Occasion::Progress => "progress",
            Occasion::Proposal => "proposal",
            Occasion::Result => "result",
            Occasion::Survey => "survey",
            Occasion::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Occasion> {
        Occasion::ALL.iter().copied().find(|o| o.as_str() == s)
    }

    /// The texts it has until the admin changes them, in the desk's
    /// language (Chinese).
    pub fn default_text(self) -> OccasionText {
        let key = |part: &str| t(Lang::Zh, &format!("cmsg.default.{}.{part}", self.as_str()));
        let params: &[&str] = match self {
            Occasion::Received => &["number", "code"],
            Occasion::ReceivedOnline | Occasion::Progress | Occasion::Closed => &["number"],
            Occasion::Proposal | Occasion::Result | Occasion::Survey => &["number", "link"],
        };
        OccasionText {
            on: self != Occasion::Closed,
            email_subject: key("subject"),
            email_body: key("body"),
            sms_text: key("sms"),
            sms_template: String::new(),
            sms_params: params.iter().map(|p| (*p).to_owned()).collect(),
            wechat_template: String::new(),
            wechat_fields: Vec::new(),
        }
    }
}

/// One occasion's switch and texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccasionText {
    pub on: bool,
    pub email_subject: String,
    pub email_body: String,
    /// The SMS as the customer reads it (the vendor's approved template
    /// should say the same; kept for the admin and the complaint page).
    pub sms_text: String,
    /// The vendor's approved template: Alibaba `TemplateCode`
    /// (`SMS_123456789`), Tencent `TemplateId` (`1110`). Empty: no SMS for
    /// this occasion.
    #[serde(default)]
    pub sms_template: String,
    /// The placeholders that fill the vendor's parameters: Alibaba by
    /// name (`${number}`), Tencent by position (`{1}`, `{2}` …).
    #[serde(default)]
    pub sms_params: Vec<String>,
    /// The official account's template message (`template_id` from the
    /// account's 模板消息 list). Empty: no WeChat message for this occasion.
    #[serde(default)]
    pub wechat_template: String,
    /// Each template keyword (`first`, `keyword1`, `remark` …) and the
    /// placeholder that fills it.
    #[serde(default)]
    pub wechat_fields: Vec<(String, String)>,
}

/// The SMS provider and its account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum SmsProvider {
    #[default]
    None,
    Aliyun(AliyunSmsConfig),
    Tencent(TencentSmsConfig),
}

impl SmsProvider {
    pub fn is_set(&self) -> bool {
        !matches!(self, SmsProvider::None)
    }

    pub fn code(&self) -> &'static str {
        match self {
            SmsProvider::None => "none",
            SmsProvider::Aliyun(_) => "aliyun",
            SmsProvider::Tencent(_) => "tencent",
        }
    }
}

/// The customer-message settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMessages {
    /// By occasion code; an occasion missing has its defaults.
    #[serde(default)]
    pub occasions: BTreeMap<String, OccasionText>,
    #[serde(default)]
    pub sms: SmsProvider,
    /// Quiet hours for SMS, `HH:MM` in the desk's time zone; equal: none.
    #[serde(default = "default_quiet_start")]
    pub quiet_start: String,
    #[serde(default = "default_quiet_end")]
    pub quiet_end: String,
    /// The portal's public address (`https://kefu.example.com`); none: the
    /// messages name the portal without a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// Hours between the result and the survey message (the customer first
    /// lives with the result); 0: together.
    #[serde(default = "default_survey_delay_hours")]
    pub survey_delay_hours: u32,
}

/// The longest survey delay the page takes: a month.
pub const MAX_SURVEY_DELAY_HOURS: u32 = 720;

fn default_survey_delay_hours() -> u32 {
    24
}

fn default_quiet_start() -> String {
    "21:00".to_owned()
}

fn default_quiet_end() -> String {
    "08:00".to_owned()
}

impl Default for CustomerMessages {
    fn default() -> Self {
        CustomerMessages {
            occasions: BTreeMap::new(),
            sms: SmsProvider::None,
            quiet_start: default_quiet_start(),
            quiet_end: default_quiet_end(),
            portal_url: None,
            survey_delay_hours: default_survey_delay_hours(),
        }
    }
}

/// `HH:MM` (or `H:MM`) as a time of day.
pub fn parse_clock(raw: &str) -> Option<Time> {
    let (h, m) = raw.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

impl CustomerMessages {
    /// The saved settings; `None` when never saved (the feature is off).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(
        state: &AppState,
    ) -> Result<Option<CustomerMessages>, kesu_storage::StorageError> {
        Ok(state.db.setting(SETTINGS_KEY).await?.map(|raw| {
            serde_json::from_str(&raw).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "customer message settings unreadable; using none");
                CustomerMessages::default()
            })
        }))
    }

    /// An occasion's switch and texts (its defaults when never saved).
    pub fn text(&self, o: Occasion) -> OccasionText {
        self.occasions
            .get(o.as_str())
            .cloned()
            .unwrap_or_else(|| o.default_text())
    }

    /// Whether any occasion is on.
    pub fn any_on(&self) -> bool {
        Occasion::ALL.iter().any(|o| self.text(*o).on)
    }

    /// When an SMS due at `now` may go: `now`, or the end of the quiet
    /// hours it falls in (in `tz`).
    pub fn sms_not_before(&self, now: Timestamp, tz: &TimeZone) -> Timestamp {
        let (Some(start), Some(end)) =
            (parse_clock(&self.quiet_start), parse_clock(&self.quiet_end))
        else {
            return now;
        };
        if start == end {
            return now;
        }
        let zoned = now.to_zoned(tz.clone());
        let time = zoned.time();
        let (quiet, tomorrow) = if start < end {
            (time >= start && time < end, false)
        } else {
            (time >= start || time < end, time >= start)
        };
        if !quiet {
            return now;
        }
        let day = if tomorrow {
            zoned.date().checked_add(1.day()).unwrap_or(zoned.date())
        } else {
            zoned.date()
        };
        day.to_datetime(end)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn an_sms_in_quiet_hours_waits_for_their_end_in_the_desks_zone() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC);
        let s = CustomerMessages::default();
        // 22:30 Beijing → 08:00 the next morning.
        assert_eq!(
            s.sms_not_before(at("2026-11-23T14:30:00Z"), &tz),
            at("2026-11-24T00:00:00Z")
        );
        // 06:00 Beijing → 08:00 the same morning.
        assert_eq!(
            s.sms_not_before(at("2026-11-23T22:00:00Z"), &tz),
            at("2026-11-24T00:00:00Z")
        );
        // 10:00 Beijing: at once.
        assert_eq!(
            s.sms_not_before(at("2026-11-23T02:00:00Z"), &tz),
            at("2026-11-23T02:00:00Z")
        );
        let day = CustomerMessages {
            quiet_start: "12:00".into(),
            quiet_end: "13:30".into(),
            ..CustomerMessages::default()
        };
        assert_eq!(
            day.sms_not_before(at("2026-11-23T04:10:00Z"), &tz),
            at("2026-11-23T05:30:00Z")
        );
        assert_eq!(parse_clock("25:00"), None);
        assert_eq!(parse_clock("9:5"), None);
        assert!(parse_clock("9:05").is_some());
    }
}
