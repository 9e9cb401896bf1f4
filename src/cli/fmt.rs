//! `nasc fmt`: the canonical layout (in place, to stdout for `-`, or `--check`).

use super::print_diagnostics;
use crate::base::{Diagnostic, SourceMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn run(files: &[PathBuf], check_only: bool) -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in files {
        let (text, stdin) = if path.as_os_str() == "-" {
            let mut s = String::new();
            if std::io::stdin().read_to_string(&mut s).is_err() {
                eprintln!("error: cannot read standard input");
                return ExitCode::from(2);
            }
            (s, true)
        } else {
            match std::fs::read_to_string(path) {
                Ok(s) => (s, false),
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        };
        let mut sources = SourceMap::new();
        let fid = sources.add(path.clone(), text.clone());
        let parsed = crate::syntax::parse(fid, &text);
        if parsed.diagnostics.iter().any(Diagnostic::is_error) {
            print_diagnostics(&parsed.diagnostics, &sources, false);
            eprintln!("{}: not formatted (syntax errors)", path.display());
            status = ExitCode::from(1);
            continue;
        }
        let out = crate::syntax::print_module(&parsed.module);
        if stdin {
            print!("{out}");
        } else if out != text {
            if check_only {
                println!("{}", path.display());
                status = ExitCode::from(1);
            } else if let Err(e) = write_in_place(path, &out) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    status
}

/// Replaces the file's contents atomically (the old text or the new one, never a torn file, whenever the
/// process dies), keeping its permissions; through a symbolic link, the file it points to is replaced.
fn write_in_place(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let perms = std::fs::metadata(&target)?.permissions();
    crate::base::fs::with_atomic(&target, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(text.as_bytes())?;
        f.set_permissions(perms)?;
        f.sync_all()
    })
}
