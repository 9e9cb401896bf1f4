//! The SMT encoding of a program sketch (docs/synthesis.md). A sketch is a fixed number of op slots
//! arranged as a chain, or as two branches from the input joined by `add`/`concat` and followed by a
//! short tail. Each slot has z3 variables for its op and kwargs (kernel, stride, dilation, groups,
//! channel factor, pool mode, window) and each tensor between slots has variables for its rank, its
//! dims, its depth state (switch count, kind of the last op) and its mixing matrix over the `. o m a`
//! lattice (0–3). The per-op mixing matrices are those of `props::mixing::op_matrix` itself, evaluated
//! on representative shapes, so the encoding and the re-check cannot disagree on a rule; composition and
//! joins are encoded exactly (max over connected dims). Target fields and constraints are asserted
//! under tracking literals so that an unsat core names the fields that conflict.

use super::target::{Factor, Library, OpKind, SketchKind, Target};
use crate::ir::{Op, PoolKind};
use crate::props::mixing::op_matrix;
use crate::props::Producer;
use std::collections::BTreeSet;
use z3::ast::{Bool, Int};
use z3::{SatResult, Solver};

/// Largest channel / feature count a synthesized tensor may ever have.
pub const MAX_FEATURES: i64 = 16384;

/// The feature cap of a problem: 4× the largest dim of its boundary (at least 64, at most
/// [`MAX_FEATURES`]) — wider intermediates are never needed to meet a target and only blow up cost.
fn feature_cap(inp: &[i64], out: &[i64]) -> i64 {
    let mut m = inp[1..].iter().chain(&out[1..]).copied().max().unwrap_or(1);
    if inp.len() == 4 && out.len() == 2 {
        m = m.max(out[1]);
    }
    (4 * m).clamp(64, MAX_FEATURES)
}

type Q = [[u8; 4]; 4];

/// The variables of one op slot.
pub(crate) struct Slot {
    pub act: Bool,
    pub op: Int,
    pub kernel: Int,
    pub stride: Int,
    pub dil: Int,
    pub groups: Int,
    pub factor: Int,
    pub pool: Int,
    pub window: Int,
}

/// The variables of one tensor.
#[derive(Clone)]
pub(crate) struct St {
    pub r: Int,
    pub x: [Int; 4],
    /// Mixing, unary: `m[a][c][t]` ⇔ entry (a, c) ≥ t + 1 (`o`, `m`, `a`), so the lattice's max and
    /// composition are plain Boolean formulas.
    pub m: Vec<[[Bool; 3]; 4]>,
    pub d: Int,
    pub nl: Bool,
}

/// One assertion group that an unsat core can name.
pub(crate) struct Label {
    pub lit: Bool,
    pub field: String,
    pub text: String,
}

pub(crate) struct Encoded {
    pub solver: Solver,
    pub sketch: SketchKind,
    /// Branch A, branch B (empty for a chain), tail (empty for a chain).
    pub segs: [Vec<Slot>; 3],
    /// The tensor before each slot of each segment, and after the last.
    pub states: [Vec<St>; 3],
    pub labels: Vec<Label>,
    pub params: Option<Int>,
    pub macs: Option<Int>,
    /// Σ over slots of `op ≠ reference op` (objective `closest`).
    pub distance: Option<Int>,
}

fn int(v: i64) -> Int {
    Int::from_i64(v)
}

fn or(v: &[Bool]) -> Bool {
    if v.is_empty() {
        Bool::from_bool(false)
    } else {
        Bool::or(v)
    }
}

fn and(v: &[Bool]) -> Bool {
    if v.is_empty() {
        Bool::from_bool(true)
    } else {
        Bool::and(v)
    }
}

fn in_set(x: &Int, vals: &[i64]) -> Bool {
    or(&vals.iter().map(|&v| x.eq(int(v))).collect::<Vec<_>>())
}

/// `q = ⌊x / c⌋` for `x ≥ 0`, as linear inequalities (no `div`, so the problem stays finite-domain).
fn floor_div(q: &Int, x: &Int, c: i64) -> Bool {
    and(&[(q * int(c)).le(x), x.le(q * int(c) + int(c - 1))])
}

/// `q = ⌈x / c⌉` for `x ≥ 0`.
fn ceil_div(q: &Int, x: &Int, c: i64) -> Bool {
    and(&[(q * int(c)).ge(x), x.gt(q * int(c) - int(c))])
}

fn max2(a: &Int, b: &Int) -> Int {
    a.ge(b).ite(a, b)
}

/// `x · y` for `y` known to lie in `dom` (asserted separately): an if-then-else over `dom`, linear in `x`.
fn lin_mul(x: &Int, y: &Int, dom: &[i64]) -> Int {
    lin_mul_div(x, y, dom, 1)
}

/// `x · (y / d)` (integer division) for `y` in `dom`, the same way.
fn lin_mul_div(x: &Int, y: &Int, dom: &[i64], d: i64) -> Int {
    let mut acc = int(0);
    for &v in dom.iter().rev() {
        acc = y.eq(int(v)).ite(&(x * int(v / d)), &acc);
    }
    acc
}

fn pad(m: &crate::props::Matrix) -> Q {
    let mut q = [[0u8; 4]; 4];
    for (r, row) in q.iter_mut().enumerate().take(m.rows.min(4)) {
        for (c, cell) in row.iter_mut().enumerate().take(m.cols.min(4)) {
            *cell = m.get(r, c) as u8;
        }
    }
    q
}

fn q_of(op: Op, inp: &[i64], out: &[i64]) -> Q {
    pad(&op_matrix(&op, &[inp], out, 0))
}

