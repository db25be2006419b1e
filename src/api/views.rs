//! The read views: the board as at a date, the movement between two dates,
//! trends, an item's history, and the list of board meetings. Every one takes
//! `known_at` to answer "as the board saw it then".

use super::{path_uuid, Caller, Params};
use crate::error::ApiError;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::Json;
use chrono::{NaiveDate, Utc};
use ragtrail_projections::BoardQuery;
use serde_json::{json, Value};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("cannot render the view: {e}")))
}

/// `GET /api/v1/board?as_at=DATE[&known_at=INSTANT][&programme=ID]` (as_at defaults to today)
pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let q = BoardQuery {
        as_at: p.date("as_at")?.unwrap_or_else(today),
        known_at: p.instant("known_at")?,
        programme: p.uuid("programme")?,
    };
    let trail = state.live.read();
    if let Some(id) = q.programme {
        if trail
            .programme_at(
                id,
                &BoardQuery {
                    as_at: NaiveDate::MAX,
                    ..q
                },
            )
            .is_none()
        {
            return Err(ApiError::NotFound(format!("no programme {id}")));
        }
    }
    to_json(&trail.board(&q))
}

/// `GET /api/v1/compare?from=DATE&to=DATE[&known_at=INSTANT][&programme=ID]`
pub async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let need = |name: &str| ApiError::BadRequest(format!("{name} is required: a date, YYYY-MM-DD"));
    let from = p.date("from")?.ok_or_else(|| need("from"))?;
    let to = p.date("to")?.ok_or_else(|| need("to"))?;
    let trail = state.live.read();
    to_json(&trail.compare(from, to, p.instant("known_at")?, p.uuid("programme")?))
}

/// `GET /api/v1/metrics/{id}/trend[?known_at=INSTANT]`
pub async fn metric_trend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("metric", &id)?;
    let p = Params::from_query(uri.query());
    let trail = state.live.read();
    let trend = trail
        .metric_trend(id, p.instant("known_at")?)
        .ok_or_else(|| ApiError::NotFound(format!("no metric {id}")))?;
    to_json(&trend)
}

/// `GET /api/v1/items/{id}/trend[?known_at=INSTANT]`: RAG per dimension at each board date.
pub async fn item_trend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("item", &id)?;
    let p = Params::from_query(uri.query());
    let trail = state.live.read();
    let trend = trail
        .item_trend(id, p.instant("known_at")?)
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
    to_json(&json!({ "item": id, "boards": trend }))
}

/// `GET /api/v1/programmes/{id}/counts[?known_at=INSTANT]`: RAG counts at each board date.
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("programme", &id)?;
    let p = Params::from_query(uri.query());
    let known_at = p.instant("known_at")?;
    let trail = state.live.read();
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at,
        programme: Some(id),
    };
    if trail.programme_at(id, &q).is_none() {
        return Err(ApiError::NotFound(format!("no programme {id}")));
    }
    to_json(&json!({ "programme": id, "boards": trail.rag_counts(id, known_at) }))
}

/// `GET /api/v1/items/{id}/history[?known_at=INSTANT][&children=true]`
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("item", &id)?;
    let p = Params::from_query(uri.query());
    let known_at = p.instant("known_at")?;
    let children = p.flag("children")?;
    let entries = {
        let trail = state.live.read();
        crate::history::item_history(&state.store, &trail, id, children, known_at)?
    };
    if entries.is_empty() && state.store.stream_version(id)? == 0 {
        return Err(ApiError::NotFound(format!(
            "nothing has been recorded about {id}"
        )));
    }
    to_json(&json!({ "item": id, "events": entries }))
}

/// `GET /api/v1/boards[?known_at=INSTANT]`: every board meeting, newest first.
pub async fn boards(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at: p.instant("known_at")?,
        programme: None,
    };
    let trail = state.live.read();
    let mut out = Vec::new();
    for programme in trail
        .programme_ids()
        .filter_map(|p| trail.programme_at(p, &q))
    {
        for b in programme.boards {
            out.push(json!({
                "id": b.event,
                "programme": programme.id,
                "programme_name": programme.name,
                "board": b.board,
                "date": b.date,
                "seal": b.seal,
            }));
        }
    }
    out.sort_by(|a, b| b["date"].as_str().cmp(&a["date"].as_str()));
    to_json(&json!({ "boards": out }))
}
