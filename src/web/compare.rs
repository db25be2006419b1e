//! `/compare`: the movement between two boards — exceptions first (Red, or
//! Amber and worsening), then worsened, improved, unchanged.

use super::boards;
use super::html::{chip, date, esc, measure, params};
use crate::caller::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use ragtrail_events::Dimension;
use ragtrail_projections::compare::ItemMovement;
use ragtrail_projections::movement::Change;
use std::fmt::Write;

fn row(m: &ItemMovement) -> String {
    let mv = m.rag.get(&Dimension::Overall);
    let change = mv
        .map(|x| format!("{:?}", x.change).to_lowercase())
        .unwrap_or_default();
    let mut notes = Vec::new();
    if let Some(t) = &m.target_date {
        notes.push(format!(
            "target date {} → {}",
            t.from.map(date).unwrap_or_else(|| "none".into()),
            t.to.map(date).unwrap_or_else(|| "none".into())
        ));
    }
    for d in &m.metrics {
        if d.from.is_some() || d.to.is_some() {
            notes.push(format!(
                "{}: {} → {} ({})",
                esc(&d.name),
                d.from
                    .map(|v| measure(Some(ragtrail_events::Value::Number(v))))
                    .unwrap_or_else(|| "–".into()),
                d.to.map(|v| measure(Some(ragtrail_events::Value::Number(v))))
                    .unwrap_or_else(|| "–".into()),
                format!("{:?}", d.change).to_lowercase()
            ));
        }
    }
    if !m.risks_opened.is_empty() {
        notes.push(format!("risks opened: {}", esc(&m.risks_opened.join(", "))));
    }
    if !m.risks_closed.is_empty() {
        notes.push(format!("risks closed: {}", esc(&m.risks_closed.join(", "))));
    }
    if m.exception_in.iter().any(|d| *d != Dimension::Overall) {
        let why: Vec<String> = m
            .exception_in
            .iter()
            .map(|d| {
                let to = m.rag.get(d).and_then(|x| x.to);
                format!("{d} {}", to.map_or("–", |r| r.word()))
            })
            .collect();
        notes.push(format!("exception for {}", esc(&why.join(", "))));
    }
    if m.description_changed.is_some() {
        notes.push("description rewritten".to_string());
    }
    if let Some(p) = &m.plan_changed {
        let months: Vec<String> = p
            .months_changed
            .iter()
            .map(|d| d.format("%b %Y").to_string())
            .collect();
        notes.push(format!(
            "plan redrawn ({} month(s) changed: {})",
            months.len(),
            esc(&months.join(", "))
        ));
    }
    if !m.narratives_changed.is_empty() {
        notes.push(format!(
            "{} narrative(s) updated",
            m.narratives_changed.len()
        ));
    }
    format!(
        "<tr class=\"{cls}\" data-ref=\"{r}\"><td>{r}</td><td><a href=\"/items/{id}\">{t}</a></td><td>{from}</td><td>{to}</td><td>{change}</td><td class=\"narrative\">{notes}</td></tr>",
        cls = if m.exception { "exception" } else { "" },
        r = esc(&m.reference),
        id = m.id,
        t = esc(&m.title),
        from = mv.map(|x| chip(x.from)).unwrap_or_default(),
        to = mv.map(|x| chip(x.to)).unwrap_or_default(),
        notes = notes.join("; "),
    )
}

/// Which section an item's movement goes in: exceptions, worsened, improved, the rest.
fn group(m: &ItemMovement) -> usize {
    match m.rag.get(&Dimension::Overall).map(|x| x.change) {
        _ if m.exception => 0,
        Some(Change::Worsened) => 1,
        Some(Change::Improved) => 2,
        _ => 3,
    }
}

fn render(state: &AppState, uri: &Uri) -> Result<String, String> {
    let p = params(uri.query());
    let trail = state.trail.read();
    let all = ragtrail_projections::programme::meetings(&trail, None);
    let to_id = p
        .uuid("to")
        .map_err(|e| e.to_string())?
        .or_else(|| all.first().map(|m| m.id));
    let to = to_id.and_then(|id| all.iter().find(|m| m.id == id));
    let from_id = p.uuid("from").map_err(|e| e.to_string())?.or_else(|| {
        to.and_then(|t| {
            all.iter()
                .find(|m| m.programme == t.programme && m.date < t.date)
                .map(|m| m.id)
        })
    });
    let from = from_id.and_then(|id| all.iter().find(|m| m.id == id));
    let mut body = String::new();
    let _ = write!(
        body,
        "<form class=\"controls\" method=\"get\" action=\"/compare\">{}{}<button class=\"primary\">Compare</button></form>",
        boards::select("from", "From board", &all, from_id),
        boards::select("to", "To board", &all, to_id)
    );
    let (Some(from), Some(to)) = (from, to) else {
        body.push_str("<p>Choose two boards to compare.</p>");
        return Ok(body);
    };
    let programme = if from.programme == to.programme {
        Some(to.programme)
    } else {
        None
    };
    let cmp = ragtrail_projections::compare::between(&trail, from.date, to.date, None, programme);
    let _ = write!(
        body,
        "<p class=\"muted\">Movement from {} to {}{}</p>",
        date(from.date),
        date(to.date),
        programme
            .map(|_| format!(" — {}", esc(&to.programme_name)))
            .unwrap_or_default()
    );
    let groups = [
        (
            "exceptions",
            "Exceptions: Red, or Amber and worsening, in any dimension",
        ),
        ("worsened", "Worsened"),
        ("improved", "Improved"),
        ("unchanged", "Unchanged, new or unrated"),
    ];
    for (g, (id, title)) in groups.iter().enumerate() {
        let rows: Vec<String> = cmp
            .items
            .iter()
            .filter(|m| group(m) == g)
            .map(row)
            .collect();
        let _ = write!(body, "<h2 id=\"{id}\">{title} ({})</h2>", rows.len());
        if rows.is_empty() {
            body.push_str("<p class=\"muted\">None.</p>");
            continue;
        }
        let _ = write!(body, "<div class=\"scroll\"><table id=\"table-{id}\"><thead><tr><th>Ref</th><th>Item</th><th>Was</th><th>Now</th><th>Change</th><th>Also</th></tr></thead><tbody>{}</tbody></table></div>", rows.join(""));
    }
    Ok(body)
}

pub async fn page(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    super::html::page(
        &state,
        &caller,
        "/compare",
        "Movement between boards",
        || render(&state, &uri),
    )
}
