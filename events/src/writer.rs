//! The one writer: drains queued appends, checks expected versions and
//! idempotency keys, assigns positions, writes the group to sled as one
//! batch, makes it durable once (see [`Disk`]), indexes it, then acknowledges
//! every caller of the group (group commit). Restores of exported events take
//! the same path, with their envelopes checked instead of made.

use crate::append::{Append, Head, Prepared, Receipt};
use crate::disk::Disk;
use crate::envelope::{self, Digest32, Draft, Envelope};
use crate::error::{AppendError, WriteFailure};
use crate::event::Event;
use crate::group::{self, Record};
use crate::head::Keeper;
use crate::keys;
use crate::shared::{read_lock, write_lock, Options, Shared};
use crate::validate::FieldError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
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
    /// Erase a text from every event's payload (see `Store::erase`).
    Erase(
        crate::erase::Request,
        oneshot::Sender<Result<crate::erase::Erased, crate::erase::EraseError>>,
    ),
}

pub(crate) struct Job {
    pub(crate) append: Append,
    pub(crate) prepared: Prepared,
    pub(crate) reply: oneshot::Sender<Result<Vec<Receipt>, AppendError>>,
}

/// What the writer needs besides the shared state.
pub(crate) struct Parts {
    pub(crate) head: Head,
    pub(crate) last_recorded: DateTime<Utc>,
    pub(crate) disk: Disk,
    pub(crate) keeper: Keeper,
    /// The most record bytes in one sled value.
    pub(crate) value_cap: usize,
    /// sled's segment size (an erasure's rewrite uses the same).
    pub(crate) segment: usize,
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    parts: Parts,
    options: &Options,
) -> std::io::Result<mpsc::Sender<Msg>> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let failed = shared
        .damage
        .as_ref()
        .map(|d| WriteFailure::Damaged(d.problem.clone()));
    let mut writer = Writer {
        reserve: options.reserve_bytes,
        shared,
        head: parts.head,
        last_recorded: parts.last_recorded,
        failed,
        disk: parts.disk,
        keeper: parts.keeper,
        value_cap: parts.value_cap,
        max_group: options.max_group.max(1),
        segment: parts.segment,
        cache_bytes: options.cache_bytes,
        sync_files: options.sync_files,
    };
    std::thread::Builder::new()
        .name("ragtrail-writer".into())
        .spawn(move || {
            let stop = writer.run(rx);
            // Let go of the hook, so nothing it holds outlives the writer.
            write_lock(&writer.shared.on_durable).take();
            if writer.failed.is_none() {
                if let Err(e) = writer.keeper.finish(writer.head) {
                    eprintln!("ragtrail: {e}");
                }
            }
            // Release sled (and its directory lock) before saying we have stopped.
            drop(writer);
            if let Some(stopped) = stop {
                let _ = stopped.send(());
            }
        })?;
    Ok(tx)
}

struct Writer {
    shared: Arc<Shared>,
    /// The last durable event.
    head: Head,
    last_recorded: DateTime<Utc>,
    /// Set when a write failed and could not be put back (or the store is
    /// damaged): no more appends until the store is reopened.
    failed: Option<WriteFailure>,
    /// Bytes of free disk space never to write into.
    reserve: u64,
    disk: Disk,
    keeper: Keeper,
    value_cap: usize,
    max_group: usize,
    segment: usize,
    cache_bytes: u64,
    sync_files: bool,
}

/// One append's place in a group.
enum Outcome {
    /// Staged in this group.
    Staged(Vec<Envelope>),
    /// Same idempotency key and request as an earlier append of this group.
    SameAs(usize),
    /// A retry of an append that is durable already.
    Replayed(Vec<Receipt>),
}

/// What a group will write, built up event by event: appends and restores alike.
struct Group {
    /// Every record the group writes, in order.
    writes: Vec<Record>,
    /// The stream of each record that is an event.
    streams: Vec<Option<Uuid>>,
    /// Bytes of keys and values.
    bytes: u64,
    head: Head,
    versions: HashMap<Uuid, u64>,
    recorded_at: DateTime<Utc>,
}

