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
    let (Some(value), Some(target), Some(tol)) = (value, rule.target, rule.tolerance_pct) else {
        return (None, Rating::Unrated);
    };
    // Figures are computed as numbers but shown as the report gives them (money in £).
    let (v, t) = (value.as_f64(), target.as_f64());
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
                "Green: {value} is on target {target} or within {tol}% of it ({dir} is better)"
            )),
        );
    }
    // How far off: a percentage of the target, or (a target of 0 has no percentages) the distance.
    let gap = if gap_pct.is_finite() {
        format!("{gap_pct:.1}% from target {target}")
    } else {
        format!("{} from target {target}", (v - t).abs())
    };
    match previous {
        Some(p) if better(v, p.as_f64()) => (
            Some(Rag::Amber),
            Rating::Rule(format!(
                "Amber: {value} is {gap}, beyond {tol}%, but improving on {p} ({dir} is better)"
            )),
        ),
        Some(p) => (
            Some(Rag::Red),
            Rating::Rule(format!(
                "Red: {value} is {gap}, beyond {tol}%, and not improving on {p} ({dir} is better)"
            )),
        ),
        None => (
            Some(Rag::Red),
            Rating::Rule(format!(
                "Red: {value} is {gap}, beyond {tol}%, with no earlier reading to show improvement"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: Value, good_direction: Direction) -> Rule {
        Rule {
            target: Some(target),
            tolerance_pct: Some(10.0),
            good_direction,
        }
    }

    #[test]
    fn a_rule_speaks_in_the_report_s_units() {
        let (rag, why) = rate(
            None,
            Some(Value::Pence(372_400)),
            None,
            rule(Value::Pence(320_000), Direction::Down),
        );
        assert_eq!(rag, Some(Rag::Red));
        let Rating::Rule(text) = why else {
            panic!("a rule")
        };
        assert_eq!(
            text,
            "Red: £3724.00 is 16.4% from target £3200.00, beyond 10%, with no earlier reading to show improvement"
        );
    }

    #[test]
    fn a_target_of_zero_is_a_distance_not_a_percentage() {
        let (rag, why) = rate(
            None,
            Some(Value::Number(3.0)),
            Some(Value::Number(5.0)),
            rule(Value::Number(0.0), Direction::Down),
        );
        assert_eq!(rag, Some(Rag::Amber));
        let Rating::Rule(text) = why else {
            panic!("a rule")
        };
        assert!(!text.contains("inf"), "{text}");
        assert!(text.contains("3 is 3 from target 0"), "{text}");
    }
}
