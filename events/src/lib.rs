//! ragtrail-events: the typed event model of an improvement programme, its
//! validation rules, and the durable, hash-chained event log store.
//!
//! - [`vocab`]: RAG ratings, dimensions, phases and the other words of a report.
//! - [`event`]: the [`Event`] payload enum, one variant per kind of fact.
//! - [`validate`]: content rules, each error naming its field.
//! - [`envelope`]: the stored [`Envelope`], its bytes and the hash chain.
//! - [`log`]: the append-only event log file and its frames.
//! - [`store`]: the store: appends through one group-committing writer, reads, live feed.
//! - [`verify`]: walks the chain and names the first bad position.

pub mod envelope;
pub mod error;
pub mod event;
mod keys;
pub mod log;
mod migrate;
pub mod store;
pub mod validate;
pub mod verify;
pub mod vocab;
mod writer;

pub use envelope::{Digest32, Envelope, SCHEMA};
pub use error::{AppendError, StoreError};
pub use event::{Event, PlannedPhase, Value};
pub use store::{Append, Head, NewEvent, OnDurable, Options, Receipt, Store};
pub use validate::Invalid;
pub use verify::{Verified, VerifyError};
pub use vocab::*;
