//! Projection speed at scale: full replay events/s, board-as-at and
//! comparison latency p50/p99, and peak RSS.
//!
//! `cargo bench --bench projections` (events: `RAGTRAIL_BENCH_EVENTS`, default
//! 1,000,000, over 10,000 items in 100 programmes). Events are generated,
//! encoded to their stored bytes and decoded again as a replay from the store
//! would, so replay time covers decoding and folding. The ratio column compares
//! the replay with only decoding the same bytes (the floor any fold sits on).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ragtrail_events::envelope::{self, Digest32, Draft};
use ragtrail_events::*;
use ragtrail_projections::{BoardQuery, Trail};
use std::time::Instant;
use uuid::Uuid;

const ITEMS: u64 = 10_000;
const PROGRAMMES: u64 = 100;

fn start_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("date")
}

fn programme(i: u64) -> Uuid {
    Uuid::from_u128(1_000_000 + u128::from(i))
}

fn item(i: u64) -> Uuid {
    Uuid::from_u128(2_000_000 + u128::from(i))
}

fn metric(i: u64) -> Uuid {
    Uuid::from_u128(3_000_000 + u128::from(i))
}

/// The n-th generated event: (stream, effective, payload).
fn nth(n: u64, total: u64) -> (Uuid, NaiveDate, Event) {
    let days = 5 * 365;
    let effective = start_day() + Duration::days((n * days / total.max(1)) as i64);
    if n < PROGRAMMES {
        return (
            programme(n),
            start_day(),
            Event::ProgrammeRegistered {
                name: format!("Programme {n}"),
                authority: "Bench".into(),
                sponsor: None,
            },
        );
    }
    let n = n - PROGRAMMES;
    if n < ITEMS {
        return (
            item(n),
            start_day(),
            Event::ItemRegistered {
                programme: programme(n % PROGRAMMES),
                parent: None,
                kind: ItemKind::Action,
                reference: format!("{}.{}", n % PROGRAMMES, n / PROGRAMMES),
                title: format!("Action {n}"),
                owner: Some("Owner".into()),
                target_date: Some(start_day() + Duration::days(400)),
                timeframe: None,
            },
        );
    }
    let n = n - ITEMS;
    if n < ITEMS {
        return (
            metric(n),
            start_day(),
            Event::MetricDefined {
                item: Some(item(n)),
                reference: None,
                name: format!("Metric {n}"),
                unit: Unit::Percent,
                good_direction: Direction::Up,
                target: Some(Value::Number(90.0)),
                tolerance_pct: Some(10.0),
            },
        );
    }
    let n = n - ITEMS;
    let i = n % ITEMS;
    let round = n / ITEMS;
    let rags = [Rag::Red, Rag::Amber, Rag::Green, Rag::Amber];
    match round % 5 {
        0 | 1 => (
            item(i),
            effective,
            Event::RagChanged {
                dimension: if round.is_multiple_of(5) {
                    Dimension::Overall
                } else {
                    Dimension::Delivery
                },
                rag: rags[((i + round) % 4) as usize],
            },
        ),
        2 => (
            item(i),
            effective,
            Event::NarrativeRecorded {
                section: Section::Progress,
                text: format!("Progress in round {round}: actions on track, audit completed."),
            },
        ),
        3 => (
            metric(i),
            effective,
            Event::MetricReadingRecorded {
                period: format!("period {round}"),
                period_end: effective,
                value: Some(Value::Number(((i * 7 + round * 3) % 100) as f64)),
                rag: None,
                target: None,
                note: None,
            },
        ),
        _ => (
            item(i),
            effective,
            Event::TargetDateRevised {
                target_date: effective + Duration::days(90),
            },
        ),
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let total: u64 = std::env::var("RAGTRAIL_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let t0: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).expect("instant");
    let mut trail = Trail::new();
    let mut prev = Digest32::GENESIS;
    let mut versions = std::collections::HashMap::<Uuid, u64>::new();
    let (mut decode_s, mut fold_s) = (0.0f64, 0.0f64);
    for n in 0..total {
        let (stream, effective, event) = nth(n, total);
        let v = versions.entry(stream).or_insert(0);
        *v += 1;
        let (bytes, _) = envelope::encode(&Draft {
            position: n + 1,
            id: Uuid::from_u128(u128::from(n) + 1),
            stream,
            version: *v,
            effective,
            recorded_at: t0 + Duration::seconds(n as i64),
            actor: "bench",
            reason: event.needs_reason().then_some("bench"),
            idempotency_key: None,
            event: &event,
            prev_hash: prev,
        })
        .expect("encode");
        let a = Instant::now();
        let env = envelope::decode(&bytes).expect("decode");
        let b = Instant::now();
        let hash = env.hash;
        trail.apply_owned(env);
        let c = Instant::now();
        decode_s += (b - a).as_secs_f64();
        fold_s += (c - b).as_secs_f64();
        prev = hash;
        if (n + 1) % 250_000 == 0 {
            eprintln!("  replayed {} / {total}", n + 1);
        }
    }
    let replay = total as f64 / (decode_s + fold_s);
    let decode_only = total as f64 / decode_s;
    println!("{total} events over {ITEMS} items in {PROGRAMMES} programmes");
    println!(
        "full replay (decode + fold): {replay:>10.0} events/s   decode only: {decode_only:>10.0} events/s   ratio {:.2}",
        replay / decode_only
    );

    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut board_ms, mut compare_ms) = (Vec::new(), Vec::new());
    let mut items_shown = 0;
    for _ in 0..300 {
        let p = programme(next() % PROGRAMMES);
        let d = start_day() + Duration::days((next() % (5 * 365)) as i64);
        let a = Instant::now();
        let b = trail.board(&BoardQuery {
            as_at: d,
            known_at: None,
            programme: Some(p),
        });
        board_ms.push(a.elapsed().as_secs_f64() * 1e3);
        items_shown += b.items.len();
        let a = Instant::now();
        let c = trail.compare(d - Duration::days(30), d, None, Some(p));
        compare_ms.push(a.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(c);
    }
    board_ms.sort_by(f64::total_cmp);
    compare_ms.sort_by(f64::total_cmp);
    println!(
        "board as at (one programme, {} items): p50 {:.2} ms  p99 {:.2} ms   (target p99 <= 5 ms)",
        items_shown / 300,
        pct(&board_ms, 0.5),
        pct(&board_ms, 0.99)
    );
    println!(
        "comparison (one programme, 30 days):   p50 {:.2} ms  p99 {:.2} ms   (target p99 <= 10 ms)",
        pct(&compare_ms, 0.5),
        pct(&compare_ms, 0.99)
    );
    println!("peak RSS: {:.0} MB   (target <= 300 MB)", peak_rss_mb());
}
