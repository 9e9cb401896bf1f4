//! The three properties of a subgraph — shape, depth, mixing — and their triple, each with `satisfies`,
//! `distance` and `mutate` exactly as docs/properties.md defines them. Pairs are keyed by (output, input)
//! names; compare props of different programs after [`Props::renamed_like`] (matching by position).
//! Serialised as the JSON documented in docs/properties.md (the input of `nasc synth --props`).

use super::mixing::{dim_names, Matrix, Mix};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A named tensor of a subgraph's boundary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<i64>,
    /// Names of the dims (`N C H W`, `N F`, `N T D`, …), for people; ignored by comparisons.
    #[serde(default)]
    pub dims: Vec<String>,
    /// For an input: the depth kind of the op that produces it outside the subgraph (a graph input counts
    /// as nonlinear, the default, which is not written). Depth counts a switch on the first inner op
    /// whose kind differs, so synthesis needs it to reproduce depths.
    #[serde(default, skip_serializing_if = "Producer::is_nonlinear")]
    pub producer: Producer,
}

/// The depth kind of the op producing a subgraph input (docs/properties.md, "Depth").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Producer {
    #[default]
    Nonlinear,
    Linear,
}

impl Producer {
    pub fn is_nonlinear(&self) -> bool {
        *self == Producer::Nonlinear
    }
}

impl Tensor {
    pub fn new(name: impl Into<String>, shape: Vec<i64>) -> Self {
        let dims = dim_names(shape.len());
        Tensor {
            name: name.into(),
            shape,
            dims,
            producer: Producer::Nonlinear,
        }
    }
}

/// The shape property: exact input and output shapes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Shape {
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
}

impl PartialEq for Shape {
    fn eq(&self, o: &Self) -> bool {
        let key = |v: &[Tensor]| {
            v.iter()
                .map(|t| (t.name.clone(), t.shape.clone()))
                .collect::<Vec<_>>()
        };
        key(&self.inputs) == key(&o.inputs) && key(&self.outputs) == key(&o.outputs)
    }
}

impl Shape {
    /// Defined unless inputs differ, or some target output exists in `actual` with another rank or
    /// batch dim, or with spatial dims that are not the target's times one common integer factor (the
    /// candidate could not be fixed by pooling). `None` = undefined (discard the candidate).
    pub fn distance(target: &Shape, actual: &Shape) -> Option<f64> {
        let shapes = |v: &[Tensor]| v.iter().map(|t| t.shape.clone()).collect::<Vec<_>>();
        if shapes(&target.inputs) != shapes(&actual.inputs) {
            return None;
        }
        if target.outputs.is_empty() {
            return Some(0.0);
        }
        let mut sum = 0.0;
        for t in &target.outputs {
            let Some(a) = actual.outputs.iter().find(|a| a.name == t.name) else {
                sum += 1.0;
                continue;
            };
            let (ts, as_) = (&t.shape, &a.shape);
            if ts.len() != as_.len() || ts.first() != as_.first() {
                return None;
            }
            if ts.len() >= 3 {
                let mut factor: Option<i64> = None;
                for (&t, &a) in ts.iter().zip(as_.iter()).skip(2) {
                    if t <= 0 || a % t != 0 {
                        return None;
                    }
                    let f = a / t;
                    if *factor.get_or_insert(f) != f {
                        return None;
                    }
                }
            }
            let differing = ts.iter().zip(as_).filter(|(x, y)| x != y).count();
            sum += differing as f64 / ts.len().max(1) as f64;
        }
        Some(sum / target.outputs.len() as f64)
    }

    pub fn satisfies(actual: &Shape, target: &Shape) -> bool {
        Self::distance(target, actual) == Some(0.0)
    }

    /// Drops each output's shape (the output stops being a target) with probability `p` (default 0).
    pub fn mutate(&self, rng: &mut impl Rng, p: f64) -> Shape {
        let mut s = self.clone();
        s.outputs.retain(|_| !rng.gen_bool(p.clamp(0.0, 1.0)));
        s
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[Tensor]| {
            v.iter()
                .map(|t| format!("{}{:?}", t.name, t.shape))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "({}) -> ({})", list(&self.inputs), list(&self.outputs))
    }
}

/// One (output, input) depth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthPair {
    pub output: String,
    pub input: String,
    pub depth: u32,
}

/// The depth property: for every (output, input) pair with a dependence, the maximum number of
/// linear↔nonlinear switches over paths. A target is a lower bound.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Depth {
    pub pairs: Vec<DepthPair>,
}

/// Mutation defaults of properties.md: success probability and cap of the depth change.
pub const DEPTH_DELTA_MAX: u32 = 2;

impl Depth {
    pub fn get(&self, output: &str, input: &str) -> Option<u32> {
        self.pairs
            .iter()
            .find(|p| p.output == output && p.input == input)
            .map(|p| p.depth)
    }

