//! Two-stage weight-sharing search (AttentiveNAS; docs/supernet.md): the policy over `lower::supernet`'s
//! mechanics and the run store.
//!
//! An architecture of a space is its **genes**: one alternative index per decision of the entry block
//! ([`Genes`]). The largest and smallest architectures are found by coordinate ascent / descent on MACs
//! (every decision in turn set to the alternative that maximises / minimises the MACs with the others
//! fixed, until nothing changes), so any NASL space works, not only ones whose alternatives are sorted.
//! The [`Table`] is a MACs histogram of uniformly drawn architectures, computed on the IR (no libtorch);
//! attentive sampling draws a bin by its share, then candidates in it from the per-bin frequencies of each
//! decision's alternatives (rejection on the exact MACs).
//!
//! **Stage 1** ([`train`]): per step the sandwich rule — the largest subnet on label-smoothed labels,
//! two sampled subnets (uniform, or attentive BestUp / WorstUp over k candidates compared by their loss on
//! the current minibatch without gradients) and the smallest one distilled from the largest's soft
//! predictions, gradients accumulated, one optimizer step. The random state of an epoch is a function of
//! (seed, epoch), and the supernet, the optimizer state and the curves are checkpointed after every epoch
//! (files beside the store, then the store's driver state as the commit point), so a killed run resumes
//! at the last epoch boundary and finishes with the same number of steps and the same weights.
//!
//! **Stage 2** ([`search`]): evolution over the genes on the trained supernet — initial population the
//! smallest subnet plus uniform draws in the MACs range, then children by mutation (each gene resampled
//! with p 0.2) or uniform crossover (0.5), rejection-sampled into the range; every candidate is evaluated by
//! batch-norm calibration and accuracy on the held-out validation split, recorded as an individual of the
//! same store (so `nasc search report` draws accuracy against MACs).

use super::{SearchError, Space};
use crate::ir::{cost, BuildError, Graph};
use crate::lower::supernet::Supernet;
use crate::lower::LowerError;
use crate::store::{DriverState, Evaluation, NewIndividual, Outcome, Store, StoreError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// One alternative index per decision, in the order of [`Decisions::names`].
pub type Genes = Vec<usize>;

/// Why a supernet stage could not run.
#[derive(Debug)]
pub enum SupernetError {
    Build(BuildError),
    Lower(LowerError),
    Store(StoreError),
    /// A bad request or a run that does not fit it (message for the user).
    Usage(String),
    /// Stopped by the caller (Ctrl-C) at a step boundary; the last checkpoint stands.
    Interrupted,
}

impl fmt::Display for SupernetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupernetError::Build(e) => write!(f, "{e}"),
            SupernetError::Lower(e) => write!(f, "{e}"),
            SupernetError::Store(e) => write!(f, "{e}"),
            SupernetError::Usage(m) => f.write_str(m),
            SupernetError::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for SupernetError {}

impl From<BuildError> for SupernetError {
    fn from(e: BuildError) -> Self {
        SupernetError::Build(e)
    }
}
impl From<LowerError> for SupernetError {
    fn from(e: LowerError) -> Self {
        SupernetError::Lower(e)
    }
}
impl From<StoreError> for SupernetError {
    fn from(e: StoreError) -> Self {
        SupernetError::Store(e)
    }
}
impl From<SearchError> for SupernetError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Build(b) => SupernetError::Build(b),
            SearchError::Score(s) => SupernetError::Usage(s.to_string()),
        }
    }
}

/// The decisions of a space: names and alternative counts (of the architecture built with defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    pub names: Vec<String>,
    pub sizes: Vec<usize>,
}

/// A space with its decisions, building architectures from genes (cached MACs and params).
pub struct Genome<'a> {
    pub space: &'a Space<'a>,
    pub decisions: Decisions,
    cost: std::cell::RefCell<HashMap<Genes, (i64, i64)>>,
}

