//! What waits on the server for a person to finish it: drafts of a board
//! cycle (`/boards/{id}/record`) and uploaded trackers waiting to be
//! confirmed (`/import`), each in a store tree of its own. They are not
//! records, so an erasure does not redact them: it removes those that hold
//! the text, before the store is rewritten.

use ragtrail_events::{Store, StoreError};

/// Drafts of board cycles: board/actor → the posted form.
pub const DRAFTS: &str = "drafts";
/// Uploads waiting to be confirmed: hash/actor → the file.
pub const UPLOADS: &str = "uploads";

/// Removes every draft that holds any of `texts` (ignoring ASCII case), and
/// every upload (a workbook is compressed, so it cannot be searched, and an
/// upload is only ever minutes old). Returns how many were removed.
pub fn clear_for_erasure(store: &Store, texts: &[String]) -> Result<usize, StoreError> {
    let needles: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| t.trim().to_ascii_lowercase().into_bytes())
        .filter(|t| !t.is_empty())
        .collect();
    let mut removed = 0;
    for (tree, all) in [(DRAFTS, false), (UPLOADS, true)] {
        removed += store.write_tree(tree, |t| {
            let mut n = 0;
            for kv in t.iter() {
                let (k, v) = kv?;
                // A draft is a posted form: its fields are searched decoded.
                let form = crate::params::Params::from_form(Some(&String::from_utf8_lossy(&v)));
                let holds = form.values().any(|value| {
                    let value = value.to_ascii_lowercase();
                    needles
                        .iter()
                        .any(|n| value.as_bytes().windows(n.len()).any(|w| w == n.as_slice()))
                });
                if all || holds {
                    t.remove(k)?;
                    n += 1;
                }
            }
            Ok(n)
        })?;
    }
    if removed > 0 {
        store.sync()?;
    }
    Ok(removed)
}
