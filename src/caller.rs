//! Who is asking: the identity behind a request's bearer token (or, on the
//! web pages only, its sign-in cookie), as an axum extractor shared by the
//! API and the pages, with the checks every handler makes of it.

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

/// The name of the sign-in cookie (HttpOnly, SameSite=Strict; see `web::signin`).
pub const COOKIE: &str = "ragtrail_token";

/// The token of the sign-in cookie, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    crate::csrf::cookie(headers, COOKIE)
}

/// Who is asking: the identity of the bearer token (or, on the web pages only,
/// of the sign-in cookie), and for a cookie session the token its forms must carry.
pub struct Caller(pub Option<Identity>, pub Option<String>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(q) = parts.uri.query() {
            if q.split('&').any(|kv| {
                let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
                k == "token" || k == "access_token"
            }) {
                return Err(ApiError::BadRequest(
                    "tokens are never accepted in the URL (URLs end up in logs and browser history); send `Authorization: Bearer <token>`".into(),
                ));
            }
        }
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            // The web pages sign in with a cookie (HttpOnly, SameSite=Strict);
            // the JSON API never takes it (a browser must not call it with its user's rights).
            if parts.uri.path().starts_with("/api/") {
                return Ok(Caller(None, None));
            }
            return Ok(match cookie_token(&parts.headers) {
                Some(token) => match state.tokens.authenticate(&token) {
                    Some(id) => Caller(Some(id), Some(state.csrf.for_session(&token))),
                    None => Caller(None, None),
                },
                None => Caller(None, None),
            });
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`".into(),
                )
            })?;
        match state.tokens.authenticate(token) {
            Some(id) => Ok(Caller(Some(id), None)),
            None => Err(ApiError::Unauthenticated(
                "unknown or revoked token; ask an admin for a new one (`ragtrail token create`)"
                    .into(),
            )),
        }
    }
}

impl Caller {
    /// Reading needs any token, or a server started with `--public-read`.
    pub fn may_read(&self, state: &AppState) -> Result<(), ApiError> {
        match (&self.0, state.public_read) {
            (Some(_), _) | (None, true) => Ok(()),
            (None, false) => Err(ApiError::Unauthenticated(
                "this server needs a token to read: send `Authorization: Bearer <token>`".into(),
            )),
        }
    }

    /// The identity, if it holds at least `role`. Never anonymous.
    pub fn must_be(&self, role: Role) -> Result<&Identity, ApiError> {
        match &self.0 {
            None => Err(ApiError::Unauthenticated(format!(
                "this needs a {} token: send `Authorization: Bearer <token>`",
                role.name()
            ))),
            Some(id) if id.role >= role => Ok(id),
            Some(id) => Err(ApiError::Forbidden(format!(
                "token {:?} is a {} token; this needs {}",
                id.name,
                id.role.name(),
                role.name()
            ))),
        }
    }
}
