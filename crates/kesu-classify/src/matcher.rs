//! A small multi-pattern matcher: every pattern is indexed by its first
//! character, so the text is walked once and only the patterns that can start
//! at a character are compared there. Linear in the text for a fixed lexicon.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for `char` keys: the code point, spread by one multiplication
/// (the default SipHash costs more than the whole comparison it guards).
#[derive(Default)]
struct CharHasher(u64);

impl Hasher for CharHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type ByFirst = HashMap<char, Vec<usize>, BuildHasherDefault<CharHasher>>;

/// A set of literal patterns, each with a payload.
#[derive(Debug, Clone)]
pub struct Matcher<P> {
    patterns: Vec<(String, P)>,
    by_first: ByFirst,
}

/// One occurrence of a pattern (byte offsets in the searched text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'m, P> {
    pub start: usize,
    pub end: usize,
    pub pattern: &'m str,
    pub payload: &'m P,
}

impl<P> Matcher<P> {
    pub fn new(patterns: impl IntoIterator<Item = (String, P)>) -> Matcher<P> {
        let patterns: Vec<(String, P)> = patterns
            .into_iter()
            .filter(|(p, _)| !p.is_empty())
            .collect();
        let mut by_first = ByFirst::default();
        for (i, (p, _)) in patterns.iter().enumerate() {
            if let Some(c) = p.chars().next() {
                by_first.entry(c).or_default().push(i);
            }
        }
        // Longest first, so a caller that keeps the first match per position
        // keeps the longest.
        for list in by_first.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(patterns[i].0.len()));
        }
        Matcher { patterns, by_first }
    }

    /// Every occurrence of every pattern (overlapping ones included), in
    /// order of start, longest first at one start.
    pub fn find_all<'m>(&'m self, text: &str) -> Vec<Found<'m, P>> {
        let mut out = Vec::new();
        for (start, c) in text.char_indices() {
            let Some(list) = self.by_first.get(&c) else {
                continue;
            };
            let rest = &text[start..];
            for &i in list {
                let (p, payload) = &self.patterns[i];
                if rest.starts_with(p.as_str()) {
                    out.push(Found {
                        start,
                        end: start + p.len(),
                        pattern: p,
                        payload,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlapping_patterns_longest_first() {
        let m = Matcher::new([
            ("赔偿".to_owned(), 1),
            ("精神损失费".to_owned(), 2),
            ("赔".to_owned(), 3),
        ]);
        let found: Vec<_> = m
            .find_all("要求赔偿精神损失费")
            .iter()
            .map(|f| *f.payload)
            .collect();
        assert_eq!(found, vec![1, 3, 2]);
    }
}
