//! The mixing oracle: the concrete definition of properties.md computed with real libtorch autograd (f64,
//! random inputs and weights, `nasc::lower` forward), compared with the analytic abstraction of
//! `nasc::props`. Every primitive op at generic sizes must match exactly (a few documented entries are
//! over-approximations and are checked for ⊒ only); random small programs must be sound (abstract ⊒
//! concrete). Dependence is "nonzero Jacobian entry for some draw": the union over several random inputs,
//! so that a ReLU at a negative input or a max pool's argmax does not hide a structural dependence.

use crate::big_stack;
use nasc::check;
use nasc::ir::{self, BuildOptions, Graph};
use nasc::lower::Network;
use nasc::props::{self, Matrix, Mix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Kind, Tensor};

/// Builds the last network of a NASL source text.
fn build(src: &str, tag: &str) -> Graph {
    let dir = std::env::temp_dir().join(format!("nasc-props-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}.nasl"));
    std::fs::write(&path, src).unwrap();
    let src = src.to_string();
    big_stack(move || {
        let r = check::check_paths(&[path]);
        assert!(!r.has_errors(), "{src}\n{:?}", r.diagnostics);
        ir::build(&r.program, &BuildOptions::default()).unwrap_or_else(|e| panic!("{src}\n{e}"))
    })
}

/// The concrete mixing matrix of every graph input → the (single) output.
fn concrete(g: &Graph, draws: usize, seed: i64) -> Vec<Matrix> {
    tch::manual_seed(seed);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), g).expect("lowers");
    vs.double();
    let opts = (Kind::Double, Device::Cpu);
    let out = g.nodes[g.outputs[0]].shape.clone();
    let ro = out.len();
    let centre: Vec<i64> = out.iter().map(|s| s / 2).collect();
    let ins: Vec<Vec<i64>> = g.inputs.iter().map(|&i| g.nodes[i].shape.clone()).collect();
    // infl[j][k]: |∂(random combination of the slice along output dim j)/∂ input k|, summed over draws.
    let mut infl: Vec<Vec<Tensor>> = (0..ro)
        .map(|_| {
            ins.iter()
                .map(|s| Tensor::zeros(s.as_slice(), opts))
                .collect()
        })
        .collect();
    let mut dep: Vec<Tensor> = ins
        .iter()
        .map(|s| Tensor::zeros(s.as_slice(), opts))
        .collect();
    for _ in 0..draws {
        let xs: Vec<Tensor> = ins
            .iter()
            .map(|s| Tensor::randn(s.as_slice(), opts).set_requires_grad(true))
            .collect();
        let y = net.forward_all(&xs, false).expect("runs").pop().unwrap();
        // Keeps every input in the autograd graph (zero contribution) even when y ignores it.
        let anchor = xs
            .iter()
            .map(|x| x.sum(Kind::Double) * 0.0)
            .fold(Tensor::zeros([], opts), |a, b| a + b);
        for (j, acc) in infl.iter_mut().enumerate() {
            let w = Tensor::zeros(out.as_slice(), opts);
            let mut view = w.shallow_clone();
            for (d, &c) in centre.iter().enumerate() {
                if d != j {
                    view = view.narrow(d as i64, c, 1);
                }
            }
            view.copy_(&Tensor::randn(view.size(), opts));
            let loss = (&y * &w).sum(Kind::Double) + &anchor;
            let grads = Tensor::run_backward(&[loss], &xs, true, false);
            for (a, gr) in acc.iter_mut().zip(&grads) {
                *a += gr.abs();
            }
        }
        let mut c = y.shallow_clone();
        for (d, &i) in centre.iter().enumerate() {
            c = c.narrow(d as i64, i, 1);
        }
        let loss = c.sum(Kind::Double) + &anchor;
        let grads = Tensor::run_backward(&[loss], &xs, true, false);
        for (k, gr) in grads.iter().enumerate() {
            dep[k] += gr.abs();
        }
    }
    // Per input dim i: positions along i with a nonzero somewhere.
    let along = |t: &Tensor, i: usize| -> Vec<bool> {
        let n = t.size()[i];
        let v = t
            .transpose(0, i as i64)
            .reshape([n, -1])
            .sum_dim_intlist(1, false, Kind::Double);
        Vec::<f64>::try_from(v)
            .unwrap()
            .iter()
            .map(|x| *x > 0.0)
            .collect()
    };
    ins.iter()
        .enumerate()
        .map(|(k, s)| {
            let mut m = Matrix::none(s.len(), ro);
            for i in 0..s.len() {
                let deps = along(&dep[k], i);
                let count = deps.iter().filter(|b| **b).count();
                for (j, acc) in infl.iter().enumerate() {
                    let v = if along(&acc[k], i).iter().any(|b| !b) {
                        Mix::None
                    } else if count == deps.len() {
                        Mix::All
                    } else if count > 1 {
                        Mix::Many
                    } else {
                        Mix::One
                    };
                    m.set(i, j, v);
                }
            }
            m
        })
        .collect()
}

