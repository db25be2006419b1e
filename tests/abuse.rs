//! Abuse of the running service: slow clients, half-sent bodies, revoked and
//! misplaced tokens. Each gets the right answer or is cut off, and the server
//! keeps serving everyone else; tokens never reach the log.

mod support;

use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

async fn healthy_within(s: &Server, limit: Duration) {
    let start = Instant::now();
    let res = client().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(start.elapsed() < limit, "health took {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_never_stall_others() {
    let dir = tempfile::TempDir::new().unwrap();
    let s = Server::start_with(&dir.path().join("data"), &["--request-timeout", "2"]);
    // 64 connections that send half a request line and then nothing.
    let mut idle = Vec::new();
    for _ in 0..64 {
        let mut c = TcpStream::connect(addr(&s)).unwrap();
        c.write_all(b"GET /healthz HT").unwrap();
        idle.push(c);
    }
    healthy_within(&s, Duration::from_secs(1)).await;
    // A client that promises a body and sends only part of it gets 408 after the timeout.
    let mut slow = TcpStream::connect(addr(&s)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"stream\":",
        s.admin
    );
    slow.write_all(head.as_bytes()).unwrap();
    let start = Instant::now();
    let mut answer = String::new();
    let mut buf = [0u8; 512];
    if let Ok(n) = slow.read(&mut buf) {
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(1500) && start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    // Meanwhile everyone else was served, and still is.
    healthy_within(&s, Duration::from_secs(1)).await;
    let res = client()
        .post(s.url("/api/v1/events"))
        .bearer_auth(&s.admin)
        .json(&event(
            PROGRAMME,
            "ProgrammeRegistered",
            json!({"name": "P", "authority": "A"}),
            "2024-01-01",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    drop(idle);
}

#[tokio::test]
async fn revoked_misplaced_and_malformed_tokens_are_refused_and_never_logged() {
    let s = Server::start(false);
    let c = client();
    let token = s.token("temporary", "writer").await;
    let body = event(
        PROGRAMME,
        "ProgrammeRegistered",
        json!({"name": "P", "authority": "A"}),
        "2024-01-01",
    );
    let post = |auth: Option<String>, path: String| {
        let mut r = c.post(s.url(&path)).json(&body);
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        r.send()
    };
    assert_eq!(
        post(Some(format!("Bearer {token}")), "/api/v1/events".into())
            .await
            .unwrap()
            .status(),
        201
    );
    // Misplaced: in the query string, as Basic, without the scheme, junk.
    assert_eq!(
        post(None, format!("/api/v1/events?token={token}"))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post(None, format!("/api/v1/events?access_token={token}"))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post(Some(format!("Basic {token}")), "/api/v1/events".into())
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some(token.clone()), "/api/v1/events".into())
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some("Bearer ".into()), "/api/v1/events".into())
            .await
            .unwrap()
            .status(),
        401
    );
    // Bytes that are not text at all.
    let junk = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let res = c
        .post(s.url("/api/v1/events"))
        .header("Authorization", junk)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Revoked: refused at once.
    let res = c
        .delete(s.url("/api/v1/tokens/temporary"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = post(Some(format!("Bearer {token}")), "/api/v1/events".into())
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    // The server still serves, and no token is in its log.
    healthy_within(&s, Duration::from_secs(1)).await;
    let log = s.log();
    assert!(log.contains("/api/v1/events"), "requests are logged");
    assert!(
        !log.contains(&token) && !log.contains(&s.admin),
        "a token reached the log"
    );
    assert!(!log.contains("panicked"), "{log}");
}
