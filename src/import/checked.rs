//! What a file holds once checked, and what is wrong with it if not: the
//! shapes every format's reader produces.

use ragtrail_events::{Envelope, FieldError, NewEvent};
use std::fmt;

/// One bad line of a file: where, and the field error (its field is the
/// JSON path or the CSV column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The line number (0 for the file as a whole).
    pub line: usize,
    pub error: FieldError,
}

impl BadLine {
    pub fn new(line: usize, field: impl Into<String>, message: impl Into<String>) -> BadLine {
        BadLine {
            line,
            error: FieldError::new(field, message),
        }
    }
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}", self.line, self.error)
    }
}

/// What a file holds, once checked.
#[derive(Debug)]
pub enum Contents {
    /// New events, to append as one batch.
    Events(Vec<NewEvent>),
    /// An export, to restore exactly.
    Export(Vec<Envelope>),
}

impl Contents {
    pub fn len(&self) -> usize {
        match self {
            Contents::Events(e) => e.len(),
            Contents::Export(e) => e.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file's contents, and for each new event the line it came from.
#[derive(Debug)]
pub struct Checked {
    pub lines: Vec<usize>,
    pub contents: Contents,
}