    /// Mean over target pairs of `max(0, target − actual) / max(target, 1)`; a missing pair counts 1.
    pub fn distance(target: &Depth, actual: &Depth) -> f64 {
        if target.pairs.is_empty() {
            return 0.0;
        }
        let sum: f64 = target
            .pairs
            .iter()
            .map(|t| match actual.get(&t.output, &t.input) {
                Some(a) => t.depth.saturating_sub(a) as f64 / t.depth.max(1) as f64,
                None => 1.0,
            })
            .sum();
        sum / target.pairs.len() as f64
    }

    /// Actual ≥ target for every target pair.
    pub fn satisfies(actual: &Depth, target: &Depth) -> bool {
        Self::distance(target, actual) == 0.0
    }

    /// Per pair: Δ = consecutive Bernoulli(`p`) successes capped at [`DEPTH_DELTA_MAX`], sign ±1 with
    /// probability ½, new depth `max(0, depth ± Δ)`. Defaults: p = 0.5 (small images) / 0.8 (ImageNet).
    pub fn mutate(&self, rng: &mut impl Rng, p: f64) -> Depth {
        let mut d = self.clone();
        for pair in &mut d.pairs {
            let mut delta = 0;
            while delta < DEPTH_DELTA_MAX && rng.gen_bool(p.clamp(0.0, 1.0)) {
                delta += 1;
            }
            pair.depth = if rng.gen_bool(0.5) {
                pair.depth + delta
            } else {
                pair.depth.saturating_sub(delta)
            };
        }
        d
    }
}

impl fmt::Display for Depth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<String> = self
            .pairs
            .iter()
            .map(|p| format!("{} → {}: {}", p.input, p.output, p.depth))
            .collect();
        f.write_str(&v.join(", "))
    }
}

/// One (output, input) mixing matrix, rows = the input's dims, columns = the output's dims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixingPair {
    pub output: String,
    pub input: String,
    pub matrix: Matrix,
}

/// The mixing property. A target is a lower bound element-wise; extra pairs are free.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mixing {
    pub pairs: Vec<MixingPair>,
}

impl Mixing {
    pub fn get(&self, output: &str, input: &str) -> Option<&Matrix> {
        self.pairs
            .iter()
            .find(|p| p.output == output && p.input == input)
            .map(|p| &p.matrix)
    }

    /// Mean over target pairs of `#{target > actual} / max(1, #{target > .})`; a missing pair (or one of
    /// another size) counts as all-`.`.
    pub fn distance(target: &Mixing, actual: &Mixing) -> f64 {
        if target.pairs.is_empty() {
            return 0.0;
        }
        let sum: f64 = target
            .pairs
            .iter()
            .map(|t| {
                let cells = t.matrix.cells();
                let nonzero = cells.iter().filter(|m| **m > Mix::None).count();
                let missing = match actual.get(&t.output, &t.input) {
                    Some(a) if a.rows == t.matrix.rows && a.cols == t.matrix.cols => {
                        cells.iter().zip(a.cells()).filter(|(x, y)| x > y).count()
                    }
                    _ => nonzero,
                };
                missing as f64 / nonzero.max(1) as f64
            })
            .sum();
        sum / target.pairs.len() as f64
    }

    pub fn satisfies(actual: &Mixing, target: &Mixing) -> bool {
        Self::distance(target, actual) == 0.0
    }

    /// Drops each pair with probability `p` (defaults 0.5 / 0.8): mixing targets only relax.
    pub fn mutate(&self, rng: &mut impl Rng, p: f64) -> Mixing {
        let mut m = self.clone();
        m.pairs.retain(|_| !rng.gen_bool(p.clamp(0.0, 1.0)));
        m
    }
}

/// Where a property triple was computed (informative; ignored by comparisons).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub graph: String,
    /// The selection (`h_1`, `a..b`, or empty for the whole graph).
    #[serde(default)]
    pub subgraph: String,
    /// Paths of the subgraph's nodes.
    #[serde(default)]
    pub nodes: Vec<String>,
}

/// The triple.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Props {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(flatten)]
    pub shape: Shape,
    #[serde(default)]
    pub depth: Depth,
    #[serde(default)]
    pub mixing: Mixing,
}

impl PartialEq for Props {
    fn eq(&self, o: &Self) -> bool {
        self.shape == o.shape && self.depth == o.depth && self.mixing == o.mixing
    }
}

/// Mutation probabilities for the triple.
#[derive(Clone, Copy, Debug)]
pub struct MutationRates {
    pub shape: f64,
    pub depth: f64,
    pub mixing: f64,
}

