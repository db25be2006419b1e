//! `/boards/{id}/seal`: a board's seal, as people use it. Anyone who may read
//! sees whether the seal still holds; a writer seals the board pack from
//! here; and the seal downloads together with a signed digest of the log, to
//! keep outside the service (`ragtrail verify --digest FILE` checks it later).

use super::html::{csrf_field, date, esc, layout};
use crate::caller::Caller;
use crate::seal;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::fmt::Write;
use uuid::Uuid;

fn board_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

fn not_found(caller: &Caller) -> Response {
    (
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            caller,
            "<p>There is no such board meeting. Choose one on <a href=\"/\">the board</a>.</p>",
        ),
    )
        .into_response()
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    if let Some(r) = super::html::gate(&state, &caller, uri.path()) {
        return r;
    }
    let Some(id) = board_id(&id) else {
        return not_found(&caller);
    };
    let Some(meeting) = ragtrail_projections::programme::meeting(&state.trail.read(), id) else {
        return not_found(&caller);
    };
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>{} — {} on {}. <a href=\"/?board={id}\">See the board</a>.</p>",
        esc(&meeting.programme_name),
        esc(&meeting.board),
        date(meeting.date)
    );
    match &meeting.seal {
        None => b.push_str(
            "<div class=\"card\" id=\"seal\"><p>This board pack has not been sealed.</p></div>",
        ),
        Some(s) => {
            let check = match seal::chain(&state).await {
                Ok(chain) => seal::check(&state, id, &chain).ok(),
                Err(_) => None,
            };
            let (holds, detail) = match &check {
                Some(c) if c.verified => (
                    "<strong class=\"ok\">The seal holds.</strong>",
                    esc(&c.detail),
                ),
                Some(c) => (
                    "<strong class=\"bad\">The seal does NOT hold.</strong>",
                    esc(&c.detail),
                ),
                None => (
                    "<strong class=\"bad\">The seal cannot be checked now.</strong>",
                    String::new(),
                ),
            };
            let _ = write!(
                b,
                "<div class=\"card\" id=\"seal\"><p>{holds} {detail}</p><p>Sealed by {} on {}, at log position {} (head <span class=\"hash\">{}</span>), snapshot <span class=\"hash\">{}</span>.</p><p><a href=\"/boards/{id}/seal.json\" download=\"ragtrail-seal-{}.json\">Download the seal with a signed digest of the log (JSON)</a></p></div>",
                esc(&s.set.actor),
                s.set.recorded_at.format("%-d %b %Y %H:%M UTC"),
                s.position,
                esc(&s.head),
                esc(&s.snapshot),
                meeting.date
            );
        }
    }
    let writer = caller
        .0
        .as_ref()
        .is_some_and(|i| i.role >= crate::auth::Role::Writer);
    if writer {
        let again = if meeting.seal.is_some() { " again" } else { "" };
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/boards/{id}/seal\">{}<p>Sealing records exactly what this board shows as at {}, as the log stands now.</p><button class=\"primary\">Seal this board pack{again}</button></form>",
            csrf_field(caller.1.as_deref()),
            date(meeting.date)
        );
    }
    layout("Board seal", &caller, &b).into_response()
}

/// Seals the board (a writer, by form): then back to its seal page.
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/boards/{id}/seal");
    let actor = match super::html::writer_form(&caller, &here, &body) {
        Ok((actor, _, _)) => actor,
        Err(r) => return *r,
    };
    let Some(board) = board_id(&id) else {
        return not_found(&caller);
    };
    match seal::seal(&state, &actor, board).await {
        Ok(_) => Redirect::to(&here).into_response(),
        Err(seal::SealError::NoBoard(_)) => not_found(&caller),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            layout("Board seal", &caller, &format!("<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p>The board could not be sealed: {}</p></div>", esc(&e.to_string()))),
        )
            .into_response(),
    }
}

/// The seal and a signed digest of the log now, as one JSON file to keep.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    if let Some(r) = super::html::gate(&state, &caller, uri.path()) {
        return r;
    }
    let Some(board) = board_id(&id) else {
        return not_found(&caller);
    };
    let check = match seal::chain(&state).await {
        Ok(chain) => seal::check(&state, board, &chain),
        Err(e) => Err(e),
    };
    let check = match check {
        Ok(c) => c,
        Err(seal::SealError::NoBoard(_)) | Err(seal::SealError::NotSealed(_)) => {
            return not_found(&caller)
        }
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let head = state.store.head();
    let digest = state.signer.sign(head.position, head.hash.to_hex());
    let body = serde_json::json!({"seal": check, "digest": digest});
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ragtrail-seal-{}.json\"",
                    check.seal.as_at
                ),
            ),
        ],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response()
}
