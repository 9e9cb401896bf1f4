//! The symbolic evaluator: runs a block with symbolic (or concrete) arguments, applying every primitive
//! op's shape rule, and reports every problem it meets as a diagnostic. The same evaluator checks programs
//! (all branches and decisions, symbols for unknown sizes) and, with a resolution of the decisions and
//! `record` on, produces the op trace that the IR is built from.
//!
//! Rules it enforces (see docs/language.md): dimensions that must be equal must be *provably* equal for all
//! values of the symbols (`if C == out { … }` adds that fact in its branch); numeric side conditions
//! (positivity, divisibility, ranges) are errors only when the values are known, and are checked again at
//! every instantiation with the caller's values.

use super::ops::{self, Default as OpDefault, Kind};
use super::program::{BlockId, Entry, Program};
use super::sym::{Sym, SymError};
use super::value::{BlockVal, BoolVal, Cond, Origin, ShapeDisplay, Tensor, Value};
use crate::base::{Code, Diagnostic, FileId, Span};
use crate::syntax::ast::{self, BinOp, Body, ChoiceKind, Expr, ExprKind, TypeExpr, UnOp};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The default limit on ops and calls evaluated for one entry (makes every check terminate quickly).
pub const DEFAULT_FUEL: u64 = 2_000_000;

/// A search-space decision met during evaluation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Decision {
    /// Stable name: instance path and `let` name (`stage2.w`), or `…choice@L:C`.
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    /// The alternatives, as NASL text.
    pub options: Vec<String>,
}

/// One recorded op application (record mode).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceNode {
    pub op: String,
    pub path: String,
    pub attrs: Vec<(String, Value)>,
    pub inputs: Vec<usize>,
    pub shape: Vec<Sym>,
    pub span: Span,
}

/// The value of a `let` (or the result) in the entry instance, for `nasc shapes` and hovers.
#[derive(Clone, Debug, PartialEq)]
pub struct BindingValue {
    pub name: String,
    pub span: Span,
    pub value: Value,
}

struct Frame {
    block: BlockId,
    call_span: Span,
    desc: String,
}

type Env = Vec<(String, Value)>;

/// A rewrite `symbol := formula` known to hold in a branch.
type Fact = (String, Sym);

/// Called after each iteration of a `repeat` with the iteration count so far and the carried value.
type IterationHook<'a> = dyn FnMut(i64, &Value) + 'a;

pub struct Evaluator<'p> {
    prog: &'p Program,
    pub diagnostics: Vec<Diagnostic>,
    seen: HashSet<(Code, FileId, u32, u32)>,
    fuel: u64,
    exhausted: bool,
    stack: Vec<Frame>,
    facts: Vec<(String, Sym)>,
    unknowns: u32,
    memo: HashMap<(BlockId, String), Value>,
    pub record: bool,
    pub trace: Vec<TraceNode>,
    pub resolution: Option<BTreeMap<String, usize>>,
    pub decisions: Vec<Decision>,
    domains: HashMap<String, Vec<i64>>,
    /// The possible formulas of unknowns made by joining branches.
    alternatives: HashMap<String, (Cond, Sym, Sym)>,
    pub bindings: Vec<BindingValue>,
    path: Vec<String>,
    names: Vec<HashMap<String, usize>>,
}

/// A bound argument: its value and the span of the expression that gave it.
type Arg = (Value, Span);

