//! `/boards/{id}/record`: a whole board cycle on one page, as a board
//! secretary prepares the highlight report. For every item of the programme:
//! this board's RAG per dimension (pre-filled as unchanged, a reason required
//! when it changes), progress and next steps, a target-date revision (with a
//! reason), metric readings, and risks raised or closed. Saving writes it all
//! as one atomic batch, or nothing: every error is listed at the top (GOV.UK's
//! error summary, each linked to its field) and beside its field. A draft can
//! be kept on the server until it is saved ("Save as draft"), so closing the
//! browser loses nothing; the pages run no script.

use super::html::{chip, csrf_field, date, esc, layout};
use crate::caller::Caller;
use crate::params::Params;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ragtrail_events::{Append, Dimension, Event, NewEvent, Rag, Section};
use ragtrail_projections::view::{BoardEntry, ItemView};
use ragtrail_projections::BoardQuery;
use std::fmt::Write;
use uuid::Uuid;

use crate::pending::DRAFTS;

/// What a field was given, and what is wrong with it.
struct Form {
    values: Params,
    /// field name → message, in the order found.
    errors: Vec<(String, String)>,
}

impl Form {
    fn value(&self, name: &str) -> String {
        self.values.text(name).unwrap_or_default().to_string()
    }
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.as_str())
    }
}

/// The element id of a field (names hold dots; ids keep to letters, digits and dashes).
fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(['.', ' '], "-"))
}

/// A field's error message beside it, if any, and the attributes that tie them.
fn feedback(form: &Form, name: &str) -> (String, String) {
    match form.error(name) {
        Some(m) => (
            format!(
                " aria-invalid=\"true\" aria-describedby=\"{}-error\"",
                field_id(name)
            ),
            format!(
                "<span class=\"error\" id=\"{}-error\">{}</span>",
                field_id(name),
                esc(m)
            ),
        ),
        None => (String::new(), String::new()),
    }
}

fn meeting(state: &AppState, id: &str) -> Option<BoardEntry> {
    let id = Uuid::parse_str(id).ok()?;
    ragtrail_projections::programme::meeting(&state.trail.read(), id)
}

fn items_of(state: &AppState, m: &BoardEntry) -> Vec<ItemView> {
    let q = BoardQuery {
        as_at: m.date,
        known_at: None,
        programme: Some(m.programme),
    };
    ragtrail_projections::board::at(&state.trail.read(), &q).items
}

/// The dimensions a row offers: overall, and any the item has a RAG for.
fn dimensions(i: &ItemView) -> Vec<Dimension> {
    Dimension::ALL
        .into_iter()
        .filter(|d| *d == Dimension::Overall || i.rag.contains_key(d))
        .collect()
}

