//! Property-guided evolution (alpha-NAS): the search loop over the run store (`store`) and an executor
//! (`exec`).
//!
//! [`start`] records a new run — its settings, the seed program — and the seed as the first individual;
//! [`run`] drives it, from the start or after any interruption (a kill -9 included): individuals left
//! `running` are re-run, every finished one is kept, and the driver's random generator is restored
//! from the store, so a resumed run makes the same children as an uninterrupted one (with one worker).
//!
//! One step: choose a parent (`select`: Pareto-weighted or aging), draw a mutation kind and apply it
//! (`mutate`, on the parent's flat form), reject children whose fingerprint is already in the run and
//! draw again, insert the child as `pending` together with the generator's new state (one transaction),
//! hand it to the executor, and record its evaluation when it comes back (another transaction). With W
//! workers, W children train at once and the next child is made while they train. `--trials N` counts
//! every individual, the seed included: the run never inserts more than N. Library code: the caller
//! sees [`Event`]s and gets a [`Report`]; nothing is printed here. Uses `store`, `exec`, `ir`.

use super::flat::Flat;
use super::mutate::{self, Kind, Rates};
use super::pareto;
use super::select::{self, Candidate, Objective, Policy};
use crate::exec::{Executor, Job, RunSettings};
use crate::lower::train::TrainConfig;
use crate::store::{DriverState, Individual, NewIndividual, NewRun, Status, Store, StoreError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The driver's name in the run store.
pub const DRIVER: &str = "evolve";

/// Everything a run is started with (stored as the run's settings; a resume reads them back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The seed program's file (its imports resolve from there).
    pub seed_file: PathBuf,
    /// The seed's entry block (None: its last network).
    pub block: Option<String>,
    /// Stop after this many individuals (the seed included).
    pub trials: Option<u64>,
    /// Stop making children after this much wall time (seconds, over all sessions of the run).
    pub time_budget: Option<f64>,
    /// Evaluations at once.
    pub workers: usize,
    pub policy: Policy,
    pub objective: Objective,
    pub rates: Rates,
    /// Data and training of every individual (the same for all: they are compared).
    pub run: RunSettings,
    pub train: TrainConfig,
    /// Mutation draws allowed per child before the run stops with an error.
    pub max_attempts: usize,
    /// Weight inheritance: each individual's trained weights are kept in this folder, and a child starts
    /// from its parent's tensors whose IR path and shape match.
    #[serde(default)]
    pub inherit: Option<PathBuf>,
    /// Training-free prefilter: make `make` children, score them, train the best `keep`.
    #[serde(default)]
    pub prefilter: Option<Prefilter>,
}

/// `--prefilter SCORE:K:M`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prefilter {
    /// The score (`epe`, `naswot`, … as `nasc score` names them; higher is better).
    pub score: String,
    pub make: usize,
    pub keep: usize,
    /// Samples in the scoring batch.
    pub batch: i64,
}

impl Prefilter {
    /// Parses `SCORE:K:M` (K ≥ M ≥ 1).
    pub fn parse(s: &str, batch: i64) -> Result<Prefilter, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || format!("--prefilter takes SCORE:K:M (e.g. epe:8:2), not `{s}`");
        let [score, k, m] = parts[..] else {
            return Err(bad());
        };
        let (make, keep): (usize, usize) =
            (k.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if keep == 0 || make < keep || make > 1000 {
            return Err(format!("--prefilter {s}: need 1 ≤ M ≤ K ≤ 1000"));
        }
        crate::score::ScoreKind::parse_list(score).map_err(|e| format!("--prefilter {s}: {e}"))?;
        Ok(Prefilter {
            score: score.to_string(),
            make,
            keep,
            batch,
        })
    }
}

/// Why evolution stopped without finishing.
#[derive(Debug)]
pub enum EvolveError {
    Store(StoreError),
    /// The seed program cannot be evolved (no flat form, does not build), or its evaluation failed.
    Seed(String),
    /// The store holds another driver's run, or settings this build cannot read.
    Run(String),
    /// No new child could be made.
    Stuck(String),
}

