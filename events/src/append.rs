//! What an append asks for and what it gets back, and the checks made on the
//! caller's own task before an append is queued for the writer, so that the
//! one writer does as little as possible.

use crate::envelope::{self, Digest32, Envelope};
use crate::error::AppendError;
use crate::event::Event;
use crate::validate::{self, FieldError};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// One event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub stream: Uuid,
    pub event: Event,
    pub effective: NaiveDate,
    pub reason: Option<String>,
    /// The version the caller believes the stream is at (0 for a new stream).
    pub expected_version: Option<u64>,
}

/// An atomic append of one or more events by one actor.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    pub actor: String,
    /// A retried append with the same key returns the first result.
    pub idempotency_key: Option<String>,
    pub events: Vec<NewEvent>,
}

/// What the store assigned to an appended event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub position: u64,
    pub stream: Uuid,
    pub version: u64,
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Digest32,
}

impl Receipt {
    pub fn of(e: &Envelope) -> Receipt {
        Receipt {
            position: e.position,
            stream: e.stream,
            version: e.version,
            id: e.id,
            hash: e.hash,
        }
    }
}

/// The last durable event: its position and hash (0 and the zero hash when empty).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Head {
    pub position: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Digest32,
}

impl Head {
    pub const EMPTY: Head = Head {
        position: 0,
        hash: Digest32::GENESIS,
    };
}

/// What the caller's task worked out before queueing an append.
pub(crate) struct Prepared {
    /// Each event's payload bytes, in order.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Set when the append carries an idempotency key.
    pub(crate) fingerprint: Option<Digest32>,
}

/// Stateless checks and the payload encoding, done on the caller's task
/// before queueing, so the single writer does as little as possible.
pub(crate) fn prepare(append: &Append) -> Result<Prepared, AppendError> {
    if append.events.is_empty() {
        return Err(AppendError::Empty);
    }
    if let Some(k) = &append.idempotency_key {
        validate::idempotency_key(k)
            .map_err(|invalid| AppendError::Invalid { index: 0, invalid })?;
    }
    let mut payloads = Vec::with_capacity(append.events.len());
    for (index, e) in append.events.iter().enumerate() {
        let erasure = match &e.event {
            Event::TextErased { .. } => true,
            Event::Corrected { replacement, .. } => {
                matches!(replacement.as_deref(), Some(Event::TextErased { .. }))
            }
            _ => false,
        };
        if erasure {
            // verify checks an erasure against the payloads it redacted: one
            // appended by hand would vouch for redactions never made.
            return Err(AppendError::Invalid {
                index,
                invalid: FieldError::new(
                    "type",
                    "a TextErased event is written only by an erasure: POST /api/v1/erasures (admin) or `ragtrail erase`",
                ),
            });
        }
        validate::envelope(&e.event, e.effective, e.reason.as_deref(), &append.actor)
            .map_err(|invalid| AppendError::Invalid { index, invalid })?;
        payloads.push(
            envelope::payload_bytes(&e.event).map_err(|err| AppendError::Invalid {
                index,
                invalid: FieldError::new("data", format!("cannot be encoded: {err}")),
            })?,
        );
    }
    let fingerprint = append
        .idempotency_key
        .as_ref()
        .map(|_| fingerprint(append, &payloads));
    Ok(Prepared {
        payloads,
        fingerprint,
    })
}

/// A digest of everything a request asks for, to tell a retry from a different request.
fn fingerprint(append: &Append, payloads: &[Vec<u8>]) -> Digest32 {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part(append.actor.as_bytes());
    for (e, payload) in append.events.iter().zip(payloads) {
        part(e.stream.as_bytes());
        part(&e.effective.num_days_from_ce().to_be_bytes());
        part(e.reason.as_deref().unwrap_or_default().as_bytes());
        match e.expected_version {
            Some(v) => part(&[&[1u8][..], &v.to_be_bytes()].concat()),
            None => part(&[0]),
        }
        part(payload);
    }
    Digest32(h.finalize().into())
}
