//! The front-end driver: the one way from NASL (a path, or in-memory text) to a checked program and the
//! graph of one architecture. Every consumer — the CLI commands, synthesis's re-check of its models,
//! the search drivers and the language server — calls it, so loading, checking and building are written
//! once (in the spirit of Cranelift ISLE's `compile.rs`).
//!
//! ```text
//! Source ──load──▶ Program ──check──▶ Checked (program + warnings)  ──build(options)──▶ Built (+ graph)
//!                                 └─▶ Failure::Diagnostics (every error, with the source map)
//! ```
//!
//! The driver never prints: a `Failure` carries everything a front end needs to show it.

use crate::base::{Diagnostic, SourceMap};
use crate::check::{self, CheckResult, FileReader, Program};
use crate::ir::{self, BuildError, BuildOptions, Graph};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the program comes from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Files on disk (the first is the root; imports are followed).
    Paths(&'a [PathBuf]),
    /// One file's text held in memory, as if it were at `path` (relative imports resolve from there).
    Text { path: &'a Path, text: &'a str },
    /// Files read through a reader (the language server's open documents over the disk).
    Reader {
        paths: &'a [PathBuf],
        reader: &'a dyn FileReader,
    },
}

impl<'a> Source<'a> {
    /// One file on disk.
    pub fn path(path: &'a PathBuf) -> Self {
        Source::Paths(std::slice::from_ref(path))
    }
}

/// Why the front end produced no program (or no graph).
#[derive(Debug)]
pub enum Failure {
    /// Files that do not exist (nothing was loaded).
    Missing(Vec<PathBuf>),
    /// The program has errors, or the architecture cannot be instantiated: every diagnostic, with the
    /// source map to render them.
    Diagnostics {
        diagnostics: Vec<Diagnostic>,
        sources: SourceMap,
        /// For check errors, the number of files checked (front ends print a summary line and only the
        /// errors); `None` for errors found while building an architecture.
        files: Option<usize>,
    },
    /// A usage problem: no such entry block, an unknown decision, a malformed `NAME=…` argument.
    Usage(String),
}

impl Failure {
    /// The error messages, one line (for callers that report a failure inside another result).
    pub fn messages(&self) -> String {
        match self {
            Failure::Diagnostics { diagnostics, .. } => diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{}: {}", d.code.id(), d.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Missing(paths) => {
                let names: Vec<String> =
                    paths.iter().map(|p| format!("`{}`", p.display())).collect();
                write!(f, "cannot read {}: no such file", names.join(", "))
            }
            Failure::Diagnostics { diagnostics, .. } => {
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                write!(f, "the program has {errors} error(s)")
            }
            Failure::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Failure {}

/// A checked program without errors, and its warnings.
pub struct Checked {
    pub program: Program,
    pub warnings: Vec<Diagnostic>,
}

/// A checked program and the graph of one of its architectures.
pub struct Built {
    pub program: Program,
    pub graph: Graph,
    pub warnings: Vec<Diagnostic>,
}

/// Loads and checks; never fails (missing files are diagnostics of the result). For commands that
/// report every diagnostic, errors or not (`nasc check`, the language server).
pub fn check(source: Source<'_>) -> CheckResult {
    let program = match source {
        Source::Paths(paths) => check::load(paths, &check::DiskReader),
        Source::Text { path, text } => check::load_text(path, text, &check::DiskReader),
        Source::Reader { paths, reader } => check::load(paths, reader),
    };
    check::check_program(program)
}

/// `Failure::Missing` naming every path that is not a readable file.
pub fn require_files(paths: &[PathBuf]) -> Result<(), Failure> {
    let missing: Vec<PathBuf> = paths.iter().filter(|p| !p.is_file()).cloned().collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::Missing(missing))
    }
}

/// Loads and checks; a program with errors is a `Failure::Diagnostics`.
pub fn front(source: Source<'_>) -> Result<Checked, Failure> {
    let files = match source {
        Source::Paths(paths) => {
            require_files(paths)?;
            paths.len()
        }
        Source::Reader { paths, .. } => paths.len(),
        Source::Text { .. } => 1,
    };
    let r = check(source);
    if r.has_errors() {
        return Err(Failure::Diagnostics {
            diagnostics: r.diagnostics,
            sources: r.program.sources,
            files: Some(files),
        });
    }
    Ok(Checked {
        program: r.program,
        warnings: r.diagnostics,
    })
}

