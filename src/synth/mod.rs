//! Synthesis: from target properties (shape, depth, mixing — docs/properties.md) and constraints to NASL
//! programs that satisfy them, with z3. `target` reads and validates the JSON; `encode` turns a bounded
//! program sketch (a chain of k op slots, or two branches joined by `add`/`concat` plus a tail) into SMT
//! constraints; this file runs iterative deepening over k, extracts models into programs, prints them as
//! NASL through the canonical printer and **re-checks** every one: the NASL is parsed, checked, built into
//! IR and its properties inferred by `props`; a model that fails is an internal error, never a result.
//!
//! Results are values: [`Outcome::Sat`] (programs), [`Outcome::Unsat`] (an explanation from unsat cores,
//! naming target fields), [`Outcome::Unknown`] (a z3 timeout or give-up; never reported as unsat).
//!
//! **Invariants:** the only module that knows z3; library code returns errors and never prints.
//! Depends on `props`, `ir`, `check`, `syntax`, `base`.

mod encode;
pub mod json;
pub mod replace;
pub mod target;

pub use target::{Constraints, Factor, Library, OpKind, SketchKind, Target, TargetError};

use crate::ir::{BuildOptions, Graph, Node, Op, PoolKind};
use crate::props::{Producer, Props};
use encode::{Encoded, Problem, Slot};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};
use z3::ast::{Bool, Int};
use z3::SatResult;

/// What to optimise among satisfying programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The first programs found (shortest sketch first).
    #[default]
    None,
    FewestParams,
    FewestFlops,
    /// Fewest slots whose op differs from a reference program's op sequence.
    Closest,
}

/// Called with a line saying what synthesis is doing (for a progress display).
pub type Progress = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// How to search.
#[derive(Clone)]
pub struct Options {
    /// Distinct programs wanted.
    pub count: usize,
    /// Randomised but reproducible choice among solutions (`None`: z3's own order).
    pub seed: Option<u64>,
    /// Wall-clock limit of the whole synthesis.
    pub timeout: Duration,
    pub objective: Objective,
    /// The op count of the subgraph being replaced: iterative deepening runs over `n−2 ..= n+2`.
    pub replaced_ops: Option<usize>,
    /// The op sequence of the program the `closest` objective measures against.
    pub reference: Option<Vec<OpKind>>,
    /// The name of the printed block.
    pub name: String,
    /// Told each sketch before it is solved.
    pub progress: Option<Progress>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("count", &self.count)
            .field("seed", &self.seed)
            .field("timeout", &self.timeout)
            .field("objective", &self.objective)
            .field("replaced_ops", &self.replaced_ops)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            count: 1,
            seed: None,
            timeout: Duration::from_secs(30),
            objective: Objective::None,
            replaced_ops: None,
            reference: None,
            name: "synth".into(),
            progress: None,
        }
    }
}

/// One synthesized program.
#[derive(Clone, Debug, Serialize)]
pub struct Solution {
    /// The NASL block (canonical form).
    pub nasl: String,
    pub sketch: SketchKind,
    /// Ops in the program (a join counts as one).
    pub ops: usize,
    pub params: i64,
    pub flops: i64,
    /// The program's properties as `props` infers them from the NASL (renamed like the target's).
    pub props: Props,
}

/// Why no program exists within the bounds (from unsat cores).
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// One sentence, e.g. "no chain, add or concat program of 4–8 ops reaches: depth x → y ≥ 9, …".
    pub summary: String,
    /// The target fields in the cores (`depth[0]`, `outputs[0].shape`, `constraints.max_params`, …).
    pub fields: Vec<String>,
    /// The conflicting requirements, as text.
    pub conflicts: Vec<String>,
    pub min_ops: usize,
    pub max_ops: usize,
}

/// The result of a synthesis.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Sat { solutions: Vec<Solution> },
    Unsat { explanation: Explanation },
    Unknown { reason: String },
}

/// The report of `nasc synth --json`: the outcome (its fields flattened: `result`, `solutions`, …), the
/// counters, the target as synthesized (after `--mutate`), the op range searched, and with `--replace` the
/// whole spliced programs.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub stats: Stats,
    pub target: Props,
    pub ops_range: [usize; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programs: Option<Vec<String>>,
}

