//! `.csv` files: a header of either `metric,period,value,rag,note` (metric
//! readings; optional `period_end` and `effective` columns) or
//! `item,dimension,rag,effective,reason` (RAG updates), a row per event.
//! Every bad cell of every row is reported, by line and column.

use super::checked::{BadLine, Checked, Contents};
use super::names::id_of;
use chrono::{Datelike, NaiveDate};
use ragtrail_events::{Dimension, Event, FieldError, NewEvent, Rag, Value as Measure};

/// The columns of the two CSV layouts.
const READINGS: [&str; 5] = ["metric", "period", "value", "rag", "note"];
const RAGS: [&str; 5] = ["item", "dimension", "rag", "effective", "reason"];

/// Reads and checks a CSV file, every row, reporting every bad cell.
pub fn read(text: impl std::io::Read) -> Result<Checked, Vec<BadLine>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text);
    let header_err = |message: String| vec![BadLine::new(1, "header", message)];
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| header_err(format!("cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let has = |cols: &[&str]| cols.iter().all(|c| headers.iter().any(|h| h == c));
    let readings = has(&READINGS);
    if !readings && !has(&RAGS) {
        return Err(header_err(format!(
            "is {:?}; expected the columns {} (metric readings, optionally period_end and effective) or {} (RAG updates)",
            headers.join(","),
            READINGS.join(","),
            RAGS.join(",")
        )));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                bad.push(BadLine::new(
                    line,
                    "-",
                    format!("cannot be read as CSV: {e}"),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let row = if readings {
            reading_row(&get)
        } else {
            rag_row(&get)
        };
        match row {
            Ok(e) => {
                lines.push(line);
                events.push(e)
            }
            Err(errs) => bad.extend(errs.into_iter().map(|error| BadLine { line, error })),
        }
    }
    if bad.is_empty() {
        Ok(Checked {
            lines,
            contents: Contents::Events(events),
        })
    } else {
        Err(bad)
    }
}

/// The bad cells of one row.
type RowErrors = Vec<FieldError>;

fn date(column: &str, v: &str, errs: &mut RowErrors) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(
                column,
                format!("{v:?} is not a date; expected YYYY-MM-DD"),
            ));
            None
        }
    }
}

fn rag(v: &str, errs: &mut RowErrors) -> Option<Option<Rag>> {
    if v.trim().is_empty() {
        return Some(None);
    }
    match Rag::from_word(v) {
        Some(r) => Some(Some(r)),
        None => {
            errs.push(FieldError::new(
                "rag",
                format!(
                    "{v:?} is not a RAG; expected red, amber, green, blue, unrated (or R, A, G, B)"
                ),
            ));
            None
        }
    }
}

/// The last day of the month of `d`.
fn month_end(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|n| n.pred_opt())
}

fn measure(v: &str, errs: &mut RowErrors) -> Option<Option<Measure>> {
    let t = v.trim();
    if t.is_empty() {
        return Some(None);
    }
    match t.to_ascii_lowercase().as_str() {
        "yes" | "y" => return Some(Some(Measure::YesNo(true))),
        "no" | "n" => return Some(Some(Measure::YesNo(false))),
        _ => {}
    }
    if let Some(money) = t.strip_prefix('£') {
        let cleaned: String = money.chars().filter(|c| *c != ',').collect();
        let pence = cleaned
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .map(|p| (p * 100.0).round() as i64);
        return match pence {
            Some(p) => Some(Some(Measure::Pence(p))),
            None => {
                errs.push(FieldError::new(
                    "value",
                    format!("{v:?} is not a sum of money, e.g. £3,561.50"),
                ));
                None
            }
        };
    }
    let number: String = t
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() => Some(Some(Measure::Number(n))),
        _ => {
            errs.push(FieldError::new(
                "value",
                format!("{v:?} is not a value; expected a number (24, 30.3, 24%), a sum (£3,561), yes/no, or empty for missing"),
            ));
            None
        }
    }
}

