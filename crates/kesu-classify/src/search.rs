//! Search terms: how kesu cuts Chinese text for its full-text search.
//!
//! Chinese has no spaces, so a search index needs words. A complaint is cut
//! with jieba's search mode (every dictionary word inside a longer word too:
//! 长江大桥 also gives 长江 and 大桥), a query with its precise mode (the
//! words a reader means). A query matches a complaint when every query word
//! is one of the complaint's words, so 市长 does not match 南京市长江大桥 —
//! that text is 南京市 / 长江大桥, never 市长 — while 退款 finds 申请退款 and
//! 刹车 finds 刹车片.
//!
//! Both sides are normalised first (Traditional to Simplified, full-width to
//! half-width, lower case), so 退款 finds 退款 written as 退款 in Big5 mail.
//! The terms are stored space-separated in the database, where SQLite's FTS5
//! and PostgreSQL's GIN index take them as they are.

use std::collections::HashSet;

use crate::normalize::{Normalized, is_han};

/// Words too common to find anything by.
const STOP: &[&str] = &[
    "的", "了", "是", "我", "你", "他", "她", "在", "和", "就", "都", "也", "很", "吗", "呢", "啊",
    "吧", "着", "把", "被", "这", "那", "有", "个", "们",
];

/// Longest term kept (characters); longer runs of letters or digits are cut.
const MAX_TERM_CHARS: usize = 40;

fn keep(term: &str) -> Option<String> {
    let term: String = term
        .chars()
        .filter(|c| c.is_alphanumeric() || is_han(*c))
        .take(MAX_TERM_CHARS)
        .collect();
    if term.is_empty() || STOP.contains(&term.as_str()) {
        None
    } else {
        Some(term)
    }
}

/// The terms under which a text is found, each once, in order of appearance.
pub fn index_terms(text: &str) -> Vec<String> {
    let normalized = Normalized::new(text);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for token in crate::jieba().cut_for_search(normalized.as_str(), true) {
        if let Some(term) = keep(token.word)
            && seen.insert(term.clone())
        {
            out.push(term);
        }
    }
    out
}

/// The words of a query, each once; a complaint matches when it has all.
pub fn query_terms(query: &str) -> Vec<String> {
    let normalized = Normalized::new(query);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for token in crate::jieba().cut(normalized.as_str(), true) {
        if let Some(term) = keep(token.word)
            && seen.insert(term.clone())
        {
            out.push(term);
        }
    }
    out
}

/// One search document from several texts: the terms of all, each once,
/// space-separated.
pub fn index_document<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = HashSet::new();
    let mut out = String::new();
    for part in parts {
        for term in index_terms(part) {
            if seen.insert(term.clone()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&term);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(doc: &str, query: &str) -> bool {
        let terms: HashSet<String> = index_terms(doc).into_iter().collect();
        let q = query_terms(query);
        !q.is_empty() && q.iter().all(|t| terms.contains(t))
    }

    #[test]
    fn a_word_is_not_found_across_word_boundaries() {
        assert!(!finds("我们在南京市长江大桥上堵了两个小时", "市长"));
        assert!(finds("我们在南京市长江大桥上堵了两个小时", "长江大桥"));
        assert!(finds(
            "我们在南京市长江大桥上堵了两个小时",
            "南京市长江大桥"
        ));
        assert!(finds("市长热线打了三次都没人管", "市长"));
    }

    #[test]
    fn two_character_words_are_found_inside_longer_ones() {
        assert!(finds("上周申请退款至今没有到账", "退款"));
        assert!(finds("刚换的刹车片就异响", "刹车"));
        assert!(finds("刹车失灵差点出事", "刹车"));
        assert!(!finds("车停在门口被刮了", "刹车"));
    }

    #[test]
    fn traditional_and_full_width_text_is_found_by_simplified_queries() {
        assert!(finds("申請退款三週了還沒到賬", "退款"));
        assert!(finds("车牌苏Ａ１２３４５", "苏A12345"));
        assert!(finds("订单号 JD20261101889 的商品", "jd20261101889"));
    }

    #[test]
    fn punctuation_emoji_and_stop_words_are_no_terms() {
        assert!(query_terms("，。！？😀😀").is_empty());
        assert!(query_terms("的").is_empty());
        assert_eq!(query_terms("退款，退款！"), vec!["退款".to_owned()]);
    }

    #[test]
    fn the_document_holds_each_term_once() {
        let doc = index_document(["退款退款", "张三 退款"]);
        assert_eq!(doc.matches("退款").count(), 1);
        assert!(doc.split(' ').any(|t| t == "张三"));
    }

    #[test]
    fn long_text_is_cut_quickly_and_bounded() {
        let text = "申请退款".repeat(25_000);
        let terms = index_terms(&text);
        assert!(terms.len() < 10);
        let latin = "a".repeat(1000);
        assert!(
            index_terms(&latin)
                .iter()
                .all(|t| t.chars().count() <= MAX_TERM_CHARS)
        );
    }
}