fn identity_q() -> Q {
    let mut q = [[0u8; 4]; 4];
    for (i, row) in q.iter_mut().enumerate() {
        row[i] = 1;
    }
    q
}

/// One cell of a slot's per-op matrix: a constant, or thresholds (≥ o, ≥ m, ≥ a) over the slot's op
/// and kwargs.
enum QCell {
    Const(u8),
    Var([Bool; 3]),
}

/// `R = P ∘ Q` over the lattice (props' `Matrix::compose`): `R[a][c]` = max over `b` with `P[a][b] ≠ .`
/// and `Q[b][c] ≠ .` of `max(P[a][b], Q[b][c])`, `.` when no `b` connects. In thresholds:
/// `R ≥ t` ⇔ some `b` connects and `P[a][b] ≥ t` or `Q[b][c] ≥ t`.
fn compose_var(p: &[[[Bool; 3]; 4]], q: &[[QCell; 4]; 4]) -> Vec<[[Bool; 3]; 4]> {
    p.iter()
        .map(|row| {
            std::array::from_fn(|c| {
                std::array::from_fn(|t| {
                    let mut any = Vec::new();
                    for (b, pb) in row.iter().enumerate() {
                        match &q[b][c] {
                            QCell::Const(0) => {}
                            QCell::Const(v) => {
                                if *v as usize > t {
                                    any.push(pb[0].clone());
                                } else {
                                    any.push(pb[t].clone());
                                }
                            }
                            QCell::Var(qv) => any.push(and(&[
                                pb[0].clone(),
                                qv[0].clone(),
                                or(&[pb[t].clone(), qv[t].clone()]),
                            ])),
                        }
                    }
                    or(&any)
                })
            })
        })
        .collect()
}

fn eq_m(a: &[[[Bool; 3]; 4]], b: &[[[Bool; 3]; 4]]) -> Bool {
    let mut v = Vec::new();
    for (ra, rb) in a.iter().zip(b) {
        for (x, y) in ra.iter().zip(rb) {
            for (u, w) in x.iter().zip(y) {
                v.push(u.eq(w));
            }
        }
    }
    and(&v)
}

fn eq_st(a: &St, b: &St) -> Bool {
    let mut v = vec![a.r.eq(&b.r), a.d.eq(&b.d), a.nl.eq(&b.nl), eq_m(&a.m, &b.m)];
    for (x, y) in a.x.iter().zip(&b.x) {
        v.push(x.eq(y));
    }
    and(&v)
}

/// The fixed facts of a problem.
pub(crate) struct Problem<'a> {
    pub lib: &'a Library,
    pub in_shape: Vec<i64>,
    pub out_shape: Vec<i64>,
    pub producer_nl: bool,
    /// The output's feature size (channels of rank 4 and 2, last dim of rank 3).
    pub feat_out: i64,
    /// Values a channel/feature/token dim can take (for cost counting).
    pub dom: Vec<i64>,
    /// Values a spatial dim can take.
    pub spatial: Vec<i64>,
    /// Products of two spatial values.
    pub spatial2: Vec<i64>,
    pub need_cost: bool,
    /// Cap of channel / feature dims.
    pub max_feat: i64,
    /// Bound of every dim variable.
    pub max_dim: i64,
    pub reference: Option<Vec<OpKind>>,
}

fn feat_dim(r: usize) -> usize {
    if r == 3 {
        2
    } else {
        1
    }
}

impl<'a> Problem<'a> {
    pub fn new(
        t: &'a Target,
        need_cost: bool,
        reference: Option<Vec<OpKind>>,
        k_max: usize,
    ) -> Problem<'a> {
        let inp = &t.props.shape.inputs[0];
        let out = &t.props.shape.outputs[0];
        let feat_out = out.shape[feat_dim(out.shape.len())];
        let lib = &t.library;
        // Spatial sizes reachable from the input's and the output's.
        let mut spatial: BTreeSet<i64> = BTreeSet::new();
        let mut frontier: Vec<i64> = Vec::new();
        if inp.shape.len() == 4 {
            frontier.extend(&inp.shape[2..]);
        }
        if out.shape.len() == 4 {
            frontier.extend(&out.shape[2..]);
        }
        while let Some(h) = frontier.pop() {
            if h < 1 || !spatial.insert(h) {
                continue;
            }
            for &s in &lib.strides {
                frontier.push((h + s - 1) / s);
            }
            for &w in &lib.windows {
                frontier.push(h / w);
            }
            frontier.push((h - 1) / 2 + 1);
        }
        let spatial: Vec<i64> = spatial.into_iter().collect();
        let mut s2: BTreeSet<i64> = BTreeSet::new();
        for &a in &spatial {
            for &b in &spatial {
                s2.insert(a * b);
            }
        }
        // Feature sizes: the dims of input and output closed under the factors, within the bound, a few
        // steps deep (each step is one op).
        let max_feat = feature_cap(&inp.shape, &out.shape);
        let max_dim = inp.shape[1..]
            .iter()
            .chain(&out.shape[1..])
            .copied()
            .max()
            .unwrap_or(1)
            .max(max_feat);
        let mut dom: BTreeSet<i64> = BTreeSet::new();
        let mut level: Vec<i64> = inp.shape[1..]
            .iter()
            .chain(&out.shape[1..])
            .copied()
            .collect();
        if inp.shape.len() == 4 {
            // flatten: C·H·W for reachable spatial sizes
            for &h in &spatial {
                for &w in &spatial {
                    level.push(inp.shape[1] * h * w);
                }
            }
        }
        for _ in 0..=k_max.min(12) {
            let mut next = Vec::new();
            for &v in &level {
                if v < 1 || v > max_feat || !dom.insert(v) {
                    continue;
                }
                for f in &lib.factors {
                    match f {
                        Factor::Mul(n) => next.push(v * n),
                        Factor::Div(n) if v % n == 0 => next.push(v / n),
                        _ => {}
                    }
                }
            }
            level = next;
            if level.is_empty() {
                break;
            }
        }
        let dom: Vec<i64> = dom.into_iter().collect();
        Problem {
            lib,
            in_shape: inp.shape.clone(),
            out_shape: out.shape.clone(),
            producer_nl: inp.producer == Producer::Nonlinear,
            feat_out,
            dom,
            spatial,
            spatial2: s2.into_iter().collect(),
            need_cost,
            max_feat,
            max_dim,
            reference,
        }
    }

    /// The rank of every tensor, when input and output ranks agree.
    fn const_rank(&self) -> Option<usize> {
        (self.in_shape.len() == self.out_shape.len()).then_some(self.in_shape.len())
    }

    /// Whether an op can appear at all in this problem (given the ranks it can see).
    fn valid_op(&self, o: OpKind) -> bool {
        let ranks: Vec<usize> = match self.const_rank() {
            Some(r) => vec![r],
            None => vec![4, 2],
        };
        let fits = |ok: &[usize]| ranks.iter().any(|r| ok.contains(r));
        match o {
            OpKind::Conv | OpKind::GroupNorm | OpKind::AvgPool | OpKind::MaxPool => fits(&[4]),
            OpKind::GlobalAvgPool | OpKind::GlobalMaxPool | OpKind::Flatten => {
                self.const_rank().is_none()
            }
            OpKind::Linear | OpKind::LayerNorm => fits(&[2, 3]),
            OpKind::BatchNorm => fits(&[2, 4]),
            OpKind::Transpose => fits(&[3]),
            OpKind::Act(_) | OpKind::Softmax | OpKind::Dropout | OpKind::Scale => true,
        }
    }

    fn op_index(&self, o: OpKind) -> Option<i64> {
        self.lib.ops.iter().position(|&x| x == o).map(|i| i as i64)
    }

    fn is(&self, s: &Slot, o: OpKind) -> Bool {
        match self.op_index(o) {
            Some(i) => s.op.eq(int(i)),
            None => Bool::from_bool(false),
        }
    }

    fn is_any(&self, s: &Slot, ops: &[OpKind]) -> Bool {
        or(&ops.iter().map(|&o| self.is(s, o)).collect::<Vec<_>>())
    }
}

