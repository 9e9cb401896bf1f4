//! The command-line edge: argument parsing (clap), running the stages, and printing. With `lsp`, the only
//! module that writes to stdout/stderr; the only one that decides exit codes (0 success, 1 the program has
//! errors, 2 the command could not run: bad usage, unreadable files).
//!
//! Every command is parsed here, so `nasc --help`, `nasc train --help` and usage errors need no libtorch.
//! The commands that need none run here, one file each (`check`, `fmt`, `shapes`, `ir`, `cost`, `props`,
//! `synth`; `lsp` is the `lsp` module); the others (`train`, `eval`, `export`, `bench`, `score`, `search`:
//! [`Command::needs_torch`]) are handed to the `nasc-torch` executable beside this one, which parses the
//! same [`Cli`] and runs them (`src/cli/torch/`, in the root crate). Library results are data
//! (`Serialize` and `Display` reports); this module only chooses the renderer and the exit code.

pub mod args;
pub mod bounds;
mod check;
mod cost;
mod fmt;
mod ir;
mod props;
pub mod render;
mod shapes;
mod synth;

pub use args::{ArchArgs, RunArgs};

use crate::base::{Diagnostic, SourceMap};
use crate::driver::{self, Failure};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
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
/// them, abstracts them into properties, synthesizes, lowers, trains, scores and searches them.
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
        #[arg(long, default_value_t = 1, value_parser = bounds::batch, allow_negative_numbers = true)]
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
        #[arg(long, default_value_t = 1, value_parser = bounds::batch, allow_negative_numbers = true)]
        batch: i64,
        /// Path components that name a block in the table (1: top-level `let`s).
        #[arg(long, default_value_t = 1, value_parser = bounds::count, allow_negative_numbers = true)]
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
csv:TRAIN[,TEST]:C,H,W[:first] (label last unless :first). CSV pixels are 8-bit intensities, \
integers 0 to 255 (used as they are, like IDX and CIFAR bytes; a fraction, a value outside 0–255 or NaN \
is an error naming the line); labels are class indices 0 … classes−1 of the network. A loss that becomes \
NaN or infinite stops training (exit 1) with the epoch and step.\n\nAfter every epoch the run's state \
goes to --checkpoint-dir (default with --save: SAVE.ckpt/); after a kill, the same command with --resume \
DIR continues from the last finished epoch.\n\nExamples:\n  nasc train \
examples/fmnist_cnn.nasl --epochs 1 --save fmnist.safetensors\n  nasc train examples/fmnist_cnn.nasl \
--epochs 5 --save w.safetensors --resume w.safetensors.ckpt   # after a kill\n  nasc train examples/resnet20.nasl \
--data cifar10:DIR --augment --epochs 30 --device cuda"
    )]
    Train {
        #[command(flatten)]
        arch: ArchArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Epochs.
        #[arg(long, default_value_t = 1, value_parser = bounds::count, allow_negative_numbers = true)]
        epochs: usize,
        /// Learning rate (peak of the schedule).
        #[arg(long, value_parser = bounds::positive, allow_negative_numbers = true)]
        lr: Option<f64>,
        /// Optimizer: sgd (momentum 0.9, Nesterov) or adamw.
        #[arg(long, default_value = "sgd", value_parser = ["sgd", "adamw"])]
        optimizer: String,
        /// Learning-rate schedule.
        #[arg(long, default_value = "cosine", value_parser = ["cosine", "constant"])]
        schedule: String,
        /// Weight decay (default 5e-4 for sgd, 0.05 for adamw).
        #[arg(long, value_parser = bounds::non_negative, allow_negative_numbers = true)]
        weight_decay: Option<f64>,
        /// Random crop (padding 4) and horizontal flip on training batches.
        #[arg(long)]
        augment: bool,
        /// Mixed precision (autocast) on CUDA.
        #[arg(long)]
        amp: bool,
        /// Use at most this many training images (quick runs).
        #[arg(long, value_parser = bounds::images, allow_negative_numbers = true)]
        limit: Option<i64>,
        /// Stop each epoch after this many steps.
        #[arg(long, value_parser = bounds::count, allow_negative_numbers = true)]
        max_steps: Option<usize>,
        /// Save the trained weights to this file (.safetensors).
        #[arg(long, value_name = "CKPT")]
        save: Option<PathBuf>,
        /// Start from these weights.
        #[arg(long, value_name = "CKPT")]
        weights: Option<PathBuf>,
        /// Keep the run's whole state in this folder after every epoch (weights, optimizer buffers,
        /// schedule position, epoch reports), so that a killed run continues with --resume. Default with
        /// --save: the folder SAVE.ckpt next to it, removed when the run finishes.
        #[arg(long, value_name = "DIR")]
        checkpoint_dir: Option<PathBuf>,
        /// Continue the killed run whose state is in DIR: give the same FILE and flags that started it
        /// (a flag that differs is an error naming it). The final weights equal an uninterrupted run's,
        /// bit for bit on CPU with the same --threads.
        #[arg(long, value_name = "DIR", conflicts_with = "weights")]
        resume: Option<PathBuf>,
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
        #[arg(long, default_value_t = 1, value_parser = bounds::batch, allow_negative_numbers = true)]
        batch: i64,
        /// Seed of the initial weights.
        #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
        seed: u64,
    },
    /// Measure training throughput (images/s) on synthetic data; scripts/bench_train.sh compares it
    /// with PyTorch eager.
    Bench {
        #[command(flatten)]
        arch: ArchArgs,
        /// Batch size.
        #[arg(long, default_value_t = 128, value_parser = bounds::batch, allow_negative_numbers = true)]
        batch: i64,
        /// Timed steps.
        #[arg(long, default_value_t = 20, value_parser = bounds::count, allow_negative_numbers = true)]
        steps: usize,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 3, value_parser = bounds::count0, allow_negative_numbers = true)]
        warmup: usize,
        /// Device: cpu, cuda or cuda:N.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// libtorch intra-op threads.
        #[arg(long, value_parser = bounds::threads, allow_negative_numbers = true)]
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
        #[arg(long, default_value_t = 1, value_parser = bounds::batch, allow_negative_numbers = true)]
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
    #[command(after_help = args::SYNTH_HELP)]
    Synth(args::SynthArgs),
    /// Run the language server on stdin/stdout (for editors; see docs/editor.md).
    Lsp,
    /// Training-free scores (EPE-NAS, NASWOT, synflow, …; higher is better) of networks or of a sample
    /// of a search space; correlations with measured accuracies.
    #[command(after_help = args::SCORE_HELP)]
    Score(args::ScoreArgs),
    /// Search drivers over a search space.
    #[command(subcommand)]
    Search(args::SearchCommand),
    /// Two-stage weight-sharing search (AttentiveNAS): train a supernet, search it, extract subnets.
    #[command(subcommand, after_help = args::SUPERNET_HELP)]
    Supernet(args::SupernetCommand),
}

