//! The durability point, checked from outside with strace: the real server
//! under `strace -f`, a 10,000-event batch and a single event posted over
//! HTTP. Before each `201` leaves the server, every file sled wrote for the
//! group (`db`, and any file under `blobs/`) has been `fdatasync`ed (or
//! `fsync`ed) after its last write. docs/reliability.md states the syscalls.
//! (Needs strace, which `.ci/run` installs; elsewhere it says it was skipped.)

mod support;

use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

/// One syscall as strace reported it (completed), in the order they completed.
#[derive(Debug)]
enum Call {
    Open { fd: i64, path: String },
    Close { fd: i64 },
    Write { fd: i64 },
    Sync { fd: i64 },
    Response201,
}

/// Reads strace's `-f` output: joins `<unfinished ...>` with `<... resumed>`.
fn calls(trace: &str) -> Vec<Call> {
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for line in trace.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let whole = if let Some(start) = rest.strip_suffix(" <unfinished ...>") {
            // A sync counts from when it starts: it need not cover a write
            // that completes while it runs. Other calls count when they complete.
            if let Some(args) = start
                .strip_prefix("fdatasync(")
                .or_else(|| start.strip_prefix("fsync("))
            {
                if let Ok(fd) = args.trim().parse::<i64>() {
                    out.push(Call::Sync { fd });
                }
                continue;
            }
            pending.insert(pid.to_string(), start.to_string());
            continue;
        } else if rest.starts_with("<... ") {
            let Some(start) = pending.remove(pid) else {
                continue;
            };
            let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
            format!("{start}{tail}")
        } else {
            rest.to_string()
        };
        let Some((name, args)) = whole.split_once('(') else {
            continue;
        };
        let result: i64 = whole
            .rsplit_once(" = ")
            .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(-1);
        let first_fd = || {
            args.split([',', ')'])
                .next()
                .and_then(|f| f.trim().parse::<i64>().ok())
        };
        match name {
            "openat" if result >= 0 => {
                let path = args.split('"').nth(1).unwrap_or_default().to_string();
                out.push(Call::Open { fd: result, path });
            }
            "close" => {
                if let Some(fd) = first_fd() {
                    out.push(Call::Close { fd });
                }
            }
            "pwrite64" | "pwritev" | "pwritev2" | "write" | "writev" | "sendto" | "sendmsg" => {
                if whole.contains("HTTP/1.1 201") {
                    out.push(Call::Response201);
                } else if let Some(fd) = first_fd() {
                    out.push(Call::Write { fd });
                }
            }
            "fdatasync" | "fsync" if result == 0 => {
                if let Some(fd) = first_fd() {
                    out.push(Call::Sync { fd });
                }
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn every_201_comes_after_fdatasync_of_every_file_sled_wrote() {
    if Command::new("strace").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace is missing: .ci/run installs it"
        );
        println!("SKIPPED: strace is not installed");
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let trace = dir.path().join("trace.txt");
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-s", "48", "-e"])
        .arg("trace=openat,close,pwrite64,pwritev,pwritev2,write,writev,sendto,sendmsg,fdatasync,fsync")
        .arg("-o")
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start strace");
    let base = listening_on(strace.stdout.take().expect("stdout"));
    let admin = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let c = client();
    let events: Vec<Value> = (0..10_000)
        .map(|i| {
            event(
                PROGRAMME,
                "NarrativeRecorded",
                json!({"section": "progress", "text": format!("update {i} of the board pack")}),
                "2024-09-10",
            )
        })
        .collect();
    let res = c
        .post(format!("{base}/api/v1/batches"))
        .bearer_auth(admin.trim())
        .json(&json!({"events": events}))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let one = event(
        PROGRAMME,
        "NarrativeRecorded",
        json!({"section": "progress", "text": "one more"}),
        "2024-09-10",
    );
    let res = c
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(admin.trim())
        .json(&one)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Stop the server (strace's child) cleanly.
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", strace.id()))
        .unwrap_or_default();
    for pid in children.split_whitespace() {
        let _ = Command::new("kill").args(["-TERM", pid]).status();
    }
    let _ = strace.wait();

    let text = std::fs::read_to_string(&trace).unwrap();
    let db = data.join("db").to_string_lossy().into_owned();
    let blobs = data.join("blobs").to_string_lossy().into_owned();
    let (responses, blob_files) = match check(&text, &db, &blobs) {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::copy(&trace, "/tmp/durability-trace.txt");
            panic!("{e} (trace kept in /tmp/durability-trace.txt)");
        }
    };
    assert!(responses >= 2, "saw {responses} 201 responses in the trace");
    println!("durability: {responses} responses, each after fdatasync of sled's files; {blob_files} blob files opened");
}

/// Walks a trace: before each 201, no file of sled's (`db`, anything under
/// `blobs/`) may have a write after its last sync. Returns the 201s seen and
/// the blob files opened.
fn check(trace: &str, db: &str, blobs: &str) -> Result<(usize, usize), String> {
    let calls = calls(trace);
    let mut sled_fds: HashMap<i64, String> = HashMap::new();
    let mut dirty: HashSet<String> = HashSet::new();
    let (mut responses, mut blob_files) = (0, 0);
    for (i, call) in calls.iter().enumerate() {
        match call {
            Call::Open { fd, path } => {
                if path == db || path.starts_with(&format!("{blobs}/")) {
                    if path.starts_with(blobs) {
                        blob_files += 1;
                    }
                    sled_fds.insert(*fd, path.clone());
                } else {
                    sled_fds.remove(fd);
                }
            }
            Call::Close { fd } => {
                sled_fds.remove(fd);
            }
            Call::Write { fd } => {
                if let Some(p) = sled_fds.get(fd) {
                    dirty.insert(p.clone());
                }
            }
            Call::Sync { fd } => {
                if let Some(p) = sled_fds.get(fd) {
                    dirty.remove(p);
                }
            }
            Call::Response201 => {
                responses += 1;
                if !dirty.is_empty() {
                    return Err(format!(
                        "a 201 left the server while {dirty:?} had writes not yet synced; the calls before it: {:?}",
                        &calls[i.saturating_sub(12)..=i]
                    ));
                }
            }
        }
    }
    Ok((responses, blob_files))
}

/// The checker itself: a write to `db` with no sync before the 201 is caught,
/// through strace's split `<unfinished ...>` lines too.
#[test]
fn the_checker_catches_a_201_before_the_sync() {
    let synced = r#"7  openat(AT_FDCWD, "/d/db", O_RDWR|O_CREAT|O_CLOEXEC, 0666) = 9
7  openat(AT_FDCWD, "/d/db", O_RDONLY|O_CLOEXEC) = 11
8  pwrite64(9, "abc"..., 3, 0 <unfinished ...>
9  fdatasync(11 <unfinished ...>
8  <... pwrite64 resumed>) = 3
9  <... fdatasync resumed>) = 0
9  fdatasync(11) = 0
7  writev(14, [{iov_base="HTTP/1.1 201 Created\r\n"..., iov_len=118}], 1) = 118
"#;
    assert_eq!(check(synced, "/d/db", "/d/blobs"), Ok((1, 0)));
    let unsynced = synced.replace("9  fdatasync(11) = 0\n", "");
    assert!(check(&unsynced, "/d/db", "/d/blobs").is_err());
    let blob = synced.replace(
        "9  fdatasync(11) = 0\n",
        "9  fdatasync(11) = 0\n7  openat(AT_FDCWD, \"/d/blobs/5\", O_WRONLY|O_CREAT, 0666) = 12\n7  write(12, \"x\", 1) = 1\n",
    );
    assert!(
        check(&blob, "/d/db", "/d/blobs").is_err(),
        "an unsynced blob"
    );
}
