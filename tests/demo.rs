//! `ragtrail serve --demo`: the five seed reports, loaded into an empty store,
//! served publicly, and true to the documents: spot checks from every seed.

mod support;

use ragtrail::import::id_of;
use serde_json::Value;
use support::*;

async fn get(s: &Server, path: &str) -> Value {
    let res = client().get(s.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn item<'a>(board: &'a Value, id: &str) -> &'a Value {
    let id = id_of(id).to_string();
    board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no item {id} on the board"))
}

#[tokio::test]
async fn the_demo_holds_the_seed_reports_facts() {
    let s = Server::start_demo();

    let v = get(&s, "/api/v1/verify").await;
    assert_eq!(v["verified"], true, "{v}");
    assert!(v["count"].as_u64().unwrap() > 700, "{v}");

    // Tameside, July 2020: "Number of Tameside foster carers" 206, Red; lower is not better.
    let p = id_of("tameside-lac");
    let board = get(&s, &format!("/api/v1/board?as_at=2020-07-31&programme={p}")).await;
    let fostering = item(&board, "tameside-lac/project-6-fostering");
    let carers = fostering["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Number of Tameside foster carers")
        .expect("the foster carers metric");
    assert_eq!(carers["latest"]["value"]["number"], 206.0);
    assert_eq!(carers["latest"]["rag"], "red");
    assert_eq!(carers["latest"]["rating"], "reported");
    assert_eq!(
        fostering["finance"]["budget"], 15_000_000,
        "£150,000 in pence"
    );
    let duty = item(&board, "tameside-lac/project-4-duty-locality");
    let changes = duty["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["name"]
                .as_str()
                .unwrap()
                .contains("3 or more changes of social worker")
        })
        .unwrap();
    assert_eq!(
        (
            changes["latest"]["value"]["number"].as_f64(),
            changes["good_direction"].as_str()
        ),
        (Some(44.8), Some("down"))
    );
    assert_eq!(changes["latest"]["rag"], "red");
    assert_eq!(
        fostering["planned_phase"], "implementation",
        "the July 2020 timeline"
    );
    // The four ILACS judgements of May 2019.
    let programme = &board["programmes"][0];
    let judgements = programme["judgements"].as_array().unwrap();
    assert_eq!(judgements.len(), 4);
    assert!(judgements
        .iter()
        .all(|j| j["grade"] == "requires_improvement"));
    assert!(judgements
        .iter()
        .any(|j| j["area"] == "Overall effectiveness"));

    // CIB, 10 September 2024: priority 4 Amber -> Green; the others stay Amber.
    let cip = id_of("tameside-cip");
    let cmp = get(
        &s,
        &format!("/api/v1/compare?from=2024-07-09&to=2024-09-10&programme={cip}"),
    )
    .await;
    let p4 = id_of("tameside-cip/priority-4").to_string();
    let m = cmp["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == p4.as_str())
        .unwrap();
    assert_eq!(m["rag"]["overall"]["from"], "amber");
    assert_eq!(m["rag"]["overall"]["to"], "green");
    assert_eq!(m["rag"]["overall"]["change"], "improved");
    let board = get(
        &s,
        &format!("/api/v1/board?as_at=2024-09-10&programme={cip}"),
    )
    .await;
    assert_eq!(board["counts"]["overall"]["amber"], 3);
    assert_eq!(board["counts"]["overall"]["green"], 1);
    let need = item(&board, "tameside-cip/priority-1/need-1");
    assert!(need["narratives"]["progress"]["value"]
        .as_str()
        .unwrap()
        .contains("MASH Dashboard went live on 14 August"));
    assert!(need["narratives"]["next_period"]["value"]
        .as_str()
        .unwrap()
        .contains("Graded Care Profile"));

    // Cambridgeshire, June 2016: action 4.7, target saving -500 £k, savings RAG Red.
    let cambs = id_of("cambridgeshire-lac");
    let board = get(
        &s,
        &format!("/api/v1/board?as_at=2016-06-29&programme={cambs}"),
    )
    .await;
    let a47 = item(&board, "cambridgeshire-lac/action-4.7");
    assert_eq!(a47["finance"]["savings_target"], -50_000_000);
    assert_eq!(a47["rag"]["savings"]["value"], "red");
    assert_eq!(a47["rag"]["delivery"]["value"], "amber");
    assert_eq!(a47["priority"], "high");
    let r01 = &item(&board, "cambridgeshire-lac/action-1.1")["risks"];
    assert_eq!(
        r01.as_array().unwrap().len(),
        2,
        "R01 and R02 are raised against 1.1"
    );

    // Cheshire East: beyond 20 miles, 24% then 23% against a 10% target.
    let metric = id_of("cheshire-east-sufficiency/scorecard/measure-2");
    let trend = get(&s, &format!("/api/v1/metrics/{metric}/trend")).await;
    let values: Vec<f64> = trend["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["number"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![24.0, 23.0]);
    assert_eq!(trend["target"]["number"], 10.0);
    assert!(
        trend["readings"][1]["rating"]["rule"]
            .as_str()
            .unwrap()
            .contains("improving on 24"),
        "{trend}"
    );

    // The boards to pick from.
    let boards = get(&s, "/api/v1/boards").await;
    assert!(boards["boards"].as_array().unwrap().len() >= 6);
}

#[tokio::test]
async fn the_demo_loads_once_and_a_restart_serves_it_as_it_is() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start_with(&data, &["--demo"]);
    let first = get(&s, "/healthz").await["head"]["position"]
        .as_u64()
        .unwrap();
    assert_eq!(s.stop(), Some(0));
    let s = Server::start_with(&data, &["--demo"]);
    let again = get(&s, "/healthz").await["head"]["position"]
        .as_u64()
        .unwrap();
    assert_eq!(first, again, "the demo is not loaded twice");
}

