//! Sending one queued SMS through the configured provider: the outbox row
//! carries the recipient, the text (for people) and the vendor template with
//! its parameters ([`SmsPayload`] JSON in `payload`).

use jiff::Timestamp;
use kesu_notify::{AliyunMessage, AliyunSms, DeliveryError, TencentMessage, TencentSms};
use kesu_storage::customer_notices::SmsPayload;
use kesu_storage::outbox::OutboxRow;

use super::settings::SmsProvider;

/// Whether a phone number can take an SMS: a mainland mobile number
/// (`13800138000`, `+86 138 0013 8000`) or an international one with `+`.
pub fn mobile(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let plain = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    if plain.len() == 11 && plain.starts_with('1') && plain.bytes().all(|b| b.is_ascii_digit()) {
        return Some(plain.to_owned());
    }
    match digits.strip_prefix('+') {
        Some(rest)
            if (8..=15).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(digits.clone())
        }
        _ => None,
    }
}

/// E.164 for Tencent (`+8613800138000`).
fn e164(phone: &str) -> String {
    if phone.starts_with('+') {
        phone.to_owned()
    } else {
        format!("+86{phone}")
    }
}

/// Sends one SMS row, once.
///
/// # Errors
/// The vendor's refusal or the network's trouble; permanent when no
/// provider is set up or the row cannot be read.
pub async fn send(
    provider: &SmsProvider,
    row: &OutboxRow,
    now: Timestamp,
) -> Result<(), DeliveryError> {
    let payload: SmsPayload = row
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .ok_or_else(|| DeliveryError::permanent("the SMS has no template parameters"))?;
    let out_id = format!("kesu-outbox-{}", row.id);
    match provider {
        SmsProvider::None => Err(DeliveryError::permanent("the sms channel is not set up")),
        SmsProvider::Aliyun(config) => {
            let sms =
                AliyunSms::new(config).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            let message = AliyunMessage {
                phone_number: row.recipient.clone(),
                template_code: payload.template,
                template_param: payload.params.into_iter().collect(),
                out_id: Some(out_id),
            };
            sms.send(&message, now).await.map(|_| ())
        }
        SmsProvider::Tencent(config) => {
            let sms =
                TencentSms::new(config).map_err(|e| DeliveryError::permanent(e.to_string()))?;
            let message = TencentMessage {
                phone_number: e164(&row.recipient),
                template_id: payload.template,
                template_params: payload.params.into_iter().map(|(_, v)| v).collect(),
                session_context: Some(out_id),
            };
            sms.send(&message, now).await.map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mobile_numbers_take_an_sms() {
        assert_eq!(mobile("138 0013 8000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("+86-13800138000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("+85291234567").as_deref(), Some("+85291234567"));
        assert_eq!(mobile("010-12345678"), None);
        assert_eq!(mobile("12345"), None);
        assert_eq!(e164("13800138000"), "+8613800138000");
    }
}
