//! Attachment file names made safe to show and to store.
//!
//! A name comes from whoever wrote the mail: it may name a path
//! (`../../etc/passwd`, `C:\Windows\x.exe`), hide an extension behind a
//! right-to-left override, or carry control characters. What is left is
//! the last path component, printable, without those characters.

/// Longest cleaned name, in characters (most file systems allow 255 bytes;
/// a Chinese character is three of them in UTF-8).
const MAX_CHARS: usize = 80;

/// Used when nothing printable is left.
const FALLBACK: &str = "attachment";

/// Cleans a decoded attachment file name.
///
/// Keeps the last component after `/` or `\`, drops control and
/// bidirectional-override characters, replaces characters Windows refuses
/// (`:*?"<>|`) with `_`, trims spaces and dots at both ends (no hidden files,
/// no `..`) and shortens long names keeping the extension. Returns
/// `attachment` when nothing is left.
///
/// ```
/// assert_eq!(kesu_mail::clean_filename("../../etc/passwd"), "passwd");
/// assert_eq!(kesu_mail::clean_filename("C:\\Users\\a\\发票.pdf"), "发票.pdf");
/// assert_eq!(kesu_mail::clean_filename(".."), "attachment");
/// ```
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| match c {
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed.is_empty() {
        return FALLBACK.to_string();
    }
    shorten(trimmed)
}

/// Characters that reorder what follows them, used to disguise `exe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_CHARS {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => (stem, ext),
        _ => (name, ""),
    };
    let keep = MAX_CHARS - ext.chars().count() - usize::from(!ext.is_empty());
    let mut out: String = stem.chars().take(keep).collect();
    if !ext.is_empty() {
        out.push('.');
        out.push_str(ext);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn keeps_only_the_last_path_component() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(clean_filename("/abs/照片.jpg"), "照片.jpg");
        assert_eq!(clean_filename("dir/"), "attachment");
    }

    #[test]
    fn drops_control_and_direction_characters() {
        assert_eq!(clean_filename("a\u{0}b\r\n.txt"), "ab.txt");
        assert_eq!(clean_filename("invoice\u{202e}gpj.exe"), "invoicegpj.exe");
        assert_eq!(clean_filename("what?.txt"), "what_.txt");
    }

    #[test]
    fn refuses_dot_names_and_empty_names() {
        assert_eq!(clean_filename(""), "attachment");
        assert_eq!(clean_filename(".."), "attachment");
        assert_eq!(clean_filename(" .htaccess "), "htaccess");
        assert_eq!(clean_filename("report.pdf."), "report.pdf");
    }

    #[test]
    fn shortens_long_names_keeping_the_extension() {
        let long = format!("{}.jpeg", "投".repeat(200));
        let short = clean_filename(&long);
        assert_eq!(short.chars().count(), 80);
        assert!(short.ends_with("投.jpeg"));
    }
}
