//! The sled store: appends, reads, expected versions, idempotency, atomic
//! batches, corrections, the live feed, and verify catching tampering.

mod common;

use common::*;
use proptest::prelude::*;
use ragtrail_events::*;
use std::collections::HashMap;
use tempfile::TempDir;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn rag(r: Rag) -> Event {
    Event::RagChanged {
        dimension: Dimension::Overall,
        rag: r,
    }
}

/// Appends one RAG change and returns its receipt.
async fn one_rag(
    store: &Store,
    actor: &str,
    stream: uuid::Uuid,
    r: Rag,
    d: chrono::NaiveDate,
) -> Receipt {
    let mut receipts = store
        .append(append_one(actor, new_event(stream, rag(r), d)))
        .await
        .unwrap();
    assert_eq!(receipts.len(), 1);
    receipts.remove(0)
}

async fn closed(store: Store) {
    store.close().await;
    drop(store);
}

#[test]
fn appends_are_read_back_in_order_with_gap_free_positions_and_versions() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, b) = (uuid(1), uuid(2));
        for (i, s) in [a, b, a, a, b].into_iter().enumerate() {
            let r = one_rag(&store, "lead", s, Rag::Amber, day(2024, 9, 10)).await;
            assert_eq!(r.position, i as u64 + 1);
        }
        let all = store.read(0, 100).unwrap();
        assert_eq!(
            all.iter().map(|e| e.position).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(
            all.iter().map(|e| e.version).collect::<Vec<_>>(),
            vec![1, 1, 2, 3, 2]
        );
        assert_eq!(all[0].actor, "lead");
        assert_eq!(all[0].reason.as_deref(), Some("board agreed"));
        assert_eq!(store.read(3, 1).unwrap()[0].position, 4);
        let sa = store.read_stream(a, 0, 100).unwrap();
        assert_eq!(
            sa.iter().map(|e| e.position).collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        assert_eq!(store.read_stream(a, 2, 100).unwrap()[0].version, 3);
        assert_eq!(store.stream_version(a).unwrap(), 3);
        assert_eq!(store.stream_version(uuid(99)).unwrap(), 0);
        assert_eq!(store.get(2).unwrap().unwrap().stream, b);
        assert!(store.get(6).unwrap().is_none());
        let head = store.head();
        assert_eq!(head.position, 5);
        assert_eq!(head.hash, all[4].hash);
        assert_eq!(store.verify().unwrap().count, 5);
        closed(store).await;
        // Reopen: the head and stream versions come back from disk.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.head(), head);
        let r = store
            .append(append_one(
                "lead",
                NewEvent {
                    expected_version: Some(3),
                    ..new_event(a, rag(Rag::Green), day(2024, 10, 1))
                },
            ))
            .await
            .unwrap();
        assert_eq!((r[0].position, r[0].version), (6, 4));
        assert_eq!(store.read(5, 10).unwrap()[0].prev_hash, head.hash);
    });
}

