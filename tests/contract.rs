//! The API as dashboards and loaders use it, against the real server with the
//! demo: bounded pages with cursors, ETags and 304, compression, CORS.

mod support;

use reqwest::header;
use reqwest::StatusCode;
use serde_json::Value;
use support::{client, Server};

async fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client().get(s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn a_board_read_page_by_page_is_the_whole_board() {
    let s = Server::start_demo();
    let as_at = "2024-09-10";
    let whole: Value = s
        .public_json(&format!("/api/v1/board?as_at={as_at}&limit=1000"))
        .await;
    assert!(whole["next"].is_null(), "the demo fits one page of 1000");
    let rows =
        whole["programmes"].as_array().unwrap().len() + whole["items"].as_array().unwrap().len();
    assert!(rows > 20, "{rows} rows");
    for limit in [1, 7, 50] {
        let (mut programmes, mut items, mut after, mut pages) = (vec![], vec![], None::<String>, 0);
        loop {
            let path = match &after {
                Some(a) => format!("/api/v1/board?as_at={as_at}&limit={limit}&after={a}"),
                None => format!("/api/v1/board?as_at={as_at}&limit={limit}"),
            };
            let page: Value = s.public_json(&path).await;
            let n = page["programmes"].as_array().unwrap().len()
                + page["items"].as_array().unwrap().len();
            assert!(n <= limit, "{n} rows in a page of {limit}");
            assert_eq!(
                page["counts"], whole["counts"],
                "counts are the whole board's"
            );
            programmes.extend(page["programmes"].as_array().unwrap().clone());
            items.extend(page["items"].as_array().unwrap().clone());
            pages += 1;
            assert!(pages <= rows + 1, "pages end");
            match page["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(
            Value::from(programmes),
            whole["programmes"],
            "limit {limit}"
        );
        assert_eq!(Value::from(items), whole["items"], "limit {limit}");
    }
    // The default page is bounded; a bad limit or cursor is a 400 that says
    // why, and a cursor naming no row of the board a 404.
    let first: Value = s.public_json(&format!("/api/v1/board?as_at={as_at}")).await;
    let n =
        first["programmes"].as_array().unwrap().len() + first["items"].as_array().unwrap().len();
    assert!(n <= 200, "{n}");
    for (bad, status) in [
        ("limit=0", StatusCode::BAD_REQUEST),
        ("limit=1001", StatusCode::BAD_REQUEST),
        ("after=x", StatusCode::BAD_REQUEST),
        ("after=", StatusCode::BAD_REQUEST),
        (
            "after=00000000-0000-0000-0000-0000000000ff",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = get(&s, &format!("/api/v1/board?{bad}"), &[]).await;
        assert_eq!(r.status(), status, "{bad}");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_log_says_where_the_next_page_starts_and_refuses_positions_past_int64() {
    let s = Server::start_demo();
    let head = s.public_json("/api/v1/events?limit=1").await["head"]["position"]
        .as_u64()
        .unwrap();
    let page = s.public_json("/api/v1/events?limit=10").await;
    assert_eq!(page["next"], 10);
    let last = s
        .public_json(&format!("/api/v1/events?after={}&limit=10", head - 3))
        .await;
    assert_eq!(last["events"].as_array().unwrap().len(), 3);
    assert!(
        last["next"].is_null(),
        "the page reaching the head has no next"
    );
    let exact = s
        .public_json(&format!("/api/v1/events?after={}&limit=3", head - 3))
        .await;
    assert!(
        exact["next"].is_null(),
        "a full page ending at the head has no next"
    );
    for beyond in [
        "9223372036854775808",
        "18446744073709551615",
        "99999999999999999999",
    ] {
        let r = get(&s, &format!("/api/v1/events?after={beyond}"), &[]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{beyond}");
        let problem: Value = r.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().starts_with("after="),
            "{problem}"
        );
    }
    let r = get(&s, "/api/v1/events?after=9223372036854775807", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn reads_carry_an_etag_and_answer_304_until_the_log_moves() {
    let s = Server::start_demo();
    let path = "/api/v1/board?as_at=2024-09-10&limit=5";
    let r = get(&s, path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = get(&s, path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    // Another query, or another Accept, is another tag.
    let other = get(
        &s,
        "/api/v1/board?as_at=2024-09-11&limit=5",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    // An append moves the head, and with it every tag.
    s.batch(&serde_json::json!({"events": [support::event(
        "00000000-0000-0000-0000-0000000000aa", "ProgrammeRegistered",
        serde_json::json!({"name": "Etag check", "authority": "Test"}), "2024-09-10")]}))
        .await;
    let moved = get(&s, path, &[("if-none-match", &etag)]).await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_ne!(moved.headers()[header::ETAG].to_str().unwrap(), etag);
    // Every read view carries one; the tokens list (not from the log) does not.
    for view in [
        "/api/v1/compare?from=2024-07-01&to=2024-09-10",
        "/api/v1/boards",
        "/api/v1/events?limit=2",
        "/api/v1/verify",
    ] {
        let r = get(&s, view, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{view}");
        assert!(r.headers().contains_key(header::ETAG), "{view}");
    }
}

#[tokio::test]
async fn a_private_server_gives_no_304_to_whoever_may_not_read() {
    let s = Server::start(false);
    let r = get(
        &s,
        "/api/v1/boards",
        &[("authorization", &format!("Bearer {}", s.admin))],
    )
    .await;
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    let anon = get(&s, "/api/v1/boards", &[("if-none-match", &etag)]).await;
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let reader = get(
        &s,
        "/api/v1/boards",
        &[
            ("if-none-match", &etag),
            ("authorization", &format!("Bearer {}", s.admin)),
        ],
    )
    .await;
    assert_eq!(reader.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn answers_are_compressed_when_asked() {
    let s = Server::start_demo();
    let path = "/api/v1/board?as_at=2024-09-10&limit=1000";
    let plain = get(&s, path, &[]).await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap().len();
    for coding in ["gzip", "br"] {
        let r = get(&s, path, &[("accept-encoding", coding)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], coding);
        let n = r.bytes().await.unwrap().len();
        assert!(n * 4 < plain, "{coding}: {n} bytes of {plain}");
    }
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_named() {
    let off = Server::start(true);
    let preflight = |s: &Server, origin: &str| {
        client()
            .request(reqwest::Method::OPTIONS, s.url("/api/v1/board"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let r = preflight(&off, "https://dash.example.org").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = get(
        &off,
        "/api/v1/boards",
        &[("origin", "https://dash.example.org")],
    )
    .await;
    assert!(r.headers().get("access-control-allow-origin").is_none());

    let dir = tempfile::TempDir::new().unwrap();
    let on = Server::start_with(
        &dir.path().join("data"),
        &["--public-read", "--cors-origin", "https://dash.example.org"],
    );
    let r = preflight(&on, "https://dash.example.org").await.unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://dash.example.org"
    );
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let r = get(
        &on,
        "/api/v1/boards",
        &[("origin", "https://dash.example.org")],
    )
    .await;
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://dash.example.org"
    );
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("etag"), "{exposed}");
    let r = get(
        &on,
        "/api/v1/boards",
        &[("origin", "https://evil.example.org")],
    )
    .await;
    assert!(r.headers().get("access-control-allow-origin").is_none());

    // A malformed origin stops the server from starting, with a reason.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cors-origin",
            "dash.example.org/x",
            "--data",
        ])
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not an origin"), "{err}");
}

#[tokio::test]
async fn a_board_known_before_recording_began_is_empty_and_says_when_it_began() {
    let s = Server::start_demo();
    let programme = ragtrail::import::id_of("tameside-cip");
    for path in [
        "/api/v1/board?as_at=2024-09-10&known_at=2000-01-01T00:00:00Z".to_string(),
        format!(
            "/api/v1/board?as_at=2024-09-10&known_at=2000-01-01T00:00:00Z&programme={programme}"
        ),
    ] {
        let r = get(&s, &path, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["items"], serde_json::json!([]), "{path}");
        assert_eq!(b["programmes"], serde_json::json!([]));
        let began = b["recording_began"].as_str().expect("when recording began");
        assert!(began > "2020", "{began}");
    }
    // Known now, the same board is full, and says when recording began too.
    let now: Value = s.public_json("/api/v1/board?as_at=2024-09-10").await;
    assert!(!now["items"].as_array().unwrap().is_empty());
    assert!(now["recording_began"].is_string());
}
