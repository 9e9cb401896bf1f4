//! `nasc supernet table | train | search | extract`, and `nasc search resume` of a supernet run: flags to
//! settings, progress bars, Ctrl-C, exit codes (0 done, 1 the run could not go on, 2 usage, 130
//! interrupted). The work is `crate::search::supernet` (policy) over `crate::lower::supernet` (mechanics).

use super::args::{
    SupernetCommand, SupernetExtractArgs, SupernetSearchArgs, SupernetTableArgs, SupernetTrainArgs,
};
use super::evolve::{catch_ctrl_c, STOP};
use super::{fail, fail_lower, usage};
use crate::check::Program;
use crate::driver::{self, Source};
use crate::lower::supernet::{Supernet, SupernetConfig};
use crate::lower::SessionOptions;
use crate::search::supernet::{
    self as sn, Genome, Sampler, SearchSettings, SupernetError, Table, TrainSettings,
};
use crate::search::Space;
use crate::store::{self, NewRun, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// `nasc supernet …`.
pub(super) fn run(c: &SupernetCommand) -> ExitCode {
    match c {
        SupernetCommand::Table(a) => table(a),
        SupernetCommand::Train(a) => train(a),
        SupernetCommand::Search(a) => search(a),
        SupernetCommand::Extract(a) => extract(a),
    }
}

fn failed(e: &SupernetError, sources: &crate::base::SourceMap) -> ExitCode {
    match e {
        SupernetError::Lower(l) => {
            let code = fail_lower(l, sources);
            if matches!(l, crate::lower::LowerError::Diverged { .. }) {
                ExitCode::from(1)
            } else {
                code
            }
        }
        SupernetError::Build(crate::ir::BuildError::Diagnostics(ds)) => {
            super::print_diagnostics(ds, sources, false);
            ExitCode::from(2)
        }
        SupernetError::Build(crate::ir::BuildError::Usage(m)) => usage(m),
        SupernetError::Usage(m) => usage(m),
        SupernetError::Store(s) => {
            eprintln!("error: {s}");
            ExitCode::from(1)
        }
        SupernetError::Interrupted => {
            eprintln!(
                "interrupted: the last finished epoch's checkpoint stands (continue with `nasc search \
                 resume`)"
            );
            ExitCode::from(130)
        }
    }
}

fn bar(len: u64, template: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
}

/// Loads and checks the space; the failure is printed.
fn load_space(
    file: &PathBuf,
    text: Option<&str>,
    block: Option<&str>,
    choices: &[String],
    inputs: &[String],
) -> Result<(Program, crate::ir::BuildOptions), ExitCode> {
    let source = match text {
        Some(text) => Source::Text { path: file, text },
        None => Source::path(file),
    };
    let prog = driver::front(source).map_err(|f| fail(f, ""))?.program;
    let spec = driver::ArchSpec {
        block,
        batch: Some(1),
        inputs,
        choices,
    };
    let base = spec.options().map_err(|f| fail(f, ""))?;
    Ok((prog, base))
}

fn bin_width(s: &Option<String>) -> Result<Option<i64>, String> {
    s.as_deref()
        .map(|b| {
            sn::parse_macs(b).and_then(|v| {
                if v >= 1 {
                    Ok(v)
                } else {
                    Err("--bin must be at least 1 MAC".into())
                }
            })
        })
        .transpose()
}

/// `nasc supernet table`.
fn table(a: &SupernetTableArgs) -> ExitCode {
    let bin = match bin_width(&a.bin) {
        Ok(b) => b,
        Err(m) => return usage(m),
    };
    let (prog, base) = match load_space(&a.file, None, a.block.as_deref(), &a.choices, &a.inputs) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let space = Space {
        program: &prog,
        base,
    };
    let genome = match Genome::new(&space) {
        Ok(g) => g,
        Err(e) => return failed(&e, &prog.sources),
    };
    let b = bar(
        a.samples as u64,
        "table [{bar:30}] {pos}/{len} {per_sec} ETA {eta}",
    );
    let t = Table::new(&genome, a.samples, a.seed, bin, |i| {
        b.set_position(i as u64)
    });
    b.finish_and_clear();
    let t = match t {
        Ok(t) => t,
        Err(e) => return failed(&e, &prog.sources),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&t).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    print!("{}", render_table(&t, &genome));
    ExitCode::SUCCESS
}

fn mega(v: i64) -> String {
    format!("{:.2}M", v as f64 / 1e6)
}

fn render_table(t: &Table, genome: &Genome) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{} decisions; MACs per sample (conv and linear, docs/cost.md)\n",
        t.decisions.names.len()
    ));
    s.push_str(&format!(
        "smallest: {} MACs, {} params  {}\nlargest:  {} MACs, {} params  {}\n",
        mega(t.smallest_macs),
        mega(t.smallest_params),
        genome.label(&t.smallest),
        mega(t.largest_macs),
        mega(t.largest_params),
        genome.label(&t.largest)
    ));
    s.push_str(&format!(
        "{} random architectures in bins of {}:\n",
        t.samples,
        mega(t.bin_width)
    ));
    let top = t.bins.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    for b in &t.bins {
        let share = b.count as f64 / t.samples.max(1) as f64;
        s.push_str(&format!(
            "  {:>10} – {:<10} {:>6} {:>6.1}%  {}\n",
            mega(b.lo),
            mega(b.hi),
            b.count,
            100.0 * share,
            "#".repeat((40 * b.count).div_ceil(top))
        ));
    }
    s
}

