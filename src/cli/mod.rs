//! The command-line edge: argument parsing (clap), running the stages, and printing. The only module that
//! writes to stdout/stderr or decides exit codes (0 success, 1 the program has errors, 2 the command could
//! not run: bad usage, unreadable files).

pub mod render;

use crate::base::{Diagnostic, SourceMap};
use crate::check::{self, CheckResult, ShapeDisplay, Value};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  nasc check examples/*.nasl          check programs, report every error with file:line:col
  nasc check --json model.nasl         the same diagnostics as JSON (for editors and scripts)
  nasc shapes examples/cifarnet.nasl   the inferred shape of every binding
  nasc fmt --check examples/*.nasl     fail if a file is not in canonical form
  nasc fmt model.nasl                  rewrite a file in canonical form
  nasc lsp                             the language server, for editors (docs/editor.md)

The language is described in docs/language.md, every diagnostic code in docs/diagnostics.md.";

/// nasc — a compiler toolchain for neural architecture search.
///
/// Write networks and search spaces as NASL programs; nasc checks their shapes symbolically, formats
/// them, and (in later stages) abstracts, synthesizes, lowers, scores and searches them.
#[derive(Parser, Debug)]
#[command(name = "nasc", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check NASL files: syntax, names, types and symbolic shapes. Exit 0 when clean, 1 on errors.
    #[command(after_help = "Every error of every file is reported at once. Warnings do not fail the check \
unless --deny-warnings is given. Imports are followed (std.X is stdlib/X.nasl).")]
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print diagnostics as JSON (one array) on stdout.
        #[arg(long)]
        json: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// Do not print warnings.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Format NASL files in the canonical layout (in place), or check that they are.
    #[command(after_help = "Comments are kept. A file with syntax errors is left untouched and its errors \
are printed. `nasc fmt -` formats standard input to standard output.")]
    Fmt {
        /// Files to format (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write: exit 1 and list the files that are not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Print the inferred shape of every binding of every block.
    #[command(after_help = "Blocks are checked on their own: tensor dimensions and integer parameters \
without defaults stay symbolic (B, C, H, out, …). Unknown sizes (after an undecided `if`) print as `_`.")]
    Shapes {
        /// The file.
        file: PathBuf,
        /// Only this block.
        #[arg(long)]
        block: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the language server on stdin/stdout (for editors; see docs/editor.md).
    Lsp,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    check::with_big_stack(move || run(cli))
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn print_diagnostics(ds: &[Diagnostic], sources: &SourceMap, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in ds {
        if quiet && !d.is_error() {
            continue;
        }
        let _ = write!(err, "{}", render::render_text(d, sources, color()));
    }
}

fn summary(r: &CheckResult, files: usize) -> String {
    let errors = r.error_count();
    let warnings = r.diagnostics.len() - errors;
    format!(
        "checked {files} file(s): {errors} error(s), {warnings} warning(s)",
    )
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { files, json, deny_warnings, quiet } => {
            if let Some(code) = missing_files(&files) {
                return code;
            }
            let r = check::check_paths(&files);
            if json {
                let arr: Vec<_> = r.diagnostics.iter().map(|d| render::to_json(d, &r.program.sources)).collect();
                println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
            } else {
                print_diagnostics(&r.diagnostics, &r.program.sources, quiet);
                eprintln!("{}", summary(&r, files.len()));
            }
            let failed = r.has_errors() || (deny_warnings && !r.diagnostics.is_empty());
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Shapes { file, block, json } => shapes(&file, block.as_deref(), json),
        Command::Lsp => crate::lsp::run(),
    }
}

fn missing_files(files: &[PathBuf]) -> Option<ExitCode> {
    let missing: Vec<&PathBuf> = files.iter().filter(|f| !f.is_file()).collect();
    if missing.is_empty() {
        return None;
    }
    for f in missing {
        eprintln!("error: cannot read `{}`: no such file", f.display());
    }
    Some(ExitCode::from(2))
}

fn fmt(files: &[PathBuf], check_only: bool) -> ExitCode {
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
            } else if let Err(e) = std::fs::write(path, &out) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    status
}

fn shapes(file: &PathBuf, only: Option<&str>, json: bool) -> ExitCode {
    if let Some(code) = missing_files(std::slice::from_ref(file)) {
        return code;
    }
    let r = check::check_paths(std::slice::from_ref(file));
    let sources = &r.program.sources;
    let blocks: Vec<&check::BlockReport> = r
        .blocks
        .iter()
        .filter(|b| r.program.block_module(b.id) == r.program.roots[0])
        .filter(|b| only.is_none_or(|n| b.name == n))
        .collect();
    if let Some(n) = only {
        if blocks.is_empty() {
            let names: Vec<&str> = r.blocks.iter().map(|b| b.name.as_str()).collect();
            eprintln!("error: `{}` has no block `{n}` (it defines: {})", file.display(), names.join(", "));
            return ExitCode::from(2);
        }
    }
    let line_col = |s: crate::base::Span| sources.get(s.file).map(|f| f.line_col(s.start as usize));
    let show = |v: &Value| match v {
        Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
        other => other.to_string(),
    };
    if json {
        let arr: Vec<_> = blocks
            .iter()
            .map(|b| {
                serde_json::json!({
                    "block": b.name,
                    "kind": if b.kind == crate::syntax::ast::BlockKind::Network { "network" } else { "block" },
                    "signature": b.signature,
                    "result": show(&b.result),
                    "bindings": b.bindings.iter().map(|x| {
                        let lc = line_col(x.span);
                        serde_json::json!({"name": x.name, "line": lc.map(|l| l.line), "column": lc.map(|l| l.col), "value": show(&x.value), "kind": x.value.kind()})
                    }).collect::<Vec<_>>(),
                    "decisions": b.decisions,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
    } else {
        let mut out = String::new();
        for b in &blocks {
            let kw = if b.kind == crate::syntax::ast::BlockKind::Network { "network" } else { "block" };
            out.push_str(&format!("{kw} {}\n", b.signature));
            let width = b.bindings.iter().map(|x| x.name.len()).max().unwrap_or(0).max(6);
            for x in &b.bindings {
                let lc = line_col(x.span).map(|l| format!("{}:{}", l.line, l.col)).unwrap_or_default();
                out.push_str(&format!("  {lc:>7}  {:<width$} : {}\n", x.name, show(&x.value)));
            }
            out.push_str(&format!("  {:>7}  {:<width$} : {}\n", "", "result", show(&b.result)));
            if !b.decisions.is_empty() {
                out.push_str(&format!("  decisions ({}):\n", b.decisions.len()));
                for d in &b.decisions {
                    out.push_str(&format!("    {} ∈ {{{}}}\n", d.name, d.options.join(", ")));
                }
            }
            out.push('\n');
        }
        print!("{out}");
    }
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, sources, true);
        eprintln!("{}", summary(&r, 1));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
