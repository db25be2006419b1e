//! `POST /api/v1/events` (one event) and `POST /api/v1/batches` (several,
//! atomically: a whole board report lands or nothing does).

use super::types::{AppendBody, BatchBody, BatchReceipts, Problem};
use super::Caller;
use crate::auth::Role;
use crate::command::{field, parse_event, text};
use crate::error::ApiError;
use crate::server::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ragtrail_events::{Append, AppendError, Receipt};
use serde_json::{Map, Value};

/// Reads a JSON object body: 413 when over the limit, 400 when not JSON.
pub(super) fn json_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: crate::server::BODY_LIMIT,
            }
        } else {
            ApiError::Malformed(format!("cannot read the request body: {e}"))
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::Malformed("the body must be a JSON object".into())),
        Err(e) => Err(ApiError::Malformed(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// The idempotency key from the body or the `Idempotency-Key` header (they must agree).
fn idempotency_key(
    m: &Map<String, Value>,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    let body = text(m, "", "idempotency_key")?;
    let header = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_string).map_err(|_| {
                ApiError::BadRequest("the Idempotency-Key header must be plain text".into())
            })
        })
        .transpose()?;
    match (body, header) {
        (Some(b), Some(h)) if b != h => Err(ApiError::invalid(
            "idempotency_key",
            "differs from the Idempotency-Key header; send one or make them equal",
        )),
        (b, h) => Ok(b.or(h)),
    }
}

/// A `BoardSealed` is written only by the seal route, which builds it from
/// what the board was shown: one posted here would let a writer "seal" a board
/// that never was, or replace a real seal.
fn not_a_seal(e: &ragtrail_events::NewEvent, at: &str) -> Result<(), ApiError> {
    match &e.event {
        ragtrail_events::Event::BoardSealed { board, .. } => Err(ApiError::invalid(
            format!("{at}type"),
            format!("a BoardSealed event is written only by the seal route: POST /api/v1/boards/{board}/seal (writer or above) seals what the board was shown"),
        )),
        _ => Ok(()),
    }
}

/// Appends one event. The actor is the token's name. 201 once it is durable
/// and shown by the views.
#[utoipa::path(post, path = "/api/v1/events", tag = "log", request_body = AppendBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first result")),
    responses((status = 201, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let who = caller.must_be(Role::Writer)?;
    let m = json_object(body)?;
    let key = idempotency_key(&m, &headers)?;
    let event = parse_event(&m, "", &["idempotency_key"])?;
    not_a_seal(&event, "")?;
    let receipts = state
        .append(Append {
            actor: who.name.clone(),
            idempotency_key: key,
            events: vec![event],
        })
        .await
        .map_err(|e| match e {
            // One event: name its fields without the batch prefix.
            AppendError::Invalid { invalid, .. } => {
                ApiError::invalid(invalid.field, invalid.message)
            }
            other => other.into(),
        })?;
    let r = receipts
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the store returned no receipt".into()))?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Appends several events atomically: a whole board report lands, or nothing does.
#[utoipa::path(post, path = "/api/v1/batches", tag = "log", request_body = BatchBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first result")),
    responses((status = 201, body = BatchReceipts), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BatchReceipts>), ApiError> {
    let who = caller.must_be(Role::Writer)?;
    let m = json_object(body)?;
    for k in m.keys() {
        if k != "events" && k != "idempotency_key" {
            return Err(ApiError::invalid(
                k.clone(),
                "unknown field; a batch has `events` and optionally `idempotency_key`",
            ));
        }
    }
    let key = idempotency_key(&m, &headers)?;
    let Some(Value::Array(items)) = field(&m, "events") else {
        return Err(ApiError::invalid("events", "is required: a list of events"));
    };
    if items.is_empty() {
        return Err(ApiError::invalid("events", "must hold at least one event"));
    }
    let events = items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(e) => {
                let at = format!("events[{i}].");
                let event = parse_event(e, &at, &[])?;
                not_a_seal(&event, &at)?;
                Ok(event)
            }
            _ => Err(ApiError::invalid(
                format!("events[{i}]"),
                "must be an object",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let receipts = state
        .append(Append {
            actor: who.name.clone(),
            idempotency_key: key,
            events,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BatchReceipts { events: receipts }),
    ))
}