fn open_existing(p: &Path) -> Result<Box<dyn Store + Send>, ExitCode> {
    if !p.exists() {
        return Err(usage(format!("{}: no such run store", p.display())));
    }
    store::SqliteStore::open_existing(p)
        .map(|s| Box::new(s) as Box<dyn Store + Send>)
        .map_err(usage)
}

/// `nasc supernet train`.
fn train(a: &SupernetTrainArgs) -> ExitCode {
    let bin = match bin_width(&a.bin) {
        Ok(b) => b,
        Err(m) => return usage(m),
    };
    if let Err(f) = driver::require_files(std::slice::from_ref(&a.file)) {
        return fail(f, "");
    }
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => return usage(format!("cannot read {}: {e}", a.file.display())),
    };
    let (prog, base) = match load_space(&a.file, Some(&text), a.block.as_deref(), &a.choices, &[]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let settings = TrainSettings {
        space: a.file.clone(),
        block: a.block.clone(),
        choose: base.choices.clone(),
        sampler: match (a.sampler.as_str(), a.attentive.as_str()) {
            ("uniform", _) => Sampler::Uniform,
            (_, "worstup") => Sampler::WorstUp,
            _ => Sampler::BestUp,
        },
        candidates: a.candidates,
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        momentum: 0.9,
        weight_decay: a.weight_decay,
        label_smoothing: 0.1,
        data: a.data.clone(),
        train_subset: a.train_subset,
        val: a.val,
        augment: a.augment,
        device: a.device.clone(),
        threads: a.threads,
        max_steps: a.max_steps,
        bn_calib: a.bn_calib,
        table_samples: a.table_samples,
        bin_width: bin,
    };
    // the space must build before a store is created
    let space = Space {
        program: &prog,
        base,
    };
    if let Err(e) = Genome::new(&space) {
        return failed(&e, &prog.sources);
    }
    if a.store.exists() {
        return usage(format!(
            "{} exists: continue its run with `nasc search resume {}`, or choose another --store",
            a.store.display(),
            a.store.display()
        ));
    }
    let mut st = match store::open(&a.store.display().to_string()) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    if let Err(e) = st.create_run(&NewRun {
        driver: "supernet".into(),
        settings: serde_json::to_value(&settings).unwrap_or_default(),
        seed: a.seed,
        seed_program: text.clone(),
    }) {
        return usage(e);
    }
    drive(st, &a.store, &settings, &text, a.json)
}