/// Mixing classes of the library: a condition on a slot (and the rank of its input) and the matrix.
fn classes(p: &Problem, s: &Slot, r: &Int) -> Vec<(Bool, Q)> {
    let r4 = [1, 16, 16, 16];
    let mut v: Vec<(Bool, Q)> = Vec::new();
    let conv = |kernel: i64, groups: i64| Op::Conv {
        out: 16,
        kernel,
        stride: 1,
        padding: (kernel - 1) / 2,
        dilation: 1,
        groups,
        bias: true,
    };
    let is_conv = p.is(s, OpKind::Conv);
    for (kc, kernel) in [(s.kernel.eq(int(1)), 1), (s.kernel.gt(int(1)), 3)] {
        for (gc, groups) in [
            (s.groups.eq(int(1)), 1),
            (s.groups.gt(int(1)), 2),
            (s.groups.eq(int(0)), 16),
        ] {
            v.push((
                and(&[is_conv.clone(), kc.clone(), gc]),
                q_of(conv(kernel, groups), &r4, &r4),
            ));
        }
    }
    let lin = p.is(s, OpKind::Linear);
    let ln = p.is(s, OpKind::LayerNorm);
    let sm = p.is(s, OpKind::Softmax);
    let r2 = [1, 16];
    let r3 = [1, 8, 16];
    for (rc, shape) in [(r.eq(int(2)), &r2[..]), (r.eq(int(3)), &r3[..])] {
        v.push((
            and(&[lin.clone(), rc.clone()]),
            q_of(
                Op::Linear {
                    out: 16,
                    bias: true,
                },
                shape,
                shape,
            ),
        ));
        v.push((
            and(&[ln.clone(), rc.clone()]),
            q_of(Op::LayerNorm { eps: 1e-5 }, shape, shape),
        ));
        v.push((
            and(&[sm.clone(), rc]),
            q_of(Op::Softmax { dim: -1 }, shape, shape),
        ));
    }
    v.push((
        and(&[sm, r.eq(int(4))]),
        q_of(Op::Softmax { dim: 1 }, &r4, &r4),
    ));
    let gn = p.is(s, OpKind::GroupNorm);
    v.push((
        and(&[gn.clone(), s.groups.eq(int(1))]),
        q_of(
            Op::GroupNorm {
                groups: 1,
                eps: 1e-5,
            },
            &r4,
            &r4,
        ),
    ));
    v.push((
        and(&[gn, s.groups.gt(int(1))]),
        q_of(
            Op::GroupNorm {
                groups: 2,
                eps: 1e-5,
            },
            &r4,
            &r4,
        ),
    ));
    let elementwise: Vec<OpKind> = p
        .lib
        .ops
        .iter()
        .copied()
        .filter(|o| {
            matches!(
                o,
                OpKind::BatchNorm | OpKind::Act(_) | OpKind::Dropout | OpKind::Scale
            )
        })
        .collect();
    v.push((p.is_any(s, &elementwise), identity_q()));
    v.push((
        p.is_any(s, &[OpKind::AvgPool, OpKind::MaxPool]),
        q_of(
            Op::Pool {
                kind: PoolKind::Avg,
                kernel: 2,
                stride: 2,
                padding: 0,
            },
            &r4,
            &[1, 16, 8, 8],
        ),
    ));
    v.push((
        p.is_any(s, &[OpKind::GlobalAvgPool, OpKind::GlobalMaxPool]),
        q_of(
            Op::GlobalPool {
                kind: PoolKind::Avg,
                keepdim: false,
            },
            &r4,
            &[1, 16],
        ),
    ));
    v.push((
        p.is(s, OpKind::Flatten),
        q_of(Op::Flatten { start: 1 }, &[1, 16, 4, 4], &[1, 256]),
    ));
    v.push((
        p.is(s, OpKind::Transpose),
        q_of(Op::Transpose { d0: 1, d1: 2 }, &r3, &[1, 16, 8]),
    ));
    v
}

