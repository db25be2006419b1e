//! The served OpenAPI document, made to say exactly what the server does.
//! utoipa generates the document from the handlers and types; this pass adds
//! what their annotations cannot carry:
//! - every event type's `data` with the content rules of
//!   `ragtrail_events::validate` (lengths, no control characters, the accepted
//!   dates, money that cannot be negative, "at least one of"), and the append
//!   bodies as a `oneOf` over the event types with a discriminator on `type`;
//! - parameters typed by what the server parses (uuid, date, date-time,
//!   integer bounds) and the formats of the read views (JSON, CSV, XLSX);
//! - every status each route can answer, errors as `application/problem+json`;
//! - who may call what: reads are anonymous on a `--public-read` server.
//!
//! The checks that it tells the truth are third-party: schemathesis runs
//! every route of it against the demo (`tests/schemathesis.rs`).

use ragtrail_events::validate::{
    DATE_MAX, DATE_MIN, KEY_MAX, NAME_MAX, REASON_MAX, REFERENCE_MAX, TEXT_MAX, TITLE_MAX,
};
use ragtrail_events::Event;
use serde_json::{json, Map, Value};

/// Characters the server refuses in text: control characters but tab, CR and LF.
const CONTROL: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// Text that is not blank and holds no control characters.
fn text_pattern() -> String {
    format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$")
}

/// A date from DATE_MIN's year to DATE_MAX's, day by day valid (29 February
/// aside, which the schema leaves out rather than spell out leap years).
fn date_pattern() -> String {
    let (y0, y1) = (DATE_MIN.0, DATE_MAX.0);
    assert!(
        y0 == 1900 && y1 == 2200,
        "the year pattern below spells out 1900-2200"
    );
    let years = "(19[0-9]{2}|2[01][0-9]{2}|2200)";
    let days = "(0[1-9]|1[0-9]|2[0-8])";
    format!("^{years}-((0[1-9]|1[0-2])-{days}|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)$")
}

/// The first day of a month in the accepted range.
fn month_pattern() -> String {
    "^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-01$".into()
}

fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": text_pattern()})
}

fn nullable(mut schema: Value) -> Value {
    if let Some(Value::String(t)) = schema.get("type").cloned() {
        schema["type"] = json!([t, "null"]);
        return schema;
    }
    json!({"oneOf": [schema, {"type": "null"}]})
}

fn date() -> Value {
    json!({"type": "string", "format": "date", "pattern": date_pattern()})
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn int64(min: i64) -> Value {
    json!({"type": "integer", "format": "int64", "minimum": min, "maximum": i64::MAX})
}

fn one_of_enum(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A metric value: exactly one of a finite number, pence or yes/no.
fn value(kinds: &[&str]) -> Value {
    let branches: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let inner = match *k {
                "number" => json!({"type": "number"}),
                "pence" => int64(i64::MIN),
                _ => json!({"type": "boolean"}),
            };
            json!({"type": "object", "additionalProperties": false, "required": [k], "properties": {*k: inner}})
        })
        .collect();
    if branches.len() == 1 {
        branches.into_iter().next().unwrap_or(Value::Null)
    } else {
        json!({"oneOf": branches})
    }
}

/// An object schema: its fields, which are required, nothing else allowed.
fn object(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": p})
}

/// "At least one of these fields, not null."
fn at_least_one(mut schema: Value, fields: &[&str]) -> Value {
    let branches: Vec<Value> = fields
        .iter()
        .map(|f| json!({"required": [f], "properties": {*f: {"not": {"type": "null"}}}}))
        .collect();
    schema["anyOf"] = json!(branches);
    schema
}

