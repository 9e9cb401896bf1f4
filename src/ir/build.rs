//! Building the IR from a checked program: pick the entry block, give its inputs concrete shapes, run the
//! evaluator in record mode with the chosen alternatives, and turn the trace into typed, pruned nodes.

use super::{Choice, Graph, Node, Op};
use crate::base::{Code, Diagnostic, Span};
use crate::check::{self, BlockId, Evaluator, Program, Sym, Value};
use crate::ir::op::{Activation, PoolKind};
use crate::syntax::ast::{BlockKind, ExprKind, TypeExpr};
use std::collections::BTreeMap;

/// What to build.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The entry block; default: the last `network` of the first file (else its last block).
    pub block: Option<String>,
    /// The batch size given to the first dimension of each input when it is symbolic (default 1).
    pub batch: Option<i64>,
    /// Explicit input shapes by parameter name (override the declared types).
    pub inputs: BTreeMap<String, Vec<i64>>,
    /// Alternative index per decision name (missing decisions take alternative 0).
    pub choices: BTreeMap<String, usize>,
}

/// Why a graph could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The program has errors (or the entry cannot be instantiated): the diagnostics say where.
    Diagnostics(Vec<Diagnostic>),
    /// A usage problem (no such block, unknown decision, symbolic input): the message says what.
    Usage(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Diagnostics(d) => write!(
                f,
                "the program has {} error(s)",
                d.iter().filter(|d| d.is_error()).count()
            ),
            BuildError::Usage(m) => f.write_str(m),
        }
    }
}

fn entry(prog: &Program, name: Option<&str>) -> Result<BlockId, BuildError> {
    let root = *prog
        .roots
        .first()
        .ok_or_else(|| BuildError::Usage("no file was loaded".into()))?;
    let blocks = &prog.modules[root].blocks;
    match name {
        Some(n) => blocks
            .iter()
            .copied()
            .find(|&b| prog.block(b).name.name == n)
            .ok_or_else(|| {
                let names: Vec<String> = blocks
                    .iter()
                    .map(|&b| prog.block(b).name.name.clone())
                    .collect();
                BuildError::Usage(format!(
                    "no block `{n}` in this file (it defines: {})",
                    names.join(", ")
                ))
            }),
        None => blocks
            .iter()
            .rev()
            .copied()
            .find(|&b| prog.block(b).kind == BlockKind::Network)
            .or_else(|| blocks.last().copied())
            .ok_or_else(|| BuildError::Usage("the file defines no block".into())),
    }
}

/// Builds the graph of an entry block. The program must check without errors.
pub fn build(prog: &Program, opts: &BuildOptions) -> Result<Graph, BuildError> {
    let id = entry(prog, opts.block.as_deref())?;
    let def = prog.block(id);
    let batch = opts.batch.unwrap_or(1);
    let mut shapes: Vec<Vec<Sym>> = Vec::new();
    for p in &def.params {
        let TypeExpr::Tensor(dims, _) = &p.ty else {
            continue;
        };
        if let Some(s) = opts.inputs.get(&p.name.name) {
            shapes.push(s.iter().map(|&d| Sym::constant(d)).collect());
            continue;
        }
        let mut shape = Vec::new();
        for (i, d) in dims.iter().enumerate() {
            match &d.kind {
                ExprKind::Int(k) => shape.push(Sym::constant(*k)),
                ExprKind::Name(_) | ExprKind::Wildcard if i == 0 => shape.push(Sym::constant(batch)),
                _ => {
                    return Err(BuildError::Usage(format!(
                        "dimension {i} of input `{}` is symbolic ({}); give its shape explicitly (--input {}=…)",
                        p.name.name,
                        crate::syntax::print_expr(d),
                        p.name.name
                    )))
                }
            }
        }
        shapes.push(shape);
    }
    let mut ev = Evaluator::new(prog);
    ev.record = true;
    ev.resolution = Some(opts.choices.clone());
    let result = ev.instantiate_with_inputs(id, &shapes);
    let errors: Vec<Diagnostic> = ev
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(BuildError::Diagnostics(errors));
    }
    let mut choices = Vec::new();
    for d in &ev.decisions {
        if choices.iter().any(|c: &Choice| c.name == d.name) {
            continue;
        }
        let chosen = opts.choices.get(&d.name).copied().unwrap_or(0);
        if chosen >= d.options.len() {
            return Err(BuildError::Usage(format!(
                "decision `{}` has {} alternatives; {chosen} is out of range",
                d.name,
                d.options.len()
            )));
        }
        choices.push(Choice {
            name: d.name.clone(),
            chosen,
            options: d.options.clone(),
        });
    }
    if let Some(unknown) = opts
        .choices
        .keys()
        .find(|k| !choices.iter().any(|c| &c.name == *k))
    {
        let names: Vec<&str> = choices.iter().map(|c| c.name.as_str()).collect();
        return Err(BuildError::Usage(format!(
            "there is no decision `{unknown}` (decisions: {})",
            names.join(", ")
        )));
    }
    let Value::Tensor(out) = result else {
        return Err(BuildError::Usage(format!(
            "`{}` does not return a tensor",
            def.name.name
        )));
    };
    let out_node = out
        .node
        .ok_or_else(|| BuildError::Usage("the result is not produced by any op".into()))?;
    from_trace(&def.name.name, &ev.trace, out_node, choices)
}

