//! Training-free scores of architectures (docs/scoring.md): EPE-NAS and its siblings NASWOT, jacob_cov,
//! synflow, snip, grad_norm, and the params / MACs baselines, computed on an untrained network built
//! from an IR graph, plus the combined rank-average and the rank statistics (Kendall τ-b, Spearman ρ)
//! that judge scores against measured accuracies.
//!
//! One sign convention: **higher is better for every score**. A score that cannot be computed from the
//! network (no path from input to output, a zero or constant Jacobian, a singular kernel, an overflow)
//! is [`Signal::NoSignal`] with the reason, and sorts after every number.
//!
//! [`Scorer`] owns the batch (a fixed seeded batch by default, or a fresh one per architecture) and
//! scores one graph at a time; every network and its `VarStore` are dropped before the next, so scoring
//! thousands of architectures runs in bounded memory. [`epe`] and [`stats`] are plain `f64` math;
//! [`live`] is the graph pass that finds the live part of a network. Uses `lower`, `data`, `ir`.

pub mod epe;
pub mod journal;
pub mod live;
mod proxies;
pub mod report;
pub mod results;
pub mod stats;

use crate::data::DataError;
use crate::ir::Graph;
use crate::lower::LowerError;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

pub use proxies::Scorer;

/// Why scoring could not run (a score that has no signal is not an error: see [`Signal`]).
#[derive(Debug)]
pub enum ScoreError {
    /// Lowering or running a network failed.
    Lower(LowerError),
    /// The dataset could not be read or used.
    Data(DataError),
    /// A bad request: unknown score name, a network that does not fit the data.
    Usage(String),
    /// A results file (`--against`) that cannot be read or parsed: the file, the line (1-based, 0 when
    /// the whole file) and what is wrong.
    Results {
        file: String,
        line: usize,
        message: String,
    },
}

impl fmt::Display for ScoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreError::Lower(e) => write!(f, "{e}"),
            ScoreError::Data(e) => write!(f, "{e}"),
            ScoreError::Usage(m) => f.write_str(m),
            ScoreError::Results {
                file,
                line: 0,
                message,
            } => write!(f, "`{file}`: {message}"),
            ScoreError::Results {
                file,
                line,
                message,
            } => write!(f, "`{file}` line {line}: {message}"),
        }
    }
}

impl std::error::Error for ScoreError {}

impl From<LowerError> for ScoreError {
    fn from(e: LowerError) -> Self {
        ScoreError::Lower(e)
    }
}

impl From<DataError> for ScoreError {
    fn from(e: DataError) -> Self {
        ScoreError::Data(e)
    }
}

impl From<tch::TchError> for ScoreError {
    fn from(e: tch::TchError) -> Self {
        ScoreError::Lower(LowerError::from(e))
    }
}

/// The scores nasc computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScoreKind {
    Epe,
    Naswot,
    JacobCov,
    Synflow,
    Snip,
    GradNorm,
    Params,
    Macs,
}

impl ScoreKind {
    pub const ALL: [ScoreKind; 8] = [
        ScoreKind::Epe,
        ScoreKind::Naswot,
        ScoreKind::JacobCov,
        ScoreKind::Synflow,
        ScoreKind::Snip,
        ScoreKind::GradNorm,
        ScoreKind::Params,
        ScoreKind::Macs,
    ];

    /// The default set: one forward and backward pass, and the baselines.
    pub const DEFAULT: [ScoreKind; 4] = [
        ScoreKind::Epe,
        ScoreKind::Naswot,
        ScoreKind::Params,
        ScoreKind::Macs,
    ];

