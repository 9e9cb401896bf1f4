//! The arguments of the commands, parsed by the front end for all of them — including those that run
//! networks on libtorch (`train`, `eval`, `export`, `bench`, `score`, `search`), whose implementations
//! live in `nasc-torch` — so that `--help` and usage errors never load libtorch.

use super::bounds;
use std::path::PathBuf;

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

impl ArchArgs {
    /// The front-end driver's view of these arguments, at a batch size.
    pub fn spec(&self, batch: i64) -> crate::driver::ArchSpec<'_> {
        crate::driver::ArchSpec {
            block: self.block.as_deref(),
            batch: Some(batch),
            inputs: &self.inputs,
            choices: &self.choices,
        }
    }
}

/// Options shared by the commands that run a network on data.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The dataset (see below).
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    /// Batch size.
    #[arg(long, default_value_t = 128, value_parser = bounds::batch, allow_negative_numbers = true)]
    pub batch: i64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seed of initialisation, the validation split and shuffling.
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Images of the training set held out for validation.
    #[arg(long, default_value_t = 5000, value_parser = bounds::images, allow_negative_numbers = true)]
    pub val: i64,
    /// libtorch intra-op threads (default: libtorch's choice).
    #[arg(long, value_parser = bounds::threads, allow_negative_numbers = true)]
    pub threads: Option<i32>,
}

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
    #[arg(long, default_value_t = 1, value_parser = bounds::count, allow_negative_numbers = true)]
    pub count: usize,
    /// Randomise the choice among solutions, reproducibly.
    #[arg(long, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Give up (result "unknown", exit 3) after this many seconds.
    #[arg(long, default_value_t = 30.0, value_parser = bounds::seconds, allow_negative_numbers = true)]
    pub timeout: f64,
    /// What to prefer among satisfying programs: none (shortest first), params, flops, closest (fewest
    /// ops differing from the replaced subgraph; needs --replace).
    #[arg(long, default_value = "none")]
    pub objective: String,
    /// Mutate the target first with the alpha-NAS rules (docs/properties.md), using this seed.
    #[arg(long, value_name = "SEED", value_parser = bounds::seed, allow_negative_numbers = true)]
    pub mutate: Option<u64>,
    /// Name of the synthesized block.
    #[arg(long, default_value = "synth")]
    pub name: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub const SYNTH_HELP: &str = "\
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

pub const SCORE_HELP: &str = "\
Every score is oriented so that HIGHER IS BETTER. A score that cannot be computed (no path from the \
input to the output, a zero or constant Jacobian, a singular ReLU-code kernel, an overflow) is \
\"no signal\" and sorts last. Scores: epe (EPE-NAS), naswot, jacob_cov, synflow (reported as ln), snip, \
grad_norm, params, macs (of the live part of the network); `all`; the default is epe,naswot,params,macs. \
With epe, naswot and params, `combined` is their rank-average over the architectures scored together.

The batch is one fixed, seeded batch of --batch training images (so scores compare across \
architectures); --fresh-batch draws a new one per architecture, as the EPE-NAS reference does. Weights \
are initialised under --seed for every architecture. docs/scoring.md has every definition.

--against FILE scores the architectures listed in a CSV file with a header naming its columns (arch: \
`NAME=INDEX …` as --choose takes them, space-separated; the accuracy column: `accuracy`, or the one \
--against-column names) and prints Kendall's τ-b and Spearman's ρ of every score with the accuracies.

--out FILE writes each architecture's scores to FILE as it is scored (JSON lines); a run that is killed \
continues with --resume FILE (the same flags), which scores only the architectures not in FILE and \
ranks them all. A decision not given with --choose takes alternative 0, and the output says so.