fn int(v: &Value, what: &str, span: Span) -> Result<i64, BuildError> {
    match v {
        Value::Int(s) => s.as_const().ok_or_else(|| not_const(what, span)),
        _ => Err(not_const(what, span)),
    }
}

fn not_const(what: &str, span: Span) -> BuildError {
    BuildError::Diagnostics(vec![Diagnostic::error(
        Code::NotConstant,
        format!("`{what}` is not known for this architecture"),
    )
    .with_label(span, "symbolic")])
}

fn attr<'a>(attrs: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn to_op(n: &check::TraceNode) -> Result<Op, BuildError> {
    let a = |k: &str| attr(&n.attrs, k).cloned().unwrap_or(Value::Poison);
    let i = |k: &str| int(&a(k), k, n.span);
    let f = |k: &str| match a(k) {
        Value::Float(Some(x)) => Ok(x),
        _ => Err(not_const(k, n.span)),
    };
    let b = |k: &str| {
        matches!(
            a(k),
            Value::Bool(check::value::BoolVal {
                known: Some(true),
                ..
            })
        )
    };
    let list = |k: &str| match a(k) {
        Value::List(l) => l
            .iter()
            .map(|s| s.as_const().ok_or_else(|| not_const(k, n.span)))
            .collect(),
        _ => Err(not_const(k, n.span)),
    };
    let act = |f| Ok(Op::Act { f });
    match n.op.as_str() {
        "input" => Ok(Op::Input {
            name: match a("name") {
                Value::Str(Some(s)) => s,
                _ => "x".into(),
            },
        }),
        "conv" => Ok(Op::Conv {
            out: i("out")?,
            kernel: i("kernel")?,
            stride: i("stride")?,
            padding: i("padding")?,
            dilation: i("dilation")?,
            groups: i("groups")?,
            bias: b("bias"),
        }),
        "linear" => Ok(Op::Linear {
            out: i("out")?,
            bias: b("bias"),
        }),
        "batch_norm" => Ok(Op::BatchNorm {
            eps: f("eps")?,
            momentum: f("momentum")?,
        }),
        "layer_norm" => Ok(Op::LayerNorm { eps: f("eps")? }),
        "group_norm" => Ok(Op::GroupNorm {
            groups: i("groups")?,
            eps: f("eps")?,
        }),
        "relu" => act(Activation::Relu),
        "relu6" => act(Activation::Relu6),
        "gelu" => act(Activation::Gelu),
        "silu" | "swish" => act(Activation::Silu),
        "sigmoid" => act(Activation::Sigmoid),
        "tanh" => act(Activation::Tanh),
        "hardswish" => act(Activation::Hardswish),
        "hardsigmoid" => act(Activation::Hardsigmoid),
        "softmax" => Ok(Op::Softmax { dim: i("dim")? }),
        "dropout" => Ok(Op::Dropout { p: f("p")? }),
        "identity" => Ok(Op::Identity),
        "zero" => Ok(Op::Zero),
        "avg_pool" | "max_pool" => Ok(Op::Pool {
            kind: if n.op == "avg_pool" {
                PoolKind::Avg
            } else {
                PoolKind::Max
            },
            kernel: i("kernel")?,
            stride: i("stride")?,
            padding: i("padding")?,
        }),
        "global_avg_pool" | "global_max_pool" => Ok(Op::GlobalPool {
            kind: if n.op == "global_avg_pool" {
                PoolKind::Avg
            } else {
                PoolKind::Max
            },
            keepdim: b("keepdim"),
        }),
        "mean" => Ok(Op::Mean {
            dim: i("dim")?,
            keepdim: b("keepdim"),
        }),
        "flatten" => Ok(Op::Flatten { start: i("start")? }),
        "reshape" => Ok(Op::Reshape {
            shape: list("shape")?,
        }),
        "transpose" => Ok(Op::Transpose {
            d0: i("d0")?,
            d1: i("d1")?,
        }),
        "permute" => Ok(Op::Permute {
            dims: list("dims")?,
        }),
        "add" => Ok(Op::Add),
        "mul" => Ok(Op::Mul),
        "concat" => Ok(Op::Concat { dim: i("dim")? }),
        "matmul" => Ok(Op::Matmul),
        "einsum" => Ok(Op::Einsum {
            spec: match a("spec") {
                Value::Str(Some(s)) => s,
                _ => return Err(not_const("spec", n.span)),
            },
        }),
        "scale" => Ok(Op::Scale { s: f("s")? }),
        "param" => Ok(Op::Param {
            shape: list("shape")?,
        }),
        "expand" => Ok(Op::Expand {
            shape: list("shape")?,
        }),
        "select" => Ok(Op::Select {
            dim: i("dim")?,
            index: i("index")?,
        }),
        "slice" => Ok(Op::Slice {
            dim: i("dim")?,
            start: i("start")?,
            end: i("end")?,
        }),
        other => Err(BuildError::Usage(format!(
            "internal: the trace has an unknown op `{other}`"
        ))),
    }
}