    /// The components of the combined score.
    pub const COMBINED: [ScoreKind; 3] = [ScoreKind::Epe, ScoreKind::Naswot, ScoreKind::Params];

    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::Epe => "epe",
            ScoreKind::Naswot => "naswot",
            ScoreKind::JacobCov => "jacob_cov",
            ScoreKind::Synflow => "synflow",
            ScoreKind::Snip => "snip",
            ScoreKind::GradNorm => "grad_norm",
            ScoreKind::Params => "params",
            ScoreKind::Macs => "macs",
        }
    }

    /// Whether the score reads a labelled batch.
    pub fn needs_data(self) -> bool {
        !matches!(
            self,
            ScoreKind::Synflow | ScoreKind::Params | ScoreKind::Macs
        )
    }

    /// Parses a comma-separated list (`epe,naswot`; `all` for every score; `default`).
    pub fn parse_list(s: &str) -> Result<Vec<ScoreKind>, ScoreError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let add: Vec<ScoreKind> = match part {
                "all" => ScoreKind::ALL.to_vec(),
                "default" => ScoreKind::DEFAULT.to_vec(),
                "flops" => vec![ScoreKind::Macs],
                "jacobcov" | "jacob-cov" => vec![ScoreKind::JacobCov],
                "grad-norm" | "gradnorm" => vec![ScoreKind::GradNorm],
                "epe-nas" | "epe_nas" => vec![ScoreKind::Epe],
                _ => match ScoreKind::ALL.iter().find(|k| k.name() == part) {
                    Some(k) => vec![*k],
                    None => {
                        let names: Vec<&str> = ScoreKind::ALL.iter().map(|k| k.name()).collect();
                        return Err(ScoreError::Usage(format!(
                            "unknown score `{part}` (scores: {}, all, default)",
                            names.join(", ")
                        )));
                    }
                },
            };
            for k in add {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        if out.is_empty() {
            return Err(ScoreError::Usage("no score was asked for".into()));
        }
        Ok(out)
    }
}

impl fmt::Display for ScoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A score: a number (higher is better), or no signal and why.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    Value(f64),
    NoSignal(String),
}

impl Signal {
    pub fn value(&self) -> Option<f64> {
        match self {
            Signal::Value(v) => Some(*v),
            Signal::NoSignal(_) => None,
        }
    }

    /// A number that is not finite becomes no signal.
    pub fn from_f64(v: f64, why: &str) -> Signal {
        if v.is_finite() {
            Signal::Value(v)
        } else {
            Signal::NoSignal(why.to_string())
        }
    }

    /// Better first: larger values first, no signal last (a total order; NaN never appears in a value).
    pub fn better_first(a: &Signal, b: &Signal) -> Ordering {
        match (a.value(), b.value()) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
}

impl Serialize for Signal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Signal::Value(v) => s.serialize_f64(*v),
            Signal::NoSignal(_) => s.serialize_none(),
        }
    }
}

/// `null` reads as no signal with no reason ([`ArchScores::restore_reasons`] puts the reasons back).
impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<f64>::deserialize(d)? {
            Some(v) => Signal::Value(v),
            None => Signal::NoSignal(String::new()),
        })
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signal::Value(v) if v.abs() >= 1e6 || (v.abs() < 1e-3 && *v != 0.0) => {
                write!(f, "{v:.4e}")
            }
            Signal::Value(v) => write!(f, "{v:.4}"),
            Signal::NoSignal(_) => f.write_str("no signal"),
        }
    }
}

/// Which rule picks the EPE-NAS form (docs/scoring.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EpeClasses {
    /// The paper: the normalised pairwise form when the network has more than 100 logits, the sum form
    /// otherwise (the class count is the logit width, as in NASLib's port).
    Paper,
    /// The released code: the class count is never passed, so the sum form always runs.
    Code,
}

/// How to score.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    pub scores: Vec<ScoreKind>,
    /// `--data` (see `data::Source::parse`).
    pub data: String,
    /// Samples in the labelled batch.
    pub batch: i64,
    /// Seed of the batch and of every network's initial weights.
    pub seed: u64,
    /// A new batch for each architecture (the reference's behaviour) instead of one fixed batch.
    pub fresh_batch: bool,
    pub epe_classes: EpeClasses,
    /// `cpu`, `cuda`, `cuda:N`.
    pub device: String,
    /// Split the batch into chunks of this many samples (default: the whole batch, halved on
    /// out-of-memory). Batch norm then uses per-chunk statistics in train mode.
    pub chunk: Option<i64>,
    /// Batch norm with batch statistics (train mode, the reference's), or with its running statistics
    /// (fresh: mean 0, variance 1), where every sample's Jacobian is independent of the others.
    pub train_mode: bool,
    /// Run convolutions in the channels-last memory format (NHWC strides; same values, faster on CPU).
    pub channels_last: bool,
    pub threads: Option<i32>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            scores: ScoreKind::DEFAULT.to_vec(),
            data: "fashion-mnist".into(),
            batch: 256,
            seed: 0,
            fresh_batch: false,
            epe_classes: EpeClasses::Paper,
            device: "cpu".into(),
            chunk: None,
            train_mode: true,
            channels_last: true,
            threads: None,
        }
    }
}

