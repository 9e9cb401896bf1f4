//! Tidy checks that keep the code base honest: every module has a `//!` doc, every diagnostic code is
//! documented, every primitive op is documented, and stage dependencies point one way (ARCHITECTURE.md).

use crate::root;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_has_a_doc_comment() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap_or_default()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| crate::rel(f))
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc comment: {missing:?}"
    );
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc =
        std::fs::read_to_string(root().join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let missing: Vec<String> = nasc::base::Code::ALL
        .iter()
        .filter(|c| !doc.contains(&format!("## {} {}", c.id(), c.slug())))
        .map(|c| format!("{} {}", c.id(), c.slug()))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a `## CODE slug` section in docs/diagnostics.md: {missing:?}"
    );
}

#[test]
fn every_op_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md");
    let missing: Vec<&str> = nasc::check::ops::OPS
        .iter()
        .map(|o| o.name)
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ops missing from docs/language.md: {missing:?}"
    );
}

/// Stage order: a module may use only the stages before it (ARCHITECTURE.md).
const ORDER: &[&str] = &[
    "base", "syntax", "check", "ir", "props", "synth", "data", "lower", "score", "search", "lsp",
    "cli",
];

#[test]
fn stage_dependencies_point_one_way() {
    let mut bad = Vec::new();
    for (i, stage) in ORDER.iter().enumerate() {
        let dir = root().join("src").join(stage);
        if !dir.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for later in &ORDER[i + 1..] {
                // the CLI and the LSP are edges: neither may use the other
                if text.contains(&format!("crate::{later}::"))
                    || text.contains(&format!("crate::{later}::{{"))
                {
                    bad.push(format!("{} uses crate::{later}", crate::rel(&f)));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "dependencies against the pipeline order: {bad:?}"
    );
}

#[test]
fn foreign_types_stay_in_their_stage() {
    // lalrpop only in syntax; egg only in props; z3 only in synth; tch only in data/lower/score/search;
    // lsp types only in lsp
    let rules: &[(&str, &[&str])] = &[
        ("lalrpop_util", &["syntax"]),
        ("egg::", &["props"]),
        ("z3::", &["synth"]),
        ("tch::", &["data", "lower", "score", "search"]),
        ("lsp_types", &["lsp"]),
        ("lsp_server", &["lsp"]),
    ];
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = crate::rel(&f);
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (needle, allowed) in rules {
            let ok = allowed
                .iter()
                .any(|a| rel.starts_with(&format!("src/{a}/")));
            if !ok && text.contains(needle) {
                bad.push(format!("{rel} uses {needle}"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
}

/// The NASL examples in the README and the language guide check clean (those that import only `std`).
#[test]
fn documentation_examples_check() {
    for doc in ["README.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root().join(doc)).expect("readable");
        let mut in_block = false;
        let mut cur = String::new();
        let mut blocks = Vec::new();
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                if in_block {
                    blocks.push(std::mem::take(&mut cur));
                }
                in_block = !in_block && line.trim() == "```nasl";
                continue;
            }
            if in_block {
                cur.push_str(line);
                cur.push('\n');
            }
        }
        let mut checked = 0;
        for b in blocks {
            let local_import = b
                .lines()
                .any(|l| l.starts_with("import ") && !l.starts_with("import std."));
            if local_import || !(b.contains("block ") || b.contains("network ")) {
                continue;
            }
            let path = root().join("examples/__doc__.nasl");
            let text = b.clone();
            let r = crate::big_stack(move || {
                nasc::check::check_program(nasc::check::load_text(
                    &path,
                    &text,
                    &nasc::check::DiskReader,
                ))
            });
            let rendered: Vec<String> = r
                .diagnostics
                .iter()
                .map(|d| nasc::cli::render::render_text(d, &r.program.sources, false))
                .collect();
            assert!(
                r.diagnostics.is_empty(),
                "{doc}: example does not check:\n{b}\n{}",
                rendered.join("\n")
            );
            checked += 1;
        }
        assert!(checked >= 1, "{doc}: no NASL example was checked");
    }
}
