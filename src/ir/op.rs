//! The primitive ops of the IR, with concrete hyper-parameters (the checker's op table, resolved).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Relu6,
    Gelu,
    Silu,
    Sigmoid,
    Tanh,
    Hardswish,
    Hardsigmoid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    Avg,
    Max,
}

/// One op with its hyper-parameters. Shapes live on the node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A graph input (a tensor parameter of the entry block).
    Input {
        name: String,
    },
    Conv {
        out: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        dilation: i64,
        groups: i64,
        bias: bool,
    },
    Linear {
        out: i64,
        bias: bool,
    },
    BatchNorm {
        eps: f64,
        momentum: f64,
    },
    LayerNorm {
        eps: f64,
    },
    GroupNorm {
        groups: i64,
        eps: f64,
    },
    Act {
        f: Activation,
    },
    Softmax {
        dim: i64,
    },
    Dropout {
        p: f64,
    },
    Identity,
    Zero,
    Pool {
        kind: PoolKind,
        kernel: i64,
        stride: i64,
        padding: i64,
    },
    GlobalPool {
        kind: PoolKind,
        keepdim: bool,
    },
    Mean {
        dim: i64,
        keepdim: bool,
    },
    Flatten {
        start: i64,
    },
    Reshape {
        shape: Vec<i64>,
    },
    Transpose {
        d0: i64,
        d1: i64,
    },
    Permute {
        dims: Vec<i64>,
    },
    Add,
    Mul,
    Concat {
        dim: i64,
    },
    Matmul,
    Einsum {
        spec: String,
    },
    Scale {
        s: f64,
    },
    /// A learned tensor.
    Param {
        shape: Vec<i64>,
    },
    Expand {
        shape: Vec<i64>,
    },
    Select {
        dim: i64,
        index: i64,
    },
    Slice {
        dim: i64,
        start: i64,
        end: i64,
    },
}

impl Op {
    /// The NASL name of the op.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Conv { .. } => "conv",
            Op::Linear { .. } => "linear",
            Op::BatchNorm { .. } => "batch_norm",
            Op::LayerNorm { .. } => "layer_norm",
            Op::GroupNorm { .. } => "group_norm",
            Op::Act { f } => match f {
                Activation::Relu => "relu",
                Activation::Relu6 => "relu6",
                Activation::Gelu => "gelu",
                Activation::Silu => "silu",
                Activation::Sigmoid => "sigmoid",
                Activation::Tanh => "tanh",
                Activation::Hardswish => "hardswish",
                Activation::Hardsigmoid => "hardsigmoid",
            },
            Op::Softmax { .. } => "softmax",
            Op::Dropout { .. } => "dropout",
            Op::Identity => "identity",
            Op::Zero => "zero",
            Op::Pool {
                kind: PoolKind::Avg,
                ..
            } => "avg_pool",
            Op::Pool {
                kind: PoolKind::Max,
                ..
            } => "max_pool",
            Op::GlobalPool {
                kind: PoolKind::Avg,
                ..
            } => "global_avg_pool",
            Op::GlobalPool {
                kind: PoolKind::Max,
                ..
            } => "global_max_pool",
            Op::Mean { .. } => "mean",
            Op::Flatten { .. } => "flatten",
            Op::Reshape { .. } => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Permute { .. } => "permute",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Concat { .. } => "concat",
            Op::Matmul => "matmul",
            Op::Einsum { .. } => "einsum",
            Op::Scale { .. } => "scale",
            Op::Param { .. } => "param",
            Op::Expand { .. } => "expand",
            Op::Select { .. } => "select",
            Op::Slice { .. } => "slice",
        }
    }

    /// The hyper-parameters as NASL keyword arguments (`kernel: 3, stride: 2`), defaults omitted.
    pub fn attrs_text(&self) -> String {
        let list = |v: &[i64]| {
            format!(
                "[{}]",
                v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            )
        };
        let mut parts: Vec<String> = Vec::new();
        let mut kw = |k: &str, v: String, default: Option<&str>| {
            if default != Some(v.as_str()) {
                parts.push(format!("{k}: {v}"));
            }
        };
        match self {
            Op::Input { name } => kw("name", name.clone(), None),
            Op::Conv {
                out,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                bias,
            } => {
                kw("out", out.to_string(), None);
                kw("kernel", kernel.to_string(), Some("1"));
                kw("stride", stride.to_string(), Some("1"));
                kw("padding", padding.to_string(), Some("0"));
                kw("dilation", dilation.to_string(), Some("1"));
                kw("groups", groups.to_string(), Some("1"));
                kw("bias", bias.to_string(), Some("true"));
            }
            Op::Linear { out, bias } => {
                kw("out", out.to_string(), None);
                kw("bias", bias.to_string(), Some("true"));
            }
            Op::BatchNorm { eps, momentum } => {
                kw("eps", format!("{eps:?}"), Some("1e-5"));
                kw("momentum", format!("{momentum:?}"), Some("0.1"));
            }
            Op::LayerNorm { eps } => kw("eps", format!("{eps:?}"), Some("1e-5")),
            Op::GroupNorm { groups, eps } => {
                kw("groups", groups.to_string(), None);
                kw("eps", format!("{eps:?}"), Some("1e-5"));
            }
            Op::Softmax { dim } => kw("dim", dim.to_string(), Some("-1")),
            Op::Dropout { p } => kw("p", format!("{p:?}"), Some("0.5")),
            Op::Pool {
                kernel,
                stride,
                padding,
                ..
            } => {
                kw("kernel", kernel.to_string(), None);
                kw("stride", stride.to_string(), Some(&kernel.to_string()));
                kw("padding", padding.to_string(), Some("0"));
            }
            Op::GlobalPool { keepdim, .. } => kw("keepdim", keepdim.to_string(), Some("false")),
            Op::Mean { dim, keepdim } => {
                kw("dim", dim.to_string(), None);
                kw("keepdim", keepdim.to_string(), Some("false"));
            }
            Op::Flatten { start } => kw("start", start.to_string(), Some("1")),
            Op::Reshape { shape } | Op::Expand { shape } | Op::Param { shape } => {
                kw("shape", list(shape), None)
            }
            Op::Transpose { d0, d1 } => {
                kw("d0", d0.to_string(), None);
                kw("d1", d1.to_string(), None);
            }
            Op::Permute { dims } => kw("dims", list(dims), None),
            Op::Concat { dim } => kw("dim", dim.to_string(), Some("1")),
            Op::Einsum { spec } => kw("spec", format!("{spec:?}"), None),
            Op::Scale { s } => kw("s", format!("{s:?}"), None),
            Op::Select { dim, index } => {
                kw("dim", dim.to_string(), None);
                kw("index", index.to_string(), None);
            }
            Op::Slice { dim, start, end } => {
                kw("dim", dim.to_string(), None);
                kw("start", start.to_string(), None);
                kw("end", end.to_string(), None);
            }
            Op::Act { .. } | Op::Identity | Op::Zero | Op::Add | Op::Mul | Op::Matmul => {}
        }
        parts.join(", ")
    }
}