/// Each event type's `data`, as the server checks it.
fn data(type_name: &str) -> Value {
    let t = |max| text(max);
    let o = |max| nullable(text(max));
    match type_name {
        "ProgrammeRegistered" => object(
            &[
                ("name", t(TITLE_MAX)),
                ("authority", t(NAME_MAX)),
                ("sponsor", o(NAME_MAX)),
            ],
            &["name", "authority"],
        ),
        "BoardMeetingHeld" => object(
            &[("board", t(NAME_MAX)), ("date", date())],
            &["board", "date"],
        ),
        "ItemRegistered" => object(
            &[
                ("programme", uuid()),
                ("parent", nullable(uuid())),
                ("kind", one_of_enum("ItemKind")),
                ("reference", t(REFERENCE_MAX)),
                ("title", t(TITLE_MAX)),
                ("owner", o(NAME_MAX)),
                ("target_date", nullable(date())),
                ("timeframe", o(NAME_MAX)),
            ],
            &["programme", "kind", "reference", "title"],
        ),
        "ItemAmended" => at_least_one(
            object(
                &[
                    ("title", o(TITLE_MAX)),
                    ("owner", o(NAME_MAX)),
                    ("description", o(TEXT_MAX)),
                    ("priority", nullable(one_of_enum("Priority"))),
                ],
                &[],
            ),
            &["title", "owner", "description", "priority"],
        ),
        "RagChanged" => object(
            &[
                ("dimension", one_of_enum("Dimension")),
                ("rag", one_of_enum("Rag")),
            ],
            &["dimension", "rag"],
        ),
        "PhaseChanged" => object(&[("phase", one_of_enum("Phase"))], &["phase"]),
        "TimelinePlanned" => object(
            &[(
                "months",
                json!({"type": "array", "minItems": 1,
                    "description": "Given in any order, kept in month order; a month given twice is kept twice, and the board shows its first entry.",
                    "items": object(&[("month", json!({"type": "string", "format": "date", "pattern": month_pattern()})), ("phase", one_of_enum("Phase"))], &["month", "phase"])}),
            )],
            &["months"],
        ),
        "TargetDateRevised" => object(&[("target_date", date())], &["target_date"]),
        "MilestoneRecorded" => object(
            &[
                ("date", date()),
                ("when", o(NAME_MAX)),
                ("activity", t(TEXT_MAX)),
                ("state", one_of_enum("MilestoneState")),
            ],
            &["date", "activity", "state"],
        ),
        "NarrativeRecorded" => object(
            &[("section", one_of_enum("Section")), ("text", t(TEXT_MAX))],
            &["section", "text"],
        ),
        "MetricDefined" => {
            // The target's kind follows the unit; a tolerance needs a target.
            let branch = |units: &[&str], kind: &str| {
                let mut s = object(
                    &[
                        ("item", nullable(uuid())),
                        ("reference", o(REFERENCE_MAX)),
                        ("name", t(TITLE_MAX)),
                        ("unit", json!({"type": "string", "enum": units})),
                        ("good_direction", one_of_enum("Direction")),
                        ("target", nullable(value(&[kind]))),
                        (
                            "tolerance_pct",
                            json!({"type": ["number", "null"], "minimum": 0, "maximum": 100}),
                        ),
                    ],
                    &["name", "unit", "good_direction"],
                );
                s["if"] = json!({"required": ["tolerance_pct"], "properties": {"tolerance_pct": {"type": "number"}}});
                s["then"] =
                    json!({"required": ["target"], "properties": {"target": {"type": "object"}}});
                s
            };
            json!({"oneOf": [
                branch(&["count", "percent", "days", "ratio"], "number"),
                branch(&["gbp"], "pence"),
                branch(&["yes_no"], "yes_no"),
            ]})
        }
        "MetricReadingRecorded" => object(
            &[
                ("period", t(NAME_MAX)),
                ("period_end", date()),
                ("value", nullable(value(&["number", "pence", "yes_no"]))),
                ("rag", nullable(one_of_enum("Rag"))),
                ("target", nullable(value(&["number", "pence", "yes_no"]))),
                ("note", o(TEXT_MAX)),
            ],
            &["period", "period_end"],
        ),
        "FinanceRecorded" => at_least_one(
            object(
                &[
                    ("budget", nullable(int64(0))),
                    ("spent", nullable(int64(0))),
                    ("savings_target", nullable(int64(i64::MIN))),
                    ("savings_achieved", nullable(int64(i64::MIN))),
                ],
                &[],
            ),
            &["budget", "spent", "savings_target", "savings_achieved"],
        ),
        "RiskRaised" => object(
            &[
                ("programme", uuid()),
                ("item", nullable(uuid())),
                ("reference", t(REFERENCE_MAX)),
                ("description", t(TEXT_MAX)),
                ("owner", o(NAME_MAX)),
                ("mitigation", o(TEXT_MAX)),
                ("rag", nullable(one_of_enum("Rag"))),
            ],
            &["programme", "reference", "description"],
        ),
        "RiskUpdated" => at_least_one(
            object(
                &[
                    ("description", o(TEXT_MAX)),
                    ("owner", o(NAME_MAX)),
                    ("mitigation", o(TEXT_MAX)),
                    ("rag", nullable(one_of_enum("Rag"))),
                ],
                &[],
            ),
            &["description", "owner", "mitigation", "rag"],
        ),
        "RiskClosed" | "IssueResolved" => object(&[("note", o(TEXT_MAX))], &[]),
        "IssueEscalated" => object(
            &[
                ("programme", uuid()),
                ("item", nullable(uuid())),
                ("reference", t(REFERENCE_MAX)),
                ("description", t(TEXT_MAX)),
                ("owner", o(NAME_MAX)),
                ("action", o(TEXT_MAX)),
            ],
            &["programme", "reference", "description"],
        ),
        "JudgementRecorded" => object(
            &[
                ("inspection", t(NAME_MAX)),
                ("area", t(TITLE_MAX)),
                ("grade", one_of_enum("Grade")),
                ("date", date()),
            ],
            &["inspection", "area", "grade", "date"],
        ),
        "Corrected" => object(
            &[
                ("target", uuid()),
                (
                    "replacement",
                    nullable(json!({"$ref": "#/components/schemas/Replacement"})),
                ),
            ],
            &["target"],
        ),
        "RoleAssigned" => object(
            &[("role", t(NAME_MAX)), ("person", t(NAME_MAX))],
            &["role", "person"],
        ),
        "ItemClosed" => object(&[("closure", one_of_enum("Closure"))], &["closure"]),
        "RiskScored" => {
            let scale = json!({"type": "integer", "minimum": 1, "maximum": 10});
            object(
                &[
                    ("likelihood", scale.clone()),
                    ("impact", scale),
                    (
                        "score",
                        nullable(json!({"type": "integer", "minimum": 1, "maximum": 100})),
                    ),
                ],
                &["likelihood", "impact"],
            )
        }
        "MoneyRecorded" => object(
            &[
                ("line", t(NAME_MAX)),
                ("pence", json!({"type": "integer", "format": "int64"})),
            ],
            &["line", "pence"],
        ),
        "TargetStated" => object(&[("target", t(NAME_MAX))], &["target"]),
        "RagDefined" => object(
            &[
                ("dimension", nullable(one_of_enum("Dimension"))),
                ("rag", one_of_enum("Rag")),
                ("label", t(NAME_MAX)),
                ("meaning", o(REASON_MAX)),
            ],
            &["rag", "label"],
        ),
        "MilestonePlanned" => object(
            &[
                ("when", t(NAME_MAX)),
                ("date", nullable(date())),
                ("activity", t(TEXT_MAX)),
                ("state", one_of_enum("MilestoneState")),
            ],
            &["when", "activity", "state"],
        ),
        "NoteRecorded" => object(
            &[
                ("kind", one_of_enum("NoteKind")),
                ("field", o(NAME_MAX)),
                ("note", t(REASON_MAX)),
            ],
            &["kind", "note"],
        ),
        "ItemRenumbered" => object(&[("reference", t(REFERENCE_MAX))], &["reference"]),
        "Attributed" => object(
            &[("person", t(NAME_MAX)), ("capacity", o(NAME_MAX))],
            &["person"],
        ),
        "ItemLinked" => object(
            &[("other", uuid()), ("relation", t(NAME_MAX))],
            &["other", "relation"],
        ),
        "SourceRecorded" => object(
            &[
                ("title", t(TITLE_MAX)),
                ("date", date()),
                ("author", o(NAME_MAX)),
                (
                    "sha256",
                    nullable(json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"})),
                ),
            ],
            &["title", "date"],
        ),
        _ => json!({"type": "object"}),
    }
}

/// The event types a client may append (a `BoardSealed` comes only from the
/// seal route, a `TextErased` only from an erasure).
fn appendable() -> impl Iterator<Item = &'static str> {
    Event::TYPE_NAMES
        .into_iter()
        .filter(|t| *t != "BoardSealed" && *t != "TextErased")
}

