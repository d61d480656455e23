//! Text normalisation: one character in, one character out, so that a
//! character offset in the normalised text is the same offset in the text the
//! customer wrote.
//!
//! - Traditional (and Taiwan / Hong Kong variant) characters become
//!   Simplified ([`crate::t2s`]);
//! - full-width ASCII becomes half-width, the ideographic space a space;
//! - ASCII letters are lower-cased;
//! - control characters become spaces.

use crate::t2s::T2S;

/// The normalised text with a table from character index to byte offset.
#[derive(Debug, Clone)]
pub struct Normalized {
    text: String,
    /// Byte offset of each character, plus the total length at the end.
    starts: Vec<usize>,
}

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len() / 2 + 1);
        for c in original.chars() {
            starts.push(text.len());
            text.push(normalize_char(c));
        }
        starts.push(text.len());
        Normalized { text, starts }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of characters.
    pub fn char_len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The character index of a byte offset (which must be a char boundary
    /// or the end).
    pub fn char_at_byte(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) | Err(i) => i,
        }
    }

    /// The byte offset of a character index (clamped to the end).
    pub fn byte_at_char(&self, ch: usize) -> usize {
        self.starts[ch.min(self.starts.len() - 1)]
    }

    /// The normalised text of a character range.
    pub fn slice_chars(&self, start: usize, end: usize) -> &str {
        &self.text[self.byte_at_char(start)..self.byte_at_char(end)]
    }
}

/// One character normalised.
pub fn normalize_char(c: char) -> char {
    match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        '\u{FF01}'..='\u{FF5E}' => {
            let half = char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c);
            half.to_ascii_lowercase()
        }
        '\u{3000}' => ' ',
        c if c.is_control() => {
            if c == '\n' {
                '\n'
            } else {
                ' '
            }
        }
        c if u32::from(c) >= 0x3400 => match T2S.binary_search_by(|(t, _)| t.cmp(&c)) {
            Ok(i) => T2S[i].1,
            Err(_) => c,
        },
        c => c,
    }
}

/// A CJK ideograph (the unified blocks and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// A character that ends a clause: punctuation, line breaks and spaces
/// (colloquial messages use spaces as commas).
pub fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | ','
            | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '\n'
            | ' '
            | '\t'
            | '…'
            | '~'
            | '～'
            | '（'
            | '）'
            | '('
            | ')'
    )
}

/// A character that ends a sentence.
pub fn is_sentence_break(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '\n' | '；' | ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_becomes_simplified_character_for_character() {
        let n = Normalized::new("燃氣費預存了500 顯示只到賬了300");
        assert_eq!(n.as_str(), "燃气费预存了500 显示只到账了300");
        assert_eq!(
            n.char_len(),
            "燃氣費預存了500 顯示只到賬了300".chars().count()
        );
    }

    #[test]
    fn full_width_and_case_and_controls_are_folded() {
        let n = Normalized::new("ＡＢＣ１２３１５\u{0007}Nike\u{3000}好");
        assert_eq!(n.as_str(), "abc12315 nike 好");
        assert_eq!(n.char_at_byte(n.byte_at_char(9)), 9);
        assert_eq!(n.slice_chars(3, 8), "12315");
    }

    #[test]
    fn the_conversion_table_is_sorted() {
        assert!(T2S.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
