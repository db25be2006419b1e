//! `/trends`: a metric's readings against its target, with RAG bands, and a
//! programme's RAG counts per board date; each chart also as a table.

use super::html::{chip, esc, measure, params};
use crate::caller::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::NaiveDate;
use ragtrail_events::{Dimension, Direction, Rag};
use ragtrail_projections::rating::Rating;
use ragtrail_projections::trend::{CountsAtBoard, MetricTrend};
use ragtrail_projections::BoardQuery;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 300.0;
const L: f64 = 56.0;
const R: f64 = 16.0;
const T: f64 = 16.0;
const B: f64 = 56.0;

fn short(s: &str) -> String {
    let t: String = s.chars().take(14).collect();
    esc(&t)
}

/// A line chart of a metric's readings against its target, with the tolerance band.
fn metric_chart(t: &MetricTrend, direction: Direction, tolerance: Option<f64>) -> String {
    let points: Vec<(usize, f64)> = t
        .readings
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.value.map(|v| (i, v.as_f64())))
        .collect();
    let target = t.target.map(|v| v.as_f64());
    let mut lo = points
        .iter()
        .map(|p| p.1)
        .chain(target)
        .fold(f64::INFINITY, f64::min);
    let mut hi = points
        .iter()
        .map(|p| p.1)
        .chain(target)
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return "<p class=\"muted\">No readings with values to chart.</p>".into();
    }
    if let (Some(tg), Some(tol)) = (target, tolerance) {
        lo = lo.min(tg - tg.abs() * tol / 100.0);
        hi = hi.max(tg + tg.abs() * tol / 100.0);
    }
    let pad = ((hi - lo) * 0.1).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let n = t.readings.len().max(1);
    let x = |i: usize| {
        L + (W - L - R)
            * if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            }
    };
    let y = |v: f64| T + (H - T - B) * (1.0 - (v - lo) / (hi - lo));
    let mut s = format!("<svg class=\"chart\" id=\"metric-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"metric-chart-title\"><title id=\"metric-chart-title\">{} over time{}</title>", esc(&t.name), target.map(|v| format!(", target {v}")).unwrap_or_default());
    // RAG bands: within tolerance of target is green; the worse side beyond it red.
    if let (Some(tg), Some(tol)) = (target, tolerance) {
        let (a, b) = (tg - tg.abs() * tol / 100.0, tg + tg.abs() * tol / 100.0);
        let _ = write!(s, "<rect x=\"{L}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#dcedc8\"><title>Green: within {tol}% of target</title></rect>", y(b), W - L - R, y(a) - y(b));
        let (top, bottom) = match direction {
            Direction::Up => (y(a), y(lo)),
            Direction::Down => (y(hi), y(b)),
        };
        let _ = write!(s, "<rect x=\"{L}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#fde0dc\"><title>Beyond tolerance on the worse side</title></rect>", W - L - R, (bottom - top).max(0.0));
    }
    // Axes and value ticks.
    let _ = write!(s, "<line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/><line x1=\"{L}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>", H - B, H - B, W - R, H - B);
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            L - 6.0,
            y(v) + 4.0,
            if (hi - lo) > 20.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        );
    }
    for (i, r) in t.readings.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            H - B + 18.0,
            short(&r.period)
        );
    }
    if let Some(tg) = target {
        let _ = write!(s, "<line x1=\"{L}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#0d47a1\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">target {}</text>", y(tg), W - R, y(tg), W - R, y(tg) - 4.0, tg);
    }
    let line: Vec<String> = points
        .iter()
        .map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v)))
        .collect();
    let _ = write!(
        s,
        "<polyline fill=\"none\" stroke=\"#1a1a1a\" stroke-width=\"2\" points=\"{}\"/>",
        line.join(" ")
    );
    for (i, v) in &points {
        let _ = write!(s, "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#1f2a44\"><title>{}: {}</title></circle>", x(*i), y(*v), esc(&t.readings[*i].period), v);
    }
    s.push_str("</svg>");
    s
}

/// A stacked bar chart of overall RAG counts per board date.
fn counts_chart(counts: &[CountsAtBoard]) -> String {
    if counts.is_empty() {
        return "<p class=\"muted\">This programme has no board meetings yet.</p>".into();
    }
    let order = [
        (Rag::Red, "#b71c1c"),
        (Rag::Amber, "#ffd54f"),
        (Rag::Green, "#1b5e20"),
        (Rag::Blue, "#0d47a1"),
        (Rag::Unrated, "#bdbdbd"),
    ];
    let total = |c: &CountsAtBoard| {
        c.counts
            .get(&Dimension::Overall)
            .map(|m| m.values().sum::<usize>())
            .unwrap_or(0)
    };
    let max = counts.iter().map(total).max().unwrap_or(1).max(1) as f64;
    let n = counts.len() as f64;
    let bw = ((W - L - R) / n * 0.6).min(60.0);
    let mut s = format!("<svg class=\"chart\" id=\"counts-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"counts-chart-title\"><title id=\"counts-chart-title\">Items by overall RAG at each board</title>");
    let _ = write!(
        s,
        "<line x1=\"{L}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>",
        H - B,
        W - R,
        H - B
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let yy = T + (H - T - B) * (1.0 - v / max);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}</text>",
            L - 6.0,
            yy + 4.0
        );
    }
    for (i, c) in counts.iter().enumerate() {
        let cx = L + (W - L - R) * (i as f64 + 0.5) / n;
        let mut base = H - B;
        for (rag, colour) in order {
            let k = c
                .counts
                .get(&Dimension::Overall)
                .and_then(|m| m.get(&rag))
                .copied()
                .unwrap_or(0);
            if k == 0 {
                continue;
            }
            let h = (H - T - B) * k as f64 / max;
            base -= h;
            let _ = write!(s, "<rect class=\"bar\" x=\"{:.1}\" y=\"{base:.1}\" width=\"{bw:.1}\" height=\"{h:.1}\" fill=\"{colour}\" stroke=\"#ffffff\"><title>{}: {k} {rag}</title></rect>", cx - bw / 2.0, c.date, rag = format!("{rag:?}").to_lowercase());
        }
        let _ = write!(
            s,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            H - B + 18.0,
            c.date.format("%b %Y")
        );
    }
    s.push_str("</svg>");
    s
}