/// One decision and the alternative taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub name: String,
    pub index: usize,
    pub option: String,
}

/// The scores of one architecture (`Deserialize` reads what `Serialize` wrote, for resumed runs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchScores {
    /// The network (entry block) name.
    pub network: String,
    /// The decisions, as `--choose` takes them (`e01=3 e02=1 …`; empty for a plain network).
    pub arch: String,
    pub choices: Vec<Pick>,
    /// Whether some path carries signal from the input to the output.
    pub live: bool,
    /// Parameters and MACs of the live part of the network.
    pub live_params: i64,
    pub live_macs: i64,
    /// Each asked score, in the order asked (`null` in JSON when there is no signal).
    pub scores: indexmap::IndexMap<String, Signal>,
    /// Why each score without signal has none.
    pub no_signal: indexmap::IndexMap<String, String>,
    /// The rank-average of epe, naswot and params over the architectures scored together (when all three
    /// were asked for).
    pub combined: Option<Signal>,
    /// Samples per forward pass when the batch was split (out of memory, or `--chunk`).
    pub chunk: Option<i64>,
    /// The EPE-NAS form that ran (`sum` or `pairwise`).
    pub epe_form: Option<String>,
    pub seconds: f64,
}

impl ArchScores {
    pub fn get(&self, k: ScoreKind) -> Option<&Signal> {
        self.scores.get(k.name())
    }

    /// Puts the reason of each score without signal back (JSON keeps them in `no_signal` only).
    pub fn restore_reasons(&mut self) {
        for (k, v) in self.scores.iter_mut() {
            if let (Signal::NoSignal(why), Some(r)) = (&mut *v, self.no_signal.get(k)) {
                if why.is_empty() {
                    *why = r.clone();
                }
            }
        }
    }
}

/// The `NAME=INDEX …` text of a graph's decisions.
pub fn arch_label(g: &Graph) -> String {
    g.choices
        .iter()
        .map(|c| format!("{}={}", c.name, c.chosen))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fills in the combined score (rank-average of epe, naswot, params) of architectures scored together,
/// when all three components were computed; no signal in any component gives no signal.
pub fn combine(rows: &mut [ArchScores]) {
    if rows.is_empty()
        || !ScoreKind::COMBINED
            .iter()
            .all(|k| rows.iter().all(|r| r.get(*k).is_some()))
    {
        return;
    }
    let cols: Vec<Vec<Option<f64>>> = ScoreKind::COMBINED
        .iter()
        .map(|k| {
            rows.iter()
                .map(|r| r.get(*k).and_then(Signal::value))
                .collect()
        })
        .collect();
    for (r, c) in rows.iter_mut().zip(stats::rank_average(&cols)) {
        r.combined = Some(match c {
            Some(v) => Signal::Value(v),
            None => Signal::NoSignal("a component of the combined score has no signal".into()),
        });
    }
}

/// What architectures are ranked by: `key`, or the combined score when `None` (else the first score).
pub fn sort_key(r: &ArchScores, key: Option<ScoreKind>) -> Signal {
    match key {
        Some(k) => r.get(k).cloned(),
        None => r
            .combined
            .clone()
            .or_else(|| r.scores.values().next().cloned()),
    }
    .unwrap_or_else(|| Signal::NoSignal(String::new()))
}

/// The indices of `rows`, best first by [`sort_key`]; no signal last; ties keep the input order.
pub fn ranking(rows: &[ArchScores], key: Option<ScoreKind>) -> Vec<usize> {
    let keys: Vec<Signal> = rows.iter().map(|r| sort_key(r, key)).collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| Signal::better_first(&keys[a], &keys[b]));
    order
}
