//! Synthesis against the real z3: identity targets of example block instances, mutated targets (a
//! property test: every program re-checks, lowers with the target's shapes on libtorch and satisfies its
//! target), impossible and hard targets (unsat with the right fields, unknown on a time limit), target
//! validation, diversity, objectives and the CLI (`--replace`, exit codes, a snapshot).

use crate::big_stack;
use nasc::props::{MutationRates, Props};
use nasc::synth::{self, Constraints, Instance, Objective, Options, Outcome, Solution, Target};
use proptest::prelude::*;
use rand::SeedableRng;
use std::time::Duration;

fn graph(file: &str) -> nasc::ir::Graph {
    crate::props::graph(file, None)
}

fn opts(i: Option<&Instance>) -> Options {
    Options {
        timeout: Duration::from_secs(60),
        replaced_ops: i.map(|i| i.ops),
        ..Default::default()
    }
}

fn solve(t: &Target, o: &Options) -> Outcome {
    synth::synthesize(t, o).expect("no internal error").0
}

/// What the property test checks of every program: it checks, builds, runs on libtorch with the
/// target's output shape, and satisfies the target (re-inferred here, independently of `synthesize`).
fn verify(sol: &Solution, target: &Props) {
    let batch = target.shape.inputs[0].shape[0];
    let g = synth::build_text(
        std::path::Path::new("<synth>.nasl"),
        &sol.nasl,
        Some("synth"),
        batch,
    )
    .unwrap_or_else(|e| panic!("does not check: {e}\n{}", sol.nasl));
    let p = synth::props_in_context(&g, target.shape.inputs[0].producer)
        .expect("props")
        .renamed_like(target);
    assert!(
        Props::satisfies(&p, target),
        "does not satisfy its target:\n{}\nactual:\n{p}",
        sol.nasl
    );
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let net = nasc::lower::Network::new(&vs.root(), &g).expect("lowers");
    let x = tch::Tensor::randn(
        target.shape.inputs[0].shape.as_slice(),
        (tch::Kind::Float, tch::Device::Cpu),
    );
    let y = net.forward_t(&x, false).expect("runs");
    assert_eq!(y.size(), target.shape.outputs[0].shape, "{}", sol.nasl);
}

fn small_instances() -> Vec<Instance> {
    let mut v = Vec::new();
    for f in [
        "examples/cifarnet.nasl",
        "examples/fmnist_cnn.nasl",
        "examples/resnet20.nasl",
        "examples/mobilenet_v2.nasl",
    ] {
        v.extend(
            synth::instances(&graph(f))
                .into_iter()
                .filter(|i| i.ops <= 10),
        );
    }
    v
}

