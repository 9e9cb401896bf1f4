//! Training-free scores: the EPE-NAS formula's invariants and its conformance with an independent numpy
//! version of the reference code (both class-count forms), the rank statistics, the live graph (same
//! logits as the full graph), and `nasc score` / `nasc search random` end to end on NAS-Bench-201 cells
//! (determinism under --seed, no signal sorted last, correlations, errors and exit codes).

use crate::root;
use nasc::score::epe::epe_score;
use nasc::score::{live, stats, Signal};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::process::Command;

fn value(s: &Signal) -> f64 {
    s.value()
        .unwrap_or_else(|| panic!("expected a value, got {s:?}"))
}

/// `n` rows of `d` entries: a class-shared direction plus noise, so correlations are nontrivial.
fn jacobian(n: usize, d: usize, labels: &[i64], seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let base: Vec<Vec<f64>> = (0..8)
        .map(|_| (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let mut out = Vec::with_capacity(n * d);
    for &l in labels.iter().take(n) {
        let b = &base[(l as usize) % base.len()];
        let w = rng.gen_range(0.2..2.0);
        for v in b {
            out.push(w * v + rng.gen_range(-1.0..1.0));
        }
    }
    out
}

fn labels(n: usize, classes: i64, seed: u64) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(0..classes)).collect()
}

#[test]
fn epe_is_invariant_to_scaling_and_to_order_within_a_class() {
    let (n, d) = (40, 64);
    let y = labels(n, 4, 1);
    let j = jacobian(n, d, &y, 2);
    let s = value(&epe_score(&j, d, &y, false));
    // scaling the whole matrix, and each row by its own positive or negative factor
    let scaled: Vec<f64> = j.iter().map(|v| v * 1e3).collect();
    let per_row: Vec<f64> = j
        .iter()
        .enumerate()
        .map(|(k, v)| v * if (k / d) % 2 == 0 { -0.5 } else { 7.0 })
        .collect();
    for m in [&scaled, &per_row] {
        let t = value(&epe_score(m, d, &y, false));
        assert!((t - s).abs() <= 1e-9 * s.abs(), "{t} vs {s}");
    }
    // permuting the samples (rows with their labels)
    let mut order: Vec<usize> = (0..n).collect();
    order.reverse();
    order.swap(3, 17);
    let pj: Vec<f64> = order
        .iter()
        .flat_map(|&i| j[i * d..(i + 1) * d].to_vec())
        .collect();
    let py: Vec<i64> = order.iter().map(|&i| y[i]).collect();
    let t = value(&epe_score(&pj, d, &py, false));
    assert!((t - s).abs() <= 1e-9 * s.abs(), "{t} vs {s}");
    let tp = value(&epe_score(&pj, d, &py, true));
    let sp = value(&epe_score(&j, d, &y, true));
    assert!((tp - sp).abs() <= 1e-9 * sp.abs(), "{tp} vs {sp}");
}

