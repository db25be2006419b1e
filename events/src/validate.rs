//! Content rules for events, checked before anything is written. Every error
//! names the field that broke a rule and says what was expected.

use crate::event::{Event, Value};
pub use crate::field::FieldError;
use crate::vocab::Unit;
use chrono::{Datelike, NaiveDate};

/// Longest name, owner, sponsor, board, role or inspection area, in characters.
pub const NAME_MAX: usize = 200;
/// Longest report reference ("4.7", "R01"), in characters.
pub const REFERENCE_MAX: usize = 50;
/// Longest item or metric title, in characters.
pub const TITLE_MAX: usize = 500;
/// Longest narrative, description, note or activity, in characters.
pub const TEXT_MAX: usize = 20_000;
/// Longest reason, in characters.
pub const REASON_MAX: usize = 4_000;
/// Longest idempotency key, in characters.
pub const KEY_MAX: usize = 200;
/// Earliest and latest dates accepted anywhere (catches typed years like 20244).
pub const DATE_MIN: (i32, u32, u32) = (1900, 1, 1);
pub const DATE_MAX: (i32, u32, u32) = (2200, 12, 31);

type Check = Result<(), FieldError>;

/// Checks text: not blank when required, at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Check {
    if required && value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(FieldError::new(
            field,
            format!("is {n} characters long; the limit is {max}"),
        ));
    }
    if value.contains(crate::erasure::MARKER_PREFIX) {
        return Err(FieldError::new(
            field,
            format!(
                "contains {:?}, which only an erasure writes",
                crate::erasure::MARKER_PREFIX
            ),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "contains control characters; only text, tabs and line breaks are allowed",
        ));
    }
    Ok(())
}

fn opt_text(field: &str, value: &Option<String>, max: usize) -> Check {
    match value {
        Some(v) => text(field, v, max, true),
        None => Ok(()),
    }
}

/// Checks a date is in the accepted range.
pub fn date(field: &str, d: NaiveDate) -> Check {
    let (y0, m0, d0) = DATE_MIN;
    let (y1, m1, d1) = DATE_MAX;
    let lo = NaiveDate::from_ymd_opt(y0, m0, d0);
    let hi = NaiveDate::from_ymd_opt(y1, m1, d1);
    match (lo, hi) {
        (Some(lo), Some(hi)) if d >= lo && d <= hi => Ok(()),
        _ => Err(FieldError::new(
            field,
            format!("{d} is outside the accepted range {y0}-01-01 to {y1}-12-31"),
        )),
    }
}

fn value(field: &str, v: &Value) -> Check {
    match v {
        Value::Number(n) if !n.is_finite() => Err(FieldError::new(
            field,
            "must be a finite number (not NaN or infinity)",
        )),
        _ => Ok(()),
    }
}

fn money(field: &str, pence: Option<i64>, may_be_negative: bool) -> Check {
    match pence {
        Some(p) if p < 0 && !may_be_negative => Err(FieldError::new(
            field,
            format!("is {p} pence; money spent or budgeted cannot be negative"),
        )),
        _ => Ok(()),
    }
}

fn value_matches_unit(field: &str, v: &Value, unit: Unit) -> Check {
    let ok = matches!(
        (v, unit),
        (Value::Pence(_), Unit::Gbp)
            | (Value::YesNo(_), Unit::YesNo)
            | (
                Value::Number(_),
                Unit::Count | Unit::Percent | Unit::Days | Unit::Ratio
            )
    );
    if ok {
        Ok(())
    } else {
        let want = match unit {
            Unit::Gbp => "{\"pence\": <integer>}",
            Unit::YesNo => "{\"yes_no\": true|false}",
            _ => "{\"number\": <finite number>}",
        };
        Err(FieldError::new(
            field,
            format!("does not fit the unit {unit}; expected {want}"),
        ))
    }
}

/// Checks an event's payload. Field names are given as `data.<field>`.
pub fn event(e: &Event) -> Check {
    event_at(e, "data")
}

