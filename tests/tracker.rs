//! An Excel tracker brought in with `ragtrail import --programme --as-at
//! FILE.xlsx`: an action plan and a KPI scorecard read by their headers, two
//! board cycles, one bad cell named by sheet, row and column with nothing
//! written, and the same file again changing nothing.

mod support;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;
use std::process::Command;
use support::*;

/// One cell of a generated tracker.
enum C<'a> {
    T(&'a str),
    D(u16, u8, u8),
    E,
}

/// A sheet: its name, its header row, its rows.
type SheetSpec<'a> = (&'a str, &'a [&'a str], Vec<Vec<C<'a>>>);

/// A workbook of sheets, each a header row and rows.
fn workbook(path: &Path, sheets: &[SheetSpec]) {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (name, header, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        // A title row above the header, as trackers have.
        ws.write(0, 0, format!("{name} — tracker")).unwrap();
        for (c, h) in header.iter().enumerate() {
            ws.write(2, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 3, c as u16);
                match cell {
                    C::T(t) => {
                        ws.write(r, c, *t).unwrap();
                    }
                    C::D(y, m, d) => {
                        ws.write_datetime_with_format(
                            r,
                            c,
                            ExcelDateTime::from_ymd(*y, *m, *d).unwrap(),
                            &date,
                        )
                        .unwrap();
                    }
                    C::E => {}
                }
            }
        }
    }
    std::fs::write(path, book.save_to_buffer().unwrap()).unwrap();
}

const ACTIONS: &[&str] = &[
    "No.",
    "Action",
    "Owner",
    "Status/RAG",
    "Savings RAG",
    "Target date",
    "Revised date",
    "Update",
];
const KPIS: &[&str] = &["Measure", "Target", "2018-19 Q1", "2018-19 Q2", "Comment"];

fn import(data: &Path, file: &Path, as_at: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["import", "--data"])
        .arg(data)
        .args([
            "--programme",
            "LAC action plan",
            "--authority",
            "Cambridgeshire",
            "--as-at",
            as_at,
        ])
        .arg(file)
        .output()
        .unwrap()
}

