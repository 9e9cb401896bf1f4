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

/// The architectures a random search of `n` under `seed` scores, in order (fewer than `n` when the space
/// has fewer distinct ones).
pub fn draw(space: &Space, n: usize, seed: u64) -> Result<Vec<Graph>, SearchError> {
    Ok(space.sample(n, seed, |_, _| {})?)
}

/// Random search (EPE-NAS's protocol): score each of `graphs` (from [`draw`]) once — the ones in
/// `prior` (by index, a resumed run) are not scored again — and rank them by `key` (the combined score
/// when `None` and available). `each` is called after each architecture with its index, scores and
/// whether they are new (to record them, show progress); an error from it stops the search.
pub fn random_search(
    graphs: Vec<Graph>,
    scorer: &Scorer,
    key: Option<ScoreKind>,
    prior: &std::collections::BTreeMap<usize, ArchScores>,
    mut each: impl FnMut(usize, &ArchScores, bool) -> Result<(), score::ScoreError>,
) -> Result<SearchResult, SearchError> {
    let mut rows = Vec::with_capacity(graphs.len());
    for (i, g) in graphs.iter().enumerate() {
        let (s, fresh) = match prior.get(&i) {
            Some(done) => (done.clone(), false),
            None => (scorer.score(g, i as u64)?, true),
        };
        each(i, &s, fresh)?;
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
    /// Architectures whose scores came from the results file of a resumed search (`--resume`).
    pub resumed: usize,
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
            resumed: 0,
        }
    }
}

impl std::fmt::Display for RandomReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let top: Vec<&ArchScores> = self.ranked.iter().take(10).collect();
        write!(f, "{}", score::report::table(&top, None))?;
        let new = self.n - self.resumed.min(self.n);
        if self.resumed > 0 {
            write!(f, "{} from the results file, ", self.resumed)?;
        }
        writeln!(
            f,
            "{new} architectures scored in {:.1} s ({:.2}/s)",
            self.seconds,
            new as f64 / self.seconds.max(1e-9)
        )
    }
}
