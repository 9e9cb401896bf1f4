//! `nasc train`: train a network on a dataset and report validation accuracy; `prepare_run` is shared
//! with `nasc eval`.

use super::{build_graph, fail_lower, usage, ArchArgs, RunArgs};
use crate::lower::train::TrainConfig;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Everything a run on data needs: the graph, its lowered network, the splits.
pub(super) fn prepare_run(
    arch: &ArchArgs,
    run: &RunArgs,
    augment: bool,
    limit: Option<i64>,
) -> Result<crate::lower::Session, ExitCode> {
    let built = build_graph(arch, run.batch)?;
    let (g, sources) = (built.graph, built.program.sources);
    let opts = crate::lower::SessionOptions {
        data: run.data.clone(),
        device: run.device.clone(),
        seed: run.seed,
        val: run.val,
        threads: run.threads,
        augment,
        limit,
    };
    crate::lower::Session::new(g, sources, &opts).map_err(|(e, sources)| fail_lower(&e, &sources))
}

/// The files of a training run.
pub(super) struct Files<'a> {
    /// --save: the final weights.
    pub save: Option<&'a Path>,
    /// --weights: the weights to start from.
    pub weights: Option<&'a Path>,
    /// --checkpoint-dir: the run's state after every epoch.
    pub checkpoint_dir: Option<&'a Path>,
    /// --resume: the state to continue from.
    pub resume: Option<&'a Path>,
}

impl Files<'_> {
    /// Where the per-epoch state goes, and whether the folder is the implicit one (SAVE.ckpt, or the
    /// --resume folder when that is SAVE.ckpt), which is removed when the run finishes.
    fn state_dir(&self) -> Option<(PathBuf, bool)> {
        let implicit = self.save.map(|s| {
            let mut name = s.as_os_str().to_owned();
            name.push(".ckpt");
            PathBuf::from(name)
        });
        match (self.checkpoint_dir, self.resume) {
            (Some(d), _) => Some((d.to_path_buf(), false)),
            (None, Some(r)) => Some((r.to_path_buf(), implicit.as_deref() == Some(r))),
            (None, None) => implicit.map(|d| (d, true)),
        }
    }
}

/// The settings a resumed run must repeat, keyed by flag: the network (a hash of its printed IR), the
/// data and its split, and the whole training configuration. Device and thread count are not part of
/// it (a run may continue elsewhere; bit-identity needs the same ones).
fn run_settings(
    s: &crate::lower::Session,
    run: &RunArgs,
    cfg: &TrainConfig,
    augment: bool,
    limit: Option<i64>,
) -> serde_json::Value {
    serde_json::json!({
        "network": format!("{} {}", s.net.graph.name, crate::base::fingerprint(&s.net.graph.to_string())),
        "--data": run.data,
        "--seed": run.seed,
        "--val": run.val,
        "--limit": limit,
        "--augment": augment,
        "--batch": cfg.batch,
        "--epochs": cfg.epochs,
        "--lr": cfg.lr,
        "--optimizer": cfg.optimizer,
        "--schedule": cfg.schedule,
        "--weight-decay": cfg.weight_decay,
        "--amp": cfg.amp,
        "--max-steps": cfg.max_steps,
        "momentum": cfg.momentum,
    })
}

