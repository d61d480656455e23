//! Keyword phrases of a desk's own sub-categories (R-CL-1): which of a
//! few candidates a complaint's words name best. The engine's model knows
//! the shipped categories only; below its proposal, the caller asks this
//! for the sub-category whose phrases match.
//!
//! Text and phrases are compared normalised (Traditional folded to
//! Simplified, full-width to half-width, lower case), so `變速箱` matches
//! `变速箱` and `ABS` matches `abs`.

use crate::normalize::Normalized;

/// The best candidate and the phrases of it that were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordMatch {
    /// Position of the candidate in the list given.
    pub index: usize,
    /// Its phrases found in the text, in the candidate's order.
    pub phrases: Vec<String>,
}

/// The phrase normalised as the text is.
pub fn normalize_phrase(phrase: &str) -> String {
    Normalized::new(phrase.trim()).as_str().to_owned()
}

/// The candidate (a list of phrases each) with the most distinct phrases
/// found in `text`; on a tie the one whose phrases cover more characters,
/// then the earlier one. `None` when no phrase of any candidate is found.
pub fn best_match<'a, I, P>(text: &str, candidates: I) -> Option<KeywordMatch>
where
    I: IntoIterator<Item = P>,
    P: IntoIterator<Item = &'a str>,
{
    let text = Normalized::new(text);
    let text = text.as_str();
    let mut best: Option<(usize, usize, KeywordMatch)> = None;
    for (index, phrases) in candidates.into_iter().enumerate() {
        let mut found: Vec<String> = Vec::new();
        let mut chars = 0;
        for phrase in phrases {
            let norm = normalize_phrase(phrase);
            if norm.is_empty() || found.iter().any(|f| normalize_phrase(f) == norm) {
                continue;
            }
            if text.contains(&norm) {
                chars += norm.chars().count();
                found.push(phrase.trim().to_owned());
            }
        }
        if found.is_empty() {
            continue;
        }
        let better = best
            .as_ref()
            .is_none_or(|(n, c, _)| found.len() > *n || (found.len() == *n && chars > *c));
        if better {
            best = Some((
                found.len(),
                chars,
                KeywordMatch {
                    index,
                    phrases: found,
                },
            ));
        }
    }
    best.map(|(_, _, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, c: &[&[&str]]) -> Option<KeywordMatch> {
        best_match(text, c.iter().map(|p| p.iter().copied()))
    }

    #[test]
    fn the_candidate_with_most_phrases_wins_and_none_matches_nothing() {
        let c: &[&[&str]] = &[&["发动机", "熄火"], &["车机", "黑屏", "导航"]];
        assert_eq!(
            m("新车开了一周车机黑屏，导航也用不了", c),
            Some(KeywordMatch {
                index: 1,
                phrases: vec!["车机".into(), "黑屏".into(), "导航".into()]
            })
        );
        assert_eq!(m("销售态度很差", c), None);
        assert_eq!(m("", c), None);
    }

    #[test]
    fn traditional_and_full_width_text_match_simplified_phrases() {
        let c: &[&[&str]] = &[&["变速箱"], &["abs"]];
        assert_eq!(m("變速箱異響", c).map(|k| k.index), Some(0));
        assert_eq!(m("ＡＢＳ灯亮了", c).map(|k| k.index), Some(1));
    }

    #[test]
    fn a_tie_goes_to_the_longer_phrases_then_the_earlier_candidate() {
        let c: &[&[&str]] = &[&["保养"], &["保养项目"], &["保养项目"]];
        assert_eq!(m("保养项目多收了钱", c).map(|k| k.index), Some(1));
        let empty: &[&[&str]] = &[&["", "  "]];
        assert_eq!(m("什么都有", empty), None);
    }
}
