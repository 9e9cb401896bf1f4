//! The alpha-NAS mutations, on the flat form ([`super::flat`]): **duplicate** a block instance, **delete**
//! one (both only where the instance keeps its input's shape), and the **property-guided** rewrite: grow
//! a random subgraph inside one instance (`ir::subgraph` growth rule, p 0.75, at most 80% of the
//! instance), infer its properties (`props`), mutate them (depth ±Δ, mixing pairs dropped: the alpha-NAS
//! rules), synthesize a replacement of n±2 ops with z3 (`synth`), splice it into the block — into this
//! instance's own copy, or, with probability `adopt`, into the definition every instance of that block
//! shares — and re-check the child: it builds, keeps the network's output shape, and the new ops satisfy
//! the mutated target when their properties are re-inferred in the child. Every outcome is a value: a
//! [`Child`], or a [`Failure`] with the reason (and the synthesis outcome), which the driver records and
//! redraws. Uses `ir`, `props`, `synth`, `driver`.

use super::flat::{Arg, Def, Flat, Stmt};
use crate::ir::subgraph::Subgraph;
use crate::ir::{Graph, Op};
use crate::props::{MutationRates, Props};
use crate::synth::{self, Constraints, Target};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

/// The three mutation kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Duplicate,
    Delete,
    Property,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Duplicate, Kind::Delete, Kind::Property];

    /// The name stored in the run store's `mutation` column.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Duplicate => "duplicate",
            Kind::Delete => "delete",
            Kind::Property => "property",
        }
    }
}

/// How mutations are drawn (the reference's probabilities are the defaults).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Rates {
    pub duplicate: f64,
    pub delete: f64,
    pub property: f64,
    /// The probability that the other instances of a rewritten block adopt the rewrite.
    pub adopt: f64,
    /// Subgraph growth: the probability of adding one more neighbour.
    pub grow: f64,
    /// Subgraph growth: the largest share of the instance taken.
    pub max_fraction: f64,
    /// Property mutation probabilities: depth (per pair, consecutive successes, Δ ≤ 2) and mixing (a
    /// pair is dropped).
    pub depth: f64,
    pub mixing: f64,
    /// Synthesis time limit per property-guided mutation, in seconds.
    pub synth_timeout: f64,
    /// What synthesis prefers among satisfying replacements (`none`: the seeded first found, the
    /// reference's behaviour; `fewest_params` / `fewest_flops` push the search toward smaller networks).
    #[serde(default)]
    pub synth_objective: synth::Objective,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            duplicate: 0.2,
            delete: 0.2,
            property: 0.6,
            adopt: 0.2,
            grow: 0.75,
            max_fraction: 0.8,
            depth: MutationRates::SMALL.depth,
            mixing: MutationRates::SMALL.mixing,
            synth_timeout: 10.0,
            synth_objective: synth::Objective::None,
        }
    }
}

impl Rates {
    /// Draws a kind by the three probabilities (normalised).
    pub fn draw(&self, rng: &mut impl Rng) -> Kind {
        let w = [
            self.duplicate.max(0.0),
            self.delete.max(0.0),
            self.property.max(0.0),
        ];
        let total: f64 = w.iter().sum();
        let mut r = rng.gen::<f64>() * total;
        for (k, x) in Kind::ALL.into_iter().zip(w) {
            if r < x {
                return k;
            }
            r -= x;
        }
        Kind::Property
    }
}

/// A checked child.
#[derive(Clone, Debug)]
pub struct Child {
    pub kind: Kind,
    pub flat: Flat,
    /// The child as NASL (with a header saying where it came from).
    pub nasl: String,
    pub fingerprint: String,
    /// Its graph, as built for the re-check (batch 1).
    pub graph: Graph,
    /// What changed, in words (`duplicated h_3 (b2)`).
    pub detail: String,
    /// Property-guided: the mutated target and what synthesis answered.
    pub target: Option<Props>,
    /// Property-guided: the rewritten instance and the positions of the new ops in its block.
    pub rewritten: Option<(usize, Vec<usize>)>,
    pub synth: Option<serde_json::Value>,
    /// Time spent synthesizing.
    pub synth_seconds: f64,
}

/// A mutation that produced no child, and why.
#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: Kind,
    pub reason: String,
    pub synth: Option<serde_json::Value>,
    pub synth_seconds: f64,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.reason)
    }
}

/// Builds a flat program (the driver: parse, check, build at batch 1).
pub fn build(flat: &Flat) -> Result<Graph, String> {
    synth::build_text(Path::new("<evolve>.nasl"), &flat.to_nasl(""), None, 1)
}

