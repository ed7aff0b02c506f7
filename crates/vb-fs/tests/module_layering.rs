//! The crate's modules import downward only (see "Module layering" in the
//! crate documentation). This reads `src/`, lists the edges between modules
//! (a module naming `crate::x`, `super::x`, or, in a folder's `mod.rs`, one of
//! its own submodules), and fails on a cycle or on an edge the layering
//! forbids. Comments and `#[cfg(test)] mod tests` blocks do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside the crate, `lib` for the root: `child::runner`.
type Module = String;

struct Source {
    /// A folder's `mod.rs`: bare `name::` paths may name its submodules.
    is_folder: bool,
    /// The code, without comments and test modules.
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> (Module, bool) {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let is_folder = parts.last().is_some_and(|p| p == "mod");
    if is_folder {
        parts.pop();
    }
    (parts.join("::"), is_folder)
}

fn strip(text: &str) -> String {
    let mut code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    // A test module sits at the end of its file, after `#[cfg(test)]` and
    // perhaps more attributes.
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]").map(|i| from + i) {
        let mut rest = code[at + "#[cfg(test)]".len()..].trim_start();
        while rest.starts_with("#[") {
            let close = rest.find(")]").map_or(rest.len(), |i| i + 2);
            rest = rest[close..].trim_start();
        }
        if rest.starts_with("mod tests") {
            code.truncate(at);
            break;
        }
        from = at + 1;
    }
    code
}

/// Every `a::b::c` path of a `use` tree, `{` groups expanded.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let (mut depth, mut start) = (0, 0);
    let mut items = Vec::new();
    for (i, ch) in tree.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&tree[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tree[start..]);
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let item = item.split(" as ").next().unwrap_or(item);
        if let Some(open) = item.find('{') {
            let mut head = prefix.to_vec();
            head.extend(segments(&item[..open]));
            let inner = item[open + 1..].trim_end().trim_end_matches('}');
            expand(&head, inner, out);
        } else {
            let mut path = prefix.to_vec();
            path.extend(segments(item));
            out.push(path);
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The paths a piece of code names, as written: `crate::..`, `super::..`,
/// `name::..`, from `use` trees and from expressions.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            is_ident(bytes[i]) && (i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b':');
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i;
        loop {
            while end < bytes.len() && is_ident(bytes[end]) {
                end += 1;
            }
            if code[end..].starts_with("::")
                && code[end + 2..].starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
            {
                end += 2;
            } else {
                break;
            }
        }
        let path = &code[i..end];
        if code[end..].starts_with("::{") {
            let open = end + 2;
            let mut depth = 0;
            let mut close = open;
            for (k, ch) in code[open..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    close = open + k;
                    break;
                }
            }
            expand(&segments(path), &code[open + 1..close], &mut out);
            i = close + 1;
        } else {
            if path.contains("::") {
                out.push(segments(path));
            }
            i = end.max(i + 1);
        }
    }
    out
}

/// The module a path names (its longest prefix that is a module), if any.
fn target(path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn edges() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut sources = BTreeMap::new();
    for file in &files {
        let (module, is_folder) = module_of(&src, file);
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        sources.insert(
            module,
            Source {
                is_folder,
                code: strip(&text),
            },
        );
    }
    let modules: BTreeSet<Module> = sources.keys().cloned().collect();
    let test_only = ["fake", "tests"];
    let mut edges = BTreeMap::new();
    for (module, source) in &sources {
        if module == "lib" || test_only.contains(&module.as_str()) {
            continue;
        }
        let here = segments(module);
        let parent = here[..here.len() - 1].to_vec();
        let mut out = BTreeSet::new();
        for path in paths(&source.code) {
            let full = match path.first().map(String::as_str) {
                Some("crate") => path[1..].to_vec(),
                // `super` of `a::b` is `a`, whether `b` is a file or a folder.
                Some("super") => [parent.clone(), path[1..].to_vec()].concat(),
                Some(_) if source.is_folder => [here.clone(), path.clone()].concat(),
                _ => continue,
            };
            if let Some(t) = target(&full, &modules)
                && t != *module
                && t != "lib"
            {
                out.insert(t);
            }
        }
        edges.insert(module.clone(), out);
    }
    edges
}

/// A cycle through `start`, if there is one.
fn cycle_from(start: &str, edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn walk(
        node: &str,
        start: &str,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        seen: &mut BTreeSet<Module>,
        path: &mut Vec<Module>,
    ) -> bool {
        for next in edges.get(node).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(next, start, edges, seen, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(start, start, edges, &mut BTreeSet::new(), &mut path).then_some(path)
}

#[test]
fn modules_import_without_cycles() {
    let edges = edges();
    assert!(edges.len() > 20, "found only {edges:?}");
    for module in edges.keys() {
        if let Some(cycle) = cycle_from(module, &edges) {
            panic!("import cycle: {} -> {module}", cycle.join(" -> "));
        }
    }
}

#[test]
fn modules_import_only_what_their_layer_may() {
    let edges = edges();
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    for (module, targets) in &edges {
        for target in targets {
            let (from, to) = (top(module), top(target));
            let allowed: &[&str] = match from.as_str() {
                // The leaves.
                "action" | "op" | "failure" => &[],
                "spec" => &["action"],
                "error" => &["failure"],
                "artifacts" | "detail" => &["error"],
                // The three sides, which never import one another.
                "child" => &["child", "op", "failure", "spec"],
                "describe" => &["op", "failure", "error"],
                "compile" => &[
                    "compile",
                    "op",
                    "error",
                    "action",
                    "spec",
                    "artifacts",
                    "detail",
                ],
                // The plan ties them together.
                "plan" => &[
                    "op",
                    "failure",
                    "error",
                    "spec",
                    "artifacts",
                    "detail",
                    "child",
                    "compile",
                    "describe",
                ],
                other => panic!(
                    "module {other} has no place in the layering; add it to this test and to the crate docs"
                ),
            };
            assert!(
                allowed.contains(&to.as_str()),
                "{module} imports {target}, which its layer may not"
            );
        }
    }
}

#[test]
fn the_reader_sees_use_trees_and_paths() {
    let code = "use crate::{a::B, c::{d::E, F}};\nuse super::g::H;\nlet x = crate::i::j(k::L);";
    let found: Vec<String> = paths(code).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        found,
        [
            "crate::a::B",
            "crate::c::d::E",
            "crate::c::F",
            "super::g::H",
            "crate::i::j",
            "k::L"
        ]
    );
}
