//! A programme and its outline, made in the browser from an empty store:
//! `/programmes/new` starts a programme; `/programmes/{id}/outline` adds its
//! items (priorities → actions → deliverables), amends, renumbers (reorders)
//! and closes them, and registers its board meetings, each of which links to
//! its record page. Each form writes one event; errors follow GOV.UK's
//! pattern (a summary at the top linked to each field, and each message
//! beside its field) and nothing is written while any remains.

use super::html::{csrf_field, date, esc, layout};
use crate::caller::Caller;
use crate::params::Params;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ragtrail_events::{Append, AppendError, Closure, Event, ItemKind, NewEvent};
use ragtrail_projections::view::ItemView;
use ragtrail_projections::BoardQuery;
use std::fmt::Write;
use uuid::Uuid;

/// Errors of a posted form: field name → message.
type Errors = Vec<(String, String)>;

fn summary(errors: &Errors) -> String {
    super::html::error_summary(None, errors)
}

/// A labelled text input, with its error beside it.
fn input(id: &str, name: &str, label: &str, kind: &str, value: &str, errors: &Errors) -> String {
    let err = errors.iter().find(|(f, _)| f == id).map(|(_, m)| m);
    format!(
        "<label for=\"{id}\">{label}</label>{}<input type=\"{kind}\" name=\"{name}\" id=\"{id}\" value=\"{}\"{}>",
        err.map(|m| format!("<span class=\"error\" id=\"{id}-error\">{}</span>", esc(m)))
            .unwrap_or_default(),
        esc(value),
        if err.is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\"")
        } else {
            String::new()
        }
    )
}

fn new_page(caller: &Caller, form: &Params, errors: &Errors) -> String {
    let v = |n: &str| form.text(n).unwrap_or_default().to_string();
    format!(
        "{}<form method=\"post\" action=\"/programmes\" class=\"card\" novalidate>{}{}{}{}{}<button class=\"primary\" id=\"create\">Start the programme</button></form>",
        summary(errors),
        csrf_field(caller.1.as_deref()),
        input("name", "name", "Programme name", "text", &v("name"), errors),
        input("authority", "authority", "Local authority", "text", &v("authority"), errors),
        input("sponsor", "sponsor", "Sponsor (optional)", "text", &v("sponsor"), errors),
        input("starts", "starts", "Its records apply from (a date; empty: today)", "date", &v("starts"), errors),
    )
}

pub async fn new(State(_state): State<AppState>, caller: Caller) -> Response {
    if let Err(r) = super::html::writer_or_signin(&caller, "/programmes/new") {
        return *r;
    }
    let form = Params::from_form(None);
    layout(
        "Start a programme",
        &caller,
        &new_page(&caller, &form, &Vec::new()),
    )
    .into_response()
}

/// Appends one event for `actor`; an invalid field comes back as `field`'s error.
async fn write_one(state: &AppState, actor: &str, e: NewEvent, field: &str) -> Result<u64, Errors> {
    match state
        .append(Append {
            actor: actor.to_string(),
            idempotency_key: None,
            events: vec![e],
        })
        .await
    {
        Ok(r) => Ok(r.last().map_or(0, |r| r.position)),
        Err(AppendError::Invalid { invalid, .. }) => {
            let f = invalid
                .field
                .rsplit('.')
                .next()
                .unwrap_or(field)
                .to_string();
            Err(vec![(f, invalid.message)])
        }
        Err(e) => Err(vec![(field.to_string(), e.to_string())]),
    }
}

fn posted(caller: &Caller, here: &str, body: &Bytes) -> Result<(String, Params), Box<Response>> {
    super::html::writer_form(caller, here, body).map(|(actor, form, _)| (actor, form))
}

pub async fn create(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    let (actor, form) = match posted(&caller, "/programmes/new", &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let v = |n: &str| form.text(n).unwrap_or_default().trim().to_string();
    let mut errors = Errors::new();
    if v("name").is_empty() {
        errors.push(("name".into(), "Enter the programme's name.".into()));
    }
    if v("authority").is_empty() {
        errors.push(("authority".into(), "Enter the local authority.".into()));
    }
    let starts = match v("starts").as_str() {
        "" => chrono::Utc::now().date_naive(),
        s => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            errors.push((
                "starts".into(),
                "Enter the date its records apply from, or leave it empty for today.".into(),
            ));
            chrono::Utc::now().date_naive()
        }),
    };
    if errors.is_empty() {
        let id = Uuid::now_v7();
        let sponsor = Some(v("sponsor")).filter(|s| !s.is_empty());
        let e = NewEvent {
            stream: id,
            event: Event::ProgrammeRegistered {
                name: v("name"),
                authority: v("authority"),
                sponsor,
            },
            effective: starts,
            reason: None,
            expected_version: None,
        };
        match write_one(&state, &actor, e, "name").await {
            Ok(_) => return Redirect::to(&format!("/programmes/{id}/outline")).into_response(),
            Err(e) => errors = e,
        }
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        layout(
            "Start a programme",
            &caller,
            &new_page(&caller, &form, &errors),
        ),
    )
        .into_response()
}

