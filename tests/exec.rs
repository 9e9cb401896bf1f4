//! Evaluation jobs (`nasc::exec`): the one evaluation function trains a program given as text on real
//! Fashion-MNIST and measures it on the validation split; every failure is a result, not an error.
//!
//! Its own test binary (one process, one test): libtorch's random generator is global to a process, so a
//! determinism check next to other tests that train or initialise networks in parallel threads would
//! measure their interference, not ours. Search workers run jobs in separate processes for that reason.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
use nasc::exec::{evaluate, Executor, InProcess, Job, JobResult, Outcome, RunSettings};
use nasc::lower::train::TrainConfig;

fn job(id: u64, nasl: String, lr: f64) -> Job {
    Job {
        id,
        nasl,
        path: root().join("examples/fmnist_cnn.nasl"),
        block: None,
        run: RunSettings {
            seed: 3,
            val: 500,
            limit: Some(1024),
            ..Default::default()
        },
        train: TrainConfig {
            epochs: 1,
            batch: 64,
            lr,
            ..Default::default()
        },
        init_weights: None,
        save_weights: None,
    }
}

fn fmnist() -> String {
    std::fs::read_to_string(root().join("examples/fmnist_cnn.nasl")).expect("readable")
}

#[test]
fn a_job_trains_measures_and_is_deterministic_and_failures_are_results() {
    let good = job(1, fmnist(), 0.05);
    let r = evaluate(&good).evaluation;
    assert_eq!(r.outcome, Outcome::Done, "{r:?}");
    let path = root().join("examples/fmnist_cnn.nasl");
    let opts = nasc::ir::BuildOptions {
        batch: Some(64),
        ..Default::default()
    };
    let g = nasc::driver::build(nasc::driver::Source::path(&path), &opts)
        .expect("builds")
        .graph;
    let cost = nasc::ir::cost::cost(&g, 1);
    assert_eq!(r.params, Some(cost.total.params));
    assert_eq!(r.macs, Some(cost.total.macs));
    let acc = r.val_accuracy.expect("an accuracy");
    assert!(acc > 0.5 && acc <= 1.0, "{r:?}");
    // the same job (text + settings + seed) gives the same accuracy, also through an executor
    let mut got: Vec<JobResult> = Vec::new();
    let broken = job(2, fmnist().replace("linear(", "lineer("), 0.05);
    let diverges = job(3, fmnist(), 1e30);
    InProcess::default().run(vec![good.clone(), broken, diverges], &mut |r| got.push(r));
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0].evaluation.val_accuracy,
        Some(acc),
        "not reproducible: {:?}",
        got[0]
    );
    assert_eq!(got[1].evaluation.outcome, Outcome::Failed);
    assert!(
        got[1]
            .evaluation
            .error
            .as_deref()
            .unwrap_or("")
            .contains("lineer"),
        "{:?}",
        got[1]
    );
    assert_eq!(got[2].evaluation.outcome, Outcome::Failed);
    assert!(
        got[2]
            .evaluation
            .error
            .as_deref()
            .unwrap_or("")
            .contains("diverged"),
        "{:?}",
        got[2]
    );
    // a job is plain data: it round-trips through JSON (for executors elsewhere)
    let text = serde_json::to_string(&good).expect("serializes");
    let back: Job = serde_json::from_str(&text).expect("deserializes");
    assert_eq!(back, good);
}
