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
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
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
