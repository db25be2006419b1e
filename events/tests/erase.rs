//! Erasure in the store: the dry run changes nothing; the real run redacts
//! every field that holds the text, records itself, keeps every hash, leaves
//! no file of the data directory holding the text, and verifies; an altered
//! redaction is caught; a text found nowhere, or in an envelope field, is
//! refused with nothing written.

mod common;

use common::*;
use ragtrail_events::erase::{EraseError, Request};
use ragtrail_events::{Event, Section, Store};
use std::path::Path;

const NAME: &str = "Jane Smithson";

fn request(texts: &[&str]) -> Request {
    Request {
        texts: texts.iter().map(|t| t.to_string()).collect(),
        reason: "subject access request 2026/114".into(),
        legal_basis: "UK GDPR Article 17(1)(a)".into(),
        actor: "admin".into(),
    }
}

/// Every file under `dir`, and whether any holds `text` (in any ASCII case).
fn files_holding(dir: &Path, text: &str) -> Vec<String> {
    let needle = text.to_ascii_lowercase().into_bytes();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap().to_ascii_lowercase();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

async fn filled(dir: &Path, groups: usize) -> Store {
    let store = Store::open(dir).unwrap();
    for g in 0..groups {
        let item = uuid(1000 + g as u128);
        store
            .append(append_all(
                "writer",
                vec![
                    new_event(
                        item,
                        Event::NarrativeRecorded {
                            section: Section::Progress,
                            text: format!("Board {g}: update from {NAME}, who will report back"),
                        },
                        day(2024, 9, 10),
                    ),
                    new_event(
                        item,
                        Event::RoleAssigned {
                            role: "Project Manager".into(),
                            person: if g % 2 == 0 {
                                NAME.to_uppercase()
                            } else {
                                "Someone Else".into()
                            },
                        },
                        day(2024, 9, 10),
                    ),
                ],
            ))
            .await
            .unwrap();
    }
    store
}

#[tokio::test]
async fn an_erasure_redacts_records_itself_and_leaves_no_copy_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = filled(&dir, 30).await;
    let before = store.verify_full().unwrap();
    let hashes: Vec<_> = store
        .read(0, 1000)
        .unwrap()
        .iter()
        .map(|e| (e.position, e.hash, e.payload_hash))
        .collect();
    assert!(!files_holding(&dir, NAME).is_empty(), "the test can fail");

    // The dry run lists every field and changes nothing.
    let found = store.find_text(&request(&[NAME])).unwrap();
    assert_eq!(found.len(), 30 + 15, "{found:?}");
    assert!(found.iter().all(|f| f.erasable));
    assert_eq!(store.head().position, 60);

    let erased = store.erase(request(&[NAME])).await.unwrap();
    assert_eq!(erased.erasure.position, 61);
    assert_eq!(erased.fields.len(), 45);
    assert_eq!(store.head().position, 61);
    let v = store.verify_full().unwrap();
    assert_eq!(v.count, 61);
    assert!(
        files_holding(&dir, NAME).is_empty(),
        "{:?}",
        files_holding(&dir, NAME)
    );

    // Every earlier hash is as it was, and the payloads say "erased".
    let after = store.read(0, 1000).unwrap();
    for (e, (p, hash, payload)) in after.iter().zip(&hashes) {
        assert_eq!((e.position, e.hash, e.payload_hash), (*p, *hash, *payload));
    }
    assert_eq!(after[59].hash, before.head);
    match &after[0].event {
        Event::NarrativeRecorded { text, .. } => {
            assert!(
                text.ends_with("Board 0: update from [erased], who will report back"),
                "{text}"
            );
            assert_eq!(after[0].erased_by, Some(61));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(after[3].erased_by, None, "Someone Else's role is untouched");
    let Event::TextErased {
        events,
        text_hashes,
        ..
    } = &after[60].event
    else {
        panic!("{:?}", after[60].event)
    };
    assert_eq!(events.len(), 45);
    assert_eq!(text_hashes.len(), 1);
    assert_eq!(
        after[60].reason.as_deref(),
        Some("subject access request 2026/114")
    );

    // Appends go on after it, and all of it survives a reopen.
    store
        .append(append_one(
            "writer",
            new_event(
                uuid(5),
                Event::NarrativeRecorded {
                    section: Section::Progress,
                    text: "after the erasure".into(),
                },
                day(2024, 10, 1),
            ),
        ))
        .await
        .unwrap();
    store.close().await;
    drop(store);
    let v = ragtrail_events::verify::verify_dir(&dir).unwrap();
    assert_eq!(v.count, 62);
    // A head record behind sled (a crash before it caught up, as after a
    // kill just after an erasure) still verifies, at the hash it names.
    ragtrail_events::head::overwrite(
        &dir,
        ragtrail_events::Head {
            position: 60,
            hash: before.head,
        },
    )
    .unwrap();
    assert_eq!(ragtrail_events::verify::verify_dir(&dir).unwrap().count, 62);
    let store = Store::open(&dir).unwrap();
    assert!(store.damage().is_none());
    assert_eq!(store.head().position, 62);
    // Erasing it again finds nothing left.
    assert!(matches!(
        store.erase(request(&[NAME])).await,
        Err(EraseError::Nowhere)
    ));
    assert_eq!(store.head().position, 62);
}

#[tokio::test]
async fn any_changed_byte_of_a_redacted_event_or_its_erasure_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = filled(&dir, 2).await;
    store.erase(request(&[NAME])).await.unwrap();
    store.close().await;
    drop(store);
    let records = raw_open(&dir);
    for position in [1u64, 5] {
        let key = ragtrail_events::raw::event_key(position);
        let original = records.get(&key).unwrap();
        for at in (0..original.len()).step_by(3) {
            let mut altered = records.clone();
            let mut v = original.clone();
            v[at] ^= 0x01;
            altered.insert(key.clone(), v);
            altered.write(&dir).unwrap();
            assert!(
                ragtrail_events::verify::verify_dir(&dir).is_err(),
                "byte {at} of position {position} changed unseen"
            );
        }
    }
    records.write(&dir).unwrap();
    // The records as the erasure left them verify again.
    ragtrail_events::verify::verify_dir(&dir).unwrap();
}

#[tokio::test]
async fn nothing_to_erase_and_text_in_an_envelope_are_refused_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = filled(&dir, 2).await;
    let mut rag = new_event(
        uuid(9),
        Event::RagChanged {
            dimension: ragtrail_events::Dimension::Overall,
            rag: ragtrail_events::Rag::Red,
        },
        day(2024, 9, 10),
    );
    rag.reason = Some("Red at Mr Pemberton's request".into());
    store.append(append_one("writer", rag)).await.unwrap();
    let head = store.head();
    assert!(matches!(
        store.erase(request(&["Nobody Atall"])).await,
        Err(EraseError::Nowhere)
    ));
    let refused = store.erase(request(&["Pemberton"])).await;
    match refused {
        Err(EraseError::Unerasable(found)) => {
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].field, "reason");
        }
        other => panic!("{other:?}"),
    }
    for bad in [request(&["ab"]), request(&[])] {
        assert!(matches!(
            store.erase(bad).await,
            Err(EraseError::Invalid(_))
        ));
    }
    assert_eq!(store.head(), head);
    assert!(!dir.join("erasing").exists());
    store.verify_full().unwrap();
}