pub(super) fn run(
    arch: &ArchArgs,
    run: &RunArgs,
    cfg: &TrainConfig,
    augment: bool,
    limit: Option<i64>,
    files: &Files,
    json: bool,
) -> ExitCode {
    let save = files.save;
    // the outputs are checked before any work: a run must not end in an unwritable --save
    if let Some(p) = save {
        if let Err(e) = crate::base::fs::check_writable(p) {
            return usage(format!(
                "cannot write the checkpoint `{}` (--save): {e}",
                p.display()
            ));
        }
    }
    if let Some(r) = files.resume {
        if let Err(e) = crate::lower::train::TrainState::read(r) {
            return usage(format!("{e} (--resume)"));
        }
    }
    let state_dir = files.state_dir();
    if let Some((d, _)) = &state_dir {
        let made = std::fs::create_dir_all(d)
            .and_then(|()| crate::base::fs::check_writable(&d.join("state.json")));
        if let Err(e) = made {
            return usage(format!(
                "cannot keep the training state in `{}` (--checkpoint-dir): {e}",
                d.display()
            ));
        }
    }
    let mut s = match prepare_run(arch, run, augment, limit) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Some(w) = files.weights {
        if let Err(e) = s.load(w) {
            return fail_lower(&e, &s.sources);
        }
    }
    let settings = run_settings(&s, run, cfg, augment, limit);
    let mut trainer = crate::lower::train::Trainer::new(&s.net, &s.vs, &s.splits, cfg);
    if let Some(r) = files.resume {
        if let Err(e) = trainer.load_state(r, &settings) {
            return match e {
                crate::lower::LowerError::Resume { .. } => usage(e.to_string()),
                e => fail_lower(&e, &s.sources),
            };
        }
    }
    let report_line = |r: &crate::lower::train::EpochReport| {
        format!(
            "epoch {}/{}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | {:.0} img/s, {:.1} s",
            r.epoch + 1,
            cfg.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.val.loss,
            100.0 * r.val.accuracy,
            r.images_per_s,
            r.seconds
        )
    };
    let done = trainer.reports.len();
    if let Some(r) = files.resume {
        eprintln!(
            "resuming from `{}`: {done} of {} epoch(s) done",
            r.display(),
            cfg.epochs
        );
        for r in &trainer.reports {
            eprintln!("{}", report_line(r));
        }
    }
    eprintln!(
        "training {} ({} parameters) on {} train / {} validation images of {}, {} epoch(s), batch {}, {}",
        s.net.graph.name,
        crate::ir::cost::thousands(s.net.num_params()),
        s.splits.train.len(),
        s.splits.val.len(),
        run.data,
        cfg.epochs,
        cfg.batch,
        run.device
    );
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let t0 = std::time::Instant::now();
    while !trainer.done() {
        let result = trainer.epoch(&mut |p| {
            if bar.length() != Some(p.steps as u64) {
                bar.set_length(p.steps as u64);
                bar.reset();
            }
            bar.set_prefix(format!("{}/{}", p.epoch + 1, p.epochs));
            bar.set_position(p.step as u64);
            bar.set_message(format!(
                "loss {:.4} acc {:.2}% {:.0} img/s",
                p.loss,
                100.0 * p.acc,
                p.images_per_s
            ));
        });
        let line = match result {
            Ok(r) => report_line(r),
            Err(e @ crate::lower::LowerError::Diverged { .. }) => {
                bar.finish_and_clear();
                eprintln!(
                    "error: {e}\n  help: lower the learning rate (--lr {}){}",
                    crate::lower::number(cfg.lr),
                    if save.is_some() {
                        "; nothing was saved"
                    } else {
                        ""
                    }
                );
                return ExitCode::from(1);
            }
            Err(e) => {
                bar.finish_and_clear();
                return fail_lower(&e, &s.sources);
            }
        };
        // the epoch's line as it happens, then its state (a kill from here on loses nothing of it)
        bar.suspend(|| eprintln!("{line}"));
        if let Some((d, _)) = &state_dir {
            if let Err(e) = trainer.save_state(d, &settings) {
                bar.finish_and_clear();
                return fail_lower(&e, &s.sources);
            }
        }
    }
    bar.finish_and_clear();
    let reports = trainer.reports;
    if let Some(last) = reports.last() {
        println!(
            "validation accuracy: {:.2}% ({} images) after {} epoch(s), {:.1} s",
            100.0 * last.val.accuracy,
            last.val.images,
            reports.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    }
    if let Some(path) = save {
        if let Err(e) = s.save(path) {
            return fail_lower(&e, &s.sources);
        }
        eprintln!("saved {}", path.display());
    }
    match &state_dir {
        // the run is whole in --save: the implicit state folder has done its job
        Some((d, true)) if save.is_some() => {
            let _ = std::fs::remove_dir_all(d);
        }
        Some((d, _)) => eprintln!("training state kept in {}", d.display()),
        None => {}
    }
    ExitCode::SUCCESS
}