#[test]
fn rejected_appends_leave_the_store_byte_for_byte_unchanged() {
    let dir = TempDir::new().unwrap();
    let stream = uuid(7);
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        one_rag(&store, "lead", stream, Rag::Red, day(2024, 7, 1)).await;
        closed(store).await;
    });
    let before = dump(dir.path());
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        // Version conflict.
        let err = store
            .append(append_one(
                "lead",
                NewEvent {
                    expected_version: Some(0),
                    ..new_event(stream, rag(Rag::Amber), day(2024, 9, 10))
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AppendError::Conflict {
                stream,
                expected: 0,
                actual: 1
            }
        );
        // No reason for a RAG change.
        let mut no_reason = new_event(stream, rag(Rag::Amber), day(2024, 9, 10));
        no_reason.reason = None;
        let err = store.append(append_one("lead", no_reason)).await.unwrap_err();
        assert!(matches!(&err, AppendError::Invalid { index: 0, invalid } if invalid.field == "reason"), "{err}");
        // A batch whose second event is invalid writes nothing, not even the first.
        let err = store
            .append(Append {
                actor: "lead".into(),
                idempotency_key: Some("board-pack-1".into()),
                events: vec![
                    new_event(uuid(8), rag(Rag::Green), day(2024, 9, 10)),
                    new_event(
                        uuid(8),
                        Event::NarrativeRecorded {
                            section: Section::Progress,
                            text: " ".into(),
                        },
                        day(2024, 9, 10),
                    ),
                ],
            })
            .await
            .unwrap_err();
        assert!(matches!(&err, AppendError::Invalid { index: 1, invalid } if invalid.field == "data.text"), "{err}");
        // A batch whose second event conflicts writes nothing either.
        let err = store
            .append(Append {
                actor: "lead".into(),
                idempotency_key: None,
                events: vec![
                    new_event(uuid(8), rag(Rag::Green), day(2024, 9, 10)),
                    NewEvent {
                        expected_version: Some(5),
                        ..new_event(stream, rag(Rag::Green), day(2024, 9, 10))
                    },
                ],
            })
            .await
            .unwrap_err();
        assert!(matches!(err, AppendError::Conflict { .. }));
        // A correction of an event that does not exist in the stream.
        let err = store
            .append(append_one(
                "lead",
                new_event(
                    stream,
                    Event::Corrected {
                        target: uuid(12345),
                        replacement: None,
                    },
                    day(2024, 9, 10),
                ),
            ))
            .await
            .unwrap_err();
        assert!(matches!(&err, AppendError::NoSuchTarget { invalid, .. } if invalid.field == "data.target"), "{err}");
        assert_eq!(store.append(Append { actor: "lead".into(), idempotency_key: None, events: vec![] }).await, Err(AppendError::Empty));
        assert_eq!(store.head().position, 1);
        closed(store).await;
    });
    assert_eq!(
        dump(dir.path()),
        before,
        "a rejected append changed stored bytes"
    );
}

#[test]
fn a_retry_with_the_same_idempotency_key_returns_the_first_result() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let report = Append {
            actor: "lead".into(),
            idempotency_key: Some("cib-2024-09-10".into()),
            events: vec![
                new_event(uuid(1), rag(Rag::Green), day(2024, 9, 10)),
                new_event(uuid(2), rag(Rag::Amber), day(2024, 9, 10)),
            ],
        };
        let first = store.append(report.clone()).await.unwrap();
        // Concurrent retries land in one group or several; all get the first result.
        let retries = futures_join(&store, &report, 8).await;
        for r in retries {
            assert_eq!(r.unwrap(), first);
        }
        closed(store).await;
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.append(report.clone()).await.unwrap(), first);
        assert_eq!(store.head().position, 2, "a retry made a second event");
        let mut different = report.clone();
        different.events.pop();
        assert_eq!(
            store.append(different).await.unwrap_err(),
            AppendError::KeyReused {
                key: "cib-2024-09-10".into()
            }
        );
        // Two different requests racing with one new key: one wins, one is refused.
        let a = append_with_key("new-key", uuid(3));
        let b = append_with_key("new-key", uuid(4));
        let (ra, rb) = tokio::join!(store.append(a), store.append(b));
        assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
        assert_eq!(store.head().position, 3);
    });
}

fn append_with_key(key: &str, stream: uuid::Uuid) -> Append {
    Append {
        actor: "lead".into(),
        idempotency_key: Some(key.into()),
        events: vec![new_event(stream, rag(Rag::Blue), day(2024, 9, 10))],
    }
}

