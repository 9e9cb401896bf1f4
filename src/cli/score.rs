//! `nasc score` (training-free scores of networks, of a sample of a search space, or of the
//! architectures of a results file, with Kendall τ-b / Spearman ρ against measured accuracies) and
//! `nasc search random` (EPE-NAS's random search; prints the best architecture as NASL). Printing and
//! exit codes only: the work is in `crate::score` and `crate::search`.

use super::{fail_lower, missing_files, parse_kv, print_diagnostics, summary};
use crate::base::SourceMap;
use crate::check::{self, Program};
use crate::ir::{BuildError, BuildOptions, Graph};
use crate::score::{self, results, ArchScores, EpeClasses, ScoreError, ScoreKind, ScoreOptions};
use crate::search::{self, SearchError, Space};
use std::path::PathBuf;
use std::process::ExitCode;

pub const SCORE_HELP: &str = "\
Every score is oriented so that HIGHER IS BETTER. A score that cannot be computed (no path from the \
input to the output, a zero or constant Jacobian, a singular ReLU-code kernel, an overflow) is \
\"no signal\" and sorts last. Scores: epe (EPE-NAS), naswot, jacob_cov, synflow (reported as ln), snip, \
grad_norm, params, macs (of the live part of the network); `all`; the default is epe,naswot,params,macs. \
With epe, naswot and params, `combined` is their rank-average over the architectures scored together.

The batch is one fixed, seeded batch of --batch training images (so scores compare across \
architectures); --fresh-batch draws a new one per architecture, as the EPE-NAS reference does. Weights \
are initialised under --seed for every architecture. docs/scoring.md has every definition.

--against FILE scores the architectures listed in a CSV file with a header `arch,accuracy` (arch: \
`NAME=INDEX …` as --choose takes them, space-separated) and prints Kendall's τ-b and Spearman's ρ of \
every score with the accuracies.

Examples:
  nasc score examples/cifarnet.nasl
  nasc score examples/nb201_space.nasl --sample 100 --batch 64
  nasc score examples/nb201_space.nasl --choose e01=3 --choose e13=2 --scores all --json
  nasc score examples/nb201_space.nasl --against nb201_results.csv --scores all";

pub const SEARCH_HELP: &str = "\
Samples --n distinct architectures of the space under --seed, scores each once (a fixed batch), ranks \
them by --score (higher is better; `combined` = rank-average of epe, naswot and params) and prints the \
best as NASL: the space program with each decision of the entry block replaced by its chosen \
alternative. The ranking goes to stderr (or everything as JSON with --json).

Examples:
  nasc search random examples/nb201_space.nasl --n 100 > best.nasl
  nasc search random examples/nb201_space.nasl --score naswot --n 500 --batch 64 --json";

/// Options of a scoring run shared by `score` and `search random`.
#[derive(clap::Args, Debug, Clone)]
pub struct ScoreRunArgs {
    /// The dataset (as for `nasc train`: fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, csv:…).
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    /// Samples in the labelled batch.
    #[arg(long, default_value_t = 256)]
    pub batch: i64,
    /// Seed of the batch, of the initial weights and of sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch intra-op threads (default: libtorch's choice).
    #[arg(long)]
    pub threads: Option<i32>,
    /// Draw a new batch for every architecture (the EPE-NAS reference) instead of one fixed batch.
    #[arg(long)]
    pub fresh_batch: bool,
    /// The EPE-NAS form: `paper` (pairwise form above 100 classes) or `code` (the released code: always
    /// the sum form).
    #[arg(long, default_value = "paper", value_parser = ["paper", "code"])]
    pub epe_classes: String,
    /// Samples per forward pass (default: the whole batch, halved on out-of-memory). In train mode batch
    /// norm then uses per-chunk statistics (docs/scoring.md).
    #[arg(long)]
    pub chunk: Option<i64>,
    /// Batch norm with running statistics instead of batch statistics (per-sample Jacobians become
    /// independent, so chunking is exact).
    #[arg(long)]
    pub eval_mode: bool,
    /// Keep the default NCHW memory format (by default convolutions run channels-last, which libtorch's
    /// CPU kernels do faster; the values are the same up to float rounding).
    #[arg(long)]
    pub nchw: bool,
}

