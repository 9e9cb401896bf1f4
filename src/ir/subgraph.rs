//! Subgraphs of an IR graph: a set of nodes with the tensors it consumes (inputs: produced outside, used
//! inside) and the tensors it provides (outputs: produced inside and used outside, or graph outputs).
//! Selection by block instance path (`h_1` takes every node whose path is `h_1` or starts with `h_1.`),
//! by a node range (`from..to`: every node that depends on `from` and that `to` depends on, both included),
//! or by the alpha-NAS random growth rule. [`splice`] puts a replacement graph in place of a subgraph,
//! rewires the consumers of its outputs and removes the nodes that became dead.

use super::{Graph, Node, NodeId, Op};
use rand::Rng;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// A set of nodes of a graph with its boundary. `nodes`, `inputs` and `outputs` are sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subgraph {
    pub nodes: Vec<NodeId>,
    /// Nodes outside the set whose tensors are used inside it.
    pub inputs: Vec<NodeId>,
    /// Nodes inside the set whose tensors are used outside it or are graph outputs.
    pub outputs: Vec<NodeId>,
}

/// Why a subgraph could not be selected or spliced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubgraphError {
    /// No node has this path (nor a path under it).
    UnknownPath(String),
    /// The range `from..to` holds no node (`to` does not depend on `from`).
    EmptyRange { from: String, to: String },
    /// The selection is empty or provides no output.
    NoOutputs,
    /// A replacement does not fit (arity or shapes of inputs/outputs); the message says what.
    Mismatch(String),
}

