//! The shapes of request and response bodies that are not a view type of the
//! projections: what handlers serialize, and what the OpenAPI document shows.

use crate::auth::{Identity, Role};
use crate::wire::EnvelopeView;
use ragtrail_events::{Head, Receipt};
use ragtrail_projections::history::HistoryEntry;
use ragtrail_projections::trend::{CountsAtBoard, RagAtBoard};
use ragtrail_projections::view::BoardEntry;
use ragtrail_projections::Board;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct BatchReceipts {
    pub events: Vec<Receipt>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<EnvelopeView>,
    /// The position of the last event given (or `after`, if none).
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub next_after: u64,
    /// Pass as `after` for the next page; null when this page reaches the head.
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub next: Option<u64>,
    pub head: Head,
}

/// One page of the board (`GET /api/v1/board`): its rows are the programmes
/// in id order, each followed by its items in reference order. `counts` are
/// the whole board's.
#[derive(Serialize, ToSchema)]
pub struct BoardPage {
    #[serde(flatten)]
    pub board: Board,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<Uuid>,
    /// When the first event was recorded (null for an empty log): a board
    /// as known before then is empty, and says so.
    pub recording_began: Option<chrono::DateTime<chrono::Utc>>,
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
