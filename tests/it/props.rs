//! Properties: the depth checks of properties.md, subgraph selection/growth/splicing and their errors, the
//! analysis merge as a join, rewrites preserving facts, extraction, explanations, JSON round trip, and
//! satisfies / distance / mutate.

use crate::{big_stack, root};
use nasc::check;
use nasc::ir::subgraph::{self, Subgraph, SubgraphError};
use nasc::ir::{self, BuildOptions, Graph, Node, Op};
use nasc::props::lang::{encode, Fact, NasLang, PropsAnalysis};
use nasc::props::{self, Depth, Matrix, Mixing, MutationRates, Props, Shape};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub fn graph(file: &str, block: Option<&str>) -> Graph {
    let path = root().join(file);
    let block = block.map(str::to_string);
    big_stack(move || {
        let r = check::check_paths(&[path]);
        assert!(!r.has_errors(), "{:?}", r.diagnostics);
        ir::build(
            &r.program,
            &BuildOptions {
                block,
                ..Default::default()
            },
        )
        .expect("builds")
    })
}

const CHECKS: &str = "tests/data/props/checks.nasl";

fn depth_of(p: &Props) -> u32 {
    assert_eq!(p.depth.pairs.len(), 1, "{}", p.depth);
    p.depth.pairs[0].depth
}

#[test]
fn cifarnet_has_depth_7_from_input_to_logits() {
    let g = graph("examples/cifarnet.nasl", None);
    let p = props::infer_graph(&g).unwrap();
    assert_eq!(p.depth.get("linear_1", "inputs.x"), Some(7));
}

#[test]
fn avgpool_conv1x1_gelu_has_depth_1() {
    let g = graph(CHECKS, Some("pool_conv_gelu"));
    let sub = Subgraph::select(&g, "p..gelu").unwrap();
    assert_eq!(sub.nodes.len(), 3);
    assert_eq!(depth_of(&props::infer(&g, &sub).unwrap()), 1);
    // The whole program counts the graph input as a nonlinear producer: one more switch.
    assert_eq!(depth_of(&props::infer_graph(&g).unwrap()), 2);
}

#[test]
fn dense_relu_add_has_depth_2() {
    let g = graph(CHECKS, Some("dense_relu_add"));
    let sub = Subgraph::select(&g, "d..add").unwrap();
    assert_eq!(sub.nodes.len(), 3);
    assert_eq!(sub.inputs.len(), 1, "`h` feeds both d and add");
    assert_eq!(depth_of(&props::infer(&g, &sub).unwrap()), 2);
}

#[test]
fn mixing_of_cifarnet_block() {
    let g = graph("examples/cifarnet.nasl", None);
    let p = props::infer(&g, &Subgraph::select(&g, "h_1").unwrap()).unwrap();
    let m = p.mixing.get("h_1.avg_pool", "h").unwrap();
    assert_eq!(m.row_strings(), vec!["o...", "aaaa", "..m.", "...m"]);
    let whole = props::infer_graph(&g).unwrap();
    let m = whole.mixing.get("linear_1", "inputs.x").unwrap();
    assert_eq!(m.row_strings(), vec!["o.", "aa", "aa", "aa"]);
}

