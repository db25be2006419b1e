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
