//! Editor queries answered in the compiler's own terms: byte offsets in, spans and plain strings out.
//! Nothing here knows the protocol; `convert` turns these answers into LSP values.
//!
//! Every query works on an [`Analysis`] — one document's text and the result of checking it (the document
//! is the program's root module) — and tolerates broken text: names come from the checker's name
//! resolution (`check::resolve`), which runs on whatever AST the parser recovered, and completion contexts
//! are read from the tokens before the cursor.

use crate::base::{FileId, Span};
use crate::check::ops::{self, Default as OpDefault, Kind, OpSig};
use crate::check::program::{stdlib_dir, BlockId, Entry, Program};
use crate::check::resolve::{self, Callee, LocalKind, NameRef, Target};
use crate::check::{CheckResult, ShapeDisplay, Value};
use crate::syntax::ast::{BlockKind, Body, Expr, ExprKind};
use crate::syntax::lexer::{lex, Tok};
use std::path::{Path, PathBuf};

/// One document, checked.
pub struct Analysis {
    /// The text that was checked.
    pub text: String,
    pub result: CheckResult,
    /// Whether the program was evaluated (else its names were only resolved: no inferred values).
    pub evaluated: bool,
}

impl Analysis {
    pub fn program(&self) -> &Program {
        &self.result.program
    }

    /// The document's module (the program's root).
    pub fn root(&self) -> Option<usize> {
        self.result.program.roots.first().copied()
    }

    /// The document's file in the program's source map.
    pub fn file(&self) -> Option<FileId> {
        self.root().map(|m| self.result.program.modules[m].file)
    }
}

// ----- the name under the cursor ----------------------------------------------------------------------

/// The name at `off` in the document, and what it refers to (from the checker's name resolution).
pub fn hit_at(an: &Analysis, off: usize) -> Option<&NameRef> {
    an.result.names.at(an.root()?, off)
}

/// The locals in scope at `off`, in the order they came into scope.
type Scope = Vec<(String, LocalKind)>;

// ----- hover -----------------------------------------------------------------------------------------

/// Markdown for the name at `off`, and the name's span.
pub fn hover(an: &Analysis, off: usize) -> Option<(Span, String)> {
    let hit = hit_at(an, off)?;
    let prog = an.program();
    let text = match &hit.target {
        Target::Local {
            name,
            def,
            kind,
            block,
        } => {
            let param = |i: usize| block.map(|b| &prog.block(b).params[i]);
            match kind {
                LocalKind::Let => match binding_value(an, *def) {
                    Some(v) => code(&format!("let {name}: {}", value_text(prog, v))),
                    None if !an.evaluated => {
                        format!("{}\n\n(the shapes of this text are still being inferred)", code(&format!("let {name}")))
                    }
                    None => format!(
                        "{}\n\n(no inferred value: the checker records the `let`s of a block's own body, \
                         not those of an `if` or `repeat` body)",
                        code(&format!("let {name}"))
                    ),
                },
                LocalKind::Param(i) => {
                    let p = param(*i)?;
                    let mut s = format!("{}: {}", p.name.name, crate::syntax::print_type(&p.ty));
                    if let Some(d) = &p.default {
                        s.push_str(&format!(" = {}", crate::syntax::print_expr(d)));
                    }
                    let owner = block
                        .map(|b| prog.block(b).name.name.clone())
                        .unwrap_or_default();
                    format!("{}\n\nparameter of `{owner}`", code(&s))
                }
                LocalKind::Dim => format!(
                    "{}\n\na dimension, bound by a parameter's tensor type",
                    code(name)
                ),
                LocalKind::RepeatVar => {
                    format!(
                        "{}\n\nthe value carried from one `repeat` iteration to the next",
                        code(name)
                    )
                }
                LocalKind::RepeatIndex => format!(
                    "{}\n\nthe `repeat` iteration index (from 0)",
                    code(&format!("{name}: Int"))
                ),
            }
        }
        Target::Block(b) => block_hover(prog, *b),
        Target::Module(m) => {
            let path = crate::check::program::display_path(&prog.modules[*m].path);
            format!(
                "module `{path}`\n\nblocks: {}",
                prog.block_names(*m).join(", ")
            )
        }
        Target::Op(op) => format!("{}\n\nprimitive op: {}", code(&op_signature(op)), op.doc),
        Target::BlockParam(b, i) => {
            let def = prog.block(*b);
            let p = &def.params[*i];
            let mut s = format!("{}: {}", p.name.name, crate::syntax::print_type(&p.ty));
            if let Some(d) = &p.default {
                s.push_str(&format!(" = {}", crate::syntax::print_expr(d)));
            }
            format!("{}\n\nparameter of `{}`", code(&s), def.name.name)
        }
        Target::OpParam(op, i) => format!(
            "{}\n\nparameter of the op `{}`",
            code(&op_param(&op.params[*i])),
            op.name
        ),
    };
    Some((hit.span, text))
}

