//! Tampering with the stored log (the server stopped, the log file rewritten
//! with correct frame checksums, as anyone with write access could):
//! altered, deleted, reordered and truncated events. `ragtrail verify` and
//! `GET /api/v1/verify` name the first bad position every time, a signed digest
//! taken before the tamper fails after it, and a tampered export will not restore.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::*;

fn key(p: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&p.to_be_bytes());
    k
}

fn raw(data: &Path) -> ragtrail_events::raw::Records {
    ragtrail_events::raw::Records::read(data).unwrap()
}

fn cli_verify(data: &Path, digest: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ragtrail"));
    cmd.args(["verify", "--data"]).arg(data);
    if let Some(d) = digest {
        cmd.arg("--digest").arg(d);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A store of 12 events, a digest of it kept outside, and an export of it.
async fn prepared(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("data");
    let mut s = Server::start_on(&data, false);
    let mut events = vec![event(
        PROGRAMME,
        "ProgrammeRegistered",
        json!({"name": "P", "authority": "A"}),
        "2024-09-10",
    )];
    for i in 0..11 {
        events.push(event(
            PROGRAMME,
            "NarrativeRecorded",
            json!({"section": "progress", "text": format!("update {i}")}),
            "2024-09-10",
        ));
    }
    s.batch(&json!({"events": events})).await;
    let digest: Value = s.admin_json("/api/v1/digest").await;
    let digest_file = dir.join("digest.json");
    std::fs::write(&digest_file, digest.to_string()).unwrap();
    assert_eq!(s.stop(), Some(0));
    let export = dir.join("export.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["export", "--format", "jsonl", "--data"])
        .arg(&data)
        .arg("-o")
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success());
    (data, digest_file, export)
}

/// Checks both verifiers name `position`, and the digest fails.
async fn detected(data: &Path, digest: &Path, position: u64) {
    let (code, out) = cli_verify(data, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("position {position}:")), "{out}");
    let (code, out) = cli_verify(data, Some(digest));
    assert_eq!(code, Some(1), "{out}");
    let s = Server::start_on(data, false);
    let v: Value = s.admin_json("/api/v1/verify").await;
    assert_eq!(v["verified"], false, "{v}");
    assert_eq!(v["position"], position, "{v}");
}

#[tokio::test]
async fn an_altered_event_is_named() {
    let dir = tempfile::TempDir::new().unwrap();
    let (data, digest, _) = prepared(dir.path()).await;
    {
        let mut db = raw(&data);
        let mut v = db.get(&key(7)).unwrap();
        let i = v.len() - 3;
        v[i] ^= 0x20; // one letter of the narrative changes case
        db.insert(key(7), v);
        db.write(&data).unwrap();
    }
    detected(&data, &digest, 7).await;
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    let dir = tempfile::TempDir::new().unwrap();
    let (data, digest, _) = prepared(dir.path()).await;
    {
        let mut db = raw(&data);
        db.remove(&key(5));
        db.write(&data).unwrap();
    }
    detected(&data, &digest, 5).await;
}

#[tokio::test]
async fn reordered_events_are_named() {
    let dir = tempfile::TempDir::new().unwrap();
    let (data, digest, _) = prepared(dir.path()).await;
    {
        let mut db = raw(&data);
        let (a, b) = (db.get(&key(3)).unwrap(), db.get(&key(9)).unwrap());
        db.insert(key(3), b);
        db.insert(key(9), a);
        db.write(&data).unwrap();
    }
    detected(&data, &digest, 3).await;
}

#[tokio::test]
async fn a_truncated_log_is_caught_by_the_head_record_and_by_the_digest_kept_outside() {
    let dir = tempfile::TempDir::new().unwrap();
    let (data, digest, _) = prepared(dir.path()).await;
    {
        let mut db = raw(&data);
        for p in 10..=12 {
            db.remove(&key(p));
        }
        db.write(&data).unwrap();
    }
    let (code, out) = cli_verify(&data, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("position 10:") && out.contains("acknowledged events are missing"),
        "{out}"
    );
    // The server opens, serves the nine, refuses appends, and says so.
    let s = Server::start_on(&data, false);
    let v: Value = s.admin_json("/api/v1/verify").await;
    assert_eq!(
        (v["verified"].clone(), v["position"].clone()),
        (json!(false), json!(10)),
        "{v}"
    );
    let h: Value = s.public_json("/healthz").await;
    assert_eq!(h["status"], "damaged", "{h}");
    assert!(
        h["damage"].as_str().unwrap_or_default().contains("missing"),
        "{h}"
    );
    drop(s);
    // Cut with its head record rewritten too, the shorter chain verifies
    // alone; only the digest kept outside catches it.
    let nine = raw(&data);
    let last = ragtrail_events::envelope::decode(&nine.get(&key(9)).unwrap()).unwrap();
    let head = ragtrail_events::Head {
        position: 9,
        hash: last.hash,
    };
    ragtrail_events::head::overwrite(&data, head).unwrap();
    let (code, out) = cli_verify(&data, None);
    assert_eq!(code, Some(0), "a shorter chain is still a chain: {out}");
    let (code, out) = cli_verify(&data, Some(&digest));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("events were removed"), "{out}");
}

#[tokio::test]
async fn a_tampered_export_will_not_restore() {
    let dir = tempfile::TempDir::new().unwrap();
    let (_, _, export) = prepared(dir.path()).await;
    let text = std::fs::read_to_string(&export)
        .unwrap()
        .replace("update 4", "update 5");
    let altered = dir.path().join("altered.jsonl");
    std::fs::write(&altered, text).unwrap();
    let copy = dir.path().join("copy");
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["import", "--data"])
        .arg(&copy)
        .arg(&altered)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("does not match its hash"), "{said}");
    let (code, out) = cli_verify(&copy, None);
    assert!(
        out.contains("verified 0 events") || code == Some(2),
        "nothing was restored: {out}"
    );
}
