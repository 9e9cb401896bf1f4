//! Facts and decisions: the equalities known in a branch of `if a == b` (and the formulas they rewrite),
//! the equality test every shape rule relies on (provable for all values of the symbols, deciding over the
//! alternatives of search-space decisions), the joins of undecided branches, and the evaluation of
//! `choice` (the decisions met, their domains, and the agreement of their alternatives).

use super::{Decision, Env, Evaluator, Fact};
use crate::base::{Code, Diagnostic, Span};
use crate::check::sym::Sym;
use crate::check::value::{BlockVal, BoolVal, Cond, ShapeDisplay, Tensor, Value};
use crate::syntax::ast::{BinOp, ChoiceKind};

impl Evaluator<'_> {
    /// An unknown that is `then` when `cond` holds and `other` otherwise (the sizes of the branches of an
    /// `if` on a decision).
    fn fresh_alternatives(&mut self, cond: Cond, then: Sym, other: Sym) -> Sym {
        let u = self.fresh_unknown();
        if let Some(name) = u.as_var() {
            self.alternatives
                .insert(name.to_string(), (cond, then, other));
        }
        u
    }

    pub(super) fn fresh_unknown(&mut self) -> Sym {
        self.unknowns += 1;
        Sym::var(format!("?{}", self.unknowns))
    }

    /// The formula under the facts of the enclosing `if` branches.
    pub fn norm(&self, s: &Sym) -> Sym {
        let mut cur = s.clone();
        for (name, val) in &self.facts {
            let mut hit = false;
            cur.visit_vars(&mut |n| hit |= n == name);
            if hit {
                if let Ok(n) = cur.subst(&|n| (n == name).then(|| val.clone())) {
                    cur = n;
                }
            }
        }
        cur
    }

    /// `Some(true)`: provably equal; `Some(false)`: provably different; `None`: cannot tell.
    /// Formulas with unknowns (`?n`) are taken as equal: they come from a lossy join and are checked
    /// again at instantiation.
    pub(super) fn same(&self, a: &Sym, b: &Sym) -> Option<bool> {
        let (a, b) = (self.norm(a), self.norm(b));
        if a == b {
            return Some(true);
        }
        let d = a.sub(&b).ok()?;
        match d.as_const() {
            Some(d) => Some(d == 0),
            None => self.decide(&d),
        }
    }

    /// Decides `d == 0` by enumerating the alternatives of the decisions it depends on (directly, or through
    /// unknowns made by joining the branches of an `if` on a decision, which are resolved by evaluating that
    /// condition for each assignment, so that branches on the same condition stay correlated). Equal for
    /// every assignment → `Some(true)`; a known difference for one → `Some(false)`; else `None`. Unknowns
    /// that are not such joins (from `_` or a symbolic `repeat`) are assumed equal: instantiation checks them.
    fn decide(&self, d: &Sym) -> Option<bool> {
        let mut decisions: Vec<String> = Vec::new();
        let mut opaque = false;
        let mut seen: Vec<String> = Vec::new();
        let mut stack = vec![d.clone()];
        while let Some(f) = stack.pop() {
            let mut vars = Vec::new();
            f.visit_vars(&mut |n| vars.push(n.to_string()));
            for v in vars {
                if seen.contains(&v) {
                    continue;
                }
                seen.push(v.clone());
                if let Some((c, a, b)) = self.alternatives.get(&v) {
                    c.visit_vars(&mut |n| stack.push(Sym::var(n)));
                    stack.push(a.clone());
                    stack.push(b.clone());
                } else if self.domains.contains_key(&v) {
                    decisions.push(v);
                } else if v.starts_with('?') {
                    opaque = true;
                }
            }
        }
        if opaque {
            return Some(true);
        }
        if decisions.is_empty() {
            return None;
        }
        let (mut zero, mut nonzero, mut unknown) = (false, false, false);
        for assign in self.assignments(&decisions)? {
            match self.resolve(d, &assign, 0).and_then(|r| r.as_const()) {
                Some(0) => zero = true,
                Some(_) => nonzero = true,
                None => unknown = true,
            }
        }
        match (zero, nonzero, unknown) {
            (_, true, _) => Some(false),
            (true, false, false) => Some(true),
            _ => None,
        }
    }

    /// Every assignment of an alternative to each decision (`None` past 4096 combinations, where the
    /// checker stops enumerating and says it cannot tell).
    fn assignments<'a>(&self, decisions: &'a [String]) -> Option<Vec<Vec<(&'a str, i64)>>> {
        let doms: Vec<&Vec<i64>> = decisions.iter().map(|v| &self.domains[v]).collect();
        let combos = doms
            .iter()
            .try_fold(1usize, |acc, d| acc.checked_mul(d.len()))?;
        if combos > 4096 {
            return None;
        }
        let all = (0..combos)
            .map(|mut i| {
                decisions
                    .iter()
                    .zip(&doms)
                    .map(|(v, dom)| {
                        let k = dom[i % dom.len()];
                        i /= dom.len();
                        (v.as_str(), k)
                    })
                    .collect()
            })
            .collect();
        Some(all)
    }

    /// The truth of a condition when it is the same for every assignment of the decisions it mentions.
    pub(super) fn decide_cond(&self, c: &Cond) -> Option<bool> {
        let mut decisions: Vec<String> = Vec::new();
        let mut other = false;
        c.visit_vars(&mut |n| {
            if self.domains.contains_key(n) {
                if !decisions.iter().any(|d| d == n) {
                    decisions.push(n.to_string());
                }
            } else {
                other = true;
            }
        });
        if other || decisions.is_empty() {
            return None;
        }
        let mut seen: Option<bool> = None;
        for assign in self.assignments(&decisions)? {
            let value = |n: &str| {
                assign
                    .iter()
                    .find(|(v, _)| *v == n)
                    .map(|(_, k)| Sym::constant(*k))
            };
            let b = c.eval(&value)?;
            if seen.is_some_and(|s| s != b) {
                return None;
            }
            seen = Some(b);
        }
        seen
    }

    /// `f` with decisions replaced by their assigned values and joined unknowns by the branch their
    /// condition selects.
    fn resolve(&self, f: &Sym, assign: &[(&str, i64)], depth: usize) -> Option<Sym> {
        if depth > 16 {
            return None;
        }
        let value = |n: &str| {
            assign
                .iter()
                .find(|(v, _)| *v == n)
                .map(|(_, k)| Sym::constant(*k))
        };
        let mut out = f.subst(&value).ok()?;
        let mut vars = Vec::new();
        out.visit_vars(&mut |n| vars.push(n.to_string()));
        for v in vars {
            if let Some((c, a, b)) = self.alternatives.get(&v) {
                let pick = if c.eval(&value)? { a } else { b };
                let r = self.resolve(pick, assign, depth + 1)?;
                out = out.subst(&|n| (n == v).then(|| r.clone())).ok()?;
            }
        }
        Some(out)
    }

    /// A formula for messages: an unknown with alternatives reads `64 or 32`, other unknowns `_`.
    pub(super) fn describe(&self, s: &Sym) -> String {
        let s = self.norm(s);
        if let Some((_, a, b)) = s.as_var().and_then(|v| self.alternatives.get(v)) {
            return format!("{} or {}", self.describe(a), self.describe(b));
        }
        if s.has_unknown() {
            return "_".into();
        }
        s.to_string()
    }

    pub(super) fn known(&self, s: &Sym) -> Option<i64> {
        self.norm(s).as_const()
    }

    pub(super) fn push_facts(&mut self, facts: &[(Sym, Sym)]) -> usize {
        let before = self.facts.len();
        for (a, b) in facts {
            let (a, b) = (self.norm(a), self.norm(b));
            if a == b {
                continue;
            }
            // a fact `v := e` is usable only when `e` does not mention `v` (`C == 4 * C` is not a rewrite)
            let mentions = |e: &Sym, v: &str| {
                let mut hit = false;
                e.visit_vars(&mut |n| hit |= n == v);
                hit
            };
            if let Some(n) = a
                .as_var()
                .filter(|n| !n.starts_with('?') && !mentions(&b, n))
            {
                self.facts.push((n.to_string(), b));
            } else if let Some(n) = b
                .as_var()
                .filter(|n| !n.starts_with('?') && !mentions(&a, n))
            {
                self.facts.push((n.to_string(), a));
            }
        }
        before
    }

    pub(super) fn norm_value(&self, v: Value) -> Value {
        match v {
            Value::Int(s) => Value::Int(self.norm(&s)),
            Value::Tensor(mut t) => {
                t.shape = t.shape.iter().map(|d| self.norm(d)).collect();
                Value::Tensor(t)
            }
            other => other,
        }
    }

    /// Joins the results of an undecided `if`. `facts` held in the `then` branch.
    /// Joins the results of an undecided `if`: `facts.0` held in the `then` branch, `facts.1` in the `else`
    /// branch. Sizes that differ become an unknown that remembers both formulas when `exhaustive` (so that
    /// later equalities are checked against each of them), or a plain unknown otherwise.
    pub(super) fn join_if(
        &mut self,
        t: Value,
        f: Value,
        facts: (&[Fact], &[Fact]),
        cond: Option<Cond>,
        (tspan, fspan): (Span, Span),
    ) -> Value {
        let under = |s: &Sym, facts: &[(String, Sym)]| -> Sym {
            let mut cur = s.clone();
            for (n, v) in facts {
                if let Ok(x) = cur.subst(&|m| (m == n).then(|| v.clone())) {
                    cur = x;
                }
            }
            cur
        };
        let join = |this: &mut Self, x: &Sym, y: &Sym| -> Sym {
            if x == y || *x == under(y, facts.0) {
                y.clone()
            } else if *y == under(x, facts.1) {
                x.clone()
            } else if let Some(c) = &cond {
                this.fresh_alternatives(c.clone(), x.clone(), y.clone())
            } else {
                this.fresh_unknown()
            }
        };
        match (t, f) {
            (Value::Poison, _) | (_, Value::Poison) => Value::Poison,
            (Value::Int(a), Value::Int(b)) => Value::Int(join(self, &a, &b)),
            (Value::Tensor(a), Value::Tensor(b)) => {
                if a.shape.len() != b.shape.len() {
                    self.report(
                        Diagnostic::error(
                            Code::BranchMismatch,
                            format!(
                                "the branches of this `if` give tensors of different ranks: {} and {}",
                                ShapeDisplay(&a.shape),
                                ShapeDisplay(&b.shape)
                            ),
                        )
                        .with_label(tspan, format!("shape {}", ShapeDisplay(&a.shape)))
                        .with_label(fspan, format!("shape {}", ShapeDisplay(&b.shape))),
                    );
                    return Value::Poison;
                }
                let shape: Vec<Sym> = a
                    .shape
                    .iter()
                    .zip(&b.shape)
                    .map(|(x, y)| join(self, x, y))
                    .collect();
                Value::Tensor(Tensor {
                    shape,
                    origin: b.origin,
                    node: None,
                })
            }
            (a, b) if a == b => a,
            (a, b) if std::mem::discriminant(&a) == std::mem::discriminant(&b) => match a {
                Value::Float(_) => Value::Float(None),
                Value::Bool(_) => Value::Bool(BoolVal::unknown()),
                Value::Str(_) => Value::Str(None),
                Value::Block(_) => Value::Block(BlockVal::Unknown),
                _ => Value::Poison,
            },
            (a, b) => {
                self.report(
                    Diagnostic::error(
                        Code::BranchMismatch,
                        format!(
                            "the branches of this `if` give {} and {}",
                            a.kind(),
                            b.kind()
                        ),
                    )
                    .with_label(tspan, a.kind())
                    .with_label(fspan, b.kind()),
                );
                Value::Poison
            }
        }
    }

    fn decision_name(&mut self, span: Span, label: Option<&str>) -> String {
        let base = match label {
            Some(l) => l.to_string(),
            None => format!("choice@{}", self.short_where(span)),
        };
        let seg = self.segment(&base);
        let mut parts = self.path.clone();
        parts.push(seg);
        parts.join(".")
    }

    pub(super) fn eval_choice(
        &mut self,
        span: Span,
        kind: &ChoiceKind,
        env: &mut Env,
        module: usize,
        label: Option<&str>,
    ) -> Value {
        let name = self.decision_name(span, label);
        let (options, texts): (Vec<(Value, Span)>, Vec<String>) = match kind {
            ChoiceKind::Options(opts) => {
                if opts.is_empty() {
                    self.report(
                        Diagnostic::error(
                            Code::InvalidChoice,
                            "a `choice` needs at least one alternative",
                        )
                        .with_label(span, "empty choice"),
                    );
                    return Value::Poison;
                }
                // with a resolution, only the chosen alternative is evaluated (its ops are recorded)
                if let Some(res) = &self.resolution {
                    let i = res.get(&name).copied().unwrap_or(0).min(opts.len() - 1);
                    self.decisions.push(Decision {
                        name,
                        span,
                        options: opts.iter().map(crate::syntax::print_expr).collect(),
                    });
                    return self.eval(&opts[i], env, module);
                }
                let mut vals = Vec::new();
                for o in opts {
                    let v = self.eval(o, env, module);
                    vals.push((v, o.span));
                }
                (vals, opts.iter().map(crate::syntax::print_expr).collect())
            }
            ChoiceKind::Range {
                lo,
                hi,
                inclusive,
                step,
            } => {
                let mut ints = Vec::new();
                for (e, what) in [
                    (Some(&**lo), "start"),
                    (Some(&**hi), "end"),
                    (step.as_deref(), "step"),
                ] {
                    let Some(e) = e else {
                        ints.push(1);
                        continue;
                    };
                    match self.eval(e, env, module) {
                        Value::Int(s) => match self.known(&s) {
                            Some(k) => ints.push(k),
                            None => {
                                self.report(
                                    Diagnostic::error(
                                        Code::NotConstant,
                                        format!("the {what} of a choice range must be known"),
                                    )
                                    .with_label(e.span, format!("`{s}` is symbolic")),
                                );
                                return Value::Poison;
                            }
                        },
                        Value::Poison => return Value::Poison,
                        other => {
                            self.report(
                                Diagnostic::error(
                                    Code::TypeMismatch,
                                    format!("a choice range takes integers, not {}", other.kind()),
                                )
                                .with_label(e.span, other.kind()),
                            );
                            return Value::Poison;
                        }
                    }
                }
                let (lo_v, hi_v, st) = (ints[0], ints[1], ints[2]);
                if st <= 0 {
                    self.report(
                        Diagnostic::error(
                            Code::InvalidChoice,
                            "the step of a choice range must be positive",
                        )
                        .with_label(step.as_ref().map_or(span, |s| s.span), format!("step {st}")),
                    );
                    return Value::Poison;
                }
                let end = if *inclusive {
                    hi_v
                } else {
                    hi_v.saturating_sub(1)
                };
                let mut vals = Vec::new();
                let mut k = lo_v;
                while k <= end && vals.len() <= 100_000 {
                    vals.push(k);
                    k = match k.checked_add(st) {
                        Some(n) => n,
                        None => break,
                    };
                }
                if vals.is_empty() {
                    self.report(
                        Diagnostic::error(
                            Code::InvalidChoice,
                            format!(
                                "the range {lo_v}{}{hi_v} is empty",
                                if *inclusive { "..=" } else { ".." }
                            ),
                        )
                        .with_label(span, "no alternatives")
                        .with_help("the range needs start < end (or start <= end with `..=`)"),
                    );
                    return Value::Poison;
                }
                if let Some(res) = &self.resolution {
                    let i = res.get(&name).copied().unwrap_or(0).min(vals.len() - 1);
                    self.decisions.push(Decision {
                        name,
                        span,
                        options: vals.iter().map(|v| v.to_string()).collect(),
                    });
                    return Value::Int(Sym::constant(vals[i]));
                }
                let texts = vals.iter().map(|v| v.to_string()).collect();
                (
                    vals.into_iter()
                        .map(|v| (Value::Int(Sym::constant(v)), span))
                        .collect(),
                    texts,
                )
            }
        };
        if !self.decisions.iter().any(|d| d.name == name) {
            self.decisions.push(Decision {
                name: name.clone(),
                span,
                options: texts,
            });
        }
        if options.iter().any(|(v, _)| *v == Value::Poison) {
            return Value::Poison;
        }
        let first = &options[0].0;
        let same_kind = options
            .iter()
            .all(|(v, _)| std::mem::discriminant(v) == std::mem::discriminant(first));
        if !same_kind {
            let (odd, ospan) = options
                .iter()
                .find(|(v, _)| std::mem::discriminant(v) != std::mem::discriminant(first))
                .cloned()
                .unwrap_or((Value::Poison, span));
            self.report(
                Diagnostic::error(
                    Code::InvalidChoice,
                    "the alternatives of a `choice` must all be of one kind",
                )
                .with_label(options[0].1, first.kind())
                .with_label(ospan, odd.kind()),
            );
            return Value::Poison;
        }
        match first {
            Value::Int(_) => {
                let ints: Vec<Option<i64>> = options
                    .iter()
                    .map(|(v, _)| {
                        if let Value::Int(s) = v {
                            self.known(s)
                        } else {
                            None
                        }
                    })
                    .collect();
                if options.len() == 1 {
                    return options[0].0.clone();
                }
                if ints.iter().all(Option::is_some) {
                    self.domains
                        .insert(name.clone(), ints.into_iter().flatten().collect());
                }
                Value::Int(Sym::var(name))
            }
            Value::Block(_) => Value::Block(BlockVal::Choice {
                decision: name,
                options: options
                    .into_iter()
                    .filter_map(|(v, _)| {
                        if let Value::Block(b) = v {
                            Some(b)
                        } else {
                            None
                        }
                    })
                    .collect(),
            }),
            Value::Tensor(_) => {
                let vals: Vec<(Value, Span)> = options;
                self.join_all(vals, &name)
            }
            _ => {
                if options.windows(2).all(|w| w[0].0 == w[1].0) {
                    options[0].0.clone()
                } else {
                    match first {
                        Value::Float(_) => Value::Float(None),
                        Value::Bool(_) => {
                            let bools: Vec<i64> = options
                                .iter()
                                .map(|(v, _)| {
                                    i64::from(matches!(v, Value::Bool(b) if b.known == Some(true)))
                                })
                                .collect();
                            self.domains.insert(name.clone(), bools);
                            let c = Cond::Cmp(BinOp::Eq, Sym::var(name.clone()), Sym::constant(1));
                            Value::Bool(BoolVal {
                                cond: Some(c),
                                ..BoolVal::unknown()
                            })
                        }
                        Value::Str(_) => Value::Str(None),
                        _ => Value::Poison,
                    }
                }
            }
        }
    }

    /// Joins the results of the alternatives of a decision: their shapes must agree.
    pub(super) fn join_all(&mut self, vals: Vec<(Value, Span)>, decision: &str) -> Value {
        if vals.iter().any(|(v, _)| *v == Value::Poison) || vals.is_empty() {
            return Value::Poison;
        }
        let (first, fspan) = vals[0].clone();
        for (v, s) in &vals[1..] {
            let agree = match (&first, v) {
                (Value::Tensor(a), Value::Tensor(b)) => {
                    a.shape.len() == b.shape.len()
                        && a.shape
                            .iter()
                            .zip(&b.shape)
                            .all(|(x, y)| self.same(x, y) == Some(true))
                }
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            };
            if !agree {
                self.report(
                    Diagnostic::error(
                        Code::BranchMismatch,
                        format!("the alternatives of decision `{decision}` give different results: {first} and {v}"),
                    )
                    .with_label(*s, format!("gives {v}"))
                    .with_label(fspan, format!("gives {first}"))
                    .with_help("every alternative of a decision must give the same shape to what follows")
                    .with_note(match self.decisions.iter().find(|d| d.name == decision) {
                        Some(d) => format!("the decision `{decision}` is made at {}: {}", self.where_(d.span), d.options.join(", ")),
                        None => format!("decision `{decision}`"),
                    }),
                );
                return Value::Poison;
            }
        }
        first
    }
}
