//! ragtrail-projections: pure, deterministic folds over the event log. No
//! sled, no HTTP: it folds the [`Envelope`](ragtrail_events::Envelope)s it is handed.
//!
//! - [`trail`]: the fold itself, [`Trail`], kept up to date event by event.
//! - [`timeline`]: one fact's values over effective dates, with corrections.
//! - [`board`]: the board as at a date (and as known at an instant).
//! - [`compare`]: movement between two dates; exceptions.
//! - [`trend`]: metric readings, an item's RAG per board date, RAG counts.
//! - [`history`]: every event about an item, in order.
//! - [`rating`]: the rule that derives a metric's RAG when a report gives none.

pub mod board;
pub mod compare;
pub mod history;
pub mod rating;
pub mod timeline;
pub mod trail;
pub mod trend;

pub use board::{Board, BoardQuery};
pub use trail::Trail;
