//! The benchmark suite: ragtrail beside raw sled, the disk and PostgreSQL,
//! measured in one run on this machine.
//!
//! `cargo bench --bench suite` prints tables and writes `target/bench/results.json`.
//! Settings (environment): `RAGTRAIL_BENCH_SECS` seconds per throughput
//! measurement (default 3); `RAGTRAIL_BENCH_SIZES` log sizes for the query and
//! replay figures (default `10000,100000,1000000`); `RAGTRAIL_BENCH_ONLY` one of
//! `appends`, `queries`, `views`, `replicate`, `disk` to run a part; `RAGTRAIL_BENCH_PERF=FILE` records
//! a `perf` profile of the server during the 32-client HTTP appends
//! (`RAGTRAIL_BENCH_PERF_CLIENTS=1` or `8` for another row). PostgreSQL rows need Debian's
//! `postgresql` package (`apt-get install -y postgresql`); without it they are
//! skipped with a message. The harness starts its own PostgreSQL in a temp dir on
//! a loopback port and stops it after.

use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use ragtrail_events::envelope::{self, Digest32, Draft};
use ragtrail_events::*;
use ragtrail_projections::{BoardQuery, Trail};
use serde_json::{json, Value as Json};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const ITEMS: u64 = 10_000;
const PROGRAMMES: u64 = 100;

fn secs() -> Duration {
    Duration::from_secs_f64(
        std::env::var("RAGTRAIL_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    )
}

fn wants(part: &str) -> bool {
    std::env::var("RAGTRAIL_BENCH_ONLY").map_or(true, |o| o == part)
}

fn sizes() -> Vec<u64> {
    std::env::var("RAGTRAIL_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

// ---------------------------------------------------------------- the events

fn start_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("date")
}

fn programme(i: u64) -> Uuid {
    Uuid::from_u128(1_000_000 + u128::from(i))
}

fn item(i: u64) -> Uuid {
    Uuid::from_u128(2_000_000 + u128::from(i))
}

fn metric(i: u64) -> Uuid {
    Uuid::from_u128(3_000_000 + u128::from(i))
}

/// The n-th generated event: (stream, effective, payload). Programmes, then
/// 10,000 items and their metrics, then rounds of RAG changes, narratives,
/// readings and target revisions across all items.
fn nth(n: u64, total: u64) -> (Uuid, NaiveDate, Event) {
    let days = 5 * 365;
    let effective = start_day() + Span::days((n * days / total.max(1)) as i64);
    if n < PROGRAMMES {
        return (
            programme(n),
            start_day(),
            Event::ProgrammeRegistered {
                name: format!("Programme {n}"),
                authority: "Bench".into(),
                sponsor: None,
            },
        );
    }
    let n = n - PROGRAMMES;
    if n < ITEMS {
        return (
            item(n),
            start_day(),
            Event::ItemRegistered {
                programme: programme(n % PROGRAMMES),
                parent: None,
                kind: ItemKind::Action,
                reference: format!("{}.{}", n % PROGRAMMES, n / PROGRAMMES),
                title: format!("Action {n}"),
                owner: Some("Owner".into()),
                target_date: Some(start_day() + Span::days(400)),
                timeframe: None,
            },
        );
    }
    let n = n - ITEMS;
    if n < ITEMS {
        return (
            metric(n),
            start_day(),
            Event::MetricDefined {
                item: Some(item(n)),
                reference: None,
                name: format!("Metric {n}"),
                unit: Unit::Percent,
                good_direction: Direction::Up,
                target: Some(Value::Number(90.0)),
                tolerance_pct: Some(10.0),
            },
        );
    }
    let n = n - ITEMS;
    let i = n % ITEMS;
    let round = n / ITEMS;
    let rags = [Rag::Red, Rag::Amber, Rag::Green, Rag::Amber];
    match round % 5 {
        0 | 1 => (
            item(i),
            effective,
            Event::RagChanged {
                dimension: if round.is_multiple_of(5) {
                    Dimension::Overall
                } else {
                    Dimension::Delivery
                },
                rag: rags[((i + round) % 4) as usize],
            },
        ),
        2 => (
            item(i),
            effective,
            Event::NarrativeRecorded {
                section: Section::Progress,
                text: format!("Progress in round {round}: actions on track, audit completed."),
            },
        ),
        3 => (
            metric(i),
            effective,
            Event::MetricReadingRecorded {
                period: format!("period {round}"),
                period_end: effective,
                value: Some(Value::Number(((i * 7 + round * 3) % 100) as f64)),
                rag: None,
                target: None,
                note: None,
            },
        ),
        _ => (
            item(i),
            effective,
            Event::TargetDateRevised {
                target_date: effective + Span::days(90),
            },
        ),
    }
}

fn narrative(i: u64) -> Event {
    Event::NarrativeRecorded {
        section: Section::Progress,
        text: format!("Audit completed; findings reported to the MASH Strategic group ({i})."),
    }
}

// ---------------------------------------------------------------- appends

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Durable appends/s through the store with `writers` tasks; (rate, average group, stored value bytes).
/// The store in process: appends/s from `writers` tasks, the average group,
/// the stored size of one event, and every append's latency in ms, sorted.
fn store_rate(writers: usize) -> (f64, f64, usize, Vec<f64>) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    runtime().block_on(async {
        let store = Store::open(dir.path()).expect("open");
        let deadline = Instant::now() + secs();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                let mut latency = Vec::new();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    store
                        .append(Append {
                            actor: "bench".into(),
                            idempotency_key: None,
                            events: vec![NewEvent {
                                stream: Uuid::from_u128(5000 + w as u128),
                                event: narrative(n),
                                effective: start_day(),
                                reason: None,
                                expected_version: None,
                            }],
                        })
                        .await
                        .expect("append");
                    latency.push(began.elapsed().as_secs_f64() * 1e3);
                    n += 1;
                }
                (n, latency)
            }));
        }
        let (mut total, mut latency) = (0, Vec::new());
        for t in tasks {
            let (n, l) = t.await.expect("task");
            total += n;
            latency.extend(l);
        }
        latency.sort_by(f64::total_cmp);
        let rate = total as f64 / start.elapsed().as_secs_f64();
        let group = total as f64 / store.commits().max(1) as f64;
        let len = store
            .stored_bytes(1)
            .ok()
            .flatten()
            .map_or(300, |v| v.len());
        store.close().await;
        (rate, group, len, latency)
    })
}

