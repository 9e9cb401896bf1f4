//! `nasc score`: training-free scores of networks, of a sample of a search space, or of the architectures
//! of a results file (with Kendall τ-b / Spearman ρ against measured accuracies). Printing and exit codes
//! only: the scoring loop and the report are `crate::score::report`.

use super::args::ScoreArgs;
use super::{fail, fail_lower, usage};
use crate::driver::{self, Source};
use crate::ir::Graph;
use crate::score::journal::{self, Header, Journal, Record};
use crate::score::report::{score_many, ScoreReport};
use crate::score::{self, results, EpeClasses, ScoreError, ScoreKind, ScoreOptions};
use crate::search::Space;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The scoring options of the command line.
pub(super) fn options(a: &super::args::ScoreRunArgs, scores: Vec<ScoreKind>) -> ScoreOptions {
    ScoreOptions {
        scores,
        data: a.data.clone(),
        batch: a.batch,
        seed: a.seed,
        fresh_batch: a.fresh_batch,
        epe_classes: if a.epe_classes == "code" {
            EpeClasses::Code
        } else {
            EpeClasses::Paper
        },
        device: a.device.clone(),
        chunk: a.chunk,
        train_mode: !a.eval_mode,
        channels_last: !a.nchw,
        threads: a.threads,
    }
}

pub(super) fn score_failed(e: &ScoreError, sources: &crate::base::SourceMap) -> ExitCode {
    match e {
        ScoreError::Lower(l) => fail_lower(l, sources),
        other => usage(other),
    }
}

pub(super) fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    if total < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "scoring [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The scoring flags that change a result, for a results file's header.
pub(super) fn run_settings(
    a: &super::args::ScoreRunArgs,
    scores: &[ScoreKind],
) -> BTreeMap<String, serde_json::Value> {
    use journal::setting;
    BTreeMap::from([
        (
            "--scores".into(),
            setting(scores.iter().map(|k| k.name()).collect::<Vec<_>>()),
        ),
        ("--data".into(), setting(&a.data)),
        ("--batch".into(), setting(a.batch)),
        ("--seed".into(), setting(a.seed)),
        ("--device".into(), setting(&a.device)),
        ("--fresh-batch".into(), setting(a.fresh_batch)),
        ("--epe-classes".into(), setting(&a.epe_classes)),
        ("--chunk".into(), setting(a.chunk)),
        ("--eval-mode".into(), setting(a.eval_mode)),
        ("--nchw".into(), setting(a.nchw)),
    ])
}

/// Opens the results file of `--out` (new) or `--resume` (continued): the journal, and the scores
/// already there by index (checked against `archs`, the run's architectures in order). `None` without
/// either flag. Notes go to stderr.
pub(super) fn open_journal(
    out: &super::args::OutArgs,
    header: &Header,
    archs: &[String],
) -> Result<Option<journal::Opened>, ScoreError> {
    if let Some(p) = &out.out {
        return Ok(Some((Journal::create(p, header)?, BTreeMap::new())));
    }
    let Some(p) = &out.resume else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    let (j, records) = Journal::resume(p, header, &mut notes)?;
    for n in notes {
        eprintln!("note: {n}");
    }
    let prior = journal::prior(p, records, archs)?;
    eprintln!(
        "resuming `{}`: {} of {} architecture(s) already scored; scoring the other {}",
        p.display(),
        prior.len(),
        archs.len(),
        archs.len() - prior.len()
    );
    Ok(Some((j, prior)))
}

fn parse_key(s: &str, scores: &[ScoreKind]) -> Result<Option<ScoreKind>, String> {
    if s == "combined" {
        return Ok(None);
    }
    let k = ScoreKind::parse_list(s).map_err(|e| e.to_string())?;
    match k.as_slice() {
        [one] if scores.contains(one) => Ok(Some(*one)),
        [one] => Err(format!("cannot sort by `{one}`: it is not among --scores")),
        _ => Err(format!("`{s}` is not one score")),
    }
}

