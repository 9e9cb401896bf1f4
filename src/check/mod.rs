//! The check stage: loads a program (the files and what they import), resolves names, and runs every block
//! through the symbolic evaluator to infer the shape of every value and find every error. It returns *all*
//! diagnostics of all files at once, sorted by position, and a per-block report of inferred shapes.
//!
//! **Invariants:** the checker never panics and always terminates (recursion is an error; evaluation has a
//! fuel limit); it depends only on `base` and `syntax`.

mod eval;
pub mod ops;
pub mod program;
pub mod resolve;
pub mod segments;
pub mod shapes;
pub mod sym;
pub mod value;

pub use eval::{BindingValue, Decision, Evaluator, TraceNode, DEFAULT_FUEL};
pub use program::{load, load_text, stdlib_dir, BlockId, DiskReader, Entry, FileReader, Program};
pub use resolve::Resolution;
pub use sym::Sym;
pub use value::{ShapeDisplay, Value};

use crate::base::{Diagnostic, Span};
use crate::syntax::ast::BlockKind;
use std::path::PathBuf;

/// What the checker found out about one block (checked on its own, with symbols for what is unknown).
#[derive(Debug, Clone)]
pub struct BlockReport {
    pub id: BlockId,
    pub name: String,
    pub kind: BlockKind,
    /// `name(x: [B, C, H, W], out: Int, k: Int = 3) -> [B, out, H, W]` as written.
    pub signature: String,
    pub doc: Vec<String>,
    /// Every `let` of the body (first evaluation), in order, with its inferred value.
    pub bindings: Vec<BindingValue>,
    /// The inferred result.
    pub result: Value,
    /// The search-space decisions met.
    pub decisions: Vec<Decision>,
}

/// The result of checking a program.
#[derive(Debug)]
pub struct CheckResult {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    /// Every name of every module and what it refers to.
    pub names: Resolution,
    /// One report per block of the root files, in source order.
    pub blocks: Vec<BlockReport>,
}

impl CheckResult {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Checks files on disk.
pub fn check_paths(paths: &[PathBuf]) -> CheckResult {
    check_program(load(paths, &DiskReader))
}

/// Resolves the names of an already loaded program without evaluating it: the result has the loader's
/// and the name resolution's diagnostics, and no block reports (the editor's answer while a check runs).
pub fn check_names(program: Program) -> CheckResult {
    let (names, resolved) = resolve::resolve(&program);
    let mut diagnostics = program.diagnostics.clone();
    diagnostics.extend(resolved);
    sort_dedup(&mut diagnostics);
    CheckResult {
        program,
        diagnostics,
        names,
        blocks: Vec::new(),
    }
}

/// Checks an already loaded program.
pub fn check_program(program: Program) -> CheckResult {
    let ids: Vec<BlockId> = program
        .roots
        .iter()
        .flat_map(|&mi| program.modules[mi].blocks.iter().copied())
        .collect();
    // Blocks are checked on their own, so large programs are checked in parallel: name resolution and
    // one evaluator per chunk of blocks, the other threads with a large stack (the evaluator recurses).
    // The reports keep source order and the diagnostics are sorted, so the result does not depend on it.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(ids.len() / PARALLEL_BLOCKS)
        .max(1);
    let ((names, resolved), chunks) = if threads == 1 {
        (
            resolve::resolve(&program),
            vec![check_blocks(&program, &ids)],
        )
    } else {
        let size = ids.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let prog = &program;
            let builder = || std::thread::Builder::new().stack_size(BIG_STACK);
            let resolving = builder().spawn_scoped(scope, || resolve::resolve(prog));
            // the first chunk runs on this thread, which already has the evaluator's stack (as before)
            let mut parts = ids.chunks(size);
            let first = parts.next().unwrap_or_default();
            let running: Vec<_> = parts
                .map(|chunk| {
                    (
                        chunk,
                        builder().spawn_scoped(scope, move || check_blocks(prog, chunk)),
                    )
                })
                .collect();
            let mut chunks = vec![check_blocks(prog, first)];
            chunks.extend(running.into_iter().map(|(chunk, h)| match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // no thread to be had: check the chunk here
                Err(_) => check_blocks(prog, chunk),
            }));
            let names = match resolving {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => resolve::resolve(prog),
            };
            (names, chunks)
        })
    };
    let mut diagnostics = program.diagnostics.clone();
    diagnostics.extend(resolved);
    let mut blocks = Vec::with_capacity(ids.len());
    for (reports, ds) in chunks {
        blocks.extend(reports);
        diagnostics.extend(ds);
    }
    sort_dedup(&mut diagnostics);
    CheckResult {
        program,
        diagnostics,
        names,
        blocks,
    }
}

/// The stack of a checker thread (the evaluator recurses through nested calls and expressions).
pub const BIG_STACK: usize = 256 << 20;

/// Programs with at least this many blocks per thread are checked in parallel.
const PARALLEL_BLOCKS: usize = 64;

/// The block reports and evaluation diagnostics of some blocks.
type Checked = (Vec<BlockReport>, Vec<Diagnostic>);

/// Checks blocks one after another with one evaluator (it memoises calls across them).
fn check_blocks(program: &Program, ids: &[BlockId]) -> Checked {
    let mut ev = Evaluator::new(program);
    let mut blocks = Vec::with_capacity(ids.len());
    for &id in ids {
        ev.bindings.clear();
        ev.decisions.clear();
        ev.set_fuel(DEFAULT_FUEL);
        let result = ev.instantiate_standalone(id);
        let def = program.block(id);
        blocks.push(BlockReport {
            id,
            name: def.name.name.clone(),
            kind: def.kind,
            signature: signature(def),
            doc: def.doc(),
            bindings: std::mem::take(&mut ev.bindings),
            result,
            decisions: std::mem::take(&mut ev.decisions),
        });
    }
    (blocks, std::mem::take(&mut ev.diagnostics))
}

/// Sorts diagnostics by file and position, and drops exact repeats.
pub fn sort_dedup(ds: &mut Vec<Diagnostic>) {
    let key = |d: &Diagnostic| {
        let s = d.span().unwrap_or_else(Span::detached);
        (s.file, s.start, s.end, d.code)
    };
    ds.sort_by_key(key);
    ds.dedup_by(|a, b| key(a) == key(b) && a.message == b.message);
}

/// A block's signature as NASL text.
pub fn signature(def: &crate::syntax::ast::BlockDef) -> String {
    let params: Vec<String> = def
        .params
        .iter()
        .map(|p| {
            let mut s = format!("{}: {}", p.name.name, crate::syntax::print_type(&p.ty));
            if let Some(d) = &p.default {
                s.push_str(&format!(" = {}", crate::syntax::print_expr(d)));
            }
            s
        })
        .collect();
    let ret = def
        .ret
        .as_ref()
        .map(|t| format!(" -> {}", crate::syntax::print_type(t)))
        .unwrap_or_default();
    format!("{}({}){ret}", def.name.name, params.join(", "))
}

/// Runs `f` on a thread with a large stack (the checker recurses over nested blocks and expressions).
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(BIG_STACK)
        .spawn(f)
        .expect("spawning the checker thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