/// The nodes of instance `i` in a graph built from a flat program, in order.
pub fn instance_nodes(g: &Graph, i: usize) -> Vec<usize> {
    let p = Flat::instance_path(i);
    let dotted = format!("{p}.");
    (0..g.nodes.len())
        .filter(|&n| g.nodes[n].path == p || g.nodes[n].path.starts_with(&dotted))
        .collect()
}

/// Applies one mutation of `kind` to `parent` (whose graph, built from its flat NASL, is `g`).
pub fn mutate(
    parent: &Flat,
    g: &Graph,
    kind: Kind,
    rates: &Rates,
    rng: &mut impl Rng,
) -> Result<Child, Failure> {
    let fail = |reason: String| Failure {
        kind,
        reason,
        synth: None,
        synth_seconds: 0.0,
    };
    let keeping: Vec<usize> = (0..parent.calls.len())
        .filter(|&i| parent.defs[parent.calls[i]].keeps_shape())
        .collect();
    let (flat, detail, target, synth, synth_seconds) = match kind {
        Kind::Duplicate | Kind::Delete => {
            if keeping.is_empty() {
                return Err(fail("no block instance keeps its input's shape".into()));
            }
            if kind == Kind::Delete && parent.calls.len() < 2 {
                return Err(fail("the network has a single block instance".into()));
            }
            let i = keeping[rng.gen_range(0..keeping.len())];
            let mut flat = parent.clone();
            let b = parent.calls[i];
            let detail = if kind == Kind::Duplicate {
                flat.calls.insert(i + 1, b);
                format!("duplicated {} (b{})", Flat::instance_path(i), b + 1)
            } else {
                flat.calls.remove(i);
                format!("deleted {} (b{})", Flat::instance_path(i), b + 1)
            };
            (flat, detail, None, None, 0.0)
        }
        Kind::Property => property(parent, g, rates, rng)?,
    };
    let flat = flat.canonical();
    // the child is checked before it costs any training
    let child_graph = build(&flat).map_err(|e| Failure {
        kind,
        reason: format!("the child does not check: {e}"),
        synth: synth.clone(),
        synth_seconds,
    })?;
    let out = |g: &Graph| {
        g.outputs
            .iter()
            .map(|&o| g.nodes[o].shape.clone())
            .collect::<Vec<_>>()
    };
    if out(&child_graph) != out(g) {
        return Err(Failure {
            kind,
            reason: format!(
                "the child's output shapes {:?} differ from the parent's {:?}",
                out(&child_graph),
                out(g)
            ),
            synth,
            synth_seconds,
        });
    }
    if let Some((t, instance, positions)) = &target {
        match satisfies_in(&child_graph, *instance, positions, t) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Failure {
                    kind,
                    reason:
                        "internal error: the spliced ops do not satisfy the target in the child"
                            .into(),
                    synth,
                    synth_seconds,
                })
            }
            Err(e) => {
                return Err(Failure {
                    kind,
                    reason: format!("internal error: re-inferring the spliced ops: {e}"),
                    synth,
                    synth_seconds,
                })
            }
        }
    }
    let fingerprint = flat.fingerprint();
    let nasl = flat.to_nasl("");
    Ok(Child {
        kind,
        graph: child_graph,
        flat,
        nasl,
        fingerprint,
        detail,
        rewritten: target.as_ref().map(|(_, i, p)| (*i, p.clone())),
        target: target.map(|(t, _, _)| t),
        synth,
        synth_seconds,
    })
}

type Rewrite = (
    Flat,
    String,
    Option<(Props, usize, Vec<usize>)>,
    Option<serde_json::Value>,
    f64,
);