/// Counters of one synthesis (for the benchmark and `--json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub solver_calls: usize,
    pub sketches: usize,
    pub elapsed_ms: f64,
    /// With an objective: whether the whole op range was searched to the end (the result is optimal
    /// within the sketches), or the time limit cut the search (the best found is returned).
    pub optimal: bool,
}

/// A failure that is not an answer: a model that the re-check rejected (a bug in the encoding).
#[derive(Clone, Debug)]
pub enum SynthError {
    Internal(String),
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynthError::Internal(m) => {
                write!(f, "internal error in synthesis (please report): {m}")
            }
        }
    }
}

impl std::error::Error for SynthError {}

/// The op-count range searched: the user's bounds, else `n−2 ..= n+2` of a replaced subgraph (or the
/// target's source node count), else 1..=8.
pub fn op_range(t: &Target, o: &Options) -> (usize, usize) {
    let n = o
        .replaced_ops
        .or_else(|| t.props.source.as_ref().map(|s| s.nodes.len()))
        .filter(|&n| n > 0);
    let (mut lo, mut hi) = match n {
        Some(n) => (n.saturating_sub(2).max(1), n + 2),
        None => (1, 8),
    };
    if let Some(m) = t.constraints.min_ops {
        lo = m.max(1);
        hi = hi.max(lo);
    }
    if let Some(m) = t.constraints.max_ops {
        hi = m;
        lo = lo.min(hi);
    }
    (lo.min(MAX_OPS), hi.min(MAX_OPS))
}

/// The largest sketch (ops) synthesis encodes; deepening ranges above it are clipped (and say so).
pub const MAX_OPS: usize = 64;

/// Synthesizes programs for a target. Each call runs in a fresh z3 context, so results depend only on
/// the target and the options (not on earlier calls in the process).
pub fn synthesize(t: &Target, o: &Options) -> Result<(Outcome, Stats), SynthError> {
    // z3 installs its own SIGINT handler while it solves, which swallows a Ctrl-C meant for the program
    // (a search driver's clean stop); a library must leave the process's signals to its caller
    static NO_CTRL_C: std::sync::Once = std::sync::Once::new();
    NO_CTRL_C.call_once(|| z3::set_global_param("ctrl_c", "false"));
    z3::with_z3_config(&z3::Config::new(), || synthesize_in(t, o))
}

