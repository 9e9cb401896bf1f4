//! The primitive ops' shape rules: `apply_op` checks the bound arguments of one op application, infers
//! the result shape (reporting what is wrong) and records the node in record mode. It dispatches to one
//! rule per op or op family: elementwise ops and joins, convolution and pooling, linear maps,
//! normalisation, reduction and indexing, reshaping and transposing, parameters.

use super::shape_checks::dim_name;
use super::{Arg, Evaluator};
use crate::base::{Code, Diagnostic, Span};
use crate::check::ops::{self, Kind};
use crate::check::sym::{Sym, SymError};
use crate::check::value::{BoolVal, Origin, ShapeDisplay, Tensor, Value};
use std::collections::BTreeMap;

/// One op application, as its shape rule reads it.
struct OpCall<'a> {
    op: &'static str,
    /// The bound arguments, in signature order.
    vals: &'a [Arg],
    /// The variadic tensors.
    rest: &'a [Arg],
    span: Span,
    /// The input tensors of the recorded node, in order.
    inputs: Vec<Tensor>,
}

impl OpCall<'_> {
    /// Tensor argument `i` (its kind was checked when binding), taken as the next input of the node.
    fn input(&mut self, i: usize) -> (Tensor, Span) {
        let (t, s) = match self.vals.get(i) {
            Some((Value::Tensor(t), s)) => Some((t.clone(), *s)),
            _ => None,
        }
        .expect("checked kinds");
        self.inputs.push(t.clone());
        (t, s)
    }
}