/// The property-guided rewrite of one instance.
fn property(
    parent: &Flat,
    g: &Graph,
    rates: &Rates,
    rng: &mut impl Rng,
) -> Result<Rewrite, Failure> {
    let fail = |reason: String, synth: Option<serde_json::Value>, secs: f64| Failure {
        kind: Kind::Property,
        reason,
        synth,
        synth_seconds: secs,
    };
    let i = rng.gen_range(0..parent.calls.len());
    let b = parent.calls[i];
    let def = &parent.defs[b];
    let nodes = instance_nodes(g, i);
    let same = nodes.len() == def.stmts.len()
        && nodes
            .iter()
            .zip(&def.stmts)
            .all(|(&n, s)| g.nodes[n].op == s.op && g.nodes[n].shape == s.shape);
    if !same {
        return Err(fail(
            format!(
                "internal error: instance {} does not match its block's ops",
                Flat::instance_path(i)
            ),
            None,
            0.0,
        ));
    }
    // grow a one-input, one-output subgraph (a few draws)
    let mut sub = None;
    for _ in 0..8 {
        let s = Subgraph::grow(g, rng, rates.grow, rates.max_fraction, Some(&nodes))
            .map_err(|e| fail(e.to_string(), None, 0.0))?;
        if s.inputs.len() == 1 && s.outputs.len() == 1 {
            sub = Some(s);
            break;
        }
    }
    let Some(sub) = sub else {
        return Err(fail(
            format!(
                "no one-input, one-output subgraph grew in {} (8 draws)",
                Flat::instance_path(i)
            ),
            None,
            0.0,
        ));
    };
    let props = crate::props::infer(g, &sub).map_err(|e| fail(e.to_string(), None, 0.0))?;
    let mutated = props.mutate(
        rng,
        MutationRates {
            shape: 0.0,
            depth: rates.depth,
            mixing: rates.mixing,
        },
    );
    let target = Target::new(mutated.clone(), Constraints::default())
        .map_err(|e| fail(format!("the subgraph cannot be a target: {e}"), None, 0.0))?;
    let n_ops = sub.nodes.len();
    let opts = synth::Options {
        count: 1,
        seed: Some(rng.gen()),
        timeout: Duration::from_secs_f64(rates.synth_timeout.max(0.01)),
        replaced_ops: Some(n_ops),
        objective: rates.synth_objective,
        name: "s".into(),
        ..Default::default()
    };
    let t0 = Instant::now();
    let result = synth::synthesize(&target, &opts);
    let secs = t0.elapsed().as_secs_f64();
    let pos_in = |n: usize| nodes.iter().position(|&m| m == n);
    let local: Vec<usize> = sub.nodes.iter().filter_map(|&n| pos_in(n)).collect();
    let mut info = serde_json::json!({
        "instance": Flat::instance_path(i),
        "block": format!("b{}", b + 1),
        "replaced": local.iter().map(|k| format!("v{}", k + 1)).collect::<Vec<_>>(),
        "replaced_ops": n_ops,
        "elapsed_ms": secs * 1e3,
    });
    let solution = match result {
        Ok((synth::Outcome::Sat { solutions }, _)) => solutions.into_iter().next(),
        Ok((synth::Outcome::Unsat { explanation }, _)) => {
            info["result"] = "unsat".into();
            info["explanation"] = explanation.summary.into();
            return Err(fail(
                "no program satisfies the mutated properties".into(),
                Some(info),
                secs,
            ));
        }
        Ok((synth::Outcome::Unknown { reason }, _)) => {
            info["result"] = "unknown".into();
            info["reason"] = reason.clone().into();
            return Err(fail(
                format!("synthesis gave up: {reason}"),
                Some(info),
                secs,
            ));
        }
        Err(e) => {
            info["result"] = "error".into();
            return Err(fail(e.to_string(), Some(info), secs));
        }
    };
    let Some(sol) = solution else {
        info["result"] = "unsat".into();
        return Err(fail(
            "synthesis returned no program".into(),
            Some(info),
            secs,
        ));
    };
    info["result"] = "sat".into();
    info["ops"] = sol.ops.into();
    info["sketch"] = sol.sketch.name().into();
    info["nasl"] = sol.nasl.clone().into();
    // the synthesized ops as statements
    let inp = &mutated.shape.inputs[0];
    let sg = synth::build_text(
        Path::new("<synth>.nasl"),
        &sol.nasl,
        Some("s"),
        inp.shape[0],
    )
    .map_err(|e| fail(format!("internal error: {e}"), Some(info.clone()), secs))?;
    let input_arg = match pos_in(sub.inputs[0]) {
        Some(k) => Arg::Stmt(k),
        None => Arg::Input,
    };
    let out_local = pos_in(sub.outputs[0]).unwrap_or(0);
    let new_def = splice(def, &local, input_arg, out_local, &sg)
        .map_err(|e| fail(e, Some(info.clone()), secs))?;
    let mut flat = parent.clone();
    let adopt = rng.gen_bool(rates.adopt.clamp(0.0, 1.0));
    let uses = parent.calls.iter().filter(|&&c| c == b).count();
    if adopt {
        flat.defs[b] = new_def.0;
    } else {
        flat.defs.push(new_def.0);
        flat.calls[i] = flat.defs.len() - 1;
    }
    info["adopted"] = (adopt && uses > 1).into();
    let detail = format!(
        "rewrote {} op(s) of {} (b{}) as {} op(s){}",
        n_ops,
        Flat::instance_path(i),
        b + 1,
        sol.ops,
        if adopt && uses > 1 {
            format!(", adopted by all {uses} instances")
        } else {
            String::new()
        }
    );
    Ok((
        flat,
        detail,
        Some((mutated, i, new_def.1)),
        Some(info),
        secs,
    ))
}