#[test]
fn identity_targets_of_example_instances_are_met() {
    big_stack(|| {
        let inst = small_instances();
        assert!(inst.len() >= 20, "{} instances", inst.len());
        for i in &inst {
            let t = Target::new(i.props.clone(), Constraints::default()).expect("valid");
            match solve(&t, &opts(Some(i))) {
                Outcome::Sat { solutions } => verify(&solutions[0], &t.props),
                other => panic!("{}: {other:?}", i.path),
            }
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn synthesized_programs_satisfy_mutated_targets(pick in 0usize..1000, seed in 0u64..1_000_000) {
        big_stack(move || {
            let inst = small_instances();
            let i = &inst[pick % inst.len()];
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let props = i.props.mutate(&mut rng, MutationRates::SMALL);
            let t = Target::new(props, Constraints::default()).expect("valid");
            let o = Options { seed: Some(seed), ..opts(Some(i)) };
            if let Outcome::Sat { solutions } = solve(&t, &o) {
                for s in &solutions {
                    verify(s, &t.props);
                }
            }
        })
    }
}

fn cifar_block() -> Instance {
    synth::instances(&graph("examples/cifarnet.nasl"))
        .into_iter()
        .find(|i| i.path == "h_1")
        .expect("h_1")
}

#[test]
fn raised_depth_beyond_the_ops_is_unsat_and_names_depth() {
    big_stack(|| {
        let mut p = cifar_block().props;
        p.depth.pairs[0].depth = 9;
        let c = Constraints {
            max_ops: Some(6),
            ..Default::default()
        };
        let t = Target::new(p, c).unwrap();
        match solve(&t, &opts(None)) {
            Outcome::Unsat { explanation } => {
                assert!(
                    explanation.fields.contains(&"depth[0]".to_string()),
                    "{explanation:?}"
                );
                assert!(
                    explanation.summary.contains("≥ 9"),
                    "{}",
                    explanation.summary
                );
            }
            o => panic!("{o:?}"),
        }
    })
}

#[test]
fn growing_spatial_dims_is_unsat_and_names_the_shape() {
    big_stack(|| {
        let mut p = cifar_block().props;
        p.shape.outputs[0].shape = vec![1, 64, 64, 64];
        p.mixing.pairs.clear();
        let t = Target::new(p, Constraints::default()).unwrap();
        match solve(&t, &opts(None)) {
            Outcome::Unsat { explanation } => {
                assert!(
                    explanation.fields.contains(&"outputs[0].shape".to_string()),
                    "{explanation:?}"
                );
            }
            o => panic!("{o:?}"),
        }
    })
}

#[test]
fn a_parameter_budget_below_any_channel_change_is_unsat_and_named() {
    big_stack(|| {
        // 32 → 64 channels: some conv must change them; the cheapest (1×1 depthwise, 64 weights and
        // 64 biases) has 128 parameters
        let p = cifar_block().props;
        // (a chain: concat(softmax(x), x) would double the channels with no parameter at all)
        let c = Constraints {
            max_params: Some(100),
            max_ops: Some(4),
            sketches: Some(vec!["chain".into()]),
            ..Default::default()
        };
        let t = Target::new(p, c).unwrap();
        match solve(&t, &opts(None)) {
            Outcome::Unsat { explanation } => assert!(
                explanation
                    .fields
                    .contains(&"constraints.max_params".to_string()),
                "{explanation:?}"
            ),
            o => panic!("{o:?}"),
        }
    })
}

#[test]
fn budgets_and_objectives_are_respected() {
    big_stack(|| {
        let i = cifar_block();
        let chain = || Constraints {
            sketches: Some(vec!["chain".into()]),
            ..Default::default()
        };
        let t = Target::new(i.props.clone(), chain()).unwrap();
        let free = match solve(
            &t,
            &Options {
                count: 3,
                ..opts(Some(&i))
            },
        ) {
            Outcome::Sat { solutions } => solutions,
            o => panic!("{o:?}"),
        };
        let most = free.iter().map(|s| s.params).max().unwrap();
        let o = Options {
            objective: Objective::FewestParams,
            ..opts(Some(&i))
        };
        let best = match solve(&t, &o) {
            Outcome::Sat { solutions } => solutions[0].clone(),
            o => panic!("{o:?}"),
        };
        verify(&best, &t.props);
        assert!(
            free.iter().all(|s| best.params <= s.params),
            "{} vs {most}",
            best.params
        );
        // the best as a budget is feasible; one below it (within the same range) is not
        assert!(best.params > 0, "a chain must change channels with a conv");
        let c = Constraints {
            max_params: Some(best.params),
            ..chain()
        };
        let t2 = Target::new(i.props.clone(), c).unwrap();
        match solve(&t2, &opts(Some(&i))) {
            Outcome::Sat { solutions } => assert!(solutions[0].params <= best.params),
            o => panic!("{o:?}"),
        }
        let c = Constraints {
            max_params: Some(best.params - 1),
            ..chain()
        };
        let t3 = Target::new(i.props.clone(), c).unwrap();
        assert!(matches!(solve(&t3, &opts(Some(&i))), Outcome::Unsat { .. }));
        // the same for MACs (the `nasc cost` convention)
        let o = Options {
            objective: Objective::FewestFlops,
            ..opts(Some(&i))
        };
        let best = match solve(&t, &o) {
            Outcome::Sat { solutions } => solutions[0].clone(),
            o => panic!("{o:?}"),
        };
        verify(&best, &t.props);
        assert!(free.iter().all(|s| best.flops <= s.flops));
        let c = Constraints {
            max_flops: Some(best.flops - 1),
            ..chain()
        };
        let t4 = Target::new(i.props.clone(), c).unwrap();
        match solve(&t4, &opts(Some(&i))) {
            Outcome::Unsat { explanation } => assert!(
                explanation
                    .fields
                    .contains(&"constraints.max_flops".to_string()),
                "{explanation:?}"
            ),
            o => panic!("{o:?}"),
        }
    })
}

#[test]
fn a_time_limit_gives_unknown_never_unsat() {
    big_stack(|| {
        let i = synth::instances(&graph("examples/resnet20.nasl"))
            .into_iter()
            .max_by_key(|i| i.ops)
            .unwrap();
        let t = Target::new(i.props.clone(), Constraints::default()).unwrap();
        for ms in [1, 50] {
            let o = Options {
                timeout: Duration::from_millis(ms),
                ..opts(Some(&i))
            };
            match solve(&t, &o) {
                Outcome::Unknown { reason } => assert!(reason.contains("time limit"), "{reason}"),
                o => panic!("{ms} ms: {o:?}"),
            }
        }
    })
}

#[test]
fn count_gives_distinct_programs_and_seeds_reproduce() {
    big_stack(|| {
        let i = cifar_block();
        let t = Target::new(i.props.clone(), Constraints::default()).unwrap();
        let run = |seed: Option<u64>| -> Vec<String> {
            let o = Options {
                count: 4,
                seed,
                ..opts(Some(&i))
            };
            match solve(&t, &o) {
                Outcome::Sat { solutions } => solutions.into_iter().map(|s| s.nasl).collect(),
                o => panic!("{o:?}"),
            }
        };
        let a = run(Some(7));
        assert_eq!(a.len(), 4);
        let distinct: std::collections::HashSet<&String> = a.iter().collect();
        assert_eq!(distinct.len(), 4, "{a:#?}");
        assert_eq!(a, run(Some(7)), "the same seed gives the same programs");
        assert_ne!(a, run(Some(8)), "another seed explores elsewhere");
        assert_eq!(run(None), run(None));
    })
}

#[test]
fn linear_producers_shift_depth_like_props_does() {
    big_stack(|| {
        // h_1 of cifarnet is fed by a conv: its target depth counts from a linear producer
        let i = cifar_block();
        assert_eq!(
            i.props.shape.inputs[0].producer,
            nasc::props::Producer::Linear
        );
        let t = Target::new(i.props.clone(), Constraints::default()).unwrap();
        match solve(&t, &opts(Some(&i))) {
            Outcome::Sat { solutions } => verify(&solutions[0], &t.props),
            o => panic!("{o:?}"),
        }
    })
}

#[test]
fn malformed_targets_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("{\"inputs\": [", ""),
        ("[]", ""),
        (r#"{"inputs": [], "outputs": [], "depht": []}"#, "depht"),
        (r#"{"outputs": []}"#, "inputs"),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [1, 8, 4, 4]}],
               "mixing": [{"output": "y", "input": "x", "matrix": ["o.", ".o"]}]}"#,
            "mixing[0].matrix",
        ),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [1, 8, 4, 4]}],
               "depth": [{"output": "z", "input": "x", "depth": 2}]}"#,
            "depth[0].output",
        ),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [1, 8, 4, 4]}],
               "constraints": {"ops": ["conv", "relux"]}}"#,
            "constraints.ops[1]",
        ),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [1, 8, 4, 4]}],
               "constraints": {"max_param": 10}}"#,
            "constraints.max_param",
        ),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [2, 8, 4, 4]}]}"#,
            "outputs[0].shape",
        ),
        (
            r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": [1, 8, 4, 4]}],
               "constraints": {"kernel": [2]}}"#,
            "constraints.kernel[0]",
        ),
    ];
    for (text, field) in cases {
        let e = synth::target::parse(text).expect_err(text);
        assert_eq!(e.field, *field, "{text}: {e}");
        assert!(!e.message.is_empty());
    }
    let e = synth::target::parse("{\n  \"inputs\": [,]\n}").unwrap_err();
    assert_eq!(e.position.map(|p| p.0), Some(2), "{e:?}");
}

