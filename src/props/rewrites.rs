//! Rewrites that preserve (shape, depth, mixing) and matter to NAS, saturation, extraction of a smallest
//! equivalent term, and the explanation of why two programs have the same properties.
//!
//! Rules: identity elimination; commutativity and associativity of `add` and `mul`; a 1×1 convolution
//! (stride 1, no padding, one group) equals a dense layer over the channel axis between two permutes
//! (`permute[0,2,3,1] → linear → permute[0,3,1,2]`), in both directions through the e-graph.

use super::lang::{encode, term, NasLang, OpInfo, PropsAnalysis};
use super::{infer, Props, PropsError};
use crate::ir::subgraph::Subgraph;
use crate::ir::{Graph, Op};
use egg::{
    rewrite as rw, Applier, EGraph, Extractor, Id, Pattern, PatternAst, Rewrite, Runner, Subst,
    Symbol,
};
use serde::Serialize;
use std::fmt;

/// Adds the dense-over-channels form of every 1×1 convolution in the matched class.
#[derive(Debug)]
struct ConvAsDense;

impl Applier<NasLang, PropsAnalysis> for ConvAsDense {
    fn apply_one(
        &self,
        egraph: &mut EGraph<NasLang, PropsAnalysis>,
        eclass: Id,
        _subst: &Subst,
        _ast: Option<&PatternAst<NasLang>>,
        rule: Symbol,
    ) -> Vec<Id> {
        let mut found = Vec::new();
        for n in egraph[eclass].nodes.iter() {
            if let NasLang::Op(sym, ch) = n {
                if let Some(OpInfo::Prim {
                    op:
                        Op::Conv {
                            out,
                            kernel: 1,
                            stride: 1,
                            padding: 0,
                            dilation: 1,
                            groups: 1,
                            bias,
                        },
                    shape,
                }) = egraph.analysis.ops.get(sym)
                {
                    if shape.len() == 4 && ch.len() == 1 {
                        found.push((ch[0], *out, *bias, shape.clone()));
                    }
                }
            }
        }
        let mut changed = Vec::new();
        for (x, out, bias, shape) in found {
            let xs = egraph[x].data.shape.clone();
            if xs.len() != 4 {
                continue;
            }
            let nhwc_in = vec![xs[0], xs[2], xs[3], xs[1]];
            let nhwc_out = vec![shape[0], shape[2], shape[3], shape[1]];
            let p1 = egraph.analysis.prim(
                &Op::Permute {
                    dims: vec![0, 2, 3, 1],
                },
                &nhwc_in,
            );
            let lin = egraph.analysis.prim(&Op::Linear { out, bias }, &nhwc_out);
            let p2 = egraph.analysis.prim(
                &Op::Permute {
                    dims: vec![0, 3, 1, 2],
                },
                &shape,
            );
            let a = egraph.add(NasLang::Op(p1, vec![x]));
            let b = egraph.add(NasLang::Op(lin, vec![a]));
            let c = egraph.add(NasLang::Op(p2, vec![b]));
            if egraph.union_trusted(eclass, c, rule) {
                changed.push(c);
            }
        }
        changed
    }
}

/// The rule set.
pub fn rules() -> Vec<Rewrite<NasLang, PropsAnalysis>> {
    let any: Pattern<NasLang> = "?x".parse().expect("pattern");
    vec![
        rw!("identity-elim"; "(identity ?x)" => "?x"),
        rw!("add-comm"; "(add ?a ?b)" => "(add ?b ?a)"),
        rw!("add-assoc"; "(add (add ?a ?b) ?c)" => "(add ?a (add ?b ?c))"),
        rw!("add-assoc-rev"; "(add ?a (add ?b ?c))" => "(add (add ?a ?b) ?c)"),
        rw!("mul-comm"; "(mul ?a ?b)" => "(mul ?b ?a)"),
        rw!("mul-assoc"; "(mul (mul ?a ?b) ?c)" => "(mul ?a (mul ?b ?c))"),
        rw!("mul-assoc-rev"; "(mul ?a (mul ?b ?c))" => "(mul (mul ?a ?b) ?c)"),
        Rewrite::new("conv1x1-dense", any, ConvAsDense).expect("rule"),
    ]
}

