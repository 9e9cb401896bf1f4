//! Loading a program: the files named by the user, and every module they import (transitively), each parsed
//! once. Resolves `import` paths (`std.X` is `stdlib/X.nasl`; other paths are relative to the importing
//! file) and builds each module's namespace. Import cycles, missing modules, unknown imported names and
//! duplicate definitions are reported here.

use crate::base::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::syntax::ast::{BlockDef, Module};
use crate::syntax::parse;
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// Index of a block definition in [`Program::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// What a name in a module's namespace refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Block(BlockId),
    /// An imported module, used as `name.block`.
    Module(usize),
}

/// One parsed module and its namespace.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub file: FileId,
    pub path: PathBuf,
    pub ast: Module,
    /// Local blocks and imported names, in source order.
    pub names: IndexMap<String, (Entry, Span)>,
    /// The blocks defined in this module, in source order.
    pub blocks: Vec<BlockId>,
}

/// Every module of a compilation.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub sources: SourceMap,
    pub modules: Vec<ModuleInfo>,
    /// `(module index, item index)` of every block.
    pub blocks: Vec<(usize, usize)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Module indices of the files the user named (in order).
    pub roots: Vec<usize>,
}

impl Program {
    pub fn block(&self, id: BlockId) -> &BlockDef {
        let (m, i) = self.blocks[id.0 as usize];
        &self.modules[m].ast.items[i]
    }

    pub fn block_module(&self, id: BlockId) -> usize {
        self.blocks[id.0 as usize].0
    }

    /// Looks a block up by name in a module (local or imported).
    pub fn lookup(&self, module: usize, name: &str) -> Option<&Entry> {
        self.modules[module].names.get(name).map(|(e, _)| e)
    }

    /// The names of the blocks defined in module `m`, in source order.
    pub fn block_names(&self, m: usize) -> Vec<&str> {
        self.modules[m]
            .blocks
            .iter()
            .map(|b| self.block(*b).name.name.as_str())
            .collect()
    }

    /// A block's name qualified by its module's file stem when that is not a root module.
    pub fn block_name(&self, id: BlockId) -> String {
        self.block(id).name.name.clone()
    }
}

/// Where the standard library lives: `$NASC_STDLIB`, else the `stdlib/` folder this binary was built from.
pub fn stdlib_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("NASC_STDLIB") {
        return PathBuf::from(p);
    }
    // this crate is built from `front/`; the standard library sits beside it in the project root
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("stdlib")
}

/// Reads a file for the loader. `overrides` are in-memory texts (the LSP's open documents).
pub trait FileReader {
    fn read(&self, path: &Path) -> std::io::Result<String>;
}

/// Reads from the file system.
pub struct DiskReader;

impl FileReader for DiskReader {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// Loads the given files and everything they import.
pub fn load(paths: &[PathBuf], reader: &dyn FileReader) -> Program {
    let mut loader = Loader {
        prog: Program::default(),
        reader,
        loading: Vec::new(),
    };
    for p in paths {
        if let Some(m) = loader.load_file(p, None) {
            if !loader.prog.roots.contains(&m) {
                loader.prog.roots.push(m)
            }
        }
    }
    loader.prog
}

/// Loads one in-memory file (the text of `path`) and what it imports.
pub fn load_text(path: &Path, text: &str, reader: &dyn FileReader) -> Program {
    struct Overlay<'a> {
        path: PathBuf,
        text: &'a str,
        inner: &'a dyn FileReader,
    }
    impl FileReader for Overlay<'_> {
        fn read(&self, p: &Path) -> std::io::Result<String> {
            if p == self.path || normalize(p) == self.path {
                Ok(self.text.to_string())
            } else {
                self.inner.read(p)
            }
        }
    }
    let overlay = Overlay {
        path: normalize(path),
        text,
        inner: reader,
    };
    load(&[path.to_path_buf()], &overlay)
}

fn normalize(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

struct Loader<'r> {
    prog: Program,
    reader: &'r dyn FileReader,
    /// Modules being loaded (for cycle detection): canonical path and the import span that led here.
    loading: Vec<PathBuf>,
}

