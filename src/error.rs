//! The one mapping from what can go wrong to an HTTP answer: an
//! `application/problem+json` body whose `detail` says what to do.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use ragtrail_events::{AppendError, FieldError, StoreError};
use serde_json::json;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all (or not the expected shape of JSON).
    #[error("{0}")]
    Malformed(String),
    /// A query parameter or path segment is wrong.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Valid JSON with invalid content; the error names the field to fix.
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{detail}")]
    Conflict {
        detail: String,
        current_version: Option<u64>,
    },
    #[error("the request body is larger than the limit of {limit} bytes; split a large board report into several batches")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503 with `Retry-After`: busy for now (e.g. every live-feed place taken).
    #[error("{detail}")]
    Busy {
        detail: String,
        retry_after_secs: u32,
    },
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(FieldError::new(field, message))
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<AppendError> for ApiError {
    fn from(e: AppendError) -> Self {
        match e {
            // The store names the event by its index in the append; a
            // handler of several events puts the field under it (`events[i]`).
            AppendError::Invalid { invalid, .. } => ApiError::Invalid(invalid),
            AppendError::NoSuchTarget { invalid, .. } => ApiError::NotFound(invalid.to_string()),
            AppendError::Contradicts { invalid, .. } => ApiError::Conflict {
                detail: invalid.to_string(),
                current_version: None,
            },
            AppendError::Conflict { actual, .. } => ApiError::Conflict {
                detail: e.to_string(),
                current_version: Some(actual),
            },
            AppendError::KeyReused { .. } => ApiError::Conflict {
                detail: e.to_string(),
                current_version: None,
            },
            AppendError::Empty => ApiError::invalid("events", e.to_string()),
            AppendError::Storage(_) | AppendError::Closed | AppendError::Unwritable(_) => {
                ApiError::Unavailable(e.to_string())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { .. } => ApiError::Internal(e.to_string()),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl From<ragtrail_events::erase::EraseError> for ApiError {
    fn from(e: ragtrail_events::erase::EraseError) -> Self {
        use ragtrail_events::erase::EraseError;
        match e {
            EraseError::Invalid(f) => ApiError::Invalid(f),
            EraseError::Nowhere => ApiError::NotFound(e.to_string()),
            EraseError::Unerasable(_) => ApiError::Conflict {
                detail: e.to_string(),
                current_version: None,
            },
            EraseError::Unwritable(_) | EraseError::Closed | EraseError::Reopen(_) => {
                ApiError::Unavailable(e.to_string())
            }
            EraseError::Rewrite(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::seal::SealError> for ApiError {
    fn from(e: crate::seal::SealError) -> Self {
        use crate::seal::SealError;
        match e {
            SealError::NoBoard(_) | SealError::NotSealed(_) => ApiError::NotFound(e.to_string()),
            SealError::Snapshot(_) | SealError::Stopped(_) => ApiError::Internal(e.to_string()),
            SealError::Store(e) => e.into(),
            SealError::Append(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        match &self {
            ApiError::Invalid(e) => body["field"] = json!(e.field),
            ApiError::Conflict {
                current_version: Some(v),
                ..
            } => body["current_version"] = json!(v),
            _ => {}
        }
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), detail = %self, "request failed");
        }
        let mut res = (status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::Busy {
            retry_after_secs, ..
        } = &self
        {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        if matches!(self, ApiError::Unauthenticated(_)) {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}
