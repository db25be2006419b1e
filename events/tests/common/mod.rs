//! Shared test material: one fixed example of every event variant, and
//! proptest strategies that generate any valid event.
#![allow(dead_code)]

use chrono::NaiveDate;
use proptest::prelude::*;
use ragtrail_events::*;
use uuid::Uuid;

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// One example of every variant, in variant order (index = variant index).
pub fn every_variant() -> Vec<Event> {
    let v = vec![
        Event::ProgrammeRegistered {
            name: "Children's Improvement Programme".into(),
            authority: "Tameside".into(),
            sponsor: Some("Alison Montgomery".into()),
        },
        Event::BoardMeetingHeld {
            board: "Children's Improvement Board".into(),
            date: day(2024, 9, 10),
        },
        Event::ItemRegistered {
            programme: uuid(1),
            parent: Some(uuid(2)),
            kind: ItemKind::Action,
            reference: "4.7".into(),
            title: "Develop in county provision for disabled young people".into(),
            owner: Some("R. Holland/ J. Davies".into()),
            target_date: Some(day(2016, 9, 30)),
            timeframe: None,
        },
        Event::ItemAmended {
            title: None,
            owner: Some("Tracy Collins".into()),
            description: Some("Draft of scope for review of IFSS".into()),
            priority: Some(Priority::High),
        },
        Event::RagChanged {
            dimension: Dimension::Savings,
            rag: Rag::Red,
        },
        Event::PhaseChanged {
            phase: Phase::Implementation,
        },
        Event::TimelinePlanned {
            months: vec![
                PlannedPhase {
                    month: day(2020, 1, 1),
                    phase: Phase::Decision,
                },
                PlannedPhase {
                    month: day(2020, 2, 1),
                    phase: Phase::Planning,
                },
            ],
        },
        Event::TargetDateRevised {
            target_date: day(2016, 6, 30),
        },
        Event::MilestoneRecorded {
            date: day(2020, 3, 1),
            when: Some("March – July 2020".into()),
            activity: "Recruitment started".into(),
            state: MilestoneState::Completed,
        },
        Event::NarrativeRecorded {
            section: Section::NextPeriod,
            text: "SGO Policy has been revised and is currently being reviewed by legal.".into(),
        },
        Event::MetricDefined {
            item: Some(uuid(3)),
            reference: Some("2".into()),
            name: "% of cared for children accommodated beyond 20 miles".into(),
            unit: Unit::Percent,
            good_direction: Direction::Down,
            target: Some(Value::Number(10.0)),
            tolerance_pct: Some(10.0),
        },
        Event::MetricReadingRecorded {
            period: "2018-19 Q1".into(),
            period_end: day(2018, 6, 30),
            value: Some(Value::Number(24.0)),
            rag: Some(Rag::Red),
            target: Some(Value::Number(10.0)),
            note: Some("When you take out placed with family / friends % = 13%".into()),
        },
        Event::FinanceRecorded {
            budget: Some(80_000_000),
            spent: None,
            savings_target: Some(-50_000_000),
            savings_achieved: None,
        },
        Event::RiskRaised {
            programme: uuid(1),
            item: Some(uuid(3)),
            reference: "R01".into(),
            description: "Capacity for ONE report writing may not be available".into(),
            owner: Some("L.Lofting/ C.Smith".into()),
            mitigation: Some("Simplify datasets".into()),
            rag: Some(Rag::Amber),
        },
        Event::RiskUpdated {
            description: None,
            owner: None,
            mitigation: Some("Further joint HoS work to agree".into()),
            rag: Some(Rag::Green),
        },
        Event::RiskClosed {
            note: Some("Datasets simplified".into()),
        },
        Event::IssueEscalated {
            programme: uuid(1),
            item: None,
            reference: "I01".into(),
            description: "138 UASC".into(),
            owner: None,
            action: Some("additional time allocation to be found".into()),
        },
        Event::IssueResolved { note: None },
        Event::JudgementRecorded {
            inspection: "ILACS May 2019".into(),
            area: "Overall effectiveness".into(),
            grade: Grade::RequiresImprovement,
            date: day(2019, 5, 31),
        },
        Event::Corrected {
            target: uuid(9),
            replacement: Some(Box::new(Event::RagChanged {
                dimension: Dimension::Overall,
                rag: Rag::Amber,
            })),
        },
        Event::RoleAssigned {
            role: "Project Manager".into(),
            person: "Mary-Ann Stevenson".into(),
        },
        Event::ItemClosed {
            closure: Closure::Completed,
        },
        Event::BoardSealed {
            board: uuid(4),
            as_at: day(2024, 9, 10),
            snapshot: "ab".repeat(32),
            position: 120,
            head: "cd".repeat(32),
        },
        Event::TextErased {
            legal_basis: "UK GDPR Article 17(1)(a)".into(),
            salt: "5a".repeat(32),
            text_hashes: vec!["0f".repeat(32)],
            events: vec![ragtrail_events::event::ErasedEvent {
                position: 7,
                stream: uuid(7),
                fields: vec!["data.text".into()],
                payload: "e1".repeat(32),
            }],
        },
        Event::RiskScored {
            likelihood: 4,
            impact: 5,
            score: Some(20),
        },
        Event::MoneyRecorded {
            line: "Investment needed".into(),
            pence: 25_000_000,
        },
        Event::TargetStated {
            target: "Quarterly review".into(),
        },
        Event::RagDefined {
            dimension: Some(Dimension::Savings),
            rag: Rag::Blue,
            label: "Complete".into(),
            meaning: Some("The action is complete".into()),
        },
        Event::MilestonePlanned {
            when: "To be agreed".into(),
            date: None,
            activity: "Panel in place".into(),
            state: MilestoneState::Unstated,
        },
        Event::ItemLinked {
            other: uuid(8),
            relation: "also under".into(),
        },
        Event::SourceRecorded {
            title: "LAC Action Plan progress report".into(),
            date: day(2016, 6, 29),
            author: Some("Head of Service".into()),
            sha256: Some("ab".repeat(32)),
        },
        Event::NoteRecorded {
            kind: NoteKind::Assumption,
            field: Some("date".into()),
            note: "The report is undated; its updates run to November 2018".into(),
        },
        Event::Attributed {
            person: "Alison Montgomery".into(),
            capacity: Some("sponsor, who completed the report".into()),
        },
        Event::ItemRenumbered {
            reference: "2.1".into(),
        },
    ];
    assert_eq!(
        v.len(),
        Event::TYPE_NAMES.len(),
        "every variant has an example"
    );
    v
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9 £%'’–.,/()-]{{1,{max}}}"))
        .expect("regex")
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

fn opt_text(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text(max))
}

