//! Views as tables, for spreadsheets and loaders: [`views`] turns each view
//! into [`sheet`]s of typed cells, and [`csv`] and [`xlsx`] write them. The
//! HTTP API and `ragtrail export` both use this, so a file downloaded from the
//! server and one exported from the same log are the same bytes.

pub mod csv;
pub mod sheet;
pub mod views;
pub mod xlsx;
