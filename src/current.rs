//! The current trail: a [`Trail`] kept up to date with the store. The
//! store's writer applies each durable batch to it on the writer's own thread
//! (the store's on-durable hook), before any of the batch's appends returns,
//! so whoever appended usually sees the change with no further wait. When the
//! projection is busy with readers (the writer never waits for them), or the
//! hook finds a gap (events made durable while the projection was being
//! built), a catch-up task reads what is missing from the log instead. So the
//! projection never misses or doubles an event and equals a full rebuild at
//! every position it reports.

use ragtrail_events::{Envelope, Store, StoreError};
use ragtrail_projections::Trail;
use std::sync::{Arc, RwLock, RwLockReadGuard, TryLockError};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// How many events a catch-up applies per write lock, so readers are never held up long.
const CHUNK: usize = 4096;

/// A handle to the current trail. Cheap to clone.
#[derive(Clone)]
pub struct CurrentTrail {
    trail: Arc<RwLock<Trail>>,
    applied: watch::Receiver<u64>,
}

impl CurrentTrail {
    /// Builds the projection from the whole log, then follows the store (until
    /// the store is closed; the returned task, which catches up when the
    /// writer could not apply a group, runs until it is aborted). Returns once
    /// the initial catch-up is done.
    pub async fn follow(store: Store) -> Result<(CurrentTrail, JoinHandle<()>), StoreError> {
        let trail = Arc::new(RwLock::new(Trail::new()));
        let (applied_tx, applied) = watch::channel(0);
        let applied_tx = Arc::new(applied_tx);
        let behind = Arc::new(Notify::new());
        // Hook first, then read: an event made durable in between is either
        // applied by the hook or read by the catch-up, and never both.
        store.on_durable({
            let (trail, applied_tx, behind) = (trail.clone(), applied_tx.clone(), behind.clone());
            Arc::new(move |events: &[Envelope]| {
                // A very large group (a restore) is applied in chunks by the
                // catch-up task, so readers are never held up long.
                if events.len() > CHUNK {
                    behind.notify_one();
                    return;
                }
                // Never keep the writer waiting for readers: if the projection
                // is busy, the catch-up task applies these from the log instead.
                let mut t = match trail.try_write() {
                    Ok(t) => t,
                    Err(TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(TryLockError::WouldBlock) => {
                        behind.notify_one();
                        return;
                    }
                };
                for e in events {
                    if e.position == t.position() + 1 {
                        t.apply(e);
                    } else if e.position > t.position() + 1 {
                        behind.notify_one();
                        break;
                    }
                }
                applied_tx.send_replace(t.position());
            })
        });
        catch_up(&store, &trail, &applied_tx)?;
        let task = tokio::spawn(run(store, trail.clone(), behind, applied_tx));
        Ok((CurrentTrail { trail, applied }, task))
    }

    /// Builds the projection again from the whole log and puts it in place
    /// of this one (after an erasure changed stored text: the trail held the
    /// text as first written). Readers see the old trail until the new one
    /// is whole; events appended meanwhile are applied before the swap.
    pub fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let mut fresh = Trail::new();
        let fill = |t: &mut Trail| -> Result<(), StoreError> {
            loop {
                let events = store.read(t.position(), CHUNK)?;
                if events.is_empty() {
                    return Ok(());
                }
                for e in events {
                    if e.position == t.position() + 1 {
                        t.apply_owned(e);
                    }
                }
            }
        };
        fill(&mut fresh)?;
        let mut current = write(&self.trail);
        fill(&mut fresh)?;
        *current = fresh;
        Ok(())
    }

    /// Reads the projection. Hold the guard briefly: updates wait for it.
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
    /// append) or the projection has stopped following (the store closed and
    /// the catch-up task ended). Returns whether it got there.
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

/// Applies everything durable beyond what the trail has, in chunks. The hook
/// may apply events meanwhile, so an event at or below the trail's position is
/// skipped. Ends when a chunk brings nothing new, so it ends on any log, even
/// one altered to leave out or reorder positions (which `verify` reports).
fn catch_up(
    store: &Store,
    trail: &RwLock<Trail>,
    applied: &watch::Sender<u64>,
) -> Result<(), StoreError> {
    loop {
        let from = write(trail).position();
        let events = store.read(from, CHUNK)?;
        let mut t = write(trail);
        let before = t.position();
        for e in events {
            if e.position > t.position() {
                t.apply_owned(e);
            }
        }
        if t.position() == before {
            return Ok(());
        }
        applied.send_replace(t.position());
    }
}

/// Catches up whenever the hook found a gap, until aborted.
async fn run(
    store: Store,
    trail: Arc<RwLock<Trail>>,
    behind: Arc<Notify>,
    applied: Arc<watch::Sender<u64>>,
) {
    loop {
        behind.notified().await;
        if let Err(e) = catch_up(&store, &trail, &applied) {
            eprintln!("ragtrail: the current trail cannot read the log: {e}");
        }
    }
}
