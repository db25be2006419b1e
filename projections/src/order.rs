//! The order people read a board in: by programme, then by the report's own
//! numbering ("1.2" before "1.10" before "2.1").

use crate::view::ItemView;

/// Sorts items by programme, then reference as people number them, then id.
pub(crate) fn by_reference(items: &mut [ItemView]) {
    items.sort_by(|a, b| {
        (a.programme, natural_key(&a.reference), a.id).cmp(&(
            b.programme,
            natural_key(&b.reference),
            b.id,
        ))
    });
}

/// Orders references as people number them: "1.2" < "1.10" < "2.1".
pub(crate) fn natural_key(s: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut num = String::new();
    let mut text = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !text.is_empty() {
                out.push((u64::MAX, std::mem::take(&mut text)));
            }
            num.push(c);
        } else {
            if !num.is_empty() {
                out.push((num.parse().unwrap_or(u64::MAX), String::new()));
                num.clear();
            }
            text.push(c);
        }
    }
    if !num.is_empty() {
        out.push((num.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !text.is_empty() {
        out.push((u64::MAX, text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::natural_key;

    #[test]
    fn references_sort_as_people_number_them() {
        let mut refs = vec![
            "2.1",
            "1.10",
            "Priority 4",
            "1.2",
            "R01",
            "Priority 10",
            "1",
        ];
        refs.sort_by_key(|r| natural_key(r));
        assert_eq!(
            refs,
            [
                "1",
                "1.2",
                "1.10",
                "2.1",
                "Priority 4",
                "Priority 10",
                "R01"
            ]
        );
    }
}
