//! Lawful erasure, for admins: `POST /api/v1/erasures`. A dry run lists
//! every field of every event that holds the text; the real run has the
//! store redact them, record a `TextErased` event and rewrite its files (see
//! `ragtrail_events::erase`), then rebuilds the projections from the log so
//! that every view shows "[erased]" where the text was.

use super::body::json_object;
use super::types::Problem;
use crate::auth::Role;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ragtrail_events::erase::{Found, Request};
use ragtrail_events::Receipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What an admin asks to erase.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // read field by field, so that each error names its field
pub struct ErasureRequest {
    /// The text to erase (a person's name), or a list of its variants.
    pub text: TextOrVariants,
    /// Why (the request's reference): recorded as the erasure event's reason.
    pub reason: String,
    /// The lawful basis, e.g. "UK GDPR Article 17(1)(a)".
    pub legal_basis: String,
    /// True: list what would be erased and change nothing. False: erase.
    pub dry_run: bool,
}

/// One text, or several variants of it (at most 20, each 3 to 200 characters).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TextOrVariants {
    One(String),
    Variants(Vec<String>),
}

/// The answer to a dry run: every field that holds the text.
#[derive(Serialize, ToSchema)]
pub struct ErasureFound {
    pub dry_run: bool,
    pub found: Vec<Found>,
    /// Whether a real run would go ahead: the text is found, and only in fields it can change.
    pub erasable: bool,
    pub detail: String,
}

/// The answer to an erasure made.
#[derive(Serialize, ToSchema)]
pub struct ErasureDone {
    pub dry_run: bool,
    /// The `TextErased` event that records the erasure (the first, when it
    /// changed more than 2,000 events and is recorded as several).
    pub erasure: Receipt,
    /// Every `TextErased` event of it, in order.
    pub erasures: Vec<Receipt>,
    /// Every field changed.
    pub fields: Vec<Found>,
}

fn string(body: &Value, field: &str, what: &str) -> Result<String, ApiError> {
    body.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid(field, format!("is required: {what}")))
}

/// Reads the request, field by field.
fn request(body: &Value, actor: &str) -> Result<(Request, bool), ApiError> {
    if let Some(k) = body.as_object().and_then(|m| {
        m.keys()
            .find(|k| !["text", "reason", "legal_basis", "dry_run"].contains(&k.as_str()))
    }) {
        return Err(ApiError::invalid(
            k.clone(),
            "is not a field of an erasure (text, reason, legal_basis, dry_run)",
        ));
    }
    let texts = match body.get("text") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("text[{i}]"), "must be a string"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::invalid(
                "text",
                "is required: the text to erase, or a list of its variants",
            ))
        }
    };
    let reason = string(
        body,
        "reason",
        "why the text is erased (the request's reference)",
    )?;
    let legal_basis = string(body, "legal_basis", "the lawful basis of the erasure")?;
    let dry_run = body.get("dry_run").and_then(Value::as_bool).ok_or_else(|| {
        ApiError::invalid(
            "dry_run",
            "is required: true to list what would be erased, false to erase (which cannot be undone)",
        )
    })?;
    let request = Request {
        texts,
        reason,
        legal_basis,
        actor: actor.to_string(),
    };
    request.check()?;
    Ok((request, dry_run))
}

/// Erases personal text from every event (admin). With `dry_run: true`
/// nothing changes; 200 lists what would be erased. Otherwise 201 once the
/// text is gone from the store's files and every view.
#[utoipa::path(post, path = "/api/v1/erasures", tag = "audit", request_body = ErasureRequest,
    responses((status = 200, body = ErasureFound, description = "The dry run: nothing changed"),
        (status = 201, body = ErasureDone, description = "Erased, and recorded as a TextErased event"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "The text appears nowhere: nothing was written"),
        (status = 409, body = Problem, description = "The text is also in fields an erasure cannot change: nothing was written"),
        (status = 413, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = caller.must_be(Role::Admin)?;
    let body = json_object(body)?;
    let (request, dry_run) = request(&body, &who.name)?;
    if dry_run {
        let store = state.store.clone();
        let found = tokio::task::spawn_blocking(move || store.find_text(&request))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        let erasable = !found.is_empty() && found.iter().all(|f| f.erasable);
        let detail = if found.is_empty() {
            "the text appears nowhere: a real run would write nothing".to_string()
        } else if erasable {
            format!(
                "{} field(s) hold the text; nothing was changed",
                found.len()
            )
        } else {
            "some fields holding the text cannot be erased (erasable: false): a real run would be refused".to_string()
        };
        let answer = ErasureFound {
            dry_run,
            found,
            erasable,
            detail,
        };
        return Ok((
            StatusCode::OK,
            Json(serde_json::to_value(answer).unwrap_or_default()),
        ));
    }
    // Drafts and uploads waiting on the server are not records: those that
    // hold the text go, so that no file of the store keeps it.
    crate::pending::clear_for_erasure(&state.store, &request.texts)?;
    let erased = state.store.erase(request).await?;
    // The projections held the text as first written: build them again from the log.
    let (trail, store) = (state.trail.clone(), state.store.clone());
    tokio::task::spawn_blocking(move || trail.rebuild(&store))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let answer = ErasureDone {
        dry_run,
        erasure: erased.erasure,
        erasures: erased.erasures,
        fields: erased.fields,
    };
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(answer).unwrap_or_default()),
    ))
}
