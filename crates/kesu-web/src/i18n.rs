//! The reader's language: Simplified Chinese by default, English by the
//! switch (a `kesu_lang` cookie) or the browser's `Accept-Language`.
//! All user-facing text comes from the catalogs in `locales/` (`app.yml`
//! and one file per area; rust-i18n merges them).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

pub const LANG_COOKIE: &str = "kesu_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh-CN` or `en` (and `zh`, `en-US` …) to a language.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The cookie wins; then the first supported language the browser asks for.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        for value in headers.get_all(axum::http::header::COOKIE) {
            if let Ok(v) = value.to_str() {
                for c in cookie::Cookie::split_parse(v).flatten() {
                    if c.name() == LANG_COOKIE
                        && let Some(l) = Lang::parse(c.value())
                    {
                        return l;
                    }
                }
            }
        }
        if let Some(al) = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        {
            let mut prefs: Vec<(f32, &str)> = al
                .split(',')
                .map(|part| {
                    let mut it = part.split(';');
                    let tag = it.next().unwrap_or("").trim();
                    let q = it
                        .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                        .unwrap_or(1.0);
                    (q, tag)
                })
                .collect();
            prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
            if let Some(l) = prefs.iter().find_map(|(_, tag)| Lang::parse(tag)) {
                return l;
            }
        }
        Lang::Zh
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// The text for `key` in `lang`.
pub fn t(lang: Lang, key: &str) -> String {
    rust_i18n::t!(key, locale = lang.code()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn browser_language_is_followed_unless_the_switch_was_used() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert(
            "accept-language",
            HeaderValue::from_static("en-US,en;q=0.9,zh-CN;q=0.8"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(
            "accept-language",
            HeaderValue::from_static("fr;q=1, zh-TW;q=0.5, en;q=0.4"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert("cookie", HeaderValue::from_static("a=b; kesu_lang=en"));
        assert_eq!(Lang::from_headers(&h), Lang::En);
    }

    #[test]
    fn catalog_keys_exist_in_both_languages() {
        assert_eq!(t(Lang::Zh, "nav.queue_mine"), "我的待办");
        assert_eq!(t(Lang::En, "nav.queue_mine"), "My work");
    }

    #[test]
    fn a_missing_key_comes_back_as_itself_so_page_tests_can_find_it() {
        assert_eq!(t(Lang::Zh, "nav.no_such_key"), "nav.no_such_key");
    }
}
