//! The read views: the board as at a date, the movement between two dates,
//! trends, an item's history, and the list of board meetings. Every one takes
//! `known_at` to answer "as the board saw it then".

use super::tables::{self, Format};
use super::types::{BoardPage, BoardsList, ItemHistory, ItemTrend, Problem, ProgrammeCounts};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::params::{path_uuid, Params};
use crate::state::AppState;
use crate::table::{self, views::Source};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use ragtrail_projections::compare::Comparison;
use ragtrail_projections::trend::MetricTrend;
use ragtrail_projections::BoardQuery;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// 404 unless programme `id` is registered (at any date, as known at `q.known_at`).
fn no_programme(
    trail: &ragtrail_projections::Trail,
    id: uuid::Uuid,
    q: &BoardQuery,
) -> Result<(), ApiError> {
    let ever = BoardQuery {
        as_at: NaiveDate::MAX,
        ..*q
    };
    match ragtrail_projections::programme::at(trail, id, &ever) {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("no programme {id}"))),
    }
}

/// Runs slow work (a whole board, a workbook) off the async threads.
async fn blocking(
    work: impl FnOnce() -> Result<Response, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("the download stopped: {e}")))?
}

/// Rows (programmes and items) of a board page unless `limit` says otherwise.
const BOARD_PAGE_DEFAULT: u64 = 200;
/// The most rows a board page holds.
const BOARD_PAGE_MAX: u64 = 1000;

/// The board as at a date, a page at a time: every item with RAG per
/// dimension (who set it, when, why), owner, phase, target date and slippage,
/// narratives, metrics, finance, risks and issues; counts by RAG (of the whole board).
#[utoipa::path(get, path = "/api/v1/board", tag = "views",
    params(
        ("as_at" = Option<String>, Query, description = "Board date, YYYY-MM-DD (default today)"),
        ("known_at" = Option<String>, Query, description = "Only what was recorded by this RFC 3339 instant: what the board saw then"),
        ("programme" = Option<String>, Query, description = "One programme's id"),
        ("limit" = Option<u64>, Query, description = "Rows (programmes and items) a page, 1 to 1000 (default 200)"),
        ("after" = Option<String>, Query, description = "The `next` of the page before"),
    ),
    responses((status = 200, body = BoardPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let format = tables::asked(&p, &headers)?;
    let q = BoardQuery {
        as_at: p.date("as_at")?.unwrap_or_else(today),
        known_at: p.instant("known_at")?,
        programme: p.uuid("programme")?,
    };
    let limit = p.limit("limit", BOARD_PAGE_DEFAULT, BOARD_PAGE_MAX)?;
    let after = p.uuid("after")?;
    if format != Format::Json {
        // A download is the whole board, as `ragtrail export` writes it.
        return blocking(move || {
            let trail = state.trail.read();
            if let Some(id) = q.programme {
                no_programme(&trail, id, &q)?;
            }
            let source = Source::of(&state.store)?;
            let book = table::views::board_pack(&trail, &q, source, state.store.iter_from(0))?;
            tables::download(&book, format)
        })
        .await;
    }
    // From the trail's memory, not a read of the store on every board.
    let recording_began = state.trail.read().recording_began();
    if q.known_at
        .is_some_and(|t| recording_began.is_none_or(|began| t < began))
    {
        // Known at an instant before anything was recorded: nothing, and when recording began.
        return Ok(Json(BoardPage {
            board: ragtrail_projections::Board {
                as_at: q.as_at,
                known_at: q.known_at,
                programmes: Vec::new(),
                items: Vec::new(),
                counts: Default::default(),
            },
            next: None,
            recording_began,
        })
        .into_response());
    }
    let trail = state.trail.read();
    if let Some(id) = q.programme {
        no_programme(&trail, id, &q)?;
    }
    let page = ragtrail_projections::board::page(&trail, &q, after, limit as usize)
        .map_err(|e| ApiError::NotFound(format!("after: {e}")))?;
    Ok(Json(BoardPage {
        board: page.board,
        next: page.next,
        recording_began,
    })
    .into_response())
}

/// Movement between two dates, exceptions first: RAG per dimension, metric
/// deltas, target dates revised, risks opened and closed, narratives changed.
#[utoipa::path(get, path = "/api/v1/compare", tag = "views",
    params(
        ("from" = String, Query, description = "Earlier date, YYYY-MM-DD"),
        ("to" = String, Query, description = "Later date, YYYY-MM-DD"),
        ("known_at" = Option<String>, Query, description = "RFC 3339 instant"),
        ("programme" = Option<String>, Query, description = "One programme's id"),
    ),
    responses((status = 200, body = Comparison), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let format = tables::asked(&p, &headers)?;
    let need = |name: &str| ApiError::BadRequest(format!("{name} is required: a date, YYYY-MM-DD"));
    let from = p.date("from")?.ok_or_else(|| need("from"))?;
    let to = p.date("to")?.ok_or_else(|| need("to"))?;
    let (known_at, programme) = (p.instant("known_at")?, p.uuid("programme")?);
    let cmp = {
        let trail = state.trail.read();
        ragtrail_projections::compare::between(&trail, from, to, known_at, programme)
    };
    match format {
        Format::Json => Ok(Json(cmp).into_response()),
        f => tables::download(
            &table::views::comparison(&cmp, programme, Source::of(&state.store)?),
            f,
        ),
    }
}

/// What slipped, and by how much: every item whose target date moved between
/// two boards (`from` to `to`), or since it was first set (no `from`), with
/// the days moved, biggest slip first and dates brought forward last.
#[utoipa::path(get, path = "/api/v1/slippage", tag = "views",
    params(
        ("from" = Option<String>, Query, description = "Earlier board date, YYYY-MM-DD (default: since each target date was first set)"),
        ("to" = Option<String>, Query, description = "Later board date, YYYY-MM-DD (default today)"),
        ("known_at" = Option<String>, Query, description = "RFC 3339 instant"),
        ("programme" = Option<String>, Query, description = "One programme's id"),
    ),
    responses((status = 200, body = ragtrail_projections::slippage::Slippage), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn slippage(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let format = tables::asked(&p, &headers)?;
    let from = p.date("from")?;
    let to = p.date("to")?.unwrap_or_else(today);
    // A `from` after `to` is answered as asked: the dates moved from the later board to the earlier.
    let (known_at, programme) = (p.instant("known_at")?, p.uuid("programme")?);
    let slips = {
        let trail = state.trail.read();
        ragtrail_projections::slippage::between(&trail, from, to, known_at, programme)
    };
    match format {
        Format::Json => Ok(Json(slips).into_response()),
        f => tables::download(
            &table::views::slippage(&slips, programme, Source::of(&state.store)?),
            f,
        ),
    }
}

/// A metric's readings over time with target and RAG (and the rule behind any derived RAG).
#[utoipa::path(get, path = "/api/v1/metrics/{id}/trend", tag = "views",
    params(("id" = String, Path, description = "Metric id"), ("known_at" = Option<String>, Query, description = "RFC 3339 instant")),
    responses((status = 200, body = MetricTrend), (status = 404, body = Problem)))]
