//! Staff pages: server-rendered HTML, no JavaScript build step.

use axum::Router;

use crate::AppState;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// A page telling what went wrong, in the reader's language.
pub fn error_page(lang: Lang, title: &str, detail: &str) -> String {
    let _ = lang;
    format!("<!doctype html><title>{title}</title><p>{detail}</p>")
}