/// The abstract matrices, per graph input (all `.` where the analysis found no dependence).
fn abstract_(g: &Graph) -> Vec<Matrix> {
    let p = props::infer_graph(g).expect("infers");
    let out = &g.nodes[g.outputs[0]];
    g.inputs
        .iter()
        .map(|&i| {
            p.mixing
                .get(&out.path, &g.nodes[i].path)
                .cloned()
                .unwrap_or_else(|| Matrix::none(g.nodes[i].shape.len(), out.shape.len()))
        })
        .collect()
}

/// Rows of size-1 input dims are left out: the concrete definition degenerates there (docs).
fn rows_compared(g: &Graph, input: usize) -> Vec<usize> {
    let s = &g.nodes[g.inputs[input]].shape;
    (0..s.len()).filter(|&r| s[r] > 1).collect()
}

fn show(m: &Matrix) -> String {
    m.row_strings().join(" ")
}

/// One program per primitive op at generic sizes; `loose` lists (input index, row, col) entries that the
/// abstraction deliberately over-approximates (checked for ⊒ only).
struct Case {
    op: &'static str,
    src: &'static str,
    loose: Loose,
}

/// (input index, row, column) entries checked for ⊒ only.
type Loose = &'static [(usize, usize, usize)];

const X4: &str = "x: [3, 4, 9, 9]";

fn cases() -> Vec<Case> {
    let c = |op, src, loose| Case { op, src, loose };
    vec![
        c("conv 1x1", "conv(x, 6, kernel: 1)", &[]),
        c("conv 3x3", "conv(x, 6, kernel: 3, padding: 1)", &[]),
        c(
            "conv 3x3 stride 2",
            "conv(x, 6, kernel: 3, stride: 2, padding: 1)",
            &[],
        ),
        c(
            "conv dilated",
            "conv(x, 6, kernel: 3, padding: 2, dilation: 2)",
            &[],
        ),
        c(
            "conv depthwise",
            "conv(x, 8, kernel: 3, padding: 1, groups: 4)",
            &[],
        ),
        c(
            "conv grouped",
            "conv(x, 6, kernel: 3, padding: 1, groups: 2)",
            &[],
        ),
        c("conv full window", "conv(x, 5, kernel: 9)", &[]),
        c("linear", "linear(x, 7)", &[]),
        c("batch_norm", "batch_norm(x)", &[]),
        c("layer_norm", "layer_norm(x)", &[]),
        c("group_norm", "group_norm(x, 2)", &[]),
        c("group_norm 1 group", "group_norm(x, 1)", &[]),
        c("relu", "relu(x)", &[]),
        c("relu6", "relu6(x)", &[]),
        c("gelu", "gelu(x)", &[]),
        c("silu", "silu(x)", &[]),
        c("sigmoid", "sigmoid(x)", &[]),
        c("tanh", "tanh(x)", &[]),
        c("hardswish", "hardswish(x)", &[]),
        c("hardsigmoid", "hardsigmoid(x)", &[]),
        c("softmax", "softmax(x, dim: 1)", &[]),
        c("softmax last", "softmax(x)", &[]),
        c("dropout", "dropout(x, p: 0.5)", &[]),
        c("identity", "identity(x)", &[]),
        c("zero", "zero(x)", &[]),
        c("avg_pool", "avg_pool(x, 3, stride: 3)", &[]),
        // 9 rows in windows of 2, stride 2: the last row is in no window (concrete `.`, abstract `m`).
        c(
            "avg_pool ragged",
            "avg_pool(x, 2, stride: 2)",
            &[(0, 2, 2), (0, 3, 3)],
        ),
        c(
            "avg_pool padded",
            "avg_pool(x, 3, stride: 1, padding: 1)",
            &[],
        ),
        c("max_pool", "max_pool(x, 3, stride: 2, padding: 1)", &[]),
        c("global_avg_pool", "global_avg_pool(x)", &[]),
        c("global_max_pool", "global_max_pool(x)", &[]),
        c("mean", "mean(x, 2)", &[]),
        c("flatten", "flatten(x)", &[]),
        c("reshape merge", "reshape(x, [3, 4, 81])", &[]),
        c(
            "reshape split",
            "reshape(x, [3, 2, 2, 9, 9])",
            &[(0, 1, 1), (0, 1, 2)],
        ),
        c("transpose", "transpose(x, 2, 3)", &[]),
        c("permute", "permute(x, [0, 2, 3, 1])", &[]),
        c("scale", "scale(x, 0.5)", &[]),
        c("select", "select(x, 1, 2)", &[]),
        c("slice", "slice(x, 2, 1, 6)", &[(0, 2, 2)]),
    ]
}

