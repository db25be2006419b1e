//! The `ragtrail` binary end to end: `verify` and `rebuild` on a real store in a temp dir.

use chrono::NaiveDate;
use ragtrail_events::*;
use std::process::Command;
use uuid::Uuid;

fn ragtrail(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(args)
        .output()
        .expect("run ragtrail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn store_with_events(dir: &std::path::Path, n: u64) -> Head {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(dir).unwrap();
        for i in 0..n {
            store
                .append(Append {
                    actor: "lead".into(),
                    idempotency_key: None,
                    events: vec![NewEvent {
                        stream: Uuid::from_u128(u128::from(i % 3)),
                        event: Event::RagChanged {
                            dimension: Dimension::Overall,
                            rag: Rag::Amber,
                        },
                        effective: NaiveDate::from_ymd_opt(2024, 9, 10).unwrap(),
                        reason: Some("recovery actions in place".into()),
                        expected_version: None,
                    }],
                })
                .await
                .unwrap();
        }
        let head = store.head();
        store.close().await;
        head
    })
}

#[test]
fn verify_prints_the_count_and_head_then_names_the_first_altered_position() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().to_str().unwrap();
    let head = store_with_events(dir.path(), 6);
    let (code, out, err) = ragtrail(&["verify", "--data", data]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("verified 6 events, head {}", head.hash));

    {
        let mut db = ragtrail_events::raw::Records::read(dir.path()).unwrap();
        let key = ragtrail_events::raw::event_key(4);
        let mut v = db.get(&key).unwrap();
        let last = v.len() - 1;
        v[last] ^= 1;
        db.insert(key, v);
        db.write(dir.path()).unwrap();
    }
    let (code, _, err) = ragtrail(&["verify", "--data", data]);
    assert_eq!(code, 1);
    assert!(err.contains("position 4"), "{err}");
}

#[test]
fn verify_and_rebuild_explain_a_missing_store() {
    let dir = tempfile::TempDir::new().unwrap();
    let missing = dir.path().join("nothing-here");
    let (code, _, err) = ragtrail(&["verify", "--data", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("holds no ragtrail store"), "{err}");
    let (code, _, err) = ragtrail(&["rebuild", "--data", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn rebuild_replays_every_event_and_reports_the_rate() {
    let dir = tempfile::TempDir::new().unwrap();
    store_with_events(dir.path(), 10);
    let (code, out, err) = ragtrail(&["rebuild", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("from 10 events") && out.contains("events/s"),
        "{out}"
    );
}

#[test]
fn help_describes_every_command() {
    let (code, out, _) = ragtrail(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("verify") && out.contains("rebuild"), "{out}");
}
