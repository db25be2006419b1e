//! `.xlsx` trackers, the spreadsheets a board secretary already keeps:
//! `ragtrail import --data DIR --programme NAME --as-at DATE FILE.xlsx`.
//!
//! Two layouts, recognised sheet by sheet from a header row (within the first
//! ten rows) whose names are matched ignoring case, with common synonyms, or
//! as mapped once in a mapping file (`--map FILE`, JSON `{"Our RAG": "rag"}`):
//! - **an action plan**: No., Action, Owner, Status/RAG, Savings RAG, Target
//!   date, Revised date, Update. Each row is an item (an action; a deliverable
//!   when its number extends another row's, "2.1.3" under "2.1");
//! - **a KPI scorecard**: Measure, Target, one column per period, Comment.
//!   Each row is a metric of the sheet's scorecard item, with a reading per period.
//!
//! The rows apply at the board date (`--as-at`). Only what differs from what
//! the store already holds as at that date is written: a new item is
//! registered, a changed RAG, owner, target date or update is recorded. Every
//! bad cell is named by sheet, row and column, and nothing is written while
//! any remains. The import's idempotency key covers the file's bytes, the
//! programme and the date, so importing the same file again changes nothing.

use super::names::id_of;
use calamine::{Data, DataType, Reader};
use chrono::{Datelike, NaiveDate};
use ragtrail_events::{
    Dimension, Direction, Event, ItemKind, NewEvent, NoteKind, Rag, Section, Unit, Value,
};
use ragtrail_projections::{BoardQuery, Trail};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Reference,
    Title,
    Owner,
    /// The item's overall status.
    Rag,
    DeliveryRag,
    SavingsRag,
    TargetDate,
    RevisedDate,
    Update,
    NextSteps,
    Measure,
    Target,
    Comment,
    Unit,
    Better,
    /// A column to leave out.
    Ignore,
}

/// Header names each role is known by (lower case, spaces squeezed).
const SYNONYMS: &[(Role, &[&str])] = &[
    (
        Role::Reference,
        &["no.", "no", "ref", "ref.", "reference", "number", "#", "id"],
    ),
    (
        Role::Title,
        &[
            "action",
            "title",
            "activity",
            "task",
            "description",
            "project",
        ],
    ),
    (
        Role::Owner,
        &[
            "owner",
            "lead",
            "responsible",
            "officer",
            "lead officer",
            "action owner",
        ],
    ),
    (
        Role::Rag,
        &[
            "status/rag",
            "rag",
            "status",
            "rag status",
            "overall rag",
            "overall status",
            "action rag",
        ],
    ),
    (Role::DeliveryRag, &["delivery rag", "delivery status"]),
    (
        Role::SavingsRag,
        &["savings rag", "savings status", "saving rag"],
    ),
    (
        Role::TargetDate,
        &[
            "target date",
            "due date",
            "deadline",
            "end date",
            "due",
            "target end date",
        ],
    ),
    (
        Role::RevisedDate,
        &[
            "revised date",
            "revised end date",
            "revised target date",
            "revised",
            "new date",
        ],
    ),
    (
        Role::Update,
        &[
            "update",
            "progress",
            "progress update",
            "comments",
            "latest update",
            "narrative",
        ],
    ),
    (
        Role::NextSteps,
        &["next steps", "next period", "actions next period"],
    ),
    (
        Role::Measure,
        &[
            "measure",
            "kpi",
            "indicator",
            "metric",
            "performance measure",
        ],
    ),
    (Role::Target, &["target", "target value"]),
    (Role::Comment, &["comment", "note", "notes"]),
    (Role::Unit, &["unit", "units"]),
    (
        Role::Better,
        &["better", "good direction", "polarity", "direction"],
    ),
];

/// How an import from a tracker is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The programme's name (or id); created when new.
    pub programme: String,
    /// The authority, needed only when the programme is new.
    pub authority: Option<String>,
    /// The board date the rows apply at.
    pub as_at: NaiveDate,
    /// Header → role, overriding the synonyms.
    pub map: HashMap<String, Role>,
}