struct Builder<'p, 'a> {
    p: &'p Problem<'a>,
    solver: Solver,
    labels: Vec<Label>,
    fresh: usize,
    params: Vec<Int>,
    macs: Vec<Int>,
    cost_domain: Vec<Bool>,
}

impl Builder<'_, '_> {
    fn name(&mut self, what: &str) -> String {
        self.fresh += 1;
        format!("{what}!{}", self.fresh)
    }

    /// A fresh integer with explicit bounds (which also let z3 treat the problem as finite-domain).
    fn ivar(&mut self, what: &str, (lo, hi): (i64, i64)) -> Int {
        let n = self.name(what);
        let v = Int::new_const(n);
        self.solver.assert(v.ge(int(lo)));
        self.solver.assert(v.le(int(hi)));
        v
    }

    fn bvar(&mut self, what: &str) -> Bool {
        let n = self.name(what);
        Bool::new_const(n)
    }

    fn track(&mut self, c: Bool, field: &str, text: String) {
        let lit = self.bvar("track");
        // an explicit assumption literal (assert_and_track loses cores in the finite-domain solver)
        self.solver.assert(lit.implies(c));
        self.labels.push(Label {
            lit,
            field: field.to_string(),
            text,
        });
    }

    fn state(&mut self, rows: usize) -> St {
        // constant where the problem fixes it: the batch dim always, the rank (and the unused dims) when
        // input and output ranks agree (no op of the library returns to a higher rank)
        let rank = self.p.const_rank();
        let batch = self.p.in_shape[0];
        St {
            r: match rank {
                Some(r) => int(r as i64),
                None => self.ivar("r", (2, 4)),
            },
            x: std::array::from_fn(|i| match (i, rank) {
                (0, _) => int(batch),
                (i, Some(r)) if i >= r => int(0),
                _ => self.ivar("x", (0, self.p.max_dim)),
            }),
            m: (0..rows)
                .map(|_| std::array::from_fn(|_| std::array::from_fn(|_| self.bvar("m"))))
                .collect(),
            d: self.ivar("d", (0, 512)),
            nl: self.bvar("nl"),
        }
    }

    fn slot(&mut self, always: bool) -> Slot {
        let act = if always {
            Bool::from_bool(true)
        } else {
            self.bvar("act")
        };
        let s = Slot {
            act,
            op: self.ivar("op", (0, 63)),
            kernel: self.ivar("kernel", (1, 15)),
            stride: self.ivar("stride", (1, 8)),
            dil: self.ivar("dil", (1, 8)),
            groups: self.ivar("groups", (0, 256)),
            factor: self.ivar("factor", (0, 63)),
            pool: self.ivar("pool", (0, 2)),
            window: self.ivar("window", (2, 64)),
        };
        let lib = self.p.lib;
        let sv = &self.solver;
        // domains
        let valid: Vec<i64> = (0..lib.ops.len() as i64)
            .filter(|&i| self.p.valid_op(lib.ops[i as usize]))
            .collect();
        sv.assert(in_set(&s.op, &valid));
        sv.assert(in_set(&s.kernel, &lib.kernels));
        sv.assert(in_set(&s.stride, &lib.strides));
        sv.assert(in_set(&s.dil, &lib.dilations));
        let mut gs = vec![1];
        gs.extend(&lib.groups);
        if lib.depthwise {
            gs.push(0);
        }
        sv.assert(in_set(&s.groups, &gs));
        sv.assert(s.factor.ge(int(0)));
        sv.assert(s.factor.lt(int(lib.factors.len() as i64)));
        sv.assert(in_set(&s.pool, &[0, 1, 2]));
        sv.assert(in_set(&s.window, &lib.windows));
        // canonical values of kwargs an op does not use (so that blocking one structure blocks exactly it)
        let p = self.p;
        let conv = p.is(&s, OpKind::Conv);
        let gn = p.is(&s, OpKind::GroupNorm);
        let pool = p.is_any(&s, &[OpKind::AvgPool, OpKind::MaxPool]);
        let fac = p.is_any(&s, &[OpKind::Conv, OpKind::Linear]);
        sv.assert(conv.not().implies(s.kernel.eq(int(lib.kernels[0]))));
        sv.assert(conv.not().implies(s.stride.eq(int(lib.strides[0]))));
        sv.assert(
            and(&[conv.clone(), s.kernel.gt(int(1))])
                .not()
                .implies(s.dil.eq(int(lib.dilations[0]))),
        );
        sv.assert(or(&[conv, gn.clone()]).not().implies(s.groups.eq(int(1))));
        sv.assert(gn.implies(s.groups.ne(int(0))));
        sv.assert(fac.not().implies(s.factor.eq(int(0))));
        sv.assert(pool.clone().not().implies(s.pool.eq(int(0))));
        sv.assert(
            and(&[pool, s.pool.eq(int(0))])
                .not()
                .implies(s.window.eq(int(lib.windows[0]))),
        );
        sv.assert(
            s.act
                .not()
                .implies(s.op.eq(int(valid.first().copied().unwrap_or(0)))),
        );
        s
    }

