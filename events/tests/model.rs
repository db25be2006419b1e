//! The event model: encode/decode round trips, and validation that names the field.

mod common;

use chrono::Utc;
use common::*;
use proptest::prelude::*;
use ragtrail_events::envelope::{self, Digest32, Draft};
use ragtrail_events::*;
use serde_json::json;

fn draft_of(event: &Event) -> (Vec<u8>, Envelope) {
    envelope::encode(&Draft {
        position: 7,
        id: uuid(42),
        stream: uuid(3),
        version: 2,
        effective: day(2024, 9, 10),
        recorded_at: Utc::now(),
        actor: "board-secretary",
        reason: Some("agreed at board"),
        idempotency_key: Some("k-1"),
        event,
        prev_hash: Digest32([7; 32]),
    })
    .expect("encode")
}

#[test]
fn every_variant_round_trips_through_stored_bytes() {
    for event in every_variant() {
        let (bytes, env) = draft_of(&event);
        let back = envelope::decode(&bytes).expect("decode");
        assert_eq!(back, env, "{}", event.type_name());
        assert_eq!(back.event, event);
        envelope::check(&bytes, Digest32([7; 32])).expect("hashes check");
    }
}

#[test]
fn every_variant_round_trips_through_the_api_json_form() {
    for event in every_variant() {
        let back = Event::from_type_and_data(event.type_name(), event.data_json())
            .unwrap_or_else(|e| panic!("{}: {e}", event.type_name()));
        assert_eq!(back, event);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_round_trips(event in arb_event()) {
        let (bytes, env) = draft_of(&event);
        let back = envelope::decode(&bytes).expect("decode");
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(&back.event, &event);
        let json = Event::from_type_and_data(event.type_name(), event.data_json()).expect("json");
        prop_assert_eq!(json, event);
    }

    #[test]
    fn any_generated_event_is_valid(event in arb_event()) {
        prop_assert_eq!(validate::event(&event), Ok(()));
    }
}

fn invalid_field(event: &Event, reason: Option<&str>) -> String {
    validate::envelope(event, day(2024, 9, 10), reason, "someone")
        .expect_err("should be rejected")
        .field
}

#[test]
fn a_rag_change_without_a_reason_is_rejected_naming_reason() {
    let e = Event::RagChanged {
        dimension: Dimension::Overall,
        rag: Rag::Green,
    };
    assert_eq!(invalid_field(&e, None), "reason");
    assert_eq!(invalid_field(&e, Some("   ")), "reason");
    assert!(validate::envelope(&e, day(2024, 9, 10), Some("recovery plan on track"), "x").is_ok());
    let c = Event::Corrected {
        target: uuid(1),
        replacement: None,
    };
    assert_eq!(invalid_field(&c, None), "reason");
    let t = Event::TargetDateRevised {
        target_date: day(2016, 9, 30),
    };
    assert_eq!(invalid_field(&t, None), "reason");
}

#[test]
fn content_rules_name_the_field() {
    let reading = |v: f64| Event::MetricReadingRecorded {
        period: "Jul 20".into(),
        period_end: day(2020, 7, 31),
        value: Some(Value::Number(v)),
        rag: None,
        target: None,
        note: None,
    };
    assert_eq!(invalid_field(&reading(f64::NAN), None), "data.value");
    assert_eq!(invalid_field(&reading(f64::INFINITY), None), "data.value");
    let money = Event::FinanceRecorded {
        budget: Some(-1),
        spent: None,
        savings_target: None,
        savings_achieved: None,
    };
    assert_eq!(invalid_field(&money, None), "data.budget");
    let spent = Event::FinanceRecorded {
        budget: None,
        spent: Some(-5),
        savings_target: Some(-50_000_000),
        savings_achieved: None,
    };
    assert_eq!(invalid_field(&spent, None), "data.spent");
    let mut item = every_variant()[2].clone();
    if let Event::ItemRegistered { title, .. } = &mut item {
        *title = "  ".into();
    }
    assert_eq!(invalid_field(&item, None), "data.title");
    let long = Event::NarrativeRecorded {
        section: Section::Progress,
        text: "x".repeat(validate::TEXT_MAX + 1),
    };
    let err = validate::event(&long).expect_err("too long");
    assert_eq!(err.field, "data.text");
    assert!(err.message.contains("20000"), "{}", err.message);
    let metric = Event::MetricDefined {
        item: None,
        reference: None,
        name: "Average weekly cost".into(),
        unit: Unit::Gbp,
        good_direction: Direction::Down,
        target: Some(Value::Number(3200.0)),
        tolerance_pct: None,
    };
    assert_eq!(invalid_field(&metric, None), "data.target");
    let nested = Event::Corrected {
        target: uuid(1),
        replacement: Some(Box::new(Event::NarrativeRecorded {
            section: Section::Progress,
            text: String::new(),
        })),
    };
    assert_eq!(
        invalid_field(&nested, Some("typo")),
        "data.replacement.text"
    );
    let far =
        validate::envelope(&every_variant()[0], day(2999, 1, 1), None, "x").expect_err("date");
    assert_eq!(far.field, "effective");
    let nobody =
        validate::envelope(&every_variant()[0], day(2024, 1, 1), None, "").expect_err("actor");
    assert_eq!(nobody.field, "actor");
}

#[test]
fn json_errors_name_the_field_and_the_expected_values() {
    let err = Event::from_type_and_data(
        "RagChanged",
        json!({"dimension": "overall", "rag": "purple"}),
    )
    .expect_err("unknown rag");
    assert_eq!(err.field, "data.rag");
    assert!(
        err.message.contains("purple") && err.message.contains("amber"),
        "{}",
        err.message
    );

    let err = Event::from_type_and_data("StatusChanged", json!({})).expect_err("unknown type");
    assert_eq!(err.field, "type");
    assert!(err.message.contains("RagChanged"));

    let err = Event::from_type_and_data(
        "BoardMeetingHeld",
        json!({"board": "CIB", "date": "2024-02-30"}),
    )
    .expect_err("no such date");
    assert_eq!(err.field, "data.date");

    let err = Event::from_type_and_data(
        "RagChanged",
        json!({"dimension": "overall", "rag": "red", "colour": 1}),
    )
    .expect_err("unknown field");
    assert!(err.message.contains("colour"), "{}", err.message);

    let err = Event::from_type_and_data(
        "MetricReadingRecorded",
        json!({"period": "Q1", "period_end": "2018-06-30", "value": {"number": "high"}}),
    )
    .expect_err("wrong type");
    assert_eq!(err.field, "data.value.number");
}
