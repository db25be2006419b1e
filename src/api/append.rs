//! `POST /api/v1/events` and `/batches`: one event, or several atomically,
//! appended with the caller's token name as the actor.

use super::body::json_object;
use super::types::{BatchReceipts, Problem};
use crate::auth::Role;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::{self, AppendBody, BatchBody};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ragtrail_events::{Append, AppendError, Event, FieldError, NewEvent, Receipt};

/// The idempotency key from the body or the `Idempotency-Key` header (they must agree).
fn idempotency_key(body: Option<String>, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let header = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_string).map_err(|_| {
                ApiError::BadRequest("the Idempotency-Key header must be plain text".into())
            })
        })
        .transpose()?
        // An empty header is no key (some clients send one rather than leave it out).
        .filter(|h| !h.is_empty());
    match (body, header) {
        // Two keys that disagree: the request contradicts itself about which request it is.
        (Some(b), Some(h)) if b != h => Err(ApiError::Conflict {
            detail: "idempotency_key differs from the Idempotency-Key header; send one, or make them equal".into(),
            current_version: None,
        }),
        (b, h) => Ok(b.or(h)),
    }
}

/// A `BoardSealed` is written only by the seal route, which builds it from
/// what the board was shown: one posted here would let a writer "seal" a board
/// that never was, or replace a real seal.
fn not_a_seal(e: &NewEvent) -> Result<(), FieldError> {
    match &e.event {
        Event::BoardSealed { board, .. } => Err(FieldError::new(
            "type",
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
    let body: AppendBody = wire::parse(json_object(body)?)?;
    let key = idempotency_key(body.idempotency_key.clone(), &headers)?;
    let event = body.to_new_event()?;
    not_a_seal(&event)?;
    let receipts = state
        .append(Append {
            actor: who.name.clone(),
            idempotency_key: key,
            events: vec![event],
        })
        .await?;
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
    let body: BatchBody = wire::parse(json_object(body)?)?;
    let key = idempotency_key(body.idempotency_key.clone(), &headers)?;
    if body.events.is_empty() {
        return Err(FieldError::new("events", "must hold at least one event").into());
    }
    let events = body.to_new_events()?;
    for (i, e) in events.iter().enumerate() {
        not_a_seal(e).map_err(|err| err.within(&format!("events[{i}]")))?;
    }
    let receipts = state
        .append(Append {
            actor: who.name.clone(),
            idempotency_key: key,
            events,
        })
        .await
        .map_err(|e| match e {
            // The store names the event by its index; the client knows it as `events[i]`.
            AppendError::Invalid { index, invalid } => {
                ApiError::Invalid(invalid.within(&format!("events[{index}]")))
            }
            AppendError::NoSuchTarget { index, invalid } => {
                ApiError::NotFound(invalid.within(&format!("events[{index}]")).to_string())
            }
            AppendError::Contradicts { index, invalid } => ApiError::Conflict {
                detail: invalid.within(&format!("events[{index}]")).to_string(),
                current_version: None,
            },
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(BatchReceipts { events: receipts }),
    ))
}