fn synthesize_in(t: &Target, o: &Options) -> Result<(Outcome, Stats), SynthError> {
    let start = Instant::now();
    // a time limit too large for the clock is no limit (the command line bounds it to a day)
    let deadline = start
        .checked_add(o.timeout)
        .unwrap_or_else(|| start + Duration::from_secs(365 * 86_400));
    let (lo, hi) = op_range(t, o);
    let need_cost = t.constraints.max_params.is_some()
        || t.constraints.max_flops.is_some()
        || matches!(
            o.objective,
            Objective::FewestParams | Objective::FewestFlops
        );
    let reference = if o.objective == Objective::Closest {
        o.reference.clone()
    } else {
        None
    };
    let problem = Problem::new(t, need_cost, reference, hi);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed.unwrap_or(0));
    let mut stats = Stats::default();
    let mut found: Vec<(Solution, i64)> = Vec::new();
    let mut unknown: Option<String> = None;
    let mut conflicts: Vec<(String, String)> = Vec::new();
    let want = o.count.max(1);
    'outer: for k in lo..=hi {
        for &sketch in &t.library.sketches {
            if Instant::now() >= deadline {
                unknown.get_or_insert_with(|| format!("the time limit of {:?} ran out", o.timeout));
                break 'outer;
            }
            let t_enc = Instant::now();
            let Some(enc) = encode::encode(&problem, sketch, k, t) else {
                continue;
            };
            if std::env::var_os("NASC_SYNTH_TRACE").is_some() {
                eprintln!(
                    "trace: {} k={k}: encoded in {:?}",
                    sketch.name(),
                    t_enc.elapsed()
                );
            }
            stats.sketches += 1;
            if let Some(p) = &o.progress {
                p(&format!(
                    "{} sketch of {k} ops (k = {lo}..{hi}), {} found",
                    sketch.name(),
                    found.len()
                ));
            }
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    unknown.get_or_insert_with(|| {
                        format!("the time limit of {:?} ran out", o.timeout)
                    });
                    break 'outer;
                }
                let hints = match o.seed {
                    Some(_) => random_hints(&problem, &enc, &mut rng),
                    None => pattern_hints(&problem, &enc),
                };
                let (res, _) = check_with_hints(&enc, left, hints, &mut stats);
                match res {
                    SatResult::Sat => {
                        let Some(model) = enc.solver.get_model() else {
                            unknown.get_or_insert_with(|| "z3 returned no model".into());
                            break;
                        };
                        let cand = extract(&problem, &enc, &model);
                        let sol = recheck(t, &cand, &o.name)?;
                        let score = match o.objective {
                            Objective::None => 0,
                            Objective::FewestParams => sol.params,
                            Objective::FewestFlops => sol.flops,
                            Objective::Closest => enc
                                .distance
                                .as_ref()
                                .and_then(|d| model.eval(d, true))
                                .and_then(|v| v.as_i64())
                                .unwrap_or(0),
                        };
                        enc.solver.assert(encode::block(&enc, &model));
                        // different kwargs can print the same program (a factor `x2` and `out`
                        // giving the same channels): distinct means distinct text
                        if found.iter().any(|(f, _)| f.nasl == sol.nasl) {
                            continue;
                        }
                        found.push((sol, score));
                        match o.objective {
                            Objective::None => {
                                if found.len() >= want {
                                    break 'outer;
                                }
                            }
                            _ => {
                                // tighten: the next model must be strictly better (or, with a count,
                                // better than the worst kept)
                                found.sort_by_key(|(_, s)| *s);
                                found.truncate(want);
                                if found.len() >= want {
                                    let bound = found.last().map(|(_, s)| *s).unwrap_or(0);
                                    let term = match o.objective {
                                        Objective::FewestParams => enc.params.clone(),
                                        Objective::FewestFlops => enc.macs.clone(),
                                        _ => enc.distance.clone(),
                                    };
                                    if let Some(term) = term {
                                        enc.solver.assert(term.lt(Int::from_i64(bound)));
                                    }
                                }
                            }
                        }
                    }
                    SatResult::Unsat => {
                        if found.is_empty() || o.objective != Objective::None {
                            for lit in enc.solver.get_unsat_core() {
                                if let Some(l) = enc.labels.iter().find(|l| l.lit == lit) {
                                    let item = (l.field.clone(), l.text.clone());
                                    if !conflicts.contains(&item) {
                                        conflicts.push(item);
                                    }
                                }
                            }
                        }
                        break;
                    }
                    SatResult::Unknown => {
                        let why = enc
                            .solver
                            .get_reason_unknown()
                            .unwrap_or_else(|| "unknown".into());
                        let why: String =
                            why.lines().next().unwrap_or("").chars().take(160).collect();
                        let why = if why.contains("timeout") || why.contains("canceled") {
                            format!(
                                "z3 gave up on the {} sketch of {k} ops: the time limit of {:?} ran out ({why})",
                                sketch.name(),
                                o.timeout
                            )
                        } else {
                            format!(
                                "z3 gave up on the {} sketch of {k} ops ({why})",
                                sketch.name()
                            )
                        };
                        unknown.get_or_insert(why);
                        break;
                    }
                }
            }
        }
        // Without an objective, shorter programs come first: stop once enough are found.
        if o.objective == Objective::None && found.len() >= want {
            break;
        }
    }
    stats.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    stats.optimal = o.objective != Objective::None && unknown.is_none();
    if !found.is_empty() {
        if o.objective != Objective::None {
            found.sort_by_key(|(_, s)| *s);
        }
        found.truncate(want);
        return Ok((
            Outcome::Sat {
                solutions: found.into_iter().map(|(s, _)| s).collect(),
            },
            stats,
        ));
    }
    if let Some(reason) = unknown {
        return Ok((Outcome::Unknown { reason }, stats));
    }
    let names: Vec<&str> = t.library.sketches.iter().map(|s| s.name()).collect();
    let sk = match names.len() {
        1 => names[0].to_string(),
        _ => format!(
            "{} or {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
    };
    let ops = if lo == hi {
        format!("{lo} op(s)")
    } else {
        format!("{lo}–{hi} ops")
    };
    let mut fields: Vec<String> = conflicts.iter().map(|(f, _)| f.clone()).collect();
    fields.sort();
    fields.dedup();
    let mut texts: Vec<String> = Vec::new();
    for (f, t) in &conflicts {
        let t = if f == "constraints.max_ops" {
            format!("at most {hi} ops")
        } else {
            t.clone()
        };
        if !texts.contains(&t) {
            texts.push(t);
        }
    }
    for (f, text) in library_in_conflict(t, o, deadline)? {
        if !fields.contains(&f) {
            fields.push(f);
        }
        texts.push(text);
    }
    let summary = if texts.is_empty() {
        format!("no {sk} program of {ops} exists with this op library")
    } else {
        format!(
            "no {sk} program of {ops} satisfies together: {}",
            texts.join("; ")
        )
    };
    Ok((
        Outcome::Unsat {
            explanation: Explanation {
                summary,
                fields,
                conflicts: texts,
                min_ops: lo,
                max_ops: hi,
            },
        },
        stats,
    ))
}