impl<'a> Genome<'a> {
    /// The decisions of `space` that are not fixed by `--choose`.
    pub fn new(space: &'a Space<'a>) -> Result<Genome<'a>, SupernetError> {
        let g = space.build(&BTreeMap::new())?;
        let (names, sizes): (Vec<String>, Vec<usize>) = g
            .choices
            .iter()
            .filter(|c| !space.base.choices.contains_key(&c.name))
            .map(|c| (c.name.clone(), c.options.len()))
            .unzip();
        if names.is_empty() {
            return Err(SupernetError::Usage(
                "the space has no decision (`choice`) to search: a supernet needs at least one"
                    .into(),
            ));
        }
        Ok(Genome {
            space,
            decisions: Decisions { names, sizes },
            cost: Default::default(),
        })
    }

    /// The `--choose`-style decisions of genes.
    pub fn picks(&self, genes: &[usize]) -> BTreeMap<String, usize> {
        self.decisions
            .names
            .iter()
            .cloned()
            .zip(genes.iter().copied())
            .collect()
    }

    /// `NAME=INDEX …` of genes (the fingerprint of a subnet).
    pub fn label(&self, genes: &[usize]) -> String {
        self.decisions
            .names
            .iter()
            .zip(genes)
            .map(|(n, i)| format!("{n}={i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn build(&self, genes: &[usize]) -> Result<Graph, SupernetError> {
        Ok(self.space.build(&self.picks(genes))?)
    }

    /// MACs per sample and params of the architecture (conv and linear MACs: docs/cost.md).
    pub fn cost(&self, genes: &[usize]) -> Result<(i64, i64), SupernetError> {
        if let Some(c) = self.cost.borrow().get(genes) {
            return Ok(*c);
        }
        let g = self.build(genes)?;
        let c = cost::cost(&g, 1).total;
        let v = (c.macs, c.params);
        self.cost.borrow_mut().insert(genes.to_vec(), v);
        Ok(v)
    }

    pub fn macs(&self, genes: &[usize]) -> Result<i64, SupernetError> {
        Ok(self.cost(genes)?.0)
    }

    /// Uniform genes.
    pub fn random(&self, rng: &mut impl Rng) -> Genes {
        self.decisions
            .sizes
            .iter()
            .map(|&n| rng.gen_range(0..n.max(1)))
            .collect()
    }

    /// Architectures whose weights together cover the space's (a supernet is grown to fit them before
    /// training): the largest and the smallest, each with every decision set in turn to each of its
    /// alternatives, and `random` uniform draws under `seed`.
    pub fn cover(&self, random: usize, seed: u64) -> Result<Vec<Genes>, SupernetError> {
        let mut out = Vec::new();
        for base in [self.extreme(true)?, self.extreme(false)?] {
            for (d, &n) in self.decisions.sizes.iter().enumerate() {
                for a in 0..n {
                    let mut g = base.clone();
                    g[d] = a;
                    if !out.contains(&g) {
                        out.push(g);
                    }
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de);
        for _ in 0..random {
            let g = self.random(&mut rng);
            if !out.contains(&g) {
                out.push(g);
            }
        }
        Ok(out)
    }

    /// The largest (`max`) or smallest architecture by coordinate ascent / descent on (MACs, params).
    pub fn extreme(&self, max: bool) -> Result<Genes, SupernetError> {
        let sizes = &self.decisions.sizes;
        let mut genes: Genes = if max {
            sizes.iter().map(|&n| n - 1).collect()
        } else {
            vec![0; sizes.len()]
        };
        for _ in 0..4 {
            let mut changed = false;
            for d in 0..sizes.len() {
                let mut best = (genes[d], self.cost(&genes)?);
                for alt in 0..sizes[d] {
                    let mut g = genes.clone();
                    g[d] = alt;
                    let c = self.cost(&g)?;
                    let better = if max { c > best.1 } else { c < best.1 };
                    if better {
                        best = (alt, c);
                    }
                }
                if best.0 != genes[d] {
                    genes[d] = best.0;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Ok(genes)
    }
}

/// One MACs bin of the table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bin {
    /// MACs per sample, `lo ≤ macs < hi`.
    pub lo: i64,
    pub hi: i64,
    /// Table architectures in the bin.
    pub count: usize,
    /// For each decision, how many of the bin's architectures take each alternative.
    pub freq: Vec<Vec<u32>>,
}

/// The MACs table of a space: the smallest and largest architectures and a histogram of uniform draws.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Table {
    pub decisions: Decisions,
    pub smallest: Genes,
    pub largest: Genes,
    pub smallest_macs: i64,
    pub largest_macs: i64,
    pub smallest_params: i64,
    pub largest_params: i64,
    pub samples: usize,
    pub bin_width: i64,
    pub bins: Vec<Bin>,
}

/// A round bin width: about a twentieth of the range, as 1, 2 or 5 times a power of ten.
fn round_width(range: i64) -> i64 {
    let raw = (range as f64 / 20.0).max(1.0);
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let k = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    (k * p) as i64
}

impl Table {
    /// Draws `samples` uniform architectures under `seed` and bins their MACs (`bin_width` MACs per
    /// sample; default: a round twentieth of the smallest–largest range).
    pub fn new(
        genome: &Genome,
        samples: usize,
        seed: u64,
        bin_width: Option<i64>,
        mut progress: impl FnMut(usize),
    ) -> Result<Table, SupernetError> {
        let smallest = genome.extreme(false)?;
        let largest = genome.extreme(true)?;
        let (smallest_macs, smallest_params) = genome.cost(&smallest)?;
        let (largest_macs, largest_params) = genome.cost(&largest)?;
        let width = bin_width
            .unwrap_or_else(|| round_width(largest_macs - smallest_macs))
            .max(1);
        let lo0 = smallest_macs / width * width;
        let nbins = ((largest_macs - lo0) / width + 1) as usize;
        let sizes = &genome.decisions.sizes;
        let mut bins: Vec<Bin> = (0..nbins)
            .map(|k| Bin {
                lo: lo0 + k as i64 * width,
                hi: lo0 + (k as i64 + 1) * width,
                count: 0,
                freq: sizes.iter().map(|&n| vec![0; n]).collect(),
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in 0..samples {
            let g = genome.random(&mut rng);
            let m = genome.macs(&g)?;
            let k = (((m - lo0) / width).max(0) as usize).min(nbins - 1);
            bins[k].count += 1;
            for (d, &a) in g.iter().enumerate() {
                bins[k].freq[d][a] += 1;
            }
            progress(i + 1);
        }
        Ok(Table {
            decisions: genome.decisions.clone(),
            smallest,
            largest,
            smallest_macs,
            largest_macs,
            smallest_params,
            largest_params,
            samples,
            bin_width: width,
            bins,
        })
    }

    fn bin_of(&self, macs: i64) -> usize {
        let lo0 = self.bins.first().map_or(0, |b| b.lo);
        (((macs - lo0) / self.bin_width).max(0) as usize).min(self.bins.len().saturating_sub(1))
    }

    /// A bin drawn by its share of the table.
    fn draw_bin(&self, rng: &mut impl Rng) -> usize {
        let total: usize = self.bins.iter().map(|b| b.count).sum();
        let mut r = rng.gen_range(0..total.max(1));
        for (k, b) in self.bins.iter().enumerate() {
            if r < b.count {
                return k;
            }
            r -= b.count;
        }
        0
    }

    /// Genes in bin `k`: each decision drawn from its frequencies in the bin (add-one smoothed), accepted
    /// when the exact MACs fall in the bin; after `tries` misses, the last draw.
    fn draw_in_bin(
        &self,
        genome: &Genome,
        k: usize,
        tries: usize,
        rng: &mut impl Rng,
    ) -> Result<Genes, SupernetError> {
        let bin = &self.bins[k];
        let mut last = Vec::new();
        for _ in 0..tries.max(1) {
            let g: Genes = bin
                .freq
                .iter()
                .map(|f| {
                    let total: u32 = f.iter().map(|c| c + 1).sum();
                    let mut r = rng.gen_range(0..total.max(1));
                    for (a, c) in f.iter().enumerate() {
                        if r < c + 1 {
                            return a;
                        }
                        r -= c + 1;
                    }
                    0
                })
                .collect();
            if self.bin_of(genome.macs(&g)?) == k {
                return Ok(g);
            }
            last = g;
        }
        Ok(last)
    }
}

/// How stage 1 picks the two middle subnets of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sampler {
    /// Uniform over the decisions (BigNAS).
    Uniform,
    /// AttentiveNAS: the candidate with the lowest loss on the minibatch.
    BestUp,
    /// AttentiveNAS: the candidate with the highest loss.
    WorstUp,
}

impl Sampler {
    pub fn name(self) -> &'static str {
        match self {
            Sampler::Uniform => "uniform",
            Sampler::BestUp => "bestup",
            Sampler::WorstUp => "worstup",
        }
    }
}

/// The settings of a supernet run (the store's `settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// The space file, as given.
    pub space: PathBuf,
    pub block: Option<String>,
    pub choose: BTreeMap<String, usize>,
    pub sampler: Sampler,
    /// Candidates per attentive draw (k).
    pub candidates: usize,
    pub epochs: usize,
    pub batch: i64,
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub label_smoothing: f64,
    pub data: String,
    /// Training images used (a subset of the training split; the validation images are held out first).
    pub train_subset: Option<i64>,
    pub val: i64,
    pub augment: bool,
    pub device: String,
    pub threads: Option<i32>,
    /// Steps per epoch at most.
    pub max_steps: Option<usize>,
    /// Training batches each subnet's batch norm is calibrated on before it is evaluated.
    pub bn_calib: usize,
    /// Table architectures (attentive sampling).
    pub table_samples: usize,
    pub bin_width: Option<i64>,
}

/// One epoch of stage 1.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Curve {
    pub epoch: usize,
    pub steps: usize,
    pub loss_largest: f64,
    pub loss_sampled: f64,
    pub loss_smallest: f64,
    /// Validation accuracy of the largest and smallest subnets after calibration.
    pub val_largest: f64,
    pub val_smallest: f64,
    pub seconds: f64,
}

/// The driver state of a supernet run (the store's `DriverState.state`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub epochs_done: usize,
    pub optimizer_steps: i64,
    /// The checkpoint files of the last finished epoch (in the run's folder).
    pub weights: Option<String>,
    pub optimizer: Option<String>,
    pub curves: Vec<Curve>,
    pub table: Option<Table>,
    /// Stage 2: the search's seed and how many candidates it has evaluated, per search.
    pub searches: Vec<SearchState>,
}

/// What a stage-2 search has done.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchState {
    pub macs_min: i64,
    pub macs_max: i64,
    pub seed: u64,
    pub trials: usize,
    pub evaluated: usize,
}