async fn futures_join(
    store: &Store,
    a: &Append,
    n: usize,
) -> Vec<Result<Vec<Receipt>, AppendError>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (s, a) = (store.clone(), a.clone());
        tasks.push(tokio::spawn(async move { s.append(a).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn concurrent_appends_give_gap_free_positions_and_versions(
        tasks in 2u128..33,
        per_task in 1u128..11,
        streams in 1u128..6,
        batch in 1usize..3,
    ) {
        concurrent_appends(tasks, per_task, streams, batch);
    }
}

/// `tasks` concurrent tasks each make `per_task` appends of `batch` events over `streams` streams.
fn concurrent_appends(tasks: u128, per_task: u128, streams: u128, batch: usize) {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ids: Vec<_> = (0..streams).map(|i| uuid(1000 + i)).collect();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let (store, ids) = (store.clone(), ids.clone());
            handles.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for i in 0..per_task {
                    let events = (0..batch as u128)
                        .map(|b| {
                            let s = ids[((t + i + b) % streams) as usize];
                            new_event(s, rag(Rag::Green), day(2024, 9, 10))
                        })
                        .collect();
                    let r = store.append(append_all("w", events)).await.unwrap();
                    got.extend(r);
                }
                got
            }));
        }
        let mut receipts = Vec::new();
        for h in handles {
            receipts.extend(h.await.unwrap());
        }
        let total = (tasks * per_task) as u64 * batch as u64;
        let mut positions: Vec<u64> = receipts.iter().map(|r| r.position).collect();
        positions.sort_unstable();
        assert_eq!(positions, (1..=total).collect::<Vec<u64>>());
        let mut by_stream: HashMap<_, Vec<u64>> = HashMap::new();
        for r in &receipts {
            by_stream.entry(r.stream).or_default().push(r.version);
        }
        for (_, mut v) in by_stream {
            v.sort_unstable();
            assert_eq!(v, (1..=v.len() as u64).collect::<Vec<_>>());
        }
        // The log itself agrees with the receipts.
        let log = store.read(0, usize::MAX).unwrap();
        for r in &receipts {
            let e = &log[r.position as usize - 1];
            assert_eq!((e.stream, e.version, e.hash), (r.stream, r.version, r.hash));
        }
        assert_eq!(store.verify().unwrap().count, total);
    });
}

#[test]
fn thirty_two_writers_of_ten_appends_give_positions_1_to_320() {
    concurrent_appends(32, 10, 5, 1);
}

#[test]
fn concurrent_writers_with_expected_version_each_win_at_most_once() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stream = uuid(5);
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .append(append_one(
                        "w",
                        NewEvent {
                            expected_version: Some(0),
                            ..new_event(stream, rag(Rag::Green), day(2024, 9, 10))
                        },
                    ))
                    .await
            }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(AppendError::Conflict { actual: 1, .. }) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(wins, 1);
        assert_eq!(store.stream_version(stream).unwrap(), 1);
    });
}

#[test]
fn corrections_name_an_event_of_the_same_stream_and_keep_its_type() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (item, other) = (uuid(1), uuid(2));
        let first = one_rag(&store, "lead", item, Rag::Red, day(2024, 9, 10)).await;
        let correct = |target, replacement: Option<Event>, stream| {
            append_one(
                "lead",
                NewEvent {
                    reason: Some("typed Red for Amber".into()),
                    ..new_event(
                        stream,
                        Event::Corrected {
                            target,
                            replacement: replacement.map(Box::new),
                        },
                        day(2024, 9, 10),
                    )
                },
            )
        };
        let err = store
            .append(correct(first.id, Some(rag(Rag::Amber)), other))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("same stream"), "{err}");
        let err = store
            .append(correct(
                first.id,
                Some(Event::PhaseChanged {
                    phase: Phase::Planning,
                }),
                item,
            ))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("same type"), "{err}");
        let c = store
            .append(correct(first.id, Some(rag(Rag::Amber)), item))
            .await
            .unwrap();
        let err = store
            .append(correct(c[0].id, None, item))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("correct the original"), "{err}");
        let stored = store.get(c[0].position).unwrap().unwrap();
        assert_eq!(stored.reason.as_deref(), Some("typed Red for Amber"));
    });
}

#[test]
fn live_subscribers_see_each_durable_event_once_in_order() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut live = store.subscribe();
        for i in 0..20u128 {
            one_rag(&store, "w", uuid(i % 3), Rag::Amber, day(2024, 9, 10)).await;
        }
        for p in 1..=20u64 {
            let e = live.recv().await.unwrap();
            assert_eq!(e.position, p);
            assert_eq!(store.get(p).unwrap().as_ref(), Some(&*e));
        }
        assert!(live.try_recv().is_err());
    });
}

