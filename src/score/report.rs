//! Scoring many architectures, and the reports: [`score_many`] runs one [`Scorer`] per input shape over a
//! list of graphs (timing set-up apart from scoring, wall and CPU time); [`ScoreReport`] is what
//! `nasc score` shows — `Serialize` for `--json`, `Display` for the ranked table and the correlations.

use super::results::Correlation;
use super::{ArchScores, ScoreError, ScoreKind, ScoreOptions, Scorer};
use crate::ir::Graph;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Times of a scoring run (seconds).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    pub build_seconds: f64,
    pub setup_seconds: f64,
    pub score_seconds: f64,
    pub score_cpu_seconds: f64,
}

/// CPU time of this process (all threads, user + system) from /proc/self/stat, in seconds (Linux; 0
/// elsewhere). Resolution: one clock tick (10 ms).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn timed<T>(wall: &mut f64, cpu: &mut f64, f: impl FnOnce() -> T) -> T {
    let (t, c) = (std::time::Instant::now(), cpu_seconds());
    let r = f();
    *wall += t.elapsed().as_secs_f64();
    *cpu += cpu_seconds() - c;
    r
}

/// Scores every graph in order (graph `i` with batch seed `i` when batches are fresh); one scorer — the
/// batch fitted to the input — per distinct input shape. Graphs whose scores are in `prior` (by index: a
/// resumed run) are not scored again. `each` is called after every graph with its index, its scores and
/// whether they are new (to record them and show progress); an error from it stops the run.
/// Returns the rows (in the graphs' order, `combined` filled in over all of them) and the timing (build
/// time left 0).
pub fn score_many(
    graphs: &[Graph],
    options: &ScoreOptions,
    prior: &BTreeMap<usize, ArchScores>,
    mut each: impl FnMut(usize, &ArchScores, bool) -> Result<(), ScoreError>,
) -> Result<(Vec<ArchScores>, Timing), ScoreError> {
    let mut t = Timing::default();
    let t_score = std::time::Instant::now();
    let cpu0 = cpu_seconds();
    let mut scorers: Vec<(Vec<i64>, Scorer)> = Vec::new();
    let (mut setup, mut setup_cpu) = (0.0, 0.0);
    let mut rows = Vec::with_capacity(graphs.len());
    for (i, g) in graphs.iter().enumerate() {
        if let Some(done) = prior.get(&i) {
            let mut row = done.clone();
            row.combined = None;
            each(i, &row, false)?;
            rows.push(row);
            continue;
        }
        let shape: Vec<i64> = g
            .inputs
            .iter()
            .flat_map(|&k| g.nodes[k].shape.iter().skip(1).copied())
            .collect();
        let k = match scorers.iter().position(|(s, _)| *s == shape) {
            Some(k) => k,
            None => {
                let s = timed(&mut setup, &mut setup_cpu, || {
                    Scorer::new(options.clone(), g)
                })?;
                scorers.push((shape, s));
                scorers.len() - 1
            }
        };
        let row = scorers[k].1.score(g, i as u64)?;
        each(i, &row, true)?;
        rows.push(row);
    }
    t.setup_seconds = setup;
    t.score_seconds = t_score.elapsed().as_secs_f64() - setup;
    t.score_cpu_seconds = cpu_seconds() - cpu0 - setup_cpu;
    super::combine(&mut rows);
    Ok((rows, t))
}

/// One ranked architecture and the file it came from.
#[derive(Clone, Debug, Serialize)]
pub struct Ranked {
    #[serde(flatten)]
    pub scores: ArchScores,
    pub file: String,
}

/// The file of measured accuracies, and which of its columns were read.
#[derive(Clone, Debug, Serialize)]
pub struct Against {
    pub file: String,
    pub columns: super::results::Columns,
    pub rows: usize,
}