/// The folder of a run's checkpoint files: `RUN.db.supernet` beside the store.
pub fn folder_of(store: &Path) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".supernet");
    PathBuf::from(s)
}

/// What both stages run on: the space's genome, the run's settings, and the stop flag (Ctrl-C) polled
/// between steps and candidates.
pub struct Stage<'a> {
    pub genome: &'a Genome<'a>,
    pub settings: &'a TrainSettings,
    pub stop: &'a dyn Fn() -> bool,
}

/// Progress of stage 1.
pub struct StepInfo {
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    pub loss_largest: f64,
}

/// The state saved in the store.
pub fn load_state(store: &dyn Store) -> Result<State, SupernetError> {
    Ok(match store.load_state()? {
        Some(s) => serde_json::from_value(s.state).map_err(|e| {
            SupernetError::Usage(format!(
                "{}: the supernet state cannot be read: {e}",
                store.location()
            ))
        })?,
        None => State::default(),
    })
}

fn save_state(store: &mut dyn Store, state: &State) -> Result<(), SupernetError> {
    store.save_state(&DriverState {
        rng: Vec::new(),
        state: serde_json::to_value(state).unwrap_or_default(),
    })?;
    Ok(())
}

/// A generator for (seed, epoch, stream): the whole random state of an epoch.
fn rng_for(seed: u64, epoch: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(
        seed ^ (epoch + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03),
    )
}