/// `nasc search resume RUN.db` of a supernet run: stage 1 continues from the last checkpoint.
pub(super) fn resume(store: &Path, json: bool) -> ExitCode {
    let st = match open_existing(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let settings = match sn::settings_of(st.as_ref()) {
        Ok(s) => s,
        Err(e) => return failed(&e, &Default::default()),
    };
    let text = match st.load_run() {
        Ok(r) => r.seed_program,
        Err(e) => return usage(e),
    };
    drive(st, store, &settings, &text, json)
}

/// Whether a store holds a supernet run (for `nasc search resume`).
pub(super) fn is_supernet_run(store: &Path) -> bool {
    store.exists()
        && store::SqliteStore::open_existing(store)
            .ok()
            .and_then(|s| s.load_run().ok())
            .is_some_and(|r| r.driver == "supernet")
}

fn session_options(s: &TrainSettings, seed: u64) -> SessionOptions {
    SessionOptions {
        data: s.data.clone(),
        device: s.device.clone(),
        seed,
        val: s.val,
        threads: s.threads,
        augment: s.augment,
        limit: s.train_subset,
    }
}

/// Random architectures, besides the one-decision variations of the largest and smallest, whose weights
/// the supernet is grown to cover before training.
const COVER_RANDOM: usize = 64;

/// Builds the supernet of a run (the largest subnet's weights) on its data.
fn setup<'p>(
    genome: &Genome<'p>,
    settings: &TrainSettings,
    seed: u64,
    prog: &Program,
) -> Result<Supernet, ExitCode> {
    let largest = genome
        .extreme(true)
        .and_then(|g| genome.build(&g))
        .map_err(|e| failed(&e, &prog.sources))?;
    let cover = genome
        .cover(COVER_RANDOM, seed)
        .and_then(|gs| {
            gs.iter()
                .map(|g| genome.build(g))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| failed(&e, &prog.sources))?;
    Supernet::new(
        &largest,
        &cover,
        prog.sources.clone(),
        &session_options(settings, seed),
        SupernetConfig {
            lr: settings.lr,
            momentum: settings.momentum,
            weight_decay: settings.weight_decay,
            label_smoothing: settings.label_smoothing,
        },
    )
    .map_err(|(e, sources)| fail_lower(&e, &sources))
}

fn drive(
    mut st: Box<dyn Store + Send>,
    store_path: &Path,
    settings: &TrainSettings,
    text: &str,
    json: bool,
) -> ExitCode {
    let seed = match st.load_run() {
        Ok(r) => r.seed,
        Err(e) => return usage(e),
    };
    let (prog, mut base) = match load_space(
        &settings.space,
        Some(text),
        settings.block.as_deref(),
        &[],
        &[],
    ) {
        Ok(x) => x,
        Err(c) => return c,
    };
    base.choices = settings.choose.clone();
    base.batch = Some(settings.batch);
    let space = Space {
        program: &prog,
        base,
    };
    let genome = match Genome::new(&space) {
        Ok(g) => g,
        Err(e) => return failed(&e, &prog.sources),
    };
    let mut net = match setup(&genome, settings, seed, &prog) {
        Ok(n) => n,
        Err(c) => return c,
    };
    let done = sn::load_state(st.as_ref()).map_or(0, |s| s.epochs_done);
    if done > 0 {
        eprintln!(
            "resuming {}: {done} of {} epoch(s) done",
            store_path.display(),
            settings.epochs
        );
    }
    catch_ctrl_c();
    let folder = sn::folder_of(store_path);
    let b = bar(
        0,
        "stage 1 [{bar:30}] {pos}/{len} steps {per_sec} ETA {eta} {msg}",
    );
    let stop = || STOP.load(Ordering::SeqCst);
    let stage = sn::Stage {
        genome: &genome,
        settings,
        stop: &stop,
    };
    let r = sn::train(
        &stage,
        &mut net,
        st.as_mut(),
        &folder,
        |p| {
            b.set_length((p.steps * p.epochs) as u64);
            b.set_position((p.epoch * p.steps + p.step) as u64);
            b.set_message(format!("epoch {} loss {:.4}", p.epoch + 1, p.loss_largest));
        },
        |c| {
            b.suspend(|| {
                eprintln!(
                    "epoch {}: loss largest {:.4} sampled {:.4} smallest {:.4}; val accuracy largest \
                     {:.2}% smallest {:.2}% ({:.1} s)",
                    c.epoch + 1,
                    c.loss_largest,
                    c.loss_sampled,
                    c.loss_smallest,
                    100.0 * c.val_largest,
                    100.0 * c.val_smallest,
                    c.seconds
                )
            })
        },
    );
    b.finish_and_clear();
    let state = match r {
        Ok(s) => s,
        Err(e) => return failed(&e, &prog.sources),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "store": store_path.display().to_string(),
                "epochs": state.epochs_done,
                "optimizer_steps": state.optimizer_steps,
                "curves": state.curves,
                "table": state.table,
            }))
            .unwrap_or_default()
        );
    } else {
        eprintln!(
            "trained: {} epoch(s), {} steps; search it with `nasc supernet search {} --macs MIN..MAX`",
            state.epochs_done,
            state.optimizer_steps,
            store_path.display()
        );
    }
    ExitCode::SUCCESS
}

/// The run of a store, its space and its trained supernet.
fn trained(
    store_path: &Path,
) -> Result<
    (
        Box<dyn Store + Send>,
        TrainSettings,
        Program,
        crate::ir::BuildOptions,
    ),
    ExitCode,
