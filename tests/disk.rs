//! A full disk: the data dir on a small tmpfs. Appends that would fill it get
//! 503 with a clear detail, nothing partial becomes visible, reads keep
//! working, and when space returns writes resume by themselves, with every
//! acknowledged event intact across a restart. (Mounting needs root, as in CI;
//! elsewhere the test says it was skipped.)

mod support;

use serde_json::{json, Value};
use std::process::Command;
use support::*;

struct Tmpfs(std::path::PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::TempDir::new().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| Tmpfs(dir.path().to_path_buf(), dir))
    }

    fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "remount the tmpfs larger");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_gets_503_nothing_partial_and_writes_resume_when_space_returns() {
    let Some(fs) = Tmpfs::mount("24m") else {
        println!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = fs.0.join("data");
    let mut s = Server::start_on(&data, false);
    let c = client();
    let text = "x".repeat(15_000);
    let mut acknowledged: Vec<u64> = Vec::new();
    let mut refusal: Option<Value> = None;
    for i in 0..2000 {
        let res = c
            .post(s.url("/api/v1/events"))
            .bearer_auth(&s.admin)
            .header("Idempotency-Key", format!("fill-{i}"))
            .json(&event(
                PROGRAMME,
                "NarrativeRecorded",
                json!({"section": "progress", "text": text}),
                "2024-09-10",
            ))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            201 => acknowledged.push(
                res.json::<Value>().await.unwrap()["position"]
                    .as_u64()
                    .unwrap(),
            ),
            503 => {
                refusal = Some(res.json().await.unwrap());
                break;
            }
            other => panic!(
                "append {i}: unexpected {other}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }
    let refusal = refusal.expect("the disk filled up within 2000 appends");
    assert!(
        refusal["detail"].as_str().unwrap().contains("nearly full"),
        "{refusal}"
    );
    assert!(!acknowledged.is_empty());

    // Reads still work and show exactly what was acknowledged.
    let (head, count) = {
        let res = c
            .get(s.url("/api/v1/verify"))
            .bearer_auth(&s.admin)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["verified"], true, "{v}");
        (v["head"].clone(), v["count"].as_u64().unwrap())
    };
    assert_eq!(
        count,
        *acknowledged.last().unwrap(),
        "a refused append became visible"
    );
    let res = c
        .get(s.url("/api/v1/board?as_at=2024-09-10"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let health = s.public_json("/healthz").await;
    assert_eq!(
        health["writable"], true,
        "sled itself never failed: {health}"
    );

    // Space returns: writes resume without a restart.
    fs.grow("64m");
    let res = c
        .post(s.url("/api/v1/events"))
        .bearer_auth(&s.admin)
        .json(&event(
            PROGRAMME,
            "NarrativeRecorded",
            json!({"section": "progress", "text": "after the disk was fixed"}),
            "2024-09-10",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );

    // And everything acknowledged survives a restart.
    assert_eq!(s.stop(), Some(0));
    let s = Server::start_on(&data, false);
    let v: Value = s.admin_json("/api/v1/verify").await;
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["count"].as_u64(), Some(count + 1));
    let page: Value = s
        .admin_json(&format!("/api/v1/events?after={}&limit=1", count - 1))
        .await;
    assert_eq!(
        page["events"][0]["hash"], head,
        "the last acknowledged event survived"
    );
}
