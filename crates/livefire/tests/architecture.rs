//! The runtime's imports point one way: no two top-level modules of `src/` import each other,
//! directly or through others, and no two sibling files inside a folder do either.
//!
//! Every `use`, and every path written `crate::…`, `super::…` or `self::…` in code (not in
//! `#[cfg(test)]` modules) is an edge from the file's module to the module the path names.
//! Paths to the crate root's re-exports (`crate::Error`) count as edges to the module that
//! defines them. A child module may use its parent (`super::`), which declares it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// `a::b` for `src/a/b.rs` or `src/a/b/mod.rs`; empty for `lib.rs`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
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

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Collects the paths a file names, as segment lists starting with `crate`/`super`/`self`.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

impl Paths {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                self.0.push(path);
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(r.ident.to_string());
                self.0.push(path);
            }
            syn::UseTree::Glob(_) => self.0.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if !is_cfg_test(&module.attrs) {
            syn::visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.0.push(segments);
        syn::visit::visit_path(self, path);
    }
}

/// The crate root's `pub use module::{Item, …}` re-exports: item name → module.
fn root_exports(lib: &syn::File) -> BTreeMap<String, Vec<String>> {
    let mut exports = BTreeMap::new();
    for item in &lib.items {
        if let syn::Item::Use(item) = item {
            let mut paths = Paths::default();
            paths.use_tree(&mut Vec::new(), &item.tree);
            for path in paths.0 {
                if let Some((name, module)) = path.split_last() {
                    exports.insert(name.clone(), module.to_vec());
                }
            }
        }
    }
    exports
}

/// The module a path refers to (the longest prefix that is a module), if it is in this crate.
fn target(
    here: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
    exports: &BTreeMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut absolute: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            // `super` in module a::b (`a/b.rs` or `a/b/mod.rs`) is a.
            let mut parent = here.to_vec();
            parent.pop()?;
            parent
        }
        _ => return None,
    };
    let mut rest = rest.to_vec();
    while rest.first().is_some_and(|s| s == "super") {
        absolute.pop()?;
        rest.remove(0);
    }
    absolute.extend(rest);
    if absolute.len() == 1
        && let Some(module) = exports.get(&absolute[0])
    {
        absolute = module.clone();
    }
    (0..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
}

/// A cycle in `graph`, if any (depth-first search).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn module_imports_have_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let lib = syn::parse_file(&std::fs::read_to_string(src.join("lib.rs")).unwrap()).unwrap();
    let exports = root_exports(&lib);

    // Edges between top-level modules, and between siblings of one folder.
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut edges = 0;
    for file in &files {
        let here = module_of(&src, file);
        if here.is_empty() {
            continue; // lib.rs: the root declares and re-exports everything.
        }
        let text = std::fs::read_to_string(file).unwrap();
        let parsed = syn::parse_file(&text).unwrap_or_else(|err| panic!("{file:?}: {err}"));
        let mut paths = Paths::default();
        paths.visit_file(&parsed);
        for path in &paths.0 {
            let Some(to) = target(&here, path, &modules, &exports) else {
                continue;
            };
            if to.is_empty() || to == here {
                continue;
            }
            edges += 1;
            if to[0] != here[0] {
                top.entry(here[0].clone())
                    .or_default()
                    .insert(to[0].clone());
            } else if here.len() == to.len() && here[..here.len() - 1] == to[..to.len() - 1] {
                siblings
                    .entry(here.join("::"))
                    .or_default()
                    .insert(to.join("::"));
            }
        }
    }
    assert!(
        edges > 20,
        "the checker found too few imports ({edges}): is it reading the files?"
    );
    assert!(top.contains_key("view") && top["view"].contains("endpoint"));
    if std::env::var_os("LIVEFIRE_PRINT_IMPORTS").is_some() {
        for (from, to) in &top {
            eprintln!(
                "{from} -> {}",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if let Some(cycle) = find_cycle(&top) {
        panic!(
            "top-level modules import each other in a cycle: {}",
            cycle.join(" -> ")
        );
    }
    if let Some(cycle) = find_cycle(&siblings) {
        panic!(
            "sibling files import each other in a cycle: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_checker_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