fn code(s: &str) -> String {
    format!("```nasl\n{s}\n```")
}

fn block_hover(prog: &Program, b: BlockId) -> String {
    let def = prog.block(b);
    let kw = match def.kind {
        BlockKind::Block => "block",
        BlockKind::Network => "network",
    };
    let mut s = code(&format!("{kw} {}", crate::check::signature(def)));
    let doc = def.doc();
    if !doc.is_empty() {
        s.push_str("\n\n");
        s.push_str(&doc.join("\n"));
    }
    let m = prog.block_module(b);
    if !prog.roots.contains(&m) {
        s.push_str(&format!(
            "\n\ndefined in `{}`",
            crate::check::program::display_path(&prog.modules[m].path)
        ));
    }
    s
}

/// The inferred value of the `let` bound at `def`.
fn binding_value(an: &Analysis, def: Span) -> Option<&Value> {
    an.result
        .blocks
        .iter()
        .flat_map(|b| &b.bindings)
        .find(|x| x.span.same_place(&def))
        .map(|x| &x.value)
}

/// A binding's value for people: `[B, 64, H, W]`, `Int = 3`, `Block = conv3x3`, …
fn value_text(prog: &Program, v: &Value) -> String {
    match v {
        Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
        Value::Int(s) => format!("Int = {s}"),
        Value::Float(Some(x)) => format!("Float = {x:?}"),
        Value::Float(None) => "Float".into(),
        Value::Bool(b) => match b.known {
            Some(k) => format!("Bool = {k}"),
            None => "Bool".into(),
        },
        Value::Str(Some(s)) => format!("Str = {s:?}"),
        Value::Str(None) => "Str".into(),
        Value::List(l) => format!("[Int] = {}", ShapeDisplay(l)),
        Value::Block(b) => format!("Block = {}", b.display(prog)),
        Value::Poison => "<error>".into(),
    }
}

fn kind_type(k: Kind) -> &'static str {
    match k {
        Kind::Tensor => "Tensor",
        Kind::Int => "Int",
        Kind::Float => "Float",
        Kind::Bool => "Bool",
        Kind::Str => "Str",
        Kind::List => "[Int]",
        Kind::Tensors => "Tensor…",
    }
}

fn op_param(p: &ops::OpParam) -> String {
    let mut s = format!("{}: {}", p.name, kind_type(p.kind));
    match p.default {
        Some(OpDefault::Int(v)) => s.push_str(&format!(" = {v}")),
        Some(OpDefault::Float(v)) => s.push_str(&format!(" = {v:?}")),
        Some(OpDefault::Bool(v)) => s.push_str(&format!(" = {v}")),
        Some(OpDefault::Param(n)) => s.push_str(&format!(" = {n}")),
        None => {}
    }
    s
}

/// An op's signature as NASL-like text: `conv(x: Tensor, out: Int, kernel: Int = 1, …)`.
pub fn op_signature(op: &OpSig) -> String {
    format!(
        "{}({})",
        op.name,
        op.params
            .iter()
            .map(op_param)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

// ----- go to definition ------------------------------------------------------------------------------

/// Where the name at `off` is defined: a span in some file of the program (a module's start for a module).
pub fn definition(an: &Analysis, off: usize) -> Option<Span> {
    let prog = an.program();
    match hit_at(an, off)?.target {
        Target::Local { def, .. } => Some(def),
        Target::Block(b) => Some(prog.block(b).name.span),
        Target::Module(m) => Some(Span::new(prog.modules[m].file, 0, 0)),
        Target::BlockParam(b, i) => Some(prog.block(b).params[i].name.span),
        Target::Op(_) | Target::OpParam(..) => None,
    }
}

// ----- document symbols ------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Block,
    Network,
    Let,
}

/// A block or network with its `let`s, or a `let`.
#[derive(Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub detail: Option<String>,
    /// The whole definition.
    pub span: Span,
    /// The name.
    pub name_span: Span,
    pub children: Vec<Symbol>,
}

