//! The checker: every example and stdlib module checks clean; golden shapes; the corpus of broken programs
//! under tests/data/fail gives exactly the codes its header announces, snapshot-tested as rendered text.

use crate::{big_stack, nasl_files, rel, root};
use nasc::check::{self, ShapeDisplay, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn check(paths: Vec<PathBuf>) -> check::CheckResult {
    big_stack(move || check::check_paths(&paths))
}

fn render_all(r: &check::CheckResult) -> String {
    r.diagnostics
        .iter()
        .map(|d| nasc::cli::render::render_text(d, &r.program.sources, false))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn examples_and_stdlib_check_clean() {
    let mut files = nasl_files("examples");
    files.extend(nasl_files("stdlib"));
    assert!(
        files.len() >= 14,
        "expected the bundled examples and stdlib modules"
    );
    let r = check(files);
    assert!(r.diagnostics.is_empty(), "{}", render_all(&r));
}

fn shapes_of(file: &str) -> String {
    let r = check(vec![root().join(file)]);
    assert!(!r.has_errors(), "{}", render_all(&r));
    let mut out = String::new();
    for b in r
        .blocks
        .iter()
        .filter(|b| r.program.block_module(b.id) == r.program.roots[0])
    {
        out.push_str(&format!("{}\n", b.signature));
        for x in &b.bindings {
            let v = match &x.value {
                Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
                v => v.to_string(),
            };
            out.push_str(&format!("  {} : {v}\n", x.name));
        }
        let v = match &b.result {
            Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
            v => v.to_string(),
        };
        out.push_str(&format!("  => {v}\n"));
        for d in &b.decisions {
            out.push_str(&format!(
                "  decision {} ∈ {{{}}}\n",
                d.name,
                d.options.join(", ")
            ));
        }
    }
    out
}

#[test]
fn golden_shapes_cifarnet() {
    insta::assert_snapshot!(shapes_of("examples/cifarnet.nasl"));
}

#[test]
fn golden_shapes_resnet_blocks() {
    insta::assert_snapshot!(shapes_of("stdlib/resnet.nasl"));
}

#[test]
fn golden_shapes_vit() {
    insta::assert_snapshot!(shapes_of("examples/vit_ti16.nasl"));
}

#[test]
fn golden_shapes_nb201_space() {
    insta::assert_snapshot!(shapes_of("examples/nb201_space.nasl"));
}

/// The codes a corpus file announces in its first line: `// expect: E0401 W0001` (or `clean`).
fn expected_codes(path: &PathBuf) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("readable");
    let first = text.lines().next().unwrap_or_default();
    let spec = first
        .strip_prefix("// expect:")
        .unwrap_or_else(|| panic!("{}: first line must be `// expect: …`", rel(path)));
    spec.split_whitespace()
        .filter(|c| *c != "clean")
        .map(str::to_string)
        .collect()
}

#[test]
fn failing_corpus_gives_announced_codes() {
    let files = nasl_files("tests/data/fail");
    assert!(
        files.len() >= 40,
        "the corpus should hold at least 40 broken programs, found {}",
        files.len()
    );
    let mut covered = BTreeSet::new();
    for f in files {
        let want = expected_codes(&f);
        let r = check(vec![f.clone()]);
        let got: BTreeSet<String> = r
            .diagnostics
            .iter()
            .map(|d| d.code.id().to_string())
            .collect();
        assert_eq!(got, want, "{}:\n{}", rel(&f), render_all(&r));
        for d in &r.diagnostics {
            assert!(
                d.span().is_some() || d.code == nasc::base::Code::ModuleNotFound,
                "{}: {} has no location",
                rel(&f),
                d.code
            );
        }
        covered.extend(got);
    }
    // codes of the stages after the checker are tested with their stage: E0600 lowering in
    // tests/it/lower.rs, E0700 synthesis targets in tests/it/synth.rs
    let all: BTreeSet<String> = nasc::base::Code::ALL
        .iter()
        .filter(|c| {
            !matches!(
                c,
                nasc::base::Code::Lowering | nasc::base::Code::InvalidTarget
            )
        })
        .map(|c| c.id().to_string())
        .collect();
    let missing: Vec<&String> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "codes no corpus file exercises: {missing:?}"
    );
}

#[test]
fn failing_corpus_snapshots() {
    for path in nasl_files("tests/data/fail") {
        let name = path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let r = check(vec![path.clone()]);
        insta::with_settings!({ snapshot_suffix => name, prepend_module_to_snapshot => false, description => rel(&path) }, {
            insta::assert_snapshot!("fail", render_all(&r));
        });
    }
}

