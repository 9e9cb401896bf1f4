//! The IR: a network as a dataflow graph of primitive ops with concrete shapes. It is built from the
//! checker's record-mode trace of an entry block, for concrete input shapes and one choice per search-space
//! decision. Every node keeps a stable instance **path** (`h_1.conv`, `stage2.block1.conv2`) and a span
//! back to the NASL source, so that a subgraph can be named, printed, and mapped to weights.
//!
//! **Invariants:** nodes are in topological order (every input id is smaller than the node's id); every
//! node reaches the output (dead code is pruned); shapes are concrete. Depends on `base`, `syntax`, `check`.

mod build;
pub mod cost;
pub mod count;
mod op;
pub mod subgraph;

pub use build::{build, BuildError, BuildOptions};
pub use op::{Activation, Op, PoolKind};

use crate::base::Span;
use serde::Serialize;
use std::fmt;

/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub shape: Vec<i64>,
    /// Stable instance path, unique in the graph.
    pub path: String,
    #[serde(skip)]
    pub span: Span,
}

/// A search-space decision and the alternative taken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    pub name: String,
    pub chosen: usize,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Graph {
    /// The entry block's name.
    pub name: String,
    pub nodes: Vec<Node>,
    pub inputs: Vec<NodeId>,
    pub outputs: Vec<NodeId>,
    pub choices: Vec<Choice>,
}

impl Graph {
    /// The nodes that consume each node.
    pub fn users(&self) -> Vec<Vec<NodeId>> {
        let mut users = vec![Vec::new(); self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for &j in &n.inputs {
                if !users[j].contains(&i) {
                    users[j].push(i);
                }
            }
        }
        users
    }

    /// Finds a node by its path.
    pub fn find(&self, path: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.path == path)
    }

    /// Checks the structural invariants; returns a description of the first violation.
    pub fn verify(&self) -> Result<(), String> {
        let mut paths = std::collections::HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some(&j) = n.inputs.iter().find(|&&j| j >= i) {
                return Err(format!(
                    "node %{i} ({}) uses %{j}, which does not come before it",
                    n.path
                ));
            }
            if n.shape.iter().any(|&d| d <= 0) {
                return Err(format!(
                    "node %{i} ({}) has a non-positive dimension: {:?}",
                    n.path, n.shape
                ));
            }
            if !paths.insert(n.path.as_str()) {
                return Err(format!("path `{}` is not unique", n.path));
            }
            let arity_ok = match &n.op {
                Op::Input { .. } | Op::Param { .. } => n.inputs.is_empty(),
                Op::Add | Op::Mul | Op::Matmul => n.inputs.len() == 2,
                Op::Concat { .. } | Op::Einsum { .. } => !n.inputs.is_empty(),
                _ => n.inputs.len() == 1,
            };
            if !arity_ok {
                return Err(format!(
                    "node %{i} ({}) has {} input(s)",
                    n.path,
                    n.inputs.len()
                ));
            }
        }
        if let Some(&o) = self.outputs.iter().find(|&&o| o >= self.nodes.len()) {
            return Err(format!("output %{o} does not exist"));
        }
        Ok(())
    }
}

fn shape_text(s: &[i64]) -> String {
    format!(
        "[{}]",
        s.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )
}

impl fmt::Display for Graph {
    /// A readable listing: one node per line, `%id = op(inputs, attrs) : shape  path`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "graph {} {{", self.name)?;
        for c in &self.choices {
            writeln!(
                f,
                "  // decision {} = {} (alternative {} of {})",
                c.name,
                c.options[c.chosen],
                c.chosen,
                c.options.len()
            )?;
        }
        let lines: Vec<(String, String, String)> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut args: Vec<String> = n.inputs.iter().map(|j| format!("%{j}")).collect();
                let attrs = n.op.attrs_text();
                if !attrs.is_empty() {
                    args.push(attrs);
                }
                (
                    format!("%{i} = {}({})", n.op.name(), args.join(", ")),
                    shape_text(&n.shape),
                    n.path.clone(),
                )
            })
            .collect();
        let w0 = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
        let w1 = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);
        for (a, b, c) in lines {
            writeln!(f, "  {a:<w0$}  : {b:<w1$}  {c}")?;
        }
        let outs: Vec<String> = self.outputs.iter().map(|o| format!("%{o}")).collect();
        writeln!(f, "  return {}", outs.join(", "))?;
        writeln!(f, "}}")
    }
}
