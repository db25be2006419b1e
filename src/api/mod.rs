//! The HTTP API under `/api/v1`: which route goes to which handler. The
//! handlers are in the files below, one per part of the API; who is asking is
//! [`crate::caller`], query parameters [`crate::params`], request bodies [`body`].

mod append;
mod audit;
pub mod body;
mod contract;
mod erasures;
mod log;
mod openapi;
mod tables;
mod tokens;
pub mod types;
mod views;

pub use openapi::ApiDoc;

use crate::state::AppState;
use axum::routing::{delete, get, post};
use axum::Router;

/// The routes under `/api/v1` that answer promptly (everything but the live feed).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", post(append::one).get(log::page))
        .route("/api/v1/batches", post(append::batch))
        .route("/api/v1/board", get(views::board))
        .route("/api/v1/compare", get(views::compare))
        .route("/api/v1/slippage", get(views::slippage))
        .route("/api/v1/metrics/{id}/trend", get(views::metric_trend))
        .route("/api/v1/items/{id}/trend", get(views::item_trend))
        .route("/api/v1/items/{id}/history", get(views::history))
        .route("/api/v1/programmes/{id}/counts", get(views::counts))
        .route("/api/v1/boards", get(views::boards))
        .route("/api/v1/boards/{id}/seal", post(audit::seal))
        .route("/api/v1/boards/{id}/seal/verify", get(audit::verify_seal))
        .route("/api/v1/verify", get(audit::verify))
        .route("/api/v1/digest", get(audit::digest))
        .route("/api/v1/digest/key", get(audit::key))
        .route("/api/v1/erasures", post(erasures::erase))
        .route("/api/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/api/v1/tokens/{name}", delete(tokens::revoke))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/healthz", get(audit::health))
        // The signed digest for people signed in by cookie (the API takes bearer tokens only).
        .route("/audit/digest.json", get(audit::digest))
}

/// The live feed, which stays open: kept apart from the request timeout.
pub fn streaming_routes() -> Router<AppState> {
    Router::new().route("/api/v1/events/live", get(log::live))
}