fn render(state: &AppState, uri: &Uri) -> Result<String, String> {
    let p = params(uri.query());
    let trail = state.trail.read();
    let ever = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at: None,
        programme: None,
    };
    let programmes: Vec<_> = trail
        .programme_ids()
        .filter_map(|id| ragtrail_projections::programme::at(&trail, id, &ever))
        .collect();
    let programme = p
        .uuid("programme")
        .map_err(|e| e.to_string())?
        .or_else(|| programmes.first().map(|p| p.id));
    let mut body = String::from("<form class=\"controls\" method=\"get\" action=\"/trends\"><label>Programme<select name=\"programme\">");
    for pr in &programmes {
        let sel = super::html::selected(Some(pr.id) == programme);
        let _ = write!(
            body,
            "<option value=\"{}\"{sel}>{} ({})</option>",
            pr.id,
            esc(&pr.name),
            esc(&pr.authority)
        );
    }
    body.push_str("</select></label>");
    let board = programme.map(|pid| {
        ragtrail_projections::board::at(
            &trail,
            &BoardQuery {
                as_at: NaiveDate::MAX,
                known_at: None,
                programme: Some(pid),
            },
        )
    });
    let metrics: Vec<_> = board
        .iter()
        .flat_map(|b| b.items.iter())
        .flat_map(|i| i.metrics.iter().map(move |m| (i, m)))
        .collect();
    let chosen = p
        .uuid("metric")
        .map_err(|e| e.to_string())?
        .filter(|m| metrics.iter().any(|(_, x)| x.id == *m))
        .or_else(|| metrics.first().map(|(_, m)| m.id));
    if !metrics.is_empty() {
        body.push_str("<label>Metric<select name=\"metric\">");
        for (i, m) in &metrics {
            let sel = super::html::selected(Some(m.id) == chosen);
            let _ = write!(
                body,
                "<option value=\"{}\"{sel}>{} — {}</option>",
                m.id,
                esc(&i.reference),
                esc(&m.name)
            );
        }
        body.push_str("</select></label>");
    }
    body.push_str("<button class=\"primary\">Show</button></form>");
    if let Some((item, m)) = chosen.and_then(|id| metrics.iter().find(|(_, m)| m.id == id)) {
        if let Some(t) = ragtrail_projections::trend::metric(&trail, m.id, None) {
            let _ = write!(body, "<h2>{}</h2><p class=\"muted\">{} — <a href=\"/items/{}\">{}</a>; {} is better{}</p>", esc(&t.name), esc(&item.reference), item.id, esc(&item.title), if m.good_direction == Direction::Up { "higher" } else { "lower" }, t.target.map(|v| format!("; target {}", measure(Some(v)))).or_else(|| m.target_text.as_deref().map(|t| format!("; target: {}", esc(t)))).unwrap_or_default());
            // What the report did not say, and was assumed: beside the values it shapes.
            body.push_str(&super::html::notes(&m.notes));
            body.push_str(&metric_chart(&t, m.good_direction, m.tolerance_pct));
            body.push_str("<div class=\"scroll\"><table id=\"metric-table\"><caption class=\"sr\">Readings</caption><thead><tr><th>Period</th><th>Value</th><th>Target</th><th>RAG</th><th>How rated</th><th>Note</th></tr></thead><tbody>");
            for r in &t.readings {
                let how = match &r.rating {
                    Rating::Reported => "as reported".to_string(),
                    Rating::Rule(rule) => esc(rule),
                    Rating::Unrated => String::new(),
                };
                let _ = write!(body, "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{how}</td><td>{}</td></tr>", esc(&r.period), measure(r.value), r.target.map(|v| measure(Some(v))).unwrap_or_default(), chip(r.rag), r.note.as_deref().map(esc).unwrap_or_default());
            }
            body.push_str("</tbody></table></div>");
        }
    } else {
        body.push_str("<p class=\"muted\">This programme has no metrics.</p>");
    }
    if let Some(pid) = programme {
        let counts = ragtrail_projections::trend::counts(&trail, pid, None);
        body.push_str("<h2>Overall RAG at each board</h2>");
        body.push_str(&counts_chart(&counts));
        body.push_str("<div class=\"scroll\"><table id=\"counts-table\"><thead><tr><th>Board</th><th>Red</th><th>Amber</th><th>Green</th><th>Blue</th><th>Unrated</th></tr></thead><tbody>");
        for c in &counts {
            let k = |r: Rag| {
                c.counts
                    .get(&Dimension::Overall)
                    .and_then(|m| m.get(&r))
                    .copied()
                    .unwrap_or(0)
            };
            let _ = write!(body, "<tr><td>{} ({})</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>", super::html::date(c.date), esc(&c.board), k(Rag::Red), k(Rag::Amber), k(Rag::Green), k(Rag::Blue), k(Rag::Unrated));
        }
        body.push_str("</tbody></table></div>");
    }
    Ok(body)
}

pub async fn page(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    super::html::page(&state, &caller, "/trends", "Trends", || {
        render(&state, &uri)
    })
}