pub async fn metric_trend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("metric", &id)?;
    let p = Params::from_query(uri.query());
    let format = tables::asked(&p, &headers)?;
    let known_at = p.instant("known_at")?;
    let (trend, unit) = {
        let trail = state.trail.read();
        let trend = ragtrail_projections::trend::metric(&trail, id, known_at)
            .ok_or_else(|| ApiError::NotFound(format!("no metric {id}")))?;
        let q = BoardQuery {
            as_at: NaiveDate::MAX,
            known_at,
            programme: None,
        };
        let unit = ragtrail_projections::metric::at(&trail, id, &q).map(|m| m.unit);
        (trend, unit)
    };
    match format {
        Format::Json => Ok(Json(trend).into_response()),
        f => tables::download(
            &table::views::metric_trend(&trend, unit, known_at, Source::of(&state.store)?),
            f,
        ),
    }
}

/// An item's RAG per dimension at each board date of its programme.
#[utoipa::path(get, path = "/api/v1/items/{id}/trend", tag = "views",
    params(("id" = String, Path, description = "Item id"), ("known_at" = Option<String>, Query, description = "RFC 3339 instant")),
    responses((status = 200, body = ItemTrend), (status = 404, body = Problem)))]
pub async fn item_trend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<ItemTrend>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("item", &id)?;
    let p = Params::from_query(uri.query());
    let trail = state.trail.read();
    let trend = ragtrail_projections::trend::item(&trail, id, p.instant("known_at")?)
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
    Ok(Json(ItemTrend {
        item: id,
        boards: trend,
    }))
}

/// A programme's RAG counts at each of its board dates.
#[utoipa::path(get, path = "/api/v1/programmes/{id}/counts", tag = "views",
    params(("id" = String, Path, description = "Programme id"), ("known_at" = Option<String>, Query, description = "RFC 3339 instant")),
    responses((status = 200, body = ProgrammeCounts), (status = 404, body = Problem)))]
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<ProgrammeCounts>, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("programme", &id)?;
    let p = Params::from_query(uri.query());
    let known_at = p.instant("known_at")?;
    let trail = state.trail.read();
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at,
        programme: Some(id),
    };
    if ragtrail_projections::programme::at(&trail, id, &q).is_none() {
        return Err(ApiError::NotFound(format!("no programme {id}")));
    }
    Ok(Json(ProgrammeCounts {
        programme: id,
        boards: ragtrail_projections::trend::counts(&trail, id, known_at),
    }))
}

/// Every event about an item (and its children, with `children=true`), in
/// order, with actor, both times and reason; corrections linked both ways.
#[utoipa::path(get, path = "/api/v1/items/{id}/history", tag = "views",
    params(("id" = String, Path, description = "Item id"), ("known_at" = Option<String>, Query, description = "RFC 3339 instant"),
        ("children" = Option<bool>, Query, description = "Include the item's children, recursively")),
    responses((status = 200, body = ItemHistory), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let id = path_uuid("item", &id)?;
    let p = Params::from_query(uri.query());
    let format = tables::asked(&p, &headers)?;
    let known_at = p.instant("known_at")?;
    let children = p.flag("children")?;
    let entries = {
        let trail = state.trail.read();
        crate::item_log::read(&state.store, &trail, id, children, known_at)?
    };
    if entries.is_empty() && state.store.stream_version(id)? == 0 {
        return Err(ApiError::NotFound(format!(
            "nothing has been recorded about {id}"
        )));
    }
    match format {
        Format::Json => Ok(Json(ItemHistory {
            item: id,
            events: entries,
        })
        .into_response()),
        f => tables::download(
            &table::views::history(id, &entries, known_at, Source::of(&state.store)?),
            f,
        ),
    }
}

/// Every board meeting, newest first, with its seal if sealed.
#[utoipa::path(get, path = "/api/v1/boards", tag = "views",
    params(("known_at" = Option<String>, Query, description = "RFC 3339 instant")),
    responses((status = 200, body = BoardsList), (status = 401, body = Problem)))]
pub async fn boards(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Json<BoardsList>, ApiError> {
    caller.may_read(&state)?;
    let known_at = Params::from_query(uri.query()).instant("known_at")?;
    let boards = ragtrail_projections::programme::meetings(&state.trail.read(), known_at);
    Ok(Json(BoardsList { boards }))
}