/// Ops with two inputs (or a size-1 input dim), written as whole networks.
fn binary_cases() -> Vec<Case> {
    let c = |op, src, loose| Case { op, src, loose };
    vec![
        c(
            "add",
            "network t(x: [3, 4, 7, 7], y: [3, 4, 7, 7]) { x + y }",
            &[],
        ),
        c(
            "add broadcast",
            "network t(x: [3, 4, 7, 7], y: [4, 7, 7]) { x + y }",
            &[],
        ),
        c(
            "mul",
            "network t(x: [3, 4, 7, 7], y: [3, 4, 7, 7]) { x * y }",
            &[],
        ),
        c(
            "concat",
            "network t(x: [3, 4, 7, 7], y: [3, 2, 7, 7]) { concat(x, y, dim: 1) }",
            // y does not hold the centre channel: its rows are `.` concretely but for its own.
            &[(1, 0, 0), (1, 2, 2), (1, 3, 3)],
        ),
        c(
            "matmul",
            "network t(x: [3, 5, 6], y: [3, 6, 4]) { matmul(x, y) }",
            &[],
        ),
        c(
            "einsum",
            "network t(x: [3, 5, 6], y: [3, 6, 4]) { einsum(\"bij,bjk->bik\", x, y) }",
            &[],
        ),
        c(
            "expand",
            "network t(x: [3, 1, 7]) { expand(x, [3, 5, 7]) }",
            &[],
        ),
        c(
            "param",
            "network t(x: [3, 4, 7, 7]) { x + param([4, 7, 7]) }",
            &[],
        ),
    ]
}

