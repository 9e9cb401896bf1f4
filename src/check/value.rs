//! The values of the symbolic evaluator: integers are formulas ([`Sym`]), tensors are shapes with an origin,
//! blocks are first-class (a definition, a primitive op, or a decision among blocks).

use super::program::{BlockId, Program};
use super::sym::Sym;
use crate::base::Span;
use std::fmt;

/// A boolean that may be undecided. `facts` are equalities that hold whenever the value is true, `neg_facts`
/// those that hold whenever it is false (used to refine the branches of an `if`).
#[derive(Clone, Debug, PartialEq)]
pub struct BoolVal {
    pub known: Option<bool>,
    pub facts: Vec<(Sym, Sym)>,
    pub neg_facts: Vec<(Sym, Sym)>,
    /// The condition the value stands for, when it is a comparison (or a combination of them): lets the
    /// checker evaluate it for each alternative of the decisions it mentions.
    pub cond: Option<Cond>,
}

/// A symbolic condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Cmp(crate::syntax::ast::BinOp, Sym, Sym),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    pub fn visit_vars(&self, f: &mut dyn FnMut(&str)) {
        match self {
            Cond::Cmp(_, a, b) => {
                a.visit_vars(f);
                b.visit_vars(f);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.visit_vars(f);
                b.visit_vars(f);
            }
            Cond::Not(a) => a.visit_vars(f),
        }
    }

    /// The truth value after substituting symbols, if it is then known.
    pub fn eval(&self, subst: &dyn Fn(&str) -> Option<Sym>) -> Option<bool> {
        use crate::syntax::ast::BinOp;
        match self {
            Cond::Cmp(op, a, b) => {
                let d = a
                    .subst(subst)
                    .ok()?
                    .sub(&b.subst(subst).ok()?)
                    .ok()?
                    .as_const()?;
                Some(match op {
                    BinOp::Eq => d == 0,
                    BinOp::Ne => d != 0,
                    BinOp::Lt => d < 0,
                    BinOp::Le => d <= 0,
                    BinOp::Gt => d > 0,
                    _ => d >= 0,
                })
            }
            Cond::And(a, b) => match (a.eval(subst), b.eval(subst)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Cond::Or(a, b) => match (a.eval(subst), b.eval(subst)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Cond::Not(a) => a.eval(subst).map(|x| !x),
        }
    }
}

impl BoolVal {
    pub fn constant(b: bool) -> BoolVal {
        BoolVal {
            known: Some(b),
            facts: vec![],
            neg_facts: vec![],
            cond: None,
        }
    }

    pub fn unknown() -> BoolVal {
        BoolVal {
            known: None,
            facts: vec![],
            neg_facts: vec![],
            cond: None,
        }
    }
}

/// Where a tensor came from, for messages ("the left operand comes from `conv(x, 64)` at 12:9").
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub span: Span,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<Sym>,
    pub origin: Origin,
    /// The node that produced it, when the evaluator records a trace.
    pub node: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BlockVal {
    Def(BlockId),
    Op(&'static str),
    /// A search-space decision among blocks.
    Choice {
        decision: String,
        options: Vec<BlockVal>,
    },
    /// A `Block` parameter with no argument (standalone checking): calls of it are not checked.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Sym),
    Float(Option<f64>),
    Bool(BoolVal),
    Str(Option<String>),
    Tensor(Tensor),
    List(Vec<Sym>),
    Block(BlockVal),
    /// The result of an error already reported, or of a call that cannot be checked: absorbs everything
    /// silently so that one mistake gives one diagnostic.
    Poison,
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
            Value::Tensor(_) => "a tensor",
            Value::List(_) => "a list of integers",
            Value::Block(_) => "a block",
            Value::Poison => "an erroneous value",
        }
    }
}

/// Writes a shape as NASL: `[B, 64, H / 2, W / 2]`.
pub struct ShapeDisplay<'a>(pub &'a [Sym]);

impl fmt::Display for ShapeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if d.has_unknown() && d.as_var().is_some() {
                f.write_str("_")?;
            } else {
                write!(f, "{d}")?;
            }
        }
        f.write_str("]")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(s) => write!(f, "{s}"),
            Value::Float(Some(x)) => write!(f, "{x:?}"),
            Value::Float(None) => f.write_str("Float"),
            Value::Bool(b) => match b.known {
                Some(v) => write!(f, "{v}"),
                None => f.write_str("Bool"),
            },
            Value::Str(Some(s)) => write!(f, "{s:?}"),
            Value::Str(None) => f.write_str("Str"),
            Value::Tensor(t) => write!(f, "{}", ShapeDisplay(&t.shape)),
            Value::List(l) => write!(f, "{}", ShapeDisplay(l)),
            Value::Block(b) => write!(f, "{}", block_text(b)),
            Value::Poison => f.write_str("<error>"),
        }
    }
}

/// A value for people, with the names of the blocks it holds: what [`Value::display`] returns.
pub struct ValueDisplay<'a> {
    value: &'a Value,
    prog: &'a Program,
}

impl fmt::Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Value::Block(b) => b.display(self.prog).fmt(f),
            v => v.fmt(f),
        }
    }
}

impl Value {
    /// The value as [`Display`](fmt::Display) writes it, but a block by name (see [`BlockVal::display`]).
    pub fn display<'a>(&'a self, prog: &'a Program) -> ValueDisplay<'a> {
        ValueDisplay { value: self, prog }
    }
}

/// A block value for people: what [`BlockVal::display`] returns.
pub struct BlockDisplay<'a> {
    block: &'a BlockVal,
    prog: &'a Program,
}

impl fmt::Display for BlockDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.block {
            BlockVal::Def(id) => f.write_str(&self.prog.block_name(*id)),
            BlockVal::Op(n) => f.write_str(n),
            BlockVal::Choice { decision, options } => {
                f.write_str("one of ")?;
                for (i, o) in options.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    o.display(self.prog).fmt(f)?;
                }
                write!(f, " (decision `{decision}`)")
            }
            BlockVal::Unknown => f.write_str("Block"),
        }
    }
}

impl BlockVal {
    /// The block value by name, the one way the CLI and the editor show it: `basic_block`, `relu`,
    /// ``one of conv3x3 | skip (decision `e01`)``, `Block` (a parameter with no argument).
    pub fn display<'a>(&'a self, prog: &'a Program) -> BlockDisplay<'a> {
        BlockDisplay { block: self, prog }
    }
}

/// A block value without the program's names (`Display` of [`Value`]): blocks by id, choices by count.
fn block_text(b: &BlockVal) -> String {
    match b {
        BlockVal::Def(id) => format!("block#{}", id.0),
        BlockVal::Op(n) => n.to_string(),
        BlockVal::Choice { decision, options } => {
            format!("one of {} blocks (decision `{decision}`)", options.len())
        }
        BlockVal::Unknown => "Block".into(),
    }
}
