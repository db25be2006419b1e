//! The pieces every page is made of: escaping, RAG chips, dates and values
//! as people read them, the layout with its navigation and styles, the sign-in
//! gate, and the CSRF field of a form.

use crate::caller::Caller;
use crate::params::Params;
use crate::state::AppState;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ragtrail_events::{Rag, Value as Measure};
use std::fmt::Write;

/// 403 for a form posted without this session's token (from another site, or a page opened before a restart).
pub fn csrf_refused(caller: &Caller) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::FORBIDDEN,
        layout("Form expired", caller, "<p>This form could not be accepted: it did not come from a page of this server, or the page is older than the server's last start. Nothing was recorded. Go back, reload the page and try again.</p>"),
    )
        .into_response()
}

/// The hidden field that carries a form's CSRF token (see [`crate::csrf`]).
pub fn csrf_field(token: Option<&str>) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        crate::csrf::FIELD,
        esc(token.unwrap_or_default())
    )
}

/// HTML-escapes text. A value an erasure redacted is shown as people read
/// it, "[erased]" where the text was, without its marker's hash.
pub fn esc(s: &str) -> String {
    let s = ragtrail_events::erasure::shown(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How far a target date moved from the first one, in words: "(slipped 30
/// days)", "(brought forward 14 days)", or nothing when it has not moved.
pub fn slippage(days: Option<i64>) -> String {
    match days {
        Some(d) if d > 0 => format!(" <span class=\"bad\">(slipped {d} days)</span>"),
        Some(d) if d < 0 => format!(
            " <span class=\"muted\">(brought forward {} days)</span>",
            -d
        ),
        _ => String::new(),
    }
}

/// What a programme's report says of itself: where the facts come from, and
/// what its RAG statuses mean in its own words (shown beside the chips).
pub fn programme_notes(p: &ragtrail_projections::view::ProgrammeView) -> String {
    let mut out = notes(&p.notes);
    if let Some(s) = &p.source {
        out.push_str(&format!(
            "<p class=\"muted\" id=\"source\">Source: {}, {}{}{}. Recorded by {} on {}.</p>",
            esc(&s.title),
            date(s.date),
            s.author
                .as_deref()
                .map(|a| format!(", by {}", esc(a)))
                .unwrap_or_default(),
            s.sha256
                .as_deref()
                .map(|h| format!(" (file SHA-256 <span class=\"hash\">{}</span>)", esc(h)))
                .unwrap_or_default(),
            esc(&s.set.actor),
            s.set.recorded_at.format("%-d %b %Y")
        ));
    }
    if !p.rag_definitions.is_empty() {
        out.push_str("<dl class=\"rag-definitions\" id=\"rag-definitions\" aria-label=\"What each RAG means in this programme\">");
        for d in &p.rag_definitions {
            out.push_str(&format!(
                "<dt>{}{} {}</dt><dd>{}</dd>",
                d.dimension.map(|x| format!("{x}: ")).unwrap_or_default(),
                chip(Some(d.rag)),
                esc(&d.label),
                d.meaning.as_deref().map(esc).unwrap_or_default()
            ));
        }
        out.push_str("</dl>");
    }
    out
}

/// A RAG chip: colour and the word.
pub fn chip(rag: Option<Rag>) -> String {
    match rag {
        None => "<span class=\"rag rag-none\">–</span>".into(),
        Some(r) => {
            let word = r.word();
            format!(
                "<span class=\"rag rag-{}\">{word}</span>",
                word.to_lowercase()
            )
        }
    }
}

/// A metric value as people read it, or "no value".
pub fn measure(v: Option<Measure>) -> String {
    v.map_or_else(|| "no value".into(), |v| v.to_string())
}

pub fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// "set by {actor} on {date}: {reason}", escaped, for a value's stamp.
pub fn set_by(s: &ragtrail_projections::view::Stamp) -> String {
    // Who set it, as the report says, beside the account that recorded it.
    let who = match &s.attributed_to {
        Some(a) => format!(
            "{}{}, recorded by {}",
            esc(&a.person),
            a.capacity
                .as_deref()
                .map(|c| format!(" ({})", esc(c)))
                .unwrap_or_default(),
            esc(&s.actor)
        ),
        None => esc(&s.actor),
    };
    format!(
        "set by {who} on {}{}",
        date(s.effective),
        s.reason
            .as_deref()
            .map(|r| format!(": {}", esc(r)))
            .unwrap_or_default()
    )
}

/// Notes on a record, each marked as what it is: "Assumed" or "The report contradicts itself".
pub fn notes(notes: &[ragtrail_projections::view::NoteView]) -> String {
    let mut out = String::new();
    for n in notes {
        let kind = match n.kind {
            ragtrail_events::NoteKind::Assumption => "Assumed",
            ragtrail_events::NoteKind::Contradiction => "The report contradicts itself",
        };
        out.push_str(&format!(
            "<p class=\"note note-{}\"><strong>{kind}{}:</strong> {}</p>",
            n.kind,
            n.field
                .as_deref()
                .map(|f| format!(" ({})", esc(f)))
                .unwrap_or_default(),
            esc(&n.note)
        ));
    }
    out
}

/// Query parameters of a page.
pub fn params(q: Option<&str>) -> Params {
    Params::from_form(q)
}

/// Where people who may not read are sent instead: the sign-in page.
pub fn gate(state: &AppState, caller: &Caller, here: &str) -> Option<Response> {
    match caller.may_read(state) {
        Ok(()) => None,
        Err(_) => Some(Redirect::to(&format!("/signin?next={}", urlencode(here))).into_response()),
    }
}

/// The `selected` attribute of an `<option>`, when `chosen`.
pub fn selected(chosen: bool) -> &'static str {
    if chosen {
        " selected"
    } else {
        ""
    }
}

/// A page that people who may read see: sign-in first if they may not, then
/// `render`'s body in the layout, or its error with 400.
pub fn page(
    state: &AppState,
    caller: &Caller,
    here: &str,
    title: &str,
    render: impl FnOnce() -> Result<String, String>,
) -> Response {
    if let Some(r) = gate(state, caller, here) {
        return r;
    }
    match render() {
        Ok(body) => layout(title, caller, &body).into_response(),
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            layout(
                title,
                caller,
                &format!("<p class=\"error\">{}</p>", esc(&e)),
            ),
        )
            .into_response(),
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A page: the layout around `body`.
pub fn layout(title: &str, caller: &Caller, body: &str) -> Html<String> {
    let who = match &caller.0 {
        Some(id) => format!(
            "<span class=\"who\">{} ({})</span><form method=\"post\" action=\"/signout\" class=\"inline\">{}<button>Sign out</button></form>",
            esc(&id.name),
            id.role.name(),
            csrf_field(caller.1.as_deref())
        ),
        None => "<a href=\"/signin\">Sign in</a>".into(),
    };
    let mut html = String::with_capacity(body.len() + 4096);
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – ragtrail</title>
<style>{CSS}</style>
</head>
<body>
<header>
<nav aria-label="Main">
<a class="brand" href="/">ragtrail</a>
<a href="/">Board</a>
<a href="/compare">Movement</a>
<a href="/slippage">Slippage</a>
<a href="/trends">Trends</a>
<a href="/audit">Audit</a>
<span class="spacer"></span>
{who}
</nav>
</header>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>"#,
        title = esc(title),
    );
    Html(html)
}

const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --bg: #ffffff; --band: #f4f4f4; --link: #0b4f9c; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { background: #1f2a44; }
nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; padding: .6rem 1rem; max-width: 1240px; margin: 0 auto; }
nav a, nav .who { color: #ffffff; text-decoration: none; }
nav a:hover, nav a:focus { text-decoration: underline; }
nav .brand { font-weight: 700; margin-right: .5rem; }
nav .spacer { flex: 1; }
nav button { background: transparent; color: #fff; border: 1px solid #fff; border-radius: 3px; padding: .1rem .5rem; cursor: pointer; }
main { max-width: 1240px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 .6rem; }
a { color: var(--link); }
.muted { color: var(--muted); }
form.controls { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; background: var(--band); padding: .8rem; border-radius: 4px; margin-bottom: 1rem; }
form.controls label, form.record label { display: flex; flex-direction: column; font-size: .9rem; gap: .2rem; min-width: 0; max-width: 100%; }
select, input, textarea, button { font: inherit; }
select, input, textarea { padding: .3rem .4rem; border: 1px solid #767676; border-radius: 3px; max-width: 100%; }
button.primary { background: #1f2a44; color: #fff; border: 0; border-radius: 3px; padding: .45rem .9rem; cursor: pointer; }
.inline { display: inline; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
.rag { display: inline-block; min-width: 4.2rem; text-align: center; padding: .05rem .4rem; border-radius: 3px; font-weight: 600; font-size: .85rem; border: 1px solid transparent; }
.rag-red { background: #b71c1c; color: #ffffff; }
.rag-amber { background: #ffd54f; color: #1a1a1a; border-color: #b38f00; }
.rag-green { background: #1b5e20; color: #ffffff; }
.rag-blue { background: #0d47a1; color: #ffffff; }
.rag-unrated, .rag-none { background: #e6e6e6; color: #1a1a1a; border-color: #9e9e9e; }
.move { font-weight: 700; white-space: nowrap; }
.move.up { color: #1b5e20; } .move.down { color: #b71c1c; } .move.same { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .5rem 0 1rem; }
.counts span { white-space: nowrap; }
.narrative { max-width: 38rem; white-space: pre-line; font-size: .9rem; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.error { color: #b71c1c; font-weight: 600; }
.field-error { border-color: #b71c1c; outline: 2px solid #b71c1c; }
.ok { color: #1b5e20; font-weight: 600; }
.bad { color: #b71c1c; font-weight: 600; }
.card { border: 1px solid var(--line); border-radius: 4px; padding: .8rem 1rem; margin: 0 0 1rem; }
form.record { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .6rem 1rem; align-items: start; }
form.record .wide { grid-column: 1 / -1; }
svg { max-width: 100%; height: auto; background: #ffffff; }
svg text { font: 12px system-ui, Arial, sans-serif; fill: #1a1a1a; }
code, .hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; word-break: break-all; }
tr.exception td { background: #fdecea; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  th, td { padding: .35rem .3rem; }
  .hide-narrow { display: none; }
  h1 { font-size: 1.3rem; }
}
@media print {
  header, form.controls, form.record, nav, .no-print { display: none !important; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  tr { break-inside: avoid; }
  .rag { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// A writer's name, or the answer for anyone else: sign in first, or 403 for a reader.
pub fn writer_or_signin(caller: &Caller, here: &str) -> Result<String, Box<Response>> {
    match &caller.0 {
        Some(id) if id.role >= crate::auth::Role::Writer => Ok(id.name.clone()),
        Some(_) => Err(Box::new((axum::http::StatusCode::FORBIDDEN, layout("Not allowed", caller, "<p>Your token can read but not record changes; ask an admin for a writer token.</p>")).into_response())),
        None => Err(Box::new(Redirect::to(&format!("/signin?next={}", urlencode(here))).into_response())),
    }
}

/// The start of a writer's form post: the writer's name, the posted fields
/// and the body as text (or the answer: sign in, 403, or a refused CSRF token).
pub fn writer_form(
    caller: &Caller,
    here: &str,
    body: &[u8],
) -> Result<(String, Params, String), Box<Response>> {
    let actor = writer_or_signin(caller, here)?;
    let text = String::from_utf8_lossy(body).into_owned();
    let form = Params::from_form(Some(&text));
    if !crate::csrf::matches(form.text(crate::csrf::FIELD), caller.1.as_deref()) {
        return Err(Box::new(csrf_refused(caller)));
    }
    Ok((actor, form, text))
}

/// GOV.UK's error summary: what is wrong, at the top of the page, each
/// message linked to its field (`#id`; an empty id links nowhere).
pub fn error_summary(intro: Option<&str>, errors: &[(String, String)]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut b = String::from("<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"error-summary\"><h2>There is a problem</h2>");
    if let Some(i) = intro {
        b.push_str(&format!("<p>{}</p>", esc(i)));
    }
    b.push_str("<ul>");
    for (id, message) in errors {
        if id.is_empty() {
            b.push_str(&format!("<li>{}</li>", esc(message)));
        } else {
            b.push_str(&format!("<li><a href=\"#{id}\">{}</a></li>", esc(message)));
        }
    }
    b.push_str("</ul></div>");
    b
}
