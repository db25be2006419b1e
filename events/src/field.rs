//! The one field error of ragtrail: which field of an event, a request or
//! a file is wrong, and what was expected. The store's checks make it, the
//! service's parsers make it, and the HTTP answer and import report show it.

use std::fmt;

/// The one field error of ragtrail, from the store to the HTTP answer and
/// the import report: which field is wrong (its path, e.g. `data.title`,
/// `events[2].reason`, or a CSV column), and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    /// Path of the field, e.g. `data.title`, `reason`, `effective`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, its path put under `parent`: `reason` within
    /// `events[2]` is `events[2].reason`.
    pub fn within(self, parent: &str) -> FieldError {
        let field = match (parent.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => parent.to_string(),
            (false, false) if self.field.starts_with('[') => format!("{parent}{}", self.field),
            (false, false) => format!("{parent}.{}", self.field),
        };
        FieldError { field, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::FieldError;

    #[test]
    fn a_path_is_put_under_its_parent() {
        let e = FieldError::new("reason", "is required");
        assert_eq!(e.clone().within("events[2]").field, "events[2].reason");
        assert_eq!(e.clone().within("").field, "reason");
        assert_eq!(FieldError::new("", "x").within("events").field, "events");
        assert_eq!(
            FieldError::new("[1]", "x").within("events").field,
            "events[1]"
        );
        assert_eq!(
            e.within("events[2]").to_string(),
            "events[2].reason: is required"
        );
    }
}