/// Whether an event type needs a reason (and so `reason` is required).
fn needs_reason(type_name: &str) -> bool {
    matches!(type_name, "RagChanged" | "TargetDateRevised" | "Corrected")
}

/// One event of one type to append; `keyed` adds the body's idempotency key.
fn body_of(type_name: &str, keyed: bool) -> Value {
    let reason = text(REASON_MAX);
    let mut props = vec![
        (
            "stream",
            json!({"type": "string", "format": "uuid", "description": "The programme, item, metric, risk or issue the event is about"}),
        ),
        ("type", json!({"type": "string", "enum": [type_name]})),
        ("data", {
            let data = json!({"$ref": format!("#/components/schemas/{type_name}Data")});
            // Missing or null, `data` is read as `{}`, which these types take.
            if matches!(type_name, "RiskClosed" | "IssueResolved") {
                nullable(data)
            } else {
                data
            }
        }),
        ("effective", date()),
        (
            "reason",
            if needs_reason(type_name) {
                reason
            } else {
                nullable(reason)
            },
        ),
        ("expected_version", nullable(int64(0))),
    ];
    if keyed {
        props.push(("idempotency_key", nullable(key())));
    }
    // A missing `data` is read as `{}`: required only where `{}` would not do.
    let empty_will_do = matches!(type_name, "RiskClosed" | "IssueResolved");
    let mut required = vec!["stream", "type", "effective"];
    if !empty_will_do {
        required.push("data");
    }
    if needs_reason(type_name) {
        required.push("reason");
    }
    object(&props, &required)
}