/// Stage 1: trains the supernet of `genome` until `settings.epochs` epochs are done, continuing from the
/// store's last checkpoint. `sn` was built from the largest architecture. After each epoch the weights
/// and optimizer state are written into `folder` and the store's state is updated (the commit point);
/// `stop` is polled between steps.
pub fn train(
    run: &Stage,
    sn: &mut Supernet,
    store: &mut dyn Store,
    folder: &Path,
    mut progress: impl FnMut(&StepInfo),
    mut on_epoch: impl FnMut(&Curve),
) -> Result<State, SupernetError> {
    let (genome, settings, stop) = (run.genome, run.settings, run.stop);
    let mut state = load_state(store)?;
    let table = match &state.table {
        Some(t) => t.clone(),
        None => {
            let t = Table::new(
                genome,
                settings.table_samples,
                settings_seed(store)?,
                settings.bin_width,
                |_| {},
            )?;
            state.table = Some(t.clone());
            save_state(store, &state)?;
            t
        }
    };
    if let (Some(w), Some(o)) = (&state.weights, &state.optimizer) {
        sn.load(&folder.join(w), &folder.join(o), state.optimizer_steps)?;
    }
    let seed = settings_seed(store)?;
    let smallest_net = sn.subnet(&genome.build(&table.smallest)?)?;
    let per_epoch = sn.steps_per_epoch(settings.batch);
    let steps = settings.max_steps.map_or(per_epoch, |m| m.min(per_epoch));
    let total = (steps * settings.epochs).max(1);
    while state.epochs_done < settings.epochs {
        let epoch = state.epochs_done;
        let t0 = std::time::Instant::now();
        tch_seed(seed, epoch);
        let mut rng = rng_for(seed, epoch as u64, 1);
        let (mut l_max, mut l_mid, mut l_min) = (0.0, 0.0, 0.0);
        let mut done = 0;
        for (step, b) in sn
            .train_batches(settings.batch, epoch as u64)
            .take(steps)
            .enumerate()
        {
            if stop() {
                return Err(SupernetError::Interrupted);
            }
            let (x, y) = b?;
            let global = epoch * steps + step;
            let lr = 0.5
                * settings.lr
                * (1.0 + (std::f64::consts::PI * global as f64 / total as f64).cos());
            sn.begin_step(lr);
            let (lm, teacher) = sn.teach(&x, &y)?;
            if !lm.is_finite() {
                return Err(SupernetError::Lower(LowerError::Diverged {
                    epoch: epoch + 1,
                    step: step + 1,
                    loss: lm,
                    lr,
                }));
            }
            for _ in 0..2 {
                let genes = match settings.sampler {
                    Sampler::Uniform => genome.random(&mut rng),
                    Sampler::BestUp | Sampler::WorstUp => {
                        let k = table.draw_bin(&mut rng);
                        let mut best: Option<(f64, Genes)> = None;
                        for _ in 0..settings.candidates.max(1) {
                            let g = table.draw_in_bin(genome, k, 50, &mut rng)?;
                            let net = sn.subnet(&genome.build(&g)?)?;
                            let l = sn.candidate_loss(&net, &x, &teacher)?;
                            let better = match (&best, settings.sampler) {
                                (None, _) => true,
                                (Some((b, _)), Sampler::BestUp) => l < *b,
                                (Some((b, _)), _) => l > *b,
                            };
                            if better {
                                best = Some((l, g));
                            }
                        }
                        best.map(|(_, g)| g)
                            .unwrap_or_else(|| table.largest.clone())
                    }
                };
                let net = sn.subnet(&genome.build(&genes)?)?;
                l_mid += sn.distill(&net, &x, &teacher)? / 2.0;
            }
            l_min += sn.distill(&smallest_net, &x, &teacher)?;
            sn.end_step()?;
            l_max += lm;
            done += 1;
            state.optimizer_steps += 1;
            progress(&StepInfo {
                epoch,
                epochs: settings.epochs,
                step: step + 1,
                steps,
                loss_largest: l_max / done as f64,
            });
        }
        // the epoch's curve: the largest and smallest subnets on the validation split, calibrated
        let largest_net = &sn.largest;
        let v_max = sn.evaluate(
            largest_net,
            settings.bn_calib,
            settings.batch,
            crate::data::Part::Val,
        )?;
        let v_min = sn.evaluate(
            &smallest_net,
            settings.bn_calib,
            settings.batch,
            crate::data::Part::Val,
        )?;
        let n = done.max(1) as f64;
        let curve = Curve {
            epoch,
            steps: done,
            loss_largest: l_max / n,
            loss_sampled: l_mid / n,
            loss_smallest: l_min / n,
            val_largest: v_max.accuracy,
            val_smallest: v_min.accuracy,
            seconds: t0.elapsed().as_secs_f64(),
        };
        // checkpoint: the files first, then the store (the commit point), then the old files go
        std::fs::create_dir_all(folder).map_err(|e| {
            SupernetError::Usage(format!("cannot create {}: {e}", folder.display()))
        })?;
        let e = epoch + 1;
        let (w, o) = (
            format!("supernet-{e}.safetensors"),
            format!("optimizer-{e}.safetensors"),
        );
        sn.save(&folder.join(&w), &folder.join(&o))?;
        let old = (state.weights.replace(w), state.optimizer.replace(o));
        state.epochs_done = e;
        state.curves.push(curve.clone());
        save_state(store, &state)?;
        for f in [old.0, old.1].into_iter().flatten() {
            let _ = std::fs::remove_file(folder.join(f));
        }
        on_epoch(&curve);
        // for the tests of a killed run (`NASC_FAULT_EPOCH_DELAY_MS`); nothing when unset
        crate::base::fs::fault_sleep("NASC_FAULT_EPOCH_DELAY_MS");
    }
    Ok(state)
}