Examples:
  nasc score examples/cifarnet.nasl
  nasc score examples/nb201_space.nasl --sample 100 --batch 64
  nasc score examples/nb201_space.nasl --choose e01=3 --choose e13=2 --scores all --json
  nasc score examples/nb201_space.nasl --against nb201_results.csv --scores all
  nasc score examples/nb201_space.nasl --sample 1000 --out scores.jsonl   # killed? then:
  nasc score examples/nb201_space.nasl --sample 1000 --resume scores.jsonl";

pub const SEARCH_HELP: &str = "\
Samples --n distinct architectures of the space under --seed, scores each once (a fixed batch), ranks \
them by --score (higher is better; `combined` = rank-average of epe, naswot and params) and prints the \
best as NASL: the space program with each decision of the entry block replaced by its chosen \
alternative. The ranking goes to stderr (or everything as JSON with --json). A space with fewer than \
--n distinct architectures is searched whole, and the output says so. --out FILE and --resume FILE \
work as in `nasc score`: scores are written as they are made, and a killed search continues.

Examples:
  nasc search random examples/nb201_space.nasl --n 100 > best.nasl
  nasc search random examples/nb201_space.nasl --n 1000 --out s.jsonl   # killed? then --resume s.jsonl
  nasc search random examples/nb201_space.nasl --score naswot --n 500 --batch 64 --json";

/// Where a scoring run writes its results as it goes (`score`, `search random`).
#[derive(clap::Args, Debug, Clone)]
pub struct OutArgs {
    /// Write each architecture's scores to FILE as they are made (JSON lines; refuses a file that
    /// already holds results).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Continue the run whose results FILE holds (same flags): score only what it lacks, append to it.
    #[arg(long, value_name = "FILE", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
}

/// Options of a scoring run shared by `score` and `search random`.
#[derive(clap::Args, Debug, Clone)]
pub struct ScoreRunArgs {
    /// The dataset (as for `nasc train`: fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, csv:…).
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    /// Samples in the labelled batch.
    #[arg(long, default_value_t = 256, value_parser = bounds::batch, allow_negative_numbers = true)]
    pub batch: i64,
    /// Seed of the batch, of the initial weights and of sampling.
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch intra-op threads (default: libtorch's choice).
    #[arg(long, value_parser = bounds::threads, allow_negative_numbers = true)]
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
    #[arg(long, value_parser = bounds::batch, allow_negative_numbers = true)]
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
    #[arg(long, value_name = "N", value_parser = bounds::count, allow_negative_numbers = true)]
    pub sample: Option<usize>,
    /// Score the architectures of this results CSV and correlate the scores with its accuracies.
    #[arg(long, value_name = "CSV", conflicts_with = "sample")]
    pub against: Option<PathBuf>,
    /// The column of the --against file that holds the accuracies.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "accuracy",
        requires = "against"
    )]
    pub against_column: String,
    /// The column of the --against file that holds the architectures (`NAME=INDEX …`).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "arch",
        requires = "against"
    )]
    pub against_arch_column: String,
    /// Rank by this score (default: combined when computed, else the first score).
    #[arg(long, value_name = "SCORE")]
    pub sort: Option<String>,
    #[command(flatten)]
    pub run: ScoreRunArgs,
    #[command(flatten)]
    pub out: OutArgs,
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
    /// Property-guided evolution (alpha-NAS): mutate, synthesize, train; a run store that survives a crash.
    #[command(after_help = EVOLVE_HELP)]
    Evolve(Box<EvolveArgs>),
    /// Continue an evolution run that was stopped or killed.
    #[command(after_help = RESUME_HELP)]
    Resume(ResumeArgs),
    /// Write the HTML report of a run (plots, Pareto set, mutation table).
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Export one individual of a run: NASL, trained weights (safetensors) and TorchScript.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Evaluate jobs from stdin (one JSON job per line); used by `evolve --workers`.
    #[command(hide = true)]
    Worker,
}

