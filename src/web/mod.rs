//! The web pages: server-rendered HTML for people — the board as at a board
//! date, the movement between boards, trends, an item's audit timeline, the
//! audit page — with sign-in by token (an HttpOnly, SameSite cookie) and forms
//! for writers. No build step; RAG is always colour *and* text.

mod audit;
mod board;
mod boards;
mod compare;
mod html;
mod item;
mod outline;
mod record;
mod seal;
mod signin;
mod slippage;
mod trends;
mod upload;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(board::page))
        .route("/compare", get(compare::page))
        .route("/slippage", get(slippage::page))
        .route("/trends", get(trends::page))
        .route("/items/{id}", get(item::page))
        .route("/items/{id}/rag", post(item::record_rag))
        .route("/items/{id}/reading", post(item::record_reading))
        .route("/items/{id}/correct", post(item::record_correction))
        .route("/boards/{id}/seal", get(seal::page).post(seal::submit))
        .route(
            "/boards/{id}/record",
            get(record::page).post(record::submit),
        )
        .route("/import", get(upload::page).post(upload::preview))
        .route("/import/confirm", post(upload::confirm))
        .route("/programmes/new", get(outline::new))
        .route("/programmes", post(outline::create))
        .route(
            "/programmes/{id}/outline",
            get(outline::outline).post(outline::change),
        )
        .route("/boards/{id}/seal.json", get(seal::download))
        .route("/audit", get(audit::page))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::signout))
}
