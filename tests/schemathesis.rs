//! The API contract, checked from outside by schemathesis (a third-party
//! tool that reads the served OpenAPI document and generates requests from it)
//! against the demo with a writer token: every check (server errors, status
//! codes, content types, response schemas and headers, positive data
//! accepted, negative data rejected, and the stateful phase), on every route
//! but the live feed, which streams without end (`tests/live_feed.rs` covers
//! it). The run must append valid events: the log has to grow.
//!
//! `.ci/run` installs schemathesis into a venv and names it in
//! `RAGTRAIL_SCHEMATHESIS`; without it (outside CI) this says how to get it.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::Server;

/// The schemathesis CLI (`st`), if there is one.
fn schemathesis() -> Option<String> {
    if let Ok(st) = std::env::var("RAGTRAIL_SCHEMATHESIS") {
        return Some(st);
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/ci-venv/bin/st");
    std::path::Path::new(venv)
        .exists()
        .then(|| venv.to_string())
}

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_and_appends_valid_events() {
    let Some(st) = schemathesis() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run schemathesis: .ci/run installs it and sets RAGTRAIL_SCHEMATHESIS"
        );
        eprintln!("schemathesis is not installed: run `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install schemathesis` (or CI=true .ci/run), then this test runs it");
        return;
    };
    let s = Server::start_demo();
    let writer = s.token("schemathesis", "writer").await;
    let head = |v: serde_json::Value| v["head"]["position"].as_u64().expect("head");
    let before = head(s.public_json("/api/v1/events?limit=1").await);
    let out =
        std::env::temp_dir().join(format!("ragtrail-schemathesis-{}.txt", std::process::id()));
    let log = std::fs::File::create(&out).expect("a file for the report");
    // Its cache goes in a temp dir, not the checkout.
    let cwd = tempfile::TempDir::new().expect("a dir for schemathesis");
    let mut run = Command::new(&st)
        .current_dir(cwd.path())
        .args(["run", &s.url("/api/v1/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {writer}")])
        .args(["--checks", "all"])
        .args(["--max-examples", "50"])
        .args(["--seed", "20261202"])
        .args(["--exclude-path", "/api/v1/events/live"])
        .args(["--request-timeout", "30"])
        .env("NO_COLOR", "1")
        .stdout(log.try_clone().expect("report"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start schemathesis");
    // At most five minutes.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = run.try_wait().expect("wait for schemathesis") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = run.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let tail: String = report
        .lines()
        .rev()
        .take(60)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    let status = status.unwrap_or_else(|| panic!("schemathesis ran past five minutes:\n{tail}"));
    assert!(status.success(), "schemathesis found failures:\n{report}");
    assert!(report.contains("passed"), "{tail}");
    let after = head(s.public_json("/api/v1/events?limit=1").await);
    assert!(
        after > before + 10,
        "the run appended valid events (log {before} -> {after}):\n{tail}"
    );
    eprintln!(
        "schemathesis: log {before} -> {after} events, in {:?}\n{tail}",
        started.elapsed()
    );
}
