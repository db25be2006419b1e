//! Never a silent loss: whatever happens to the bytes of a data directory
//! (one byte changed anywhere in any file, a file cut at any length, a file
//! removed), the store either refuses to open, saying what it found and what
//! to do, or opens and reports the damage (`damage()`, `verify`). It never
//! opens with fewer, or other, acknowledged events under a clean verify.
//!
//! Each file of a closed store is damaged in turn: every byte of the small
//! files (`conf`, `head`), and bytes and cut lengths picked at random (seeded,
//! printed) in the others, targeted at the end of sled's log, where its
//! recovery cuts torn writes off.

mod common;

use common::*;
use ragtrail_events::*;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A closed store of 280 events in 120 groups, opened and closed twice (so
/// sled has recovered and snapshotted at least once).
fn template() -> (TempDir, Verified) {
    let dir = TempDir::new().unwrap();
    for round in 0..2u128 {
        rt().block_on(async {
            let store = Store::open(dir.path()).unwrap();
            for i in 0..60u128 {
                let n = round * 60 + i;
                let events = (0..if n % 3 == 0 { 5 } else { 1 })
                    .map(|k| {
                        new_event(
                            uuid(n % 7),
                            Event::NarrativeRecorded {
                                section: Section::Progress,
                                text: format!("update {n}.{k}"),
                            },
                            day(2024, 9, 10),
                        )
                    })
                    .collect();
                store.append(append_all("lead", events)).await.unwrap();
            }
            store.close().await;
        });
    }
    let v = verify::verify_dir(dir.path()).unwrap();
    assert_eq!(v.count, 280);
    (dir, v)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    refused: usize,
    reported: usize,
    unharmed: usize,
}

/// Opens a damaged copy and judges it: refused, reported, or the same
/// acknowledged events (the damage hit bytes that held none). Panics on silence.
fn judge(dir: &Path, whole: &Verified, what: &str, tally: &mut Tally) {
    let opened = std::panic::catch_unwind(|| Store::open(dir));
    let store = match opened {
        Err(_) => panic!("{what}: opening panicked instead of refusing with a message"),
        Ok(Err(e)) => {
            let text = e.to_string();
            assert!(
                text.contains("restore") || text.contains("verify") || text.contains("backup"),
                "{what}: refused without saying what to do: {text}"
            );
            tally.refused += 1;
            return;
        }
        Ok(Ok(store)) => store,
    };
    let checked = store.verify();
    let damage = store.damage().cloned();
    let head = store.head();
    rt().block_on(store.close());
    drop(store);
    match (damage, checked) {
        (Some(_), Err(_)) => tally.reported += 1,
        (Some(d), Ok(v)) => panic!("{what}: damage {d:?} found but verify passed {v:?}"),
        (None, Err(_)) => tally.reported += 1,
        (None, Ok(v)) => {
            assert_eq!(
                (v.count, v.head, head.position),
                (whole.count, whole.head, whole.count),
                "{what}: SILENT LOSS: opened and verified with other acknowledged events"
            );
            tally.unharmed += 1;
        }
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Where sled's log ends: the last non-zero byte of `db`.
fn used(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1)
}

#[test]
fn damage_to_any_file_is_refused_or_reported_never_silent() {
    let (template, whole) = template();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    println!("damage test: seed {seed}");
    let mut rng = Rng(seed);
    let scratch = TempDir::new().unwrap();
    let mut case = 0usize;
    let mut tally = Tally::default();
    for file in files(template.path()) {
        let rel = file.strip_prefix(template.path()).unwrap().to_path_buf();
        let bytes = std::fs::read(&file).unwrap();
        let small = bytes.len() <= 256;
        let end = used(&bytes);
        // Bytes to change: all of a small file; else random ones, half of them near the end of the log.
        let flips: Vec<usize> = if small {
            (0..bytes.len()).collect()
        } else {
            (0..48)
                .map(|i| {
                    if i % 2 == 0 {
                        rng.below(bytes.len() as u64) as usize
                    } else {
                        end.saturating_sub(1 + rng.below(4096) as usize)
                    }
                })
                .collect()
        };
        let cuts: Vec<usize> = if small {
            (0..bytes.len()).collect()
        } else {
            let mut c = vec![0, end / 2, end.saturating_sub(1)];
            c.extend((0..16).map(|_| end.saturating_sub(rng.below(8192) as usize)));
            c.extend((0..8).map(|_| rng.below(bytes.len() as u64) as usize));
            c
        };
        let mut run = |what: String, damage: &dyn Fn(&Path)| {
            case += 1;
            let dir = scratch.path().join(format!("case{case}"));
            copy(template.path(), &dir);
            damage(&dir.join(&rel));
            judge(&dir, &whole, &what, &mut tally);
            std::fs::remove_dir_all(&dir).unwrap();
        };
        for at in flips {
            let flip = 1 + rng.below(255) as u8;
            run(
                format!("{} byte {at} ^ {flip:#x}", rel.display()),
                &|p: &Path| {
                    let mut b = std::fs::read(p).unwrap();
                    b[at] ^= flip;
                    std::fs::write(p, b).unwrap();
                },
            );
        }
        for len in cuts {
            run(
                format!("{} cut to {len} bytes", rel.display()),
                &|p: &Path| {
                    let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                    f.set_len(len as u64).unwrap();
                },
            );
        }
        run(format!("{} removed", rel.display()), &|p: &Path| {
            std::fs::remove_file(p).unwrap()
        });
    }
    println!("damage test: {case} cases: {tally:?}");
    assert!(tally.refused + tally.reported > 0);
}