/// `nasc score`.
pub(super) fn run(a: &ScoreArgs) -> ExitCode {
    if let Err(f) = driver::require_files(&a.files) {
        return fail(f, "");
    }
    let kinds = match ScoreKind::parse_list(&a.scores) {
        Ok(k) => k,
        Err(e) => return usage(e),
    };
    let key = match a.sort.as_deref().map(|s| parse_key(s, &kinds)).transpose() {
        Ok(k) => k.flatten(),
        Err(e) => return usage(e),
    };
    if (a.sample.is_some() || a.against.is_some()) && a.files.len() != 1 {
        return usage("--sample and --against take one search-space file");
    }
    let columns = results::Columns {
        arch: a.against_arch_column.clone(),
        accuracy: a.against_column.clone(),
    };
    let measured = match &a.against {
        Some(p) => match results::read_results(p, &columns) {
            Ok(m) => Some(m),
            Err(e) => return usage(e),
        },
        None => None,
    };
    let spec = driver::ArchSpec {
        block: a.block.as_deref(),
        batch: Some(a.run.batch),
        inputs: &a.inputs,
        choices: &a.choices,
    };
    let base = match spec.options() {
        Ok(b) => b,
        Err(f) => return fail(f, ""),
    };
    // the architectures, and the file each came from
    let t_build = std::time::Instant::now();
    let mut graphs: Vec<Graph> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut sources = crate::base::SourceMap::new();
    for f in &a.files {
        let prog = match driver::front(Source::path(f)) {
            Ok(c) => c.program,
            Err(e) => return fail(e, ""),
        };
        let space = Space {
            program: &prog,
            base: base.clone(),
        };
        if let Some(m) = &measured {
            let mut partial = 0;
            for row in m {
                match space.build(&row.choices) {
                    Ok(g) => {
                        if g.choices.iter().any(|c| !row.choices.contains_key(&c.name)) {
                            partial += 1;
                        }
                        graphs.push(g)
                    }
                    Err(e) => {
                        let ctx = format!(
                            "`{}` line {} (`{}`): ",
                            a.against
                                .as_ref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default(),
                            row.line,
                            row.arch
                        );
                        return fail(driver::fail_build(e, &prog), &ctx);
                    }
                }
            }
            if partial > 0 {
                eprintln!(
                    "note: {partial} row(s) of `{}` leave out some decision of the space (and \
                     --choose does not fix it): it takes its first alternative",
                    a.against
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
            }
        } else if let Some(n) = a.sample {
            match space.sample(n, a.run.seed, |_, _| {}) {
                Ok(gs) => {
                    if gs.len() < n {
                        eprintln!(
                            "note: --sample {n}: only {} distinct architecture(s) of `{}` could be \
                             drawn (the space, with the decisions fixed by --choose, has no more); \
                             scoring {} instead of {n}",
                            gs.len(),
                            f.display(),
                            gs.len()
                        );
                    }
                    graphs.extend(gs)
                }
                Err(e) => return fail(driver::fail_build(e, &prog), ""),
            }
        } else {
            match space.build(&Default::default()) {
                Ok(g) => {
                    if let Some(n) = driver::defaulted_note(&g, &space.base.choices) {
                        eprintln!("note: {}: {n}", f.display());
                    }
                    graphs.push(g)
                }
                Err(e) => return fail(driver::fail_build(e, &prog), ""),
            }
        }
        labels.resize(graphs.len(), f.display().to_string());
        sources = prog.sources;
    }
    if graphs.is_empty() {
        return usage("no architecture to score");
    }
    let build_seconds = t_build.elapsed().as_secs_f64();
    // the results file, opened (and its path checked) before any scoring
    let mut settings = run_settings(&a.run, &kinds);
    settings.insert(
        "files".into(),
        journal::setting(
            a.files
                .iter()
                .map(|f| journal::file_setting(f))
                .collect::<Vec<_>>(),
        ),
    );
    settings.insert("--block".into(), journal::setting(&a.block));
    settings.insert("--input".into(), journal::setting(&a.inputs));
    settings.insert("--choose".into(), journal::setting(&base.choices));
    settings.insert("--sample".into(), journal::setting(a.sample));
    settings.insert(
        "--against".into(),
        journal::setting(a.against.as_deref().map(journal::file_setting)),
    );
    let archs: Vec<String> = graphs.iter().map(score::arch_label).collect();
    let mut journal = match open_journal(&a.out, &Header::new("score", settings), &archs) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let prior = journal.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
    let opts = options(&a.run, kinds);
    let bar = progress_bar(graphs.len());
    let scored = score_many(&graphs, &opts, &prior, |i, row, fresh| {
        if let (true, Some((j, _))) = (fresh, journal.as_mut()) {
            j.append(&Record {
                index: i,
                file: labels[i].clone(),
                scores: row.clone(),
            })?;
        }
        bar.set_position(i as u64 + 1);
        Ok(())
    });
    bar.finish_and_clear();
    let (rows, mut timing) = match scored {
        Ok(x) => x,
        Err(e) => return score_failed(&e, &sources),
    };
    timing.build_seconds = build_seconds;
    let correlations = measured.as_ref().map(|m| {
        let acc: Vec<f64> = m.iter().map(|r| r.accuracy).collect();
        results::correlate(&rows, &acc)
    });
    let mut report = ScoreReport::new(&opts, timing, &rows, &labels, key, correlations);
    report.several_files = a.files.len() > 1;
    report.against = a.against.as_ref().map(|p| score::report::Against {
        file: p.display().to_string(),
        columns: columns.clone(),
        rows: measured.as_ref().map_or(0, Vec::len),
    });
    if let Some((j, _)) = &journal {
        report.results_file = Some(j.path().display().to_string());
        report.resumed = prior.len();
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    print!("{report}");
    let ranked: Vec<&score::ArchScores> = report.architectures.iter().map(|r| &r.scores).collect();
    let dead = ranked.iter().filter(|r| !r.no_signal.is_empty()).count();
    if dead > 0 {
        eprintln!("{dead} architecture(s) with no signal in some score (sorted last):");
        for r in ranked.iter().filter(|r| !r.no_signal.is_empty()).take(5) {
            let mut why: Vec<String> = r
                .no_signal
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let first = r.no_signal.values().next();
            if r.no_signal.len() > 1 && r.no_signal.values().all(|v| Some(v) == first) {
                why = vec![format!(
                    "every score: {}",
                    first.cloned().unwrap_or_default()
                )];
            }
            eprintln!(
                "  {}: {}",
                if r.arch.is_empty() {
                    &r.network
                } else {
                    &r.arch
                },
                why.join("; ")
            );
        }
    }
    if let Some(c) = ranked.iter().find_map(|r| r.chunk) {
        eprintln!("note: the batch was split into chunks of {c} samples (docs/scoring.md)");
    }
    if let Some(best) = ranked
        .first()
        .filter(|r| !r.arch.is_empty() && score::sort_key(r, key).value().is_some())
    {
        let flags: Vec<String> = best
            .arch
            .split(' ')
            .map(|p| format!("--choose {p}"))
            .collect();
        eprintln!(
            "best: nasc train {} {}",
            report.architectures.first().map_or("", |r| r.file.as_str()),
            flags.join(" ")
        );
    }
    ExitCode::SUCCESS
}
