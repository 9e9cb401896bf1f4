//! The egg language of IR ops and the property analysis whose e-class data is the (shape, depth, mixing)
//! abstraction of the tensor the class computes.
//!
//! **Language.** `add`, `mul` and `identity` are named e-nodes (so that rewrite patterns can mention them);
//! every other op is `Op(symbol, children)` where the symbol is the op's canonical text with its output
//! shape (`conv{out:64,kernel:3,padding:1}@1x64x32x32`). Subgraph inputs are leaves `in0~n@1x3x32x32`
//! (position, the producer's depth kind `l`/`n`, shape). Terms are taken *modulo weights*: two convs with
//! the same hyper-parameters on the same input are one e-node, which is right for properties (they have
//! the same ones) and is why an extracted term names no weights.
//!
//! **The analysis contract** (as egg states it for [`egg::Analysis`]):
//! - `make(n)` computes the fact of an e-node from its children's facts only (the symbol table
//!   [`PropsAnalysis::ops`] gives the op and its output shape);
//! - `merge(a, b)` is the **lattice join**: shapes must be equal (two e-nodes in one class with different
//!   shapes mean a rewrite is wrong, so it asserts); depths join by `max` per (leaf, last-op kind);
//!   mixing matrices by element-wise `max`; a dependence present on one side only is kept. It is
//!   commutative, associative and idempotent, and reports through [`DidMerge`] which side grew;
//! - equal programs (in the sense of the rewrites) get equal facts: every rewrite preserves shape, depth
//!   and mixing, so a join never actually raises anything — the tests check this on every rule.

use super::mixing::{op_matrix, Matrix};
use crate::ir::subgraph::Subgraph;
use crate::ir::{Graph, Op};
use egg::{define_language, Analysis, DidMerge, EGraph, Id, Symbol};
use std::collections::{BTreeMap, HashMap};

define_language! {
    /// IR ops as e-nodes.
    pub enum NasLang {
        "add" = Add([Id; 2]),
        "mul" = Mul([Id; 2]),
        "identity" = Identity(Id),
        Op(Symbol, Vec<Id>),
    }
}

/// How an op counts for depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Linear,
    Nonlinear,
    /// Identity: takes the kind of its producer.
    Transparent,
}

/// The depth kind of an op (properties.md): activations and softmax are nonlinear, identity is
/// transparent, a graph input counts as a nonlinear producer, everything else is linear.
pub fn kind(op: &Op) -> Kind {
    match op {
        Op::Act { .. } | Op::Softmax { .. } | Op::Input { .. } => Kind::Nonlinear,
        Op::Identity => Kind::Transparent,
        _ => Kind::Linear,
    }
}

/// The kind of the op producing node `i`, looking through identities.
pub fn producer_kind(g: &Graph, mut i: usize) -> Kind {
    loop {
        let n = &g.nodes[i];
        match kind(&n.op) {
            Kind::Transparent if !n.inputs.is_empty() => i = n.inputs[0],
            Kind::Transparent => return Kind::Nonlinear,
            k => return k,
        }
    }
}

/// What a symbol stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum OpInfo {
    /// Subgraph input number `index`, produced by an op of kind `kind`.
    Leaf {
        index: usize,
        kind: Kind,
        shape: Vec<i64>,
    },
    /// A primitive op with its output shape.
    Prim { op: Op, shape: Vec<i64> },
}

/// The dependence of a tensor on one leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep {
    /// Max switches over paths whose last non-identity op is linear (`None`: no such path).
    pub lin: Option<u32>,
    /// The same for paths ending in a nonlinear op.
    pub non: Option<u32>,
    /// Mixing matrix `[leaf dim][this tensor's dim]`.
    pub mix: Matrix,
}

impl Dep {
    pub fn depth(&self) -> u32 {
        self.lin.max(self.non).unwrap_or(0)
    }

    fn join(&self, o: &Dep) -> Dep {
        Dep {
            lin: self.lin.max(o.lin),
            non: self.non.max(o.non),
            mix: self.mix.join(&o.mix),
        }
    }
}

/// The e-class data: the tensor's shape and its dependence on each leaf (by leaf index).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fact {
    pub shape: Vec<i64>,
    pub deps: BTreeMap<usize, Dep>,
}

