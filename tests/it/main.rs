//! The one integration-test binary (one link of libtorch and z3 for the whole suite).

mod check;
mod data;
mod deps;
mod evolve;
mod export;
mod faults;
mod ir;
mod lower;
mod lsp;
mod props;
mod props_oracle;
mod report;
mod score;
mod supernet;
mod syntax;
mod synth;
mod tidy;
mod tidy_ops;

use std::path::{Path, PathBuf};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `*.nasl` files under a folder of the project (sorted).
pub fn nasl_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "nasl"))
        .collect();
    v.sort();
    v
}

/// Runs `f` with a large stack (the checker recurses).
pub fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    nasc::check::with_big_stack(f)
}

pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// Runs the `nasc` binary in the project root (plain output): exit code, stdout, stderr.
pub fn run_nasc(args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nasc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