/// The library fields of a target's constraints (the op library and the domains of its arguments), as
/// (JSON field, what the target restricts it to) for those the target sets.
fn library_fields(c: &Constraints) -> Vec<(&'static str, String)> {
    let list = |v: &[String]| v.join(", ");
    let nums = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    if let Some(v) = &c.ops {
        out.push(("ops", format!("only the ops {}", list(v))));
    }
    if let Some(v) = &c.kernel {
        out.push(("kernel", format!("only the conv kernels {}", nums(v))));
    }
    if let Some(v) = &c.stride {
        out.push(("stride", format!("only the conv strides {}", nums(v))));
    }
    if let Some(v) = &c.dilation {
        out.push(("dilation", format!("only the conv dilations {}", nums(v))));
    }
    if let Some(v) = &c.groups {
        let v: Vec<String> = v.iter().map(|g| g.to_string().replace('"', "")).collect();
        out.push(("groups", format!("only the groups {}", list(&v))));
    }
    if let Some(v) = &c.window {
        out.push(("window", format!("only the pool windows {}", nums(v))));
    }
    if let Some(v) = &c.channel_factors {
        out.push((
            "channel_factors",
            format!("only the channel factors {}", list(v)),
        ));
    }
    if let Some(v) = &c.sketches {
        out.push(("sketches", format!("only the sketches {}", list(v))));
    }
    out
}

fn without(c: &Constraints, field: &str) -> Constraints {
    let mut c = c.clone();
    match field {
        "ops" => c.ops = None,
        "kernel" => c.kernel = None,
        "stride" => c.stride = None,
        "dilation" => c.dilation = None,
        "groups" => c.groups = None,
        "window" => c.window = None,
        "channel_factors" => c.channel_factors = None,
        _ => c.sketches = None,
    }
    c
}

/// Which of the target's library restrictions take part in an unsat answer. The library is not an
/// assertion z3 can put in a core (it is the encoding's domain), so each restriction is tested by
/// synthesis without it, in the same op range and the time left: a field is named when dropping it
/// gives a program; when only dropping them all does, all are named. A relaxation that runs out of time
/// names nothing (no claim without a proof).
fn library_in_conflict(
    t: &Target,
    o: &Options,
    deadline: Instant,
) -> Result<Vec<(String, String)>, SynthError> {
    let set = library_fields(&t.constraints);
    if set.is_empty() {
        return Ok(vec![]);
    }
    let sat = |c: Constraints| -> Result<bool, SynthError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let Ok(relaxed) = Target::new(t.props.clone(), c) else {
            return Ok(false);
        };
        let ro = Options {
            count: 1,
            timeout: left,
            objective: Objective::None,
            progress: None,
            reference: None,
            ..o.clone()
        };
        Ok(matches!(
            synthesize_in(&relaxed, &ro)?.0,
            Outcome::Sat { .. }
        ))
    };
    let all = set
        .iter()
        .fold(t.constraints.clone(), |c, (f, _)| without(&c, f));
    if !sat(all)? {
        return Ok(vec![]);
    }
    let name = |(f, text): &(&str, String)| (format!("constraints.{f}"), text.clone());
    if set.len() == 1 {
        return Ok(set.iter().map(name).collect());
    }
    let mut named = Vec::new();
    for item in &set {
        if sat(without(&t.constraints, item.0))? {
            named.push(name(item));
        }
    }
    if named.is_empty() {
        named = set.iter().map(name).collect();
    }
    Ok(named)
}

