//! Random search (EPE-NAS's protocol): sample architectures of a space, score each once with a
//! training-free score, rank them.

use super::{SearchError, Space};
use crate::ir::Graph;
use crate::score::{self, ArchScores, ScoreKind, Scorer};

/// The result of a random search: every scored architecture, best first.
pub struct SearchResult {
    pub ranked: Vec<ArchScores>,
    /// The graph of the best architecture.
    pub best: Option<Graph>,
}

/// Random search (EPE-NAS's protocol): sample `n` architectures under `seed`, score each once, rank by
/// `key` (the combined score when `None` and available). `progress` is called after each architecture.
pub fn random_search(
    space: &Space,
    scorer: &Scorer,
    n: usize,
    seed: u64,
    key: Option<ScoreKind>,
    mut progress: impl FnMut(usize, usize, &ArchScores),
) -> Result<SearchResult, SearchError> {
    let graphs = space.sample(n, seed, |_, _| {})?;
    let total = graphs.len();
    let mut rows = Vec::with_capacity(total);
    for (i, g) in graphs.iter().enumerate() {
        let s = scorer.score(g, i as u64)?;
        progress(i + 1, total, &s);
        rows.push(s);
    }
    score::combine(&mut rows);
    let order = score::ranking(&rows, key);
    let keyed: Vec<score::Signal> = rows.iter().map(|r| score::sort_key(r, key)).collect();
    let best = order
        .first()
        .filter(|&&i| keyed[i].value().is_some())
        .map(|&i| graphs[i].clone());
    let ranked = order.into_iter().map(|i| rows[i].clone()).collect();
    Ok(SearchResult { ranked, best })
}

/// The report of `nasc search random`: `Serialize` for `--json`; `Display` is the top of the ranking and
/// the throughput (the best program itself is `best_nasl`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RandomReport {
    /// The score ranked by (`combined` = the rank-average of epe, naswot and params).
    pub score: &'static str,
    /// Always true: every score is oriented so that higher is better.
    pub higher_is_better: bool,
    pub n: usize,
    pub seconds: f64,
    /// The best architecture's decisions (`NAME=INDEX …`), when one has a signal.
    pub best: Option<String>,
    /// The space program with the best architecture's decisions fixed.
    pub best_nasl: Option<String>,
    pub ranked: Vec<ArchScores>,
}

impl RandomReport {
    /// The report of a finished search of `file` in `program` (seed and batch go into the NASL header).
    pub fn new(
        result: SearchResult,
        program: &crate::check::Program,
        file: &std::path::Path,
        key: Option<ScoreKind>,
        seed: u64,
        batch: i64,
        seconds: f64,
    ) -> RandomReport {
        let score = key.map_or("combined", ScoreKind::name);
        let best_nasl = result.best.as_ref().and_then(|g| {
            let header = format!(
                "best of {} architectures of {} by {score} (nasc search random, seed {seed}, batch \
                 {batch}, {seconds:.1} s)\nchoices: {}",
                result.ranked.len(),
                file.display(),
                score::arch_label(g)
            );
            super::fixed_program(program, g, &header)
        });
        RandomReport {
            score,
            higher_is_better: true,
            n: result.ranked.len(),
            seconds,
            best: result.best.as_ref().map(score::arch_label),
            best_nasl,
            ranked: result.ranked,
        }
    }
}

impl std::fmt::Display for RandomReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let top: Vec<&ArchScores> = self.ranked.iter().take(10).collect();
        write!(f, "{}", score::report::table(&top, None))?;
        writeln!(
            f,
            "{} architectures scored in {:.1} s ({:.2}/s)",
            self.n,
            self.seconds,
            self.n as f64 / self.seconds.max(1e-9)
        )
    }
}
