//! `nasc shapes`: the inferred shape of every binding of every block (`check::shapes`), as text or JSON.

use super::{print_diagnostics, summary};
use crate::check::shapes::ShapesReport;
use crate::driver;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn run(file: &PathBuf, only: Option<&str>, json: bool) -> ExitCode {
    if let Err(f) = driver::require_files(std::slice::from_ref(file)) {
        return super::fail(f, "");
    }
    let r = driver::check(driver::Source::path(file));
    let Some(report) = ShapesReport::new(&r, only) else {
        let names: Vec<&str> = r.blocks.iter().map(|b| b.name.as_str()).collect();
        eprintln!(
            "error: `{}` has no block `{}` (it defines: {})",
            file.display(),
            only.unwrap_or_default(),
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{report}");
    }
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, &r.program.sources, true);
        eprintln!("{}", summary(&r.diagnostics, 1));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
