//! `ragtrail import` and `ragtrail export` end to end: whole-file checking with
//! every bad line reported, nothing written on error, idempotent re-imports,
//! readable names for streams, and an exported log restoring exactly.

use calamine::Reader;
use ragtrail::import::id_of;
use ragtrail_events::Store;
use ragtrail_projections::{BoardQuery, Trail};
use std::path::Path;
use std::process::Command;

fn ragtrail(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn board_of(data: &Path, as_at: &str) -> serde_json::Value {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(data).unwrap();
        let trail = Trail::rebuild(&store.read(0, usize::MAX).unwrap());
        let b = ragtrail_projections::board::at(
            &trail,
            &BoardQuery {
                as_at: as_at.parse().unwrap(),
                known_at: None,
                programme: None,
            },
        );
        store.close().await;
        serde_json::to_value(b).unwrap()
    })
}

const SETUP: &str = r#"# Cheshire East sufficiency statement review, cut down
{"stream": "cheshire-east", "type": "ProgrammeRegistered", "data": {"name": "Sufficiency Statement 2018-2020", "authority": "Cheshire East"}, "effective": "2018-04-01"}
{"stream": "cheshire-east/scorecard", "type": "ItemRegistered", "data": {"programme": "cheshire-east", "kind": "standard", "reference": "Scorecard", "title": "Performance management scorecard for cared for children's accommodation"}, "effective": "2018-04-01"}
{"events": [{"stream": "cheshire-east/beyond-20-miles", "type": "MetricDefined", "data": {"item": "cheshire-east/scorecard", "reference": "2", "name": "% of cared for children accommodated beyond 20 miles", "unit": "percent", "good_direction": "down", "target": {"number": 10.0}, "tolerance_pct": 10.0}, "effective": "2018-04-01"}]}
"#;

