//! `nasc synth`: read a target (or take a subgraph's own properties), synthesize, print NASL — a block, or
//! with `--replace` the whole program with the subgraph replaced (`synth::replace`, which also re-checks
//! what is printed).

use super::args::SynthArgs;
use super::{print_diagnostics, usage};
use crate::base::{Code, Diagnostic, SourceMap, Span};
use crate::props::MutationRates;
use crate::synth::replace::{Replace, ReplaceError};
use crate::synth::{self, Constraints, Objective, Options, Outcome, Target};
use rand::SeedableRng;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// A target file's problem as a diagnostic pointing into the JSON.
fn target_diagnostic(path: &Path, text: &str, e: &synth::TargetError) -> (Diagnostic, SourceMap) {
    let mut sources = SourceMap::new();
    let fid = sources.add(path.to_path_buf(), text.to_string());
    let mut d = Diagnostic::error(
        Code::InvalidTarget,
        format!("invalid synthesis target: {e}"),
    );
    let range = e.range.clone().or_else(|| {
        e.position
            .map(|(line, col)| synth::json::offset(text, line, col))
            .map(|off| off..off + 1)
    });
    if let Some(r) = range {
        let start = r.start.min(text.len());
        let end = r.end.clamp(start, text.len());
        let label = if e.field.is_empty() {
            "here".to_string()
        } else {
            format!("`{}`", e.field)
        };
        d = d.with_label(
            Span {
                file: fid,
                start: start as u32,
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

pub(super) fn run(a: SynthArgs) -> ExitCode {
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
        Some(spec) => match Replace::from_spec(spec) {
            Ok(r) => Some(r),
            Err(ReplaceError::Front(f)) => return super::fail(f, ""),
            Err(ReplaceError::Usage(m)) => return usage(m),
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
                    if a.json {
                        let (line, column) = e.position.unzip();
                        println!(
                            "{}",
                            serde_json::json!({
                                "result": "invalid_target",
                                "file": path.display().to_string(),
                                "line": line,
                                "column": column,
                                "field": e.field,
                                "message": e.message,
                            })
                        );
                    }
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
            match r
                .splice(&s.nasl, &name)
                .and_then(|(t, p)| r.verify(&t, &p, &target.props).map(|_| t))
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
        let report = synth::Report {
            outcome: outcome.clone(),
            stats: stats.clone(),
            target: target.props.clone(),
            ops_range: [lo, hi],
            programs: replace.is_some().then(|| programs.clone()),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
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