fn kinds() -> [(ItemKind, &'static str); 8] {
    [
        (ItemKind::Priority, "priority"),
        (ItemKind::Outcome, "outcome"),
        (ItemKind::Standard, "standard"),
        (ItemKind::Project, "project"),
        (ItemKind::Workstream, "workstream"),
        (ItemKind::Action, "action"),
        (ItemKind::Deliverable, "deliverable"),
        (ItemKind::ImprovementNeed, "improvement_need"),
    ]
}

fn outline_page(
    state: &AppState,
    caller: &Caller,
    programme: Uuid,
    form: &Params,
    errors: &Errors,
) -> Option<String> {
    let trail = state.trail.read();
    let q = BoardQuery {
        as_at: NaiveDate::MAX,
        known_at: None,
        programme: Some(programme),
    };
    let p = ragtrail_projections::programme::at(&trail, programme, &q)?;
    let items: Vec<ItemView> = ragtrail_projections::board::at(&trail, &q).items;
    drop(trail);
    let v = |n: &str| form.text(n).unwrap_or_default().to_string();
    let csrf = csrf_field(caller.1.as_deref());
    let mut b = summary(errors);
    let _ = write!(
        b,
        "<p>{} ({}). <a href=\"/?programme={programme}\">See its board</a>.</p>",
        esc(&p.name),
        esc(&p.authority)
    );
    b.push_str("<h2>Board meetings</h2>");
    if p.boards.is_empty() {
        b.push_str("<p>No board meeting is registered yet.</p>");
    } else {
        b.push_str("<ul id=\"meetings\">");
        let meetings = ragtrail_projections::programme::meetings(&state.trail.read(), None);
        for m in p.boards.iter() {
            let id = meetings
                .iter()
                .find(|x| x.programme == programme && x.date == m.date && x.board == m.board)
                .map(|x| x.id);
            let _ = write!(
                b,
                "<li>{} on {}{}</li>",
                esc(&m.board),
                date(m.date),
                id.map(|id| format!(
                    " — <a href=\"/boards/{id}/record\">record this board cycle</a>"
                ))
                .unwrap_or_default()
            );
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/programmes/{programme}/outline\" class=\"card\" novalidate>{csrf}<input type=\"hidden\" name=\"intent\" value=\"board\">{}{}<button id=\"add-board\">Register the board meeting</button></form>",
        input("board-name", "board", "Board meeting", "text", &v("board"), errors),
        input("board-date", "date", "Its date", "date", &v("date"), errors),
    );
    b.push_str("<h2>Outline</h2>");
    if items.is_empty() {
        b.push_str("<p>No items yet: add the first below.</p>");
    }
    for i in &items {
        let k = i.id;
        let closed = i
            .closed
            .as_ref()
            .map(|c| format!(" <span class=\"muted\">({})</span>", c.value))
            .unwrap_or_default();
        let _ = write!(
            b,
            "<details class=\"card\" id=\"item-{k}\"><summary>{} {} — {}{closed}</summary>",
            esc(&i.reference),
            esc(&i.title),
            i.kind
        );
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/programmes/{programme}/outline\" novalidate>{csrf}<input type=\"hidden\" name=\"intent\" value=\"amend\"><input type=\"hidden\" name=\"item\" value=\"{k}\">{}{}{}<button>Save the changes</button></form>",
            input(&format!("title-{k}"), "title", "Title", "text", &i.title, errors),
            input(&format!("owner-{k}"), "owner", "Owner", "text", i.owner.as_deref().unwrap_or(""), errors),
            input(&format!("reference-{k}"), "reference", "Number (renumber to reorder)", "text", &i.reference, errors),
        );
        if i.closed.is_none() {
            let _ = write!(
                b,
                "<form method=\"post\" action=\"/programmes/{programme}/outline\">{csrf}<input type=\"hidden\" name=\"intent\" value=\"close\"><input type=\"hidden\" name=\"item\" value=\"{k}\"><label for=\"closure-{k}\">Close it as</label><select name=\"closure\" id=\"closure-{k}\"><option value=\"completed\">completed</option><option value=\"withdrawn\">withdrawn</option></select><button>Close the item</button></form>"
            );
        }
        b.push_str("</details>");
    }
    let mut kind =
        String::from("<label for=\"kind\">Kind</label><select name=\"kind\" id=\"kind\">");
    for (_, k) in kinds() {
        let sel = super::html::selected(v("kind") == k);
        let _ = write!(
            kind,
            "<option value=\"{k}\"{sel}>{}</option>",
            k.replace('_', " ")
        );
    }
    kind.push_str("</select>");
    let mut parent = String::from("<label for=\"parent\">Under</label><select name=\"parent\" id=\"parent\"><option value=\"\">the programme itself</option>");
    for i in &items {
        let sel = super::html::selected(v("parent") == i.id.to_string());
        let _ = write!(
            parent,
            "<option value=\"{}\"{sel}>{} {}</option>",
            i.id,
            esc(&i.reference),
            esc(&i.title)
        );
    }
    parent.push_str("</select>");
    let _ = write!(
        b,
        "<h2>Add an item</h2><form method=\"post\" action=\"/programmes/{programme}/outline\" class=\"card\" novalidate>{csrf}<input type=\"hidden\" name=\"intent\" value=\"add\">{}{}{kind}{parent}{}{}{}<button class=\"primary\" id=\"add-item\">Add the item</button></form>",
        input("reference", "reference", "Number (e.g. 1, 1.2)", "text", &v("reference"), errors),
        input("title", "title", "Title", "text", &v("title"), errors),
        input("owner", "owner", "Owner (optional)", "text", &v("owner"), errors),
        input("target_date", "target_date", "Target date (optional)", "date", &v("target_date"), errors),
        input("from", "from", "It applies from (empty: the programme's first board, or today)", "date", &v("from"), errors),
    );
    Some(b)
}

pub async fn outline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let here = format!("/programmes/{id}/outline");
    if let Err(r) = super::html::writer_or_signin(&caller, &here) {
        return *r;
    }
    let Some(body) = Uuid::parse_str(&id)
        .ok()
        .and_then(|p| outline_page(&state, &caller, p, &Params::from_form(None), &Vec::new()))
    else {
        return (
            StatusCode::NOT_FOUND,
            layout("Not found", &caller, "<p>There is no such programme.</p>"),
        )
            .into_response();
    };
    layout("Programme outline", &caller, &body).into_response()
}

pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let here = format!("/programmes/{id}/outline");
    let (actor, form) = match posted(&caller, &here, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Ok(programme) = Uuid::parse_str(&id) else {
        return (
            StatusCode::NOT_FOUND,
            layout("Not found", &caller, "<p>There is no such programme.</p>"),
        )
            .into_response();
    };
    let v = |n: &str| form.text(n).unwrap_or_default().trim().to_string();
    let today = chrono::Utc::now().date_naive();
    let date_of = |n: &str| NaiveDate::parse_from_str(&v(n), "%Y-%m-%d");
    let mut errors = Errors::new();
    let item = Uuid::parse_str(&v("item")).ok();
    let one = |stream: Uuid, event: Event, effective: NaiveDate| NewEvent {
        stream,
        event,
        effective,
        reason: None,
        expected_version: None,
    };
    let mut events: Vec<(NewEvent, &str)> = Vec::new();
    match v("intent").as_str() {
        "board" => {
            if v("board").is_empty() {
                errors.push(("board-name".into(), "Name the board meeting.".into()));
            }
            match date_of("date") {
                Ok(d) if errors.is_empty() => events.push((
                    one(
                        programme,
                        Event::BoardMeetingHeld {
                            board: v("board"),
                            date: d,
                        },
                        d,
                    ),
                    "board-name",
                )),
                Ok(_) => {}
                Err(_) => errors.push(("board-date".into(), "Enter the board's date.".into())),
            }
        }
        "add" => {
            if v("reference").is_empty() {
                errors.push((
                    "reference".into(),
                    "Enter the item's number, e.g. 1 or 1.2.".into(),
                ));
            }
            if v("title").is_empty() {
                errors.push(("title".into(), "Enter the item's title.".into()));
            }
            let kind = kinds()
                .into_iter()
                .find(|(_, k)| *k == v("kind"))
                .map(|(k, _)| k);
            if kind.is_none() {
                errors.push(("kind".into(), "Choose the kind of item.".into()));
            }
            // From the programme's first board (or today), unless a date is given.
            let first_board = {
                let q = BoardQuery {
                    as_at: NaiveDate::MAX,
                    known_at: None,
                    programme: Some(programme),
                };
                ragtrail_projections::programme::at(&state.trail.read(), programme, &q)
                    .and_then(|p| p.boards.iter().map(|b| b.date).min())
            };
            let from = match v("from").as_str() {
                "" => first_board.unwrap_or(today),
                _ => date_of("from").unwrap_or_else(|_| {
                    errors.push((
                        "from".into(),
                        "Enter the date the item applies from, or leave it empty.".into(),
                    ));
                    today
                }),
            };
            let target = match v("target_date").as_str() {
                "" => None,
                _ => match date_of("target_date") {
                    Ok(d) => Some(d),
                    Err(_) => {
                        errors.push((
                            "target_date".into(),
                            "Enter the target date as a date, or leave it empty.".into(),
                        ));
                        None
                    }
                },
            };
            if let (Some(kind), true) = (kind, errors.is_empty()) {
                events.push((
                    one(
                        Uuid::now_v7(),
                        Event::ItemRegistered {
                            programme,
                            parent: Uuid::parse_str(&v("parent")).ok(),
                            kind,
                            reference: v("reference"),
                            title: v("title"),
                            owner: Some(v("owner")).filter(|o| !o.is_empty()),
                            target_date: target,
                            timeframe: None,
                        },
                        from,
                    ),
                    "title",
                ));
            }
        }
        "amend" | "close" => {
            let q = BoardQuery {
                as_at: NaiveDate::MAX,
                known_at: None,
                programme: Some(programme),
            };
            let now = item.and_then(|i| ragtrail_projections::item::at(&state.trail.read(), i, &q));
            match (now, v("intent").as_str()) {
                (None, _) => errors.push((
                    "error-summary".into(),
                    "That item is not in this programme.".into(),
                )),
                (Some(i), "close") => {
                    let closure = if v("closure") == "withdrawn" {
                        Closure::Withdrawn
                    } else {
                        Closure::Completed
                    };
                    events.push((
                        one(i.id, Event::ItemClosed { closure }, today),
                        "error-summary",
                    ));
                }
                (Some(i), _) => {
                    let k = i.id;
                    if v("title").is_empty() {
                        errors.push((
                            format!("title-{k}"),
                            format!("{}: the title cannot be empty.", i.reference),
                        ));
                    }
                    if v("reference").is_empty() {
                        errors.push((
                            format!("reference-{k}"),
                            format!("{}: the number cannot be empty.", i.reference),
                        ));
                    }
                    if errors.is_empty() {
                        let owner = Some(v("owner"))
                            .filter(|o| !o.is_empty() && i.owner.as_deref() != Some(o.as_str()));
                        let title = Some(v("title")).filter(|t| *t != i.title);
                        if title.is_some() || owner.is_some() {
                            events.push((
                                one(
                                    k,
                                    Event::ItemAmended {
                                        title,
                                        owner,
                                        description: None,
                                        priority: None,
                                    },
                                    today,
                                ),
                                "error-summary",
                            ));
                        }
                        if v("reference") != i.reference {
                            events.push((
                                one(
                                    k,
                                    Event::ItemRenumbered {
                                        reference: v("reference"),
                                    },
                                    today,
                                ),
                                "error-summary",
                            ));
                        }
                    }
                }
            }
        }
        _ => errors.push((
            "error-summary".into(),
            "That form is not one this page knows.".into(),
        )),
    }
    if errors.is_empty() && !events.is_empty() {
        let field = events[0].1;
        let batch: Vec<NewEvent> = events.into_iter().map(|(e, _)| e).collect();
        match state
            .append(Append {
                actor,
                idempotency_key: None,
                events: batch,
            })
            .await
        {
            Ok(_) => return Redirect::to(&here).into_response(),
            Err(AppendError::Invalid { invalid, .. }) => {
                errors.push((field.to_string(), invalid.message))
            }
            Err(e) => errors.push(("error-summary".into(), e.to_string())),
        }
    } else if errors.is_empty() {
        return Redirect::to(&here).into_response();
    }
    let body = outline_page(&state, &caller, programme, &form, &errors).unwrap_or_default();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        layout("Programme outline", &caller, &body),
    )
        .into_response()
}
