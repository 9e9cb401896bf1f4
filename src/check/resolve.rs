//! Name resolution, done on the syntax alone so that it also covers code the evaluator never reaches (a
//! branch decided `false`): unknown names and callees, unknown types, malformed parameter types, duplicate
//! parameters, and unused bindings, parameters and imports (warnings; a leading `_` silences them).
//!
//! Resolution records a [`Resolution`]: every name occurrence of every module — each use, and each binding
//! occurrence — with what it refers to, and the local names with where they are visible. The unused-name
//! warnings are read from that table, and the language server answers hover, go-to-definition and the names
//! in scope from it. It is made for any AST the parser recovered, so it also serves broken text.

use super::ops::{self, OpSig};
use super::program::{closest, BlockId, Entry, Program};
use crate::base::{Code, Diagnostic, Span};
use crate::syntax::ast::{BlockDef, Body, ChoiceKind, Expr, ExprKind, Import, TypeExpr};
use std::collections::HashSet;

const TYPES: &[&str] = &["Int", "Float", "Bool", "Str", "Block"];

/// What a local name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    Let,
    /// A parameter of the enclosing block (its index).
    Param(usize),
    /// A dimension name bound by a parameter's tensor type.
    Dim,
    RepeatVar,
    RepeatIndex,
}

/// What a name occurrence refers to.
#[derive(Clone, Debug)]
pub enum Target {
    /// A name bound in the enclosing block: `def` is the binding occurrence.
    Local {
        name: String,
        def: Span,
        kind: LocalKind,
        /// The enclosing block (`None` in an item whose name did not parse).
        block: Option<BlockId>,
    },
    Block(BlockId),
    Module(usize),
    Op(&'static OpSig),
    /// A keyword argument naming a block's parameter.
    BlockParam(BlockId, usize),
    /// A keyword argument naming an op's parameter.
    OpParam(&'static OpSig, usize),
}

/// One name occurrence and what it refers to.
#[derive(Clone, Debug)]
pub struct NameRef {
    /// The name as written.
    pub span: Span,
    pub target: Target,
    /// Whether this occurrence is the definition itself (a `let`'s name, a parameter, a block's name, a
    /// name in an `import`), not a use.
    pub def: bool,
    /// For a use of a name of the module's namespace (a block or an imported name): the span of that
    /// namespace entry (the block's name, the import's local name).
    pub via: Option<Span>,
}

/// A name bound inside a block definition.
#[derive(Clone, Debug)]
pub struct LocalDef {
    pub name: String,
    /// The binding occurrence.
    pub span: Span,
    pub kind: LocalKind,
    /// The body (an index into [`ItemNames::bodies`]) at whose end the name goes out of scope; `None` for
    /// the whole definition (parameters and dimension names).
    pub until: Option<usize>,
    /// Where in that body the name becomes visible (a `let`: the end of its statement).
    pub from: u32,
}

/// A body (`{ … }`) of a block definition.
#[derive(Clone, Debug)]
pub struct BodyScope {
    pub span: Span,
    /// How many of the definition's locals had been bound when the body was entered.
    pub entered_with: usize,
}

/// The names of one block definition (one item of a module, in the order of its AST).
#[derive(Clone, Debug, Default)]
pub struct ItemNames {
    /// The whole definition.
    pub span: Span,
    /// The definition's name (for an item whose name did not parse, what the parser put there).
    pub name: Span,
    /// `None` for an item whose name did not parse (it has no block id, and gives no diagnostics).
    pub block: Option<BlockId>,
    /// Every name occurrence, in the order of resolution.
    pub refs: Vec<NameRef>,
    /// Every local binding, in the order in which they come into scope.
    pub locals: Vec<LocalDef>,
    /// Every body, in the order in which they are entered (so an inner body comes after its outer one).
    pub bodies: Vec<BodyScope>,
}

/// The names of one module.
#[derive(Clone, Debug, Default)]
pub struct ModuleNames {
    /// The names in the module's `import` statements (definitions).
    pub imports: Vec<NameRef>,
    /// One entry per item of the module's AST.
    pub items: Vec<ItemNames>,
}

/// Every name of a program, resolved: one entry per module of [`Program::modules`].
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub modules: Vec<ModuleNames>,
}

/// Whether `off` is in `s` (both ends included: a cursor just after a name is on it).
fn on(s: Span, off: usize) -> bool {
    !s.is_detached() && (s.start as usize) <= off && off <= s.end as usize
}

impl Resolution {
    /// The name occurrence of module `m` at byte offset `off` (a cursor just after a name is on it).
    pub fn at(&self, m: usize, off: usize) -> Option<&NameRef> {
        let names = self.modules.get(m)?;
        names
            .imports
            .iter()
            .chain(names.items.iter().flat_map(|i| &i.refs))
            .find(|r| on(r.span, off))
    }

