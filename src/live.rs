//! The live projection: a [`Trail`] kept up to date with the store. It
//! subscribes to the store's feed of durable events, catches up from the log
//! first, applies each new event as it arrives, and re-reads the log whenever
//! it falls behind the feed (a lag) or sees a gap — so it never misses or
//! doubles an event, and equals a full rebuild at every position it reports.

use ragtrail_events::{Store, StoreError};
use ragtrail_projections::Trail;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// How many events a catch-up applies per write lock, so readers are never held up long.
const CHUNK: usize = 4096;

/// A handle to the live projection. Cheap to clone.
#[derive(Clone)]
pub struct LiveTrail {
    trail: Arc<RwLock<Trail>>,
    applied: watch::Receiver<u64>,
}

impl LiveTrail {
    /// Builds the projection from the whole log, then follows the store (until the
    /// returned task is aborted, or every handle of the store is dropped).
    /// Returns once the initial catch-up is done, with the task that keeps following.
    pub async fn follow(store: Store) -> Result<(LiveTrail, JoinHandle<()>), StoreError> {
        let trail = Arc::new(RwLock::new(Trail::new()));
        // Subscribe before reading, so nothing falls between the catch-up and the feed.
        let feed = store.subscribe();
        let (applied_tx, applied) = watch::channel(0);
        catch_up(&store, &trail, &applied_tx)?;
        let task = tokio::spawn(run(store, trail.clone(), feed, applied_tx));
        Ok((LiveTrail { trail, applied }, task))
    }

    /// Reads the projection. Hold the guard briefly: the follower waits for it.
    pub fn read(&self) -> RwLockReadGuard<'_, Trail> {
        match self.trail.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The last position applied.
    pub fn position(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the projection has applied `position` (e.g. a writer's own
    /// append) or the follower has stopped. Returns whether it got there.
    pub async fn wait_for(&self, position: u64) -> bool {
        let mut rx = self.applied.clone();
        let reached = rx.wait_for(|p| *p >= position).await.is_ok();
        reached
    }
}

fn write(trail: &RwLock<Trail>) -> std::sync::RwLockWriteGuard<'_, Trail> {
    match trail.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Applies everything durable beyond what the trail has, in chunks.
fn catch_up(
    store: &Store,
    trail: &RwLock<Trail>,
    applied: &watch::Sender<u64>,
) -> Result<(), StoreError> {
    loop {
        let from = write(trail).position();
        let events = store.read(from, CHUNK)?;
        if events.is_empty() {
            return Ok(());
        }
        let mut t = write(trail);
        for e in events {
            t.apply_owned(e);
        }
        applied.send_replace(t.position());
    }
}

async fn run(
    store: Store,
    trail: Arc<RwLock<Trail>>,
    mut feed: broadcast::Receiver<Arc<ragtrail_events::Envelope>>,
    applied: watch::Sender<u64>,
) {
    loop {
        match feed.recv().await {
            Ok(env) => {
                let next = write(&trail).position() + 1;
                if env.position == next {
                    let mut t = write(&trail);
                    t.apply(&env);
                    applied.send_replace(t.position());
                } else if env.position > next {
                    // A gap: the feed is ahead of us; read what we missed from the log.
                    if let Err(e) = catch_up(&store, &trail, &applied) {
                        eprintln!("ragtrail: live projection cannot read the log: {e}");
                    }
                }
                // Below `next`: applied already by a catch-up.
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                if let Err(e) = catch_up(&store, &trail, &applied) {
                    eprintln!("ragtrail: live projection cannot read the log: {e}");
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