impl Group {
    fn new(head: Head, recorded_at: DateTime<Utc>) -> Group {
        Group {
            writes: Vec::new(),
            streams: Vec::new(),
            bytes: 0,
            head,
            versions: HashMap::new(),
            recorded_at,
        }
    }

    fn push(&mut self, record: Record, stream: Option<Uuid>) {
        self.bytes += (record.0.len() + record.1.len() + 8) as u64;
        self.writes.push(record);
        self.streams.push(stream);
    }

    /// Adds one event's stored bytes: it becomes the group's head.
    fn push_event(&mut self, bytes: Vec<u8>, env: &Envelope) {
        self.push(
            (keys::event(env.position).to_vec(), bytes),
            Some(env.stream),
        );
        self.versions.insert(env.stream, env.version);
        self.head = Head {
            position: env.position,
            hash: env.hash,
        };
        self.recorded_at = self.recorded_at.max(env.recorded_at);
    }

    /// Takes everything `part` staged after this group's own records.
    fn take(&mut self, part: Group) {
        self.writes.extend(part.writes);
        self.streams.extend(part.streams);
        self.bytes += part.bytes;
        self.versions.extend(part.versions);
        self.head = part.head;
    }
}

impl Writer {
    /// Commits groups until every handle is gone or a stop is asked for.
    fn run(&mut self, rx: mpsc::Receiver<Msg>) -> Option<oneshot::Sender<()>> {
        loop {
            let mut jobs = Vec::new();
            let mut stop = None;
            let mut restore = None;
            let mut erase = None;
            match rx.recv() {
                Ok(Msg::Append(j)) => jobs.push(j),
                Ok(Msg::Stop(s)) => stop = Some(s),
                Ok(Msg::Restore(events, reply)) => restore = Some((events, reply)),
                Ok(Msg::Erase(request, reply)) => erase = Some((request, reply)),
                Err(_) => return None,
            }
            while stop.is_none()
                && restore.is_none()
                && erase.is_none()
                && jobs.len() < self.max_group
            {
                match rx.try_recv() {
                    Ok(Msg::Append(j)) => jobs.push(j),
                    Ok(Msg::Stop(s)) => stop = Some(s),
                    Ok(Msg::Restore(events, reply)) => restore = Some((events, reply)),
                    Ok(Msg::Erase(request, reply)) => erase = Some((request, reply)),
                    Err(_) => break,
                }
            }
            if !jobs.is_empty() {
                self.commit_group(jobs);
            }
            if let Some((events, reply)) = restore {
                let _ = reply.send(self.restore(events));
            }
            if let Some((request, reply)) = erase {
                let _ = reply.send(self.erase(request));
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
        // Transaction time never goes backwards, even if the clock does.
        let mut group = Group::new(self.head, Utc::now().max(self.last_recorded));
        let mut keys_seen: HashMap<String, (Digest32, usize)> = HashMap::new();
        let mut waiting: Vec<(Job, Outcome)> = Vec::with_capacity(jobs.len());
        for job in jobs {
            match self.stage(&job, &mut group, &mut keys_seen, waiting.len()) {
                Ok(outcome) => waiting.push((job, outcome)),
                // Rejected: nothing of it is in the group.
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        let staged = waiting.iter().any(|(_, o)| matches!(o, Outcome::Staged(_)));
        let written = if staged {
            self.write(group.writes, group.streams, group.bytes)
        } else {
            Ok(())
        };
        if let Err(e) = written {
            // Nothing is acknowledged and the head stays where it was.
            for (job, outcome) in waiting {
                let answer = match outcome {
                    Outcome::Replayed(r) => Ok(r),
                    _ => Err(e.clone()),
                };
                let _ = job.reply.send(answer);
            }
            return;
        }
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
        if staged {
            self.advance(group.head, group.recorded_at, live);
        }
        for ((job, _), r) in waiting.into_iter().zip(receipts) {
            let _ = job.reply.send(Ok(r));
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
            invalid: FieldError::new(field, message),
        };
        let mut group = Group::new(self.head, self.last_recorded);
        for (i, e) in events.iter().enumerate() {
            let head = group.head;
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
            let current = self.version_in(&group, e.stream);
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
            // A redacted event holds the erasure's marker, which no new text may;
            // its erasure, later in the export, vouches for it (`verify` checks).
            if e.erased_by.is_none() {
                crate::validate::envelope(&e.event, e.effective, e.reason.as_deref(), &e.actor)
                    .map_err(|invalid| AppendError::Invalid { index: i, invalid })?;
            }
            let (stored, again) = envelope::encode_as_exported(e)
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
            group.push_event(stored, &again);
        }
        if events.is_empty() {
            return Ok(self.head);
        }
        let head = group.head;
        self.write(group.writes, group.streams, group.bytes)?;
        self.advance(head, group.recorded_at, events);
        Ok(head)
    }

    /// After a durable, indexed write: moves the head (readers see the events
    /// from now on), hands it to the head record's keeper, and the events to
    /// the on-durable hook and live subscribers.
    fn advance(&mut self, head: Head, recorded_at: DateTime<Utc>, events: Vec<Envelope>) {
        self.head = head;
        self.last_recorded = recorded_at;
        self.shared.set_head(head);
        self.keeper.offer(head);
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

    /// A stream's version: as the group leaves it, or as it is durably.
    fn version_in(&self, group: &Group, stream: Uuid) -> u64 {
        group
            .versions
            .get(&stream)
            .copied()
            .unwrap_or_else(|| read_lock(&self.shared.index).version(stream))
    }

    /// Whether the data disk has room for `bytes` more records and still keeps
    /// the reserve. sled writes each value once to its log, and again when it
    /// rewrites a page, so twice the records is asked for.
    fn room_for(&self, bytes: u64) -> Result<(), WriteFailure> {
        if self.reserve == 0 {
            return Ok(());
        }
        let free = fs2::available_space(&self.shared.dir).map_err(|e| WriteFailure::Space {
            source: Arc::new(e),
        })?;
        let need = self.reserve.saturating_add(bytes.saturating_mul(2));
        if free < need {
            return Err(WriteFailure::NearlyFull {
                free,
                reserve: self.reserve,
            });
        }
        Ok(())
    }

    /// Writes the group to sled as one batch of values and makes it durable,
    /// then indexes it. Only after this returns Ok is anything acknowledged.
    /// A refusal for lack of space writes nothing; a failure once sled has
    /// the batch stops all further appends (sled may or may not have written
    /// it, and what it holds must not be written over).
    fn write(
        &mut self,
        writes: Vec<Record>,
        streams: Vec<Option<Uuid>>,
        bytes: u64,
    ) -> Result<(), AppendError> {
        self.room_for(bytes).map_err(AppendError::Storage)?;
        let mut last_key = read_lock(&self.shared.index).last_key;
        let mut values: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut places: Vec<(u64, crate::group::Span)> = Vec::with_capacity(writes.len());
        for range in group::split(&writes, self.value_cap) {
            let part = &writes[range];
            let key = group::first_position(part)
                .unwrap_or(last_key + 1)
                .max(last_key + 1);
            last_key = key;
            let (value, spans) = group::encode(part);
            values.push((key, value));
            places.extend(spans.into_iter().map(|span| (key, span)));
        }
        // One value is one insert (atomic by itself); several are one sled
        // batch, applied atomically (sled writes a batch manifest for it).
        let (db, events) = {
            let sled = read_lock(&self.shared.sled);
            (sled.db.clone(), sled.events.clone())
        };
        let applied = if values.len() == 1 {
            let (key, value) = values.remove(0);
            events.insert(key.to_be_bytes(), value).map(|_| ())
        } else {
            let mut batch = sled::Batch::default();
            for (key, value) in values {
                batch.insert(&key.to_be_bytes(), value);
            }
            events.apply_batch(batch)
        };
        let durable = applied
            .map_err(WriteFailure::Take)
            .and_then(|()| self.disk.make_durable(&db));
        if let Err(detail) = durable {
            self.failed = Some(detail.clone());
            self.shared.writable.store(false, Ordering::Relaxed);
            return Err(AppendError::Storage(detail));
        }
        let mut index = write_lock(&self.shared.index);
        for (((k, v), place), stream) in writes.iter().zip(places).zip(streams) {
            index.add(place.0, (k, v, place.1), stream);
        }
        drop(index);
        self.shared.count_commit();
        Ok(())
    }

    /// Stages one append into the group, all or nothing.
    fn stage(
        &self,
        job: &Job,
        group: &mut Group,
        keys_seen: &mut HashMap<String, (Digest32, usize)>,
        index: usize,
    ) -> Result<Outcome, AppendError> {
        let append = &job.append;
        if let (Some(key), Some(fp)) = (&append.idempotency_key, job.prepared.fingerprint) {
            if let Some((seen, at)) = keys_seen.get(key) {
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
        let mut part = Group::new(group.head, group.recorded_at);
        let mut envs = Vec::with_capacity(append.events.len());
        for (i, (ne, payload)) in append.events.iter().zip(&job.prepared.payloads).enumerate() {
            let current = match part.versions.get(&ne.stream) {
                Some(v) => *v,
                None => self.version_in(group, ne.stream),
            };
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
                    .map_err(|bad| match bad {
                        Correction::NoTarget(invalid) => {
                            AppendError::NoSuchTarget { index: i, invalid }
                        }
                        Correction::Contradicts(invalid) => {
                            AppendError::Contradicts { index: i, invalid }
                        }
                    })?;
            }
            let draft = Draft {
                position: part.head.position + 1,
                id: Uuid::now_v7(),
                stream: ne.stream,
                version: current + 1,
                effective: ne.effective,
                recorded_at: group.recorded_at,
                actor: &append.actor,
                reason: ne.reason.as_deref(),
                idempotency_key: append.idempotency_key.as_deref(),
                event: &ne.event,
                prev_hash: part.head.hash,
            };
            let (bytes, env) = envelope::encode_with_payload(&draft, payload).map_err(|e| {
                AppendError::Invalid {
                    index: i,
                    invalid: FieldError::new("data", format!("cannot be encoded: {e}")),
                }
            })?;
            part.push_event(bytes, &env);
            envs.push(env);
        }
        if let (Some(key), Some(fp)) = (&append.idempotency_key, job.prepared.fingerprint) {
            let first = group.head.position + 1;
            let v = keys::idempotency_value(first, envs.len() as u64, &fp.0);
            part.push((keys::idempotency(key), v), None);
            keys_seen.insert(key.clone(), (fp, index));
        }
        group.take(part);
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
            return Err(AppendError::Storage(WriteFailure::KeyRecord {
                key: key.to_string(),
            }));
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
                .map_err(|e| {
                    AppendError::Storage(WriteFailure::ReadBack {
                        position: p,
                        source: Arc::new(e),
                    })
                })?
                .ok_or_else(|| {
                    AppendError::Storage(WriteFailure::KeyEventMissing {
                        key: key.to_string(),
                        position: p,
                    })
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
    ) -> Result<(), Correction> {
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
            return Err(Correction::NoTarget(FieldError::new(
                "data.target",
                format!("no event {target} in stream {stream}; a correction must name an event of the same stream"),
            )));
        };
        if matches!(original.event, Event::Corrected { .. }) {
            return Err(Correction::Contradicts(FieldError::new(
                "data.target",
                "names a correction; correct the original event instead",
            )));
        }
        if let Some(r) = replacement {
            if r.type_name() != original.event.type_name() {
                return Err(Correction::Contradicts(FieldError::new(
                    "data.replacement",
                    format!(
                        "is a {} but the corrected event is a {}; a replacement must be the same type",
                        r.type_name(),
                        original.event.type_name()
                    ),
                )));
            }
        }
        Ok(())
    }
}

impl Writer {
    /// Erases a text from every event's payload: finds it, redacts each
    /// field that holds it, records the erasure as an event, rewrites the
    /// data directory with the redacted values (see [`rewrite`]) and takes the
    /// new sled up. Nothing is appended meanwhile: this is the writer.
    ///
    /// [`rewrite`]: crate::rewrite
    fn erase(
        &mut self,
        request: crate::erase::Request,
    ) -> Result<crate::erase::Erased, crate::erase::EraseError> {
        use crate::erase::{EraseError, Erased, Found};
        if let Some(why) = &self.failed {
            return Err(EraseError::Unwritable(why.clone()));
        }
        request.check().map_err(EraseError::Invalid)?;
        let texts = request.variants();
        let head = self.head;
        let erasure_at = head.position + 1;
        // Every event holding the text, and its redaction.
        let mut found: Vec<Found> = Vec::new();
        let mut redactions: HashMap<u64, (Uuid, Vec<String>, Event)> = HashMap::new();
        let mut next = 1;
        while next <= head.position {
            let chunk = self.shared.chunk(next, head.position)?;
            if chunk.is_empty() {
                break;
            }
            next += chunk.len() as u64;
            for e in chunk {
                let e = e?;
                let (here, redacted) = crate::erase::find_in(&e, &texts);
                if let Some((redacted, fields)) = redacted {
                    redactions.insert(e.position, (e.stream, fields, redacted));
                }
                found.extend(here);
            }
        }
        let unerasable: Vec<Found> = found.iter().filter(|f| !f.erasable).cloned().collect();
        if !unerasable.is_empty() {
            return Err(EraseError::Unerasable(unerasable));
        }
        if redactions.is_empty() {
            return Err(EraseError::Nowhere);
        }
        // The rewrite holds a second copy of the store for a moment.
        let dir = self.shared.dir.clone();
        let size = std::fs::metadata(dir.join("db")).map_or(0, |m| m.len());
        self.room_for(size / 2).map_err(EraseError::Unwritable)?;
        // Each group value that holds a redacted event, rewritten.
        let mut by_key: HashMap<u64, Vec<u64>> = HashMap::new();
        {
            let index = read_lock(&self.shared.index);
            for &p in redactions.keys() {
                let place = index
                    .place((p - 1) as usize)
                    .ok_or_else(|| EraseError::Rewrite(format!("event {p} is not in the index")))?;
                by_key.entry(place.key).or_default().push(p);
            }
        }
        // A large erasure is recorded as several events (each names at most
        // ERASED_PER_EVENT events, so none grows past what a reader decodes):
        // the redacted event at the n-th position, in order, is vouched for
        // by the erasure event at `erasure_at + n / ERASED_PER_EVENT`.
        let mut order: Vec<u64> = redactions.keys().copied().collect();
        order.sort_unstable();
        let vouched_by: HashMap<u64, u64> = order
            .iter()
            .enumerate()
            .map(|(n, p)| (*p, erasure_at + (n / ERASED_PER_EVENT) as u64))
            .collect();
        let mut replaced: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut erased_events: Vec<crate::event::ErasedEvent> = Vec::new();
        let events_tree = self.shared.events();
        for (key, positions) in &by_key {
            let value = events_tree
                .get(key.to_be_bytes())?
                .ok_or_else(|| EraseError::Rewrite(format!("the group value {key} is gone")))?;
            let read = group::read(&value).map_err(EraseError::Rewrite)?;
            let mut records: Vec<Record> = Vec::with_capacity(read.records.len());
            for (k, v, _) in read.records {
                let mut v = v.to_vec();
                if let Some(p) = keys::position_of(k).filter(|p| positions.contains(p)) {
                    let (stream, fields, redacted) = &redactions[&p];
                    let (bytes, payload) = envelope::redacted(&v, redacted, vouched_by[&p])
                        .map_err(EraseError::Rewrite)?;
                    v = bytes;
                    erased_events.push(crate::event::ErasedEvent {
                        position: p,
                        stream: *stream,
                        fields: fields.clone(),
                        payload: payload.to_hex(),
                    });
                }
                records.push((k.to_vec(), v));
            }
            replaced.insert(*key, group::encode(&records).0);
        }
        erased_events.sort_by_key(|e| e.position);
        let mut salt = [0u8; 32];
        getrandom::getrandom(&mut salt)
            .map_err(|e| EraseError::Rewrite(format!("no randomness for the salt: {e}")))?;
        let text_hashes: Vec<String> = texts
            .iter()
            .map(|t| crate::erasure::salted(&salt, t).to_hex())
            .collect();
        let recorded_at = Utc::now().max(self.last_recorded);
        let stream = Uuid::now_v7();
        let mut envs: Vec<Envelope> = Vec::new();
        let mut added: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut prev = head.hash;
        for (n, chunk) in erased_events.chunks(ERASED_PER_EVENT).enumerate() {
            let event = Event::TextErased {
                legal_basis: request.legal_basis.trim().to_string(),
                salt: hex::encode(salt),
                text_hashes: text_hashes.clone(),
                events: chunk.to_vec(),
            };
            let draft = Draft {
                position: erasure_at + n as u64,
                id: Uuid::now_v7(),
                stream,
                version: n as u64 + 1,
                effective: recorded_at.date_naive(),
                recorded_at,
                actor: &request.actor,
                reason: Some(request.reason.trim()),
                idempotency_key: None,
                event: &event,
                prev_hash: prev,
            };
            let (bytes, env) = envelope::encode(&draft)
                .map_err(|e| EraseError::Rewrite(format!("cannot encode the erasure: {e}")))?;
            prev = env.hash;
            // One value per erasure event, keyed by its position.
            let record = (keys::event(env.position).to_vec(), bytes);
            added.push((env.position, group::encode(&[record]).0));
            envs.push(env);
        }
        // The new store, built beside the old one; writes to the service's
        // trees wait until it is in place.
        let held = write_lock(&self.shared.trees);
        let db = self.shared.db();
        let built = crate::rewrite::build(&dir, &db, self.segment, &replaced, &added);
        drop(db);
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(dir.join(crate::rewrite::DIR));
            return Err(e.into());
        }
        // From here the new store is the store (a crash now is rolled forward on open).
        let reopened = crate::rewrite::finish(&dir).and_then(|_| {
            let (db, _) = crate::dir::open_db(&dir, self.cache_bytes)?;
            let events = db.open_tree(crate::dir::EVENTS_TREE)?;
            let index = crate::dir::read_index(&dir, &events)?;
            let disk = Disk::open(&dir, self.sync_files)?;
            Ok((db, events, index, disk))
        });
        let (db, events, index, disk) = match reopened {
            Ok(r) => r,
            Err(e) => {
                let why = format!("an erasure was written but not taken up: {e}; restart ragtrail");
                self.failed = Some(WriteFailure::Damaged(why.clone()));
                self.shared.writable.store(false, Ordering::Relaxed);
                return Err(EraseError::Reopen(why));
            }
        };
        let old = std::mem::replace(
            &mut *write_lock(&self.shared.sled),
            crate::shared::Sled { db, events },
        );
        *write_lock(&self.shared.index) = index;
        drop(held);
        drop(old);
        self.disk = disk;
        self.shared.count_commit();
        let receipts: Vec<Receipt> = envs.iter().map(Receipt::of).collect();
        let last = envs.last().map_or(head, |e| Head {
            position: e.position,
            hash: e.hash,
        });
        self.advance(last, recorded_at, envs);
        let fields = found.into_iter().filter(|f| f.erasable).collect();
        let first = receipts
            .first()
            .cloned()
            .ok_or_else(|| EraseError::Rewrite("no erasure event was made".into()))?;
        Ok(Erased {
            erasure: first,
            erasures: receipts,
            fields,
        })
    }
}

/// The most events one `TextErased` event names (about 100 bytes each).
const ERASED_PER_EVENT: usize = 2_000;

/// Why a correction cannot be made.
enum Correction {
    /// Its stream holds no such event.
    NoTarget(FieldError),
    /// It contradicts what the stream holds.
    Contradicts(FieldError),
}
