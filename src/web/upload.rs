//! `/import`: bring in the Excel tracker a board secretary already keeps, in
//! the browser. The upload is read and shown as a preview (each sheet, what
//! it will record, or every bad cell by sheet, row and column) before
//! anything is written; the file waits on the server until it is confirmed.
//! The reading is [`crate::import::tracker`]'s, as `ragtrail import` uses.

use super::html::{csrf_field, date, esc, layout};
use crate::caller::Caller;
use crate::import::tracker::{self, Options, Role};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::pending::UPLOADS;

fn form(caller: &Caller, errors: &[(String, String)], v: &HashMap<String, String>) -> String {
    let mut b = String::new();
    b.push_str(&super::html::error_summary(None, errors));
    let get = |k: &str| esc(v.get(k).map(String::as_str).unwrap_or(""));
    let _ = write!(
        b,
        "<p>An action plan (No., Action, Owner, Status/RAG, Savings RAG, Target date, Revised date, Update) or a KPI scorecard (Measure, Target, one column per period, Comment), one per sheet. You will see what it records before anything is written.</p>\
         <form method=\"post\" action=\"/import\" enctype=\"multipart/form-data\" class=\"card\" novalidate>{}\
         <label for=\"file\">The tracker (.xlsx)</label><input type=\"file\" name=\"file\" id=\"file\" accept=\".xlsx\">\
         <label for=\"programme\">Programme (its name; a new one is started)</label><input type=\"text\" name=\"programme\" id=\"programme\" value=\"{}\">\
         <label for=\"as_at\">The board date its rows apply at</label><input type=\"date\" name=\"as_at\" id=\"as_at\" value=\"{}\">\
         <label for=\"authority\">Local authority (only for a new programme)</label><input type=\"text\" name=\"authority\" id=\"authority\" value=\"{}\">\
         <label for=\"map\">Headers this page does not know, and what they hold (optional, JSON such as {{\"Our RAG\": \"rag\"}})</label><textarea name=\"map\" id=\"map\" rows=\"2\">{}</textarea>\
         <button class=\"primary\" id=\"preview\">Preview the import</button></form>",
        csrf_field(caller.1.as_deref()),
        get("programme"),
        get("as_at"),
        get("authority"),
        get("map"),
    );
    b
}

pub async fn page(State(_state): State<AppState>, caller: Caller) -> Response {
    if let Err(r) = super::html::writer_or_signin(&caller, "/import") {
        return *r;
    }
    layout(
        "Import a tracker",
        &caller,
        &form(&caller, &[], &HashMap::new()),
    )
    .into_response()
}

fn options(v: &HashMap<String, String>, errors: &mut Vec<(String, String)>) -> Option<Options> {
    let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    if get("programme").is_empty() {
        errors.push((
            "programme".into(),
            "Enter the programme the tracker belongs to.".into(),
        ));
    }
    let as_at = NaiveDate::parse_from_str(&get("as_at"), "%Y-%m-%d").ok();
    if as_at.is_none() {
        errors.push((
            "as_at".into(),
            "Enter the board date the tracker's rows apply at.".into(),
        ));
    }
    let map: HashMap<String, Role> = match get("map").as_str() {
        "" => HashMap::new(),
        m => match serde_json::from_str(m) {
            Ok(m) => m,
            Err(e) => {
                errors.push((
                    "map".into(),
                    format!("The header map is not JSON like {{\"Our RAG\": \"rag\"}}: {e}"),
                ));
                HashMap::new()
            }
        },
    };
    Some(Options {
        programme: get("programme"),
        authority: Some(get("authority")).filter(|a| !a.is_empty()),
        as_at: as_at?,
        map,
    })
}

