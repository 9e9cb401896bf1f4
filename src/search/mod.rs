//! Search drivers over a search-space program, one policy per file: [`random`] (EPE-NAS's random search
//! with a training-free score) now; property-guided evolution and two-stage supernet search follow, over
//! the run store (`store`) and evaluation jobs (`exec`). Shared here: [`Space`], a checked program and how
//! to build one of its architectures (through the front-end driver); [`Space::sample`] draws distinct
//! architectures by seeded uniform choices over the decisions (`Graph::choices`; decisions met only inside
//! a chosen alternative are drawn when they appear); [`fixed_program`] prints the space program with the
//! entry block's decisions replaced by the chosen alternatives (NASL, through the canonical printer).
//! Uses `score`, `ir`, `driver`, `check`, `syntax`.

pub mod evolve;
pub mod flat;
pub mod mutate;
pub mod pareto;
pub mod random;
pub mod report;
pub mod select;
pub mod supernet;

pub use random::{random_search, SearchResult};

use crate::check::Program;
use crate::ir::{BuildError, BuildOptions, Graph};
use crate::score::{self, ScoreError};
use crate::syntax::ast::{ChoiceKind, ExprKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// Why a search could not run.
#[derive(Debug)]
pub enum SearchError {
    /// An architecture could not be built (the decisions named in the message).
    Build(BuildError),
    Score(ScoreError),
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::Build(e) => write!(f, "{e}"),
            SearchError::Score(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SearchError {}

impl From<BuildError> for SearchError {
    fn from(e: BuildError) -> Self {
        SearchError::Build(e)
    }
}

impl From<ScoreError> for SearchError {
    fn from(e: ScoreError) -> Self {
        SearchError::Score(e)
    }
}

/// A checked search-space program and the options every architecture is built with.
pub struct Space<'a> {
    pub program: &'a Program,
    /// Entry block, batch, input shapes; `choices` are the fixed decisions (the rest are drawn).
    pub base: BuildOptions,
}

impl Space<'_> {
    /// Builds the architecture with these choices (on top of the fixed ones).
    pub fn build(&self, picks: &BTreeMap<String, usize>) -> Result<Graph, BuildError> {
        let mut o = self.base.clone();
        o.choices.extend(picks.iter().map(|(k, v)| (k.clone(), *v)));
        crate::driver::build_checked(self.program, &o)
    }

    /// Draws `n` distinct architectures (fewer when the space is smaller), seeded; returns each one's
    /// decisions and graph. A decision that appears only once another is drawn is drawn in turn.
    pub fn sample(
        &self,
        n: usize,
        seed: u64,
        mut each: impl FnMut(usize, &Graph),
    ) -> Result<Vec<Graph>, BuildError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut misses = 0;
        let first = self.build(&BTreeMap::new())?;
        let size: f64 = first
            .choices
            .iter()
            .map(|c| c.options.len() as f64)
            .product();
        while out.len() < n && misses < 64 + 16 * n && (out.len() as f64) < size {
            let mut picks: BTreeMap<String, usize> = BTreeMap::new();
            let mut g = first.clone();
            // draw every free decision of the current graph until no new decision appears
            for _ in 0..16 {
                let mut new = false;
                for c in &g.choices {
                    if !picks.contains_key(&c.name) && !self.base.choices.contains_key(&c.name) {
                        picks.insert(c.name.clone(), rng.gen_range(0..c.options.len().max(1)));
                        new = true;
                    }
                }
                g = self.build(&picks)?;
                if !new
                    || g.choices.iter().all(|c| {
                        picks.contains_key(&c.name) || self.base.choices.contains_key(&c.name)
                    })
                {
                    break;
                }
            }
            let key = score::arch_label(&g);
            if seen.insert(key) {
                each(out.len(), &g);
                out.push(g);
            } else {
                misses += 1;
            }
        }
        Ok(out)
    }
}

/// The space program's root file with each decision of the entry block (`let NAME = choice(…)`) replaced
/// by the alternative `g` takes, printed canonically. Decisions made elsewhere (inside called blocks) are
/// listed as `--choose` flags in a leading comment.
pub fn fixed_program(program: &Program, g: &Graph, header: &str) -> Option<String> {
    let root = *program.roots.first()?;
    let mut module = program.modules[root].ast.clone();
    let mut done: HashSet<String> = HashSet::new();
    for item in module.items.iter_mut().filter(|b| b.name.name == g.name) {
        for st in item.body.stmts.iter_mut() {
            let Some(c) = g.choices.iter().find(|c| c.name == st.name.name) else {
                continue;
            };
            match &st.value.kind {
                ExprKind::Choice(ChoiceKind::Options(opts)) => {
                    if let Some(alt) = opts.get(c.chosen) {
                        st.value = alt.clone();
                        done.insert(c.name.clone());
                    }
                }
                // a range's alternatives are its values, as the build printed them
                ExprKind::Choice(ChoiceKind::Range { .. }) => {
                    if let Some(v) = c.options.get(c.chosen).and_then(|o| o.parse::<i64>().ok()) {
                        st.value.kind = ExprKind::Int(v);
                        done.insert(c.name.clone());
                    }
                }
                _ => {}
            }
        }
    }
    let rest: Vec<String> = g
        .choices
        .iter()
        .filter(|c| !done.contains(&c.name))
        .map(|c| format!("--choose {}={}", c.name, c.chosen))
        .collect();
    let mut out = String::new();
    for l in header.lines() {
        out.push_str(&format!("// {l}\n"));
    }
    if !rest.is_empty() {
        out.push_str(&format!(
            "// decisions made inside blocks, still open here: {}\n",
            rest.join(" ")
        ));
    }
    out.push_str(&crate::syntax::print_module(&module));
    Some(out)
}
