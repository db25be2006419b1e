//! The ragtrail service: what the `ragtrail` binary is built from.
//!
//! - [`live`]: the projections kept up to date with the store, event by event.
//! - [`history`]: an item's history, with its children's on request.

pub mod history;
pub mod live;
