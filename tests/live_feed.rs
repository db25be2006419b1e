//! The live tail over Server-Sent Events: a client that connects mid-stream,
//! drops, and reconnects with Last-Event-ID receives every event exactly once,
//! in order, while writers keep appending.

mod support;

use futures::StreamExt;
use serde_json::json;
use std::time::Duration;
use support::*;

struct Sse {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Sse {
    async fn connect(s: &Server, after: Option<u64>, last_id: Option<u64>) -> Sse {
        let mut req = client_without_timeout().get(s.url(&match after {
            Some(a) => format!("/api/v1/events/live?after={a}"),
            None => "/api/v1/events/live".to_string(),
        }));
        req = req.bearer_auth(&s.admin);
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Sse {
            body: Box::pin(res.bytes_stream()),
            buf: String::new(),
        }
    }

    /// The next event's (id, type, position in data), skipping keep-alive comments.
    async fn next(&mut self) -> (u64, String, u64) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, String::new(), None);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    }
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_string();
                    }
                    if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str::<serde_json::Value>(v.trim()).ok();
                    }
                }
                if let (Some(id), Some(data)) = (id, data) {
                    return (id, kind, data["position"].as_u64().unwrap());
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("stream open")
                .expect("chunk");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn client_without_timeout() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn append_n(s: &Server, writer: &str, from: u64, n: u64) {
    let c = client();
    for i in from..from + n {
        let res = c
            .post(s.url("/api/v1/events"))
            .bearer_auth(writer)
            .json(&event(
                PROGRAMME,
                "NarrativeRecorded",
                json!({"section": "progress", "text": format!("update {i}")}),
                "2024-09-10",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_with_last_event_id_gets_every_event_exactly_once() {
    let s = Server::start(false);
    let writer = s.admin.clone();
    append_n(&s, &writer, 0, 10).await;

    // Connect mid-stream: after position 4, while a writer keeps appending.
    let mut feed = Sse::connect(&s, Some(4), None).await;
    let w = {
        let (base_writer, s_url) = (writer.clone(), s.base.clone());
        tokio::spawn(async move {
            let c = client();
            for i in 10..40u64 {
                let res = c
                    .post(format!("{s_url}/api/v1/events"))
                    .bearer_auth(&base_writer)
                    .json(&event(
                        PROGRAMME,
                        "NarrativeRecorded",
                        json!({"section": "progress", "text": format!("update {i}")}),
                        "2024-09-10",
                    ))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
            }
        })
    };
    let mut got = Vec::new();
    for _ in 0..15 {
        let (id, kind, position) = feed.next().await;
        assert_eq!(id, position);
        assert_eq!(kind, "NarrativeRecorded");
        got.push(id);
    }
    // Drop the connection mid-stream, then resume from the last id received.
    drop(feed);
    w.await.unwrap();
    let last = *got.last().unwrap();
    let mut feed = Sse::connect(&s, None, Some(last)).await;
    while got.len() < 36 {
        got.push(feed.next().await.0);
    }
    assert_eq!(
        got,
        (5..=40).collect::<Vec<u64>>(),
        "every event once, in order"
    );
    // And it keeps following new events live.
    append_n(&s, &writer, 40, 2).await;
    assert_eq!(feed.next().await.0, 41);
    assert_eq!(feed.next().await.0, 42);
}

#[tokio::test]
async fn shutdown_ends_open_feeds_and_the_server_exits_cleanly() {
    let mut s = Server::start(true);
    let mut feed = Sse::connect(&s, None, None).await;
    append_n(&s, &s.admin.clone(), 0, 1).await;
    assert_eq!(feed.next().await.0, 1);
    assert_eq!(
        s.stop(),
        Some(0),
        "SIGTERM with an open feed still exits cleanly"
    );
}