> {
    let st = open_existing(store_path)?;
    let settings = sn::settings_of(st.as_ref()).map_err(|e| failed(&e, &Default::default()))?;
    let text = st.load_run().map_err(usage)?.seed_program;
    let (prog, mut base) = load_space(
        &settings.space,
        Some(&text),
        settings.block.as_deref(),
        &[],
        &[],
    )?;
    base.choices = settings.choose.clone();
    base.batch = Some(settings.batch);
    Ok((st, settings, prog, base))
}

fn load_trained(
    genome: &Genome,
    settings: &TrainSettings,
    st: &dyn Store,
    store_path: &Path,
    prog: &Program,
) -> Result<Supernet, ExitCode> {
    let seed = st.load_run().map_err(usage)?.seed;
    let state = sn::load_state(st).map_err(|e| failed(&e, &prog.sources))?;
    if state.epochs_done < settings.epochs {
        return Err(usage(format!(
            "the supernet has trained {} of {} epochs: finish it with `nasc search resume {}`",
            state.epochs_done,
            settings.epochs,
            store_path.display()
        )));
    }
    let mut net = setup(genome, settings, seed, prog)?;
    let folder = sn::folder_of(store_path);
    if let (Some(w), Some(o)) = (&state.weights, &state.optimizer) {
        if let Err(e) = net.load(&folder.join(w), &folder.join(o), state.optimizer_steps) {
            return Err(fail_lower(&e, &prog.sources));
        }
    }
    Ok(net)
}

/// `nasc supernet search`.
fn search(a: &SupernetSearchArgs) -> ExitCode {
    let (lo, hi) = match sn::parse_macs_range(&a.macs) {
        Ok(r) => r,
        Err(m) => return usage(m),
    };
    let bucket = match &a.bucket {
        None => sn::default_bucket(lo, hi),
        Some(b) => match sn::parse_macs(b) {
            Ok(0) => return usage("--bucket is a MACs width above 0"),
            Ok(b) => b,
            Err(m) => return usage(format!("--bucket: {m}")),
        },
    };
    for (n, v) in [("p-mutate", a.p_mutate), ("p-crossover", a.p_crossover)] {
        if v > 1.0 {
            return usage(format!("--{n} is a probability in [0, 1], not {v}"));
        }
    }
    let (mut st, settings, prog, base) = match trained(&a.store) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let space = Space {
        program: &prog,
        base,
    };
    let genome = match Genome::new(&space) {
        Ok(g) => g,
        Err(e) => return failed(&e, &prog.sources),
    };
    let net = match load_trained(&genome, &settings, st.as_ref(), &a.store, &prog) {
        Ok(n) => n,
        Err(c) => return c,
    };
    catch_ctrl_c();
    let o = SearchSettings {
        macs_min: lo,
        macs_max: hi,
        trials: a.trials,
        population: a.population,
        p_mutate_gene: a.p_mutate,
        p_crossover: a.p_crossover,
        seed: a.seed,
    };
    let b = bar(
        a.trials as u64,
        "stage 2 [{bar:30}] {pos}/{len} subnets {per_sec} ETA {eta} {msg}",
    );
    let t0 = std::time::Instant::now();
    let stop = || STOP.load(Ordering::SeqCst);
    let mut best = 0.0f64;
    let stage = sn::Stage {
        genome: &genome,
        settings: &settings,
        stop: &stop,
    };
    let r = sn::search(&stage, &net, &o, st.as_mut(), &prog, |i, _, c| {
        best = best.max(c.val_accuracy);
        b.set_position(i as u64);
        b.set_message(format!("best {:.2}%", 100.0 * best));
    });
    b.finish_and_clear();
    let found = match r {
        Ok(f) => f,
        Err(e) => return failed(&e, &prog.sources),
    };
    let secs = t0.elapsed().as_secs_f64();
    let archive = sn::archive(&found, bucket);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "macs_min": lo,
                "macs_max": hi,
                "seconds": secs,
                "candidates": found,
                "bucket": bucket,
                "archive": archive,
            }))
            .unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:>5}  {:>8}  {:>10}  {:>9}  {:<9}  arch",
        "id", "val acc", "MACs", "params", "how"
    );
    for c in found.iter().take(15) {
        println!(
            "{:>5}  {:>7.2}%  {:>10}  {:>9}  {:<9}  {}",
            c.id,
            100.0 * c.val_accuracy,
            mega(c.macs),
            mega(c.params),
            c.how,
            c.arch
        );
    }
    if found.len() > 15 {
        println!("  … {} more (--json lists all)", found.len() - 15);
    }
    println!("\nthe best per {} MACs:", mega(bucket));
    for c in &archive {
        println!(
            "{:>5}  {:>7.2}%  {:>10}  {:>9}  {:<9}  {}",
            c.id,
            100.0 * c.val_accuracy,
            mega(c.macs),
            mega(c.params),
            c.how,
            c.arch
        );
    }
    eprintln!(
        "{} subnets in {}..{} evaluated in {secs:.1} s ({:.2}/s); extract one with `nasc supernet \
         extract {} --id ID --out PREFIX`",
        found.len(),
        mega(lo),
        mega(hi),
        found.len() as f64 / secs.max(1e-9),
        a.store.display()
    );
    ExitCode::SUCCESS
}

