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
    "base", "syntax", "check", "ir", "driver", "props", "synth", "data", "lower", "score", "store",
    "exec", "search", "lsp", "cli",
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
    // lsp types only in lsp; rusqlite only in store
    let rules: &[(&str, &[&str])] = &[
        ("lalrpop_util", &["syntax"]),
        ("egg::", &["props"]),
        ("z3::", &["synth"]),
        ("tch::", &["data", "lower", "score", "exec", "search"]),
        ("lsp_types", &["lsp"]),
        ("lsp_server", &["lsp"]),
        ("rusqlite::", &["store"]),
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

/// The libtorch side of the workspace: the modules of the root crate (`src/lib.rs`); everything else under
/// `src/` is the front-end crate (`src/front.rs`), which must not name them.
const TORCH_MODULES: &[&str] = &[
    "data",
    "lower",
    "score",
    "store",
    "exec",
    "search",
    "cli/torch",
];

#[test]
fn the_front_end_names_no_libtorch_module() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = crate::rel(&f);
        let torch_side = TORCH_MODULES
            .iter()
            .any(|m| rel.starts_with(&format!("src/{m}/")))
            || rel == "src/lib.rs"
            || rel.starts_with("src/bin/");
        if torch_side {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "tch::",
            "nasc::",
            "crate::data::",
            "crate::lower::",
            "crate::score::",
        ] {
            if code.contains(needle) {
                bad.push(format!("{rel} uses {needle}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "front-end files that need libtorch: {bad:?}"
    );
}

/// The shared libraries the dynamic loader opens for `exe args…` (glibc's `LD_DEBUG=libs`).
fn loaded_libraries(exe: &str, args: &[&str]) -> Vec<String> {
    let o = std::process::Command::new(exe)
        .args(args)
        .current_dir(root())
        .env("LD_DEBUG", "libs")
        .output()
        .expect("runs");
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| {
            l.split_once("calling init: ")
                .map(|(_, lib)| lib.trim().to_string())
        })
        .collect()
}

/// `nasc` never loads libtorch or CUDA for the commands that need neither (issue 11): its start-up is a
/// compiler front end's, not a PyTorch program's. `nasc-torch` does load libtorch, so the check can fail.
#[test]
fn nasc_loads_no_libtorch() {
    let torch_lib = |l: &String| {
        let name = l.rsplit('/').next().unwrap_or(l);
        [
            "libtorch",
            "libc10",
            "libcuda",
            "libcudart",
            "libcublas",
            "libcudnn",
            "libgomp",
        ]
        .iter()
        .any(|p| name.starts_with(p))
    };
    let nasc = env!("CARGO_BIN_EXE_nasc");
    for args in [
        &["--version"][..],
        &["check", "examples/cifarnet.nasl"],
        &["cost", "examples/resnet20.nasl"],
        &["train", "--help"],
    ] {
        let libs = loaded_libraries(nasc, args);
        assert!(
            !libs.is_empty(),
            "LD_DEBUG=libs reported nothing for nasc {args:?}"
        );
        let torch: Vec<&String> = libs.iter().filter(|l| torch_lib(l)).collect();
        assert!(torch.is_empty(), "`nasc {args:?}` loads {torch:?}");
    }
    let libs = loaded_libraries(env!("CARGO_BIN_EXE_nasc-torch"), &["--version"]);
    assert!(
        libs.iter().any(torch_lib),
        "nasc-torch should load libtorch; it loaded {libs:?}"
    );
}

/// The libtorch commands run through `nasc` exactly as through `nasc-torch` (handed over by exec).
#[test]
fn nasc_hands_libtorch_commands_to_nasc_torch() {
    let (code, out, err) =
        crate::run_nasc(&["score", "examples/cifarnet.nasl", "--scores", "params,macs"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2,192,458"), "{out}");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nasc"))
        .args([
            "eval",
            "examples/cifarnet.nasl",
            "--weights",
            "/nonexistent.safetensors",
        ])
        .current_dir(root())
        .env("NASC_TORCH", "/nonexistent/nasc-torch")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nasc-torch") && err.contains("cargo build"),
        "{err}"
    );
}
