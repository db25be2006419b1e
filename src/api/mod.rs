//! The HTTP API: routes, the caller's identity, and the parsing of query
//! parameters with errors that say what was expected.

mod append;
/// The chain check and seal checks, shared with the audit page.
pub(crate) mod audit;
mod log;
mod openapi;
mod tokens;
pub mod types;
mod views;

pub use openapi::ApiDoc;

use crate::auth::{Identity, Role};
use crate::error::ApiError;
use crate::server::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// The routes under `/api/v1` that answer promptly (everything but the live feed).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", post(append::one).get(log::page))
        .route("/api/v1/batches", post(append::batch))
        .route("/api/v1/board", get(views::board))
        .route("/api/v1/compare", get(views::compare))
        .route("/api/v1/metrics/{id}/trend", get(views::metric_trend))
        .route("/api/v1/items/{id}/trend", get(views::item_trend))
        .route("/api/v1/items/{id}/history", get(views::history))
        .route("/api/v1/programmes/{id}/counts", get(views::counts))
        .route("/api/v1/boards", get(views::boards))
        .route("/api/v1/boards/{id}/seal", post(audit::seal))
        .route("/api/v1/boards/{id}/seal/verify", get(audit::verify_seal))
        .route("/api/v1/verify", get(audit::verify))
        .route("/api/v1/digest", get(audit::digest))
        .route("/api/v1/digest/key", get(audit::key))
        .route("/api/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/api/v1/tokens/{name}", delete(tokens::revoke))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/healthz", get(audit::health))
}

/// The live feed, which stays open: kept apart from the request timeout.
pub fn streaming_routes() -> Router<AppState> {
    Router::new().route("/api/v1/events/live", get(log::live))
}

/// The caller: a token's identity, or anonymous.
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
            return Ok(match crate::web::cookie_token(&parts.headers) {
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
                role_name(role)
            ))),
            Some(id) if id.role >= role => Ok(id),
            Some(id) => Err(ApiError::Forbidden(format!(
                "token {:?} is a {} token; this needs {}",
                id.name,
                role_name(id.role),
                role_name(role)
            ))),
        }
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Reader => "reader",
        Role::Writer => "writer",
        Role::Admin => "admin",
    }
}

/// Query parameters, parsed one by one with errors naming the parameter.
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn from_query(q: Option<&str>) -> Params {
        Params(
            q.map(|q| {
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (decode(k), decode(v))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// A parameter as given, if given and not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.text(name)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                    ApiError::BadRequest(format!(
                        "{name}={v:?} is not a date; expected YYYY-MM-DD, e.g. 2024-09-10"
                    ))
                })
            })
            .transpose()
    }

    pub fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.text(name)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        ApiError::BadRequest(format!(
                            "{name}={v:?} is not an instant; expected RFC 3339, e.g. 2024-09-10T18:00:00Z"
                        ))
                    })
            })
            .transpose()
    }

    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.text(name)
            .map(|v| {
                Uuid::parse_str(v).map_err(|_| {
                    ApiError::BadRequest(format!("{name}={v:?} is not an id; expected a UUID"))
                })
            })
            .transpose()
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::BadRequest(format!("{name}={v:?} is not a whole number of 0 or more"))
                })
            })
            .transpose()
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.text(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(v) => Err(ApiError::BadRequest(format!(
                "{name}={v:?} must be true or false"
            ))),
        }
    }
}

/// Percent-decodes a query component (`+` is a space); bad escapes stay as typed.
fn decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path segment that must be a UUID.
pub fn path_uuid(what: &str, v: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(v)
        .map_err(|_| ApiError::BadRequest(format!("{what} {v:?} is not an id; expected a UUID")))
}

/// Refuses (415) a request body that is not JSON on the API: a browser's
/// `<form enctype="text/plain">` cannot pass for a JSON client.
pub async fn json_only(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let h = req.headers();
    let has_body = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map_or(h.contains_key(header::TRANSFER_ENCODING), |n| {
            n.trim() != "0"
        });
    if has_body {
        let kind = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if kind != "application/json" && !kind.ends_with("+json") {
            return ApiError::UnsupportedMediaType(if kind.is_empty() {
                "the body has no Content-Type: send it as `Content-Type: application/json`".into()
            } else {
                format!("the body is {kind}; send it as `Content-Type: application/json`")
            })
            .into_response();
        }
    }
    next.run(req).await
}