impl std::fmt::Display for EvolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvolveError::Store(e) => e.fmt(f),
            EvolveError::Seed(m) | EvolveError::Run(m) | EvolveError::Stuck(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EvolveError {}

impl From<StoreError> for EvolveError {
    fn from(e: StoreError) -> Self {
        EvolveError::Store(e)
    }
}

/// Where the time went (seconds, summed over all sessions of the run).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Wall time of the run's sessions.
    pub wall: f64,
    /// Making children: selection, mutation (synthesis included) and re-checks.
    pub generate: f64,
    /// Of which z3 synthesis.
    pub synth: f64,
    /// Training and evaluation, as the workers measured it (summed over workers).
    pub train: f64,
    /// Run-store transactions.
    pub store: f64,
    /// Training-free scoring of the prefilter.
    #[serde(default)]
    pub prefilter: f64,
}

/// Counters of child making.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempts {
    /// Mutations drawn, per kind.
    pub drawn: HashMap<String, u64>,
    /// Of which produced no child (unsat/unknown synthesis, no shape-keeping instance, …), per kind.
    pub failed: HashMap<String, u64>,
    /// Children rejected because an individual with the same fingerprint exists.
    pub duplicates: u64,
    /// Children the prefilter scored and did not train.
    #[serde(default)]
    pub prefiltered_out: u64,
}

/// What the driver saves with every change of state (with the generator, `DriverState::rng`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct State {
    timing: Timing,
    attempts: Attempts,
}

/// What happened, for a progress display.
#[derive(Debug)]
pub enum Event<'a> {
    /// The run is (re)starting: finished individuals so far, ids re-queued after an interruption.
    Resumed { finished: u64, requeued: &'a [i64] },
    /// A child was made and queued.
    Child {
        id: i64,
        parent: i64,
        kind: Kind,
        detail: &'a str,
    },
    /// A mutation produced no child (the driver draws again).
    NoChild { kind: Kind, reason: &'a str },
    /// An evaluation finished.
    Evaluated {
        individual: &'a Individual,
        /// Finished individuals, the best accuracy so far (id, fraction), the individuals in flight.
        finished: u64,
        best: Option<(i64, f64)>,
        running: usize,
    },
}

/// One individual on the final front.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Member {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub mutation: Option<String>,
    pub params: i64,
    pub macs: i64,
    pub val_accuracy: f64,
    pub train_seconds: f64,
}

impl Member {
    fn of(i: &Individual) -> Option<Member> {
        Some(Member {
            id: i.id,
            parent_id: i.parent_id,
            mutation: i.mutation.clone(),
            params: i.params?,
            macs: i.macs?,
            val_accuracy: i.val_accuracy?,
            train_seconds: i.train_seconds.unwrap_or(0.0),
        })
    }
}

/// The state of a run when the driver returns (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub store: String,
    /// True when the run was stopped (Ctrl-C) before its budget was spent: `nasc search resume` continues.
    pub interrupted: bool,
    pub done: u64,
    pub failed: u64,
    pub objective: Objective,
    pub seed: Option<Member>,
    pub best: Option<Member>,
    /// The Pareto set of (objective, validation accuracy), by cost.
    pub pareto: Vec<Member>,
    pub timing: Timing,
    pub attempts: Attempts,
    /// Finished individuals per hour of wall time.
    pub per_hour: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |a: f64| format!("{:.2}%", a * 100.0);
        writeln!(
            f,
            "{} individuals evaluated ({} done, {} failed) in {:.1} min ({:.1}/h){}",
            self.done + self.failed,
            self.done,
            self.failed,
            self.timing.wall / 60.0,
            self.per_hour,
            if self.interrupted {
                format!(
                    " — interrupted: continue with `nasc search resume {}`",
                    self.store
                )
            } else {
                String::new()
            }
        )?;
        if let Some(s) = &self.seed {
            writeln!(
                f,
                "seed      #{:<4} {:>8} params {:>12} MACs  {}",
                s.id,
                s.params,
                s.macs,
                pct(s.val_accuracy)
            )?;
        }
        writeln!(
            f,
            "Pareto set ({} vs validation accuracy):",
            self.objective.name()
        )?;
        for m in &self.pareto {
            let vs_seed = self
                .seed
                .as_ref()
                .map(|s| {
                    format!(
                        "  ({:+.1}% params, {:+.2} points)",
                        (m.params as f64 / s.params.max(1) as f64 - 1.0) * 100.0,
                        (m.val_accuracy - s.val_accuracy) * 100.0
                    )
                })
                .unwrap_or_default();
            writeln!(
                f,
                "  #{:<4} {:>8} params {:>12} MACs  {}  {}{vs_seed}",
                m.id,
                m.params,
                m.macs,
                pct(m.val_accuracy),
                m.mutation.as_deref().unwrap_or("seed"),
            )?;
        }
        let t = &self.timing;
        writeln!(
            f,
            "time: generate {:.1} s (synthesis {:.1} s), train {:.1} s, store {:.2} s",
            t.generate, t.synth, t.train, t.store
        )
    }
}

