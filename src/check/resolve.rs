//! Name resolution, done on the syntax alone so that it also covers code the evaluator never reaches (a
//! branch decided `false`): unknown names and callees, unknown types, malformed parameter types, duplicate
//! parameters, and unused bindings, parameters and imports (warnings; a leading `_` silences them).

use super::ops;
use super::program::{closest, Entry, Program};
use crate::base::{Code, Diagnostic, Span};
use crate::syntax::ast::{BlockDef, Body, ChoiceKind, Expr, ExprKind, TypeExpr};
use std::collections::HashSet;

const TYPES: &[&str] = &["Int", "Float", "Bool", "Str", "Block"];

struct Scope {
    /// (name, definition span, used, kind: "binding" | "parameter" | "dim")
    vars: Vec<(String, Span, bool, &'static str)>,
}

struct Resolver<'p> {
    prog: &'p Program,
    module: usize,
    scope: Scope,
    used_names: HashSet<String>,
    diagnostics: Vec<Diagnostic>,
}

pub fn resolve(prog: &Program) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (mi, m) in prog.modules.iter().enumerate() {
        let mut used_names = HashSet::new();
        for item in &m.ast.items {
            if item.name.name == "<error>" {
                continue;
            }
            let broken = block_has_error(item);
            let mut r = Resolver {
                prog,
                module: mi,
                scope: Scope { vars: Vec::new() },
                used_names: HashSet::new(),
                diagnostics: Vec::new(),
            };
            r.block(item);
            used_names.extend(r.used_names);
            // after a syntax error, parts of the block are missing: "unused" would be a guess
            out.extend(
                r.diagnostics
                    .into_iter()
                    .filter(|d| !broken || d.is_error()),
            );
        }
        // unused imports (only reported in the user's own files)
        if prog.roots.contains(&mi) {
            for imp in &m.ast.imports {
                let locals: Vec<(String, Span)> = match &imp.names {
                    None => {
                        let l = imp.alias.as_ref().or(imp.path.last());
                        l.map(|l| vec![(l.name.clone(), l.span)])
                            .unwrap_or_default()
                    }
                    Some(ns) => ns
                        .iter()
                        .map(|n| (n.local().name.clone(), n.local().span))
                        .collect(),
                };
                for (name, span) in locals {
                    let bound = m.names.get(&name).is_some_and(|(_, s)| s.same_place(&span));
                    if bound && !used_names.contains(&name) && !name.starts_with('_') {
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

impl Resolver<'_> {
    fn block(&mut self, b: &BlockDef) {
        let mut seen: Vec<(String, Span)> = Vec::new();
        for p in &b.params {
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
                            ExprKind::Name(n) => {
                                if let Some(v) = self.scope.vars.iter_mut().rev().find(|v| v.0 == n.name) {
                                    v.2 = true; // a repeated dimension name is a use
                                } else {
                                    self.scope.vars.push((n.name.clone(), n.span, true, "dim"));
                                }
                            }
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
            let name_used = p.name.name.starts_with('_');
            self.scope
                .vars
                .push((p.name.name.clone(), p.name.span, name_used, "parameter"));
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
        let vars = std::mem::take(&mut self.scope.vars);
        for (name, span, used, kind) in vars {
            if !used && kind == "parameter" {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnusedParameter,
                        format!("parameter `{name}` is never used"),
                    )
                    .with_label(span, "unused parameter")
                    .with_help(format!(
                        "remove it, or name it `_{name}` if the signature must keep it"
                    )),
                );
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

    fn body(&mut self, b: &Body) {
        let mark = self.scope.vars.len();
        for s in &b.stmts {
            self.expr(&s.value);
            let used = s.name.name.starts_with('_');
            self.scope
                .vars
                .push((s.name.name.clone(), s.name.span, used, "binding"));
        }
        self.expr(&b.result);
        self.pop_to(mark);
    }

    fn pop_to(&mut self, mark: usize) {
        for (name, span, used, kind) in self.scope.vars.drain(mark..) {
            if !used && kind == "binding" {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnusedBinding,
                        format!("`{name}` is bound but never used"),
                    )
                    .with_label(span, "unused binding")
                    .with_help(format!("remove the `let`, or name it `_{name}`")),
                );
            }
        }
    }

    fn use_name(&mut self, name: &str, span: Span, as_callee: bool) {
        if let Some(v) = self.scope.vars.iter_mut().rev().find(|v| v.0 == name) {
            v.2 = true;
            return;
        }
        if let Some(e) = self.prog.lookup(self.module, name) {
            self.used_names.insert(name.to_string());
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
        if ops::is_builtin(name) {
            return;
        }
        let mut candidates: Vec<&str> = self.scope.vars.iter().map(|v| v.0.as_str()).collect();
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

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => self.use_name(&n.name, n.span, false),
            ExprKind::Path(m, n) => match self.prog.lookup(self.module, &m.name) {
                Some(Entry::Module(mi)) => {
                    self.used_names.insert(m.name.clone());
                    let mi = *mi;
                    let ok = matches!(self.prog.modules[mi].names.get(&n.name), Some((Entry::Block(b), _)) if self.prog.block_module(*b) == mi);
                    if !ok {
                        let avail: Vec<&str> = self.prog.modules[mi]
                            .blocks
                            .iter()
                            .map(|b| self.prog.block(*b).name.name.as_str())
                            .collect();
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
                _ => self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownName,
                        format!("`{}` is not an imported module", m.name),
                    )
                    .with_label(m.span, "not a module")
                    .with_help(format!(
                        "add `import std.{};` (or the module's path) at the top of the file",
                        m.name
                    )),
                ),
            },
            ExprKind::Call(f, args) => {
                match &f.kind {
                    ExprKind::Name(n) => self.use_name(&n.name, n.span, true),
                    _ => self.expr(f),
                }
                for a in args {
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
                let mark = self.scope.vars.len();
                self.scope
                    .vars
                    .push((var.name.clone(), var.span, true, "repeat"));
                if let Some(i) = index {
                    self.scope
                        .vars
                        .push((i.name.clone(), i.span, true, "repeat"));
                }
                self.body(body);
                self.scope.vars.truncate(mark);
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