/// Loads, checks and builds the graph of one architecture.
pub fn build(source: Source<'_>, options: &BuildOptions) -> Result<Built, Failure> {
    let Checked { program, warnings } = front(source)?;
    match build_checked(&program, options) {
        Ok(graph) => Ok(Built {
            program,
            graph,
            warnings,
        }),
        Err(e) => Err(fail_build(e, &program)),
    }
}

/// Builds one architecture of an already checked program (the search drivers build many).
pub fn build_checked(program: &Program, options: &BuildOptions) -> Result<Graph, BuildError> {
    ir::build(program, options)
}

/// A build error as a front-end failure (diagnostics keep the program's source map).
pub fn fail_build(e: BuildError, program: &Program) -> Failure {
    match e {
        BuildError::Diagnostics(diagnostics) => Failure::Diagnostics {
            diagnostics,
            sources: program.sources.clone(),
            files: None,
        },
        BuildError::Usage(m) => Failure::Usage(m),
    }
}

/// The note for decisions of `graph` that `given` (the `--choose` decisions) leaves out, which the build
/// resolved to alternative 0: `None` when every decision was given. One line, naming each (at most 8).
pub fn defaulted_note(graph: &Graph, given: &BTreeMap<String, usize>) -> Option<String> {
    let left: Vec<String> = graph
        .choices
        .iter()
        .filter(|c| !given.contains_key(&c.name))
        .map(|c| {
            format!(
                "{}=0 (`{}`, the first of {})",
                c.name,
                c.options.first().map_or("", String::as_str),
                c.options.len()
            )
        })
        .collect();
    if left.is_empty() {
        return None;
    }
    let more = left.len().saturating_sub(8);
    let mut shown = left[..left.len().min(8)].join(", ");
    if more > 0 {
        shown.push_str(&format!(", and {more} more"));
    }
    Some(format!(
        "{} decision(s) not given with --choose take their first alternative: {shown}",
        left.len()
    ))
}

/// What names one architecture on a command line: the entry block, the batch size, `NAME=D0,D1,…`
/// input shapes and `NAME=INDEX` decisions. `options` turns it into `BuildOptions`.
#[derive(Clone, Debug, Default)]
pub struct ArchSpec<'a> {
    pub block: Option<&'a str>,
    pub batch: Option<i64>,
    pub inputs: &'a [String],
    pub choices: &'a [String],
}

impl ArchSpec<'_> {
    /// The build options, or a usage failure naming the malformed argument.
    pub fn options(&self) -> Result<BuildOptions, Failure> {
        if let Some(b) = self.batch.filter(|&b| b < 1) {
            return Err(Failure::Usage(format!(
                "the batch size must be at least 1, not {b} (--batch)"
            )));
        }
        Ok(BuildOptions {
            block: self.block.map(str::to_string),
            batch: self.batch,
            inputs: parse_inputs(self.inputs)?,
            choices: parse_choices(self.choices)?,
        })
    }
}

/// `NAME=VALUE` pairs (`what` is the expected form, for the message).
pub fn parse_kv(items: &[String], what: &str) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(Failure::Usage(format!("`{s}` is not `{what}`"))),
        })
        .collect()
}

/// `NAME=D0,D1,…` input shapes.
pub fn parse_inputs(items: &[String]) -> Result<BTreeMap<String, Vec<i64>>, Failure> {
    parse_kv(items, "NAME=D0,D1,…")?
        .into_iter()
        .map(|(k, v)| {
            let dims: Result<Vec<i64>, _> = v
                .split(',')
                .map(|d| d.trim().parse::<i64>().map_err(|_| ()).and_then(positive))
                .collect();
            dims.map(|d| (k.clone(), d)).map_err(|()| {
                Failure::Usage(format!(
                    "`{v}` is not a comma-separated list of sizes, each a positive integer (input `{k}`)"
                ))
            })
        })
        .collect()
}

/// A size of an input dimension: 1 or more.
fn positive(d: i64) -> Result<i64, ()> {
    if d >= 1 {
        Ok(d)
    } else {
        Err(())
    }
}

/// `NAME=INDEX` decisions.
pub fn parse_choices(items: &[String]) -> Result<BTreeMap<String, usize>, Failure> {
    parse_kv(items, "NAME=INDEX")?
        .into_iter()
        .map(|(k, v)| {
            v.parse::<usize>().map(|i| (k.clone(), i)).map_err(|_| {
                Failure::Usage(format!(
                    "`{v}` is not an alternative index (decision `{k}`)"
                ))
            })
        })
        .collect()
}
