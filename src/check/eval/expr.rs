//! Expressions: literals, names, lists, unary and binary operators (tensor `+` and `*` become ops), `if`
//! (with the facts of each branch), `repeat` (fixed, symbolic and elastic counts) and call expressions.

use super::{Env, Evaluator, IterationHook};
use crate::base::{Code, Diagnostic, Span};
use crate::check::ops;
use crate::check::program::{Entry, Program};
use crate::check::sym::Sym;
use crate::check::value::{BlockVal, BoolVal, Cond, Value};
use crate::syntax::ast::{self, BinOp, Body, Expr, ExprKind, UnOp};

impl Evaluator<'_> {
    // ----- expressions -------------------------------------------------------------------------------

    pub(super) fn eval_body(
        &mut self,
        body: &Body,
        env: &mut Env,
        module: usize,
        root: bool,
    ) -> Value {
        let mark = env.len();
        for s in &body.stmts {
            let v = self.eval_labeled(&s.value, env, module, Some(&s.name.name));
            if root && self.stack.len() == 1 {
                self.bindings.push(super::BindingValue {
                    name: s.name.name.clone(),
                    span: s.name.span,
                    value: v.clone(),
                });
            }
            env.push((s.name.name.clone(), v));
        }
        let r = self.eval_labeled(&body.result, env, module, None);
        env.truncate(mark);
        r
    }

    pub fn eval(&mut self, e: &Expr, env: &mut Env, module: usize) -> Value {
        self.eval_labeled(e, env, module, None)
    }

    fn lookup(&self, name: &str, env: &Env, module: usize) -> Option<Value> {
        if let Some((_, v)) = env.iter().rev().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        match self.prog.lookup(module, name) {
            Some(Entry::Block(b)) => return Some(Value::Block(BlockVal::Def(*b))),
            Some(Entry::Module(_)) => return None,
            None => {}
        }
        ops::signature(name).map(|s| Value::Block(BlockVal::Op(s.name)))
    }

    fn eval_labeled(
        &mut self,
        e: &Expr,
        env: &mut Env,
        module: usize,
        label: Option<&str>,
    ) -> Value {
        if self.exhausted {
            return Value::Poison;
        }
        match &e.kind {
            ExprKind::Int(v) => Value::Int(Sym::constant(*v)),
            ExprKind::Float(v) => Value::Float(Some(*v)),
            ExprKind::Bool(b) => Value::Bool(BoolVal::constant(*b)),
            ExprKind::Str(s) => Value::Str(Some(s.clone())),
            ExprKind::Wildcard | ExprKind::Error => Value::Poison,
            // unknown names are reported by the resolver
            ExprKind::Name(n) => self.lookup(&n.name, env, module).unwrap_or(Value::Poison),
            ExprKind::Path(m, n) => match self.prog.lookup(module, &m.name) {
                Some(Entry::Module(mi)) => match self.prog.lookup(*mi, &n.name) {
                    Some(Entry::Block(b)) => Value::Block(BlockVal::Def(*b)),
                    _ => Value::Poison,
                },
                _ => Value::Poison,
            },
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for it in items {
                    match self.eval(it, env, module) {
                        Value::Int(s) => out.push(s),
                        Value::Poison => return Value::Poison,
                        other => {
                            self.report(
                                Diagnostic::error(
                                    Code::TypeMismatch,
                                    format!("lists hold integers, but this is {}", other.kind()),
                                )
                                .with_label(it.span, other.kind()),
                            );
                            return Value::Poison;
                        }
                    }
                }
                Value::List(out)
            }
            ExprKind::Unary(op, a) => {
                let v = self.eval(a, env, module);
                match (op, v) {
                    (_, Value::Poison) => Value::Poison,
                    (UnOp::Neg, Value::Int(s)) => s
                        .neg()
                        .map(Value::Int)
                        .unwrap_or_else(|err| self.sym_err(err, e.span)),
                    (UnOp::Neg, Value::Float(f)) => Value::Float(f.map(|x| -x)),
                    (UnOp::Not, Value::Bool(b)) => Value::Bool(BoolVal {
                        known: b.known.map(|x| !x),
                        facts: b.neg_facts,
                        neg_facts: b.facts,
                        cond: b.cond.map(|c| Cond::Not(Box::new(c))),
                    }),
                    (op, v) => {
                        let what = if *op == UnOp::Neg {
                            "negate"
                        } else {
                            "apply `!` to"
                        };
                        self.report(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("cannot {what} {}", v.kind()),
                            )
                            .with_label(a.span, v.kind()),
                        );
                        Value::Poison
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                let va = self.eval(a, env, module);
                let vb = self.eval(b, env, module);
                self.binary(*op, va, vb, a, b, e.span, label)
            }
            ExprKind::If(c, t, f) => {
                let cv = self.eval(c, env, module);
                let bv = match cv {
                    Value::Bool(b) => b,
                    Value::Poison => return Value::Poison,
                    other => {
                        self.report(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!(
                                    "an `if` condition must be a boolean, not {}",
                                    other.kind()
                                ),
                            )
                            .with_label(c.span, other.kind())
                            .with_help("compare it: `if n > 1 { … }`"),
                        );
                        return Value::Poison;
                    }
                };
                match bv.known {
                    Some(true) => self.eval_body(t, env, module, false),
                    Some(false) => self.eval_body(f, env, module, false),
                    None => {
                        if self.record {
                            self.report(
                                Diagnostic::error(
                                    Code::NotConstant,
                                    "this condition is not known for the chosen architecture",
                                )
                                .with_label(c.span, "undecided"),
                            );
                            return Value::Poison;
                        }
                        let mark = self.push_facts(&bv.facts);
                        let tv = self.eval_body(t, env, module, false);
                        let tv = self.norm_value(tv);
                        let tfacts: Vec<(String, Sym)> = self.facts.drain(mark..).collect();
                        let mark = self.push_facts(&bv.neg_facts);
                        let fv = self.eval_body(f, env, module, false);
                        let fv = self.norm_value(fv);
                        let ffacts: Vec<(String, Sym)> = self.facts.drain(mark..).collect();
                        let spans = (t.result.span, f.result.span);
                        let by_decision = bv.cond.as_ref().filter(|c| {
                            let mut hit = false;
                            c.visit_vars(&mut |n| hit |= self.domains.contains_key(n));
                            hit
                        });
                        let cond = by_decision.cloned();
                        self.join_if(tv, fv, (&tfacts, &ffacts), cond, spans)
                    }
                }
            }
            ExprKind::Repeat {
                count,
                var,
                init,
                index,
                body,
            } => self.eval_repeat(
                e.span,
                count,
                var,
                init,
                index.as_ref(),
                body,
                env,
                module,
                label,
            ),
            ExprKind::Choice(kind) => self.eval_choice(e.span, kind, env, module, label),
            ExprKind::Call(f, args) => {
                let fv = self.eval(f, env, module);
                let mut avs = Vec::new();
                for a in args {
                    let v = self.eval(&a.value, env, module);
                    avs.push((a.name.clone(), v, a.value.span));
                }
                match fv {
                    Value::Block(bv) => {
                        // a block reached through a value (a `Block` parameter, a block-valued decision)
                        // is named in the path too: different alternatives get different weights
                        let value_name = match &f.kind {
                            ExprKind::Name(n) if env.iter().any(|(k, _)| *k == n.name) => {
                                Some(n.name.clone())
                            }
                            _ => None,
                        };
                        let via_value = value_name.is_some();
                        let base = match (label, value_name) {
                            (Some(l), _) => l.to_string(),
                            (None, Some(v)) => v,
                            (None, None) => callee_name(self.prog, &bv),
                        };
                        let seg = match &bv {
                            BlockVal::Def(_) | BlockVal::Op(_) if via_value => {
                                format!("{base}.{}", callee_name(self.prog, &bv))
                            }
                            _ => base,
                        };
                        self.call_value(&bv, avs, e.span, &seg)
                    }
                    Value::Poison => Value::Poison,
                    other => {
                        self.report(
                            Diagnostic::error(
                                Code::NotCallable,
                                format!(
                                    "this is {}, not a block: it cannot be called",
                                    other.kind()
                                ),
                            )
                            .with_label(f.span, format!("{} `{other}`", other.kind())),
                        );
                        Value::Poison
                    }
                }
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the operands, their source expressions and the evaluation context, each used in diagnostics"
    )]
    fn binary(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        ea: &Expr,
        eb: &Expr,
        span: Span,
        label: Option<&str>,
    ) -> Value {
        use Value::*;
        match (op, a, b) {
            (_, Poison, _) | (_, _, Poison) => Poison,
            (BinOp::And | BinOp::Or, Bool(x), Bool(y)) => {
                let known = match (op, x.known, y.known) {
                    (BinOp::And, Some(false), _) | (BinOp::And, _, Some(false)) => Some(false),
                    (BinOp::Or, Some(true), _) | (BinOp::Or, _, Some(true)) => Some(true),
                    (_, Some(p), Some(q)) => Some(if op == BinOp::And { p && q } else { p || q }),
                    _ => None,
                };
                let cond = match (x.cond.clone(), y.cond.clone()) {
                    (Some(a), Some(b)) if op == BinOp::And => {
                        Some(Cond::And(Box::new(a), Box::new(b)))
                    }
                    (Some(a), Some(b)) => Some(Cond::Or(Box::new(a), Box::new(b))),
                    _ => None,
                };
                let (facts, neg_facts) = if op == BinOp::And {
                    ([x.facts, y.facts].concat(), vec![])
                } else {
                    (vec![], [x.neg_facts, y.neg_facts].concat())
                };
                Bool(BoolVal {
                    known,
                    facts,
                    neg_facts,
                    cond,
                })
            }
            (op, Int(x), Int(y)) if op.is_comparison() => {
                let d = self
                    .norm(&x)
                    .sub(&self.norm(&y))
                    .ok()
                    .and_then(|d| d.as_const());
                let known = d.map(|d| match op {
                    BinOp::Eq => d == 0,
                    BinOp::Ne => d != 0,
                    BinOp::Lt => d < 0,
                    BinOp::Le => d <= 0,
                    BinOp::Gt => d > 0,
                    _ => d >= 0,
                });
                let cond = Some(Cond::Cmp(op, x.clone(), y.clone()));
                let known = known.or_else(|| cond.as_ref().and_then(|c| self.decide_cond(c)));
                let facts = if op == BinOp::Eq {
                    vec![(x.clone(), y.clone())]
                } else {
                    vec![]
                };
                let neg_facts = if op == BinOp::Ne {
                    vec![(x, y)]
                } else {
                    vec![]
                };
                Bool(BoolVal {
                    known,
                    facts,
                    neg_facts,
                    cond,
                })
            }
            (BinOp::Eq | BinOp::Ne, Bool(x), Bool(y)) => {
                let known = match (x.known, y.known) {
                    (Some(p), Some(q)) => Some((p == q) == (op == BinOp::Eq)),
                    _ => None,
                };
                Bool(BoolVal {
                    known,
                    facts: vec![],
                    neg_facts: vec![],
                    cond: None,
                })
            }
            (op, Int(x), Int(y)) => {
                let r = match op {
                    BinOp::Add => x.add(&y),
                    BinOp::Sub => x.sub(&y),
                    BinOp::Mul => x.mul(&y),
                    BinOp::Div => self.norm(&x).div(&self.norm(&y)),
                    BinOp::Rem => self.norm(&x).rem(&self.norm(&y)),
                    _ => return self.bad_operands(op, &Int(x), &Int(y), ea, eb),
                };
                match r {
                    Ok(s) => Int(s),
                    Err(e) => self.sym_err(
                        e,
                        if matches!(op, BinOp::Div | BinOp::Rem) {
                            eb.span
                        } else {
                            span
                        },
                    ),
                }
            }
            (
                op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div),
                x @ (Float(_) | Int(_)),
                y @ (Float(_) | Int(_)),
            ) => {
                let f = |v: &Value| match v {
                    Float(f) => *f,
                    Int(s) => s.as_const().map(|k| k as f64),
                    _ => None,
                };
                let r = match (f(&x), f(&y)) {
                    (Some(p), Some(q)) => Some(match op {
                        BinOp::Add => p + q,
                        BinOp::Sub => p - q,
                        BinOp::Mul => p * q,
                        _ => p / q,
                    }),
                    _ => None,
                };
                Float(r.filter(|v| v.is_finite()))
            }
            (BinOp::Add, Tensor(x), Tensor(y)) => {
                let seg = self.segment(label.unwrap_or("add"));
                self.apply_op(
                    "add",
                    vec![(Tensor(x), ea.span), (Tensor(y), eb.span)],
                    vec![],
                    span,
                    &seg,
                )
            }
            (BinOp::Mul, Tensor(x), Tensor(y)) => {
                let seg = self.segment(label.unwrap_or("mul"));
                self.apply_op(
                    "mul",
                    vec![(Tensor(x), ea.span), (Tensor(y), eb.span)],
                    vec![],
                    span,
                    &seg,
                )
            }
            (BinOp::Mul, Tensor(x), s @ (Float(_) | Int(_)))
            | (BinOp::Mul, s @ (Float(_) | Int(_)), Tensor(x)) => {
                let f = match s {
                    Float(f) => Float(f),
                    Int(k) => Float(k.as_const().map(|k| k as f64)),
                    _ => Poison,
                };
                let seg = self.segment(label.unwrap_or("scale"));
                self.apply_op(
                    "scale",
                    vec![(Tensor(x), ea.span), (f, eb.span)],
                    vec![],
                    span,
                    &seg,
                )
            }
            (op, x, y) => self.bad_operands(op, &x, &y, ea, eb),
        }
    }

    fn bad_operands(&mut self, op: BinOp, x: &Value, y: &Value, ea: &Expr, eb: &Expr) -> Value {
        let help = match (x, y) {
            (Value::Tensor(_), Value::Int(_) | Value::Float(_)) | (Value::Int(_) | Value::Float(_), Value::Tensor(_)) => {
                "tensors combine with tensors (`+`, `*`); a tensor can be scaled by a number with `*`"
            }
            _ => "arithmetic is on integers; comparisons give booleans, combined with `&&` and `||`",
        };
        self.report(
            Diagnostic::error(
                Code::TypeMismatch,
                format!(
                    "`{}` cannot combine {} and {}",
                    op.symbol(),
                    x.kind(),
                    y.kind()
                ),
            )
            .with_label(ea.span, x.kind())
            .with_label(eb.span, y.kind())
            .with_help(help),
        );
        Value::Poison
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the operands, their source expressions and the evaluation context, each used in diagnostics"
    )]
    fn eval_repeat(
        &mut self,
        span: Span,
        count: &Expr,
        var: &ast::Ident,
        init: &Expr,
        index: Option<&ast::Ident>,
        body: &Body,
        env: &mut Env,
        module: usize,
        label: Option<&str>,
    ) -> Value {
        let cv = self.eval(count, env, module);
        let init_v = self.eval(init, env, module);
        let n = match cv {
            Value::Int(s) => s,
            Value::Poison => return Value::Poison,
            other => {
                self.report(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("a `repeat` count must be an integer, not {}", other.kind()),
                    )
                    .with_label(count.span, other.kind()),
                );
                return Value::Poison;
            }
        };
        let base = self.segment(label.unwrap_or("repeat"));
        let n = self.norm(&n);
        let mut run = |this: &mut Self,
                       iters: i64,
                       init_v: Value,
                       mut each: Option<&mut IterationHook>|
         -> Value {
            let mut h = init_v;
            for i in 0..iters {
                if this.exhausted {
                    return Value::Poison;
                }
                this.path.push(format!("{base}.{i}"));
                this.names.push(Default::default());
                env.push((var.name.clone(), h.clone()));
                if let Some(ix) = index {
                    env.push((ix.name.clone(), Value::Int(Sym::constant(i))));
                }
                h = this.eval_body(body, env, module, false);
                env.pop();
                if index.is_some() {
                    env.pop();
                }
                this.names.pop();
                this.path.pop();
                if let Some(f) = each.as_mut() {
                    f(i + 1, &h);
                }
                if h == Value::Poison {
                    return h;
                }
            }
            h
        };
        if let Some(k) = n.as_const() {
            if k < 0 {
                self.report(
                    Diagnostic::error(
                        Code::NotPositive,
                        format!("a `repeat` count cannot be negative (it is {k})"),
                    )
                    .with_label(count.span, format!("{k}")),
                );
                return Value::Poison;
            }
            return run(self, k, init_v, None);
        }
        let domain = n.as_var().and_then(|v| self.domains.get(v)).cloned();
        match domain {
            Some(dom) => {
                let max = dom.iter().copied().max().unwrap_or(0);
                if dom.iter().any(|&d| d < 0) {
                    self.report(
                        Diagnostic::error(Code::NotPositive, "a `repeat` count cannot be negative")
                            .with_label(count.span, "one alternative is negative"),
                    );
                    return Value::Poison;
                }
                let mut seen: Vec<(i64, Value)> = Vec::new();
                if dom.contains(&0) {
                    seen.push((0, init_v.clone()));
                }
                let mut each = |k: i64, v: &Value| {
                    if dom.contains(&k) {
                        seen.push((k, v.clone()));
                    }
                };
                let last = run(self, max, init_v, Some(&mut each));
                if last == Value::Poison {
                    return last;
                }
                let (k0, v0) = seen[0].clone();
                for (k, v) in &seen[1..] {
                    let agree = match (&v0, v) {
                        (Value::Tensor(a), Value::Tensor(b)) => {
                            a.shape.len() == b.shape.len()
                                && a.shape
                                    .iter()
                                    .zip(&b.shape)
                                    .all(|(x, y)| self.same(x, y) == Some(true))
                        }
                        (a, b) => a == b,
                    };
                    if !agree {
                        self.report(
                            Diagnostic::error(
                                Code::RepeatShape,
                                format!("the result of this elastic `repeat` depends on its count: {v0} after {k0}, {v} after {k}"),
                            )
                            .with_label(span, "elastic repeat")
                            .with_label(count.span, format!("count is a decision over {dom:?}"))
                            .with_help("make the body keep the shape after the first iteration (e.g. stride only when the index is 0)"),
                        );
                        return Value::Poison;
                    }
                }
                v0
            }
            None => {
                // a symbolic count: check the first iteration and a later one
                let mut vals: Vec<Value> = Vec::new();
                let mut each = |_: i64, v: &Value| vals.push(v.clone());
                let _ = run(self, 2, init_v, Some(&mut each));
                match (vals.first().cloned(), vals.get(1).cloned()) {
                    (Some(a), Some(b)) => self.join_if(a, b, (&[], &[]), None, (span, span)),
                    (Some(a), None) => a,
                    _ => Value::Poison,
                }
            }
        }
    }
}

fn callee_name(prog: &Program, bv: &BlockVal) -> String {
    match bv {
        BlockVal::Def(id) => prog.block_name(*id),
        BlockVal::Op(n) => n.to_string(),
        BlockVal::Choice { decision, .. } => {
            decision.rsplit('.').next().unwrap_or("choice").to_string()
        }
        BlockVal::Unknown => "block".into(),
    }
}
