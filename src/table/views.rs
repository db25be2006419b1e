//! Each view as tables: the board (with the movement since the previous
//! board, its metrics and its audit log), a comparison, a metric's trend, an
//! item's history, and a page of the log. The HTTP API (`format=csv|xlsx`)
//! and `ragtrail export` both build their files here, so they write the same bytes.

use super::sheet::{col, About, Book, Cell, Column, Sheet};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Dimension, Envelope, Head, Section, Unit};
use ragtrail_projections::compare::Comparison;
use ragtrail_projections::history::HistoryEntry;
use ragtrail_projections::rating::Rating;
use ragtrail_projections::trend::MetricTrend;
use ragtrail_projections::view::{Board, ItemView, MetricView};
use ragtrail_projections::{board, compare, BoardQuery, Trail};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// The log a file is made from: its head, and when that head was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Source {
    pub head: Head,
    pub made_at: DateTime<Utc>,
}

impl Source {
    /// The source as the store stands: its head, and the head event's recorded time.
    pub fn of(store: &ragtrail_events::Store) -> Result<Source, ragtrail_events::StoreError> {
        let head = store.head();
        let made_at = match head.position {
            0 => DateTime::<Utc>::UNIX_EPOCH,
            p => store
                .get(p)?
                .map_or(DateTime::<Utc>::UNIX_EPOCH, |e| e.recorded_at),
        };
        Ok(Source { head, made_at })
    }

    fn lines(&self) -> Vec<(String, Cell)> {
        vec![
            (
                "Log head position".into(),
                Cell::Int(self.head.position as i64),
            ),
            ("Log head hash".into(), Cell::Text(self.head.hash.to_hex())),
            ("Log last written".into(), Cell::Instant(self.made_at)),
        ]
    }
}

/// The most audit-log rows a board pack holds (the latest ones).
pub const AUDIT_ROWS_MAX: usize = 50_000;