    /// The locals in scope at byte offset `off` of module `m`, in the order they came into scope, when
    /// `off` is in a body of a block definition (`None` elsewhere, and on the definition's name).
    pub fn scope_at(&self, m: usize, off: usize) -> Option<Vec<&LocalDef>> {
        let item = self
            .modules
            .get(m)?
            .items
            .iter()
            .find(|i| on(i.span, off))?;
        if on(item.name, off) {
            return None;
        }
        let (b, body) = item
            .bodies
            .iter()
            .enumerate()
            .rev()
            .find(|(_, b)| on(b.span, off))?;
        let alive = |l: &LocalDef| {
            l.until
                .is_none_or(|u| item.bodies[u].span.contains(body.span))
        };
        Some(
            item.locals
                .iter()
                .enumerate()
                .filter(|(i, l)| {
                    (*i < body.entered_with && alive(l))
                        || (l.until == Some(b) && l.from as usize <= off)
                })
                .map(|(_, l)| l)
                .collect(),
        )
    }
}

/// What a call's callee names, when that is known from the syntax.
#[derive(Clone, Copy, Debug)]
pub enum Callee {
    Block(BlockId),
    Op(&'static OpSig),
}

/// The callee `qual.name` (or `name`) of a call in module `module`; `local` says whether a bare `name` is
/// a local there (a `Block` parameter or a choice of blocks: not known from the syntax).
pub fn callee(
    prog: &Program,
    module: usize,
    qual: Option<&str>,
    name: &str,
    local: bool,
) -> Option<Callee> {
    match qual {
        Some(m) => match prog.lookup(module, m)? {
            Entry::Module(mi) => match prog.lookup(*mi, name)? {
                Entry::Block(b) => Some(Callee::Block(*b)),
                Entry::Module(_) => None,
            },
            Entry::Block(_) => None,
        },
        None if local => None,
        None => match prog.lookup(module, name) {
            Some(Entry::Block(b)) => Some(Callee::Block(*b)),
            Some(Entry::Module(_)) => None,
            None => ops::signature(name).map(Callee::Op),
        },
    }
}

/// Resolves every name of the program: the table, and the diagnostics.
pub fn resolve(prog: &Program) -> (Resolution, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut table = Resolution::default();
    for (mi, m) in prog.modules.iter().enumerate() {
        let mut names = ModuleNames {
            imports: m
                .ast
                .imports
                .iter()
                .flat_map(|imp| import_refs(prog, mi, imp))
                .collect(),
            items: Vec::new(),
        };
        let mut ids = m.blocks.iter();
        for item in &m.ast.items {
            // an item whose name did not parse has no block id: its names are recorded (the editor
            // still answers on it), its diagnostics are not
            let unnamed = item.name.name == "<error>";
            let block = if unnamed { None } else { ids.next().copied() };
            let broken = block_has_error(item);
            let mut r = Resolver {
                prog,
                module: mi,
                scope: Vec::new(),
                names: ItemNames {
                    span: item.span,
                    name: item.name.span,
                    block,
                    ..ItemNames::default()
                },
                diagnostics: Vec::new(),
            };
            r.block(item);
            let mut diagnostics = r.diagnostics;
            diagnostics.extend(unused_locals(&r.names));
            // after a syntax error, parts of the block are missing: "unused" would be a guess
            if !unnamed {
                out.extend(diagnostics.into_iter().filter(|d| !broken || d.is_error()));
            }
            names.items.push(r.names);
        }
        // unused imports (only reported in the user's own files)
        if prog.roots.contains(&mi) {
            out.extend(unused_imports(prog, mi, &names));
        }
        table.modules.push(names);
    }
    (table, out)
}

/// The names of an `import` statement: the imported names (and their aliases) as what they bind, the
/// path's segments as the module loaded.
fn import_refs(prog: &Program, m: usize, imp: &Import) -> Vec<NameRef> {
    let def = |span: Span, target: Target| NameRef {
        span,
        target,
        def: true,
        via: None,
    };
    let mut out = Vec::new();
    for n in imp.names.iter().flatten() {
        let local = n.local();
        let target = match prog.lookup(m, &local.name) {
            Some(Entry::Block(b)) => Target::Block(*b),
            Some(Entry::Module(mi)) => Target::Module(*mi),
            None => continue,
        };
        out.push(def(n.name.span, target.clone()));
        if let Some(alias) = &n.alias {
            out.push(def(alias.span, target));
        }
    }
    let module =
        match &imp.names {
            None => imp.alias.as_ref().or(imp.path.last()).and_then(|l| {
                match prog.lookup(m, &l.name)? {
                    Entry::Module(mi) => Some(*mi),
                    Entry::Block(_) => None,
                }
            }),
            Some(names) => names
                .iter()
                .find_map(|n| match prog.lookup(m, &n.local().name)? {
                    Entry::Block(b) => Some(prog.block_module(*b)),
                    Entry::Module(_) => None,
                }),
        };
    if let Some(mi) = module {
        for seg in imp.path.iter().chain(imp.alias.iter()) {
            out.push(def(seg.span, Target::Module(mi)));
        }
    }
    out
}

/// The `let`s and parameters of a block that no occurrence refers to.
fn unused_locals(item: &ItemNames) -> Vec<Diagnostic> {
    let key = |s: &Span| (s.start, s.end);
    let used: HashSet<(u32, u32)> = item
        .refs
        .iter()
        .filter(|r| !r.def)
        .filter_map(|r| match &r.target {
            Target::Local { def, .. } => Some(key(def)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for l in &item.locals {
        if l.name.starts_with('_') || used.contains(&key(&l.span)) {
            continue;
        }
        let name = &l.name;
        match l.kind {
            LocalKind::Param(_) => out.push(
                Diagnostic::error(
                    Code::UnusedParameter,
                    format!("parameter `{name}` is never used"),
                )
                .with_label(l.span, "unused parameter")
                .with_help(format!(
                    "remove it, or name it `_{name}` if the signature must keep it"
                )),
            ),
            LocalKind::Let => out.push(
                Diagnostic::error(
                    Code::UnusedBinding,
                    format!("`{name}` is bound but never used"),
                )
                .with_label(l.span, "unused binding")
                .with_help(format!("remove the `let`, or name it `_{name}`")),
            ),
            LocalKind::Dim | LocalKind::RepeatVar | LocalKind::RepeatIndex => {}
        }
    }
    out
}

/// The imported names of module `m` that no use in its (named) blocks goes through.
fn unused_imports(prog: &Program, m: usize, names: &ModuleNames) -> Vec<Diagnostic> {
    let key = |s: &Span| (s.start, s.end);
    let used: HashSet<(u32, u32)> = names
        .items
        .iter()
        .filter(|i| i.block.is_some())
        .flat_map(|i| &i.refs)
        .filter_map(|r| r.via.as_ref().map(key))
        .collect();
    let module = &prog.modules[m];
    let mut out = Vec::new();
    for imp in &module.ast.imports {
        let locals: Vec<(&str, Span)> = match &imp.names {
            None => {
                let l = imp.alias.as_ref().or(imp.path.last());
                l.map(|l| vec![(l.name.as_str(), l.span)])
                    .unwrap_or_default()
            }
            Some(ns) => ns
                .iter()
                .map(|n| (n.local().name.as_str(), n.local().span))
                .collect(),
        };
        for (name, span) in locals {
            let bound = module
                .names
                .get(name)
                .is_some_and(|(_, s)| s.same_place(&span));
            if bound && !used.contains(&key(&span)) && !name.starts_with('_') {
                out.push(
                    Diagnostic::error(
                        Code::UnusedImport,
                        format!("`{name}` is imported but never used"),
                    )
                    .with_label(span, "unused import")
                    .with_help("remove the import"),
                );
            }
        }
    }
    out
}

/// Whether a block contains a placeholder left by a syntax error.
fn block_has_error(b: &BlockDef) -> bool {
    let mut stack: Vec<&Expr> = b.body.exprs().collect();
    stack.extend(b.params.iter().filter_map(|p| p.default.as_ref()));
    while let Some(e) = stack.pop() {
        if matches!(e.kind, ExprKind::Error) {
            return true;
        }
        stack.extend(e.children());
    }
    false
}

/// Resolves one block definition.
struct Resolver<'p> {
    prog: &'p Program,
    module: usize,
    /// The locals in scope (indices into `names.locals`), innermost last.
    scope: Vec<usize>,
    names: ItemNames,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    /// The innermost local named `name` in scope.
    fn local(&self, name: &str) -> Option<&LocalDef> {
        self.scope
            .iter()
            .rev()
            .map(|&i| &self.names.locals[i])
            .find(|l| l.name == name)
    }

    fn local_target(&self, l: &LocalDef) -> Target {
        Target::Local {
            name: l.name.clone(),
            def: l.span,
            kind: l.kind,
            block: self.names.block,
        }
    }

    fn record(&mut self, span: Span, target: Target, def: bool, via: Option<Span>) {
        self.names.refs.push(NameRef {
            span,
            target,
            def,
            via,
        });
    }

    /// Brings a local into scope, visible until the end of body `until` (the whole block if `None`) from
    /// offset `from`, and records its binding occurrence.
    fn bind(&mut self, name: &str, span: Span, kind: LocalKind, until: Option<usize>, from: u32) {
        let l = LocalDef {
            name: name.to_string(),
            span,
            kind,
            until,
            from,
        };
        let target = self.local_target(&l);
        self.record(span, target, true, None);
        self.scope.push(self.names.locals.len());
        self.names.locals.push(l);
    }

    fn block(&mut self, b: &BlockDef) {
        if let Some(id) = self.names.block {
            self.record(b.name.span, Target::Block(id), true, None);
        }
        let mut seen: Vec<(String, Span)> = Vec::new();
        for (i, p) in b.params.iter().enumerate() {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == p.name.name) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        format!("parameter `{}` is declared twice", p.name.name),
                    )
                    .with_label(p.name.span, "second declaration")
                    .with_label(*first, "first declared here"),
                );
            }
            seen.push((p.name.name.clone(), p.name.span));
            if let Some(d) = &p.default {
                self.expr(d);
            }
            match &p.ty {
                TypeExpr::Named(t) => self.type_name(t.name.as_str(), t.span),
                TypeExpr::Tensor(dims, _) => {
                    for d in dims {
                        match &d.kind {
                            ExprKind::Wildcard | ExprKind::Int(_) => {}
                            ExprKind::Name(n) => match self.local(&n.name) {
                                // a repeated dimension name is a use
                                Some(l) => {
                                    let target = self.local_target(l);
                                    self.record(n.span, target, false, None);
                                }
                                None => self.bind(&n.name, n.span, LocalKind::Dim, None, 0),
                            },
                            _ => self.diagnostics.push(
                                Diagnostic::error(
                                    Code::InvalidParamShape,
                                    "a parameter's tensor type takes names, integers or `_` as dimensions",
                                )
                                .with_label(d.span, "an expression")
                                .with_help("bind a name here (e.g. `H`) and compute with it in the body or the return type"),
                            ),
                        }
                    }
                }
            }
            self.bind(&p.name.name, p.name.span, LocalKind::Param(i), None, 0);
        }
        self.body(&b.body);
        if let Some(ret) = &b.ret {
            match ret {
                TypeExpr::Named(t) => self.type_name(t.name.as_str(), t.span),
                TypeExpr::Tensor(dims, _) => {
                    for d in dims {
                        self.expr(d);
                    }
                }
            }
        }
    }

