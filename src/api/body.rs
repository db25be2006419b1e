//! What the API takes as a request body: JSON, and only JSON.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, StatusCode};
use serde_json::Value;

/// The largest request body accepted (a board report of a few hundred events fits).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The body as a JSON object: 413 past the limit, 400 if it is not JSON or
/// not an object (what is wrong inside it is for the typed parse to say, 422).
pub fn json_object(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::Malformed(format!("cannot read the request body: {e}"))
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::Malformed("the body must be a JSON object".into())),
        Err(e) => Err(ApiError::Malformed(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
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
