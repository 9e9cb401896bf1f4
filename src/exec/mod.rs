//! Evaluation jobs and executors: what a search driver asks to have measured, and who measures it.
//!
//! A [`Job`] is a self-contained description — the program as NASL text, the entry block, the data and
//! training settings — so that it can be run here, in another process, or on another machine and give the
//! same result under the same seed. [`evaluate`] is the one evaluation function: front end (through the
//! driver) → lowering → training on the train split → accuracy on the held-out validation split (never the
//! test split), with params and MACs by the one convention (`ir::cost`). It never panics and never returns
//! an error: a program that does not build, a libtorch failure, or a NaN loss is a [`JobResult`] with
//! outcome `Failed` and the reason. An [`Executor`] runs a batch of jobs; [`InProcess`] runs them one after
//! another in this process (the search drivers' default; parallel and distributed executors implement the
//! same trait; [`process::Workers`] runs each job in one of W worker processes). Uses `lower`, `data`,
//! `driver`, `ir`.

pub mod process;

use crate::driver::{self, Source};
use crate::ir::BuildOptions;
use crate::lower::train::TrainConfig;
use crate::lower::{Session, SessionOptions};
pub use crate::store::{Evaluation, Outcome};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where a job's data comes from and how the run is set up (the `nasc train` options).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSettings {
    /// The dataset (`fashion-mnist`, `idx:DIR`, `cifar10:DIR`, `csv:…`; see `nasc train --help`).
    pub data: String,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// Seed of the initial weights, of the validation split and of shuffling.
    pub seed: u64,
    /// Training images held out for validation.
    pub val: i64,
    /// Use at most this many training images.
    pub limit: Option<i64>,
    /// libtorch intra-op threads (None: libtorch's choice).
    pub threads: Option<i32>,
    /// Random crop and flip on training batches.
    pub augment: bool,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            data: "fashion-mnist".into(),
            device: "cpu".into(),
            seed: 0,
            val: 5000,
            limit: None,
            threads: None,
            augment: false,
        }
    }
}

/// One evaluation: train a program and measure it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Job {
    /// The caller's id for the result.
    pub id: u64,
    /// The whole program, as NASL.
    pub nasl: String,
    /// The path the text is checked as (relative imports resolve from its folder).
    pub path: PathBuf,
    /// The entry block (default: the program's last `network`).
    pub block: Option<String>,
    pub run: RunSettings,
    pub train: TrainConfig,
    /// Weight inheritance: start from the tensors of this checkpoint whose IR path and shape match
    /// (the parent's trained weights); the others keep their initialisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_weights: Option<PathBuf>,
    /// Save the trained weights here (safetensors, written atomically), for children to inherit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_weights: Option<PathBuf>,
}

/// What a job measured: the store's [`Evaluation`] (outcome, params, MACs, validation accuracy and loss,
/// training time, error), so a result is recorded as it is (`store.record(id, &result.evaluation, …)`),
/// with the caller's id.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobResult {
    pub id: u64,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

impl JobResult {
    fn failed(id: u64, error: String) -> JobResult {
        JobResult {
            id,
            evaluation: Evaluation {
                outcome: Outcome::Failed,
                params: None,
                macs: None,
                val_accuracy: None,
                val_loss: None,
                train_seconds: 0.0,
                error: Some(error),
            },
        }
    }
}

/// Runs one job: never panics, never fails — every problem is a `Failed` result with its reason.
pub fn evaluate(job: &Job) -> JobResult {
    let job2 = job.clone();
    match std::panic::catch_unwind(move || evaluate_inner(&job2)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            JobResult::failed(job.id, format!("internal error while evaluating: {msg}"))
        }
    }
}