fn tch_seed(seed: u64, epoch: usize) {
    crate::lower::seed(seed ^ (epoch as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
}

fn settings_seed(store: &dyn Store) -> Result<u64, SupernetError> {
    Ok(store.load_run()?.seed)
}

/// The settings a run was started with.
pub fn settings_of(store: &dyn Store) -> Result<TrainSettings, SupernetError> {
    let run = store.load_run()?;
    if run.driver != "supernet" {
        return Err(SupernetError::Usage(format!(
            "{} holds a `{}` run, not a supernet run",
            store.location(),
            run.driver
        )));
    }
    serde_json::from_value(run.settings).map_err(|e| {
        SupernetError::Usage(format!(
            "{}: the run's settings cannot be read: {e}",
            store.location()
        ))
    })
}

/// Stage 2's settings.
#[derive(Clone, Debug)]
pub struct SearchSettings {
    pub macs_min: i64,
    pub macs_max: i64,
    /// Candidates to evaluate in all (the initial population included).
    pub trials: usize,
    pub population: usize,
    pub p_mutate_gene: f64,
    pub p_crossover: f64,
    pub seed: u64,
}

/// The order subnets are reported in, best first: higher validation accuracy, then fewer MACs, then
/// the earlier id. Small validation splits tie often; `search`'s list and `extract --best` agree on
/// which subnet is first because both rank by this.
pub fn rank(a: (f64, i64, i64), b: (f64, i64, i64)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// The archive of a search (AlphaNet's): the best subnet, by [`rank`], of each MACs bucket
/// `[k·bucket, (k+1)·bucket)` that holds one, by MACs. `ranked` is best first, as [`search`] returns it.
pub fn archive(ranked: &[Candidate], bucket: i64) -> Vec<Candidate> {
    let bucket = bucket.max(1);
    let mut best: std::collections::BTreeMap<i64, &Candidate> = Default::default();
    for c in ranked {
        best.entry(c.macs.div_euclid(bucket)).or_insert(c);
    }
    best.into_values().cloned().collect()
}

/// The default archive bucket of a MACs range: a round twentieth of it.
pub fn default_bucket(lo: i64, hi: i64) -> i64 {
    round_width((hi - lo).max(1))
}

/// One evaluated subnet.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub id: i64,
    pub arch: String,
    pub macs: i64,
    pub params: i64,
    pub val_accuracy: f64,
    pub how: String,
}

/// Stage 2: evolution on the trained supernet in the MACs range; every candidate is calibrated,
/// measured on the validation split and recorded as an individual. Subnets already in the store are not
/// evaluated again (a re-run continues). Returns the candidates of this search, best first.
pub fn search(
    run: &Stage,
    sn: &Supernet,
    o: &SearchSettings,
    store: &mut dyn Store,
    program: &crate::check::Program,
    mut progress: impl FnMut(usize, usize, &Candidate),
) -> Result<Vec<Candidate>, SupernetError> {
    let (genome, train, stop) = (run.genome, run.settings, run.stop);
    let in_range = |m: i64| m >= o.macs_min && m <= o.macs_max;
    let state = load_state(store)?;
    let table = state.table.clone().ok_or_else(|| {
        SupernetError::Usage(
            "the run has no trained supernet yet: run `nasc supernet train`".into(),
        )
    })?;
    if state.epochs_done < train.epochs {
        return Err(SupernetError::Usage(format!(
            "the supernet has trained {} of {} epochs: finish it with `nasc search resume {}`",
            state.epochs_done,
            train.epochs,
            store.location()
        )));
    }
    if table.smallest_macs > o.macs_max || table.largest_macs < o.macs_min {
        return Err(SupernetError::Usage(format!(
            "--macs {}..{} holds no subnet: the space's subnets have {}..{} MACs per sample",
            o.macs_min, o.macs_max, table.smallest_macs, table.largest_macs
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    // what the store already holds, by fingerprint
    let mut known: HashMap<String, (i64, f64)> = HashMap::new();
    for ind in store.individuals(Some(crate::store::Status::Done))? {
        if let Some(a) = ind.val_accuracy {
            known.insert(ind.fingerprint.clone(), (ind.id, a));
        }
    }
    let mut evaluated: Vec<(Genes, Candidate)> = Vec::new();
    let mut eval = |genes: Genes,
                    how: &str,
                    parent: Option<i64>,
                    evaluated: &mut Vec<(Genes, Candidate)>|
     -> Result<(), SupernetError> {
        let label = genome.label(&genes);
        if evaluated.iter().any(|(g, _)| *g == genes) {
            return Ok(());
        }
        let (macs, params) = genome.cost(&genes)?;
        let c = if let Some(&(id, acc)) = known.get(&label) {
            Candidate {
                id,
                arch: label,
                macs,
                params,
                val_accuracy: acc,
                how: how.into(),
            }
        } else {
            let g = genome.build(&genes)?;
            let nasl = super::fixed_program(
                program,
                &g,
                &format!("subnet of the supernet run {} ({how})", store.location()),
            )
            .unwrap_or_default();
            let t0 = std::time::Instant::now();
            let net = sn.subnet(&g)?;
            let ev = sn.evaluate(&net, train.bn_calib, train.batch, crate::data::Part::Val)?;
            let id = store.insert_pending(
                &NewIndividual {
                    parent_id: parent,
                    mutation: Some(how.into()),
                    nasl,
                    fingerprint: label.clone(),
                    target_props: Some(serde_json::json!({ "arch": genes })),
                    synth_outcome: None,
                },
                None,
            )?;
            store.mark_running(id)?;
            store.record(
                id,
                &Evaluation {
                    outcome: Outcome::Done,
                    params: Some(params),
                    macs: Some(macs),
                    val_accuracy: Some(ev.accuracy),
                    val_loss: Some(ev.loss),
                    train_seconds: t0.elapsed().as_secs_f64(),
                    error: None,
                },
                None,
            )?;
            known.insert(label.clone(), (id, ev.accuracy));
            Candidate {
                id,
                arch: label,
                macs,
                params,
                val_accuracy: ev.accuracy,
                how: how.into(),
            }
        };
        progress(evaluated.len() + 1, o.trials, &c);
        evaluated.push((genes, c));
        Ok(())
    };
    // the initial population: the smallest subnet when in range, then uniform draws in range
    let draw_in_range = |rng: &mut ChaCha8Rng| -> Result<Option<Genes>, SupernetError> {
        for _ in 0..500 {
            let g = genome.random(rng);
            if in_range(genome.macs(&g)?) {
                return Ok(Some(g));
            }
        }
        Ok(None)
    };
    if in_range(table.smallest_macs) {
        eval(table.smallest.clone(), "smallest", None, &mut evaluated)?;
    }
    let mut misses = 0;
    while evaluated.len() < o.population.min(o.trials) && misses < 50 {
        if stop() {
            return Err(SupernetError::Interrupted);
        }
        match draw_in_range(&mut rng)? {
            Some(g) => {
                let before = evaluated.len();
                eval(g, "sample", None, &mut evaluated)?;
                if evaluated.len() == before {
                    misses += 1;
                }
            }
            None => break,
        }
    }
    if evaluated.is_empty() {
        return Err(SupernetError::Usage(format!(
            "no subnet with {}..{} MACs was found in 500 draws",
            o.macs_min, o.macs_max
        )));
    }
    // generations: parents from the best half
    let mut misses = 0;
    while evaluated.len() < o.trials && misses < 200 {
        if stop() {
            return Err(SupernetError::Interrupted);
        }
        let mut ranked: Vec<usize> = (0..evaluated.len()).collect();
        let key = |c: &Candidate| (c.val_accuracy, c.macs, c.id);
        ranked.sort_by(|&a, &b| rank(key(&evaluated[a].1), key(&evaluated[b].1)));
        let top = &ranked[..ranked.len().min(o.population).div_ceil(2).max(1)];
        let pa = top[rng.gen_range(0..top.len())];
        let mut child = evaluated[pa].0.clone();
        let how;
        if rng.gen_bool(o.p_crossover.clamp(0.0, 1.0)) && top.len() > 1 {
            let pb = top[rng.gen_range(0..top.len())];
            for (d, g) in child.iter_mut().enumerate() {
                if rng.gen_bool(0.5) {
                    *g = evaluated[pb].0[d];
                }
            }
            how = "crossover";
        } else {
            for (d, g) in child.iter_mut().enumerate() {
                if rng.gen_bool(o.p_mutate_gene.clamp(0.0, 1.0)) {
                    *g = rng.gen_range(0..genome.decisions.sizes[d].max(1));
                }
            }
            how = "mutate";
        }
        if !in_range(genome.macs(&child)?) || evaluated.iter().any(|(g, _)| *g == child) {
            misses += 1;
            continue;
        }
        misses = 0;
        let parent = evaluated[pa].1.id;
        eval(child, how, Some(parent), &mut evaluated)?;
    }
    let mut out: Vec<Candidate> = evaluated.into_iter().map(|(_, c)| c).collect();
    out.sort_by(|a, b| {
        rank(
            (a.val_accuracy, a.macs, a.id),
            (b.val_accuracy, b.macs, b.id),
        )
    });
    let mut state = load_state(store)?;
    state.searches.push(SearchState {
        macs_min: o.macs_min,
        macs_max: o.macs_max,
        seed: o.seed,
        trials: o.trials,
        evaluated: out.len(),
    });
    save_state(store, &state)?;
    Ok(out)
}

/// Parses a MACs count with an SI suffix (`20M`, `1.5G`, `800K`, `12000`).
pub fn parse_macs(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, mul) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1e3),
        Some('M' | 'm') => (&t[..t.len() - 1], 1e6),
        Some('G' | 'g') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a MACs count (a number with an optional K, M or G)"))?;
    if !v.is_finite() || v < 0.0 || v * mul > 1e15 {
        return Err(format!("`{s}` is not a MACs count between 0 and 10^15"));
    }
    Ok((v * mul).round() as i64)
}

/// Parses `MIN..MAX` MACs (`20M..60M`).
pub fn parse_macs_range(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("--macs takes MIN..MAX (e.g. 20M..60M), not `{s}`"))?;
    let (lo, hi) = (parse_macs(a)?, parse_macs(b)?);
    if lo > hi {
        return Err(format!("--macs {s}: the minimum is above the maximum"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_with_suffixes() {
        assert_eq!(parse_macs("20M"), Ok(20_000_000));
        assert_eq!(parse_macs("1.5G"), Ok(1_500_000_000));
        assert_eq!(parse_macs("800k"), Ok(800_000));
        assert_eq!(parse_macs_range("1M..2.5M"), Ok((1_000_000, 2_500_000)));
        assert!(parse_macs_range("2M..1M").is_err());
        assert!(parse_macs("-3M").is_err());
        assert!(parse_macs("x").is_err());
    }

    #[test]
    fn the_archive_keeps_the_best_per_bucket() {
        let c = |id, macs, acc| Candidate {
            id,
            arch: format!("a{id}"),
            macs,
            params: 0,
            val_accuracy: acc,
            how: "sample".into(),
        };
        let mut all = vec![
            c(1, 1_200_000, 0.5),
            c(2, 1_900_000, 0.7),
            c(3, 2_100_000, 0.6),
            c(4, 1_500_000, 0.7),
            c(5, 2_999_999, 0.6),
        ];
        all.sort_by(|a, b| {
            rank(
                (a.val_accuracy, a.macs, a.id),
                (b.val_accuracy, b.macs, b.id),
            )
        });
        let ids: Vec<i64> = archive(&all, 1_000_000).iter().map(|c| c.id).collect();
        // bucket 1M: 4 (0.7 with fewer MACs than 2); bucket 2M: 3 (0.6, fewer MACs than 5)
        assert_eq!(ids, vec![4, 3]);
        assert_eq!(default_bucket(2_000_000, 6_000_000), 200_000);
    }

    #[test]
    fn bin_widths_are_round() {
        assert_eq!(round_width(506_000_000), 20_000_000);
        assert_eq!(round_width(1_000_000), 50_000);
        assert_eq!(round_width(3), 1);
    }
}