fn encode_rng(r: &ChaCha8Rng) -> Vec<u8> {
    let mut v = r.get_seed().to_vec();
    v.extend_from_slice(&r.get_stream().to_le_bytes());
    v.extend_from_slice(&r.get_word_pos().to_le_bytes());
    v
}

fn decode_rng(b: &[u8]) -> Option<ChaCha8Rng> {
    if b.len() != 32 + 8 + 16 {
        return None;
    }
    let seed: [u8; 32] = b[..32].try_into().ok()?;
    let mut r = ChaCha8Rng::from_seed(seed);
    r.set_stream(u64::from_le_bytes(b[32..40].try_into().ok()?));
    r.set_word_pos(u128::from_le_bytes(b[40..56].try_into().ok()?));
    Some(r)
}

/// Builds a program text as the file `path` (entry `block`, at `batch`) on a large stack.
fn build_at(
    path: &Path,
    text: &str,
    block: Option<&str>,
    batch: i64,
) -> Result<crate::ir::Graph, String> {
    let (p, t, b) = (
        path.to_path_buf(),
        text.to_string(),
        block.map(str::to_string),
    );
    crate::check::with_big_stack(move || crate::synth::build_text(&p, &t, b.as_deref(), batch))
}

/// The evaluation job of an individual under the run's settings: the seed as written (or `flat_seed`, its
/// flat form), a child as stored. With inheritance it starts from its parent's saved weights and saves
/// its own for its children.
pub fn job(settings: &Settings, ind: &Individual, flat_seed: Option<String>) -> Job {
    let (path, block) = if ind.parent_id.is_none() && flat_seed.is_none() {
        (settings.seed_file.clone(), settings.block.clone())
    } else {
        (
            settings
                .seed_file
                .with_file_name(format!("individual-{}.nasl", ind.id)),
            None,
        )
    };
    let weights = |id: i64| {
        settings
            .inherit
            .as_ref()
            .map(|d| d.join(format!("{id}.safetensors")))
    };
    Job {
        id: ind.id as u64,
        nasl: flat_seed.unwrap_or_else(|| ind.nasl.clone()),
        path,
        block,
        run: settings.run.clone(),
        train: settings.train.clone(),
        init_weights: ind.parent_id.and_then(weights),
        save_weights: weights(ind.id),
    }
}

/// Starts a run in an empty store: records the settings and the seed program, inserts the seed.
pub fn start(
    store: &mut dyn Store,
    settings: &Settings,
    seed_text: &str,
    seed: u64,
) -> Result<(), EvolveError> {
    let g = build_at(&settings.seed_file, seed_text, settings.block.as_deref(), 1)
        .map_err(|e| EvolveError::Seed(format!("the seed program does not build: {e}")))?;
    let flat = Flat::from_graph(&g).map_err(|e| {
        EvolveError::Seed(format!(
            "{} cannot be evolved: {e}",
            settings.seed_file.display()
        ))
    })?;
    let settings_json =
        serde_json::to_value(settings).map_err(|e| EvolveError::Run(e.to_string()))?;
    store.create_run(&NewRun {
        driver: DRIVER.into(),
        settings: settings_json,
        seed,
        seed_program: seed_text.to_string(),
    })?;
    let rng = ChaCha8Rng::seed_from_u64(seed);
    let state = DriverState {
        rng: encode_rng(&rng),
        state: serde_json::to_value(State::default()).unwrap_or_default(),
    };
    store.insert_pending(
        &NewIndividual {
            parent_id: None,
            mutation: None,
            nasl: seed_text.to_string(),
            fingerprint: flat.fingerprint(),
            target_props: None,
            synth_outcome: None,
        },
        Some(&state),
    )?;
    Ok(())
}

/// What a session may change about a stored run.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub trials: Option<u64>,
    pub time_budget: Option<f64>,
    pub workers: Option<usize>,
}