pub const EVOLVE_HELP: &str = "\
The alpha-NAS loop: choose a parent (Pareto-weighted on validation accuracy and --objective, or \
aging evolution), mutate it — duplicate a block instance (--p-duplicate 0.2), delete one (--p-delete \
0.2), or the property-guided rewrite (--p-property 0.6): grow a random subgraph of one instance, infer \
its properties, mutate them, synthesize a replacement with z3 and splice it in (the block's other \
instances adopt it with --p-adopt 0.2) — re-check the child, train it for --epochs on the train split \
and measure it on the held-out validation split (never the test split). A child that equals an \
earlier individual is drawn again; one that fails to train is recorded as failed with its reason.

Everything goes to the run store (--store, one SQLite file) as it happens: kill the search at any \
time (Ctrl-C, kill -9, a crash) and `nasc search resume RUN.db` continues it; with --workers 1 the \
resumed run makes the same children as an uninterrupted one. --trials N counts every individual, the \
seed included. --json prints the final Pareto set. Children are written in the flat form evolution \
works on: a chain of block instances of builtin ops (docs/search.md).

Examples:
  nasc search evolve examples/fmnist_cnn.nasl --store run.db --trials 20 --train-subset 2000
  nasc search evolve examples/resnet20.nasl --store r20.db --time-budget 2h --epochs 2 --workers 2
  nasc search resume r20.db
  nasc search report r20.db --out r20-report && chromium r20-report/index.html";

pub const RESUME_HELP: &str = "\
Re-runs the individuals that were being evaluated when the run stopped, keeps every finished one, \
restores the random generator and continues until the run's budget (--trials / --time-budget, which \
you may raise here) is spent.

Example:
  nasc search resume run.db --trials 80";

pub const REPORT_HELP: &str = "\
Writes DIR/index.html — self-contained, no network needed — with accuracy vs params and vs MACs (the \
Pareto fronts highlighted), the search curve over trials and over wall time, the mutation-kind table, \
the Pareto individuals as NASL, and the failures; each plot also as DIR/*.svg. Works on a running \
or an interrupted run.

Example:
  nasc search report run.db --out report && chromium report/index.html";

pub const EXPORT_HELP: &str = "\
Writes DIR/individual-N.nasl, then trains it exactly as the search did (same data, split, seed and \
training settings, so it reaches the accuracy the store recorded) and writes DIR/individual-N.safetensors \
and the TorchScript module DIR/individual-N.pt. --nasl-only skips the training. The printed `nasc \
train` command does the same by hand.

Example:
  nasc search export run.db --id 17 --out best";

