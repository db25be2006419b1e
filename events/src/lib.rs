//! ragtrail-events: the typed event model of an improvement programme, its
//! validation rules, and the durable, hash-chained event store on sled.
//!
//! The model, each file depending only on those above it:
//! - [`vocab`]: RAG ratings, dimensions, phases and the other words of a report.
//! - [`field`]: the one field error, [`FieldError`].
//! - [`event`]: the [`Event`] payload enum, one variant per kind of fact.
//! - [`validate`]: content rules, each error naming its field.
//! - [`envelope`]: the stored [`Envelope`], its bytes and the hash chain.
//!
//! The store, each file depending only on those above it:
//! - `keys`, `group`: the records of one group commit and their bytes in a sled value.
//! - [`append`]: what an append asks for and gets, checked before it is queued.
//! - `index`: where each event, stream and idempotency key is (in memory).
//! - [`head`]: the head record, kept apart from sled and checked on every open.
//! - `legacy`: moving in the layouts of earlier releases.
//! - `disk`: what makes a group durable (flush, then fdatasync of sled's files).
//! - `dir`: opening a data directory (sled, its lock, moving in, the index, the head check).
//! - `shared`: what the handles and the writer share; reads.
//! - `writer`: the one group-committing writer.
//! - [`store`]: the [`Store`] handle.
//! - [`verify`]: walks the chain and names the first bad position.
//! - [`raw`]: a closed store's records, for forensic tools and tamper tests.

pub mod append;
mod dir;
mod disk;
pub mod envelope;
pub mod erase;
pub mod erasure;
pub mod error;
pub mod event;
pub mod field;
mod group;
pub mod head;
mod index;
mod keys;
pub mod legacy;
pub mod raw;
mod rewrite;
mod shared;
pub mod store;
pub mod validate;
pub mod verify;
pub mod vocab;
mod writer;

pub use append::{Append, Head, NewEvent, Receipt};
pub use envelope::{Digest32, Envelope, SCHEMA};
pub use error::{AppendError, Damage, StoreError, WriteFailure};
pub use event::{Event, PlannedPhase, Value};
pub use field::FieldError;
pub use shared::{OnDurable, Options};
pub use store::Store;
pub use verify::{Verified, VerifyError};
pub use vocab::*;