fn evaluate_inner(job: &Job) -> JobResult {
    let opts = BuildOptions {
        block: job.block.clone(),
        batch: Some(job.train.batch),
        ..Default::default()
    };
    // the checker recurses: build on a thread with a large stack, whatever thread runs the job
    let (path, text) = (job.path.clone(), job.nasl.clone());
    let built = crate::check::with_big_stack(move || {
        driver::build(
            Source::Text {
                path: &path,
                text: &text,
            },
            &opts,
        )
        .map_err(|f| f.messages())
    });
    let built = match built {
        Ok(b) => b,
        Err(m) => return JobResult::failed(job.id, m),
    };
    let cost = crate::ir::cost::cost(&built.graph, 1);
    let (params, macs) = (cost.total.params, cost.total.macs);
    let so = SessionOptions {
        data: job.run.data.clone(),
        device: job.run.device.clone(),
        seed: job.run.seed,
        val: job.run.val,
        threads: job.run.threads,
        augment: job.run.augment,
        limit: job.run.limit,
    };
    let fail = |e: String| {
        let mut r = JobResult::failed(job.id, e);
        r.evaluation.params = Some(params);
        r.evaluation.macs = Some(macs);
        r
    };
    let t0 = std::time::Instant::now();
    let mut session = match Session::new(built.graph, built.program.sources, &so) {
        Ok(s) => s,
        Err((e, _)) => return fail(e.to_string()),
    };
    if let Some(w) = job.init_weights.as_deref().filter(|w| w.is_file()) {
        if let Err(e) = session.load_matching(w) {
            return fail(format!("cannot inherit the parent's weights: {e}"));
        }
    }
    let reports = match session.train(&job.train, &mut |_| {}) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let Some(last) = reports.last() else {
        return fail("no epoch was trained (epochs = 0)".into());
    };
    if !last.train_loss.is_finite() || !last.val.loss.is_finite() {
        return fail(format!(
            "the loss diverged (train loss {}, validation loss {})",
            last.train_loss, last.val.loss
        ));
    }
    if let Some(w) = &job.save_weights {
        let saved = crate::base::fs::with_atomic(w, |tmp| {
            session
                .save(tmp)
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
        if let Err(e) = saved {
            return fail(format!("cannot save the weights to {}: {e}", w.display()));
        }
    }
    JobResult {
        id: job.id,
        evaluation: Evaluation {
            outcome: Outcome::Done,
            params: Some(params),
            macs: Some(macs),
            val_accuracy: Some(last.val.accuracy),
            val_loss: Some(last.val.loss),
            train_seconds: t0.elapsed().as_secs_f64(),
            error: None,
        },
    }
}

/// Runs evaluation jobs somewhere: up to [`Executor::capacity`] at once, results as they finish.
pub trait Executor {
    /// How many jobs run at once.
    fn capacity(&self) -> usize {
        1
    }

    /// Starts `job` (the caller keeps at most `capacity` in flight).
    fn submit(&mut self, job: Job);

    /// Waits for the next finished job, in completion order; None when none is in flight.
    fn wait(&mut self) -> Option<JobResult>;

    /// Abandons every job in flight without a result (a stopped search re-runs them on resume).
    fn abort(&mut self) {}

    /// Runs `jobs`, calling `done` once per job in completion order.
    fn run(&mut self, jobs: Vec<Job>, done: &mut dyn FnMut(JobResult)) {
        let mut queue = jobs.into_iter();
        let mut in_flight = 0;
        loop {
            while in_flight < self.capacity().max(1) {
                let Some(j) = queue.next() else { break };
                self.submit(j);
                in_flight += 1;
            }
            match self.wait() {
                Some(r) => {
                    in_flight -= 1;
                    done(r);
                }
                None => break,
            }
        }
    }
}

/// Runs jobs one after another in this process (when waited for).
#[derive(Clone, Debug, Default)]
pub struct InProcess {
    queue: std::collections::VecDeque<Job>,
}

impl Executor for InProcess {
    fn submit(&mut self, job: Job) {
        self.queue.push_back(job);
    }

    fn wait(&mut self) -> Option<JobResult> {
        self.queue.pop_front().map(|j| evaluate(&j))
    }

    fn abort(&mut self) {
        self.queue.clear();
    }
}
