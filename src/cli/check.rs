//! `nasc check`: every diagnostic of every file, as text or JSON; exit 1 on errors.

use super::{print_diagnostics, render, summary};
use crate::driver::{self, Source};
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn run(files: &[PathBuf], json: bool, deny_warnings: bool, quiet: bool) -> ExitCode {
    if let Err(f) = driver::require_files(files) {
        return super::fail(f, "");
    }
    let r = driver::check(Source::Paths(files));
    if json {
        let arr: Vec<_> = r
            .diagnostics
            .iter()
            .map(|d| render::to_json(d, &r.program.sources))
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
    } else {
        print_diagnostics(&r.diagnostics, &r.program.sources, quiet);
        eprintln!("{}", summary(&r.diagnostics, files.len()));
    }
    let failed = r.has_errors() || (deny_warnings && !r.diagnostics.is_empty());
    // the process ends here: freeing every AST node and shape one by one would cost a tenth of the check
    std::mem::forget(r);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