pub fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (2015i32..2026, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| day(y, m, d))
}

fn arb_uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

pub fn arb_rag() -> impl Strategy<Value = Rag> {
    prop::sample::select(Rag::ALL.to_vec())
}

pub fn arb_dimension() -> impl Strategy<Value = Dimension> {
    prop::sample::select(vec![
        Dimension::Overall,
        Dimension::Delivery,
        Dimension::Savings,
        Dimension::Budget,
    ])
}

fn arb_phase() -> impl Strategy<Value = Phase> {
    prop::sample::select(vec![
        Phase::Decision,
        Phase::Planning,
        Phase::Implementation,
        Phase::Savings,
    ])
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1.0e9f64..1.0e9).prop_map(Value::Number),
        any::<i64>().prop_map(Value::Pence),
        any::<bool>().prop_map(Value::YesNo),
    ]
}

fn arb_money() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(0i64..i64::MAX)
}

/// Any valid event except a correction (whose target must exist in a store).
pub fn arb_plain_event() -> impl Strategy<Value = Event> {
    let kinds = prop::sample::select(vec![
        ItemKind::Priority,
        ItemKind::Outcome,
        ItemKind::Project,
        ItemKind::Workstream,
        ItemKind::Action,
        ItemKind::Deliverable,
        ItemKind::Standard,
        ItemKind::ImprovementNeed,
    ]);
    prop_oneof![
        (text(40), text(20), opt_text(20)).prop_map(|(name, authority, sponsor)| {
            Event::ProgrammeRegistered {
                name,
                authority,
                sponsor,
            }
        }),
        (text(30), arb_date()).prop_map(|(board, date)| Event::BoardMeetingHeld { board, date }),
        (
            arb_uuid(),
            proptest::option::of(arb_uuid()),
            kinds,
            text(8),
            text(60),
            opt_text(20),
            proptest::option::of(arb_date()),
            opt_text(20)
        )
            .prop_map(
                |(programme, parent, kind, reference, title, owner, target_date, timeframe)| {
                    Event::ItemRegistered {
                        programme,
                        parent,
                        kind,
                        reference,
                        title,
                        owner,
                        target_date,
                        timeframe,
                    }
                }
            ),
        (text(40), opt_text(20)).prop_map(|(t, o)| Event::ItemAmended {
            title: Some(t),
            owner: o,
            description: None,
            priority: Some(Priority::Low),
        }),
        (arb_dimension(), arb_rag())
            .prop_map(|(dimension, rag)| Event::RagChanged { dimension, rag }),
        arb_phase().prop_map(|phase| Event::PhaseChanged { phase }),
        (arb_phase(), 2018i32..2022).prop_map(|(phase, y)| Event::TimelinePlanned {
            months: (1..=12)
                .map(|m| PlannedPhase {
                    month: day(y, m, 1),
                    phase,
                })
                .collect()
        }),
        arb_date().prop_map(|target_date| Event::TargetDateRevised { target_date }),
        (arb_date(), opt_text(20), text(80)).prop_map(|(date, when, activity)| {
            Event::MilestoneRecorded {
                date,
                when,
                activity,
                state: MilestoneState::On,
            }
        }),
        text(200).prop_map(|text| Event::NarrativeRecorded {
            section: Section::Progress,
            text
        }),
        (text(40), -1000.0f64..1000.0).prop_map(|(name, t)| Event::MetricDefined {
            item: None,
            reference: None,
            name,
            unit: Unit::Percent,
            good_direction: Direction::Down,
            target: Some(Value::Number(t)),
            tolerance_pct: Some(10.0),
        }),
        (
            text(12),
            arb_date(),
            proptest::option::of(arb_number()),
            proptest::option::of(arb_rag())
        )
            .prop_map(
                |(period, period_end, value, rag)| Event::MetricReadingRecorded {
                    period,
                    period_end,
                    value,
                    rag,
                    target: None,
                    note: None,
                }
            ),
        (arb_money(), arb_money(), any::<i64>()).prop_map(|(budget, spent, s)| {
            Event::FinanceRecorded {
                budget,
                spent,
                savings_target: Some(s),
                savings_achieved: None,
            }
        }),
        (
            arb_uuid(),
            text(5),
            text(80),
            proptest::option::of(arb_rag())
        )
            .prop_map(
                |(programme, reference, description, rag)| Event::RiskRaised {
                    programme,
                    item: None,
                    reference,
                    description,
                    owner: None,
                    mitigation: None,
                    rag,
                }
            ),
        arb_rag().prop_map(|rag| Event::RiskUpdated {
            description: None,
            owner: None,
            mitigation: None,
            rag: Some(rag),
        }),
        opt_text(30).prop_map(|note| Event::RiskClosed { note }),
        (arb_uuid(), text(5), text(60)).prop_map(|(programme, reference, description)| {
            Event::IssueEscalated {
                programme,
                item: None,
                reference,
                description,
                owner: None,
                action: None,
            }
        }),
        opt_text(30).prop_map(|note| Event::IssueResolved { note }),
        (text(20), text(60), arb_date()).prop_map(|(inspection, area, date)| {
            Event::JudgementRecorded {
                inspection,
                area,
                grade: Grade::Good,
                date,
            }
        }),
        (text(20), text(20)).prop_map(|(role, person)| Event::RoleAssigned { role, person }),
        Just(Event::ItemClosed {
            closure: Closure::Withdrawn
        }),
        (arb_uuid(), arb_date(), any::<u64>()).prop_map(|(board, as_at, position)| {
            Event::BoardSealed {
                board,
                as_at,
                snapshot: "0f".repeat(32),
                position,
                head: "f0".repeat(32),
            }
        }),
    ]
}

