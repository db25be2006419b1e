//! Crash under load: 16 writers drive the real server over HTTP; it is killed
//! with SIGKILL at a random moment and restarted on the same data dir, again
//! and again (10 cycles; 50 with RAGTRAIL_SOAK=1). After every restart: every
//! append that got a 201 is there with the same position and hash, none is
//! stored twice, positions are gap-free and the chain verifies, and the board
//! as known just before the kill is exactly what it was.

mod support;

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

const WRITERS: usize = 16;
const RAGS: [&str; 3] = ["red", "amber", "green"];

struct Acked {
    position: u64,
    hash: String,
    text: String,
}

async fn board(s: &Server, known_at: &str) -> Value {
    let mut b: Value = s
        .admin_json(&format!(
            "/api/v1/board?as_at=2024-09-10&known_at={}",
            known_at.replace('+', "%2B")
        ))
        .await;
    b["known_at"] = Value::Null;
    b
}

fn seed_rng() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        | 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_sigkill_under_load() {
    let cycles = if std::env::var_os("RAGTRAIL_SOAK").is_some() {
        50
    } else {
        10
    };
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::new(Mutex::new(Vec::new()));
    let mut rng = seed_rng();
    let mut snapshot: Option<(String, Value)> = None;
    {
        // The items the writers report on, so the board has something to show.
        let s = Server::start_on(&data, false);
        let mut events = vec![event(
            PROGRAMME,
            "ProgrammeRegistered",
            json!({"name": "Crash programme", "authority": "Test"}),
            "2024-09-10",
        )];
        for w in 0..WRITERS {
            events.push(event(&format!("00000000-0000-0000-0000-0000000001{w:02}"), "ItemRegistered", json!({"programme": PROGRAMME, "kind": "action", "reference": format!("{w}"), "title": format!("Writer {w}")}), "2024-09-10"));
        }
        s.batch(&json!({"events": events})).await;
    }
    for cycle in 0..cycles {
        let mut s = Server::start_on(&data, false);
        // Check what the previous cycle left.
        if let Some((known_at, before)) = snapshot.take() {
            check(&s, &acked, cycle).await;
            assert_eq!(
                board(&s, &known_at).await,
                before,
                "cycle {cycle}: the board as known before the kill changed"
            );
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (base, token, acked, stop) =
                (s.base.clone(), s.admin.clone(), acked.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let c = client();
                let item = format!("00000000-0000-0000-0000-0000000001{w:02}");
                for n in 0u64.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    let text = format!("cycle {cycle} writer {w} update {n}");
                    let kind = if n % 4 == 0 {
                        "RagChanged"
                    } else {
                        "NarrativeRecorded"
                    };
                    let mut body = if kind == "RagChanged" {
                        event(
                            &item,
                            kind,
                            json!({"dimension": "overall", "rag": RAGS[(n % 3) as usize]}),
                            "2024-09-10",
                        )
                    } else {
                        event(
                            &item,
                            kind,
                            json!({"section": "progress", "text": text}),
                            "2024-09-10",
                        )
                    };
                    if kind == "RagChanged" {
                        body["reason"] = json!(text);
                    }
                    let sent = c
                        .post(format!("{base}/api/v1/events"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &text)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(res) = sent else { return };
                    if res.status() != 201 {
                        return;
                    }
                    let Ok(r) = res.json::<Value>().await else {
                        return;
                    };
                    acked.lock().unwrap().push(Acked {
                        position: r["position"].as_u64().unwrap(),
                        hash: r["hash"].as_str().unwrap().to_string(),
                        text,
                    });
                }
            }));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(150 + rng % 500)).await;
        // Just before the kill: the board as known a moment before the last acknowledged append.
        let last = acked.lock().unwrap().iter().map(|a| a.position).max();
        if let Some(last) = last {
            let page: Value = s
                .admin_json(&format!("/api/v1/events?after={}&limit=1", last - 1))
                .await;
            let at: DateTime<Utc> = page["events"][0]["recorded_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let known_at = (at - Span::microseconds(1)).to_rfc3339();
            snapshot = Some((known_at.clone(), board(&s, &known_at).await));
        }
        s.child.kill().unwrap(); // SIGKILL
        s.child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
    }
    let s = Server::start_on(&data, false);
    check(&s, &acked, cycles).await;
    let n = acked.lock().unwrap().len();
    println!(
        "{cycles} SIGKILL cycles under {WRITERS} writers: {n} acknowledged appends, all present"
    );
    assert!(n > cycles * 10, "the writers got little done: {n}");
}

async fn check(s: &Server, acked: &Mutex<Vec<Acked>>, cycle: usize) {
    let v: Value = s.admin_json("/api/v1/verify").await;
    assert_eq!(v["verified"], true, "cycle {cycle}: {v}");
    let log = whole_log(s).await;
    assert_eq!(log.len() as u64, v["count"].as_u64().unwrap());
    let by_position: HashMap<u64, &Value> = log
        .iter()
        .map(|e| (e["position"].as_u64().unwrap(), e))
        .collect();
    for (i, e) in log.iter().enumerate() {
        assert_eq!(
            e["position"].as_u64().unwrap(),
            i as u64 + 1,
            "cycle {cycle}: positions have a gap"
        );
    }
    let mut seen = HashSet::new();
    for e in &log {
        let text = e["data"]["text"]
            .as_str()
            .or(e["reason"].as_str())
            .unwrap_or("")
            .to_string();
        if text.starts_with("cycle ") {
            assert!(
                seen.insert(text.clone()),
                "cycle {cycle}: {text} stored twice"
            );
        }
    }
    for a in acked.lock().unwrap().iter() {
        let e = by_position.get(&a.position).unwrap_or_else(|| {
            panic!(
                "cycle {cycle}: acknowledged position {} is lost",
                a.position
            )
        });
        assert_eq!(
            e["hash"],
            a.hash.as_str(),
            "cycle {cycle}: position {} changed",
            a.position
        );
        let text = e["data"]["text"]
            .as_str()
            .or(e["reason"].as_str())
            .unwrap_or("");
        assert_eq!(
            text, a.text,
            "cycle {cycle}: position {} holds another event",
            a.position
        );
    }
}