/// `nasc search evolve` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct EvolveArgs {
    /// The seed program (the first individual).
    pub file: PathBuf,
    /// The seed's entry block (default: the file's last `network`).
    #[arg(long)]
    pub block: Option<String>,
    /// The run store to create (a SQLite file; it must not hold a run yet).
    #[arg(long, value_name = "RUN.db")]
    pub store: PathBuf,
    /// Individuals to evaluate, the seed included (default 50 unless --time-budget is given).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Stop making children after this wall time: 90s, 30m, 2h, 1.5h.
    #[arg(long, value_name = "DURATION")]
    pub time_budget: Option<String>,
    /// Children trained at once, each in its own worker process (libtorch threads are split).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Seed of the search (parents, mutations, synthesis) and of every training run.
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Parent selection: pareto (alpha-NAS) or aging (regularized evolution).
    #[arg(long, default_value = "pareto", value_parser = ["pareto", "aging"])]
    pub policy: String,
    /// The cost of the Pareto front: params or macs.
    #[arg(long, default_value = "params", value_parser = ["params", "macs"])]
    pub objective: String,
    /// Pareto policy: individuals below this validation accuracy (0–1) are not parents.
    #[arg(long)]
    pub min_accuracy: Option<f64>,
    /// Aging policy: the population (most recent individuals) and the tournament size.
    #[arg(long, default_value_t = 20)]
    pub population: usize,
    #[arg(long, default_value_t = 5)]
    pub sample: usize,
    /// Probability of the duplicate mutation.
    #[arg(long, default_value_t = 0.2)]
    pub p_duplicate: f64,
    /// Probability of the delete mutation.
    #[arg(long, default_value_t = 0.2)]
    pub p_delete: f64,
    /// Probability of the property-guided mutation.
    #[arg(long, default_value_t = 0.6)]
    pub p_property: f64,
    /// Probability that a rewritten block's other instances adopt the rewrite.
    #[arg(long, default_value_t = 0.2)]
    pub p_adopt: f64,
    /// What synthesis prefers among replacements that satisfy the mutated properties: none (the seeded
    /// first found, as the reference), params or flops (the fewest: pushes toward smaller networks).
    #[arg(long, default_value = "none", value_parser = ["none", "params", "flops"])]
    pub synth_objective: String,
    /// Synthesis time limit per property-guided mutation (seconds).
    #[arg(long, default_value_t = 10.0)]
    pub synth_timeout: f64,
    /// Mutation draws per child before the run gives up.
    #[arg(long, default_value_t = 50)]
    pub max_attempts: usize,
    /// Weight inheritance: a child starts from its parent's trained tensors whose IR path and shape
    /// match (weights are kept in RUN.db.weights/).
    #[arg(long)]
    pub inherit: bool,
    /// Training-free prefilter SCORE:K:M: make K children, score them (e.g. epe), train the best M.
    #[arg(long, value_name = "SCORE:K:M")]
    pub prefilter: Option<String>,
    /// Samples in the prefilter's scoring batch.
    #[arg(long, default_value_t = 64)]
    pub prefilter_batch: i64,
    /// The dataset (as for `nasc train`).
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    /// Train each child on at most this many training images (quick runs).
    #[arg(long, value_name = "N")]
    pub train_subset: Option<i64>,
    /// Images of the training set held out for validation.
    #[arg(long, default_value_t = 5000)]
    pub val: i64,
    /// Epochs per child.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: i64,
    /// Learning rate (default 0.05 for sgd, 1e-3 for adamw).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimizer: sgd or adamw.
    #[arg(long, default_value = "sgd", value_parser = ["sgd", "adamw"])]
    pub optimizer: String,
    /// Random crop and flip on training batches.
    #[arg(long)]
    pub augment: bool,
    /// Stop each epoch after this many steps.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch threads per worker (default: the cores divided among the workers).
    #[arg(long)]
    pub threads: Option<i32>,
    /// Print the final report (the Pareto set) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc search resume` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The run store.
    #[arg(value_name = "RUN.db")]
    pub store: PathBuf,
    /// Raise (or set) the individuals budget.
    #[arg(long)]
    pub trials: Option<u64>,
    /// Raise (or set) the wall-time budget: 90s, 30m, 2h.
    #[arg(long, value_name = "DURATION")]
    pub time_budget: Option<String>,
    /// Workers for this session.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Print the final report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc search report` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// The run store.
    #[arg(value_name = "RUN.db")]
    pub store: PathBuf,
    /// The folder to write (default: RUN.report next to the store).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc search export` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The run store.
    #[arg(value_name = "RUN.db")]
    pub store: PathBuf,
    /// The individual's id (as the report and `--json` list them).
    #[arg(long)]
    pub id: i64,
    /// The folder to write into (created).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Write the NASL only (no training).
    #[arg(long)]
    pub nasl_only: bool,
}

/// A duration: a number of seconds, or a number with `s`, `m` or `h`.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (90s, 30m, 2h)"))?;
    let k = match unit {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("`{s}`: the unit must be s, m or h")),
    };
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("`{s}`: a duration must be positive"));
    }
    Ok(v * k)
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
    #[arg(long, default_value_t = 100, value_parser = bounds::count, allow_negative_numbers = true)]
    pub n: usize,
    #[command(flatten)]
    pub run: ScoreRunArgs,
    #[command(flatten)]
    pub out: OutArgs,
    /// Print JSON on stdout (the ranking, the best choices and its NASL).
    #[arg(long)]
    pub json: bool,
}

