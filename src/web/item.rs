//! `/items/{id}`: one item's status and its full audit timeline — every change
//! with who, when recorded, effective date and reason, corrections linked to
//! what they correct — and, for writers, forms to record a RAG change (reason
//! required) or a metric reading, with errors shown beside the field.

use super::html::{chip, date, esc, gate, layout, measure, params};
use crate::auth::Role;
use crate::caller::Caller;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use ragtrail_events::{Append, AppendError, Dimension, Event, FieldError, NewEvent};
use ragtrail_projections::view::ItemView;
use ragtrail_projections::BoardQuery;
use std::collections::HashMap;
use std::fmt::Write;
use uuid::Uuid;

/// What a form sent back, and what was wrong with it: each error by the
/// form's field name.
#[derive(Default)]
struct Feedback {
    form: &'static str,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

/// An item's page: its title and body.
struct ItemPage {
    title: String,
    body: String,
}

/// Why an item's page cannot be shown.
struct NoPage {
    status: StatusCode,
    message: String,
}

impl Feedback {
    /// Marks the field an error names as wrong.
    fn reject(&mut self, e: FieldError) {
        self.errors.insert(e.field, e.message);
    }

    fn value(&self, form: &str, name: &str) -> String {
        if self.form == form {
            esc(self.values.get(name).map(String::as_str).unwrap_or(""))
        } else {
            String::new()
        }
    }
    fn error(&self, form: &str, name: &str) -> String {
        match (self.form == form, self.errors.get(name)) {
            (true, Some(e)) => format!(
                "<span class=\"error\" id=\"{form}-{name}-error\" role=\"alert\">{}</span>",
                esc(e)
            ),
            _ => String::new(),
        }
    }
    fn invalid(&self, form: &str, name: &str) -> &'static str {
        if self.form == form && self.errors.contains_key(name) {
            " class=\"field-error\" aria-invalid=\"true\""
        } else {
            ""
        }
    }
}

fn summary(e: &Event) -> String {
    let d = e.data_json();
    let text = match e {
        Event::RagChanged { dimension, rag } => format!("{dimension} RAG → {}", chip(Some(*rag))),
        Event::NarrativeRecorded { section, text } => {
            let t: String = text.chars().take(200).collect();
            format!(
                "{section}: {}{}",
                esc(&t),
                if text.chars().count() > 200 {
                    "…"
                } else {
                    ""
                }
            )
        }
        Event::MetricReadingRecorded {
            period, value, rag, ..
        } => format!("{}: {} {}", esc(period), measure(*value), chip(*rag)),
        Event::TargetDateRevised { target_date } => format!("target date → {}", date(*target_date)),
        // The whole plan, every month of it.
        Event::TimelinePlanned { months } => {
            let m: Vec<String> = months
                .iter()
                .map(|m| format!("{}: {}", m.month.format("%b %Y"), m.phase))
                .collect();
            format!("plan: {}", esc(&m.join(", ")))
        }
        // Money in pounds, as people read it (stored in pence).
        Event::FinanceRecorded {
            budget,
            spent,
            savings_target,
            savings_achieved,
        } => {
            let lines: Vec<String> = [
                ("budget", budget),
                ("spent", spent),
                ("savings target", savings_target),
                ("savings achieved", savings_achieved),
            ]
            .into_iter()
            .filter_map(|(name, p)| {
                p.map(|p| format!("{name}: {}", ragtrail_events::Value::Pence(p)))
            })
            .collect();
            esc(&lines.join("; "))
        }
        Event::ItemRegistered {
            title, reference, ..
        } => format!("registered {} {}", esc(reference), esc(title)),
        _ => {
            // Every field given, as "field: value".
            let fields: Vec<String> = d
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let v: String = v.chars().take(160).collect();
                    format!("{}: {}", esc(k), esc(&v))
                })
                .collect();
            fields.join("; ")
        }
    };
    text
}

