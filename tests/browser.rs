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

/// axe-core (the npm package, injected through the WebDriver session): the
/// serious and critical WCAG violations on the page shown now.
async fn axe(c: &fantoccini::Client, axe_js: &str, page: &str) -> Vec<String> {
    c.execute(axe_js, vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + JSON.stringify(v.nodes.slice(0, 3).map(n => n.target)))))
               .catch(e => done(['axe could not run: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("{page}: {}", x.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

fn axe_source() -> Option<String> {
    let path = std::env::var("RAGTRAIL_AXE").unwrap_or_else(|_| {
        format!(
            "{}/target/axe/package/axe.min.js",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must fetch axe-core ({path})"
            );
            println!("SKIPPED the axe-core checks: {path} is missing (npm pack axe-core)");
            None
        }
    }
}

/// Sets a form field's value as a person would have typed it (date inputs
/// take typing in the browser's locale, so their value is set directly).
async fn set(c: &fantoccini::Client, id: &str, value: &str) {
    c.execute(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input'));",
        vec![json!(id), json!(value)],
    )
    .await
    .unwrap();
}

/// Clicks a form's button and waits (bounded) until the next page has loaded.
async fn click(c: &fantoccini::Client, css: &str) {
    c.execute("document.body.dataset.before = 'yes';", vec![])
        .await
        .unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        let done = c
            .execute(
                "return document.readyState === 'complete' && document.body && document.body.dataset.before !== 'yes';",
                vec![],
            )
            .await
            .unwrap_or(json!(false));
        if done == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css}: no next page within 5 s");
}

/// Presses Tab until the element with `id` has the focus (at most `most` times).
async fn tab_to(c: &fantoccini::Client, id: &str, most: usize) {
    for _ in 0..most {
        let active = c.active_element().await.unwrap();
        if active.attr("id").await.unwrap().as_deref() == Some(id) {
            return;
        }
        active.send_keys("\u{E004}").await.unwrap();
    }
    panic!("{id} was not reached by {most} presses of Tab");
}

/// A writer builds a programme from nothing, records two board cycles (one
/// save failing first, by keyboard alone the second time), and sees the
/// movement on the board, movement and trends pages; axe-core finds no
/// serious or critical violation on any page, signed out or as a writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_builds_a_programme_and_records_two_board_cycles_in_the_browser() {
    let profile = tempfile::TempDir::new().unwrap();
    let s = Server::start_demo();
    let Some((c, _driver)) = browser(profile.path()).await else {
        return;
    };
    let axe_js = axe_source();
    let mut violations = Vec::new();
    // The check can fail: a page with an image and no alternative text.
    if let Some(js) = &axe_js {
        c.goto("data:text/html,<html lang=en><title>x</title><img src=x.png></html>")
            .await
            .unwrap();
        let found = axe(&c, js, "control").await;
        assert!(found.iter().any(|v| v.contains("image-alt")), "{found:?}");
    }
    let demo_item = id_of("tameside-cip/priority-4");
    let demo_board = s.public_json("/api/v1/boards").await["boards"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Signed out (the demo reads publicly).
    for path in [
        "/".to_string(),
        "/compare".into(),
        "/slippage".into(),
        "/trends".into(),
        "/audit".into(),
        "/signin".into(),
        format!("/items/{demo_item}"),
        format!("/boards/{demo_board}/seal"),
    ] {
        c.goto(&s.url(&path)).await.unwrap();
        if let Some(js) = &axe_js {
            violations.extend(axe(&c, js, &path).await);
        }
    }

    // Sign in as a writer.
    let token = s.token("Board secretary", "writer").await;
    c.goto(&s.url("/signin")).await.unwrap();
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(&token)
        .await
        .unwrap();
    click(&c, "#signin").await;

    // A programme from nothing: a failed start first (no authority).
    c.goto(&s.url("/programmes/new")).await.unwrap();
    set(&c, "name", "Children's Improvement Programme").await;
    click(&c, "#create").await;
    assert!(text_of(&c, "#error-summary")
        .await
        .contains("Enter the local authority"));
    set(&c, "authority", "Testshire").await;
    set(&c, "starts", "2024-07-01").await;
    click(&c, "#create").await;
    let outline = c.current_url().await.unwrap().to_string();
    assert!(outline.ends_with("/outline"), "{outline}");
    for (name, day) in [
        ("Improvement Board", "2024-07-09"),
        ("Improvement Board", "2024-09-10"),
    ] {
        set(&c, "board-name", name).await;
        set(&c, "board-date", day).await;
        click(&c, "#add-board").await;
    }
    for (reference, title) in [("1", "Quality of practice"), ("2", "Partnership")] {
        set(&c, "reference", reference).await;
        set(&c, "title", title).await;
        click(&c, "#add-item").await;
    }
    let links = c.find_all(Locator::Css("#meetings a")).await.unwrap();
    assert_eq!(
        links.len(),
        2,
        "both board meetings link to their record pages"
    );
    let mut records = Vec::new();
    for l in links {
        records.push(l.attr("href").await.unwrap().unwrap());
    }
    if let Some(js) = &axe_js {
        violations.extend(axe(&c, js, "/programmes/{id}/outline").await);
        c.goto(&s.url("/programmes/new")).await.unwrap();
        violations.extend(axe(&c, js, "/programmes/new").await);
    }
    let p = outline
        .trim_end_matches("/outline")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let board = s
        .admin_json(&format!("/api/v1/board?as_at=2024-09-10&programme={p}"))
        .await;
    let item = |r: &str| {
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["reference"] == r)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (one, two) = (item("1"), item("2"));

    // The first board cycle: a save with a changed RAG and no reason fails, and writes nothing.
    let count = || async {
        s.admin_json("/api/v1/events?limit=1").await["head"]["position"]
            .as_u64()
            .unwrap()
    };
    let before = count().await;
    c.goto(&s.url(&records[0])).await.unwrap();
    if let Some(js) = &axe_js {
        violations.extend(axe(&c, js, "/boards/{id}/record").await);
    }
    c.find(Locator::Id(&format!("f-{one}-rag-overall")))
        .await
        .unwrap()
        .select_by_value("amber")
        .await
        .unwrap();
    set(&c, &format!("f-{one}-progress"), "Audit completed").await;
    click(&c, "#save").await;
    let summary = text_of(&c, "#error-summary").await;
    assert!(
        summary.contains("There is a problem") && summary.contains("say why"),
        "{summary}"
    );
    assert_eq!(count().await, before, "a failed save writes nothing");
    if let Some(js) = &axe_js {
        violations.extend(axe(&c, js, "/boards/{id}/record (with errors)").await);
    }
    set(&c, &format!("f-{one}-reason"), "Recovery actions in place").await;
    c.find(Locator::Id(&format!("f-{two}-rag-overall")))
        .await
        .unwrap()
        .select_by_value("red")
        .await
        .unwrap();
    set(
        &c,
        &format!("f-{two}-reason"),
        "Partnership board not formed",
    )
    .await;
    click(&c, "#save").await;
    assert!(c.current_url().await.unwrap().as_str().contains("/?board="));

    // The second board cycle, by keyboard alone: Tab to each field, type, and press Enter on Save.
    c.goto(&s.url(&records[1])).await.unwrap();
    c.find(Locator::Css("main")).await.unwrap();
    c.execute(
        "document.activeElement && document.activeElement.blur(); document.body.focus();",
        vec![],
    )
    .await
    .unwrap();
    tab_to(&c, &format!("f-{one}-rag-overall"), 200).await;
    c.active_element()
        .await
        .unwrap()
        .send_keys("g")
        .await
        .unwrap();
    tab_to(&c, &format!("f-{one}-reason"), 50).await;
    c.active_element()
        .await
        .unwrap()
        .send_keys("Audits show improvement")
        .await
        .unwrap();
    tab_to(&c, &format!("f-{one}-progress"), 10).await;
    c.active_element()
        .await
        .unwrap()
        .send_keys("Audits good or better")
        .await
        .unwrap();
    tab_to(&c, "save", 300).await;
    c.active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        c.current_url().await.unwrap().as_str().contains("/?board="),
        "saved by keyboard"
    );

    // The movement between the two boards, on the board, movement and trends pages.
    let sept = records[1].split('/').nth(2).unwrap().to_string();
    let july = records[0].split('/').nth(2).unwrap().to_string();
    c.goto(&s.url(&format!("/?board={sept}"))).await.unwrap();
    let row = text_of(&c, "tr[data-ref='1']").await;
    assert!(row.contains("Green") && row.contains('↑'), "{row}");
    c.goto(&s.url(&format!("/compare?from={july}&to={sept}")))
        .await
        .unwrap();
    assert!(text_of(&c, "#table-improved")
        .await
        .contains("Quality of practice"));
    c.goto(&s.url(&format!("/trends?programme={p}&item={one}")))
        .await
        .unwrap();
    let trends = text_of(&c, "main").await;
    assert!(
        trends.contains("Overall RAG at each board")
            && trends.contains("Green")
            && trends.contains("Amber"),
        "the RAG at each of the two boards: {trends}"
    );
    if let Some(js) = &axe_js {
        for path in [
            "/".to_string(),
            "/compare".into(),
            "/slippage".into(),
            "/trends".into(),
            "/audit".into(),
            format!("/items/{one}"),
            format!("/boards/{sept}/seal"),
            "/import".into(),
            format!("/boards/{sept}/record"),
        ] {
            c.goto(&s.url(&path)).await.unwrap();
            violations.extend(axe(&c, js, &format!("{path} (as a writer)")).await);
        }
    }
    shot(&c, "record-flow").await;
    assert!(
        violations.is_empty(),
        "axe-core found:\n{}",
        violations.join("\n")
    );
}
