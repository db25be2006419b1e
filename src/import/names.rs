//! Readable names for streams in import files: `cib/priority-4` stands for
//! the UUIDv5 of that name in ragtrail's namespace, so the same name always
//! means the same stream, and a file can be written by hand.

use serde_json::{Map, Value};
use uuid::Uuid;

/// The namespace readable names are hashed in (UUIDv5).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x7261_6774_7261_696c_8000_0000_0000_0001);

/// Fields of `data` that hold the id of another stream (and `board` of a seal).
const ID_FIELDS: [&str; 4] = ["programme", "parent", "item", "other"];

/// The UUID a readable name stands for (a UUID stands for itself).
pub fn id_of(name: &str) -> Uuid {
    Uuid::parse_str(name).unwrap_or_else(|_| Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// Replaces readable names by the UUIDs they stand for.
pub(crate) fn resolve_names(m: &mut Map<String, Value>) {
    if let Some(Value::String(s)) = m.get("stream") {
        let id = id_of(s);
        m.insert("stream".into(), Value::String(id.to_string()));
    }
    let sealed = m.get("type").and_then(Value::as_str) == Some("BoardSealed");
    if let Some(Value::Object(data)) = m.get_mut("data") {
        if sealed {
            if let Some(Value::String(s)) = data.get("board") {
                let id = id_of(s);
                data.insert("board".into(), Value::String(id.to_string()));
            }
        }
        for f in ID_FIELDS {
            if let Some(Value::String(s)) = data.get(f) {
                let id = id_of(s);
                data.insert(f.into(), Value::String(id.to_string()));
            }
        }
    }
}
