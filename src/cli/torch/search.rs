//! `nasc search`: the search drivers. `random`: EPE-NAS's random search (prints the best architecture as
//! NASL); `evolve`, `resume`, `report`, `export`, `worker`: evolution (`evolve.rs`). The work is in `crate::search`; this file prints and chooses the exit code.

use super::args::SearchCommand;
use super::score::{options, progress_bar, score_failed};
use super::{fail, usage};
use crate::driver::{self, Source};
use crate::score::{self, ScoreKind};
use crate::search::random::RandomReport;
use crate::search::{self, SearchError, Space};
use std::process::ExitCode;

/// `nasc search …`.
pub(super) fn run(c: &SearchCommand) -> ExitCode {
    match c {
        SearchCommand::Random(a) => random(a),
        SearchCommand::Evolve(a) => super::evolve::evolve(a),
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
    let first = match space.build(&Default::default()) {
        Ok(g) => g,
        Err(e) => return fail(driver::fail_build(e, &prog), ""),
    };
    let scorer = match score::Scorer::new(options(&a.run, kinds), &first) {
        Ok(s) => s,
        Err(e) => return score_failed(&e, &prog.sources),
    };
    let bar = progress_bar(a.n);
    let t0 = std::time::Instant::now();
    let r = search::random_search(&space, &scorer, a.n, a.run.seed, key, |done, total, _| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let res = match r {
        Ok(r) => r,
        Err(SearchError::Build(e)) => return fail(driver::fail_build(e, &prog), ""),
        Err(SearchError::Score(e)) => return score_failed(&e, &prog.sources),
    };
    let secs = t0.elapsed().as_secs_f64();
    let report = RandomReport::new(res, &prog, &a.file, key, a.run.seed, a.run.batch, secs);
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
