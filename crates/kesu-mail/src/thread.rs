//! Which complaint a mail belongs to: the complaint number in the subject
//! first, then the message ids it answers.

use serde::{Deserialize, Serialize};

/// How the caller finds the complaint a mail continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum ThreadKey {
    /// A kesu number in the subject (`KS-20261123-0042`), upper-cased.
    /// The strongest key: customers keep it when they forward or write anew.
    ComplaintNumber(String),
    /// The message ids the mail answers, nearest first (In-Reply-To, then
    /// References from the last), without angle brackets and without
    /// duplicates. Look each up among the ids of mails kesu sent or received.
    MessageIds(Vec<String>),
    /// A new conversation.
    New,
}

/// Decides the thread key from the parts of a mail.
pub fn thread_key(
    complaint_number: Option<&str>,
    in_reply_to: &[String],
    references: &[String],
) -> ThreadKey {
    if let Some(n) = complaint_number {
        return ThreadKey::ComplaintNumber(n.to_string());
    }
    let mut ids: Vec<String> = Vec::new();
    for id in in_reply_to.iter().chain(references.iter().rev()) {
        if let Some(id) = normalize_message_id(id)
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        ThreadKey::New
    } else {
        ThreadKey::MessageIds(ids)
    }
}

/// A message id without angle brackets and surrounding space; `None` when
/// nothing is left.
///
/// ```
/// assert_eq!(kesu_mail::normalize_message_id(" <a.1@x.example> ").as_deref(), Some("a.1@x.example"));
/// assert_eq!(kesu_mail::normalize_message_id("<>"), None);
/// ```
pub fn normalize_message_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

/// The first kesu complaint number (`KS-YYYYMMDD-NNNN`, four to nine digits
/// of sequence, as `kesu_domain::ComplaintNumber` reads it) in a text,
/// upper-cased. Case is forgiven and full-width forms (`ＫＳ－２０２６…`,
/// typed with a Chinese input method) are read as their ASCII twins.
///
/// ```
/// assert_eq!(
///     kesu_mail::find_complaint_number("回复：关于投诉 KS-20261123-0042 的处理").as_deref(),
///     Some("KS-20261123-0042")
/// );
/// assert_eq!(kesu_mail::find_complaint_number("Re: [ks-20261123-0042]").as_deref(), Some("KS-20261123-0042"));
/// assert_eq!(kesu_mail::find_complaint_number("KS-2026112-0042"), None);
/// ```
pub fn find_complaint_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().map(half_width).collect();
    (0..chars.len()).find_map(|i| number_at(&chars, i))
}

fn number_at(chars: &[char], start: usize) -> Option<String> {
    if start > 0 && chars[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let rest = chars.get(start..)?;
    let [k, s, '-', rest @ ..] = rest else {
        return None;
    };
    if !k.eq_ignore_ascii_case(&'K') || !s.eq_ignore_ascii_case(&'S') {
        return None;
    }
    let day: String = rest.iter().take_while(|c| c.is_ascii_digit()).collect();
    if day.len() != 8 || rest.get(8) != Some(&'-') {
        return None;
    }
    let seq: String = rest[9..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let after = rest.get(9 + seq.len());
    if !(4..=9).contains(&seq.len()) || after.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(format!("KS-{day}-{seq}"))
}

/// Full-width ASCII (U+FF01–U+FF5E) as ASCII; other characters unchanged.
fn half_width(c: char) -> char {
    match u32::from(c) {
        code @ 0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::{ThreadKey, find_complaint_number, thread_key};

    #[test]
    fn finds_numbers_in_the_usual_subjects() {
        for (subject, number) in [
            (
                "回复：关于投诉 KS-20261123-0042 的处理",
                Some("KS-20261123-0042"),
            ),
            ("Re: [KS-20261123-0042]", Some("KS-20261123-0042")),
            ("答复: 投诉KS-20261123-0042已处理", Some("KS-20261123-0042")),
            ("Fw: ks-20261123-123456789", Some("KS-20261123-123456789")),
            (
                "关于投诉ＫＳ－２０２６１１２３－００４２",
                Some("KS-20261123-0042"),
            ),
            ("KS-20261123-042", None),
            ("KS-20261123-0123456789", None),
            ("XKS-20261123-0042", None),
            ("KS-20261123-0042a", None),
            ("KS20261123-0042", None),
            ("", None),
        ] {
            assert_eq!(
                find_complaint_number(subject).as_deref(),
                number,
                "{subject}"
            );
        }
    }

    #[test]
    fn the_number_comes_before_message_ids() {
        let irt = vec!["<b@x>".to_string()];
        let refs = vec!["<a@x>".to_string(), "<b@x>".to_string(), "c@x".to_string()];
        assert_eq!(
            thread_key(Some("KS-20261123-0042"), &irt, &refs),
            ThreadKey::ComplaintNumber("KS-20261123-0042".into())
        );
        assert_eq!(
            thread_key(None, &irt, &refs),
            ThreadKey::MessageIds(vec!["b@x".into(), "c@x".into(), "a@x".into()])
        );
        assert_eq!(thread_key(None, &[], &["<>".into()]), ThreadKey::New);
    }
}