#[test]
fn selection_by_path_and_range() {
    let g = graph("examples/cifarnet.nasl", None);
    let s = Subgraph::by_path(&g, "h_1").unwrap();
    let paths = |v: &[usize]| {
        v.iter()
            .map(|&i| g.nodes[i].path.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(&s.nodes), vec!["h_1.conv", "h_1.h", "h_1.avg_pool"]);
    assert_eq!(paths(&s.inputs), vec!["h"]);
    assert_eq!(paths(&s.outputs), vec!["h_1.avg_pool"]);
    let r = Subgraph::select(&g, "h_1.h..h_2.conv").unwrap();
    assert_eq!(paths(&r.nodes), vec!["h_1.h", "h_1.avg_pool", "h_2.conv"]);
    assert_eq!(paths(&r.inputs), vec!["h_1.conv"]);
    let whole = Subgraph::whole(&g).unwrap();
    assert_eq!(whole.inputs, g.inputs);
    assert_eq!(whole.outputs, g.outputs);
}

#[test]
fn bad_selections_are_clear_errors() {
    let g = graph("examples/cifarnet.nasl", None);
    assert_eq!(
        Subgraph::select(&g, "nope"),
        Err(SubgraphError::UnknownPath("nope".into()))
    );
    assert_eq!(
        Subgraph::select(&g, "h_1.conv..missing"),
        Err(SubgraphError::UnknownPath("missing".into()))
    );
    let e = Subgraph::select(&g, "h_2.h..h_1.conv").unwrap_err();
    assert!(matches!(e, SubgraphError::EmptyRange { .. }));
    assert!(e.to_string().contains("does not depend on"), "{e}");
    assert_eq!(
        Subgraph::from_nodes(&g, Vec::new()),
        Err(SubgraphError::NoOutputs)
    );
    assert!(SubgraphError::NoOutputs.to_string().contains("no outputs"));
}

#[test]
fn random_growth_gives_valid_subgraphs() {
    let g = graph("examples/resnet34.nasl", None);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ops = g
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Param { .. }))
        .count();
    for _ in 0..300 {
        let s = Subgraph::grow(&g, &mut rng, 0.75, 0.8, None).unwrap();
        assert!(!s.nodes.is_empty() && s.nodes.len() <= (ops as f64 * 0.8) as usize);
        assert!(!s.outputs.is_empty() && !s.inputs.is_empty());
        // The grown set is connected: every node but the first touches another one of the set.
        if s.nodes.len() > 1 {
            for &n in &s.nodes {
                let touches = g.nodes[n].inputs.iter().any(|i| s.nodes.contains(i))
                    || s.nodes.iter().any(|&m| g.nodes[m].inputs.contains(&n));
                assert!(touches, "{}", g.nodes[n].path);
            }
        }
        props::infer(&g, &s).unwrap();
    }
    // Deterministic for a seed.
    let a = Subgraph::grow(&g, &mut ChaCha8Rng::seed_from_u64(3), 0.75, 0.8, None).unwrap();
    let b = Subgraph::grow(&g, &mut ChaCha8Rng::seed_from_u64(3), 0.75, 0.8, None).unwrap();
    assert_eq!(a, b);
}

#[test]
fn splicing_a_subgraph_back_is_the_identity() {
    let g = graph("examples/resnet18.nasl", None);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..30 {
        let s = Subgraph::grow(&g, &mut rng, 0.75, 0.5, None).unwrap();
        let rep = subgraph::extract(&g, &s);
        rep.verify().unwrap();
        let h = subgraph::splice(&g, &s, &rep).unwrap();
        assert_eq!(h.nodes.len(), g.nodes.len());
        assert_eq!(
            props::infer_graph(&h).unwrap(),
            props::infer_graph(&g).unwrap()
        );
    }
}

#[test]
fn splicing_rewires_and_removes_dead_nodes() {
    let g = graph("examples/cifarnet.nasl", None);
    // linear → relu replaced by a single linear: the relu disappears.
    let sub = Subgraph::select(&g, "linear..h_4").unwrap();
    let one = subgraph::extract(&g, &Subgraph::select(&g, "linear..linear").unwrap());
    let h = subgraph::splice(&g, &sub, &one).unwrap();
    assert_eq!(h.nodes.len(), g.nodes.len() - 1);
    assert!(!h.nodes.iter().any(|n| n.path == "h_4"));
    assert_eq!(
        props::infer_graph(&h).unwrap().depth.pairs[0].depth,
        5,
        "two switches fewer"
    );
    // h_2 replaced by a learned constant: everything before it but the input dies.
    let sub = Subgraph::select(&g, "h_2").unwrap();
    let inner = &g.nodes[sub.inputs[0]];
    let out = &g.nodes[sub.outputs[0]];
    let rep = Graph {
        name: "rep".into(),
        nodes: vec![
            Node {
                op: Op::Input { name: "x".into() },
                inputs: vec![],
                shape: inner.shape.clone(),
                path: "inputs.x".into(),
                span: inner.span,
            },
            Node {
                op: Op::Param {
                    shape: out.shape.clone(),
                },
                inputs: vec![],
                shape: out.shape.clone(),
                path: "constant".into(),
                span: out.span,
            },
        ],
        inputs: vec![0],
        outputs: vec![1],
        choices: vec![],
    };
    let h = subgraph::splice(&g, &sub, &rep).unwrap();
    let paths: Vec<&str> = h.nodes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["inputs.x", "constant", "h_3", "linear", "h_4", "linear_1"]
    );
    // Shapes must fit.
    let bad = subgraph::extract(&g, &Subgraph::select(&g, "h_1").unwrap());
    assert!(matches!(
        subgraph::splice(&g, &sub, &bad),
        Err(SubgraphError::Mismatch(_))
    ));
}

fn facts(g: &Graph) -> (egg::EGraph<NasLang, PropsAnalysis>, Vec<egg::Id>, Vec<Fact>) {
    let mut eg = egg::EGraph::new(PropsAnalysis::default());
    let enc = encode(&mut eg, g, &Subgraph::whole(g).unwrap());
    let f = enc.outputs.iter().map(|&o| eg[o].data.clone()).collect();
    (eg, enc.outputs, f)
}