/// An idempotency key: 1 to KEY_MAX characters.
fn key() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": KEY_MAX})
}

fn discriminated(prefix: &str, keyed: bool, schemas: &mut Map<String, Value>) -> Value {
    let mut mapping = Map::new();
    let mut branches = Vec::new();
    for t in appendable() {
        let name = format!("{prefix}{t}");
        schemas.insert(name.clone(), body_of(t, keyed));
        let r = format!("#/components/schemas/{name}");
        mapping.insert(t.to_string(), json!(r));
        branches.push(json!({"$ref": r}));
    }
    json!({"oneOf": branches, "discriminator": {"propertyName": "type", "mapping": mapping}})
}

/// The event schemas: each type's data, the bodies to append, and a correction's replacement.
fn event_schemas(schemas: &mut Map<String, Value>) {
    let mut replacements = Vec::new();
    for t in appendable() {
        schemas.insert(format!("{t}Data"), data(t));
        if t != "Corrected" {
            replacements.push(object(
                &[(t, json!({"$ref": format!("#/components/schemas/{t}Data")}))],
                &[t],
            ));
        }
    }
    schemas.insert(
        "Replacement".into(),
        json!({"description": "The corrected event, as {\"Type\": data}, of the same type as the target", "oneOf": replacements}),
    );
    let one = discriminated("Append", true, schemas);
    let mut one = one;
    one["description"] =
        json!("One event to append: `type` names the event type and `data` its fields.");
    one["example"] = json!({
        "stream": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
        "type": "RagChanged",
        "data": {"dimension": "overall", "rag": "green"},
        "effective": "2024-09-10",
        "reason": "Board agreed: the new duty model is live"
    });
    schemas.insert("AppendBody".into(), one);
    let each = discriminated("InBatch", false, schemas);
    schemas.insert(
        "BatchBody".into(),
        json!({
            "type": "object", "additionalProperties": false, "required": ["events"],
            "description": "Several events appended atomically: all or none.",
            "properties": {
                "events": {"type": "array", "minItems": 1, "items": each},
                "idempotency_key": nullable(key()),
            },
            "example": {"events": [
                {"stream": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80", "type": "NarrativeRecorded",
                 "data": {"section": "progress", "text": "Duty model live"}, "effective": "2024-09-10"},
                {"stream": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80", "type": "RagChanged",
                 "data": {"dimension": "overall", "rag": "green"}, "effective": "2024-09-10",
                 "reason": "Board agreed"}
            ]}
        }),
    );
    let mut token = object(
        &[
            (
                "name",
                json!({"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9 ._@-]+$"}),
            ),
            ("role", one_of_enum("Role")),
        ],
        &["name", "role"],
    );
    token["example"] = json!({"name": "board secretary", "role": "writer"});
    schemas.insert("TokenRequest".into(), token);
}