impl MutationRates {
    /// Small images (CIFAR): shape kept, depth and mixing 0.5.
    pub const SMALL: MutationRates = MutationRates {
        shape: 0.0,
        depth: 0.5,
        mixing: 0.5,
    };
    /// ImageNet scale: 0.8.
    pub const LARGE: MutationRates = MutationRates {
        shape: 0.0,
        depth: 0.8,
        mixing: 0.8,
    };
}

impl Props {
    /// The sum of the three distances (the reference's objective); `None` when the shape distance is
    /// undefined.
    pub fn distance(target: &Props, actual: &Props) -> Option<f64> {
        let s = Shape::distance(&target.shape, &actual.shape)?;
        Some(
            s + Depth::distance(&target.depth, &actual.depth)
                + Mixing::distance(&target.mixing, &actual.mixing),
        )
    }

    pub fn satisfies(actual: &Props, target: &Props) -> bool {
        Self::distance(target, actual) == Some(0.0)
    }

    pub fn mutate(&self, rng: &mut impl Rng, rates: MutationRates) -> Props {
        Props {
            source: self.source.clone(),
            shape: self.shape.mutate(rng, rates.shape),
            depth: self.depth.mutate(rng, rates.depth),
            mixing: self.mixing.mutate(rng, rates.mixing),
        }
    }

    /// The same props with inputs and outputs renamed to `like`'s names, by position (to compare the
    /// props of a replacement with those of the subgraph it replaces).
    pub fn renamed_like(&self, like: &Props) -> Props {
        let rename = |name: &str, mine: &[Tensor], theirs: &[Tensor]| -> String {
            mine.iter()
                .position(|t| t.name == name)
                .and_then(|k| theirs.get(k))
                .map(|t| t.name.clone())
                .unwrap_or_else(|| name.to_string())
        };
        let (ins, outs) = (&self.shape.inputs, &self.shape.outputs);
        let (lins, louts) = (&like.shape.inputs, &like.shape.outputs);
        let mut p = self.clone();
        for (k, t) in p.shape.inputs.iter_mut().enumerate() {
            if let Some(l) = lins.get(k) {
                t.name = l.name.clone();
            }
        }
        for (k, t) in p.shape.outputs.iter_mut().enumerate() {
            if let Some(l) = louts.get(k) {
                t.name = l.name.clone();
            }
        }
        for d in &mut p.depth.pairs {
            d.output = rename(&d.output, outs, louts);
            d.input = rename(&d.input, ins, lins);
        }
        for m in &mut p.mixing.pairs {
            m.output = rename(&m.output, outs, louts);
            m.input = rename(&m.input, ins, lins);
        }
        p
    }

    fn tensor<'a>(v: &'a [Tensor], name: &str) -> Option<&'a Tensor> {
        v.iter().find(|t| t.name == name)
    }
}

impl fmt::Display for Props {
    /// Shapes, depths and one `. o m a` grid per (output, input) pair, labelled with dim names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            let what = if s.subgraph.is_empty() {
                "whole graph".to_string()
            } else {
                format!("subgraph {}", s.subgraph)
            };
            writeln!(
                f,
                "props of {} ({what}, {} node(s))",
                s.graph,
                s.nodes.len()
            )?;
        }
        let w = self
            .shape
            .inputs
            .iter()
            .chain(&self.shape.outputs)
            .map(|t| t.name.len())
            .max()
            .unwrap_or(0);
        for (title, v) in [
            ("inputs", &self.shape.inputs),
            ("outputs", &self.shape.outputs),
        ] {
            writeln!(f, "{title}:")?;
            for t in v {
                let shape = t
                    .shape
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                writeln!(f, "  {:<w$}  [{shape}]  ({})", t.name, t.dims.join(" "))?;
            }
        }
        writeln!(f, "depth:")?;
        for p in &self.depth.pairs {
            writeln!(f, "  {} → {}: {}", p.input, p.output, p.depth)?;
        }
        for p in &self.mixing.pairs {
            writeln!(f, "mixing {} → {}:", p.input, p.output)?;
            let names = |t: Option<&Tensor>, n: usize| match t {
                Some(t) if t.dims.len() == n => t.dims.clone(),
                _ => dim_names(n),
            };
            let rows = names(Self::tensor(&self.shape.inputs, &p.input), p.matrix.rows);
            let cols = names(Self::tensor(&self.shape.outputs, &p.output), p.matrix.cols);
            let rw = rows.iter().map(String::len).max().unwrap_or(1);
            let cw = cols.iter().map(String::len).max().unwrap_or(1);
            write!(f, "  {:rw$}", "")?;
            for c in &cols {
                write!(f, " {c:>cw$}")?;
            }
            writeln!(f)?;
            for (r, row) in rows.iter().zip(p.matrix.row_strings()) {
                write!(f, "  {r:>rw$}")?;
                for ch in row.chars() {
                    write!(f, " {ch:>cw$}")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