pub const SUPERNET_HELP: &str = "\
Two-stage weight-sharing search (AttentiveNAS; docs/supernet.md). `table` bins the MACs of random \
architectures of a space (no training). `train` trains one supernet — the largest architecture's weights, \
every subnet running on their slices — with the sandwich rule: per step the largest subnet on the labels, \
two sampled subnets and the smallest one distilled from it; `--sampler attentive` picks the two by \
attentive sampling (`--attentive bestup`, the default, or `worstup`), `uniform` is the BigNAS baseline. \
It checkpoints after every epoch; `nasc search resume RUN.db` continues a killed run. `search` runs \
evolution on the trained supernet in a MACs range, every candidate batch-norm calibrated and measured on \
the validation split; `extract` writes one subnet as a standalone NASL program and its weights.

Examples:
  nasc supernet table examples/mobilenetv3_space.nasl
  nasc supernet train examples/fmnist_space.nasl --store run.db --epochs 2 --train-subset 4000
  nasc supernet search run.db --macs 0.5M..1M --trials 40
  nasc supernet extract run.db --best --out best      # best.nasl, best.safetensors
  nasc eval best.nasl --weights best.safetensors --part val";

/// `nasc supernet` commands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum SupernetCommand {
    /// The MACs table of a space: smallest and largest subnets, a histogram of random ones (no training).
    Table(SupernetTableArgs),
    /// Stage 1: train a weight-sharing supernet (sandwich rule, uniform or attentive sampling).
    Train(Box<SupernetTrainArgs>),
    /// Stage 2: evolutionary search of a trained supernet in a MACs range.
    Search(SupernetSearchArgs),
    /// Write one searched subnet as NASL (`PREFIX.nasl`) and its weights (`PREFIX.safetensors`).
    Extract(SupernetExtractArgs),
}

