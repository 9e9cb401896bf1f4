//! Adding an op: every variant of the IR's `Op` enum (`src/ir/op.rs`) is handled in each source file that
//! must know every op, and every tensor op of the checker's op table is built into the IR. The checklist of
//! the other places to look at is in ARCHITECTURE.md.

use crate::root;

/// The files that handle every IR op by name (`Op::Variant`), and what each of them does with it.
const MUST_HANDLE: &[(&str, &str)] = &[
    (
        "src/ir/op.rs",
        "the op's NASL name (`Op::name`) and its listing",
    ),
    (
        "src/ir/build.rs",
        "the op built from the checker's trace (`to_op`)",
    ),
    (
        "src/props/mixing.rs",
        "the analytic mixing rule (`op_matrix`)",
    ),
    ("src/lower/mod.rs", "how it runs on libtorch (`lower_node`)"),
    (
        "src/lower/export.rs",
        "the PyTorch source it is exported to",
    ),
];

/// The variants of `pub enum Op` in `src/ir/op.rs`, read from the source.
fn op_variants() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("src/ir/op.rs")).expect("src/ir/op.rs");
    let start = text
        .find("pub enum Op {")
        .expect("src/ir/op.rs defines `pub enum Op {`");
    text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('}'))
        .filter_map(|l| {
            // a variant starts at the first indentation level: `    Name {`, `    Name,`
            let rest = l.strip_prefix("    ")?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            name.starts_with(|c: char| c.is_ascii_uppercase())
                .then_some(name)
        })
        .collect()
}

/// Whether `text` names `Op::{variant}` (not a longer name that starts the same).
fn names_variant(text: &str, variant: &str) -> bool {
    let needle = format!("Op::{variant}");
    text.match_indices(&needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[test]
fn the_op_enum_is_read() {
    let vs = op_variants();
    for v in ["Input", "Conv", "Identity", "Add", "Slice"] {
        assert!(vs.iter().any(|x| x == v), "`{v}` not found in {vs:?}");
    }
    assert!(vs.len() >= 25, "only {} variants found: {vs:?}", vs.len());
}

#[test]
fn every_op_is_handled_where_every_op_must_be() {
    let variants = op_variants();
    let mut missing = Vec::new();
    for (file, role) in MUST_HANDLE {
        let text =
            std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for v in &variants {
            if !names_variant(&text, v) {
                missing.push(format!("`Op::{v}` is not handled in {file} ({role})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "an op was added without its lowering, typing or analysis (see \"Adding an op\" in ARCHITECTURE.md):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_tensor_op_of_the_checker_is_built_into_the_ir() {
    use nasc::check::ops::{Kind, OPS};
    let build = std::fs::read_to_string(root().join("src/ir/build.rs")).expect("src/ir/build.rs");
    let missing: Vec<&str> = OPS
        .iter()
        .filter(|o| {
            o.params
                .iter()
                .any(|p| matches!(p.kind, Kind::Tensor | Kind::Tensors))
        })
        .map(|o| o.name)
        .filter(|n| !build.contains(&format!("\"{n}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "ops of src/check/ops.rs that src/ir/build.rs (`to_op`) does not turn into an IR op: {missing:?}"
    );
}