    fn type_name(&mut self, name: &str, span: Span) {
        if !TYPES.contains(&name) {
            let mut d = Diagnostic::error(Code::UnknownType, format!("there is no type `{name}`"))
                .with_label(span, "unknown type");
            d = match closest(name, TYPES.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(
                    "types are Int, Float, Bool, Str, Block, or a tensor shape like [B, C, H, W]",
                ),
            };
            self.diagnostics.push(d);
        }
    }

    /// A body, its `let`s in scope from the end of their statement to the end of the body.
    fn body(&mut self, b: &Body) {
        let mark = self.scope.len();
        let index = self.names.bodies.len();
        self.names.bodies.push(BodyScope {
            span: b.span,
            entered_with: self.names.locals.len(),
        });
        for s in &b.stmts {
            self.expr(&s.value);
            self.bind(
                &s.name.name,
                s.name.span,
                LocalKind::Let,
                Some(index),
                s.span.end,
            );
        }
        self.expr(&b.result);
        self.scope.truncate(mark);
    }

    fn use_name(&mut self, name: &str, span: Span, as_callee: bool) {
        if let Some(l) = self.local(name) {
            let target = self.local_target(l);
            self.record(span, target, false, None);
            return;
        }
        if let Some((e, entry)) = self.prog.modules[self.module].names.get(name) {
            let target = match e {
                Entry::Block(b) => Target::Block(*b),
                Entry::Module(m) => Target::Module(*m),
            };
            self.record(span, target, false, Some(*entry));
            if matches!(e, Entry::Module(_)) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("`{name}` is a module, not a value"),
                    )
                    .with_label(span, "module")
                    .with_help(format!("name one of its blocks: `{name}.block_name`")),
                );
            }
            return;
        }
        if let Some(op) = ops::signature(name) {
            self.record(span, Target::Op(op), false, None);
            return;
        }
        let mut candidates: Vec<&str> = self
            .scope
            .iter()
            .map(|&i| self.names.locals[i].name.as_str())
            .collect();
        candidates.extend(
            self.prog.modules[self.module]
                .names
                .keys()
                .map(String::as_str),
        );
        if as_callee {
            candidates.extend(ops::OPS.iter().map(|o| o.name));
        }
        let (code, msg) = if as_callee {
            (
                Code::UnknownCallee,
                format!("there is no op or block `{name}`"),
            )
        } else {
            (Code::UnknownName, format!("`{name}` is not bound here"))
        };
        let mut d = Diagnostic::error(code, msg).with_label(span, "not found");
        d = match closest(name, candidates.into_iter()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if as_callee => d.with_help(
                "ops are listed in docs/language.md; blocks from other files need an `import`",
            ),
            None => d,
        };
        self.diagnostics.push(d);
    }

    /// `m.n`: a block of an imported module.
    fn path(&mut self, m: &crate::syntax::ast::Ident, n: &crate::syntax::ast::Ident) {
        let Some((Entry::Module(mi), entry)) = self.prog.modules[self.module].names.get(&m.name)
        else {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::UnknownName,
                    format!("`{}` is not an imported module", m.name),
                )
                .with_label(m.span, "not a module")
                .with_help(format!(
                    "add `import std.{};` (or the module's path) at the top of the file",
                    m.name
                )),
            );
            return;
        };
        let mi = *mi;
        self.record(m.span, Target::Module(mi), false, Some(*entry));
        if let Some(Entry::Block(b)) = self.prog.lookup(mi, &n.name) {
            self.record(n.span, Target::Block(*b), false, None);
        }
        let ok = matches!(self.prog.modules[mi].names.get(&n.name), Some((Entry::Block(b), _)) if self.prog.block_module(*b) == mi);
        if !ok {
            let avail = self.prog.block_names(mi);
            let mut d = Diagnostic::error(
                Code::UnknownName,
                format!("module `{}` has no block `{}`", m.name, n.name),
            )
            .with_label(n.span, "not defined there");
            if let Some(s) = closest(&n.name, avail.iter().copied()) {
                d = d.with_help(format!("did you mean `{}.{s}`?", m.name));
            }
            self.diagnostics.push(d);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => self.use_name(&n.name, n.span, false),
            ExprKind::Path(m, n) => self.path(m, n),
            ExprKind::Call(f, args) => {
                match &f.kind {
                    ExprKind::Name(n) => self.use_name(&n.name, n.span, true),
                    _ => self.expr(f),
                }
                let callee = match &f.kind {
                    ExprKind::Name(n) => Some((None, n)),
                    ExprKind::Path(m, n) => Some((Some(m.name.as_str()), n)),
                    _ => None,
                }
                .and_then(|(qual, n)| {
                    let local = qual.is_none() && self.local(&n.name).is_some();
                    callee(self.prog, self.module, qual, &n.name, local)
                });
                for a in args {
                    if let (Some(k), Some(c)) = (&a.name, callee) {
                        let target = match c {
                            Callee::Block(b) => self
                                .prog
                                .block(b)
                                .params
                                .iter()
                                .position(|p| p.name.name == k.name)
                                .map(|i| Target::BlockParam(b, i)),
                            Callee::Op(op) => op
                                .params
                                .iter()
                                .position(|p| p.name == k.name)
                                .map(|i| Target::OpParam(op, i)),
                        };
                        if let Some(t) = target {
                            self.record(k.span, t, false, None);
                        }
                    }
                    self.expr(&a.value);
                }
            }
            ExprKind::If(c, t, f) => {
                self.expr(c);
                self.body(t);
                self.body(f);
            }
            ExprKind::Repeat {
                count,
                var,
                init,
                index,
                body,
            } => {
                self.expr(count);
                self.expr(init);
                let mark = self.scope.len();
                // visible in the body, which is the next one entered
                let until = Some(self.names.bodies.len());
                self.bind(&var.name, var.span, LocalKind::RepeatVar, until, 0);
                if let Some(i) = index {
                    self.bind(&i.name, i.span, LocalKind::RepeatIndex, until, 0);
                }
                self.body(body);
                self.scope.truncate(mark);
            }
            ExprKind::Unary(_, a) => self.expr(a),
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::List(items) | ExprKind::Choice(ChoiceKind::Options(items)) => {
                for i in items {
                    self.expr(i);
                }
            }
            ExprKind::Choice(ChoiceKind::Range { lo, hi, step, .. }) => {
                self.expr(lo);
                self.expr(hi);
                if let Some(s) = step {
                    self.expr(s);
                }
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Wildcard
            | ExprKind::Error => {}
        }
    }
}