/// Appends per second: what the client tasks counted, over the time since `start`.
async fn per_second(tasks: Vec<tokio::task::JoinHandle<u64>>, start: Instant) -> f64 {
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// sled opened as ragtrail opens it (2 MiB segments, no background flush), for the raw rows.
fn raw_sled(dir: &Path) -> sled::Db {
    sled::Config::new()
        .path(dir)
        .segment_size(2 << 20)
        .flush_every_ms(None)
        .open()
        .expect("sled")
}

/// Raw sled, as ragtrail lays events out in it: one thread inserting one
/// value of `group` records of `len` bytes per group commit, keyed by its
/// first position, then `flush` + `fdatasync` of sled's file.
fn raw_sled_group_rate(group: usize, len: usize) -> f64 {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let db = raw_sled(dir.path());
    let tree = db.open_tree("events").expect("tree");
    let file = File::open(dir.path().join("db")).expect("db file");
    // A group value: 16 bytes of head and count, 17 of key and lengths per record.
    let value = vec![0x5au8; 16 + group.max(1) * (len + 17)];
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        tree.insert((n + 1).to_be_bytes(), value.clone())
            .expect("insert");
        n += group.max(1) as u64;
        db.flush().expect("flush");
        file.sync_data().expect("fdatasync");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Raw sled with no group commit of ragtrail's: `clients` threads, each
/// inserting its own event and then calling `flush` + `fdatasync` itself
/// (sled's flush lets concurrent callers share a write).
fn raw_sled_clients_rate(clients: usize, len: usize) -> f64 {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let db = raw_sled(dir.path());
    let tree = db.open_tree("events").expect("tree");
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (db, tree, next) = (db.clone(), tree.clone(), next.clone());
            let file = File::open(dir.path().join("db")).expect("db file");
            let value = vec![0x5au8; len + 33];
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    tree.insert(k.to_be_bytes(), value.clone()).expect("insert");
                    db.flush().expect("flush");
                    file.sync_data().expect("fdatasync");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

/// Raw sled, one key per event: one thread applying batches of `group`
/// values of `len` bytes, then `flush` + `fdatasync` of sled's file.
fn raw_sled_key_rate(group: usize, len: usize) -> f64 {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(None)
        .open()
        .expect("sled");
    let file = File::open(dir.path().join("db")).expect("db file");
    let value = vec![0x5au8; len];
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        let mut batch = sled::Batch::default();
        for _ in 0..group.max(1) {
            n += 1;
            batch.insert(&n.to_be_bytes(), value.clone());
        }
        db.apply_batch(batch).expect("batch");
        db.flush().expect("flush");
        file.sync_data().expect("fdatasync");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The disk alone, as ragtrail's log uses it: one thread writing frames of
/// `group` values of `len` bytes into space written ahead, `fdatasync` each.
fn raw_file_rate(group: usize, len: usize) -> f64 {
    use std::os::unix::fs::FileExt;
    const AHEAD: u64 = 64 << 20;
    let dir = tempfile::TempDir::new().expect("tempdir");
    let file = File::create(dir.path().join("file")).expect("file");
    let zeros = vec![0u8; 1 << 20];
    for i in 0..AHEAD / zeros.len() as u64 {
        file.write_all_at(&zeros, i * zeros.len() as u64)
            .expect("write ahead");
    }
    file.sync_all().expect("sync");
    // A frame: 16 bytes of head and count, 17 of key and lengths per record.
    let frame = vec![0x5au8; 16 + group.max(1) * (len + 17)];
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let (mut n, mut at) = (0u64, 0u64);
    while Instant::now() < deadline {
        if at + frame.len() as u64 > AHEAD {
            at = 0;
        }
        file.write_all_at(&frame, at).expect("write");
        file.sync_data().expect("fdatasync");
        at += frame.len() as u64;
        n += group.max(1) as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// CPU seconds a process has used so far (user + system), from /proc.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The real server on a temp dir, for the HTTP rows.
struct Server {
    child: Child,
    base: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let data = dir.path().join("data");
        Server::start_on(&data, dir)
    }

    /// The server on the store in `data` (`dir` is kept for as long as it runs).
    fn start_on(data: &Path, dir: tempfile::TempDir) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = loop {
            let line = lines.next().expect("server output").expect("line");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let token = std::fs::read_to_string(data.join("admin.token"))
            .expect("token")
            .trim()
            .to_string();
        Server {
            child,
            base,
            token,
            _dir: dir,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Appends/s over HTTP from `clients` keep-alive connections, each sending one
/// event per request and waiting for its `201`. The client is hyper's own
/// HTTP/1.1 connection (as lean as a load generator such as wrk), so that it
/// takes as little as possible of the two cores it shares with the server.
fn http_rate(s: &Server, clients: usize) -> f64 {
    use http_body_util::{BodyExt, Full};
    let addr = s.base.trim_start_matches("http://").to_string();
    let auth = format!("Bearer {}", s.token);
    runtime().block_on(async {
        let deadline = Instant::now() + secs();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..clients {
            let (addr, auth) = (addr.clone(), auth.clone());
            tasks.push(tokio::spawn(async move {
                let tcp = tokio::net::TcpStream::connect(&addr).await.expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let (mut send, conn) = hyper::client::conn::http1::handshake(
                    hyper_util::rt::TokioIo::new(tcp),
                )
                .await
                .expect("handshake");
                tokio::spawn(conn);
                let mut n = 0u64;
                let stream = Uuid::from_u128(9000 + w as u128);
                while Instant::now() < deadline {
                    let e = narrative(n);
                    let body = json!({"stream": stream, "type": e.type_name(), "data": e.data_json(), "effective": "2020-01-01"}).to_string();
                    let req = hyper::Request::post("/api/v1/events")
                        .header("host", &addr)
                        .header("authorization", &auth)
                        .header("content-type", "application/json")
                        .body(Full::new(bytes::Bytes::from(body)))
                        .expect("request");
                    let res = send.send_request(req).await.expect("append");
                    let status = res.status();
                    let _ = res.into_body().collect().await.expect("body");
                    assert_eq!(status, 201);
                    n += 1;
                }
                n
            }));
        }
        per_second(tasks, start).await
    })
}

// ---------------------------------------------------------------- PostgreSQL

#[path = "../tests/support/pg.rs"]
mod pg;
use pg::Postgres;

const PG_SCHEMA: &str = "
DROP TABLE IF EXISTS events;
CREATE TABLE events (
    position bigserial PRIMARY KEY,
    stream uuid NOT NULL,
    version bigint NOT NULL,
    effective date NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    type text NOT NULL,
    payload jsonb NOT NULL,
    UNIQUE (stream, version)
);";

/// Durable inserts/s with `clients` connections, each appending to its own stream with the next version.
fn pg_rate(pg: &Postgres, clients: usize) -> f64 {
    runtime().block_on(async {
        pg.connect().await.batch_execute(PG_SCHEMA).await.expect("schema");
        let deadline = Instant::now() + secs();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..clients {
            let client = pg.connect().await;
            tasks.push(tokio::spawn(async move {
                let stmt = client
                    .prepare("INSERT INTO events (stream, version, effective, type, payload) VALUES ($1, $2, $3, $4, $5::text::jsonb)")
                    .await
                    .expect("prepare");
                let stream = Uuid::from_u128(7000 + w as u128);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let e = narrative(n);
                    client
                        .execute(&stmt, &[&stream, &((n + 1) as i64), &start_day(), &e.type_name(), &e.data_json().to_string()])
                        .await
                        .expect("insert");
                    n += 1;
                }
                n
            }));
        }
        per_second(tasks, start).await
    })
}

// ---------------------------------------------------------------- queries

struct Queries {
    events: u64,
    replay_per_s: f64,
    board_p50: f64,
    board_p99: f64,
    compare_p50: f64,
    compare_p99: f64,
    rss_mb: f64,
    pg_asat_p50: Option<f64>,
    pg_asat_p99: Option<f64>,
}

fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Replays `total` generated events (encoded, then decoded as from the store),
/// then times board and comparison queries for random programmes and dates.
/// The synthetic log of `total` events as stored: each event's bytes and envelope, chained.
fn synthetic_log(total: u64) -> impl Iterator<Item = (Vec<u8>, ragtrail_events::Envelope)> {
    let t0: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).expect("instant");
    let mut prev = Digest32::GENESIS;
    let mut versions = std::collections::HashMap::<Uuid, u64>::new();
    (0..total).map(move |n| {
        let (stream, effective, event) = nth(n, total);
        let v = versions.entry(stream).or_insert(0);
        *v += 1;
        let (bytes, env) = envelope::encode(&Draft {
            position: n + 1,
            id: Uuid::from_u128(u128::from(n) + 1),
            stream,
            version: *v,
            effective,
            recorded_at: t0 + Span::seconds(n as i64),
            actor: "bench",
            reason: event.needs_reason().then_some("bench"),
            idempotency_key: None,
            event: &event,
            prev_hash: prev,
        })
        .expect("encode");
        prev = env.hash;
        (bytes, env)
    })
}

fn queries(total: u64, pg: Option<&Postgres>) -> Queries {
    // Reset the peak RSS figure so each size reports its own, after handing
    // back to the system what earlier parts freed (glibc keeps it otherwise).
    // SAFETY: malloc_trim only releases free memory of the allocator's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut trail = Trail::new();
    let mut busy = 0.0f64;
    for (bytes, _) in synthetic_log(total) {
        let a = Instant::now();
        let env = envelope::decode(&bytes).expect("decode");
        trail.apply_owned(env);
        busy += a.elapsed().as_secs_f64();
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let (mut board, mut compare) = (Vec::new(), Vec::new());
    let mut asks = Vec::new();
    for _ in 0..300 {
        let p = rng(&mut state) % PROGRAMMES;
        let d = start_day() + Span::days((rng(&mut state) % (5 * 365)) as i64);
        asks.push((p, d));
        let a = Instant::now();
        std::hint::black_box(ragtrail_projections::board::at(
            &trail,
            &BoardQuery {
                as_at: d,
                known_at: None,
                programme: Some(programme(p)),
            },
        ));
        board.push(a.elapsed().as_secs_f64() * 1e3);
        let a = Instant::now();
        std::hint::black_box(ragtrail_projections::compare::between(
            &trail,
            d - Span::days(30),
            d,
            None,
            Some(programme(p)),
        ));
        compare.push(a.elapsed().as_secs_f64() * 1e3);
    }
    board.sort_by(f64::total_cmp);
    compare.sort_by(f64::total_cmp);
    let rss = peak_rss_mb();
    let (pg_p50, pg_p99) = match pg {
        Some(pg) => {
            let mut times = pg_asat(pg, total, &asks);
            times.sort_by(f64::total_cmp);
            (Some(pct(&times, 0.5)), Some(pct(&times, 0.99)))
        }
        None => (None, None),
    };
    Queries {
        events: total,
        replay_per_s: total as f64 / busy,
        board_p50: pct(&board, 0.5),
        board_p99: pct(&board, 0.99),
        compare_p50: pct(&compare, 0.5),
        compare_p99: pct(&compare, 0.99),
        rss_mb: rss,
        pg_asat_p50: pg_p50,
        pg_asat_p99: pg_p99,
    }
}

/// A store of `total` events on disk (restored, so built quickly), then
/// what a restart costs: opening it (the log read, the index rebuilt) and
/// replaying every event from the file into a new trail.
/// A restart at `total` events, as a server starts: a store written by
/// restoring the synthetic log, then, in a fresh process (so its peak RSS is
/// the restart's alone), the store opened (sled, with its cache, and the
/// index rebuilt) and every event replayed into the projections.
/// Returns (open s, replay events/s, peak RSS MB once open, peak RSS MB).
fn from_the_log(total: u64) -> (f64, f64, f64, f64) {
    let dir = restored(total);
    restart_figures(&dir)
}

/// A store of the synthetic log of `total` events, written by restoring it.
fn restored(total: u64) -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let rt = runtime();
    {
        let store = Store::open(dir.path()).expect("open");
        let mut batch = Vec::with_capacity(10_000);
        for (_, env) in synthetic_log(total) {
            batch.push(env);
            if batch.len() == 10_000 {
                rt.block_on(store.restore(std::mem::take(&mut batch)))
                    .expect("restore");
            }
        }
        if !batch.is_empty() {
            rt.block_on(store.restore(batch)).expect("restore");
        }
        rt.block_on(store.close());
    }
    dir
}

/// The restart figures of the store in `dir`, from a fresh process.
fn restart_figures(dir: &tempfile::TempDir) -> (f64, f64, f64, f64) {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .env("RAGTRAIL_BENCH_RESTART", dir.path())
        .stderr(Stdio::inherit())
        .output()
        .expect("restart child");
    let text = String::from_utf8_lossy(&out.stdout);
    let figures: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match figures[..] {
        [open_s, rate, opened, rss] => (open_s, rate, opened, rss),
        _ => panic!("the restart child said {text:?}"),
    }
}

/// The read views over HTTP at `total` events: the board of one programme as
/// at a random date, plain and compressed (p50/p99 ms and bytes on the wire),
/// and the size of every view's default answer (no parameters).
fn views(total: u64) -> Json {
    let dir = restored(total);
    let data = dir.path().to_path_buf();
    let server = Server::start_on(&data, dir);
    let client = reqwest::Client::new();
    let rt = runtime();
    let get = |path: String, coding: Option<&'static str>| {
        let mut req = client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&server.token);
        if let Some(c) = coding {
            req = req.header("accept-encoding", c);
        }
        async move {
            let a = Instant::now();
            let res = req.send().await.expect("request");
            assert!(res.status().is_success(), "{path}: {}", res.status());
            let n = res.bytes().await.expect("body").len();
            (a.elapsed().as_secs_f64() * 1e3, n)
        }
    };
    let mut rows = Vec::new();
    println!("\nThe board of one programme as at a random date over HTTP, at {total} events (300 requests each)");
    println!(
        "{:>9} | {:>8} | {:>8} | {:>10}",
        "encoding", "p50 ms", "p99 ms", "mean bytes"
    );
    for coding in [None, Some("gzip"), Some("br")] {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let (mut times, mut bytes) = (Vec::new(), 0usize);
        for _ in 0..300 {
            let p = rng(&mut state) % PROGRAMMES;
            let d = start_day() + Span::days((rng(&mut state) % (5 * 365)) as i64);
            let (ms, n) = rt.block_on(get(
                format!("/api/v1/board?as_at={d}&programme={}", programme(p)),
                coding,
            ));
            times.push(ms);
            bytes += n;
        }
        times.sort_by(f64::total_cmp);
        let (p50, p99, mean) = (pct(&times, 0.5), pct(&times, 0.99), bytes / 300);
        let name = coding.unwrap_or("none");
        println!("{name:>9} | {p50:>8.2} | {p99:>8.2} | {mean:>10}");
        rows.push(
            json!({"encoding": name, "board_p50_ms": p50, "board_p99_ms": p99, "mean_bytes": mean}),
        );
    }
    println!("\nDefault answers (no parameters), plain, at {total} events");
    let mut defaults = Vec::new();
    for path in [
        "/api/v1/board",
        "/api/v1/events",
        "/api/v1/boards",
        "/api/v1/compare?from=2020-01-01&to=2024-12-31",
        "/api/v1/verify",
        "/api/v1/openapi.json",
    ] {
        let (ms, n) = rt.block_on(get(path.to_string(), None));
        println!("{path:>45} | {n:>10} bytes | {ms:>8.1} ms");
        defaults.push(json!({"path": path, "bytes": n, "ms": ms}));
    }
    let largest = defaults
        .iter()
        .filter_map(|d| d["bytes"].as_u64())
        .max()
        .unwrap_or(0);
    println!("largest default answer: {:.2} MB", largest as f64 / 1e6);
    json!({"events": total, "board": rows, "defaults": defaults, "largest_default_bytes": largest})
}

/// Replication into PostgreSQL: how fast `ragtrail replicate` copies a log
/// of `total` events, and how far behind it runs while 32 clients append
/// (from each append's 201 to the moment PostgreSQL holds its position).
fn replication(total: u64, pg: &Postgres) -> Json {
    let url = pg.url();
    let rt = runtime();
    let replicate = |s: &Server, instance: &str| {
        Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args([
                "replicate",
                "--from",
                &s.base,
                "--to",
                &url,
                "--instance",
                instance,
            ])
            .env("RAGTRAIL_TOKEN", &s.token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ragtrail replicate")
    };
    let held = |instance: String| async move {
        let db = pg.connect().await;
        db.query_opt(
            "SELECT position FROM ragtrail.sources WHERE instance = $1",
            &[&instance],
        )
        .await
        .ok()
        .flatten()
        .map_or(0, |r| r.get::<_, i64>(0) as u64)
    };
    // Throughput: a restored log of `total` events, copied from nothing.
    let dir = restored(total);
    let data = dir.path().to_path_buf();
    let server = Server::start_on(&data, dir);
    let instance = format!("copy-{total}");
    let start = Instant::now();
    let mut child = replicate(&server, &instance);
    while rt.block_on(held(instance.clone())) < total {
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "replication stalled"
        );
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
    // Lag: 32 clients append to a fresh server for `secs()` while it replicates.
    let server = Server::start();
    let mut child = replicate(&server, "lag");
    std::thread::sleep(Duration::from_millis(500));
    let addr = server.base.clone();
    let token = server.token.clone();
    let (acks, seen) = rt.block_on(async {
        let deadline = Instant::now() + secs();
        let mut tasks = Vec::new();
        for w in 0..32u128 {
            let (addr, token) = (addr.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let c = reqwest::Client::new();
                let mut acks = Vec::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let e = narrative(n);
                    let body = json!({"stream": Uuid::from_u128(50_000 + w), "type": e.type_name(), "data": e.data_json(), "effective": "2020-01-01"});
                    let r = c.post(format!("{addr}/api/v1/events")).bearer_auth(&token).json(&body).send().await.expect("append");
                    let receipt: Json = r.json().await.expect("receipt");
                    acks.push((receipt["position"].as_u64().expect("position"), Instant::now()));
                    n += 1;
                }
                acks
            }));
        }
        // PostgreSQL's high-water mark, polled every 2 ms: when each position first showed.
        let db = pg.connect().await;
        let poll = tokio::spawn(async move {
            let mut seen: Vec<(u64, Instant)> = Vec::new();
            let stop = deadline + Duration::from_secs(10);
            while Instant::now() < stop {
                let p = db
                    .query_opt("SELECT position FROM ragtrail.sources WHERE instance = 'lag'", &[])
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |r| r.get::<_, i64>(0) as u64);
                if seen.last().is_none_or(|l| l.0 < p) {
                    seen.push((p, Instant::now()));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        });
        let mut acks = Vec::new();
        for t in tasks {
            acks.extend(t.await.expect("writer"));
        }
        (acks, poll.await.expect("poll"))
    });
    let _ = child.kill();
    let _ = child.wait();
    let mut lags: Vec<f64> = acks
        .iter()
        .filter_map(|(p, at)| {
            let shown = seen.iter().find(|(q, _)| q >= p)?.1;
            Some(shown.saturating_duration_since(*at).as_secs_f64() * 1e3)
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    let appended = acks.len() as f64 / secs().as_secs_f64();
    let pg1 = pg_rate(pg, 1);
    let pg32 = pg_rate(pg, 32);
    let (p50, p99) = (pct(&lags, 0.5), pct(&lags, 0.99));
    println!("\nReplication into PostgreSQL");
    println!("{:>40} | {:>12}", "", "");
    println!(
        "{:>40} | {rate:>12.0}",
        format!("copy of {total} events, events/s")
    );
    println!(
        "{:>40} | {appended:>12.0}",
        "32 clients appending, events/s"
    );
    println!(
        "{:>40} | {p50:>9.1} ms / {p99:.1} ms",
        "lag behind the 201, p50 / p99"
    );
    println!(
        "{:>40} | {pg1:>12.0} / {pg32:.0}",
        "PostgreSQL's own inserts/s, 1 / 32 clients"
    );
    println!(
        "{:>40} | {:>12.2}",
        "copy rate / PostgreSQL's 32-client rate",
        rate / pg32
    );
    json!({"events": total, "copy_per_s": rate, "appends_per_s": appended, "lag_p50_ms": p50, "lag_p99_ms": p99, "pg_inserts_1": pg1, "pg_inserts_32": pg32})
}

/// The restart child: opens the store in `dir`, replays it, prints the figures.
fn restart_child(dir: &Path) {
    let rt = runtime();
    let a = Instant::now();
    let store = Store::open(dir).expect("reopen");
    let open_s = a.elapsed().as_secs_f64();
    let opened_rss = peak_rss_mb();
    let a = Instant::now();
    let mut trail = Trail::new();
    let mut n = 0u64;
    for e in store.iter_from(0) {
        trail.apply_owned(e.expect("read"));
        n += 1;
    }
    let rate = n as f64 / a.elapsed().as_secs_f64();
    rt.block_on(store.close());
    println!("{open_s} {rate} {opened_rss} {}", peak_rss_mb());
}

/// Loads the same events into PostgreSQL (binary COPY), then asks the same
/// as-at questions naively in SQL: each item's latest RAG per dimension as at
/// a date, for one programme. (Only the RAG part of a board: it favours PostgreSQL.)
fn pg_asat(pg: &Postgres, total: u64, asks: &[(u64, NaiveDate)]) -> Vec<f64> {
    use futures::pin_mut;
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;
    runtime().block_on(async {
        let client = pg.connect().await;
        client.batch_execute(PG_SCHEMA).await.expect("schema");
        let sink = client
            .copy_in("COPY events (stream, version, effective, type, payload) FROM STDIN BINARY")
            .await
            .expect("copy");
        let writer = BinaryCopyInWriter::new(sink, &[Type::UUID, Type::INT8, Type::DATE, Type::TEXT, Type::JSONB]);
        pin_mut!(writer);
        // The same events, generated again and streamed in (not held in memory,
        // so ragtrail's peak RSS above is its own).
        let mut versions = std::collections::HashMap::<Uuid, i64>::new();
        for n in 0..total {
            let (stream, effective, event) = nth(n, total);
            let v = versions.entry(stream).or_insert(0);
            *v += 1;
            let t: &str = event.type_name();
            let payload: Json = event.data_json();
            writer.as_mut().write(&[&stream, &*v, &effective, &t, &payload]).await.expect("row");
        }
        writer.finish().await.expect("finish copy");
        client
            .batch_execute("CREATE INDEX ON events (stream, effective, position); CREATE INDEX ON events ((payload->>'programme')) WHERE type = 'ItemRegistered'; ANALYZE events;")
            .await
            .expect("index");
        let stmt = client
            .prepare(
                "WITH items AS (SELECT stream FROM events WHERE type = 'ItemRegistered' AND payload->>'programme' = $1)
                 SELECT DISTINCT ON (e.stream, e.payload->>'dimension') e.stream, e.payload->>'dimension', e.payload->>'rag'
                 FROM events e JOIN items i ON e.stream = i.stream
                 WHERE e.type = 'RagChanged' AND e.effective <= $2
                 ORDER BY e.stream, e.payload->>'dimension', e.effective DESC, e.position DESC",
            )
            .await
            .expect("prepare");
        let mut times = Vec::new();
        for (p, d) in asks {
            let a = Instant::now();
            let rows = client.query(&stmt, &[&programme(*p).to_string(), d]).await.expect("query");
            std::hint::black_box(rows);
            times.push(a.elapsed().as_secs_f64() * 1e3);
        }
        times
    })
}

/// Bytes on disk per event, for `total` generated events appended in batches of 1,000.
fn disk_bytes_per_event(total: u64) -> f64 {
    let dir = tempfile::TempDir::new().expect("tempdir");
    runtime().block_on(async {
        let store = Store::open(dir.path()).expect("open");
        let mut n = 0;
        while n < total {
            let events = (n..(n + 1000).min(total))
                .map(|k| {
                    let (stream, effective, event) = nth(k, total);
                    let reason = event.needs_reason().then(|| "bench".to_string());
                    NewEvent {
                        stream,
                        event,
                        effective,
                        reason,
                        expected_version: None,
                    }
                })
                .collect();
            store
                .append(Append {
                    actor: "bench".into(),
                    idempotency_key: None,
                    events,
                })
                .await
                .expect("append");
            n = (n + 1000).min(total);
        }
        store.close().await;
    });
    dir_bytes(dir.path()) as f64 / total as f64
}

// ---------------------------------------------------------------- the run

fn main() {
    if let Some(dir) = std::env::var_os("RAGTRAIL_BENCH_RESTART") {
        restart_child(Path::new(&dir));
        return;
    }
    let mut results = serde_json::Map::new();
    let pg = Postgres::start_with(&["-c", "shared_buffers=256MB"]);
    // Queries first: their peak-RSS figures should be of the projection, not
    // of memory the append runs left behind.
    if wants("queries") {
        println!("\nQueries at log sizes (10,000 items in 100 programmes; a board is one programme, 100 items)");
        println!(
            "{:>9} | {:>12} | {:>17} | {:>17} | {:>17} | {:>8}",
            "events",
            "replay ev/s",
            "board p50/p99 ms",
            "compare p50/p99",
            "PG as-at p50/p99",
            "peak RSS"
        );
        let mut rows = Vec::new();
        for total in sizes() {
            let q = queries(total, pg.as_ref());
            println!(
                "{:>9} | {:>12.0} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>17} | {:>5.0} MB",
                q.events,
                q.replay_per_s,
                q.board_p50,
                q.board_p99,
                q.compare_p50,
                q.compare_p99,
                match (q.pg_asat_p50, q.pg_asat_p99) {
                    (Some(a), Some(b)) => format!("{a:.2} {b:.2}"),
                    _ => "skipped".into(),
                },
                q.rss_mb
            );
            rows.push(json!({"events": q.events, "replay_per_s": q.replay_per_s, "board_p50_ms": q.board_p50, "board_p99_ms": q.board_p99, "compare_p50_ms": q.compare_p50, "compare_p99_ms": q.compare_p99, "pg_asat_p50_ms": q.pg_asat_p50, "pg_asat_p99_ms": q.pg_asat_p99, "peak_rss_mb": q.rss_mb}));
        }
        results.insert("queries".into(), Json::Array(rows));
        // After every peak-RSS figure, so the store's memory is not in them.
        println!("\nA restart, in a fresh process: opening the store (sled with its cache, the index rebuilt, the head record checked), then replaying every event from sled into the projections");
        println!(
            "{:>9} | {:>8} | {:>15} | {:>9} | {:>14} | {:>9}",
            "events", "open s", "replay ev/s", "restart s", "RSS once open", "peak RSS"
        );
        let mut rows = Vec::new();
        for total in sizes() {
            let (open_s, rate, opened, rss) = from_the_log(total);
            let restart = open_s + total as f64 / rate;
            println!("{total:>9} | {open_s:>8.2} | {rate:>15.0} | {restart:>9.2} | {opened:>11.0} MB | {rss:>6.0} MB");
            rows.push(json!({"events": total, "open_s": open_s, "replay_per_s": rate, "restart_s": restart, "rss_open_mb": opened, "peak_rss_mb": rss}));
        }
        results.insert("restart".into(), Json::Array(rows));
    }
    if wants("replicate") {
        match Postgres::start_with(&["-c", "shared_buffers=256MB"]) {
            Some(pg) => {
                let total = sizes().into_iter().max().unwrap_or(100_000);
                results.insert("replicate".into(), replication(total, &pg));
            }
            None => println!("replication rows skipped: no PostgreSQL"),
        }
    }
    if wants("views") {
        let rows: Vec<Json> = sizes().into_iter().map(views).collect();
        results.insert("views".into(), Json::Array(rows));
    }
    if wants("appends") {
        println!("\nDurable appends/s ({:.0} s each; ratios to raw sled with one value per group (ragtrail's layout), flush + fdatasync, with the store's group sizes)", secs().as_secs_f64());
        println!(
            "{:>8} | {:>12} | {:>14} | {:>15} | {:>14} | {:>14} | {:>14} | {:>14} | {:>9} | {:>7} | {:>13}",
            "clients",
            "sled: group",
            "sled: per key",
            "sled: per client",
            "raw file",
            "store",
            "HTTP",
            "PostgreSQL",
            "avg group",
            "HTTP/PG",
            "HTTP CPU µs"
        );
        let server = Server::start();
        let mut rows = Vec::new();
        let mut latencies = Vec::new();
        for clients in [1usize, 8, 32] {
            let (store, group, len, latency) = store_rate(clients);
            latencies.push((clients, latency));
            let raw = raw_sled_group_rate(group.round().max(1.0) as usize, len);
            let per_key = raw_sled_key_rate(group.round().max(1.0) as usize, len);
            let per_client = raw_sled_clients_rate(clients, len);
            let file = raw_file_rate(group.round().max(1.0) as usize, len);
            let (server0, client0) = (cpu_secs(server.child.id()), cpu_secs(std::process::id()));
            // RAGTRAIL_BENCH_PERF=FILE: a `perf record -g` of the server during the
            // 32-client run (or the run RAGTRAIL_BENCH_PERF_CLIENTS names).
            let perf_clients = std::env::var("RAGTRAIL_BENCH_PERF_CLIENTS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(32);
            let perf = std::env::var("RAGTRAIL_BENCH_PERF")
                .ok()
                .filter(|_| clients == perf_clients)
                .and_then(|file| {
                    Command::new("perf")
                        .args(["record", "-F", "2999", "-g", "-o", &file, "-p"])
                        .arg(server.child.id().to_string())
                        .args(["--", "sleep", "2"])
                        .stderr(Stdio::null())
                        .spawn()
                        .ok()
                });
            let http = http_rate(&server, clients);
            if let Some(mut p) = perf {
                let _ = p.wait();
            }
            // CPU per HTTP append, server and client (the harness), in µs.
            let per = |used: f64| used / (http * secs().as_secs_f64()) * 1e6;
            let server_cpu = per(cpu_secs(server.child.id()) - server0);
            let client_cpu = per(cpu_secs(std::process::id()) - client0);
            let postgres = pg.as_ref().map(|p| pg_rate(p, clients));
            let r = |x: f64| format!("{x:.0} ({:.2})", x / raw);
            println!(
                "{clients:>8} | {raw:>12.0} | {:>14} | {:>15} | {:>14} | {:>14} | {:>14} | {:>14} | {group:>9.1} | {:>7} | {server_cpu:>5.0} + {client_cpu:<5.0}",
                r(per_key),
                r(per_client),
                r(file),
                r(store),
                r(http),
                postgres.map(r).unwrap_or_else(|| "skipped".into()),
                postgres.map_or("-".into(), |p| format!("{:.2}", http / p)),
            );
            rows.push(json!({"clients": clients, "raw_sled_group": raw, "raw_sled_per_key": per_key, "raw_sled_per_client": per_client, "raw_file": file, "store": store, "http": http, "postgres": postgres, "avg_group": group, "http_cpu_us_server": server_cpu, "http_cpu_us_client": client_cpu}));
        }
        results.insert("appends".into(), Json::Array(rows));
        // The log's growth (zeros written and synced ahead) shows in the worst case.
        println!("\nStore append latency, ms (each append durable before it returns)");
        println!(
            "{:>8} | {:>7} | {:>7} | {:>7} | {:>7}",
            "writers", "p50", "p99", "p99.9", "max"
        );
        let mut rows = Vec::new();
        for (clients, l) in latencies {
            let max = l.last().copied().unwrap_or(f64::NAN);
            let (p50, p99, p999) = (pct(&l, 0.5), pct(&l, 0.99), pct(&l, 0.999));
            println!("{clients:>8} | {p50:>7.2} | {p99:>7.2} | {p999:>7.2} | {max:>7.2}");
            rows.push(json!({"writers": clients, "p50_ms": p50, "p99_ms": p99, "p999_ms": p999, "max_ms": max}));
        }
        results.insert("store_latency".into(), Json::Array(rows));
    }
    if wants("disk") {
        let per = disk_bytes_per_event(100_000);
        println!("\nOn disk: {per:.0} bytes per event (100,000 events in batches of 1,000; sled's files, all indexes)");
        results.insert("disk_bytes_per_event".into(), json!(per));
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let path = out.join("results.json");
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&Json::Object(results)).unwrap_or_default(),
    ) {
        Ok(()) => println!("\nwrote {}", path.display()),
        Err(e) => println!("\ncannot write {}: {e}", path.display()),
    }
}
