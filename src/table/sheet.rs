//! A table as a spreadsheet holds it: named, typed columns and rows of typed
//! cells, and a note of what the file is. Each view is turned into these once
//! ([`super::views`]); CSV and XLSX are two ways of writing the same cells.

use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::Rag;
use uuid::Uuid;

/// One cell, by what it holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Id(Uuid),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Int(i64),
    Number(f64),
    /// Money, held in integer pence and written in pounds.
    Pence(i64),
    Rag(Rag),
    Bool(bool),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map_or(Cell::Empty, f)
    }
}

/// A column: its header and how wide it shows (in characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub width: f64,
}

/// A column named `name`, `width` characters wide.
pub fn col(name: &str, width: f64) -> Column {
    Column {
        name: name.to_string(),
        width,
    }
}

/// One table: a sheet of a workbook, or the whole of a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// What a file is: its title, and lines of what it holds (programme, as at,
/// as known at, the log head it was made from).
#[derive(Debug, Clone, PartialEq)]
pub struct About {
    pub title: String,
    pub lines: Vec<(String, Cell)>,
    /// When the log it was made from was last written (the file's creation time).
    pub made_at: DateTime<Utc>,
}

/// A file's tables: the first is what a CSV holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Book {
    pub about: About,
    pub sheets: Vec<Sheet>,
    /// The download's name without extension, e.g. `ragtrail-board-2024-09-10`.
    pub file_stem: String,
}