fn render(caller: &Caller, m: &BoardEntry, items: &[ItemView], form: &Form, note: &str) -> String {
    let mut b = String::new();
    let linked: Vec<(String, String)> = form
        .errors
        .iter()
        .map(|(name, m)| (field_id(name), m.clone()))
        .collect();
    b.push_str(&super::html::error_summary(
        Some("Nothing was saved. Correct these and save again:"),
        &linked,
    ));
    b.push_str(note);
    let _ = write!(
        b,
        "<p>{} — {} on {}. Everything on this page is saved together, as one record of the board, or not at all.</p>",
        esc(&m.programme_name),
        esc(&m.board),
        date(m.date)
    );
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/boards/{}/record\" novalidate>{}",
        m.id,
        csrf_field(caller.1.as_deref())
    );
    let (inv, err) = feedback(form, "period");
    let _ = write!(
        b,
        "<div class=\"card\"><label for=\"{id}\">Period the readings are for (e.g. 2024-25 Q2)</label>{err}<input type=\"text\" name=\"period\" id=\"{id}\" value=\"{}\"{inv}></div>",
        esc(&form.value("period")),
        id = field_id("period")
    );
    for i in items {
        let k = i.id;
        let _ = write!(
            b,
            "<fieldset class=\"card\" id=\"item-{k}\"><legend>{} {}</legend>",
            esc(&i.reference),
            esc(&i.title)
        );
        for d in dimensions(i) {
            let name = format!("{k}.rag.{d}");
            let current = i.rag.get(&d).map(|s| s.value);
            let chosen = form.value(&name);
            let (inv, err) = feedback(form, &name);
            let _ = write!(
                b,
                "<label for=\"{id}\">{d} RAG (now {})</label>{err}<select name=\"{name}\" id=\"{id}\"{inv}><option value=\"\">unchanged</option>",
                chip(current),
                id = field_id(&name)
            );
            for r in ["red", "amber", "green", "blue", "unrated"] {
                let sel = super::html::selected(chosen == r);
                let _ = write!(b, "<option value=\"{r}\"{sel}>{r}</option>");
            }
            b.push_str("</select>");
        }
        let target_now = i
            .target_date
            .as_ref()
            .map(|t| date(t.value))
            .unwrap_or_else(|| "none".into());
        for (field, label, kind) in [
            (
                "target",
                format!("Revised target date (now {target_now})"),
                "date",
            ),
            (
                "reason",
                "Reason for a changed RAG or target date".to_string(),
                "textarea",
            ),
            (
                "progress",
                "Progress since the last board".to_string(),
                "textarea",
            ),
            ("next", "Next steps".to_string(), "textarea"),
            ("risk", "A new risk (its description)".to_string(), "text"),
            (
                "issue",
                "A new issue for the board (its description)".to_string(),
                "text",
            ),
        ] {
            let name = format!("{k}.{field}");
            let (inv, err) = feedback(form, &name);
            let id = field_id(&name);
            let v = esc(&form.value(&name));
            let _ = match kind {
                "textarea" => write!(b, "<label for=\"{id}\">{label}</label>{err}<textarea name=\"{name}\" id=\"{id}\" rows=\"2\"{inv}>{v}</textarea>"),
                t => write!(b, "<label for=\"{id}\">{label}</label>{err}<input type=\"{t}\" name=\"{name}\" id=\"{id}\" value=\"{v}\"{inv}>"),
            };
        }
        for (r, what, close) in i
            .risks
            .iter()
            .map(|r| (r, "risk", "Close"))
            .chain(i.issues.iter().map(|r| (r, "issue", "Resolve")))
            .filter(|(r, _, _)| r.open)
        {
            let name = format!("{}.close", r.id);
            let checked = if form.value(&name) == "yes" {
                " checked"
            } else {
                ""
            };
            let _ = write!(
                b,
                "<div><input type=\"checkbox\" name=\"{name}\" id=\"{id}\" value=\"yes\"{checked}><label for=\"{id}\">{close} {what} {} ({})</label></div>",
                esc(&r.reference),
                esc(&r.description),
                id = field_id(&name)
            );
            if what == "risk" {
                let name = format!("{}.mitigation", r.id);
                let _ = write!(
                    b,
                    "<label for=\"{id}\">Risk {}: its mitigation now (empty: as it was)</label><input type=\"text\" name=\"{name}\" id=\"{id}\" value=\"{}\">",
                    esc(&r.reference),
                    esc(&form.value(&name)),
                    id = field_id(&name)
                );
            }
        }
        for metric in &i.metrics {
            let name = format!("{}.value", metric.id);
            let (inv, err) = feedback(form, &name);
            let latest = metric
                .latest
                .as_ref()
                .map(|l| {
                    format!(
                        "latest {}: {}",
                        esc(&l.period),
                        super::html::measure(l.value)
                    )
                })
                .unwrap_or_else(|| "no reading yet".into());
            let _ = write!(
                b,
                "<label for=\"{id}\">{} ({latest})</label>{err}<input type=\"text\" name=\"{name}\" id=\"{id}\" value=\"{}\"{inv}>",
                esc(&metric.name),
                esc(&form.value(&name)),
                id = field_id(&name)
            );
        }
        b.push_str("</fieldset>");
    }
    b.push_str("<div class=\"wide\"><button class=\"primary\" name=\"intent\" value=\"save\" id=\"save\">Save the board</button> <button name=\"intent\" value=\"draft\" id=\"draft\">Save as draft</button></div></form>");
    b
}

