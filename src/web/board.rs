//! `/`: the board as at a board date (or any date), as known at an instant.

use super::boards;
use super::html::{chip, date, esc, measure, params, set_by};
use crate::caller::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use ragtrail_events::{Dimension, Rag, Section};
use ragtrail_projections::movement::Change;
use ragtrail_projections::BoardQuery;
use std::collections::HashMap;
use std::fmt::Write;
use uuid::Uuid;

/// Items in outline order: each after its parent, indented by depth.
fn tree(
    items: &[ragtrail_projections::view::ItemView],
) -> Vec<(usize, &ragtrail_projections::view::ItemView)> {
    let on_board: std::collections::HashSet<Uuid> = items.iter().map(|i| i.id).collect();
    let mut children: HashMap<Uuid, Vec<&ragtrail_projections::view::ItemView>> = HashMap::new();
    let mut roots = Vec::new();
    for i in items {
        match i.parent.filter(|p| on_board.contains(p)) {
            Some(p) => children.entry(p).or_default().push(i),
            None => roots.push(i),
        }
    }
    let mut out = Vec::with_capacity(items.len());
    let mut stack: Vec<(usize, &ragtrail_projections::view::ItemView)> =
        roots.into_iter().rev().map(|i| (0, i)).collect();
    while let Some((d, i)) = stack.pop() {
        out.push((d, i));
        if let Some(kids) = children.get(&i.id) {
            stack.extend(kids.iter().rev().map(|k| (d + 1, *k)));
        }
    }
    out
}

fn arrow(change: Option<Change>, since: Option<NaiveDate>) -> String {
    let since = since.map(date).unwrap_or_default();
    match change {
        Some(Change::Improved) => format!("<span class=\"move up\" title=\"improved since {since}\">↑<span class=\"sr\"> improved</span></span>"),
        Some(Change::Worsened) => format!("<span class=\"move down\" title=\"worsened since {since}\">↓<span class=\"sr\"> worsened</span></span>"),
        Some(Change::Unchanged) => format!("<span class=\"move same\" title=\"unchanged since {since}\">→<span class=\"sr\"> unchanged</span></span>"),
        Some(Change::New) => "<span class=\"move\">new</span>".into(),
        Some(Change::Closed) => "<span class=\"move\">closed</span>".into(),
        None => String::new(),
    }
}

