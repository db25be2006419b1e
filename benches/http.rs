//! The HTTP service beside the in-process store and projections, same run,
//! same machine: durable appends/s with 32 concurrent keep-alive clients, and
//! board snapshot requests/s.
//!
//! `cargo bench --bench http` (seconds per measurement: `RAGTRAIL_BENCH_SECS`, default 3).

use chrono::NaiveDate;
use ragtrail_events::*;
use ragtrail_projections::{BoardQuery, Trail};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CLIENTS: usize = 32;
const ITEMS: u128 = 100;

fn secs() -> Duration {
    Duration::from_secs_f64(
        std::env::var("RAGTRAIL_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    )
}

fn programme() -> Uuid {
    Uuid::from_u128(1)
}

fn narrative(i: u64) -> Event {
    Event::NarrativeRecorded {
        section: Section::Progress,
        text: format!("Audit completed; findings reported to the MASH Strategic group ({i})."),
    }
}

fn setup_events() -> Vec<NewEvent> {
    let d = NaiveDate::from_ymd_opt(2024, 9, 10).expect("date");
    let mut v = vec![NewEvent {
        stream: programme(),
        event: Event::ProgrammeRegistered {
            name: "Bench programme".into(),
            authority: "Bench".into(),
            sponsor: None,
        },
        effective: d,
        reason: None,
        expected_version: None,
    }];
    for i in 0..ITEMS {
        let item = Uuid::from_u128(1000 + i);
        v.push(NewEvent {
            stream: item,
            event: Event::ItemRegistered {
                programme: programme(),
                parent: None,
                kind: ItemKind::Action,
                reference: format!("{i}"),
                title: format!("Action {i}"),
                owner: Some("Owner".into()),
                target_date: None,
                timeframe: None,
            },
            effective: d,
            reason: None,
            expected_version: None,
        });
        v.push(NewEvent {
            stream: item,
            event: Event::RagChanged {
                dimension: Dimension::Overall,
                rag: Rag::Amber,
            },
            effective: d,
            reason: Some("bench".into()),
            expected_version: None,
        });
    }
    v
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (store_rate, board_rate) = in_process().await;
        let (http_rate, http_board_rate) = over_http().await;
        println!(
            "{CLIENTS} concurrent clients, {:.1} s per measurement, on this machine",
            secs().as_secs_f64()
        );
        println!(
            "{:<28} | {:>12} | {:>12} | {:>6}",
            "", "in process", "over HTTP", "ratio"
        );
        println!(
            "{:<28} | {store_rate:>12.0} | {http_rate:>12.0} | {:>6.2}   (target >= 0.5)",
            "durable appends/s",
            http_rate / store_rate
        );
        println!(
            "{:<28} | {board_rate:>12.0} | {http_board_rate:>12.0} | {:>6.2}",
            "board snapshots/s (100 items)",
            http_board_rate / board_rate
        );
    });
}

async fn in_process() -> (f64, f64) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store
        .append(Append {
            actor: "bench".into(),
            idempotency_key: None,
            events: setup_events(),
        })
        .await
        .expect("setup");
    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                store
                    .append(Append {
                        actor: "bench".into(),
                        idempotency_key: None,
                        events: vec![NewEvent {
                            stream: Uuid::from_u128(5000 + w as u128),
                            event: narrative(n),
                            effective: NaiveDate::from_ymd_opt(2024, 9, 10).expect("date"),
                            reason: None,
                            expected_version: None,
                        }],
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
    let appends = total as f64 / start.elapsed().as_secs_f64();
    let trail = Trail::rebuild(&store.read(0, usize::MAX).expect("read"));
    let q = BoardQuery {
        as_at: NaiveDate::from_ymd_opt(2024, 9, 10).expect("date"),
        known_at: None,
        programme: Some(programme()),
    };
    let start = Instant::now();
    let mut boards = 0u64;
    while start.elapsed() < secs() {
        // Render as the server does, for a like-for-like figure.
        std::hint::black_box(serde_json::to_vec(&trail.board(&q)).expect("json"));
        boards += 1;
    }
    store.close().await;
    (appends, boards as f64 / start.elapsed().as_secs_f64())
}

async fn over_http() -> (f64, f64) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
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
    let c = reqwest::Client::new();
    let setup: Vec<_> = setup_events()
        .into_iter()
        .map(|e| json!({"stream": e.stream, "type": e.event.type_name(), "data": e.event.data_json(), "effective": e.effective, "reason": e.reason}))
        .collect();
    let res = c
        .post(format!("{base}/api/v1/batches"))
        .bearer_auth(&token)
        .json(&json!({"events": setup}))
        .send()
        .await
        .expect("setup");
    assert_eq!(res.status(), 201);

    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let (c, base, token) = (reqwest::Client::new(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let stream = Uuid::from_u128(5000 + w as u128);
            while Instant::now() < deadline {
                let e = narrative(n);
                let res = c
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&json!({"stream": stream, "type": e.type_name(), "data": e.data_json(), "effective": "2024-09-10"}))
                    .send()
                    .await
                    .expect("append");
                assert_eq!(res.status(), 201);
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    let appends = total as f64 / start.elapsed().as_secs_f64();

    let deadline = Instant::now() + secs();
    let start = Instant::now();
    let mut tasks = Vec::new();
    let url = format!(
        "{base}/api/v1/board?as_at=2024-09-10&programme={}",
        programme()
    );
    for _ in 0..CLIENTS {
        let (c, url, token) = (reqwest::Client::new(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let res = c.get(&url).bearer_auth(&token).send().await.expect("board");
                assert_eq!(res.status(), 200);
                std::hint::black_box(res.bytes().await.expect("body"));
                n += 1;
            }
            n
        }));
    }
    let mut boards = 0;
    for t in tasks {
        boards += t.await.expect("task");
    }
    let boards = boards as f64 / start.elapsed().as_secs_f64();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    (appends, boards)
}