/// The report of `nasc score`: settings, timing, the architectures best first, correlations.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreReport {
    pub scores: Vec<&'static str>,
    /// Always true: every score is oriented so that higher is better.
    pub higher_is_better: bool,
    pub data: String,
    pub batch: i64,
    pub seed: u64,
    pub fresh_batch: bool,
    pub epe_classes: &'static str,
    pub batch_norm: &'static str,
    pub memory_format: &'static str,
    #[serde(flatten)]
    pub timing: Timing,
    pub architectures: Vec<Ranked>,
    pub correlations: Option<Vec<Correlation>>,
    /// The measured accuracies the correlations are against (`--against`).
    pub against: Option<Against>,
    /// The results file the scores were written to as they were made (`--out`, `--resume`).
    pub results_file: Option<String>,
    /// Architectures whose scores came from the results file of a resumed run (not scored again).
    pub resumed: usize,
    /// Whether the architectures came from several files (the table then names the file).
    #[serde(skip)]
    pub several_files: bool,
}

impl ScoreReport {
    /// Ranks `rows` (from files `labels`) by `key` (`None`: combined) into a report.
    pub fn new(
        options: &ScoreOptions,
        timing: Timing,
        rows: &[ArchScores],
        labels: &[String],
        key: Option<ScoreKind>,
        correlations: Option<Vec<Correlation>>,
    ) -> ScoreReport {
        let order = super::ranking(rows, key);
        let first = labels.first();
        ScoreReport {
            scores: options.scores.iter().map(|k| k.name()).collect(),
            higher_is_better: true,
            data: options.data.clone(),
            batch: options.batch,
            seed: options.seed,
            fresh_batch: options.fresh_batch,
            epe_classes: match options.epe_classes {
                super::EpeClasses::Code => "code",
                super::EpeClasses::Paper => "paper",
            },
            batch_norm: if options.train_mode {
                "batch statistics"
            } else {
                "running statistics"
            },
            memory_format: if options.channels_last {
                "channels_last"
            } else {
                "nchw"
            },
            timing,
            architectures: order
                .iter()
                .map(|&i| Ranked {
                    scores: rows[i].clone(),
                    file: labels[i].clone(),
                })
                .collect(),
            correlations,
            against: None,
            results_file: None,
            resumed: 0,
            several_files: labels.iter().any(|l| Some(l) != first),
        }
    }
}

/// The ranked table of `rows` (best first); `files` adds each one's file before its decisions.
pub fn table(rows: &[&ArchScores], files: Option<&[&str]>) -> String {
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
        // a network with no live path has no live params or MACs (the JSON says null, not 0)
        for v in [r.live_params, r.live_macs] {
            c.push(if r.live {
                crate::ir::cost::thousands(v)
            } else {
                "no signal".into()
            });
        }
        let mut arch = r.arch.clone();
        if let Some(f) = files {
            arch = format!("{} {arch}", f.get(i).copied().unwrap_or(""));
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

/// The ranked table, then (with measured accuracies) the correlation table.
impl fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<&ArchScores> = self.architectures.iter().map(|r| &r.scores).collect();
        let files: Vec<&str> = self.architectures.iter().map(|r| r.file.as_str()).collect();
        write!(
            f,
            "{}",
            table(&rows, self.several_files.then_some(&files[..]))
        )?;
        if let Some(cs) = &self.correlations {
            writeln!(f)?;
            if let Some(a) = &self.against {
                writeln!(
                    f,
                    "against column `{}` of {} ({} rows; architectures from column `{}`)",
                    a.columns.accuracy, a.file, a.rows, a.columns.arch
                )?;
            }
            writeln!(
                f,
                "{:<10} {:>5} {:>10} {:>12}",
                "score", "n", "Kendall τb", "Spearman ρ"
            )?;
            let v = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
            for c in cs {
                writeln!(
                    f,
                    "{:<10} {:>5} {:>10} {:>12}",
                    c.score,
                    c.n,
                    v(c.kendall_tau_b),
                    v(c.spearman_rho)
                )?;
            }
        }
        Ok(())
    }
}
