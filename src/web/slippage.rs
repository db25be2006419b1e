//! `/slippage`: what slipped, and by how much. Every item whose target date
//! moved between two boards, or since it was first set, biggest slip first.

use super::boards;
use super::html::{date, esc, params, set_by};
use crate::caller::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use std::fmt::Write;

fn render(state: &AppState, uri: &Uri) -> Result<String, String> {
    let p = params(uri.query());
    let trail = state.trail.read();
    let all = ragtrail_projections::programme::meetings(&trail, None);
    let to_id = p
        .uuid("to")
        .map_err(|e| e.to_string())?
        .or_else(|| all.first().map(|m| m.id));
    let to = to_id.and_then(|id| all.iter().find(|m| m.id == id));
    // No `from` (or an empty one): since each target date was first set.
    let from_id = p.uuid("from").map_err(|e| e.to_string())?;
    let from = from_id.and_then(|id| all.iter().find(|m| m.id == id));
    let mut from_select = boards::select("from", "From board", &all, from_id);
    let first = format!(
        "<option value=\"\"{}>Since each target date was first set</option>",
        super::html::selected(from.is_none())
    );
    if let Some(at) = from_select.find("<option") {
        from_select.insert_str(at, &first);
    }
    let mut body = String::new();
    let _ = write!(
        body,
        "<form class=\"controls\" method=\"get\" action=\"/slippage\">{from_select}{}<button class=\"primary\">Show slippage</button></form>",
        boards::select("to", "To board", &all, to_id)
    );
    let Some(to) = to else {
        body.push_str("<p>No board meetings are recorded yet.</p>");
        return Ok(body);
    };
    if let Some(f) = from.filter(|f| f.date > to.date) {
        let _ = write!(
            body,
            "<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p><a href=\"#from\">The from board ({}) is after the to board ({}): choose an earlier from board</a></p></div>",
            date(f.date),
            date(to.date)
        );
        return Ok(body);
    }
    let programme = match from {
        Some(f) if f.programme != to.programme => None,
        _ => Some(to.programme),
    };
    let slips = ragtrail_projections::slippage::between(
        &trail,
        from.map(|f| f.date),
        to.date,
        None,
        programme,
    );
    let _ = write!(
        body,
        "<p class=\"muted\">Target dates at {} against {}{}. Days moved: positive is later (slipped), negative is earlier (brought forward).</p>",
        date(to.date),
        from.map_or("the first date each was given".to_string(), |f| format!("the board of {}", date(f.date))),
        programme
            .map(|_| format!(" — {}", esc(&to.programme_name)))
            .unwrap_or_default()
    );
    if slips.items.is_empty() {
        body.push_str("<p>No target date moved.</p>");
        return Ok(body);
    }
    body.push_str("<div class=\"scroll\"><table id=\"slippage\"><thead><tr><th>Ref</th><th>Item</th><th>Target was</th><th>Target now</th><th>Days moved</th><th>Set by, and why</th></tr></thead><tbody>");
    for s in &slips.items {
        let moved = if s.days > 0 {
            format!("<span class=\"bad\">slipped {} days</span>", s.days)
        } else {
            format!("brought forward {} days", -s.days)
        };
        let _ = write!(
            body,
            "<tr data-ref=\"{r}\"><td>{r}</td><td><a href=\"/items/{id}\">{t}</a></td><td>{}</td><td>{}</td><td>{moved}</td><td class=\"narrative\">{}{}</td></tr>",
            date(s.before),
            date(s.after),
            set_by(&s.set),
            s.set
                .reason
                .as_deref()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default(),
            r = esc(&s.reference),
            id = s.id,
            t = esc(&s.title),
        );
    }
    body.push_str("</tbody></table></div>");
    Ok(body)
}

pub async fn page(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    super::html::page(
        &state,
        &caller,
        "/slippage",
        "What slipped, and by how much",
        || render(&state, &uri),
    )
}
