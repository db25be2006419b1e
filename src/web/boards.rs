//! Choosing a board meeting: the select every page that works board by
//! board offers, over [`ragtrail_projections::programme::meetings`].

use super::html::{date, esc, selected as selected_if};
use ragtrail_projections::view::BoardEntry;
use std::fmt::Write;
use uuid::Uuid;

/// The board select, with `selected` chosen.
pub fn select(name: &str, label: &str, all: &[BoardEntry], selected: Option<Uuid>) -> String {
    let mut s = format!("<label>{label}<select name=\"{name}\" id=\"{name}\">");
    for m in all {
        let sel = selected_if(Some(m.id) == selected);
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{} — {} ({})</option>",
            m.id,
            date(m.date),
            esc(&m.programme_name),
            esc(&m.board)
        );
    }
    s.push_str("</select></label>");
    s
}