/// `def` with the statements `local` (one input `input`, one output `out`) replaced by the ops of the
/// synthesized graph `sg`; returns the new block and the positions of the new statements.
fn splice(
    def: &Def,
    local: &[usize],
    input: Arg,
    out: usize,
    sg: &Graph,
) -> Result<(Def, Vec<usize>), String> {
    let removed: std::collections::HashSet<usize> = local.iter().copied().collect();
    let mut stmts: Vec<Stmt> = Vec::new();
    let mut map: Vec<Option<usize>> = vec![None; def.stmts.len()];
    let mut positions = Vec::new();
    let remap = |a: &Arg, map: &[Option<usize>]| -> Result<Arg, String> {
        match a {
            Arg::Input => Ok(Arg::Input),
            Arg::Stmt(k) => map[*k]
                .map(Arg::Stmt)
                .ok_or_else(|| format!("internal error: v{} is used after it was replaced", k + 1)),
        }
    };
    for (k, s) in def.stmts.iter().enumerate() {
        if removed.contains(&k) {
            if k != out {
                continue;
            }
            // the synthesized ops, in place of the subgraph's output
            let base_input = remap(&input, &map)?;
            let mut local_map: Vec<Option<usize>> = vec![None; sg.nodes.len()];
            for (j, n) in sg.nodes.iter().enumerate() {
                if matches!(n.op, Op::Input { .. }) {
                    continue;
                }
                if matches!(n.op, Op::Param { .. }) {
                    return Err("internal error: a synthesized op has a learned tensor".into());
                }
                let args = n
                    .inputs
                    .iter()
                    .map(|&a| {
                        if sg.inputs.contains(&a) {
                            Ok(base_input)
                        } else {
                            local_map[a].map(Arg::Stmt).ok_or_else(|| {
                                "internal error: synthesized ops out of order".to_string()
                            })
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut shape = n.shape.clone();
                if let Some(b) = shape.first_mut() {
                    *b = s.shape[0];
                }
                local_map[j] = Some(stmts.len());
                positions.push(stmts.len());
                stmts.push(Stmt {
                    op: n.op.clone(),
                    args,
                    shape,
                });
            }
            let last = sg.outputs.first().and_then(|&o| {
                if sg.inputs.contains(&o) {
                    None
                } else {
                    local_map[o]
                }
            });
            match last {
                Some(l) => map[k] = Some(l),
                None => {
                    // an empty replacement: the output is the input itself
                    match base_input {
                        Arg::Stmt(j) => map[k] = Some(j),
                        Arg::Input => return Err("the replacement is empty".into()),
                    }
                }
            }
            continue;
        }
        let args = s
            .args
            .iter()
            .map(|a| remap(a, &map))
            .collect::<Result<Vec<_>, _>>()?;
        map[k] = Some(stmts.len());
        stmts.push(Stmt {
            op: s.op.clone(),
            args,
            shape: s.shape.clone(),
        });
    }
    // the block's result must be its last statement: move the result's producer last if needed
    let result = map[def.stmts.len() - 1].ok_or("internal error: the block lost its result")?;
    if result + 1 != stmts.len() {
        return Err("the rewrite left the block's result before other ops".into());
    }
    Ok((
        Def {
            input: def.input.clone(),
            stmts,
        },
        positions,
    ))
}

/// Whether the new ops of a property-guided child satisfy `target` when their properties are re-inferred
/// in the child: instance `instance`, statements `positions` of its block. Used by the driver's re-check
/// and by the tests.
pub fn satisfies_in(
    child: &Graph,
    instance: usize,
    positions: &[usize],
    target: &Props,
) -> Result<bool, String> {
    let nodes = instance_nodes(child, instance);
    let sel: Vec<usize> = positions
        .iter()
        .map(|&p| nodes.get(p).copied().ok_or("no such statement"))
        .collect::<Result<_, _>>()?;
    let sub = Subgraph::from_nodes(child, sel).map_err(|e| e.to_string())?;
    let p = crate::props::infer(child, &sub)
        .map_err(|e| e.to_string())?
        .renamed_like(target);
    Ok(Props::satisfies(&p, target))
}
