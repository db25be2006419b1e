//! What the views show of a report's facts, end to end on the real binary:
//! two entries in one narrative section at one board, the whole planned
//! timeline and money in pounds on the item page, late work and slippage.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn a_board_shows_every_entry_the_whole_plan_pounds_and_late_work() {
    let s = Server::start(true);
    let item = "00000000-0000-0000-0000-0000000000a1";
    let months: Vec<_> = (0..14)
        .map(|i| {
            let (y, m) = (2020 + (i / 12), i % 12 + 1);
            json!({"month": format!("{y}-{m:02}-01"), "phase": if i < 3 { "planning" } else { "implementation" }})
        })
        .collect();
    s.batch(&json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "LAC", "authority": "Tameside"}), "2020-01-31"),
        event(PROGRAMME, "BoardMeetingHeld", json!({"board": "July report", "date": "2020-07-31"}), "2020-07-31"),
        event(item, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "project", "reference": "5",
            "title": "Positive Futures", "target_date": "2020-06-30"}), "2020-01-31"),
        event(item, "TimelinePlanned", json!({"months": months}), "2020-01-31"),
        event(item, "FinanceRecorded", json!({"savings_target": 356150}), "2020-07-31"),
        event(item, "NarrativeRecorded", json!({"section": "progress", "text": "Purchase of Greenwood Ave agreed"}), "2020-07-31"),
        event(item, "NarrativeRecorded", json!({"section": "progress", "text": "Staff recruited for the respite service"}), "2020-07-31"),
    ]}))
    .await;
    let board = s
        .public_json(&format!(
            "/api/v1/board?as_at=2020-07-31&programme={PROGRAMME}"
        ))
        .await;
    let row = board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item)
        .unwrap();
    assert_eq!(
        row["narratives"]["progress"]["value"],
        "Staff recruited for the respite service"
    );
    assert_eq!(
        row["earlier_narratives"]["progress"][0]["value"],
        "Purchase of Greenwood Ave agreed"
    );
    assert_eq!(row["overdue_days"], 31, "open, and 31 days past 30 June");
    let page = client()
        .get(s.url(&format!("/?programme={PROGRAMME}&as_at=2020-07-31")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Purchase of Greenwood Ave agreed") && page.contains("Staff recruited"));
    assert!(page.contains("overdue 31 days"), "{page}");
    let csv = client()
        .get(s.url(&format!(
            "/api/v1/board?as_at=2020-07-31&programme={PROGRAMME}&format=csv"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("Purchase of Greenwood Ave agreed\n\nStaff recruited"),
        "both entries in one cell"
    );
    let item_page = client()
        .get(s.url(&format!("/items/{item}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        item_page.contains("£3561.50"),
        "savings in pounds, not pence"
    );
    assert!(!item_page.contains("356150"));
    assert!(
        item_page.contains("Feb 2021: implementation"),
        "the whole plan, to its last month"
    );
}

async fn text(s: &Server, path: &str) -> String {
    client()
        .get(s.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_new_kinds_of_fact_are_taken_and_shown() {
    let s = Server::start(true);
    let (a, b, shared, risk, metric) = (
        "00000000-0000-0000-0000-0000000000b1",
        "00000000-0000-0000-0000-0000000000b2",
        "00000000-0000-0000-0000-0000000000b3",
        "00000000-0000-0000-0000-0000000000b4",
        "00000000-0000-0000-0000-0000000000b5",
    );
    let d = "2018-11-01";
    let reg = |id: &str, parent: Option<&str>, r: &str| {
        event(
            id,
            "ItemRegistered",
            json!({"programme": PROGRAMME, "parent": parent, "kind": "action", "reference": r, "title": format!("action {r}")}),
            d,
        )
    };
    let mut rag_change = event(
        shared,
        "RagChanged",
        json!({"dimension": "overall", "rag": "amber"}),
        d,
    );
    rag_change["reason"] = json!("as reported");
    s.batch(&json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "Sufficiency", "authority": "Cheshire East"}), d),
        event(PROGRAMME, "BoardMeetingHeld", json!({"board": "Review", "date": d}), d),
        event(PROGRAMME, "RagDefined", json!({"rag": "blue", "label": "Complete"}), d),
        event(PROGRAMME, "RagDefined", json!({"rag": "amber", "label": "Slippage or Issues", "meaning": "Some slippage, or issues to resolve"}), d),
        event(PROGRAMME, "SourceRecorded", json!({"title": "Sufficiency review and scorecard", "date": d, "author": "Head of Service", "sha256": "ab".repeat(32)}), d),
        reg(a, None, "SE1"), reg(b, None, "SE2"), reg(shared, Some(a), "A1"),
        event(shared, "ItemLinked", json!({"other": b, "relation": "also under"}), d),
        event(shared, "MilestonePlanned", json!({"when": "To be agreed", "activity": "Panel in place", "state": "unstated"}), d),
        event(shared, "MoneyRecorded", json!({"line": "Investment needed", "pence": 2500000}), d),
        event(risk, "RiskRaised", json!({"programme": PROGRAMME, "item": shared, "reference": "R1", "description": "Capacity", "mitigation": "Recruit"}), d),
        event(risk, "RiskScored", json!({"likelihood": 4, "impact": 5, "score": 20}), d),
        event(metric, "MetricDefined", json!({"item": shared, "name": "Reviews", "unit": "count", "good_direction": "up"}), d),
        event(metric, "TargetStated", json!({"target": "Quarterly review"}), d),
        event(PROGRAMME, "NoteRecorded", json!({"kind": "assumption", "field": "date", "note": "The review is undated; its updates run to November 2018"}), d),
        event(shared, "NoteRecorded", json!({"kind": "contradiction", "field": "target_date", "note": "Revised earlier though the text says later"}), d),
        event(PROGRAMME, "Attributed", json!({"person": "Alison Montgomery", "capacity": "sponsor"}), d),
        rag_change,
        event(metric, "MetricReadingRecorded", json!({"period": "Q2", "period_end": "2018-09-30", "value": {"number": 3}}), d),
    ]}))
    .await;
    // Bad ones are refused with the field named.
    for (body, field) in [
        (
            event(risk, "RiskScored", json!({"likelihood": 0, "impact": 5}), d),
            "data.likelihood",
        ),
        (
            event(
                PROGRAMME,
                "SourceRecorded",
                json!({"title": "x", "date": d, "sha256": "zz"}),
                d,
            ),
            "data.sha256",
        ),
    ] {
        let res = client()
            .post(s.url("/api/v1/events"))
            .bearer_auth(&s.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let p: serde_json::Value = res.json().await.unwrap();
        assert_eq!(p["field"], field, "{p}");
    }
    let board = s
        .public_json(&format!("/api/v1/board?as_at={d}&programme={PROGRAMME}"))
        .await;
    let p = &board["programmes"][0];
    assert_eq!(p["rag_definitions"][1]["label"], "Slippage or Issues");
    assert_eq!(p["source"]["author"], "Head of Service");
    let row = board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == shared)
        .unwrap();
    assert_eq!(row["milestones"][0]["date"], serde_json::Value::Null);
    assert_eq!(row["milestones"][0]["when"], "To be agreed");
    assert_eq!(row["money_lines"]["Investment needed"]["value"], 2500000);
    assert_eq!(row["links"][0]["item"], b);
    assert_eq!(row["risks"][0]["score"], 20);
    assert_eq!(row["metrics"][0]["target_text"], "Quarterly review");
    let other = board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == b)
        .unwrap();
    assert_eq!(other["links"][0]["item"], shared);
    assert_eq!(other["links"][0]["inward"], true);

    let board_page = text(&s, &format!("/?programme={PROGRAMME}&as_at={d}")).await;
    assert!(
        board_page.contains("Slippage or Issues")
            && board_page.contains("Some slippage, or issues to resolve")
    );
    assert!(board_page.contains("Source: Sufficiency review and scorecard"));
    assert!(board_page.contains("(target: Quarterly review)"));
    assert!(
        board_page.contains("Assumed (date):")
            && board_page.contains("its updates run to November 2018")
    );
    assert!(board_page.contains("The report contradicts itself (target_date):"));
    assert_eq!(
        row["rag"]["overall"]["set"]["attributed_to"],
        json!({"person": "Alison Montgomery", "capacity": "sponsor"})
    );
    let item_page = text(&s, &format!("/items/{shared}")).await;
    assert!(
        item_page.contains("set by Alison Montgomery (sponsor), recorded by admin"),
        "who set it, beside who recorded it"
    );
    for want in [
        "To be agreed",
        "no date given",
        "Investment needed",
        "£25000.00",
        "also under",
        "likelihood 4, impact 5, score 20",
        "Mitigation: Recruit",
        "Source: Sufficiency review",
    ] {
        assert!(item_page.contains(want), "the item page shows {want:?}");
    }
}