/// The blocks and networks of the document, each with its `let`s (nested bodies' too, in source order).
pub fn symbols(an: &Analysis) -> Vec<Symbol> {
    let Some(m) = an.root() else {
        return Vec::new();
    };
    let prog = an.program();
    let mut out = Vec::new();
    for def in &prog.modules[m].ast.items {
        if def.name.name == "<error>" {
            continue;
        }
        let mut children = Vec::new();
        let_symbols(an, &def.body, &mut children);
        out.push(Symbol {
            name: def.name.name.clone(),
            kind: if def.kind == BlockKind::Network {
                SymbolKind::Network
            } else {
                SymbolKind::Block
            },
            detail: Some(crate::check::signature(def)),
            span: def.span,
            name_span: def.name.span,
            children,
        });
    }
    out
}

fn let_symbols(an: &Analysis, body: &Body, out: &mut Vec<Symbol>) {
    let prog = an.program();
    for s in &body.stmts {
        out.push(Symbol {
            name: s.name.name.clone(),
            kind: SymbolKind::Let,
            detail: binding_value(an, s.name.span).map(|v| value_text(prog, v)),
            span: s.span,
            name_span: s.name.span,
            children: Vec::new(),
        });
        nested_lets(an, &s.value, out);
    }
    nested_lets(an, &body.result, out);
}

fn nested_lets(an: &Analysis, e: &Expr, out: &mut Vec<Symbol>) {
    match &e.kind {
        ExprKind::If(c, t, f) => {
            nested_lets(an, c, out);
            let_symbols(an, t, out);
            let_symbols(an, f, out);
        }
        ExprKind::Repeat {
            count, init, body, ..
        } => {
            nested_lets(an, count, out);
            nested_lets(an, init, out);
            let_symbols(an, body, out);
        }
        _ => {
            for c in e.children() {
                nested_lets(an, c, out);
            }
        }
    }
}

// ----- completion ------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Block,
    Network,
    Module,
    Op,
    Local,
    Keyword,
    /// A keyword argument of the call around the cursor (`kernel: `).
    Argument,
}

#[derive(Clone, Debug)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// Text to insert when it differs from the label.
    pub insert: Option<String>,
}

const KEYWORDS: &[&str] = &[
    "let", "if", "else", "repeat", "with", "choice", "step", "true", "false",
];