#[test]
fn the_on_durable_hook_hears_every_batch_in_order_before_its_append_returns() {
    use std::sync::{Arc, Mutex};
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A hook that panics does not stop the writer; the append is still durable.
        store.on_durable(Arc::new(|_: &[Envelope]| panic!("a broken hook")));
        let first = one_rag(&store, "w", uuid(0), Rag::Red, day(2024, 9, 1)).await;
        assert_eq!(first.position, 1);

        let heard = Arc::new(Mutex::new(Vec::<u64>::new()));
        store.on_durable({
            let heard = heard.clone();
            Arc::new(move |events: &[Envelope]| {
                heard
                    .lock()
                    .unwrap()
                    .extend(events.iter().map(|e| e.position));
            })
        });
        let mut tasks = Vec::new();
        for w in 0..8u128 {
            let (store, heard) = (store.clone(), heard.clone());
            tasks.push(tokio::spawn(async move {
                for n in 0..10u128 {
                    let events = (0..=(n % 3))
                        .map(|_| new_event(uuid(w), rag(Rag::Amber), day(2024, 9, 2)))
                        .collect();
                    let receipts = store.append(append_all("w", events)).await.unwrap();
                    let last = receipts.last().unwrap().position;
                    assert!(
                        heard.lock().unwrap().contains(&last),
                        "the hook heard of {last} before its append returned"
                    );
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let positions = heard.lock().unwrap().clone();
        let head = store.head().position;
        assert_eq!(positions, (2..=head).collect::<Vec<_>>());
        closed(store).await;
        // Closing let go of the hook, and of everything it held.
        assert_eq!(Arc::strong_count(&heard), 1);
    });
}

#[test]
fn a_closed_store_refuses_appends_and_releases_its_directory() {
    rt().block_on(async {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let second = Store::open(dir.path()).err().expect("locked");
        assert!(
            second
                .to_string()
                .contains("in use by another ragtrail process"),
            "{second}"
        );
        store.close().await;
        let err = store
            .append(append_one(
                "w",
                new_event(uuid(1), rag(Rag::Amber), day(2024, 9, 10)),
            ))
            .await
            .unwrap_err();
        assert_eq!(err, AppendError::Closed);
        drop(store);
        Store::open(dir.path()).expect("reopens once closed");
    });
}

// ---- verify catches tampering ----

/// A store of `n` events of assorted kinds, closed, returning its directory.
fn filled(events: Vec<(u128, Event)>) -> TempDir {
    let dir = TempDir::new().unwrap();
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        for (s, e) in events {
            store
                .append(append_one("lead", new_event(uuid(s), e, day(2024, 9, 10))))
                .await
                .unwrap();
        }
        closed(store).await;
    });
    dir
}

fn bad_position(dir: &std::path::Path) -> u64 {
    match verify::verify_dir(dir) {
        Err(VerifyError::Bad { position, .. }) => position,
        other => panic!("tampering was not detected: {other:?}"),
    }
}

fn event_key(p: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&p.to_be_bytes());
    k
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn verify_catches_any_single_byte_change(
        events in proptest::collection::vec((0u128..3, arb_plain_event()), 1..6),
        pick in any::<prop::sample::Index>(),
        offset in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let dir = filled(events.clone());
        let n = events.len() as u64;
        prop_assert_eq!(verify::verify_dir(dir.path()).unwrap().count, n);
        let p = pick.index(events.len()) as u64 + 1;
        {
            let mut db = raw_open(dir.path());
            let v = db.get(&event_key(p)).unwrap();
            let mut altered = v.clone();
            let i = offset.index(v.len());
            altered[i] ^= flip;
            db.insert(event_key(p), altered);
            db.write(dir.path()).unwrap();
        }
        prop_assert_eq!(bad_position(dir.path()), p);
    }
}

#[test]
fn verify_catches_removed_reordered_and_moved_events() {
    let events: Vec<(u128, Event)> = (0..5).map(|i| (i % 2, rag(Rag::Green))).collect();
    // Removed.
    let dir = filled(events.clone());
    {
        let mut db = raw_open(dir.path());
        db.remove(&event_key(3));
        db.write(dir.path()).unwrap();
    }
    assert_eq!(bad_position(dir.path()), 3);
    // Two events swapped.
    let dir = filled(events.clone());
    {
        let mut db = raw_open(dir.path());
        let a = db.get(&event_key(2)).unwrap();
        let b = db.get(&event_key(4)).unwrap();
        db.insert(event_key(2), b);
        db.insert(event_key(4), a);
        db.write(dir.path()).unwrap();
    }
    assert_eq!(bad_position(dir.path()), 2);
    // The last event removed and an earlier one re-stored in its place.
    let dir = filled(events.clone());
    {
        let mut db = raw_open(dir.path());
        let a = db.get(&event_key(1)).unwrap();
        db.insert(event_key(5), a);
        db.write(dir.path()).unwrap();
    }
    assert_eq!(bad_position(dir.path()), 5);
    // An untouched copy verifies, naming its head.
    let dir = filled(events);
    let v = verify::verify_dir(dir.path()).unwrap();
    assert_eq!(v.count, 5);
    let db = raw_open(dir.path());
    let last = envelope::decode(&db.get(&event_key(5)).unwrap()).unwrap();
    assert_eq!(v.head, last.hash);
}

