//! Parse, don't validate: values that can only exist once checked.
//!
//! Every constructor returns an [`InputError`] naming the field and the
//! problem; the web layer turns it into a 422 problem or a form message in the
//! reader's language.

use serde::Serialize;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum InputProblem {
    #[error("is required")]
    Missing,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains control characters")]
    ControlCharacters,
    #[error("is not a valid phone number")]
    BadPhone,
    #[error("is not a valid e-mail address")]
    BadEmail,
    #[error("is not a complaint number like KS-20261122-0007")]
    BadNumber,
    #[error("is not an amount between 0 and 100,000,000 yuan")]
    BadAmount,
    #[error("is not one of the allowed values")]
    UnknownValue,
    #[error("is not a score from 1 to 5")]
    BadScore,
    #[error("is not a valid time")]
    BadTime,
    #[error("is shorter than {min} characters")]
    TooShort { min: usize },
    #[error("may only contain a-z, 0-9 and . _ -")]
    BadCode,
    #[error("is not valid base64")]
    BadBase64,
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field} {problem}")]
pub struct InputError {
    pub field: &'static str,
    #[serde(flatten)]
    pub problem: InputProblem,
}

impl InputError {
    pub fn new(field: &'static str, problem: InputProblem) -> Self {
        InputError { field, problem }
    }
}

/// Trimmed text of bounded length without control characters (newlines and
/// tabs are allowed). Returns `None` for empty optional input.
///
/// # Errors
/// `Missing` when required and empty, `TooLong`, `ControlCharacters`.
pub fn text(
    field: &'static str,
    raw: Option<&str>,
    max_chars: usize,
    required: bool,
) -> Result<Option<String>, InputError> {
    let trimmed = raw.map(str::trim).unwrap_or("");
    if trimmed.is_empty() {
        return if required {
            Err(InputError::new(field, InputProblem::Missing))
        } else {
            Ok(None)
        };
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(InputError::new(field, InputProblem::ControlCharacters));
    }
    if trimmed.chars().count() > max_chars {
        return Err(InputError::new(
            field,
            InputProblem::TooLong { max: max_chars },
        ));
    }
    Ok(Some(trimmed.replace("\r\n", "\n")))
}

/// Required text; see [`text`].
///
/// # Errors
/// As [`text`].
pub fn required_text(
    field: &'static str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<String, InputError> {
    text(field, raw, max_chars, true).map(Option::unwrap_or_default)
}

/// A phone number kept as its digits (a leading `+` kept), 5 to 20 digits.
/// Spaces, dashes and brackets people type are dropped.
///
/// # Errors
/// `BadPhone` for anything else.
pub fn phone(field: &'static str, raw: &str) -> Result<String, InputError> {
    let raw = raw.trim();
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '+' if i == 0 => out.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => return Err(InputError::new(field, InputProblem::BadPhone)),
        }
    }
    let digits = out.trim_start_matches('+').len();
    if !(5..=20).contains(&digits) {
        return Err(InputError::new(field, InputProblem::BadPhone));
    }
    Ok(out)
}

/// An e-mail address: one `@`, something before it, a dotted domain after it.
///
/// # Errors
/// `BadEmail`.
pub fn email(field: &'static str, raw: &str) -> Result<String, InputError> {
    let raw = raw.trim();
    let ok = raw.len() <= 254
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
        && match raw.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(InputError::new(field, InputProblem::BadEmail))
    }
}

