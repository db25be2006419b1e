//! Token management for admins: `POST /api/v1/tokens`, `GET /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{name}`.

use super::body::json_object;
use super::types::{Problem, TokenCreated, TokenList, TokenRequest};
use crate::auth::{Role, TokenError};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Exists(_) => ApiError::Conflict {
            detail: e.to_string(),
            current_version: None,
        },
        TokenError::BadName(_) => ApiError::invalid("name", e.to_string()),
        TokenError::LastAdmin(_) => ApiError::Conflict {
            detail: e.to_string(),
            current_version: None,
        },
        other => ApiError::Unavailable(other.to_string()),
    }
}

/// Creates a token (admin); it is shown in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = TokenCreated), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    caller.must_be(Role::Admin)?;
    let body = json_object(body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("name", "is required: who the token is for"))?;
    let role: Role = serde_json::from_value(body.get("role").cloned().unwrap_or(Value::Null))
        .map_err(|_| ApiError::invalid("role", "must be one of reader, writer, admin"))?;
    let token = state.tokens.create(name, role).map_err(token_error)?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            name: name.to_string(),
            role,
            token,
        }),
    ))
}

/// Every token's name and role (admin); never the tokens themselves.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    caller.must_be(Role::Admin)?;
    let tokens = state.tokens.list().map_err(token_error)?;
    Ok(Json(TokenList { tokens }))
}

/// Revokes a token (admin): it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "tokens",
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The last admin token: create another admin first")))]
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
