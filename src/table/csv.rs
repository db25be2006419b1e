//! A table as CSV, for Power BI, pandas and Excel: UTF-8 with a byte-order
//! mark (so Excel reads £ and curly quotes), RFC 4180 quoting and CRLF line
//! ends, ISO dates and instants, money in pounds as plain numbers (the unit is
//! in the header), RAG as its lower-case word, and any text a spreadsheet would
//! run as a formula neutralised.

use super::sheet::{Cell, Sheet};

/// A CSV cell that a spreadsheet will not run: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's rule for
/// CSV injection), so it shows as the text it is. Plain numbers (`-3`) stay numbers.
pub fn safe_text(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The text of one cell.
pub fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => safe_text(t).into_owned(),
        Cell::Id(id) => id.to_string(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Instant(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Cell::Int(n) => n.to_string(),
        Cell::Number(n) => n.to_string(),
        Cell::Pence(p) => {
            let sign = if *p < 0 { "-" } else { "" };
            format!(
                "{sign}{}.{:02}",
                p.unsigned_abs() / 100,
                p.unsigned_abs() % 100
            )
        }
        Cell::Rag(r) => r.word().to_ascii_lowercase(),
        Cell::Bool(b) => b.to_string(),
    }
}

/// The CSV bytes of a table.
pub fn bytes(sheet: &Sheet) -> Result<Vec<u8>, csv::Error> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(sheet.columns.iter().map(|c| c.name.as_str()))?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(cell_text))?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::sheet::col;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_quote_and_numbers_stay_numbers() {
        for risky in ["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "-2+3"] {
            assert_eq!(safe_text(risky), format!("'{risky}"));
        }
        for plain in ["Amber", "", "-3", "+4.5", "£3,561", "x=1"] {
            assert_eq!(safe_text(plain), plain);
        }
    }

    #[test]
    fn a_table_is_bom_rfc_4180_with_pounds_and_iso_dates() {
        let sheet = Sheet {
            name: "Board".into(),
            columns: vec![
                col("title", 10.0),
                col("budget (£)", 10.0),
                col("on", 10.0),
                col("rag", 5.0),
            ],
            rows: vec![vec![
                Cell::text("Say \"hi\", then\nleave"),
                Cell::Pence(-372_405),
                Cell::Date(chrono::NaiveDate::from_ymd_opt(2024, 9, 10).unwrap()),
                Cell::Rag(ragtrail_events::Rag::Amber),
            ]],
        };
        let b = bytes(&sheet).unwrap();
        assert!(b.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(b[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "title,budget (£),on,rag\r\n\"Say \"\"hi\"\", then\nleave\",-3724.05,2024-09-10,amber\r\n"
        );
        assert_eq!(cell_text(&Cell::Pence(5)), "0.05");
        assert_eq!(cell_text(&Cell::Pence(-5)), "-0.05");
    }
}