/// Works out the batch a posted form asks for, or every error in it.
fn events_of(m: &BoardEntry, items: &[ItemView], form: &mut Form) -> Vec<NewEvent> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let at = |stream: Uuid, event: Event, reason: Option<String>| NewEvent {
        stream,
        event,
        effective: m.date,
        reason,
        expected_version: None,
    };
    let mut readings = false;
    for i in items {
        let k = i.id;
        let reason = form.value(&format!("{k}.reason")).trim().to_string();
        let mut needs_reason = false;
        for d in dimensions(i) {
            let name = format!("{k}.rag.{d}");
            let chosen = form.value(&name);
            if chosen.is_empty() {
                continue;
            }
            let Some(rag) = Rag::from_word(&chosen) else {
                errors.push((
                    name,
                    format!(
                        "{} {d} RAG: choose red, amber, green, blue or unrated.",
                        i.reference
                    ),
                ));
                continue;
            };
            if i.rag.get(&d).map(|s| s.value) != Some(rag) {
                needs_reason = true;
                out.push(at(
                    k,
                    Event::RagChanged { dimension: d, rag },
                    Some(reason.clone()),
                ));
            }
        }
        let target = format!("{k}.target");
        let raw = form.value(&target);
        if !raw.is_empty() {
            match NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
                Ok(t) if i.target_date.as_ref().map(|x| x.value) != Some(t) => {
                    needs_reason = true;
                    out.push(at(
                        k,
                        Event::TargetDateRevised { target_date: t },
                        Some(reason.clone()),
                    ));
                }
                Ok(_) => {}
                Err(_) => errors.push((
                    target,
                    format!(
                        "{}: enter the revised target date as a date, e.g. 2024-12-31.",
                        i.reference
                    ),
                )),
            }
        }
        if needs_reason && reason.is_empty() {
            errors.push((
                format!("{k}.reason"),
                format!(
                    "{}: say why the RAG or the target date changed.",
                    i.reference
                ),
            ));
        }
        for (field, section) in [
            ("progress", Section::Progress),
            ("next", Section::NextPeriod),
        ] {
            let t = form.value(&format!("{k}.{field}")).trim().to_string();
            if !t.is_empty() {
                out.push(at(k, Event::NarrativeRecorded { section, text: t }, None));
            }
        }
        let risk = form.value(&format!("{k}.risk")).trim().to_string();
        if !risk.is_empty() {
            out.push(at(
                Uuid::now_v7(),
                Event::RiskRaised {
                    programme: m.programme,
                    item: Some(k),
                    reference: format!("R{}", i.risks.len() + 1),
                    description: risk,
                    owner: None,
                    mitigation: None,
                    rag: None,
                },
                None,
            ));
        }
        let issue = form.value(&format!("{k}.issue")).trim().to_string();
        if !issue.is_empty() {
            out.push(at(
                Uuid::now_v7(),
                Event::IssueEscalated {
                    programme: m.programme,
                    item: Some(k),
                    reference: format!("I{}", i.issues.len() + 1),
                    description: issue,
                    owner: None,
                    action: None,
                },
                None,
            ));
        }
        for r in i.risks.iter().filter(|r| r.open) {
            let mitigation = form
                .value(&format!("{}.mitigation", r.id))
                .trim()
                .to_string();
            if !mitigation.is_empty() && r.action.as_deref() != Some(mitigation.as_str()) {
                out.push(at(
                    r.id,
                    Event::RiskUpdated {
                        description: None,
                        owner: None,
                        mitigation: Some(mitigation),
                        rag: None,
                    },
                    None,
                ));
            }
            if form.value(&format!("{}.close", r.id)) == "yes" {
                out.push(at(
                    r.id,
                    Event::RiskClosed {
                        note: Some(format!("closed at the board of {}", m.date)),
                    },
                    None,
                ));
            }
        }
        for r in i.issues.iter().filter(|r| r.open) {
            if form.value(&format!("{}.close", r.id)) == "yes" {
                out.push(at(
                    r.id,
                    Event::IssueResolved {
                        note: Some(format!("resolved at the board of {}", m.date)),
                    },
                    None,
                ));
            }
        }
        for metric in &i.metrics {
            let name = format!("{}.value", metric.id);
            let raw = form.value(&name);
            if raw.trim().is_empty() {
                continue;
            }
            readings = true;
            match crate::import::tracker::measure_of(&raw, metric.unit) {
                Ok(None) => {}
                Ok(Some(v)) => out.push(at(
                    metric.id,
                    Event::MetricReadingRecorded {
                        period: form.value("period").trim().to_string(),
                        period_end: m.date,
                        value: Some(v),
                        rag: None,
                        target: None,
                        note: None,
                    },
                    None,
                )),
                Err(e) => errors.push((name, format!("{}: {e}", metric.name))),
            }
        }
    }
    if readings && form.value("period").trim().is_empty() {
        errors.insert(
            0,
            (
                "period".into(),
                "Name the period the readings are for, e.g. 2024-25 Q2.".into(),
            ),
        );
    }
    if out.is_empty() && errors.is_empty() {
        errors.push((
            "period".into(),
            "Nothing was changed: record at least one RAG, update, date, reading or risk.".into(),
        ));
    }
    form.errors = errors;
    out
}