/// An amount of money in yuan, turned into fen (分), from 0 to 100 million yuan.
///
/// # Errors
/// `BadAmount` for negative, non-finite or larger amounts.
pub fn yuan_to_fen(field: &'static str, yuan: f64) -> Result<i64, InputError> {
    if !yuan.is_finite() || !(0.0..=100_000_000.0).contains(&yuan) {
        return Err(InputError::new(field, InputProblem::BadAmount));
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    Ok((yuan * 100.0).round() as i64)
}

/// A satisfaction score (R-FB-3), 1 (very dissatisfied) to 5 (very satisfied).
///
/// # Errors
/// `BadScore`.
pub fn score(field: &'static str, raw: i64) -> Result<u8, InputError> {
    u8::try_from(raw)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or(InputError::new(field, InputProblem::BadScore))
}

/// A complaint number: `KS-YYYYMMDD-NNNN`. The day is when it was received
/// (in the desk's time zone) and `NNNN` the sequence of that day, at least four
/// digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComplaintNumber(String);

impl ComplaintNumber {
    /// Formats the number for a day (`yyyymmdd` as an integer like 20261122) and sequence.
    pub fn new(day: u32, seq: i64) -> Self {
        ComplaintNumber(format!("KS-{day:08}-{seq:04}"))
    }

    /// Parses what a person typed (case and surrounding space forgiven).
    ///
    /// # Errors
    /// `BadNumber`.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let s = raw.trim().to_ascii_uppercase();
        let bad = || InputError::new("number", InputProblem::BadNumber);
        let rest = s.strip_prefix("KS-").ok_or_else(bad)?;
        let (day, seq) = rest.split_once('-').ok_or_else(bad)?;
        if day.len() != 8
            || !day.bytes().all(|b| b.is_ascii_digit())
            || seq.len() < 4
            || seq.len() > 9
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Ok(ComplaintNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ComplaintNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_keeps_digits_and_drops_what_people_type_between_them() {
        assert_eq!(
            phone("phone", " 138-0013 8000 "),
            Ok("13800138000".to_owned())
        );
        assert_eq!(
            phone("phone", "+86 138 0013 8000"),
            Ok("+8613800138000".to_owned())
        );
        assert!(phone("phone", "abc").is_err());
        assert!(phone("phone", "123").is_err());
    }

    #[test]
    fn text_refuses_control_characters_and_overlong_input() {
        assert_eq!(
            text("d", Some("  刹车异响 \n第二行 "), 10, true),
            Ok(Some("刹车异响 \n第二行".to_owned()))
        );
        assert_eq!(
            text("d", Some("a\u{0}b"), 10, true).map_err(|e| e.problem),
            Err(InputProblem::ControlCharacters)
        );
        assert_eq!(
            text("d", Some("一二三"), 2, true).map_err(|e| e.problem),
            Err(InputProblem::TooLong { max: 2 })
        );
        assert_eq!(
            text("d", Some("   "), 2, true).map_err(|e| e.problem),
            Err(InputProblem::Missing)
        );
        assert_eq!(text("d", None, 2, false), Ok(None));
    }

    #[test]
    fn complaint_numbers_round_trip_and_refuse_garbage() {
        let n = ComplaintNumber::new(20261122, 7);
        assert_eq!(n.as_str(), "KS-20261122-0007");
        assert_eq!(ComplaintNumber::parse(" ks-20261122-0007"), Ok(n));
        assert_eq!(
            ComplaintNumber::new(20261122, 12345).as_str(),
            "KS-20261122-12345"
        );
        for bad in [
            "",
            "KS-2026-0001",
            "KS-20261122-01",
            "XX-20261122-0001",
            "KS-2026112a-0001",
            "KS-20261122-0001; drop",
        ] {
            assert!(ComplaintNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_become_fen_and_refuse_negative_or_absurd_values() {
        assert_eq!(yuan_to_fen("a", 4999.99), Ok(499_999));
        assert!(yuan_to_fen("a", -1.0).is_err());
        assert!(yuan_to_fen("a", f64::NAN).is_err());
        assert!(yuan_to_fen("a", 1e12).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("e", "wang@example.cn").is_ok());
        assert!(email("e", "wang@localhost").is_err());
        assert!(email("e", "@x.cn").is_err());
        assert!(email("e", "a b@x.cn").is_err());
    }
}