impl fmt::Display for SubgraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubgraphError::UnknownPath(p) => {
                write!(f, "no node has the path `{p}` (nor a path under it)")
            }
            SubgraphError::EmptyRange { from, to } => {
                write!(
                    f,
                    "the range `{from}..{to}` is empty: `{to}` does not depend on `{from}`"
                )
            }
            SubgraphError::NoOutputs => f.write_str("the subgraph has no outputs (it is empty)"),
            SubgraphError::Mismatch(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SubgraphError {}

impl Subgraph {
    /// The subgraph made of `nodes` (any order, duplicates ignored), with its inputs and outputs.
    pub fn from_nodes(
        g: &Graph,
        nodes: impl IntoIterator<Item = NodeId>,
    ) -> Result<Self, SubgraphError> {
        let set: BTreeSet<NodeId> = nodes.into_iter().filter(|&n| n < g.nodes.len()).collect();
        let mut inputs = BTreeSet::new();
        for &n in &set {
            for &i in &g.nodes[n].inputs {
                if !set.contains(&i) {
                    inputs.insert(i);
                }
            }
        }
        let users = g.users();
        let outputs: Vec<NodeId> = set
            .iter()
            .copied()
            .filter(|&n| g.outputs.contains(&n) || users[n].iter().any(|u| !set.contains(u)))
            .collect();
        if outputs.is_empty() {
            return Err(SubgraphError::NoOutputs);
        }
        Ok(Subgraph {
            nodes: set.into_iter().collect(),
            inputs: inputs.into_iter().collect(),
            outputs,
        })
    }

    /// The whole graph: every node but the graph inputs, which become the subgraph's inputs.
    pub fn whole(g: &Graph) -> Result<Self, SubgraphError> {
        Self::from_nodes(
            g,
            (0..g.nodes.len()).filter(|&n| !matches!(g.nodes[n].op, Op::Input { .. })),
        )
    }

    /// The nodes of a block instance: path `p` or any path under `p.`.
    pub fn by_path(g: &Graph, p: &str) -> Result<Self, SubgraphError> {
        let prefix = format!("{p}.");
        let nodes: Vec<NodeId> = (0..g.nodes.len())
            .filter(|&n| {
                let q = &g.nodes[n].path;
                (q == p || q.starts_with(&prefix)) && !matches!(g.nodes[n].op, Op::Input { .. })
            })
            .collect();
        if nodes.is_empty() {
            return Err(SubgraphError::UnknownPath(p.to_string()));
        }
        Self::from_nodes(g, nodes)
    }

    /// The nodes between two nodes named by path: those that depend on `from` (or are it) and that `to`
    /// depends on (or is it).
    pub fn by_range(g: &Graph, from: &str, to: &str) -> Result<Self, SubgraphError> {
        let a = g
            .find(from)
            .ok_or_else(|| SubgraphError::UnknownPath(from.to_string()))?;
        let b = g
            .find(to)
            .ok_or_else(|| SubgraphError::UnknownPath(to.to_string()))?;
        let mut below = vec![false; g.nodes.len()];
        below[a] = true;
        for (i, n) in g.nodes.iter().enumerate().skip(a + 1) {
            below[i] = n.inputs.iter().any(|&j| below[j]);
        }
        let mut above = vec![false; g.nodes.len()];
        above[b] = true;
        for (i, n) in g.nodes.iter().enumerate().take(b + 1).rev() {
            if above[i] {
                for &j in &n.inputs {
                    above[j] = true;
                }
            }
        }
        let nodes: Vec<NodeId> = (0..g.nodes.len())
            .filter(|&i| below[i] && above[i] && !matches!(g.nodes[i].op, Op::Input { .. }))
            .collect();
        if nodes.is_empty() {
            return Err(SubgraphError::EmptyRange {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        Self::from_nodes(g, nodes)
    }

    /// Parses `PATH..PATH` (a range) or `PATH` (a block instance) and selects.
    pub fn select(g: &Graph, spec: &str) -> Result<Self, SubgraphError> {
        match spec.split_once("..") {
            Some((a, b)) => Self::by_range(g, a.trim(), b.trim()),
            None => Self::by_path(g, spec.trim()),
        }
    }

    /// The alpha-NAS growth rule: start at a random node of `scope` (default: every op node), then, with
    /// probability `p`, add a random neighbour (producer or consumer inside the scope) and repeat, until the
    /// subgraph holds `max_fraction` of the scope or the coin says stop. Inputs and params are never taken.
    pub fn grow(
        g: &Graph,
        rng: &mut impl Rng,
        p: f64,
        max_fraction: f64,
        scope: Option<&[NodeId]>,
    ) -> Result<Self, SubgraphError> {
        let eligible = |n: NodeId| !matches!(g.nodes[n].op, Op::Input { .. } | Op::Param { .. });
        let scope: Vec<NodeId> = match scope {
            Some(s) => s
                .iter()
                .copied()
                .filter(|&n| n < g.nodes.len() && eligible(n))
                .collect(),
            None => (0..g.nodes.len()).filter(|&n| eligible(n)).collect(),
        };
        if scope.is_empty() {
            return Err(SubgraphError::NoOutputs);
        }
        let in_scope: HashSet<NodeId> = scope.iter().copied().collect();
        let limit = ((scope.len() as f64 * max_fraction).floor() as usize).max(1);
        let users = g.users();
        let mut set = BTreeSet::new();
        set.insert(scope[rng.gen_range(0..scope.len())]);
        while set.len() < limit && rng.gen_bool(p.clamp(0.0, 1.0)) {
            let mut frontier: Vec<NodeId> = set
                .iter()
                .flat_map(|&n| g.nodes[n].inputs.iter().chain(users[n].iter()).copied())
                .filter(|m| in_scope.contains(m) && !set.contains(m))
                .collect();
            frontier.sort_unstable();
            frontier.dedup();
            if frontier.is_empty() {
                break;
            }
            set.insert(frontier[rng.gen_range(0..frontier.len())]);
        }
        Self::from_nodes(g, set)
    }
}

/// Replaces `sub` in `g` by `replacement`: the replacement's inputs (in order) are bound to `sub.inputs`
/// (in order) and its outputs to `sub.outputs`; shapes must agree. Consumers of the old outputs use the new
/// ones, nodes that no longer reach an output are removed, and the result is re-sorted topologically.
/// Replacement paths that clash with kept paths get a `'` suffix.
pub fn splice(g: &Graph, sub: &Subgraph, replacement: &Graph) -> Result<Graph, SubgraphError> {
    if replacement.inputs.len() != sub.inputs.len()
        || replacement.outputs.len() != sub.outputs.len()
    {
        return Err(SubgraphError::Mismatch(format!(
            "the replacement has {} input(s) and {} output(s); the subgraph has {} and {}",
            replacement.inputs.len(),
            replacement.outputs.len(),
            sub.inputs.len(),
            sub.outputs.len()
        )));
    }
    for (k, (&ri, &si)) in replacement.inputs.iter().zip(&sub.inputs).enumerate() {
        if replacement.nodes[ri].shape != g.nodes[si].shape {
            return Err(SubgraphError::Mismatch(format!(
                "input {k} of the replacement has shape {:?}; the subgraph's is {:?}",
                replacement.nodes[ri].shape, g.nodes[si].shape
            )));
        }
    }
    for (k, (&ro, &so)) in replacement.outputs.iter().zip(&sub.outputs).enumerate() {
        if replacement.nodes[ro].shape != g.nodes[so].shape {
            return Err(SubgraphError::Mismatch(format!(
                "output {k} of the replacement has shape {:?}; the subgraph's is {:?}",
                replacement.nodes[ro].shape, g.nodes[so].shape
            )));
        }
    }
    // Combined node list: old nodes keep ids 0..n, replacement op nodes follow. `alias` redirects a
    // removed output to its replacement and a replacement input to the outer tensor.
    let n = g.nodes.len();
    let inside: HashSet<NodeId> = sub.nodes.iter().copied().collect();
    let mut alias: Vec<usize> = (0..n).collect();
    let mut nodes: Vec<Option<Node>> = g.nodes.iter().cloned().map(Some).collect();
    let mut rmap = vec![usize::MAX; replacement.nodes.len()];
    for (&ri, &si) in replacement.inputs.iter().zip(&sub.inputs) {
        rmap[ri] = si;
    }
    let used: HashSet<&str> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !inside.contains(i))
        .map(|(_, x)| x.path.as_str())
        .collect();
    let mut new_paths: HashSet<String> = HashSet::new();
    for (ri, rn) in replacement.nodes.iter().enumerate() {
        if rmap[ri] != usize::MAX {
            continue;
        }
        if matches!(rn.op, Op::Input { .. }) {
            return Err(SubgraphError::Mismatch(format!(
                "replacement node `{}` is an input that is not bound",
                rn.path
            )));
        }
        let mut path = rn.path.clone();
        while used.contains(path.as_str()) || new_paths.contains(&path) {
            path.push('\'');
        }
        new_paths.insert(path.clone());
        let id = nodes.len();
        rmap[ri] = id;
        alias.push(id);
        nodes.push(Some(Node {
            op: rn.op.clone(),
            inputs: rn.inputs.iter().map(|&j| rmap[j]).collect(),
            shape: rn.shape.clone(),
            path,
            span: rn.span,
        }));
    }
    for (&ro, &so) in replacement.outputs.iter().zip(&sub.outputs) {
        alias[so] = rmap[ro];
    }
    for &s in &sub.nodes {
        nodes[s] = None;
    }
    let resolve = |mut i: usize| {
        // An output may be aliased to a replacement input that is itself a (kept) outer node.
        for _ in 0..4 {
            if alias[i] == i {
                break;
            }
            i = alias[i];
        }
        i
    };
    for x in nodes.iter_mut().flatten() {
        for j in x.inputs.iter_mut() {
            *j = resolve(*j);
        }
    }
    let outputs: Vec<usize> = g.outputs.iter().map(|&o| resolve(o)).collect();
    if outputs.iter().any(|&o| nodes[o].is_none()) {
        return Err(SubgraphError::Mismatch("a graph output was removed".into()));
    }
    // Liveness from the outputs (inputs always kept), then a stable topological order.
    let total = nodes.len();
    let mut live = vec![false; total];
    let mut stack: Vec<usize> = outputs.clone();
    for (i, x) in nodes.iter().enumerate() {
        if matches!(
            x,
            Some(Node {
                op: Op::Input { .. },
                ..
            })
        ) {
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        if live[i] {
            continue;
        }
        live[i] = true;
        if let Some(x) = &nodes[i] {
            stack.extend(x.inputs.iter().copied());
        }
    }
    let mut order = Vec::new();
    let mut placed = vec![false; total];
    let mut visiting = vec![false; total];
    fn visit(
        i: usize,
        nodes: &[Option<Node>],
        placed: &mut [bool],
        visiting: &mut [bool],
        order: &mut Vec<usize>,
    ) -> Result<(), SubgraphError> {
        if placed[i] {
            return Ok(());
        }
        if visiting[i] {
            return Err(SubgraphError::Mismatch(
                "the splice would create a cycle".into(),
            ));
        }
        visiting[i] = true;
        let x = nodes[i]
            .as_ref()
            .ok_or_else(|| SubgraphError::Mismatch("a removed node is still used".into()))?;
        for &j in &x.inputs {
            visit(j, nodes, placed, visiting, order)?;
        }
        placed[i] = true;
        order.push(i);
        Ok(())
    }
    for (i, &l) in live.iter().enumerate() {
        if l {
            visit(i, &nodes, &mut placed, &mut visiting, &mut order)?;
        }
    }
    let mut new_id = vec![usize::MAX; total];
    for (k, &i) in order.iter().enumerate() {
        new_id[i] = k;
    }
    let mut out_nodes = Vec::with_capacity(order.len());
    let mut inputs = Vec::new();
    for &i in &order {
        let mut x = nodes[i].clone().expect("placed nodes exist");
        x.inputs = x.inputs.iter().map(|&j| new_id[j]).collect();
        if matches!(x.op, Op::Input { .. }) {
            inputs.push(out_nodes.len());
        }
        out_nodes.push(x);
    }
    let out = Graph {
        name: g.name.clone(),
        nodes: out_nodes,
        inputs,
        outputs: outputs.iter().map(|&o| new_id[o]).collect(),
        choices: g.choices.clone(),
    };
    out.verify().map_err(SubgraphError::Mismatch)?;
    Ok(out)
}

/// The subgraph as a graph of its own: one `input` node per subgraph input (named by the outer path,
/// keeping the outer shape), then the subgraph's nodes in order; outputs as in `sub.outputs`.
pub fn extract(g: &Graph, sub: &Subgraph) -> Graph {
    let mut map = vec![usize::MAX; g.nodes.len()];
    let mut nodes = Vec::new();
    let mut inputs = Vec::new();
    for &i in &sub.inputs {
        map[i] = nodes.len();
        inputs.push(nodes.len());
        nodes.push(Node {
            op: Op::Input {
                name: g.nodes[i].path.clone(),
            },
            inputs: vec![],
            shape: g.nodes[i].shape.clone(),
            path: format!("inputs.{}", g.nodes[i].path),
            span: g.nodes[i].span,
        });
    }
    for &i in &sub.nodes {
        map[i] = nodes.len();
        let mut x = g.nodes[i].clone();
        x.inputs = x.inputs.iter().map(|&j| map[j]).collect();
        nodes.push(x);
    }
    Graph {
        name: g.name.clone(),
        nodes,
        inputs,
        outputs: sub.outputs.iter().map(|&o| map[o]).collect(),
        choices: g.choices.clone(),
    }
}
