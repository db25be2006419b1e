//! The shapes of request and response bodies that are not a view type of the
//! projections: what handlers serialize, and what the OpenAPI document shows.

use crate::auth::{Identity, Role};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Envelope, Head, Receipt};
use ragtrail_projections::history::HistoryEntry;
use ragtrail_projections::trend::{CountsAtBoard, RagAtBoard};
use ragtrail_projections::view::SealView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One event to append (`POST /api/v1/events`; also each entry of a batch).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppendBody {
    /// The programme, item, metric, risk or issue the event is about.
    pub stream: Uuid,
    /// The event type, e.g. `RagChanged` (see the `Event` schema for each type's `data`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The date the fact applies to (normally the board or reporting date).
    pub effective: NaiveDate,
    /// Why: required for RAG changes, target date revisions and corrections.
    pub reason: Option<String>,
    /// The version the stream must be at (0 for a new stream); 409 otherwise.
    pub expected_version: Option<u64>,
    /// A retry with the same key returns the first result (or use the `Idempotency-Key` header).
    pub idempotency_key: Option<String>,
}

/// Several events appended atomically (`POST /api/v1/batches`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BatchBody {
    /// Each as in `AppendBody`, without `idempotency_key`.
    pub events: Vec<AppendBody>,
    pub idempotency_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchReceipts {
    pub events: Vec<Receipt>,
}

/// A stored event as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct EnvelopeView {
    pub position: u64,
    pub id: Uuid,
    pub stream: Uuid,
    pub version: u64,
    #[serde(rename = "type")]
    pub type_name: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub schema: u16,
    pub payload_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&Envelope> for EnvelopeView {
    fn from(e: &Envelope) -> Self {
        EnvelopeView {
            position: e.position,
            id: e.id,
            stream: e.stream,
            version: e.version,
            type_name: e.event.type_name().to_string(),
            data: e.event.data_json(),
            effective: e.effective,
            recorded_at: e.recorded_at,
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            idempotency_key: e.idempotency_key.clone(),
            schema: e.schema,
            payload_hash: e.payload_hash.to_hex(),
            prev_hash: e.prev_hash.to_hex(),
            hash: e.hash.to_hex(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<EnvelopeView>,
    /// Pass as `after` for the next page.
    pub next_after: u64,
    pub head: Head,
}

#[derive(Serialize, ToSchema)]
pub struct ItemTrend {
    pub item: Uuid,
    pub boards: Vec<RagAtBoard>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgrammeCounts {
    pub programme: Uuid,
    pub boards: Vec<CountsAtBoard>,
}

#[derive(Serialize, ToSchema)]
pub struct ItemHistory {
    pub item: Uuid,
    pub events: Vec<HistoryEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct BoardEntry {
    /// The id of the `BoardMeetingHeld` event: use it to seal the board.
    pub id: Uuid,
    pub programme: Uuid,
    pub programme_name: String,
    pub board: String,
    pub date: NaiveDate,
    pub seal: Option<SealView>,
}

#[derive(Serialize, ToSchema)]
pub struct BoardsList {
    /// Newest first.
    pub boards: Vec<BoardEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `damaged` (the data directory lost acknowledged events or its
    /// head record: see `damage`), or read-only after a write error.
    pub status: String,
    pub writable: bool,
    /// What was found wrong with the data directory when it was opened, and what to do.
    pub damage: Option<String>,
    pub head: Head,
    /// The last position the projections have applied.
    pub projected: u64,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyReport {
    pub verified: bool,
    /// Events verified (when verified).
    pub count: Option<u64>,
    /// Events this request checked: those since the last verification, or all with `full=true`.
    pub checked: Option<u64>,
    /// Whether the whole chain was walked from position 1 (`full=true`, admins only).
    pub full: bool,
    pub head: Option<String>,
    /// The first bad position (when not).
    pub position: Option<u64>,
    pub problem: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicKey {
    pub algorithm: String,
    /// Ed25519 public key, hex.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
pub struct SealResult {
    pub board: Uuid,
    pub programme: Uuid,
    pub as_at: NaiveDate,
    /// SHA-256 (hex) of the board snapshot.
    pub snapshot: String,
    /// The log position the snapshot was taken at, and its hash.
    pub position: u64,
    pub head: String,
    /// The `BoardSealed` event that records it.
    pub seal: Option<Receipt>,
}

#[derive(Serialize, ToSchema)]
pub struct SealCheck {
    pub board: Uuid,
    pub programme: Uuid,
    pub verified: bool,
    pub detail: String,
    pub seal: SealView,
    pub snapshot_now: String,
    pub log_extends_seal: bool,
    pub chain_verified: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Who it is for; becomes the actor of every event recorded with it.
    pub name: String,
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub name: String,
    pub role: Role,
    /// Shown this once only.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Identity>,
}

/// An error (`application/problem+json`).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do.
    pub detail: String,
    /// The field to fix (422).
    pub field: Option<String>,
    /// The stream's version now (409 on a version conflict).
    pub current_version: Option<u64>,
}