impl ScoreRunArgs {
    fn options(&self, scores: Vec<ScoreKind>) -> ScoreOptions {
        ScoreOptions {
            scores,
            data: self.data.clone(),
            batch: self.batch,
            seed: self.seed,
            fresh_batch: self.fresh_batch,
            epe_classes: if self.epe_classes == "code" {
                EpeClasses::Code
            } else {
                EpeClasses::Paper
            },
            device: self.device.clone(),
            chunk: self.chunk,
            train_mode: !self.eval_mode,
            channels_last: !self.nchw,
            threads: self.threads,
        }
    }
}

/// `nasc score` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ScoreArgs {
    /// NASL files: networks, or a search space (with --sample, --against or --choose).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The entry block (default: each file's last `network`).
    #[arg(long)]
    pub block: Option<String>,
    /// An input shape, `NAME=D0,D1,…` (repeatable).
    #[arg(long = "input", value_name = "NAME=SHAPE")]
    pub inputs: Vec<String>,
    /// An alternative for a decision, `NAME=INDEX` (repeatable; fixed also when sampling).
    #[arg(long = "choose", value_name = "NAME=INDEX")]
    pub choices: Vec<String>,
    /// Scores to compute, comma-separated (see below), `all` or `default`.
    #[arg(long, default_value = "default")]
    pub scores: String,
    /// Score this many distinct architectures drawn at random from the space (seeded).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Score the architectures of this results CSV and correlate the scores with its accuracies.
    #[arg(long, value_name = "CSV", conflicts_with = "sample")]
    pub against: Option<PathBuf>,
    /// Rank by this score (default: combined when computed, else the first score).
    #[arg(long, value_name = "SCORE")]
    pub sort: Option<String>,
    #[command(flatten)]
    pub run: ScoreRunArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc search` drivers.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum SearchCommand {
    /// Random search with a training-free score; prints the best architecture as NASL.
    #[command(after_help = SEARCH_HELP)]
    Random(RandomArgs),
}

/// `nasc search random` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct RandomArgs {
    /// The search-space program.
    pub file: PathBuf,
    /// The entry block (default: the file's last `network`).
    #[arg(long)]
    pub block: Option<String>,
    /// Fix a decision, `NAME=INDEX` (repeatable); the others are drawn.
    #[arg(long = "choose", value_name = "NAME=INDEX")]
    pub choices: Vec<String>,
    /// The score to maximise: one of the scores, or `combined`.
    #[arg(long, default_value = "epe")]
    pub score: String,
    /// Architectures to sample.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    #[command(flatten)]
    pub run: ScoreRunArgs,
    /// Print JSON on stdout (the ranking, the best choices and its NASL).
    #[arg(long)]
    pub json: bool,
}

/// CPU time of this process (all threads, user + system) from /proc/self/stat, in seconds (Linux; 0
/// elsewhere). Resolution: one clock tick (10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name (which is in parentheses and may hold spaces)
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `f`, adding its wall-clock and CPU durations to `wall` and `cpu`.
fn timed<T>(wall: &mut f64, cpu: &mut f64, f: impl FnOnce() -> T) -> T {
    let (t, c) = (std::time::Instant::now(), cpu_seconds());
    let r = f();
    *wall += t.elapsed().as_secs_f64();
    *cpu += cpu_seconds() - c;
    r
}

fn usage(m: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {m}");
    ExitCode::from(2)
}

/// Checks a file; prints its errors (exit 1) or returns the program.
fn checked(file: &PathBuf) -> Result<Program, ExitCode> {
    if let Some(code) = missing_files(std::slice::from_ref(file)) {
        return Err(code);
    }
    let r = check::check_paths(std::slice::from_ref(file));
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, &r.program.sources, true);
        eprintln!("{}", summary(&r, 1));
        return Err(ExitCode::from(1));
    }
    Ok(r.program)
}

fn base_options(
    block: &Option<String>,
    inputs: &[String],
    choices: &[String],
    batch: i64,
) -> Result<BuildOptions, ExitCode> {
    let mut o = BuildOptions {
        block: block.clone(),
        batch: Some(batch),
        ..Default::default()
    };
    for (k, v) in parse_kv(inputs, "NAME=D0,D1,…").map_err(usage)? {
        let dims: Result<Vec<i64>, _> = v.split(',').map(|d| d.trim().parse::<i64>()).collect();
        let dims = dims.map_err(|_| {
            usage(format!(
                "`{v}` is not a comma-separated list of sizes (input `{k}`)"
            ))
        })?;
        o.inputs.insert(k, dims);
    }
    for (k, v) in parse_kv(choices, "NAME=INDEX").map_err(usage)? {
        let i = v.parse::<usize>().map_err(|_| {
            usage(format!(
                "`{v}` is not an alternative index (decision `{k}`)"
            ))
        })?;
        o.choices.insert(k, i);
    }
    Ok(o)
}

fn build_failed(e: BuildError, sources: &SourceMap, context: &str) -> ExitCode {
    match e {
        BuildError::Diagnostics(ds) => {
            print_diagnostics(&ds, sources, false);
            ExitCode::from(1)
        }
        BuildError::Usage(m) => usage(format!("{context}{m}")),
    }
}

fn score_failed(e: &ScoreError, sources: &SourceMap) -> ExitCode {
    match e {
        ScoreError::Lower(l) => fail_lower(l, sources),
        other => usage(other),
    }
}

fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    if total < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "scoring [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn parse_key(s: &str, scores: &[ScoreKind]) -> Result<Option<ScoreKind>, String> {
    if s == "combined" {
        return Ok(None);
    }
    let k = ScoreKind::parse_list(s).map_err(|e| e.to_string())?;
    match k.as_slice() {
        [one] if scores.contains(one) => Ok(Some(*one)),
        [one] => Err(format!("cannot sort by `{one}`: it is not among --scores")),
        _ => Err(format!("`{s}` is not one score")),
    }
}

/// The ranked table.
fn table(rows: &[ArchScores], files: Option<&[String]>) -> String {
    let mut cols: Vec<String> = vec!["rank".into()];
    let combined = rows.iter().any(|r| r.combined.is_some());
    if combined {
        cols.push("combined".into());
    }
    let names: Vec<String> = rows
        .first()
        .map(|r| {
            r.scores
                .keys()
                .filter(|k| *k != "params" && *k != "macs")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    cols.extend(names.iter().cloned());
    cols.push("params".into());
    cols.push("MACs".into());
    cols.push("arch".into());
    let mut cells: Vec<Vec<String>> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut c = vec![(i + 1).to_string()];
        if combined {
            c.push(r.combined.as_ref().map_or("-".into(), |s| s.to_string()));
        }
        for n in &names {
            c.push(r.scores.get(n).map_or("-".into(), |s| s.to_string()));
        }
        c.push(crate::lower::cost::thousands(r.live_params));
        c.push(crate::lower::cost::thousands(r.live_macs));
        let mut arch = r.arch.clone();
        if let Some(f) = files {
            arch = format!("{} {arch}", f.get(i).map_or("", String::as_str));
        }
        if arch.trim().is_empty() {
            arch = r.network.clone();
        }
        c.push(arch.trim().to_string());
        cells.push(c);
    }
    let widths: Vec<usize> = (0..cols.len())
        .map(|k| {
            cells
                .iter()
                .map(|c| c[k].chars().count())
                .chain([cols[k].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |c: &[String], out: &mut String| {
        let last = c.len() - 1;
        for (k, v) in c.iter().enumerate() {
            if k == last {
                out.push_str(v);
            } else {
                out.push_str(&format!("{v:>w$}  ", w = widths[k]));
            }
        }
        out.push('\n');
    };
    line(&cols, &mut out);
    for c in &cells {
        line(c, &mut out);
    }
    out
}

/// `nasc score`.
pub fn score_cmd(a: &ScoreArgs) -> ExitCode {
    if let Some(code) = missing_files(&a.files) {
        return code;
    }
    let kinds = match ScoreKind::parse_list(&a.scores) {
        Ok(k) => k,
        Err(e) => return usage(e),
    };
    let key = match a.sort.as_deref().map(|s| parse_key(s, &kinds)).transpose() {
        Ok(k) => k.flatten(),
        Err(e) => return usage(e),
    };
    if (a.sample.is_some() || a.against.is_some()) && a.files.len() != 1 {
        return usage("--sample and --against take one search-space file");
    }
    let measured = match &a.against {
        Some(p) => match results::read_results(p) {
            Ok(m) => Some(m),
            Err(e) => return usage(e),
        },
        None => None,
    };
    let base = match base_options(&a.block, &a.inputs, &a.choices, a.run.batch) {
        Ok(b) => b,
        Err(c) => return c,
    };
    // the architectures: (graph, file label)
    let t_build = std::time::Instant::now();
    let mut graphs: Vec<Graph> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut sources = SourceMap::new();
    for f in &a.files {
        let prog = match checked(f) {
            Ok(p) => p,
            Err(c) => return c,
        };
        let space = Space {
            program: &prog,
            base: base.clone(),
        };
        if let Some(m) = &measured {
            for row in m {
                match space.build(&row.choices) {
                    Ok(g) => graphs.push(g),
                    Err(e) => {
                        let ctx = format!(
                            "`{}` line {} (`{}`): ",
                            a.against
                                .as_ref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default(),
                            row.line,
                            row.arch
                        );
                        return build_failed(e, &prog.sources, &ctx);
                    }
                }
            }
        } else if let Some(n) = a.sample {
            match space.sample(n, a.run.seed, |_, _| {}) {
                Ok(gs) => graphs.extend(gs),
                Err(e) => return build_failed(e, &prog.sources, ""),
            }
        } else {
            match space.build(&Default::default()) {
                Ok(g) => graphs.push(g),
                Err(e) => return build_failed(e, &prog.sources, ""),
            }
        }
        labels.resize(graphs.len(), f.display().to_string());
        sources = prog.sources;
    }
    if graphs.is_empty() {
        return usage("no architecture to score");
    }
    let build_seconds = t_build.elapsed().as_secs_f64();
    let t_score = std::time::Instant::now();
    let cpu0 = cpu_seconds();
    // one scorer (data fitted to the input) per input shape
    let mut scorers: Vec<(Vec<i64>, score::Scorer)> = Vec::new();
    let (mut setup_seconds, mut setup_cpu_seconds) = (0.0, 0.0);
    let bar = progress_bar(graphs.len());
    let mut rows = Vec::with_capacity(graphs.len());
    for (i, g) in graphs.iter().enumerate() {
        let shape: Vec<i64> = g
            .inputs
            .iter()
            .flat_map(|&k| g.nodes[k].shape.iter().skip(1).copied())
            .collect();
        let k = match scorers.iter().position(|(s, _)| *s == shape) {
            Some(k) => k,
            None => match timed(&mut setup_seconds, &mut setup_cpu_seconds, || {
                score::Scorer::new(a.run.options(kinds.clone()), g)
            }) {
                Ok(s) => {
                    scorers.push((shape, s));
                    scorers.len() - 1
                }
                Err(e) => {
                    bar.finish_and_clear();
                    return score_failed(&e, &sources);
                }
            },
        };
        let scorer = &scorers[k].1;
        match scorer.score(g, i as u64) {
            Ok(s) => rows.push(s),
            Err(e) => {
                bar.finish_and_clear();
                return score_failed(&e, &sources);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let score_seconds = t_score.elapsed().as_secs_f64() - setup_seconds;
    let score_cpu_seconds = cpu_seconds() - cpu0 - setup_cpu_seconds;
    score::combine(&mut rows);
    let correlations = measured.as_ref().map(|m| {
        let acc: Vec<f64> = m.iter().map(|r| r.accuracy).collect();
        results::correlate(&rows, &acc)
    });
    // rank (the correlations above use the file order)
    let order = score::ranking(&rows, key);
    let ranked: Vec<ArchScores> = order.iter().map(|&i| rows[i].clone()).collect();
    let files: Vec<String> = order.iter().map(|&i| labels[i].clone()).collect();
    if a.json {
        let v = serde_json::json!({
            "scores": kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "higher_is_better": true,
            "data": a.run.data,
            "batch": a.run.batch,
            "seed": a.run.seed,
            "fresh_batch": a.run.fresh_batch,
            "epe_classes": a.run.epe_classes,
            "batch_norm": if a.run.eval_mode { "running statistics" } else { "batch statistics" },
            "memory_format": if a.run.nchw { "nchw" } else { "channels_last" },
            "build_seconds": build_seconds,
            "setup_seconds": setup_seconds,
            "score_seconds": score_seconds,
            "score_cpu_seconds": score_cpu_seconds,
            "architectures": ranked.iter().zip(&files).map(|(r, f)| {
                let mut j = serde_json::to_value(r).unwrap_or_default();
                if let Some(o) = j.as_object_mut() {
                    o.insert("file".into(), serde_json::json!(f));
                }
                j
            }).collect::<Vec<_>>(),
            "correlations": correlations,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let multi = a.files.len() > 1;
    print!("{}", table(&ranked, multi.then_some(files.as_slice())));
    let dead = ranked.iter().filter(|r| !r.no_signal.is_empty()).count();
    if dead > 0 {
        eprintln!("{dead} architecture(s) with no signal in some score (sorted last):");
        for r in ranked.iter().filter(|r| !r.no_signal.is_empty()).take(5) {
            let mut why: Vec<String> = r
                .no_signal
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let first = r.no_signal.values().next();
            if r.no_signal.len() > 1 && r.no_signal.values().all(|v| Some(v) == first) {
                why = vec![format!(
                    "every score: {}",
                    first.cloned().unwrap_or_default()
                )];
            }
            eprintln!(
                "  {}: {}",
                if r.arch.is_empty() {
                    &r.network
                } else {
                    &r.arch
                },
                why.join("; ")
            );
        }
    }
    if let Some(c) = ranked.iter().find_map(|r| r.chunk) {
        eprintln!("note: the batch was split into chunks of {c} samples (docs/scoring.md)");
    }
    if let Some(cs) = &correlations {
        println!();
        println!(
            "{:<10} {:>5} {:>10} {:>12}",
            "score", "n", "Kendall τb", "Spearman ρ"
        );
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
        for c in cs {
            println!(
                "{:<10} {:>5} {:>10} {:>12}",
                c.score,
                c.n,
                f(c.kendall_tau_b),
                f(c.spearman_rho)
            );
        }
    }
    if let Some(best) = ranked
        .first()
        .filter(|r| !r.arch.is_empty() && score::sort_key(r, key).value().is_some())
    {
        let flags: Vec<String> = best
            .arch
            .split(' ')
            .map(|p| format!("--choose {p}"))
            .collect();
        eprintln!(
            "best: nasc train {} {}",
            files.first().map_or("", String::as_str),
            flags.join(" ")
        );
    }
    ExitCode::SUCCESS
}

/// `nasc search random`.
pub fn search_cmd(c: &SearchCommand) -> ExitCode {
    let SearchCommand::Random(a) = c;
    let key = if a.score == "combined" {
        None
    } else {
        match ScoreKind::parse_list(&a.score) {
            Ok(k) if k.len() == 1 => Some(k[0]),
            Ok(_) => return usage(format!("`{}` is not one score", a.score)),
            Err(e) => return usage(e),
        }
    };
    let mut kinds: Vec<ScoreKind> = match key {
        Some(k) => vec![k],
        None => ScoreKind::COMBINED.to_vec(),
    };
    for k in [ScoreKind::Params, ScoreKind::Macs] {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let prog = match checked(&a.file) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let base = match base_options(&a.block, &[], &a.choices, a.run.batch) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let space = Space {
        program: &prog,
        base,
    };
    let first = match space.build(&Default::default()) {
        Ok(g) => g,
        Err(e) => return build_failed(e, &prog.sources, ""),
    };
    let scorer = match score::Scorer::new(a.run.options(kinds), &first) {
        Ok(s) => s,
        Err(e) => return score_failed(&e, &prog.sources),
    };
    let bar = progress_bar(a.n);
    let t0 = std::time::Instant::now();
    let r = search::random_search(&space, &scorer, a.n, a.run.seed, key, |done, total, _| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let res = match r {
        Ok(r) => r,
        Err(SearchError::Build(e)) => return build_failed(e, &prog.sources, ""),
        Err(SearchError::Score(e)) => return score_failed(&e, &prog.sources),
    };
    let secs = t0.elapsed().as_secs_f64();
    let key_name = key.map_or("combined", ScoreKind::name);
    let header = res.best.as_ref().map(|g| {
        format!(
            "best of {} architectures of {} by {key_name} (nasc search random, seed {}, batch {}, {:.1} s)\n\
             choices: {}",
            res.ranked.len(),
            a.file.display(),
            a.run.seed,
            a.run.batch,
            secs,
            score::arch_label(g)
        )
    });
    let nasl = res
        .best
        .as_ref()
        .zip(header.as_ref())
        .and_then(|(g, h)| search::fixed_program(&prog, g, h));
    if a.json {
        let v = serde_json::json!({
            "score": key_name,
            "higher_is_better": true,
            "n": res.ranked.len(),
            "seconds": secs,
            "best": res.best.as_ref().map(score::arch_label),
            "best_nasl": nasl,
            "ranked": res.ranked,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        eprint!("{}", table(&res.ranked[..res.ranked.len().min(10)], None));
        eprintln!(
            "{} architectures scored in {secs:.1} s ({:.2}/s)",
            res.ranked.len(),
            res.ranked.len() as f64 / secs.max(1e-9)
        );
        match &nasl {
            Some(t) => print!("{t}"),
            None => {
                eprintln!("no architecture has a signal for `{key_name}`");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