fn draft_key(board: Uuid, actor: &str) -> Vec<u8> {
    format!("{board}/{actor}").into_bytes()
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: axum::http::Uri,
) -> Response {
    let here = format!("/boards/{id}/record");
    let actor = match super::html::writer_or_signin(&caller, &here) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(m) = meeting(&state, &id) else {
        return (
            StatusCode::NOT_FOUND,
            layout(
                "Not found",
                &caller,
                "<p>There is no such board meeting.</p>",
            ),
        )
            .into_response();
    };
    let draft = state
        .store
        .tree(DRAFTS)
        .ok()
        .and_then(|t| t.get(draft_key(m.id, &actor)).ok().flatten())
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    let note = match (&draft, uri.query().is_some_and(|q| q.contains("draft=saved"))) {
        (Some(_), true) => "<div class=\"card\" role=\"status\"><p class=\"ok\">Your draft is saved. It stays here until you save the board.</p></div>",
        (Some(_), false) => "<div class=\"card\" role=\"status\"><p>Your saved draft is filled in below. Nothing of it is recorded until you save the board.</p></div>",
        _ => "",
    };
    let form = Form {
        values: Params::from_form(draft.as_deref()),
        errors: Vec::new(),
    };
    let items = items_of(&state, &m);
    layout(
        &format!("Record the board of {}", date(m.date)),
        &caller,
        &render(&caller, &m, &items, &form, note),
    )
    .into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/boards/{id}/record");
    let (actor, values, text) = match super::html::writer_form(&caller, &here, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(m) = meeting(&state, &id) else {
        return (
            StatusCode::NOT_FOUND,
            layout(
                "Not found",
                &caller,
                "<p>There is no such board meeting.</p>",
            ),
        )
            .into_response();
    };
    let key = draft_key(m.id, &actor);
    if values.text("intent") == Some("draft") {
        let kept = state.store.write_tree(DRAFTS, |t| {
            t.insert(key.clone(), text.as_bytes())?;
            Ok(())
        });
        return match kept.and_then(|()| state.store.sync()) {
            Ok(()) => Redirect::to(&format!("{here}?draft=saved")).into_response(),
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                layout(
                    "Not saved",
                    &caller,
                    &format!(
                        "<p class=\"error\">The draft could not be kept: {}</p>",
                        esc(&e.to_string())
                    ),
                ),
            )
                .into_response(),
        };
    }
    let items = items_of(&state, &m);
    let mut form = Form {
        values,
        errors: Vec::new(),
    };
    let events = events_of(&m, &items, &mut form);
    if form.errors.is_empty() {
        let saved = state
            .append(Append {
                actor,
                idempotency_key: None,
                events,
            })
            .await;
        match saved {
            Ok(_) => {
                // Saved: the draft has served its turn.
                let _ = state.store.write_tree(DRAFTS, |t| {
                    t.remove(key.clone())?;
                    Ok(())
                });
                return Redirect::to(&format!("/?board={}", m.id)).into_response();
            }
            Err(e) => form.errors.push((
                "period".into(),
                format!("The board could not be saved, and nothing was: {e}"),
            )),
        }
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        layout(
            &format!("Record the board of {}", date(m.date)),
            &caller,
            &render(&caller, &m, &items, &form, ""),
        ),
    )
        .into_response()
}