/// Completions at byte offset `off` of `text` (the document's latest text; `an` may be of an older one).
pub fn completions(an: &Analysis, text: &str, off: usize) -> Vec<Completion> {
    let mut off = off.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(off, |(i, _)| i);
    let lexed = lex(FileId::DETACHED, &text[..word_start]);
    // in a comment or a string: nothing to complete
    if let Some(c) = lexed.comments.last() {
        if c.span.end as usize >= word_start
            && !text[c.span.start as usize..word_start].contains('\n')
        {
            return Vec::new();
        }
    }
    if lexed
        .errors
        .iter()
        .any(|d| d.code == crate::base::Code::UnterminatedString)
    {
        return Vec::new();
    }
    let toks: Vec<&Tok> = lexed.tokens.iter().map(|(_, t, _)| t).collect();
    let prog = an.program();
    let Some(root) = an.root() else {
        return Vec::new();
    };

    // in an unfinished `import` statement
    if let Some(i) = toks.iter().rposition(|t| **t == Tok::Import) {
        let rest = &toks[i + 1..];
        if !rest.iter().any(|t| {
            matches!(
                t,
                Tok::Semi | Tok::Block | Tok::Network | Tok::Let | Tok::RBrace
            )
        }) {
            return import_completions(prog, root, rest);
        }
    }
    // `module.` : the module's blocks
    if let [.., Tok::Ident(m), Tok::Dot] = toks.as_slice() {
        return match prog.lookup(root, m) {
            Some(Entry::Module(mi)) => prog.modules[*mi]
                .blocks
                .iter()
                .map(|b| block_completion(prog, *b))
                .collect(),
            _ => Vec::new(),
        };
    }

    let mut out = Vec::new();
    // inside a call's parentheses: its keyword arguments
    // the names in scope: from the AST when the text around the cursor parsed, else from the tokens
    let scope: Scope = match an.result.names.scope_at(root, off) {
        Some(ls) => ls.into_iter().map(|l| (l.name.clone(), l.kind)).collect(),
        None => token_scope(&toks),
    };
    if let Some(call) = enclosing_call(&toks) {
        let local = scope.iter().any(|v| v.0 == call.name);
        if let Some(c) = resolve::callee(prog, root, call.qual, call.name, local) {
            let params: Vec<(String, String, bool)> = match c {
                Callee::Block(b) => prog
                    .block(b)
                    .params
                    .iter()
                    .map(|p| {
                        let mut d = crate::syntax::print_type(&p.ty);
                        if let Some(v) = &p.default {
                            d.push_str(&format!(" = {}", crate::syntax::print_expr(v)));
                        }
                        (p.name.name.clone(), d, true)
                    })
                    .collect(),
                Callee::Op(op) => op
                    .params
                    .iter()
                    .map(|p| {
                        (
                            p.name.to_string(),
                            op_param(p)[p.name.len() + 2..].to_string(),
                            p.kind != Kind::Tensors,
                        )
                    })
                    .collect(),
            };
            if call.at_arg_start {
                for (i, (name, detail, named)) in params.into_iter().enumerate() {
                    if !named || i < call.positional || call.keywords.contains(&name.as_str()) {
                        continue;
                    }
                    out.push(Completion {
                        label: format!("{name}:"),
                        kind: CompletionKind::Argument,
                        detail: Some(detail),
                        doc: None,
                        insert: Some(format!("{name}: ")),
                    });
                }
            }
        }
    }
    // names in scope
    let mut seen = std::collections::HashSet::new();
    for (name, kind) in scope.iter().rev() {
        if seen.insert(name.clone()) {
            let detail = match kind {
                LocalKind::Let => Some("let".to_string()),
                LocalKind::Param(_) => Some("parameter".to_string()),
                LocalKind::Dim => Some("dimension".to_string()),
                LocalKind::RepeatVar | LocalKind::RepeatIndex => Some("repeat".to_string()),
            };
            out.push(Completion {
                label: name.clone(),
                kind: CompletionKind::Local,
                detail,
                doc: None,
                insert: None,
            });
        }
    }
    for (name, (entry, _)) in &prog.modules[root].names {
        if !seen.insert(name.clone()) {
            continue;
        }
        match entry {
            Entry::Block(b) => {
                let mut c = block_completion(prog, *b);
                c.label = name.clone();
                out.push(c);
            }
            Entry::Module(mi) => out.push(Completion {
                label: name.clone(),
                kind: CompletionKind::Module,
                detail: Some(crate::check::program::display_path(&prog.modules[*mi].path)),
                doc: None,
                insert: None,
            }),
        }
    }
    for op in ops::OPS {
        if seen.insert(op.name.to_string()) {
            out.push(Completion {
                label: op.name.to_string(),
                kind: CompletionKind::Op,
                detail: Some(op_signature(op)),
                doc: Some(op.doc.to_string()),
                insert: None,
            });
        }
    }
    for k in KEYWORDS {
        out.push(Completion {
            label: k.to_string(),
            kind: CompletionKind::Keyword,
            detail: None,
            doc: None,
            insert: None,
        });
    }
    out
}

fn block_completion(prog: &Program, b: BlockId) -> Completion {
    let def = prog.block(b);
    let doc = def.doc();
    Completion {
        label: def.name.name.clone(),
        kind: if def.kind == BlockKind::Network {
            CompletionKind::Network
        } else {
            CompletionKind::Block
        },
        detail: Some(crate::check::signature(def)),
        doc: (!doc.is_empty()).then(|| doc.join("\n")),
        insert: None,
    }
}