/// The preview: what the tracker will record, or every bad cell.
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    mut parts: Multipart,
) -> Response {
    let actor = match super::html::writer_or_signin(&caller, "/import") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let mut v = HashMap::new();
    let mut file: Option<Vec<u8>> = None;
    while let Ok(Some(field)) = parts.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        match field.bytes().await {
            Ok(bytes) if name == "file" => file = Some(bytes.to_vec()).filter(|b| !b.is_empty()),
            Ok(bytes) => {
                v.insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
            Err(e) => {
                let errors = vec![(
                    "file".to_string(),
                    format!("The upload could not be read: {e}"),
                )];
                return (
                    StatusCode::BAD_REQUEST,
                    layout("Import a tracker", &caller, &form(&caller, &errors, &v)),
                )
                    .into_response();
            }
        }
    }
    if !crate::csrf::matches(
        v.get(crate::csrf::FIELD).map(String::as_str),
        caller.1.as_deref(),
    ) {
        return super::html::csrf_refused(&caller);
    }
    let mut errors = Vec::new();
    if file.is_none() {
        errors.push((
            "file".into(),
            "Choose the tracker to import (.xlsx).".into(),
        ));
    }
    let opts = options(&v, &mut errors);
    let (Some(bytes), Some(opts), true) = (file, opts, errors.is_empty()) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            layout("Import a tracker", &caller, &form(&caller, &errors, &v)),
        )
            .into_response();
    };
    let read = {
        let trail = state.trail.read();
        tracker::read(&bytes, &opts, &trail)
    };
    let plan = match read {
        Ok(p) => p,
        Err(bad) => {
            let cells: Vec<(String, String)> =
                bad.iter().map(|c| (String::new(), c.to_string())).collect();
            let mut b = super::html::error_summary(
                Some(
                    "Nothing was imported. Correct these cells in the tracker and upload it again:",
                ),
                &cells,
            );
            b.push_str(&form(&caller, &[], &v));
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                layout("Import a tracker", &caller, &b),
            )
                .into_response();
        }
    };
    // The file waits on the server, under its hash, until it is confirmed.
    let hash = ragtrail_events::envelope::sha256(&[&bytes]).to_hex();
    let kept = state.store.write_tree(UPLOADS, |t| {
        t.insert(format!("{hash}/{actor}").as_bytes(), bytes.as_slice())?;
        Ok(())
    });
    if let Err(e) = kept {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            layout(
                "Import a tracker",
                &caller,
                &format!(
                    "<p class=\"error\">The upload could not be kept: {}</p>",
                    esc(&e.to_string())
                ),
            ),
        )
            .into_response();
    }
    let mut b = format!("<p>The tracker, for {} at the board of {}: nothing is written until you confirm.</p><ul id=\"sheets\">", esc(&opts.programme), date(opts.as_at));
    for (name, layout_name, rows) in &plan.sheets {
        let _ = write!(
            b,
            "<li>Sheet {}: {layout_name}, {rows} row(s)</li>",
            esc(name)
        );
    }
    for (name, why) in &plan.skipped {
        let _ = write!(b, "<li>Sheet {} is left out: {}</li>", esc(name), esc(why));
    }
    b.push_str("</ul>");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &plan.events {
        *kinds.entry(e.event.type_name()).or_default() += 1;
    }
    if plan.events.is_empty() {
        b.push_str(
            "<p id=\"changes\">Nothing would change: the store holds all of it already.</p>",
        );
    } else {
        b.push_str("<table id=\"changes\"><caption>What it records</caption><thead><tr><th>Kind of fact</th><th>How many</th></tr></thead><tbody>");
        for (k, n) in &kinds {
            let _ = write!(b, "<tr><td>{k}</td><td class=\"num\">{n}</td></tr>");
        }
        b.push_str("</tbody></table>");
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/import/confirm\">{}<input type=\"hidden\" name=\"hash\" value=\"{hash}\"><input type=\"hidden\" name=\"programme\" value=\"{}\"><input type=\"hidden\" name=\"as_at\" value=\"{}\"><input type=\"hidden\" name=\"authority\" value=\"{}\"><input type=\"hidden\" name=\"map\" value=\"{}\"><button class=\"primary\" id=\"confirm\">Import it</button></form>",
            csrf_field(caller.1.as_deref()),
            esc(&opts.programme),
            opts.as_at,
            esc(opts.authority.as_deref().unwrap_or("")),
            esc(v.get("map").map(String::as_str).unwrap_or("")),
        );
    }
    layout("Import a tracker: preview", &caller, &b).into_response()
}

/// Writes a previewed upload: read again against the store as it is now.
pub async fn confirm(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    let (actor, p, _) = match super::html::writer_form(&caller, "/import", &body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let v: HashMap<String, String> = ["programme", "as_at", "authority", "map", "hash"]
        .iter()
        .filter_map(|k| p.text(k).map(|x| (k.to_string(), x.to_string())))
        .collect();
    let key = format!(
        "{}/{actor}",
        v.get("hash").map(String::as_str).unwrap_or("")
    );
    let bytes = state
        .store
        .tree(UPLOADS)
        .ok()
        .and_then(|t| t.get(key.as_bytes()).ok().flatten());
    let mut errors = Vec::new();
    let opts = options(&v, &mut errors);
    let (Some(bytes), Some(opts)) = (bytes, opts) else {
        errors.push((
            "file".into(),
            "That upload is no longer waiting: upload the tracker again.".into(),
        ));
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            layout("Import a tracker", &caller, &form(&caller, &errors, &v)),
        )
            .into_response();
    };
    let read = {
        let trail = state.trail.read();
        tracker::read(&bytes, &opts, &trail)
    };
    let outcome = match read {
        Ok(plan) if plan.events.is_empty() => Ok(()),
        Ok(plan) => crate::import::write(
            &state.store,
            crate::import::Contents::Events(plan.events),
            plan.key,
            &actor,
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string()),
        Err(bad) => Err(bad
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("; ")),
    };
    let _ = state.store.write_tree(UPLOADS, |t| {
        t.remove(key.as_bytes())?;
        Ok(())
    });
    match outcome {
        Ok(()) => {
            state.shown(state.store.head().position).await;
            let programme = crate::import::id_of(&opts.programme);
            Redirect::to(&format!("/?programme={programme}&as_at={}", opts.as_at)).into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, layout("Import a tracker", &caller, &format!("<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p>Nothing was imported: {}</p></div>", esc(&e)))).into_response(),
    }
}
