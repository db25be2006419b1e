//! Trust: chain verification, signed digests of the log head, and board seals
//! that record exactly what a board was shown.

use super::types::{Health, Problem, PublicKey, VerifyReport};
use crate::auth::Role;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::params::{path_uuid, Params};
use crate::seal::{self, SealCheck, SealResult};
use crate::signing::SignedDigest;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ragtrail_events::VerifyError;

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
        projected: state.trail.position(),
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
    let full = Params::from_query(uri.query()).flag("full")?;
    if full {
        caller.must_be(Role::Admin)?;
    }
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
    let made = seal::seal(&state, &who.name, id).await?;
    Ok((StatusCode::CREATED, Json(made)))
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
    let chain = seal::chain(&state).await?;
    Ok(Json(seal::check(&state, id, &chain)?))
}