impl Command {
    /// Whether the command runs networks on libtorch (and so runs in `nasc-torch`).
    pub fn needs_torch(&self) -> bool {
        matches!(
            self,
            Command::Train { .. }
                | Command::Eval { .. }
                | Command::Export { .. }
                | Command::Bench { .. }
                | Command::Score(_)
                | Command::Search(_)
                | Command::Supernet(_)
        )
    }
}

/// Entry point of the `nasc` executable.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    if cli.command.needs_torch() {
        return hand_to_torch();
    }
    crate::check::with_big_stack(move || run(cli))
}

/// Like other Unix tools, end quietly when the reader of our output goes away (`nasc ir … | head`)
/// instead of failing on the next write.
pub fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs a parsed command line of the commands that need no libtorch; the others are handed to
/// `nasc-torch` with this process's arguments.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check {
            files,
            json,
            deny_warnings,
            quiet,
        } => check::run(&files, json, deny_warnings, quiet),
        Command::Fmt { files, check } => fmt::run(&files, check),
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
            props::run(&arch, block.or(subgraph), batch, json)
        }
        Command::Shapes { file, block, json } => shapes::run(&file, block.as_deref(), json),
        Command::Ir { arch, batch, json } => ir::run(&arch, batch, json),
        Command::Cost {
            arch,
            batch,
            depth,
            json,
        } => cost::run(&arch, batch, depth, json),
        Command::Synth(a) => synth::run(a),
        Command::Lsp => crate::lsp::run(),
        Command::Train { .. }
        | Command::Eval { .. }
        | Command::Export { .. }
        | Command::Bench { .. }
        | Command::Score(_)
        | Command::Search(_)
        | Command::Supernet(_) => hand_to_torch(),
    }
}