/// Any valid event, corrections included (with a replacement of any plain event).
pub fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => arb_plain_event(),
        1 => (arb_uuid(), proptest::option::of(arb_plain_event())).prop_map(|(target, r)| {
            Event::Corrected {
                target,
                replacement: r.map(Box::new),
            }
        }),
    ]
}

/// Wraps an event for appending, giving it a reason when it needs one.
pub fn new_event(stream: Uuid, event: Event, effective: NaiveDate) -> NewEvent {
    let reason = event.needs_reason().then(|| "board agreed".to_string());
    NewEvent {
        stream,
        event,
        effective,
        reason,
        expected_version: None,
    }
}

/// Several events as one atomic append, without an idempotency key.
pub fn append_all(actor: &str, events: Vec<NewEvent>) -> Append {
    Append {
        actor: actor.into(),
        idempotency_key: None,
        events,
    }
}

pub fn append_one(actor: &str, e: NewEvent) -> Append {
    Append {
        actor: actor.into(),
        idempotency_key: None,
        events: vec![e],
    }
}

/// The records of a closed store's events, to alter them as someone with
/// write access to the directory could.
pub fn raw_open(dir: &std::path::Path) -> ragtrail_events::raw::Records {
    ragtrail_events::raw::Records::read(dir).expect("read the events")
}

