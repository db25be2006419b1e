//! `format=csv` / `format=xlsx` (or the same through `Accept`) on the read
//! views: which format a request asks for, and the download it gets, named
//! for what it holds and its as-at date.

use crate::error::ApiError;
use crate::params::Params;
use crate::table::{self, sheet::Book};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What a read view answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

/// The format asked for: `format=` if given, else the first of `Accept`'s
/// types this server makes (JSON when it names none of them, or anything).
pub fn asked(p: &Params, headers: &HeaderMap) -> Result<Format, ApiError> {
    match p.text("format") {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format={other:?} is not a format; use json, csv or xlsx"
            )))
        }
        None => {}
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // In the order the client lists them (q-values are not weighed: clients that send one type do not need them).
    for t in accept.split(',') {
        let t = t
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match t.as_str() {
            "application/json" | "application/*" | "*/*" => return Ok(Format::Json),
            "text/csv" => return Ok(Format::Csv),
            XLSX => return Ok(Format::Xlsx),
            _ => {}
        }
    }
    Ok(Format::Json)
}

/// The download of `book` as CSV (its first table) or XLSX.
pub fn download(book: &Book, format: Format) -> Result<Response, ApiError> {
    let (bytes, kind, ext) = match format {
        Format::Csv => {
            let first = book
                .sheets
                .first()
                .ok_or_else(|| ApiError::Internal("a table with no sheet".into()))?;
            let bytes = table::csv::bytes(first)
                .map_err(|e| ApiError::Internal(format!("cannot write CSV: {e}")))?;
            (bytes, CSV, "csv")
        }
        Format::Xlsx => {
            let bytes = table::xlsx::bytes(book)
                .map_err(|e| ApiError::Internal(format!("cannot write the workbook: {e}")))?;
            (bytes, XLSX, "xlsx")
        }
        Format::Json => return Err(ApiError::Internal("JSON is not a download".into())),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    let name = format!("{}.{ext}", book.file_stem);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_format_comes_from_the_query_then_accept() {
        let none = Params::from_query(None);
        assert_eq!(asked(&none, &HeaderMap::new()).unwrap(), Format::Json);
        assert_eq!(asked(&none, &accept("text/csv")).unwrap(), Format::Csv);
        assert_eq!(asked(&none, &accept(XLSX)).unwrap(), Format::Xlsx);
        assert_eq!(
            asked(&none, &accept("text/html, */*;q=0.8")).unwrap(),
            Format::Json
        );
        let q = Params::from_query(Some("format=xlsx"));
        assert_eq!(asked(&q, &accept("text/csv")).unwrap(), Format::Xlsx);
        assert!(asked(&Params::from_query(Some("format=pdf")), &HeaderMap::new()).is_err());
    }
}
