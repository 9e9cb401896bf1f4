//! `nasc train`: train a network on a dataset and report validation accuracy; `prepare_run` is shared
//! with `nasc eval`.

use super::{build_graph, fail_lower, usage, ArchArgs, RunArgs};
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

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per command-line option; the arguments struct is the front end's"
)]
pub(super) fn run(
    arch: &ArchArgs,
    run: &RunArgs,
    cfg: &crate::lower::train::TrainConfig,
    augment: bool,
    limit: Option<i64>,
    save: Option<&std::path::Path>,
    weights: Option<&std::path::Path>,
    json: bool,
) -> ExitCode {
    // the output is checked before any work: a run must not end in an unwritable --save
    if let Some(p) = save {
        if let Err(e) = crate::base::fs::check_writable(p) {
            return usage(format!(
                "cannot write the checkpoint `{}` (--save): {e}",
                p.display()
            ));
        }
    }
    let mut s = match prepare_run(arch, run, augment, limit) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Some(w) = weights {
        if let Err(e) = s.load(w) {
            return fail_lower(&e, &s.sources);
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
    let result = s.train(cfg, &mut |p| {
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
        if p.step == p.steps {
            bar.finish_and_clear();
        }
    });
    bar.finish_and_clear();
    let reports = match result {
        Ok(r) => r,
        Err(e @ crate::lower::LowerError::Diverged { .. }) => {
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
        Err(e) => return fail_lower(&e, &s.sources),
    };
    for r in &reports {
        eprintln!(
            "epoch {}/{}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | {:.0} img/s, {:.1} s",
            r.epoch + 1,
            cfg.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.val.loss,
            100.0 * r.val.accuracy,
            r.images_per_s,
            r.seconds
        );
    }
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
    ExitCode::SUCCESS
}
