//! The HTTP API end to end: the real binary on 127.0.0.1, a temp data dir,
//! real HTTP. Every route, every status code, and that rejected requests
//! change nothing.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

async fn post(
    c: &reqwest::Client,
    s: &Server,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut r = c.post(s.url(path)).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(
    c: &reqwest::Client,
    s: &Server,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut r = c.get(s.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn log_of(c: &reqwest::Client, s: &Server) -> Value {
    let (st, v) = get(c, s, "/api/v1/events?limit=1000", Some(&s.admin)).await;
    assert_eq!(st, StatusCode::OK);
    v["events"].clone()
}

const P4: &str = "00000000-0000-0000-0000-000000000014";

/// The CIB report of 10 Sept 2024, cut down: programme, two boards, priority 4 Amber then Green.
async fn cib(c: &reqwest::Client, s: &Server, writer: &str) -> Value {
    let (st, v) = post(c, s, "/api/v1/batches", Some(writer), &json!({
        "idempotency_key": "cib-setup",
        "events": [
            event(PROGRAMME, "ProgrammeRegistered", json!({"name": "Children's Improvement Programme", "authority": "Tameside", "sponsor": "Alison Montgomery"}), "2024-07-09"),
            event(PROGRAMME, "BoardMeetingHeld", json!({"board": "CIB", "date": "2024-07-09"}), "2024-07-09"),
            event(PROGRAMME, "BoardMeetingHeld", json!({"board": "CIB", "date": "2024-09-10"}), "2024-09-10"),
            event(P4, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "4", "title": "Leadership and Workforce", "owner": "Alison Montgomery"}), "2024-07-09"),
            {"stream": P4, "type": "RagChanged", "data": {"dimension": "overall", "rag": "amber"}, "effective": "2024-07-09", "reason": "Progress against plan not as expected in some areas", "expected_version": 1},
        ]
    })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = post(c, s, "/api/v1/events", Some(writer), &json!({
        "stream": P4, "type": "RagChanged", "data": {"dimension": "overall", "rag": "green"},
        "effective": "2024-09-10", "reason": "On plan: all aspects within tolerance", "expected_version": 2
    })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn appends_and_every_read_view_work_end_to_end() {
    let s = Server::start(false);
    let c = client();
    let writer = s.token("board secretary", "writer").await;
    let green = cib(&c, &s, &writer).await;
    assert_eq!(green["position"], 6);
    assert_eq!(green["version"], 3);

    // The log, paged and by stream, with the actor taken from the token.
    let (st, page) = get(&c, &s, "/api/v1/events?after=2&limit=2", Some(&writer)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["events"][0]["position"], 3);
    assert_eq!(page["next_after"], 4);
    assert_eq!(page["events"][0]["actor"], "board secretary");
    let (_, by_stream) = get(
        &c,
        &s,
        &format!("/api/v1/events?stream={P4}"),
        Some(&writer),
    )
    .await;
    assert_eq!(by_stream["events"].as_array().unwrap().len(), 3);
    assert_eq!(by_stream["events"][2]["type"], "RagChanged");
    assert_eq!(by_stream["events"][2]["data"]["rag"], "green");

    // Board as at 10 Sept 2024: priority 4 is Green, set by whom and why.
    let (st, board) = get(
        &c,
        &s,
        &format!("/api/v1/board?as_at=2024-09-10&programme={PROGRAMME}"),
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let item = &board["items"][0];
    assert_eq!(item["title"], "Leadership and Workforce");
    assert_eq!(item["rag"]["overall"]["value"], "green");
    assert_eq!(item["rag"]["overall"]["set"]["actor"], "board secretary");
    assert_eq!(
        item["rag"]["overall"]["set"]["reason"],
        "On plan: all aspects within tolerance"
    );
    // As at the July board it was Amber; as known before the Green was recorded, too.
    let (_, july) = get(&c, &s, "/api/v1/board?as_at=2024-07-09", Some(&writer)).await;
    assert_eq!(july["items"][0]["rag"]["overall"]["value"], "amber");
    let before = log_of(&c, &s).await[4]["recorded_at"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, then) = get(
        &c,
        &s,
        &format!(
            "/api/v1/board?as_at=2024-09-10&known_at={}",
            before.replace('+', "%2B")
        ),
        Some(&writer),
    )
    .await;
    assert_eq!(
        then["items"][0]["rag"]["overall"]["value"], "amber",
        "{then}"
    );
    let (_, known) = get(
        &c,
        &s,
        &format!("/api/v1/events?known_at={}", before.replace('+', "%2B")),
        Some(&writer),
    )
    .await;
    assert_eq!(
        known["events"].as_array().unwrap().len(),
        5,
        "the log as known then"
    );

    // Movement since the last board.
    let (st, cmp) = get(
        &c,
        &s,
        "/api/v1/compare?from=2024-07-09&to=2024-09-10",
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(cmp["items"][0]["rag"]["overall"]["change"], "improved");

    // Trends, history, boards, counts.
    let (st, trend) = get(&c, &s, &format!("/api/v1/items/{P4}/trend"), Some(&writer)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(trend["boards"][0]["rag"]["overall"], "amber");
    assert_eq!(trend["boards"][1]["rag"]["overall"], "green");
    let (st, hist) = get(
        &c,
        &s,
        &format!("/api/v1/items/{P4}/history"),
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(hist["events"].as_array().unwrap().len(), 3);
    let (st, boards) = get(&c, &s, "/api/v1/boards", Some(&writer)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(boards["boards"][0]["date"], "2024-09-10");
    let (st, counts) = get(
        &c,
        &s,
        &format!("/api/v1/programmes/{PROGRAMME}/counts"),
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(counts["boards"][1]["counts"]["overall"]["green"], 1);

    // A metric and its trend.
    let metric = "00000000-0000-0000-0000-000000000099";
    let (st, _) = post(&c, &s, "/api/v1/batches", Some(&writer), &json!({"events": [
        event(metric, "MetricDefined", json!({"item": P4, "name": "Children seen within timescales (%)", "unit": "percent", "good_direction": "up", "target": {"number": 90.0}, "tolerance_pct": 10.0}), "2024-09-10"),
        event(metric, "MetricReadingRecorded", json!({"period": "July 2024", "period_end": "2024-07-31", "value": {"number": 83.0}}), "2024-09-10"),
    ]})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, mt) = get(
        &c,
        &s,
        &format!("/api/v1/metrics/{metric}/trend"),
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mt["readings"][0]["rag"], "green", "{mt}");

    // Verification and health.
    let (st, v) = get(&c, &s, "/api/v1/verify", Some(&writer)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (v["verified"].as_bool(), v["count"].as_u64()),
        (Some(true), Some(8))
    );
    let (st, h) = get(&c, &s, "/healthz", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["status"], "ok");
}

#[tokio::test]
async fn every_rejected_request_gets_its_status_and_changes_nothing() {
    let s = Server::start(false);
    let c = client();
    let writer = s.token("writer", "writer").await;
    let reader = s.token("reader", "reader").await;
    cib(&c, &s, &writer).await;
    let before = log_of(&c, &s).await;

    let rag = |rag: &str, reason: Option<&str>, expected: Option<u64>| {
        let mut e = event(
            P4,
            "RagChanged",
            json!({"dimension": "overall", "rag": rag}),
            "2024-10-01",
        );
        if let Some(r) = reason {
            e["reason"] = json!(r);
        }
        if let Some(v) = expected {
            e["expected_version"] = json!(v);
        }
        e
    };
    // 415: a body that does not say it is JSON.
    let res = c
        .post(s.url("/api/v1/events"))
        .bearer_auth(&writer)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // 400: not JSON.
    let res = c
        .post(s.url("/api/v1/events"))
        .bearer_auth(&writer)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    // 401: no token, unknown token.
    assert_eq!(
        post(&c, &s, "/api/v1/events", None, &rag("red", Some("x"), None))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(
            &c,
            &s,
            "/api/v1/events",
            Some("rt_nope"),
            &rag("red", Some("x"), None)
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    // 403: a reader writing.
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/events",
        Some(&reader),
        &rag("red", Some("x"), None),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // 409: a stale expected_version, with the current one.
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/events",
        Some(&writer),
        &rag("red", Some("x"), Some(1)),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["current_version"], 3);
    // 422: no reason for a RAG change; unknown RAG; bad date; unknown type; unknown field.
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/events",
        Some(&writer),
        &rag("red", None, None),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/events",
        Some(&writer),
        &rag("purple", Some("x"), None),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("data.rag"))
    );
    let mut bad_date = rag("red", Some("x"), None);
    bad_date["effective"] = json!("2024-02-30");
    assert_eq!(
        post(&c, &s, "/api/v1/events", Some(&writer), &bad_date)
            .await
            .1["field"],
        "effective"
    );
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/events",
        Some(&writer),
        &event(P4, "StatusChanged", json!({}), "2024-10-01"),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type"))
    );
    let mut extra = rag("red", Some("x"), None);
    extra["colour"] = json!("red");
    assert_eq!(
        post(&c, &s, "/api/v1/events", Some(&writer), &extra)
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // 422 in a batch names the event; the valid first event is not written either.
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/batches",
        Some(&writer),
        &json!({"events": [rag("red", Some("x"), None), rag("red", None, None)]}),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("events[1].reason"))
    );
    // 413: over the body limit.
    // (Its own connection: the server closes one whose body it refused to read.)
    let huge = json!({"stream": P4, "type": "NarrativeRecorded", "data": {"section": "progress", "text": "x".repeat(3 * 1024 * 1024)}, "effective": "2024-10-01"});
    assert_eq!(
        post(&client(), &s, "/api/v1/events", Some(&writer), &huge)
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // 404s.
    let unknown = "00000000-0000-0000-0000-0000000000ff";
    for path in [
        format!("/api/v1/items/{unknown}/trend"),
        format!("/api/v1/items/{unknown}/history"),
        format!("/api/v1/metrics/{unknown}/trend"),
        format!("/api/v1/boards/{unknown}/seal/verify"),
        "/api/v1/nothing".to_string(),
    ] {
        assert_eq!(
            get(&c, &s, &path, Some(&writer)).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        post(
            &c,
            &s,
            &format!("/api/v1/boards/{unknown}/seal"),
            Some(&writer),
            &json!({})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // 400s on queries, and a token in the URL.
    assert_eq!(
        get(&c, &s, "/api/v1/board?as_at=2024-02-30", Some(&writer))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&c, &s, "/api/v1/compare?from=2024-01-01", Some(&writer))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&c, &s, "/api/v1/events?limit=0", Some(&writer)).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&c, &s, &format!("/api/v1/board?token={writer}"), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(
        log_of(&c, &s).await,
        before,
        "a rejected request changed the log"
    );
    assert!(
        !s.log().contains(&writer),
        "a token appeared in the server log"
    );
}

#[tokio::test]
async fn reads_need_a_token_unless_public_and_readers_cannot_write_anywhere() {
    let private = Server::start(false);
    let public = Server::start(true);
    let c = client();
    for path in [
        "/api/v1/board",
        "/api/v1/events",
        "/api/v1/boards",
        "/api/v1/verify",
        "/api/v1/digest",
    ] {
        assert_eq!(
            get(&c, &private, path, None).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            get(&c, &public, path, None).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    let reader = public.token("inspector", "reader").await;
    let writer = public.token("lead", "writer").await;
    cib(&c, &public, &writer).await;
    let board_id = get(&c, &public, "/api/v1/boards", None).await.1["boards"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let writes = [
        (
            "/api/v1/events".to_string(),
            event(
                P4,
                "PhaseChanged",
                json!({"phase": "planning"}),
                "2024-10-01",
            ),
        ),
        (
            "/api/v1/batches".to_string(),
            json!({"events": [event(P4, "PhaseChanged", json!({"phase": "planning"}), "2024-10-01")]}),
        ),
        (format!("/api/v1/boards/{board_id}/seal"), json!({})),
        (
            "/api/v1/tokens".to_string(),
            json!({"name": "x", "role": "admin"}),
        ),
    ];
    for (path, body) in &writes {
        assert_eq!(
            post(&c, &public, path, Some(&reader), body).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            post(&c, &public, path, None, body).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let del = c
        .delete(public.url("/api/v1/tokens/lead"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::FORBIDDEN);
    // A writer may not manage tokens either; an admin may, and a revoked token stops working.
    assert_eq!(
        post(
            &c,
            &public,
            "/api/v1/tokens",
            Some(&writer),
            &json!({"name": "y", "role": "reader"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let del = c
        .delete(public.url("/api/v1/tokens/lead"))
        .bearer_auth(&public.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let (st, _) = post(&c, &public, "/api/v1/events", Some(&writer), &writes[0].1).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, list) = get(&c, &public, "/api/v1/tokens", Some(&public.admin)).await;
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "inspector"]);
}

#[tokio::test]
async fn concurrent_writers_with_expected_version_win_each_version_once() {
    let s = Server::start(false);
    let c = client();
    let writer = s.token("w", "writer").await;
    cib(&c, &s, &writer).await; // P4 is at version 3
    for version in 3..6u64 {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (c, url, writer) = (c.clone(), s.url("/api/v1/events"), writer.clone());
            tasks.push(tokio::spawn(async move {
                let body = json!({"stream": P4, "type": "NarrativeRecorded", "data": {"section": "progress", "text": format!("writer {i}")}, "effective": "2024-10-01", "expected_version": version});
                c.post(url).bearer_auth(writer).json(&body).send().await.unwrap().status()
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => won += 1,
                StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(won, 1, "version {version}");
    }
    let (_, hist) = get(
        &c,
        &s,
        &format!("/api/v1/events?stream={P4}"),
        Some(&writer),
    )
    .await;
    assert_eq!(hist["events"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_makes_no_second_event() {
    let s = Server::start(false);
    let c = client();
    let writer = s.token("w", "writer").await;
    cib(&c, &s, &writer).await;
    let body = json!({"stream": P4, "type": "NarrativeRecorded", "data": {"section": "progress", "text": "Leadership development programme launched"}, "effective": "2024-09-10"});
    let send = || {
        c.post(s.url("/api/v1/events"))
            .bearer_auth(&writer)
            .header("Idempotency-Key", "cib-2024-09-10-p4-progress")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(log_of(&c, &s).await.as_array().unwrap().len(), 7);
    // The same key for a different request is refused.
    let mut other = body.clone();
    other["data"]["text"] = json!("something else");
    let res = c
        .post(s.url("/api/v1/events"))
        .bearer_auth(&writer)
        .header("Idempotency-Key", "cib-2024-09-10-p4-progress")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_seal_records_what_the_board_was_shown_and_still_verifies_after_later_corrections() {
    let s = Server::start(false);
    let c = client();
    let writer = s.token("secretary", "writer").await;
    cib(&c, &s, &writer).await;
    let (_, boards) = get(&c, &s, "/api/v1/boards", Some(&writer)).await;
    let sept = boards["boards"][0]["id"].as_str().unwrap().to_string();
    // A writer cannot forge a seal through the log routes, alone or in a batch.
    let before = log_of(&c, &s).await;
    let forged = json!({"stream": P4, "type": "BoardSealed", "effective": "2024-09-10",
        "data": {"board": sept, "as_at": "2024-09-10", "snapshot": "{}", "position": 1, "head": "00"}});
    let (st, v) = post(&c, &s, "/api/v1/events", Some(&writer), &forged).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "type", "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("/api/v1/boards/{sept}/seal")),
        "{v}"
    );
    let narrative = json!({"stream": P4, "type": "NarrativeRecorded", "effective": "2024-09-10",
        "data": {"section": "progress", "text": "on track"}});
    let (st, v) = post(
        &c,
        &s,
        "/api/v1/batches",
        Some(&writer),
        &json!({"events": [narrative, forged]}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "events[1].type", "{v}");
    assert_eq!(log_of(&c, &s).await, before, "a refused seal wrote nothing");
    let (_, check) = get(
        &c,
        &s,
        &format!("/api/v1/boards/{sept}/seal/verify"),
        Some(&writer),
    )
    .await;
    assert_ne!(
        check["verified"], true,
        "an unsealed board is not verified: {check}"
    );
    let (st, seal) = post(
        &c,
        &s,
        &format!("/api/v1/boards/{sept}/seal"),
        Some(&writer),
        &json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{seal}");
    // A later correction changes today's board but not what the board was shown.
    let green_id = log_of(&c, &s).await[5]["id"].as_str().unwrap().to_string();
    let (st, v) = post(&c, &s, "/api/v1/events", Some(&writer), &json!({
        "stream": P4, "type": "Corrected", "data": {"target": green_id, "replacement": {"RagChanged": {"dimension": "overall", "rag": "amber"}}},
        "effective": "2024-09-10", "reason": "Green was recorded in error; the board agreed Amber"
    })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // A correction of nothing is 404; one that contradicts the stream (a
    // replacement of another type, or a correction of a correction) is 409.
    let correction_id = v["id"].as_str().unwrap().to_string();
    for (target, replacement, status) in [
        (
            "00000000-0000-0000-0000-00000000dead".to_string(),
            json!(null),
            StatusCode::NOT_FOUND,
        ),
        (
            green_id.clone(),
            json!({"PhaseChanged": {"phase": "planning"}}),
            StatusCode::CONFLICT,
        ),
        (correction_id, json!(null), StatusCode::CONFLICT),
    ] {
        let (st, v) = post(&c, &s, "/api/v1/events", Some(&writer), &json!({
            "stream": P4, "type": "Corrected", "data": {"target": target, "replacement": replacement},
            "effective": "2024-09-10", "reason": "checking the refusals"
        })).await;
        assert_eq!(st, status, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("data."), "{v}");
    }
    let (_, now) = get(&c, &s, "/api/v1/board?as_at=2024-09-10", Some(&writer)).await;
    assert_eq!(now["items"][0]["rag"]["overall"]["value"], "amber");
    let (st, check) = get(
        &c,
        &s,
        &format!("/api/v1/boards/{sept}/seal/verify"),
        Some(&writer),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(check["verified"], true, "{check}");
    assert_eq!(check["snapshot_now"], seal["snapshot"]);
    let (_, boards) = get(&c, &s, "/api/v1/boards", Some(&writer)).await;
    assert_eq!(boards["boards"][0]["seal"]["snapshot"], seal["snapshot"]);
}

#[tokio::test]
async fn a_signed_digest_verifies_until_the_log_is_tampered_with() {
    let mut s = Server::start(false);
    let c = client();
    let writer = s.token("w", "writer").await;
    cib(&c, &s, &writer).await;
    let (_, key) = get(&c, &s, "/api/v1/digest/key", Some(&writer)).await;
    let (_, digest) = get(&c, &s, "/api/v1/digest", Some(&writer)).await;
    assert_eq!(digest["key"], key["key"]);
    assert_eq!(digest["position"], 6);
    assert_eq!(s.stop(), Some(0), "SIGTERM stops the server cleanly");
    let file = s.data.join("../digest.json");
    std::fs::write(&file, digest.to_string()).unwrap();
    let verify = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let data = s.data.to_str().unwrap().to_string();
    let (code, out) = verify(&[
        "verify",
        "--data",
        &data,
        "--digest",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("digest verified"), "{out}");
    // A digest of the same head, validly signed by another store's key, is
    // refused: it proves nothing about this store.
    let elsewhere = tempfile::TempDir::new().unwrap();
    let other = ragtrail::signing::Signer::load_or_create(elsewhere.path()).unwrap();
    let theirs = other.sign(6, digest["head"].as_str().unwrap().to_string());
    let theirs_file = s.data.join("../theirs.json");
    std::fs::write(&theirs_file, serde_json::to_string(&theirs).unwrap()).unwrap();
    let theirs_path = theirs_file.to_str().unwrap();
    let (code, out) = verify(&["verify", "--data", &data, "--digest", theirs_path]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("this store's own key"), "{out}");
    // Unless that key is the one named with --key (and then this store's own digest is refused).
    let key_file = s.data.join("../their-key.json");
    std::fs::write(
        &key_file,
        json!({"algorithm": "Ed25519", "key": other.public_hex()}).to_string(),
    )
    .unwrap();
    let key_path = key_file.to_str().unwrap();
    let (code, out) = verify(&[
        "verify",
        "--data",
        &data,
        "--digest",
        theirs_path,
        "--key",
        key_path,
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(&[
        "verify",
        "--data",
        &data,
        "--digest",
        file.to_str().unwrap(),
        "--key",
        key_path,
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the key given with --key"), "{out}");
    // A digest altered by hand fails its signature.
    let mut forged = digest.clone();
    forged["position"] = json!(5);
    std::fs::write(&file, forged.to_string()).unwrap();
    let (code, out) = verify(&[
        "verify",
        "--data",
        &data,
        "--digest",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    // Rewrite the whole log from position 6 on (chain recomputed, so verify alone passes):
    // the digest kept outside still catches it.
    {
        let mut db = ragtrail_events::raw::Records::read(&s.data).unwrap();
        let k = ragtrail_events::raw::event_key(6);
        let old = ragtrail_events::envelope::decode(&db.get(&k).unwrap()).unwrap();
        let forged_event = ragtrail_events::Event::RagChanged {
            dimension: ragtrail_events::Dimension::Overall,
            rag: ragtrail_events::Rag::Red,
        };
        let (bytes, forged) =
            ragtrail_events::envelope::encode(&ragtrail_events::envelope::Draft {
                position: 6,
                id: old.id,
                stream: old.stream,
                version: old.version,
                effective: old.effective,
                recorded_at: old.recorded_at,
                actor: &old.actor,
                reason: old.reason.as_deref(),
                idempotency_key: None,
                event: &forged_event,
                prev_hash: old.prev_hash,
            })
            .unwrap();
        db.insert(k, bytes);
        db.write(&s.data).unwrap();
        let (code, out) = verify(&["verify", "--data", &data]);
        assert_eq!(code, Some(1), "the head record catches the rewrite: {out}");
        assert!(out.contains("not the one acknowledged"), "{out}");
        // Rewritten with its head record, the chain is self-consistent.
        let head = ragtrail_events::Head {
            position: 6,
            hash: forged.hash,
        };
        ragtrail_events::head::overwrite(&s.data, head).unwrap();
    }
    std::fs::write(&file, digest.to_string()).unwrap();
    let (code, out) = verify(&["verify", "--data", &data]);
    assert_eq!(
        code,
        Some(0),
        "the rewritten chain is self-consistent: {out}"
    );
    let (code, out) = verify(&[
        "verify",
        "--data",
        &data,
        "--digest",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("rewritten"), "{out}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_resolves_every_schema() {
    let s = Server::start(false);
    let c = client();
    let (st, doc) = get(&c, &s, "/api/v1/openapi.json", None).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the document is readable without a token"
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("post", "/api/v1/events"),
        ("get", "/api/v1/events"),
        ("post", "/api/v1/batches"),
        ("get", "/api/v1/events/live"),
        ("get", "/api/v1/board"),
        ("get", "/api/v1/compare"),
        ("get", "/api/v1/metrics/{id}/trend"),
        ("get", "/api/v1/items/{id}/trend"),
        ("get", "/api/v1/items/{id}/history"),
        ("get", "/api/v1/programmes/{id}/counts"),
        ("get", "/api/v1/boards"),
        ("post", "/api/v1/boards/{id}/seal"),
        ("get", "/api/v1/boards/{id}/seal/verify"),
        ("get", "/api/v1/verify"),
        ("get", "/api/v1/digest"),
        ("get", "/api/v1/digest/key"),
        ("post", "/api/v1/tokens"),
        ("get", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{name}"),
        ("get", "/healthz"),
    ];
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(
            !op["responses"].as_object().unwrap().is_empty(),
            "{method} {path} has no responses"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Board",
        "Comparison",
        "Event",
        "AppendBody",
        "Problem",
        "SignedDigest",
        "HistoryEntry",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap().to_string());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.rsplit('/').next().unwrap();
        assert!(schemas.contains_key(name), "unresolved {r}");
    }
    // The Event schema knows every event type.
    let event = serde_json::to_string(&schemas["Event"]).unwrap();
    for t in ragtrail_events::Event::TYPE_NAMES {
        assert!(event.contains(t), "Event schema lacks {t}");
    }
}

/// The last admin token cannot be revoked (every admin would be locked out):
/// 409 with what to do; with a second admin made first, the first can go.
#[tokio::test]
async fn the_last_admin_token_cannot_be_revoked() {
    let s = Server::start(false);
    let c = client();
    let delete = |name: &str, token: &str| {
        c.delete(s.url(&format!("/api/v1/tokens/{name}")))
            .bearer_auth(token.to_string())
            .send()
    };
    let res = delete("admin", &s.admin).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let v: Value = res.json().await.unwrap();
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("last admin") && detail.contains("Create another admin token first"),
        "{v}"
    );
    // Still works.
    let (st, _) = get(&c, &s, "/api/v1/tokens", Some(&s.admin)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, second) = post(
        &c,
        &s,
        "/api/v1/tokens",
        Some(&s.admin),
        &json!({"name": "deputy", "role": "admin"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let deputy = second["token"].as_str().unwrap().to_string();
    assert_eq!(
        delete("admin", &deputy).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete("deputy", &deputy).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let (st, _) = get(&c, &s, "/api/v1/tokens", Some(&deputy)).await;
    assert_eq!(st, StatusCode::OK, "the deputy still manages the store");
}

/// `GET /api/v1/verify` checks only what was appended since the last
/// verification (so repeated calls cost nothing); `full=true` is for admins.
#[tokio::test]
async fn verification_is_incremental_and_a_full_walk_is_for_admins() {
    let s = Server::start(true);
    let c = client();
    let writer = s.token("w", "writer").await;
    cib(&c, &s, &writer).await;
    let (_, first) = get(&c, &s, "/api/v1/verify", None).await;
    assert_eq!(first["verified"], true, "{first}");
    let count = first["count"].as_u64().unwrap();
    for _ in 0..20 {
        let (_, v) = get(&c, &s, "/api/v1/verify", None).await;
        assert_eq!(
            (v["count"].as_u64(), v["checked"].as_u64()),
            (Some(count), Some(0)),
            "{v}"
        );
    }
    let (st, _) = post(&c, &s, "/api/v1/events", Some(&writer), &json!({"stream": P4, "type": "NarrativeRecorded", "data": {"section": "progress", "text": "one more"}, "effective": "2024-09-10"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, v) = get(&c, &s, "/api/v1/verify", None).await;
    assert_eq!(
        (v["count"].as_u64(), v["checked"].as_u64()),
        (Some(count + 1), Some(1)),
        "{v}"
    );
    let (st, v) = get(&c, &s, "/api/v1/verify?full=true", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    let (st, _) = get(&c, &s, "/api/v1/verify?full=true", Some(&writer)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = get(&c, &s, "/api/v1/verify?full=true", Some(&s.admin)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (v["checked"].as_u64(), v["full"].as_bool()),
        (Some(count + 1), Some(true)),
        "{v}"
    );
    let (st, _) = get(&c, &s, "/api/v1/verify?full=maybe", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