impl Loader<'_> {
    /// Loads a module (once); `from` is the import that asked for it.
    fn load_file(&mut self, path: &Path, from: Option<Span>) -> Option<usize> {
        let canon = normalize(path);
        if let Some(i) = self
            .prog
            .modules
            .iter()
            .position(|m| normalize(&m.path) == canon)
        {
            return Some(i);
        }
        if let Some(pos) = self.loading.iter().position(|p| *p == canon) {
            let cycle: Vec<String> = self.loading[pos..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| display_path(p))
                .collect();
            let d = Diagnostic::error(Code::ImportCycle, "modules import each other in a cycle")
                .with_note(format!("cycle: {}", cycle.join(" → ")))
                .with_help("move the shared blocks into a module that both import");
            let d = match from {
                Some(s) => d.with_label(s, "this import closes the cycle"),
                None => d,
            };
            self.prog.diagnostics.push(d);
            return None;
        }
        let text = match self.reader.read(path) {
            Ok(t) => t,
            Err(e) => {
                let d = Diagnostic::error(
                    Code::ModuleNotFound,
                    format!("cannot read `{}`: {e}", path.display()),
                );
                let d = match from {
                    Some(s) => d.with_label(s, "imported here"),
                    None => d,
                };
                self.prog.diagnostics.push(d);
                return None;
            }
        };
        let file = self.prog.sources.add(path.to_path_buf(), text.clone());
        let parsed = parse(file, &text);
        self.prog.diagnostics.extend(parsed.diagnostics);
        self.loading.push(canon);
        let module = parsed.module;
        let mut names: IndexMap<String, (Entry, Span)> = IndexMap::new();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for imp in &module.imports {
            let target = resolve_import(
                &dir,
                &imp.path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            );
            let span = imp
                .path
                .first()
                .map(|f| f.span.to(imp.path.last().unwrap_or(f).span))
                .unwrap_or(imp.span);
            let Some(target) = target else {
                self.prog.diagnostics.push(
                    Diagnostic::error(Code::ModuleNotFound, format!("no module `{}`", imp.module_path()))
                        .with_label(span, "imported here")
                        .with_help(format!(
                            "`std.NAME` is a file in {}; other imports are files relative to this one (`a.b` is `a/b.nasl`)",
                            display_path(&stdlib_dir())
                        )),
                );
                continue;
            };
            let Some(mi) = self.load_file(&target, Some(span)) else {
                continue;
            };
            match &imp.names {
                None => {
                    let local = imp
                        .alias
                        .as_ref()
                        .unwrap_or_else(|| imp.path.last().expect("import path is never empty"));
                    self.bind(&mut names, &local.name, Entry::Module(mi), local.span);
                }
                Some(list) => {
                    for n in list {
                        match self.prog.modules[mi].names.get(&n.name.name) {
                            Some((Entry::Block(b), _)) if self.prog.block_module(*b) == mi => {
                                let b = *b;
                                self.bind(
                                    &mut names,
                                    &n.local().name,
                                    Entry::Block(b),
                                    n.local().span,
                                )
                            }
                            _ => {
                                let available = self.prog.block_names(mi);
                                let mut d = Diagnostic::error(
                                    Code::UnknownImport,
                                    format!(
                                        "module `{}` defines no block `{}`",
                                        imp.module_path(),
                                        n.name.name
                                    ),
                                )
                                .with_label(n.name.span, "not defined there");
                                if let Some(s) = closest(&n.name.name, available.iter().copied()) {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                } else if !available.is_empty() {
                                    d = d
                                        .with_help(format!("it defines: {}", available.join(", ")));
                                }
                                self.prog.diagnostics.push(d);
                            }
                        }
                    }
                }
            }
        }
        let index = self.prog.modules.len();
        let mut blocks = Vec::new();
        for (i, item) in module.items.iter().enumerate() {
            if item.name.name == "<error>" {
                continue;
            }
            let id = BlockId(self.prog.blocks.len() as u32);
            self.prog.blocks.push((index, i));
            blocks.push(id);
            if super::ops::is_builtin(&item.name.name) {
                self.prog.diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        format!(
                            "`{}` is a primitive op and cannot be redefined",
                            item.name.name
                        ),
                    )
                    .with_label(item.name.span, "redefined here")
                    .with_help("choose another name for this block"),
                );
                continue;
            }
            self.bind(
                &mut names,
                &item.name.name,
                Entry::Block(id),
                item.name.span,
            );
        }
        self.prog.modules.push(ModuleInfo {
            file,
            path: path.to_path_buf(),
            ast: module,
            names,
            blocks,
        });
        self.loading.pop();
        Some(index)
    }

    fn bind(
        &mut self,
        names: &mut IndexMap<String, (Entry, Span)>,
        name: &str,
        e: Entry,
        span: Span,
    ) {
        if let Some((_, first)) = names.get(name) {
            self.prog.diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    format!("`{name}` is defined twice"),
                )
                .with_label(span, "second definition")
                .with_label(*first, "first defined here")
                .with_help("rename one of them (imports can be renamed with `as`)"),
            );
            return;
        }
        names.insert(name.to_string(), (e, span));
    }
}

fn resolve_import(dir: &Path, segs: &[&str]) -> Option<PathBuf> {
    let (base, rest) = match segs {
        ["std", rest @ ..] if !rest.is_empty() => (stdlib_dir(), rest),
        _ => (dir.to_path_buf(), segs),
    };
    let mut p = base;
    for s in &rest[..rest.len().saturating_sub(1)] {
        p.push(s);
    }
    p.push(format!("{}.nasl", rest.last()?));
    p.exists().then_some(p)
}

/// A path as shown to users: relative to the current directory when possible.
pub fn display_path(p: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(r) = p.strip_prefix(&cwd) {
            return r.display().to_string();
        }
    }
    p.display().to_string()
}

/// The candidate closest to `name` by edit distance, if close enough to suggest.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        // one- and two-letter names (dimension symbols) are too short to suggest or be suggested
        let short = name.chars().count() <= 2 || c.chars().count() <= 2;
        if !short && d <= (name.len() / 3).max(1) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