/// The item's milestones, money, links and risks, as the report gives them.
fn facts(item: &ItemView) -> String {
    let mut b = String::new();
    if !item.milestones.is_empty() {
        b.push_str("<h2>Milestones</h2><div class=\"scroll\"><table id=\"milestones\"><thead><tr><th>When</th><th>Activity</th><th>State</th></tr></thead><tbody>");
        for m in &item.milestones {
            let when = match (&m.when, m.date) {
                (Some(w), Some(d)) => {
                    format!("{} <span class=\"muted\">({})</span>", esc(w), date(d))
                }
                (Some(w), None) => {
                    format!("{} <span class=\"muted\">(no date given)</span>", esc(w))
                }
                (None, Some(d)) => date(d),
                (None, None) => String::new(),
            };
            let late = if m.overdue {
                " <strong class=\"bad\">overdue</strong>"
            } else {
                ""
            };
            let _ = write!(
                b,
                "<tr><td>{when}</td><td>{}</td><td>{:?}{late}</td></tr>",
                esc(&m.activity),
                m.state
            );
        }
        b.push_str("</tbody></table></div>");
    }
    let pounds = |p: i64| esc(&ragtrail_events::Value::Pence(p).to_string());
    let f = &item.finance;
    let mut money: Vec<(String, i64)> = [
        ("Budget", f.budget),
        ("Spent", f.spent),
        ("Savings target", f.savings_target),
        ("Savings achieved", f.savings_achieved),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
    .collect();
    money.extend(item.money_lines.iter().map(|(n, v)| (n.clone(), v.value)));
    if !money.is_empty() {
        b.push_str("<h2>Money</h2><dl id=\"money\">");
        for (n, v) in money {
            let _ = write!(b, "<dt>{}</dt><dd>{}</dd>", esc(&n), pounds(v));
        }
        b.push_str("</dl>");
    }
    if !item.links.is_empty() {
        b.push_str("<h2>Linked items</h2><ul id=\"links\">");
        for l in &item.links {
            let _ = write!(
                b,
                "<li>{} <a href=\"/items/{}\">{}</a>{}</li>",
                esc(&l.relation),
                l.item,
                esc(&l.reference),
                if l.inward { " (recorded there)" } else { "" }
            );
        }
        b.push_str("</ul>");
    }
    if !item.risks.is_empty() {
        b.push_str("<h2>Risks</h2><ul id=\"risks\">");
        for r in &item.risks {
            let score = match (r.likelihood, r.impact) {
                (Some(l), Some(i)) => format!(
                    " — likelihood {l}, impact {i}{}",
                    r.score.map(|s| format!(", score {s}")).unwrap_or_default()
                ),
                _ => String::new(),
            };
            let _ = write!(
                b,
                "<li>{} {}{score}{}{}</li>",
                esc(&r.reference),
                esc(&r.description),
                r.action
                    .as_deref()
                    .map(|a| format!(". Mitigation: {}", esc(a)))
                    .unwrap_or_default(),
                if r.open { "" } else { " (closed)" }
            );
        }
        b.push_str("</ul>");
    }
    b
}

/// The form that corrects one entry of the timeline: withdraw it, or (for a
/// RAG or a narrative) replace its value, always with a reason.
fn correction_form(
    caller: &Caller,
    item: Uuid,
    e: &ragtrail_projections::history::HistoryEntry,
    fb: &Feedback,
) -> String {
    let this = fb.form == "correct" && fb.value("correct", "target") == e.id.to_string();
    let k = e.id;
    let replace = match e.type_name {
        "RagChanged" => {
            let mut s = format!("<label for=\"c-{k}-rag\">New RAG</label><select name=\"rag\" id=\"c-{k}-rag\">");
            for r in ["red", "amber", "green", "blue", "unrated"] {
                let _ = write!(s, "<option value=\"{r}\">{r}</option>");
            }
            s.push_str("</select>");
            s
        }
        "NarrativeRecorded" => format!(
            "<label for=\"c-{k}-text\">Corrected text</label><textarea name=\"text\" id=\"c-{k}-text\" rows=\"3\">{}</textarea>",
            e.data["text"].as_str().map(esc).unwrap_or_default()
        ),
        _ => String::new(),
    };
    let choice = if replace.is_empty() {
        "<input type=\"hidden\" name=\"action\" value=\"withdraw\"><p>It will be withdrawn: the views no longer show it, the timeline keeps it.</p>".to_string()
    } else {
        format!("<fieldset><legend>Correct it by</legend><label><input type=\"radio\" name=\"action\" value=\"replace\" checked> replacing its value</label><label><input type=\"radio\" name=\"action\" value=\"withdraw\"> withdrawing it</label></fieldset>{replace}")
    };
    let error = if this {
        fb.error("correct", "reason")
    } else {
        String::new()
    };
    format!(
        "<details{open}><summary>Correct this entry</summary><form method=\"post\" action=\"/items/{item}/correct\" class=\"record\">{csrf}<input type=\"hidden\" name=\"target\" value=\"{k}\">{choice}<label for=\"correct-reason-{k}\">Reason (required)</label><textarea name=\"reason\" id=\"correct-reason-{k}\" rows=\"2\"{inv}>{reason}</textarea>{error}<button>Record the correction</button></form></details>",
        open = if this { " open" } else { "" },
        csrf = super::html::csrf_field(caller.1.as_deref()),
        inv = if this { fb.invalid("correct", "reason") } else { "" },
        reason = if this { fb.value("correct", "reason") } else { String::new() },
    )
}

fn render(state: &AppState, caller: &Caller, id: Uuid, fb: &Feedback) -> Result<ItemPage, NoPage> {
    let today = Utc::now().date_naive();
    let (item, children, history, programme_view): (ItemView, Vec<(Uuid, String, String)>, _, _) = {
        let trail = state.trail.read();
        let q = BoardQuery {
            as_at: NaiveDate::MAX,
            known_at: None,
            programme: None,
        };
        let item = ragtrail_projections::item::at(&trail, id, &q).ok_or_else(|| NoPage {
            status: StatusCode::NOT_FOUND,
            message: format!("No item {id}."),
        })?;
        let children = trail
            .children_of(id)
            .into_iter()
            .filter_map(|c| {
                ragtrail_projections::item::at(&trail, c, &q).map(|i| (c, i.reference, i.title))
            })
            .collect();
        let programme_view = ragtrail_projections::programme::at(&trail, item.programme, &q);
        let p = params(None);
        let _ = p;
        let history =
            crate::item_log::read(&state.store, &trail, id, false, None).map_err(|e| NoPage {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: e.to_string(),
            })?;
        (item, children, history, programme_view)
    };
    let mut b = String::new();
    // GOV.UK's pattern: what is wrong, at the top, each linked to its field.
    let linked: Vec<(String, String)> = fb
        .errors
        .iter()
        .map(|(field, message)| {
            let anchor = match (fb.form, field.as_str()) {
                (_, "form") => String::new(),
                ("correct", f) => format!("correct-{f}-{}", fb.value("correct", "target")),
                (form, f) => format!("{form}-{f}"),
            };
            (anchor, message.clone())
        })
        .collect();
    b.push_str(&super::html::error_summary(None, &linked));
    let _ = write!(b, "<div class=\"card\"><p class=\"muted\">{} {} of <a href=\"/?programme={}\">the board</a>{}</p>", item.kind, esc(&item.reference), item.programme, item.parent.map(|p| format!(" · part of <a href=\"/items/{p}\">its parent</a>")).unwrap_or_default());
    b.push_str("<p>");
    for d in Dimension::ALL {
        if let Some(s) = item.rag.get(&d) {
            let _ = write!(
                b,
                "{d}: {} <span class=\"muted\">({})</span><br>",
                chip(Some(s.value)),
                super::html::set_by(&s.set)
            );
        }
    }
    b.push_str("</p>");
    if let Some(o) = &item.owner {
        let _ = write!(b, "<p>Owner: {}</p>", esc(o));
    }
    if let Some(t) = &item.target_date {
        let overdue = if item.closed.is_none() && t.value < today {
            format!(
                " <strong class=\"bad\">Overdue by {} days</strong>",
                (today - t.value).num_days()
            )
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<p>Target date: {}{}{overdue}</p>",
            date(t.value),
            super::html::slippage(item.slippage_days)
        );
    }
    if let Some(w) = &item.within_slippage {
        let _ = write!(
            b,
            "<p>Within this item, <a href=\"/items/{}\">{}</a> has slipped <span class=\"bad\">{} days</span>.</p>",
            w.item,
            esc(&w.reference),
            w.days
        );
    }
    if let Some(d) = &item.description {
        let _ = write!(b, "<p class=\"narrative\">{}</p>", esc(d));
    }
    b.push_str("</div>");
    if let Some(p) = &programme_view {
        b.push_str(&super::html::programme_notes(p));
    }
    b.push_str(&super::html::notes(&item.notes));
    b.push_str(&facts(&item));
    if !children.is_empty() {
        b.push_str("<h2>Within this item</h2><ul>");
        for (c, r, t) in &children {
            let _ = write!(
                b,
                "<li><a href=\"/items/{c}\">{} {}</a></li>",
                esc(r),
                esc(t)
            );
        }
        b.push_str("</ul>");
    }
    let writer = caller.0.as_ref().is_some_and(|i| i.role >= Role::Writer);
    if writer {
        b.push_str("<h2>Record a change</h2><div class=\"card\">");
        let _ = write!(b, "<form class=\"record\" id=\"rag-form\" method=\"post\" action=\"/items/{id}/rag\" novalidate>{}", super::html::csrf_field(caller.1.as_deref()));
        b.push_str("<label>Dimension<select name=\"dimension\">");
        for d in Dimension::ALL {
            let v = d.to_string();
            let sel = super::html::selected(fb.value("rag", "dimension") == v);
            let _ = write!(b, "<option value=\"{v}\"{sel}>{v}</option>");
        }
        b.push_str("</select></label><label>RAG<select name=\"rag\">");
        for r in ["red", "amber", "green", "blue", "unrated"] {
            let sel = super::html::selected(fb.value("rag", "rag") == r);
            let _ = write!(b, "<option value=\"{r}\"{sel}>{r}</option>");
        }
        let eff = if fb.form == "rag" {
            fb.value("rag", "effective")
        } else {
            today.to_string()
        };
        let _ = write!(b, "</select></label><label>Effective date<input type=\"date\" name=\"effective\" value=\"{eff}\"{}>{}</label>", fb.invalid("rag", "effective"), fb.error("rag", "effective"));
        let _ = write!(b, "<label class=\"wide\">Reason (required)<textarea name=\"reason\" id=\"rag-reason\" rows=\"2\"{} aria-describedby=\"rag-reason-error\">{}</textarea>{}</label>", fb.invalid("rag", "reason"), fb.value("rag", "reason"), fb.error("rag", "reason"));
        if let Some(e) = fb.errors.get("form").filter(|_| fb.form == "rag") {
            let _ = write!(b, "<p class=\"error wide\" role=\"alert\">{}</p>", esc(e));
        }
        b.push_str("<div class=\"wide\"><button class=\"primary\" id=\"rag-submit\">Record RAG change</button></div></form></div>");
        if !item.metrics.is_empty() {
            b.push_str("<div class=\"card\">");
            let _ = write!(b, "<form class=\"record\" id=\"reading-form\" method=\"post\" action=\"/items/{id}/reading\" novalidate>{}<label>Metric<select name=\"metric\">", super::html::csrf_field(caller.1.as_deref()));
            for m in &item.metrics {
                let _ = write!(b, "<option value=\"{}\">{}</option>", m.id, esc(&m.name));
            }
            let _ = write!(b, "</select></label><label>Period<input name=\"period\" value=\"{}\" placeholder=\"e.g. 2024-25 Q2\"{}>{}</label>", fb.value("reading", "period"), fb.invalid("reading", "period"), fb.error("reading", "period"));
            let _ = write!(b, "<label>Period end<input type=\"date\" name=\"period_end\" value=\"{}\"{}>{}</label>", fb.value("reading", "period_end"), fb.invalid("reading", "period_end"), fb.error("reading", "period_end"));
            let _ = write!(
                b,
                "<label>Value<input name=\"value\" inputmode=\"decimal\" value=\"{}\"{}>{}</label>",
                fb.value("reading", "value"),
                fb.invalid("reading", "value"),
                fb.error("reading", "value")
            );
            b.push_str("<label>RAG (if the report gives one)<select name=\"rag\"><option value=\"\">none</option><option>red</option><option>amber</option><option>green</option><option>blue</option></select></label>");
            let _ = write!(
                b,
                "<label class=\"wide\">Note<input name=\"note\" value=\"{}\"></label>",
                fb.value("reading", "note")
            );
            if let Some(e) = fb.errors.get("form").filter(|_| fb.form == "reading") {
                let _ = write!(b, "<p class=\"error wide\" role=\"alert\">{}</p>", esc(e));
            }
            b.push_str("<div class=\"wide\"><button class=\"primary\">Record reading</button></div></form></div>");
        }
    }
    b.push_str("<h2>Audit timeline</h2><div class=\"scroll\"><table id=\"timeline\"><thead><tr><th>#</th><th>Recorded</th><th>Effective</th><th>By</th><th>What</th><th>Why</th></tr></thead><tbody>");
    for e in history.iter().rev() {
        let ev = Event::from_type_and_data(e.type_name, e.data.clone()).ok();
        let what = ev.as_ref().map(summary).unwrap_or_else(|| esc(e.type_name));
        let mut links = String::new();
        if let Some(t) = e.corrects {
            let _ = write!(
                links,
                "<div>corrects <a href=\"#e-{t}\">an earlier entry</a></div>"
            );
        }
        for c in &e.corrected_by {
            let _ = write!(
                links,
                "<div class=\"bad\">corrected by <a href=\"#e-{c}\">a later entry</a></div>"
            );
        }
        if writer
            && e.corrects.is_none()
            && e.type_name != "BoardSealed"
            && e.type_name != "TextErased"
        {
            links.push_str(&correction_form(caller, id, e, fb));
        }
        let _ = write!(
            b,
            "<tr id=\"e-{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><strong>{}</strong><br>{what}{links}</td><td>{}</td></tr>",
            e.id,
            e.position,
            e.recorded_at.format("%Y-%m-%d %H:%M:%S UTC"),
            date(e.effective),
            esc(&e.actor),
            esc(e.type_name),
            e.reason.as_deref().map(esc).unwrap_or_default()
        );
    }
    b.push_str("</tbody></table></div>");
    Ok(ItemPage {
        title: item.title,
        body: b,
    })
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    if let Some(r) = gate(&state, &caller, uri.path()) {
        return r;
    }
    show(&state, &caller, &id, &Feedback::default(), StatusCode::OK)
}

fn show(
    state: &AppState,
    caller: &Caller,
    id: &str,
    fb: &Feedback,
    status: StatusCode,
) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return (
            StatusCode::NOT_FOUND,
            layout("Not found", caller, "<p>That is not an item id.</p>"),
        )
            .into_response();
    };
    match render(state, caller, id, fb) {
        Ok(page) => (status, layout(&page.title, caller, &page.body)).into_response(),
        Err(no) => (
            no.status,
            layout("Not found", caller, &format!("<p>{}</p>", esc(&no.message))),
        )
            .into_response(),
    }
}