#[test]
fn a_restored_export_is_byte_for_byte_the_original_log() {
    let events: Vec<(u128, Event)> = (0..6)
        .map(|i| {
            (
                i % 3,
                rag([Rag::Red, Rag::Amber, Rag::Green][(i % 3) as usize]),
            )
        })
        .collect();
    let original = filled(events);
    let exported = rt().block_on(async {
        let store = Store::open(original.path()).unwrap();
        let all = store.read(0, usize::MAX).unwrap();
        closed(store).await;
        all
    });
    let copy = TempDir::new().unwrap();
    rt().block_on(async {
        let store = Store::open(copy.path()).unwrap();
        // An altered export is refused whole.
        let mut altered = exported.clone();
        altered[3].actor = "someone else".into();
        let err = store.restore(altered).await.unwrap_err();
        assert!(
            matches!(&err, AppendError::Invalid { index: 3, invalid } if invalid.field == "hash"),
            "{err}"
        );
        assert_eq!(store.head().position, 0);
        // The true export restores, and then nothing else can be restored on top.
        let head = store.restore(exported.clone()).await.unwrap();
        assert_eq!(head.hash, exported[5].hash);
        let err = store.restore(exported.clone()).await.unwrap_err();
        assert!(err.to_string().contains("empty store"), "{err}");
        // Appends continue the restored chain.
        let r = one_rag(&store, "lead", uuid(0), Rag::Blue, day(2024, 10, 1)).await;
        assert_eq!((r.position, r.version), (7, 3));
        closed(store).await;
    });
    let events_of = |dir: &std::path::Path| -> Vec<(Vec<u8>, Vec<u8>)> {
        raw_open(dir)
            .0
            .into_iter()
            .filter(|(k, _)| k[0] == b'e')
            .take(6)
            .collect()
    };
    assert_eq!(events_of(copy.path()), events_of(original.path()));
    assert_eq!(verify::verify_dir(copy.path()).unwrap().count, 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any byte of any value in sled's events tree, not only of an event:
    /// framing, checksums, idempotency receipts. `verify` fails, naming a position.
    #[test]
    fn verify_catches_any_single_byte_change_in_any_stored_value(
        events in proptest::collection::vec((0u128..3, arb_plain_event()), 1..6),
        pick in any::<prop::sample::Index>(),
        offset in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let dir = filled(events);
        let values = raw::values(dir.path()).unwrap();
        let (key, mut bytes) = values[pick.index(values.len())].clone();
        let i = offset.index(bytes.len());
        bytes[i] ^= flip;
        raw::put_value(dir.path(), key, Some(&bytes)).unwrap();
        let result = verify::verify_dir(dir.path());
        prop_assert!(matches!(result, Err(VerifyError::Bad { .. })), "value {} byte {}: {:?}", key, i, result);
    }
}

/// Events cut off behind the head record (as sled does when it recovers from
/// damage at the end of its log): the store opens damaged, serves what it
/// holds, refuses appends, and `verify` names the first missing position.
#[test]
fn events_missing_behind_the_head_record_are_reported_never_silent() {
    let events: Vec<(u128, Event)> = (0..4).map(|i| (i % 2, rag(Rag::Green))).collect();
    let dir = filled(events);
    assert_eq!(verify::verify_dir(dir.path()).unwrap().count, 4);
    raw::put_value(dir.path(), 4, None).unwrap();
    let err = verify::verify_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Bad { position: 4, problem } if problem.contains("head record says 4")),
        "{err}"
    );
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.head().position, 3);
        let damage = store.damage().expect("reported").clone();
        assert_eq!(damage.position, 4);
        assert!(!store.writable());
        assert!(matches!(
            store.verify(),
            Err(VerifyError::Bad { position: 4, .. })
        ));
        let err = store
            .append(append_one(
                "lead",
                new_event(uuid(0), rag(Rag::Red), day(2024, 10, 1)),
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppendError::Unwritable(why) if why.to_string().contains("damaged")),
            "{err}"
        );
        closed(store).await;
    });
    // Opening did not paper over it: still reported the next time.
    assert!(matches!(
        verify::verify_dir(dir.path()),
        Err(VerifyError::Bad { position: 4, .. })
    ));
    // A removed or unreadable head record is reported too.
    let dir = filled((0..2).map(|i| (i, rag(Rag::Amber))).collect());
    let head = dir.path().join(head::FILE);
    std::fs::write(&head, [7u8; 128]).unwrap();
    assert!(
        matches!(verify::verify_dir(dir.path()), Err(VerifyError::Bad { position: 3, ref problem }) if problem.contains("cannot be read"))
    );
    std::fs::remove_file(&head).unwrap();
    assert!(
        matches!(verify::verify_dir(dir.path()), Err(VerifyError::Bad { position: 3, ref problem }) if problem.contains("missing"))
    );
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        assert!(store.damage().is_some());
        closed(store).await;
    });
}

