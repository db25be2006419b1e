//! Crash test: a child process appends concurrently and reports every
//! acknowledged position; we SIGKILL it at random moments, reopen the store and
//! check that every acknowledged event is there unchanged, nothing is
//! duplicated, and the chain verifies; 20 cycles, 100 with `RAGTRAIL_SOAK=1`.
//! (Runs as its own `main`: the same binary
//! is the child when `RAGTRAIL_CRASH_CHILD` names a data directory.)

mod common;

use common::*;
use ragtrail_events::*;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CYCLES: usize = 20;

fn main() {
    if let Ok(dir) = std::env::var("RAGTRAIL_MOVE_CHILD") {
        // Opening moves the last release's events.log into sled.
        let _store = Store::open(&dir).expect("open");
        println!("moved");
        return;
    }
    if let Ok(dir) = std::env::var("RAGTRAIL_CRASH_CHILD") {
        let cycle: u64 = std::env::var("RAGTRAIL_CRASH_CYCLE")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        append_until_killed(&dir, cycle, Options::default());
        return;
    }
    let soak = std::env::var_os("RAGTRAIL_SOAK").is_some();
    let cycles = std::env::var("RAGTRAIL_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(if soak { 100 } else { CYCLES });
    parent(cycles);
    moving_in_survives_sigkill(cycles / 2);
}

/// A data directory of the last release (events in `events.log`) moves into
/// sled when first opened; a SIGKILL at any moment of the move leaves a
/// directory that opens on the next start with the same head and every event.
fn moving_in_survives_sigkill(cycles: usize) {
    let template = tempfile::TempDir::new().expect("tempdir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // 30,000 events, then written out as the last release's log file.
    let source = tempfile::TempDir::new().expect("tempdir");
    rt.block_on(async {
        let store = Store::open(source.path()).expect("open");
        for chunk in 0..30u128 {
            let events = (0..1000u128)
                .map(|i| {
                    new_event(
                        uuid((chunk * 1000 + i) % 97),
                        Event::NarrativeRecorded {
                            section: Section::Progress,
                            text: format!("update {chunk}.{i}"),
                        },
                        day(2024, 9, 10),
                    )
                })
                .collect();
            store
                .append(append_all("lead", events))
                .await
                .expect("append");
        }
        store.close().await;
    });
    let want = verify::verify_dir(source.path()).expect("verify");
    let records = ragtrail_events::raw::Records::read(source.path()).expect("records");
    let frames: Vec<Vec<(Vec<u8>, Vec<u8>)>> = records.0.chunks(1000).map(<[_]>::to_vec).collect();
    {
        let db = sled::open(template.path()).expect("sled");
        db.open_tree("tokens")
            .expect("tokens")
            .insert(b"t", b"kept")
            .expect("token");
        db.flush().expect("flush");
    }
    ragtrail_events::legacy::write_log(template.path(), &frames).expect("log file");
    let exe = std::env::current_exe().expect("own path");
    // How long an undisturbed move takes, to kill within it.
    let timed = tempfile::TempDir::new().expect("tempdir");
    copy_dir(template.path(), timed.path());
    let start = Instant::now();
    let out = Command::new(&exe)
        .env("RAGTRAIL_MOVE_CHILD", timed.path())
        .output()
        .expect("move child");
    assert!(
        out.status.success(),
        "the move failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = start.elapsed();
    let mut rng = Rng(whole.as_nanos() as u64 | 1);
    for cycle in 0..cycles.max(1) {
        let dir = tempfile::TempDir::new().expect("tempdir");
        copy_dir(template.path(), dir.path());
        let mut child = Command::new(&exe)
            .env("RAGTRAIL_MOVE_CHILD", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let at = Duration::from_micros(rng.next() % (whole.as_micros() as u64 / 2).max(1));
        std::thread::sleep(at);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let left = dir.path().join(ragtrail_events::legacy::LOG_FILE).exists();
        rt.block_on(async {
            let store = Store::open(dir.path()).unwrap_or_else(|e| {
                panic!("move cycle {cycle}: reopen after SIGKILL at {at:?}: {e}")
            });
            assert_eq!(store.damage(), None, "move cycle {cycle}");
            assert_eq!(store.head().position, want.count, "move cycle {cycle}");
            assert_eq!(store.head().hash, want.head, "move cycle {cycle}");
            assert_eq!(
                store
                    .tree("tokens")
                    .expect("tokens")
                    .get(b"t")
                    .expect("get")
                    .as_deref(),
                Some(&b"kept"[..])
            );
            store.close().await;
        });
        assert_eq!(
            verify::verify_dir(dir.path()).expect("verify"),
            want,
            "move cycle {cycle}"
        );
        println!(
            "move cycle {:>2}: killed after {:>5} µs of a {} µs move (log file {}); head and every event as before",
            cycle + 1,
            at.as_micros(),
            whole.as_micros(),
            if left { "still there" } else { "gone" }
        );
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let p = e.expect("entry").path();
        let target = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

fn parent(cycles: usize) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let exe = std::env::current_exe().expect("own path");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut rng = Rng(seed);
    let mut acked: HashMap<u64, String> = HashMap::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .env("RAGTRAIL_CRASH_CHILD", dir.path())
            .env("RAGTRAIL_CRASH_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        // Wait for the first acknowledgement (bounded), then kill at a random moment.
        let first = rx.recv_timeout(Duration::from_secs(30));
        assert!(
            first.is_ok(),
            "cycle {cycle}: the child acknowledged nothing in 30 s"
        );
        let delay = Duration::from_millis(rng.next() % 250);
        let start = Instant::now();
        let mut lines = vec![first.unwrap_or_default()];
        while start.elapsed() < delay {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(5)) {
                lines.push(l);
            }
        }
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        reader.join().expect("reader thread");
        lines.extend(rx.try_iter());
        for l in lines {
            let Some((p, h)) = l.split_once(' ') else {
                panic!("cycle {cycle}: unexpected child output {l:?}")
            };
            acked.insert(p.parse().expect("position"), h.to_string());
        }

        // Reopen and check everything acknowledged is there, once, and verifies.
        rt.block_on(async {
            let store = Store::open(dir.path()).expect("reopen after SIGKILL");
            let head = store.head().position;
            let verified = store
                .verify()
                .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
            assert_eq!(verified.count, head, "cycle {cycle}: verify count vs head");
            for (p, h) in &acked {
                let e = store
                    .get(*p)
                    .expect("read")
                    .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged event {p} is lost"));
                assert_eq!(&e.hash.to_hex(), h, "cycle {cycle}: event {p} changed");
            }
            let mut texts = HashSet::new();
            for e in store.read(0, usize::MAX).expect("read all") {
                if let Event::NarrativeRecorded { text, .. } = &e.event {
                    assert!(
                        texts.insert(text.clone()),
                        "cycle {cycle}: {text} stored twice"
                    );
                }
            }
            store.close().await;
        });
        println!(
            "crash cycle {:>2}: killed after {:>3} ms; {} events acknowledged so far, all present",
            cycle + 1,
            delay.as_millis(),
            acked.len()
        );
    }
    println!(
        "crash test: {cycles} SIGKILL cycles, {} acknowledged events survived, chain verifies",
        acked.len()
    );
}