#[test]
fn epe_independent_rows_score_high_identical_rows_near_zero() {
    let (n, d) = (32, 512);
    let y = labels(n, 2, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let iid: Vec<f64> = (0..n * d).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let row: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let same: Vec<f64> = (0..n).flat_map(|_| row.clone()).collect();
    let hi = value(&epe_score(&iid, d, &y, false));
    let lo = value(&epe_score(&same, d, &y, false));
    // identical rows: every correlation is 1, e_c = n_c² ln(1 + 1e-5)
    let expect: f64 = [0, 1]
        .iter()
        .map(|c| {
            let k = y.iter().filter(|l| *l == c).count() as f64;
            k * k * (1.0f64 + 1e-5).ln()
        })
        .sum();
    assert!((lo - expect).abs() < 1e-9, "{lo} vs {expect}");
    assert!(hi > 1000.0 * lo.max(1e-3), "iid {hi}, identical {lo}");
}

#[test]
fn epe_pairwise_form_and_singletons() {
    let d = 16;
    // two classes of 3 rows; e_c / n_c per class, S = (1/2) Σ_i Σ_j |e_i − e_j| = |e_0 − e_1|
    let y = vec![0, 0, 0, 1, 1, 1];
    let j = jacobian(6, d, &y, 5);
    let e = |c: i64| -> f64 {
        let rows: Vec<f64> = (0..6)
            .filter(|&i| y[i] == c)
            .flat_map(|i| j[i * d..(i + 1) * d].to_vec())
            .collect();
        match epe_score(&rows, d, &[c; 3], false) {
            Signal::Value(v) => -v / 3.0, // e_c is a sum of logs of values ≤ 1 (negative)
            s => panic!("{s:?}"),
        }
    };
    let want = (e(0) - e(1)).abs();
    let got = value(&epe_score(&j, d, &y, true));
    assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    // a singleton class: counted as ln(1 + k) in the sum form, left out of the pairwise form
    let mut j2 = j.clone();
    j2.extend(jacobian(1, d, &[0], 6));
    let mut y2 = y.clone();
    y2.push(2);
    let sum1 = value(&epe_score(&j, d, &y, false));
    let sum2 = value(&epe_score(&j2, d, &y2, false));
    assert!((sum2 - sum1 - (1.0f64 + 1e-5).ln()).abs() < 1e-12);
    assert_eq!(epe_score(&j2, d, &y2, true), epe_score(&j, d, &y, true));
    // only singletons: nothing to compare in the pairwise form
    assert!(matches!(
        epe_score(&j[..2 * d], d, &[0, 1], true),
        Signal::NoSignal(_)
    ));
}

#[test]
fn epe_no_signal_is_not_a_number() {
    let d = 8;
    let y = vec![0, 0, 1, 1];
    let mut j = jacobian(4, d, &y, 7);
    j[5] = f64::NAN;
    assert!(matches!(epe_score(&j, d, &y, false), Signal::NoSignal(_)));
    let zero = vec![0.0; 4 * d];
    assert!(matches!(
        epe_score(&zero, d, &y, false),
        Signal::NoSignal(_)
    ));
    let constant = vec![3.0; 4 * d];
    assert!(matches!(
        epe_score(&constant, d, &y, true),
        Signal::NoSignal(_)
    ));
    // and no signal sorts after every number, including -inf-like values
    let mut v = [
        Signal::NoSignal("x".into()),
        Signal::Value(-1e300),
        Signal::Value(2.0),
    ];
    v.sort_by(Signal::better_first);
    assert_eq!(v[0], Signal::Value(2.0));
    assert!(matches!(v[2], Signal::NoSignal(_)));
}

/// The reference code's `eval_score_perclass` (EPE-NAS `search.py`), written here independently in numpy.
const NUMPY_EPE: &str = r#"
import sys
import numpy as np
n, d, n_classes = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
labels = [int(v) for v in sys.argv[5].split(',')]
jacob = np.fromfile(sys.argv[1], dtype='<f8').reshape(n, d)
k = 1e-5
per_class = {}
for i, label in enumerate(labels):
    if label in per_class:
        per_class[label] = np.vstack((per_class[label], jacob[i]))
    else:
        per_class[label] = jacob[i]
ind = {}
for c in per_class.keys():
    try:
        corrs = np.corrcoef(per_class[c])
        s = np.sum(np.log(abs(corrs) + k))
        if n_classes > 100:
            s /= len(corrs)
    except Exception:
        continue
    ind[c] = s
score = 0.0
if n_classes <= 100:
    for c in ind:
        score += np.absolute(ind[c])
else:
    for c in ind:
        for cj in ind:
            score += np.absolute(ind[c] - ind[cj])
    score /= len(ind)
print(repr(float(score)))
"#;

#[test]
fn epe_conforms_to_numpy_reference() {
    let Some(py) = crate::export::python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("nasc-epe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // (rows, dim, classes, the class count given to the reference)
    for (case, (n, d, classes, n_classes)) in
        [(64, 300, 10, 10), (90, 128, 120, 120), (50, 64, 7, 7)]
            .into_iter()
            .enumerate()
    {
        let mut y = labels(n, classes, 10 + case as u64);
        y[0] = classes + 5; // a singleton class
        let j = jacobian(n, d, &y, 20 + case as u64);
        let file = dir.join(format!("j{case}.f64"));
        let bytes: Vec<u8> = j.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&file, bytes).expect("write");
        let labels_arg = y.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let o = Command::new(&py)
            .arg("-c")
            .arg(NUMPY_EPE)
            .arg(&file)
            .args([
                n.to_string(),
                d.to_string(),
                n_classes.to_string(),
                labels_arg,
            ])
            .output()
            .expect("python runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let want: f64 = String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("a number");
        let got = value(&epe_score(&j, d, &y, n_classes > 100));
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "case {case}: nasc {got}, numpy {want}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rank_statistics() {
    // scipy.stats.kendalltau / spearmanr on small vectors with ties
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let y = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0];
    let t = stats::kendall_tau_b(&x, &y).unwrap();
    assert!((t - 0.6).abs() < 1e-12, "{t}");
    let r = stats::spearman(&x, &y).unwrap();
    assert!((r - (1.0 - 6.0 * 6.0 / (6.0 * 35.0))).abs() < 1e-12, "{r}");
    let c = stats::rank_average(&[
        vec![Some(1.0), Some(3.0), None],
        vec![Some(2.0), Some(1.0), Some(5.0)],
    ]);
    assert_eq!(c, vec![Some(0.75), Some(0.75), None]);
}

#[test]
fn live_graph_keeps_the_logits_and_drops_dead_cells() {
    use nasc::lower::Network;
    use tch::{nn, Device, Kind, Tensor};
    let build = |picks: &[(&str, usize)]| {
        let path = root().join("examples/nb201_space.nasl");
        let picks: Vec<(String, usize)> = picks.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        crate::big_stack(move || {
            let r = nasc::check::check_paths(&[path]);
            let mut o = nasc::ir::BuildOptions {
                batch: Some(4),
                ..Default::default()
            };
            o.choices.extend(picks);
            nasc::ir::build(&r.program, &o).expect("builds")
        })
    };
    // e12 = e13 = none: node 1 (a conv3x3 on e01) feeds only zeros and is dead
    let g = build(&[
        ("e01", 3),
        ("e02", 2),
        ("e03", 1),
        ("e12", 0),
        ("e13", 0),
        ("e23", 4),
    ]);
    let l = live::live_graph(&g).expect("live");
    assert!(l.nodes.len() < g.nodes.len());
    assert!(l.verify().is_ok(), "{:?}", l.verify());
    let full_params = nasc::lower::cost::cost(&g, 1).total.params;
    let live_params = nasc::lower::cost::cost(&l, 1).total.params;
    assert!(live_params < full_params, "{live_params} < {full_params}");
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let a = Network::new(&vs.root(), &g).expect("lowers");
    let b = Network::new(&vs.root(), &l).expect("lowers");
    let x = Tensor::randn([4, 3, 32, 32], (Kind::Float, Device::Cpu));
    let ya = a.forward_t(&x, true).expect("runs");
    let yb = b.forward_t(&x, true).expect("runs");
    assert!(ya.equal(&yb), "the live graph changes the logits");
    // all-none: no path from the input to the output
    let none = build(&[
        ("e01", 0),
        ("e02", 0),
        ("e03", 0),
        ("e12", 0),
        ("e13", 0),
        ("e23", 0),
    ]);
    assert!(live::live_graph(&none).is_none());
}

fn nasc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nasc"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("nasc runs")
}

fn json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

/// The architectures' labels and scores, without timings.
fn scores_of(v: &serde_json::Value) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    v["architectures"]
        .as_array()
        .expect("architectures")
        .iter()
        .map(|a| {
            (
                a["arch"].as_str().unwrap_or("").to_string(),
                a["scores"].clone(),
                a["combined"].clone(),
            )
        })
        .collect()
}

