//! The ragtrail service: what the `ragtrail` binary is built from.
//!
//! - [`live`]: the projections kept up to date with the store, event by event.

pub mod live;