/// A parameter's schema and example, by its name and route.
fn parameter(path: &str, name: &str) -> Option<(Value, Value)> {
    let date = json!({"type": "string", "format": "date"});
    let instant = json!({"type": "string", "format": "date-time"});
    Some(match name {
        "as_at" | "from" | "to" => (date, json!("2024-09-10")),
        "known_at" => (instant, json!("2024-09-10T18:00:00Z")),
        "programme" | "stream" => (uuid(), json!("9c5b94b1-35ad-49bb-b118-8e8fc24abf80")),
        "id" => (uuid(), json!("9c5b94b1-35ad-49bb-b118-8e8fc24abf80")),
        "after" if path == "/api/v1/board" => {
            (uuid(), json!("9c5b94b1-35ad-49bb-b118-8e8fc24abf80"))
        }
        "after" => (int64(0), json!(0)),
        "Last-Event-ID" => (
            json!({"type": "string", "pattern": "^[0-9]{1,18}$"}),
            json!("0"),
        ),
        "limit" if path == "/api/v1/board" => (
            json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": 1000, "default": 200}),
            json!(50),
        ),
        "limit" => (
            json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": 1000, "default": 100}),
            json!(100),
        ),
        "format" => (
            json!({"type": "string", "enum": ["json", "csv", "xlsx"], "default": "json"}),
            json!("csv"),
        ),
        "children" | "full" => (json!({"type": "boolean"}), json!(false)),
        "name" => (
            json!({"type": "string", "minLength": 1, "maxLength": 100}),
            json!("board secretary"),
        ),
        _ => return None,
    })
}

/// The views that answer CSV and XLSX too.
fn has_tables(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/board"
            | "/api/v1/compare"
            | "/api/v1/metrics/{id}/trend"
            | "/api/v1/items/{id}/history"
    ) || path == "/api/v1/events"
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// The statuses any route under /api/v1 can answer, besides its own.
fn common_errors(method: &str, path: &str, has_body: bool) -> Vec<(&'static str, &'static str)> {
    let mut e = vec![
        (
            "400",
            "A parameter is wrong (the detail names it), or a token was put in the URL",
        ),
        (
            "503",
            "The store cannot serve now: it is damaged, read-only or shutting down",
        ),
    ];
    if path != "/api/v1/openapi.json" {
        e.push((
            "401",
            "No token where one is needed, or an unknown or revoked token",
        ));
    }
    if has_body {
        e.push(("413", "The body is larger than 2 MB"));
        e.push(("415", "The body is not application/json"));
        e.push((
            "422",
            "The body is JSON but a field is wrong (the problem's `field` names it)",
        ));
    }
    if method == "post" || method == "delete" {
        e.push(("403", "The token's role may not do this"));
    }
    if path == "/api/v1/events" || path == "/api/v1/batches" {
        e.push((
            "404",
            "A correction names an event its stream does not hold",
        ));
        e.push(("409", "The stream is not at expected_version, the idempotency key was used for another request, or a correction contradicts the stream"));
    }
    e
}