/// The default preferences (no seed): the classic layer pattern — conv → batch_norm → relu on images,
/// linear → layer_norm → gelu on features and tokens — repeated along each branch. They make programs
/// read like the networks people write and guide z3 on long sketches; like seeded hints they are
/// assumptions, dropped where they conflict with the target.
fn pattern_hints(p: &Problem, e: &Encoded) -> Vec<Bool> {
    let pattern: &[OpKind] = if p.in_shape.len() == 4 {
        &[
            OpKind::Conv,
            OpKind::BatchNorm,
            OpKind::Act(crate::ir::Activation::Relu),
        ]
    } else {
        &[
            OpKind::Linear,
            OpKind::LayerNorm,
            OpKind::Act(crate::ir::Activation::Gelu),
        ]
    };
    // after a linear producer, start with the activation (pre-activation order): every op then counts
    let phase = if p.producer_nl { 0 } else { 2 };
    let mut v = Vec::new();
    for seg in &e.segs {
        for (i, s) in seg.iter().enumerate() {
            let want = pattern[(i + phase) % pattern.len()];
            if let Some(k) = p.lib.ops.iter().position(|&o| o == want) {
                v.push(s.op.eq(Int::from_i64(k as i64)));
            }
        }
    }
    v
}

/// Seeded preferences: each active-able slot prefers a random op. Used as assumptions and dropped (by
/// unsat core) when they conflict, so the result is random but reproducible and never wrongly unsat.
fn random_hints(p: &Problem, e: &Encoded, rng: &mut impl rand::Rng) -> Vec<Bool> {
    let mut v = Vec::new();
    for s in e.segs.iter().flatten() {
        let op = rng.gen_range(0..p.lib.ops.len()) as i64;
        v.push(s.op.eq(Int::from_i64(op)));
    }
    v.shuffle(rng);
    v
}

fn check_with_hints(
    e: &Encoded,
    left: Duration,
    mut hints: Vec<Bool>,
    stats: &mut Stats,
) -> (SatResult, usize) {
    loop {
        stats.solver_calls += 1;
        let ms = left.as_millis().min(u32::MAX as u128) as u64;
        let r = encode::check(e, ms, &hints);
        if r != SatResult::Unsat || hints.is_empty() {
            return (r, hints.len());
        }
        let core = e.solver.get_unsat_core();
        let before = hints.len();
        hints.retain(|h| !core.contains(h));
        if hints.len() == before {
            // the conflict does not involve the hints: drop them all and ask once more
            hints.clear();
        }
    }
}

/// A concrete op with its input and output shapes.
#[derive(Clone, Debug)]
struct Step {
    op: Op,
}

/// A model as a program: branch A, branch B, the join, the tail.
#[derive(Clone, Debug)]
struct Candidate {
    sketch: SketchKind,
    a: Vec<Step>,
    b: Vec<Step>,
    tail: Vec<Step>,
    rank: usize,
}

fn val(m: &z3::Model, x: &Int) -> i64 {
    m.eval(x, true).and_then(|v| v.as_i64()).unwrap_or(0)
}

