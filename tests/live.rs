//! The live projection follows a real store: after any burst of concurrent
//! appends — including ones made while readers hold the projection, so the
//! writer leaves them to the catch-up from the log, and ones made while the
//! projection is first built — it equals a full rebuild from the log.

use chrono::NaiveDate;
use ragtrail::current::CurrentTrail;
use ragtrail_events::*;
use ragtrail_projections::{BoardQuery, Trail};
use uuid::Uuid;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, d).unwrap()
}

const PROGRAMME: Uuid = Uuid::from_u128(1);

fn item(i: u128) -> Uuid {
    Uuid::from_u128(100 + i)
}

async fn append(store: &Store, stream: Uuid, effective: NaiveDate, event: Event) -> u64 {
    let reason = event.needs_reason().then(|| "board agreed".to_string());
    store
        .append(Append {
            actor: "lead".into(),
            idempotency_key: None,
            events: vec![NewEvent {
                stream,
                event,
                effective,
                reason,
                expected_version: None,
            }],
        })
        .await
        .unwrap()[0]
        .position
}

async fn seed(store: &Store) {
    append(
        store,
        PROGRAMME,
        day(1),
        Event::ProgrammeRegistered {
            name: "CIP".into(),
            authority: "Tameside".into(),
            sponsor: None,
        },
    )
    .await;
    for i in 0..4 {
        append(
            store,
            item(i),
            day(1),
            Event::ItemRegistered {
                programme: PROGRAMME,
                parent: None,
                kind: ItemKind::Priority,
                reference: format!("{i}"),
                title: format!("Priority {i}"),
                owner: None,
                target_date: None,
                timeframe: None,
            },
        )
        .await;
    }
}

fn rebuilt(store: &Store) -> Trail {
    let mut t = Trail::new();
    for e in store.read(0, usize::MAX).unwrap() {
        t.apply_owned(e);
    }
    t
}

/// Appends `n` RAG changes of one item as one batch; returns the last position.
async fn many(store: &Store, n: u32) -> u64 {
    let receipts = store
        .append(Append {
            actor: "lead".into(),
            idempotency_key: None,
            events: (0..n)
                .map(|i| NewEvent {
                    stream: item(1),
                    event: Event::RagChanged {
                        dimension: Dimension::Overall,
                        rag: [Rag::Red, Rag::Green][(i % 2) as usize],
                    },
                    effective: day(1 + i % 28),
                    reason: Some("board agreed".into()),
                    expected_version: None,
                })
                .collect(),
        })
        .await
        .unwrap();
    receipts.last().unwrap().position
}

async fn burst(store: &Store, writers: u128, each: u32) -> u64 {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut last = 0;
            for n in 0..each {
                let rag = [Rag::Red, Rag::Amber, Rag::Green][((w as u32 + n) % 3) as usize];
                last = append(
                    &store,
                    item(w % 4),
                    day(1 + n % 28),
                    Event::RagChanged {
                        dimension: Dimension::Overall,
                        rag,
                    },
                )
                .await;
            }
            last
        }));
    }
    let mut last = 0;
    for t in tasks {
        last = last.max(t.await.unwrap());
    }
    last
}

/// Waits (boundedly) for the projection to reach `last`, then checks it against a rebuild.
async fn caught_up(live: &CurrentTrail, store: &Store, last: u64) {
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(10), live.wait_for(last))
            .await
            .unwrap()
    );
    assert_same(live, store);
}