#[test]
fn passing_corpus_is_clean() {
    for f in nasl_files("tests/data/pass") {
        assert!(
            expected_codes(&f).is_empty(),
            "{}: pass files expect `clean`",
            rel(&f)
        );
        let r = check(vec![f.clone()]);
        assert!(r.diagnostics.is_empty(), "{}:\n{}", rel(&f), render_all(&r));
    }
}

#[test]
fn json_diagnostics_have_positions() {
    let r = check(vec![root().join("tests/data/fail").join(
        nasl_files("tests/data/fail")
            .first()
            .expect("corpus")
            .file_name()
            .expect("name"),
    )]);
    let d = r.diagnostics.first().expect("a diagnostic");
    let j = nasc::cli::render::to_json(d, &r.program.sources);
    assert!(j["location"]["line"].as_u64().is_some_and(|l| l >= 1));
    assert!(j["location"]["column"].as_u64().is_some_and(|c| c >= 1));
    assert!(j["code"].as_str().is_some_and(|c| c.len() == 5));
}

#[test]
fn all_errors_of_a_file_are_reported_at_once() {
    let text = "block a(x: [B, C, H, W]) -> [B, C, H, W] { x + conv(x, 3, stride: 2) }\n\
                block b(x: [B, C, H, W]) { relu(x, 3) }\n\
                block c(x: Int) -> Int { y }\n\
                block d(x: [B, C, H, W] { x }\n\
                block e(x: Int) -> Int { x / 0 }\n";
    let path = root().join("examples/__many__.nasl");
    let r =
        big_stack(move || check::check_program(check::load_text(&path, text, &check::DiskReader)));
    let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.id()).collect();
    for want in ["E0401", "E0200", "E0104", "E0001", "E0300"] {
        assert!(codes.contains(&want), "missing {want} in {codes:?}");
    }
}

#[test]
fn instantiation_errors_point_at_the_body_and_the_call() {
    let text = "block down(x: [B, C, H, W], s: Int = 1) -> [B, C, H, W] { x + conv(x, C, kernel: 3, stride: s, padding: 1) }\n\
                network n(x: [B, 8, 32, 32]) -> [B, 8, 32, 32] { down(x, s: 2) }\n";
    let path = root().join("examples/__inst__.nasl");
    let r =
        big_stack(move || check::check_program(check::load_text(&path, text, &check::DiskReader)));
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code.id() == "E0401")
        .expect("a dim mismatch at instantiation");
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("instantiated at") && n.contains(":2:")),
        "{:?}",
        d.notes
    );
    assert!(
        d.message.contains("32") && d.message.contains("16"),
        "{}",
        d.message
    );
}

#[test]
fn record_mode_traces_concrete_ops_with_paths() {
    let path = root().join("examples/cifarnet.nasl");
    let out = big_stack(move || {
        let prog = check::load(std::slice::from_ref(&path), &check::DiskReader);
        let net = *prog.modules[prog.roots[0]]
            .blocks
            .last()
            .expect("a network");
        let mut ev = check::Evaluator::new(&prog);
        ev.record = true;
        ev.resolution = Some(Default::default());
        let shape = [2, 3, 32, 32].map(check::Sym::constant).to_vec();
        let v = ev.instantiate_with_inputs(net, &[shape]);
        assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
        assert!(matches!(v, Value::Tensor(_)));
        ev.trace
            .iter()
            .map(|n| {
                format!(
                    "{:<28} {:<8} {:?} <- {:?}",
                    n.path,
                    n.op,
                    n.shape.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    n.inputs
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    insta::assert_snapshot!(out);
}

#[test]
fn self_referential_facts_are_not_rewrites() {
    let text = "block f(x: [B, C, H, W]) -> [B, 4 * C, H, W] {\n    let y = conv(x, 4 * C, kernel: 1);\n    if C == 4 * C { y + x } else { y }\n}\n";
    let path = root().join("examples/__facts__.nasl");
    let r =
        big_stack(move || check::check_program(check::load_text(&path, text, &check::DiskReader)));
    // the branch needs 4C == C, which the fact cannot rewrite: the add is reported, with the true shapes
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code.id() == "E0401")
        .expect("the add in the guarded branch");
    assert!(!d.message.contains("16 * C"), "{}", d.message);
}