fn extract(p: &Problem, e: &Encoded, m: &z3::Model) -> Candidate {
    let seg = |slots: &[Slot], states: &[encode::St]| -> Vec<Step> {
        let mut v = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            let active = m
                .eval(&s.act, true)
                .and_then(|b| b.as_bool())
                .unwrap_or(false);
            if !active {
                break;
            }
            let a = &states[i];
            let b = &states[i + 1];
            let r_in = val(m, &a.r) as usize;
            let r_out = val(m, &b.r) as usize;
            let xin: Vec<i64> = a.x[..r_in].iter().map(|x| val(m, x)).collect();
            let out: Vec<i64> = b.x[..r_out].iter().map(|x| val(m, x)).collect();
            let kind = p.lib.ops[val(m, &s.op) as usize];
            let (kernel, stride, dil, groups) = (
                val(m, &s.kernel),
                val(m, &s.stride),
                val(m, &s.dil),
                val(m, &s.groups),
            );
            let op = match kind {
                OpKind::Conv => Op::Conv {
                    out: out[1],
                    kernel,
                    stride,
                    padding: dil * (kernel - 1) / 2,
                    dilation: dil,
                    groups: if groups == 0 { xin[1] } else { groups },
                    bias: true,
                },
                OpKind::Linear => Op::Linear {
                    out: *out.last().unwrap_or(&1),
                    bias: true,
                },
                OpKind::BatchNorm => Op::BatchNorm {
                    eps: 1e-5,
                    momentum: 0.1,
                },
                OpKind::LayerNorm => Op::LayerNorm { eps: 1e-5 },
                OpKind::GroupNorm => Op::GroupNorm { groups, eps: 1e-5 },
                OpKind::Act(f) => Op::Act { f },
                OpKind::Softmax => Op::Softmax {
                    dim: if r_in == 4 { 1 } else { -1 },
                },
                OpKind::Dropout => Op::Dropout { p: 0.1 },
                OpKind::Scale => Op::Scale { s: 0.5 },
                OpKind::AvgPool | OpKind::MaxPool => {
                    let kind = if kind == OpKind::AvgPool {
                        PoolKind::Avg
                    } else {
                        PoolKind::Max
                    };
                    let (kernel, stride, padding) = match val(m, &s.pool) {
                        0 => {
                            let w = val(m, &s.window);
                            (w, w, 0)
                        }
                        1 => (3, 1, 1),
                        _ => (3, 2, 1),
                    };
                    Op::Pool {
                        kind,
                        kernel,
                        stride,
                        padding,
                    }
                }
                OpKind::GlobalAvgPool => Op::GlobalPool {
                    kind: PoolKind::Avg,
                    keepdim: false,
                },
                OpKind::GlobalMaxPool => Op::GlobalPool {
                    kind: PoolKind::Max,
                    keepdim: false,
                },
                OpKind::Flatten => Op::Flatten { start: 1 },
                OpKind::Transpose => Op::Transpose { d0: 1, d1: 2 },
            };
            v.push(Step { op });
        }
        v
    };
    Candidate {
        sketch: e.sketch,
        a: seg(&e.segs[0], &e.states[0]),
        b: seg(&e.segs[1], &e.states[1]),
        tail: seg(&e.segs[2], &e.states[2]),
        rank: p.in_shape.len(),
    }
}

fn call(op: &Op, arg: &str) -> String {
    let attrs = op.attrs_text();
    // the required hyper-parameters read better positionally: conv(x, 64, …), linear(x, 10)
    let attrs = match op {
        Op::Conv { .. } | Op::Linear { .. } => attrs.replacen("out: ", "", 1),
        Op::GroupNorm { .. } => attrs.replacen("groups: ", "", 1),
        _ => attrs,
    };
    if attrs.is_empty() {
        format!("{}({arg})", op.name())
    } else {
        format!("{}({arg}, {attrs})", op.name())
    }
}

fn shape_text(shape: &[i64]) -> String {
    let mut v = vec!["B".to_string()];
    v.extend(shape[1..].iter().map(i64::to_string));
    format!("[{}]", v.join(", "))
}

/// The candidate as a NASL block (before formatting).
fn nasl(t: &Target, c: &Candidate, name: &str) -> String {
    let inp = &t.props.shape.inputs[0];
    let out = &t.props.shape.outputs[0];
    let mut body = Vec::new();
    let mut n = 0;
    let mut chain = |steps: &[Step], from: &str, prefix: &str, body: &mut Vec<String>| -> String {
        let mut cur = from.to_string();
        for s in steps {
            n += 1;
            let v = format!("{prefix}{n}");
            body.push(format!("let {v} = {};", call(&s.op, &cur)));
            cur = v;
        }
        cur
    };
    let a = chain(&c.a, "x", "h", &mut body);
    let result = if c.sketch == SketchKind::Chain {
        a
    } else {
        let b = chain(&c.b, "x", "s", &mut body);
        let j = match c.sketch {
            SketchKind::Add => format!("add({a}, {b})"),
            _ => {
                if c.rank == 3 {
                    format!("concat({a}, {b}, dim: -1)")
                } else {
                    format!("concat({a}, {b})")
                }
            }
        };
        body.push(format!("let j = {j};"));
        chain(&c.tail, "j", "t", &mut body)
    };
    let ops = c.a.len() + c.b.len() + c.tail.len() + usize::from(c.sketch != SketchKind::Chain);
    let mut text = format!(
        "/// Synthesized by `nasc synth` ({} sketch, {ops} op(s)) for {} → {}.\nblock {name}(x: {}) -> {} {{\n",
        c.sketch.name(),
        inp.name,
        out.name,
        shape_text(&inp.shape),
        shape_text(&out.shape)
    );
    for l in body {
        text.push_str("    ");
        text.push_str(&l);
        text.push('\n');
    }
    text.push_str("    ");
    text.push_str(&result);
    text.push_str("\n}\n");
    text
}