fn reading_row(get: &dyn Fn(&str) -> String) -> Result<NewEvent, RowErrors> {
    let mut errs = Vec::new();
    let metric = get("metric");
    if metric.is_empty() {
        errs.push(FieldError::new(
            "metric",
            "is required: the metric's id or name",
        ));
    }
    let period = get("period");
    let period_end = match get("period_end").as_str() {
        "" => match NaiveDate::parse_from_str(&period, "%Y-%m-%d")
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
                    .ok()
                    .and_then(month_end)
            }) {
            Some(d) => Some(d),
            None => {
                errs.push(FieldError::new(
                    "period",
                    format!("{period:?} gives no end date; write it as YYYY-MM or YYYY-MM-DD, or add a period_end column"),
                ));
                None
            }
        },
        v => date("period_end", v, &mut errs),
    };
    let value = measure(&get("value"), &mut errs);
    let rag = rag(&get("rag"), &mut errs);
    let note = Some(get("note")).filter(|n| !n.is_empty());
    let effective = match get("effective").as_str() {
        "" => period_end,
        v => date("effective", v, &mut errs),
    };
    match (period_end, value, rag, effective) {
        (Some(period_end), Some(value), Some(rag), Some(effective)) if errs.is_empty() => {
            Ok(NewEvent {
                stream: id_of(&metric),
                event: Event::MetricReadingRecorded {
                    period,
                    period_end,
                    value,
                    rag,
                    target: None,
                    note,
                },
                effective,
                reason: None,
                expected_version: None,
            })
        }
        _ => Err(errs),
    }
}

fn rag_row(get: &dyn Fn(&str) -> String) -> Result<NewEvent, RowErrors> {
    let mut errs = Vec::new();
    let item = get("item");
    if item.is_empty() {
        errs.push(FieldError::new(
            "item",
            "is required: the item's id or name",
        ));
    }
    let dimension = match get("dimension").to_ascii_lowercase().as_str() {
        "overall" | "" => Some(Dimension::Overall),
        "delivery" | "action" => Some(Dimension::Delivery),
        "savings" => Some(Dimension::Savings),
        "budget" => Some(Dimension::Budget),
        other => {
            errs.push(FieldError::new(
                "dimension",
                format!(
                    "{other:?} is not a dimension; expected overall, delivery, savings or budget"
                ),
            ));
            None
        }
    };
    let rag = match rag(&get("rag"), &mut errs) {
        Some(None) => {
            errs.push(FieldError::new("rag", "is required"));
            None
        }
        other => other.flatten(),
    };
    let effective = date("effective", &get("effective"), &mut errs);
    let reason = get("reason");
    if reason.is_empty() {
        errs.push(FieldError::new(
            "reason",
            "is required: say why the status changed",
        ));
    }
    match (dimension, rag, effective) {
        (Some(dimension), Some(rag), Some(effective)) if errs.is_empty() => Ok(NewEvent {
            stream: id_of(&item),
            event: Event::RagChanged { dimension, rag },
            effective,
            reason: Some(reason),
            expected_version: None,
        }),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> String + 'a {
        move |name| {
            cells
                .iter()
                .find(|(k, _)| *k == name)
                .map_or(String::new(), |(_, v)| v.to_string())
        }
    }

    #[test]
    fn values_read_as_reports_write_them() {
        let mut errs = Vec::new();
        assert_eq!(measure("24%", &mut errs), Some(Some(Measure::Number(24.0))));
        assert_eq!(
            measure("£3,561.50", &mut errs),
            Some(Some(Measure::Pence(356150)))
        );
        assert_eq!(measure("yes", &mut errs), Some(Some(Measure::YesNo(true))));
        assert_eq!(measure("", &mut errs), Some(None));
        assert!(errs.is_empty());
        assert_eq!(measure("lots", &mut errs), None);
        assert_eq!(errs[0].field, "value");
        assert_eq!(rag("A", &mut errs), Some(Some(Rag::Amber)));
        assert_eq!(rag("", &mut errs), Some(None));
        assert_eq!(rag("purple", &mut errs), None);
        assert_eq!(errs[1].field, "rag");
    }

    #[test]
    fn a_reading_row_takes_its_period_end_from_the_month() {
        let get = row(&[
            ("metric", "cla-rate"),
            ("period", "2024-02"),
            ("value", "98"),
            ("rag", "g"),
        ]);
        let e = reading_row(&get).unwrap();
        let Event::MetricReadingRecorded { period_end, .. } = e.event else {
            panic!("a reading")
        };
        assert_eq!(period_end, NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(e.effective, period_end);
        let get = row(&[("period", "Q3"), ("value", "x")]);
        let fields: Vec<String> = reading_row(&get)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["metric", "period", "value"]);
    }

    #[test]
    fn a_rag_row_needs_a_rag_a_date_and_a_reason() {
        let get = row(&[
            ("item", "cib/p4"),
            ("dimension", "savings"),
            ("rag", "red"),
            ("effective", "2024-09-10"),
            ("reason", "slipped"),
        ]);
        let e = rag_row(&get).unwrap();
        assert_eq!(
            e.event,
            Event::RagChanged {
                dimension: Dimension::Savings,
                rag: Rag::Red
            }
        );
        assert_eq!(e.reason.as_deref(), Some("slipped"));
        let get = row(&[("item", "cib/p4"), ("dimension", "colour")]);
        let fields: Vec<String> = rag_row(&get)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["dimension", "rag", "effective", "reason"]);
    }
}