    /// `x` is a multiple of `g` (through a fresh bounded quotient).
    fn divisible(&mut self, x: &Int, g: i64) -> Bool {
        let q = self.ivar("quot", (0, self.p.max_dim));
        x.eq(q * int(g))
    }

    fn feature(&self, s: &Slot, old: &Int, new: &Int) -> Bool {
        let mut v = Vec::new();
        for (j, f) in self.p.lib.factors.iter().enumerate() {
            let rel = match f {
                Factor::Mul(n) => new.eq(old * int(*n)),
                Factor::Div(n) => old.eq(new * int(*n)),
                Factor::Out => new.eq(int(self.p.feat_out)),
            };
            v.push(s.factor.eq(int(j as i64)).implies(rel));
        }
        and(&v)
    }

    /// Asserts the transition `a --slot--> b`.
    fn step(&mut self, a: &St, s: &Slot, b: &St) {
        let p = self.p;
        let lib = p.lib;
        let mut c: Vec<Bool> = Vec::new();
        let same_x = |i: usize| b.x[i].eq(&a.x[i]);
        let spatial_same = and(&[same_x(2), same_x(3)]);
        // rank and shape per op
        let nonlinear: Vec<OpKind> = lib.ops.iter().copied().filter(|o| o.nonlinear()).collect();
        let is_nl = p.is_any(s, &nonlinear);
        let r4 = a.r.eq(int(4));
        let r23 = or(&[a.r.eq(int(2)), a.r.eq(int(3))]);
        let keep = and(&[b.r.eq(&a.r), same_x(0), same_x(1), same_x(2), same_x(3)]);
        for &o in &lib.ops {
            let on = p.is(s, o);
            let rel = match o {
                OpKind::Conv => {
                    let mut v = vec![
                        r4.clone(),
                        b.r.eq(int(4)),
                        same_x(0),
                        self.feature(s, &a.x[1], &b.x[1]),
                    ];
                    for &st in &lib.strides {
                        v.push(s.stride.eq(int(st)).implies(and(&[
                            ceil_div(&b.x[2], &a.x[2], st),
                            ceil_div(&b.x[3], &a.x[3], st),
                        ])));
                    }
                    for &g in &lib.groups {
                        v.push(s.groups.eq(int(g)).implies(and(&[
                            self.divisible(&a.x[1], g),
                            self.divisible(&b.x[1], g),
                            a.x[1].ge(int(2 * g)),
                        ])));
                    }
                    if lib.depthwise {
                        let muls: Vec<Bool> = lib
                            .factors
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| matches!(f, Factor::Mul(_)))
                            .map(|(j, _)| s.factor.eq(int(j as i64)))
                            .collect();
                        v.push(
                            s.groups
                                .eq(int(0))
                                .implies(and(&[or(&muls), a.x[1].ge(int(2))])),
                        );
                    }
                    // no window covering a whole dim of size > 1 (its matrix would differ)
                    for &k in &lib.kernels {
                        for &d in &lib.dilations {
                            let reach = d * (k - 1) / 2 + 1;
                            for i in [2, 3] {
                                v.push(
                                    and(&[s.kernel.eq(int(k)), s.dil.eq(int(d))]).implies(
                                        and(&[
                                            b.x[i].eq(int(1)),
                                            a.x[i].gt(int(1)),
                                            a.x[i].le(int(reach)),
                                        ])
                                        .not(),
                                    ),
                                );
                            }
                        }
                    }
                    and(&v)
                }
                OpKind::Linear => {
                    let r2 = and(&[
                        a.r.eq(int(2)),
                        same_x(2),
                        same_x(3),
                        self.feature(s, &a.x[1], &b.x[1]),
                    ]);
                    let r3 = and(&[
                        a.r.eq(int(3)),
                        same_x(1),
                        same_x(3),
                        self.feature(s, &a.x[2], &b.x[2]),
                    ]);
                    and(&[b.r.eq(&a.r), same_x(0), or(&[r2, r3])])
                }
                OpKind::BatchNorm => and(&[keep.clone(), or(&[a.r.eq(int(2)), a.r.eq(int(4))])]),
                OpKind::LayerNorm => and(&[keep.clone(), r23.clone()]),
                OpKind::GroupNorm => {
                    let mut v = vec![keep.clone(), r4.clone()];
                    for &g in &lib.groups {
                        v.push(
                            s.groups
                                .eq(int(g))
                                .implies(and(&[self.divisible(&a.x[1], g), a.x[1].ge(int(2 * g))])),
                        );
                    }
                    and(&v)
                }
                OpKind::Act(_) | OpKind::Softmax | OpKind::Dropout | OpKind::Scale => keep.clone(),
                OpKind::AvgPool | OpKind::MaxPool => {
                    let mut v = vec![r4.clone(), b.r.eq(int(4)), same_x(0), same_x(1)];
                    for &w in &lib.windows {
                        v.push(
                            and(&[s.pool.eq(int(0)), s.window.eq(int(w))]).implies(and(&[
                                floor_div(&b.x[2], &a.x[2], w),
                                floor_div(&b.x[3], &a.x[3], w),
                                a.x[2].gt(int(w)),
                                a.x[3].gt(int(w)),
                            ])),
                        );
                    }
                    v.push(s.pool.eq(int(1)).implies(spatial_same.clone()));
                    v.push(s.pool.eq(int(2)).implies(and(&[
                        ceil_div(&b.x[2], &a.x[2], 2),
                        ceil_div(&b.x[3], &a.x[3], 2),
                        a.x[2].ge(int(3)),
                        a.x[3].ge(int(3)),
                    ])));
                    and(&v)
                }
                OpKind::GlobalAvgPool | OpKind::GlobalMaxPool => and(&[
                    r4.clone(),
                    b.r.eq(int(2)),
                    same_x(0),
                    same_x(1),
                    b.x[2].eq(int(0)),
                    b.x[3].eq(int(0)),
                ]),
                OpKind::Flatten => {
                    let hw = lin_mul(&a.x[3], &a.x[2], &p.spatial);
                    let chw = lin_mul(&a.x[1], &hw, &p.spatial2);
                    and(&[
                        r4.clone(),
                        in_set(&a.x[2], &p.spatial),
                        in_set(&hw, &p.spatial2),
                        b.r.eq(int(2)),
                        same_x(0),
                        b.x[1].eq(chw),
                        b.x[2].eq(int(0)),
                        b.x[3].eq(int(0)),
                    ])
                }
                OpKind::Transpose => and(&[
                    a.r.eq(int(3)),
                    b.r.eq(int(3)),
                    same_x(0),
                    b.x[1].eq(&a.x[2]),
                    b.x[2].eq(&a.x[1]),
                    same_x(3),
                ]),
            };
            c.push(on.implies(rel));
        }
        // depth
        c.push(b.nl.eq(&is_nl));
        c.push(b.d.eq(&a.d + b.nl.xor(&a.nl).ite(&int(1), &int(0))));
        // mixing: the slot's matrix, cell by cell (constant where every class agrees), composed once
        let cls = classes(p, s, &a.r);
        let q: [[QCell; 4]; 4] = std::array::from_fn(|b| {
            std::array::from_fn(|c| {
                let first = cls.first().map(|(_, q)| q[b][c]).unwrap_or(0);
                if cls.iter().all(|(_, q)| q[b][c] == first) {
                    QCell::Const(first)
                } else {
                    // the classes partition the slot's possible ops: ≥ t iff a class with ≥ t holds
                    QCell::Var(std::array::from_fn(|t| {
                        or(&cls
                            .iter()
                            .filter(|(_, q)| q[b][c] as usize > t)
                            .map(|(cond, _)| cond.clone())
                            .collect::<Vec<_>>())
                    }))
                }
            })
        });
        let r = compose_var(&a.m, &q);
        c.push(eq_m(&b.m, &r));
        // bounds of every dim
        let mut bounds = vec![b.x[1].ge(int(1)), b.x[1].le(int(p.max_feat))];
        bounds.push(
            b.r.eq(int(2))
                .implies(and(&[b.x[2].eq(int(0)), b.x[3].eq(int(0))])),
        );
        bounds.push(b.r.eq(int(3)).implies(and(&[
            b.x[2].ge(int(1)),
            b.x[2].le(int(p.max_feat)),
            b.x[3].eq(int(0)),
        ])));
        bounds.push(
            b.r.eq(int(4))
                .implies(and(&[b.x[2].ge(int(1)), b.x[3].ge(int(1))])),
        );
        c.extend(bounds);
        let active = and(&c);
        self.solver.assert(s.act.implies(active));
        self.solver.assert(s.act.not().implies(eq_st(a, b)));
        if p.need_cost {
            self.cost(a, s, b);
        }
    }

    /// Parameters and MACs of a slot (the `nasc cost` convention, `ir::count`), as linear terms over
    /// enumerated sizes.
    fn cost(&mut self, a: &St, s: &Slot, b: &St) {
        let p = self.p;
        let lib = p.lib;
        let mut gs: Vec<i64> = vec![1];
        gs.extend(&lib.groups);
        // conv
        let hw = lin_mul(&b.x[3], &b.x[2], &p.spatial);
        let e = lin_mul(&b.x[1], &hw, &p.spatial2); // output elements
                                                    // t · (Cin / groups), by enumerating Cin (groups divide Cin where allowed); depthwise: t · 1
        let by_groups = |t: &Int| -> Int {
            let mut acc = t.clone();
            for &g in gs.iter().rev() {
                let inner = lin_mul_div(t, &a.x[1], &p.dom, g);
                acc = s.groups.eq(int(g)).ite(&inner, &acc);
            }
            acc
        };
        let ccg = by_groups(&b.x[1]);
        let ecg = by_groups(&e);
        let by_kernel = |t: &Int| -> Int {
            let mut acc = int(0);
            for &k in lib.kernels.iter().rev() {
                acc = s.kernel.eq(int(k)).ite(&(t * int(k * k)), &acc);
            }
            acc
        };
        let conv_params = by_kernel(&ccg) + &b.x[1];
        let conv_macs = by_kernel(&ecg);
        // linear
        let ff2 = lin_mul(&b.x[1], &a.x[1], &p.dom);
        let ff3 = lin_mul(&b.x[2], &a.x[2], &p.dom);
        let lin_params = a.r.eq(int(2)).ite(&(&ff2 + &b.x[1]), &(&ff3 + &b.x[2]));
        let lin_macs = a.r.eq(int(2)).ite(&ff2, &lin_mul(&ff3, &a.x[1], &p.dom));
        let norm_c = a.x[1].clone() * int(2);
        let ln = a.r.eq(int(2)).ite(&(&a.x[1] * int(2)), &(&a.x[2] * int(2)));
        let conv = p.is(s, OpKind::Conv);
        let lin = p.is(s, OpKind::Linear);
        let zero = int(0);
        let params = conv.ite(
            &conv_params,
            &lin.ite(
                &lin_params,
                &p.is_any(s, &[OpKind::BatchNorm, OpKind::GroupNorm])
                    .ite(&norm_c, &p.is(s, OpKind::LayerNorm).ite(&ln, &zero)),
            ),
        );
        let macs = conv.ite(&conv_macs, &lin.ite(&lin_macs, &zero));
        let pv = self.ivar("params", (0, 1 << 50));
        let mv = self.ivar("macs", (0, 1 << 55));
        self.solver.assert(pv.eq(s.act.ite(&params, &zero)));
        self.solver.assert(mv.eq(s.act.ite(&macs, &zero)));
        // the enumerations above are exact only for sizes in their domains
        let conv_dom = and(&[
            conv.clone(),
            in_set(&a.x[1], &p.dom),
            in_set(&b.x[2], &p.spatial),
            in_set(&hw, &p.spatial2),
        ]);
        let lin2 = and(&[lin.clone(), a.r.eq(int(2)), in_set(&a.x[1], &p.dom)]);
        let lin3 = and(&[
            lin.clone(),
            a.r.eq(int(3)),
            in_set(&a.x[2], &p.dom),
            in_set(&a.x[1], &p.dom),
        ]);
        let c = or(&[conv_dom, lin2, lin3, and(&[conv.not(), lin.not()])]);
        self.cost_domain.push(s.act.implies(c));
        self.params.push(pv);
        self.macs.push(mv);
    }

    fn segment(&mut self, start: &St, n: usize, always: bool, rows: usize) -> (Vec<Slot>, Vec<St>) {
        let mut slots = Vec::new();
        let mut states = vec![start.clone()];
        for i in 0..n {
            let s = self.slot(always);
            if i > 0 && !always {
                let prev: &Slot = &slots[i - 1];
                self.solver.assert(s.act.implies(&prev.act));
            }
            let b = self.state(rows);
            let a = states.last().cloned().unwrap_or_else(|| start.clone());
            self.step(&a, &s, &b);
            slots.push(s);
            states.push(b);
        }
        (slots, states)
    }
}

