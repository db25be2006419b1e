//! Lawful erasure end to end, against the real binary on the demo: who may
//! erase, the dry run changing nothing, a text found nowhere, the real run,
//! and afterwards: no file of the data directory holds the text; the chain,
//! an earlier signed digest and every seal made before still verify; the
//! pages, the API, the live feed and exports show "[erased]"; the views
//! rebuilt from scratch (a restart) equal the live ones; an export restores.
//! Then the CLI's erase, and `kill -9` in the middle of its rewrite.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const NAME: &str = "Alison Montgomery";

/// The files under `dir` that hold `text` in any ASCII case.
fn files_holding(dir: &Path, text: &str) -> Vec<String> {
    let needle = text.to_ascii_lowercase().into_bytes();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes
                    .to_ascii_lowercase()
                    .windows(needle.len())
                    .any(|w| w == needle)
                {
                    out.push(path.display().to_string());
                }
            }
        }
    }
    out
}

/// Each file under `dir` with its bytes, to show nothing changed.
fn files_digest(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

async fn post_erasure(s: &Server, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = client().post(s.url("/api/v1/erasures")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn erasure(text: Value, dry_run: bool) -> Value {
    json!({
        "text": text,
        "reason": "erasure request ER-2026-031",
        "legal_basis": "UK GDPR Article 17(1)(a)",
        "dry_run": dry_run,
    })
}

/// Every board (for every meeting) and the comparison between each programme's first and last board.
async fn views(s: &Server) -> Vec<String> {
    let boards = s.admin_json("/api/v1/boards").await;
    let mut out = Vec::new();
    for b in boards["boards"].as_array().unwrap() {
        let (p, d) = (
            b["programme"].as_str().unwrap(),
            b["date"].as_str().unwrap(),
        );
        let board = s
            .admin_json(&format!("/api/v1/board?programme={p}&as_at={d}"))
            .await;
        out.push(board["board"].to_string());
        out.push(
            s.admin_json(&format!(
                "/api/v1/compare?programme={p}&from=2015-01-01&to={d}"
            ))
            .await
            .to_string(),
        );
    }
    out
}

/// Runs `ragtrail` with `args`; it must succeed.
fn ragtrail_ok(args: &[&str]) -> std::process::Output {
    let out = ragtrail(args);
    assert!(
        out.status.success(),
        "ragtrail {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ragtrail(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(args)
        .output()
        .expect("run ragtrail")
}

#[tokio::test]
async fn an_admin_erases_a_name_and_everything_still_verifies() {
    let mut s = Server::start_demo();
    let tmp = tempfile::tempdir().unwrap();
    assert!(
        !files_holding(&s.data, NAME).is_empty(),
        "the test can fail"
    );

    // Only an admin.
    let writer = s.token("writer-1", "writer").await;
    let reader = s.token("reader-1", "reader").await;
    for token in [Some(writer.as_str()), Some(reader.as_str())] {
        let (status, _) = post_erasure(&s, token, &erasure(json!(NAME), true)).await;
        assert_eq!(status, 403);
    }
    assert_eq!(
        post_erasure(&s, None, &erasure(json!(NAME), true)).await.0,
        401
    );
    // Bad requests name their field.
    for (body, field) in [
        (
            json!({"text": NAME, "reason": "r", "legal_basis": "b"}),
            "dry_run",
        ),
        (
            json!({"text": "ab", "reason": "r", "legal_basis": "b", "dry_run": true}),
            "text",
        ),
        (
            json!({"text": NAME, "legal_basis": "b", "dry_run": true}),
            "reason",
        ),
        (
            json!({"text": [NAME, 3], "reason": "r", "legal_basis": "b", "dry_run": true}),
            "text[1]",
        ),
    ] {
        let (status, problem) = post_erasure(&s, Some(&s.admin), &body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }

    // Seal every board, and keep a signed digest, before the erasure.
    let boards = s.admin_json("/api/v1/boards").await;
    let ids: Vec<String> = boards["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 4);
    for id in &ids {
        let res = client()
            .post(s.url(&format!("/api/v1/boards/{id}/seal")))
            .bearer_auth(&s.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let check = s
            .admin_json(&format!("/api/v1/boards/{id}/seal/verify"))
            .await;
        assert_eq!(check["verified"], true, "before: {check}");
    }
    let digest = s.admin_json("/api/v1/digest").await;
    let digest_file = tmp.path().join("digest.json");
    std::fs::write(&digest_file, digest.to_string()).unwrap();
    let log_before = whole_log(&s).await;

    // A draft of a board cycle that names the person waits on the server.
    let browser = no_redirects();
    let cookie = signed_in(&browser, &s, &s.admin).await;
    let record = format!("/boards/{}/record", ids[0]);
    let page = browser
        .get(s.url(&record))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = browser
        .post(s.url(&record))
        .header("Cookie", &cookie)
        .body(format!(
            "csrf={}&intent=draft&period=Alison+Montgomery+to+confirm",
            csrf_of(&page)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    // The dry run lists the fields and changes nothing, on disk either.
    let files_before = files_digest(&s.data);
    let (status, dry) = post_erasure(&s, Some(&s.admin), &erasure(json!(NAME), true)).await;
    assert_eq!(status, 200, "{dry}");
    let found = dry["found"].as_array().unwrap().clone();
    assert!(found.len() >= 9, "{dry}");
    assert_eq!(dry["erasable"], true);
    let fields: Vec<String> = found
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    for f in ["data.sponsor", "data.owner", "data.person"] {
        assert!(fields.contains(&f.to_string()), "{fields:?}");
    }
    assert_eq!(whole_log(&s).await, log_before);
    assert_eq!(files_digest(&s.data), files_before);

    // A text found nowhere writes nothing.
    let (status, problem) = post_erasure(
        &s,
        Some(&s.admin),
        &erasure(json!("Nobody Anywhere"), false),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("nothing"));
    assert_eq!(whole_log(&s).await, log_before);

    // The real run.
    let (status, done) = post_erasure(
        &s,
        Some(&s.admin),
        &erasure(json!([NAME, "A. Montgomery"]), false),
    )
    .await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["fields"].as_array().unwrap().len(), found.len());
    let at = done["erasure"]["position"].as_u64().unwrap();
    assert_eq!(at, log_before.len() as u64 + 1);

    // Gone from every file of the data directory.
    assert_eq!(files_holding(&s.data, NAME), Vec::<String>::new());
    assert!(
        files_holding(&s.data, "Alison+Montgomery").is_empty(),
        "the draft naming her is gone"
    );
    let page = browser
        .get(s.url(&record))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Your saved draft"),
        "the draft naming her was removed"
    );

    // The erasure is an event that names positions and fields, never the text.
    let log_after = whole_log(&s).await;
    let text = serde_json::to_string(&log_after).unwrap();
    assert!(!text.to_lowercase().contains("montgomery"));
    let last = log_after.last().unwrap();
    assert_eq!(last["type"], "TextErased");
    assert_eq!(last["actor"], "admin");
    assert_eq!(last["reason"], "erasure request ER-2026-031");
    assert_eq!(last["data"]["legal_basis"], "UK GDPR Article 17(1)(a)");
    assert_eq!(last["data"]["text_hashes"].as_array().unwrap().len(), 2);
    // Every earlier event keeps its hashes; the erased ones say so.
    for (a, b) in log_before.iter().zip(&log_after) {
        for k in ["position", "hash", "payload_hash", "prev_hash"] {
            assert_eq!(a[k], b[k]);
        }
    }
    let sponsor = log_after
        .iter()
        .find(|e| {
            e["type"] == "ProgrammeRegistered"
                && e["data"]["authority"] == "Tameside"
                && e["erased_by"] == at
        })
        .expect("the programme's sponsor was erased");
    assert!(sponsor["data"]["sponsor"]
        .as_str()
        .unwrap()
        .ends_with("] [erased]"));

    // verify, every seal, the pages, tables and the live feed.
    let v = s.admin_json("/api/v1/verify").await;
    assert_eq!(v["verified"], true, "{v}");
    for id in &ids {
        let check = s
            .admin_json(&format!("/api/v1/boards/{id}/seal/verify"))
            .await;
        assert_eq!(check["verified"], true, "{check}");
    }
    let programme = sponsor["stream"].as_str().unwrap();
    // The demo's pages are public.
    let page = client()
        .get(s.url(&format!("/?programme={programme}&as_at=2024-09-10")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("[erased]"),
        "the board page shows the erasure"
    );
    assert!(!page.to_lowercase().contains("montgomery"));
    assert!(
        !page.contains("[erased sha256:"),
        "people read [erased], not the hash"
    );
    let audit = client()
        .get(s.url("/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = audit
        .split("id=\"erasures\"")
        .nth(1)
        .expect("the audit page lists erasures");
    assert!(
        row.contains("erasure request ER-2026-031") && row.contains("UK GDPR Article 17(1)(a)")
    );
    let events: std::collections::BTreeSet<u64> = found
        .iter()
        .map(|f| f["position"].as_u64().unwrap())
        .collect();
    assert!(
        row.contains(&format!(
            "{} fields of {} events",
            found.len(),
            events.len()
        )),
        "{row}"
    );
    let csv = client()
        .get(s.url(&format!(
            "/api/v1/board?programme={programme}&as_at=2024-09-10&format=csv"
        )))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("erased") && !csv.to_lowercase().contains("montgomery"));
    let mut live = client()
        .get(s.url("/api/v1/events/live?after=0"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    let mut fed = String::new();
    let until = Instant::now() + Duration::from_secs(10);
    while !fed.contains("TextErased") && Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(5), live.chunk()).await {
            Ok(Ok(Some(bytes))) => fed.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(fed.contains("TextErased"), "the feed reached the erasure");
    assert!(fed.contains("[erased]") && !fed.to_lowercase().contains("montgomery"));
    drop(live);

    // The views rebuilt from scratch (a restart) equal the live ones.
    let live_views = views(&s).await;
    assert_eq!(s.stop(), Some(0));
    ragtrail_ok(&[
        "verify",
        "--data",
        s.data.to_str().unwrap(),
        "--digest",
        digest_file.to_str().unwrap(),
    ]);
    let export = tmp.path().join("after.jsonl");
    ragtrail_ok(&[
        "export",
        "--data",
        s.data.to_str().unwrap(),
        "--format",
        "jsonl",
        "-o",
        export.to_str().unwrap(),
    ]);
    assert!(!std::fs::read_to_string(&export)
        .unwrap()
        .to_lowercase()
        .contains("montgomery"));
    let restored = tmp.path().join("restored");
    ragtrail_ok(&[
        "import",
        "--data",
        restored.to_str().unwrap(),
        export.to_str().unwrap(),
    ]);
    ragtrail_ok(&["verify", "--data", restored.to_str().unwrap()]);

    let again = Server::start_with(&s.data, &[]);
    assert_eq!(views(&again).await, live_views);
    let v = again.admin_json("/api/v1/verify").await;
    assert_eq!(v["verified"], true, "{v}");
}

/// A store of the demo and `extra` more events naming the person, stopped.
async fn store_with_name(dir: &Path, extra: usize) {
    let mut s = Server::start_with(dir, &["--demo"]);
    let mut events = Vec::new();
    for i in 0..extra {
        events.push(event(
            PROGRAMME,
            "NarrativeRecorded",
            json!({"section": "progress", "text": format!("Note {i}: J. Pallett met the team")}),
            "2024-09-10",
        ));
        if events.len() == 500 || i + 1 == extra {
            s.batch(&json!({ "events": std::mem::take(&mut events) }))
                .await;
        }
    }
    assert_eq!(s.stop(), Some(0));
}

#[tokio::test]
async fn the_cli_erases_and_a_kill_at_any_moment_leaves_the_old_store_or_the_new() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    store_with_name(&original, 20_000).await;
    let text = "J. Pallett";
    let data = |d: &Path| d.to_str().unwrap().to_string();
    let erase_args = |d: &Path, dry: bool| {
        let mut a = vec![
            "erase".to_string(),
            "--data".into(),
            data(d),
            "--text".into(),
            text.into(),
            "--reason".into(),
            "erasure request ER-2026-032".into(),
            "--legal-basis".into(),
            "UK GDPR Article 17(1)(a)".into(),
            "--actor".into(),
            "dpo".into(),
        ];
        if dry {
            a.push("--dry-run".into());
        }
        a
    };
    // How many events `verify` finds (it must pass).
    let count_of = |d: &Path| -> u64 {
        let out = ragtrail_ok(&["verify", "--data", &data(d)]);
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        said.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{said}"))
    };
    let before = count_of(&original);

    // The dry run lists and changes nothing.
    let args = erase_args(&original, true);
    let out = ragtrail_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("data.owner") && listed.contains("data.text"),
        "{listed}"
    );
    assert_eq!(count_of(&original), before);

    // A whole run, timed, on a copy.
    let copy = |name: &str| {
        let to = tmp.path().join(name);
        let status = Command::new("cp")
            .args(["-a", &data(&original), &data(&to)])
            .status()
            .unwrap();
        assert!(status.success());
        to
    };
    let whole = copy("whole");
    let started = Instant::now();
    let args = erase_args(&whole, false);
    ragtrail_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let took = started.elapsed();
    assert!(files_holding(&whole, text).is_empty());
    let after = count_of(&whole);
    // 20,008 events changed: recorded as 11 erasure events of at most 2,000 each.
    assert_eq!(after, before + 11, "the erasure's events");

    // kill -9 at moments spread over the run: the old store or the new, never a mixture.
    let (mut old, mut new) = (0, 0);
    for cycle in 0..10u32 {
        let d = copy(&format!("cut-{cycle}"));
        let args = erase_args(&d, false);
        let mut child = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took.mul_f64(f64::from(cycle) / 10.0 + 0.05));
        let _ = child.kill();
        let _ = child.wait();
        let count = count_of(&d);
        if count == before {
            old += 1;
            assert!(!files_holding(&d, text).is_empty());
        } else {
            assert_eq!(count, after, "cycle {cycle}");
            new += 1;
            assert!(files_holding(&d, text).is_empty(), "cycle {cycle}");
        }
        assert!(
            !d.join("erasing").exists(),
            "cycle {cycle}: the rewrite was cleared or finished"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
    eprintln!(
        "kill -9 during the rewrite: {old} old stores, {new} new ones (a run takes {took:?})"
    );
}