fn assert_same(live: &CurrentTrail, store: &Store) {
    let full = rebuilt(store);
    let t = live.read();
    assert_eq!(t.position(), full.position());
    for d in [day(1), day(10), day(28)] {
        let q = BoardQuery {
            as_at: d,
            known_at: None,
            programme: Some(PROGRAMME),
        };
        assert_eq!(
            ragtrail_projections::board::at(&t, &q),
            ragtrail_projections::board::at(&full, &q)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_projection_catches_up_then_follows_and_equals_a_rebuild() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store).await;
    let (live, task) = CurrentTrail::follow(store.clone()).await.unwrap();
    assert_eq!(live.position(), 5, "caught up with what was already stored");
    assert_same(&live, &store);

    let last = burst(&store, 8, 25).await;
    caught_up(&live, &store, last).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_is_shown_by_the_projection_when_it_returns() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store).await;
    let (live, task) = CurrentTrail::follow(store.clone()).await.unwrap();
    for n in 0..50u32 {
        let p = append(
            &store,
            item(0),
            day(1 + n % 28),
            Event::RagChanged {
                dimension: Dimension::Overall,
                rag: [Rag::Red, Rag::Green][(n % 2) as usize],
            },
        )
        .await;
        // No reader held the projection, so the writer applied it on the way.
        assert_eq!(live.position(), p);
        assert_eq!(live.read().position(), p);
    }
    assert_same(&live, &store);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_to_apply_at_once_is_caught_up_in_chunks() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store).await;
    let (live, task) = CurrentTrail::follow(store.clone()).await.unwrap();
    let last = many(&store, 10_000).await;
    caught_up(&live, &store, last).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_made_while_the_projection_is_first_built_are_not_missed() {
    for _ in 0..10 {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        seed(&store).await;
        // Enough history that building the projection takes a while.
        many(&store, 3000).await;
        let writing = {
            let store = store.clone();
            tokio::spawn(async move { burst(&store, 4, 10).await })
        };
        let (live, task) = CurrentTrail::follow(store.clone()).await.unwrap();
        let last = writing.await.unwrap();
        caught_up(&live, &store, last).await;
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Deliberately: the held read lock is what makes the writer leave the events to the catch-up.
#[allow(clippy::await_holding_lock)]
async fn appends_made_while_readers_hold_the_projection_are_caught_up_from_the_log() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store).await;
    let (live, task) = CurrentTrail::follow(store.clone()).await.unwrap();
    // Hold the projection: appends must still complete, without it.
    let guard = live.read();
    let last = {
        let store = store.clone();
        tokio::spawn(async move { burst(&store, 4, 20).await })
            .await
            .unwrap()
    };
    assert_eq!(
        guard.position(),
        5,
        "nothing applied while a reader held it"
    );
    drop(guard);
    caught_up(&live, &store, last).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_items_history_can_include_its_children_in_log_order() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store).await;
    let (outcome, action, task4) = (item(10), item(11), item(12));
    let reg = |r: &str, parent: Option<Uuid>| Event::ItemRegistered {
        programme: PROGRAMME,
        parent,
        kind: ItemKind::Action,
        reference: r.into(),
        title: r.into(),
        owner: None,
        target_date: None,
        timeframe: None,
    };
    append(&store, outcome, day(1), reg("OUTCOME 4", None)).await;
    append(&store, action, day(1), reg("4.7", Some(outcome))).await;
    append(&store, task4, day(1), reg("4.7.1", Some(action))).await;
    let p = append(
        &store,
        action,
        day(2),
        Event::RagChanged {
            dimension: Dimension::Savings,
            rag: Rag::Red,
        },
    )
    .await;
    append(
        &store,
        item(0),
        day(2),
        Event::RagChanged {
            dimension: Dimension::Overall,
            rag: Rag::Green,
        },
    )
    .await;
    let (live, follower) = CurrentTrail::follow(store.clone()).await.unwrap();
    let trail = live.read();
    let own = ragtrail::item_log::read(&store, &trail, outcome, false, None).unwrap();
    assert_eq!(own.len(), 1);
    let all = ragtrail::item_log::read(&store, &trail, outcome, true, None).unwrap();
    assert_eq!(
        all.iter().map(|e| e.stream).collect::<Vec<_>>(),
        vec![outcome, action, task4, action]
    );
    assert_eq!(all.last().unwrap().position, p);
    assert_eq!(all.last().unwrap().reason.as_deref(), Some("board agreed"));
    drop(trail);
    follower.abort();
}
