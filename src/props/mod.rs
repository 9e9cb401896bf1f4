//! Program properties on an e-graph: the (shape, depth, mixing) abstraction of alpha-NAS, computed by an
//! egg [`Analysis`](egg::Analysis) over a language of IR ops (`lang`), with the analytic per-op mixing
//! rules (`mixing`), property-preserving rewrites, extraction and explanations (`rewrites`), and the
//! property types with `satisfies` / `distance` / `mutate` (`property`). Semantics: docs/properties.md.
//!
//! **Invariants:** this is the only module that knows egg; it never executes a network (no tch) — the
//! concrete Jacobian definition lives in the oracle tests. Library functions return errors, never print.
//! Depends on `ir`.

pub mod lang;
pub mod mixing;
pub mod property;
pub mod rewrites;

pub use mixing::{dim_names, Matrix, Mix};
pub use property::{
    Depth, DepthPair, Mixing, MixingPair, MutationRates, Producer, Props, Shape, Source, Tensor,
};
pub use rewrites::{explain, extract, rules, Explanation};

use crate::ir::subgraph::{Subgraph, SubgraphError};
use crate::ir::Graph;
use egg::EGraph;
use std::fmt;

/// Why properties could not be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropsError {
    /// The subgraph selection failed.
    Subgraph(SubgraphError),
}

impl fmt::Display for PropsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropsError::Subgraph(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PropsError {}

impl From<SubgraphError> for PropsError {
    fn from(e: SubgraphError) -> Self {
        PropsError::Subgraph(e)
    }
}

/// Infers the properties of a subgraph: inputs named by their producers' paths, outputs by their paths,
/// one depth and one mixing matrix per (output, input) pair with a dependence.
pub fn infer(g: &Graph, sub: &Subgraph) -> Result<Props, PropsError> {
    if sub.outputs.is_empty() {
        return Err(SubgraphError::NoOutputs.into());
    }
    let mut egraph: EGraph<lang::NasLang, lang::PropsAnalysis> = EGraph::default();
    let enc = lang::encode(&mut egraph, g, sub);
    let name = |i: usize| g.nodes[i].path.clone();
    let shape = Shape {
        inputs: sub
            .inputs
            .iter()
            .map(|&i| {
                let mut t = Tensor::new(name(i), g.nodes[i].shape.clone());
                if lang::producer_kind(g, i) == lang::Kind::Linear {
                    t.producer = Producer::Linear;
                }
                t
            })
            .collect(),
        outputs: sub
            .outputs
            .iter()
            .map(|&i| Tensor::new(name(i), g.nodes[i].shape.clone()))
            .collect(),
    };
    let mut depth = Depth::default();
    let mut mixing = Mixing::default();
    for (&o, &id) in sub.outputs.iter().zip(&enc.outputs) {
        let fact = &egraph[id].data;
        for (&leaf, dep) in &fact.deps {
            let (output, input) = (name(o), name(sub.inputs[leaf]));
            depth.pairs.push(DepthPair {
                output: output.clone(),
                input: input.clone(),
                depth: dep.depth(),
            });
            mixing.pairs.push(MixingPair {
                output,
                input,
                matrix: dep.mix.clone(),
            });
        }
    }
    Ok(Props {
        source: Some(Source {
            graph: g.name.clone(),
            subgraph: String::new(),
            nodes: sub.nodes.iter().map(|&i| name(i)).collect(),
        }),
        shape,
        depth,
        mixing,
    })
}

/// Properties of the whole graph (graph inputs → graph outputs).
pub fn infer_graph(g: &Graph) -> Result<Props, PropsError> {
    infer(g, &Subgraph::whole(g)?)
}