/// The run's settings as stored.
pub fn settings_of(store: &dyn Store) -> Result<Settings, EvolveError> {
    let run = store.load_run()?;
    if run.driver != DRIVER {
        return Err(EvolveError::Run(format!(
            "{} holds a `{}` run, not an evolution",
            store.location(),
            run.driver
        )));
    }
    serde_json::from_value(run.settings).map_err(|e| {
        EvolveError::Run(format!(
            "{}: the run's settings cannot be read by this nasc ({e})",
            store.location()
        ))
    })
}

struct Driver<'a> {
    store: &'a mut dyn Store,
    settings: Settings,
    rng: ChaCha8Rng,
    state: State,
    /// Flat forms (and their graphs) of individuals, by id.
    flats: HashMap<i64, (Flat, crate::ir::Graph)>,
    fingerprints: HashSet<String>,
    done: Vec<Individual>,
    session_start: Instant,
    wall_before: f64,
    scorer: Option<crate::score::Scorer>,
}

impl Driver<'_> {
    fn snapshot(&mut self) -> DriverState {
        self.state.timing.wall = self.wall_before + self.session_start.elapsed().as_secs_f64();
        DriverState {
            rng: encode_rng(&self.rng),
            state: serde_json::to_value(&self.state).unwrap_or_default(),
        }
    }

    fn timed<T>(&mut self, f: impl FnOnce(&mut dyn Store) -> T) -> T {
        let t0 = Instant::now();
        let r = f(self.store);
        self.state.timing.store += t0.elapsed().as_secs_f64();
        r
    }

    fn flat(&mut self, ind: &Individual) -> Result<&(Flat, crate::ir::Graph), String> {
        if !self.flats.contains_key(&ind.id) {
            let (path, block) = if ind.parent_id.is_none() {
                (self.settings.seed_file.clone(), self.settings.block.clone())
            } else {
                (PathBuf::from("<evolve>.nasl"), None)
            };
            let g = build_at(&path, &ind.nasl, block.as_deref(), 1)?;
            let flat = Flat::from_graph(&g).map_err(|e| e.to_string())?;
            let fg = mutate::build(&flat)?;
            self.flats.insert(ind.id, (flat, fg));
        }
        Ok(&self.flats[&ind.id])
    }

    fn job(&mut self, ind: &Individual) -> Job {
        // with inheritance the seed trains in its flat form, whose IR paths its children share (same
        // graph, same ops in the same order)
        let flat_seed = match (&self.settings.inherit, ind.parent_id) {
            (Some(_), None) => self.flat(ind).ok().map(|(f, _)| f.to_nasl("")),
            _ => None,
        };
        job(&self.settings, ind, flat_seed)
    }

    fn candidates(&self) -> Vec<Candidate> {
        self.done
            .iter()
            .filter_map(|i| {
                let cost = match self.settings.objective {
                    Objective::Params => i.params?,
                    Objective::Macs => i.macs?,
                } as f64;
                Some(Candidate {
                    id: i.id,
                    accuracy: i.val_accuracy?,
                    cost,
                })
            })
            .collect()
    }

    /// Draws one new child (drawing again after failed mutations and duplicates of the run or of
    /// `also`), not yet inserted; returns it with its parent's id.
    fn draw_child(
        &mut self,
        also: &HashSet<String>,
        on: &mut dyn FnMut(&Event),
    ) -> Result<(i64, mutate::Child), EvolveError> {
        let t0 = Instant::now();
        let mut last = Vec::new();
        for _ in 0..self.settings.max_attempts.max(1) {
            let cands = self.candidates();
            let Some(pid) = select::choose(&self.settings.policy, &cands, &mut self.rng) else {
                return Err(EvolveError::Stuck(
                    "no evaluated individual to mutate".into(),
                ));
            };
            let parent = self
                .done
                .iter()
                .find(|i| i.id == pid)
                .cloned()
                .ok_or_else(|| EvolveError::Stuck(format!("parent {pid} vanished")))?;
            let kind = self.settings.rates.draw(&mut self.rng);
            *self
                .state
                .attempts
                .drawn
                .entry(kind.name().into())
                .or_default() += 1;
            let rates = self.settings.rates.clone();
            let mut rng = ChaCha8Rng::from_seed(self.rng.gen());
            let made = match self.flat(&parent) {
                Ok((flat, g)) => {
                    let (flat, g) = (flat.clone(), g.clone());
                    crate::check::with_big_stack(move || {
                        mutate::mutate(&flat, &g, kind, &rates, &mut rng)
                    })
                }
                Err(e) => Err(mutate::Failure {
                    kind,
                    reason: format!("the parent #{pid} does not build: {e}"),
                    synth: None,
                    synth_seconds: 0.0,
                }),
            };
            match made {
                Ok(child) => {
                    self.state.timing.synth += child.synth_seconds;
                    if self.fingerprints.contains(&child.fingerprint)
                        || also.contains(&child.fingerprint)
                    {
                        self.state.attempts.duplicates += 1;
                        continue;
                    }
                    self.state.timing.generate += t0.elapsed().as_secs_f64();
                    return Ok((pid, child));
                }
                Err(f) => {
                    self.state.timing.synth += f.synth_seconds;
                    *self
                        .state
                        .attempts
                        .failed
                        .entry(kind.name().into())
                        .or_default() += 1;
                    on(&Event::NoChild {
                        kind,
                        reason: &f.reason,
                    });
                    last.push(f.to_string());
                    if last.len() > 3 {
                        last.remove(0);
                    }
                }
            }
        }
        self.state.timing.generate += t0.elapsed().as_secs_f64();
        Err(EvolveError::Stuck(format!(
            "no new child in {} mutation draws; the last failures: {}",
            self.settings.max_attempts,
            last.join("; ")
        )))
    }

    /// Inserts a drawn child as `pending` (with the driver's state); None when the store already had
    /// its fingerprint.
    fn insert(
        &mut self,
        pid: i64,
        child: mutate::Child,
        on: &mut dyn FnMut(&Event),
    ) -> Result<Option<Individual>, EvolveError> {
        let header = format!(
            "individual of `nasc search evolve` from {}: parent #{pid}, {}",
            self.settings.seed_file.display(),
            child.detail
        );
        let new = NewIndividual {
            parent_id: Some(pid),
            mutation: Some(child.kind.name().into()),
            nasl: child.flat.to_nasl(&header),
            fingerprint: child.fingerprint.clone(),
            target_props: child
                .target
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
            synth_outcome: child.synth.clone(),
        };
        let snap = self.snapshot();
        let id = match self.timed(|s| s.insert_pending(&new, Some(&snap))) {
            Ok(id) => id,
            Err(StoreError::DuplicateFingerprint { .. }) => {
                self.fingerprints.insert(child.fingerprint);
                self.state.attempts.duplicates += 1;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        self.fingerprints.insert(child.fingerprint);
        on(&Event::Child {
            id,
            parent: pid,
            kind: child.kind,
            detail: &child.detail,
        });
        self.flats.insert(id, (child.flat, child.graph));
        Ok(Some(self.timed(|s| s.individual(id))?))
    }

    /// Makes the next children to evaluate: one, or with the prefilter the best `keep` of `make`
    /// (at most `room`).
    fn next_children(
        &mut self,
        room: u64,
        on: &mut dyn FnMut(&Event),
    ) -> Result<Vec<Individual>, EvolveError> {
        let Some(pf) = self.settings.prefilter.clone() else {
            loop {
                let (pid, child) = self.draw_child(&HashSet::new(), on)?;
                if let Some(ind) = self.insert(pid, child, on)? {
                    return Ok(vec![ind]);
                }
            }
        };
        let mut drawn: Vec<(i64, mutate::Child)> = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..pf.make {
            let (pid, child) = self.draw_child(&seen, on)?;
            seen.insert(child.fingerprint.clone());
            drawn.push((pid, child));
        }
        let t0 = Instant::now();
        let scores = self.prefilter_scores(&pf, &drawn)?;
        self.state.timing.prefilter += t0.elapsed().as_secs_f64();
        let mut order: Vec<usize> = (0..drawn.len()).collect();
        // best first; children without a signal last; ties by draw order
        order.sort_by(|&a, &b| {
            let key = |i: usize| scores[i].unwrap_or(f64::NEG_INFINITY);
            key(b).total_cmp(&key(a)).then(a.cmp(&b))
        });
        let keep = pf.keep.min(room.max(1) as usize);
        let mut slots: Vec<Option<(i64, mutate::Child)>> = drawn.into_iter().map(Some).collect();
        let mut out = Vec::new();
        for &i in order.iter().take(keep) {
            if let Some((pid, child)) = slots[i].take() {
                if let Some(ind) = self.insert(pid, child, on)? {
                    out.push(ind);
                }
            }
        }
        self.state.attempts.prefiltered_out += (order.len() - out.len()) as u64;
        Ok(out)
    }

    /// The prefilter's score of each drawn child (None: no signal).
    fn prefilter_scores(
        &mut self,
        pf: &Prefilter,
        drawn: &[(i64, mutate::Child)],
    ) -> Result<Vec<Option<f64>>, EvolveError> {
        let kinds = crate::score::ScoreKind::parse_list(&pf.score)
            .map_err(|e| EvolveError::Run(e.to_string()))?;
        let kind = kinds[0];
        let graphs = drawn
            .iter()
            .map(|(_, c)| {
                build_at(
                    Path::new("<evolve>.nasl"),
                    &c.flat.to_nasl(""),
                    None,
                    pf.batch,
                )
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(EvolveError::Stuck)?;
        if self.scorer.is_none() {
            let opts = crate::score::ScoreOptions {
                scores: vec![kind],
                data: self.settings.run.data.clone(),
                batch: pf.batch,
                seed: self.settings.run.seed,
                device: self.settings.run.device.clone(),
                threads: self.settings.run.threads,
                ..Default::default()
            };
            let first = graphs
                .first()
                .ok_or_else(|| EvolveError::Stuck("the prefilter drew no child".into()))?;
            self.scorer = Some(
                crate::score::Scorer::new(opts, first)
                    .map_err(|e| EvolveError::Run(format!("the prefilter's scorer: {e}")))?,
            );
        }
        let Some(scorer) = &self.scorer else {
            return Ok(vec![None; graphs.len()]);
        };
        Ok(graphs
            .iter()
            .map(|g| {
                scorer
                    .score(g, 0)
                    .ok()
                    .and_then(|r| r.get(kind).and_then(|s| s.value()))
            })
            .collect())
    }

    fn best(&self) -> Option<(i64, f64)> {
        self.done
            .iter()
            .filter_map(|i| Some((i.id, i.val_accuracy?)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

/// Runs (or resumes) the evolution in `store` until its budget is spent, `stop` is set (Ctrl-C), or an
/// error. `on` sees every event. The executor's capacity is the number of children in flight.
pub fn run(
    store: &mut dyn Store,
    overrides: &Overrides,
    exec: &mut dyn Executor,
    stop: &AtomicBool,
    on: &mut dyn FnMut(&Event),
) -> Result<Report, EvolveError> {
    let mut settings = settings_of(store)?;
    if let Some(t) = overrides.trials {
        settings.trials = Some(t);
    }
    if let Some(t) = overrides.time_budget {
        settings.time_budget = Some(t);
    }
    if let Some(w) = overrides.workers {
        settings.workers = w;
    }
    let requeued = store.reset_running()?;
    let saved = store.load_state()?;
    let (rng, state) = match &saved {
        Some(s) => (
            decode_rng(&s.rng).ok_or_else(|| {
                EvolveError::Run(format!(
                    "{}: the saved generator state is damaged",
                    store.location()
                ))
            })?,
            serde_json::from_value::<State>(s.state.clone()).unwrap_or_default(),
        ),
        None => (
            ChaCha8Rng::seed_from_u64(store.load_run()?.seed),
            State::default(),
        ),
    };
    let all = store.individuals(None)?;
    let wall_before = state.timing.wall;
    let mut d = Driver {
        store,
        settings,
        rng,
        state,
        flats: HashMap::new(),
        fingerprints: all.iter().map(|i| i.fingerprint.clone()).collect(),
        done: all
            .iter()
            .filter(|i| i.status == Status::Done)
            .cloned()
            .collect(),
        session_start: Instant::now(),
        wall_before,
        scorer: None,
    };
    let finished0 = all.iter().filter(|i| i.status.is_finished()).count() as u64;
    let mut total = all.len() as u64;
    on(&Event::Resumed {
        finished: finished0,
        requeued: &requeued,
    });
    let mut queue: VecDeque<Individual> = all
        .into_iter()
        .filter(|i| i.status == Status::Pending)
        .collect();
    let mut finished = finished0;
    let mut in_flight = 0usize;
    let capacity = exec.capacity().max(1);
    let mut interrupted = false;
    let budget_left = |d: &Driver, total: u64| -> bool {
        let trials_ok = d.settings.trials.is_none_or(|n| total < n);
        let wall = d.wall_before + d.session_start.elapsed().as_secs_f64();
        let time_ok = d.settings.time_budget.is_none_or(|b| wall < b);
        trials_ok && time_ok
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        // fill the executor: queued individuals first, then new children
        while in_flight < capacity {
            let ind = match queue.pop_front() {
                Some(i) => i,
                None => {
                    if !budget_left(&d, total) || d.done.is_empty() || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let room = d
                        .settings
                        .trials
                        .map_or(u64::MAX, |n| n.saturating_sub(total));
                    match d.next_children(room, on) {
                        Ok(v) => {
                            total += v.len() as u64;
                            queue.extend(v);
                            match queue.pop_front() {
                                Some(i) => i,
                                None => continue,
                            }
                        }
                        Err(e) => {
                            exec.abort();
                            return Err(e);
                        }
                    }
                }
            };
            d.timed(|s| s.mark_running(ind.id))?;
            let job = d.job(&ind);
            exec.submit(job);
            in_flight += 1;
        }
        if in_flight == 0 {
            if d.done.is_empty() {
                let seed = d.store.individuals(Some(Status::Failed))?;
                let why = seed
                    .first()
                    .and_then(|i| i.error.clone())
                    .unwrap_or_else(|| "no individual was evaluated".into());
                return Err(EvolveError::Seed(format!(
                    "the seed program failed to train, so there is nothing to evolve: {why}"
                )));
            }
            break;
        }
        let Some(r) = exec.wait() else {
            if stop.load(Ordering::SeqCst) {
                // the executor gave up waiting because of the interruption
                interrupted = true;
                break;
            }
            return Err(EvolveError::Stuck(
                "internal error: the executor lost the jobs in flight".into(),
            ));
        };
        in_flight -= 1;
        d.state.timing.train += r.evaluation.train_seconds;
        let snap = d.snapshot();
        d.timed(|s| s.record(r.id as i64, &r.evaluation, Some(&snap)))?;
        let ind = d.timed(|s| s.individual(r.id as i64))?;
        finished += 1;
        if ind.status == Status::Done {
            d.done.push(ind.clone());
        }
        let best = d.best();
        on(&Event::Evaluated {
            individual: &ind,
            finished,
            best,
            running: in_flight,
        });
    }
    exec.abort();
    let snap = d.snapshot();
    d.timed(|s| s.save_state(&snap))?;
    report(d.store, &d.settings, d.state, interrupted)
}

fn report(
    store: &dyn Store,
    settings: &Settings,
    state: State,
    interrupted: bool,
) -> Result<Report, EvolveError> {
    let all = store.individuals(None)?;
    let members: Vec<Member> = all
        .iter()
        .filter(|i| i.status == Status::Done)
        .filter_map(Member::of)
        .collect();
    let cost = |m: &Member| match settings.objective {
        Objective::Params => m.params as f64,
        Objective::Macs => m.macs as f64,
    };
    let points: Vec<(f64, f64)> = members.iter().map(|m| (cost(m), m.val_accuracy)).collect();
    let pareto = pareto::front(&points)
        .into_iter()
        .map(|i| members[i].clone())
        .collect();
    let best = members
        .iter()
        .max_by(|a, b| {
            a.val_accuracy
                .total_cmp(&b.val_accuracy)
                .then(b.id.cmp(&a.id))
        })
        .cloned();
    let seed = all
        .iter()
        .find(|i| i.parent_id.is_none())
        .and_then(Member::of);
    let done = all.iter().filter(|i| i.status == Status::Done).count() as u64;
    let failed = all.iter().filter(|i| i.status == Status::Failed).count() as u64;
    let per_hour = (done + failed) as f64 / (state.timing.wall / 3600.0).max(1e-9);
    Ok(Report {
        store: store.location().to_string(),
        interrupted,
        done,
        failed,
        objective: settings.objective,
        seed,
        best,
        pareto,
        timing: state.timing,
        attempts: state.attempts,
        per_hour,
    })
}
