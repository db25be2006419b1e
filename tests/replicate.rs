//! `ragtrail replicate` into a PostgreSQL of the test's own: the demo
//! exactly, `ragtrail.board_as_at` against `GET /api/v1/board`, kills of
//! the replicator, the source and PostgreSQL during appends, a rewritten
//! source refused, and two authorities in one database.

#[path = "support/pg.rs"]
mod pg;
mod support;

use pg::Postgres;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{client, whole_log, Server};

/// A running `ragtrail replicate`.
struct Replicator(Child);

impl Replicator {
    fn start(s: &Server, token: &str, pg: &Postgres, instance: &str) -> Replicator {
        let child = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args([
                "replicate",
                "--from",
                &s.base,
                "--to",
                &pg.url(),
                "--instance",
                instance,
            ])
            .env("RAGTRAIL_TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ragtrail replicate");
        Replicator(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits (bounded) until PostgreSQL holds `position` of `instance`.
async fn caught_up(pg: &Postgres, instance: &str, position: u64) {
    let db = pg.connect().await;
    let start = Instant::now();
    loop {
        let held = db
            .query_opt(
                "SELECT position FROM ragtrail.sources WHERE instance = $1",
                &[&instance],
            )
            .await
            .ok()
            .flatten()
            .map_or(0, |r| r.get::<_, i64>(0) as u64);
        if held >= position {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{instance}: at {held} of {position} after a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn head(page: &Value) -> u64 {
    page["head"]["position"].as_u64().expect("head")
}

/// PostgreSQL's events of `instance` equal the source's log, event for event.
async fn same_log(pg: &Postgres, instance: &str, s: &Server) {
    let log = whole_log(s).await;
    let db = pg.connect().await;
    let rows = db
        .query(
            "SELECT position, id, hash, prev_hash, type, data, actor FROM ragtrail.events WHERE instance = $1 ORDER BY position",
            &[&instance],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), log.len(), "every event once");
    for (row, e) in rows.iter().zip(&log) {
        assert_eq!(row.get::<_, i64>(0) as u64, e["position"].as_u64().unwrap());
        assert_eq!(
            row.get::<_, uuid::Uuid>(1).to_string(),
            e["id"].as_str().unwrap()
        );
        assert_eq!(row.get::<_, String>(2), e["hash"].as_str().unwrap());
        assert_eq!(row.get::<_, String>(3), e["prev_hash"].as_str().unwrap());
        assert_eq!(row.get::<_, String>(4), e["type"].as_str().unwrap());
        assert_eq!(row.get::<_, Value>(5), e["data"]);
        assert_eq!(row.get::<_, String>(6), e["actor"].as_str().unwrap());
    }
}

/// The board as at `date` from the API: (item, dimension) -> (rag, actor, effective, reason).
async fn api_board(s: &Server, date: &str) -> BTreeMap<(String, String), Value> {
    let board = s
        .admin_json(&format!("/api/v1/board?as_at={date}&limit=1000"))
        .await;
    assert!(board["next"].is_null());
    let mut out = BTreeMap::new();
    for i in board["items"].as_array().unwrap() {
        for (d, set) in i["rag"].as_object().unwrap() {
            out.insert(
                (i["id"].as_str().unwrap().to_string(), d.clone()),
                json!([
                    set["value"],
                    set["set"]["actor"],
                    set["set"]["effective"],
                    set["set"]["reason"]
                ]),
            );
        }
    }
    out
}

async fn sql_board(pg: &Postgres, date: &str, instance: &str) -> BTreeMap<(String, String), Value> {
    let db = pg.connect().await;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let rows = db
        .query(
            "SELECT item, dimension, rag, set_by, effective, reason FROM ragtrail.board_as_at($1, NULL, $2)",
            &[&day, &instance],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let eff: chrono::NaiveDate = r.get(4);
            (
                (r.get::<_, uuid::Uuid>(0).to_string(), r.get::<_, String>(1)),
                json!([
                    r.get::<_, String>(2),
                    r.get::<_, String>(3),
                    eff.to_string(),
                    r.get::<_, Option<String>>(5)
                ]),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_demo_replicates_exactly_and_board_as_at_agrees_with_the_api() {
    let Some(pg) = Postgres::start() else { return };
    let s = Server::start_demo();
    let reader = s.token("replicator", "reader").await;
    let mut r = Replicator::start(&s, &reader, &pg, "demo");
    let h = head(&s.admin_json("/api/v1/events?limit=1").await);
    caught_up(&pg, "demo", h).await;
    same_log(&pg, "demo", &s).await;
    // Every board date of the demo, item by item and dimension by dimension.
    let boards = s.admin_json("/api/v1/boards").await;
    let mut dates: Vec<String> = boards["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["date"].as_str().unwrap().to_string())
        .collect();
    dates.dedup();
    assert!(dates.len() >= 3, "{dates:?}");
    for d in &dates {
        assert_eq!(
            sql_board(&pg, d, "demo").await,
            api_board(&s, d).await,
            "as at {d}"
        );
    }
    // Live: a RAG change, then its correction, arrive through the feed.
    let item = ragtrail::import::id_of("tameside-cip/priority-4").to_string();
    let writer = s.token("lead", "writer").await;
    let post = |body: Value| {
        let c = client();
        let url = s.url("/api/v1/events");
        let w = writer.clone();
        async move {
            let r = c.post(url).bearer_auth(w).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    };
    let red = post(
        json!({"stream": item, "type": "RagChanged", "data": {"dimension": "overall", "rag": "red"},
        "effective": "2024-10-08", "reason": "slipped"}),
    )
    .await;
    let fixed = post(
        json!({"stream": item, "type": "Corrected", "data": {"target": red["id"],
        "replacement": {"RagChanged": {"dimension": "overall", "rag": "amber"}}},
        "effective": "2024-10-08", "reason": "Amber was agreed, not Red"}),
    )
    .await;
    caught_up(&pg, "demo", fixed["position"].as_u64().unwrap()).await;
    same_log(&pg, "demo", &s).await;
    let after = api_board(&s, "2024-10-08").await;
    assert_eq!(after[&(item.clone(), "overall".to_string())][0], "amber");
    assert_eq!(
        sql_board(&pg, "2024-10-08", "demo").await,
        after,
        "the correction applies as in ragtrail"
    );
    // The source's signed digest was recorded.
    let db = pg.connect().await;
    let digests: i64 = db
        .query_one(
            "SELECT count(*) FROM ragtrail.digests WHERE instance = 'demo'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(digests >= 1);
    // The typed tables hold the demo's programmes, items and readings.
    for (table, at_least) in [
        ("programmes", 4i64),
        ("items", 40),
        ("board_meetings", 3),
        ("metrics", 5),
        ("metric_readings", 10),
    ] {
        let n: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM ragtrail.{table} WHERE instance = 'demo'"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(n >= at_least, "{table}: {n}");
    }
    // A reading's unit is its metric's.
    let units: Vec<String> = db
        .query(
            "SELECT DISTINCT unit FROM ragtrail.metric_readings WHERE instance = 'demo' AND unit IS NOT NULL ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        units
            .iter()
            .all(|u| ["count", "percent", "days", "ratio", "gbp", "yes_no"].contains(&u.as_str())),
        "{units:?}"
    );
    r.kill();
}

#[tokio::test]
async fn kills_of_the_replicator_the_source_and_postgresql_lose_and_double_nothing() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start_with(&data, &[]);
    let reader = s.token("replicator", "reader").await;
    let writer = s.token("writers", "writer").await;
    let mut r = Replicator::start(&s, &reader, &pg, "load");
    // Sixteen writers append while each side is killed in turn.
    let writers = |s: &Server, round: usize| {
        (0..16)
            .map(|w| {
                let (url, token) = (s.url("/api/v1/events"), writer.clone());
                tokio::spawn(async move {
                    let c = client();
                    let stream = uuid::Uuid::from_u128(0xabc0 + w as u128);
                    let mut ok = 0;
                    for n in 0..25 {
                        let body = json!({"stream": stream, "type": "NarrativeRecorded",
                            "data": {"section": "progress", "text": format!("round {round} writer {w} entry {n}")},
                            "effective": "2024-09-10"});
                        if let Ok(r) = c.post(&url).bearer_auth(&token).json(&body).send().await {
                            ok += usize::from(r.status() == 201);
                        }
                    }
                    ok
                })
            })
            .collect::<Vec<_>>()
    };
    for round in 0..3 {
        let tasks = writers(&s, round);
        tokio::time::sleep(Duration::from_millis(150)).await;
        match round {
            0 => {
                r.kill(); // the replicator, kill -9
                r = Replicator::start(&s, &reader, &pg, "load");
            }
            1 => pg.crash(), // PostgreSQL, immediate stop (no checkpoint)
            _ => {
                // The source, kill -9 (its writers' appends fail from here).
                let _ = s.child.kill();
                let _ = s.child.wait();
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        if round == 1 {
            pg.run();
        }
        if round == 2 {
            // The source, started again on its data and address.
            let addr = s.base.trim_start_matches("http://").to_string();
            s = Server::start_with(&data, &["--addr", &addr]);
        }
    }
    // One more append after the source came back: the replicator reconnects to it.
    let c = client();
    let last = c
        .post(s.url("/api/v1/events"))
        .bearer_auth(&writer)
        .json(
            &json!({"stream": uuid::Uuid::from_u128(0xabcf), "type": "NarrativeRecorded",
            "data": {"section": "progress", "text": "after the kills"}, "effective": "2024-09-10"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 201);
    let h = head(&s.admin_json("/api/v1/events?limit=1").await);
    assert!(h > 2 * 16 * 25, "the writers appended ({h} events)");
    caught_up(&pg, "load", h).await;
    same_log(&pg, "load", &s).await;
    r.kill();
}

#[tokio::test]
async fn a_rewritten_source_is_refused_and_two_authorities_share_one_database() {
    let Some(pg) = Postgres::start() else { return };
    let a = Server::start_demo();
    let b = Server::start(false);
    b.batch(
        &json!({"events": [support::event(support::PROGRAMME, "ProgrammeRegistered",
        json!({"name": "B's programme", "authority": "Borough B"}), "2024-01-01")]}),
    )
    .await;
    let (ta, tb) = (a.token("r", "reader").await, b.token("r", "reader").await);
    let mut ra = Replicator::start(&a, &ta, &pg, "authority-a");
    let mut rb = Replicator::start(&b, &tb, &pg, "authority-b");
    caught_up(
        &pg,
        "authority-a",
        head(&a.admin_json("/api/v1/events?limit=1").await),
    )
    .await;
    caught_up(&pg, "authority-b", 1).await;
    same_log(&pg, "authority-a", &a).await;
    same_log(&pg, "authority-b", &b).await;
    let db = pg.connect().await;
    let per: Vec<(String, i64)> = db
        .query(
            "SELECT instance, count(*) FROM ragtrail.events GROUP BY instance ORDER BY instance",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(per.len(), 2, "{per:?}");
    let day = chrono::NaiveDate::from_ymd_opt(2024, 9, 10).unwrap();
    let only_a: i64 = db
        .query_one("SELECT count(*) FROM ragtrail.board_as_at($1, NULL, 'authority-a') WHERE instance <> 'authority-a'", &[&day])
        .await
        .unwrap()
        .get(0);
    assert_eq!(only_a, 0, "board_as_at answers per instance");
    ra.kill();
    rb.kill();
    // Now point instance "authority-b" at a different log: it is refused, and nothing changes.
    let before: i64 = db
        .query_one(
            "SELECT count(*) FROM ragtrail.events WHERE instance = 'authority-b'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args([
            "replicate",
            "--from",
            &a.base,
            "--to",
            &pg.url(),
            "--instance",
            "authority-b",
        ])
        .env("RAGTRAIL_TOKEN", &ta)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rewritten"), "{err}");
    let after: i64 = db
        .query_one(
            "SELECT count(*) FROM ragtrail.events WHERE instance = 'authority-b'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(after, before, "nothing of the other log was mixed in");
}