#[test]
fn rewrites_preserve_every_fact() {
    for (file, block) in [
        (CHECKS, Some("conv_form")),
        (CHECKS, Some("dense_form")),
        ("examples/cifarnet.nasl", None),
        ("examples/resnet18.nasl", None),
        ("examples/mobilenet_v2.nasl", None),
    ] {
        let g = graph(file, block);
        let (eg, outs, before) = facts(&g);
        let classes: Vec<(egg::Id, Fact)> = eg.classes().map(|c| (c.id, c.data.clone())).collect();
        let r = egg::Runner::default()
            .with_egraph(eg)
            .with_iter_limit(6)
            .with_node_limit(5_000)
            .run(&props::rules());
        for (o, f) in outs.iter().zip(&before) {
            assert_eq!(
                &r.egraph[*o].data, f,
                "{file} {block:?}: output fact changed"
            );
        }
        for (id, f) in classes {
            assert_eq!(
                &r.egraph[id].data, &f,
                "{file} {block:?}: a class fact grew"
            );
        }
    }
}

#[test]
fn merge_is_a_join() {
    let g = graph(CHECKS, Some("conv3_form"));
    let (eg, _, _) = facts(&g);
    let fs: Vec<Fact> = eg.classes().map(|c| c.data.clone()).collect();
    let same_shape: Vec<&Fact> = fs.iter().filter(|f| f.shape == fs[0].shape).collect();
    for a in &same_shape {
        assert_eq!(&a.join(a), *a, "idempotent");
        for b in &same_shape {
            assert_eq!(a.join(b), b.join(a), "commutative");
            for c in &same_shape {
                assert_eq!(a.join(b).join(c), a.join(&b.join(c)), "associative");
            }
        }
    }
}

#[test]
fn extraction_drops_identities() {
    let g = graph(CHECKS, Some("conv_form"));
    let terms = props::extract(&g, &Subgraph::whole(&g).unwrap());
    assert_eq!(terms.len(), 1);
    assert!(!terms[0].contains("identity"), "{}", terms[0]);
    assert!(terms[0].starts_with("(add"), "{}", terms[0]);
}

#[test]
fn explanations_prove_equal_programs_and_name_differences() {
    let a = graph(CHECKS, Some("conv_form"));
    let b = graph(CHECKS, Some("dense_form"));
    let c = graph(CHECKS, Some("conv3_form"));
    let whole = |g: &Graph| Subgraph::whole(g).unwrap();
    let e = props::explain((&a, &whole(&a)), (&b, &whole(&b))).unwrap();
    assert!(e.same_properties, "{e}");
    let proof = e.proofs[0]
        .as_ref()
        .expect("the rules prove conv_form = dense_form");
    assert!(proof.contains("conv1x1-dense"), "{proof}");
    assert!(proof.contains("add-comm"), "{proof}");
    let e = props::explain((&a, &whole(&a)), (&c, &whole(&c))).unwrap();
    assert!(!e.same_properties);
    assert!(e.proofs[0].is_none());
    assert_eq!(e.differences, vec!["mixing matrices differ".to_string()]);
    assert!(e.to_string().contains("not proven equal"));
}

#[test]
fn json_round_trip_and_schema() {
    let g = graph("examples/cifarnet.nasl", None);
    let p = props::infer(&g, &Subgraph::select(&g, "h_1").unwrap()).unwrap();
    let text = serde_json::to_string_pretty(&p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["inputs", "outputs", "depth", "mixing", "source"] {
        assert!(v.get(key).is_some(), "{key} missing in {text}");
    }
    assert_eq!(v["mixing"][0]["matrix"][1], "aaaa");
    assert_eq!(v["depth"][0]["depth"], 2);
    let back: Props = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p);
    // The minimal hand-written form (what `synth --props` reads).
    let hand = r#"{"inputs":[{"name":"x","shape":[1,8,4,4]}],"outputs":[{"name":"y","shape":[1,8,4,4]}],
        "depth":[{"output":"y","input":"x","depth":1}],
        "mixing":[{"output":"y","input":"x","matrix":["o...","aaaa","..m.","...m"]}]}"#;
    let h: Props = serde_json::from_str(hand).unwrap();
    assert_eq!(h.mixing.pairs[0].matrix.get(2, 2), props::Mix::Many);
    assert!(serde_json::from_str::<Props>(&hand.replace("..m.", "..z.")).is_err());
}