impl<'p> Evaluator<'p> {
    pub fn new(prog: &'p Program) -> Evaluator<'p> {
        Evaluator {
            prog,
            diagnostics: Vec::new(),
            seen: HashSet::new(),
            fuel: DEFAULT_FUEL,
            exhausted: false,
            stack: Vec::new(),
            facts: Vec::new(),
            unknowns: 0,
            memo: HashMap::new(),
            record: false,
            trace: Vec::new(),
            resolution: None,
            decisions: Vec::new(),
            domains: HashMap::new(),
            alternatives: HashMap::new(),
            bindings: Vec::new(),
            path: Vec::new(),
            names: vec![HashMap::new()],
        }
    }

    /// Gives a new budget (for the next entry) and clears the out-of-budget state.
    pub fn set_fuel(&mut self, fuel: u64) {
        self.fuel = fuel;
        self.exhausted = false;
    }

    // ----- diagnostics -------------------------------------------------------------------------------

    fn report(&mut self, mut d: Diagnostic) {
        let span = d.span().unwrap_or_else(Span::detached);
        if !self.seen.insert((d.code, span.file, span.start, span.end)) {
            return;
        }
        // the instantiation that exposed it (innermost first)
        for f in self.stack.iter().skip(1).rev().take(3) {
            let at = self.where_(f.call_span);
            d = d.with_note(format!("in `{}`, instantiated at {at}", f.desc));
        }
        self.diagnostics.push(d);
    }

    fn where_(&self, span: Span) -> String {
        match self.prog.sources.get(span.file) {
            Some(f) => {
                let lc = f.line_col(span.start as usize);
                format!(
                    "{}:{}:{}",
                    super::program::display_path(&f.path),
                    lc.line,
                    lc.col
                )
            }
            None => "<generated>".into(),
        }
    }

    /// `line:col` of `span`, with its file when it differs from the file of `at`.
    fn where_from(&self, span: Span, at: Span) -> String {
        if span.file == at.file {
            self.short_where(span)
        } else {
            self.where_(span)
        }
    }

    fn short_where(&self, span: Span) -> String {
        match self.prog.sources.get(span.file) {
            Some(f) => {
                let lc = f.line_col(span.start as usize);
                format!("{}:{}", lc.line, lc.col)
            }
            None => "?".into(),
        }
    }

    fn snippet(&self, span: Span) -> Option<String> {
        let f = self.prog.sources.get(span.file)?;
        let s = f.text.get(span.range())?;
        let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(s)
    }

    fn sym_err(&mut self, e: SymError, span: Span) -> Value {
        let d = match e {
            SymError::Overflow => Diagnostic::error(Code::Overflow, "integer overflow")
                .with_label(span, "this computation does not fit in 64 bits"),
            SymError::DivisionByZero => Diagnostic::error(Code::DivisionByZero, "division by zero")
                .with_label(span, "the divisor is 0")
                .with_help("check the arithmetic of the sizes involved"),
        };
        self.report(d);
        Value::Poison
    }

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

    fn fresh_unknown(&mut self) -> Sym {
        self.unknowns += 1;
        Sym::var(format!("?{}", self.unknowns))
    }

    fn burn(&mut self, span: Span) -> bool {
        if self.exhausted {
            return false;
        }
        if self.fuel == 0 {
            self.exhausted = true;
            self.report(
                Diagnostic::error(Code::TooLarge, "this program instantiates too many ops to check")
                    .with_label(span, "the limit was reached here")
                    .with_help(format!(
                        "the checker evaluates at most {DEFAULT_FUEL} ops and calls per entry; look for a huge `repeat` count"
                    )),
            );
            return false;
        }
        self.fuel -= 1;
        true
    }

    // ----- facts and equality -------------------------------------------------------------------------

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
    fn same(&self, a: &Sym, b: &Sym) -> Option<bool> {
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
    fn decide_cond(&self, c: &Cond) -> Option<bool> {
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
    fn describe(&self, s: &Sym) -> String {
        let s = self.norm(s);
        if let Some((_, a, b)) = s.as_var().and_then(|v| self.alternatives.get(v)) {
            return format!("{} or {}", self.describe(a), self.describe(b));
        }
        if s.has_unknown() {
            return "_".into();
        }
        s.to_string()
    }

    fn known(&self, s: &Sym) -> Option<i64> {
        self.norm(s).as_const()
    }

    fn push_facts(&mut self, facts: &[(Sym, Sym)]) -> usize {
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

    // ----- entry points -------------------------------------------------------------------------------

    /// Checks a block on its own: tensor dims and integer parameters without defaults become symbols.
    /// Returns the result value; the `let` values are in `self.bindings`.
    pub fn instantiate_standalone(&mut self, id: BlockId) -> Value {
        let def = self.prog.block(id);
        let module = self.prog.block_module(id);
        let mut env: Env = Vec::new();
        let mut args: Vec<Option<Arg>> = Vec::new();
        for p in &def.params {
            if let Some(d) = &p.default {
                let v = self.eval(d, &mut env, module);
                env.push((p.name.name.clone(), v.clone()));
                args.push(Some((v, d.span)));
                continue;
            }
            let v = match &p.ty {
                TypeExpr::Tensor(dims, span) => {
                    let mut shape = Vec::new();
                    for d in dims {
                        let s = match &d.kind {
                            ExprKind::Name(n) => match env.iter().rev().find(|(k, _)| *k == n.name)
                            {
                                Some((_, Value::Int(s))) => s.clone(),
                                _ => {
                                    let s = Sym::var(n.name.clone());
                                    env.push((n.name.clone(), Value::Int(s.clone())));
                                    s
                                }
                            },
                            ExprKind::Int(k) => Sym::constant(*k),
                            _ => self.fresh_unknown(),
                        };
                        shape.push(s);
                    }
                    Value::Tensor(Tensor {
                        shape,
                        origin: Origin {
                            span: *span,
                            what: format!("parameter `{}`", p.name.name),
                        },
                        node: None,
                    })
                }
                TypeExpr::Named(t) => match t.name.as_str() {
                    "Int" => Value::Int(Sym::var(p.name.name.clone())),
                    "Float" => Value::Float(None),
                    "Bool" => Value::Bool(BoolVal::unknown()),
                    "Str" => Value::Str(None),
                    "Block" => Value::Block(BlockVal::Unknown),
                    _ => Value::Poison,
                },
            };
            env.push((p.name.name.clone(), v.clone()));
            args.push(Some((v, p.name.span)));
        }
        let span = def.name.span;
        self.call_block_bound(id, args, span, true)
    }

    /// Instantiates a block with concrete input tensors (record mode: the op trace is built).
    /// `inputs` gives the shape of each tensor parameter in order; other parameters take their defaults.
    pub fn instantiate_with_inputs(&mut self, id: BlockId, inputs: &[Vec<Sym>]) -> Value {
        let def = self.prog.block(id);
        let module = self.prog.block_module(id);
        let mut env: Env = Vec::new();
        let mut args: Vec<Option<Arg>> = Vec::new();
        let mut next_input = 0;
        for p in &def.params {
            if let TypeExpr::Tensor(_, span) = &p.ty {
                let Some(shape) = inputs.get(next_input).cloned() else {
                    args.push(None);
                    continue;
                };
                next_input += 1;
                let node = self.record_node(
                    "input",
                    vec![("name".into(), Value::Str(Some(p.name.name.clone())))],
                    &[],
                    &shape,
                    *span,
                    &format!("inputs.{}", p.name.name),
                );
                let v = Value::Tensor(Tensor {
                    shape,
                    origin: Origin {
                        span: *span,
                        what: format!("input `{}`", p.name.name),
                    },
                    node,
                });
                env.push((p.name.name.clone(), v.clone()));
                args.push(Some((v, p.name.span)));
            } else if let Some(d) = &p.default {
                let v = self.eval(d, &mut env, module);
                env.push((p.name.name.clone(), v.clone()));
                args.push(Some((v, d.span)));
            } else {
                args.push(None);
            }
        }
        self.call_block_bound(id, args, def.name.span, true)
    }

    // ----- calls -------------------------------------------------------------------------------------

    fn call_block_bound(
        &mut self,
        id: BlockId,
        args: Vec<Option<Arg>>,
        call_span: Span,
        root: bool,
    ) -> Value {
        let prog = self.prog;
        let def = prog.block(id);
        let module = prog.block_module(id);
        if let Some(pos) = self.stack.iter().position(|f| f.block == id) {
            let mut cycle: Vec<String> = self.stack[pos..]
                .iter()
                .map(|f| prog.block_name(f.block))
                .collect();
            cycle.push(prog.block_name(id));
            self.report(
                Diagnostic::error(
                    Code::Recursion,
                    if cycle.len() > 2 {
                        format!(
                            "`{}` calls itself through {}",
                            def.name.name,
                            cycle[1..cycle.len() - 1]
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        format!("`{}` calls itself", def.name.name)
                    },
                )
                .with_label(call_span, "recursive call")
                .with_note(format!("cycle: {}", cycle.join(" → ")))
                .with_help("NASL programs denote finite graphs: use `repeat` instead of recursion"),
            );
            return Value::Poison;
        }
        if !self.burn(call_span) {
            return Value::Poison;
        }
        // bind parameters
        let mut env: Env = Vec::new();
        let mut key = String::new();
        for (p, a) in def.params.iter().zip(args) {
            let (v, span) = match a {
                Some(a) => a,
                None => match &p.default {
                    Some(d) => {
                        let v = self.eval(d, &mut env, module);
                        (v, d.span)
                    }
                    None => return Value::Poison,
                },
            };
            let v = self.check_param(&p.ty, v, span, &p.name.name, &mut env, module);
            key.push_str(&format!("{}={};", p.name.name, memo_key(&v)));
            env.push((p.name.name.clone(), v));
        }
        let memo_ok = !root && !self.record && self.facts.is_empty();
        if memo_ok {
            if let Some(v) = self.memo.get(&(id, key.clone())) {
                return v.clone();
            }
        }
        let desc = format!(
            "{}({})",
            def.name.name,
            def.params
                .iter()
                .map(|p| {
                    let v = env
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == p.name.name)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default();
                    format!("{}: {v}", p.name.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let decisions_before = self.decisions.len();
        self.stack.push(Frame {
            block: id,
            call_span,
            desc,
        });
        self.names.push(HashMap::new());
        let result = self.eval_body(&def.body, &mut env, module, root);
        let result = match &def.ret {
            Some(t) => self.check_return(t, result, &def.body, &mut env, module),
            None => result,
        };
        self.names.pop();
        self.stack.pop();
        // a call that made decisions is not reused: each call site makes its own
        if memo_ok && self.decisions.len() == decisions_before {
            self.memo.insert((id, key), result.clone());
        }
        result
    }

    /// Checks an argument against a parameter type, binding the dimension names of a tensor type.
    fn check_param(
        &mut self,
        ty: &TypeExpr,
        v: Value,
        span: Span,
        pname: &str,
        env: &mut Env,
        module: usize,
    ) -> Value {
        if v == Value::Poison {
            if let TypeExpr::Tensor(dims, _) = ty {
                // bind the names to unknowns so that the body can still be checked
                for d in dims {
                    if let ExprKind::Name(n) = &d.kind {
                        if !env.iter().any(|(k, _)| *k == n.name) {
                            let u = self.fresh_unknown();
                            env.push((n.name.clone(), Value::Int(u)));
                        }
                    }
                }
            }
            return v;
        }
        match ty {
            TypeExpr::Tensor(dims, tspan) => {
                let Value::Tensor(t) = &v else {
                    self.report(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!("`{pname}` takes a tensor, but this is {}", v.kind()),
                        )
                        .with_label(span, format!("{} `{v}`", v.kind()))
                        .with_label(*tspan, "parameter declared here"),
                    );
                    return Value::Poison;
                };
                if t.shape.len() != dims.len() {
                    self.report(
                        Diagnostic::error(
                            Code::RankMismatch,
                            format!(
                                "`{pname}` takes a rank-{} tensor, but this one has rank {}",
                                dims.len(),
                                t.shape.len()
                            ),
                        )
                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                        .with_label(*tspan, "parameter declared here"),
                    );
                    return Value::Poison;
                }
                for (i, (d, actual)) in dims.iter().zip(&t.shape).enumerate() {
                    match &d.kind {
                        ExprKind::Wildcard => {}
                        ExprKind::Name(n) => match env
                            .iter()
                            .rev()
                            .find(|(k, _)| *k == n.name)
                            .map(|(_, v)| v.clone())
                        {
                            Some(Value::Int(bound)) => {
                                if self.same(&bound, actual) != Some(true) {
                                    self.report(
                                        Diagnostic::error(
                                            Code::DimMismatch,
                                            format!(
                                                "dimension {i} of `{pname}` must be `{}` = {bound}, but it is {actual}",
                                                n.name
                                            ),
                                        )
                                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                                        .with_label(d.span, format!("`{}` was bound before", n.name)),
                                    );
                                }
                            }
                            _ => env.push((n.name.clone(), Value::Int(actual.clone()))),
                        },
                        _ => {
                            let want = self.eval(d, env, module);
                            if let Value::Int(w) = want {
                                if self.same(&w, actual) != Some(true) {
                                    self.report(
                                        Diagnostic::error(
                                            Code::DimMismatch,
                                            format!("dimension {i} of `{pname}` must be {w}, but it is {actual}"),
                                        )
                                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                                        .with_label(d.span, "required here"),
                                    );
                                }
                            }
                        }
                    }
                }
                v
            }
            TypeExpr::Named(t) => {
                let ok = matches!(
                    (t.name.as_str(), &v),
                    ("Int", Value::Int(_))
                        | ("Float", Value::Float(_))
                        | ("Bool", Value::Bool(_))
                        | ("Str", Value::Str(_))
                        | ("Block", Value::Block(_))
                );
                if let ("Float", Value::Int(s)) = (t.name.as_str(), &v) {
                    return Value::Float(self.known(s).map(|k| k as f64));
                }
                if !ok && ["Int", "Float", "Bool", "Str", "Block"].contains(&t.name.as_str()) {
                    self.report(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!(
                                "`{pname}` takes {}, but this is {}",
                                Self::type_article(&t.name),
                                v.kind()
                            ),
                        )
                        .with_label(span, format!("{} `{v}`", v.kind()))
                        .with_label(t.span, "parameter declared here"),
                    );
                    return Value::Poison;
                }
                v
            }
        }
    }

    fn check_return(
        &mut self,
        ty: &TypeExpr,
        v: Value,
        body: &Body,
        env: &mut Env,
        module: usize,
    ) -> Value {
        if v == Value::Poison {
            return v;
        }
        let rspan = body.result.span;
        match ty {
            TypeExpr::Tensor(dims, tspan) => {
                let Value::Tensor(t) = &v else {
                    self.report(
                        Diagnostic::error(
                            Code::ReturnMismatch,
                            format!("this block returns {}, not a tensor", v.kind()),
                        )
                        .with_label(rspan, "the result")
                        .with_label(*tspan, "declared here"),
                    );
                    return Value::Poison;
                };
                if t.shape.len() != dims.len() {
                    self.report(
                        Diagnostic::error(
                            Code::ReturnMismatch,
                            format!(
                                "the result has rank {} ({}), but the block declares rank {}",
                                t.shape.len(),
                                ShapeDisplay(&t.shape),
                                dims.len()
                            ),
                        )
                        .with_label(rspan, format!("shape {}", ShapeDisplay(&t.shape)))
                        .with_label(*tspan, "declared here"),
                    );
                    return v;
                }
                let shape = t.shape.clone();
                for (i, (d, actual)) in dims.iter().zip(&shape).enumerate() {
                    if matches!(d.kind, ExprKind::Wildcard) {
                        continue;
                    }
                    let Value::Int(want) = self.eval(d, env, module) else {
                        continue;
                    };
                    match self.same(&want, actual) {
                        Some(true) => {}
                        verdict => {
                            let how = if verdict == Some(false) {
                                "is"
                            } else {
                                "cannot be shown equal to"
                            };
                            self.report(
                                Diagnostic::error(
                                    Code::ReturnMismatch,
                                    format!(
                                        "dimension {i} of the result is {}, which {how} the declared {}",
                                        self.norm(actual),
                                        self.norm(&want)
                                    ),
                                )
                                .with_label(rspan, format!("shape {}", ShapeDisplay(&shape)))
                                .with_label(d.span, "declared here")
                                .with_help("fix the declared type, or use `_` for a dimension you do not want to state"),
                            );
                        }
                    }
                }
                v
            }
            TypeExpr::Named(t) => {
                let ok = matches!(
                    (t.name.as_str(), &v),
                    ("Int", Value::Int(_))
                        | ("Float", Value::Float(_))
                        | ("Bool", Value::Bool(_))
                        | ("Str", Value::Str(_))
                        | ("Block", Value::Block(_))
                );
                if !ok {
                    self.report(
                        Diagnostic::error(
                            Code::ReturnMismatch,
                            format!(
                                "this block returns {}, but declares {}",
                                v.kind(),
                                Self::type_article(&t.name)
                            ),
                        )
                        .with_label(rspan, "the result")
                        .with_label(t.span, "declared here"),
                    );
                }
                v
            }
        }
    }

    /// Evaluates the arguments of a call and binds them to a parameter list.
    /// `params`: (name, has default, kind of a variadic rest) in order.
    fn bind(
        &mut self,
        callee: &str,
        params: &[(&str, bool, bool)],
        args: Vec<(Option<ast::Ident>, Value, Span)>,
        call_span: Span,
        def_span: Option<Span>,
    ) -> Option<(Vec<Option<Arg>>, Vec<Arg>)> {
        let mut out: Vec<Option<Arg>> = vec![None; params.len()];
        let mut rest: Vec<Arg> = Vec::new();
        let variadic = params.iter().position(|p| p.2);
        let mut next = 0;
        let mut ok = true;
        for (name, v, span) in args {
            match name {
                None => {
                    if Some(next) == variadic {
                        rest.push((v, span));
                        continue;
                    }
                    if next >= params.len() {
                        let mut d = Diagnostic::error(
                            Code::TooManyArguments,
                            format!(
                                "`{callee}` takes {} positional argument(s), but more were given",
                                params.len()
                            ),
                        )
                        .with_label(span, "extra argument");
                        if let Some(s) = def_span {
                            d = d.with_label(s, "defined here");
                        }
                        self.report(d.with_help(format!(
                            "`{callee}` takes: {}",
                            params.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                        )));
                        ok = false;
                        continue;
                    }
                    out[next] = Some((v, span));
                    next += 1;
                }
                Some(n) => {
                    let Some(i) = params.iter().position(|p| p.0 == n.name) else {
                        let names: Vec<&str> = params.iter().map(|p| p.0).collect();
                        let mut d = Diagnostic::error(
                            Code::UnknownKeyword,
                            format!("`{callee}` has no parameter `{}`", n.name),
                        )
                        .with_label(n.span, "unknown keyword");
                        d = match super::program::closest(&n.name, names.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("`{callee}` takes: {}", names.join(", "))),
                        };
                        self.report(d);
                        ok = false;
                        continue;
                    };
                    if out[i].is_some() || (Some(i) == variadic && !rest.is_empty()) {
                        self.report(
                            Diagnostic::error(
                                Code::DuplicateArgument,
                                format!("`{}` is given twice", n.name),
                            )
                            .with_label(n.span, "given again here")
                            .with_help("pass each parameter once, by position or by name"),
                        );
                        ok = false;
                        continue;
                    }
                    out[i] = Some((v, span));
                }
            }
        }
        if let Some(vi) = variadic {
            // the variadic parameter is satisfied by the rest (checked by the op)
            out[vi] = Some((Value::Poison, call_span));
        }
        for (i, p) in params.iter().enumerate() {
            if out[i].is_none() && !p.1 {
                let mut d = Diagnostic::error(
                    Code::MissingArgument,
                    format!("`{callee}` needs an argument for `{}`", p.0),
                )
                .with_label(call_span, format!("`{}` is missing", p.0));
                if let Some(s) = def_span {
                    d = d.with_label(s, "defined here");
                }
                self.report(d);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some((out, rest))
    }

    fn type_article(t: &str) -> &'static str {
        match t {
            "Int" => "an integer",
            "Float" => "a float",
            "Bool" => "a boolean",
            "Str" => "a string",
            "Block" => "a block",
            _ => "a value",
        }
    }

    // ----- expressions -------------------------------------------------------------------------------

    fn eval_body(&mut self, body: &Body, env: &mut Env, module: usize, root: bool) -> Value {
        let mark = env.len();
        for s in &body.stmts {
            let v = self.eval_labeled(&s.value, env, module, Some(&s.name.name));
            if root && self.stack.len() == 1 {
                self.bindings.push(super::eval::BindingValue {
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

    fn norm_value(&self, v: Value) -> Value {
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
    fn join_if(
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

    #[allow(clippy::too_many_arguments)]
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

    /// A unique path segment in the current instance.
    fn segment(&mut self, base: &str) -> String {
        let counts = self.names.last_mut().expect("a names frame");
        let n = counts.entry(base.to_string()).or_insert(0);
        let s = if *n == 0 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        *n += 1;
        s
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

    fn eval_choice(
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
    fn join_all(&mut self, vals: Vec<(Value, Span)>, decision: &str) -> Value {
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

    #[allow(clippy::too_many_arguments)]
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
                this.names.push(HashMap::new());
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

    fn call_value(
        &mut self,
        bv: &BlockVal,
        args: Vec<(Option<ast::Ident>, Value, Span)>,
        span: Span,
        seg: &str,
    ) -> Value {
        match bv {
            BlockVal::Unknown => Value::Poison,
            BlockVal::Op(name) => {
                let sig = ops::signature(name).expect("op values come from the op table");
                let params: Vec<(&str, bool, bool)> = sig
                    .params
                    .iter()
                    .map(|p| (p.name, p.default.is_some(), p.kind == Kind::Tensors))
                    .collect();
                let Some((bound, rest)) = self.bind(name, &params, args, span, None) else {
                    return Value::Poison;
                };
                let seg = seg.to_string();
                let seg = self.segment(&seg);
                // fill defaults
                let mut vals: Vec<Arg> = Vec::new();
                for (p, a) in sig.params.iter().zip(bound) {
                    let v = match (a, p.default) {
                        (Some(a), _) => a,
                        (None, Some(OpDefault::Int(k))) => (Value::Int(Sym::constant(k)), span),
                        (None, Some(OpDefault::Float(f))) => (Value::Float(Some(f)), span),
                        (None, Some(OpDefault::Bool(b))) => {
                            (Value::Bool(BoolVal::constant(b)), span)
                        }
                        (None, Some(OpDefault::Param(other))) => {
                            let i = sig
                                .params
                                .iter()
                                .position(|q| q.name == other)
                                .expect("default names a parameter");
                            vals[i].clone()
                        }
                        (None, None) => (Value::Poison, span),
                    };
                    vals.push(v);
                }
                // kinds
                for (p, (v, s)) in sig.params.iter().zip(vals.iter_mut()) {
                    if *v == Value::Poison {
                        if p.kind == Kind::Tensors {
                            continue;
                        }
                        return Value::Poison;
                    }
                    let ok = matches!(
                        (p.kind, &*v),
                        (Kind::Tensor, Value::Tensor(_))
                            | (Kind::Int, Value::Int(_))
                            | (Kind::Float, Value::Float(_))
                            | (Kind::Bool, Value::Bool(_))
                            | (Kind::Str, Value::Str(_))
                            | (Kind::List, Value::List(_))
                    );
                    if let (Kind::Float, Value::Int(k)) = (p.kind, &*v) {
                        *v = Value::Float(k.as_const().map(|k| k as f64));
                        continue;
                    }
                    if !ok {
                        self.report(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!(
                                    "`{name}` takes {} for `{}`, but this is {}",
                                    p.kind.describe(),
                                    p.name,
                                    v.kind()
                                ),
                            )
                            .with_label(*s, format!("{} `{v}`", v.kind())),
                        );
                        return Value::Poison;
                    }
                }
                for (v, s) in &rest {
                    if !matches!(v, Value::Tensor(_)) {
                        if *v != Value::Poison {
                            self.report(
                                Diagnostic::error(
                                    Code::TypeMismatch,
                                    format!("`{name}` takes tensors, but this is {}", v.kind()),
                                )
                                .with_label(*s, v.kind()),
                            );
                        }
                        return Value::Poison;
                    }
                }
                self.apply_op(name, vals, rest, span, &seg)
            }
            BlockVal::Def(id) => {
                let def = self.prog.block(*id);
                let params: Vec<(&str, bool, bool)> = def
                    .params
                    .iter()
                    .map(|p| (p.name.name.as_str(), p.default.is_some(), false))
                    .collect();
                let name = def.name.name.clone();
                let Some((bound, _)) = self.bind(&name, &params, args, span, Some(def.name.span))
                else {
                    return Value::Poison;
                };
                let seg = self.segment(seg);
                self.path.push(seg);
                let v = self.call_block_bound(*id, bound, span, false);
                self.path.pop();
                v
            }
            BlockVal::Choice { decision, options } => {
                let mut results = Vec::new();
                for o in options {
                    let v = self.call_value(o, args.clone(), span, seg);
                    results.push((v, span));
                }
                let decision = decision.clone();
                self.join_all(results, &decision)
            }
        }
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

/// An exact text of a value for memoising calls (shapes print unknowns as `_`, which would conflate them).
fn memo_key(v: &Value) -> String {
    match v {
        Value::Tensor(t) => {
            let dims: Vec<String> = t.shape.iter().map(Sym::to_string).collect();
            format!("T[{}]", dims.join(","))
        }
        Value::List(l) => format!(
            "L[{}]",
            l.iter().map(Sym::to_string).collect::<Vec<_>>().join(",")
        ),
        Value::Bool(b) => format!("B{:?}{:?}", b.known, b.cond),
        other => format!("{other:?}"),
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

/// Help for an equality the checker cannot prove: what the difference is, and the usual fixes.
fn cannot_show_help(a: &Sym, b: &Sym) -> String {
    let diff = a
        .sub(b)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "?".into());
    format!(
        "they differ by `{diff}`, which is not 0 for every value of its symbols. Sizes must be equal for all \
         values: give the parameters involved defaults (blocks are checked again with the caller's values), \
         or guard the code with `if {a} == {b} {{ … }}`"
    )
}

/// Names of the dimensions of a rank-`r` tensor, for messages.
fn dim_name(rank: usize, i: usize) -> String {
    match (rank, i) {
        (4, 0) | (2, 0) | (3, 0) => "batch".into(),
        (4, 1) => "channels".into(),
        (4, 2) => "height".into(),
        (4, 3) => "width".into(),
        (2, 1) | (3, 2) => "features".into(),
        (3, 1) => "tokens".into(),
        _ => format!("dim {i}"),
    }
}

impl Evaluator<'_> {
    fn record_node(
        &mut self,
        op: &str,
        attrs: Vec<(String, Value)>,
        inputs: &[&Tensor],
        shape: &[Sym],
        span: Span,
        seg: &str,
    ) -> Option<usize> {
        if !self.record {
            return None;
        }
        let mut path = self.path.clone();
        path.push(seg.to_string());
        let inputs = inputs.iter().filter_map(|t| t.node).collect();
        self.trace.push(TraceNode {
            op: op.to_string(),
            path: path.join("."),
            attrs,
            inputs,
            shape: shape.to_vec(),
            span,
        });
        Some(self.trace.len() - 1)
    }

    fn int_arg(&self, v: &Value) -> Sym {
        match v {
            Value::Int(s) => self.norm(s),
            _ => Sym::constant(0),
        }
    }

    /// Reports unless `s` is positive (when known). `what` names the hyper-parameter.
    fn positive(&mut self, s: &Sym, span: Span, what: &str, op: &str) -> bool {
        match self.known(s) {
            Some(k) if k <= 0 => {
                self.report(
                    Diagnostic::error(
                        Code::NotPositive,
                        format!("the {what} of `{op}` must be positive, but it is {k}"),
                    )
                    .with_label(span, format!("{what} {k}")),
                );
                false
            }
            _ => true,
        }
    }

    fn non_negative(&mut self, s: &Sym, span: Span, what: &str, op: &str) -> bool {
        match self.known(s) {
            Some(k) if k < 0 => {
                self.report(
                    Diagnostic::error(
                        Code::OutOfRange,
                        format!("the {what} of `{op}` cannot be negative (it is {k})"),
                    )
                    .with_label(span, format!("{what} {k}")),
                );
                false
            }
            _ => true,
        }
    }

    fn rank(&mut self, t: &Tensor, span: Span, op: &str, want: &[usize], layout: &str) -> bool {
        if want.contains(&t.shape.len()) {
            return true;
        }
        let want_s = want
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        self.report(
            Diagnostic::error(
                Code::RankMismatch,
                format!(
                    "`{op}` takes a rank-{want_s} tensor {layout}, but this one is {}",
                    ShapeDisplay(&t.shape)
                ),
            )
            .with_label(span, format!("rank {}", t.shape.len()))
            .with_note(format!(
                "it comes from {} at {}",
                t.origin.what,
                self.short_where(t.origin.span)
            )),
        );
        false
    }

    /// Normalises a possibly negative axis; reports when out of range.
    fn axis(&mut self, d: &Sym, rank: usize, span: Span, op: &str) -> Option<usize> {
        let Some(k) = self.known(d) else {
            self.report(
                Diagnostic::error(
                    Code::NotConstant,
                    format!("the dimension index of `{op}` must be known"),
                )
                .with_label(span, format!("`{d}` is symbolic")),
            );
            return None;
        };
        let r = rank as i64;
        if k < -r || k >= r {
            self.report(
                Diagnostic::error(
                    Code::AxisOutOfRange,
                    format!("dimension {k} is out of range for a rank-{rank} tensor"),
                )
                .with_label(span, format!("dimension {k}"))
                .with_help(format!("valid dimensions are {} to {}", -r, r - 1)),
            );
            return None;
        }
        Some(if k < 0 { (k + r) as usize } else { k as usize })
    }

    /// Requires two dimensions to be equal; reports with both origins.
    #[allow(clippy::too_many_arguments)]
    fn require_dim(
        &mut self,
        a: &Sym,
        b: &Sym,
        code: Code,
        what: &str,
        op: &str,
        ta: (&Tensor, Span),
        tb: (&Tensor, Span),
    ) -> bool {
        match self.same(a, b) {
            Some(true) => true,
            verdict => {
                let (na, nb) = (self.norm(a), self.norm(b));
                let (da, db) = (self.describe(a), self.describe(b));
                let msg = if verdict == Some(false) {
                    format!("{what} {da} and {db} do not match in this `{op}`")
                } else {
                    format!("{what} {da} and {db} cannot be shown equal in this `{op}`")
                };
                let d = Diagnostic::error(code, msg)
                    .with_label(
                        ta.1,
                        format!(
                            "{} from {} at {}",
                            ShapeDisplay(&ta.0.shape),
                            ta.0.origin.what,
                            self.where_from(ta.0.origin.span, ta.1)
                        ),
                    )
                    .with_label(
                        tb.1,
                        format!(
                            "{} from {} at {}",
                            ShapeDisplay(&tb.0.shape),
                            tb.0.origin.what,
                            self.where_from(tb.0.origin.span, tb.1)
                        ),
                    );
                let d = if verdict.is_none() {
                    d.with_help(cannot_show_help(&na, &nb))
                } else {
                    d
                };
                self.report(d);
                false
            }
        }
    }

    fn origin_what(&self, op: &str, span: Span) -> String {
        match self.snippet(span) {
            Some(s) if s.chars().count() <= 40 => format!("`{s}`"),
            _ => format!("`{op}(…)`"),
        }
    }

    /// Applies a primitive op to bound arguments (`vals` in signature order, `rest` the variadic tensors).
    fn apply_op(
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
        let what = self.origin_what(op, span);
        let tensor = |i: usize| -> Option<(Tensor, Span)> {
            match &vals.get(i)? {
                (Value::Tensor(t), s) => Some((t.clone(), *s)),
                _ => None,
            }
        };
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
        let mut inputs: Vec<Tensor> = Vec::new();
        let result: Option<Vec<Sym>> = match op {
            "min" | "max" => {
                let (a, b) = (self.int_arg(&vals[0].0), self.int_arg(&vals[1].0));
                return Value::Int(if op == "min" { a.smin(&b) } else { a.smax(&b) });
            }
            _ if ops::is_elementwise(op) || matches!(op, "dropout" | "scale") => {
                let (x, _) = tensor(0).expect("checked kinds");
                if op == "dropout" {
                    if let Value::Float(Some(p)) = vals[1].0 {
                        if !(0.0..=1.0).contains(&p) {
                            self.report(
                                Diagnostic::error(
                                    Code::OutOfRange,
                                    format!("dropout probability must be in [0, 1], not {p:?}"),
                                )
                                .with_label(vals[1].1, "probability"),
                            );
                        }
                    }
                }
                inputs.push(x.clone());
                Some(x.shape)
            }
            "conv" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if !self.rank(&x, xs, op, &[4], "[B, C, H, W]") {
                    return Value::Poison;
                }
                let [out, k, s, p, d, g] = [1, 2, 3, 4, 5, 6].map(|i| self.int_arg(&vals[i].0));
                let ok = self.positive(&out, vals[1].1, "output channel count", op)
                    & self.positive(&k, vals[2].1, "kernel size", op)
                    & self.positive(&s, vals[3].1, "stride", op)
                    & self.non_negative(&p, vals[4].1, "padding", op)
                    & self.positive(&d, vals[5].1, "dilation", op)
                    & self.positive(&g, vals[6].1, "group count", op);
                if !ok {
                    return Value::Poison;
                }
                let c = x.shape[1].clone();
                for (n, nspan, what) in [
                    (&c, xs, "input channels"),
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
                            return Value::Poison;
                        }
                    }
                }
                let mut shape = vec![x.shape[0].clone(), out.clone()];
                for i in 2..4 {
                    match self.conv_out(&x.shape[i], &k, &s, &p, &d) {
                        Ok(o) => {
                            if let Some(v) = self.known(&o).filter(|v| *v <= 0) {
                                self.report(
                                    Diagnostic::error(
                                        Code::EmptyOutput,
                                        format!("this `conv` leaves a {} of {v}", dim_name(4, i)),
                                    )
                                    .with_label(span, format!("input {} is {}", dim_name(4, i), self.norm(&x.shape[i])))
                                    .with_help("the kernel (with dilation) is larger than the padded input: add padding or downsample less"),
                                );
                                return Value::Poison;
                            }
                            shape.push(o)
                        }
                        Err(e) => return self.sym_err(e, span),
                    }
                }
                Some(shape)
            }
            "avg_pool" | "max_pool" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if !self.rank(&x, xs, op, &[4], "[B, C, H, W]") {
                    return Value::Poison;
                }
                let [k, s, p] = [1, 2, 3].map(|i| self.int_arg(&vals[i].0));
                let ok = self.positive(&k, vals[1].1, "kernel size", op)
                    & self.positive(&s, vals[2].1, "stride", op)
                    & self.non_negative(&p, vals[3].1, "padding", op);
                if !ok {
                    return Value::Poison;
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
                        return Value::Poison;
                    }
                }
                let mut shape = vec![x.shape[0].clone(), x.shape[1].clone()];
                for i in 2..4 {
                    match self.conv_out(&x.shape[i], &k, &s, &p, &Sym::constant(1)) {
                        Ok(o) => {
                            if let Some(v) = self.known(&o).filter(|v| *v <= 0) {
                                self.report(
                                    Diagnostic::error(
                                        Code::EmptyOutput,
                                        format!("this `{op}` leaves a {} of {v}", dim_name(4, i)),
                                    )
                                    .with_label(
                                        span,
                                        format!(
                                            "input {} is {}",
                                            dim_name(4, i),
                                            self.norm(&x.shape[i])
                                        ),
                                    )
                                    .with_help("the window is larger than the input"),
                                );
                                return Value::Poison;
                            }
                            shape.push(o)
                        }
                        Err(e) => return self.sym_err(e, span),
                    }
                }
                Some(shape)
            }
            "linear" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if x.shape.is_empty() {
                    self.rank(&x, xs, op, &[2, 3], "[.., D]");
                    return Value::Poison;
                }
                let out = self.int_arg(&vals[1].0);
                if !self.positive(&out, vals[1].1, "output size", op) {
                    return Value::Poison;
                }
                let mut shape = x.shape.clone();
                *shape.last_mut().expect("non-empty") = out;
                Some(shape)
            }
            "batch_norm" | "group_norm" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if !self.rank(&x, xs, op, &[2, 3, 4, 5], "[B, C, …]") {
                    return Value::Poison;
                }
                if op == "group_norm" {
                    let g = self.int_arg(&vals[1].0);
                    if !self.positive(&g, vals[1].1, "group count", op) {
                        return Value::Poison;
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
                        return Value::Poison;
                    }
                }
                Some(x.shape)
            }
            "layer_norm" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if x.shape.is_empty() {
                    self.rank(&x, xs, op, &[2, 3], "[.., D]");
                    return Value::Poison;
                }
                Some(x.shape)
            }
            "softmax" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let d = self.int_arg(&vals[1].0);
                if self.axis(&d, x.shape.len(), vals[1].1, op).is_none() {
                    return Value::Poison;
                }
                Some(x.shape)
            }
            "global_avg_pool" | "global_max_pool" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                if !self.rank(&x, xs, op, &[4], "[B, C, H, W]") {
                    return Value::Poison;
                }
                let keep = matches!(
                    vals[1].0,
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
            "mean" | "select" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let d = self.int_arg(&vals[1].0);
                let Some(ax) = self.axis(&d, x.shape.len(), vals[1].1, op) else {
                    return Value::Poison;
                };
                let mut shape = x.shape.clone();
                if op == "select" {
                    let idx = self.int_arg(&vals[2].0);
                    if let (Some(i), Some(n)) = (self.known(&idx), self.known(&shape[ax])) {
                        if i < -n || i >= n {
                            self.report(
                                Diagnostic::error(
                                    Code::OutOfRange,
                                    format!(
                                        "index {i} is out of range for a dimension of size {n}"
                                    ),
                                )
                                .with_label(vals[2].1, format!("index {i}")),
                            );
                            return Value::Poison;
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
            "slice" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let d = self.int_arg(&vals[1].0);
                let Some(ax) = self.axis(&d, x.shape.len(), vals[1].1, op) else {
                    return Value::Poison;
                };
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
                        return Value::Poison;
                    }
                }
                let mut shape = x.shape.clone();
                shape[ax] = match en.sub(&st) {
                    Ok(v) => v,
                    Err(e) => return self.sym_err(e, span),
                };
                Some(shape)
            }
            "flatten" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let d = self.int_arg(&vals[1].0);
                let Some(ax) = self.axis(&d, x.shape.len(), vals[1].1, op) else {
                    return Value::Poison;
                };
                let mut shape: Vec<Sym> = x.shape[..ax].to_vec();
                let mut prod = Sym::constant(1);
                for s in &x.shape[ax..] {
                    prod = match prod.mul(&self.norm(s)) {
                        Ok(p) => p,
                        Err(e) => return self.sym_err(e, span),
                    };
                }
                shape.push(prod);
                Some(shape)
            }
            "reshape" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let Value::List(target) = vals[1].0.clone() else {
                    return Value::Poison;
                };
                self.reshape(&x, xs, &target, vals[1].1, span)
            }
            "transpose" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let (a, b) = (self.int_arg(&vals[1].0), self.int_arg(&vals[2].0));
                let Some(i) = self.axis(&a, x.shape.len(), vals[1].1, op) else {
                    return Value::Poison;
                };
                let Some(j) = self.axis(&b, x.shape.len(), vals[2].1, op) else {
                    return Value::Poison;
                };
                let mut shape = x.shape.clone();
                shape.swap(i, j);
                Some(shape)
            }
            "permute" => {
                let (x, _) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let Value::List(dims) = vals[1].0.clone() else {
                    return Value::Poison;
                };
                let r = x.shape.len();
                let mut perm = Vec::new();
                for d in &dims {
                    let Some(a) = self.axis(d, r, vals[1].1, op) else {
                        return Value::Poison;
                    };
                    perm.push(a);
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
                    return Value::Poison;
                }
                Some(perm.iter().map(|&i| x.shape[i].clone()).collect())
            }
            "add" | "mul" => {
                let (a, sa) = tensor(0).expect("checked kinds");
                let (b, sb) = tensor(1).expect("checked kinds");
                inputs.push(a.clone());
                inputs.push(b.clone());
                self.broadcast(&a, sa, &b, sb, op)
            }
            "concat" => {
                if rest.is_empty() {
                    self.report(
                        Diagnostic::error(
                            Code::MissingArgument,
                            "`concat` needs at least one tensor",
                        )
                        .with_label(span, "nothing to concatenate"),
                    );
                    return Value::Poison;
                }
                let ts = tensor_args(&rest);
                let (first, fs) = ts[0].clone();
                let r = first.shape.len();
                let d = self.int_arg(&vals[1].0);
                let Some(ax) = self.axis(&d, r, vals[1].1, op) else {
                    return Value::Poison;
                };
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
                        return Value::Poison;
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
                            return Value::Poison;
                        }
                    }
                    total = match total.add(&t.shape[ax]) {
                        Ok(v) => v,
                        Err(e) => return self.sym_err(e, span),
                    };
                }
                inputs.extend(ts.iter().map(|(t, _)| t.clone()));
                let mut shape = first.shape.clone();
                shape[ax] = self.norm(&total);
                Some(shape)
            }
            "matmul" => {
                let (a, sa) = tensor(0).expect("checked kinds");
                let (b, sb) = tensor(1).expect("checked kinds");
                inputs.push(a.clone());
                inputs.push(b.clone());
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
                    return Value::Poison;
                }
                let (ra, rb) = (a.shape.len(), b.shape.len());
                if !self.require_dim(
                    &a.shape[ra - 1],
                    &b.shape[rb - 2],
                    Code::DimMismatch,
                    "contracted sizes",
                    op,
                    (&a, sa),
                    (&b, sb),
                ) {
                    return Value::Poison;
                }
                let batch_a = Tensor {
                    shape: a.shape[..ra - 2].to_vec(),
                    ..a.clone()
                };
                let batch_b = Tensor {
                    shape: b.shape[..rb - 2].to_vec(),
                    ..b.clone()
                };
                let Some(mut shape) = self.broadcast(&batch_a, sa, &batch_b, sb, op) else {
                    return Value::Poison;
                };
                shape.push(a.shape[ra - 2].clone());
                shape.push(b.shape[rb - 1].clone());
                Some(shape)
            }
            "einsum" => {
                let Value::Str(Some(spec)) = vals[0].0.clone() else {
                    self.report(
                        Diagnostic::error(
                            Code::NotConstant,
                            "the einsum specification must be a known string",
                        )
                        .with_label(vals[0].1, "unknown"),
                    );
                    return Value::Poison;
                };
                let ts = tensor_args(&rest);
                inputs.extend(ts.iter().map(|(t, _)| t.clone()));
                self.einsum(&spec, vals[0].1, &ts)
            }
            "param" => {
                let Value::List(dims) = vals[0].0.clone() else {
                    return Value::Poison;
                };
                for d in &dims {
                    if !self.positive(d, vals[0].1, "size", op) {
                        return Value::Poison;
                    }
                }
                Some(dims.iter().map(|d| self.norm(d)).collect())
            }
            "expand" => {
                let (x, xs) = tensor(0).expect("checked kinds");
                inputs.push(x.clone());
                let Value::List(target) = vals[1].0.clone() else {
                    return Value::Poison;
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
                    return Value::Poison;
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
                            Diagnostic::error(Code::Broadcast, format!("cannot expand a dimension of size {cur} to {t}"))
                                .with_label(vals[1].1, "target shape")
                                .with_label(xs, format!("{}", ShapeDisplay(&x.shape)))
                                .with_help("only size-1 dimensions can be expanded; use -1 to keep a dimension"),
                        );
                        return Value::Poison;
                    }
                }
                Some(shape)
            }
            other => unreachable!("op `{other}` has a signature but no shape rule"),
        };
        let Some(shape) = result else {
            return Value::Poison;
        };
        let shape: Vec<Sym> = shape.iter().map(|s| self.norm(s)).collect();
        let refs: Vec<&Tensor> = inputs.iter().collect();
        let node = self.record_node(op, attr_list, &refs, &shape, span, seg);
        Value::Tensor(Tensor {
            shape,
            origin: Origin { span, what },
            node,
        })
    }