#[test]
fn score_a_sample_deterministically() {
    let run = |seed: &str| {
        json(&nasc(&[
            "score",
            "examples/nb201_space.nasl",
            "--sample",
            "3",
            "--batch",
            "16",
            "--seed",
            seed,
            "--scores",
            "all",
            "--json",
        ]))
    };
    let a = run("1");
    let b = run("1");
    let c = run("2");
    assert_eq!(scores_of(&a), scores_of(&b), "same seed, same scores");
    assert_ne!(scores_of(&a), scores_of(&c), "another seed, another sample");
    let rows = scores_of(&a);
    assert_eq!(rows.len(), 3);
    for (arch, s, comb) in &rows {
        assert_eq!(arch.split(' ').count(), 6, "{arch}");
        for k in [
            "epe",
            "naswot",
            "jacob_cov",
            "synflow",
            "snip",
            "grad_norm",
            "params",
            "macs",
        ] {
            assert!(s[k].is_number() || s[k].is_null(), "{arch}: {k} = {}", s[k]);
        }
        assert!(comb.is_number() || comb.is_null());
    }
    // ranked best first by the combined score
    let comb: Vec<f64> = rows.iter().filter_map(|r| r.2.as_f64()).collect();
    assert!(comb.windows(2).all(|w| w[0] >= w[1]), "{comb:?}");
}