impl Fact {
    /// The lattice join (see the module doc).
    pub fn join(&self, o: &Fact) -> Fact {
        assert_eq!(
            self.shape, o.shape,
            "props: two e-nodes of one class disagree on the shape (a rewrite is unsound)"
        );
        let mut deps = self.deps.clone();
        for (k, d) in &o.deps {
            deps.entry(*k)
                .and_modify(|x| *x = x.join(d))
                .or_insert_with(|| d.clone());
        }
        Fact {
            shape: self.shape.clone(),
            deps,
        }
    }
}

/// The property analysis; it owns the symbol table of the ops in the e-graph.
#[derive(Clone, Debug, Default)]
pub struct PropsAnalysis {
    pub ops: HashMap<Symbol, OpInfo>,
}

impl PropsAnalysis {
    /// Registers an op with its output shape and returns its symbol.
    pub fn prim(&mut self, op: &Op, shape: &[i64]) -> Symbol {
        let text = format!(
            "{}{{{}}}@{}",
            op.name(),
            op.attrs_text().replace(' ', ""),
            shape_text(shape)
        );
        let s = Symbol::from(text);
        self.ops.entry(s).or_insert_with(|| OpInfo::Prim {
            op: op.clone(),
            shape: shape.to_vec(),
        });
        s
    }

    /// Registers a leaf and returns its symbol.
    pub fn leaf(&mut self, index: usize, kind: Kind, shape: &[i64]) -> Symbol {
        let k = if kind == Kind::Linear { 'l' } else { 'n' };
        let s = Symbol::from(format!("in{index}~{k}@{}", shape_text(shape)));
        self.ops.entry(s).or_insert_with(|| OpInfo::Leaf {
            index,
            kind,
            shape: shape.to_vec(),
        });
        s
    }
}

fn shape_text(s: &[i64]) -> String {
    s.iter().map(i64::to_string).collect::<Vec<_>>().join("x")
}

/// The broadcast shape of two shapes (right-aligned; size-1 dims stretch).
pub fn broadcast(a: &[i64], b: &[i64]) -> Vec<i64> {
    let r = a.len().max(b.len());
    (0..r)
        .map(|k| {
            let x = if k + a.len() >= r {
                a[k + a.len() - r]
            } else {
                1
            };
            let y = if k + b.len() >= r {
                b[k + b.len() - r]
            } else {
                1
            };
            if x == 1 {
                y
            } else {
                x
            }
        })
        .collect()
}

/// The fact of an op applied to children facts: compose each child's dependences with the op's per-slot
/// matrix, count a depth switch when the op's kind differs from the kind a path ended with, join slots.
pub fn apply(op: &Op, out: &[i64], children: &[&Fact]) -> Fact {
    let k = kind(op);
    if k == Kind::Transparent {
        return children.first().map(|f| (*f).clone()).unwrap_or_default();
    }
    let ins: Vec<&[i64]> = children.iter().map(|f| f.shape.as_slice()).collect();
    let mut deps: BTreeMap<usize, Dep> = BTreeMap::new();
    if !matches!(op, Op::Zero) {
        for (slot, child) in children.iter().enumerate() {
            let q = op_matrix(op, &ins, out, slot);
            for (&leaf, d) in &child.deps {
                let mix = d.mix.compose(&q);
                if mix.cells().iter().all(|m| *m == super::Mix::None) {
                    continue;
                }
                let from_same = if k == Kind::Linear { d.lin } else { d.non };
                let from_other = if k == Kind::Linear { d.non } else { d.lin };
                let best = from_same.max(from_other.map(|x| x + 1));
                let nd = Dep {
                    lin: if k == Kind::Linear { best } else { None },
                    non: if k == Kind::Nonlinear { best } else { None },
                    mix,
                };
                deps.entry(leaf)
                    .and_modify(|x| *x = x.join(&nd))
                    .or_insert(nd);
            }
        }
    }
    Fact {
        shape: out.to_vec(),
        deps,
    }
}

impl Analysis<NasLang> for PropsAnalysis {
    type Data = Fact;

