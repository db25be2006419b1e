//! Durable appends per second through the store, beside raw sled on the same
//! machine in the same run.
//!
//! `cargo bench --bench append` (seconds per measurement: `RAGTRAIL_BENCH_SECS`, default 3).
//!
//! For 1, 8 and 32 concurrent writers it measures the store (validation, hash
//! chain, stream index, group commit, flush, fsync), notes the average group size
//! it reached, then measures raw sled doing `apply_batch` of that many values of
//! the same size + `flush` + fsync — the storage limit for the same batching —
//! and prints the ratio. The store without fsync shows what the fsync costs.

use chrono::NaiveDate;
use ragtrail_events::*;
use std::fs::File;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn secs() -> Duration {
    let s = std::env::var("RAGTRAIL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(s)
}

fn sample_event(i: u64) -> NewEvent {
    NewEvent {
        stream: Uuid::from_u128(u128::from(i % 1000)),
        event: Event::NarrativeRecorded {
            section: Section::Progress,
            text: "Audit looking at the consistency and application of thresholds was completed on 14 August; findings reported to the MASH Strategic group.".into(),
        },
        effective: NaiveDate::from_ymd_opt(2024, 9, 10).expect("date"),
        reason: None,
        expected_version: None,
    }
}

/// Store appends/s with `writers` concurrent tasks; returns (events/s, avg group, value bytes).
fn store_rate(writers: usize, sync_files: bool) -> (f64, f64, usize) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = Store::open_with(
            dir.path(),
            Options {
                sync_files,
                ..Options::default()
            },
        )
        .expect("open");
        let deadline = Instant::now() + secs();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    store
                        .append(Append {
                            actor: "bench".into(),
                            idempotency_key: None,
                            events: vec![sample_event(w as u64 * 1_000_003 + n)],
                        })
                        .await
                        .expect("append");
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("task");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let groups = store.commits().max(1);
        let len = stored_len(&store);
        store.close().await;
        (total as f64 / elapsed, total as f64 / groups as f64, len)
    })
}

fn stored_len(store: &Store) -> usize {
    match store.stored_bytes(1) {
        Ok(Some(v)) => v.len(),
        _ => 300,
    }
}

/// Raw sled: one thread applying batches of `group` values of `len` bytes, flush + fsync each.
fn raw_sled_rate(group: usize, len: usize) -> f64 {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let db = sled::open(dir.path()).expect("sled");
    let file = File::open(dir.path().join("db")).expect("db file");
    let value = vec![0x5au8; len];
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        let mut batch = sled::Batch::default();
        for _ in 0..group {
            n += 1;
            batch.insert(&n.to_be_bytes(), value.clone());
        }
        db.apply_batch(batch).expect("batch");
        db.flush().expect("flush");
        file.sync_all().expect("fsync");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    println!(
        "durable appends/s, {:.1} s per measurement, on this machine",
        secs().as_secs_f64()
    );
    println!(
        "{:>7} | {:>12} | {:>9} | {:>22} | {:>9} | {:>16}",
        "writers",
        "store ev/s",
        "avg group",
        "raw sled same batch ev/s",
        "ratio",
        "store no-fsync ev/s"
    );
    for writers in [1usize, 8, 32] {
        let (rate, group, len) = store_rate(writers, true);
        let raw = raw_sled_rate(group.round().max(1.0) as usize, len);
        let (nosync, _, _) = store_rate(writers, false);
        println!(
            "{writers:>7} | {rate:>12.0} | {group:>9.1} | {raw:>24.0} | {:>9.2} | {nosync:>19.0}",
            rate / raw
        );
    }
}
