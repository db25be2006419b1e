//! The one writer: drains queued appends, checks expected versions and
//! idempotency keys, assigns positions, writes the group to the log as one
//! frame and syncs it once, indexes it, then acknowledges every caller of the
//! group (group commit).

use crate::envelope::{self, Digest32, Draft, Envelope};
use crate::error::{AppendError, StoreError};
use crate::event::Event;
use crate::keys;
use crate::log::{Appender, Record};
use crate::store::{read_lock, write_lock, Append, Head, Options, Receipt, Shared};
use crate::validate::Invalid;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;
use uuid::Uuid;

/// What the writer's queue carries.
pub(crate) enum Msg {
    Append(Job),
    /// Commit everything queued before, then stop and release the store.
    Stop(oneshot::Sender<()>),
    /// Re-store exported envelopes exactly as they were (see `Store::restore`).
    Restore(Vec<Envelope>, oneshot::Sender<Result<Head, AppendError>>),
}

/// What the caller's task worked out before queueing an append.
pub(crate) struct Prepared {
    /// Each event's payload bytes, in order.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Set when the append carries an idempotency key.
    pub(crate) fingerprint: Option<Digest32>,
}

pub(crate) struct Job {
    pub(crate) append: Append,
    pub(crate) prepared: Prepared,
    pub(crate) reply: oneshot::Sender<Result<Vec<Receipt>, AppendError>>,
}

/// What the writer knows of the durable log beyond the index: its head and
/// the last transaction time. (Stream versions are the index's stream lengths.)
pub(crate) struct State {
    pub(crate) head: Head,
    last_recorded: DateTime<Utc>,
}

impl State {
    /// Reads head and last transaction time from the index the store built.
    pub(crate) fn load(shared: &Shared) -> Result<State, StoreError> {
        let count = read_lock(&shared.index).events.len() as u64;
        let mut head = Head::EMPTY;
        let mut last_recorded = DateTime::<Utc>::MIN_UTC;
        if count > 0 {
            let bytes = shared.bytes_at(count)?.unwrap_or_default();
            let at = envelope::locate(&bytes).map_err(|e| StoreError::Corrupt {
                position: count,
                detail: e.to_string(),
            })?;
            head = Head {
                position: count,
                hash: at.hash,
            };
            last_recorded = at.recorded_at;
        }
        Ok(State {
            head,
            last_recorded,
        })
    }
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    state: State,
    log: Appender,
    options: &Options,
) -> Result<mpsc::Sender<Msg>, StoreError> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut writer = Writer {
        reserve: options.reserve_bytes,
        shared,
        state,
        failed: None,
        log,
        max_group: options.max_group.max(1),
    };
    std::thread::Builder::new()
        .name("ragtrail-writer".into())
        .spawn(move || {
            let stop = writer.run(rx);
            // Let go of the hook, so nothing it holds outlives the writer.
            write_lock(&writer.shared.on_durable).take();
            // Release sled (and its directory lock) before saying we have stopped.
            drop(writer);
            if let Some(stopped) = stop {
                let _ = stopped.send(());
            }
        })
        .map_err(StoreError::Thread)?;
    Ok(tx)
}

struct Writer {
    shared: Arc<Shared>,
    state: State,
    /// Set when sled refused a write and could not be put back: no more appends.
    failed: Option<String>,
    /// Bytes of free disk space never to write into.
    reserve: u64,
    log: Appender,
    max_group: usize,
}

/// One append's place in a group.
enum Outcome {
    /// Staged in this group's batch.
    Staged(Vec<Envelope>),
    /// Same idempotency key and request as an earlier append of this group.
    SameAs(usize),
    /// A retry of an append that is durable already.
    Replayed(Vec<Receipt>),
}

/// What a group will write, built up append by append.
struct Group {
    /// Every record the group writes, in order.
    writes: Vec<Record>,
    /// The stream of each record that is an event.
    streams: Vec<Option<Uuid>>,
    /// Bytes of keys and values in the batch.
    bytes: u64,
    head: Head,
    versions: HashMap<Uuid, u64>,
    keys: HashMap<String, (Digest32, usize)>,
    recorded_at: DateTime<Utc>,
}

