//! Trust: chain verification, signed digests of the log head, and board seals
//! that record exactly what a board was shown.

use super::types::{Health, Problem, PublicKey, SealCheck, SealResult, VerifyReport};
use super::{path_uuid, Caller};
use crate::auth::Role;
use crate::error::ApiError;
use crate::server::AppState;
use crate::signing::SignedDigest;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use ragtrail_events::{envelope, Append, Event, NewEvent, VerifyError};
use ragtrail_projections::view::BoardMeeting;
use ragtrail_projections::{BoardQuery, Trail};
use std::time::Duration;
use uuid::Uuid;

/// Liveness: the head, how far the projections have got, and whether writes are possible.
#[utoipa::path(get, path = "/healthz", tag = "audit", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let writable = state.store.writable();
    let damage = state
        .store
        .damage()
        .map(|d| format!("position {}: {}", d.position, d.problem));
    Json(Health {
        status: match (&damage, writable) {
            (Some(_), _) => "damaged",
            (None, true) => "ok",
            (None, false) => "read-only: restart after fixing the disk",
        }
        .to_string(),
        writable,
        damage,
        head: state.store.head(),
        projected: state.live.position(),
    })
}

/// Verifies the hash chain: verified, or the first bad position. The prefix
/// verified before is not walked again, so a request costs only what was
/// appended since; `full=true` (admins) walks the whole chain from position 1.
#[utoipa::path(get, path = "/api/v1/verify", tag = "audit",
    params(("full" = Option<bool>, Query, description = "Walk the whole chain from position 1 (admins only)")),
    responses((status = 200, body = VerifyReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
) -> Result<Json<VerifyReport>, ApiError> {
    caller.may_read(&state)?;
    let full = match super::Params::from_query(uri.query()).text("full") {
        None | Some("false") => false,
        Some("true") => {
            caller.must_be(Role::Admin)?;
            true
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "full must be true or false, not {other:?}"
            )))
        }
    };
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        if full {
            store.verify_full()
        } else {
            store.verify()
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verification stopped: {e}")))?;
    let report = match result {
        Ok(v) => VerifyReport {
            verified: true,
            count: Some(v.count),
            checked: Some(v.checked),
            full,
            head: Some(v.head.to_hex()),
            position: None,
            problem: None,
        },
        Err(VerifyError::Bad { position, problem }) => VerifyReport {
            verified: false,
            count: None,
            checked: None,
            full,
            head: None,
            position: Some(position),
            problem: Some(problem),
        },
        Err(VerifyError::Store(e)) => return Err(e.into()),
    };
    Ok(Json(report))
}

/// The log head (position and hash), signed with the server's Ed25519 key:
/// keep it outside the service, and later prove the log still extends it
/// (`ragtrail verify --data DIR --digest FILE`).
#[utoipa::path(get, path = "/api/v1/digest", tag = "audit",
    responses((status = 200, body = SignedDigest), (status = 401, body = Problem)))]
pub async fn digest(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SignedDigest>, ApiError> {
    caller.may_read(&state)?;
    let head = state.store.head();
    Ok(Json(state.signer.sign(head.position, head.hash.to_hex())))
}

/// The public key digests are signed with.
#[utoipa::path(get, path = "/api/v1/digest/key", tag = "audit",
    responses((status = 200, body = PublicKey), (status = 401, body = Problem)))]
pub async fn key(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PublicKey>, ApiError> {
    caller.may_read(&state)?;
    Ok(Json(PublicKey {
        algorithm: "ed25519".into(),
        key: state.signer.public_hex(),
    }))
}

/// The board meeting with this event id, and its programme.
fn find_board(trail: &Trail, id: Uuid) -> Option<(Uuid, BoardMeeting)> {
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at: None,
        programme: None,
    };
    trail.programme_ids().find_map(|p| {
        ragtrail_projections::programme::at(trail, p, &q)?
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
    let board = ragtrail_projections::board::upto(trail, as_at, upto, Some(programme));
    let bytes = serde_json::to_vec(&board).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(envelope::sha256(&[&bytes]).to_hex())
}

/// Seals a board: records in the log the digest of the board as at the meeting
/// date, as the log stands now, and the log head.
#[utoipa::path(post, path = "/api/v1/boards/{id}/seal", tag = "audit",
    params(("id" = String, Path, description = "The board meeting's id (from GET /api/v1/boards)")),
    responses((status = 201, body = SealResult), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SealResult>), ApiError> {
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
        Json(SealResult {
            board: id,
            programme,
            as_at: meeting.date,
            snapshot: digest,
            position: head.position,
            head: head.hash.to_hex(),
            seal: receipts.into_iter().next(),
        }),
    ))
}

/// Does today's log still yield exactly what the board was shown?
#[utoipa::path(get, path = "/api/v1/boards/{id}/seal/verify", tag = "audit",
    params(("id" = String, Path, description = "The board meeting's id")),
    responses((status = 200, body = SealCheck), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn verify_seal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SealCheck>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("board", &id)?;
    let chain = chain(&state).await?;
    Ok(Json(seal_check(&state, id, &chain)?))
}

/// Walks the chain off the async threads: Ok, or what is wrong with it.
pub(crate) async fn chain(
    state: &AppState,
) -> Result<Result<ragtrail_events::Verified, String>, ApiError> {
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| ApiError::Internal(format!("verification stopped: {e}")))?;
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(VerifyError::Bad { position, problem }) => {
            Ok(Err(format!("position {position}: {problem}")))
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// Whether a sealed board still verifies, given the chain's state.
pub(crate) fn seal_check(
    state: &AppState,
    id: Uuid,
    chain: &Result<ragtrail_events::Verified, String>,
) -> Result<SealCheck, ApiError> {
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
    let snapshot_matches = now == seal.snapshot;
    let verified = log_extends && chain.is_ok() && snapshot_matches;
    let detail = match chain {
        _ if verified => "today's log still yields exactly what the board was shown".to_string(),
        Err(problem) => format!("the log's chain is broken at {problem}"),
        Ok(_) if !log_extends => format!(
            "the event at position {} is no longer the one the seal recorded: the log was rewritten",
            seal.position
        ),
        Ok(_) => "the board rebuilt from today's log differs from the sealed snapshot".to_string(),
    };
    Ok(SealCheck {
        board: id,
        programme,
        verified,
        detail,
        seal,
        snapshot_now: now,
        log_extends_seal: log_extends,
        chain_verified: chain.is_ok(),
    })
}
