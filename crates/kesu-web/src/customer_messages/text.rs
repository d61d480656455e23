//! The editable texts of customer messages: placeholders (`{number}`,
//! `{code}`, `{link}`, `{due}`, `{customer}`), checked when the admin saves
//! (an unknown one is refused by name) and filled in when a message is
//! queued.

use std::collections::BTreeMap;

/// Every placeholder a text may use.
pub const PLACEHOLDERS: &[&str] = &["customer", "number", "code", "link", "due"];

/// What is wrong with a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    /// `{name}` is not one of [`PLACEHOLDERS`].
    Unknown(String),
    /// A `{` without its `}`.
    Unclosed,
}

/// The parts of a text: literal runs and placeholder names.
enum Part<'a> {
    Literal(&'a str),
    Slot(&'a str),
}

fn parts(text: &str) -> Result<Vec<Part<'_>>, TextProblem> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push(Part::Literal(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TextProblem::Unclosed)?;
        let name = after[..close].trim();
        if name.contains('{') {
            return Err(TextProblem::Unclosed);
        }
        if !PLACEHOLDERS.contains(&name) {
            return Err(TextProblem::Unknown(name.to_owned()));
        }
        out.push(Part::Slot(name));
        rest = &after[close + 1..];
    }
    out.push(Part::Literal(rest));
    Ok(out)
}

/// Checks a text.
///
/// # Errors
/// The first unknown placeholder, or an unclosed brace.
pub fn check(text: &str) -> Result<(), TextProblem> {
    parts(text).map(|_| ())
}

/// The values of one message's placeholders.
pub type Values = BTreeMap<&'static str, String>;

/// The text with its placeholders filled in (a text that does not check —
/// stored before a rule changed — is sent as written).
pub fn render(text: &str, values: &Values) -> String {
    match parts(text) {
        Ok(parts) => parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => (*s).to_owned(),
                Part::Slot(name) => values.get(name).cloned().unwrap_or_default(),
            })
            .collect(),
        Err(_) => text.to_owned(),
    }
}

/// A list of placeholder names as the admin types it (`number, code`).
///
/// # Errors
/// The first name that is not a placeholder.
pub fn param_list(raw: &str) -> Result<Vec<String>, TextProblem> {
    raw.split([',', '，', ' '])
        .map(|s| s.trim().trim_start_matches('{').trim_end_matches('}'))
        .filter(|s| !s.is_empty())
        .map(|s| {
            if PLACEHOLDERS.contains(&s) {
                Ok(s.to_owned())
            } else {
                Err(TextProblem::Unknown(s.to_owned()))
            }
        })
        .collect()
}

/// A WeChat template's fields as the admin types them
/// (`keyword1=number, keyword2=due`): each template keyword and the
/// placeholder that fills it.
///
/// # Errors
/// The first pair without `=`, with a keyword that is not 1–32 letters,
/// digits, `_` or `.`, or with an unknown placeholder.
pub fn field_list(raw: &str) -> Result<Vec<(String, String)>, TextProblem> {
    raw.split([',', '，', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| TextProblem::Unknown(pair.to_owned()))?;
            let key = key.trim();
            let value = value.trim().trim_start_matches('{').trim_end_matches('}');
            let key_ok = (1..=32).contains(&key.len())
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !key_ok {
                return Err(TextProblem::Unknown(key.to_owned()));
            }
            if !PLACEHOLDERS.contains(&value) {
                return Err(TextProblem::Unknown(value.to_owned()));
            }
            Ok((key.to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_are_named() {
        let values = Values::from([("number", "KS-1".to_owned()), ("code", "AB".to_owned())]);
        assert_eq!(
            render("编号{number}，查询码{ code }", &values),
            "编号KS-1，查询码AB"
        );
        assert_eq!(
            check("您好 {name}"),
            Err(TextProblem::Unknown("name".into()))
        );
        assert_eq!(check("您好 {number"), Err(TextProblem::Unclosed));
        assert_eq!(check("无占位符"), Ok(()));
        assert_eq!(
            param_list("number, {code}，link"),
            Ok(vec!["number".into(), "code".into(), "link".into()])
        );
        assert_eq!(
            param_list("number,x"),
            Err(TextProblem::Unknown("x".into()))
        );
        assert_eq!(
            field_list("keyword1=number， keyword2={due}"),
            Ok(vec![
                ("keyword1".into(), "number".into()),
                ("keyword2".into(), "due".into())
            ])
        );
        assert_eq!(
            field_list("keyword1=phone"),
            Err(TextProblem::Unknown("phone".into()))
        );
        assert_eq!(
            field_list("keyword1"),
            Err(TextProblem::Unknown("keyword1".into()))
        );
    }
}