fn events_in(data: &Path) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["verify", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_tracker_in_both_layouts_is_brought_in_over_two_board_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let june = tmp.path().join("tracker-june.xlsx");
    workbook(
        &june,
        &[
            (
                "Actions",
                ACTIONS,
                vec![
                    vec![
                        C::T("1"),
                        C::T("Edge of care"),
                        C::T("T. Collins"),
                        C::T("Amber"),
                        C::T("Green"),
                        C::D(2016, 4, 30),
                        C::D(2016, 7, 31),
                        C::T("Panel in place"),
                    ],
                    vec![
                        C::T("1.1"),
                        C::T("Family group conferences"),
                        C::E,
                        C::T("G"),
                        C::E,
                        C::T("Jun-16"),
                        C::E,
                        C::T("Started"),
                    ],
                    vec![
                        C::T("2"),
                        C::T("Fostering recruitment"),
                        C::T("J. Davies"),
                        C::T("Red"),
                        C::T("Red"),
                        C::T("TBC"),
                        C::E,
                        C::T("Recruiting"),
                    ],
                ],
            ),
            (
                "KPIs",
                KPIS,
                vec![
                    vec![
                        C::T("% beyond 20 miles"),
                        C::T("10%"),
                        C::T("24%"),
                        C::T("23%"),
                        C::T("Family placements excluded: 13%"),
                    ],
                    vec![
                        C::T("Actions reviewed"),
                        C::T("Qtly review"),
                        C::T("Yes"),
                        C::T("Yes"),
                        C::E,
                    ],
                ],
            ),
            ("Notes", &["Anything"], vec![vec![C::T("not a tracker")]]),
        ],
    );

    // One bad cell of each kind: named by sheet, row and column; nothing written.
    let bad = tmp.path().join("tracker-bad.xlsx");
    workbook(
        &bad,
        &[(
            "Actions",
            ACTIONS,
            vec![vec![
                C::T("1"),
                C::T("Edge of care"),
                C::E,
                C::T("Purple"),
                C::E,
                C::D(2016, 4, 30),
                C::T("soon"),
                C::E,
            ]],
        )],
    );
    let out = import(&data, &bad, "2016-06-29");
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("2 bad cell(s); nothing was imported"),
        "{said}"
    );
    assert!(
        said.contains("sheet \"Actions\", row 4, column D (Status/RAG): is \"Purple\""),
        "{said}"
    );
    assert!(
        said.contains("sheet \"Actions\", row 4, column G (Revised date): is \"soon\", not a date"),
        "{said}"
    );

    let out = import(&data, &june, "2016-06-29");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("sheet \"Actions\": action plan, 3 row(s)")
            && said.contains("sheet \"KPIs\": scorecard, 2 row(s)"),
        "{said}"
    );
    assert!(said.contains("sheet \"Notes\" skipped"), "{said}");
    let after_june = events_in(&data);
    // The same file again changes nothing.
    let out = import(&data, &june, "2016-06-29");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing changed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(events_in(&data), after_june);

    // The next board: action 1 is Green now, and its date moves again.
    let september = tmp.path().join("tracker-september.xlsx");
    workbook(
        &september,
        &[(
            "Actions",
            ACTIONS,
            vec![
                vec![
                    C::T("1"),
                    C::T("Edge of care"),
                    C::T("T. Collins"),
                    C::T("Green"),
                    C::T("Green"),
                    C::D(2016, 4, 30),
                    C::D(2016, 10, 31),
                    C::T("Panel meeting weekly"),
                ],
                vec![
                    C::T("1.1"),
                    C::T("Family group conferences"),
                    C::E,
                    C::T("Blue"),
                    C::E,
                    C::T("Jun-16"),
                    C::E,
                    C::T("Complete"),
                ],
                vec![
                    C::T("2"),
                    C::T("Fostering recruitment"),
                    C::T("J. Davies"),
                    C::T("Red"),
                    C::T("Red"),
                    C::T("TBC"),
                    C::E,
                    C::T("Recruiting"),
                ],
            ],
        )],
    );
    let out = import(&data, &september, "2016-09-30");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let s = Server::start_on(&data, true);
    let p = ragtrail::import::id_of("LAC action plan");
    let item_id = |r: &str| ragtrail::import::id_of(&format!("{p}/{r}")).to_string();
    let june_board = s
        .public_json(&format!("/api/v1/board?as_at=2016-06-29&programme={p}"))
        .await;
    let row = |b: &serde_json::Value, r: &str| {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == item_id(r).as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no {r}"))
    };
    let one = row(&june_board, "1");
    assert_eq!(one["rag"]["overall"]["value"], "amber");
    assert_eq!(one["rag"]["savings"]["value"], "green");
    assert_eq!(one["owner"], "T. Collins");
    assert_eq!(one["first_target_date"], "2016-04-30");
    assert_eq!(one["target_date"]["value"], "2016-07-31");
    assert_eq!(one["narratives"]["progress"]["value"], "Panel in place");
    let sub = row(&june_board, "1.1");
    assert_eq!(sub["parent"], item_id("1").as_str(), "1.1 sits under 1");
    assert_eq!(sub["kind"], "deliverable");
    assert_eq!(
        sub["target_date"]["value"], "2016-06-30",
        "Jun-16 is the month's last day"
    );
    assert_eq!(row(&june_board, "2")["timeframe"], "TBC");
    let card = row(&june_board, "KPIs");
    let metrics = card["metrics"].as_array().unwrap();
    let beyond = metrics
        .iter()
        .find(|m| m["name"] == "% beyond 20 miles")
        .unwrap();
    assert_eq!(beyond["unit"], "percent");
    assert_eq!(beyond["target"]["number"], 10.0);
    assert_eq!(beyond["latest"]["value"]["number"], 23.0);
    assert_eq!(beyond["latest"]["period"], "2018-19 Q2");
    assert_eq!(
        beyond["notes"][0]["field"], "good_direction",
        "the direction was assumed, and says so"
    );
    let reviewed = metrics
        .iter()
        .find(|m| m["name"] == "Actions reviewed")
        .unwrap();
    assert_eq!(reviewed["target_text"], "Qtly review");

    // The second cycle: movement, slippage, and the trends.
    let cmp = s
        .public_json(&format!(
            "/api/v1/compare?from=2016-06-29&to=2016-09-30&programme={p}"
        ))
        .await;
    let moved = cmp["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == item_id("1").as_str())
        .unwrap();
    assert_eq!(moved["rag"]["overall"]["change"], "improved");
    let slips = s
        .public_json(&format!(
            "/api/v1/slippage?from=2016-06-29&to=2016-09-30&programme={p}"
        ))
        .await;
    assert_eq!(slips["items"][0]["days"], 92, "31 July to 31 October");
    let trend = s
        .public_json(&format!("/api/v1/items/{}/trend", item_id("1")))
        .await;
    assert!(trend.to_string().contains("green"), "{trend}");
}