/// The `nasc-torch` executable: `$NASC_TORCH`, else the one beside this executable.
pub fn torch_executable() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NASC_TORCH") {
        return Some(PathBuf::from(p));
    }
    let me = std::env::current_exe().ok()?;
    Some(me.with_file_name(format!("nasc-torch{}", std::env::consts::EXE_SUFFIX)))
}

/// Runs this command line in `nasc-torch` (on Unix, by `exec`: same process id, signals and exit code).
fn hand_to_torch() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let Some(exe) = torch_executable().filter(|p| p.is_file()) else {
        eprintln!(
            "error: `nasc {command}` runs networks on libtorch, in the `nasc-torch` executable, which was \
not found beside this one{}\n  help: build both with `cargo build --release` (or `make`), or set \
NASC_TORCH to its path",
            torch_executable()
                .map(|p| format!(" (`{}`)", p.display()))
                .unwrap_or_default()
        );
        return ExitCode::from(2);
    };
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        eprintln!("error: cannot run `{}`: {e}", exe.display());
        ExitCode::from(2)
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(2).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("error: cannot run `{}`: {e}", exe.display());
            ExitCode::from(2)
        }
    }
}

/// Whether stderr gets colours.
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints diagnostics to stderr (`quiet`: errors only).
pub fn print_diagnostics(ds: &[Diagnostic], sources: &SourceMap, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in ds {
        if quiet && !d.is_error() {
            continue;
        }
        let _ = write!(err, "{}", render::render_text(d, sources, color()));
    }
}

/// `checked N file(s): E error(s), W warning(s)`.
pub fn summary(ds: &[Diagnostic], files: usize) -> String {
    let errors = ds.iter().filter(|d| d.is_error()).count();
    let warnings = ds.len() - errors;
    format!("checked {files} file(s): {errors} error(s), {warnings} warning(s)",)
}

/// A usage error: the message, exit 2.
pub fn usage(m: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {m}");
    ExitCode::from(2)
}

/// Prints a front-end failure and returns its exit code: 1 when the program has errors, 2 when the
/// command could not run. `context` prefixes usage messages (which row of a results file, …).
pub fn fail(f: Failure, context: &str) -> ExitCode {
    match f {
        Failure::Diagnostics {
            diagnostics,
            sources,
            files,
        } => {
            match files {
                Some(n) => {
                    print_diagnostics(&diagnostics, &sources, true);
                    eprintln!("{}", summary(&diagnostics, n));
                }
                None => print_diagnostics(&diagnostics, &sources, false),
            }
            ExitCode::from(1)
        }
        Failure::Missing(paths) => {
            for f in paths {
                eprintln!("error: cannot read `{}`: no such file", f.display());
            }
            ExitCode::from(2)
        }
        Failure::Usage(m) => usage(format!("{context}{m}")),
    }
}

/// Checks the file and builds the IR of one architecture (the front-end driver); prints the problems and
/// returns the exit code on failure.
/// A decision left out of `--choose` is said on stderr (it takes alternative 0).
pub fn build_graph(a: &ArchArgs, batch: i64) -> Result<driver::Built, ExitCode> {
    let opts = a.spec(batch).options().map_err(|f| fail(f, ""))?;
    let built = driver::build(driver::Source::path(&a.file), &opts).map_err(|f| fail(f, ""))?;
    if let Some(n) = driver::defaulted_note(&built.graph, &opts.choices) {
        eprintln!("note: {n}");
    }
    Ok(built)
}
