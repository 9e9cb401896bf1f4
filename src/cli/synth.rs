//! `nasc synth`: read a target (or take a subgraph's own properties), synthesize, print NASL — a block, or
//! with `--replace` the whole program with the subgraph replaced — and re-check what is printed.

use super::{build_graph, print_diagnostics, ArchArgs};
use crate::base::{Code, Diagnostic, SourceMap, Span};
use crate::props::{MutationRates, Props};
use crate::synth::{self, Constraints, Objective, Options, Outcome, Target};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `nasc synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// The target: JSON as `nasc props --json` prints it, plus optional `constraints` (docs/synthesis.md).
    #[arg(long, value_name = "FILE")]
    pub props: Option<PathBuf>,
    /// Replace a block instance of a program: FILE:PATH, PATH a top-level `let` of the entry block as
    /// `nasc props --block` names it. Without --props the target is the instance's own properties.
    #[arg(long, value_name = "FILE:PATH")]
    pub replace: Option<String>,
    /// Distinct programs to print.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Randomise the choice among solutions, reproducibly.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Give up (result "unknown", exit 3) after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// What to prefer among satisfying programs: none (shortest first), params, flops, closest (fewest
    /// ops differing from the replaced subgraph; needs --replace).
    #[arg(long, default_value = "none")]
    pub objective: String,
    /// Mutate the target first with the alpha-NAS rules (docs/properties.md), using this seed.
    #[arg(long, value_name = "SEED")]
    pub mutate: Option<u64>,
    /// Name of the synthesized block.
    #[arg(long, default_value = "synth")]
    pub name: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub const AFTER_HELP: &str = "\
The target fixes the output shape exactly and gives lower bounds for depth (linear/nonlinear switches) \
and mixing (per input/output dim, . < o < m < a). z3 searches sketches of k ops — a chain, or two \
branches joined by add/concat with a short tail — for k from n−2 to n+2 of the replaced subgraph (or \
constraints.min_ops..max_ops, default 1..8). Every printed program has been parsed, checked, built and \
its properties re-inferred. Exit codes: 0 found, 1 unsat (the explanation names the conflicting target \
fields), 2 bad usage or target, 3 unknown (time limit).

Examples:
  nasc props examples/cifarnet.nasl --block h_1 --json > t.json
  nasc synth --props t.json --count 3
  nasc synth --replace examples/cifarnet.nasl:h_1 --seed 7
  nasc synth --replace examples/resnet20.nasl:h_2 --mutate 1 --objective params";

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// A target file's problem as a diagnostic pointing into the JSON.
fn target_diagnostic(path: &Path, text: &str, e: &synth::TargetError) -> (Diagnostic, SourceMap) {
    let mut sources = SourceMap::new();
    let fid = sources.add(path.to_path_buf(), text.to_string());
    let mut d = Diagnostic::error(
        Code::InvalidTarget,
        format!("invalid synthesis target: {e}"),
    );
    if let Some((line, col)) = e.position {
        let mut off = 0usize;
        for (i, l) in text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                off += col.saturating_sub(1).min(l.len());
                break;
            }
            off += l.len();
        }
        let off = off.min(text.len());
        let end = (off + 1).min(text.len()).max(off);
        let label = if e.field.is_empty() {
            "here".to_string()
        } else {
            format!("`{}`", e.field)
        };
        d = d.with_label(
            Span {
                file: fid,
                start: off as u32,
                end: end as u32,
            },
            label,
        );
    }
    d = d.with_help(
        "a target is the JSON of `nasc props --json` plus an optional `constraints` object; \
docs/synthesis.md lists every field",
    );
    (d, sources)
}

/// The let statements of the entry block and their IR path segments (`h`, `h_1`, …).
fn let_paths(def: &crate::syntax::ast::BlockDef) -> Vec<(String, usize)> {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    let mut v = Vec::new();
    for (i, s) in def.body.stmts.iter().enumerate() {
        let n = counts.entry(s.name.name.clone()).or_insert(0);
        let seg = if *n == 0 {
            s.name.name.clone()
        } else {
            format!("{}_{n}", s.name.name)
        };
        *n += 1;
        v.push((seg, i));
    }
    v
}

struct Replace {
    file: PathBuf,
    text: String,
    graph: crate::ir::Graph,
    path: String,
    props: Props,
    ops: usize,
    reference: Vec<synth::OpKind>,
}

fn prepare_replace(spec: &str) -> Result<Replace, ExitCode> {
    let Some((file, path)) = spec.rsplit_once(':') else {
        return Err(usage(format!(
            "--replace takes FILE:PATH (e.g. examples/cifarnet.nasl:h_1), not `{spec}`"
        )));
    };
    if path.contains('.') || path.contains("..") {
        return Err(usage(format!(
            "--replace replaces a top-level `let` of the entry block; `{path}` is nested (select its \
enclosing instance, or use `nasc props --block {path} --json` and `nasc synth --props`)"
        )));
    }
    let arch = ArchArgs {
        file: PathBuf::from(file),
        block: None,
        inputs: Vec::new(),
        choices: Vec::new(),
    };
    let (g, _) = build_graph(&arch, 1)?;
    let sub = crate::ir::subgraph::Subgraph::by_path(&g, path).map_err(|e| {
        let mut tops: Vec<&str> = g
            .nodes
            .iter()
            .map(|n| n.path.split('.').next().unwrap_or(""))
            .filter(|p| *p != "inputs")
            .collect();
        tops.dedup();
        usage(format!("{e} (top-level paths: {})", tops.join(", ")))
    })?;
    let mut props = crate::props::infer(&g, &sub).map_err(usage)?;
    if let Some(s) = &mut props.source {
        s.subgraph = path.to_string();
    }
    let text =
        std::fs::read_to_string(file).map_err(|e| usage(format!("cannot read `{file}`: {e}")))?;
    let ops = sub
        .nodes
        .iter()
        .filter(|&&i| !matches!(g.nodes[i].op, crate::ir::Op::Param { .. }))
        .count();
    let reference = synth::op_sequence(&g, &sub.nodes);
    Ok(Replace {
        file: PathBuf::from(file),
        text,
        graph: g,
        path: path.to_string(),
        props,
        ops,
        reference,
    })
}

/// The program text with `let PATH = …` calling the synthesized block instead, and the block appended.
/// Returns the text and the path the new instance has in it.
fn splice_source(r: &Replace, block: &str, name: &str) -> Result<(String, String), String> {
    let fid = crate::base::FileId::default();
    let parsed = crate::syntax::parse(fid, &r.text);
    let module = &parsed.module;
    let entry = module
        .items
        .iter()
        .rev()
        .find(|b| b.kind == crate::syntax::ast::BlockKind::Network)
        .or_else(|| module.items.last())
        .ok_or("the file defines no block")?;
    // a top-level `let` named by the path, else the block's result when it is a call of that name
    let (value, idx, what) = match let_paths(entry).into_iter().find(|(seg, _)| *seg == r.path) {
        Some((_, idx)) => {
            let st = &entry.body.stmts[idx];
            (&st.value, idx, format!("let {} = …", st.name.name))
        }
        None => {
            let res = &*entry.body.result;
            let callee = match &res.kind {
                crate::syntax::ast::ExprKind::Call(f, _) => match &f.kind {
                    crate::syntax::ast::ExprKind::Name(id) => Some(id.name.clone()),
                    crate::syntax::ast::ExprKind::Path(_, id) => Some(id.name.clone()),
                    _ => None,
                },
                _ => None,
            };
            if callee.as_deref() != Some(r.path.as_str()) {
                return Err(format!(
                    "no top-level `let` of `{}` has path `{}`, and its result is not a call of `{}`",
                    entry.name.name, r.path, r.path
                ));
            }
            (res, entry.body.stmts.len(), "the result".to_string())
        }
    };
    // the argument: the name in the expression that refers to the subgraph's input
    let input = r
        .props
        .shape
        .inputs
        .first()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let lets = let_paths(entry);
    let mut arg = None;
    let mut stack = vec![value];
    let mut names = Vec::new();
    while let Some(e) = stack.pop() {
        if let crate::syntax::ast::ExprKind::Name(id) = &e.kind {
            names.push(id.name.clone());
        }
        let mut ch = e.children();
        ch.reverse();
        stack.extend(ch);
    }
    for n in names {
        // the most recent binding of `n` before this statement, else a parameter
        let prefix = lets[..idx]
            .iter()
            .rev()
            .find(|(_, i)| entry.body.stmts[*i].name.name == n)
            .map(|(seg, _)| seg.clone())
            .unwrap_or_else(|| format!("inputs.{n}"));
        if input == prefix || input.starts_with(&format!("{prefix}.")) {
            arg = Some(n);
            break;
        }
    }
    let arg = arg.ok_or_else(|| {
        format!("cannot tell which name in {what} carries the subgraph's input `{input}`")
    })?;
    let (s, e) = (value.span.start as usize, value.span.end as usize);
    let mut out = String::new();
    out.push_str(&r.text[..s]);
    out.push_str(&format!("{name}({arg})"));
    out.push_str(&r.text[e..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(block);
    let reparsed = crate::syntax::parse(fid, &out);
    if reparsed.diagnostics.iter().any(|d| d.is_error()) {
        return Err("the spliced program does not parse".into());
    }
    // a `let` keeps its path; a result call is named by the callee, now the synthesized block
    let new_path = if idx < entry.body.stmts.len() {
        r.path.clone()
    } else {
        name.to_string()
    };
    Ok((crate::syntax::print_module(&reparsed.module), new_path))
}

/// Checks the spliced program: no errors, same output shapes, and the new instance satisfies the target.
fn verify_spliced(r: &Replace, text: &str, path: &str, target: &Props) -> Result<(), String> {
    let g = synth::build_text(&r.file, text, None, 1)?;
    let shapes = |g: &crate::ir::Graph| -> Vec<Vec<i64>> {
        g.outputs
            .iter()
            .map(|&o| g.nodes[o].shape.clone())
            .collect()
    };
    if shapes(&g) != shapes(&r.graph) {
        return Err(format!(
            "the network's output shapes changed: {:?} → {:?}",
            shapes(&r.graph),
            shapes(&g)
        ));
    }
    let sub = crate::ir::subgraph::Subgraph::by_path(&g, path).map_err(|e| e.to_string())?;
    let p = crate::props::infer(&g, &sub)
        .map_err(|e| e.to_string())?
        .renamed_like(target);
    if !Props::satisfies(&p, target) {
        return Err(format!(
            "the replaced instance does not satisfy the target in context:\n{p}"
        ));
    }
    Ok(())
}

pub fn run(a: SynthArgs) -> ExitCode {
    let objective = match a.objective.as_str() {
        "none" => Objective::None,
        "params" => Objective::FewestParams,
        "flops" | "macs" => Objective::FewestFlops,
        "closest" => Objective::Closest,
        o => {
            return usage(format!(
                "unknown objective `{o}` (none, params, flops, closest)"
            ))
        }
    };
    if a.count == 0 {
        return usage("--count must be at least 1");
    }
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        return usage("--timeout must be a positive number of seconds");
    }
    if a.props.is_none() && a.replace.is_none() {
        return usage(
            "give a target (--props FILE) or a subgraph to replace (--replace FILE:PATH)",
        );
    }
    if objective == Objective::Closest && a.replace.is_none() {
        return usage("--objective closest measures against the replaced subgraph: give --replace");
    }
    let replace = match &a.replace {
        Some(spec) => match prepare_replace(spec) {
            Ok(r) => Some(r),
            Err(c) => return c,
        },
        None => None,
    };
    let mut target = match &a.props {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return usage(format!("cannot read `{}`: {e}", path.display())),
            };
            match synth::target::parse(&text) {
                Ok(t) => t,
                Err(e) => {
                    let (d, sources) = target_diagnostic(path, &text, &e);
                    print_diagnostics(&[d], &sources, false);
                    return ExitCode::from(2);
                }
            }
        }
        None => {
            let r = replace.as_ref().expect("checked above");
            match Target::new(r.props.clone(), Constraints::default()) {
                Ok(t) => t,
                Err(e) => {
                    return usage(format!("the subgraph `{}` cannot be a target: {e}", r.path))
                }
            }
        }
    };
    if let Some(r) = &replace {
        // the replacement must fit the program: compare with the subgraph's boundary
        let want: Vec<Vec<i64>> = r
            .props
            .shape
            .inputs
            .iter()
            .map(|t| t.shape.clone())
            .collect();
        let got: Vec<Vec<i64>> = target
            .props
            .shape
            .inputs
            .iter()
            .map(|t| t.shape.clone())
            .collect();
        if want != got {
            return usage(format!(
                "the target's input shapes {got:?} differ from those of `{}` {want:?}",
                r.path
            ));
        }
        // name the target's tensors like the subgraph's, so the spliced check compares them
        target.props = target.props.renamed_like(&r.props);
        if target.props.shape.inputs.len() == 1 {
            target.props.shape.inputs[0].producer = r.props.shape.inputs[0].producer;
        }
    }
    if let Some(seed) = a.mutate {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        target.props = target.props.mutate(&mut rng, MutationRates::SMALL);
    }
    let name = match &replace {
        Some(r) if a.name == "synth" => format!("synth_{}", r.path),
        _ => a.name.clone(),
    };
    let bar = if !a.json && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} z3: {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        Some(b)
    } else {
        None
    };
    let progress: Option<synth::Progress> = bar.clone().map(|b| {
        std::sync::Arc::new(move |m: &str| b.set_message(m.to_string())) as synth::Progress
    });
    let opts = Options {
        count: a.count,
        seed: a.seed,
        timeout: Duration::from_secs_f64(a.timeout),
        objective,
        replaced_ops: replace.as_ref().map(|r| r.ops),
        reference: replace.as_ref().map(|r| r.reference.clone()),
        name: name.clone(),
        progress,
    };
    let result = synth::synthesize(&target, &opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (outcome, stats) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // with --replace, every solution becomes the whole program, checked again in context
    let mut programs: Vec<String> = Vec::new();
    if let (Some(r), Outcome::Sat { solutions }) = (&replace, &outcome) {
        for s in solutions {
            match splice_source(r, &s.nasl, &name)
                .and_then(|(t, p)| verify_spliced(r, &t, &p, &target.props).map(|_| t))
            {
                Ok(t) => programs.push(t),
                Err(e) => {
                    eprintln!(
                        "error: internal error in synthesis (please report): the spliced program \
failed its re-check: {e}"
                    );
                    return ExitCode::from(2);
                }
            }
        }
    }
    let (lo, hi) = synth::op_range(&target, &opts);
    if a.json {
        let mut v = serde_json::to_value(&outcome).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "stats".into(),
                serde_json::to_value(&stats).unwrap_or_default(),
            );
            o.insert(
                "target".into(),
                serde_json::to_value(&target.props).unwrap_or_default(),
            );
            o.insert("ops_range".into(), serde_json::json!([lo, hi]));
            if replace.is_some() {
                o.insert("programs".into(), serde_json::json!(programs));
            }
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    match &outcome {
        Outcome::Sat { solutions } => {
            if !a.json {
                if replace.is_some() {
                    for (i, p) in programs.iter().enumerate() {
                        if i > 0 {
                            println!();
                        }
                        print!("{p}");
                    }
                } else {
                    for (i, s) in solutions.iter().enumerate() {
                        if i > 0 {
                            println!();
                        }
                        // several blocks in one output: number them so the file checks as a whole
                        let text = if solutions.len() > 1 {
                            s.nasl.replacen(
                                &format!("block {name}("),
                                &format!("block {name}_{}(", i + 1),
                                1,
                            )
                        } else {
                            s.nasl.clone()
                        };
                        print!("{text}");
                        if !text.ends_with('\n') {
                            println!();
                        }
                    }
                }
            }
            if objective != Objective::None && !stats.optimal {
                eprintln!(
                    "note: the time limit ended the search for better programs; the best found is \
printed (not proven optimal; raise --timeout)"
                );
            }
            let sum: Vec<String> = solutions
                .iter()
                .map(|s| format!("{} ops, {} params, {} MACs", s.ops, s.params, s.flops))
                .collect();
            eprintln!(
                "synthesized {} program(s) in {:.2} s ({} solver calls over {} sketches; k = {lo}..{hi}): {}",
                solutions.len(),
                stats.elapsed_ms / 1e3,
                stats.solver_calls,
                stats.sketches,
                sum.join("; ")
            );
            ExitCode::SUCCESS
        }
        Outcome::Unsat { explanation } => {
            if !a.json {
                eprintln!("unsat: {}", explanation.summary);
                if !explanation.fields.is_empty() {
                    eprintln!(
                        "  target fields involved: {}",
                        explanation.fields.join(", ")
                    );
                }
                eprintln!(
                    "  help: relax one of them (depth and mixing are lower bounds), allow more ops \
(constraints.max_ops), or widen the op library"
                );
            }
            ExitCode::from(1)
        }
        Outcome::Unknown { reason } => {
            if !a.json {
                eprintln!("unknown: {reason}");
                eprintln!("  help: raise --timeout, or narrow the search (constraints.max_ops, constraints.ops)");
            }
            ExitCode::from(3)
        }
    }
}