    fn make(egraph: &mut EGraph<NasLang, Self>, enode: &NasLang, _id: Id) -> Fact {
        let eg: &EGraph<NasLang, Self> = egraph;
        let data = |i: &Id| &eg[*i].data;
        match enode {
            NasLang::Identity(c) => data(c).clone(),
            NasLang::Add([a, b]) | NasLang::Mul([a, b]) => {
                let op = if matches!(enode, NasLang::Add(_)) {
                    Op::Add
                } else {
                    Op::Mul
                };
                let out = broadcast(&data(a).shape, &data(b).shape);
                apply(&op, &out, &[data(a), data(b)])
            }
            NasLang::Op(sym, children) => match eg.analysis.ops.get(sym) {
                Some(OpInfo::Leaf { index, kind, shape }) => {
                    let dep = Dep {
                        lin: (*kind == Kind::Linear).then_some(0),
                        non: (*kind != Kind::Linear).then_some(0),
                        mix: Matrix::identity(shape.len()),
                    };
                    Fact {
                        shape: shape.clone(),
                        deps: BTreeMap::from([(*index, dep)]),
                    }
                }
                Some(OpInfo::Prim { op, shape }) => {
                    let cs: Vec<&Fact> = children.iter().map(data).collect();
                    apply(op, shape, &cs)
                }
                None => panic!("props: symbol `{sym}` was not registered with the analysis"),
            },
        }
    }

    fn merge(&mut self, a: &mut Fact, b: Fact) -> DidMerge {
        let joined = a.join(&b);
        let grew_a = joined != *a;
        let grew_b = joined != b;
        *a = joined;
        DidMerge(grew_a, grew_b)
    }
}

/// A subgraph in an e-graph: the class of each subgraph output.
#[derive(Clone, Debug)]
pub struct Encoded {
    pub outputs: Vec<Id>,
}

/// The e-node of graph node `i` whose children are already in `ids`.
pub fn enode(
    analysis: &mut PropsAnalysis,
    g: &Graph,
    i: usize,
    ids: &HashMap<usize, Id>,
) -> NasLang {
    let n = &g.nodes[i];
    let ch: Vec<Id> = n.inputs.iter().map(|j| ids[j]).collect();
    match &n.op {
        Op::Add => NasLang::Add([ch[0], ch[1]]),
        Op::Mul => NasLang::Mul([ch[0], ch[1]]),
        Op::Identity => NasLang::Identity(ch[0]),
        op => NasLang::Op(analysis.prim(op, &n.shape), ch),
    }
}

/// Adds a subgraph to an e-graph (leaves for its inputs, then its nodes in order).
pub fn encode(egraph: &mut EGraph<NasLang, PropsAnalysis>, g: &Graph, sub: &Subgraph) -> Encoded {
    let mut ids: HashMap<usize, Id> = HashMap::new();
    for (k, &i) in sub.inputs.iter().enumerate() {
        let sym = egraph
            .analysis
            .leaf(k, producer_kind(g, i), &g.nodes[i].shape);
        let id = egraph.add(NasLang::Op(sym, vec![]));
        ids.insert(i, id);
    }
    for &i in &sub.nodes {
        let node = enode(&mut egraph.analysis, g, i, &ids);
        let id = egraph.add(node);
        ids.insert(i, id);
    }
    Encoded {
        outputs: sub.outputs.iter().map(|o| ids[o]).collect(),
    }
}

/// The term of one subgraph output (its cone), as a `RecExpr`, registering symbols in `analysis`.
pub fn term(
    analysis: &mut PropsAnalysis,
    g: &Graph,
    sub: &Subgraph,
    output: usize,
) -> egg::RecExpr<NasLang> {
    let mut expr = egg::RecExpr::default();
    let mut ids: HashMap<usize, Id> = HashMap::new();
    fn go(
        analysis: &mut PropsAnalysis,
        g: &Graph,
        sub: &Subgraph,
        i: usize,
        ids: &mut HashMap<usize, Id>,
        expr: &mut egg::RecExpr<NasLang>,
    ) -> Id {
        if let Some(&id) = ids.get(&i) {
            return id;
        }
        let id = if let Some(k) = sub.inputs.iter().position(|&x| x == i) {
            let sym = analysis.leaf(k, producer_kind(g, i), &g.nodes[i].shape);
            expr.add(NasLang::Op(sym, vec![]))
        } else {
            for &j in &g.nodes[i].inputs {
                go(analysis, g, sub, j, ids, expr);
            }
            let node = enode(analysis, g, i, ids);
            expr.add(node)
        };
        ids.insert(i, id);
        id
    }
    go(analysis, g, sub, output, &mut ids, &mut expr);
    expr
}
