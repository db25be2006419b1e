//! The ragtrail service: what the `ragtrail` binary is built from.
//!
//! Each module depends only on those listed before it (see docs/architecture.md):
//! - [`auth`]: access tokens and roles.
//! - [`signing`]: the server's key and signed digests.
//! - [`csrf`]: the forms' tokens.
//! - [`current`]: the projections kept up to date with the store, event by event.
//! - [`state`]: what every handler reaches, and the append-and-show path.
//! - [`seal`]: board seals, made and checked.
//! - [`wire`]: the JSON shape of an event, in and out.
//! - [`error`]: the one mapping of errors to HTTP answers.
//! - [`same_origin`]: pages that change something refuse other origins.
//! - [`params`], [`caller`]: query parameters and who is asking, for the API and the pages.
//! - [`etag`]: conditional reads of the views (ETag, 304, no-cache).
//! - [`item_log`]: an item's history, with its children's on request.
//! - [`import`]: files of events (JSONL, CSV, exports), checked whole, then written at once.
//! - [`table`]: views as tables, written as CSV and XLSX.
//! - [`export`]: the log as JSONL, and tables to files.
//! - [`demo`]: the seed reports as demo programmes, for `serve --demo`.
//! - [`replicate`]: a source's log into PostgreSQL, with read models.
//! - [`api`]: the HTTP routes under `/api/v1`.
//! - [`web`]: the web pages for people.
//! - [`server`]: `ragtrail serve` — the router, its layers and lifecycle.

pub mod api;
pub mod auth;
pub mod caller;
pub mod csrf;
pub mod current;
pub mod demo;
pub mod error;
pub mod etag;
pub mod export;
pub mod import;
pub mod item_log;
pub mod params;
pub mod pending;
pub mod replicate;
pub mod same_origin;
pub mod seal;
pub mod server;
pub mod signing;
pub mod state;
pub mod table;
pub mod web;
pub mod wire;
