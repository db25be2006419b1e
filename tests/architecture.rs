//! The layout of docs/architecture.md, held: no file of any crate imports a
//! file that (through others) imports it back. Each crate's modules are read
//! from its sources; an edge is a path into another module of the same crate
//! (`crate::x`, `super::x`, a child's `x::`), or into the crate root's own
//! items (`crate::Trail`), outside comments and `#[cfg(test)]` blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, as (module path, source).
fn modules(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(dir).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
                    parts.clear();
                }
                out.insert(parts.join("::"), std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// The source without comments, string literals and `#[cfg(test)]` items.
fn code(src: &str) -> String {
    let src = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        // Drop string literals, which can hold text like "a::b".
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The paths (`a::b::c`) written in `code`, each as its segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        if word(chars[i]) && (i == 0 || !(word(chars[i - 1]) || chars[i - 1] == ':')) {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < chars.len() && word(chars[j]) {
                    j += 1;
                }
                segs.push(chars[start..j].iter().collect::<String>());
                if j + 2 < chars.len() && chars[j] == ':' && chars[j + 1] == ':' {
                    if chars[j + 2] == '{' {
                        // A group: `crate::{a, b::c}` — each member after the prefix.
                        let close = (j + 2..chars.len()).find(|k| chars[*k] == '}');
                        let inner: String = chars[j + 3..close.unwrap_or(j + 3)].iter().collect();
                        for member in inner.split(',') {
                            let member = member.trim().trim_start_matches('{');
                            let mut p = segs.clone();
                            p.extend(member.split("::").map(|s| s.trim().to_string()));
                            out.push(p);
                        }
                        j = close.map_or(j + 3, |c| c + 1);
                        segs.clear();
                        break;
                    }
                    j += 2;
                    continue;
                }
                break;
            }
            if segs.len() > 1 {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Which modules each module uses.
fn edges(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let names: BTreeSet<&str> = mods.keys().map(String::as_str).collect();
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_string())
    };
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}::{b}")
        }
    };
    let mut out = BTreeMap::new();
    for (m, src) in mods {
        let mut used = BTreeSet::new();
        for p in paths(&code(src)) {
            let (base, rest): (String, &[String]) = match p[0].as_str() {
                "crate" => (String::new(), &p[1..]),
                "super" => (parent(m), &p[1..]),
                "self" => (m.clone(), &p[1..]),
                _ if names.contains(join(m, &p[0]).as_str()) => (m.clone(), &p[..]),
                _ => continue,
            };
            // The longest module the path names; past it, an item of that module.
            let mut target = base.clone();
            for seg in rest {
                let next = join(&target, seg);
                if names.contains(next.as_str()) {
                    target = next;
                } else {
                    break;
                }
            }
            if &target != m {
                used.insert(target);
            }
        }
        out.insert(m.clone(), used);
    }
    out
}

/// The cycles (strongly connected sets of more than one module).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju, iteratively: order by finish, then walk the reversed graph.
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for start in edges.keys() {
        if seen.contains(start) {
            continue;
        }
        let mut stack = vec![(start.clone(), false)];
        while let Some((v, done)) = stack.pop() {
            if done {
                order.push(v);
                continue;
            }
            if !seen.insert(v.clone()) {
                continue;
            }
            stack.push((v.clone(), true));
            for w in edges.get(&v).into_iter().flatten() {
                if !seen.contains(w) {
                    stack.push((w.clone(), false));
                }
            }
        }
    }
    let mut reverse: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (v, ws) in edges {
        for w in ws {
            reverse.entry(w).or_default().push(v);
        }
    }
    let mut placed = BTreeSet::new();
    let mut out = Vec::new();
    for v in order.iter().rev() {
        if placed.contains(v) {
            continue;
        }
        let mut group = Vec::new();
        let mut stack = vec![v];
        while let Some(x) = stack.pop() {
            if !placed.insert(x.clone()) {
                continue;
            }
            group.push(x.clone());
            for y in reverse.get(x).into_iter().flatten() {
                if !placed.contains(*y) {
                    stack.push(y);
                }
            }
        }
        if group.len() > 1 {
            group.sort();
            out.push(group);
        }
    }
    out
}

fn crate_dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn no_file_of_any_crate_imports_itself_back() {
    for dir in ["src", "events/src", "projections/src"] {
        let mods = modules(&crate_dir(dir));
        assert!(mods.len() > 5, "{dir}: read {} files", mods.len());
        let graph = edges(&mods);
        let found = cycles(&graph);
        let explain: Vec<String> = found
            .iter()
            .map(|c| {
                let hops: Vec<String> = c
                    .iter()
                    .map(|m| {
                        let to: Vec<&String> = graph[m].iter().filter(|t| c.contains(t)).collect();
                        format!("  {} -> {to:?}", if m.is_empty() { "<root>" } else { m })
                    })
                    .collect();
                hops.join("\n")
            })
            .collect();
        assert!(
            found.is_empty(),
            "{dir} has import cycles:\n{}",
            explain.join("\n\n")
        );
    }
}

#[test]
fn the_checker_sees_a_cycle() {
    let mods: BTreeMap<String, String> = [
        (
            "".to_string(),
            "pub mod a;\npub mod b;\npub use a::Thing;".to_string(),
        ),
        (
            "a".to_string(),
            "use crate::b::Other; // crate::c in a comment".to_string(),
        ),
        (
            "b".to_string(),
            "fn f() { crate::Thing::new(); let s = \"crate::a\"; }".to_string(),
        ),
        ("c".to_string(), "use super::a;".to_string()),
    ]
    .into_iter()
    .collect();
    let graph = edges(&mods);
    assert_eq!(graph["a"], ["b".to_string()].into_iter().collect());
    assert_eq!(graph["c"], ["a".to_string()].into_iter().collect());
    assert_eq!(graph["b"], ["".to_string()].into_iter().collect());
    let found = cycles(&graph);
    assert_eq!(
        found,
        vec![vec!["".to_string(), "a".to_string(), "b".to_string()]]
    );
}
