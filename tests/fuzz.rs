//! Bad input, generated: thousands of random and malformed requests (junk
//! JSON, wrong types, huge strings, impossible dates, numbers JSON cannot hold,
//! unknown event types and ids, path and header junk) against every route of
//! the real server. Zero 5xx, zero panics in the server log, and the log grows
//! by exactly the events of the requests that were accepted.
//! (1,500 requests; `RAGTRAIL_SOAK=1` for 20,000.)

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use support::*;

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    path: String,
    auth: Option<String>,
    idempotency: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
}

const ROUTES: [(&str, &str); 20] = [
    ("POST", "/api/v1/events"),
    ("GET", "/api/v1/events"),
    ("POST", "/api/v1/batches"),
    ("GET", "/api/v1/board"),
    ("GET", "/api/v1/compare"),
    ("GET", "/api/v1/metrics/{id}/trend"),
    ("GET", "/api/v1/items/{id}/trend"),
    ("GET", "/api/v1/items/{id}/history"),
    ("GET", "/api/v1/programmes/{id}/counts"),
    ("GET", "/api/v1/boards"),
    ("POST", "/api/v1/boards/{id}/seal"),
    ("GET", "/api/v1/boards/{id}/seal/verify"),
    ("GET", "/api/v1/verify"),
    ("GET", "/api/v1/digest"),
    ("GET", "/api/v1/digest/key"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/healthz"),
];

fn junk_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9 ]{0,12}",
        "\\PC{0,20}",
        Just("2024-02-30".to_string()),
        Just("99999-01-01".to_string()),
        Just("2024-09-10T25:61:00Z".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1e999".to_string()),
        Just("%ZZ%00".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("x".repeat(5000)),
        Just(uuid::Uuid::nil().to_string()),
        Just("00000000-0000-0000-0000-000000000001".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        junk_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("stream".to_string()),
                    Just("type".to_string()),
                    Just("data".to_string()),
                    Just("effective".to_string()),
                    Just("reason".to_string()),
                    Just("expected_version".to_string()),
                    Just("events".to_string()),
                    Just("rag".to_string()),
                    Just("dimension".to_string()),
                    Just("name".to_string()),
                    Just("role".to_string()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An event body that is nearly right: a real type with generated data.
fn near_event() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(ragtrail_events::Event::TYPE_NAMES.to_vec()),
        json_value(),
        junk_text(),
        prop::option::of(junk_text()),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(t, data, effective, reason, expected)| {
            let mut e =
                json!({"stream": PROGRAMME, "type": t, "data": data, "effective": effective});
            if let Some(r) = reason {
                e["reason"] = json!(r);
            }
            if let Some(v) = expected {
                e["expected_version"] = json!(v);
            }
            e
        })
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some(v.to_string().into_bytes())),
        near_event().prop_map(|v| Some(v.to_string().into_bytes())),
        prop::collection::vec(near_event(), 0..4)
            .prop_map(|v| Some(json!({"events": v}).to_string().into_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        Just(Some(b"{\"stream\": 1e999}".to_vec())),
        Just(Some(b"{\"stream\": NaN}".to_vec())),
        Just(Some(
            format!("{{\"type\": \"{}\"}}", "x".repeat(100_000)).into_bytes()
        )),
    ]
}

fn request(admin: String) -> impl Strategy<Value = Req> {
    (
        prop::sample::select(ROUTES.to_vec()),
        prop::sample::select(vec!["GET", "POST", "DELETE", "PUT", "PATCH"]),
        0u8..10,
        junk_text(),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "as_at",
                    "known_at",
                    "from",
                    "to",
                    "programme",
                    "after",
                    "limit",
                    "stream",
                    "children",
                    "x",
                ]),
                junk_text(),
            ),
            0..4,
        ),
        prop_oneof![
            Just(Some(admin)),
            Just(None),
            junk_text().prop_map(|t| Some(format!("Bearer {t}")))
        ],
        prop::option::of(prop::collection::vec(any::<u8>(), 0..30)),
        prop::sample::select(vec![
            None,
            Some("application/json"),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ]),
        body(),
    )
        .prop_map(
            |((method, path), other, pick, id, query, auth, idempotency, content_type, body)| {
                let method = if pick == 0 { other } else { method };
                let id = if id == "admin" {
                    "someone".to_string()
                } else {
                    id
                };
                let path = path.replace("{id}", &percent(&id));
                let path = if pick == 1 {
                    format!("{path}/{}", percent(&id))
                } else {
                    path
                };
                let query: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", percent(v)))
                    .collect();
                let path = if query.is_empty() {
                    path
                } else {
                    format!("{path}?{}", query.join("&"))
                };
                let method: &'static str = match method {
                    "GET" => "GET",
                    "POST" => "POST",
                    "DELETE" => "DELETE",
                    "PUT" => "PUT",
                    _ => "PATCH",
                };
                Req {
                    method,
                    path,
                    auth,
                    idempotency,
                    content_type,
                    body,
                }
            },
        )
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn thousands_of_bad_requests_get_no_5xx_and_change_nothing_they_should_not() {
    let cases = if std::env::var_os("RAGTRAIL_SOAK").is_some() {
        20_000
    } else {
        1_500
    };
    let s = Server::start(false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let head = |rt: &tokio::runtime::Runtime| -> u64 {
        rt.block_on(async {
            let h = s.public_json("/healthz").await;
            h["head"]["position"].as_u64().unwrap()
        })
    };
    let before = head(&rt);
    let accepted = AtomicU64::new(0);
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&request(format!("Bearer {}", s.admin)), |req| {
        let (status, body) = rt.block_on(async {
            let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
            let mut r = c.request(method, s.url(&req.path));
            if let Some(a) = &req.auth {
                if let Ok(v) = reqwest::header::HeaderValue::from_str(a) {
                    r = r.header("Authorization", v);
                }
            }
            if let Some(k) = &req.idempotency {
                if let Ok(v) = reqwest::header::HeaderValue::from_bytes(k) {
                    r = r.header("Idempotency-Key", v);
                }
            }
            if let Some(t) = req.content_type {
                r = r.header("Content-Type", t);
            }
            if let Some(b) = &req.body {
                r = r.body(b.clone());
            }
            // A refused oversized body may close the connection mid-send; that is a 413 path, not a crash.
            match r.send().await {
                Ok(res) => {
                    let st = res.status().as_u16();
                    (
                        st,
                        res.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
                    )
                }
                Err(e) if e.is_request() || e.is_body() => (0, Vec::new()),
                Err(e) => panic!("{req:?}: {e}"),
            }
        });
        *statuses.lock().unwrap().entry(status).or_insert(0u32) += 1;
        prop_assert!(
            status < 500,
            "{} {} got {status}: {}",
            req.method,
            req.path,
            String::from_utf8_lossy(&body)
        );
        if status == 201 {
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                let n = if v["events"].is_array() {
                    v["events"].as_array().unwrap().len() as u64
                } else if (v["position"].is_u64() && req.path.starts_with("/api/v1/events"))
                    || v["seal"].is_object()
                {
                    1
                } else {
                    0
                };
                accepted.fetch_add(n, Ordering::Relaxed);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let after = head(&rt);
    assert_eq!(
        after - before,
        accepted.load(Ordering::Relaxed),
        "the log grew by something not acknowledged: {:?}",
        statuses.lock().unwrap()
    );
    let log = s.log();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    println!(
        "{cases} generated requests, statuses {statuses:?}, {} events accepted",
        after - before
    );
}
