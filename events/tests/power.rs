//! Power-loss test: a child process appends concurrently to a store on
//! powercut (a FUSE filesystem that loses every write not made durable by
//! fsync/fdatasync) and reports every acknowledged position; we cut the power
//! at a random moment, kill the child, mount what survived, and check that
//! every acknowledged event is there with its hash, positions have no gaps,
//! the chain verifies, and the store does not think itself damaged. Cuts
//! alternate between dropping every unsynced write and keeping a random
//! subset of them in a random order. 10 cycles, 100 with `RAGTRAIL_SOAK=1`.
//!
//! Needs root and /dev/fuse (as CI has); elsewhere it says it was skipped,
//! and under `CI=true` it fails instead. (Runs as its own `main`: the same
//! binary is the child when `RAGTRAIL_POWER_CHILD` names a data directory.)

mod common;

use common::*;
use powercut::{Cut, Disk, Image};
use ragtrail_events::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CYCLES: usize = 10;

fn main() {
    if let Ok(dir) = std::env::var("RAGTRAIL_POWER_CHILD") {
        let cycle = std::env::var("RAGTRAIL_POWER_CYCLE")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        // The control run: the store told not to sync, to show the cut bites.
        let options = Options {
            sync_files: std::env::var_os("RAGTRAIL_POWER_NOSYNC").is_none(),
            ..Options::default()
        };
        append_until_killed(&dir, cycle, options);
        return;
    }
    let soak = std::env::var_os("RAGTRAIL_SOAK").is_some();
    let cycles = std::env::var("RAGTRAIL_POWER_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(if soak { 100 } else { CYCLES });
    if control() {
        parent(cycles);
    }
}

/// Shows the test can fail: a store that acknowledges after sled's `flush()`
/// alone (no fdatasync) loses acknowledged events at a cut. Returns false if
/// the filesystem cannot be mounted here.
fn control() -> bool {
    let root = tempfile::TempDir::new().expect("tempdir");
    let at = root.path().join("mnt");
    let Some(disk) = Disk::mount_for_test(&at, &Image::empty()) else {
        return false;
    };
    let data = at.join("data");
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env("RAGTRAIL_POWER_CHILD", &data)
        .env("RAGTRAIL_POWER_NOSYNC", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked: Vec<(u64, String)> = Vec::new();
    let start = Instant::now();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some((p, h)) = line.split_once(' ') {
            acked.push((p.parse().expect("position"), h.to_string()));
        }
        if acked.len() >= 2000 || start.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let image = disk.cut(Cut::DropAll);
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    disk.unmount();
    let at = root.path().join("after");
    let disk = Disk::mount_for_test(&at, &image).expect("remount");
    let kept = match Store::open(at.join("data")) {
        Ok(store) => {
            let kept = acked
                .iter()
                .filter(|(p, h)| {
                    store
                        .get(*p)
                        .ok()
                        .flatten()
                        .is_some_and(|e| e.hash.to_hex() == *h)
                })
                .count();
            drop(store);
            kept
        }
        Err(_) => 0,
    };
    disk.unmount();
    println!(
        "power-loss control: without fdatasync, a cut kept {kept} of {} acknowledged events",
        acked.len()
    );
    assert!(
        kept < acked.len(),
        "the cut lost nothing from a store that never syncs: the power-loss test cannot fail"
    );
    true
}

fn parent(cycles: usize) {
    let root = tempfile::TempDir::new().expect("tempdir");
    let exe = std::env::current_exe().expect("own path");
    let seed = std::env::var("RAGTRAIL_POWER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    println!("power-loss test: seed {seed} (RAGTRAIL_POWER_SEED replays it)");
    let mut rng = Rng(seed);
    let mut acked: HashMap<u64, String> = HashMap::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut image = Image::empty();
    for cycle in 0..cycles {
        let at = root.path().join(format!("mnt{cycle}"));
        let Some(disk) = Disk::mount_for_test(&at, &image) else {
            return;
        };
        let data = at.join("data");
        let mut child = Command::new(&exe)
            .env("RAGTRAIL_POWER_CHILD", &data)
            .env("RAGTRAIL_POWER_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(60));
        assert!(
            first.is_ok(),
            "cycle {cycle}: the child acknowledged nothing in 60 s"
        );
        let delay = Duration::from_millis(rng.next() % 400);
        let start = Instant::now();
        let mut lines = vec![first.unwrap_or_default()];
        while start.elapsed() < delay {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(5)) {
                lines.push(l);
            }
        }
        // The power goes off at this instant: anything acknowledged before it
        // (and any line still in the pipe was acknowledged before it) must survive.
        let how = if cycle % 2 == 0 {
            Cut::DropAll
        } else {
            Cut::Reorder { seed: rng.next() }
        };
        image = disk.cut(how);
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        reader.join().expect("reader thread");
        lines.extend(rx.try_iter());
        disk.unmount();
        for l in lines {
            let Some((p, h)) = l.split_once(' ') else {
                panic!("cycle {cycle}: unexpected child output {l:?}")
            };
            acked.insert(p.parse().expect("position"), h.to_string());
        }

        // Power back on: mount what survived and check it.
        let at = root.path().join(format!("mnt{cycle}-after"));
        let disk = Disk::mount_for_test(&at, &image).expect("remount");
        let data = at.join("data");
        rt.block_on(async {
            let store = Store::open(&data).unwrap_or_else(|e| {
                panic!("cycle {cycle} ({how:?}): reopen after the power cut: {e}")
            });
            assert_eq!(
                store.damage(),
                None,
                "cycle {cycle} ({how:?}): a power cut looked like damage"
            );
            let head = store.head().position;
            let verified = store
                .verify()
                .unwrap_or_else(|e| panic!("cycle {cycle} ({how:?}): {e}"));
            assert_eq!(
                verified.count, head,
                "cycle {cycle}: gap-free up to the head"
            );
            for (p, h) in &acked {
                let e = store.get(*p).expect("read").unwrap_or_else(|| {
                    panic!("cycle {cycle} ({how:?}): acknowledged event {p} was lost (head {head})")
                });
                assert_eq!(&e.hash.to_hex(), h, "cycle {cycle}: event {p} changed");
            }
            store.close().await;
        });
        // What the recovery wrote is made durable by it; the next cycle starts from it.
        image = disk.cut(Cut::DropAll);
        disk.unmount();
        println!(
            "power cycle {:>3} ({:?}): cut after {:>3} ms; {} events acknowledged so far, all present",
            cycle + 1,
            how,
            delay.as_millis(),
            acked.len()
        );
    }
    println!(
        "power-loss test: {cycles} power cuts, {} acknowledged events survived, chain verifies",
        acked.len()
    );
}
