//! The live part of a network: which nodes can carry signal from the input to the output. A node is
//! *identically zero* when it is a `zero` op or an op that maps zeros to zeros whose inputs are all zero
//! (a sum of zeros, a product with a zero, a ReLU, a pool, a reshape, a conv or linear without bias, …).
//! Batch norm is not assumed to keep zeros (its bias is a parameter). [`live_graph`] drops the zero inputs of
//! sums (a NAS-Bench-201 `none` edge), then every node that no longer reaches the output, so the forward
//! and backward passes do only the work that can change the logits: the logits, and so the input Jacobian,
//! are bit-for-bit those of the full graph. A network whose output is identically zero or does not depend
//! on its input has no live path: every score is "no signal". Plain graph code, no tch.

use crate::ir::{Activation, Graph, Node, Op};
use std::collections::HashMap;

/// Which nodes are identically zero.
pub fn zero_nodes(g: &Graph) -> Vec<bool> {
    let mut z = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        let all = !n.inputs.is_empty() && n.inputs.iter().all(|&j| z[j]);
        let any = n.inputs.iter().any(|&j| z[j]);
        z[i] = match &n.op {
            Op::Zero => true,
            Op::Mul | Op::Matmul => any,
            Op::Conv { bias, .. } | Op::Linear { bias, .. } => all && !bias,
            Op::Act { f } => all && !matches!(f, Activation::Sigmoid | Activation::Hardsigmoid),
            Op::Add
            | Op::Concat { .. }
            | Op::Identity
            | Op::Dropout { .. }
            | Op::Pool { .. }
            | Op::GlobalPool { .. }
            | Op::Mean { .. }
            | Op::Flatten { .. }
            | Op::Reshape { .. }
            | Op::Transpose { .. }
            | Op::Permute { .. }
            | Op::Scale { .. }
            | Op::Expand { .. }
            | Op::Select { .. }
            | Op::Slice { .. } => all,
            _ => false,
        };
    }
    z
}

/// Whether each node depends on a graph input through nodes that are not identically zero.
fn input_dependent(g: &Graph, zero: &[bool]) -> Vec<bool> {
    let mut d = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        d[i] = !zero[i]
            && (matches!(n.op, Op::Input { .. }) || n.inputs.iter().any(|&j| d[j] && !zero[j]));
    }
    d
}

/// The live graph (zero summands dropped, dead nodes pruned), or `None` when no output depends on the
/// input. The result keeps node paths (so weights shared by path are the full graph's), order and choices.
pub fn live_graph(g: &Graph) -> Option<Graph> {
    let zero = zero_nodes(g);
    let dep = input_dependent(g, &zero);
    if g.outputs.is_empty() || g.outputs.iter().any(|&o| !dep[o]) {
        return None;
    }
    // rewrite sums: drop zero inputs; a sum left with one input of the same shape becomes that input
    let mut alias: Vec<usize> = (0..g.nodes.len()).collect();
    let mut inputs: Vec<Vec<usize>> = Vec::with_capacity(g.nodes.len());
    for (i, n) in g.nodes.iter().enumerate() {
        let mut ins: Vec<usize> = n.inputs.iter().map(|&j| alias[j]).collect();
        if matches!(n.op, Op::Add) && !zero[i] {
            let kept: Vec<usize> = ins.iter().copied().filter(|&j| !zero[j]).collect();
            if kept.len() == 1 && g.nodes[kept[0]].shape == n.shape {
                alias[i] = kept[0];
            } else if kept.len() >= 2 && kept.iter().all(|&j| g.nodes[j].shape == n.shape) {
                ins = kept;
            }
        }
        inputs.push(ins);
    }
    // keep what the outputs reach (the graph inputs are always kept: the network takes them)
    let mut keep = vec![false; g.nodes.len()];
    for &o in &g.outputs {
        keep[alias[o]] = true;
    }
    for &i in &g.inputs {
        keep[i] = true;
    }
    for i in (0..g.nodes.len()).rev() {
        if keep[i] && alias[i] == i {
            for &j in &inputs[i] {
                keep[j] = true;
            }
        }
    }
    let mut new_id = vec![usize::MAX; g.nodes.len()];
    let mut nodes: Vec<Node> = Vec::new();
    // common subexpressions: a parameter-free op applied twice to the same inputs is computed once
    // (a NAS-Bench-201 cell applies ReLU to one node for each conv edge leaving it)
    let mut seen: HashMap<(String, Vec<usize>), usize> = HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        if !keep[i] || alias[i] != i {
            continue;
        }
        let ins: Vec<usize> = inputs[i].iter().map(|&j| new_id[j]).collect();
        let pure = matches!(
            n.op,
            Op::Act { .. }
                | Op::Pool { .. }
                | Op::GlobalPool { .. }
                | Op::Identity
                | Op::Flatten { .. }
                | Op::Mean { .. }
        );
        if pure {
            let key = (format!("{:?}", n.op), ins.clone());
            if let Some(&k) = seen.get(&key) {
                new_id[i] = k;
                continue;
            }
            seen.insert(key, nodes.len());
        }
        new_id[i] = nodes.len();
        nodes.push(Node {
            op: n.op.clone(),
            inputs: ins,
            shape: n.shape.clone(),
            path: n.path.clone(),
            span: n.span,
        });
    }
    Some(Graph {
        name: g.name.clone(),
        nodes,
        inputs: g.inputs.iter().map(|&i| new_id[i]).collect(),
        outputs: g.outputs.iter().map(|&o| new_id[alias[o]]).collect(),
        choices: g.choices.clone(),
    })
}
