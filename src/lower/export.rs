//! Export of a lowered network for PyTorch users: TorchScript (traced through libtorch's tracer, loadable
//! with `torch.jit.load`) and readable PyTorch source (an `nn.Module` whose submodules sit at the IR paths,
//! so its `state_dict` has the same names as a nasc checkpoint and `load_nasc_checkpoint` loads one).

use super::{LowerError, Network};
use crate::ir::{Activation, Graph, Op, PoolKind};
use std::fmt::Write as _;
use std::path::Path;
use tch::{nn, CModule, Device, Kind, Tensor};

/// Traces the network in eval mode on an input of the graph's shape and saves a TorchScript module.
/// `weights` is a checkpoint to load first (else the seeded initial weights).
pub fn torchscript(g: &Graph, weights: Option<&Path>, out: &Path) -> Result<(), LowerError> {
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), g)?;
    if let Some(w) = weights {
        super::train::load_checkpoint(&mut vs, w)?;
    }
    vs.freeze(); // traced weights become constants of the module, which requires no grad
    let inputs: Vec<Tensor> = g
        .inputs
        .iter()
        .map(|&i| Tensor::f_randn(g.nodes[i].shape.as_slice(), (Kind::Float, Device::Cpu)))
        .collect::<Result<_, _>>()?;
    let mut err = None;
    let module = CModule::create_by_tracing("nasc", "forward", &inputs, &mut |xs| match net
        .forward_all(xs, false)
    {
        Ok(v) => v,
        Err(e) => {
            err = Some(e);
            vec![Tensor::zeros([1], (Kind::Float, Device::Cpu))]
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let module = module?;
    // written atomically: the old file or the new one, never a torn one
    crate::base::fs::with_atomic(out, |tmp| {
        module
            .save(tmp)
            .map_err(|e| std::io::Error::other(super::first_line(&e.to_string())))
    })
    .map_err(|e| LowerError::Io {
        file: out.display().to_string(),
        message: e.to_string(),
    })
}

const RESERVED: &[&str] = &[
    "training",
    "forward",
    "train",
    "eval",
    "to",
    "cuda",
    "cpu",
    "type",
    "float",
    "double",
    "half",
    "apply",
    "parameters",
    "buffers",
    "children",
    "modules",
    "state_dict",
    "zero_grad",
    "weight",
    "bias",
    "load_state_dict",
    "register_buffer",
    "add_module",
    "get_submodule",
    "requires_grad_",
];

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !matches!(
            s,
            "and"
                | "as"
                | "assert"
                | "async"
                | "await"
                | "break"
                | "class"
                | "continue"
                | "def"
                | "del"
                | "elif"
                | "else"
                | "except"
                | "finally"
                | "for"
                | "from"
                | "global"
                | "if"
                | "import"
                | "in"
                | "is"
                | "lambda"
                | "nonlocal"
                | "not"
                | "or"
                | "pass"
                | "raise"
                | "return"
                | "try"
                | "while"
                | "with"
                | "yield"
                | "None"
                | "True"
                | "False"
        )
}

/// `self.h_1.conv` when every component is a plain name, else `self.get_submodule("h_1.0.conv")`.
fn module_ref(path: &str) -> String {
    if path
        .split('.')
        .all(|c| is_ident(c) && !RESERVED.contains(&c))
    {
        format!("self.{path}")
    } else {
        format!("self.get_submodule({path:?})")
    }
}

fn py_float(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

fn tuple(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    if items.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    }
}

/// PyTorch source for the graph: a module class named after the network, with `load_nasc_checkpoint`.
pub fn pytorch_source(g: &Graph, origin: &str) -> String {
    let class = {
        let mut c: String = g
            .name
            .split('_')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut ch = p.chars();
                ch.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + ch.as_str())
                    .unwrap_or_default()
            })
            .collect();
        if !is_ident(&c) {
            c = format!("Net{c}");
        }
        c
    };
    let batch = g
        .inputs
        .first()
        .and_then(|&i| g.nodes[i].shape.first().copied())
        .unwrap_or(1);
    let mut init = String::new();
    let mut fwd = String::new();
    let v = |i: usize| format!("v{i}");
    let shape_expr = |s: &[i64]| -> String {
        let items: Vec<String> = s
            .iter()
            .enumerate()
            .map(|(k, d)| {
                if k == 0 && *d == batch {
                    "b".to_string()
                } else {
                    d.to_string()
                }
            })
            .collect();
        items.join(", ")
    };
    let mut params = Vec::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let ins: Vec<String> = n.inputs.iter().map(|&j| v(j)).collect();
        let a = ins.first().cloned().unwrap_or_default();
        let in_shape = n
            .inputs
            .first()
            .map(|&j| g.nodes[j].shape.clone())
            .unwrap_or_default();
        let mut module = |ctor: String| {
            let _ = writeln!(init, "        self._put({:?}, {ctor})", n.path);
            module_ref(&n.path)
        };
        let expr = match &n.op {
            Op::Input { name } => {
                params.push(name.clone());
                name.clone()
            }
            Op::Conv {
                out,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                bias,
            } => {
                let m = module(format!(
                    "nn.Conv2d({}, {out}, {kernel}, stride={stride}, padding={padding}, dilation={dilation}, groups={groups}, bias={})",
                    in_shape.get(1).copied().unwrap_or(1),
                    if *bias { "True" } else { "False" }
                ));
                format!("{m}({a})")
            }
            Op::Linear { out, bias } => {
                let m = module(format!(
                    "nn.Linear({}, {out}, bias={})",
                    in_shape.last().copied().unwrap_or(1),
                    if *bias { "True" } else { "False" }
                ));
                format!("{m}({a})")
            }
            Op::BatchNorm { eps, momentum } => {
                let kind = match in_shape.len() {
                    4 => "BatchNorm2d",
                    5 => "BatchNorm3d",
                    _ => "BatchNorm1d",
                };
                let m = module(format!(
                    "nn.{kind}({}, eps={}, momentum={})",
                    in_shape.get(1).copied().unwrap_or(1),
                    py_float(*eps),
                    py_float(*momentum)
                ));
                format!("{m}({a})")
            }
            Op::LayerNorm { eps } => {
                let m = module(format!(
                    "nn.LayerNorm({}, eps={})",
                    in_shape.last().copied().unwrap_or(1),
                    py_float(*eps)
                ));
                format!("{m}({a})")
            }
            Op::GroupNorm { groups, eps } => {
                let m = module(format!(
                    "nn.GroupNorm({groups}, {}, eps={})",
                    in_shape.get(1).copied().unwrap_or(1),
                    py_float(*eps)
                ));
                format!("{m}({a})")
            }
            Op::Param { shape } => {
                let m = module(format!("_Param({})", tuple(shape)));
                format!("{m}()")
            }
            Op::Act { f } => match f {
                Activation::Relu => format!("F.relu({a})"),
                Activation::Relu6 => format!("F.relu6({a})"),
                Activation::Gelu => format!("F.gelu({a})"),
                Activation::Silu => format!("F.silu({a})"),
                Activation::Sigmoid => format!("torch.sigmoid({a})"),
                Activation::Tanh => format!("torch.tanh({a})"),
                Activation::Hardswish => format!("F.hardswish({a})"),
                Activation::Hardsigmoid => format!("F.hardsigmoid({a})"),
            },
            Op::Softmax { dim } => format!("torch.softmax({a}, dim={dim})"),
            Op::Dropout { p } => {
                format!("F.dropout({a}, p={}, training=self.training)", py_float(*p))
            }
            Op::Identity => a.clone(),
            Op::Zero => format!("{a} * 0.0"),
            Op::Pool {
                kind,
                kernel,
                stride,
                padding,
            } => format!(
                "F.{}_pool2d({a}, {kernel}, stride={stride}, padding={padding})",
                if *kind == PoolKind::Avg { "avg" } else { "max" }
            ),
            Op::GlobalPool { kind, keepdim } => format!(
                "{a}.{}((2, 3), keepdim={})",
                if *kind == PoolKind::Avg {
                    "mean"
                } else {
                    "amax"
                },
                if *keepdim { "True" } else { "False" }
            ),
            Op::Mean { dim, keepdim } => format!(
                "{a}.mean({dim}, keepdim={})",
                if *keepdim { "True" } else { "False" }
            ),
            Op::Flatten { start } => format!("torch.flatten({a}, {start})"),
            Op::Reshape { shape } => format!("{a}.reshape({})", shape_expr(shape)),
            Op::Transpose { d0, d1 } => format!("{a}.transpose({d0}, {d1})"),
            Op::Permute { dims } => format!(
                "{a}.permute({})",
                dims.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Op::Add => format!("{} + {}", ins[0], ins[1]),
            Op::Mul => format!("{} * {}", ins[0], ins[1]),
            Op::Concat { dim } => format!("torch.cat([{}], dim={dim})", ins.join(", ")),
            Op::Matmul => format!("{} @ {}", ins[0], ins[1]),
            Op::Einsum { spec } => format!("torch.einsum({spec:?}, {})", ins.join(", ")),
            Op::Scale { s } => format!("{a} * {}", py_float(*s)),
            Op::Expand { shape } => format!("{a}.expand({})", shape_expr(shape)),
            Op::Select { dim, index } => format!("{a}.select({dim}, {index})"),
            Op::Slice { dim, start, end } => {
                format!("{a}.narrow({dim}, {start}, {})", end - start)
            }
        };
        let shape = n
            .shape
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(fwd, "        {} = {expr}  # [{shape}] {}", v(i), n.path);
    }
    let outs: Vec<String> = g.outputs.iter().map(|&o| v(o)).collect();
    let first = params.first().cloned().unwrap_or_else(|| "x".into());
    format!(
        r#""""{name}: PyTorch source generated by nasc from {origin}.

Submodules sit at the IR paths of their nodes, so `state_dict()` names equal the nasc checkpoint's
(`nasc train --save CKPT.safetensors`); load one with `load_nasc_checkpoint(model, path)`.
Sizes equal to the batch the graph was built for ({batch}) follow the input's batch (`b`).
"""
import json

import torch
import torch.nn.functional as F
from torch import nn


class _Param(nn.Module):
    """A learned tensor (NASL `param`)."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self):
        return self.weight


class {class}(nn.Module):
    def __init__(self):
        super().__init__()
{init}
    def _put(self, path, module):
        *scopes, last = path.split(".")
        parent = self
        for s in scopes:
            if s not in parent._modules:
                parent.add_module(s, nn.Module())
            parent = parent._modules[s]
        parent.add_module(last, module)

    def forward(self, {params}):
        b = {first}.shape[0]
{fwd}        return {outs}


def load_nasc_checkpoint(model, path):
    """Loads a nasc checkpoint (safetensors; names = IR paths) into the model's state dict (strict)."""
    dtypes = {{"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
               "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}}
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    state = {{}}
    for key, meta in header.items():
        if key == "__metadata__":
            continue
        lo, hi = meta["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=dtypes[meta["dtype"]]) if hi > lo \
            else torch.empty(0, dtype=dtypes[meta["dtype"]])
        state[key] = t.reshape(meta["shape"]).clone()
    model.load_state_dict(state)
    return model


def build():
    return {class}()
"#,
        name = g.name,
        params = params.join(", "),
        outs = outs.join(", "),
    )
}
