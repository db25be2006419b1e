//! The web pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) against the real server with the demo loaded.
//! Screenshots of each page are saved in `target/screenshots/`.
//! (CI installs Debian's chromium and chromium-driver; elsewhere, without
//! them, the test says it was skipped.)

mod support;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use ragtrail::import::id_of;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn shots() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(profile: &std::path::Path) -> Option<(fantoccini::Client, Driver)> {
    let found = |p: &str| std::path::Path::new(p).exists();
    if !found("/usr/bin/chromedriver") || !found("/usr/bin/chromium") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver"
        );
        println!("SKIPPED: /usr/bin/chromium and /usr/bin/chromedriver are not installed");
        return None;
    }
    let port = free_port();
    let driver = Driver(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return Some((c, driver)),
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("cannot start a browser session: {last:?}");
}

async fn shot(c: &fantoccini::Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// On an item page: picks Red in the RAG form and submits it.
async fn choose_red_and_record(c: &fantoccini::Client) {
    c.find(Locator::Css("#rag-form select[name='rag']"))
        .await
        .unwrap()
        .select_by_value("red")
        .await
        .unwrap();
    c.find(Locator::Css("#rag-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn text_of(c: &fantoccini::Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_see_the_board_movement_trends_and_record_a_change() {
    let profile = tempfile::TempDir::new().unwrap();
    let s = Server::start_demo();
    let Some((c, _driver)) = browser(profile.path()).await else {
        return;
    };
    let boards = s.public_json("/api/v1/boards").await;
    let board_on = |d: &str| {
        boards["boards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["date"] == d)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (july, sept) = (board_on("2024-07-09"), board_on("2024-09-10"));

    // The board for 10 September 2024: priority 4 is Green, with an up arrow.
    c.goto(&s.url(&format!("/?board={sept}"))).await.unwrap();
    let row = text_of(&c, "tr[data-ref='Priority 4']").await;
    assert!(row.contains("Leadership and Workforce"), "{row}");
    assert!(row.contains("Green"), "{row}");
    assert!(row.contains('↑'), "{row}");
    assert!(text_of(&c, "tr[data-ref='Priority 1']")
        .await
        .contains("Amber"));
    shot(&c, "board-1280").await;
    c.set_window_size(390, 900).await.unwrap();
    shot(&c, "board-390").await;
    c.set_window_size(1280, 1000).await.unwrap();

    // The movement page lists it as improved.
    c.goto(&s.url(&format!("/compare?from={july}&to={sept}")))
        .await
        .unwrap();
    let improved = text_of(&c, "#table-improved").await;
    assert!(improved.contains("Leadership and Workforce"), "{improved}");
    assert!(!text_of(&c, "#table-unchanged")
        .await
        .contains("Leadership and Workforce"));
    shot(&c, "compare").await;

    // A trend chart renders one point per reading.
    let programme = id_of("cheshire-east-sufficiency");
    let metric = id_of("cheshire-east-sufficiency/scorecard/measure-2");
    c.goto(&s.url(&format!("/trends?programme={programme}&metric={metric}")))
        .await
        .unwrap();
    let points = c
        .find_all(Locator::Css("svg#metric-chart circle.point"))
        .await
        .unwrap();
    assert_eq!(points.len(), 2, "24% then 23%");
    assert!(text_of(&c, "#metric-table")
        .await
        .contains("improving on 24"));
    shot(&c, "trends").await;
    // And the programme's RAG counts per board as stacked bars (the CIB: 4 Amber, then 3 Amber and 1 Green).
    let cip = id_of("tameside-cip");
    c.goto(&s.url(&format!("/trends?programme={cip}")))
        .await
        .unwrap();
    let bars = c
        .find_all(Locator::Css("svg#counts-chart rect.bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 3, "one Amber bar, then Amber and Green");
    shot(&c, "trends-counts").await;

    // A writer signs in, records a RAG change without a reason and sees the error,
    // then with a reason and sees it on the item's timeline.
    let token = s.token("Board secretary", "writer").await;
    let token = token.as_str();
    c.goto(&s.url("/signin")).await.unwrap();
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    c.find(Locator::Css("#signin"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("nav .who"))
        .await
        .unwrap();
    assert!(text_of(&c, "nav .who").await.contains("Board secretary"));
    let p4 = id_of("tameside-cip/priority-4");
    c.goto(&s.url(&format!("/items/{p4}"))).await.unwrap();
    choose_red_and_record(&c).await;
    let error = c
        .wait()
        .for_element(Locator::Css("#rag-reason-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("reason is required"), "{error}");
    shot(&c, "item-error").await;
    let reason = "Workforce vacancies rose in October; recovery plan agreed";
    c.find(Locator::Css("#rag-reason"))
        .await
        .unwrap()
        .send_keys(reason)
        .await
        .unwrap();
    choose_red_and_record(&c).await;
    // The item page had a timeline before the post too: wait for the one
    // after it (the page is replaced while the browser follows the redirect).
    let mut timeline = String::new();
    for _ in 0..100 {
        if let Ok(t) = c.find(Locator::Css("#timeline")).await {
            timeline = t.text().await.unwrap_or_default();
            if timeline.contains(reason) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(timeline.contains(reason), "{timeline}");
    assert!(timeline.contains("Board secretary"), "{timeline}");
    shot(&c, "item-timeline").await;

    // The audit page says the chain verifies.
    c.goto(&s.url("/audit")).await.unwrap();
    assert!(text_of(&c, "#chain").await.contains("The log verifies"));
    shot(&c, "audit").await;
    c.close().await.unwrap();
}