/// A cell that cannot be read as what its column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCell {
    pub sheet: String,
    /// 1-based, as the spreadsheet numbers it.
    pub row: usize,
    /// The column's letter ("D").
    pub column: String,
    pub header: Option<String>,
    pub message: String,
}

impl fmt::Display for BadCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sheet {:?}, row {}, column {}",
            self.sheet, self.row, self.column
        )?;
        if let Some(h) = &self.header {
            write!(f, " ({h})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What a tracker will write.
#[derive(Debug)]
pub struct Plan {
    pub events: Vec<NewEvent>,
    /// Each sheet read: its name, its layout ("action plan" or "scorecard"), and its rows.
    pub sheets: Vec<(String, &'static str, usize)>,
    /// Sheets with no header row this reader knows, and why.
    pub skipped: Vec<(String, String)>,
    pub key: String,
}

/// The column letter of a 0-based index ("A", "Z", "AA").
fn letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

fn squeeze(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A cell as text ("" when empty); numbers as people write them.
fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) => {
            d.as_date().map(|x| x.to_string()).unwrap_or_default()
        }
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

fn rag_of(s: &str) -> Result<Option<Rag>, String> {
    let w = s.trim().to_lowercase();
    Ok(Some(match w.as_str() {
        "" => return Ok(None),
        "red" | "r" => Rag::Red,
        "amber" | "a" | "amber/red" => Rag::Amber,
        "green" | "g" => Rag::Green,
        "blue" | "b" | "complete" | "completed" => Rag::Blue,
        _ => {
            return Err(format!(
                "is {s:?}; expected Red, Amber, Green or Blue (or R, A, G, B), or nothing"
            ))
        }
    }))
}

/// The last day of the month `d` is in.
fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

fn date_of(d: &Data) -> Result<Option<NaiveDate>, String> {
    if let Some(x) = d.as_date().filter(|_| !matches!(d, Data::String(_))) {
        return Ok(Some(x));
    }
    let s = text(d);
    if s.is_empty() {
        return Ok(None);
    }
    for f in [
        "%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y",
    ] {
        if let Ok(x) = NaiveDate::parse_from_str(&s, f) {
            return Ok(Some(x));
        }
    }
    // A month ("Mar-16", "March 2016"): its last day, as the reports mean it.
    for f in ["%b-%y", "%b %Y", "%B %Y", "%b-%Y", "%Y-%m"] {
        if let Ok(x) = NaiveDate::parse_from_str(&format!("01 {s}"), &format!("%d {f}")) {
            return Ok(month_end(x.year(), x.month()));
        }
    }
    Err(format!(
        "is {s:?}, not a date; write it as 2016-06-30, 30/06/2016 or Jun-16"
    ))
}

/// A period header: its label and last day ("2018-19 Q1" → 30 June 2018).
fn period_of(d: &Data) -> Option<(String, NaiveDate)> {
    if let Some(x) = d.as_date().filter(|_| !matches!(d, Data::String(_))) {
        return Some((x.format("%b %Y").to_string(), x));
    }
    let s = text(d);
    let lower = s.to_lowercase();
    // Financial quarters: "2018-19 Q1", "Q1 2018-19", "Q1 2018/19".
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.len() == 2 {
        let (q, y) = if words[0].starts_with('q') {
            (words[0], words[1])
        } else {
            (words[1], words[0])
        };
        if let (Some(q), Some(start)) = (
            q.strip_prefix('q').and_then(|n| n.parse::<u32>().ok()),
            y.get(..4).and_then(|n| n.parse::<i32>().ok()),
        ) {
            let end = match q {
                1 => month_end(start, 6),
                2 => month_end(start, 9),
                3 => month_end(start, 12),
                4 => month_end(start + 1, 3),
                _ => None,
            };
            if let Some(e) = end {
                return Some((s, e));
            }
        }
    }
    let as_date = date_of(&Data::String(s.clone())).ok().flatten()?;
    Some((s, as_date))
}

fn value_of(d: &Data, unit: Unit) -> Result<Option<Value>, String> {
    measure_of(&text(d), unit)
}

/// A measure as people write it ("24%", "£3,561", "Yes", "0.8") in `unit`;
/// None when empty. The record page reads its readings this way too.
pub fn measure_of(s: &str, unit: Unit) -> Result<Option<Value>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let lower = s.to_lowercase();
    if unit == Unit::YesNo || lower == "yes" || lower == "no" {
        return match lower.as_str() {
            "yes" | "y" => Ok(Some(Value::YesNo(true))),
            "no" | "n" => Ok(Some(Value::YesNo(false))),
            _ => Err(format!("is {s:?}; expected Yes or No")),
        };
    }
    let n: f64 = s
        .trim_start_matches('£')
        .trim_end_matches('%')
        .replace(',', "")
        .trim()
        .parse()
        .map_err(|_| format!("is {s:?}, not a number"))?;
    if !n.is_finite() {
        return Err(format!("is {s:?}, not a finite number"));
    }
    Ok(Some(if unit == Unit::Gbp {
        Value::Pence((n * 100.0).round() as i64)
    } else {
        Value::Number(n)
    }))
}

/// The columns of a sheet's header row, if it has one this reader knows.
fn header_row(
    rows: &[Vec<Data>],
    map: &HashMap<String, Role>,
) -> Option<(usize, Vec<Option<Role>>, Vec<String>)> {
    for (i, row) in rows.iter().enumerate().take(10) {
        let names: Vec<String> = row.iter().map(text).collect();
        let roles: Vec<Option<Role>> = names
            .iter()
            .map(|n| {
                let key = squeeze(n);
                map.iter()
                    .find(|(h, _)| squeeze(h) == key)
                    .map(|(_, r)| *r)
                    .or_else(|| {
                        SYNONYMS
                            .iter()
                            .find(|(_, names)| names.contains(&key.as_str()))
                            .map(|(r, _)| *r)
                    })
            })
            .collect();
        let has = |r: Role| roles.contains(&Some(r));
        if (has(Role::Title) && (has(Role::Reference) || has(Role::Rag) || has(Role::Owner)))
            || has(Role::Measure)
        {
            return Some((i, roles, names));
        }
    }
    None
}

/// Reads a tracker and works out what to write, against what `trail` holds.
pub fn read(bytes: &[u8], opts: &Options, trail: &Trail) -> Result<Plan, Vec<BadCell>> {
    let whole = |message: String| {
        vec![BadCell {
            sheet: String::new(),
            row: 0,
            column: "-".into(),
            header: None,
            message,
        }]
    };
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| whole(format!("cannot be read as a workbook: {e}")))?;
    let q = BoardQuery {
        as_at: opts.as_at,
        known_at: None,
        programme: None,
    };
    let programme = id_of(&opts.programme);
    let mut events = Vec::new();
    let mut bad = Vec::new();
    let new_event = |stream: Uuid, event: Event, reason: Option<String>| NewEvent {
        stream,
        event,
        effective: opts.as_at,
        reason,
        expected_version: None,
    };
    let existing = ragtrail_projections::programme::at(trail, programme, &q);
    if existing.is_none() {
        let Some(authority) = &opts.authority else {
            return Err(whole(format!(
                "the programme {:?} is new: give its authority with --authority",
                opts.programme
            )));
        };
        events.push(new_event(
            programme,
            Event::ProgrammeRegistered {
                name: opts.programme.clone(),
                authority: authority.clone(),
                sponsor: None,
            },
            None,
        ));
    }
    if !existing
        .as_ref()
        .is_some_and(|p| p.boards.iter().any(|b| b.date == opts.as_at))
    {
        events.push(new_event(
            programme,
            Event::BoardMeetingHeld {
                board: format!("Board of {}", opts.as_at.format("%-d %B %Y")),
                date: opts.as_at,
            },
            None,
        ));
    }
    let mut sheets = Vec::new();
    let mut skipped = Vec::new();
    let because = format!("from the tracker for the board of {}", opts.as_at);
    for name in book.sheet_names() {
        let range = match book.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                skipped.push((name.clone(), format!("cannot be read: {e}")));
                continue;
            }
        };
        let (top, left) = range.start().unwrap_or((0, 0));
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        let Some((h, roles, names)) = header_row(&rows, &opts.map) else {
            skipped.push((
                name.clone(),
                "no header row with an Action or a Measure column in its first ten rows".into(),
            ));
            continue;
        };
        let cell_ref = |r: usize, c: usize| (top as usize + r + 1, letter(left as usize + c));
        let mut bad_cell = |r: usize, c: usize, message: String| {
            let (row, column) = cell_ref(r, c);
            bad.push(BadCell {
                sheet: name.clone(),
                row,
                column,
                header: names.get(c).filter(|n| !n.is_empty()).cloned(),
                message,
            });
        };
        let col = |role: Role| roles.iter().position(|r| *r == Some(role));
        let body: Vec<(usize, &Vec<Data>)> = rows
            .iter()
            .enumerate()
            .skip(h + 1)
            .filter(|(_, r)| r.iter().any(|c| !text(c).is_empty()))
            .collect();
        let get = |row: &Vec<Data>, role: Role| -> Option<(usize, Data)> {
            let c = col(role)?;
            Some((c, row.get(c).cloned().unwrap_or(Data::Empty)))
        };
        if col(Role::Measure).is_some() {
            // A KPI scorecard: the sheet is an item, each row a metric of it.
            let card = id_of(&format!("{programme}/{name}"));
            if ragtrail_projections::item::at(trail, card, &q).is_none() {
                events.push(new_event(
                    card,
                    Event::ItemRegistered {
                        programme,
                        parent: None,
                        kind: ItemKind::Workstream,
                        reference: name.clone(),
                        title: format!("Scorecard: {name}"),
                        owner: None,
                        target_date: None,
                        timeframe: None,
                    },
                    None,
                ));
            }
            let periods: Vec<(usize, String, NaiveDate)> = roles
                .iter()
                .enumerate()
                .filter(|(_, r)| r.is_none())
                .filter_map(|(c, _)| {
                    let head = rows[h].get(c)?;
                    if text(head).is_empty() {
                        return None;
                    }
                    Some((c, head))
                })
                .filter_map(|(c, head)| match period_of(head) {
                    Some((label, end)) => Some((c, label, end)),
                    None => {
                        // A column of values under a header that is no period.
                        if body.iter().any(|(_, r)| r.get(c).is_some_and(|x| !text(x).is_empty())) {
                            bad_cell(h, c, format!("is {:?}, which is neither a column this reader knows nor a period (a date, Jul 2020, 2020-07 or 2018-19 Q1); name it in a --map file, as a period or \"ignore\"", text(head)));
                        }
                        None
                    }
                })
                .collect();
            for (r, row) in &body {
                let Some((mc, measure)) = get(row, Role::Measure) else {
                    continue;
                };
                let measure = text(&measure);
                if measure.is_empty() {
                    bad_cell(
                        *r,
                        mc,
                        "is empty: every row of a scorecard needs its measure".into(),
                    );
                    continue;
                }
                let unit_text = get(row, Role::Unit)
                    .map(|(_, d)| text(&d).to_lowercase())
                    .unwrap_or_default();
                let values: Vec<String> = periods
                    .iter()
                    .map(|(c, _, _)| row.get(*c).map(text).unwrap_or_default())
                    .collect();
                let mut row_bad = false;
                let unit = match unit_text.as_str() {
                    "%" | "percent" | "percentage" => Unit::Percent,
                    "£" | "gbp" | "money" | "pounds" => Unit::Gbp,
                    "days" => Unit::Days,
                    "ratio" => Unit::Ratio,
                    "yes/no" | "yes_no" => Unit::YesNo,
                    "count" | "number" => Unit::Count,
                    "" if measure.contains('%') || values.iter().any(|v| v.ends_with('%')) => {
                        Unit::Percent
                    }
                    "" if measure.contains('£') || values.iter().any(|v| v.starts_with('£')) => {
                        Unit::Gbp
                    }
                    "" if values
                        .iter()
                        .any(|v| matches!(v.to_lowercase().as_str(), "yes" | "no")) =>
                    {
                        Unit::YesNo
                    }
                    "" => Unit::Count,
                    other => {
                        let (c, _) = get(row, Role::Unit).unwrap_or((0, Data::Empty));
                        bad_cell(
                            *r,
                            c,
                            format!("is {other:?}; expected count, %, £, days, ratio or yes/no"),
                        );
                        row_bad = true;
                        Unit::Count
                    }
                };
                let better = get(row, Role::Better).map(|(c, d)| (c, text(&d).to_lowercase()));
                let direction = match better.as_ref().map(|(c, b)| (*c, b.as_str())) {
                    None | Some((_, "")) => None,
                    Some((_, "higher" | "up" | "high")) => Some(Direction::Up),
                    Some((_, "lower" | "down" | "low")) => Some(Direction::Down),
                    Some((c, other)) => {
                        bad_cell(*r, c, format!("is {other:?}; expected higher or lower"));
                        row_bad = true;
                        None
                    }
                };
                let (target, target_text) = match get(row, Role::Target) {
                    Some((c, d)) => match value_of(&d, unit) {
                        Ok(v) => (v, None),
                        Err(_)
                            if !text(&d).is_empty()
                                && !text(&d).chars().any(|x| x.is_ascii_digit()) =>
                        {
                            (None, Some(text(&d)))
                        }
                        Err(e) => {
                            bad_cell(*r, c, e);
                            row_bad = true;
                            (None, None)
                        }
                    },
                    None => (None, None),
                };
                // The readings are checked too; then the row is left out.
                if row_bad {
                    for (c, _, _) in &periods {
                        if let Err(e) = value_of(&row.get(*c).cloned().unwrap_or(Data::Empty), unit)
                        {
                            bad_cell(*r, *c, e);
                        }
                    }
                    continue;
                }
                let metric = id_of(&format!("{card}/{measure}"));
                if ragtrail_projections::metric::at(trail, metric, &q).is_none() {
                    events.push(new_event(
                        metric,
                        Event::MetricDefined {
                            item: Some(card),
                            reference: None,
                            name: measure.clone(),
                            unit,
                            good_direction: direction.unwrap_or(Direction::Up),
                            target,
                            tolerance_pct: None,
                        },
                        None,
                    ));
                    if direction.is_none() {
                        events.push(new_event(
                            metric,
                            Event::NoteRecorded {
                                kind: NoteKind::Assumption,
                                field: Some("good_direction".into()),
                                note: "The tracker does not say which way is better for this measure: higher is assumed.".into(),
                            },
                            None,
                        ));
                    }
                    if let Some(t) = &target_text {
                        events.push(new_event(
                            metric,
                            Event::TargetStated { target: t.clone() },
                            None,
                        ));
                    }
                }
                let comment = get(row, Role::Comment)
                    .map(|(_, d)| text(&d))
                    .filter(|c| !c.is_empty());
                // Readings the store holds already (same period, same value) are not written again.
                let held: Vec<(String, Option<Value>)> =
                    ragtrail_projections::trend::metric(trail, metric, None)
                        .map(|t| {
                            t.readings
                                .into_iter()
                                .map(|r| (r.period, r.value))
                                .collect()
                        })
                        .unwrap_or_default();
                let last = periods.len().saturating_sub(1);
                for (i, (c, label, end)) in periods.iter().enumerate() {
                    let cell = row.get(*c).cloned().unwrap_or(Data::Empty);
                    match value_of(&cell, unit) {
                        Ok(None) => {}
                        Ok(Some(v)) if held.contains(&(label.clone(), Some(v))) => {}
                        Ok(Some(v)) => events.push(NewEvent {
                            stream: metric,
                            event: Event::MetricReadingRecorded {
                                period: label.clone(),
                                period_end: *end,
                                value: Some(v),
                                rag: None,
                                target: None,
                                note: if i == last { comment.clone() } else { None },
                            },
                            effective: (*end).min(opts.as_at),
                            reason: None,
                            expected_version: None,
                        }),
                        Err(e) => bad_cell(*r, *c, e),
                    }
                }
            }
            sheets.push((name.clone(), "scorecard", body.len()));
            continue;
        }
        // An action plan: each row an item.
        let references: Vec<String> = body
            .iter()
            .map(|(_, row)| {
                get(row, Role::Reference)
                    .map(|(_, d)| text(&d))
                    .unwrap_or_default()
            })
            .collect();
        let mut order: Vec<usize> = (0..body.len()).collect();
        // Parents before their children ("2.1" before "2.1.3").
        order.sort_by_key(|i| references[*i].matches('.').count());
        for i in order {
            let (r, row) = body[i];
            let Some((tc, title)) = get(row, Role::Title) else {
                continue;
            };
            let title = text(&title);
            let reference = if references[i].is_empty() {
                format!("{name} row {}", cell_ref(r, 0).0)
            } else {
                references[i].clone()
            };
            if title.is_empty() {
                bad_cell(
                    r,
                    tc,
                    "is empty: every row of an action plan needs its action".into(),
                );
                continue;
            }
            let parent_ref = references
                .iter()
                .filter(|p| !p.is_empty() && reference.starts_with(&format!("{p}.")))
                .max_by_key(|p| p.len());
            let item = id_of(&format!("{programme}/{reference}"));
            let parent = parent_ref.map(|p| id_of(&format!("{programme}/{p}")));
            let owner = get(row, Role::Owner)
                .map(|(_, d)| text(&d))
                .filter(|o| !o.is_empty());
            // Every cell of the row is checked, so that every bad one is named.
            let mut row_bad = false;
            let (target, timeframe) = match get(row, Role::TargetDate) {
                Some((c, d)) => match date_of(&d) {
                    Ok(t) => (t, None),
                    // "TBC", "Ongoing": kept as written.
                    Err(_) if !text(&d).chars().any(|x| x.is_ascii_digit()) => {
                        (None, Some(text(&d)))
                    }
                    Err(e) => {
                        bad_cell(r, c, e);
                        row_bad = true;
                        (None, None)
                    }
                },
                None => (None, None),
            };
            let revised = match get(row, Role::RevisedDate) {
                Some((c, d)) => match date_of(&d) {
                    Ok(t) => t,
                    Err(e) => {
                        bad_cell(r, c, e);
                        row_bad = true;
                        None
                    }
                },
                None => None,
            };
            let mut rags = Vec::new();
            for (role, dim) in [
                (Role::Rag, Dimension::Overall),
                (Role::DeliveryRag, Dimension::Delivery),
                (Role::SavingsRag, Dimension::Savings),
            ] {
                if let Some((c, d)) = get(row, role) {
                    match rag_of(&text(&d)) {
                        Ok(Some(rag)) => rags.push((dim, rag)),
                        Ok(None) => {}
                        Err(e) => {
                            bad_cell(r, c, e);
                            row_bad = true;
                        }
                    }
                }
            }
            if row_bad {
                continue;
            }
            let now = ragtrail_projections::item::at(trail, item, &q);
            match &now {
                None => events.push(new_event(
                    item,
                    Event::ItemRegistered {
                        programme,
                        parent,
                        kind: if parent.is_some() {
                            ItemKind::Deliverable
                        } else {
                            ItemKind::Action
                        },
                        reference: reference.clone(),
                        title: title.clone(),
                        owner: owner.clone(),
                        target_date: target,
                        timeframe,
                    },
                    None,
                )),
                Some(v) if v.title != title || (owner.is_some() && v.owner != owner) => events
                    .push(new_event(
                        item,
                        Event::ItemAmended {
                            title: (v.title != title).then(|| title.clone()),
                            owner: owner.clone().filter(|o| v.owner.as_ref() != Some(o)),
                            description: None,
                            priority: None,
                        },
                        None,
                    )),
                Some(_) => {}
            }
            for (dim, rag) in rags {
                if now.as_ref().and_then(|v| v.rag.get(&dim)).map(|s| s.value) != Some(rag) {
                    events.push(new_event(
                        item,
                        Event::RagChanged {
                            dimension: dim,
                            rag,
                        },
                        Some(because.clone()),
                    ));
                }
            }
            // The target date the row says is current: its revised date, else its target.
            let wanted = revised.or(target);
            let current = match &now {
                Some(v) => v.target_date.as_ref().map(|t| t.value),
                None => target,
            };
            if let Some(t) = wanted.filter(|t| Some(*t) != current) {
                events.push(new_event(
                    item,
                    Event::TargetDateRevised { target_date: t },
                    Some(format!("Revised date {because}")),
                ));
            }
            for (role, section) in [
                (Role::Update, Section::Progress),
                (Role::NextSteps, Section::NextPeriod),
            ] {
                let Some((_, d)) = get(row, role) else {
                    continue;
                };
                let t = text(&d);
                let same = now
                    .as_ref()
                    .and_then(|v| v.narratives.get(&section))
                    .is_some_and(|n| n.value == t);
                if !t.is_empty() && !same {
                    events.push(new_event(
                        item,
                        Event::NarrativeRecorded { section, text: t },
                        None,
                    ));
                }
            }
        }
        sheets.push((name.clone(), "action plan", body.len()));
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    if sheets.is_empty() {
        return Err(whole(format!(
            "no sheet has a header row this reader knows (an Action or a Measure column); {}",
            skipped
                .iter()
                .map(|(n, why)| format!("{n}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    // The key names the file, the programme, the date and what it writes: the
    // same file again writes nothing (so no key is asked for), and the same
    // file after other changes writes what differs under a key of its own.
    let said = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{:?}",
        hex::encode(ragtrail_events::envelope::sha256(&[bytes]).0),
        opts.programme,
        opts.as_at,
        events
    );
    let key = format!(
        "tracker:{}",
        ragtrail_events::envelope::sha256(&[said.as_bytes()]).to_hex()
    );
    Ok(Plan {
        events,
        sheets,
        skipped,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_periods_read_as_people_write_them() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(
            period_of(&Data::String("2018-19 Q1".into())).unwrap().1,
            NaiveDate::from_ymd_opt(2018, 6, 30).unwrap()
        );
        assert_eq!(
            period_of(&Data::String("Q4 2018/19".into())).unwrap().1,
            NaiveDate::from_ymd_opt(2019, 3, 31).unwrap()
        );
        assert_eq!(
            period_of(&Data::String("Jul 2020".into())).unwrap().1,
            NaiveDate::from_ymd_opt(2020, 7, 31).unwrap()
        );
        assert_eq!(
            date_of(&Data::String("Jun-16".into())).unwrap(),
            NaiveDate::from_ymd_opt(2016, 6, 30)
        );
        assert!(date_of(&Data::String("soon".into())).is_err());
        assert_eq!(rag_of("amber").unwrap(), Some(Rag::Amber));
        assert!(rag_of("purple").is_err());
        assert_eq!(
            value_of(&Data::String("£3,561".into()), Unit::Gbp).unwrap(),
            Some(Value::Pence(356100))
        );
        assert_eq!(
            value_of(&Data::String("24%".into()), Unit::Percent).unwrap(),
            Some(Value::Number(24.0))
        );
    }
}