fn form_values(body: &Bytes) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    let p = crate::params::Params::from_form(Some(&text));
    [
        crate::csrf::FIELD,
        "dimension",
        "rag",
        "effective",
        "reason",
        "metric",
        "period",
        "period_end",
        "value",
        "note",
        "target",
        "action",
        "text",
    ]
    .iter()
    .filter_map(|k| p.text(k).map(|v| (k.to_string(), v.to_string())))
    .collect()
}

/// An event's field as the form names it: the form's fields are the event's
/// `data` fields, without the `data.` of the event's path.
fn on_form(e: FieldError) -> FieldError {
    match e.field.strip_prefix("data.") {
        Some(f) => FieldError::new(f, e.message),
        None => e,
    }
}

/// Appends one event from a form; on invalid content, the form field to fix.
async fn record(state: &AppState, actor: &str, e: NewEvent) -> Result<u64, FieldError> {
    let appended = state
        .append(Append {
            actor: actor.to_string(),
            idempotency_key: None,
            events: vec![e],
        })
        .await;
    match appended {
        Ok(r) => Ok(r.last().map_or(0, |r| r.position)),
        Err(AppendError::Invalid { invalid, .. }) => Err(on_form(invalid)),
        Err(other) => Err(FieldError::new("form", other.to_string())),
    }
}