#[test]
fn satisfies_distance_mutate() {
    let g = graph("examples/cifarnet.nasl", None);
    let p = props::infer(&g, &Subgraph::select(&g, "h_1").unwrap()).unwrap();
    assert!(Props::satisfies(&p, &p));
    assert_eq!(Props::distance(&p, &p), Some(0.0));
    // A deeper target is missed by half (2 of 4), a shallower one is met.
    let mut deeper = p.depth.clone();
    deeper.pairs[0].depth = 4;
    assert_eq!(Depth::distance(&deeper, &p.depth), 0.5);
    assert!(!Depth::satisfies(&p.depth, &deeper));
    let mut shallower = p.depth.clone();
    shallower.pairs[0].depth = 0;
    assert!(Depth::satisfies(&p.depth, &shallower));
    assert_eq!(Depth::distance(&deeper, &Depth::default()), 1.0);
    // Mixing: a 1×1 conv block lacks the spatial `m`s of the 3×3 one.
    let mut one = p.mixing.clone();
    one.pairs[0].matrix = Matrix::from_rows(&["o...", "aaaa", "..o.", "...o"]).unwrap();
    assert!(Mixing::satisfies(&p.mixing, &one));
    assert_eq!(Mixing::distance(&p.mixing, &one), 2.0 / 7.0);
    // Shape: other inputs → undefined; a spatial factor of 2 is defined; 3 vs 2 is not.
    let mut s = p.shape.clone();
    s.outputs[0].shape = vec![1, 64, 8, 8];
    assert_eq!(Shape::distance(&s, &p.shape), Some(0.5));
    s.outputs[0].shape = vec![1, 64, 16, 8];
    assert_eq!(Shape::distance(&s, &p.shape), None);
    s.inputs[0].shape = vec![1, 3, 32, 32];
    assert_eq!(Shape::distance(&s, &p.shape), None);
    // Mutation: p = 1 drops every mixing pair, moves every depth by 2 (clamped at 0); p = 0 keeps all.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let m = p.mutate(
        &mut rng,
        MutationRates {
            shape: 0.0,
            depth: 1.0,
            mixing: 1.0,
        },
    );
    assert!(m.mixing.pairs.is_empty());
    assert!(matches!(m.depth.pairs[0].depth, 0 | 4));
    assert_eq!(m.shape, p.shape);
    let same = p.mutate(
        &mut rng,
        MutationRates {
            shape: 0.0,
            depth: 0.0,
            mixing: 0.0,
        },
    );
    assert_eq!(same, p);
    for _ in 0..50 {
        let m = p.mutate(&mut rng, MutationRates::SMALL);
        assert!(m.depth.pairs[0].depth.abs_diff(2) <= 2);
    }
    // Renaming by position lets the props of a replacement be compared with the original's.
    let g2 = graph("examples/cifarnet.nasl", None);
    let q = props::infer(
        &g2,
        &Subgraph::select(&g2, "h_2.conv..h_2.avg_pool").unwrap(),
    )
    .unwrap();
    assert!(!Props::satisfies(&q, &p));
    assert!(
        Props::distance(&p, &q.renamed_like(&p)).is_none(),
        "inputs differ"
    );
}

#[test]
fn cli_props_reports_bad_selections_with_exit_code_2() {
    use clap::Parser;
    use std::process::ExitCode;
    let file = root().join("examples/cifarnet.nasl").display().to_string();
    let run = move |args: Vec<String>| {
        big_stack(move || nasc::cli::run(nasc::cli::Cli::parse_from(args)))
    };
    let args = |extra: &[&str]| {
        let mut v = vec!["nasc".to_string(), "props".into(), file.clone()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    assert_eq!(run(args(&["--block", "nope"])), ExitCode::from(2));
    assert_eq!(
        run(args(&["--subgraph", "h_1.conv..nope"])),
        ExitCode::from(2)
    );
    assert_eq!(
        run(args(&["--subgraph", "h_2.h..h_1.conv"])),
        ExitCode::from(2)
    );
    assert_eq!(run(args(&["--entry", "missing"])), ExitCode::from(2));
    assert_eq!(run(args(&["--block", "h_1", "--json"])), ExitCode::SUCCESS);
    assert_eq!(run(args(&[])), ExitCode::SUCCESS);
}

#[test]
fn every_example_has_properties_that_round_trip_through_json() {
    for f in crate::nasl_files("examples") {
        let rel = crate::rel(&f);
        let g = graph(&rel, None);
        let p = props::infer_graph(&g).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(p.shape.outputs.len(), g.outputs.len(), "{rel}");
        let back: Props = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p, "{rel}");
        assert!(Props::satisfies(&p, &p), "{rel}");
    }
}
