//! Cost of an architecture, counted on the IR alone (no libtorch): learned parameters, multiply–accumulates
//! and activation memory, per block and in total.
//!
//! **The convention** (docs/cost.md): MACs are those of `conv` and `linear` only, for one sample — a conv
//! costs `out_elements × (C_in / groups) × k²`, a linear `out_elements × in_features` (biases, norms,
//! activations, pools, adds, `matmul` and `einsum` are not counted), as the AttentiveNAS / Once-for-All
//! counters do; "FLOPs" in those papers means these MACs. Parameters are the elements of conv and linear
//! weights and biases, norm affine weights (γ, β) and `param` tensors; batch-norm running statistics are
//! buffers, not parameters (as in `sum(p.numel() for p in model.parameters())`).
//! Activation memory assumes float32: `peak` is the largest total of live tensors when running forward
//! with each tensor freed after its last use (inference); `saved` is the sum of all node outputs, an
//! upper bound of what training keeps for the backward pass.

pub use crate::ir::count::{batch_of, node_macs, node_params};
use crate::ir::{Graph, Op};
use serde::Serialize;
use std::fmt;

/// The cost of one group of nodes (a top-level block instance) or of the whole network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlockCost {
    /// The group's path prefix (`h_1`, `head`); `total` for the sum.
    pub name: String,
    pub nodes: usize,
    pub params: i64,
    pub macs: i64,
}

/// The cost report of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cost {
    pub network: String,
    /// Per top-level block, in order of first appearance.
    pub blocks: Vec<BlockCost>,
    pub total: BlockCost,
    /// The batch size the memory figures are for.
    pub batch: i64,
    /// Peak live activation bytes in a forward pass that frees each tensor after its last use.
    pub peak_activation_bytes: i64,
    /// Sum of the bytes of every node output (what a training step may keep for backward).
    pub saved_activation_bytes: i64,
}

/// The group a node's path belongs to: its first `depth` components.
fn group_of(path: &str, depth: usize) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.first() == Some(&"inputs") {
        return "inputs".into();
    }
    parts[..depth.min(parts.len()).max(1)].join(".")
}

/// Counts a graph. `depth` is how many path components name a block (1: top-level `let`s). Memory is
/// reported for the batch size the graph was built with.
pub fn cost(g: &Graph, depth: usize) -> Cost {
    let mut blocks: Vec<BlockCost> = Vec::new();
    let mut total = BlockCost {
        name: "total".into(),
        ..Default::default()
    };
    for (i, n) in g.nodes.iter().enumerate() {
        let p = node_params(g, i);
        let m = node_macs(g, i);
        let name = group_of(&n.path, depth);
        let b = match blocks.iter_mut().position(|b| b.name == name) {
            Some(k) => &mut blocks[k],
            None => {
                blocks.push(BlockCost {
                    name,
                    ..Default::default()
                });
                blocks.last_mut().expect("just pushed")
            }
        };
        b.nodes += 1;
        b.params = b.params.saturating_add(p);
        b.macs = b.macs.saturating_add(m);
        total.nodes += 1;
        total.params = total.params.saturating_add(p);
        total.macs = total.macs.saturating_add(m);
    }
    let bytes = |i: usize| -> i64 {
        super::count::prod(g.nodes[i].shape.iter().copied()).saturating_mul(4)
    };
    // liveness: a value is live from its node until its last user
    let mut last = (0..g.nodes.len()).collect::<Vec<_>>();
    for (i, n) in g.nodes.iter().enumerate() {
        for &j in &n.inputs {
            last[j] = last[j].max(i);
        }
    }
    for &o in &g.outputs {
        last[o] = g.nodes.len();
    }
    let mut frees: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for (j, &l) in last.iter().enumerate() {
        if l < g.nodes.len() {
            frees[l].push(j);
        }
    }
    let (mut live, mut peak, mut saved) = (0i64, 0i64, 0i64);
    for (i, freed) in frees.iter().enumerate() {
        let is_param = matches!(g.nodes[i].op, Op::Param { .. });
        if !is_param {
            live = live.saturating_add(bytes(i));
            saved = saved.saturating_add(bytes(i));
        }
        peak = peak.max(live);
        for &j in freed {
            if !matches!(g.nodes[j].op, Op::Param { .. }) {
                live = live.saturating_sub(bytes(j));
            }
        }
    }
    Cost {
        network: g.name.clone(),
        blocks,
        total,
        batch: batch_of(g),
        peak_activation_bytes: peak,
        saved_activation_bytes: saved,
    }
}

/// `12,345,678`.
pub fn thousands(v: i64) -> String {
    let s = v.abs().to_string();
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn human(v: i64, unit: &str) -> String {
    let x = v as f64;
    if x >= 1e9 {
        format!("{:.2} G{unit}", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2} M{unit}", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.2} K{unit}", x / 1e3)
    } else {
        format!("{v} {unit}")
    }
}

fn mib(b: i64) -> String {
    format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
}

impl fmt::Display for Cost {
    /// A table: one row per block, then the total and the memory figures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .blocks
            .iter()
            .map(|b| b.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<w$}  {:>6}  {:>14}  {:>18}",
            "block", "ops", "params", "MACs (1 sample)"
        )?;
        for b in self.blocks.iter().chain(std::iter::once(&self.total)) {
            if b.name == "total" {
                writeln!(f, "{}", "-".repeat(w + 44))?;
            }
            writeln!(
                f,
                "{:<w$}  {:>6}  {:>14}  {:>18}",
                b.name,
                b.nodes,
                thousands(b.params),
                thousands(b.macs)
            )?;
        }
        writeln!(
            f,
            "\n{}: {} parameters ({}), {} MACs ({}) per sample — MACs of conv and linear only, see docs/cost.md",
            self.network,
            thousands(self.total.params),
            human(self.total.params, ""),
            thousands(self.total.macs),
            human(self.total.macs, "MACs"),
        )?;
        writeln!(
            f,
            "activation memory at batch {} (float32): peak {} in inference, {} kept for training",
            self.batch,
            mib(self.peak_activation_bytes),
            mib(self.saved_activation_bytes)
        )
    }
}
