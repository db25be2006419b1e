//! The projections against a naive reference, and against facts from the seed reports.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use ragtrail_events::envelope::{self, Digest32, Draft};
use ragtrail_events::*;
use ragtrail_projections::compare::MetricChange;
use ragtrail_projections::movement::Change;
use ragtrail_projections::rating::Rating;
use ragtrail_projections::{board, compare, item, trend, BoardQuery, Trail};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

/// Builds a log as the store would: positions from 1, recorded times rising.
#[derive(Default)]
struct Log {
    events: Vec<Envelope>,
    versions: HashMap<Uuid, u64>,
}

impl Log {
    fn add(&mut self, stream: Uuid, effective: NaiveDate, event: Event) -> Uuid {
        let position = self.events.len() as u64 + 1;
        let version = self.versions.entry(stream).or_insert(0);
        *version += 1;
        let prev = self.events.last().map_or(Digest32::GENESIS, |e| e.hash);
        let id = Uuid::from_u128(position as u128);
        let reason = event.needs_reason().then_some("board agreed");
        let (_, env) = envelope::encode(&Draft {
            position,
            id,
            stream,
            version: *version,
            effective,
            recorded_at: t0() + Duration::minutes(position as i64),
            actor: "lead",
            reason,
            idempotency_key: None,
            event: &event,
            prev_hash: prev,
        })
        .unwrap();
        self.events.push(env);
        id
    }
}

// ---- property tests against a naive replay ----

#[derive(Debug, Clone)]
enum Step {
    Register(u8, NaiveDate),
    Rag(u8, Dimension, Rag, NaiveDate),
    Owner(u8, String, NaiveDate),
    Target(u8, NaiveDate, NaiveDate),
    /// Correct the n-th earlier event of the item: replace (with a RAG) or withdraw.
    Correct(u8, usize, Option<Rag>),
}

fn arb_day() -> impl Strategy<Value = NaiveDate> {
    (0i64..120).prop_map(|d| day(2024, 1, 1) + Duration::days(d))
}

fn arb_rag() -> impl Strategy<Value = Rag> {
    prop::sample::select(Rag::ALL.to_vec())
}

fn arb_step() -> impl Strategy<Value = Step> {
    let dim = prop::sample::select(vec![Dimension::Overall, Dimension::Savings]);
    prop_oneof![
        1 => (0u8..3, arb_day()).prop_map(|(i, d)| Step::Register(i, d)),
        4 => (0u8..3, dim, arb_rag(), arb_day()).prop_map(|(i, m, r, d)| Step::Rag(i, m, r, d)),
        1 => (0u8..3, "[a-e]{1,3}", arb_day()).prop_map(|(i, o, d)| Step::Owner(i, o, d)),
        1 => (0u8..3, arb_day(), arb_day()).prop_map(|(i, t, d)| Step::Target(i, t, d)),
        2 => (0u8..3, 0usize..8, proptest::option::of(arb_rag())).prop_map(|(i, n, r)| Step::Correct(i, n, r)),
    ]
}

fn item(i: u8) -> Uuid {
    Uuid::from_u128(1000 + i as u128)
}

const PROGRAMME: Uuid = Uuid::from_u128(1);

fn build(steps: &[Step]) -> Log {
    let mut log = Log::default();
    log.add(
        PROGRAMME,
        day(2024, 1, 1),
        Event::ProgrammeRegistered {
            name: "P".into(),
            authority: "A".into(),
            sponsor: None,
        },
    );
    let mut ids: HashMap<u8, Vec<(Uuid, Event)>> = HashMap::new();
    for s in steps {
        let (i, effective, event) = match s.clone() {
            Step::Register(i, d) => (
                i,
                d,
                Event::ItemRegistered {
                    programme: PROGRAMME,
                    parent: None,
                    kind: ItemKind::Action,
                    reference: format!("{i}"),
                    title: format!("item {i}"),
                    owner: Some("first".into()),
                    target_date: Some(day(2024, 6, 30)),
                    timeframe: None,
                },
            ),
            Step::Rag(i, dimension, rag, d) => (i, d, Event::RagChanged { dimension, rag }),
            Step::Owner(i, o, d) => (
                i,
                d,
                Event::ItemAmended {
                    title: None,
                    owner: Some(o),
                    description: None,
                    priority: None,
                },
            ),
            Step::Target(i, t, d) => (i, d, Event::TargetDateRevised { target_date: t }),
            Step::Correct(i, n, r) => {
                let Some(list) = ids.get(&i) else { continue };
                let (target, original) = list[n % list.len()].clone();
                let replacement = match (original, r) {
                    (Event::RagChanged { dimension, .. }, Some(rag)) => {
                        Some(Box::new(Event::RagChanged { dimension, rag }))
                    }
                    (Event::ItemRegistered { .. }, _) => continue, // keep registrations simple
                    _ => None,
                };
                log.add(
                    item(i),
                    day(2024, 5, 1),
                    Event::Corrected {
                        target,
                        replacement,
                    },
                );
                continue;
            }
        };
        let id = log.add(item(i), effective, event.clone());
        ids.entry(i).or_default().push((id, event));
    }
    log
}

#[derive(Debug, PartialEq)]
struct Naive {
    title: String,
    owner: Option<String>,
    rag: BTreeMap<Dimension, Rag>,
    target: Option<NaiveDate>,
    first_target: Option<NaiveDate>,
}

