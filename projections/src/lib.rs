//! ragtrail-projections: pure, deterministic folds over the event log. No
//! sled, no HTTP: it folds the [`Envelope`](ragtrail_events::Envelope)s it is handed.
//!
//! Each file depends only on those listed above it. The rules and the fold:
//! - [`timeline`]: one fact's values over effective dates, with corrections.
//! - [`rating`]: the rule that derives a metric's RAG when a report gives none.
//! - [`movement`]: how a RAG moved between two dates.
//! - [`view`]: the views the queries answer with (plain data).
//! - [`trail`]: the fold itself, [`Trail`], kept up to date event by event,
//!   and the reads the queries are built from.
//!
//! The queries, each a set of functions over a `&Trail`:
//! - [`order`]: the order people read a board in.
//! - [`concern`], [`metric`], [`programme`], [`item`]: one of each as at a date.
//! - [`board`]: the board as at a date (and as known at an instant).
//! - [`compare`]: movement between two dates; exceptions.
//! - [`slippage`]: the items whose target date moved, by how much, biggest first.
//! - [`trend`]: metric readings, an item's RAG per board date, RAG counts.
//! - [`history`]: every event about an item, in order.

pub mod board;
pub mod compare;
pub mod concern;
pub mod history;
pub mod item;
pub mod metric;
pub mod movement;
pub mod order;
pub mod programme;
pub mod rating;
pub mod slippage;
pub mod timeline;
pub mod trail;
pub mod trend;
pub mod view;

pub use trail::Trail;
pub use view::Board;
pub use view::BoardQuery;