/// Every value of the events tree and the head record's bytes, to prove them unchanged.
pub fn dump(dir: &std::path::Path) -> (Vec<(u64, Vec<u8>)>, Vec<u8>) {
    (
        ragtrail_events::raw::values(dir).expect("read the events"),
        std::fs::read(dir.join(ragtrail_events::head::FILE)).expect("read the head record"),
    )
}

/// The child of the crash and power-loss tests: appends from 8 tasks until
/// killed, printing `position hash` per acknowledged event.
pub fn append_until_killed(dir: &str, cycle: u64, options: Options) {
    use std::io::Write;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = Store::open_with(dir, options).expect("open store");
        let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let mut tasks = Vec::new();
        for task in 0..8u64 {
            let (store, out) = (store.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                for seq in 0u64.. {
                    let tag = format!("c{cycle}-t{task}-s{seq}");
                    let event = |n: u64| {
                        new_event(
                            uuid(u128::from((task + seq + n) % 5)),
                            Event::NarrativeRecorded {
                                section: Section::Progress,
                                text: format!("{tag}-{n}"),
                            },
                            day(2024, 9, 10),
                        )
                    };
                    // Every third append is a two-event batch.
                    let events = if seq % 3 == 0 {
                        vec![event(0), event(1)]
                    } else {
                        vec![event(0)]
                    };
                    let receipts = store
                        .append(Append {
                            actor: "crash".into(),
                            idempotency_key: Some(tag),
                            events,
                        })
                        .await
                        .expect("append");
                    let mut o = out.lock().expect("stdout");
                    for r in receipts {
                        writeln!(o, "{} {}", r.position, r.hash).expect("write");
                    }
                    o.flush().expect("flush");
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// A small seeded generator (xorshift) for the crash and power-loss tests'
/// random moments, so a seed can be printed and a run replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