impl Evaluator<'_> {
    /// Applies a primitive op to bound arguments (`vals` in signature order, `rest` the variadic tensors).
    pub(super) fn apply_op(
        &mut self,
        op: &'static str,
        vals: Vec<Arg>,
        rest: Vec<Arg>,
        span: Span,
        seg: &str,
    ) -> Value {
        if !self.burn(span) {
            return Value::Poison;
        }
        if vals.iter().any(|(v, _)| *v == Value::Poison)
            && !ops::signature(op).is_some_and(|s| s.params.iter().any(|p| p.kind == Kind::Tensors))
        {
            return Value::Poison;
        }
        if let "min" | "max" = op {
            let (a, b) = (self.int_arg(&vals[0].0), self.int_arg(&vals[1].0));
            return Value::Int(if op == "min" { a.smin(&b) } else { a.smax(&b) });
        }
        let what = self.origin_what(op, span);
        let attr_list: Vec<(String, Value)> = ops::signature(op)
            .map(|sig| {
                sig.params
                    .iter()
                    .zip(&vals)
                    .filter(|(p, _)| !matches!(p.kind, Kind::Tensor | Kind::Tensors))
                    .map(|(p, (v, _))| (p.name.to_string(), self.norm_value(v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let mut c = OpCall {
            op,
            vals: &vals,
            rest: &rest,
            span,
            inputs: Vec::new(),
        };
        let result = match op {
            _ if ops::is_elementwise(op) || matches!(op, "dropout" | "scale") => {
                self.pointwise_rule(&mut c)
            }
            "conv" => self.conv_rule(&mut c),
            "avg_pool" | "max_pool" => self.pool_rule(&mut c),
            "global_avg_pool" | "global_max_pool" => self.global_pool_rule(&mut c),
            "linear" => self.linear_rule(&mut c),
            "matmul" => self.matmul_rule(&mut c),
            "einsum" => self.einsum_rule(&mut c),
            "batch_norm" | "group_norm" | "layer_norm" => self.norm_rule(&mut c),
            "softmax" => self.softmax_rule(&mut c),
            "mean" | "select" => self.reduce_rule(&mut c),
            "slice" => self.slice_rule(&mut c),
            "flatten" => self.flatten_rule(&mut c),
            "reshape" => self.reshape_rule(&mut c),
            "transpose" => self.transpose_rule(&mut c),
            "permute" => self.permute_rule(&mut c),
            "expand" => self.expand_rule(&mut c),
            "add" | "mul" => self.broadcast_rule(&mut c),
            "concat" => self.concat_rule(&mut c),
            "param" => self.param_rule(&mut c),
            other => unreachable!("op `{other}` has a signature but no shape rule"),
        };
        let Some(shape) = result else {
            return Value::Poison;
        };
        let shape: Vec<Sym> = shape.iter().map(|s| self.norm(s)).collect();
        let refs: Vec<&Tensor> = c.inputs.iter().collect();
        let node = self.record_node(op, attr_list, &refs, &shape, span, seg);
        Value::Tensor(Tensor {
            shape,
            origin: Origin { span, what },
            node,
        })
    }

    // ----- elementwise ops and joins -----------------------------------------------------------------

    /// Activations, `dropout` and `scale`: the shape of the input.
    fn pointwise_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (x, _) = c.input(0);
        if c.op == "dropout" {
            if let Value::Float(Some(p)) = c.vals[1].0 {
                if !(0.0..=1.0).contains(&p) {
                    self.report(
                        Diagnostic::error(
                            Code::OutOfRange,
                            format!("dropout probability must be in [0, 1], not {p:?}"),
                        )
                        .with_label(c.vals[1].1, "probability"),
                    );
                }
            }
        }
        Some(x.shape)
    }

    /// `add` and `mul` of two tensors: their broadcast shape.
    fn broadcast_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (a, sa) = c.input(0);
        let (b, sb) = c.input(1);
        self.broadcast(&a, sa, &b, sb, c.op)
    }

    fn concat_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (op, span) = (c.op, c.span);
        if c.rest.is_empty() {
            self.report(
                Diagnostic::error(Code::MissingArgument, "`concat` needs at least one tensor")
                    .with_label(span, "nothing to concatenate"),
            );
            return None;
        }
        let ts = tensor_args(c.rest);
        let (first, fs) = ts[0].clone();
        let r = first.shape.len();
        let d = self.int_arg(&c.vals[1].0);
        let ax = self.axis(&d, r, c.vals[1].1, op)?;
        let mut total = first.shape[ax].clone();
        for (t, s) in &ts[1..] {
            if t.shape.len() != r {
                self.report(
                    Diagnostic::error(
                        Code::RankMismatch,
                        format!("`concat` operands have ranks {r} and {}", t.shape.len()),
                    )
                    .with_label(fs, format!("{}", ShapeDisplay(&first.shape)))
                    .with_label(*s, format!("{}", ShapeDisplay(&t.shape))),
                );
                return None;
            }
            for i in 0..r {
                if i != ax
                    && !self.require_dim(
                        &first.shape[i],
                        &t.shape[i],
                        Code::DimMismatch,
                        &dim_name(r, i),
                        op,
                        (&first, fs),
                        (t, *s),
                    )
                {
                    return None;
                }
            }
            total = match total.add(&t.shape[ax]) {
                Ok(v) => v,
                Err(e) => {
                    self.sym_err(e, span);
                    return None;
                }
            };
        }
        c.inputs.extend(ts.iter().map(|(t, _)| t.clone()));
        let mut shape = first.shape.clone();
        shape[ax] = self.norm(&total);
        Some(shape)
    }

    // ----- convolution and pooling -------------------------------------------------------------------

    fn conv_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (op, vals) = (c.op, c.vals);
        let (x, xs) = c.input(0);
        if !self.rank(&x, xs, op, &[4], "[B, C, H, W]") {
            return None;
        }
        let [out, k, s, p, d, g] = [1, 2, 3, 4, 5, 6].map(|i| self.int_arg(&vals[i].0));
        let ok = self.positive(&out, vals[1].1, "output channel count", op)
            & self.positive(&k, vals[2].1, "kernel size", op)
            & self.positive(&s, vals[3].1, "stride", op)
            & self.non_negative(&p, vals[4].1, "padding", op)
            & self.positive(&d, vals[5].1, "dilation", op)
            & self.positive(&g, vals[6].1, "group count", op);
        if !ok {
            return None;
        }
        let ch = x.shape[1].clone();
        for (n, nspan, what) in [
            (&ch, xs, "input channels"),
            (&out, vals[1].1, "output channels"),
        ] {
            if let Ok(r) = self.norm(n).rem(&g) {
                if let Some(r) = r.as_const().filter(|r| *r != 0) {
                    let _ = r;
                    self.report(
                        Diagnostic::error(
                            Code::NotDivisible,
                            format!("{what} {} are not divisible by groups = {}", self.norm(n), self.norm(&g)),
                        )
                        .with_label(nspan, what.to_string())
                        .with_label(vals[6].1, "groups")
                        .with_help("a grouped conv needs input and output channels that are multiples of `groups`"),
                    );
                    return None;
                }
            }
        }
        let mut shape = vec![x.shape[0].clone(), out.clone()];
        shape.extend(self.spatial_out(
            c,
            &x,
            [&k, &s, &p, &d],
            "the kernel (with dilation) is larger than the padded input: add padding or downsample less",
        )?);
        Some(shape)
    }

    /// `avg_pool` and `max_pool`.
    fn pool_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (op, vals) = (c.op, c.vals);
        let (x, xs) = c.input(0);
        if !self.rank(&x, xs, op, &[4], "[B, C, H, W]") {
            return None;
        }
        let [k, s, p] = [1, 2, 3].map(|i| self.int_arg(&vals[i].0));
        let ok = self.positive(&k, vals[1].1, "kernel size", op)
            & self.positive(&s, vals[2].1, "stride", op)
            & self.non_negative(&p, vals[3].1, "padding", op);
        if !ok {
            return None;
        }
        if let (Some(kk), Some(pp)) = (self.known(&k), self.known(&p)) {
            if pp > kk / 2 {
                self.report(
                    Diagnostic::error(
                        Code::OutOfRange,
                        format!("pool padding {pp} is more than half the kernel {kk}"),
                    )
                    .with_label(vals[3].1, "padding")
                    .with_help("PyTorch requires padding <= kernel / 2"),
                );
                return None;
            }
        }
        let mut shape = vec![x.shape[0].clone(), x.shape[1].clone()];
        shape.extend(self.spatial_out(
            c,
            &x,
            [&k, &s, &p, &Sym::constant(1)],
            "the window is larger than the input",
        )?);
        Some(shape)
    }

    /// The height and width after a window of size `k`, stride `s`, padding `p` and dilation `d` (in this
    /// order) slides over `x`; an empty result is reported with `help`.
    fn spatial_out(
        &mut self,
        c: &OpCall,
        x: &Tensor,
        [k, s, p, d]: [&Sym; 4],
        help: &str,
    ) -> Option<Vec<Sym>> {
        let (op, span) = (c.op, c.span);
        let mut out = Vec::new();
        for i in 2..4 {
            match self.conv_out(&x.shape[i], k, s, p, d) {
                Ok(o) => {
                    if let Some(v) = self.known(&o).filter(|v| *v <= 0) {
                        self.report(
                            Diagnostic::error(
                                Code::EmptyOutput,
                                format!("this `{op}` leaves a {} of {v}", dim_name(4, i)),
                            )
                            .with_label(
                                span,
                                format!("input {} is {}", dim_name(4, i), self.norm(&x.shape[i])),
                            )
                            .with_help(help),
                        );
                        return None;
                    }
                    out.push(o)
                }
                Err(e) => {
                    self.sym_err(e, span);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// `(n + 2p − d(k − 1) − 1) / s + 1`
    fn conv_out(&self, n: &Sym, k: &Sym, s: &Sym, p: &Sym, d: &Sym) -> Result<Sym, SymError> {
        let one = Sym::constant(1);
        let eff = d.mul(&k.sub(&one)?)?;
        let num = n.add(&p.mul(&Sym::constant(2))?)?.sub(&eff)?.sub(&one)?;
        Ok(self.norm(&num.div(s)?.add(&one)?))
    }

    /// `global_avg_pool` and `global_max_pool`.
    fn global_pool_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (x, xs) = c.input(0);
        if !self.rank(&x, xs, c.op, &[4], "[B, C, H, W]") {
            return None;
        }
        let keep = matches!(
            c.vals[1].0,
            Value::Bool(BoolVal {
                known: Some(true),
                ..
            })
        );
        let mut shape = vec![x.shape[0].clone(), x.shape[1].clone()];
        if keep {
            shape.extend([Sym::constant(1), Sym::constant(1)]);
        }
        Some(shape)
    }

    // ----- linear maps -------------------------------------------------------------------------------

    fn linear_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let op = c.op;
        let (x, xs) = c.input(0);
        if x.shape.is_empty() {
            self.rank(&x, xs, op, &[2, 3], "[.., D]");
            return None;
        }
        let out = self.int_arg(&c.vals[1].0);
        if !self.positive(&out, c.vals[1].1, "output size", op) {
            return None;
        }
        let mut shape = x.shape.clone();
        *shape.last_mut().expect("non-empty") = out;
        Some(shape)
    }

    fn matmul_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (a, sa) = c.input(0);
        let (b, sb) = c.input(1);
        if a.shape.len() < 2 || b.shape.len() < 2 {
            let (t, s) = if a.shape.len() < 2 {
                (&a, sa)
            } else {
                (&b, sb)
            };
            self.report(
                Diagnostic::error(
                    Code::RankMismatch,
                    format!(
                        "`matmul` operands need rank 2 or more, but this is {}",
                        ShapeDisplay(&t.shape)
                    ),
                )
                .with_label(s, "rank < 2")
                .with_help("reshape vectors to [n, 1] or [1, n]"),
            );
            return None;
        }
        let (ra, rb) = (a.shape.len(), b.shape.len());
        if !self.require_dim(
            &a.shape[ra - 1],
            &b.shape[rb - 2],
            Code::DimMismatch,
            "contracted sizes",
            c.op,
            (&a, sa),
            (&b, sb),
        ) {
            return None;
        }
        let batch_a = Tensor {
            shape: a.shape[..ra - 2].to_vec(),
            ..a.clone()
        };
        let batch_b = Tensor {
            shape: b.shape[..rb - 2].to_vec(),
            ..b.clone()
        };
        let mut shape = self.broadcast(&batch_a, sa, &batch_b, sb, c.op)?;
        shape.push(a.shape[ra - 2].clone());
        shape.push(b.shape[rb - 1].clone());
        Some(shape)
    }

    fn einsum_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let Value::Str(Some(spec)) = c.vals[0].0.clone() else {
            self.report(
                Diagnostic::error(
                    Code::NotConstant,
                    "the einsum specification must be a known string",
                )
                .with_label(c.vals[0].1, "unknown"),
            );
            return None;
        };
        let ts = tensor_args(c.rest);
        c.inputs.extend(ts.iter().map(|(t, _)| t.clone()));
        self.einsum(&spec, c.vals[0].1, &ts)
    }

    // ----- normalisation -----------------------------------------------------------------------------

    /// `batch_norm`, `group_norm` and `layer_norm`: the shape of the input.
    fn norm_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (op, vals) = (c.op, c.vals);
        let (x, xs) = c.input(0);
        if op == "layer_norm" {
            if x.shape.is_empty() {
                self.rank(&x, xs, op, &[2, 3], "[.., D]");
                return None;
            }
            return Some(x.shape);
        }
        if !self.rank(&x, xs, op, &[2, 3, 4, 5], "[B, C, …]") {
            return None;
        }
        if op == "group_norm" {
            let g = self.int_arg(&vals[1].0);
            if !self.positive(&g, vals[1].1, "group count", op) {
                return None;
            }
            if let Some(r) = self
                .norm(&x.shape[1])
                .rem(&g)
                .ok()
                .and_then(|r| r.as_const())
                .filter(|r| *r != 0)
            {
                let _ = r;
                self.report(
                    Diagnostic::error(
                        Code::NotDivisible,
                        format!(
                            "channels {} are not divisible by groups = {}",
                            self.norm(&x.shape[1]),
                            self.norm(&g)
                        ),
                    )
                    .with_label(xs, "channels")
                    .with_label(vals[1].1, "groups"),
                );
                return None;
            }
        }
        Some(x.shape)
    }

    fn softmax_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (x, _) = c.input(0);
        let d = self.int_arg(&c.vals[1].0);
        self.axis(&d, x.shape.len(), c.vals[1].1, c.op)?;
        Some(x.shape)
    }

    // ----- reduction and indexing --------------------------------------------------------------------

    /// `mean` (with or without `keepdim`) and `select` along one dimension.
    fn reduce_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let vals = c.vals;
        let (x, _) = c.input(0);
        let d = self.int_arg(&vals[1].0);
        let ax = self.axis(&d, x.shape.len(), vals[1].1, c.op)?;
        let mut shape = x.shape.clone();
        if c.op == "select" {
            let idx = self.int_arg(&vals[2].0);
            if let (Some(i), Some(n)) = (self.known(&idx), self.known(&shape[ax])) {
                if i < -n || i >= n {
                    self.report(
                        Diagnostic::error(
                            Code::OutOfRange,
                            format!("index {i} is out of range for a dimension of size {n}"),
                        )
                        .with_label(vals[2].1, format!("index {i}")),
                    );
                    return None;
                }
            }
            shape.remove(ax);
        } else if matches!(
            vals[2].0,
            Value::Bool(BoolVal {
                known: Some(true),
                ..
            })
        ) {
            shape[ax] = Sym::constant(1);
        } else {
            shape.remove(ax);
        }
        Some(shape)
    }

    fn slice_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (vals, span) = (c.vals, c.span);
        let (x, _) = c.input(0);
        let d = self.int_arg(&vals[1].0);
        let ax = self.axis(&d, x.shape.len(), vals[1].1, c.op)?;
        let (st, en) = (self.int_arg(&vals[2].0), self.int_arg(&vals[3].0));
        let n = self.norm(&x.shape[ax]);
        if let (Some(a), Some(b)) = (self.known(&st), self.known(&en)) {
            let bad = a < 0 || b <= a || self.known(&n).is_some_and(|n| b > n);
            if bad {
                self.report(
                    Diagnostic::error(
                        Code::OutOfRange,
                        format!("slice {a}..{b} is not inside a dimension of size {n}"),
                    )
                    .with_label(span, "slice")
                    .with_help("need 0 <= start < end <= size"),
                );
                return None;
            }
        }
        let mut shape = x.shape.clone();
        shape[ax] = match en.sub(&st) {
            Ok(v) => v,
            Err(e) => {
                self.sym_err(e, span);
                return None;
            }
        };
        Some(shape)
    }

    // ----- reshaping and transposing -----------------------------------------------------------------

    fn flatten_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (x, _) = c.input(0);
        let d = self.int_arg(&c.vals[1].0);
        let ax = self.axis(&d, x.shape.len(), c.vals[1].1, c.op)?;
        let mut shape: Vec<Sym> = x.shape[..ax].to_vec();
        let mut prod = Sym::constant(1);
        for s in &x.shape[ax..] {
            prod = match prod.mul(&self.norm(s)) {
                Ok(p) => p,
                Err(e) => {
                    self.sym_err(e, c.span);
                    return None;
                }
            };
        }
        shape.push(prod);
        Some(shape)
    }

    fn reshape_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let (x, xs) = c.input(0);
        let Value::List(target) = c.vals[1].0.clone() else {
            return None;
        };
        self.reshape(&x, xs, &target, c.vals[1].1, c.span)
    }

    fn transpose_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let vals = c.vals;
        let (x, _) = c.input(0);
        let (a, b) = (self.int_arg(&vals[1].0), self.int_arg(&vals[2].0));
        let i = self.axis(&a, x.shape.len(), vals[1].1, c.op)?;
        let j = self.axis(&b, x.shape.len(), vals[2].1, c.op)?;
        let mut shape = x.shape.clone();
        shape.swap(i, j);
        Some(shape)
    }

    fn permute_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let vals = c.vals;
        let (x, _) = c.input(0);
        let Value::List(dims) = vals[1].0.clone() else {
            return None;
        };
        let r = x.shape.len();
        let mut perm = Vec::new();
        for d in &dims {
            perm.push(self.axis(d, r, vals[1].1, c.op)?);
        }
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        if sorted != (0..r).collect::<Vec<_>>() {
            self.report(
                Diagnostic::error(
                    Code::InvalidPermutation,
                    format!(
                        "{} is not a permutation of the {r} dimensions",
                        ShapeDisplay(&dims)
                    ),
                )
                .with_label(vals[1].1, "not a permutation")
                .with_help(format!("list each of 0..{r} exactly once")),
            );
            return None;
        }
        Some(perm.iter().map(|&i| x.shape[i].clone()).collect())
    }

    fn expand_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let vals = c.vals;
        let (x, xs) = c.input(0);
        let Value::List(target) = vals[1].0.clone() else {
            return None;
        };
        if target.len() < x.shape.len() {
            self.report(
                Diagnostic::error(
                    Code::RankMismatch,
                    format!(
                        "cannot expand rank {} to the shorter {}",
                        x.shape.len(),
                        ShapeDisplay(&target)
                    ),
                )
                .with_label(vals[1].1, "target shape")
                .with_label(xs, format!("{}", ShapeDisplay(&x.shape))),
            );
            return None;
        }
        let off = target.len() - x.shape.len();
        let mut shape = Vec::new();
        for (i, t) in target.iter().enumerate() {
            let t = self.norm(t);
            if i < off {
                shape.push(t);
                continue;
            }
            let cur = self.norm(&x.shape[i - off]);
            if t.as_const() == Some(-1) || self.same(&t, &cur) == Some(true) {
                shape.push(cur);
            } else if cur.as_const() == Some(1) {
                shape.push(t);
            } else {
                self.report(
                    Diagnostic::error(
                        Code::Broadcast,
                        format!("cannot expand a dimension of size {cur} to {t}"),
                    )
                    .with_label(vals[1].1, "target shape")
                    .with_label(xs, format!("{}", ShapeDisplay(&x.shape)))
                    .with_help(
                        "only size-1 dimensions can be expanded; use -1 to keep a dimension",
                    ),
                );
                return None;
            }
        }
        Some(shape)
    }

    // ----- parameters --------------------------------------------------------------------------------

    fn param_rule(&mut self, c: &mut OpCall) -> Option<Vec<Sym>> {
        let Value::List(dims) = c.vals[0].0.clone() else {
            return None;
        };
        for d in &dims {
            if !self.positive(d, c.vals[0].1, "size", c.op) {
                return None;
            }
        }
        Some(dims.iter().map(|d| self.norm(d)).collect())
    }

    // ----- element counts and einsum specifications --------------------------------------------------

    fn reshape(
        &mut self,
        x: &Tensor,
        xs: Span,
        target: &[Sym],
        tspan: Span,
        span: Span,
    ) -> Option<Vec<Sym>> {
        let mut total = Sym::constant(1);
        for s in &x.shape {
            total = total.mul(&self.norm(s)).ok()?;
        }
        let mut known = Sym::constant(1);
        let mut infer: Option<usize> = None;
        for (i, t) in target.iter().enumerate() {
            let t = self.norm(t);
            match t.as_const() {
                Some(-1) => {
                    if infer.is_some() {
                        self.report(
                            Diagnostic::error(
                                Code::ElementCount,
                                "a reshape can infer only one dimension (-1)",
                            )
                            .with_label(tspan, "two -1 entries"),
                        );
                        return None;
                    }
                    infer = Some(i);
                }
                Some(k) if k <= 0 => {
                    self.report(
                        Diagnostic::error(
                            Code::NotPositive,
                            format!("reshape sizes must be positive (or -1), not {k}"),
                        )
                        .with_label(tspan, "target shape"),
                    );
                    return None;
                }
                _ => known = known.mul(&t).ok()?,
            }
        }
        let mut shape: Vec<Sym> = target.iter().map(|t| self.norm(t)).collect();
        match infer {
            Some(i) => {
                let rem = total.rem(&known).ok()?;
                if rem.as_const().is_some_and(|r| r != 0) {
                    self.report(
                        Diagnostic::error(
                            Code::ElementCount,
                            format!("{total} elements cannot be split into blocks of {known}"),
                        )
                        .with_label(xs, format!("{}", ShapeDisplay(&x.shape)))
                        .with_label(tspan, "target shape"),
                    );
                    return None;
                }
                shape[i] = total.div(&known).ok()?;
            }
            None => {
                if self.same(&total, &known) != Some(true) {
                    let verdict = self.same(&total, &known);
                    self.report(
                        Diagnostic::error(
                            Code::ElementCount,
                            format!(
                                "reshape from {} ({total} elements) to {} ({known} elements) {}",
                                ShapeDisplay(&x.shape),
                                ShapeDisplay(target),
                                if verdict == Some(false) {
                                    "changes the element count"
                                } else {
                                    "cannot be shown to keep the element count"
                                }
                            ),
                        )
                        .with_label(tspan, "target shape")
                        .with_label(xs, "input")
                        .with_help("use -1 for one dimension to let it be inferred"),
                    );
                    let _ = span;
                    return None;
                }
            }
        }
        Some(shape)
    }

    fn einsum(&mut self, spec: &str, sspan: Span, ts: &[(Tensor, Span)]) -> Option<Vec<Sym>> {
        let bad = |this: &mut Self, msg: String| {
            this.report(
                Diagnostic::error(Code::Einsum, msg)
                    .with_label(sspan, "einsum specification")
                    .with_help("write one lowercase letter per dimension, e.g. \"bij,bjk->bik\" (no `...`)"),
            );
            None
        };
        let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, rhs) = match spec.split_once("->") {
            Some((l, r)) => (l.to_string(), Some(r.to_string())),
            None => (spec.clone(), None),
        };
        let terms: Vec<&str> = lhs.split(',').collect();
        if terms.len() != ts.len() {
            return bad(
                self,
                format!(
                    "the specification has {} operand(s), but {} tensor(s) were given",
                    terms.len(),
                    ts.len()
                ),
            );
        }
        let mut sizes: BTreeMap<char, (Sym, usize)> = BTreeMap::new();
        let mut counts: BTreeMap<char, usize> = BTreeMap::new();
        for (ti, (term, (t, s))) in terms.iter().zip(ts).enumerate() {
            if term.chars().any(|c| !c.is_ascii_lowercase()) {
                return bad(
                    self,
                    format!("operand `{term}` has characters other than letters"),
                );
            }
            if term.len() != t.shape.len() {
                self.report(
                    Diagnostic::error(
                        Code::Einsum,
                        format!(
                            "operand `{term}` names {} dimension(s), but the tensor has rank {}",
                            term.len(),
                            t.shape.len()
                        ),
                    )
                    .with_label(*s, format!("{}", ShapeDisplay(&t.shape)))
                    .with_label(sspan, "specification"),
                );
                return None;
            }
            for (c, d) in term.chars().zip(&t.shape) {
                *counts.entry(c).or_insert(0) += 1;
                match sizes.get(&c).cloned() {
                    Some((prev, pi)) => {
                        if self.same(&prev, d) != Some(true) {
                            let (pt, ps) = &ts[pi];
                            let msg_what = format!("sizes of `{c}`");
                            let _ = self.require_dim(
                                &prev,
                                d,
                                Code::DimMismatch,
                                &msg_what,
                                "einsum",
                                (pt, *ps),
                                (t, *s),
                            );
                            return None;
                        }
                    }
                    None => {
                        sizes.insert(c, (d.clone(), ti));
                    }
                }
            }
        }
        let out: String = match rhs {
            Some(r) => r,
            None => counts
                .iter()
                .filter(|(_, &n)| n == 1)
                .map(|(c, _)| *c)
                .collect(),
        };
        let mut shape = Vec::new();
        for c in out.chars() {
            match sizes.get(&c) {
                Some((d, _)) => shape.push(d.clone()),
                None => return bad(self, format!("output letter `{c}` appears in no operand")),
            }
        }
        Some(shape)
    }
}

/// The tensors among variadic arguments (their kinds were checked when binding).
fn tensor_args(rest: &[Arg]) -> Vec<(Tensor, Span)> {
    rest.iter()
        .filter_map(|(v, s)| match v {
            Value::Tensor(t) => Some((t.clone(), *s)),
            _ => None,
        })
        .collect()
}
