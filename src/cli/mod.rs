//! The command-line edge: argument parsing (clap), running the stages, and printing. The only module that
//! writes to stdout/stderr or decides exit codes (0 success, 1 the program has errors, 2 the command could
//! not run: bad usage, unreadable files).

pub mod render;
pub mod score;
mod synth;

use crate::base::{Diagnostic, SourceMap};
use crate::check::{self, CheckResult, ShapeDisplay, Value};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  nasc check examples/*.nasl          check programs, report every error with file:line:col
  nasc check --json model.nasl         the same diagnostics as JSON (for editors and scripts)
  nasc shapes examples/cifarnet.nasl   the inferred shape of every binding
  nasc fmt --check examples/*.nasl     fail if a file is not in canonical form
  nasc fmt model.nasl                  rewrite a file in canonical form
  nasc synth --replace examples/cifarnet.nasl:h_1   synthesize a new block with the same properties (z3)
  nasc score examples/nb201_space.nasl --sample 20   rank 20 sampled cells by EPE-NAS & co. (no training)
  nasc lsp                             the language server, for editors (docs/editor.md)

The language is described in docs/language.md, every diagnostic code in docs/diagnostics.md.";

/// nasc — a compiler toolchain for neural architecture search.
///
/// Write networks and search spaces as NASL programs; nasc checks their shapes symbolically, formats
/// them, and (in later stages) abstracts, synthesizes, lowers, scores and searches them.
#[derive(Parser, Debug)]
#[command(name = "nasc", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check NASL files: syntax, names, types and symbolic shapes. Exit 0 when clean, 1 on errors.
    #[command(
        after_help = "Every error of every file is reported at once. Warnings do not fail the check \
unless --deny-warnings is given. Imports are followed (std.X is stdlib/X.nasl)."
    )]
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print diagnostics as JSON (one array) on stdout.
        #[arg(long)]
        json: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// Do not print warnings.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Format NASL files in the canonical layout (in place), or check that they are.
    #[command(
        after_help = "Comments are kept. A file with syntax errors is left untouched and its errors \
are printed. `nasc fmt -` formats standard input to standard output."
    )]
    Fmt {
        /// Files to format (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write: exit 1 and list the files that are not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Build the IR of a network (one architecture of a space) and print it.
    #[command(
        after_help = "The entry is the last `network` of the file unless --block names another. Inputs \
take their declared shapes with the batch dimension set by --batch; --input overrides a shape. A search \
space is built for one architecture: --choose NAME=INDEX picks an alternative per decision (default 0); \
the decisions and their names are listed by `nasc shapes`.\n\nExamples:\n  nasc ir examples/cifarnet.nasl\n  \
nasc ir examples/nb201_space.nasl --choose e01=3 --choose e12=1 --json"
    )]
    Ir {
        #[command(flatten)]
        arch: ArchArgs,
        /// Batch size for symbolic batch dimensions.
        #[arg(long, default_value_t = 1)]
        batch: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Count parameters and MACs per block and in total, and activation memory for a batch size.
    #[command(
        after_help = "MACs are multiply-accumulates of conv and linear layers for one sample (the \
AttentiveNAS / Once-for-All counter's convention; papers call them FLOPs); parameters include norm \
weights but not batch-norm running statistics. See docs/cost.md.\n\nExamples:\n  nasc cost \
examples/resnet50.nasl\n  nasc cost examples/resnet20.nasl --batch 128 --depth 2"
    )]
    Cost {
        #[command(flatten)]
        arch: ArchArgs,
        /// Batch size for the activation-memory figures.
        #[arg(long, default_value_t = 1)]
        batch: i64,
        /// Path components that name a block in the table (1: top-level `let`s).
        #[arg(long, default_value_t = 1)]
        depth: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train a network on a dataset (default: Fashion-MNIST) and report validation accuracy.
    #[command(
        after_help = "The training set is split under --seed into train and a held-out validation \
split (--val images); the test set is only used by `nasc eval --part test`. Images are normalised with \
the training part's per-channel statistics and fitted to the network's input shape. Checkpoints \
(--save) are safetensors files whose tensor names are the IR paths (`h_1.conv.weight`), as in a PyTorch \
state dict.\n\nDatasets (--data): fashion-mnist (default, /usr/share/datasets/fashion-mnist), idx:DIR \
(MNIST-style IDX files, gz or not), cifar10:DIR, cifar100:DIR (binary batches), \
csv:TRAIN[,TEST]:C,H,W[:first] (label last unless :first).\n\nExamples:\n  nasc train \
examples/fmnist_cnn.nasl --epochs 1 --save fmnist.safetensors\n  nasc train examples/resnet20.nasl \
--data cifar10:DIR --augment --epochs 30 --device cuda"
    )]
    Train {
        #[command(flatten)]
        arch: ArchArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Epochs.
        #[arg(long, default_value_t = 1)]
        epochs: usize,
        /// Learning rate (peak of the schedule).
        #[arg(long)]
        lr: Option<f64>,
        /// Optimizer: sgd (momentum 0.9, Nesterov) or adamw.
        #[arg(long, default_value = "sgd", value_parser = ["sgd", "adamw"])]
        optimizer: String,
        /// Learning-rate schedule.
        #[arg(long, default_value = "cosine", value_parser = ["cosine", "constant"])]
        schedule: String,
        /// Weight decay (default 5e-4 for sgd, 0.05 for adamw).
        #[arg(long)]
        weight_decay: Option<f64>,
        /// Random crop (padding 4) and horizontal flip on training batches.
        #[arg(long)]
        augment: bool,
        /// Mixed precision (autocast) on CUDA.
        #[arg(long)]
        amp: bool,
        /// Use at most this many training images (quick runs).
        #[arg(long)]
        limit: Option<i64>,
        /// Stop each epoch after this many steps.
        #[arg(long)]
        max_steps: Option<usize>,
        /// Save the trained weights to this file (.safetensors).
        #[arg(long, value_name = "CKPT")]
        save: Option<PathBuf>,
        /// Start from these weights.
        #[arg(long, value_name = "CKPT")]
        weights: Option<PathBuf>,
        /// Print the epoch reports as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate trained weights on the validation or test split.
    #[command(
        after_help = "Use the same --data, --val and --seed as for training so that the validation \
split is the same one.\n\nExample:\n  nasc eval examples/fmnist_cnn.nasl --weights fmnist.safetensors \
--part test"
    )]
    Eval {
        #[command(flatten)]
        arch: ArchArgs,
        #[command(flatten)]
        run: RunArgs,
        /// The checkpoint (from `nasc train --save`).
        #[arg(long, value_name = "CKPT")]
        weights: PathBuf,
        /// The split.
        #[arg(long, default_value = "test", value_parser = ["val", "test", "train"])]
        part: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a network for PyTorch: TorchScript (traced) and/or readable PyTorch source.
    #[command(
        after_help = "The TorchScript module is traced in eval mode at --batch (load it with \
torch.jit.load). The PyTorch source defines an nn.Module whose state_dict names are the IR paths and \
a load_nasc_checkpoint(model, path) that loads a `nasc train --save` checkpoint.\n\nExample:\n  \
nasc export examples/fmnist_cnn.nasl --weights fmnist.safetensors --torchscript fmnist.pt --pytorch \
fmnist.py"
    )]
    Export {
        #[command(flatten)]
        arch: ArchArgs,
        /// Write a traced TorchScript module here.
        #[arg(long, value_name = "OUT.pt")]
        torchscript: Option<PathBuf>,
        /// Write PyTorch source here.
        #[arg(long, value_name = "OUT.py")]
        pytorch: Option<PathBuf>,
        /// Weights to put in the TorchScript module (default: the seeded initial weights).
        #[arg(long, value_name = "CKPT")]
        weights: Option<PathBuf>,
        /// Batch size the graph is built (and traced) for.
        #[arg(long, default_value_t = 1)]
        batch: i64,
        /// Seed of the initial weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Measure training throughput (images/s) on synthetic data; scripts/bench_train.sh compares it
    /// with PyTorch eager.
    Bench {
        #[command(flatten)]
        arch: ArchArgs,
        /// Batch size.
        #[arg(long, default_value_t = 128)]
        batch: i64,
        /// Timed steps.
        #[arg(long, default_value_t = 20)]
        steps: usize,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Device: cpu, cuda or cuda:N.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// libtorch intra-op threads.
        #[arg(long)]
        threads: Option<i32>,
        /// Print only the number.
        #[arg(long)]
        quiet: bool,
    },
    /// Print the properties (shapes, depths, mixing matrices) of a network or of a subgraph of it.
    #[command(
        after_help = "Without a selection the whole network is taken (graph inputs → graph outputs). \
--block PATH takes the nodes of one block instance (a path prefix as printed by `nasc ir`, e.g. h_1); \
--subgraph FROM..TO takes every node between two nodes. The JSON schema is in docs/properties.md.\n\n\
Examples:\n  nasc props examples/cifarnet.nasl\n  nasc props examples/cifarnet.nasl --block h_1 --json\n  \
nasc props examples/cifarnet.nasl --subgraph h_1.conv..h_2.avg_pool"
    )]
    Props {
        /// The NASL file.
        file: PathBuf,
        /// A block instance path: the subgraph of its nodes.
        #[arg(long, conflicts_with = "subgraph")]
        block: Option<String>,
        /// A node range `FROM..TO` (node paths).
        #[arg(long, value_name = "PATH..PATH")]
        subgraph: Option<String>,
        /// The entry block (default: the file's last `network`).
        #[arg(long)]
        entry: Option<String>,
        /// An alternative for a decision, `NAME=INDEX` (repeatable).
        #[arg(long = "choose", value_name = "NAME=INDEX")]
        choices: Vec<String>,
        /// Batch size for symbolic batch dimensions.
        #[arg(long, default_value_t = 1)]
        batch: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the inferred shape of every binding of every block.
    #[command(
        after_help = "Blocks are checked on their own: tensor dimensions and integer parameters \
without defaults stay symbolic (B, C, H, out, …). Unknown sizes (after an undecided `if`) print as `_`."
    )]
    Shapes {
        /// The file.
        file: PathBuf,
        /// Only this block.
        #[arg(long)]
        block: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Synthesize NASL that satisfies target properties (shape, depth, mixing) with z3.
    #[command(after_help = synth::AFTER_HELP)]
    Synth(synth::SynthArgs),
    /// Run the language server on stdin/stdout (for editors; see docs/editor.md).
    Lsp,
    /// Training-free scores (EPE-NAS, NASWOT, synflow, …; higher is better) of networks or of a sample
    /// of a search space; correlations with measured accuracies.
    #[command(after_help = score::SCORE_HELP)]
    Score(score::ScoreArgs),
    /// Search drivers over a search space.
    #[command(subcommand)]
    Search(score::SearchCommand),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    check::with_big_stack(move || run(cli))
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn print_diagnostics(ds: &[Diagnostic], sources: &SourceMap, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in ds {
        if quiet && !d.is_error() {
            continue;
        }
        let _ = write!(err, "{}", render::render_text(d, sources, color()));
    }
}

fn summary(r: &CheckResult, files: usize) -> String {
    let errors = r.error_count();
    let warnings = r.diagnostics.len() - errors;
    format!("checked {files} file(s): {errors} error(s), {warnings} warning(s)",)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check {
            files,
            json,
            deny_warnings,
            quiet,
        } => {
            if let Some(code) = missing_files(&files) {
                return code;
            }
            let r = check::check_paths(&files);
            if json {
                let arr: Vec<_> = r
                    .diagnostics
                    .iter()
                    .map(|d| render::to_json(d, &r.program.sources))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
            } else {
                print_diagnostics(&r.diagnostics, &r.program.sources, quiet);
                eprintln!("{}", summary(&r, files.len()));
            }
            let failed = r.has_errors() || (deny_warnings && !r.diagnostics.is_empty());
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Props {
            file,
            block,
            subgraph,
            entry,
            choices,
            batch,
            json,
        } => {
            let arch = ArchArgs {
                file,
                block: entry,
                inputs: Vec::new(),
                choices,
            };
            props(&arch, block.or(subgraph), batch, json)
        }
        Command::Shapes { file, block, json } => shapes(&file, block.as_deref(), json),
        Command::Ir { arch, batch, json } => ir(&arch, batch, json),
        Command::Train {
            arch,
            run,
            epochs,
            lr,
            optimizer,
            schedule,
            weight_decay,
            augment,
            amp,
            limit,
            max_steps,
            save,
            weights,
            json,
        } => {
            let adamw = optimizer == "adamw";
            let cfg = crate::lower::train::TrainConfig {
                epochs,
                batch: run.batch,
                lr: lr.unwrap_or(if adamw { 1e-3 } else { 0.05 }),
                optimizer: if adamw {
                    crate::lower::train::OptimizerKind::AdamW
                } else {
                    crate::lower::train::OptimizerKind::Sgd
                },
                schedule: if schedule == "constant" {
                    crate::lower::train::Schedule::Constant
                } else {
                    crate::lower::train::Schedule::Cosine
                },
                momentum: 0.9,
                weight_decay: weight_decay.unwrap_or(if adamw { 0.05 } else { 5e-4 }),
                amp,
                max_steps,
            };
            train_cmd(
                &arch,
                &run,
                &cfg,
                augment,
                limit,
                save.as_deref(),
                weights.as_deref(),
                json,
            )
        }
        Command::Bench {
            arch,
            batch,
            steps,
            warmup,
            device,
            threads,
            quiet,
        } => {
            let (g, sources) = match build_graph(&arch, batch) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let r = crate::lower::parse_device(&device).and_then(|d| {
                if let Some(t) = threads {
                    crate::lower::set_threads(t);
                }
                crate::lower::seed(0);
                crate::lower::train::benchmark(&g, d, batch, steps, warmup)
            });
            match r {
                Ok(ips) if quiet => {
                    println!("{ips:.1}");
                    ExitCode::SUCCESS
                }
                Ok(ips) => {
                    println!(
                        "{}: {ips:.1} training images/s (batch {batch}, {steps} steps, {device}, {} threads)",
                        g.name,
                        crate::lower::threads()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail_lower(&e, &sources),
            }
        }
        Command::Export {
            arch,
            torchscript,
            pytorch,
            weights,
            batch,
            seed,
        } => export_cmd(
            &arch,
            torchscript.as_deref(),
            pytorch.as_deref(),
            weights.as_deref(),
            batch,
            seed,
        ),
        Command::Eval {
            arch,
            run,
            weights,
            part,
            json,
        } => eval_cmd(&arch, &run, &weights, &part, json),
        Command::Cost {
            arch,
            batch,
            depth,
            json,
        } => cost(&arch, batch, depth, json),
        Command::Synth(a) => synth::run(a),
        Command::Lsp => crate::lsp::run(),
        Command::Score(a) => score::score_cmd(&a),
        Command::Search(c) => score::search_cmd(&c),
    }
}

fn missing_files(files: &[PathBuf]) -> Option<ExitCode> {
    let missing: Vec<&PathBuf> = files.iter().filter(|f| !f.is_file()).collect();
    if missing.is_empty() {
        return None;
    }
    for f in missing {
        eprintln!("error: cannot read `{}`: no such file", f.display());
    }
    Some(ExitCode::from(2))
}

fn fmt(files: &[PathBuf], check_only: bool) -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in files {
        let (text, stdin) = if path.as_os_str() == "-" {
            let mut s = String::new();
            if std::io::stdin().read_to_string(&mut s).is_err() {
                eprintln!("error: cannot read standard input");
                return ExitCode::from(2);
            }
            (s, true)
        } else {
            match std::fs::read_to_string(path) {
                Ok(s) => (s, false),
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        };
        let mut sources = SourceMap::new();
        let fid = sources.add(path.clone(), text.clone());
        let parsed = crate::syntax::parse(fid, &text);
        if parsed.diagnostics.iter().any(Diagnostic::is_error) {
            print_diagnostics(&parsed.diagnostics, &sources, false);
            eprintln!("{}: not formatted (syntax errors)", path.display());
            status = ExitCode::from(1);
            continue;
        }
        let out = crate::syntax::print_module(&parsed.module);
        if stdin {
            print!("{out}");
        } else if out != text {
            if check_only {
                println!("{}", path.display());
                status = ExitCode::from(1);
            } else if let Err(e) = std::fs::write(path, &out) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    status
}

fn shapes(file: &PathBuf, only: Option<&str>, json: bool) -> ExitCode {
    if let Some(code) = missing_files(std::slice::from_ref(file)) {
        return code;
    }
    let r = check::check_paths(std::slice::from_ref(file));
    let sources = &r.program.sources;
    let blocks: Vec<&check::BlockReport> = r
        .blocks
        .iter()
        .filter(|b| r.program.block_module(b.id) == r.program.roots[0])
        .filter(|b| only.is_none_or(|n| b.name == n))
        .collect();
    if let Some(n) = only {
        if blocks.is_empty() {
            let names: Vec<&str> = r.blocks.iter().map(|b| b.name.as_str()).collect();
            eprintln!(
                "error: `{}` has no block `{n}` (it defines: {})",
                file.display(),
                names.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let line_col = |s: crate::base::Span| sources.get(s.file).map(|f| f.line_col(s.start as usize));
    let prog = &r.program;
    let show = |v: &Value| match v {
        Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
        Value::Block(b) => block_value_text(prog, b),
        other => other.to_string(),
    };
    if json {
        let arr: Vec<_> = blocks
            .iter()
            .map(|b| {
                serde_json::json!({
                    "block": b.name,
                    "kind": if b.kind == crate::syntax::ast::BlockKind::Network { "network" } else { "block" },
                    "signature": b.signature,
                    "result": show(&b.result),
                    "bindings": b.bindings.iter().map(|x| {
                        let lc = line_col(x.span);
                        serde_json::json!({"name": x.name, "line": lc.map(|l| l.line), "column": lc.map(|l| l.col), "value": show(&x.value), "kind": x.value.kind()})
                    }).collect::<Vec<_>>(),
                    "decisions": b.decisions,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
    } else {
        let mut out = String::new();
        for b in &blocks {
            let kw = if b.kind == crate::syntax::ast::BlockKind::Network {
                "network"
            } else {
                "block"
            };
            out.push_str(&format!("{kw} {}\n", b.signature));
            let width = b
                .bindings
                .iter()
                .map(|x| x.name.len())
                .max()
                .unwrap_or(0)
                .max(6);
            for x in &b.bindings {
                let lc = line_col(x.span)
                    .map(|l| format!("{}:{}", l.line, l.col))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {lc:>7}  {:<width$} : {}\n",
                    x.name,
                    show(&x.value)
                ));
            }
            out.push_str(&format!(
                "  {:>7}  {:<width$} : {}\n",
                "",
                "result",
                show(&b.result)
            ));
            if !b.decisions.is_empty() {
                out.push_str(&format!("  decisions ({}):\n", b.decisions.len()));
                for d in &b.decisions {
                    out.push_str(&format!("    {} ∈ {{{}}}\n", d.name, d.options.join(", ")));
                }
            }
            out.push('\n');
        }
        print!("{out}");
    }
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, sources, true);
        eprintln!("{}", summary(&r, 1));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn parse_kv(items: &[String], what: &str) -> Result<Vec<(String, String)>, String> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(format!("`{s}` is not `{what}`")),
        })
        .collect()
}

/// What names one architecture: the file, the entry block, input shapes and decisions.
#[derive(clap::Args, Debug, Clone)]
pub struct ArchArgs {
    /// The NASL file.
    pub file: PathBuf,
    /// The entry block (default: the file's last `network`).
    #[arg(long)]
    pub block: Option<String>,
    /// An input shape, `NAME=D0,D1,…` (repeatable).
    #[arg(long = "input", value_name = "NAME=SHAPE")]
    pub inputs: Vec<String>,
    /// An alternative for a decision, `NAME=INDEX` (repeatable).
    #[arg(long = "choose", value_name = "NAME=INDEX")]
    pub choices: Vec<String>,
}

/// Checks the file and builds the IR of one architecture; prints the problems and returns the exit
/// code on failure.
fn build_graph(
    a: &ArchArgs,
    batch: i64,
) -> Result<(crate::ir::Graph, crate::base::SourceMap), ExitCode> {
    let file = &a.file;
    if let Some(code) = missing_files(std::slice::from_ref(file)) {
        return Err(code);
    }
    let mut opts = crate::ir::BuildOptions {
        block: a.block.clone(),
        batch: Some(batch),
        ..Default::default()
    };
    let shapes = parse_kv(&a.inputs, "NAME=D0,D1,…").and_then(|kv| {
        kv.into_iter()
            .map(|(k, v)| {
                let dims: Result<Vec<i64>, _> =
                    v.split(',').map(|d| d.trim().parse::<i64>()).collect();
                dims.map(|d| (k.clone(), d)).map_err(|_| {
                    format!("`{v}` is not a comma-separated list of sizes (input `{k}`)")
                })
            })
            .collect::<Result<Vec<_>, String>>()
    });
    let picks = parse_kv(&a.choices, "NAME=INDEX").and_then(|kv| {
        kv.into_iter()
            .map(|(k, v)| {
                v.parse::<usize>()
                    .map(|i| (k.clone(), i))
                    .map_err(|_| format!("`{v}` is not an alternative index (decision `{k}`)"))
            })
            .collect::<Result<Vec<_>, String>>()
    });
    match (shapes, picks) {
        (Ok(s), Ok(c)) => {
            opts.inputs.extend(s);
            opts.choices.extend(c);
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(2));
        }
    }
    let r = check::check_paths(std::slice::from_ref(file));
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, &r.program.sources, true);
        eprintln!("{}", summary(&r, 1));
        return Err(ExitCode::from(1));
    }
    match crate::ir::build(&r.program, &opts) {
        Ok(g) => Ok((g, r.program.sources)),
        Err(crate::ir::BuildError::Diagnostics(ds)) => {
            print_diagnostics(&ds, &r.program.sources, false);
            Err(ExitCode::from(1))
        }
        Err(crate::ir::BuildError::Usage(m)) => {
            eprintln!("error: {m}");
            Err(ExitCode::from(2))
        }
    }
}

fn ir(arch: &ArchArgs, batch: i64, json: bool) -> ExitCode {
    match build_graph(arch, batch) {
        Ok((g, _)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&g).unwrap_or_default());
            } else {
                print!("{g}");
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn cost(arch: &ArchArgs, batch: i64, depth: usize, json: bool) -> ExitCode {
    match build_graph(arch, batch) {
        Ok((g, _)) => {
            let c = crate::lower::cost::cost(&g, depth.max(1));
            if json {
                println!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
            } else {
                print!("{c}");
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Options shared by the commands that run a network on data.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The dataset (see below).
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: i64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seed of initialisation, the validation split and shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Images of the training set held out for validation.
    #[arg(long, default_value_t = 5000)]
    pub val: i64,
    /// libtorch intra-op threads (default: libtorch's choice).
    #[arg(long)]
    pub threads: Option<i32>,
}

fn fail_lower(e: &crate::lower::LowerError, sources: &SourceMap) -> ExitCode {
    match e.to_diagnostic() {
        Some(d) => print_diagnostics(std::slice::from_ref(&d), sources, false),
        None => eprintln!("error: {e}"),
    }
    ExitCode::from(2)
}

/// Everything a run on data needs: the graph, its lowered network, the splits.
fn prepare_run(
    arch: &ArchArgs,
    run: &RunArgs,
    augment: bool,
    limit: Option<i64>,
) -> Result<crate::lower::Session, ExitCode> {
    let (g, sources) = build_graph(arch, run.batch)?;
    let opts = crate::lower::SessionOptions {
        data: run.data.clone(),
        device: run.device.clone(),
        seed: run.seed,
        val: run.val,
        threads: run.threads,
        augment,
        limit,
    };
    crate::lower::Session::new(g, sources, &opts).map_err(|(e, sources)| fail_lower(&e, &sources))
}

#[allow(clippy::too_many_arguments)]
fn train_cmd(
    arch: &ArchArgs,
    run: &RunArgs,
    cfg: &crate::lower::train::TrainConfig,
    augment: bool,
    limit: Option<i64>,
    save: Option<&std::path::Path>,
    weights: Option<&std::path::Path>,
    json: bool,
) -> ExitCode {
    let mut s = match prepare_run(arch, run, augment, limit) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Some(w) = weights {
        if let Err(e) = s.load(w) {
            return fail_lower(&e, &s.sources);
        }
    }
    eprintln!(
        "training {} ({} parameters) on {} train / {} validation images of {}, {} epoch(s), batch {}, {}",
        s.net.graph.name,
        crate::lower::cost::thousands(s.net.num_params()),
        s.splits.train.len(),
        s.splits.val.len(),
        run.data,
        cfg.epochs,
        cfg.batch,
        run.device
    );
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let t0 = std::time::Instant::now();
    let result = s.train(cfg, &mut |p| {
        if bar.length() != Some(p.steps as u64) {
            bar.set_length(p.steps as u64);
            bar.reset();
        }
        bar.set_prefix(format!("{}/{}", p.epoch + 1, p.epochs));
        bar.set_position(p.step as u64);
        bar.set_message(format!(
            "loss {:.4} acc {:.2}% {:.0} img/s",
            p.loss,
            100.0 * p.acc,
            p.images_per_s
        ));
        if p.step == p.steps {
            bar.finish_and_clear();
        }
    });
    bar.finish_and_clear();
    let reports = match result {
        Ok(r) => r,
        Err(e) => return fail_lower(&e, &s.sources),
    };
    for r in &reports {
        eprintln!(
            "epoch {}/{}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | {:.0} img/s, {:.1} s",
            r.epoch + 1,
            cfg.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.val.loss,
            100.0 * r.val.accuracy,
            r.images_per_s,
            r.seconds
        );
    }
    if let Some(last) = reports.last() {
        println!(
            "validation accuracy: {:.2}% ({} images) after {} epoch(s), {:.1} s",
            100.0 * last.val.accuracy,
            last.val.images,
            reports.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    }
    if let Some(path) = save {
        if let Err(e) = s.save(path) {
            return fail_lower(&e, &s.sources);
        }
        eprintln!("saved {}", path.display());
    }
    ExitCode::SUCCESS
}

fn eval_cmd(
    arch: &ArchArgs,
    run: &RunArgs,
    weights: &std::path::Path,
    part: &str,
    json: bool,
) -> ExitCode {
    let mut s = match prepare_run(arch, run, false, None) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(e) = s.load(weights) {
        return fail_lower(&e, &s.sources);
    }
    let p = match part {
        "val" => crate::data::Part::Val,
        "train" => crate::data::Part::Train,
        _ => crate::data::Part::Test,
    };
    match s.evaluate(p, run.batch) {
        Ok(ev) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&ev).unwrap_or_default());
            } else {
                println!(
                    "{part} accuracy: {:.2}% ({} images), loss {:.4}, {:.1} s",
                    100.0 * ev.accuracy,
                    ev.images,
                    ev.loss,
                    ev.seconds
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail_lower(&e, &s.sources),
    }
}

fn export_cmd(
    arch: &ArchArgs,
    torchscript: Option<&std::path::Path>,
    pytorch: Option<&std::path::Path>,
    weights: Option<&std::path::Path>,
    batch: i64,
    seed: u64,
) -> ExitCode {
    if torchscript.is_none() && pytorch.is_none() {
        eprintln!("error: nothing to export: give --torchscript OUT.pt and/or --pytorch OUT.py");
        return ExitCode::from(2);
    }
    let (g, sources) = match build_graph(arch, batch) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if let Some(out) = torchscript {
        crate::lower::seed(seed);
        if let Err(e) = crate::lower::export::torchscript(&g, weights, out) {
            return fail_lower(&e, &sources);
        }
        eprintln!(
            "wrote {} (TorchScript, traced at batch {batch})",
            out.display()
        );
    }
    if let Some(out) = pytorch {
        let text = crate::lower::export::pytorch_source(&g, &arch.file.display().to_string());
        if let Err(e) = std::fs::write(out, text) {
            eprintln!("error: cannot write `{}`: {e}", out.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {} (PyTorch source)", out.display());
    }
    ExitCode::SUCCESS
}
/// A block value by name (`basic_block`, `relu`, `one of conv3x3 | skip (decision e01)`).
fn block_value_text(prog: &check::Program, b: &check::value::BlockVal) -> String {
    use check::value::BlockVal;
    match b {
        BlockVal::Def(id) => prog.block_name(*id),
        BlockVal::Op(n) => n.to_string(),
        BlockVal::Choice { decision, options } => {
            let names: Vec<String> = options.iter().map(|o| block_value_text(prog, o)).collect();
            format!("one of {} (decision `{decision}`)", names.join(" | "))
        }
        BlockVal::Unknown => "Block".into(),
    }
}

fn props(arch: &ArchArgs, select: Option<String>, batch: i64, json: bool) -> ExitCode {
    use crate::ir::subgraph::{Subgraph, SubgraphError};
    use crate::props::PropsError;
    let g = match build_graph(arch, batch) {
        Ok((g, _)) => g,
        Err(code) => return code,
    };
    let sub = match &select {
        Some(s) => Subgraph::select(&g, s),
        None => Subgraph::whole(&g),
    };
    match sub
        .map_err(PropsError::from)
        .and_then(|sub| crate::props::infer(&g, &sub))
    {
        Ok(mut p) => {
            if let Some(src) = &mut p.source {
                src.subgraph = select.unwrap_or_default();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            } else {
                print!("{p}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut hint = String::new();
            if let PropsError::Subgraph(SubgraphError::UnknownPath(_)) = &e {
                let mut tops: Vec<&str> = g
                    .nodes
                    .iter()
                    .map(|n| n.path.split('.').next().unwrap_or(""))
                    .collect();
                tops.dedup();
                hint = format!(
                    " (top-level paths: {}; `nasc ir` lists every node)",
                    tops.join(", ")
                );
            }
            eprintln!("error: {e}{hint}");
            ExitCode::from(2)
        }
    }
}