/// Encodes a sketch of `k` ops (a join counts as one) for the problem.
pub(crate) fn encode(
    p: &Problem,
    sketch: SketchKind,
    k: usize,
    target: &Target,
) -> Option<Encoded> {
    if k == 0 || (sketch != SketchKind::Chain && k < 2) {
        return None;
    }
    // Every integer is bounded and every constraint linear without div/mod: z3's finite-domain solver
    // (bit-blasting to SAT) is several times faster than the general arithmetic one on these sketches.
    let solver = Solver::new_for_logic("QF_FD").unwrap_or_default();
    let mut bld = Builder {
        p,
        solver,
        labels: Vec::new(),
        fresh: 0,
        params: Vec::new(),
        macs: Vec::new(),
        cost_domain: Vec::new(),
    };
    let rin = p.in_shape.len();
    let rout = p.out_shape.len();
    // the input tensor
    let x0 = bld.state(rin);
    {
        let sv = &bld.solver;
        sv.assert(x0.r.eq(int(rin as i64)));
        for i in 0..4 {
            sv.assert(x0.x[i].eq(int(p.in_shape.get(i).copied().unwrap_or(0))));
        }
        for (a, row) in x0.m.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sv.assert(v[0].eq(Bool::from_bool(a == c)));
                sv.assert(v[1].not());
                sv.assert(v[2].not());
            }
        }
        sv.assert(x0.d.eq(int(0)));
        sv.assert(x0.nl.eq(Bool::from_bool(p.producer_nl)));
    }
    let (segs, states, out) = match sketch {
        SketchKind::Chain => {
            let (a, sa) = bld.segment(&x0, k, true, rin);
            let out = sa.last().cloned().unwrap_or(x0.clone());
            (
                [a, Vec::new(), Vec::new()],
                [sa, Vec::new(), Vec::new()],
                out,
            )
        }
        SketchKind::Add | SketchKind::Concat => {
            let body = k - 1;
            let cap_b = body.saturating_sub(1).min(2);
            let cap_t = body.saturating_sub(1).min(2);
            let (a, sa) = bld.segment(&x0, body, false, rin);
            let (b, sb) = bld.segment(&x0, cap_b, false, rin);
            let ea = sa.last().cloned().unwrap_or(x0.clone());
            let eb = sb.last().cloned().unwrap_or(x0.clone());
            // exactly k − 1 active slots, at least one in branch A, |A| ≥ |B|
            let acts: Vec<(&Bool, i32)> = a.iter().chain(&b).map(|s| (&s.act, 1)).collect();
            let j = bld.state(rin);
            {
                let sv = &bld.solver;
                sv.assert(&a[0].act);
                let ones = |v: &[Slot]| -> Int {
                    let t: Vec<Int> = v.iter().map(|s| s.act.ite(&int(1), &int(0))).collect();
                    if t.is_empty() {
                        int(0)
                    } else {
                        Int::add(&t)
                    }
                };
                sv.assert(ones(&a).ge(ones(&b)));
                // the join
                sv.assert(j.r.eq(&ea.r));
                sv.assert(eb.r.eq(&ea.r));
                sv.assert(j.x[0].eq(&ea.x[0]));
                sv.assert(eb.x[0].eq(&ea.x[0]));
                if sketch == SketchKind::Add {
                    for i in 1..4 {
                        sv.assert(ea.x[i].eq(&eb.x[i]));
                        sv.assert(j.x[i].eq(&ea.x[i]));
                    }
                } else {
                    // concat along the feature dim (1 for rank 4 and 2, 2 for rank 3)
                    for i in 1..4 {
                        let fd = if i == 1 {
                            ea.r.ne(int(3))
                        } else if i == 2 {
                            ea.r.eq(int(3))
                        } else {
                            Bool::from_bool(false)
                        };
                        sv.assert(fd.ite(
                            &j.x[i].eq(&ea.x[i] + &eb.x[i]),
                            &and(&[ea.x[i].eq(&eb.x[i]), j.x[i].eq(&ea.x[i])]),
                        ));
                    }
                    sv.assert(j.x[1].le(int(p.max_feat)));
                    sv.assert(j.x[2].le(int(p.max_feat)));
                }
                for (r, (ra, rb)) in j.m.iter().zip(ea.m.iter().zip(&eb.m)) {
                    for c in 0..4 {
                        for t in 0..3 {
                            sv.assert(r[c][t].eq(or(&[ra[c][t].clone(), rb[c][t].clone()])));
                        }
                    }
                }
                let da = &ea.d + ea.nl.ite(&int(1), &int(0));
                let db = &eb.d + eb.nl.ite(&int(1), &int(0));
                sv.assert(j.d.eq(max2(&da, &db)));
                sv.assert(j.nl.eq(Bool::from_bool(false)));
            }
            let (t, st) = bld.segment(&j, cap_t, false, rin);
            let tail_acts: Vec<(&Bool, i32)> = t.iter().map(|s| (&s.act, 1)).collect();
            let all: Vec<(&Bool, i32)> = acts.into_iter().chain(tail_acts).collect();
            let n = (k - 1) as i32;
            let count = Bool::pb_eq(&all, n);
            bld.track(count, "constraints.max_ops", format!("exactly {k} ops"));
            let out = st.last().cloned().unwrap_or(j.clone());
            ([a, b, t], [sa, sb, st], out)
        }
    };
    // the target
    let mut shape = vec![out.r.eq(int(rout as i64))];
    for i in 0..rout {
        shape.push(out.x[i].eq(int(p.out_shape[i])));
    }
    let oname = &target.props.shape.outputs[0].name;
    bld.track(
        and(&shape),
        "outputs[0].shape",
        format!("output `{oname}` of shape {:?}", p.out_shape),
    );
    for (i, dp) in target.props.depth.pairs.iter().enumerate() {
        bld.track(
            out.d.ge(int(dp.depth as i64)),
            &format!("depth[{i}]"),
            format!("depth {} → {} ≥ {}", dp.input, dp.output, dp.depth),
        );
    }
    let in_dims = crate::props::dim_names(rin);
    let out_dims = crate::props::dim_names(rout);
    for (i, mp) in target.props.mixing.pairs.iter().enumerate() {
        for (a, row) in out.m.iter().enumerate() {
            for (c, v) in row.iter().enumerate().take(rout) {
                let t = mp.matrix.get(a, c);
                if t == crate::props::Mix::None {
                    continue;
                }
                bld.track(
                    v[t as usize - 1].clone(),
                    &format!("mixing[{i}]"),
                    format!(
                        "mixing {} → {} at ({} → {}) ≥ `{}`",
                        mp.input,
                        mp.output,
                        in_dims.get(a).map(String::as_str).unwrap_or("?"),
                        out_dims.get(c).map(String::as_str).unwrap_or("?"),
                        t.symbol()
                    ),
                );
            }
        }
    }
    // budgets
    let (mut params, mut macs) = (None, None);
    if p.need_cost {
        let tp = if bld.params.is_empty() {
            int(0)
        } else {
            Int::add(&bld.params)
        };
        let tm = if bld.macs.is_empty() {
            int(0)
        } else {
            Int::add(&bld.macs)
        };
        let dom = and(&bld.cost_domain.clone());
        bld.track(
            dom,
            "constraints",
            "sizes within the enumerated domain used to count cost".to_string(),
        );
        if let Some(mp) = target.constraints.max_params {
            bld.track(
                tp.le(int(mp)),
                "constraints.max_params",
                format!("at most {mp} parameters"),
            );
        }
        if let Some(mf) = target.constraints.max_flops {
            bld.track(
                tm.le(int(mf)),
                "constraints.max_flops",
                format!("at most {mf} MACs"),
            );
        }
        params = Some(tp);
        macs = Some(tm);
    }
    let distance = p.reference.as_ref().map(|r| {
        let mut terms = Vec::new();
        let slots: Vec<&Slot> = segs.iter().flatten().collect();
        for (i, s) in slots.iter().enumerate() {
            let want = r.get(i).and_then(|&o| p.op_index(o));
            let same = match want {
                Some(w) => and(&[s.act.clone(), s.op.eq(int(w))]),
                None => Bool::from_bool(false),
            };
            terms.push(same.ite(&int(0), &int(1)));
        }
        let extra = r.len().saturating_sub(slots.len()) as i64;
        Int::add(&terms) + int(extra)
    });
    Some(Encoded {
        solver: bld.solver,
        sketch,
        segs,
        states,
        labels: bld.labels,
        params,
        macs,
        distance,
    })
}

/// A clause excluding this model's structure (every slot's activity, op and kwargs).
pub(crate) fn block(e: &Encoded, m: &z3::Model) -> Bool {
    let mut same = Vec::new();
    for s in e.segs.iter().flatten() {
        if let Some(v) = m.eval(&s.act, true) {
            same.push(s.act.eq(v));
        }
        for x in [
            &s.op, &s.kernel, &s.stride, &s.dil, &s.groups, &s.factor, &s.pool, &s.window,
        ] {
            if let Some(v) = m.eval(x, true) {
                same.push(x.eq(v));
            }
        }
    }
    and(&same).not()
}

/// Checks with a time limit (ms) and optional assumptions.
pub(crate) fn check(e: &Encoded, ms: u64, assumptions: &[Bool]) -> SatResult {
    let mut params = z3::Params::new();
    params.set_u32("timeout", ms.clamp(1, u32::MAX as u64) as u32);
    e.solver.set_params(&params);
    let mut all: Vec<Bool> = e.labels.iter().map(|l| l.lit.clone()).collect();
    all.extend(assumptions.iter().cloned());
    e.solver.check_assumptions(&all)
}