fn runner(egraph: EGraph<NasLang, PropsAnalysis>) -> Runner<NasLang, PropsAnalysis> {
    Runner::default()
        .with_egraph(egraph)
        .with_iter_limit(12)
        .with_node_limit(20_000)
        .with_time_limit(std::time::Duration::from_secs(5))
}

/// The smallest term (fewest e-nodes) equivalent to each output of a subgraph, printed as s-expressions.
pub fn extract(g: &Graph, sub: &Subgraph) -> Vec<String> {
    let mut egraph = EGraph::new(PropsAnalysis::default());
    let enc = encode(&mut egraph, g, sub);
    let r = runner(egraph).run(&rules());
    let ex = Extractor::new(&r.egraph, egg::AstSize);
    enc.outputs
        .iter()
        .map(|&o| ex.find_best(r.egraph.find(o)).1.to_string())
        .collect()
}

/// Why two subgraphs have (or do not have) the same properties.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// Shape, depth and mixing are equal (inputs and outputs compared by position).
    pub same_properties: bool,
    /// What differs, one line each (empty when `same_properties`).
    pub differences: Vec<String>,
    /// Per output: the rewrite proof that the two terms are equal, when the rules prove it.
    pub proofs: Vec<Option<String>>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.same_properties {
            writeln!(f, "same properties")?;
        } else {
            writeln!(f, "different properties:")?;
            for d in &self.differences {
                writeln!(f, "  {d}")?;
            }
        }
        for (k, p) in self.proofs.iter().enumerate() {
            match p {
                Some(p) => writeln!(f, "output {k}: equal by rewriting:\n{p}")?,
                None => writeln!(f, "output {k}: not proven equal by the rules")?,
            }
        }
        Ok(())
    }
}

/// Explains two subgraphs: compares their properties (by position) and, output by output, asks the
/// e-graph for a rewrite proof that the terms are equal. Equal terms always have equal properties (every
/// rule preserves them); equal properties without a proof are possible (the abstraction forgets).
pub fn explain(a: (&Graph, &Subgraph), b: (&Graph, &Subgraph)) -> Result<Explanation, PropsError> {
    let pa = infer(a.0, a.1)?;
    let pb = infer(b.0, b.1)?;
    let differences = differences(&pa, &pb);
    let mut proofs = Vec::new();
    let mut egraph = EGraph::new(PropsAnalysis::default()).with_explanations_enabled();
    let n = a.1.outputs.len().min(b.1.outputs.len());
    let mut pairs = Vec::new();
    for k in 0..n {
        let ta = term(&mut egraph.analysis, a.0, a.1, a.1.outputs[k]);
        let tb = term(&mut egraph.analysis, b.0, b.1, b.1.outputs[k]);
        egraph.add_expr(&ta);
        egraph.add_expr(&tb);
        pairs.push((ta, tb));
    }
    let mut r = runner(egraph).with_explanations_enabled().run(&rules());
    for (ta, tb) in &pairs {
        let ia = r.egraph.add_expr(ta);
        let ib = r.egraph.add_expr(tb);
        if r.egraph.find(ia) == r.egraph.find(ib) {
            let mut e = r.egraph.explain_equivalence(ta, tb);
            proofs.push(Some(e.get_flat_string()));
        } else {
            proofs.push(None);
        }
    }
    Ok(Explanation {
        same_properties: differences.is_empty(),
        differences,
        proofs,
    })
}

/// The differences between two property triples, inputs and outputs matched by position.
pub fn differences(a: &Props, b: &Props) -> Vec<String> {
    let b = b.renamed_like(a);
    let mut out = Vec::new();
    if a.shape != b.shape {
        out.push(format!("shape: {} vs {}", a.shape, b.shape));
    }
    if a.depth != b.depth {
        out.push(format!("depth: {} vs {}", a.depth, b.depth));
    }
    if a.mixing != b.mixing {
        out.push("mixing matrices differ".to_string());
    }
    out
}
