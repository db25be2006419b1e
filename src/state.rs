//! What every request handler can reach, and the one path by which the
//! service appends: durable in the store, then shown by the current trail,
//! before the caller is answered.

use crate::auth::Tokens;
use crate::current::CurrentTrail;
use crate::signing::Signer;
use ragtrail_events::{Append, AppendError, Receipt, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long an append (or a seal) waits for the current trail to show what
/// was made durable, before answering anyway.
const SHOWN_WITHIN: Duration = Duration::from_secs(5);

/// What every handler can reach: one shared [`Services`], so that the clone
/// axum makes for each request and extractor is one reference count, not one
/// per field.
#[derive(Clone)]
pub struct AppState(pub Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Appends, and returns once the events are durable *and* shown by the
    /// live projection (waiting for it briefly), so that whoever made the
    /// change sees it on the next page or query.
    pub async fn append(&self, append: Append) -> Result<Vec<Receipt>, AppendError> {
        let receipts = self.store.append(append).await?;
        if let Some(last) = receipts.last() {
            self.shown(last.position).await;
        }
        Ok(receipts)
    }

    /// Waits (briefly, see [`SHOWN_WITHIN`]) until the current trail shows
    /// the log up to `position`. Usually the store's writer has applied it
    /// already (see [`crate::current`]).
    pub async fn shown(&self, position: u64) {
        if self.trail.position() < position {
            let _ = tokio::time::timeout(SHOWN_WITHIN, self.trail.wait_for(position)).await;
        }
    }
}

/// The store, the live projection and the rest, shared by every request.
pub struct Services {
    pub store: Store,
    /// The projections, kept up to date with the store.
    pub trail: CurrentTrail,
    pub tokens: Tokens,
    pub signer: Arc<Signer>,
    pub public_read: bool,
    /// The sign-in cookie is marked Secure.
    pub secure_cookies: bool,
    /// The key of the forms' CSRF tokens.
    pub csrf: crate::csrf::Key,
    /// Live-feed (SSE) subscribers at once (`--live-max`).
    pub feed_max: usize,
    /// The places left for live-feed subscribers.
    pub feed_places: Arc<tokio::sync::Semaphore>,
    /// The origins whose pages may call the API (CORS).
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Flips to true when the server is shutting down (ends live feeds).
    pub shutdown: watch::Receiver<bool>,
}
