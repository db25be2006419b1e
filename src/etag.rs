//! Conditional reads of the views: every read view answers with an `ETag`
//! made from the log's head position, the day (a board "as at today" moves at
//! midnight), and the request's path, query and `Accept`; and with
//! `Cache-Control: no-cache`, so a client may keep a copy but must ask again.
//! A request whose `If-None-Match` holds the tag gets `304 Not Modified` and
//! no body, without the view being built. The tag is weak (`W/`): a
//! compressed and a plain answer are the same view, not the same bytes.
//!
//! Only readers get a 304: the caller is checked first, exactly as the view
//! would check it, so a tag reveals nothing to whoever may not read.

use crate::caller::Caller;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The paths whose answers follow from the log alone (and so from its head).
/// Also takes the OpenAPI document's path templates (`/api/v1/items/{id}/trend`),
/// so the document lists 304 exactly where this middleware can answer it.
pub fn is_read_view(path: &str) -> bool {
    const EXACT: [&str; 6] = [
        "/api/v1/board",
        "/api/v1/compare",
        "/api/v1/slippage",
        "/api/v1/boards",
        "/api/v1/events",
        "/api/v1/verify",
    ];
    EXACT.contains(&path)
        || (path.starts_with("/api/v1/metrics/") && path.ends_with("/trend"))
        || (path.starts_with("/api/v1/items/")
            && (path.ends_with("/trend") || path.ends_with("/history")))
        || (path.starts_with("/api/v1/programmes/") && path.ends_with("/counts"))
        || (path.starts_with("/api/v1/boards/") && path.ends_with("/seal/verify"))
}

/// The tag of a read at log position `head` on `today`.
pub fn tag(head: u64, today: chrono::NaiveDate, path_and_query: &str, accept: &str) -> String {
    let mut h = Sha256::new();
    for part in [path_and_query, "\n", accept, "\n", &today.to_string()] {
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    format!("W/\"{head}-{}\"", hex::encode(&digest[..8]))
}

/// Whether `If-None-Match` names `etag` (or is `*`), comparing weakly.
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// The middleware: 304 for a reader who holds the current tag; otherwise
/// the view, with its tag and `Cache-Control: no-cache`.
pub async fn revalidate(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET || !is_read_view(req.uri().path()) {
        return next.run(req).await;
    }
    if let Err(e) = caller.may_read(&state) {
        return e.into_response();
    }
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path(), |p| p.as_str())
        .to_string();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let etag = tag(
        state.store.head().position,
        chrono::Utc::now().date_naive(),
        &path_and_query,
        &accept,
    );
    let fresh = matches(req.headers(), &etag);
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        next.run(req).await
    };
    if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED {
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_changes_with_the_head_the_day_the_query_and_accept() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 9, 10).unwrap();
        let t = tag(7, d, "/api/v1/board?as_at=2024-09-10", "");
        assert!(t.starts_with("W/\"7-"), "{t}");
        assert_ne!(t, tag(8, d, "/api/v1/board?as_at=2024-09-10", ""));
        assert_ne!(
            t,
            tag(
                7,
                d.succ_opt().unwrap(),
                "/api/v1/board?as_at=2024-09-10",
                ""
            )
        );
        assert_ne!(t, tag(7, d, "/api/v1/board", ""));
        assert_ne!(t, tag(7, d, "/api/v1/board?as_at=2024-09-10", "text/csv"));
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", {}", t.trim_start_matches("W/"))).unwrap(),
        );
        assert!(
            matches(&h, &t),
            "a strong copy of a weak tag matches weakly"
        );
        assert!(!matches(&HeaderMap::new(), &t));
        assert!(is_read_view("/api/v1/items/x/history"));
        assert!(is_read_view("/api/v1/boards/{id}/seal/verify"));
        assert!(!is_read_view("/api/v1/tokens"));
        assert!(!is_read_view("/api/v1/digest"));
    }
}