fn compare(
    g: &Graph,
    conc: &[Matrix],
    abs: &[Matrix],
    loose: &[(usize, usize, usize)],
    what: &str,
    exact: bool,
) -> Result<(), String> {
    for (k, (c, a)) in conc.iter().zip(abs).enumerate() {
        for r in rows_compared(g, k) {
            for j in 0..c.cols {
                let (cv, av) = (c.get(r, j), a.get(r, j));
                let ok = if exact && !loose.contains(&(k, r, j)) {
                    cv == av
                } else {
                    av >= cv
                };
                if !ok {
                    return Err(format!(
                        "{what}: input {k}: entry [{r}][{j}]: abstract {} vs concrete {}\n  abstract {}\n  concrete {}",
                        av.symbol(),
                        cv.symbol(),
                        show(a),
                        show(c)
                    ));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn analytic_mixing_equals_the_oracle_on_every_op() {
    let mut failures = Vec::new();
    let mut n = 0;
    let mut all: Vec<(String, String, Loose)> = cases()
        .into_iter()
        .map(|c| {
            (
                c.op.to_string(),
                format!("network t({X4}) {{ {} }}", c.src),
                c.loose,
            )
        })
        .collect();
    all.extend(
        binary_cases()
            .into_iter()
            .map(|c| (c.op.to_string(), c.src.to_string(), c.loose)),
    );
    for (k, (op, src, loose)) in all.iter().enumerate() {
        let g = build(src, &format!("op{k}"));
        // Gates (relu and co.) have a zero derivative on half their inputs: with 12 draws a position's
        // 12 inputs were all negative once in CI (2^-12 per position), so every op gets 48.
        let draws = if op.contains("max") { 96 } else { 48 };
        let conc = concrete(&g, draws, k as i64);
        let abs = abstract_(&g);
        if let Err(e) = compare(&g, &conc, &abs, loose, op, true) {
            failures.push(e);
        }
        n += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {n} ops differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(n >= 45);
}

/// Every primitive op of the IR is covered by a case above.
#[test]
fn the_oracle_covers_the_op_set() {
    let text: String = cases()
        .iter()
        .map(|c| c.src)
        .chain(binary_cases().iter().map(|c| c.src))
        .collect::<Vec<_>>()
        .join(" ");
    for op in [
        "conv",
        "linear",
        "batch_norm",
        "layer_norm",
        "group_norm",
        "relu",
        "relu6",
        "gelu",
        "silu",
        "sigmoid",
        "tanh",
        "hardswish",
        "hardsigmoid",
        "softmax",
        "dropout",
        "identity",
        "zero",
        "avg_pool",
        "max_pool",
        "global_avg_pool",
        "global_max_pool",
        "mean",
        "flatten",
        "reshape",
        "transpose",
        "permute",
        " + ",
        " * ",
        "concat",
        "matmul",
        "einsum",
        "scale",
        "param",
        "expand",
        "select",
        "slice",
    ] {
        assert!(text.contains(op), "no oracle case for `{op}`");
    }
}

/// A random small program over [N, C, H, W]: a chain with residual adds/muls, windowed ops limited so that
/// no receptive field covers a whole spatial dim (generic sizes), optionally ending in a classifier head.
fn random_program(rng: &mut ChaCha8Rng) -> String {
    let c0 = [4, 6][rng.gen_range(0..2)];
    let mut lines = Vec::new();
    let mut c = c0;
    let mut windows = 0;
    let mut pooled = false;
    // tensors of the current shape usable as a residual operand
    let mut same: Vec<String> = vec!["x".into()];
    let len = rng.gen_range(2..7);
    let mut cur = "x".to_string();
    for k in 0..len {
        let v = format!("v{k}");
        let e = match rng.gen_range(0..14) {
            0 if windows < 2 => {
                windows += 1;
                let out = [c, 2 * c][rng.gen_range(0..2)];
                let g = if out == c && rng.gen_bool(0.3) { c } else { 1 };
                let e = format!("conv({cur}, {out}, kernel: 3, padding: 1, groups: {g})");
                if out != c {
                    same.clear();
                    c = out;
                }
                e
            }
            1 => {
                let out = [c, 2 * c][rng.gen_range(0..2)];
                if out != c {
                    same.clear();
                    c = out;
                }
                format!("conv({cur}, {out}, kernel: 1)")
            }
            2 => {
                ["relu", "gelu", "tanh", "sigmoid", "silu"][rng.gen_range(0..5)].to_string()
                    + &format!("({cur})")
            }
            3 => format!("batch_norm({cur})"),
            4 if !pooled && windows < 2 => {
                pooled = true;
                windows += 1;
                same.clear();
                let kind = ["avg_pool", "max_pool"][rng.gen_range(0..2)];
                format!("{kind}({cur}, 2, stride: 2)")
            }
            5 if same.len() > 1 || same.first().is_some_and(|s| *s != cur) => {
                let other = same[rng.gen_range(0..same.len())].clone();
                format!("{cur} + {other}")
            }
            6 if same.len() > 1 => {
                let other = same[rng.gen_range(0..same.len())].clone();
                format!("{cur} * {other}")
            }
            7 => format!("softmax({cur}, dim: 1)"),
            8 => format!("group_norm({cur}, 2)"),
            9 => format!("layer_norm({cur})"),
            10 => format!("identity({cur})"),
            11 => format!("scale({cur}, 0.5)"),
            12 => format!("dropout({cur}, p: 0.1)"),
            _ => format!("relu({cur})"),
        };
        lines.push(format!("    let {v} = {e};"));
        same.push(v.clone());
        cur = v;
    }
    let tail = match rng.gen_range(0..4) {
        0 => format!("linear(global_avg_pool({cur}), 5)"),
        1 => format!("linear(flatten({cur}), 5)"),
        _ => cur.clone(),
    };
    format!(
        "network t(x: [3, {c0}, 16, 16]) {{\n{}\n    {tail}\n}}\n",
        lines.join("\n")
    )
}

/// A random small token program over [N, T, D] (transformer-like): dense layers, layer norm, softmax on
/// either axis, transposes, attention-style matmuls, reshapes that split and merge, residual adds.
fn random_token_program(rng: &mut ChaCha8Rng) -> String {
    let (mut t, mut d) = (6i64, 8i64);
    let mut lines = Vec::new();
    let mut same: Vec<String> = vec!["x".into()];
    let mut cur = "x".to_string();
    for k in 0..rng.gen_range(2..7) {
        let v = format!("v{k}");
        let e = match rng.gen_range(0..10) {
            0 => {
                let out = [d, 2 * d][rng.gen_range(0..2)];
                if out != d {
                    same.clear();
                    d = out;
                }
                format!("linear({cur}, {out})")
            }
            1 => format!("layer_norm({cur})"),
            2 => ["gelu", "relu", "tanh"][rng.gen_range(0..3)].to_string() + &format!("({cur})"),
            3 => format!("softmax({cur})"),
            4 => format!("softmax({cur}, dim: 1)"),
            5 => {
                same.clear();
                std::mem::swap(&mut t, &mut d);
                format!("transpose({cur}, 1, 2)")
            }
            6 => {
                same.clear();
                d = t;
                format!("matmul({cur}, transpose({cur}, 1, 2))")
            }
            7 => format!(
                "reshape(reshape({cur}, [3, {t}, 2, {}]), [3, {t}, {d}])",
                d / 2
            ),
            8 if same.len() > 1 => {
                let other = same[rng.gen_range(0..same.len())].clone();
                format!("{cur} + {other}")
            }
            _ => format!("scale({cur}, 0.5)"),
        };
        lines.push(format!("    let {v} = {e};"));
        same.push(v.clone());
        cur = v;
    }
    let tail = if rng.gen_bool(0.3) {
        format!("mean({cur}, 1)")
    } else {
        cur
    };
    format!(
        "network t(x: [3, 6, 8]) {{\n{}\n    {tail}\n}}\n",
        lines.join("\n")
    )
}

#[test]
fn analytic_mixing_is_sound_on_random_token_programs() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut failures = Vec::new();
    let mut exact = 0;
    let n = 100;
    for k in 0..n {
        let src = random_token_program(&mut rng);
        let g = build(&src, &format!("tok{k}"));
        let draws = if src.contains("relu") { 24 } else { 6 };
        let conc = concrete(&g, draws, 5000 + k as i64);
        let abs = abstract_(&g);
        match compare(&g, &conc, &abs, &[], &format!("program {k}:\n{src}"), false) {
            Ok(()) => exact += usize::from(conc == abs),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} programs unsound:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("random token programs: {n} sound, {exact} exactly equal to the oracle");
}

#[test]
fn analytic_mixing_is_sound_on_random_programs() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut failures = Vec::new();
    let mut exact = 0;
    let n = 200;
    for k in 0..n {
        let src = random_program(&mut rng);
        let g = build(&src, &format!("rand{k}"));
        // A ReLU that is inactive in every draw hides a dependence: more draws where there are ReLUs.
        let draws = if src.contains("max_pool") || src.contains("relu") {
            24
        } else {
            8
        };
        let conc = concrete(&g, draws, 1000 + k as i64);
        let abs = abstract_(&g);
        match compare(&g, &conc, &abs, &[], &format!("program {k}:\n{src}"), false) {
            Ok(()) => exact += usize::from(conc == abs),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} programs unsound:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("random programs: {n} sound, {exact} exactly equal to the oracle");
}