#[test]
fn a_value_that_cannot_be_read_stops_the_store_from_opening() {
    let events: Vec<(u128, Event)> = (0..3).map(|i| (i % 2, rag(Rag::Green))).collect();
    let dir = filled(events);
    let values = raw::values(dir.path()).unwrap();
    let mut bytes = values[0].1.clone();
    bytes[5] ^= 0x40; // the first value's length
    raw::put_value(dir.path(), values[0].0, Some(&bytes)).unwrap();
    let err = Store::open(dir.path()).err().expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("is damaged") && text.contains("ragtrail verify"),
        "{text}"
    );
    assert!(matches!(
        verify::verify_dir(dir.path()),
        Err(VerifyError::Bad { position: 1, .. })
    ));
    // Nothing was cut off.
    assert_eq!(raw::values(dir.path()).unwrap()[0].1, bytes);
}

/// A group is one sled value keyed by its first position; a large batch is
/// cut into several values of one atomic sled batch, none of them a blob.
#[test]
fn each_group_is_one_value_and_a_large_batch_stays_out_of_blobs() {
    let dir = TempDir::new().unwrap();
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        let three = (0..3)
            .map(|i| new_event(uuid(i), rag(Rag::Red), day(2024, 9, 10)))
            .collect();
        store.append(append_all("lead", three)).await.unwrap();
        one_rag(&store, "lead", uuid(0), Rag::Amber, day(2024, 9, 11)).await;
        let big = (0..10_000u128)
            .map(|i| {
                new_event(
                    uuid(i % 50),
                    Event::NarrativeRecorded {
                        section: Section::Progress,
                        text: format!("update {i}: {}", "x".repeat(200)),
                    },
                    day(2024, 9, 12),
                )
            })
            .collect();
        store.append(append_all("lead", big)).await.unwrap();
        assert_eq!(store.head().position, 10_004);
        closed(store).await;
    });
    let keys = raw::value_keys(dir.path()).unwrap();
    assert_eq!(
        &keys[..2],
        &[1, 4],
        "one value per group, keyed by its first position"
    );
    assert!(
        keys.len() > 20,
        "the large batch is cut: {} values",
        keys.len()
    );
    let blobs = std::fs::read_dir(dir.path().join("blobs")).map_or(0, |d| d.count());
    assert_eq!(blobs, 0, "no value went to sled's blob files");
    assert_eq!(verify::verify_dir(dir.path()).unwrap().count, 10_004);
}