fn render(state: &AppState, uri: &Uri) -> Result<String, String> {
    let p = params(uri.query());
    let trail = state.trail.read();
    let all = ragtrail_projections::programme::meetings(&trail, None);
    let chosen = p.uuid("board").map_err(|e| e.to_string())?;
    let (board_id, mut programme, mut as_at) =
        match chosen.and_then(|id| all.iter().find(|m| m.id == id)) {
            Some(m) => (Some(m.id), Some(m.programme), m.date),
            None => match all.first() {
                Some(m) if p.date("as_at").ok().flatten().is_none() => {
                    (Some(m.id), Some(m.programme), m.date)
                }
                _ => (None, None, Utc::now().date_naive()),
            },
        };
    if let Some(d) = p.date("as_at").map_err(|e| e.to_string())? {
        as_at = d;
    }
    if let Some(pid) = p.uuid("programme").map_err(|e| e.to_string())? {
        programme = Some(pid);
    }
    let known_at = p.instant("known_at").map_err(|e| e.to_string())?;
    let only: Option<Rag> = p
        .text("rag")
        .and_then(Rag::from_word)
        .filter(|r| *r != Rag::Unrated);
    let q = BoardQuery {
        as_at,
        known_at,
        programme,
    };
    let board = ragtrail_projections::board::at(&trail, &q);
    // Movement since the previous board of the programme.
    let previous = programme
        .and_then(|pid| ragtrail_projections::board::previous_date(&trail, pid, as_at, known_at));
    let mut body = String::new();
    let _ = write!(
        body,
        "<form class=\"controls\" method=\"get\" action=\"/\">{}",
        boards::select("board", "Board meeting", &all, board_id)
    );
    let _ = write!(
        body,
        "<label>or any date<input type=\"date\" name=\"as_at\" value=\"\"></label>"
    );
    body.push_str("<label>Programme<select name=\"programme\"><option value=\"\">the board's programme</option>");
    let mut seen = std::collections::HashSet::new();
    for m in &all {
        let pid = m.programme;
        if seen.insert(pid) {
            let sel = super::html::selected(p.text("programme") == Some(pid.to_string().as_str()));
            let _ = write!(
                body,
                "<option value=\"{pid}\"{sel}>{}</option>",
                esc(&m.programme_name)
            );
        }
    }
    body.push_str("</select></label>");
    let _ = write!(
        body,
        "<label>As known at (optional)<input type=\"text\" name=\"known_at\" placeholder=\"2024-09-10T18:00:00Z\" value=\"{}\"></label>",
        esc(p.text("known_at").unwrap_or(""))
    );
    let _ = write!(
        body,
        "<label>RAG<select name=\"rag\"><option value=\"\">all</option>"
    );
    for r in ["red", "amber", "green", "blue"] {
        let sel = super::html::selected(p.text("rag") == Some(r));
        let _ = write!(body, "<option value=\"{r}\"{sel}>{r}</option>");
    }
    body.push_str("</select></label><button class=\"primary\">Show</button></form>");
    let pname = board
        .programmes
        .first()
        .map(|p| format!("{} ({})", p.name, p.authority))
        .unwrap_or_else(|| "All programmes".into());
    let _ = write!(
        body,
        "<p class=\"muted\" id=\"summary\">{} — as at <strong>{}</strong>{}{}</p>",
        esc(&pname),
        date(as_at),
        known_at
            .map(|t| format!(", as known at {}", esc(&t.to_rfc3339())))
            .unwrap_or_default(),
        previous
            .map(|d| format!("; arrows show movement since the board of {}", date(d)))
            .unwrap_or_default()
    );
    if let Some(m) = board_id
        .and_then(|id| all.iter().find(|m| m.id == id))
        .filter(|m| m.date == as_at && known_at.is_none())
    {
        let _ = write!(
            body,
            "<p id=\"seal-link\"><a href=\"/boards/{}/record\">Record this board cycle</a> · <a href=\"/boards/{}/seal\">{}</a></p>",
            m.id,
            m.id,
            if m.seal.is_some() {
                "Check this board pack's seal, or download it with a signed digest"
            } else {
                "Seal this board pack"
            }
        );
    }
    // Where a writer starts or changes a programme (others are asked to sign in).
    let _ = write!(
        body,
        "<p id=\"programme-links\"><a href=\"/programmes/new\">Start a programme</a> · <a href=\"/import\">Import an Excel tracker</a>{}</p>",
        programme
            .map(|p| format!(" · <a href=\"/programmes/{p}/outline\">Change this programme's outline and board meetings</a>"))
            .unwrap_or_default()
    );
    body.push_str("<div class=\"counts\" aria-label=\"Counts by overall RAG\">");
    for r in [Rag::Red, Rag::Amber, Rag::Green, Rag::Blue, Rag::Unrated] {
        let n = board
            .counts
            .get(&Dimension::Overall)
            .and_then(|c| c.get(&r))
            .copied()
            .unwrap_or(0);
        if n > 0 {
            let _ = write!(body, "<span>{} {n}</span>", chip(Some(r)));
        }
    }
    body.push_str("</div>");
    if let Some(p) = board.programmes.first() {
        body.push_str(&super::html::programme_notes(p));
    }
    body.push_str("<div class=\"scroll\"><table id=\"board\"><thead><tr><th>Ref</th><th>Item</th><th>Overall</th><th title=\"Direction of travel: since the previous board, and over a year\">Travel</th><th class=\"hide-narrow\">Delivery</th><th class=\"hide-narrow\">Savings</th><th>Owner</th><th>Target date</th><th class=\"hide-narrow\">Latest progress</th><th class=\"hide-narrow\">Key metrics</th></tr></thead><tbody>");
    let mut shown = 0;
    for (depth, i) in tree(&board.items) {
        let overall = i.rag.get(&Dimension::Overall).map(|s| s.value);
        if only.is_some() && overall != only {
            continue;
        }
        shown += 1;
        let rag = |d: Dimension| {
            i.rag
                .get(&d)
                .map(|s| chip(Some(s.value)))
                .unwrap_or_default()
        };
        let set_by = i
            .rag
            .get(&Dimension::Overall)
            .map(|s| format!(" title=\"{}\"", set_by(&s.set)))
            .unwrap_or_default();
        let mut target = match &i.target_date {
            Some(t) => format!(
                "{}{}",
                date(t.value),
                super::html::slippage(i.slippage_days)
            ),
            None => i.timeframe.as_deref().map(esc).unwrap_or_default(),
        };
        if let Some(d) = i.overdue_days {
            let _ = write!(target, " <strong class=\"bad\">overdue {d} days</strong>");
        }
        if let Some(w) = &i.within_slippage {
            let _ = write!(
                target,
                " <span class=\"bad\">{} under it slipped {} days</span>",
                esc(&w.reference),
                w.days
            );
        }
        // Every progress entry of this board, oldest first.
        let progress = i
            .earlier_narratives
            .get(&Section::Progress)
            .into_iter()
            .flatten()
            .chain(i.narratives.get(&Section::Progress))
            .map(|n| {
                let t: String = n.value.chars().take(160).collect();
                let more = if n.value.chars().count() > 160 {
                    "…"
                } else {
                    ""
                };
                format!("<p>{}{more}</p>", esc(&t))
            })
            .collect::<String>();
        let mut metrics = String::new();
        for m in i.metrics.iter().take(4) {
            if let Some(l) = &m.latest {
                let assumed: Vec<&str> = m
                    .notes
                    .iter()
                    .filter(|n| n.kind == ragtrail_events::NoteKind::Assumption)
                    .filter_map(|n| n.field.as_deref())
                    .collect();
                let assumed = if assumed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " <span class=\"note\" title=\"Not in the report: assumed\">(assumed: {})</span>",
                        esc(&assumed.join(", ").replace('_', " "))
                    )
                };
                let _ = write!(
                    metrics,
                    "<div>{}: <strong>{}</strong>{} {}{assumed}</div>",
                    esc(&m.name),
                    measure(l.value),
                    l.target
                        .map(|t| format!(" (target {})", measure(Some(t))))
                        .or_else(|| m
                            .target_text
                            .as_deref()
                            .map(|t| format!(" (target: {})", esc(t))))
                        .unwrap_or_default(),
                    chip(l.rag)
                );
            }
        }
        let travel = format!(
            "{}{}",
            arrow(
                i.travel.short.as_ref().map(|t| t.change),
                i.travel.short.as_ref().map(|t| t.since)
            ),
            i.travel
                .long
                .as_ref()
                .filter(|t| t.from.is_some())
                .map(|t| format!(
                    " <span class=\"muted\">1y</span> {}",
                    arrow(Some(t.change), Some(t.since))
                ))
                .unwrap_or_default()
        );
        let _ = write!(
            body,
            "<tr data-ref=\"{r}\"><td>{r}</td><td style=\"padding-left:{pad}rem\"><a href=\"/items/{id}\">{title}</a><div class=\"muted\">{kind}</div>{notes}</td><td{set_by}>{overall}</td><td>{mv}</td><td class=\"hide-narrow\">{delivery}</td><td class=\"hide-narrow\">{savings}</td><td>{owner}</td><td>{target}</td><td class=\"hide-narrow narrative\">{progress}</td><td class=\"hide-narrow\">{metrics}</td></tr>",
            r = esc(&i.reference),
            pad = 0.5 + 1.2 * depth as f64,
            id = i.id,
            title = esc(&i.title),
            kind = i.kind,
            notes = super::html::notes(&i.notes),
            overall = rag(Dimension::Overall),
            mv = travel,
            delivery = rag(Dimension::Delivery),
            savings = rag(Dimension::Savings),
            owner = i.owner.as_deref().map(esc).unwrap_or_default(),
        );
    }
    body.push_str("</tbody></table></div>");
    if shown == 0 {
        body.push_str("<p>No items on this board for this date and filter.</p>");
    }
    Ok(body)
}

pub async fn page(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    super::html::page(&state, &caller, "/", "Board", || render(&state, &uri))
}
