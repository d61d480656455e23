//! HTML bodies: a sanitized copy safe to show to staff, and plain text.
//!
//! Both go through ammonia (html5ever's parser, the browsers' algorithm), so
//! broken markup is read the way a browser would read it. The text is
//! rendered from a second, stricter ammonia pass that keeps only block
//! elements without attributes: its output is regular enough to scan.

use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// Sanitizes a mail's HTML for showing in a staff page.
///
/// Keeps ammonia's default safe tags and attributes: no `<script>`,
/// `<style>` or `<title>` (with their content), no event handlers, no `style`
/// attributes, only well-known URL schemes (no `javascript:`), no relative
/// links, `rel="noopener noreferrer"` on links. Images keep only `cid:`
/// sources (parts of the same mail, which the caller may rewrite to its own
/// attachment URLs): a remote image would tell the sender when the mail was
/// read (tracking pixels), so its `src` is removed and only `alt` stays.
pub fn sanitize(html: &str) -> String {
    static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
        let mut b = Builder::default();
        b.add_clean_content_tags(["title", "template", "noscript"])
            .add_url_schemes(["cid"])
            .url_relative(UrlRelative::Deny)
            .attribute_filter(|element, attribute, value| {
                if element == "img" && attribute == "src" {
                    let is_cid = value
                        .trim_start()
                        .get(..4)
                        .is_some_and(|s| s.eq_ignore_ascii_case("cid:"));
                    return is_cid.then_some(value.into());
                }
                Some(value.into())
            });
        b
    });
    SANITIZER.clean(html).to_string().trim().to_string()
}

/// Elements that end a paragraph: a blank line around them.
const PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "hr",
];

/// Elements that end a line.
const LINES: &[&str] = &[
    "div",
    "li",
    "tr",
    "dt",
    "dd",
    "address",
    "article",
    "aside",
    "section",
    "header",
    "footer",
    "nav",
    "figure",
    "figcaption",
    "caption",
    "details",
    "summary",
    "center",
];

/// Elements whose content is not text a person reads.
const DROPPED: &[&str] = &[
    "script", "style", "title", "template", "noscript", "head", "svg", "math",
];

/// Renders HTML as plain text: scripts, styles and the title dropped,
/// block elements as line breaks (paragraphs as blank lines), `<br>` as a
/// line break, table cells separated by a space, entities decoded and
/// whitespace collapsed as a browser would (kept inside `<pre>`).
pub fn to_text(html: &str) -> String {
    static REDUCER: LazyLock<Builder<'static>> = LazyLock::new(|| {
        let mut b = Builder::empty();
        b.add_tags(PARAGRAPHS)
            .add_tags(LINES)
            .add_tags(["br", "td", "th"])
            .clean_content_tags(DROPPED.iter().copied().collect());
        b
    });
    let reduced = REDUCER.clean(html).to_string();
    render(&reduced)
}

/// Scans ammonia's output: tags without attributes, text with `&amp;`,
/// `&lt;`, `&gt;` and `&nbsp;` escaped.
fn render(reduced: &str) -> String {
    let mut out = Text::default();
    let mut rest = reduced;
    while let Some(lt) = rest.find('<') {
        out.text(&rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = &rest[lt..];
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let closing = tag.starts_with('/');
        let name = tag.trim_matches('/').trim();
        match name {
            "br" => out.newline(),
            "td" | "th" if closing => out.space(),
            "pre" => {
                out.break_paragraph();
                out.pre_depth = if closing {
                    out.pre_depth.saturating_sub(1)
                } else {
                    out.pre_depth + 1
                };
            }
            _ if PARAGRAPHS.contains(&name) => out.break_paragraph(),
            _ if LINES.contains(&name) => out.break_line(),
            _ => {}
        }
    }
    out.text(rest);
    out.finish()
}

#[derive(Default)]
struct Text {
    buf: String,
    pre_depth: usize,
    /// A collapsed space is owed before the next word.
    pending_space: bool,
}

impl Text {
    fn text(&mut self, escaped: &str) {
        let decoded = decode_entities(escaped);
        if self.pre_depth > 0 {
            self.buf.push_str(&decoded.replace('\u{a0}', " "));
            return;
        }
        for c in decoded.chars() {
            if c.is_ascii_whitespace() {
                self.pending_space = true;
                continue;
            }
            if self.pending_space && !self.at_line_start() {
                self.buf.push(' ');
            }
            self.pending_space = false;
            self.buf.push(if c == '\u{a0}' { ' ' } else { c });
        }
    }

    fn at_line_start(&self) -> bool {
        self.buf.is_empty() || self.buf.ends_with('\n')
    }

    fn newline(&mut self) {
        self.buf.push('\n');
        self.pending_space = false;
    }

    fn space(&mut self) {
        self.pending_space = true;
    }

    fn break_line(&mut self) {
        if !self.at_line_start() {
            self.newline();
        }
        self.pending_space = false;
    }

    fn break_paragraph(&mut self) {
        self.break_line();
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            self.newline();
        }
    }

    fn finish(self) -> String {
        let mut lines: Vec<&str> = Vec::new();
        for line in self.buf.lines().map(str::trim_end) {
            let blank = line.trim().is_empty();
            if blank && lines.last().is_none_or(|l| l.is_empty()) {
                continue;
            }
            lines.push(if blank { "" } else { line });
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines.join("\n")
    }
}

/// The escapes html5ever's serializer writes, and the two quote forms.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::{sanitize, to_text};

    #[test]
    fn sanitize_removes_scripts_handlers_javascript_and_remote_images() {
        let html = r#"<p onclick="x()">hi<script>alert(1)</script></p>
            <a href="javascript:alert(1)">a</a><a href="https://ok.example/">b</a>
            <img src="http://t.example/p.gif" alt="px"><img src="//t.example/q.gif">
            <img src="cid:logo@x"><div style="background:url(http://t.example/bg)">s</div>"#;
        let clean = sanitize(html);
        for bad in ["script", "onclick", "javascript", "t.example", "style"] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(clean.contains(r#"<a href="https://ok.example/" rel="noopener noreferrer">b</a>"#));
        assert!(clean.contains(r#"<img alt="px">"#), "{clean}");
        assert!(clean.contains(r#"<img src="cid:logo@x">"#), "{clean}");
    }

    #[test]
    fn text_breaks_blocks_and_decodes_entities() {
        let html = "<div>一</div><div>二<br>三</div><p>a &amp; b &lt;c&gt;&nbsp;d</p>\
                    <table><tr><td>x</td><td>y</td></tr></table>";
        assert_eq!(to_text(html), "一\n二\n三\n\na & b <c> d\n\nx y");
    }

    #[test]
    fn text_drops_scripts_styles_and_title_and_keeps_pre() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body>\
                    <script>var a = '<p>';</script>文字\n  多   空格<pre>a\n  b</pre></body></html>";
        assert_eq!(to_text(html), "文字 多 空格\n\na\n  b");
    }

    #[test]
    fn text_of_garbage_is_not_a_panic() {
        for html in [
            "<",
            "<<>>",
            "</p></div>",
            "<p",
            "&",
            "&amp",
            "<pre></pre></pre>",
        ] {
            let _ = to_text(html);
            let _ = sanitize(html);
        }
    }
}
