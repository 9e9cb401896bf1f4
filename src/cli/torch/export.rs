//! `nasc export`: TorchScript (traced) and readable PyTorch source.

use super::{build_graph, fail_lower, usage, ArchArgs};
use std::process::ExitCode;

pub(super) fn run(
    arch: &ArchArgs,
    torchscript: Option<&std::path::Path>,
    pytorch: Option<&std::path::Path>,
    weights: Option<&std::path::Path>,
    batch: i64,
    seed: u64,
) -> ExitCode {
    if torchscript.is_none() && pytorch.is_none() {
        eprintln!("error: nothing to export: give --torchscript OUT.pt and/or --pytorch OUT.py");
        return ExitCode::from(2);
    }
    // the outputs are checked before any work
    for (p, flag) in [(torchscript, "--torchscript"), (pytorch, "--pytorch")] {
        if let Some(p) = p {
            if let Err(e) = crate::base::fs::check_writable(p) {
                return usage(format!("cannot write `{}` ({flag}): {e}", p.display()));
            }
        }
    }
    let built = match build_graph(arch, batch) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let (g, sources) = (built.graph, built.program.sources);
    if let Some(out) = torchscript {
        crate::lower::seed(seed);
        if let Err(e) = crate::lower::export::torchscript(&g, weights, out) {
            return fail_lower(&e, &sources);
        }
        eprintln!(
            "wrote {} (TorchScript, traced at batch {batch})",
            out.display()
        );
    }
    if let Some(out) = pytorch {
        let text = crate::lower::export::pytorch_source(&g, &arch.file.display().to_string());
        if let Err(e) = crate::base::fs::write_atomic(out, text) {
            eprintln!("error: cannot write `{}`: {e}", out.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {} (PyTorch source)", out.display());
    }
    ExitCode::SUCCESS
}