/// Filter recorded ≤ T, apply corrections, filter effective ≤ D, sort, replay.
fn naive(log: &Log, id: Uuid, as_at: NaiveDate, known_at: Option<DateTime<Utc>>) -> Option<Naive> {
    let known: Vec<&Envelope> = log
        .events
        .iter()
        .filter(|e| known_at.is_none_or(|t| e.recorded_at <= t))
        .collect();
    let mut replaced: HashMap<Uuid, Option<Event>> = HashMap::new();
    for e in &known {
        if let Event::Corrected {
            target,
            replacement,
        } = &e.event
        {
            replaced.insert(*target, replacement.as_deref().cloned());
        }
    }
    let mut facts: Vec<(NaiveDate, u64, Event)> = known
        .iter()
        .filter(|e| {
            e.stream == id && e.effective <= as_at && !matches!(e.event, Event::Corrected { .. })
        })
        .filter_map(|e| match replaced.get(&e.id) {
            Some(r) => r.clone().map(|r| (e.effective, e.position, r)),
            None => Some((e.effective, e.position, e.event.clone())),
        })
        .collect();
    facts.sort_by_key(|(d, p, _)| (*d, *p));
    let (mut owner, mut rag, mut target, mut first) = (None, BTreeMap::new(), None, None);
    let mut title = None;
    for (_, _, e) in facts {
        match e {
            Event::ItemRegistered {
                title: t,
                owner: o,
                target_date,
                ..
            } => {
                title = Some(t);
                if o.is_some() {
                    owner = o;
                }
                if let Some(td) = target_date {
                    target = Some(td);
                    first.get_or_insert(td);
                }
            }
            Event::ItemAmended { owner: Some(o), .. } => owner = Some(o),
            Event::RagChanged { dimension, rag: r } => {
                rag.insert(dimension, r);
            }
            Event::TargetDateRevised { target_date } => {
                target = Some(target_date);
                first.get_or_insert(target_date);
            }
            _ => {}
        }
    }
    title.map(|title| Naive {
        title,
        owner,
        rag,
        target,
        first_target: first,
    })
}