/// Makes the generated document tell the whole truth. `public_read`: the
/// server lets anyone read, so reads need no token.
pub fn truthful(mut doc: Value, public_read: bool) -> Value {
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        event_schemas(schemas);
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            let has_body = op.get("requestBody").is_some();
            // Parameters typed as the server parses them.
            // The Idempotency-Key header is said in words, not as a parameter:
            // HTTP trims a header's surrounding spaces before the server sees
            // it, so no schema can give its length truthfully. The body's
            // `idempotency_key` is the same key, exactly described.
            let keyed = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            if keyed {
                if let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    ps.retain(|p| p["name"] != "Idempotency-Key");
                }
                let text = op["description"].as_str().unwrap_or_default().to_string();
                op["description"] = json!(format!(
                    "{text}\n\nA retry with the same idempotency key returns the first result. Give the key as the body's `idempotency_key`, or in an `Idempotency-Key` header (1 to {KEY_MAX} characters of printable ASCII; an empty header is no key). If both are given they must agree (409 otherwise)."
                ));
            }
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut() {
                    let name = p["name"].as_str().unwrap_or_default().to_string();
                    if let Some((schema, example)) = parameter(path, &name) {
                        p["schema"] = schema;
                        p["example"] = example;
                    }
                }
                if has_tables(path) && method == "get" {
                    let (schema, example) = parameter(path, "format").unwrap_or_default();
                    params.push(json!({"name": "format", "in": "query", "required": false,
                        "description": "json (the default), csv or xlsx; or ask through Accept",
                        "schema": schema, "example": example}));
                }
            }
            let responses = op["responses"].as_object_mut();
            let Some(responses) = responses else { continue };
            // Errors are problem+json, whatever utoipa wrote.
            for (code, r) in responses.iter_mut() {
                if code.starts_with('4') || code.starts_with('5') {
                    let description = r["description"]
                        .as_str()
                        .filter(|d| !d.is_empty())
                        .unwrap_or("An error")
                        .to_string();
                    *r = problem(&description);
                }
            }
            if path.starts_with("/api/v1/") {
                for (code, description) in common_errors(method, path, has_body) {
                    responses
                        .entry(code)
                        .or_insert_with(|| problem(description));
                }
            }
            if method == "get" && crate::etag::is_read_view(path) {
                responses.insert(
                    "304".into(),
                    json!({"description": "Not modified: the If-None-Match tag is still current"}),
                );
            }
            if method == "get" && has_tables(path) {
                if let Some(content) = responses
                    .get_mut("200")
                    .and_then(|r| r["content"].as_object_mut())
                {
                    content.insert("text/csv".into(), json!({"schema": {"type": "string"}}));
                    content.insert(
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
                        json!({"schema": {"type": "string", "format": "binary"}}),
                    );
                }
            }
            // Who may call it.
            let open = path == "/healthz" || path == "/api/v1/openapi.json";
            if open {
                op["security"] = json!([]);
            } else if public_read && method == "get" && path != "/api/v1/tokens" {
                op["security"] = json!([{}, {"bearer": []}]);
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str) -> impl Fn(&str) -> bool {
        let re = regex::Regex::new(pattern).unwrap();
        move |s: &str| re.is_match(s)
    }

    #[test]
    fn the_date_pattern_takes_the_dates_the_server_takes() {
        let re = matches(&date_pattern());
        // Every day of three centuries: the pattern agrees with chrono and the range,
        // but for 29 February, which it leaves out.
        let mut d = chrono::NaiveDate::from_ymd_opt(1899, 12, 1).unwrap();
        while d < chrono::NaiveDate::from_ymd_opt(2201, 2, 1).unwrap() {
            let s = d.format("%Y-%m-%d").to_string();
            let served = ragtrail_events::validate::date("d", d).is_ok();
            let leap_day = s.ends_with("-02-29");
            assert_eq!(re(&s), served && !leap_day, "{s}");
            d = d.succ_opt().unwrap();
        }
        for bad in [
            "2024-02-30",
            "2024-04-31",
            "2024-13-01",
            "24-09-10",
            "2024-9-10",
            "2024-09-10x",
        ] {
            assert!(!re(bad), "{bad}");
        }
    }

    #[test]
    fn the_text_pattern_agrees_with_the_server() {
        let re = matches(&text_pattern());
        for s in [
            "a",
            " a ",
            "Line one\nline two",
            "tab\there",
            "£3,561 – curly ’",
            "\u{a0}x",
        ] {
            assert!(re(s), "{s:?}");
            assert!(
                ragtrail_events::validate::text("f", s, 100, true).is_ok(),
                "{s:?}"
            );
        }
        for s in [
            "",
            " ",
            "\n\t",
            "a\u{0}b",
            "bell\u{7}",
            "c1\u{85}x",
            "del\u{7f}",
        ] {
            assert!(!re(s), "{s:?}");
            assert!(
                ragtrail_events::validate::text("f", s, 100, true).is_err(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn every_appendable_type_has_its_data_and_a_body() {
        let mut schemas = Map::new();
        event_schemas(&mut schemas);
        for t in appendable() {
            assert!(schemas.contains_key(&format!("{t}Data")), "{t}");
            let body = &schemas[&format!("Append{t}")];
            let required: Vec<&str> = body["required"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(required.contains(&"reason"), needs_reason(t), "{t}");
            assert_eq!(
                needs_reason(t),
                ragtrail_events::Event::from_type_and_data(t, json!({}))
                    .map_or(needs_reason(t), |e| e.needs_reason())
            );
        }
        assert!(!schemas.contains_key("AppendBoardSealed"));
        assert_eq!(
            schemas["AppendBody"]["discriminator"]["propertyName"],
            "type"
        );
    }
}