/// A data directory of the release that kept events in `events.log` moves
/// into sled on first open: same bytes and head, the file removed after.
#[test]
fn the_event_log_file_of_the_last_release_moves_into_sled() {
    let source = filled((0..5).map(|i| (i % 2, rag(Rag::Amber))).collect());
    let head = verify::verify_dir(source.path()).unwrap();
    let records = raw_open(source.path());
    let old = TempDir::new().unwrap();
    {
        let db = sled::open(old.path()).unwrap();
        db.open_tree("tokens")
            .unwrap()
            .insert(b"t", b"kept")
            .unwrap();
        db.flush().unwrap();
    }
    // Two frames, as two group commits wrote them, then the zeros written ahead.
    let (a, b) = records.0.split_at(2);
    legacy::write_log(old.path(), &[a.to_vec(), b.to_vec()]).unwrap();
    let log = old.path().join(legacy::LOG_FILE);
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend([0u8; 4096]);
    std::fs::write(&log, bytes).unwrap();
    assert_eq!(verify::verify_dir(old.path()).unwrap(), head);
    assert!(
        !log.exists(),
        "the log file is removed once sled holds its events"
    );
    rt().block_on(async {
        let store = Store::open(old.path()).unwrap();
        assert_eq!(store.head().position, 5);
        assert_eq!(store.head().hash, head.head);
        assert_eq!(
            store.tree("tokens").unwrap().get(b"t").unwrap().unwrap(),
            b"kept"[..]
        );
        let r = one_rag(&store, "lead", uuid(1), Rag::Red, day(2024, 10, 1)).await;
        assert_eq!((r.position, r.version), (6, 3));
        closed(store).await;
    });
    let moved = raw_open(old.path());
    assert_eq!(&moved.0[..records.0.len()], &records.0[..]);
    assert_eq!(verify::verify_dir(old.path()).unwrap().count, 6);
    // A damaged log file is not moved, and not removed.
    let bad = TempDir::new().unwrap();
    legacy::write_log(bad.path(), &[a.to_vec(), b.to_vec()]).unwrap();
    let log = bad.path().join(legacy::LOG_FILE);
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[5] ^= 0x40;
    std::fs::write(&log, &bytes).unwrap();
    let err = Store::open(bad.path()).err().expect("refused");
    assert!(err.to_string().contains("cannot be read"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), bytes);
}

/// A data directory of an earlier ragtrail kept its events in sled's default
/// tree; opening it moves them into the events tree, with the same bytes.
#[test]
fn events_kept_in_sleds_default_tree_move_to_the_events_tree() {
    let source = filled((0..5).map(|i| (i % 2, rag(Rag::Amber))).collect());
    let records = raw_open(source.path());
    let old = TempDir::new().unwrap();
    {
        let db = sled::open(old.path()).unwrap();
        for (k, v) in &records.0 {
            db.insert(k, v.clone()).unwrap();
            if k[0] == b'e' {
                let env = envelope::decode(v).unwrap();
                let mut s = vec![b's'];
                s.extend_from_slice(env.stream.as_bytes());
                s.extend_from_slice(&env.version.to_be_bytes());
                db.insert(s, env.position.to_be_bytes().to_vec()).unwrap();
            }
        }
        db.insert(b"k-retry", vec![0; 48]).unwrap();
        db.open_tree("tokens")
            .unwrap()
            .insert(b"t", b"kept")
            .unwrap();
        db.flush().unwrap();
    }
    rt().block_on(async {
        let store = Store::open(old.path()).unwrap();
        assert_eq!(store.head().position, 5);
        assert_eq!(store.stream_version(uuid(0)).unwrap(), 3);
        assert_eq!(
            store.tree("tokens").unwrap().get(b"t").unwrap().unwrap(),
            b"kept"[..]
        );
        let r = one_rag(&store, "lead", uuid(1), Rag::Red, day(2024, 10, 1)).await;
        assert_eq!((r.position, r.version), (6, 3));
        closed(store).await;
    });
    let moved = raw_open(old.path());
    let events = |r: &raw::Records| -> Vec<(Vec<u8>, Vec<u8>)> {
        r.0.iter()
            .filter(|(k, _)| k[0] == b'e')
            .take(5)
            .cloned()
            .collect()
    };
    assert_eq!(events(&moved), events(&records));
    assert!(
        moved.get(b"k-retry").is_some(),
        "idempotency records move too"
    );
    assert_eq!(verify::verify_dir(old.path()).unwrap().count, 6);
    let db = sled::open(old.path()).unwrap();
    assert_eq!(
        db.scan_prefix(b"e").count() + db.scan_prefix(b"s").count(),
        0
    );
}

