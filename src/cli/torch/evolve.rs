//! `nasc search evolve | resume | report | export | worker`: property-guided evolution over a run store.
//! The work is in `crate::search::evolve` (the loop), `crate::exec` (the workers), `crate::store` and
//! `crate::search::report`; this file turns flags into settings, shows progress, handles Ctrl-C and
//! chooses exit codes (0 done, 1 the search could not go on, 2 usage, 130 interrupted).

use super::args::{parse_duration, EvolveArgs, ExportArgs, ReportArgs, ResumeArgs};
use super::usage;
use crate::exec::process::Workers;
use crate::exec::RunSettings;
use crate::lower::train::{OptimizerKind, TrainConfig};
use crate::search::evolve::{self, Event, EvolveError, Overrides, Report, Settings};
use crate::search::mutate::Rates;
use crate::search::select::{Objective, Policy};
use crate::store::{self, Status, Store};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first Ctrl-C; a second one ends the process at once.
pub(super) static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}

pub(super) fn catch_ctrl_c() {
    // SAFETY: installs a handler that only touches an atomic and calls `_exit`.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn check_fraction(name: &str, v: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("--{name} is a probability in [0, 1], not {v}"))
    }
}

/// The run's settings from the command line, validated.
fn settings(a: &EvolveArgs) -> Result<Settings, String> {
    for (n, v) in [
        ("p-duplicate", a.p_duplicate),
        ("p-delete", a.p_delete),
        ("p-property", a.p_property),
        ("p-adopt", a.p_adopt),
    ] {
        check_fraction(n, v)?;
    }
    if a.p_duplicate + a.p_delete + a.p_property <= 0.0 {
        return Err("the mutation probabilities are all 0: nothing can make a child".into());
    }
    if let Some(m) = a.min_accuracy {
        check_fraction("min-accuracy", m)?;
    }
    if a.workers == 0 || a.workers > 256 {
        return Err(format!("--workers must be 1–256, not {}", a.workers));
    }
    if a.epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    if a.batch < 1 {
        return Err(format!("--batch must be at least 1, not {}", a.batch));
    }
    if a.val < 1 {
        return Err(format!(
            "--val must be at least 1 (validation accuracy is what evolution selects on), not {}",
            a.val
        ));
    }
    if a.train_subset.is_some_and(|n| n < 1) {
        return Err("--train-subset must be at least 1".into());
    }
    if a.max_steps == Some(0) {
        return Err("--max-steps must be at least 1".into());
    }
    if let Some(lr) = a.lr {
        if !(lr.is_finite() && lr > 0.0 && lr <= 10.0) {
            return Err(format!("--lr must be in (0, 10], not {lr}"));
        }
    }
    if !(a.synth_timeout.is_finite() && a.synth_timeout > 0.0 && a.synth_timeout <= 3600.0) {
        return Err(format!(
            "--synth-timeout must be in (0, 3600] seconds, not {}",
            a.synth_timeout
        ));
    }
    if a.trials == Some(0) {
        return Err("--trials must be at least 1 (the seed is the first)".into());
    }
    let time_budget = a.time_budget.as_deref().map(parse_duration).transpose()?;
    let trials = match (a.trials, time_budget) {
        (None, None) => Some(50),
        (t, _) => t,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    let threads = a
        .threads
        .unwrap_or_else(|| (cores / a.workers as i32).max(1));
    Ok(Settings {
        // absolute, so that a resume from another folder finds the seed (and its imports)
        seed_file: std::path::absolute(&a.file).unwrap_or_else(|_| a.file.clone()),
        block: a.block.clone(),
        trials,
        time_budget,
        workers: a.workers,
        policy: if a.policy == "aging" {
            if a.population == 0 || a.sample == 0 {
                return Err("--population and --sample must be at least 1".into());
            }
            Policy::Aging {
                population: a.population,
                sample: a.sample,
            }
        } else {
            Policy::Pareto {
                min_accuracy: a.min_accuracy,
            }
        },
        objective: if a.objective == "macs" {
            Objective::Macs
        } else {
            Objective::Params
        },
        rates: Rates {
            duplicate: a.p_duplicate,
            delete: a.p_delete,
            property: a.p_property,
            adopt: a.p_adopt,
            synth_timeout: a.synth_timeout,
            synth_objective: match a.synth_objective.as_str() {
                "params" => crate::synth::Objective::FewestParams,
                "flops" => crate::synth::Objective::FewestFlops,
                _ => crate::synth::Objective::None,
            },
            ..Rates::default()
        },
        run: RunSettings {
            data: a.data.clone(),
            device: a.device.clone(),
            seed: a.seed,
            val: a.val,
            limit: a.train_subset,
            threads: Some(threads),
            augment: a.augment,
        },
        train: TrainConfig {
            epochs: a.epochs,
            batch: a.batch,
            max_steps: a.max_steps,
            ..TrainConfig::for_optimizer(
                if a.optimizer == "adamw" {
                    OptimizerKind::AdamW
                } else {
                    OptimizerKind::Sgd
                },
                a.lr,
                None,
            )
        },
        max_attempts: a.max_attempts.max(1),
        inherit: a.inherit.then(|| weights_dir(&a.store)),
        prefilter: match &a.prefilter {
            Some(p) => {
                if !(2..=4096).contains(&a.prefilter_batch) {
                    return Err(format!(
                        "--prefilter-batch must be 2–4096, not {}",
                        a.prefilter_batch
                    ));
                }
                Some(evolve::Prefilter::parse(p, a.prefilter_batch)?)
            }
            None => None,
        },
    })
}

/// Where `--inherit` keeps each individual's trained weights: `RUN.db.weights/` next to the store.
fn weights_dir(store: &std::path::Path) -> std::path::PathBuf {
    let store = std::path::absolute(store).unwrap_or_else(|_| store.to_path_buf());
    let mut p = store.into_os_string();
    p.push(".weights");
    p.into()
}

fn open(path: &std::path::Path) -> Result<Box<dyn Store + Send>, ExitCode> {
    store::open(&path.display().to_string()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

/// `nasc search evolve`.
pub(super) fn evolve(a: &EvolveArgs) -> ExitCode {
    let settings = match settings(a) {
        Ok(s) => s,
        Err(m) => return usage(m),
    };
    if let Err(c) = crate::driver::require_files(std::slice::from_ref(&a.file)) {
        return super::fail(c, "");
    }
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => return usage(format!("cannot read `{}`: {e}", a.file.display())),
    };
    // the seed must check before a store is created for it
    if let Err(f) = crate::driver::build(
        crate::driver::Source::path(&a.file),
        &crate::ir::BuildOptions {
            block: a.block.clone(),
            batch: Some(a.batch),
            ..Default::default()
        },
    ) {
        return super::fail(f, "");
    }
    if a.store.exists() {
        if let Ok(s) = store::SqliteStore::open_existing(&a.store) {
            if s.load_run().is_ok() {
                return usage(format!(
                    "{} already holds a run: continue it with `nasc search resume {}`, or give another \
                     --store",
                    a.store.display(),
                    a.store.display()
                ));
            }
        }
    }
    let mut st = match open(&a.store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(e) = evolve::start(st.as_mut(), &settings, &text, a.seed) {
        return evolve_failed(&e);
    }
    drive(st, &Overrides::default(), a.json)
}

/// `nasc search resume`.
pub(super) fn resume(a: &ResumeArgs) -> ExitCode {
    if !a.store.exists() {
        return usage(format!("{}: no such run store", a.store.display()));
    }
    let st = match store::SqliteStore::open_existing(&a.store) {
        Ok(s) => Box::new(s) as Box<dyn Store + Send>,
        Err(e) => return usage(e),
    };
    let time_budget = match a.time_budget.as_deref().map(parse_duration).transpose() {
        Ok(t) => t,
        Err(m) => return usage(m),
    };
    if a.workers.is_some_and(|w| w == 0 || w > 256) {
        return usage("--workers must be 1–256");
    }
    let o = Overrides {
        trials: a.trials,
        time_budget,
        workers: a.workers,
    };
    drive(st, &o, a.json)
}

fn evolve_failed(e: &EvolveError) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        EvolveError::Run(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

/// Runs or resumes the loop with worker processes, a progress bar and Ctrl-C handling.
fn drive(mut st: Box<dyn Store + Send>, o: &Overrides, json: bool) -> ExitCode {
    let settings = match evolve::settings_of(st.as_ref()) {
        Ok(s) => s,
        Err(e) => return evolve_failed(&e),
    };
    if let Some(d) = &settings.inherit {
        if let Err(e) = std::fs::create_dir_all(d) {
            return usage(format!(
                "cannot create the weights folder {}: {e}",
                d.display()
            ));
        }
    }
    let workers = o.workers.unwrap_or(settings.workers);
    let mut exec = match Workers::this_executable(workers) {
        Ok(w) => w.with_stop(&STOP),
        Err(e) => return usage(format!("cannot find this executable to start workers: {e}")),
    };
    catch_ctrl_c();
    let trials = o.trials.or(settings.trials);
    let bar = indicatif::ProgressBar::new(trials.unwrap_or(0));
    let template = if trials.is_some() {
        "evolving [{bar:30}] {pos}/{len} {elapsed} ETA {eta} {msg}"
    } else {
        "evolving {spinner} {pos} individuals {elapsed} {msg}"
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let location = st.location().to_string();
    let mut failed = 0u64;
    let r = evolve::run(st.as_mut(), o, &mut exec, &STOP, &mut |e| match e {
        Event::Resumed { finished, requeued } => {
            bar.set_position(*finished);
            if !requeued.is_empty() {
                bar.println(format!(
                    "resuming {location}: {finished} finished; re-running {} interrupted evaluation(s) ({})",
                    requeued.len(),
                    requeued
                        .iter()
                        .map(|i| format!("#{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Event::Child { .. } | Event::NoChild { .. } => {}
        Event::Evaluated {
            individual,
            finished,
            best,
            running,
        } => {
            bar.set_position(*finished);
            if individual.status == Status::Failed {
                failed += 1;
                bar.println(format!(
                    "#{} failed: {}",
                    individual.id,
                    individual
                        .error
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                ));
            }
            let best = best
                .map(|(id, a)| format!("best {:.2}% (#{id})", a * 100.0))
                .unwrap_or_default();
            bar.set_message(format!("{best} · {failed} failed · {running} running"));
        }
    });
    bar.finish_and_clear();
    match r {
        Ok(rep) => {
            print_report(&rep, json);
            if rep.interrupted {
                eprintln!(
                    "stopped: the store is consistent; continue with `nasc search resume {location}`"
                );
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            if matches!(e, EvolveError::Stuck(_) | EvolveError::Store(_)) {
                eprintln!(
                    "the run so far is kept in {location}; `nasc search report {location}` shows it"
                );
            }
            evolve_failed(&e)
        }
    }
}

fn print_report(rep: &Report, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(rep).unwrap_or_default());
    } else {
        eprint!("{rep}");
    }
}

/// `nasc search report`.
pub(super) fn report(a: &ReportArgs) -> ExitCode {
    let st = match store::SqliteStore::open_existing(&a.store) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let run = match st.load_run() {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let inds = match st.individuals(None) {
        Ok(i) => i,
        Err(e) => return usage(e),
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let mut p = a.store.clone().into_os_string();
        p.push(".report");
        p.into()
    });
    let location = a.store.display().to_string();
    // a supernet run's stage-1 curves (its driver state); other drivers have none
    let training = if run.driver == "supernet" {
        match crate::search::supernet::load_state(&st) {
            Ok(s) => s.curves,
            Err(e) => return usage(e),
        }
    } else {
        Vec::new()
    };
    match crate::search::report::write(&location, &run, &inds, &training, &out) {
        Ok(index) => {
            eprintln!("wrote {}", index.display());
            if a.json {
                let s = crate::search::report::summarize(&run, &inds);
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage(format!("cannot write the report to {}: {e}", out.display())),
    }
}

/// `nasc search export`.
pub(super) fn export(a: &ExportArgs) -> ExitCode {
    let st = match store::SqliteStore::open_existing(&a.store) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let settings = match evolve::settings_of(&st) {
        Ok(s) => s,
        Err(e) => return evolve_failed(&e),
    };
    let ind = match st.individual(a.id) {
        Ok(i) => i,
        Err(e) => return usage(e),
    };
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        return usage(format!("cannot create {}: {e}", a.out.display()));
    }
    let stem = a.out.join(format!("individual-{}", ind.id));
    let nasl = stem.with_extension("nasl");
    if let Err(e) = crate::base::fs::write_atomic(&nasl, &ind.nasl) {
        return usage(format!("cannot write {}: {e}", nasl.display()));
    }
    eprintln!("wrote {}", nasl.display());
    let r = &settings.run;
    let t = &settings.train;
    let block = match (&settings.block, ind.parent_id) {
        (Some(b), None) => format!(" --block {b}"),
        _ => String::new(),
    };
    eprintln!(
        "the same training by hand: nasc train {}{block} --data {} --seed {} --val {} --epochs {} --batch {} \
         --lr {}{}{}{}{} --save {}",
        nasl.display(),
        r.data,
        r.seed,
        r.val,
        t.epochs,
        t.batch,
        t.lr,
        if t.optimizer == OptimizerKind::AdamW { " --optimizer adamw" } else { "" },
        r.limit.map(|n| format!(" --limit {n}")).unwrap_or_default(),
        t.max_steps.map(|n| format!(" --max-steps {n}")).unwrap_or_default(),
        if r.augment { " --augment" } else { "" },
        stem.with_extension("safetensors").display()
    );
    if a.nasl_only {
        return ExitCode::SUCCESS;
    }
    // the search's own job: same program, data, split, seed and training (and, with --inherit, the
    // parent's weights), with the trained weights saved here
    let ckpt = stem.with_extension("safetensors");
    let mut job = evolve::job(&settings, &ind, None);
    job.save_weights = Some(ckpt.clone());
    let built = match crate::driver::build(
        crate::driver::Source::Text {
            path: &job.path,
            text: &job.nasl,
        },
        &crate::ir::BuildOptions {
            block: job.block.clone(),
            batch: Some(t.batch),
            ..Default::default()
        },
    ) {
        Ok(b) => b,
        Err(f) => return super::fail(f, ""),
    };
    eprintln!("training individual #{} as the search did…", ind.id);
    let result = crate::exec::evaluate(&job).evaluation;
    if let Some(e) = &result.error {
        eprintln!("error: individual #{} did not train: {e}", ind.id);
        return ExitCode::from(1);
    }
    eprintln!("wrote {}", ckpt.display());
    let ts = stem.with_extension("pt");
    if let Err(e) = crate::base::fs::with_atomic(&ts, |tmp| {
        crate::lower::export::torchscript(&built.graph, Some(&ckpt), tmp).map_err(Saving::Lower)
    }) {
        return e.fail(&built.program.sources);
    }
    eprintln!("wrote {} (TorchScript)", ts.display());
    match (result.val_accuracy, ind.val_accuracy) {
        (Some(now), Some(then)) => eprintln!(
            "validation accuracy {:.2}% (the store recorded {:.2}%)",
            now * 100.0,
            then * 100.0
        ),
        (Some(now), None) => eprintln!("validation accuracy {:.2}%", now * 100.0),
        _ => {}
    }
    ExitCode::SUCCESS
}

/// A failure while writing an exported file: libtorch's, or the file system's (the atomic rename).
enum Saving {
    Lower(crate::lower::LowerError),
    Io(std::io::Error),
}

impl From<std::io::Error> for Saving {
    fn from(e: std::io::Error) -> Self {
        Saving::Io(e)
    }
}

impl Saving {
    fn fail(self, sources: &crate::base::SourceMap) -> ExitCode {
        match self {
            Saving::Lower(e) => super::fail_lower(&e, sources),
            Saving::Io(e) => usage(format!("cannot write the export: {e}")),
        }
    }
}

/// `nasc search worker` (hidden): the worker side of `--workers`.
pub(super) fn worker() -> ExitCode {
    match crate::exec::process::serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: worker: {e}");
            ExitCode::from(1)
        }
    }
}
