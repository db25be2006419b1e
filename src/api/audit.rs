//! Trust: chain verification, signed digests of the log head, and board seals
//! that record exactly what a board was shown.

use super::{path_uuid, Caller};
use crate::auth::Role;
use crate::error::ApiError;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use ragtrail_events::{envelope, Append, Event, NewEvent, VerifyError};
use ragtrail_projections::board::BoardMeeting;
use ragtrail_projections::{BoardQuery, Trail};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

/// `GET /healthz`
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": if state.store.writable() { "ok" } else { "read-only: restart after fixing the disk" },
        "writable": state.store.writable(),
        "head": state.store.head(),
        "projected": state.live.position(),
    }))
}

/// `GET /api/v1/verify`: walks the whole chain.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| ApiError::Internal(format!("verification stopped: {e}")))?;
    match result {
        Ok(v) => Ok(Json(
            json!({ "verified": true, "count": v.count, "head": v.head }),
        )),
        Err(VerifyError::Bad { position, problem }) => Ok(Json(json!({
            "verified": false,
            "position": position,
            "problem": problem,
        }))),
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// `GET /api/v1/digest`: the head, signed with the server's key.
pub async fn digest(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let head = state.store.head();
    let d = state.signer.sign(head.position, head.hash.to_hex());
    serde_json::to_value(d)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /api/v1/digest/key`: the public key digests are signed with.
pub async fn key(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    Ok(Json(
        json!({ "algorithm": "ed25519", "key": state.signer.public_hex() }),
    ))
}

/// The board meeting with this event id, and its programme.
fn find_board(trail: &Trail, id: Uuid) -> Option<(Uuid, BoardMeeting)> {
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at: None,
        programme: None,
    };
    trail.programme_ids().find_map(|p| {
        trail
            .programme_at(p, &q)?
            .boards
            .into_iter()
            .find(|b| b.event == id)
            .map(|b| (p, b))
    })
}

/// SHA-256 (hex) of the board snapshot a seal covers.
fn snapshot(
    trail: &Trail,
    programme: Uuid,
    as_at: NaiveDate,
    upto: u64,
) -> Result<String, ApiError> {
    let board = trail.board_upto(as_at, upto, Some(programme));
    let bytes = serde_json::to_vec(&board).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(envelope::sha256(&[&bytes]).to_hex())
}

/// `POST /api/v1/boards/{id}/seal`: records the digest of the board as at the
/// meeting date, as the log stands now, in the log itself.
pub async fn seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = caller.must_be(Role::Writer)?;
    let id = path_uuid("board", &id)?;
    let head = state.store.head();
    let _ = tokio::time::timeout(Duration::from_secs(5), state.live.wait_for(head.position)).await;
    let (programme, meeting, digest) = {
        let trail = state.live.read();
        let (programme, meeting) = find_board(&trail, id).ok_or_else(|| {
            ApiError::NotFound(format!("no board meeting {id} (see GET /api/v1/boards)"))
        })?;
        let digest = snapshot(&trail, programme, meeting.date, head.position)?;
        (programme, meeting, digest)
    };
    let receipts = state
        .store
        .append(Append {
            actor: who.name.clone(),
            idempotency_key: None,
            events: vec![NewEvent {
                stream: programme,
                event: Event::BoardSealed {
                    board: id,
                    as_at: meeting.date,
                    snapshot: digest.clone(),
                    position: head.position,
                    head: head.hash.to_hex(),
                },
                effective: meeting.date,
                reason: Some(format!(
                    "board pack for {} on {} sealed",
                    meeting.board, meeting.date
                )),
                expected_version: None,
            }],
        })
        .await?;
    if let Some(r) = receipts.last() {
        let _ = tokio::time::timeout(Duration::from_secs(5), state.live.wait_for(r.position)).await;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "board": id,
            "programme": programme,
            "as_at": meeting.date,
            "snapshot": digest,
            "position": head.position,
            "head": head.hash,
            "seal": receipts.first(),
        })),
    ))
}

/// `GET /api/v1/boards/{id}/seal/verify`: does today's log still yield exactly
/// what the board was shown?
pub async fn verify_seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("board", &id)?;
    let (programme, seal, now) = {
        let trail = state.live.read();
        let (programme, meeting) = find_board(&trail, id)
            .ok_or_else(|| ApiError::NotFound(format!("no board meeting {id}")))?;
        let seal = meeting
            .seal
            .ok_or_else(|| ApiError::NotFound(format!("board meeting {id} has not been sealed")))?;
        let now = snapshot(&trail, programme, seal.as_at, seal.position)?;
        (programme, seal, now)
    };
    let stored_head = state.store.get(seal.position)?.map(|e| e.hash.to_hex());
    let log_extends = stored_head.as_deref() == Some(seal.head.as_str());
    let store = state.store.clone();
    let chain = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| ApiError::Internal(format!("verification stopped: {e}")))?;
    let chain_ok = chain.is_ok();
    let snapshot_matches = now == seal.snapshot;
    let verified = log_extends && chain_ok && snapshot_matches;
    let detail = if verified {
        "today's log still yields exactly what the board was shown".to_string()
    } else if !chain_ok {
        format!(
            "the log's chain is broken: {}",
            chain.err().map(|e| e.to_string()).unwrap_or_default()
        )
    } else if !log_extends {
        format!("the event at position {} is no longer the one the seal recorded: the log was rewritten", seal.position)
    } else {
        "the board rebuilt from today's log differs from the sealed snapshot".to_string()
    };
    Ok(Json(json!({
        "board": id,
        "programme": programme,
        "verified": verified,
        "detail": detail,
        "seal": seal,
        "snapshot_now": now,
        "log_extends_seal": log_extends,
        "chain_verified": chain_ok,
    })))
}
