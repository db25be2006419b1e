//! `/audit`: whether the chain verifies, the current signed digest, and every
//! board seal with whether today's log still yields what that board was shown,
//! and every lawful erasure.

use super::html::{date, esc, gate, layout};
use crate::caller::Caller;
use crate::seal::{self, Chain};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use ragtrail_projections::programme;
use std::fmt::Write;

/// The audit page's body: whether the chain verifies, and each sealed board.
async fn body(state: &AppState) -> String {
    let mut b = String::new();
    let chain = seal::chain(state).await;
    match &chain {
        Ok(Chain::Verified(v)) => {
            let _ = write!(b, "<div class=\"card\" id=\"chain\"><p class=\"ok\">The log verifies: {} events, each linked to the one before.</p><p>Head: <span class=\"hash\">{}</span></p></div>", v.count, v.head);
        }
        Ok(Chain::Broken { position, problem }) => {
            let _ = write!(b, "<div class=\"card\" id=\"chain\"><p class=\"bad\">The log does NOT verify: position {position}: {}</p></div>", esc(problem));
        }
        Err(e) => {
            let _ = write!(b, "<div class=\"card\" id=\"chain\"><p class=\"bad\">Cannot check the log: {}</p></div>", esc(&e.to_string()));
        }
    }
    let head = state.store.head();
    let d = state.signer.sign(head.position, head.hash.to_hex());
    let _ = write!(b, "<h2>Current digest</h2><div class=\"card\"><p>Keep this outside the service; <code>ragtrail verify --data DIR --digest FILE</code> proves a later log still extends it.</p><p>Position {}, head <span class=\"hash\">{}</span>, signed {} by key <span class=\"hash\">{}</span></p><p><a href=\"/audit/digest.json\" download=\"ragtrail-digest.json\">Download the signed digest (JSON)</a></p></div>", d.position, esc(&d.head), d.signed_at.format("%Y-%m-%d %H:%M:%S UTC"), esc(&d.key));
    b.push_str("<h2>Board seals</h2>");
    let boards = programme::meetings(&state.trail.read(), None);
    b.push_str("<div class=\"scroll\"><table id=\"seals\"><thead><tr><th>Board</th><th>Programme</th><th>Sealed</th><th>Still verifies?</th></tr></thead><tbody>");
    for m in &boards {
        let status = match &chain {
            Ok(chain) => match seal::check(state, m.id, chain) {
                Ok(c) => format!(
                    "{} <span class=\"muted\">{}</span>",
                    if c.verified {
                        "<span class=\"ok\">yes</span>"
                    } else {
                        "<span class=\"bad\">NO</span>"
                    },
                    esc(&c.detail)
                ),
                Err(_) => "<span class=\"muted\">not sealed</span>".into(),
            },
            Err(e) => esc(&e.to_string()),
        };
        let sealed = m
            .seal
            .as_ref()
            .map(|s| {
                format!(
                    "by {} on {}",
                    esc(&s.set.actor),
                    s.set.recorded_at.format("%Y-%m-%d %H:%M UTC")
                )
            })
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td>{} ({})</td><td>{}</td><td>{sealed}</td><td>{status}</td></tr>",
            date(m.date),
            esc(&m.board),
            esc(&m.programme_name)
        );
    }
    b.push_str("</tbody></table></div>");
    erasures(&mut b, &state.trail.read());
    b
}

/// Every lawful erasure: who, when, why, and how much it changed (never the text).
fn erasures(b: &mut String, trail: &ragtrail_projections::Trail) {
    b.push_str("<h2>Erasures</h2>");
    let all = trail.erasures();
    if all.is_empty() {
        b.push_str("<p>No text has been erased from the log.</p>");
        return;
    }
    b.push_str("<p>Personal text erased on a lawful request. Each field that held it now reads \"[erased]\"; every hash, digest and seal made before still verifies. The erased text is recorded only as a salted hash.</p>");
    b.push_str("<div class=\"scroll\"><table id=\"erasures\"><thead><tr><th>When</th><th>By</th><th>Reason</th><th>Legal basis</th><th>Changed</th><th>Recorded at position</th></tr></thead><tbody>");
    for e in all {
        let positions = if e.last_position > e.position {
            format!("{} to {}", e.position, e.last_position)
        } else {
            e.position.to_string()
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} fields of {} events</td><td>{positions}</td></tr>",
            e.recorded_at.format("%Y-%m-%d %H:%M UTC"),
            esc(&e.actor),
            esc(e.reason.as_deref().unwrap_or("")),
            esc(&e.legal_basis),
            e.fields,
            e.events
        );
    }
    b.push_str("</tbody></table></div>");
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> Response {
    if let Some(r) = gate(&state, &caller, "/audit") {
        return r;
    }
    let body = body(&state).await;
    layout("Audit", &caller, &body).into_response()
}