/// The same in the browser's way: an upload, a preview that writes nothing,
/// the bad cells of a bad tracker named, and the import on confirmation.
#[tokio::test]
async fn a_tracker_uploaded_is_previewed_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(false);
    let c = no_redirects();
    let cookie = signed_in(&c, &s, &s.token("secretary", "writer").await).await;
    let page = c
        .get(s.url("/import"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let upload = |path: std::path::PathBuf| {
        let (c, s, cookie, csrf) = (&c, &s, cookie.clone(), csrf.clone());
        async move {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("programme", "LAC action plan")
                .text("as_at", "2016-06-29")
                .text("authority", "Cambridgeshire")
                .text("map", "")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(std::fs::read(path).unwrap())
                        .file_name("tracker.xlsx"),
                );
            c.post(s.url("/import"))
                .header("Cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let bad = tmp.path().join("bad.xlsx");
    workbook(
        &bad,
        &[(
            "Actions",
            ACTIONS,
            vec![vec![
                C::T("1"),
                C::T("Edge of care"),
                C::E,
                C::T("Purple"),
                C::E,
                C::E,
                C::E,
                C::E,
            ]],
        )],
    );
    let res = upload(bad).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("sheet &quot;Actions&quot;, row 4, column D (Status/RAG)"),
        "{html}"
    );

    let good = tmp.path().join("good.xlsx");
    workbook(
        &good,
        &[(
            "Actions",
            ACTIONS,
            vec![vec![
                C::T("1"),
                C::T("Edge of care"),
                C::T("T. Collins"),
                C::T("Amber"),
                C::E,
                C::D(2016, 4, 30),
                C::E,
                C::T("Panel in place"),
            ]],
        )],
    );
    let before = whole_log(&s).await.len();
    let res = upload(good).await;
    assert_eq!(res.status(), 200);
    let preview = res.text().await.unwrap();
    assert!(
        preview.contains("Sheet Actions: action plan, 1 row(s)") && preview.contains("RagChanged"),
        "{preview}"
    );
    assert_eq!(
        whole_log(&s).await.len(),
        before,
        "a preview writes nothing"
    );
    let hash = preview
        .split("name=\"hash\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = c
        .post(s.url("/import/confirm"))
        .header("Cookie", &cookie)
        .body(format!("csrf={csrf}&hash={hash}&programme=LAC+action+plan&as_at=2016-06-29&authority=Cambridgeshire&map="))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let p = ragtrail::import::id_of("LAC action plan");
    let board = s
        .admin_json(&format!("/api/v1/board?as_at=2016-06-29&programme={p}"))
        .await;
    assert_eq!(board["items"][0]["title"], "Edge of care");
    assert_eq!(board["items"][0]["rag"]["overall"]["value"], "amber");
}
