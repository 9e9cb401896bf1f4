//! `nasc search`: the search drivers. `random`: EPE-NAS's random search (prints the best architecture as
//! NASL); `evolve`, `resume`, `report`, `export`, `worker`: evolution (`evolve.rs`). The work is in `crate::search`; this file prints and chooses the exit code.

use super::args::SearchCommand;
use super::score::{open_journal, options, progress_bar, run_settings, score_failed};
use super::{fail, usage};
use crate::driver::{self, Source};
use crate::score::journal::{self, Header, Record};
use crate::score::{self, ScoreKind};
use crate::search::random::RandomReport;
use crate::search::{self, SearchError, Space};
use std::process::ExitCode;

/// `nasc search …`.
pub(super) fn run(c: &SearchCommand) -> ExitCode {
    match c {
        SearchCommand::Random(a) => random(a),
        SearchCommand::Evolve(a) => super::evolve::evolve(a),
        SearchCommand::Resume(a) if super::supernet::is_supernet_run(&a.store) => {
            super::supernet::resume(&a.store, a.json)
        }
        SearchCommand::Resume(a) => super::evolve::resume(a),
        SearchCommand::Report(a) => super::evolve::report(a),
        SearchCommand::Export(a) => super::evolve::export(a),
        SearchCommand::Worker => super::evolve::worker(),
    }
}

/// `nasc search random`.
fn random(a: &super::args::RandomArgs) -> ExitCode {
    let key = if a.score == "combined" {
        None
    } else {
        match ScoreKind::parse_list(&a.score) {
            Ok(k) if k.len() == 1 => Some(k[0]),
            Ok(_) => return usage(format!("`{}` is not one score", a.score)),
            Err(e) => return usage(e),
        }
    };
    let mut kinds: Vec<ScoreKind> = match key {
        Some(k) => vec![k],
        None => ScoreKind::COMBINED.to_vec(),
    };
    for k in [ScoreKind::Params, ScoreKind::Macs] {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let prog = match driver::front(Source::path(&a.file)) {
        Ok(c) => c.program,
        Err(e) => return fail(e, ""),
    };
    let spec = driver::ArchSpec {
        block: a.block.as_deref(),
        batch: Some(a.run.batch),
        inputs: &[],
        choices: &a.choices,
    };
    let base = match spec.options() {
        Ok(b) => b,
        Err(f) => return fail(f, ""),
    };
    let space = Space {
        program: &prog,
        base,
    };
    let graphs = match search::random::draw(&space, a.n, a.run.seed) {
        Ok(g) => g,
        Err(SearchError::Build(e)) => return fail(driver::fail_build(e, &prog), ""),
        Err(SearchError::Score(e)) => return score_failed(&e, &prog.sources),
    };
    let Some(first) = graphs.first() else {
        return usage("the space has no architecture to search");
    };
    if graphs.len() < a.n {
        eprintln!(
            "note: --n {}: the space (with the decisions fixed by --choose) has only {} distinct \
             architecture(s); searching all {} of them",
            a.n,
            graphs.len(),
            graphs.len()
        );
    }
    // the results file, opened (and its path checked) before any scoring
    let mut settings = run_settings(&a.run, &kinds);
    settings.insert("file".into(), journal::file_setting(&a.file));
    settings.insert("--block".into(), journal::setting(&a.block));
    settings.insert("--choose".into(), journal::setting(&space.base.choices));
    settings.insert("--n".into(), journal::setting(a.n));
    settings.insert("--score".into(), journal::setting(&a.score));
    let archs: Vec<String> = graphs.iter().map(score::arch_label).collect();
    let mut journal = match open_journal(&a.out, &Header::new("search random", settings), &archs) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let prior = journal.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
    let scorer = match score::Scorer::new(options(&a.run, kinds), first) {
        Ok(s) => s,
        Err(e) => return score_failed(&e, &prog.sources),
    };
    let bar = progress_bar(graphs.len());
    let file = a.file.display().to_string();
    let t0 = std::time::Instant::now();
    let r = search::random_search(graphs, &scorer, key, &prior, |i, row, fresh| {
        if let (true, Some((j, _))) = (fresh, journal.as_mut()) {
            j.append(&Record {
                index: i,
                file: file.clone(),
                scores: row.clone(),
            })?;
        }
        bar.set_position(i as u64 + 1);
        Ok(())
    });
    bar.finish_and_clear();
    let res = match r {
        Ok(r) => r,
        Err(SearchError::Build(e)) => return fail(driver::fail_build(e, &prog), ""),
        Err(SearchError::Score(e @ crate::score::ScoreError::Results { .. })) => return usage(e),
        Err(SearchError::Score(e)) => return score_failed(&e, &prog.sources),
    };
    let secs = t0.elapsed().as_secs_f64();
    let mut report = RandomReport::new(res, &prog, &a.file, key, a.run.seed, a.run.batch, secs);
    report.resumed = prior.len();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        eprint!("{report}");
        match &report.best_nasl {
            Some(t) => print!("{t}"),
            None => {
                eprintln!("no architecture has a signal for `{}`", report.score);
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