/// `nasc supernet extract`.
fn extract(a: &SupernetExtractArgs) -> ExitCode {
    if a.id.is_none() && !a.best {
        return usage("say which subnet: --id N (from `nasc supernet search`) or --best");
    }
    let nasl_path = a.out.with_extension("nasl");
    let weights_path = a.out.with_extension("safetensors");
    for p in [&nasl_path, &weights_path] {
        if let Err(e) = crate::base::fs::check_writable(p) {
            return usage(format!("cannot write {}: {e}", p.display()));
        }
    }
    let (st, settings, prog, base) = match trained(&a.store) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let ind = match a.id {
        Some(id) => match st.individual(id) {
            Ok(i) => i,
            Err(e) => return usage(e),
        },
        None => {
            let all = match st.individuals(Some(store::Status::Done)) {
                Ok(v) => v,
                Err(e) => return usage(e),
            };
            match all
                .into_iter()
                .filter(|i| i.val_accuracy.is_some())
                .min_by(|x, y| {
                    let key = |i: &store::Individual| {
                        (
                            i.val_accuracy.unwrap_or(0.0),
                            i.macs.unwrap_or(i64::MAX),
                            i.id,
                        )
                    };
                    sn::rank(key(x), key(y))
                }) {
                Some(i) => i,
                None => {
                    return usage(format!(
                        "{} holds no searched subnet yet: run `nasc supernet search` first",
                        a.store.display()
                    ))
                }
            }
        }
    };
    let space = Space {
        program: &prog,
        base,
    };
    let genome = match Genome::new(&space) {
        Ok(g) => g,
        Err(e) => return failed(&e, &prog.sources),
    };
    let genes: Vec<usize> = match ind
        .target_props
        .as_ref()
        .and_then(|v| serde_json::from_value(v["arch"].clone()).ok())
    {
        Some(g) => g,
        None => return usage(format!("individual #{} is not a supernet subnet", ind.id)),
    };
    let net = match load_trained(&genome, &settings, st.as_ref(), &a.store, &prog) {
        Ok(n) => n,
        Err(c) => return c,
    };
    let g = match genome.build(&genes) {
        Ok(g) => g,
        Err(e) => return failed(&e, &prog.sources),
    };
    let sub = match net.subnet(&g) {
        Ok(s) => s,
        Err(e) => return fail_lower(&e, &prog.sources),
    };
    // the same calibration as the search's evaluation, then the subnet's own slices
    let ev = match net.evaluate(
        &sub,
        settings.bn_calib,
        settings.batch,
        crate::data::Part::Val,
    ) {
        Ok(e) => e,
        Err(e) => return fail_lower(&e, &prog.sources),
    };
    if let Err(e) = net.extract(&sub, &weights_path) {
        return fail_lower(&e, &prog.sources);
    }
    let header = format!(
        "subnet #{} of the supernet run {} ({:.2}% validation accuracy in the supernet)\nweights: {}",
        ind.id,
        a.store.display(),
        100.0 * ind.val_accuracy.unwrap_or(0.0),
        weights_path.display()
    );
    let nasl = crate::search::fixed_program(&prog, &g, &header).unwrap_or(ind.nasl.clone());
    if let Err(e) = crate::base::fs::write_atomic(&nasl_path, &nasl) {
        return usage(format!("cannot write {}: {e}", nasl_path.display()));
    }
    eprintln!(
        "wrote {} and {} (individual #{}: {:.2}% validation accuracy in the supernet, {:.2}% now after \
         calibration)",
        nasl_path.display(),
        weights_path.display(),
        ind.id,
        100.0 * ind.val_accuracy.unwrap_or(0.0),
        100.0 * ev.accuracy
    );
    eprintln!(
        "evaluate it standalone: nasc eval {} --weights {} --part val --val {} --seed {} --data {}",
        nasl_path.display(),
        weights_path.display(),
        settings.val,
        st.load_run().map_or(0, |r| r.seed),
        settings.data
    );
    ExitCode::SUCCESS
}