/// Parses, checks and builds `text` as if it were the file `path` (the front-end driver); the errors as
/// one line.
pub fn build_text(
    path: &std::path::Path,
    text: &str,
    block: Option<&str>,
    batch: i64,
) -> Result<Graph, String> {
    let opts = BuildOptions {
        block: block.map(str::to_string),
        batch: Some(batch),
        ..Default::default()
    };
    crate::driver::build(crate::driver::Source::Text { path, text }, &opts)
        .map(|b| b.graph)
        .map_err(|f| f.messages())
}

/// The properties of a standalone synthesized graph as they would be inside the target's context: the
/// input's producer kind is the target's (a linear producer is modelled by a `scale` before the block).
pub fn props_in_context(g: &Graph, producer: Producer) -> Result<Props, String> {
    use crate::ir::subgraph::Subgraph;
    let g2;
    let (g, sub) = if producer == Producer::Linear {
        // put a `scale` (linear) between the input and its users; later ids move up by one
        let input = g.inputs.first().copied().unwrap_or(0);
        let new_id = |j: usize| if j <= input { j } else { j + 1 };
        let mut nodes: Vec<Node> = Vec::with_capacity(g.nodes.len() + 1);
        for (i, n) in g.nodes.iter().enumerate() {
            let mut n = n.clone();
            n.inputs = n
                .inputs
                .iter()
                .map(|&j| if j == input { input + 1 } else { new_id(j) })
                .collect();
            nodes.push(n);
            if i == input {
                nodes.push(Node {
                    op: Op::Scale { s: 1.0 },
                    inputs: vec![input],
                    shape: g.nodes[input].shape.clone(),
                    path: "inputs.producer".into(),
                    span: g.nodes[input].span,
                });
            }
        }
        g2 = Graph {
            name: g.name.clone(),
            nodes,
            inputs: vec![input],
            outputs: g.outputs.iter().map(|&o| new_id(o)).collect(),
            choices: g.choices.clone(),
        };
        let inner: Vec<usize> = (0..g2.nodes.len())
            .filter(|&i| i > input + 1 && !matches!(g2.nodes[i].op, Op::Input { .. }))
            .collect();
        let sub = Subgraph::from_nodes(&g2, inner).map_err(|e| e.to_string())?;
        (&g2, sub)
    } else {
        let sub = Subgraph::whole(g).map_err(|e| e.to_string())?;
        (g, sub)
    };
    crate::props::infer(g, &sub).map_err(|e| e.to_string())
}

/// Formats, checks, builds and re-infers a candidate; errors if anything disagrees with the target.
fn recheck(t: &Target, c: &Candidate, name: &str) -> Result<Solution, SynthError> {
    let raw = nasl(t, c, name);
    let fid = crate::base::FileId::default();
    let parsed = crate::syntax::parse(fid, &raw);
    if parsed.diagnostics.iter().any(|d| d.is_error()) {
        return Err(SynthError::Internal(format!(
            "the printed program does not parse:\n{raw}"
        )));
    }
    let text = crate::syntax::print_module(&parsed.module);
    let inp = &t.props.shape.inputs[0];
    let g = build_text(Path::new("<synth>.nasl"), &text, Some(name), inp.shape[0])
        .map_err(|e| SynthError::Internal(format!("{e}\n{text}")))?;
    let props = props_in_context(&g, inp.producer)
        .map_err(|e| SynthError::Internal(format!("{e}\n{text}")))?
        .renamed_like(&t.props);
    let mut props = props;
    props.source = None;
    if !Props::satisfies(&props, &t.props) {
        return Err(SynthError::Internal(format!(
            "the model does not satisfy the target when re-checked (distance {:?}):\n{text}\nactual:\n{props}",
            Props::distance(&t.props, &props)
        )));
    }
    let ops = g
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Param { .. }))
        .count();
    let params: i64 = (0..g.nodes.len())
        .map(|i| crate::ir::count::node_params(&g, i))
        .sum();
    let flops: i64 = (0..g.nodes.len())
        .map(|i| crate::ir::count::node_macs(&g, i))
        .sum();
    let cons = &t.constraints;
    let mut broken = Vec::new();
    if cons.max_params.is_some_and(|m| params > m) {
        broken.push(format!("{params} params"));
    }
    if cons.max_flops.is_some_and(|m| flops > m) {
        broken.push(format!("{flops} MACs"));
    }
    if !broken.is_empty() {
        return Err(SynthError::Internal(format!(
            "the model breaks the budget when re-counted ({}):\n{text}",
            broken.join(", ")
        )));
    }
    Ok(Solution {
        nasl: text,
        sketch: c.sketch,
        ops,
        params,
        flops,
        props,
    })
}

