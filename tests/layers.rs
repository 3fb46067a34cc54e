//! The module structure stays layered: every `crate::` path in `src/` may
//! name only a module of a lower layer (or its own), and no two files import
//! each other in a loop. The layers, bottom up, are those in the README's
//! "Layout" section and in `LAYERS` below; a new module must be added here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom up. A module may import modules of lower layers, and itself.
const LAYERS: &[&[&str]] = &[
    &["error", "engine", "stats", "outcome"],
    &["vocab", "format", "output"],
    &["input"],
    &["world"],
    &["strategies"],
    &["scenario"],
    &["release"],
    &["simulation"],
    &["experiment"],
    &["economics"],
    &["monthly", "sizing", "trace"],
    &["breakeven"],
    &["recommend", "sizing_check"],
    &["export"],
    &["cli"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b::...` path in the code (comments skipped), brace
/// groups (`crate::{a::X, b}`) expanded, as lists of segments.
fn crate_paths(source: &str) -> Vec<Vec<String>> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let preceded_by_ident = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        expand(rest, Vec::new(), &mut paths);
    }
    paths
}

/// Reads one path (or brace group) at the start of `text` after `prefix`.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(inner) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(inner[start..i].trim_start(), prefix.clone(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(inner[start..i].trim_start(), prefix.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        if !prefix.is_empty() {
            out.push(prefix);
        }
        return;
    }
    let mut path = prefix;
    path.push(name.clone());
    match text[name.len()..].strip_prefix("::") {
        Some(more) => expand(more, path, out),
        None => out.push(path),
    }
}

/// The file a path names: the deepest existing module file along it.
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir = path[..n].iter().fold(src.to_path_buf(), |d, s| d.join(s));
        [dir.with_extension("rs"), dir.join("mod.rs")]
            .into_iter()
            .find(|f| f.is_file())
    })
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn imports_point_down_the_layers_and_never_in_a_circle() {
    let src = Path::new("src");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut upward = Vec::new();
    for file in &files {
        let module = module_of(src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let own = layer_of(&module)
            .unwrap_or_else(|| panic!("module `{module}` has no layer in tests/layers.rs"));
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&text) {
            let target = &path[0];
            // Re-exports from the crate root (`crate::Result`) name lib.rs.
            let Some(layer) = layer_of(target) else {
                continue;
            };
            if target != &module && layer >= own {
                upward.push(format!(
                    "{} ({module}, layer {own}) imports crate::{} (layer {layer})",
                    file.display(),
                    path.join("::")
                ));
            }
            if let Some(to) = file_of(src, &path)
                && &to != file
            {
                edges.entry(file.clone()).or_default().insert(to);
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down:\n  {}",
        upward.join("\n  ")
    );
    // A depth-first search for a back edge finds any circle of files.
    fn visit(
        f: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        state.insert(f.clone(), 1);
        stack.push(f.clone());
        for to in edges.get(f).into_iter().flatten() {
            match state.get(to).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == to).unwrap();
                    return Some(stack[at..].to_vec());
                }
                0 => {
                    if let Some(circle) = visit(to, edges, state, stack) {
                        return Some(circle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(f.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for f in &files {
        if state.get(f).copied().unwrap_or(0) == 0
            && let Some(circle) = visit(f, &edges, &mut state, &mut Vec::new())
        {
            let names: Vec<String> = circle.iter().map(|p| p.display().to_string()).collect();
            panic!("files that import each other: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_path_reader_expands_groups_and_skips_comments() {
    let text = "use crate::{engine::SimTime, world::{fleet::Fleet, World}};\n\
                // crate::export is only mentioned here\n\
                let x = crate::stats::poisson(r, 1.0);\n";
    let paths: Vec<String> = crate_paths(text).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        [
            "engine::SimTime",
            "world::fleet::Fleet",
            "world::World",
            "stats::poisson"
        ]
    );
}