#[test]
fn against_results_ranks_no_signal_last_and_correlates() {
    let dir = std::env::temp_dir().join(format!("nasc-against-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("results.csv");
    std::fs::write(
        &csv,
        "# NB201 accuracies (made up for the test)\narch,accuracy,note\n\
         e01=0 e02=0 e03=0 e12=0 e13=0 e23=0,10.0,all none\n\
         e01=3 e02=3 e03=3 e12=3 e13=3 e23=3,93.5,all conv3x3\n\
         e01=1 e02=2 e03=4 e12=1 e13=0 e23=2,88.0,\n\
         e01=4 e02=4 e03=4 e12=4 e13=4 e23=4,60.0,all pool\n",
    )
    .expect("write");
    let v = json(&nasc(&[
        "score",
        "examples/nb201_space.nasl",
        "--against",
        csv.to_str().unwrap_or_default(),
        "--batch",
        "16",
        "--json",
    ]));
    let rows = scores_of(&v);
    assert_eq!(rows.len(), 4);
    let last = rows.last().expect("rows");
    assert_eq!(last.0, "e01=0 e02=0 e03=0 e12=0 e13=0 e23=0");
    assert!(last.1["epe"].is_null() && last.1["naswot"].is_null() && last.2.is_null());
    let cors = v["correlations"].as_array().expect("correlations");
    let names: Vec<&str> = cors.iter().filter_map(|c| c["score"].as_str()).collect();
    assert_eq!(names, ["epe", "naswot", "params", "macs", "combined"]);
    for c in cors {
        assert_eq!(c["n"], 3, "{c}");
        assert_eq!(c["excluded"], 1, "{c}");
        let t = c["kendall_tau_b"].as_f64().expect("tau");
        assert!((-1.0..=1.0).contains(&t));
    }
    // text output: the table and the correlations
    let o = nasc(&[
        "score",
        "examples/nb201_space.nasl",
        "--against",
        csv.to_str().unwrap_or_default(),
        "--batch",
        "16",
        "--scores",
        "epe,params",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        out.contains("Kendall τb") && out.contains("no signal"),
        "{out}"
    );
    // a malformed file: exit 2 naming the file and the line
    std::fs::write(&csv, "arch,accuracy\ne01=1 e02=x,90\n").expect("write");
    let o = nasc(&[
        "score",
        "examples/nb201_space.nasl",
        "--against",
        csv.to_str().unwrap_or_default(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 2") && err.contains("`x` is not an alternative index"),
        "{err}"
    );
    std::fs::write(&csv, "name,acc\nfoo,1\n").expect("write");
    let o = nasc(&[
        "score",
        "examples/nb201_space.nasl",
        "--against",
        csv.to_str().unwrap_or_default(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no `arch` column"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chunking_is_exact_with_running_statistics() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "score",
            "examples/nb201_space.nasl",
            "--choose",
            "e01=3",
            "--choose",
            "e13=2",
            "--batch",
            "12",
            "--scores",
            "epe,naswot,snip",
            "--eval-mode",
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&nasc(&args))
    };
    let whole = run(&[]);
    let chunked = run(&["--chunk", "5"]);
    assert_eq!(chunked["architectures"][0]["chunk"], 5);
    for k in ["epe", "naswot", "snip"] {
        let a = whole["architectures"][0]["scores"][k]
            .as_f64()
            .expect("value");
        let b = chunked["architectures"][0]["scores"][k]
            .as_f64()
            .expect("value");
        assert!((a - b).abs() <= 1e-4 * a.abs(), "{k}: {a} vs {b}");
    }
}

#[test]
fn search_random_prints_a_program_that_checks() {
    let o = nasc(&[
        "search",
        "random",
        "examples/nb201_space.nasl",
        "--n",
        "3",
        "--batch",
        "16",
        "--score",
        "naswot",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.starts_with("// best of 3 architectures"), "{text}");
    assert!(!text.contains("choice("), "{text}");
    // the printed program checks clean
    let file = std::env::temp_dir().join(format!("nasc-best-{}.nasl", std::process::id()));
    std::fs::write(&file, &text).expect("write");
    let o = nasc(&["check", file.to_str().unwrap_or_default()]);
    let _ = std::fs::remove_file(&file);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn bad_input_gives_clear_errors() {
    let o = nasc(&["score", "examples/no_such_file.nasl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no_such_file.nasl"));
    let o = nasc(&[
        "score",
        "examples/nb201_space.nasl",
        "--scores",
        "epe,fisher",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown score `fisher`"));
    let o = nasc(&["score", "examples/nb201_space.nasl", "--choose", "e99=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no decision `e99`"));
    let o = nasc(&[
        "search",
        "random",
        "examples/nb201_space.nasl",
        "--score",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // a program with errors: exit 1
    let bad = root().join("tests/data/fail");
    let file = std::fs::read_dir(&bad)
        .expect("fail corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "nasl"))
        .expect("a failing program");
    let o = nasc(&["score", file.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn fresh_batches_are_seeded_too() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "score",
            "examples/nb201_space.nasl",
            "--sample",
            "2",
            "--batch",
            "10",
            "--scores",
            "epe",
            "--json",
        ];
        args.extend_from_slice(extra);
        scores_of(&json(&nasc(&args)))
    };
    let fixed = run(&[]);
    let fresh = run(&["--fresh-batch"]);
    assert_eq!(
        fresh,
        run(&["--fresh-batch"]),
        "same seed, same fresh batches"
    );
    assert_eq!(fixed.len(), 2);
    assert_eq!(fresh.len(), 2);
    // the first architecture's fresh batch is not the fixed batch
    let epe = |rows: &[(String, serde_json::Value, serde_json::Value)], arch: &str| {
        rows.iter()
            .find(|r| r.0 == arch)
            .and_then(|r| r.1["epe"].as_f64())
    };
    let arch = fixed[0].0.clone();
    assert_ne!(epe(&fixed, &arch), epe(&fresh, &arch));
}