    /// `(n + 2p − d(k − 1) − 1) / s + 1`
    fn conv_out(&self, n: &Sym, k: &Sym, s: &Sym, p: &Sym, d: &Sym) -> Result<Sym, SymError> {
        let one = Sym::constant(1);
        let eff = d.mul(&k.sub(&one)?)?;
        let num = n.add(&p.mul(&Sym::constant(2))?)?.sub(&eff)?.sub(&one)?;
        Ok(self.norm(&num.div(s)?.add(&one)?))
    }

    fn broadcast(
        &mut self,
        a: &Tensor,
        sa: Span,
        b: &Tensor,
        sb: Span,
        op: &str,
    ) -> Option<Vec<Sym>> {
        let r = a.shape.len().max(b.shape.len());
        let mut out = Vec::new();
        for i in 0..r {
            let x = (i + a.shape.len())
                .checked_sub(r)
                .map(|j| self.norm(&a.shape[j]));
            let y = (i + b.shape.len())
                .checked_sub(r)
                .map(|j| self.norm(&b.shape[j]));
            let d = match (x, y) {
                (Some(x), None) => x,
                (None, Some(y)) => y,
                (Some(x), Some(y)) => {
                    if self.same(&x, &y) == Some(true) || y.as_const() == Some(1) {
                        x
                    } else if x.as_const() == Some(1) {
                        y
                    } else {
                        let name = dim_name(r, i);
                        let verdict = self.same(&x, &y);
                        let msg = if verdict == Some(false) {
                            format!(
                                "{name} {} and {} do not match in this `{op}`",
                                self.describe(&x),
                                self.describe(&y)
                            )
                        } else {
                            format!(
                                "{name} {} and {} cannot be shown equal in this `{op}`",
                                self.describe(&x),
                                self.describe(&y)
                            )
                        };
                        let mut d = Diagnostic::error(
                            if verdict == Some(false)
                                && x.as_const().is_some()
                                && y.as_const().is_some()
                                && op != "add"
                                && op != "mul"
                            {
                                Code::Broadcast
                            } else {
                                Code::DimMismatch
                            },
                            msg,
                        )
                        .with_label(
                            sa,
                            format!(
                                "{} from {} at {}",
                                ShapeDisplay(&a.shape),
                                a.origin.what,
                                self.where_from(a.origin.span, sa)
                            ),
                        )
                        .with_label(
                            sb,
                            format!(
                                "{} from {} at {}",
                                ShapeDisplay(&b.shape),
                                b.origin.what,
                                self.where_from(b.origin.span, sb)
                            ),
                        );
                        d = if verdict.is_none() {
                            d.with_help(cannot_show_help(&x, &y))
                        } else {
                            d.with_help(
                                "elementwise ops need equal sizes (or size 1, which broadcasts)",
                            )
                        };
                        self.report(d);
                        return None;
                    }
                }
                (None, None) => unreachable!(),
            };
            out.push(d);
        }
        Some(out)
    }

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