#[test]
fn a_csv_with_bad_rows_writes_nothing_and_names_every_bad_row() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let setup = write(dir.path(), "setup.jsonl", SETUP);
    let (code, out) = ragtrail(&["import", "--data", d, &setup]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 3 events"), "{out}");

    let bad = write(
        dir.path(),
        "readings.csv",
        "metric,period,value,rag,note\n\
        cheshire-east/beyond-20-miles,2018-06,24%,,Q1\n\
        cheshire-east/beyond-20-miles,Q2 2018-19,23%,,\n\
        cheshire-east/beyond-20-miles,2018-09,lots,purple,\n\
        ,2018-12,20,,\n",
    );
    let (code, out) = ragtrail(&["import", "--data", d, &bad]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing was imported"), "{out}");
    assert!(out.contains("line 3, period"), "{out}");
    assert!(out.contains("line 4, value"), "{out}");
    assert!(out.contains("line 4, rag"), "{out}");
    assert!(out.contains("line 5, metric"), "{out}");
    assert!(
        !out.contains("line 2,"),
        "the good row is not reported: {out}"
    );
    let (_, v) = ragtrail(&["verify", "--data", d]);
    assert!(v.contains("verified 3 events"), "nothing was written: {v}");

    // The corrected file imports; importing it again changes nothing.
    let good = write(dir.path(), "readings.csv", "metric,period,period_end,value,rag,note\n\
        cheshire-east/beyond-20-miles,2018-19 Q1,2018-06-30,24%,,\"When you take out placed with family / friends, adoption and long term foster care % = 13%\"\n\
        cheshire-east/beyond-20-miles,2018-19 Q2,2018-09-30,23%,,\n");
    let (code, out) = ragtrail(&["import", "--data", d, &good]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 2 events at positions 4..5"), "{out}");
    let (code, out) = ragtrail(&["import", "--data", d, &good]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("already imported"), "{out}");
    let (_, v) = ragtrail(&["verify", "--data", d]);
    assert!(v.contains("verified 5 events"), "{v}");

    // Readable names resolve to the same streams: the board shows the metric with its readings.
    let board = board_of(&data, "2018-12-31");
    let item = &board["items"][0];
    assert_eq!(item["id"], id_of("cheshire-east/scorecard").to_string());
    let m = &item["metrics"][0];
    assert_eq!(m["latest"]["value"]["number"], 23.0);
    assert_eq!(m["previous"]["value"]["number"], 24.0);
    assert_eq!(
        m["latest"]["rag"], "amber",
        "beyond tolerance but improving: {m}"
    );

    // RAG updates by CSV, with a reason required on every row.
    let rags = write(
        dir.path(),
        "rags.csv",
        "item,dimension,rag,effective,reason\n\
        cheshire-east/scorecard,overall,A,2018-10-01,Q2 scorecard reviewed\n\
        cheshire-east/scorecard,overall,G,2018-12-01,\n",
    );
    let (code, out) = ragtrail(&["import", "--data", d, &rags]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 3, reason"), "{out}");
}

#[test]
fn a_bad_jsonl_line_is_named_with_its_field() {
    let dir = tempfile::TempDir::new().unwrap();
    let d = dir.path().join("data");
    let file = write(
        dir.path(),
        "x.jsonl",
        &(SETUP.to_string()
            + r#"{"stream": "cheshire-east/scorecard", "type": "RagChanged", "data": {"dimension": "overall", "rag": "purple"}, "effective": "2018-10-01", "reason": "x"}"#
            + "\n{not json}\n"),
    );
    let (code, out) = ragtrail(&["import", "--data", d.to_str().unwrap(), &file]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 5, data.rag"), "{out}");
    assert!(out.contains("line 6"), "{out}");
    assert!(
        !d.join("db").exists(),
        "a bad file never creates or touches a store"
    );
}

#[test]
fn an_exported_log_restores_exactly_and_the_board_pack_opens() {
    let dir = tempfile::TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let setup = write(
        dir.path(),
        "setup.jsonl",
        &(SETUP.to_string()
            + r#"{"stream": "cheshire-east/beyond-20-miles", "type": "MetricReadingRecorded", "data": {"period": "2018-19 Q1", "period_end": "2018-06-30", "value": {"number": 24.0}}, "effective": "2018-06-30"}"#
            + "\n"
            + r#"{"stream": "cheshire-east/scorecard", "type": "RagChanged", "data": {"dimension": "overall", "rag": "amber"}, "effective": "2018-10-01", "reason": "Q2 scorecard reviewed"}"#
            + "\n"),
    );
    assert_eq!(
        ragtrail(&[
            "import",
            "--data",
            a.to_str().unwrap(),
            "--actor",
            "Cheshire East PMO",
            &setup
        ])
        .0,
        0
    );
    let log = dir.path().join("log.jsonl");
    let (code, out) = ragtrail(&[
        "export",
        "--data",
        a.to_str().unwrap(),
        "--format",
        "jsonl",
        "-o",
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = ragtrail(&[
        "import",
        "--data",
        b.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("restored 5 events exactly"), "{out}");
    assert_eq!(
        board_of(&a, "2018-12-31"),
        board_of(&b, "2018-12-31"),
        "identical board JSON"
    );
    let (va, vb) = (
        ragtrail(&["verify", "--data", a.to_str().unwrap()]).1,
        ragtrail(&["verify", "--data", b.to_str().unwrap()]).1,
    );
    assert_eq!(va, vb, "the same chain and head");
    // Restoring on top of a log is refused.
    let (code, out) = ragtrail(&[
        "import",
        "--data",
        b.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("empty store"), "{out}");

    let csv = dir.path().join("board.csv");
    let (code, out) = ragtrail(&[
        "export",
        "--data",
        a.to_str().unwrap(),
        "--format",
        "csv",
        "--as-at",
        "2018-12-31",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for Excel");
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("programme_id,programme,item_id,parent_id,reference,kind,title"));
    assert!(text.contains(",Sufficiency Statement 2018-2020,"), "{text}");
    assert!(text.contains(",Scorecard,standard,"), "{text}");
    assert!(text.contains(",amber,"), "{text}");

    let pack = dir.path().join("pack.xlsx");
    let (code, out) = ragtrail(&[
        "export",
        "--data",
        a.to_str().unwrap(),
        "--format",
        "xlsx",
        "--as-at",
        "2018-12-31",
        "-o",
        pack.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&pack).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["About", "Board", "Movement", "Metrics", "Audit log"]
    );
    let board = book.worksheet_range("Board").unwrap();
    let heads: Vec<String> = (0..board.width())
        .map(|c| board.get_value((0, c as u32)).unwrap().to_string())
        .collect();
    let at = |name: &str| heads.iter().position(|h| h == name).unwrap() as u32;
    assert_eq!(
        board
            .get_value((1, at("overall_rag")))
            .map(|c| c.to_string()),
        Some("Amber".into())
    );
    let metrics = book.worksheet_range("Metrics").unwrap();
    assert_eq!(
        metrics.get_value((1, 4)).map(|c| c.to_string()),
        Some("% of cared for children accommodated beyond 20 miles".into())
    );
    let audit = book.worksheet_range("Audit log").unwrap();
    assert_eq!(audit.height(), 6, "a header and one row per event");
    assert_eq!(
        audit.get_value((5, 7)).map(|c| c.to_string()),
        Some("Cheshire East PMO".into())
    );
}

/// Text that a spreadsheet would run (`=`, `+`, `-`, `@`, tab, CR first) is
/// written to CSV with a leading `'`, readable and inert; an export never
/// overwrites a file unless `--force`, and never writes through a symlink.
#[test]
fn csv_exports_neutralise_formulas_and_exports_never_overwrite_unasked() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    let hostile = r#"{"stream": "p", "type": "ProgrammeRegistered", "data": {"name": "=HYPERLINK(\"http://evil.example\",\"Board\")", "authority": "@SUM(1+1)"}, "effective": "2024-09-01"}
{"stream": "p/1", "type": "ItemRegistered", "data": {"programme": "p", "kind": "project", "reference": "-2+3", "title": "+cmd|' /C calc'!A0", "owner": "\tTab Owner"}, "effective": "2024-09-01"}
{"stream": "p/1", "type": "RagChanged", "data": {"dimension": "overall", "rag": "red"}, "effective": "2024-09-02", "reason": "=1+1 slipped"}
"#;
    let file = write(dir.path(), "hostile.jsonl", hostile);
    assert_eq!(
        ragtrail(&["import", "--data", data.to_str().unwrap(), &file]).0,
        0
    );
    let csv = dir.path().join("board.csv");
    let export = |out: &Path, force: bool| {
        let mut args = vec![
            "export",
            "--data",
            data.to_str().unwrap(),
            "--format",
            "csv",
            "--as-at",
            "2024-09-10",
            "-o",
            out.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        ragtrail(&args)
    };
    let (code, out) = export(&csv, false);
    assert_eq!(code, 0, "{out}");
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    let cells: Vec<&str> = row.iter().collect();
    for risky in [
        "=HYPERLINK(",
        "+cmd|",
        "\tTab Owner",
        "-2+3",
        "=1+1 slipped",
    ] {
        assert!(
            cells
                .iter()
                .any(|c| c.starts_with('\'') && c[1..].starts_with(risky)),
            "{risky:?} neutralised in {cells:?}"
        );
        assert!(
            !cells.iter().any(|c| c.starts_with(risky)),
            "{risky:?} raw in {cells:?}"
        );
    }
    // Not overwritten unasked; replaced with --force.
    std::fs::write(&csv, "keep me").unwrap();
    let (code, out) = export(&csv, false);
    assert_ne!(code, 0);
    assert!(out.contains("exists already; give --force"), "{out}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "keep me");
    let (code, out) = export(&csv, true);
    assert_eq!(code, 0, "{out}");
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("\u{feff}programme_id,"));
    // Never through a symbolic link, even with --force.
    let target = dir.path().join("someone-elses.txt");
    std::fs::write(&target, "theirs").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for force in [false, true] {
        let (code, out) = export(&link, force);
        assert_ne!(code, 0);
        assert!(out.contains("symbolic link"), "{out}");
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
}