/// Turns a trace into a graph: typed ops, concrete shapes, only the nodes the output depends on (inputs are
/// always kept), renumbered in order.
fn from_trace(
    name: &str,
    trace: &[check::TraceNode],
    out: usize,
    choices: Vec<Choice>,
) -> Result<Graph, BuildError> {
    let mut live = vec![false; trace.len()];
    live[out] = true;
    for i in (0..trace.len()).rev() {
        if live[i] || trace[i].op == "input" {
            live[i] = true;
            for &j in &trace[i].inputs {
                live[j] = true;
            }
        }
    }
    let mut new_id = vec![usize::MAX; trace.len()];
    let mut nodes = Vec::new();
    let mut inputs = Vec::new();
    for (i, t) in trace.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let op = to_op(t)?;
        let shape = t
            .shape
            .iter()
            .map(|s| s.as_const().ok_or_else(|| not_const("shape", t.span)))
            .collect::<Result<Vec<i64>, _>>()?;
        new_id[i] = nodes.len();
        if matches!(op, Op::Input { .. }) {
            inputs.push(nodes.len());
        }
        nodes.push(Node {
            op,
            inputs: t.inputs.iter().map(|&j| new_id[j]).collect(),
            shape,
            path: t.path.clone(),
            span: t.span,
        });
    }
    let g = Graph {
        name: name.to_string(),
        nodes,
        inputs,
        outputs: vec![new_id[out]],
        choices,
    };
    g.verify()
        .map_err(|e| BuildError::Usage(format!("internal: the built graph is malformed: {e}")))?;
    Ok(g)
}
