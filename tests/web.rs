//! The web pages over plain HTTP: sign-in by cookie, private servers sending
//! people to sign in, readers seeing no forms, and every page answering.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn private_pages_need_sign_in_and_the_cookie_is_httponly_and_strict() {
    let s = Server::start(false);
    let c = no_redirects();
    let res = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?next=/");
    // A wrong token is refused on the form; the right one sets the cookie.
    let res = sign_in(&c, &s, "rt_wrong", "%2F").await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("not known"));
    let token = s.token("inspector", "reader").await;
    let token = token.as_str();
    let res = sign_in(&c, &s, token, "%2Faudit").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/audit");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // Another site as `next` is not followed.
    let res = sign_in(&c, &s, token, "%2F%2Fevil.example").await;
    assert_eq!(res.headers()["location"], "/");
    // Signed in as a reader: pages answer, and an item page has no forms.
    let pair = cookie.split(';').next().unwrap().to_string();
    let item = "00000000-0000-0000-0000-000000000014";
    let setup = json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "P", "authority": "A"}), "2024-09-10"),
        event(item, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "4", "title": "Leadership"}), "2024-09-10"),
    ]});
    s.batch(&setup).await;
    let mut csrf = String::new();
    for path in [
        "/",
        "/compare",
        "/trends",
        "/audit",
        &format!("/items/{item}"),
    ] {
        let res = c
            .get(s.url(path))
            .header("Cookie", &pair)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        csrf = csrf_of(&html);
        assert!(html.contains("inspector (reader)"), "{path}");
        assert!(!html.contains("rag-form"), "{path}: a reader sees no forms");
    }
    // A reader posting the form is refused; signing out clears the cookie.
    let res = c
        .post(s.url(&format!("/items/{item}/rag")))
        .header("Cookie", &pair)
        .body("dimension=overall&rag=red&effective=2024-10-01&reason=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Signing out without the page's token is refused (a forged sign-out).
    let res = c
        .post(s.url("/signout"))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .post(s.url("/signout"))
        .header("Cookie", &pair)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        c.get(s.url(&format!("/items/{}", uuid::Uuid::nil())))
            .header("Cookie", &pair)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// After sign-in only a path on this site is followed: `/\evil`, `/%09/evil`,
/// `//evil` and CR/LF in `next` all go to `/`, and none is a 5xx.
#[tokio::test]
async fn sign_in_never_redirects_off_site_or_fails() {
    let s = Server::start(false);
    let c = no_redirects();
    for next in [
        "%2F%5Cevil.example",
        "%2F%09%2Fevil",
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2Fx%0D%0ASet-Cookie%3A%20a%3Db",
        "%2F%0Aevil",
    ] {
        let res = sign_in(&c, &s, &s.admin, next).await;
        assert_eq!(res.status(), 303, "next={next}");
        assert_eq!(res.headers()["location"], "/", "next={next}");
        let res = c
            .get(s.url(&format!("/signin?next={next}")))
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "GET /signin?next={next}: {}",
            res.status()
        );
        assert!(
            !res.text().await.unwrap().contains("evil"),
            "next={next} echoed"
        );
    }
    let res = sign_in(&c, &s, &s.admin, "%2Fcompare%3Ffrom%3D2024-07-09").await;
    assert_eq!(res.headers()["location"], "/compare?from=2024-07-09");
    // A sign-in post without the form's token (another site's form) is refused.
    let res = c
        .post(s.url("/signin"))
        .body(format!("token={}&next=%2F", s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .headers()
        .get("set-cookie")
        .is_none_or(|v| !v.to_str().unwrap().starts_with("ragtrail_token=rt_")));
}

/// A writer seals a board from its page; anyone may check the seal there and
/// download it with a signed digest, which `ragtrail verify --digest` accepts.
#[tokio::test]
async fn a_writer_seals_a_board_from_its_page_and_downloads_the_seal() {
    let mut s = Server::start(false);
    let c = no_redirects();
    s.batch(&json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "P", "authority": "A"}), "2024-09-10"),
        event(PROGRAMME, "BoardMeetingHeld", json!({"board": "CIB", "date": "2024-09-10"}), "2024-09-10"),
    ]}))
    .await;
    let boards = s.admin_json("/api/v1/boards").await;
    let id = boards["boards"][0]["id"].as_str().unwrap().to_string();
    let signed_in = |token: String| {
        let (c, s) = (&c, &s);
        async move {
            let res = sign_in(c, s, &token, "%2F").await;
            res.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        }
    };
    let reader = signed_in(s.token("inspector", "reader").await).await;
    let writer = signed_in(s.token("secretary", "writer").await).await;
    let page = |cookie: String| {
        let (c, s, id) = (&c, &s, id.clone());
        async move {
            c.get(s.url(&format!("/boards/{id}/seal")))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // The board page links to it; a reader sees no form, and may not seal.
    let board_page = c
        .get(s.url(&format!("/?board={id}")))
        .header("Cookie", &writer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        board_page.contains(&format!("/boards/{id}/seal")),
        "the board page links to its seal"
    );
    let html = page(reader.clone()).await;
    assert!(
        html.contains("has not been sealed")
            && !html.contains(&format!("action=\"/boards/{id}/seal\""))
    );
    let csrf = csrf_of(&page(writer.clone()).await);
    assert!(!csrf.is_empty());
    let res = c
        .post(s.url(&format!("/boards/{id}/seal")))
        .header("Cookie", &reader)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a reader may not seal");
    let res = c
        .post(s.url(&format!("/boards/{id}/seal")))
        .header("Cookie", &writer)
        .body("csrf=wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "a form without its CSRF token is refused"
    );
    assert_eq!(
        s.admin_json("/api/v1/boards").await["boards"][0]["seal"],
        serde_json::Value::Null
    );
    let res = c
        .post(s.url(&format!("/boards/{id}/seal")))
        .header("Cookie", &writer)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = page(reader.clone()).await;
    assert!(
        html.contains("The seal holds.") && html.contains("Sealed by secretary"),
        "{html}"
    );
    let res = c
        .get(s.url(&format!("/boards/{id}/seal.json")))
        .header("Cookie", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("ragtrail-seal-2024-09-10.json"));
    let kept: serde_json::Value = res.json().await.unwrap();
    assert_eq!(kept["seal"]["verified"], true);
    assert_eq!(kept["seal"]["seal"]["set"]["actor"], "secretary");
    // The digest it came with is one an inspector can check later, outside the service.
    let file = s.data.parent().unwrap().join("kept-digest.json");
    std::fs::write(&file, kept["digest"].to_string()).unwrap();
    assert_eq!(s.stop(), Some(0));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["verify", "--data"])
        .arg(&s.data)
        .arg("--digest")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A writer corrects an entry from the item's timeline: a reason is required
/// (the error summary says so and nothing is written), the correction and
/// the entry it corrects link to each other, and the views use the correction.
#[tokio::test]
async fn a_writer_corrects_an_entry_from_the_timeline() {
    let s = Server::start(false);
    let c = no_redirects();
    let item = "00000000-0000-0000-0000-0000000000c1";
    let mut rag = event(
        item,
        "RagChanged",
        json!({"dimension": "overall", "rag": "red"}),
        "2024-09-10",
    );
    rag["reason"] = json!("as reported");
    s.batch(&json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "P", "authority": "A"}), "2024-09-10"),
        event(item, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "1", "title": "Quality"}), "2024-09-10"),
        rag,
        event(item, "NarrativeRecorded", json!({"section": "progress", "text": "Typed into the wrong item"}), "2024-09-10"),
    ]}))
    .await;
    let cookie = signed_in(&c, &s, &s.token("secretary", "writer").await).await;
    let page = c
        .get(s.url(&format!("/items/{item}")))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Correct this entry"));
    let csrf = csrf_of(&page);
    let history = s.admin_json(&format!("/api/v1/items/{item}/history")).await;
    let entries = history["events"].as_array().unwrap();
    let id_of = |t: &str| {
        entries.iter().find(|e| e["type"] == t).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (rag_id, note_id) = (id_of("RagChanged"), id_of("NarrativeRecorded"));
    let before = whole_log(&s).await.len();
    let post = |body: String| {
        let (c, s, cookie) = (&c, &s, cookie.clone());
        async move {
            c.post(s.url(&format!("/items/{item}/correct")))
                .header("Cookie", cookie)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    // No reason: the summary names it, and nothing is written.
    let res = post(format!(
        "csrf={csrf}&target={rag_id}&action=replace&rag=green&reason="
    ))
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("There is a problem")
            && html.contains(&format!("href=\"#correct-reason-{rag_id}\"")),
        "{html}"
    );
    assert_eq!(whole_log(&s).await.len(), before);
    // Replace the RAG, withdraw the narrative.
    let res = post(format!("csrf={csrf}&target={rag_id}&action=replace&rag=green&reason=Green+at+the+board%2C+typed+as+red")).await;
    assert_eq!(res.status(), 303);
    let res = post(format!(
        "csrf={csrf}&target={note_id}&action=withdraw&reason=Belongs+to+another+priority"
    ))
    .await;
    assert_eq!(res.status(), 303);
    let board = s
        .admin_json(&format!(
            "/api/v1/board?as_at=2024-09-10&programme={PROGRAMME}"
        ))
        .await;
    let row = &board["items"][0];
    assert_eq!(row["rag"]["overall"]["value"], "green");
    assert_eq!(
        row["rag"]["overall"]["set"]["reason"],
        "Green at the board, typed as red"
    );
    assert!(row["narratives"]["progress"].is_null(), "withdrawn");
    let page = c
        .get(s.url(&format!("/items/{item}")))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("corrects <a href=\"#e-{rag_id}\">")),
        "the correction links to the entry"
    );
    assert!(
        page.contains("corrected by <a href=\"#e-"),
        "the entry links to its correction"
    );
}

