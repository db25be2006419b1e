//! How a metric reading gets its RAG: as the report gave it, or — where none
//! was given and the metric has a target and tolerance — by a stated rule, so
//! a councillor challenging a rating can see exactly what produced it.

use ragtrail_events::{Direction, Rag, Value};
use serde::Serialize;

/// Where a reading's RAG came from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// Kept exactly as the report gave it.
    Reported,
    /// Derived by the rule, stated in words with the figures used.
    Rule(String),
    /// No RAG given and no rule applies (no value, no target or no tolerance).
    Unrated,
}

/// What the rule needs to know about the metric.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub target: Option<Value>,
    pub tolerance_pct: Option<f64>,
    pub good_direction: Direction,
}

/// Rates a reading: the reported RAG if any, else the rule
/// "Green if on the right side of target or within tolerance; Amber if beyond
/// tolerance but improving on the previous reading; Red if beyond and not improving".
pub fn rate(
    reported: Option<Rag>,
    value: Option<Value>,
    previous: Option<Value>,
    rule: Rule,
) -> (Option<Rag>, Rating) {
    if let Some(r) = reported {
        return (Some(r), Rating::Reported);
    }
    let (Some(v), Some(t), Some(tol)) = (value, rule.target, rule.tolerance_pct) else {
        return (None, Rating::Unrated);
    };
    let (v, t) = (v.as_f64(), t.as_f64());
    let better = |a: f64, b: f64| match rule.good_direction {
        Direction::Up => a > b,
        Direction::Down => a < b,
    };
    let gap_pct = if t == 0.0 {
        if v == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        ((v - t) / t).abs() * 100.0
    };
    let dir = match rule.good_direction {
        Direction::Up => "higher",
        Direction::Down => "lower",
    };
    if !better(t, v) || gap_pct <= tol {
        return (
            Some(Rag::Green),
            Rating::Rule(format!(
                "Green: {v} is on target {t} or within {tol}% of it ({dir} is better)"
            )),
        );
    }
    match previous.map(Value::as_f64) {
        Some(p) if better(v, p) => (
            Some(Rag::Amber),
            Rating::Rule(format!(
                "Amber: {v} is {gap_pct:.1}% from target {t}, beyond {tol}%, but improving on {p} ({dir} is better)"
            )),
        ),
        Some(p) => (
            Some(Rag::Red),
            Rating::Rule(format!(
                "Red: {v} is {gap_pct:.1}% from target {t}, beyond {tol}%, and not improving on {p} ({dir} is better)"
            )),
        ),
        None => (
            Some(Rag::Red),
            Rating::Rule(format!(
                "Red: {v} is {gap_pct:.1}% from target {t}, beyond {tol}%, with no earlier reading to show improvement"
            )),
        ),
    }
}
