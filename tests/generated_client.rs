//! A Python client generated from the served OpenAPI document by a
//! mainstream generator (openapi-python-client), used the way an API client
//! would: append a RAG change, then read the board as at that date
//! (`tests/client/board_as_at.py`). `.ci/run` installs the generator into
//! the venv it names in `RAGTRAIL_VENV`; without one (outside CI) this says
//! how to get it.

mod support;

use std::path::PathBuf;
use std::process::Command;
use support::Server;

fn venv() -> Option<PathBuf> {
    let dir = std::env::var("RAGTRAIL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/ci-venv")));
    dir.join("bin/openapi-python-client")
        .exists()
        .then_some(dir)
}

#[tokio::test]
async fn a_generated_python_client_appends_a_rag_change_and_reads_the_board() {
    let Some(venv) = venv() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the generated client: .ci/run installs openapi-python-client"
        );
        eprintln!("openapi-python-client is not installed: run `target/ci-venv/bin/pip install openapi-python-client` (or CI=true .ci/run), then this test runs it");
        return;
    };
    let s = Server::start_demo();
    let writer = s.token("generated client", "writer").await;
    let dir = tempfile::TempDir::new().unwrap();
    let doc = dir.path().join("openapi.json");
    let text = support::client()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(&doc, text).unwrap();
    let generated = Command::new(venv.join("bin/openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(&doc)
        .arg("--output-path")
        .arg(dir.path().join("client"))
        .output()
        .expect("run openapi-python-client");
    assert!(
        generated.status.success(),
        "generation failed:\n{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    let item = ragtrail::import::id_of("tameside-cip/priority-4");
    let used = Command::new(venv.join("bin/python"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/client/board_as_at.py"
        ))
        .arg(dir.path())
        .arg(&s.base)
        .arg(&writer)
        .arg(item.to_string())
        .output()
        .expect("run the client");
    let out = String::from_utf8_lossy(&used.stdout);
    assert!(
        used.status.success(),
        "the generated client failed:\n{out}{}",
        String::from_utf8_lossy(&used.stderr)
    );
    assert!(out.contains("shows Priority 4 red"), "{out}");
}
