//! Query parameters and path segments, parsed one by one with errors that
//! name the parameter and say what was expected. Shared by the API and the pages.

use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// Query parameters, parsed one by one with errors naming the parameter.
pub struct Params {
    values: HashMap<String, String>,
    /// A form leaves fields it has no value for empty (`as_at=`), which means
    /// "not given"; an API client that sends `as_at=` has sent a bad date.
    blank_is_absent: bool,
}

impl Params {
    /// An API request's query: a parameter given empty is a bad value, 400.
    pub fn from_query(q: Option<&str>) -> Params {
        Params {
            values: parse(q),
            blank_is_absent: false,
        }
    }

    /// A page's query or a posted form: an empty field is as if not given.
    pub fn from_form(q: Option<&str>) -> Params {
        Params {
            values: parse(q),
            blank_is_absent: true,
        }
    }

    /// Every value given, decoded (for a search through a whole form).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.values().map(String::as_str)
    }

    /// A parameter as given; for a form, only if not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !(self.blank_is_absent && v.is_empty()))
    }
}

/// The `name=value` pairs of a query, decoded.
fn parse(q: Option<&str>) -> HashMap<String, String> {
    q.map(|q| {
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect()
    })
    .unwrap_or_default()
}

impl Params {
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.text(name)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                    ApiError::BadRequest(format!(
                        "{name}={v:?} is not a date; expected YYYY-MM-DD, e.g. 2024-09-10"
                    ))
                })
            })
            .transpose()
    }

    pub fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.text(name)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        ApiError::BadRequest(format!(
                            "{name}={v:?} is not an instant; expected RFC 3339, e.g. 2024-09-10T18:00:00Z"
                        ))
                    })
            })
            .transpose()
    }

    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.text(name)
            .map(|v| {
                Uuid::parse_str(v).map_err(|_| {
                    ApiError::BadRequest(format!("{name}={v:?} is not an id; expected a UUID"))
                })
            })
            .transpose()
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::BadRequest(format!("{name}={v:?} is not a whole number of 0 or more"))
                })
            })
            .transpose()
    }

    /// A log position or count: a whole number from 0 to 2^63 - 1 (what
    /// every client's 64-bit integer holds).
    pub fn position(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.number(name)? {
            Some(n) if n > i64::MAX as u64 => Err(ApiError::BadRequest(format!(
                "{name}={n} is beyond the largest position, {}",
                i64::MAX
            ))),
            n => Ok(n),
        }
    }

    /// A page size: `default` if not given, else 1 to `max`.
    pub fn limit(&self, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
        match self.position(name)? {
            None => Ok(default),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::BadRequest(format!(
                "{name}={n} is out of range; ask for 1 to {max} a page"
            ))),
        }
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.text(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(v) => Err(ApiError::BadRequest(format!(
                "{name}={v:?} must be true or false"
            ))),
        }
    }
}

/// Percent-decodes a query component (`+` is a space); bad escapes stay as typed.
fn decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path segment that must be a UUID.
pub fn path_uuid(what: &str, v: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(v)
        .map_err(|_| ApiError::BadRequest(format!("{what} {v:?} is not an id; expected a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded_and_named_in_errors() {
        let p = Params::from_query(Some(
            "as_at=2024-09-10&known_at=2024-09-10T18%3A00%3A00Z&q=a+b%2Fc&bad=%zz&empty=&flag=1",
        ));
        assert_eq!(
            p.date("as_at").unwrap(),
            NaiveDate::from_ymd_opt(2024, 9, 10)
        );
        assert_eq!(
            p.instant("known_at").unwrap().map(|t| t.to_rfc3339()),
            Some("2024-09-10T18:00:00+00:00".to_string())
        );
        assert_eq!(p.text("q"), Some("a b/c"));
        assert_eq!(p.text("bad"), Some("%zz"), "a bad escape stays as typed");
        assert_eq!(p.text("empty"), Some(""));
        assert!(
            p.date("empty").is_err(),
            "an API client's empty value is a bad value"
        );
        let form = Params::from_form(Some("as_at=&q=x"));
        assert_eq!(
            form.date("as_at").unwrap(),
            None,
            "a form's empty field is not given"
        );
        assert_eq!(form.text("q"), Some("x"));
        assert_eq!(p.date("missing").unwrap(), None);
        assert!(p.flag("flag").unwrap());
        assert!(!p.flag("missing").unwrap());
        let e = p.date("q").unwrap_err().to_string();
        assert!(e.starts_with("q=\"a b/c\" is not a date"), "{e}");
        assert!(p
            .number("q")
            .unwrap_err()
            .to_string()
            .contains("whole number"));
        assert!(p.uuid("q").unwrap_err().to_string().contains("UUID"));
        assert!(p.flag("q").is_err());
        assert!(path_uuid("board", "x").is_err());
    }
}