/// The names in scope at the end of `toks`, read from the tokens alone (for text that does not parse): the
/// parameters and dimension names of the last `block`/`network` header, then the `let`s and `repeat`
/// variables of the bodies still open.
fn token_scope(toks: &[&Tok]) -> Scope {
    let Some(start) = toks
        .iter()
        .rposition(|t| matches!(t, Tok::Block | Tok::Network))
    else {
        return Vec::new();
    };
    let mut scope: Scope = Vec::new();
    let mut i = start + 2;
    // the header: `name(` params `)`
    let (mut parens, mut brackets) = (0usize, 0usize);
    while i < toks.len() {
        match toks[i] {
            Tok::LParen => parens += 1,
            Tok::RParen => {
                parens = parens.saturating_sub(1);
                if parens == 0 {
                    break;
                }
            }
            Tok::LBracket => brackets += 1,
            Tok::RBracket => brackets = brackets.saturating_sub(1),
            Tok::Ident(n)
                if parens == 1 && brackets == 0 && toks.get(i + 1) == Some(&&Tok::Colon) =>
            {
                scope.push((n.clone(), LocalKind::Param(scope.len())));
            }
            Tok::Ident(n) if parens == 1 && brackets == 1 && !scope.iter().any(|v| v.0 == *n) => {
                scope.push((n.clone(), LocalKind::Dim));
            }
            _ => {}
        }
        i += 1;
    }
    // the bodies: a scope mark per open brace
    let mut marks = Vec::new();
    let mut pending: Vec<(String, LocalKind)> = Vec::new();
    // `let`s whose statement has not ended yet (not in scope in their own value), with their brace depth
    let mut open_lets: Vec<(String, usize)> = Vec::new();
    for (j, t) in toks.iter().enumerate().skip(i) {
        match t {
            Tok::LBrace => {
                marks.push(scope.len());
                scope.append(&mut pending);
            }
            Tok::RBrace => {
                scope.truncate(marks.pop().unwrap_or(scope.len()));
                open_lets.retain(|l| l.1 <= marks.len());
            }
            Tok::Let => {
                if let Some(Tok::Ident(n)) = toks.get(j + 1) {
                    open_lets.push((n.clone(), marks.len()));
                }
            }
            Tok::Semi if open_lets.last().is_some_and(|l| l.1 == marks.len()) => {
                if let Some((n, _)) = open_lets.pop() {
                    scope.push((n, LocalKind::Let));
                }
            }
            Tok::With => {
                if let Some(Tok::Ident(n)) = toks.get(j + 1) {
                    pending.push((n.clone(), LocalKind::RepeatVar));
                }
            }
            _ => {}
        }
    }
    scope
}

/// The call whose parentheses enclose the end of `toks`.
struct CallContext<'t> {
    qual: Option<&'t str>,
    name: &'t str,
    /// Positional arguments before the cursor.
    positional: usize,
    /// Keyword arguments already given.
    keywords: Vec<&'t str>,
    /// Whether the cursor is where an argument starts (after `(` or `,`).
    at_arg_start: bool,
}

fn enclosing_call<'t>(toks: &[&'t Tok]) -> Option<CallContext<'t>> {
    let mut depth = 0usize;
    let mut open = None;
    for (i, t) in toks.iter().enumerate().rev() {
        match t {
            Tok::RParen | Tok::RBracket | Tok::RBrace => depth += 1,
            Tok::LParen | Tok::LBracket | Tok::LBrace if depth > 0 => depth -= 1,
            Tok::LParen => {
                open = Some(i);
                break;
            }
            Tok::LBracket | Tok::LBrace => return None,
            Tok::Semi if depth == 0 => return None,
            _ => {}
        }
    }
    let open = open?;
    let (qual, name) = match &toks[..open] {
        [.., Tok::Ident(m), Tok::Dot, Tok::Ident(n)] => (Some(m.as_str()), n.as_str()),
        [.., Tok::Ident(n)] => (None, n.as_str()),
        _ => return None,
    };
    let mut positional = 0;
    let mut keywords = Vec::new();
    let mut depth = 0usize;
    let mut arg_start = true;
    let mut keyword = false;
    for (i, t) in toks[open + 1..].iter().enumerate() {
        match t {
            Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace => depth = depth.saturating_sub(1),
            Tok::Comma if depth == 0 => {
                if !keyword {
                    positional += 1;
                }
                arg_start = true;
                keyword = false;
                continue;
            }
            Tok::Ident(k)
                if depth == 0 && arg_start && toks.get(open + 2 + i) == Some(&&Tok::Colon) =>
            {
                keywords.push(k.as_str());
                keyword = true;
            }
            _ => {}
        }
        arg_start = false;
    }
    Some(CallContext {
        qual,
        name,
        positional,
        keywords,
        at_arg_start: arg_start,
    })
}

