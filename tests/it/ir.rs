//! The IR: every example builds into a verified graph; printing is stable; decisions pick alternatives.

use crate::{big_stack, nasl_files, root};
use nasc::check;
use nasc::ir::{self, BuildError, BuildOptions, Graph, Op};

fn build(file: &str, opts: BuildOptions) -> Result<Graph, BuildError> {
    let path = root().join(file);
    big_stack(move || {
        let r = check::check_paths(&[path]);
        assert!(!r.has_errors(), "{:?}", r.diagnostics);
        ir::build(&r.program, &opts)
    })
}

#[test]
fn every_example_builds_a_verified_graph() {
    for f in nasl_files("examples") {
        let rel = crate::rel(&f);
        let g = build(&rel, BuildOptions::default()).unwrap_or_else(|e| panic!("{rel}: {e}"));
        g.verify().unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(!g.inputs.is_empty() && g.outputs.len() == 1, "{rel}");
        let users = g.users();
        for (i, n) in g.nodes.iter().enumerate() {
            let is_output = g.outputs.contains(&i);
            assert!(
                is_output || !users[i].is_empty() || matches!(n.op, Op::Input { .. }),
                "{rel}: dead node {}",
                n.path
            );
        }
    }
}

#[test]
fn cifarnet_ir_snapshot() {
    let g = build(
        "examples/cifarnet.nasl",
        BuildOptions {
            batch: Some(8),
            ..Default::default()
        },
    )
    .expect("builds");
    insta::assert_snapshot!(g.to_string());
}

#[test]
fn decisions_select_alternatives() {
    let count_convs = |g: &Graph| {
        g.nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Conv { .. }))
            .count()
    };
    let all_none = BuildOptions::default(); // alternative 0 of every edge: `none`
    let g0 = build("examples/nb201_space.nasl", all_none).expect("builds");
    let mut opts = BuildOptions::default();
    for e in ["e01", "e02", "e03", "e12", "e13", "e23"] {
        opts.choices.insert(e.to_string(), 3); // conv3x3 everywhere
    }
    let g3 = build("examples/nb201_space.nasl", opts).expect("builds");
    assert_eq!(g3.choices.iter().filter(|c| c.chosen == 3).count(), 6);
    // 15 cells × 6 edges of relu-conv-bn more than the all-`none` cell
    assert_eq!(count_convs(&g3) - count_convs(&g0), 15 * 6);
}

#[test]
fn bad_requests_are_usage_errors() {
    let mut opts = BuildOptions::default();
    opts.choices.insert("nope".into(), 1);
    assert!(
        matches!(build("examples/nb201_space.nasl", opts), Err(BuildError::Usage(m)) if m.contains("no decision `nope`"))
    );
    let opts = BuildOptions {
        block: Some("missing".into()),
        ..Default::default()
    };
    assert!(
        matches!(build("examples/cifarnet.nasl", opts), Err(BuildError::Usage(m)) if m.contains("no block `missing`"))
    );
    let mut opts = BuildOptions::default();
    opts.choices.insert("e01".into(), 9);
    assert!(
        matches!(build("examples/nb201_space.nasl", opts), Err(BuildError::Usage(m)) if m.contains("out of range"))
    );
}
