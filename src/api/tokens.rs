//! Token management for admins: `POST /api/v1/tokens`, `GET /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{name}`.

use super::append::json_object;
use super::Caller;
use crate::auth::{Role, TokenError};
use crate::error::ApiError;
use crate::server::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Exists(_) => ApiError::Conflict {
            detail: e.to_string(),
            current_version: None,
        },
        TokenError::BadName(_) => ApiError::invalid("name", e.to_string()),
        other => ApiError::Unavailable(other.to_string()),
    }
}

/// `POST /api/v1/tokens` `{"name": "...", "role": "reader|writer|admin"}`: the token is shown once.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.must_be(Role::Admin)?;
    let m = json_object(body)?;
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("name", "is required: who the token is for"))?;
    let role: Role = serde_json::from_value(m.get("role").cloned().unwrap_or(Value::Null))
        .map_err(|_| ApiError::invalid("role", "must be one of reader, writer, admin"))?;
    let token = state.tokens.create(name, role).map_err(token_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": name, "role": role, "token": token })),
    ))
}

/// `GET /api/v1/tokens`: names and roles, never the tokens.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.must_be(Role::Admin)?;
    let tokens = state.tokens.list().map_err(token_error)?;
    Ok(Json(json!({ "tokens": tokens })))
}

/// `DELETE /api/v1/tokens/{name}`
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.must_be(Role::Admin)?;
    if state.tokens.revoke(&name).map_err(token_error)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no token named {name:?}")))
    }
}
