//! Golden byte fixtures: the stored bytes of every event variant, checked in
//! under `events/tests/fixtures/`. They must decode, to the same event, forever.
//!
//! A new variant gets its fixture with `RAGTRAIL_WRITE_FIXTURES=1 cargo test
//! -p ragtrail-events --test fixtures`; existing fixtures are never rewritten.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use ragtrail_events::envelope::{self, Digest32, Draft};
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn recorded() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_725_960_000_123_456).expect("fixed instant")
}

#[test]
fn every_variant_decodes_from_its_golden_bytes() {
    let write = std::env::var_os("RAGTRAIL_WRITE_FIXTURES").is_some();
    let mut missing = Vec::new();
    for (i, event) in every_variant().into_iter().enumerate() {
        let path = fixture_dir().join(format!("{i:02}_{}.bin", event.type_name()));
        let (bytes, expected) = envelope::encode(&Draft {
            position: i as u64 + 1,
            id: uuid(0x0190_0000_0000_7000_8000_0000_0000_0000 + i as u128),
            stream: uuid(100 + i as u128),
            version: 1,
            effective: day(2024, 9, 10),
            recorded_at: recorded(),
            actor: "fixture",
            reason: event.needs_reason().then_some("fixture reason"),
            idempotency_key: None,
            event: &event,
            prev_hash: Digest32([i as u8; 32]),
        })
        .expect("encode");
        if !path.exists() {
            if write {
                std::fs::write(&path, &bytes).expect("write fixture");
            } else {
                missing.push(path.display().to_string());
            }
            continue;
        }
        let golden = std::fs::read(&path).expect("read fixture");
        let decoded = envelope::decode(&golden)
            .unwrap_or_else(|e| panic!("{} no longer decodes: {e}", path.display()));
        assert_eq!(
            decoded,
            expected,
            "{} decodes to something else",
            path.display()
        );
        envelope::check(&golden, Digest32([i as u8; 32]))
            .unwrap_or_else(|e| panic!("{} no longer verifies: {e}", path.display()));
        assert_eq!(
            golden,
            bytes,
            "{}: today's encoding of this event differs from the stored one; \
             a stored type changed shape (append variants and fields only at the end, \
             and bump SCHEMA with an upcast for anything else)",
            path.display()
        );
    }
    assert!(
        missing.is_empty(),
        "missing golden fixtures (create them with RAGTRAIL_WRITE_FIXTURES=1): {missing:?}"
    );
}

#[test]
fn a_payload_of_an_unknown_schema_is_refused_with_advice() {
    let err = envelope::upcast(99, &[]).expect_err("unknown schema");
    assert!(err.contains("upgrade ragtrail"), "{err}");
}
