//! The primitive ops of NASL: their signatures (parameter names, kinds and defaults) and a one-line
//! description each. Shape rules live in the evaluator (`eval/shape_rules.rs`), which applies them
//! symbolically. `docs/language.md` lists the same ops; a test keeps the two in step.

/// The kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tensor,
    Int,
    Float,
    Bool,
    Str,
    /// A list of integers (`[0, 2, 3, 1]`).
    List,
    /// Any number of tensors (the rest of the positional arguments).
    Tensors,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Tensor => "a tensor",
            Kind::Int => "an integer",
            Kind::Float => "a float",
            Kind::Bool => "a boolean",
            Kind::Str => "a string",
            Kind::List => "a list of integers",
            Kind::Tensors => "tensors",
        }
    }
}

/// A default value of an op parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// The value of another parameter (`stride` of a pool defaults to its `kernel`).
    Param(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct OpParam {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<Default>,
}

#[derive(Clone, Copy, Debug)]
pub struct OpSig {
    pub name: &'static str,
    pub params: &'static [OpParam],
    pub doc: &'static str,
}

const fn p(name: &'static str, kind: Kind) -> OpParam {
    OpParam {
        name,
        kind,
        default: None,
    }
}
const fn pi(name: &'static str, v: i64) -> OpParam {
    OpParam {
        name,
        kind: Kind::Int,
        default: Some(Default::Int(v)),
    }
}
const fn pf(name: &'static str, v: f64) -> OpParam {
    OpParam {
        name,
        kind: Kind::Float,
        default: Some(Default::Float(v)),
    }
}
const fn pb(name: &'static str, v: bool) -> OpParam {
    OpParam {
        name,
        kind: Kind::Bool,
        default: Some(Default::Bool(v)),
    }
}

const X: OpParam = p("x", Kind::Tensor);
const UNARY: &[OpParam] = &[X];
const POOL: &[OpParam] = &[
    X,
    p("kernel", Kind::Int),
    OpParam {
        name: "stride",
        kind: Kind::Int,
        default: Some(Default::Param("kernel")),
    },
    pi("padding", 0),
];
const GLOBAL_POOL: &[OpParam] = &[X, pb("keepdim", false)];
const BINARY: &[OpParam] = &[p("a", Kind::Tensor), p("b", Kind::Tensor)];
const INT2: &[OpParam] = &[p("a", Kind::Int), p("b", Kind::Int)];

macro_rules! sig {
    ($name:literal, $params:expr, $doc:literal) => {
        OpSig {
            name: $name,
            params: $params,
            doc: $doc,
        }
    };
}

/// Every primitive op.
pub const OPS: &[OpSig] = &[
    sig!(
        "conv",
        &[
            X,
            p("out", Kind::Int),
            pi("kernel", 1),
            pi("stride", 1),
            pi("padding", 0),
            pi("dilation", 1),
            pi("groups", 1),
            pb("bias", true)
        ],
        "2-D convolution over [B, C, H, W]"
    ),
    sig!(
        "linear",
        &[X, p("out", Kind::Int), pb("bias", true)],
        "dense layer over the last dimension"
    ),
    sig!(
        "batch_norm",
        &[X, pf("eps", 1e-5), pf("momentum", 0.1)],
        "batch normalisation over channels (dim 1)"
    ),
    sig!(
        "layer_norm",
        &[X, pf("eps", 1e-5)],
        "layer normalisation over the last dimension"
    ),
    sig!(
        "group_norm",
        &[X, p("groups", Kind::Int), pf("eps", 1e-5)],
        "group normalisation over channels"
    ),
    sig!("relu", UNARY, "max(x, 0)"),
    sig!("relu6", UNARY, "min(max(x, 0), 6)"),
    sig!("gelu", UNARY, "Gaussian error linear unit"),
    sig!("silu", UNARY, "x · sigmoid(x)"),
    sig!("swish", UNARY, "x · sigmoid(x) (same as silu)"),
    sig!("sigmoid", UNARY, "logistic sigmoid"),
    sig!("tanh", UNARY, "hyperbolic tangent"),
    sig!("hardswish", UNARY, "x · relu6(x + 3) / 6"),
    sig!("hardsigmoid", UNARY, "relu6(x + 3) / 6"),
    sig!("softmax", &[X, pi("dim", -1)], "softmax along a dimension"),
    sig!(
        "dropout",
        &[X, pf("p", 0.5)],
        "dropout with drop probability p (identity at inference)"
    ),
    sig!("identity", UNARY, "the input itself"),
    sig!(
        "zero",
        UNARY,
        "zeros of the input's shape (NAS-Bench-201 `none`)"
    ),
    sig!("avg_pool", POOL, "average pooling over H, W"),
    sig!("max_pool", POOL, "max pooling over H, W"),
    sig!("global_avg_pool", GLOBAL_POOL, "mean over H, W"),
    sig!("global_max_pool", GLOBAL_POOL, "max over H, W"),
    sig!(
        "mean",
        &[X, p("dim", Kind::Int), pb("keepdim", false)],
        "mean along a dimension"
    ),
    sig!(
        "flatten",
        &[X, pi("start", 1)],
        "merge the dimensions from `start` on"
    ),
    sig!(
        "reshape",
        &[X, p("shape", Kind::List)],
        "reshape (one -1 allowed)"
    ),
    sig!(
        "transpose",
        &[X, p("d0", Kind::Int), p("d1", Kind::Int)],
        "swap two dimensions"
    ),
    sig!("permute", &[X, p("dims", Kind::List)], "reorder dimensions"),
    sig!("add", BINARY, "elementwise sum (broadcasting)"),
    sig!("mul", BINARY, "elementwise product (broadcasting)"),
    sig!(
        "concat",
        &[p("xs", Kind::Tensors), pi("dim", 1)],
        "concatenate along a dimension"
    ),
    sig!("matmul", BINARY, "batched matrix product"),
    sig!(
        "einsum",
        &[p("spec", Kind::Str), p("xs", Kind::Tensors)],
        "Einstein summation"
    ),
    sig!("scale", &[X, p("s", Kind::Float)], "multiply by a constant"),
    sig!("param", &[p("shape", Kind::List)], "a learned tensor"),
    sig!(
        "expand",
        &[X, p("shape", Kind::List)],
        "broadcast to a shape (-1 keeps a dimension)"
    ),
    sig!(
        "select",
        &[X, p("dim", Kind::Int), p("index", Kind::Int)],
        "take one index along a dimension"
    ),
    sig!(
        "slice",
        &[
            X,
            p("dim", Kind::Int),
            p("start", Kind::Int),
            p("end", Kind::Int)
        ],
        "the range [start, end) along a dimension"
    ),
    sig!("min", INT2, "the smaller of two integers"),
    sig!("max", INT2, "the larger of two integers"),
];

pub fn signature(name: &str) -> Option<&'static OpSig> {
    OPS.iter().find(|o| o.name == name)
}

pub fn is_builtin(name: &str) -> bool {
    signature(name).is_some()
}

/// Ops that act elementwise and keep the shape.
pub fn is_elementwise(name: &str) -> bool {
    matches!(
        name,
        "relu"
            | "relu6"
            | "gelu"
            | "silu"
            | "swish"
            | "sigmoid"
            | "tanh"
            | "hardswish"
            | "hardsigmoid"
            | "identity"
            | "zero"
    )
}
