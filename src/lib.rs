//! The ragtrail service: what the `ragtrail` binary is built from.
//!
//! - [`server`]: `ragtrail serve` — the router, its state and lifecycle.
//! - [`api`]: the HTTP routes.
//! - [`web`]: the web pages for people.
//! - [`auth`]: access tokens and roles.
//! - [`demo`]: the seed reports as demo programmes, for `serve --demo`.
//! - [`command`]: one event as clients send it, parsed with field-naming errors.
//! - [`signing`]: the server's key and signed digests.
//! - [`error`]: the one mapping of errors to HTTP answers.
//! - [`live`]: the projections kept up to date with the store, event by event.
//! - [`export`]: the log as JSONL, the board as CSV, a board pack as XLSX.
//! - [`history`]: an item's history, with its children's on request.
//! - [`import`]: files of events (JSONL, CSV, exports), checked whole, then written at once.

pub mod api;
pub mod auth;
pub mod command;
pub mod csrf;
pub mod demo;
pub mod error;
pub mod export;
pub mod history;
pub mod import;
pub mod live;
pub mod server;
pub mod signing;
pub mod web;
