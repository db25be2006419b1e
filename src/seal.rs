//! Board seals: what a board was shown, fixed in the log, and the check that
//! today's log still yields exactly that. A seal records the SHA-256 of the
//! board as at the meeting date, as known at the log head then, and that
//! head; checking one rebuilds the same board from today's log and compares,
//! and checks the chain and that the event at the sealed position is still
//! the one the seal named. The API's seal routes and the audit page use this.
//!
//! The snapshot hashes each text value of the board on its own (see
//! [`snapshot`]), so that a seal survives a lawful erasure: an erased value
//! carries the hash of what it was, and stands in by it. Seals made before
//! this scheme hashed the board's JSON whole; they are still checked that
//! way, and an erasure of text they cover breaks them (docs/erasure.md).

use crate::state::AppState;
use chrono::NaiveDate;
use ragtrail_events::{
    envelope, erasure, Append, AppendError, Event, NewEvent, Receipt, StoreError, Verified,
    VerifyError,
};
use ragtrail_projections::view::{BoardEntry, SealView};
use ragtrail_projections::{board, programme, Trail};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a seal could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no board meeting {0} (see GET /api/v1/boards)")]
    NoBoard(Uuid),
    #[error("board meeting {0} has not been sealed")]
    NotSealed(Uuid),
    #[error("cannot serialize the board snapshot: {0}")]
    Snapshot(#[from] serde_json::Error),
    #[error("the chain check stopped: {0}")]
    Stopped(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
}

/// The state of the hash chain, as a seal check needs it.
#[derive(Debug, Clone)]
pub enum Chain {
    Verified(Verified),
    /// The chain is broken at `position`.
    Broken {
        position: u64,
        problem: String,
    },
}

/// A seal as made (`POST /api/v1/boards/{id}/seal`).
#[derive(Serialize, ToSchema)]
pub struct SealResult {
    pub board: Uuid,
    pub programme: Uuid,
    pub as_at: NaiveDate,
    /// SHA-256 (hex) of the board as at the meeting date, as the log stood.
    pub snapshot: String,
    /// The log head the snapshot was taken at.
    pub position: u64,
    pub head: String,
    /// The `BoardSealed` event's receipt.
    pub seal: Option<Receipt>,
}

/// Whether a seal still holds (`GET /api/v1/boards/{id}/seal/verify`).
#[derive(Serialize, ToSchema)]
pub struct SealCheck {
    pub board: Uuid,
    pub programme: Uuid,
    /// The chain verifies, the log still holds the sealed head, and the board
    /// rebuilt from today's log is byte for byte what was sealed.
    pub verified: bool,
    pub detail: String,
    pub seal: SealView,
    pub snapshot_now: String,
    pub log_extends_seal: bool,
    pub chain_verified: bool,
}

/// The snapshot of the board of `programme` as at `as_at`, knowing the log
/// up to `upto`: SHA-256 (hex) of the board's JSON with every string (each
/// text value, and each key) replaced by its own hash
/// ([`erasure::text_hash`]: an erased value by the hash its marker carries).
pub fn snapshot(
    trail: &Trail,
    programme: Uuid,
    as_at: NaiveDate,
    upto: u64,
) -> Result<String, SealError> {
    let board = board::upto(trail, as_at, upto, Some(programme));
    let hashed = texts_hashed(serde_json::to_value(&board)?);
    let bytes = serde_json::to_vec(&hashed)?;
    Ok(envelope::sha256(&[&bytes]).to_hex())
}

/// The snapshot as seals made before erasure existed took it: SHA-256 of the board's JSON whole.
fn whole_snapshot(
    trail: &Trail,
    programme: Uuid,
    as_at: NaiveDate,
    upto: u64,
) -> Result<String, SealError> {
    let board = board::upto(trail, as_at, upto, Some(programme));
    let bytes = serde_json::to_vec(&board)?;
    Ok(envelope::sha256(&[&bytes]).to_hex())
}

fn texts_hashed(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let hash = |s: &str| erasure::text_hash(s).to_hex();
    match v {
        Value::String(s) => Value::String(hash(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(texts_hashed).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (hash(&k), texts_hashed(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Seals board meeting `id` for `actor`: the snapshot as the log stands now.
pub async fn seal(state: &AppState, actor: &str, id: Uuid) -> Result<SealResult, SealError> {
    let head = state.store.head();
    state.shown(head.position).await;
    let (meeting, digest) = {
        let trail = state.trail.read();
        let meeting = programme::meeting(&trail, id).ok_or(SealError::NoBoard(id))?;
        let digest = snapshot(&trail, meeting.programme, meeting.date, head.position)?;
        (meeting, digest)
    };
    let BoardEntry {
        programme,
        date,
        board,
        ..
    } = meeting;
    let receipts = state
        .append(Append {
            actor: actor.to_string(),
            idempotency_key: None,
            events: vec![NewEvent {
                stream: programme,
                event: Event::BoardSealed {
                    board: id,
                    as_at: date,
                    snapshot: digest.clone(),
                    position: head.position,
                    head: head.hash.to_hex(),
                },
                effective: date,
                reason: Some(format!("board pack for {board} on {date} sealed")),
                expected_version: None,
            }],
        })
        .await?;
    Ok(SealResult {
        board: id,
        programme,
        as_at: date,
        snapshot: digest,
        position: head.position,
        head: head.hash.to_hex(),
        seal: receipts.into_iter().next(),
    })
}

/// Walks the chain (what was verified before is not walked again), off the async threads.
pub async fn chain(state: &AppState) -> Result<Chain, SealError> {
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || store.verify())
        .await
        .map_err(|e| SealError::Stopped(e.to_string()))?;
    match result {
        Ok(v) => Ok(Chain::Verified(v)),
        Err(VerifyError::Bad { position, problem }) => Ok(Chain::Broken { position, problem }),
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// Whether board meeting `id`'s seal still holds, given the chain's state.
pub fn check(state: &AppState, id: Uuid, chain: &Chain) -> Result<SealCheck, SealError> {
    let (meeting, seal, now) = {
        let trail = state.trail.read();
        let meeting = programme::meeting(&trail, id).ok_or(SealError::NoBoard(id))?;
        let seal = meeting.seal.clone().ok_or(SealError::NotSealed(id))?;
        let mut now = snapshot(&trail, meeting.programme, seal.as_at, seal.position)?;
        if now != seal.snapshot {
            // A seal made before snapshots hashed each text on its own.
            let whole = whole_snapshot(&trail, meeting.programme, seal.as_at, seal.position)?;
            if whole == seal.snapshot {
                now = whole;
            }
        }
        (meeting, seal, now)
    };
    let stored_head = state.store.get(seal.position)?.map(|e| e.hash.to_hex());
    let log_extends = stored_head.as_deref() == Some(seal.head.as_str());
    let snapshot_matches = now == seal.snapshot;
    let chain_verified = matches!(chain, Chain::Verified(_));
    let verified = log_extends && chain_verified && snapshot_matches;
    let detail = match chain {
        _ if verified => "today's log still yields exactly what the board was shown".to_string(),
        Chain::Broken { position, problem } => {
            format!("the log's chain is broken at position {position}: {problem}")
        }
        Chain::Verified(_) if !log_extends => format!(
            "the event at position {} is no longer the one the seal recorded: the log was rewritten",
            seal.position
        ),
        Chain::Verified(_) => {
            "the board rebuilt from today's log differs from the sealed snapshot".to_string()
        }
    };
    Ok(SealCheck {
        board: id,
        programme: meeting.programme,
        verified,
        detail,
        seal,
        snapshot_now: now,
        log_extends_seal: log_extends,
        chain_verified,
    })
}
