//! CSV and Excel from a running server, as Power BI, pandas and Excel fetch
//! them, and the same bytes from `ragtrail export` on the same log.

mod support;

use calamine::{Data, Reader};
use ragtrail::import::id_of;
use reqwest::header;
use reqwest::StatusCode;
use std::io::Read;
use support::{client, Server};

const AS_AT: &str = "2024-09-10";

async fn fetch(
    s: &Server,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = client().get(s.url(path));
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let r = req.send().await.unwrap();
    let (st, h) = (r.status(), r.headers().clone());
    (st, h, r.bytes().await.unwrap().to_vec())
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark for Excel"
    );
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let heads = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (heads, rows)
}

/// The text of one part of a workbook (its parts are zipped XML).
fn part(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut f = zip.by_name(name).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

#[tokio::test]
async fn the_board_as_csv_has_ids_every_rag_with_who_when_why_and_pounds() {
    let s = Server::start_demo();
    let (st, h, bytes) = fetch(&s, &format!("/api/v1/board?as_at={AS_AT}&format=csv"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"ragtrail-board-{AS_AT}.csv\"")
    );
    assert!(h.contains_key(header::ETAG));
    let (heads, rows) = csv_rows(&bytes);
    for want in [
        "programme_id",
        "programme",
        "item_id",
        "parent_id",
        "overall_rag",
        "overall_set_by",
        "overall_effective",
        "overall_recorded_at",
        "overall_reason",
        "delivery_rag",
        "savings_rag",
        "budget_rag",
        "budget (£)",
        "savings_target (£)",
        "target_date",
    ] {
        assert!(heads.iter().any(|h| h == want), "{want} in {heads:?}");
    }
    assert!(
        !heads.iter().any(|h| h == "budget"),
        "no bare `budget` column holding a RAG"
    );
    let at = |name: &str| heads.iter().position(|h| h == name).unwrap();
    let p4 = id_of("tameside-cip/priority-4").to_string();
    let row = rows
        .iter()
        .find(|r| r[at("item_id")] == p4)
        .expect("CIB priority 4");
    assert_eq!(row[at("overall_rag")], "green");
    assert_eq!(row[at("overall_effective")], AS_AT);
    assert!(!row[at("overall_reason")].is_empty(), "why it changed");
    assert!(uuid::Uuid::parse_str(&row[at("programme_id")]).is_ok());
    // Money is a plain number of pounds wherever the demo records it.
    let money: Vec<&String> = rows
        .iter()
        .flat_map(|r| {
            [
                "budget (£)",
                "spent (£)",
                "savings_target (£)",
                "savings_achieved (£)",
            ]
            .map(|c| &r[at(c)])
        })
        .filter(|v| !v.is_empty())
        .collect();
    assert!(!money.is_empty(), "the demo records some money");
    for v in money {
        let pounds: f64 = v.parse().unwrap_or_else(|_| panic!("{v:?} is a number"));
        assert!(
            v.ends_with(|c: char| c.is_ascii_digit()) && pounds.is_finite(),
            "{v}"
        );
        assert_eq!(v.split('.').nth(1).map(str::len), Some(2), "{v} has pence");
    }
    // The same through Accept.
    let (_, h2, by_accept) = fetch(
        &s,
        &format!("/api/v1/board?as_at={AS_AT}"),
        Some("text/csv"),
    )
    .await;
    assert_eq!(h2[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(by_accept, bytes);
    // And JSON stays the default.
    let (_, h3, _) = fetch(&s, &format!("/api/v1/board?as_at={AS_AT}"), Some("*/*")).await;
    assert_eq!(h3[header::CONTENT_TYPE], "application/json");
    let (st, _, _) = fetch(&s, "/api/v1/board?format=pdf", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_board_as_xlsx_is_typed_frozen_filtered_and_says_what_it_is() {
    let s = Server::start_demo();
    let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (st, h, bytes) = fetch(&s, &format!("/api/v1/board?as_at={AS_AT}"), Some(xlsx_type)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], xlsx_type);
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"ragtrail-board-{AS_AT}.xlsx\"")
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["About", "Board", "Movement", "Metrics", "Audit log"]
    );
    let about = book.worksheet_range("About").unwrap();
    let label = |r: &calamine::Range<Data>, l: &str| {
        (0..r.height() as u32)
            .find(|row| r.get_value((*row, 0)).map(|c| c.to_string()) == Some(l.into()))
            .and_then(|row| r.get_value((row, 1)).cloned())
    };
    let head = s.public_json("/api/v1/events?limit=1").await["head"].clone();
    assert_eq!(
        label(&about, "Log head position"),
        Some(Data::Float(head["position"].as_f64().unwrap()))
    );
    assert_eq!(
        label(&about, "Log head hash").map(|c| c.to_string()),
        Some(head["hash"].as_str().unwrap().to_string())
    );
    assert!(
        matches!(label(&about, "As at"), Some(Data::DateTime(_))),
        "{:?}",
        label(&about, "As at")
    );
    assert_eq!(
        label(&about, "Programme").map(|c| c.to_string()),
        Some("All programmes".into())
    );
    assert!(label(&about, "As known at").is_some());

    let board = book.worksheet_range("Board").unwrap();
    let heads: Vec<String> = (0..board.width() as u32)
        .map(|c| board.get_value((0, c)).unwrap().to_string())
        .collect();
    let at = |name: &str| heads.iter().position(|h| h == name).unwrap() as u32;
    let cells = |c: &str| -> Vec<Data> {
        let col = at(c);
        (1..board.height() as u32)
            .filter_map(|r| board.get_value((r, col)).cloned())
            .filter(|v| !matches!(v, Data::Empty))
            .collect()
    };
    assert!(
        cells("target_date")
            .iter()
            .all(|v| matches!(v, Data::DateTime(_))),
        "dates are dates"
    );
    assert!(
        cells("budget (£)")
            .iter()
            .chain(&cells("spent (£)"))
            .all(|v| matches!(v, Data::Float(_))),
        "money is numbers"
    );
    assert!(
        cells("slippage_days")
            .iter()
            .all(|v| matches!(v, Data::Float(_))),
        "days are numbers"
    );
    assert!(cells("overall_rag")
        .iter()
        .all(|v| ["Red", "Amber", "Green", "Blue", "Unrated"].contains(&v.to_string().as_str())));
    assert!(cells("budget (£)").len() + cells("savings_target (£)").len() > 0);

    // The sheet's XML: header frozen, autofilter on, widths set, money in £, RAG coloured.
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(sheet.contains("state=\"frozen\""), "frozen header");
    assert!(sheet.contains("<autoFilter"), "autofilter");
    assert!(sheet.contains("<col "), "column widths");
    let styles = part(&bytes, "xl/styles.xml");
    assert!(styles.contains("£#,##0.00"), "a £ number format");
    assert!(styles.contains("FFFFD54F"), "amber's fill");
    let movement = book.worksheet_range("Movement").unwrap();
    assert!(
        !movement.get_value((0, 0)).unwrap().to_string().is_empty(),
        "no blank header"
    );
}

#[tokio::test]
async fn every_table_view_downloads_named_for_what_it_holds() {
    let s = Server::start_demo();
    let metric = id_of("cheshire-east-sufficiency/scorecard/measure-2");
    let item = id_of("tameside-cip/priority-4");
    for (path, name) in [
        (
            format!("/api/v1/compare?from=2024-07-01&to={AS_AT}"),
            format!("ragtrail-movement-2024-07-01-to-{AS_AT}"),
        ),
        (
            format!("/api/v1/metrics/{metric}/trend?known_at=2030-01-01T00:00:00Z"),
            format!("ragtrail-metric-{metric}-trend-2030-01-01"),
        ),
        (
            format!("/api/v1/items/{item}/history?known_at=2030-01-01T00:00:00Z"),
            format!("ragtrail-history-{item}-2030-01-01"),
        ),
        (
            "/api/v1/events?after=0&limit=50".to_string(),
            "ragtrail-events-after-0-".to_string(),
        ),
    ] {
        for ext in ["csv", "xlsx"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (st, h, bytes) = fetch(&s, &format!("{path}{sep}format={ext}"), None).await;
            assert_eq!(st, StatusCode::OK, "{path} {ext}");
            let disposition = h[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert!(
                disposition.starts_with(&format!("attachment; filename=\"{name}")),
                "{disposition}"
            );
            assert!(disposition.ends_with(&format!(".{ext}\"")), "{disposition}");
            if ext == "csv" {
                let (_, rows) = csv_rows(&bytes);
                assert!(!rows.is_empty(), "{path}");
            } else {
                let book: calamine::Xlsx<_> =
                    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
                assert_eq!(book.sheet_names()[0], "About", "{path}");
            }
        }
    }
    let (_, rows) = csv_rows(
        &fetch(&s, "/api/v1/events?limit=50&format=csv", None)
            .await
            .2,
    );
    assert_eq!(rows.len(), 50, "a page of the log");
}

#[tokio::test]
async fn ragtrail_export_writes_the_bytes_the_server_sends() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start_with(&data, &["--demo"]);
    let (_, _, csv_http) =
        fetch(&s, &format!("/api/v1/board?as_at={AS_AT}&format=csv"), None).await;
    let (_, _, xlsx_http) = fetch(
        &s,
        &format!("/api/v1/board?as_at={AS_AT}&format=xlsx"),
        None,
    )
    .await;
    assert_eq!(s.stop(), Some(0));
    for (format, http) in [("csv", csv_http), ("xlsx", xlsx_http)] {
        let out = dir.path().join(format!("board.{format}"));
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_ragtrail"))
            .args(["export", "--data"])
            .arg(&data)
            .args(["--format", format, "--as-at", AS_AT, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            http,
            "{format}: the CLI and the server agree byte for byte"
        );
    }
}
