//! The symbolic evaluator: runs a block with symbolic (or concrete) arguments, applying every primitive
//! op's shape rule, and reports every problem it meets as a diagnostic. The same evaluator checks programs
//! (all branches and decisions, symbols for unknown sizes) and, with a resolution of the decisions and
//! `record` on, produces the op trace that the IR is built from.
//!
//! Rules it enforces (see docs/language.md): dimensions that must be equal must be *provably* equal for all
//! values of the symbols (`if C == out { … }` adds that fact in its branch); numeric side conditions
//! (positivity, divisibility, ranges) are errors only when the values are known, and are checked again at
//! every instantiation with the caller's values.
//!
//! This module holds the evaluator's state, its reporting helpers and the entry points; the rest is split
//! by concern: `facts` (branch facts, provable equality, decisions), `expr` (expressions), `call` (argument
//! binding, declared types, block instantiation), `shape_rules` (the primitive ops' shape rules) and
//! `shape_checks` (the checks those rules share).

use super::program::{BlockId, Program};
use super::sym::{Sym, SymError};
use super::value::{BlockVal, BoolVal, Cond, Origin, Tensor, Value};
use crate::base::{Code, Diagnostic, FileId, Span};
use crate::syntax::ast::{ExprKind, TypeExpr};
use std::collections::{BTreeMap, HashMap, HashSet};

mod call;
mod expr;
mod facts;
mod shape_checks;
mod shape_rules;

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
    names: Vec<crate::check::segments::Segments>,
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
            names: vec![Default::default()],
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

    // ----- instance paths and the trace --------------------------------------------------------------

    /// A unique path segment in the current instance.
    fn segment(&mut self, base: &str) -> String {
        self.names.last_mut().expect("a names frame").next(base)
    }

    /// Appends an op application to the trace (record mode only); its node index.
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
}