fn known_line(known_at: Option<DateTime<Utc>>) -> (String, Cell) {
    (
        "As known at".into(),
        match known_at {
            Some(t) => Cell::Instant(t),
            None => Cell::text("now: everything recorded"),
        },
    )
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A programme's name, for files.
fn programme_name(board: &Board) -> Cell {
    match board.programmes.as_slice() {
        [p] => Cell::text(format!("{} ({})", p.name, p.authority)),
        _ => Cell::text("All programmes"),
    }
}

/// The columns of the Board sheet, one row per item.
fn board_columns() -> Vec<Column> {
    let mut c = vec![
        col("programme_id", 38.0),
        col("programme", 28.0),
        col("item_id", 38.0),
        col("parent_id", 38.0),
        col("reference", 10.0),
        col("kind", 12.0),
        col("title", 40.0),
        col("owner", 20.0),
        col("priority", 10.0),
        col("phase", 14.0),
        col("planned_phase", 14.0),
    ];
    for d in Dimension::ALL {
        for (what, w) in [
            ("rag", 10.0),
            ("set_by", 16.0),
            ("effective", 12.0),
            ("recorded_at", 20.0),
            ("reason", 40.0),
        ] {
            c.push(col(&format!("{d}_{what}"), w));
        }
    }
    c.extend([
        col("target_date", 12.0),
        col("first_target_date", 12.0),
        col("slippage_days", 10.0),
        col("overdue_days", 10.0),
        col("slipped_within", 14.0),
        col("slipped_within_days", 10.0),
        col("budget (£)", 14.0),
        col("spent (£)", 14.0),
        col("savings_target (£)", 14.0),
        col("savings_achieved (£)", 14.0),
        col("progress", 50.0),
        col("next_period", 50.0),
        col("closed", 12.0),
    ]);
    c
}

fn board_row(names: &BTreeMap<Uuid, String>, i: &ItemView) -> Vec<Cell> {
    let mut r = vec![
        Cell::Id(i.programme),
        Cell::opt(names.get(&i.programme), |n| Cell::text(n.clone())),
        Cell::Id(i.id),
        Cell::opt(i.parent, Cell::Id),
        Cell::text(i.reference.clone()),
        Cell::text(i.kind.to_string()),
        Cell::text(i.title.clone()),
        Cell::opt(i.owner.clone(), Cell::text),
        Cell::opt(i.priority, |p| Cell::text(format!("{p:?}").to_lowercase())),
        Cell::opt(i.phase.as_ref(), |p| Cell::text(p.value.to_string())),
        Cell::opt(i.planned_phase, |p| Cell::text(p.to_string())),
    ];
    for d in Dimension::ALL {
        match i.rag.get(&d) {
            Some(s) => r.extend([
                Cell::Rag(s.value),
                Cell::text(s.set.actor.to_string()),
                Cell::Date(s.set.effective),
                Cell::Instant(s.set.recorded_at),
                Cell::opt(s.set.reason.clone(), Cell::text),
            ]),
            None => r.extend(std::iter::repeat_n(Cell::Empty, 5)),
        }
    }
    // Every entry of the section at this board, oldest first, a blank line between.
    let text = |s: Section| {
        Cell::opt(i.narratives.get(&s), |n| {
            let mut all: Vec<&str> = i
                .earlier_narratives
                .get(&s)
                .into_iter()
                .flatten()
                .map(|e| e.value.as_str())
                .collect();
            all.push(&n.value);
            Cell::text(all.join("\n\n"))
        })
    };
    r.extend([
        Cell::opt(i.target_date.as_ref(), |t| Cell::Date(t.value)),
        Cell::opt(i.first_target_date, Cell::Date),
        Cell::opt(i.slippage_days, Cell::Int),
        Cell::opt(i.overdue_days, Cell::Int),
        Cell::opt(i.within_slippage.as_ref(), |w| {
            Cell::text(w.reference.clone())
        }),
        Cell::opt(i.within_slippage.as_ref(), |w| Cell::Int(w.days)),
        Cell::opt(i.finance.budget, Cell::Pence),
        Cell::opt(i.finance.spent, Cell::Pence),
        Cell::opt(i.finance.savings_target, Cell::Pence),
        Cell::opt(i.finance.savings_achieved, Cell::Pence),
        text(Section::Progress),
        text(Section::NextPeriod),
        Cell::opt(i.closed.as_ref(), |c| {
            Cell::text(format!("{:?}", c.value).to_lowercase())
        }),
    ]);
    r
}

/// A metric value in the column's unit: money as pounds, yes/no as a boolean.
fn value_cell(v: Option<ragtrail_events::Value>) -> Cell {
    use ragtrail_events::Value;
    match v {
        None => Cell::Empty,
        Some(Value::Number(n)) => Cell::Number(n),
        Some(Value::Pence(p)) => Cell::Pence(p),
        Some(Value::YesNo(b)) => Cell::Bool(b),
    }
}

fn rated(r: &Rating) -> Cell {
    match r {
        Rating::Reported => Cell::text("as reported"),
        Rating::Rule(rule) => Cell::text(rule.clone()),
        Rating::Unrated => Cell::Empty,
    }
}

fn metrics_sheet(board: &Board) -> Sheet {
    let columns = vec![
        col("programme_id", 38.0),
        col("item_id", 38.0),
        col("item", 10.0),
        col("metric_id", 38.0),
        col("metric", 40.0),
        col("unit", 10.0),
        col("better", 8.0),
        col("target", 12.0),
        col("tolerance_pct", 10.0),
        col("period", 14.0),
        col("period_end", 12.0),
        col("value", 12.0),
        col("rag", 10.0),
        col("how_rated", 40.0),
        col("previous_period", 14.0),
        col("previous_value", 12.0),
    ];
    let mut rows = Vec::new();
    for i in &board.items {
        for m in &i.metrics {
            let latest = m.latest.as_ref();
            rows.push(vec![
                Cell::Id(i.programme),
                Cell::Id(i.id),
                Cell::text(i.reference.clone()),
                Cell::Id(m.id),
                Cell::text(m.name.clone()),
                Cell::text(m.unit.to_string()),
                Cell::text(m.good_direction.to_string()),
                value_cell(m.target),
                Cell::opt(m.tolerance_pct, Cell::Number),
                Cell::opt(latest, |l| Cell::text(l.period.clone())),
                Cell::opt(latest, |l| Cell::Date(l.period_end)),
                value_cell(latest.and_then(|l| l.value)),
                Cell::opt(latest.and_then(|l| l.rag), Cell::Rag),
                Cell::opt(latest, |l| rated(&l.rating)),
                Cell::opt(m.previous.as_ref(), |p| Cell::text(p.period.clone())),
                value_cell(m.previous.as_ref().and_then(|p| p.value)),
            ]);
        }
    }
    Sheet {
        name: "Metrics".into(),
        columns,
        rows,
    }
}

fn movement_columns() -> Vec<Column> {
    vec![
        col("programme_id", 38.0),
        col("item_id", 38.0),
        col("reference", 10.0),
        col("title", 40.0),
        col("dimension", 10.0),
        col("from", 10.0),
        col("to", 10.0),
        col("change", 10.0),
        col("exception", 10.0),
        col("exception_in", 16.0),
        col("new_item", 10.0),
        col("target_date_from", 12.0),
        col("target_date_to", 12.0),
        col("risks_opened", 20.0),
        col("risks_closed", 20.0),
        col("narratives_changed", 30.0),
        col("description_changed", 12.0),
        col("plan_months_changed", 30.0),
    ]
}

fn movement_sheet(name: &str, cmp: &Comparison) -> Sheet {
    let mut rows = Vec::new();
    for m in &cmp.items {
        for (d, mv) in &m.rag {
            rows.push(vec![
                Cell::Id(m.programme),
                Cell::Id(m.id),
                Cell::text(m.reference.clone()),
                Cell::text(m.title.clone()),
                Cell::text(d.to_string()),
                Cell::opt(mv.from, Cell::Rag),
                Cell::opt(mv.to, Cell::Rag),
                Cell::text(format!("{:?}", mv.change).to_lowercase()),
                Cell::Bool(m.exception),
                Cell::text(
                    m.exception_in
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::Bool(m.new_item),
                Cell::opt(m.target_date.as_ref().and_then(|t| t.from), Cell::Date),
                Cell::opt(m.target_date.as_ref().and_then(|t| t.to), Cell::Date),
                Cell::text(m.risks_opened.join(", ")),
                Cell::text(m.risks_closed.join(", ")),
                Cell::text(
                    m.narratives_changed
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::Bool(m.description_changed.is_some()),
                Cell::text(
                    m.plan_changed
                        .iter()
                        .flat_map(|p| &p.months_changed)
                        .map(|d| d.format("%Y-%m").to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ]);
        }
    }
    Sheet {
        name: name.into(),
        columns: movement_columns(),
        rows,
    }
}

fn log_columns() -> Vec<Column> {
    vec![
        col("position", 10.0),
        col("id", 38.0),
        col("stream", 38.0),
        col("version", 8.0),
        col("type", 22.0),
        col("effective", 12.0),
        col("recorded_at", 20.0),
        col("actor", 16.0),
        col("reason", 40.0),
        col("data", 60.0),
        col("hash", 66.0),
    ]
}

fn log_row(e: &Envelope) -> Vec<Cell> {
    vec![
        Cell::Int(e.position as i64),
        Cell::Id(e.id),
        Cell::Id(e.stream),
        Cell::Int(e.version as i64),
        Cell::text(e.event.type_name()),
        Cell::Date(e.effective),
        Cell::Instant(e.recorded_at),
        Cell::text(e.actor.clone()),
        Cell::opt(e.reason.clone(), Cell::text),
        Cell::text(e.event.data_json().to_string()),
        Cell::text(e.hash.to_hex()),
    ]
}

/// The streams a board shows: its programmes, items, metrics, risks and issues.
fn streams_of(board: &Board) -> HashSet<Uuid> {
    let mut s = HashSet::new();
    for p in &board.programmes {
        s.insert(p.id);
        s.extend(p.risks.iter().chain(&p.issues).map(|c| c.id));
    }
    for i in &board.items {
        s.insert(i.id);
        s.extend(i.metrics.iter().map(|m: &MetricView| m.id));
        s.extend(i.risks.iter().chain(&i.issues).map(|c| c.id));
    }
    s
}

/// The board pack as at `q`: About, Board, Movement (since the previous
/// board), Metrics, and the audit log of what the board shows.
pub fn board_pack(
    trail: &Trail,
    q: &BoardQuery,
    source: Source,
    log: impl Iterator<Item = Result<Envelope, ragtrail_events::StoreError>>,
) -> Result<Book, ragtrail_events::StoreError> {
    let b = board::at(trail, q);
    let names: BTreeMap<Uuid, String> = b
        .programmes
        .iter()
        .map(|p| (p.id, p.name.clone()))
        .collect();
    let rows = b.items.iter().map(|i| board_row(&names, i)).collect();
    let since = b
        .programmes
        .iter()
        .filter_map(|p| board::previous_date(trail, p.id, q.as_at, q.known_at))
        .max()
        .unwrap_or(q.as_at);
    let cmp = compare::between(trail, since, q.as_at, q.known_at, q.programme);
    // The audit log of the board's streams, as known at `known_at`: the latest rows.
    let streams = streams_of(&b);
    let mut audit = std::collections::VecDeque::new();
    let mut audited = 0usize;
    for e in log {
        let e = e?;
        if q.known_at.is_some_and(|t| e.recorded_at > t) {
            break;
        }
        if streams.contains(&e.stream) {
            audited += 1;
            if audit.len() == AUDIT_ROWS_MAX {
                audit.pop_front();
            }
            audit.push_back(log_row(&e));
        }
    }
    let mut lines = vec![
        ("Programme".into(), programme_name(&b)),
        ("As at".into(), Cell::Date(q.as_at)),
        known_line(q.known_at),
        ("Items".into(), Cell::Int(b.items.len() as i64)),
        ("Movement since".into(), Cell::Date(since)),
    ];
    if audited > audit.len() {
        lines.push((
            "Audit log".into(),
            Cell::text(format!(
                "the latest {} of {audited} events; GET /api/v1/events?format=csv has them all",
                audit.len()
            )),
        ));
    }
    lines.extend(source.lines());
    Ok(Book {
        about: About {
            title: format!("ragtrail board as at {}", day(q.as_at)),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![
            Sheet {
                name: "Board".into(),
                columns: board_columns(),
                rows,
            },
            movement_sheet("Movement", &cmp),
            metrics_sheet(&b),
            Sheet {
                name: "Audit log".into(),
                columns: log_columns(),
                rows: audit.into_iter().collect(),
            },
        ],
        file_stem: format!("ragtrail-board-{}", day(q.as_at)),
    })
}

/// The movement between two dates.
pub fn comparison(cmp: &Comparison, programme: Option<Uuid>, source: Source) -> Book {
    let mut lines = vec![
        (
            "Programme".into(),
            Cell::opt(programme, Cell::Id).or(Cell::text("All programmes")),
        ),
        ("From".into(), Cell::Date(cmp.from)),
        ("To (as at)".into(), Cell::Date(cmp.to)),
        known_line(cmp.known_at),
    ];
    lines.extend(source.lines());
    Book {
        about: About {
            title: format!(
                "ragtrail movement from {} to {}",
                day(cmp.from),
                day(cmp.to)
            ),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![movement_sheet("Movement", cmp)],
        file_stem: format!("ragtrail-movement-{}-to-{}", day(cmp.from), day(cmp.to)),
    }
}

/// What slipped between two boards, biggest first.
pub fn slippage(
    s: &ragtrail_projections::slippage::Slippage,
    programme: Option<Uuid>,
    source: Source,
) -> Book {
    let columns = vec![
        col("programme_id", 38.0),
        col("item_id", 38.0),
        col("reference", 10.0),
        col("kind", 12.0),
        col("title", 40.0),
        col("target_before", 12.0),
        col("target_after", 12.0),
        col("days_moved", 10.0),
        col("set_by", 16.0),
        col("recorded_at", 20.0),
        col("reason", 40.0),
    ];
    let rows = s
        .items
        .iter()
        .map(|i| {
            vec![
                Cell::Id(i.programme),
                Cell::Id(i.id),
                Cell::text(i.reference.clone()),
                Cell::text(i.kind.to_string()),
                Cell::text(i.title.clone()),
                Cell::Date(i.before),
                Cell::Date(i.after),
                Cell::Int(i.days),
                Cell::text(i.set.actor.to_string()),
                Cell::Instant(i.set.recorded_at),
                Cell::opt(i.set.reason.clone(), Cell::text),
            ]
        })
        .collect();
    let since = s.from.map_or("first set".to_string(), day);
    let mut lines = vec![
        (
            "Programme".into(),
            Cell::opt(programme, Cell::Id).or(Cell::text("All programmes")),
        ),
        (
            "From".into(),
            Cell::opt(s.from, Cell::Date).or(Cell::text("each target date as first set")),
        ),
        ("To (as at)".into(), Cell::Date(s.to)),
        known_line(s.known_at),
    ];
    lines.extend(source.lines());
    Book {
        about: About {
            title: format!("ragtrail slippage since {since} to {}", day(s.to)),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![Sheet {
            name: "Slippage".into(),
            columns,
            rows,
        }],
        file_stem: format!("ragtrail-slippage-to-{}", day(s.to)),
    }
}

/// A metric's readings over time. Money is in pounds; the unit is in the header.
pub fn metric_trend(
    t: &MetricTrend,
    unit: Option<Unit>,
    known_at: Option<DateTime<Utc>>,
    source: Source,
) -> Book {
    let value = if unit == Some(Unit::Gbp) {
        "value (£)"
    } else {
        "value"
    };
    let target = if unit == Some(Unit::Gbp) {
        "target (£)"
    } else {
        "target"
    };
    let columns = vec![
        col("metric_id", 38.0),
        col("metric", 40.0),
        col("period", 14.0),
        col("period_end", 12.0),
        col(value, 12.0),
        col(target, 12.0),
        col("rag", 10.0),
        col("how_rated", 40.0),
        col("note", 40.0),
        col("set_by", 16.0),
        col("recorded_at", 20.0),
    ];
    let rows = t
        .readings
        .iter()
        .map(|r| {
            vec![
                Cell::Id(t.id),
                Cell::text(t.name.clone()),
                Cell::text(r.period.clone()),
                Cell::Date(r.period_end),
                value_cell(r.value),
                value_cell(r.target),
                Cell::opt(r.rag, Cell::Rag),
                rated(&r.rating),
                Cell::opt(r.note.clone(), Cell::text),
                Cell::text(r.set.actor.to_string()),
                Cell::Instant(r.set.recorded_at),
            ]
        })
        .collect();
    let mut lines = vec![
        ("Metric".into(), Cell::text(t.name.clone())),
        ("Metric id".into(), Cell::Id(t.id)),
        (
            "Unit".into(),
            Cell::opt(unit, |u| Cell::text(u.to_string())),
        ),
        known_line(known_at),
    ];
    lines.extend(source.lines());
    Book {
        about: About {
            title: format!("ragtrail trend of {}", t.name),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![Sheet {
            name: "Trend".into(),
            columns,
            rows,
        }],
        file_stem: format!(
            "ragtrail-metric-{}-trend-{}",
            t.id,
            known_day(known_at, source)
        ),
    }
}

/// The day a file that has no as-at date is named for: as known at, or the log's last write.
fn known_day(known_at: Option<DateTime<Utc>>, source: Source) -> String {
    day(known_at.unwrap_or(source.made_at).date_naive())
}

/// Every event about an item, in order.
pub fn history(
    item: Uuid,
    entries: &[HistoryEntry],
    known_at: Option<DateTime<Utc>>,
    source: Source,
) -> Book {
    let columns = vec![
        col("position", 10.0),
        col("id", 38.0),
        col("stream", 38.0),
        col("version", 8.0),
        col("type", 22.0),
        col("effective", 12.0),
        col("recorded_at", 20.0),
        col("actor", 16.0),
        col("reason", 40.0),
        col("corrects", 38.0),
        col("corrected_by", 38.0),
        col("data", 60.0),
    ];
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                Cell::Int(e.position as i64),
                Cell::Id(e.id),
                Cell::Id(e.stream),
                Cell::Int(e.version as i64),
                Cell::text(e.type_name),
                Cell::Date(e.effective),
                Cell::Instant(e.recorded_at),
                Cell::text(e.actor.clone()),
                Cell::opt(e.reason.clone(), Cell::text),
                Cell::opt(e.corrects, Cell::Id),
                Cell::text(
                    e.corrected_by
                        .iter()
                        .map(Uuid::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Cell::text(e.data.to_string()),
            ]
        })
        .collect();
    let mut lines = vec![("Item id".into(), Cell::Id(item)), known_line(known_at)];
    lines.extend(source.lines());
    Book {
        about: About {
            title: format!("ragtrail history of item {item}"),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![Sheet {
            name: "History".into(),
            columns,
            rows,
        }],
        file_stem: format!("ragtrail-history-{item}-{}", known_day(known_at, source)),
    }
}

/// A page of the log.
pub fn log_page(events: &[Envelope], after: u64, source: Source) -> Book {
    let mut lines = vec![
        ("After position".into(), Cell::Int(after as i64)),
        ("Events".into(), Cell::Int(events.len() as i64)),
    ];
    lines.extend(source.lines());
    Book {
        about: About {
            title: "ragtrail event log".into(),
            lines,
            made_at: source.made_at,
        },
        sheets: vec![Sheet {
            name: "Events".into(),
            columns: log_columns(),
            rows: events.iter().map(log_row).collect(),
        }],
        file_stem: format!(
            "ragtrail-events-after-{after}-{}",
            day(source.made_at.date_naive())
        ),
    }
}

impl Cell {
    /// This cell, or `other` if it is empty.
    fn or(self, other: Cell) -> Cell {
        match self {
            Cell::Empty => other,
            c => c,
        }
    }
}