/// The op sequence of a subgraph (for the `closest` objective): the library ops among its nodes, in
/// topological order.
pub fn op_sequence(g: &Graph, nodes: &[usize]) -> Vec<OpKind> {
    nodes
        .iter()
        .filter_map(|&i| {
            let op = &g.nodes[i].op;
            let k = match op {
                Op::Conv { .. } => OpKind::Conv,
                Op::Linear { .. } => OpKind::Linear,
                Op::BatchNorm { .. } => OpKind::BatchNorm,
                Op::LayerNorm { .. } => OpKind::LayerNorm,
                Op::GroupNorm { .. } => OpKind::GroupNorm,
                Op::Act { f } => OpKind::Act(*f),
                Op::Softmax { .. } => OpKind::Softmax,
                Op::Dropout { .. } => OpKind::Dropout,
                Op::Scale { .. } => OpKind::Scale,
                Op::Pool {
                    kind: PoolKind::Avg,
                    ..
                } => OpKind::AvgPool,
                Op::Pool {
                    kind: PoolKind::Max,
                    ..
                } => OpKind::MaxPool,
                Op::GlobalPool {
                    kind: PoolKind::Avg,
                    ..
                } => OpKind::GlobalAvgPool,
                Op::GlobalPool {
                    kind: PoolKind::Max,
                    ..
                } => OpKind::GlobalMaxPool,
                Op::Flatten { .. } => OpKind::Flatten,
                Op::Transpose { .. } => OpKind::Transpose,
                _ => return None,
            };
            Some(k)
        })
        .collect()
}

/// A block instance of a graph as a synthesis target.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance path (`h_1`, `stage2.block1`).
    pub path: String,
    /// Its properties (the identity target).
    pub props: Props,
    /// Its op count (params excluded), the `n` of iterative deepening.
    pub ops: usize,
    /// Its op sequence (the `closest` objective's reference).
    pub reference: Vec<OpKind>,
}

/// What makes two one-input, one-output targets the same for synthesis: boundary shapes, the input's
/// producer kind, depths and mixing matrices (not the tensor names).
pub fn target_key(p: &Props) -> String {
    let depths: Vec<u32> = p.depth.pairs.iter().map(|d| d.depth).collect();
    let mixing: Vec<String> = p
        .mixing
        .pairs
        .iter()
        .map(|m| m.matrix.to_string())
        .collect();
    let first = |v: &[crate::props::Tensor]| v.first().map(|t| (t.shape.clone(), t.producer));
    format!(
        "{:?}{:?}{depths:?}{mixing:?}",
        first(&p.shape.inputs),
        first(&p.shape.outputs).map(|(s, _)| s)
    )
}

/// The block instances of a graph that synthesis can target — every proper prefix of a node path
/// (a call of a block, a `repeat`, one iteration) whose subgraph has one input and one output — with
/// duplicates (same boundary shapes, producer kind, depths and mixing) removed.
pub fn instances(g: &Graph) -> Vec<Instance> {
    use crate::ir::subgraph::Subgraph;
    let mut prefixes: Vec<String> = Vec::new();
    for n in &g.nodes {
        let parts: Vec<&str> = n.path.split('.').collect();
        if parts.first() == Some(&"inputs") {
            continue;
        }
        for k in 1..parts.len() {
            let p = parts[..k].join(".");
            if !prefixes.contains(&p) {
                prefixes.push(p);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for p in prefixes {
        let Ok(sub) = Subgraph::by_path(g, &p) else {
            continue;
        };
        if sub.inputs.len() != 1 || sub.outputs.len() != 1 {
            continue;
        }
        let Ok(props) = crate::props::infer(g, &sub) else {
            continue;
        };
        let key = target_key(&props);
        if !seen.insert(key) {
            continue;
        }
        let ops = sub
            .nodes
            .iter()
            .filter(|&&i| !matches!(g.nodes[i].op, Op::Param { .. }))
            .count();
        out.push(Instance {
            path: p,
            reference: op_sequence(g, &sub.nodes),
            props,
            ops,
        });
    }
    out
}
