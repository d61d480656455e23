//! Staff pages: server-rendered HTML (askama templates in `templates/`), no
//! JavaScript. Each page has a typed context; all text comes from the
//! catalogs through [`Ctx::t`]. Forms post back here and go through the same
//! [`crate::actions`] as the API.

pub mod account;
pub mod admin;
pub mod calendar;
pub mod channels;
pub mod classifier;
pub mod customer_messages;
pub mod deadline_policy;
pub mod detail;
pub mod duty;
pub mod forms;
pub mod holidays;
pub mod integrations;
pub mod login;
pub mod mailbox;
mod notices;
pub mod queue;
pub mod register;
pub mod wechat;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{LANG_COOKIE, Lang, t};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/kesu.css", get(css))
        .route("/lang/{code}", get(switch_lang))
        .merge(login::router())
        .merge(account::router())
        .merge(queue::router())
        .merge(register::router())
        .merge(detail::router())
        .merge(admin::router())
        .merge(notices::router())
        .merge(calendar::router())
        .merge(holidays::router())
        .merge(channels::router())
        .merge(customer_messages::router())
        .merge(deadline_policy::router())
        .merge(mailbox::router())
        .merge(wechat::router())
        .merge(duty::router())
        .merge(integrations::router())
        .merge(classifier::router())
}

/// Where a signed-in person starts: an admin on the settings (where a new
/// desk is set up), everyone else on their work.
async fn home(staff: Option<Staff>) -> Redirect {
    match staff {
        None => Redirect::to("/login"),
        Some(s) if s.actor.is_admin() && !s.actor.may_take_in() => Redirect::to("/admin"),
        Some(_) => Redirect::to("/complaints?queue=mine"),
    }
}

/// What every page's frame needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub signed_in: bool,
    pub user_name: String,
    pub csrf: String,
    pub is_admin: bool,
    pub can_register: bool,
    /// May keep the duty roster (admins, general managers).
    pub plans_duty: bool,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// Where the language switch returns to (already escaped for a URL).
    pub back: String,
    /// Unread notices for the bell.
    pub unread: i64,
}

impl Ctx {
    pub fn new(staff: &Staff, nav: &'static str, path: &str) -> Ctx {
        Ctx {
            lang: staff.lang,
            signed_in: true,
            user_name: staff.user.display_name.clone(),
            csrf: staff.csrf().to_owned(),
            is_admin: staff.actor.is_admin(),
            can_register: staff.actor.may_take_in(),
            plans_duty: duty::Scope::of(staff).is_some(),
            nav,
            back: crate::error::url_escape(path),
            unread: staff.unread,
        }
    }

    pub fn anonymous(lang: Lang, path: &str) -> Ctx {
        Ctx {
            lang,
            signed_in: false,
            user_name: String::new(),
            csrf: String::new(),
            is_admin: false,
            can_register: false,
            plans_duty: false,
            nav: "",
            back: crate::error::url_escape(path),
            unread: 0,
        }
    }

    pub fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }

    /// The label of a code, e.g. `label("state", "fed_back")`.
    pub fn label(&self, kind: &str, code: &str) -> String {
        t(self.lang, &format!("{kind}.{code}"))
    }
}

/// Renders a template into a response.
///
/// # Errors
/// [`Failure::Internal`] when rendering fails (a bug).
pub fn render<T: Template>(tpl: &T) -> Result<Response, Failure> {
    tpl.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| Failure::Internal(format!("template: {e}")))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: Ctx,
    title: &'a str,
    detail: &'a str,
    back: String,
}

/// A page telling what went wrong, in the reader's language, with a way back.
pub fn error_page(lang: Lang, title: &str, detail: &str, path: &str) -> String {
    // Back to the complaint the failed action was on, or to the queue.
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let back = match segments.as_slice() {
        ["complaints", n, ..] if n.starts_with("KS-") || n.starts_with("ks-") => {
            format!("/complaints/{n}")
        }
        ["admin", ..] => "/admin".to_owned(),
        ["complaints", "new", ..] | ["complaints"] => "/complaints/new".to_owned(),
        _ => "/".to_owned(),
    };
    let page = ErrorPage {
        ctx: Ctx::anonymous(lang, path),
        title,
        detail,
        back,
    };
    page.render()
        .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{detail}</p>"))
}

async fn css() -> Response {
    let mut res = include_str!("../../static/kesu.css").into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

async fn switch_lang(Path(code): Path<String>, RawQuery(q): RawQuery) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    #[derive(serde::Deserialize, Default)]
    struct Q {
        back: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let back = safe_next(q.back.as_deref());
    let mut res = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A local path to go to after login or a switch; anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A posted form's field as typed, trimmed; empty when missing.
pub fn form_text(form: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    form.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Parses a posted form and checks its CSRF token.
///
/// # Errors
/// [`Failure::Csrf`], or the body's failure.
pub fn posted_form(
    staff: &Staff,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    lists: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, Failure> {
    let body = crate::input::body(body)?;
    let mut map = crate::input::form_value(&body, lists);
    let csrf = map.remove("csrf");
    staff.check_csrf(csrf.as_ref().and_then(|v| v.as_str()))?;
    Ok(map)
}