#[tokio::test]
async fn an_import_names_its_source_report_with_the_files_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("plan.jsonl");
    let lines = [
        json!({"stream": "cambs", "type": "ProgrammeRegistered", "data": {"name": "LAC", "authority": "Cambridgeshire"}, "effective": "2016-06-29"}),
        json!({"stream": "cambs/action-1.1", "type": "ItemRegistered", "data": {"programme": "cambs", "kind": "action", "reference": "1.1", "title": "Edge of care"}, "effective": "2016-06-29"}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, &body).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    };
    let import = |f: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args(["import", "--data"])
            .arg(&data)
            .args([
                "--source-title",
                "LAC Action Plan Progress Report",
                "--source-date",
                "2016-06-29",
                "--source-author",
                "Head of Service",
            ])
            .arg(f)
            .output()
            .unwrap()
    };
    let first = import(&file);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = import(&file);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already imported"),
        "the same file and source change nothing"
    );
    // A file that names no programme has nowhere to record its source.
    let orphan = tmp.path().join("readings.jsonl");
    std::fs::write(&orphan, format!("{}\n", json!({"stream": "cambs/action-1.1", "type": "NarrativeRecorded", "data": {"section": "progress", "text": "done"}, "effective": "2016-06-29"}))).unwrap();
    let refused = import(&orphan);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing to record the source on"));

    let s = Server::start_on(&data, true);
    let p = ragtrail::import::id_of("cambs");
    let board = s
        .public_json(&format!("/api/v1/board?as_at=2016-06-29&programme={p}"))
        .await;
    let source = &board["programmes"][0]["source"];
    assert_eq!(source["title"], "LAC Action Plan Progress Report");
    assert_eq!(source["author"], "Head of Service");
    assert_eq!(source["sha256"], sha.as_str(), "the file's own SHA-256");
    let item_page = text(
        &s,
        &format!("/items/{}", ragtrail::import::id_of("cambs/action-1.1")),
    )
    .await;
    assert!(item_page.contains("Source: LAC Action Plan Progress Report"));
}