/// `nasc supernet table` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SupernetTableArgs {
    /// The search-space program.
    pub file: PathBuf,
    /// The entry block (default: the file's last `network`).
    #[arg(long)]
    pub block: Option<String>,
    /// An input shape, `NAME=D0,D1,…` (another resolution: `x=1,3,192,192`).
    #[arg(long = "input", value_name = "NAME=SHAPE")]
    pub inputs: Vec<String>,
    /// Fix a decision, `NAME=INDEX` (repeatable).
    #[arg(long = "choose", value_name = "NAME=INDEX")]
    pub choices: Vec<String>,
    /// Random architectures in the table.
    #[arg(long, default_value_t = 1000, value_parser = bounds::count, allow_negative_numbers = true)]
    pub samples: usize,
    /// Bin width in MACs per sample (SI suffixes: 25M); default a round twentieth of the range.
    #[arg(long, value_name = "MACS")]
    pub bin: Option<String>,
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc supernet train` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SupernetTrainArgs {
    /// The search-space program.
    pub file: PathBuf,
    /// The run store to create (a SQLite file; it must not hold a run yet).
    #[arg(long, value_name = "RUN.db")]
    pub store: PathBuf,
    #[arg(long)]
    pub block: Option<String>,
    /// Fix a decision, `NAME=INDEX` (repeatable).
    #[arg(long = "choose", value_name = "NAME=INDEX")]
    pub choices: Vec<String>,
    /// How the two middle subnets of a step are chosen.
    #[arg(long, default_value = "attentive", value_parser = ["uniform", "attentive"])]
    pub sampler: String,
    /// Which attentive candidate is trained: the lowest loss (bestup) or the highest (worstup).
    #[arg(long, default_value = "bestup", value_parser = ["bestup", "worstup"])]
    pub attentive: String,
    /// Candidates per attentive draw.
    #[arg(long, default_value_t = 3, value_parser = bounds::int(1usize, 64), allow_negative_numbers = true)]
    pub candidates: usize,
    #[arg(long, default_value_t = 2, value_parser = bounds::count, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Use this many training images (after the validation images are held out).
    #[arg(long, value_name = "N", value_parser = bounds::images, allow_negative_numbers = true)]
    pub train_subset: Option<i64>,
    /// Validation images held out of the training split (stage 2 measures on them; never the test split).
    #[arg(long, default_value_t = 2000, value_parser = bounds::images, allow_negative_numbers = true)]
    pub val: i64,
    /// Steps per epoch at most.
    #[arg(long, value_parser = bounds::count, allow_negative_numbers = true)]
    pub max_steps: Option<usize>,
    #[arg(long, default_value_t = 64, value_parser = bounds::batch, allow_negative_numbers = true)]
    pub batch: i64,
    /// Peak learning rate (cosine schedule; SGD with Nesterov momentum 0.9).
    #[arg(long, default_value_t = 0.1, value_parser = bounds::positive, allow_negative_numbers = true)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-5, value_parser = bounds::non_negative, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Training batches each subnet's batch norm is recalibrated on before it is evaluated.
    #[arg(long, default_value_t = 4, value_parser = bounds::count, allow_negative_numbers = true)]
    pub bn_calib: usize,
    /// Random architectures in the MACs table of attentive sampling.
    #[arg(long, default_value_t = 1000, value_parser = bounds::count, allow_negative_numbers = true)]
    pub table_samples: usize,
    /// MACs bin width of the table (SI suffixes); default a round twentieth of the range.
    #[arg(long, value_name = "MACS")]
    pub bin: Option<String>,
    /// Random crop (padding 4) and flip on training batches.
    #[arg(long)]
    pub augment: bool,
    #[arg(long, default_value = "fashion-mnist")]
    pub data: String,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[arg(long, value_parser = bounds::threads, allow_negative_numbers = true)]
    pub threads: Option<i32>,
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Print the training curves as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc supernet search` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SupernetSearchArgs {
    /// The run store of a trained supernet.
    #[arg(value_name = "RUN.db")]
    pub store: PathBuf,
    /// The MACs range per sample, MIN..MAX with SI suffixes (20M..60M).
    #[arg(long, value_name = "MIN..MAX")]
    pub macs: String,
    /// Candidates to evaluate, the initial population included.
    #[arg(long, default_value_t = 64, value_parser = bounds::count, allow_negative_numbers = true)]
    pub trials: usize,
    #[arg(long, default_value_t = 16, value_parser = bounds::count, allow_negative_numbers = true)]
    pub population: usize,
    /// Probability that a mutation resamples each gene.
    #[arg(long, default_value_t = 0.2, value_parser = bounds::non_negative, allow_negative_numbers = true)]
    pub p_mutate: f64,
    /// Probability that a child is a uniform crossover of two parents (else a mutation).
    #[arg(long, default_value_t = 0.5, value_parser = bounds::non_negative, allow_negative_numbers = true)]
    pub p_crossover: f64,
    /// MACs bucket width of the archive (the best subnet per bucket; SI suffixes: 10M); default a round
    /// twentieth of the range.
    #[arg(long, value_name = "MACS")]
    pub bucket: Option<String>,
    #[arg(long, default_value_t = 0, value_parser = bounds::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Print the candidates as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nasc supernet extract` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SupernetExtractArgs {
    /// The run store of a trained (and searched) supernet.
    #[arg(value_name = "RUN.db")]
    pub store: PathBuf,
    /// The individual to extract (an id of `nasc supernet search`'s output).
    #[arg(long, conflicts_with = "best")]
    pub id: Option<i64>,
    /// The searched subnet with the best validation accuracy.
    #[arg(long)]
    pub best: bool,
    /// Writes PREFIX.nasl and PREFIX.safetensors.
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
}
