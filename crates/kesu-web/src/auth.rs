//! Who is asking: a session cookie (people) or a bearer token (programs);
//! passwords with argon2; CSRF protection for cookie-authenticated writes.
//!
//! CSRF defence, in layers: the session cookie is `HttpOnly; SameSite=Lax`;
//! an unsafe request carrying a session is refused when `Sec-Fetch-Site` says
//! `cross-site` or `Origin` names another host; and every form carries the
//! session's token (checked by [`Staff::check_csrf`]), which API calls made
//! with the cookie send as `X-CSRF-Token`. Bearer-token calls need none.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use kesu_domain::Actor;
use kesu_storage::org::User;

use crate::AppState;
use crate::error::Failure;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "kesu_session";

/// Hashes a password for storage (argon2id, random salt).
///
/// # Errors
/// Only when the OS has no randomness.
pub fn hash_password(password: &str) -> Result<String, Failure> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Failure::Internal(format!("hash: {e}")))
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A session cookie; the value and its CSRF token.
    Session { token: String, csrf: String },
    /// `Authorization: Bearer ks_…`.
    Token,
}

/// The signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub actor: Actor,
    pub via: Via,
    pub lang: Lang,
    /// Unread notices (the bell), counted for pages only.
    pub unread: i64,
}

impl Staff {
    /// The CSRF token to put in forms (empty for token callers).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token => "",
        }
    }

    /// Checks a form's CSRF token against the session's.
    ///
    /// # Errors
    /// [`Failure::Csrf`] when it does not match.
    pub fn check_csrf(&self, provided: Option<&str>) -> Result<(), Failure> {
        match &self.via {
            Via::Token => Ok(()),
            Via::Session { csrf, .. }
                if provided.is_some_and(|p| constant_time_eq(p.as_bytes(), csrf.as_bytes())) =>
            {
                Ok(())
            }
            Via::Session { .. } => Err(Failure::Csrf),
        }
    }

    /// Refuses unless the user holds the admin role.
    ///
    /// # Errors
    /// [`Failure::Forbidden`].
    pub fn require_admin(&self) -> Result<(), Failure> {
        if self.actor.is_admin() {
            Ok(())
        } else {
            Err(Failure::Forbidden)
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of a cookie in the request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| {
            cookie::Cookie::split_parse(v.to_owned())
                .flatten()
                .collect::<Vec<_>>()
        })
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Whether an unsafe request comes from another site.
pub(crate) fn cross_site(parts: &Parts) -> bool {
    if parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return true;
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    match (
        parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
        _ => false,
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let lang = Lang::from_headers(&parts.headers);
        let now = state.now();
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(Failure::Unauthenticated)?;
            // An integration's key files complaints through the intake API
            // and may do nothing else.
            if token.trim().starts_with(kesu_storage::intake::KEY_PREFIX) {
                return Err(
                    match state.db.integration_by_key(token.trim(), now).await? {
                        Some(_) => Failure::IntegrationKeyScope,
                        None => Failure::Unauthenticated,
                    },
                );
            }
            let user = state
                .db
                .user_by_api_token(token.trim())
                .await?
                .ok_or(Failure::Unauthenticated)?;
            return Ok(Staff {
                actor: user.actor(),
                user,
                via: Via::Token,
                lang,
                unread: 0,
            });
        }
        let token = cookie_value(&parts.headers, SESSION_COOKIE).ok_or(Failure::Unauthenticated)?;
        let session = state
            .db
            .session(&token, now)
            .await?
            .ok_or(Failure::Unauthenticated)?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && cross_site(parts) {
            return Err(Failure::Csrf);
        }
        // Inside the nested `/api/v1` router `parts.uri` has lost its prefix;
        // the original URI tells whether this is an API call.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path(), |o| o.0.path());
        let unread = if unsafe_method || path.starts_with("/api/") {
            0
        } else {
            state.db.unread_notices(session.user.id).await?
        };
        let staff = Staff {
            actor: session.user.actor(),
            user: session.user,
            via: Via::Session {
                token,
                csrf: session.csrf_token,
            },
            lang,
            unread,
        };
        if unsafe_method && path.starts_with("/api/") {
            let header = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            staff.check_csrf(header)?;
        }
        // A handed-out password is replaced before anything else is done.
        let exempt = path.starts_with("/api/") || path.starts_with("/account") || path == "/logout";
        if staff.user.must_change_password && !exempt {
            return Err(Failure::PasswordChangeRequired);
        }
        Ok(staff)
    }
}

/// A `Set-Cookie` value for the session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

impl axum::extract::OptionalFromRequestParts<AppState> for Staff {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Failure> {
        match <Staff as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(s) => Ok(Some(s)),
            Err(Failure::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let Ok(h) = hash_password("正确的密码 1") else {
            panic!("hash failed")
        };
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码 1", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