fn projected(trail: &Trail, id: Uuid, q: &BoardQuery) -> Option<Naive> {
    item::at(trail, id, q).map(|i| Naive {
        title: i.title,
        owner: i.owner,
        rag: i.rag.into_iter().map(|(d, s)| (d, s.value)).collect(),
        target: i.target_date.map(|s| s.value),
        first_target: i.first_target_date,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn board_as_at_equals_a_naive_filter_and_replay(
        steps in proptest::collection::vec(arb_step(), 1..40),
        as_at in arb_day(),
        known_minutes in proptest::option::of(0i64..45),
    ) {
        let log = build(&steps);
        let trail = Trail::rebuild(&log.events);
        let known_at = known_minutes.map(|m| t0() + Duration::minutes(m));
        let q = BoardQuery { as_at, known_at, programme: Some(PROGRAMME) };
        for i in 0..3 {
            prop_assert_eq!(projected(&trail, item(i), &q), naive(&log, item(i), as_at, known_at), "item {}", i);
        }
    }

    #[test]
    fn incremental_equals_full_rebuild(
        steps in proptest::collection::vec(arb_step(), 1..40),
        as_at in arb_day(),
        split in any::<prop::sample::Index>(),
    ) {
        let log = build(&steps);
        let full = Trail::rebuild(&log.events);
        let q = BoardQuery { as_at, known_at: None, programme: None };
        let mut live = Trail::new();
        let cut = split.index(log.events.len());
        for e in &log.events[..cut] { live.apply(e); }
        let _ = board::at(&live, &q); // querying in between changes nothing
        for e in &log.events { live.apply(e); } // a replay from the start is harmless
        prop_assert_eq!(live.position(), full.position());
        prop_assert_eq!(board::at(&live, &q), board::at(&full, &q));
    }

    #[test]
    fn a_board_read_page_by_page_is_the_whole_board(
        steps in proptest::collection::vec(arb_step(), 1..40),
        as_at in arb_day(),
        limit in 1usize..6,
    ) {
        let log = build(&steps);
        let trail = Trail::rebuild(&log.events);
        let q = BoardQuery { as_at, known_at: None, programme: None };
        let whole = board::at(&trail, &q);
        let (mut programmes, mut items, mut after, mut pages) = (Vec::new(), Vec::new(), None, 0);
        loop {
            let page = board::page(&trail, &q, after, limit).unwrap();
            prop_assert!(page.board.programmes.len() + page.board.items.len() <= limit);
            prop_assert_eq!(&page.board.counts, &whole.counts);
            programmes.extend(page.board.programmes);
            items.extend(page.board.items);
            pages += 1;
            prop_assert!(pages <= 100, "pages end");
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        prop_assert_eq!(programmes, whole.programmes);
        prop_assert_eq!(items, whole.items);
        prop_assert!(board::page(&trail, &q, Some(Uuid::from_u128(999_999)), limit).is_err());
    }

    #[test]
    fn comparing_a_date_with_itself_shows_no_movement(
        steps in proptest::collection::vec(arb_step(), 1..40),
        d in arb_day(),
    ) {
        let log = build(&steps);
        let trail = Trail::rebuild(&log.events);
        for m in compare::between(&trail, d, d, None, None).items {
            for mv in m.rag.values() { prop_assert_eq!(mv.change, Change::Unchanged); }
            prop_assert!(m.target_date.is_none());
            prop_assert!(m.narratives_changed.is_empty());
            prop_assert!(!m.new_item);
        }
    }
}

// ---- facts from the seed reports ----

fn rag(dimension: Dimension, rag: Rag) -> Event {
    Event::RagChanged { dimension, rag }
}

#[test]
fn cib_priority_4_moves_from_amber_to_green_at_the_10_september_2024_board() {
    let mut log = Log::default();
    let cip = Uuid::from_u128(10);
    let (p1, p4) = (Uuid::from_u128(11), Uuid::from_u128(14));
    let previous = day(2024, 7, 9); // the report gives the previous RAG, not the previous board's date
    let board = day(2024, 9, 10);
    log.add(
        cip,
        previous,
        Event::ProgrammeRegistered {
            name: "Children's Improvement Programme".into(),
            authority: "Tameside".into(),
            sponsor: Some("Alison Montgomery".into()),
        },
    );
    log.add(
        cip,
        previous,
        Event::BoardMeetingHeld {
            board: "Children's Improvement Board".into(),
            date: previous,
        },
    );
    log.add(
        cip,
        board,
        Event::BoardMeetingHeld {
            board: "Children's Improvement Board".into(),
            date: board,
        },
    );
    for (id, reference, title) in [
        (p1, "1", "Quality of Practice"),
        (p4, "4", "Leadership and Workforce"),
    ] {
        log.add(
            id,
            previous,
            Event::ItemRegistered {
                programme: cip,
                parent: None,
                kind: ItemKind::Priority,
                reference: reference.into(),
                title: title.into(),
                owner: Some("Alison Montgomery".into()),
                target_date: None,
                timeframe: None,
            },
        );
        log.add(id, previous, rag(Dimension::Overall, Rag::Amber));
    }
    log.add(p1, board, rag(Dimension::Overall, Rag::Amber));
    log.add(p4, board, rag(Dimension::Overall, Rag::Green));
    let trail = Trail::rebuild(&log.events);

    let b = board::at(
        &trail,
        &BoardQuery {
            as_at: board,
            known_at: None,
            programme: Some(cip),
        },
    );
    let four = b.items.iter().find(|i| i.id == p4).unwrap();
    assert_eq!(four.rag[&Dimension::Overall].value, Rag::Green);
    assert_eq!(four.rag[&Dimension::Overall].set.actor.as_ref(), "lead");
    assert_eq!(
        four.rag[&Dimension::Overall].set.reason.as_deref(),
        Some("board agreed")
    );
    assert_eq!(b.counts[&Dimension::Overall][&Rag::Green], 1);
    // Direction of travel: up since the previous board; a year earlier it was not yet rated.
    let short = four.travel.short.as_ref().unwrap();
    assert_eq!((short.since, short.change), (previous, Change::Improved));
    let long = four.travel.long.as_ref().unwrap();
    assert_eq!(
        (long.since, long.from, long.change),
        (day(2023, 9, 10), None, Change::New)
    );
    assert_eq!(b.counts[&Dimension::Overall][&Rag::Amber], 1);

    let c = compare::between(&trail, previous, board, None, Some(cip));
    let m4 = c.items.iter().find(|m| m.id == p4).unwrap();
    assert_eq!(m4.rag[&Dimension::Overall].change, Change::Improved);
    assert_eq!(
        (
            m4.rag[&Dimension::Overall].from,
            m4.rag[&Dimension::Overall].to
        ),
        (Some(Rag::Amber), Some(Rag::Green))
    );
    let m1 = c.items.iter().find(|m| m.id == p1).unwrap();
    assert_eq!(m1.rag[&Dimension::Overall].change, Change::Unchanged);

    let trend = trend::item(&trail, p4, None).unwrap();
    assert_eq!(
        trend
            .iter()
            .map(|t| t.rag[&Dimension::Overall])
            .collect::<Vec<_>>(),
        vec![Rag::Amber, Rag::Green]
    );
    let counts = trend::counts(&trail, cip, None);
    assert_eq!(counts[0].counts[&Dimension::Overall][&Rag::Amber], 2);
}

#[test]
fn tameside_changes_of_social_worker_448_percent_is_red_and_lower_is_better() {
    let mut log = Log::default();
    let (prog, duty, metric) = (
        Uuid::from_u128(20),
        Uuid::from_u128(21),
        Uuid::from_u128(22),
    );
    let july = day(2020, 7, 31);
    log.add(
        prog,
        july,
        Event::ProgrammeRegistered {
            name: "LAC population 7 sustainability projects".into(),
            authority: "Tameside".into(),
            sponsor: None,
        },
    );
    log.add(
        duty,
        july,
        Event::ItemRegistered {
            programme: prog,
            parent: None,
            kind: ItemKind::Project,
            reference: "4".into(),
            title: "Duty/Locality Teams".into(),
            owner: None,
            target_date: None,
            timeframe: None,
        },
    );
    log.add(
        metric,
        july,
        Event::MetricDefined {
            item: Some(duty),
            reference: None,
            name:
                "Children subject to 3 or more changes of social worker in the last 12 months (%)"
                    .into(),
            unit: Unit::Percent,
            good_direction: Direction::Down,
            target: None,
            tolerance_pct: None,
        },
    );
    log.add(
        metric,
        july,
        Event::MetricReadingRecorded {
            period: "July 2020".into(),
            period_end: july,
            value: Some(Value::Number(44.8)),
            rag: Some(Rag::Red),
            target: None,
            note: None,
        },
    );
    // A later, lower reading is an improvement because lower is better.
    let aug = day(2020, 8, 31);
    log.add(
        metric,
        aug,
        Event::MetricReadingRecorded {
            period: "August 2020".into(),
            period_end: aug,
            value: Some(Value::Number(40.1)),
            rag: None,
            target: None,
            note: None,
        },
    );
    let trail = Trail::rebuild(&log.events);
    let item = item::at(
        &trail,
        duty,
        &BoardQuery {
            as_at: july,
            known_at: None,
            programme: None,
        },
    )
    .unwrap();
    let latest = item.metrics[0].latest.as_ref().unwrap();
    assert_eq!(latest.value, Some(Value::Number(44.8)));
    assert_eq!(latest.rag, Some(Rag::Red));
    assert_eq!(latest.rating, Rating::Reported);
    let c = compare::between(&trail, july, aug, None, Some(prog));
    assert_eq!(c.items[0].metrics[0].change, MetricChange::Improved);
    assert!((c.items[0].metrics[0].delta.unwrap() + 4.7).abs() < 1e-9);
}

#[test]
fn cheshire_east_beyond_20_miles_is_rated_by_a_visible_rule_when_no_rag_is_given() {
    let mut log = Log::default();
    let metric = Uuid::from_u128(30);
    log.add(
        metric,
        day(2018, 6, 30),
        Event::MetricDefined {
            item: None,
            reference: Some("2".into()),
            name: "% of cared for children accommodated beyond 20 miles".into(),
            unit: Unit::Percent,
            good_direction: Direction::Down,
            target: Some(Value::Number(10.0)),
            tolerance_pct: Some(10.0),
        },
    );
    for (period, end, v) in [
        ("2018-19 Q1", day(2018, 6, 30), 24.0),
        ("2018-19 Q2", day(2018, 9, 30), 23.0),
    ] {
        log.add(
            metric,
            end,
            Event::MetricReadingRecorded {
                period: period.into(),
                period_end: end,
                value: Some(Value::Number(v)),
                rag: None,
                target: None,
                note: None,
            },
        );
    }
    let trail = Trail::rebuild(&log.events);
    let trend = trend::metric(&trail, metric, None).unwrap();
    assert_eq!(trend.readings.len(), 2);
    assert_eq!(trend.readings[0].rag, Some(Rag::Red));
    assert_eq!(trend.readings[1].rag, Some(Rag::Amber));
    match &trend.readings[1].rating {
        Rating::Rule(r) => assert!(
            r.contains("improving on 24") && r.contains("target 10"),
            "{r}"
        ),
        other => panic!("expected a rule, got {other:?}"),
    }
}

#[test]
fn a_correction_replaces_the_value_for_later_knowledge_but_not_for_what_the_board_saw() {
    let mut log = Log::default();
    let (prog, action) = (Uuid::from_u128(40), Uuid::from_u128(41));
    let board = day(2016, 6, 29);
    log.add(
        prog,
        board,
        Event::ProgrammeRegistered {
            name: "LAC Action Plan".into(),
            authority: "Cambridgeshire".into(),
            sponsor: Some("Meredith Teasdale".into()),
        },
    );
    log.add(
        action,
        board,
        Event::ItemRegistered {
            programme: prog,
            parent: None,
            kind: ItemKind::Action,
            reference: "4.7".into(),
            title: "Develop in county provision for disabled young people".into(),
            owner: Some("R. Holland/ J. Davies".into()),
            target_date: Some(day(2016, 6, 30)),
            timeframe: None,
        },
    );
    log.add(
        action,
        board,
        Event::FinanceRecorded {
            budget: None,
            spent: None,
            savings_target: Some(-50_000_000),
            savings_achieved: None,
        },
    );
    let wrong = log.add(action, board, rag(Dimension::Savings, Rag::Green));
    log.add(
        action,
        board,
        Event::TargetDateRevised {
            target_date: day(2016, 9, 30),
        },
    );
    let seen_by_board = t0() + Duration::minutes(log.events.len() as i64);
    log.add(
        action,
        day(2016, 7, 5),
        Event::Corrected {
            target: wrong,
            replacement: Some(Box::new(rag(Dimension::Savings, Rag::Red))),
        },
    );
    let trail = Trail::rebuild(&log.events);
    let now = item::at(
        &trail,
        action,
        &BoardQuery {
            as_at: board,
            known_at: None,
            programme: None,
        },
    )
    .unwrap();
    assert_eq!(now.rag[&Dimension::Savings].value, Rag::Red);
    assert_eq!(now.rag[&Dimension::Savings].set.corrects, Some(wrong));
    assert_eq!(now.finance.savings_target, Some(-50_000_000));
    assert_eq!(now.slippage_days, Some(92));
    let then = item::at(
        &trail,
        action,
        &BoardQuery {
            as_at: board,
            known_at: Some(seen_by_board),
            programme: None,
        },
    )
    .unwrap();
    assert_eq!(then.rag[&Dimension::Savings].value, Rag::Green);
    let h = ragtrail_projections::history::history(&log.events, None);
    let corrected = h.iter().find(|e| e.id == wrong).unwrap();
    assert_eq!(corrected.corrected_by.len(), 1);
    assert_eq!(h.last().unwrap().corrects, Some(wrong));
}

#[test]
fn children_are_found_for_a_history_with_children() {
    let mut log = Log::default();
    let (prog, outcome, action) = (
        Uuid::from_u128(50),
        Uuid::from_u128(51),
        Uuid::from_u128(52),
    );
    let d = day(2016, 6, 29);
    log.add(
        prog,
        d,
        Event::ProgrammeRegistered {
            name: "LAC Action Plan".into(),
            authority: "Cambridgeshire".into(),
            sponsor: None,
        },
    );
    log.add(
        outcome,
        d,
        Event::ItemRegistered {
            programme: prog,
            parent: None,
            kind: ItemKind::Outcome,
            reference: "OUTCOME 4".into(),
            title: "Placements for children in care are in county and with a family".into(),
            owner: None,
            target_date: None,
            timeframe: None,
        },
    );
    log.add(
        action,
        d,
        Event::ItemRegistered {
            programme: prog,
            parent: Some(outcome),
            kind: ItemKind::Action,
            reference: "4.7".into(),
            title: "Develop in county provision".into(),
            owner: None,
            target_date: None,
            timeframe: None,
        },
    );
    let trail = Trail::rebuild(&log.events);
    assert_eq!(trail.children_of(outcome), vec![action]);
    assert!(trail.children_of(action).is_empty());
    let item = item::at(
        &trail,
        action,
        &BoardQuery {
            as_at: d,
            known_at: None,
            programme: None,
        },
    )
    .unwrap();
    assert_eq!(item.parent, Some(outcome));
}

#[test]
fn cambridgeshire_risks_and_issues_show_on_their_item_or_programme_and_in_the_movement() {
    let mut log = Log::default();
    let (prog, action, risk, issue) = (
        Uuid::from_u128(60),
        Uuid::from_u128(61),
        Uuid::from_u128(62),
        Uuid::from_u128(63),
    );
    let june = day(2016, 6, 29);
    let sept = day(2016, 9, 28);
    log.add(
        prog,
        june,
        Event::ProgrammeRegistered {
            name: "LAC Action Plan".into(),
            authority: "Cambridgeshire".into(),
            sponsor: Some("Meredith Teasdale".into()),
        },
    );
    log.add(action, june, Event::ItemRegistered { programme: prog, parent: None, kind: ItemKind::Action, reference: "1.1".into(), title: "A higher proportion of children who are referred to CSC to have a Family CAF in place".into(), owner: Some("L. Lofting/ C. Smith".into()), target_date: None, timeframe: None });
    log.add(risk, june, Event::RiskRaised { programme: prog, item: Some(action), reference: "R01".into(), description: "Capacity for ONE report writing may not be available to support production of datasets".into(), owner: Some("L.Lofting/ C.Smith".into()), mitigation: Some("Simplify datasets - provide caveats to datasets".into()), rag: Some(Rag::Amber) });
    log.add(
        issue,
        june,
        Event::IssueEscalated {
            programme: prog,
            item: None,
            reference: "I01".into(),
            description: "138 UASC".into(),
            owner: None,
            action: Some(
                "additional time allocation to be found within the VS from September 2016".into(),
            ),
        },
    );
    log.add(
        risk,
        sept,
        Event::RiskUpdated {
            description: None,
            owner: None,
            mitigation: None,
            rag: Some(Rag::Green),
        },
    );
    log.add(
        risk,
        sept,
        Event::RiskClosed {
            note: Some("datasets simplified".into()),
        },
    );
    let trail = Trail::rebuild(&log.events);

    let q = |d| BoardQuery {
        as_at: d,
        known_at: None,
        programme: Some(prog),
    };
    let board = board::at(&trail, &q(june));
    let item = &board.items[0];
    assert_eq!(item.risks.len(), 1);
    assert_eq!(item.risks[0].reference, "R01");
    assert_eq!(
        (item.risks[0].rag, item.risks[0].open),
        (Some(Rag::Amber), true)
    );
    assert!(item.issues.is_empty());
    assert_eq!(board.programmes[0].issues[0].reference, "I01");
    assert!(board.programmes[0].risks.is_empty());

    let later = board::at(&trail, &q(sept));
    let r = &later.items[0].risks[0];
    assert_eq!(
        (r.rag, r.open, r.closed_on),
        (Some(Rag::Green), false, Some(sept))
    );
    assert_eq!(r.note.as_deref(), Some("datasets simplified"));

    let c = compare::between(&trail, june, sept, None, Some(prog));
    assert_eq!(c.items[0].risks_closed, vec!["R01".to_string()]);
    assert!(c.items[0].risks_opened.is_empty());
    let c = compare::between(&trail, day(2016, 1, 1), june, None, Some(prog));
    assert!(
        c.items[0].new_item,
        "the action was registered after 1 January"
    );
    assert_eq!(c.items[0].risks_opened, vec!["R01".to_string()]);
}

/// An action Amber on delivery and Red on savings (Cambridgeshire's actions
/// carry both) is an exception for its savings, though its overall RAG is not.
#[test]
fn an_exception_is_judged_on_every_dimension_and_names_it() {
    let mut log = Log::default();
    let prog = Uuid::from_u128(20);
    let (steady, savings_red, overall_red) = (
        Uuid::from_u128(21),
        Uuid::from_u128(22),
        Uuid::from_u128(23),
    );
    let (before, after) = (day(2016, 9, 1), day(2016, 12, 1));
    log.add(
        prog,
        before,
        Event::ProgrammeRegistered {
            name: "LAC".into(),
            authority: "Cambridgeshire".into(),
            sponsor: None,
        },
    );
    for (id, reference) in [(steady, "1.1"), (savings_red, "2.1"), (overall_red, "4.4")] {
        log.add(
            id,
            before,
            Event::ItemRegistered {
                programme: prog,
                parent: None,
                kind: ItemKind::Action,
                reference: reference.into(),
                title: format!("action {reference}"),
                owner: None,
                target_date: None,
                timeframe: None,
            },
        );
        log.add(id, before, rag(Dimension::Overall, Rag::Amber));
        log.add(id, before, rag(Dimension::Delivery, Rag::Amber));
        log.add(id, before, rag(Dimension::Savings, Rag::Green));
    }
    log.add(savings_red, after, rag(Dimension::Savings, Rag::Red));
    log.add(overall_red, after, rag(Dimension::Overall, Rag::Red));
    let trail = Trail::rebuild(&log.events);
    let cmp = compare::between(&trail, before, after, None, Some(prog));
    let of = |id: Uuid| cmp.items.iter().find(|m| m.id == id).unwrap();
    assert!(!of(steady).exception);
    assert!(of(steady).exception_in.is_empty());
    assert!(
        of(savings_red).exception,
        "Red on savings alone makes an exception"
    );
    assert_eq!(of(savings_red).exception_in, vec![Dimension::Savings]);
    assert_eq!(of(overall_red).exception_in, vec![Dimension::Overall]);
    // Exceptions come first.
    assert!(!cmp.items[0].exception_in.is_empty() && !cmp.items[1].exception_in.is_empty());
}

#[test]
fn late_work_is_flagged_and_slippage_rolls_up_to_the_action() {
    let mut log = Log::default();
    let prog = Uuid::from_u128(30);
    let (action, late, earlier, done) = (
        Uuid::from_u128(31),
        Uuid::from_u128(32),
        Uuid::from_u128(33),
        Uuid::from_u128(34),
    );
    let start = day(2016, 6, 1);
    let board = day(2016, 12, 1);
    log.add(
        prog,
        start,
        Event::ProgrammeRegistered {
            name: "LAC".into(),
            authority: "Cambridgeshire".into(),
            sponsor: None,
        },
    );
    let register =
        |log: &mut Log, id: Uuid, parent: Option<Uuid>, reference: &str, target: NaiveDate| {
            log.add(
                id,
                start,
                Event::ItemRegistered {
                    programme: prog,
                    parent,
                    kind: if parent.is_some() {
                        ItemKind::Deliverable
                    } else {
                        ItemKind::Action
                    },
                    reference: reference.into(),
                    title: format!("item {reference}"),
                    owner: None,
                    target_date: Some(target),
                    timeframe: None,
                },
            );
        };
    register(&mut log, action, None, "2.1", day(2016, 10, 31));
    register(&mut log, late, Some(action), "2.1.1", day(2016, 9, 30));
    register(&mut log, earlier, Some(action), "2.1.2", day(2016, 11, 30));
    register(&mut log, done, None, "2.2", day(2016, 8, 31));
    // One deliverable slips 61 days, the other is brought forward 30.
    log.add(
        late,
        day(2016, 9, 1),
        Event::TargetDateRevised {
            target_date: day(2016, 11, 30),
        },
    );
    log.add(
        earlier,
        day(2016, 9, 1),
        Event::TargetDateRevised {
            target_date: day(2016, 10, 31),
        },
    );
    log.add(
        done,
        day(2016, 8, 31),
        Event::ItemClosed {
            closure: Closure::Completed,
        },
    );
    log.add(
        action,
        start,
        Event::MilestoneRecorded {
            date: day(2016, 11, 1),
            when: None,
            activity: "Panel in place".into(),
            state: MilestoneState::On,
        },
    );
    let trail = Trail::rebuild(&log.events);
    let q = BoardQuery {
        as_at: board,
        known_at: None,
        programme: Some(prog),
    };
    let a = item::at(&trail, action, &q).unwrap();
    assert_eq!(a.overdue_days, Some(31), "open and 31 days past 31 October");
    let w = a.within_slippage.clone().expect("a deliverable slipped");
    assert_eq!((w.item, w.reference.as_str(), w.days), (late, "2.1.1", 61));
    assert!(
        a.milestones[0].overdue,
        "a milestone due 1 November, not completed"
    );
    let e = item::at(&trail, earlier, &q).unwrap();
    assert_eq!(
        e.slippage_days,
        Some(-30),
        "brought forward is negative slippage"
    );
    assert_eq!(e.overdue_days, Some(31));
    let d = item::at(&trail, done, &q).unwrap();
    assert_eq!(d.overdue_days, None, "a closed item is not overdue");
    // Before the target date nothing is overdue.
    let early = BoardQuery {
        as_at: day(2016, 10, 1),
        ..q
    };
    assert_eq!(item::at(&trail, action, &early).unwrap().overdue_days, None);
    assert!(!item::at(&trail, action, &early).unwrap().milestones[0].overdue);

    // What slipped, and by how much: biggest first, brought forward last.
    let since_first =
        ragtrail_projections::slippage::between(&trail, None, board, None, Some(prog));
    let slips: Vec<(Uuid, i64)> = since_first.items.iter().map(|s| (s.id, s.days)).collect();
    assert_eq!(slips, vec![(late, 61), (earlier, -30)]);
    assert_eq!(since_first.items[0].before, day(2016, 9, 30));
    assert_eq!(since_first.items[0].after, day(2016, 11, 30));
    assert_eq!(
        since_first.items[0].set.reason.as_deref(),
        Some("board agreed")
    );
    let between_boards = ragtrail_projections::slippage::between(
        &trail,
        Some(day(2016, 8, 1)),
        board,
        None,
        Some(prog),
    );
    assert_eq!(between_boards.items.len(), 2);
    let after_revisions = ragtrail_projections::slippage::between(
        &trail,
        Some(day(2016, 9, 2)),
        board,
        None,
        Some(prog),
    );
    assert!(
        after_revisions.items.is_empty(),
        "nothing moved after the revisions"
    );
}

#[test]
fn the_comparison_shows_a_rewritten_description_and_a_redrawn_plan() {
    let mut log = Log::default();
    let prog = Uuid::from_u128(40);
    let (redrawn, same) = (Uuid::from_u128(41), Uuid::from_u128(42));
    let (january, july) = (day(2020, 1, 31), day(2020, 7, 31));
    log.add(
        prog,
        january,
        Event::ProgrammeRegistered {
            name: "LAC sustainability".into(),
            authority: "Tameside".into(),
            sponsor: None,
        },
    );
    let month = |m: u32, phase: Phase| PlannedPhase {
        month: day(2020, m, 1),
        phase,
    };
    for (id, reference) in [(redrawn, "5"), (same, "6")] {
        log.add(
            id,
            january,
            Event::ItemRegistered {
                programme: prog,
                parent: None,
                kind: ItemKind::Project,
                reference: reference.into(),
                title: format!("project {reference}"),
                owner: None,
                target_date: None,
                timeframe: None,
            },
        );
        log.add(
            id,
            january,
            Event::ItemAmended {
                title: None,
                owner: None,
                description: Some("Respite and assessment".into()),
                priority: None,
            },
        );
        log.add(
            id,
            january,
            Event::TimelinePlanned {
                months: vec![
                    month(1, Phase::Decision),
                    month(2, Phase::Planning),
                    month(3, Phase::Implementation),
                ],
            },
        );
    }
    // July: project 5's plan is redrawn (planning runs a month longer) and its description rewritten.
    log.add(
        redrawn,
        july,
        Event::TimelinePlanned {
            months: vec![
                month(1, Phase::Decision),
                month(2, Phase::Planning),
                month(3, Phase::Planning),
                month(4, Phase::Implementation),
            ],
        },
    );
    log.add(
        redrawn,
        july,
        Event::ItemAmended {
            title: None,
            owner: None,
            description: Some("Respite, assessment and the purchase of a house".into()),
            priority: None,
        },
    );
    // Project 6's plan is given again, unchanged.
    log.add(
        same,
        july,
        Event::TimelinePlanned {
            months: vec![
                month(1, Phase::Decision),
                month(2, Phase::Planning),
                month(3, Phase::Implementation),
            ],
        },
    );
    let trail = Trail::rebuild(&log.events);
    let cmp = compare::between(&trail, january, july, None, Some(prog));
    let of = |id: Uuid| cmp.items.iter().find(|m| m.id == id).unwrap();
    let plan = of(redrawn)
        .plan_changed
        .clone()
        .expect("the plan was redrawn");
    assert_eq!(plan.months_changed, vec![day(2020, 3, 1), day(2020, 4, 1)]);
    assert_eq!(plan.from.len(), 3);
    assert_eq!(plan.to.len(), 4);
    let d = of(redrawn).description_changed.clone().expect("rewritten");
    assert_eq!(d.from.as_deref(), Some("Respite and assessment"));
    assert_eq!(
        d.to.as_deref(),
        Some("Respite, assessment and the purchase of a house")
    );
    assert_eq!(
        of(same).plan_changed,
        None,
        "the same plan given again is no change"
    );
    assert_eq!(of(same).description_changed, None);
}

#[test]
fn two_entries_in_one_section_at_one_board_are_both_kept() {
    let mut log = Log::default();
    let prog = Uuid::from_u128(50);
    let it = Uuid::from_u128(51);
    let (may, june) = (day(2016, 5, 1), day(2016, 6, 29));
    log.add(
        prog,
        may,
        Event::ProgrammeRegistered {
            name: "LAC".into(),
            authority: "Cambridgeshire".into(),
            sponsor: None,
        },
    );
    log.add(
        it,
        may,
        Event::ItemRegistered {
            programme: prog,
            parent: None,
            kind: ItemKind::Action,
            reference: "1.1".into(),
            title: "action".into(),
            owner: None,
            target_date: None,
            timeframe: None,
        },
    );
    let note = |t: &str| Event::NarrativeRecorded {
        section: Section::Progress,
        text: t.into(),
    };
    log.add(it, may, note("May: started"));
    log.add(it, june, note("June: panel met"));
    log.add(it, june, note("June: second paragraph"));
    let trail = Trail::rebuild(&log.events);
    let q = BoardQuery {
        as_at: june,
        known_at: None,
        programme: Some(prog),
    };
    let i = item::at(&trail, it, &q).unwrap();
    assert_eq!(
        i.narratives[&Section::Progress].value,
        "June: second paragraph"
    );
    let earlier: Vec<&str> = i.earlier_narratives[&Section::Progress]
        .iter()
        .map(|n| n.value.as_str())
        .collect();
    assert_eq!(
        earlier,
        vec!["June: panel met"],
        "May's entry belongs to another board"
    );
    let in_may = item::at(&trail, it, &BoardQuery { as_at: may, ..q }).unwrap();
    assert!(in_may.earlier_narratives.is_empty());
}

#[test]
fn the_facts_the_model_could_not_say_before_are_held_and_shown() {
    let mut log = Log::default();
    let prog = Uuid::from_u128(60);
    let (standard_a, standard_b, shared) = (
        Uuid::from_u128(61),
        Uuid::from_u128(62),
        Uuid::from_u128(63),
    );
    let (risk, metric) = (Uuid::from_u128(64), Uuid::from_u128(65));
    let d = day(2018, 11, 1);
    log.add(
        prog,
        d,
        Event::ProgrammeRegistered {
            name: "Sufficiency".into(),
            authority: "Cheshire East".into(),
            sponsor: None,
        },
    );
    log.add(
        prog,
        d,
        Event::RagDefined {
            dimension: None,
            rag: Rag::Blue,
            label: "Complete".into(),
            meaning: None,
        },
    );
    log.add(
        prog,
        d,
        Event::RagDefined {
            dimension: None,
            rag: Rag::Amber,
            label: "Slippage or Issues".into(),
            meaning: Some("Some slippage".into()),
        },
    );
    log.add(
        prog,
        d,
        Event::SourceRecorded {
            title: "Sufficiency review".into(),
            date: d,
            author: Some("Head of Service".into()),
            sha256: None,
        },
    );
    for (id, parent, reference) in [
        (standard_a, None, "SE1"),
        (standard_b, None, "SE2"),
        (shared, Some(standard_a), "A1"),
    ] {
        log.add(
            id,
            d,
            Event::ItemRegistered {
                programme: prog,
                parent,
                kind: ItemKind::Action,
                reference: reference.into(),
                title: reference.into(),
                owner: None,
                target_date: None,
                timeframe: None,
            },
        );
    }
    log.add(
        shared,
        d,
        Event::ItemLinked {
            other: standard_b,
            relation: "also under".into(),
        },
    );
    log.add(
        shared,
        d,
        Event::MilestonePlanned {
            when: "To be agreed".into(),
            date: None,
            activity: "Panel".into(),
            state: MilestoneState::Unstated,
        },
    );
    log.add(
        shared,
        d,
        Event::MoneyRecorded {
            line: "Investment needed".into(),
            pence: 2_500_000,
        },
    );
    log.add(
        risk,
        d,
        Event::RiskRaised {
            programme: prog,
            item: Some(shared),
            reference: "R1".into(),
            description: "Capacity".into(),
            owner: None,
            mitigation: Some("Recruit".into()),
            rag: None,
        },
    );
    log.add(
        risk,
        d,
        Event::RiskScored {
            likelihood: 4,
            impact: 5,
            score: Some(20),
        },
    );
    log.add(
        metric,
        d,
        Event::MetricDefined {
            item: Some(shared),
            reference: None,
            name: "Reviews".into(),
            unit: Unit::Count,
            good_direction: Direction::Up,
            target: None,
            tolerance_pct: None,
        },
    );
    log.add(
        metric,
        d,
        Event::TargetStated {
            target: "Quarterly review".into(),
        },
    );
    log.add(
        prog,
        d,
        Event::NoteRecorded {
            kind: NoteKind::Assumption,
            field: Some("date".into()),
            note: "The review is undated; recorded as of 30 November 2018".into(),
        },
    );
    log.add(
        shared,
        d,
        Event::NoteRecorded {
            kind: NoteKind::Contradiction,
            field: Some("target_date".into()),
            note:
                "The revised date is earlier than the original, though the text says it moved later"
                    .into(),
        },
    );
    log.add(
        prog,
        d,
        Event::Attributed {
            person: "Alison Montgomery".into(),
            capacity: Some("sponsor".into()),
        },
    );
    log.add(shared, d, rag(Dimension::Overall, Rag::Amber));
    let trail = Trail::rebuild(&log.events);
    let q = BoardQuery {
        as_at: d,
        known_at: None,
        programme: Some(prog),
    };
    let b = board::at(&trail, &q);
    assert_eq!(b.programmes[0].notes[0].kind, NoteKind::Assumption);
    let a = item::at(&trail, shared, &q).unwrap();
    assert_eq!(a.notes[0].field.as_deref(), Some("target_date"));
    let set = &a.rag[&Dimension::Overall].set;
    let who = set
        .attributed_to
        .as_ref()
        .expect("the programme's attribution reaches its items at that date");
    assert_eq!(
        (who.person.as_str(), who.capacity.as_deref()),
        ("Alison Montgomery", Some("sponsor"))
    );
    assert_eq!(
        &*set.actor, "lead",
        "the account that recorded it is kept apart"
    );
    let p = &b.programmes[0];
    let defs: Vec<(Rag, &str)> = p
        .rag_definitions
        .iter()
        .map(|x| (x.rag, x.label.as_str()))
        .collect();
    assert_eq!(
        defs,
        vec![(Rag::Blue, "Complete"), (Rag::Amber, "Slippage or Issues")],
        "in RAG order"
    );
    assert_eq!(
        p.source.as_ref().map(|s| s.title.as_str()),
        Some("Sufficiency review")
    );
    let a1 = item::at(&trail, shared, &q).unwrap();
    assert_eq!(a1.milestones[0].date, None);
    assert_eq!(a1.milestones[0].when.as_deref(), Some("To be agreed"));
    assert!(
        !a1.milestones[0].overdue,
        "an undated milestone is never overdue"
    );
    assert_eq!(a1.money_lines["Investment needed"].value, 2_500_000);
    assert_eq!(a1.links.len(), 1);
    assert_eq!((a1.links[0].item, a1.links[0].inward), (standard_b, false));
    let se2 = item::at(&trail, standard_b, &q).unwrap();
    assert_eq!(
        se2.links.len(),
        1,
        "the other standard sees the shared action"
    );
    assert_eq!(
        (
            se2.links[0].item,
            se2.links[0].inward,
            se2.links[0].reference.as_str()
        ),
        (shared, true, "A1")
    );
    let r = &a1.risks[0];
    assert_eq!(
        (r.likelihood, r.impact, r.score),
        (Some(4), Some(5), Some(20))
    );
    assert_eq!(r.action.as_deref(), Some("Recruit"));
    assert_eq!(
        a1.metrics[0].target_text.as_deref(),
        Some("Quarterly review")
    );
}
