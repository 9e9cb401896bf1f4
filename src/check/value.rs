//! The values of the symbolic evaluator: integers are formulas ([`Sym`]), tensors are shapes with an origin,
//! blocks are first-class (a definition, a primitive op, or a decision among blocks).

use super::program::BlockId;
use super::sym::Sym;
use crate::base::Span;
use std::fmt;

/// A boolean that may be undecided. `facts` are equalities that hold whenever the value is true (used to
/// refine the `then` branch of an `if`).
#[derive(Clone, Debug, PartialEq)]
pub struct BoolVal {
    pub known: Option<bool>,
    pub facts: Vec<(Sym, Sym)>,
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