/// Everything a store answers about its log: the events in order, each
/// stream's events and version, the head, and what a retried key returns.
fn answers(store: &Store, streams: u128) -> impl PartialEq + std::fmt::Debug {
    let all: Vec<Envelope> = store.iter_from(0).map(|e| e.unwrap()).collect();
    let by_stream: Vec<(u64, Vec<u64>)> = (0..streams)
        .map(|s| {
            (
                store.stream_version(uuid(s)).unwrap(),
                store
                    .read_stream(uuid(s), 0, usize::MAX)
                    .unwrap()
                    .iter()
                    .map(|e| e.position)
                    .collect(),
            )
        })
        .collect();
    let singles: Vec<Option<Envelope>> = (0..=all.len() as u64 + 1)
        .map(|p| store.get(p).unwrap())
        .collect();
    (store.head(), all, by_stream, singles)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The indexes the writer keeps up to date as it appends are exactly the
    /// indexes rebuilt from the log when the store is opened again, and a
    /// retry of any key after the reopen returns its first receipts.
    #[test]
    fn indexes_kept_while_appending_equal_indexes_rebuilt_on_open(
        appends in proptest::collection::vec(
            (proptest::collection::vec((0u128..4, arb_plain_event()), 1..4), proptest::option::of(0u8..6)),
            1..12,
        ),
    ) {
        let dir = TempDir::new().unwrap();
        let mut receipts: HashMap<String, Vec<Receipt>> = HashMap::new();
        let before = rt().block_on(async {
            let store = Store::open(dir.path()).unwrap();
            for (events, key) in &appends {
                let key = key.map(|k| format!("key-{k}"));
                let append = Append {
                    actor: "lead".into(),
                    idempotency_key: key.clone(),
                    events: events
                        .iter()
                        .map(|(s, e)| new_event(uuid(*s), e.clone(), day(2024, 9, 10)))
                        .collect(),
                };
                match store.append(append).await {
                    Ok(r) => {
                        if let Some(k) = key {
                            receipts.entry(k).or_insert(r);
                        }
                    }
                    Err(AppendError::KeyReused { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            let a = format!("{:?}", answers(&store, 4));
            closed(store).await;
            a
        });
        let after = rt().block_on(async {
            let store = Store::open(dir.path()).unwrap();
            let a = format!("{:?}", answers(&store, 4));
            let head = store.head();
            // Retries of the same requests are recognised after the reopen.
            for (events, key) in &appends {
                let Some(k) = key.map(|k| format!("key-{k}")) else { continue };
                let append = Append {
                    actor: "lead".into(),
                    idempotency_key: Some(k.clone()),
                    events: events
                        .iter()
                        .map(|(s, e)| new_event(uuid(*s), e.clone(), day(2024, 9, 10)))
                        .collect(),
                };
                match store.append(append).await {
                    Ok(r) => prop_assert_eq!(Some(&r), receipts.get(&k)),
                    Err(AppendError::KeyReused { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            prop_assert_eq!(store.head(), head, "a retry after the reopen appended again");
            closed(store).await;
            Ok(a)
        })?;
        prop_assert_eq!(before, after);
        prop_assert!(verify::verify_dir(dir.path()).is_ok());
    }
}

/// `verify` on an open store walks only what came after the prefix it
/// verified before; `verify_full` walks everything again.
#[test]
fn verify_is_incremental_and_a_full_walk_is_there_too() {
    let dir = TempDir::new().unwrap();
    rt().block_on(async {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..50u128 {
            one_rag(&store, "lead", uuid(i % 3), Rag::Green, day(2024, 9, 10)).await;
        }
        let v = store.verify().unwrap();
        assert_eq!((v.count, v.checked), (50, 50));
        let again = store.verify().unwrap();
        assert_eq!((again.count, again.checked, again.head), (50, 0, v.head));
        let events = (0..7u128)
            .map(|i| new_event(uuid(i), rag(Rag::Amber), day(2024, 9, 11)))
            .collect();
        store.append(append_all("lead", events)).await.unwrap();
        one_rag(&store, "lead", uuid(1), Rag::Red, day(2024, 9, 12)).await;
        let v = store.verify().unwrap();
        assert_eq!((v.count, v.checked), (58, 8));
        assert_eq!(v.head, store.head().hash);
        let full = store.verify_full().unwrap();
        assert_eq!((full.count, full.checked, full.head), (58, 58, v.head));
        assert_eq!(store.verify().unwrap().checked, 0);
        closed(store).await;
    });
    // The same answers as a walk of the closed store from scratch.
    let fresh = verify::verify_dir(dir.path()).unwrap();
    assert_eq!((fresh.count, fresh.checked), (58, 58));
}