/// A board cycle recorded on one page, twice: a failed save writes nothing
/// and lists every error at the top; a draft is kept until the board is
/// saved; each save is one batch; the movement shows between the boards.
#[tokio::test]
async fn a_writer_records_two_board_cycles_on_the_record_page() {
    let s = Server::start(false);
    let c = no_redirects();
    let (a, b, metric) = (
        "00000000-0000-0000-0000-0000000000d1",
        "00000000-0000-0000-0000-0000000000d2",
        "00000000-0000-0000-0000-0000000000d3",
    );
    s.batch(&json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "CIP", "authority": "Tameside"}), "2024-07-09"),
        event(PROGRAMME, "BoardMeetingHeld", json!({"board": "CIB", "date": "2024-07-09"}), "2024-07-09"),
        event(PROGRAMME, "BoardMeetingHeld", json!({"board": "CIB", "date": "2024-09-10"}), "2024-09-10"),
        event(a, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "1", "title": "Quality of Practice"}), "2024-07-09"),
        event(b, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "2", "title": "Partnership"}), "2024-07-09"),
        event(metric, "MetricDefined", json!({"item": a, "name": "Audits good or better", "unit": "percent", "good_direction": "up"}), "2024-07-09"),
    ]}))
    .await;
    let boards = s.admin_json("/api/v1/boards").await;
    let board = |d: &str| {
        boards["boards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["date"] == d)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (july, september) = (board("2024-07-09"), board("2024-09-10"));
    let cookie = signed_in(&c, &s, &s.token("secretary", "writer").await).await;
    let get = |path: String| {
        let (c, s, cookie) = (&c, &s, cookie.clone());
        async move {
            c.get(s.url(&path))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let post = |path: String, body: String| {
        let (c, s, cookie) = (&c, &s, cookie.clone());
        async move {
            c.post(s.url(&path))
                .header("Cookie", cookie)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let page = get(format!("/boards/{july}/record"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Quality of Practice") && page.contains("Audits good or better"));
    let csrf = csrf_of(&page);
    let before = whole_log(&s).await.len();

    // A RAG changed with no reason, and a reading with no period: nothing is written.
    let bad = format!("csrf={csrf}&intent=save&{a}.rag.overall=amber&{a}.progress=Audit+done&{metric}.value=61%25&{b}.target=soon");
    let res = post(format!("/boards/{july}/record"), bad.clone()).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("There is a problem") && html.contains("Nothing was saved"));
    for anchor in [
        "#f-period",
        &format!("#f-{a}-reason"),
        &format!("#f-{b}-target"),
    ] {
        assert!(
            html.contains(&format!("href=\"{anchor}\"")),
            "the summary links to {anchor}"
        );
    }
    assert!(html.contains("Audit done"), "what was typed is kept");
    assert_eq!(
        whole_log(&s).await.len(),
        before,
        "a failed save writes nothing"
    );

    // Kept as a draft, and there again on the page.
    let res = post(
        format!("/boards/{july}/record"),
        format!("csrf={csrf}&intent=draft&{a}.progress=Half+way"),
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = get(format!("/boards/{july}/record"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your saved draft is filled in below") && page.contains("Half way"));
    assert_eq!(whole_log(&s).await.len(), before, "a draft is not recorded");

    // Saved: all of it, as one batch.
    let good = format!("csrf={csrf}&intent=save&period=2024-25+Q1&{a}.rag.overall=amber&{a}.reason=Recovery+actions+in+place&{a}.progress=Audit+done&{metric}.value=61%25&{b}.rag.overall=red&{b}.reason=Partnership+board+not+yet+formed&{b}.risk=Partners+not+engaged");
    let res = post(format!("/boards/{july}/record"), good).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let log = whole_log(&s).await;
    assert_eq!(
        log.len(),
        before + 5,
        "two RAGs, an update, a reading and a risk"
    );
    let positions: Vec<u64> = log[before..]
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    let ids: std::collections::HashSet<&str> = log[before..]
        .iter()
        .map(|e| e["recorded_at"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one batch: {positions:?}");
    let page = get(format!("/boards/{july}/record"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Your saved draft"),
        "the draft is gone once the board is saved"
    );

    // The next board: priority 1 improves to green; the risk's mitigation changes; an issue is raised.
    let csrf = csrf_of(&page);
    let july_board = s
        .admin_json(&format!(
            "/api/v1/board?as_at=2024-07-09&programme={PROGRAMME}"
        ))
        .await;
    let risk = july_board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == b)
        .unwrap()["risks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = post(
        format!("/boards/{september}/record"),
        format!("csrf={csrf}&intent=save&{a}.rag.overall=green&{a}.reason=Audits+show+improvement&{b}.progress=Board+formed&{risk}.mitigation=Joint+meeting+set&{a}.issue=Audit+capacity"),
    )
    .await;
    assert_eq!(res.status(), 303);
    let sept_board = s
        .admin_json(&format!(
            "/api/v1/board?as_at=2024-09-10&programme={PROGRAMME}"
        ))
        .await;
    let row = |id: &str| {
        sept_board["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(b)["risks"][0]["action"], "Joint meeting set");
    assert_eq!(row(a)["issues"][0]["description"], "Audit capacity");
    let cmp = s
        .admin_json(&format!(
            "/api/v1/compare?from=2024-07-09&to=2024-09-10&programme={PROGRAMME}"
        ))
        .await;
    let moved = cmp["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == a)
        .unwrap();
    assert_eq!(moved["rag"]["overall"]["change"], "improved");
    let movement = get(format!("/compare?from={july}&to={september}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        movement.contains("Quality of Practice") && movement.contains("improved"),
        "{movement}"
    );
    let board_page = get(format!("/?board={september}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(board_page.contains("Board formed") && board_page.contains("Record this board cycle"));
    let trend = get(format!("/trends?item={a}")).await;
    assert_eq!(trend.status(), 200);
}