/// Cambridgeshire's June 2016 action plan, as an inspector asks it: what
/// slipped, by how much, what is overdue, and which actions hold slipped steps.
#[tokio::test]
async fn what_slipped_and_what_is_late_on_the_demo() {
    let s = Server::start_demo();
    let p = id_of("cambridgeshire-lac");
    let slips = get(&s, &format!("/api/v1/slippage?programme={p}&to=2016-06-29")).await;
    let items = slips["items"].as_array().unwrap();
    let days: Vec<i64> = items.iter().map(|i| i["days"].as_i64().unwrap()).collect();
    assert!(
        days.windows(2).all(|w| w[0] >= w[1]),
        "biggest first: {days:?}"
    );
    // 2.3.2: "30 April 16", revised to "31 July 16".
    assert_eq!(items[0]["reference"], "2.3.2", "{}", items[0]);
    assert_eq!(
        (items[0]["before"].as_str(), items[0]["after"].as_str()),
        (Some("2016-04-30"), Some("2016-07-31"))
    );
    assert_eq!(days[0], 92);
    // 5.1.1 was given an end date earlier than its first one: brought forward, shown last.
    let last = items.last().unwrap();
    assert_eq!(last["reference"], "5.1.1", "{last}");
    assert!(last["days"].as_i64().unwrap() < 0);

    // The same as CSV, and on the page.
    let csv = client()
        .get(s.url(&format!(
            "/api/v1/slippage?programme={p}&to=2016-06-29&format=csv"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("days_moved") && csv.contains("2.3.2"), "{csv}");
    let boards = get(&s, "/api/v1/boards").await;
    let board = boards["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["programme"] == p.to_string().as_str())
        .unwrap();
    let page = client()
        .get(s.url(&format!("/slippage?to={}", board["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("slipped 92 days") && page.contains("brought forward"),
        "{page}"
    );

    // The board: action 2.3 shows its step's slippage; open work past its date is overdue.
    let b = get(
        &s,
        &format!("/api/v1/board?as_at=2016-06-29&programme={p}&limit=1000"),
    )
    .await;
    let action = item(&b, "cambridgeshire-lac/action-2.3");
    assert_eq!(action["within_slippage"]["reference"], "2.3.2", "{action}");
    assert_eq!(action["within_slippage"]["days"], 92);
    let overdue: Vec<&Value> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["overdue_days"].as_i64().is_some())
        .collect();
    assert!(!overdue.is_empty());
    for i in overdue {
        assert!(i["closed"].is_null(), "{i}");
        assert!(
            i["target_date"]["value"].as_str().unwrap() < "2016-06-29",
            "{i}"
        );
    }
}

/// The facts the audit of the seeds found recorded wrongly, or not at all,
/// as the demo now holds them.
#[tokio::test]
async fn the_demo_holds_what_the_audit_found_wrong_or_missing() {
    let s = Server::start_demo();
    let board =
        |p: &str, d: &str| format!("/api/v1/board?as_at={d}&programme={}&limit=1000", id_of(p));

    // Cambridgeshire: an action's Action RAG and Savings RAG are the action's, not a step's.
    let b = get(&s, &board("cambridgeshire-lac", "2016-06-29")).await;
    for (action, delivery, savings) in [
        ("2.1", "amber", Some("red")),
        ("4.4", "green", Some("green")),
        ("1.3", "green", None),
    ] {
        let a = item(&b, &format!("cambridgeshire-lac/action-{action}"));
        assert_eq!(a["rag"]["delivery"]["value"], delivery, "action {action}");
        match savings {
            Some(r) => assert_eq!(a["rag"]["savings"]["value"], r, "action {action}"),
            None => assert!(a["rag"]["savings"].is_null()),
        }
    }
    assert!(item(&b, "cambridgeshire-lac/action-2.1/step-3")["rag"]["delivery"].is_null());
    let p = &b["programmes"][0];
    let defs = p["rag_definitions"].as_array().unwrap();
    assert_eq!(
        defs.len(),
        8,
        "the Action RAG's four and the Savings RAG's four"
    );
    assert!(defs.iter().any(|d| d["dimension"] == "savings"
        && d["rag"] == "blue"
        && d["label"] == "Achieved/Exceeded"));
    assert_eq!(
        p["source"]["sha256"],
        "a4b9bad23fc0e5523b1bc0f806bdf56610adf7fa6d5967bc5d8786a9c5a945c9"
    );
    // A revised date earlier than the original, while the text says later: recorded as said, and flagged.
    let step = item(&b, "cambridgeshire-lac/action-4.7/step-1");
    assert_eq!(step["target_date"]["value"], "2016-06-30");
    assert_eq!(step["notes"][0]["kind"], "contradiction");
    assert!(step["notes"][0]["note"]
        .as_str()
        .unwrap()
        .contains("September 2016"));

    // Cheshire East: the action table shared by standards 5 and 6 (and 8 and 9) belongs to both.
    let b = get(&s, &board("cheshire-east-sufficiency", "2018-11-30")).await;
    for (standard, shared_from) in [("5", "6"), ("8", "9")] {
        let st = item(
            &b,
            &format!("cheshire-east-sufficiency/standard-{standard}"),
        );
        let links = st["links"].as_array().unwrap();
        assert!(!links.is_empty(), "standard {standard}");
        let action = id_of(&format!(
            "cheshire-east-sufficiency/standard-{shared_from}/action-1"
        ))
        .to_string();
        assert!(links.iter().any(|l| l["item"] == action.as_str()
            && l["relation"] == "also under"
            && l["inward"] == true));
    }
    // Assumptions are visible where the values are: the review's date, and each measure's direction and tolerance.
    let p = &b["programmes"][0];
    assert_eq!(p["notes"][0]["field"], "date");
    let scorecard = item(&b, "cheshire-east-sufficiency/scorecard");
    let beyond_20 = scorecard["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reference"] == "2")
        .unwrap();
    let fields: Vec<&str> = beyond_20["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"good_direction") && fields.contains(&"tolerance_pct"),
        "{fields:?}"
    );
    let page = client()
        .get(s.url(&format!(
            "/?programme={}&as_at=2018-11-30",
            id_of("cheshire-east-sufficiency")
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("(assumed: good direction, tolerance pct)"),
        "beside the measure on the board"
    );
    assert!(
        page.contains("Assumed (date):"),
        "the review's date, assumed, in the programme's header"
    );

    // A target in words: "Qtly review".
    let reviewed = scorecard["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reference"] == "1")
        .unwrap();
    assert_eq!(reviewed["target_text"], "Qtly review");
    assert!(reviewed["target"].is_null());

    // Tameside, July 2020: project 4's milestone table; "To be agreed" has no invented date.
    let b = get(&s, &board("tameside-lac", "2020-07-31")).await;
    let duty = item(&b, "tameside-lac/project-4-duty-locality");
    let m = duty["milestones"].as_array().unwrap();
    assert_eq!(m.len(), 3);
    assert!(m
        .iter()
        .all(|m| m["date"].is_null() && m["when"] == "No date given"));
    let positive = item(&b, "tameside-lac/project-5-positive-futures");
    let tba = positive["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["when"] == "To be a agreed")
        .unwrap();
    assert!(tba["date"].is_null(), "{tba}");
    assert_eq!(b["programmes"][0]["source"]["date"], "2020-07-31");
    // January 2020: the response to the first two needs keeps its first clause, and is both needs'.
    let b = get(&s, &board("tameside-lac", "2020-01-31")).await;
    for need in ["need-1", "need-2"] {
        let n = item(&b, &format!("tameside-lac/ilacs-2019/{need}"));
        assert!(
            n["narratives"]["progress"]["value"]
                .as_str()
                .unwrap()
                .starts_with("Response: Focused actions to review all Looked After Plans"),
            "{need}"
        );
    }

    // The CIB: its RAGs were set by the sponsor, who completed the report; the earlier board's date is an assumption.
    let b = get(&s, &board("tameside-cip", "2024-09-10")).await;
    let p4 = item(&b, "tameside-cip/priority-4");
    assert_eq!(
        p4["rag"]["overall"]["set"]["attributed_to"],
        serde_json::json!({"person": "Alison Montgomery", "capacity": "sponsor, who completed the report"})
    );
    assert_eq!(p4["rag"]["overall"]["set"]["actor"], "demo");
    assert_eq!(
        p4["money_lines"]["Investment approved in the resources paper (\"almost £5m\")"]["value"],
        500000000i64
    );
    let p = &b["programmes"][0];
    assert!(p["rag_definitions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["label"] == "At Risk"));
    assert_eq!(p["notes"][0]["kind"], "assumption");
    assert_eq!(p["source"]["author"], "Alison Montgomery");
}