/// The start of every form post: the writer's name (or a redirect to sign
/// in, or 403 for a reader), and the posted values as the form's feedback.
fn posted(
    caller: &Caller,
    here: &str,
    form: &'static str,
    body: &Bytes,
) -> Result<(String, Feedback), Box<Response>> {
    let actor = super::html::writer_or_signin(caller, here)?;
    let values = form_values(body);
    let posted = values.get(crate::csrf::FIELD).map(String::as_str);
    if !crate::csrf::matches(posted, caller.1.as_deref()) {
        return Err(Box::new(super::html::csrf_refused(caller)));
    }
    Ok((
        actor,
        Feedback {
            form,
            values,
            errors: HashMap::new(),
        },
    ))
}

pub async fn record_rag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/items/{id}");
    let (actor, mut fb) = match posted(&caller, &here, "rag", &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Ok(stream) = Uuid::parse_str(&id) else {
        return show(&state, &caller, &id, &fb, StatusCode::NOT_FOUND);
    };
    let values = fb.values.clone();
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let event = Event::from_type_and_data(
        "RagChanged",
        serde_json::json!({"dimension": get("dimension"), "rag": get("rag")}),
    );
    let effective = NaiveDate::parse_from_str(&get("effective"), "%Y-%m-%d");
    match (&event, &effective) {
        (Err(inv), _) => fb.reject(on_form(inv.clone())),
        (_, Err(_)) => {
            fb.reject(FieldError::new(
                "effective",
                "Give the date the status applies to.",
            ));
        }
        _ => {}
    }
    if get("reason").trim().is_empty() {
        fb.reject(FieldError::new(
            "reason",
            "A reason is required: say why the status changed.",
        ));
    }
    if let (Ok(event), Ok(effective), true) = (event, effective, fb.errors.is_empty()) {
        let e = NewEvent {
            stream,
            event,
            effective,
            reason: Some(get("reason")),
            expected_version: None,
        };
        match record(&state, &actor, e).await {
            Ok(p) => return Redirect::to(&format!("{here}?recorded={p}#timeline")).into_response(),
            Err(e) => fb.reject(e),
        }
    }
    show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Corrects an entry of the timeline with a `Corrected` event and a reason.
pub async fn record_correction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/items/{id}");
    let (actor, mut fb) = match posted(&caller, &here, "correct", &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Ok(stream) = Uuid::parse_str(&id) else {
        return show(&state, &caller, &id, &fb, StatusCode::NOT_FOUND);
    };
    let values = fb.values.clone();
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let original = Uuid::parse_str(&get("target")).ok().and_then(|t| {
        let trail = state.trail.read();
        crate::item_log::read(&state.store, &trail, stream, false, None)
            .ok()?
            .into_iter()
            .find(|e| e.id == t)
    });
    let Some(original) = original else {
        fb.reject(FieldError::new(
            "form",
            "That entry is not on this item's timeline.",
        ));
        return show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if get("reason").trim().is_empty() {
        fb.reject(FieldError::new(
            "reason",
            "A reason is required: say why the entry is corrected.",
        ));
        return show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let replacement = match (get("action").as_str(), original.type_name) {
        ("replace", "RagChanged") => {
            Some(serde_json::json!({"dimension": original.data["dimension"], "rag": get("rag")}))
        }
        ("replace", "NarrativeRecorded") => {
            Some(serde_json::json!({"section": original.data["section"], "text": get("text")}))
        }
        _ => None,
    };
    let replacement = match replacement.map(|d| Event::from_type_and_data(original.type_name, d)) {
        None => None,
        Some(Ok(e)) => Some(Box::new(e)),
        Some(Err(inv)) => {
            fb.reject(on_form(inv));
            return show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let e = NewEvent {
        stream,
        event: Event::Corrected {
            target: original.id,
            replacement,
        },
        effective: original.effective,
        reason: Some(get("reason")),
        expected_version: None,
    };
    match record(&state, &actor, e).await {
        Ok(p) => Redirect::to(&format!("{here}?recorded={p}#timeline")).into_response(),
        Err(e) => {
            fb.reject(e);
            show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn record_reading(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/items/{id}");
    let (actor, mut fb) = match posted(&caller, &here, "reading", &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let values = fb.values.clone();
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let metric = Uuid::parse_str(&get("metric"));
    if metric.is_err() {
        fb.reject(FieldError::new("form", "Choose a metric."));
    }
    if get("period").trim().is_empty() {
        fb.errors
            .insert("period".into(), "Name the period, e.g. 2024-25 Q2.".into());
    }
    let end = NaiveDate::parse_from_str(&get("period_end"), "%Y-%m-%d");
    if end.is_err() {
        fb.reject(FieldError::new(
            "period_end",
            "Give the last day of the period.",
        ));
    }
    let raw = get("value");
    let value = if raw.trim().is_empty() {
        Ok(None)
    } else {
        raw.trim()
            .trim_end_matches('%')
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| Some(serde_json::json!({"number": v})))
            .ok_or(())
    };
    if value.is_err() {
        fb.reject(FieldError::new(
            "value",
            "Give a number (or leave empty for a missing value).",
        ));
    }
    if let (Ok(metric), Ok(end), Ok(value), true) = (metric, end, value, fb.errors.is_empty()) {
        let mut data =
            serde_json::json!({"period": get("period"), "period_end": end, "value": value});
        if !get("rag").is_empty() {
            data["rag"] = serde_json::json!(get("rag"));
        }
        if !get("note").trim().is_empty() {
            data["note"] = serde_json::json!(get("note"));
        }
        match Event::from_type_and_data("MetricReadingRecorded", data) {
            Ok(event) => {
                let e = NewEvent {
                    stream: metric,
                    event,
                    effective: end,
                    reason: None,
                    expected_version: None,
                };
                match record(&state, &actor, e).await {
                    Ok(_) => {
                        return Redirect::to(&format!("/trends?metric={metric}")).into_response()
                    }
                    Err(e) => fb.reject(e),
                }
            }
            Err(inv) => fb.reject(on_form(inv)),
        }
    }
    show(&state, &caller, &id, &fb, StatusCode::UNPROCESSABLE_ENTITY)
}
