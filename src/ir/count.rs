//! Parameter and MAC counts of single IR nodes: the one counting convention of `nasc cost` (docs/cost.md),
//! here so that every stage after the IR — synthesis budgets as well as lowering — counts the same way.
//! MACs are those of `conv` and `linear` only, for one sample; parameters are conv/linear weights and
//! biases, norm affine weights and `param` tensors (batch-norm running statistics are buffers).

use super::{Graph, Op};

/// A product that saturates at `i64::MAX` instead of overflowing (sizes are positive; a count of an
/// absurdly large network is huge, never a panic or a wrapped negative number).
pub fn prod(xs: impl IntoIterator<Item = i64>) -> i64 {
    xs.into_iter().fold(1i64, |a, x| a.saturating_mul(x))
}

/// Parameters of one node (given the shapes of its inputs).
pub fn node_params(g: &Graph, i: usize) -> i64 {
    let n = &g.nodes[i];
    let in_shape = |k: usize| -> &[i64] {
        n.inputs
            .get(k)
            .map(|&j| g.nodes[j].shape.as_slice())
            .unwrap_or(&[])
    };
    match &n.op {
        Op::Conv {
            out,
            kernel,
            groups,
            bias,
            ..
        } => {
            let cin = in_shape(0).get(1).copied().unwrap_or(0);
            prod([*out, cin / groups.max(&1), *kernel, *kernel]).saturating_add(if *bias {
                *out
            } else {
                0
            })
        }
        Op::Linear { out, bias } => {
            let d = in_shape(0).last().copied().unwrap_or(0);
            out.saturating_mul(d)
                .saturating_add(if *bias { *out } else { 0 })
        }
        Op::BatchNorm { .. } | Op::GroupNorm { .. } => {
            2i64.saturating_mul(in_shape(0).get(1).copied().unwrap_or(0))
        }
        Op::LayerNorm { .. } => 2i64.saturating_mul(in_shape(0).last().copied().unwrap_or(0)),
        Op::Param { shape } => prod(shape.iter().copied()),
        _ => 0,
    }
}

/// MACs of one node for one sample (the convention above). The batch is the first dimension of the
/// graph's first input.
pub fn node_macs(g: &Graph, i: usize) -> i64 {
    let n = &g.nodes[i];
    let batch = batch_of(g).max(1);
    let out: i64 = prod(n.shape.iter().copied());
    let in_shape = |k: usize| -> &[i64] {
        n.inputs
            .get(k)
            .map(|&j| g.nodes[j].shape.as_slice())
            .unwrap_or(&[])
    };
    match &n.op {
        Op::Conv { kernel, groups, .. } => {
            let cin = in_shape(0).get(1).copied().unwrap_or(0);
            prod([out / batch, cin / groups.max(&1), *kernel, *kernel])
        }
        Op::Linear { .. } => {
            let d = in_shape(0).last().copied().unwrap_or(0);
            // a linear on [B, …, D] runs once per row; rows not on the batch dim still count
            let per_sample = if in_shape(0).len() >= 2 {
                out / batch
            } else {
                out
            };
            per_sample.saturating_mul(d)
        }
        _ => 0,
    }
}

/// The batch size: the first dimension of the graph's first input.
pub fn batch_of(g: &Graph) -> i64 {
    g.inputs
        .first()
        .and_then(|&i| g.nodes[i].shape.first().copied())
        .unwrap_or(1)
}