/// Completions in an `import` statement: stdlib modules after `std.`, a module's blocks inside `.{`.
fn import_completions(prog: &Program, root: usize, toks: &[&Tok]) -> Vec<Completion> {
    let dir = prog.modules[root]
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut segs: Vec<&str> = Vec::new();
    let mut in_braces = false;
    for t in toks {
        match t {
            Tok::Ident(s) if !in_braces => segs.push(s),
            Tok::LBrace => in_braces = true,
            _ => {}
        }
    }
    let module_completion = |name: String, path: PathBuf| Completion {
        label: name,
        kind: CompletionKind::Module,
        detail: Some(crate::check::program::display_path(&path)),
        doc: None,
        insert: None,
    };
    if in_braces {
        let Some(file) = module_file(&dir, &segs) else {
            return Vec::new();
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            return Vec::new();
        };
        let parsed = crate::syntax::parse(FileId::DETACHED, &text);
        return parsed
            .module
            .items
            .iter()
            .filter(|d| d.name.name != "<error>")
            .map(|d| {
                let doc = d.doc();
                Completion {
                    label: d.name.name.clone(),
                    kind: if d.kind == BlockKind::Network {
                        CompletionKind::Network
                    } else {
                        CompletionKind::Block
                    },
                    detail: Some(crate::check::signature(d)),
                    doc: (!doc.is_empty()).then(|| doc.join("\n")),
                    insert: None,
                }
            })
            .collect();
    }
    // a (partial) module path: the modules of the folder it names
    let folder = match segs.as_slice() {
        ["std", rest @ ..] if matches!(toks.last(), Some(Tok::Dot)) => {
            rest.iter().fold(stdlib_dir(), |p, s| p.join(s))
        }
        rest if matches!(toks.last(), Some(Tok::Dot)) => {
            rest.iter().fold(dir.clone(), |p, s| p.join(s))
        }
        _ => dir.clone(),
    };
    let mut out = Vec::new();
    if !matches!(toks.last(), Some(Tok::Dot)) {
        out.push(module_completion("std".into(), stdlib_dir()));
    }
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return out;
    };
    let mut found: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let stem = p.file_stem()?.to_str()?.to_string();
            let ok = (p.extension().is_some_and(|x| x == "nasl") || p.is_dir())
                && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            ok.then_some((stem, p))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    out.extend(found.into_iter().map(|(n, p)| module_completion(n, p)));
    out
}

/// The file of an import path, as the loader resolves it.
fn module_file(dir: &Path, segs: &[&str]) -> Option<PathBuf> {
    let (mut p, rest) = match segs {
        ["std", rest @ ..] if !rest.is_empty() => (stdlib_dir(), rest),
        _ => (dir.to_path_buf(), segs),
    };
    let (last, folders) = rest.split_last()?;
    for s in folders {
        p.push(s);
    }
    p.push(format!("{last}.nasl"));
    p.exists().then_some(p)
}

// ----- formatting ------------------------------------------------------------------------------------

/// The document in canonical form, or why it cannot be formatted.
pub fn format(text: &str) -> Result<String, String> {
    let parsed = crate::syntax::parse(FileId(0), text);
    if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
        let n = parsed.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(format!(
            "not formatted: the document has {n} syntax error(s) (first: {})",
            d.message
        ));
    }
    Ok(crate::syntax::print_module(&parsed.module))
}
