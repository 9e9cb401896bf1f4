//! The NASL abstract syntax tree. Every node keeps a [`Span`]; spans compare equal whatever their position
//! (see `Span`), so `==` on nodes is structural equality — what the parse∘print round trip asserts.
//! Comments are kept in [`Comments`] on the nodes that own a line (imports, items, statements, results).

use crate::base::Span;

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Ident {
        Ident {
            name: name.into(),
            span,
        }
    }
}

/// Comments that belong to a line-owning node: whole-line comments before it, and an end-of-line comment.
/// The text excludes the leading `//` (a doc comment's text starts with `/`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comments {
    pub leading: Vec<String>,
    pub trailing: Option<String>,
    /// Whether a blank line separates the node (with its leading comments) from what precedes it.
    pub blank_before: bool,
}

impl Comments {
    pub fn is_empty(&self) -> bool {
        self.leading.is_empty() && self.trailing.is_none() && !self.blank_before
    }
}

/// One `.nasl` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Module {
    pub imports: Vec<Import>,
    pub items: Vec<BlockDef>,
    /// Comments after the last item.
    pub dangling: Vec<String>,
}

/// `import std.layers;`, `import std.layers as l;`, `import std.layers.{a, b as c};`
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: Vec<Ident>,
    pub alias: Option<Ident>,
    /// `Some` for the selective form `.{a, b as c}`.
    pub names: Option<Vec<ImportName>>,
    pub comments: Comments,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImportName {
    pub name: Ident,
    pub alias: Option<Ident>,
}

impl ImportName {
    /// The name it is bound to in the importing module.
    pub fn local(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

impl Import {
    /// The dotted module path, e.g. `std.layers`.
    pub fn module_path(&self) -> String {
        self.path
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockKind {
    Block,
    Network,
}

/// `block name(params) -> ret { body }` or `network …`.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockDef {
    pub kind: BlockKind,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Body,
    pub comments: Comments,
    pub span: Span,
}

impl BlockDef {
    /// The `///` doc comment lines, without the markers.
    pub fn doc(&self) -> Vec<String> {
        self.comments
            .leading
            .iter()
            .filter_map(|c| c.strip_prefix('/'))
            .map(|c| c.strip_prefix(' ').unwrap_or(c).to_string())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A parameter or return type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// A tensor type written as its shape: `[B, C, H / 2, _]`.
    Tensor(Vec<Expr>, Span),
    /// `Int`, `Float`, `Bool`, `Str`, `Block` (or an unknown name, reported by the checker).
    Named(Ident),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Tensor(_, s) => *s,
            TypeExpr::Named(i) => i.span,
        }
    }
}

/// `{ let a = …; let b = …; result }`
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub stmts: Vec<Stmt>,
    pub result: Box<Expr>,
    pub result_comments: Comments,
    /// Comments between the result and the closing brace.
    pub dangling: Vec<String>,
    pub span: Span,
}

/// `let name = value;`
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub name: Ident,
    pub value: Expr,
    pub comments: Comments,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Binding strength (higher binds tighter).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 5,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for a keyword argument `name: value`.
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChoiceKind {
    /// `choice(a, b, c)`
    Options(Vec<Expr>),
    /// `choice(lo..hi)`, `choice(lo..=hi step s)`
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive: bool,
        step: Option<Box<Expr>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Name(Ident),
    /// `module.name`
    Path(Ident, Ident),
    /// `_` (only meaningful in tensor types)
    Wildcard,
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Arg>),
    List(Vec<Expr>),
    /// `if c { … } else { … }`. The bodies are boxed, as is the body of `repeat`: an `Expr` is as large as
    /// its largest kind, and there are many of them (an inline body made every expression 280 bytes).
    If(Box<Expr>, Box<Body>, Box<Body>),
    /// `repeat count with var = init, index { body }`
    Repeat {
        count: Box<Expr>,
        var: Ident,
        init: Box<Expr>,
        index: Option<Ident>,
        body: Box<Body>,
    },
    Choice(ChoiceKind),
    /// A construct that failed to parse (already reported).
    Error,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

/// Builds a binary expression (used by the grammar).
pub fn bin(op: BinOp, a: Expr, b: Expr, span: Span) -> Expr {
    Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b)), span)
}

impl Expr {
    /// The direct sub-expressions, in source order (bodies' statements and results included).
    pub fn children(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        match &self.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_)
            | ExprKind::Path(..)
            | ExprKind::Wildcard
            | ExprKind::Error => {}
            ExprKind::Unary(_, e) => out.push(&**e),
            ExprKind::Binary(_, a, b) => {
                out.push(&**a);
                out.push(&**b);
            }
            ExprKind::Call(f, args) => {
                out.push(&**f);
                out.extend(args.iter().map(|a| &a.value));
            }
            ExprKind::List(items) => out.extend(items.iter()),
            ExprKind::If(c, t, e) => {
                out.push(&**c);
                out.extend(t.exprs());
                out.extend(e.exprs());
            }
            ExprKind::Repeat {
                count, init, body, ..
            } => {
                out.push(&**count);
                out.push(&**init);
                out.extend(body.exprs());
            }
            ExprKind::Choice(ChoiceKind::Options(o)) => out.extend(o.iter()),
            ExprKind::Choice(ChoiceKind::Range { lo, hi, step, .. }) => {
                out.push(&**lo);
                out.push(&**hi);
                out.extend(step.as_deref());
            }
        }
        out
    }

    /// Takes the tree apart without recursion (so that dropping a pathologically deep tree cannot
    /// overflow the stack).
    pub fn dismantle(self) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e.kind {
                ExprKind::Unary(_, a) => stack.push(*a),
                ExprKind::Binary(_, a, b) => {
                    stack.push(*a);
                    stack.push(*b);
                }
                ExprKind::Call(f, args) => {
                    stack.push(*f);
                    stack.extend(args.into_iter().map(|a| a.value));
                }
                ExprKind::List(items) => stack.extend(items),
                ExprKind::If(c, t, f) => {
                    stack.push(*c);
                    stack.extend(t.into_exprs());
                    stack.extend(f.into_exprs());
                }
                ExprKind::Repeat {
                    count, init, body, ..
                } => {
                    stack.push(*count);
                    stack.push(*init);
                    stack.extend(body.into_exprs());
                }
                ExprKind::Choice(ChoiceKind::Options(o)) => stack.extend(o),
                ExprKind::Choice(ChoiceKind::Range { lo, hi, step, .. }) => {
                    stack.push(*lo);
                    stack.push(*hi);
                    stack.extend(step.map(|s| *s));
                }
                _ => {}
            }
        }
    }
}

impl Body {
    /// The statements' values, then the result.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.stmts
            .iter()
            .map(|s| &s.value)
            .chain(std::iter::once(&*self.result))
    }

    fn into_exprs(self) -> impl Iterator<Item = Expr> {
        self.stmts
            .into_iter()
            .map(|s| s.value)
            .chain(std::iter::once(*self.result))
    }
}

/// A placeholder item for a region that failed to parse (used by the grammar's error recovery).
pub fn error_item(file: crate::base::FileId, l: usize, r: usize) -> BlockDef {
    let span = Span::new(file, l, r);
    BlockDef {
        kind: BlockKind::Block,
        name: Ident::new("<error>", span),
        params: Vec::new(),
        ret: None,
        body: Body {
            stmts: Vec::new(),
            result: Box::new(Expr::new(ExprKind::Error, span)),
            result_comments: Comments::default(),
            dangling: Vec::new(),
            span,
        },
        comments: Comments::default(),
        span,
    }
}
