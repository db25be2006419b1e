//! The demo programmes: the five seed reports recorded as events, kept as
//! readable JSONL in `data/demo/` and built into the binary, loaded by
//! `ragtrail serve --demo` into an empty store.

use crate::import::{load, LoadError, Loaded};
use ragtrail_events::Store;

/// The demo files, in the order they are loaded.
pub const FILES: [(&str, &str); 4] = [
    (
        "0_tameside_lac_2020.jsonl",
        include_str!("../data/demo/0_tameside_lac_2020.jsonl"),
    ),
    (
        "2_tameside_cib_2024.jsonl",
        include_str!("../data/demo/2_tameside_cib_2024.jsonl"),
    ),
    (
        "3_cheshire_east_sufficiency_2018.jsonl",
        include_str!("../data/demo/3_cheshire_east_sufficiency_2018.jsonl"),
    ),
    (
        "4_cambridgeshire_lac_2016.jsonl",
        include_str!("../data/demo/4_cambridgeshire_lac_2016.jsonl"),
    ),
];

/// Loads the demo into `store` if it is empty; returns what each file did
/// (nothing when the store already holds events).
pub async fn load_into(store: &Store) -> Result<Vec<(String, Loaded)>, LoadError> {
    if store.head().position != 0 {
        return Ok(Vec::new());
    }
    let mut done = Vec::new();
    for (name, text) in FILES {
        let loaded = load(store, name, text.as_bytes(), "demo").await?;
        done.push((name.to_string(), loaded));
    }
    Ok(done)
}