impl Writer {
    /// Commits groups until every handle is gone or a stop is asked for.
    fn run(&mut self, rx: mpsc::Receiver<Msg>) -> Option<oneshot::Sender<()>> {
        let this = self;
        loop {
            let mut jobs = Vec::new();
            let mut stop = None;
            let mut restore = None;
            match rx.recv() {
                Ok(Msg::Append(j)) => jobs.push(j),
                Ok(Msg::Stop(s)) => stop = Some(s),
                Ok(Msg::Restore(events, reply)) => restore = Some((events, reply)),
                Err(_) => return None,
            }
            while stop.is_none() && restore.is_none() && jobs.len() < this.max_group {
                match rx.try_recv() {
                    Ok(Msg::Append(j)) => jobs.push(j),
                    Ok(Msg::Stop(s)) => stop = Some(s),
                    Ok(Msg::Restore(events, reply)) => restore = Some((events, reply)),
                    Err(_) => break,
                }
            }
            if !jobs.is_empty() {
                this.commit_group(jobs);
            }
            if let Some((events, reply)) = restore {
                let _ = reply.send(this.restore(events));
            }
            if stop.is_some() {
                return stop;
            }
        }
    }

    fn commit_group(&mut self, jobs: Vec<Job>) {
        if let Some(why) = &self.failed {
            for job in jobs {
                let _ = job.reply.send(Err(AppendError::Unwritable(why.clone())));
            }
            return;
        }
        let mut group = Group {
            writes: Vec::new(),
            streams: Vec::new(),
            bytes: 0,
            head: self.state.head,
            versions: HashMap::new(),
            keys: HashMap::new(),
            // Transaction time never goes backwards, even if the clock does.
            recorded_at: Utc::now().max(self.state.last_recorded),
        };
        let mut waiting: Vec<(Job, Outcome)> = Vec::with_capacity(jobs.len());
        for job in jobs {
            match self.stage(&job, &mut group, waiting.len()) {
                Ok(outcome) => waiting.push((job, outcome)),
                Err(e) => {
                    // Rejected: nothing of it is in the batch.
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        let staged = waiting.iter().any(|(_, o)| matches!(o, Outcome::Staged(_)));
        let written = if !staged {
            Ok(())
        } else if let Err(short) = self.room_for(group.bytes) {
            // Refused before anything is written: nothing to undo.
            for (job, outcome) in waiting {
                let answer = match outcome {
                    Outcome::Replayed(r) => Ok(r),
                    _ => Err(AppendError::Storage(short.clone())),
                };
                let _ = job.reply.send(answer);
            }
            return;
        } else {
            self.write(group.writes, group.streams)
        };
        match written {
            Ok(()) => {
                let mut receipts: Vec<Vec<Receipt>> = Vec::with_capacity(waiting.len());
                let mut live: Vec<Envelope> = Vec::new();
                for (_, outcome) in &mut waiting {
                    let r = match outcome {
                        Outcome::Staged(envs) => {
                            let r = envs.iter().map(Receipt::of).collect();
                            live.append(envs);
                            r
                        }
                        Outcome::SameAs(i) => receipts[*i].clone(),
                        Outcome::Replayed(r) => std::mem::take(r),
                    };
                    receipts.push(r);
                }
                self.advance(group.head, group.recorded_at, live);
                for ((job, _), r) in waiting.into_iter().zip(receipts) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(detail) => {
                // Nothing is acknowledged and the head stays where it was.
                for (job, outcome) in waiting {
                    let answer = match outcome {
                        Outcome::Replayed(r) => Ok(r),
                        _ => Err(AppendError::Storage(detail.clone())),
                    };
                    let _ = job.reply.send(answer);
                }
            }
        }
    }

    /// Writes exported envelopes back exactly as they were: each must continue
    /// the log (next position, previous hash, next stream version) and re-encode
    /// to its own hash, so the restored chain is the exported chain.
    fn restore(&mut self, events: Vec<Envelope>) -> Result<Head, AppendError> {
        if let Some(why) = &self.failed {
            return Err(AppendError::Unwritable(why.clone()));
        }
        let bad = |index: usize, field: &str, message: String| AppendError::Invalid {
            index,
            invalid: Invalid::new(field, message),
        };
        let mut head = self.state.head;
        let mut versions: HashMap<Uuid, u64> = HashMap::new();
        let mut writes: Vec<Record> = Vec::with_capacity(events.len());
        let mut streams: Vec<Option<Uuid>> = Vec::with_capacity(events.len());
        let mut bytes_total = 0u64;
        let mut last_recorded = self.state.last_recorded;
        for (i, e) in events.iter().enumerate() {
            if e.position != head.position + 1 {
                return Err(bad(i, "position", format!(
                    "is {}, but the log continues at {}: restore a whole export into an empty store",
                    e.position, head.position + 1
                )));
            }
            if e.prev_hash != head.hash {
                return Err(bad(
                    i,
                    "prev_hash",
                    format!(
                        "does not link to the event before (position {})",
                        head.position
                    ),
                ));
            }
            let current = versions
                .get(&e.stream)
                .copied()
                .unwrap_or_else(|| self.durable_version(e.stream));
            if e.version != current + 1 {
                return Err(bad(
                    i,
                    "version",
                    format!(
                        "is {}, but stream {} is at version {current}",
                        e.version, e.stream
                    ),
                ));
            }
            crate::validate::envelope(&e.event, e.effective, e.reason.as_deref(), &e.actor)
                .map_err(|invalid| AppendError::Invalid { index: i, invalid })?;
            let payload = envelope::payload_bytes(&e.event)
                .map_err(|err| bad(i, "data", format!("cannot be encoded: {err}")))?;
            let (stored, again) = envelope::encode_with_payload(
                &Draft {
                    position: e.position,
                    id: e.id,
                    stream: e.stream,
                    version: e.version,
                    effective: e.effective,
                    recorded_at: e.recorded_at,
                    actor: &e.actor,
                    reason: e.reason.as_deref(),
                    idempotency_key: e.idempotency_key.as_deref(),
                    event: &e.event,
                    prev_hash: e.prev_hash,
                },
                &payload,
            )
            .map_err(|err| bad(i, "data", format!("cannot be encoded: {err}")))?;
            if again.hash != e.hash {
                return Err(bad(
                    i,
                    "hash",
                    format!(
                        "event {} does not match its hash: the export was altered",
                        e.position
                    ),
                ));
            }
            bytes_total += stored.len() as u64 + 17;
            writes.push((keys::event(e.position).to_vec(), stored));
            streams.push(Some(e.stream));
            versions.insert(e.stream, e.version);
            head = Head {
                position: e.position,
                hash: e.hash,
            };
            last_recorded = last_recorded.max(e.recorded_at);
        }
        if events.is_empty() {
            return Ok(head);
        }
        self.room_for(bytes_total).map_err(AppendError::Storage)?;
        self.write(writes, streams).map_err(AppendError::Storage)?;
        self.advance(head, last_recorded, events);
        Ok(head)
    }

    /// After a durable, indexed write: moves the head (readers see the events
    /// from now on) and hands the events to live subscribers.
    fn advance(&mut self, head: Head, recorded_at: DateTime<Utc>, events: Vec<Envelope>) {
        self.state.head = head;
        self.state.last_recorded = recorded_at;
        self.shared.set_head(head);
        let hook = read_lock(&self.shared.on_durable).clone();
        if let Some(hook) = hook {
            // The events are durable whatever the hook does; a panic in it must not stop the writer.
            let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&events)));
            if told.is_err() {
                eprintln!("ragtrail: the store's on-durable hook panicked; the events are durable");
            }
        }
        if self.shared.live.receiver_count() > 0 {
            for e in events {
                // A subscriber gone since is not an error.
                let _ = self.shared.live.send(Arc::new(e));
            }
        }
    }

    /// A stream's version in the durable log.
    fn durable_version(&self, stream: Uuid) -> u64 {
        read_lock(&self.shared.index)
            .streams
            .get(&stream)
            .map_or(0, |ps| ps.len() as u64)
    }

    /// Whether the data disk has room for `bytes` more and still keeps the
    /// reserve. Frames go into space the log has written ahead, so the disk is
    /// asked only when the log must grow.
    fn room_for(&self, bytes: u64) -> Result<(), String> {
        let growth = self.log.growth(bytes);
        if self.reserve == 0 || growth == 0 {
            return Ok(());
        }
        let free = fs2::available_space(&self.shared.dir)
            .map_err(|e| format!("cannot tell how much disk space is free: {e}"))?;
        let need = self.reserve.saturating_add(growth);
        if free < need {
            return Err(format!(
                "the data disk is nearly full: {:.1} MiB free, and ragtrail keeps {:.1} MiB in reserve; free some space and retry",
                free as f64 / 1048576.0,
                self.reserve as f64 / 1048576.0
            ));
        }
        Ok(())
    }

    /// Writes the group to the log as one frame and syncs it, then indexes it.
    /// Only after this returns Ok is anything acknowledged. If the write fails
    /// the log is cut back to where it was; if even that fails, the writer
    /// refuses further appends rather than risk a half-written log.
    fn write(&mut self, writes: Vec<Record>, streams: Vec<Option<Uuid>>) -> Result<(), String> {
        let spans = match self.log.append(&writes) {
            Ok(spans) => spans,
            Err((detail, put_back)) => {
                if !put_back {
                    self.failed = Some(detail.clone());
                    self.shared
                        .writable
                        .store(false, std::sync::atomic::Ordering::Relaxed);
                }
                return Err(detail);
            }
        };
        let mut index = write_lock(&self.shared.index);
        for (((k, v), span), stream) in writes.iter().zip(spans).zip(streams) {
            index.add(k, v, span, stream);
        }
        index.bytes = self.log.len();
        drop(index);
        self.shared
            .commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Stages one append into the group, all or nothing.
    fn stage(&self, job: &Job, group: &mut Group, index: usize) -> Result<Outcome, AppendError> {
        let append = &job.append;
        if let (Some(key), Some(fp)) = (&append.idempotency_key, job.prepared.fingerprint) {
            if let Some((seen, at)) = group.keys.get(key) {
                return if *seen == fp {
                    Ok(Outcome::SameAs(*at))
                } else {
                    Err(AppendError::KeyReused { key: key.clone() })
                };
            }
            if let Some(receipts) = self.replay(key, fp)? {
                return Ok(Outcome::Replayed(receipts));
            }
        }
        let mut head = group.head;
        let mut versions: HashMap<Uuid, u64> = HashMap::new();
        let mut writes: Vec<Record> = Vec::with_capacity(append.events.len() + 1);
        let mut streams: Vec<Option<Uuid>> = Vec::with_capacity(append.events.len() + 1);
        let mut envs = Vec::with_capacity(append.events.len());
        for (i, (ne, payload)) in append.events.iter().zip(&job.prepared.payloads).enumerate() {
            let current = versions
                .get(&ne.stream)
                .or_else(|| group.versions.get(&ne.stream))
                .copied()
                .unwrap_or_else(|| self.durable_version(ne.stream));
            if let Some(expected) = ne.expected_version {
                if expected != current {
                    return Err(AppendError::Conflict {
                        stream: ne.stream,
                        expected,
                        actual: current,
                    });
                }
            }
            if let Event::Corrected {
                target,
                replacement,
            } = &ne.event
            {
                self.check_correction(ne.stream, *target, replacement.as_deref())
                    .map_err(|invalid| AppendError::Invalid { index: i, invalid })?;
            }
            let draft = Draft {
                position: head.position + 1,
                id: Uuid::now_v7(),
                stream: ne.stream,
                version: current + 1,
                effective: ne.effective,
                recorded_at: group.recorded_at,
                actor: &append.actor,
                reason: ne.reason.as_deref(),
                idempotency_key: append.idempotency_key.as_deref(),
                event: &ne.event,
                prev_hash: head.hash,
            };
            let (bytes, env) = envelope::encode_with_payload(&draft, payload).map_err(|e| {
                AppendError::Invalid {
                    index: i,
                    invalid: Invalid::new("data", format!("cannot be encoded: {e}")),
                }
            })?;
            writes.push((keys::event(env.position).to_vec(), bytes));
            streams.push(Some(env.stream));
            versions.insert(env.stream, env.version);
            head = Head {
                position: env.position,
                hash: env.hash,
            };
            envs.push(env);
        }
        if let (Some(key), Some(fp)) = (&append.idempotency_key, job.prepared.fingerprint) {
            let first = group.head.position + 1;
            let v = keys::idempotency_value(first, envs.len() as u64, &fp.0);
            writes.push((keys::idempotency(key), v));
            streams.push(None);
            group.keys.insert(key.clone(), (fp, index));
        }
        for (k, v) in writes {
            group.bytes += (k.len() + v.len() + 8) as u64;
            group.writes.push((k, v));
        }
        group.streams.extend(streams);
        group.head = head;
        group.versions.extend(versions);
        Ok(Outcome::Staged(envs))
    }

    /// The receipts of a durable append made earlier with this key, if any.
    fn replay(&self, key: &str, fp: Digest32) -> Result<Option<Vec<Receipt>>, AppendError> {
        let stored = read_lock(&self.shared.index)
            .keys
            .get(key.as_bytes())
            .cloned();
        let Some(v) = stored else { return Ok(None) };
        let Some((first, count, seen)) = keys::idempotency_parts(&v) else {
            return Err(AppendError::Storage(format!(
                "idempotency record for {key:?} is damaged"
            )));
        };
        if seen != &fp.0[..] {
            return Err(AppendError::KeyReused {
                key: key.to_string(),
            });
        }
        let mut out = Vec::with_capacity(count as usize);
        for p in first..first + count {
            let env = self
                .shared
                .event_at(p)
                .map_err(|e| AppendError::Storage(e.to_string()))?
                .ok_or_else(|| {
                    AppendError::Storage(format!("event {p} of key {key:?} is missing"))
                })?;
            out.push(Receipt::of(&env));
        }
        Ok(Some(out))
    }

    /// A correction must name a stored event of the same stream that is not itself a
    /// correction, and a replacement must be the same kind of event.
    fn check_correction(
        &self,
        stream: Uuid,
        target: Uuid,
        replacement: Option<&Event>,
    ) -> Result<(), Invalid> {
        let positions = read_lock(&self.shared.index)
            .streams
            .get(&stream)
            .cloned()
            .unwrap_or_default();
        let mut found: Option<Envelope> = None;
        for p in positions {
            if let Ok(Some(env)) = self.shared.event_at(p) {
                if env.id == target {
                    found = Some(env);
                    break;
                }
            }
        }
        let Some(original) = found else {
            return Err(Invalid::new(
                "data.target",
                format!("no event {target} in stream {stream}; a correction must name an event of the same stream"),
            ));
        };
        if matches!(original.event, Event::Corrected { .. }) {
            return Err(Invalid::new(
                "data.target",
                "names a correction; correct the original event instead",
            ));
        }
        if let Some(r) = replacement {
            if r.type_name() != original.event.type_name() {
                return Err(Invalid::new(
                    "data.replacement",
                    format!(
                        "is a {} but the corrected event is a {}; a replacement must be the same type",
                        r.type_name(),
                        original.event.type_name()
                    ),
                ));
            }
        }
        Ok(())
    }
}
