//! The log itself: `GET /api/v1/events` pages by position, and
//! `GET /api/v1/events/live` tails it as Server-Sent Events, resumable with
//! `after` or `Last-Event-ID`, with no gap and no duplicate between the
//! catch-up and the live part.

use super::types::{EventsPage, Problem};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;
use crate::wire::EnvelopeView;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::Stream;
use ragtrail_events::Envelope;
use std::collections::VecDeque;
use std::convert::Infallible;
use tokio::sync::broadcast;

const PAGE_DEFAULT: u64 = 100;
const PAGE_MAX: u64 = 1000;

/// The log, a page at a time by position, optionally for one stream.
#[utoipa::path(get, path = "/api/v1/events", tag = "log",
    params(
        ("after" = Option<u64>, Query, description = "Events after this position (default 0)"),
        ("limit" = Option<u64>, Query, description = "1 to 1000 (default 100)"),
        ("stream" = Option<String>, Query, description = "Only this stream's events"),
        ("known_at" = Option<String>, Query, description = "Only events recorded by this RFC 3339 instant"),
    ),
    responses((status = 200, body = EventsPage), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let format = super::tables::asked(&p, &headers)?;
    let after = p.position("after")?.unwrap_or(0);
    let limit = p.limit("limit", PAGE_DEFAULT, PAGE_MAX)?;
    let known_at = p.instant("known_at")?;
    let events: Vec<Envelope> = match p.uuid("stream")? {
        Some(stream) => state
            .store
            .read_stream(stream, 0, usize::MAX)?
            .into_iter()
            .filter(|e| e.position > after)
            .take(limit as usize)
            .collect(),
        None => state.store.read(after, limit as usize)?,
    };
    // Recorded times rise with position, so "known at" cuts the page short.
    let events: Vec<Envelope> = events
        .into_iter()
        .take_while(|e| known_at.is_none_or(|t| e.recorded_at <= t))
        .collect();
    if format != super::tables::Format::Json {
        let source = crate::table::views::Source::of(&state.store)?;
        let book = crate::table::views::log_page(&events, after, source);
        return super::tables::download(&book, format);
    }
    let next_after = events.last().map_or(after, |e| e.position);
    let head = state.store.head();
    // Another page follows if this one is full and the log goes on past it.
    let full = events.len() as u64 == limit;
    let next = (full && next_after < head.position).then_some(next_after);
    Ok(Json(EventsPage {
        events: events.iter().map(EnvelopeView::from).collect(),
        next_after,
        next,
        head,
    })
    .into_response())
}

struct Tail {
    state: AppState,
    feed: broadcast::Receiver<std::sync::Arc<Envelope>>,
    /// The last position sent.
    sent: u64,
    ready: VecDeque<Envelope>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// Set after an error was sent: the stream then ends (the client resumes).
    failed: bool,
    /// This subscriber's place among `--live-max`; given back when the stream ends.
    _place: tokio::sync::OwnedSemaphorePermit,
}

/// Events read from the log at a time for one subscriber: all that a
/// subscriber ever holds, however slowly it reads (the shared live ring is
/// bounded too, and a subscriber that falls out of it is paged from the log).
const PAGE: usize = 64;

impl Tail {
    /// The next event after `sent`, from the log or the live feed; None at shutdown.
    async fn next(&mut self) -> Option<Result<Envelope, ApiError>> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(e) = self.ready.pop_front() {
                self.sent = e.position;
                return Some(Ok(e));
            }
            // Catch up from the log whenever it holds more than we sent.
            if self.state.store.head().position > self.sent {
                match self.state.store.read(self.sent, PAGE) {
                    Ok(events) => {
                        self.ready.extend(events);
                        continue;
                    }
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e.into()));
                    }
                }
            }
            tokio::select! {
                got = self.feed.recv() => match got {
                    Ok(e) if e.position == self.sent + 1 => self.ready.push_back((*e).clone()),
                    // Older: sent already. Newer, or lagged: the log will supply it.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.shutdown.changed() => return None,
            }
        }
    }
}

/// The log live, as Server-Sent Events (`id` = position, `event` = type,
/// `data` = the event as in `EventsPage`). Resume with `after` or the
/// `Last-Event-ID` header: no gap, no duplicate.
#[utoipa::path(get, path = "/api/v1/events/live", tag = "log",
    params(
        ("after" = Option<u64>, Query, description = "Start after this position"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this position (wins over `after`)"),
    ),
    responses((status = 200, description = "text/event-stream of events", content_type = "text/event-stream", body = EnvelopeView),
        (status = 401, body = Problem),
        (status = 503, body = Problem, description = "Every live-feed place is taken (`--live-max`); see Retry-After")))]
pub async fn live(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    caller.may_read(&state)?;
    let p = Params::from_query(uri.query());
    let resume = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Last-Event-ID must be the position of the last event received".into(),
                    )
                })
        })
        .transpose()?;
    let after = match resume {
        Some(id) => id,
        None => p.position("after")?.unwrap_or(0),
    };
    let place = state.feed_places.clone().try_acquire_owned().map_err(|_| ApiError::Busy {
        detail: format!(
            "every one of the {} live-feed places is taken; retry shortly, or page the log with GET /api/v1/events?after=",
            state.feed_max
        ),
        retry_after_secs: 5,
    })?;
    // Subscribe before the first read of the log, so nothing falls in between.
    let tail = Tail {
        _place: place,
        feed: state.store.subscribe(),
        shutdown: state.shutdown.clone(),
        state,
        sent: after,
        ready: VecDeque::new(),
        failed: false,
    };
    let stream = futures::stream::unfold(tail, |mut tail| async move {
        let item = match tail.next().await? {
            Ok(e) => SseEvent::default()
                .id(e.position.to_string())
                .event(e.event.type_name())
                .data(serde_json::to_string(&EnvelopeView::from(&e)).unwrap_or_default()),
            Err(err) => SseEvent::default().event("error").data(err.to_string()),
        };
        Some((Ok(item), tail))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