use crate::run_nasc as nasc;

#[test]
fn cli_replace_prints_a_program_that_checks() {
    let (code, out, err) = nasc(&["synth", "--replace", "examples/cifarnet.nasl:h_1"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("synth_replace_cifarnet_h_1", out);
    let dir = std::env::temp_dir().join(format!("nasc-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("replaced.nasl");
    std::fs::write(&f, &out).unwrap();
    let (code, _, err) = nasc(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = nasc(&["fmt", "--check", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn cli_props_round_trip_and_exit_codes() {
    let dir = std::env::temp_dir().join(format!("nasc-synth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (code, props, err) = nasc(&[
        "props",
        "examples/resnet20.nasl",
        "--block",
        "h_1.repeat.0",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let t = dir.join("t.json");
    std::fs::write(&t, &props).unwrap();
    let (code, out, err) = nasc(&[
        "synth",
        "--props",
        t.to_str().unwrap(),
        "--count",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "sat");
    assert_eq!(v["solutions"].as_array().unwrap().len(), 2);
    // several programs in one output form one file that checks
    let (code, out, err) = nasc(&["synth", "--props", t.to_str().unwrap(), "--count", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("\nblock synth_").count(), 3, "{out}");
    let f = dir.join("three.nasl");
    std::fs::write(&f, &out).unwrap();
    let (code, _, err) = nasc(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // impossible: exit 1 with an explanation
    let mut j: serde_json::Value = serde_json::from_str(&props).unwrap();
    j["depth"][0]["depth"] = serde_json::json!(40);
    j["constraints"] = serde_json::json!({"max_ops": 5});
    std::fs::write(&t, j.to_string()).unwrap();
    let (code, _, err) = nasc(&["synth", "--props", t.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unsat") && err.contains("depth[0]"), "{err}");
    // malformed: exit 2 with a diagnostic pointing into the file
    std::fs::write(&t, "{\n  \"inputs\": [],\n  \"outptus\": []\n}\n").unwrap();
    let (code, _, err) = nasc(&["synth", "--props", t.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E0700") && err.contains("outptus") && err.contains("outputs"),
        "{err}"
    );
    assert!(err.contains(":3:"), "points at line 3: {err}");
    // a missing file and a nested --replace path are usage errors
    let (code, _, _) = nasc(&["synth", "--props", "no/such.json"]);
    assert_eq!(code, 2);
    let (code, _, err) = nasc(&["synth", "--replace", "examples/resnet20.nasl:h_1.repeat"]);
    assert_eq!(code, 2);
    assert!(err.contains("top-level"), "{err}");
}

/// Every bad target of tests/data/synth: the JSON path and the line and column of the value it is about
/// (one snapshot: a reviewer reads the whole table).
#[test]
fn bad_targets_point_at_the_field() {
    let dir = crate::root().join("tests/data/synth");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("bad_"))
        .collect();
    files.sort();
    assert!(files.len() >= 18);
    let mut table = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let e = synth::target::parse(&text).expect_err(&f.display().to_string());
        let (l, c) = e.position.unwrap_or((0, 0));
        table.push_str(&format!(
            "{}:{l}:{c}  {}  {}\n",
            f.file_name().unwrap().to_string_lossy(),
            if e.field.is_empty() { "-" } else { &e.field },
            e.message
        ));
    }
    insta::assert_snapshot!(table);
    // the CLI: exit 2, the caret on the value, and a JSON record for scripts
    let f = dir.join("bad_01_string_in_shape.json");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nasc"))
        .args(["synth", "--props", f.to_str().unwrap(), "--json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad_01_string_in_shape.json:3:45"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "invalid_target");
    assert_eq!(v["field"], "outputs[0].shape[2]");
    assert_eq!(
        (v["line"].as_u64(), v["column"].as_u64()),
        (Some(3), Some(45))
    );
}

fn unsat_fields(json: &str) -> Vec<String> {
    let t = synth::target::parse(json).unwrap();
    match solve(&t, &Options::default()) {
        Outcome::Unsat { explanation } => explanation.fields,
        o => panic!("{o:?}"),
    }
}

/// The op library and argument domains are not assertions z3 can put in a core; an unsat answer still
/// names the restrictions without which a program exists, and only those.
#[test]
fn unsat_answers_name_the_library_restrictions_that_matter() {
    let head =
        r#"{"inputs": [{"name": "x", "shape": [1, 8, 4, 4]}], "outputs": [{"name": "y", "shape": "#;
    let f = unsat_fields(&format!(
        r#"{head}[1, 32, 4, 4]}}], "constraints": {{"ops": ["relu"], "max_ops": 2}}}}"#
    ));
    assert!(f.contains(&"constraints.ops".to_string()), "{f:?}");
    // both a stride-2 conv and a pool would halve the size: each restriction is named
    let f = unsat_fields(&format!(
        r#"{head}[1, 8, 2, 2]}}], "constraints": {{"ops": ["conv", "relu"], "stride": [1], "max_ops": 2}}}}"#
    ));
    assert!(
        f.contains(&"constraints.ops".to_string()) && f.contains(&"constraints.stride".to_string()),
        "{f:?}"
    );
    // no library grows the spatial size: the library is not blamed
    let f = unsat_fields(&format!(
        r#"{head}[1, 8, 8, 8]}}], "constraints": {{"ops": ["conv", "relu"], "max_ops": 2}}}}"#
    ));
    assert!(f.iter().all(|x| !x.starts_with("constraints.")), "{f:?}");
}
