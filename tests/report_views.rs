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