fn event_at(e: &Event, at: &str) -> Check {
    let f = |name: &str| format!("{at}.{name}");
    match e {
        Event::ProgrammeRegistered {
            name,
            authority,
            sponsor,
        } => {
            text(&f("name"), name, TITLE_MAX, true)?;
            text(&f("authority"), authority, NAME_MAX, true)?;
            opt_text(&f("sponsor"), sponsor, NAME_MAX)
        }
        Event::BoardMeetingHeld { board, date: d } => {
            text(&f("board"), board, NAME_MAX, true)?;
            date(&f("date"), *d)
        }
        Event::ItemRegistered {
            reference,
            title,
            owner,
            target_date,
            timeframe,
            ..
        } => {
            text(&f("reference"), reference, REFERENCE_MAX, true)?;
            text(&f("title"), title, TITLE_MAX, true)?;
            opt_text(&f("owner"), owner, NAME_MAX)?;
            opt_text(&f("timeframe"), timeframe, NAME_MAX)?;
            match target_date {
                Some(d) => date(&f("target_date"), *d),
                None => Ok(()),
            }
        }
        Event::ItemAmended {
            title,
            owner,
            description,
            priority,
        } => {
            if title.is_none() && owner.is_none() && description.is_none() && priority.is_none() {
                return Err(FieldError::new(
                    at,
                    "amends nothing; give at least one of title, owner, description, priority",
                ));
            }
            opt_text(&f("title"), title, TITLE_MAX)?;
            opt_text(&f("owner"), owner, NAME_MAX)?;
            opt_text(&f("description"), description, TEXT_MAX)
        }
        Event::RagChanged { .. } | Event::PhaseChanged { .. } | Event::ItemClosed { .. } => Ok(()),
        Event::TimelinePlanned { months } => {
            if months.is_empty() {
                return Err(FieldError::new(f("months"), "must list at least one month"));
            }
            let mut last: Option<NaiveDate> = None;
            for (i, m) in months.iter().enumerate() {
                let field = format!("{at}.months[{i}].month");
                date(&field, m.month)?;
                if m.month.day() != 1 {
                    return Err(FieldError::new(
                        field,
                        format!("{} is not the first day of a month", m.month),
                    ));
                }
                // A month given twice is kept as given (the board shows its first entry).
                if last.is_some_and(|l| l > m.month) {
                    return Err(FieldError::new(field, "months must be in ascending order"));
                }
                last = Some(m.month);
            }
            Ok(())
        }
        Event::TargetDateRevised { target_date } => date(&f("target_date"), *target_date),
        Event::MilestoneRecorded {
            date: d,
            when,
            activity,
            ..
        } => {
            date(&f("date"), *d)?;
            opt_text(&f("when"), when, NAME_MAX)?;
            text(&f("activity"), activity, TEXT_MAX, true)
        }
        Event::NarrativeRecorded { text: t, .. } => text(&f("text"), t, TEXT_MAX, true),
        Event::MetricDefined {
            reference,
            name,
            unit,
            target,
            tolerance_pct,
            ..
        } => {
            opt_text(&f("reference"), reference, REFERENCE_MAX)?;
            text(&f("name"), name, TITLE_MAX, true)?;
            if let Some(t) = target {
                value(&f("target"), t)?;
                value_matches_unit(&f("target"), t, *unit)?;
            }
            match tolerance_pct {
                Some(t) if !t.is_finite() || *t < 0.0 || *t > 100.0 => Err(FieldError::new(
                    f("tolerance_pct"),
                    "must be a percentage from 0 to 100",
                )),
                Some(_) if target.is_none() => Err(FieldError::new(
                    f("tolerance_pct"),
                    "needs a target to be a tolerance of",
                )),
                _ => Ok(()),
            }
        }
        Event::MetricReadingRecorded {
            period,
            period_end,
            value: v,
            target,
            note,
            ..
        } => {
            text(&f("period"), period, NAME_MAX, true)?;
            date(&f("period_end"), *period_end)?;
            if let Some(v) = v {
                value(&f("value"), v)?;
            }
            if let Some(t) = target {
                value(&f("target"), t)?;
            }
            opt_text(&f("note"), note, TEXT_MAX)
        }
        Event::FinanceRecorded {
            budget,
            spent,
            savings_target,
            savings_achieved,
        } => {
            if budget.is_none()
                && spent.is_none()
                && savings_target.is_none()
                && savings_achieved.is_none()
            {
                return Err(FieldError::new(
                    at,
                    "records nothing; give at least one of budget, spent, savings_target, savings_achieved",
                ));
            }
            money(&f("budget"), *budget, false)?;
            money(&f("spent"), *spent, false)?;
            money(&f("savings_target"), *savings_target, true)?;
            money(&f("savings_achieved"), *savings_achieved, true)
        }
        Event::RiskRaised {
            reference,
            description,
            owner,
            mitigation,
            ..
        } => {
            text(&f("reference"), reference, REFERENCE_MAX, true)?;
            text(&f("description"), description, TEXT_MAX, true)?;
            opt_text(&f("owner"), owner, NAME_MAX)?;
            opt_text(&f("mitigation"), mitigation, TEXT_MAX)
        }
        Event::RiskUpdated {
            description,
            owner,
            mitigation,
            rag,
        } => {
            if description.is_none() && owner.is_none() && mitigation.is_none() && rag.is_none() {
                return Err(FieldError::new(
                    at,
                    "updates nothing; give at least one of description, owner, mitigation, rag",
                ));
            }
            opt_text(&f("description"), description, TEXT_MAX)?;
            opt_text(&f("owner"), owner, NAME_MAX)?;
            opt_text(&f("mitigation"), mitigation, TEXT_MAX)
        }
        Event::RiskClosed { note } | Event::IssueResolved { note } => {
            opt_text(&f("note"), note, TEXT_MAX)
        }
        Event::IssueEscalated {
            reference,
            description,
            owner,
            action,
            ..
        } => {
            text(&f("reference"), reference, REFERENCE_MAX, true)?;
            text(&f("description"), description, TEXT_MAX, true)?;
            opt_text(&f("owner"), owner, NAME_MAX)?;
            opt_text(&f("action"), action, TEXT_MAX)
        }
        Event::JudgementRecorded {
            inspection,
            area,
            date: d,
            ..
        } => {
            text(&f("inspection"), inspection, NAME_MAX, true)?;
            text(&f("area"), area, TITLE_MAX, true)?;
            date(&f("date"), *d)
        }
        Event::Corrected { replacement, .. } => match replacement.as_deref() {
            Some(Event::Corrected { .. }) => Err(FieldError::new(
                f("replacement"),
                "cannot itself be a correction; correct the original event again instead",
            )),
            Some(r) => event_at(r, &f("replacement")),
            None => Ok(()),
        },
        Event::BoardSealed {
            as_at,
            snapshot,
            head,
            ..
        } => {
            date(&f("as_at"), *as_at)?;
            for (name, h) in [("snapshot", snapshot), ("head", head)] {
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(FieldError::new(
                        f(name),
                        "must be a SHA-256 digest: 64 hexadecimal characters",
                    ));
                }
            }
            Ok(())
        }
        Event::RoleAssigned { role, person } => {
            text(&f("role"), role, NAME_MAX, true)?;
            text(&f("person"), person, NAME_MAX, true)
        }
        Event::RiskScored {
            likelihood,
            impact,
            score,
        } => {
            for (name, v) in [("likelihood", likelihood), ("impact", impact)] {
                if !(1..=10).contains(v) {
                    return Err(FieldError::new(
                        f(name),
                        "must be 1 to 10, as the report's scale gives it",
                    ));
                }
            }
            if score.is_some_and(|s| s == 0 || s > 100) {
                return Err(FieldError::new(f("score"), "must be 1 to 100"));
            }
            Ok(())
        }
        Event::MoneyRecorded { line, .. } => text(&f("line"), line, NAME_MAX, true),
        Event::TargetStated { target } => text(&f("target"), target, NAME_MAX, true),
        Event::RagDefined { label, meaning, .. } => {
            text(&f("label"), label, NAME_MAX, true)?;
            opt_text(&f("meaning"), meaning, REASON_MAX)
        }
        Event::MilestonePlanned {
            when,
            date: d,
            activity,
            ..
        } => {
            text(&f("when"), when, NAME_MAX, true)?;
            if let Some(d) = d {
                date(&f("date"), *d)?;
            }
            text(&f("activity"), activity, TEXT_MAX, true)
        }
        Event::ItemLinked { relation, .. } => text(&f("relation"), relation, NAME_MAX, true),
        Event::SourceRecorded {
            title,
            date: d,
            author,
            sha256,
        } => {
            text(&f("title"), title, TITLE_MAX, true)?;
            date(&f("date"), *d)?;
            opt_text(&f("author"), author, NAME_MAX)?;
            match sha256 {
                Some(h) if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Err(FieldError::new(
                        f("sha256"),
                        "must be a SHA-256 digest: 64 hexadecimal characters",
                    ))
                }
                _ => Ok(()),
            }
        }
        Event::NoteRecorded { field, note, .. } => {
            opt_text(&f("field"), field, NAME_MAX)?;
            text(&f("note"), note, REASON_MAX, true)
        }
        Event::ItemRenumbered { reference } => {
            text(&f("reference"), reference, REFERENCE_MAX, true)
        }
        Event::Attributed { person, capacity } => {
            text(&f("person"), person, NAME_MAX, true)?;
            opt_text(&f("capacity"), capacity, NAME_MAX)
        }
        Event::TextErased {
            legal_basis,
            salt,
            text_hashes,
            events,
        } => {
            text(&f("legal_basis"), legal_basis, REASON_MAX, true)?;
            let hex64 = |name: String, h: &str| {
                if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(())
                } else {
                    Err(FieldError::new(
                        name,
                        "must be a SHA-256 digest: 64 hexadecimal characters",
                    ))
                }
            };
            hex64(f("salt"), salt)?;
            if text_hashes.is_empty() || events.is_empty() {
                return Err(FieldError::new(
                    f("events"),
                    "an erasure names at least one text and one event",
                ));
            }
            for (i, h) in text_hashes.iter().enumerate() {
                hex64(f(&format!("text_hashes[{i}]")), h)?;
            }
            for (i, e) in events.iter().enumerate() {
                hex64(f(&format!("events[{i}].payload")), &e.payload)?;
            }
            Ok(())
        }
    }
}

/// Checks the envelope fields a caller supplies with an event.
pub fn envelope(e: &Event, effective: NaiveDate, reason: Option<&str>, actor: &str) -> Check {
    date("effective", effective)?;
    text("actor", actor, NAME_MAX, true)?;
    match reason {
        Some(r) => text("reason", r, REASON_MAX, true)?,
        None if e.needs_reason() => {
            return Err(FieldError::new(
                "reason",
                format!(
                    "is required for {}: say why the status, date or record changed",
                    e.type_name()
                ),
            ))
        }
        None => {}
    }
    event(e)
}

/// Checks an idempotency key.
pub fn idempotency_key(key: &str) -> Check {
    let n = key.chars().count();
    if n == 0 || n > KEY_MAX {
        return Err(FieldError::new(
            "idempotency_key",
            format!("must be 1 to {KEY_MAX} characters"),
        ));
    }
    Ok(())
}
