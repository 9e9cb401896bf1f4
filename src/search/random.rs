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
