//! Lowering: an IR graph becomes a libtorch network (through tch) that runs for real, on CPU or CUDA.
//! [`Network::new`] creates every parameter under the IR node's **path** in an `nn::Path` (a conv at
//! `h_1.conv` owns `h_1.conv.weight` and `h_1.conv.bias`; a batch norm also owns the buffers
//! `running_mean`, `running_var`, `num_batches_tracked`), so names read like a PyTorch state dict and two
//! networks built under the same `nn::Path` share the weights of equal paths (a supernet). [`Network::forward_t`]
//! runs the nodes in order with tch's fallible `f_*` calls; a libtorch error becomes a [`LowerError`] that
//! names the node and carries its NASL span. Also here: [`cost`] (params, MACs, activation memory; needs no
//! libtorch), [`train`] (training and evaluation loops), [`export`] (TorchScript and PyTorch source).
//! Depends on `ir`, `data`, `base`.

use crate::base::{Code, Diagnostic, Span};
/// Params, MACs and activation memory are counted on the IR (no libtorch): see `ir::cost`.
pub use crate::ir::cost;
use crate::ir::{Activation, Graph, NodeId, Op, PoolKind};
use std::fmt;
pub mod export;
pub mod session;
pub mod train;

pub use session::{Session, SessionOptions};

use tch::{nn, Device, Kind, Tensor};

/// Why lowering, running, training or exporting a network failed.
#[derive(Debug)]
pub enum LowerError {
    /// libtorch rejected an op: which node, where in the source, and libtorch's message.
    Op {
        path: String,
        op: &'static str,
        span: Span,
        message: String,
    },
    /// A device that cannot be used (`cuda` without CUDA, a bad spelling).
    Device(String),
    /// Inputs that do not fit the network (count, rank).
    Input(String),
    /// Reading or writing a file (checkpoint, export) failed; names the file.
    Io { file: String, message: String },
    /// Any other libtorch failure outside a node (optimizer, loss, tracing).
    Torch(String),
    /// A data problem met while training or evaluating.
    Data(crate::data::DataError),
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::Op {
                path, op, message, ..
            } => write!(f, "libtorch failed on `{op}` at `{path}`: {message}"),
            LowerError::Device(m) | LowerError::Input(m) | LowerError::Torch(m) => f.write_str(m),
            LowerError::Io { file, message } => write!(f, "`{file}`: {message}"),
            LowerError::Data(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LowerError {}

impl From<crate::data::DataError> for LowerError {
    fn from(e: crate::data::DataError) -> Self {
        LowerError::Data(e)
    }
}

impl From<tch::TchError> for LowerError {
    fn from(e: tch::TchError) -> Self {
        LowerError::Torch(first_line(&e.to_string()))
    }
}

impl LowerError {
    /// The diagnostic pointing at the NASL source of the failing node, when there is one.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        match self {
            LowerError::Op {
                path,
                op,
                span,
                message,
            } => Some(
                Diagnostic::error(
                    Code::Lowering,
                    format!("libtorch rejected `{op}` at `{path}`: {message}"),
                )
                .with_label(*span, format!("this `{op}` ({path})")),
            ),
            _ => None,
        }
    }
}

/// libtorch messages carry a C++ backtrace after the first line(s); keep the message.
fn first_line(s: &str) -> String {
    let s = s.trim();
    let cut = s
        .find("\nException raised from")
        .or_else(|| s.find("\nFrame"))
        .unwrap_or(s.len());
    s[..cut].trim().to_string()
}

/// Seeds libtorch's generator (initial weights, dropout).
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}

/// Sets libtorch's intra-op thread count.
pub fn set_threads(n: i32) {
    tch::set_num_threads(n.max(1));
}

/// libtorch's intra-op thread count.
pub fn threads() -> i32 {
    tch::get_num_threads()
}

/// Parses `cpu`, `cuda` or `cuda:N`; asks libtorch whether that CUDA device exists.
pub fn parse_device(s: &str) -> Result<Device, LowerError> {
    let s = s.trim();
    let cuda_index = if s == "cpu" {
        return Ok(Device::Cpu);
    } else if s == "cuda" {
        0
    } else if let Some(n) = s.strip_prefix("cuda:") {
        n.parse::<usize>().map_err(|_| {
            LowerError::Device(format!("`{s}` is not a device (cpu, cuda or cuda:N)"))
        })?
    } else {
        return Err(LowerError::Device(format!(
            "`{s}` is not a device (cpu, cuda or cuda:N)"
        )));
    };
    let count = if tch::Cuda::is_available() {
        tch::Cuda::device_count() as usize
    } else {
        0
    };
    if count == 0 {
        return Err(LowerError::Device(format!(
            "`{s}` was asked for, but libtorch sees no CUDA device here (use --device cpu)"
        )));
    }
    if cuda_index >= count {
        return Err(LowerError::Device(format!(
            "`{s}` does not exist: libtorch sees {count} CUDA device(s), cuda:0 … cuda:{}",
            count - 1
        )));
    }
    Ok(Device::Cuda(cuda_index))
}

/// The tensors a node owns.
#[derive(Debug)]
enum Weights {
    None,
    /// conv, linear, layer/group norm: weight and optional bias.
    Affine {
        w: Tensor,
        b: Option<Tensor>,
    },
    BatchNorm {
        w: Tensor,
        b: Tensor,
        mean: Tensor,
        var: Tensor,
        tracked: Tensor,
    },
    Param(Tensor),
}

/// A lowered network: the graph and the tensors of its nodes.
#[derive(Debug)]
pub struct Network {
    pub graph: Graph,
    weights: Vec<Weights>,
    /// Last user of each node (to free activations early); outputs are kept.
    last_use: Vec<usize>,
    /// The batch size the graph was built for (reshape/expand sizes equal to it follow the real batch).
    batch: i64,
    pub device: Device,
}

/// The `nn::Path` of a node: its instance path split at the dots.
fn node_path<'a>(root: &nn::Path<'a>, path: &str) -> nn::Path<'a> {
    let mut p = root.set_group(0);
    for c in path.split('.').filter(|c| !c.is_empty()) {
        p = p.sub(c);
    }
    p
}

/// A variable under `p` named `name`, created with `init` unless it exists (weight sharing): an existing
/// tensor of the same shape is used as is; one at least as large in every dimension is sliced, as
/// weight-sharing supernets do (Once-for-All, AttentiveNAS): the leading channels / features, and the centre
/// of a conv kernel (a 3×3 kernel is the middle of a shared 5×5). The slice is a view, so training it trains
/// the shared tensor. A smaller existing tensor is an error: build the largest architecture first.
fn var(
    p: &nn::Path,
    name: &str,
    dims: &[i64],
    init: nn::Init,
    trainable: bool,
) -> Result<Tensor, tch::TchError> {
    if let Some(t) = p.get(name) {
        let have = t.size();
        if have == dims {
            return Ok(t);
        }
        if have.len() == dims.len() && have.iter().zip(dims).all(|(h, d)| h >= d) {
            let mut v = t;
            for (k, (&h, &d)) in have.iter().zip(dims).enumerate() {
                if h != d {
                    let centre = have.len() == 4 && k >= 2;
                    let start = if centre { (h - d) / 2 } else { 0 };
                    v = v.f_narrow(k as i64, start, d)?;
                }
            }
            return Ok(v);
        }
        return Err(tch::TchError::Shape(format!(
            "a shared weight `{name}` exists with shape {have:?}, smaller than the {dims:?} this node \
             needs (build the largest architecture of a supernet first)"
        )));
    }
    if trainable {
        p.f_var(name, dims, init)
    } else {
        let t = nn::f_init(init, dims, p.device(), Kind::Float)?;
        Ok(p.add(name, t, false))
    }
}

impl Network {
    /// Creates (or reuses, by path) the parameters of every node of `graph` under `root`.
    /// Initialisation follows PyTorch's defaults (conv/linear: U(±1/√fan_in); norms: 1 and 0).
    pub fn new(root: &nn::Path, graph: &Graph) -> Result<Network, LowerError> {
        let mut weights = Vec::with_capacity(graph.nodes.len());
        for n in &graph.nodes {
            let fail = |e: tch::TchError| LowerError::Op {
                path: n.path.clone(),
                op: n.op.name(),
                span: n.span,
                message: first_line(&e.to_string()),
            };
            let p = node_path(root, &n.path);
            let in_shape = |k: usize| -> &[i64] {
                n.inputs
                    .get(k)
                    .map(|&i| graph.nodes[i].shape.as_slice())
                    .unwrap_or(&[])
            };
            let w = match &n.op {
                Op::Conv {
                    out,
                    kernel,
                    groups,
                    bias,
                    ..
                } => {
                    let cin = in_shape(0).get(1).copied().unwrap_or(1);
                    let fan_in = (cin / groups.max(&1)) * kernel * kernel;
                    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
                    let u = nn::Init::Uniform {
                        lo: -bound,
                        up: bound,
                    };
                    let w = var(
                        &p,
                        "weight",
                        &[*out, cin / groups, *kernel, *kernel],
                        u,
                        true,
                    )
                    .map_err(fail)?;
                    let b = if *bias {
                        Some(var(&p, "bias", &[*out], u, true).map_err(fail)?)
                    } else {
                        None
                    };
                    Weights::Affine { w, b }
                }
                Op::Linear { out, bias } => {
                    let d = in_shape(0).last().copied().unwrap_or(1);
                    let bound = 1.0 / (d.max(1) as f64).sqrt();
                    let u = nn::Init::Uniform {
                        lo: -bound,
                        up: bound,
                    };
                    let w = var(&p, "weight", &[*out, d], u, true).map_err(fail)?;
                    let b = if *bias {
                        Some(var(&p, "bias", &[*out], u, true).map_err(fail)?)
                    } else {
                        None
                    };
                    Weights::Affine { w, b }
                }
                Op::BatchNorm { .. } => {
                    let c = in_shape(0).get(1).copied().unwrap_or(1);
                    let one = nn::Init::Const(1.0);
                    let zero = nn::Init::Const(0.0);
                    let tracked = match p.get("num_batches_tracked") {
                        Some(t) => t,
                        None => {
                            let t = Tensor::f_zeros([], (Kind::Int64, p.device())).map_err(fail)?;
                            p.add("num_batches_tracked", t, false)
                        }
                    };
                    Weights::BatchNorm {
                        w: var(&p, "weight", &[c], one, true).map_err(fail)?,
                        b: var(&p, "bias", &[c], zero, true).map_err(fail)?,
                        mean: var(&p, "running_mean", &[c], zero, false).map_err(fail)?,
                        var: var(&p, "running_var", &[c], one, false).map_err(fail)?,
                        tracked,
                    }
                }
                Op::LayerNorm { .. } | Op::GroupNorm { .. } => {
                    let c = if matches!(n.op, Op::LayerNorm { .. }) {
                        in_shape(0).last().copied().unwrap_or(1)
                    } else {
                        in_shape(0).get(1).copied().unwrap_or(1)
                    };
                    Weights::Affine {
                        w: var(&p, "weight", &[c], nn::Init::Const(1.0), true).map_err(fail)?,
                        b: Some(var(&p, "bias", &[c], nn::Init::Const(0.0), true).map_err(fail)?),
                    }
                }
                Op::Param { shape } => Weights::Param(
                    var(
                        &p,
                        "weight",
                        shape,
                        nn::Init::Randn {
                            mean: 0.0,
                            stdev: 0.02,
                        },
                        true,
                    )
                    .map_err(fail)?,
                ),
                _ => Weights::None,
            };
            weights.push(w);
        }
        let mut last_use: Vec<usize> = (0..graph.nodes.len()).collect();
        for (i, n) in graph.nodes.iter().enumerate() {
            for &j in &n.inputs {
                last_use[j] = last_use[j].max(i);
            }
        }
        for &o in &graph.outputs {
            last_use[o] = usize::MAX;
        }
        let batch = graph
            .inputs
            .first()
            .and_then(|&i| graph.nodes[i].shape.first().copied())
            .unwrap_or(1);
        Ok(Network {
            graph: graph.clone(),
            weights,
            last_use,
            batch,
            device: root.device(),
        })
    }

    /// The shape the graph's first input was built for.
    pub fn input_shape(&self) -> Vec<i64> {
        self.graph
            .inputs
            .first()
            .map(|&i| self.graph.nodes[i].shape.clone())
            .unwrap_or_default()
    }

    /// Runs the network on one input (the usual case). `train` selects batch-norm statistics and dropout.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor, LowerError> {
        let mut outs = self.forward_all(std::slice::from_ref(x), train)?;
        outs.pop()
            .ok_or_else(|| LowerError::Input("the network has no output".into()))
    }

    /// Runs the network on all its inputs (in the order of the entry block's parameters); returns the
    /// outputs. The first dimension of each input may differ from the built batch size.
    pub fn forward_all(&self, xs: &[Tensor], train: bool) -> Result<Vec<Tensor>, LowerError> {
        self.forward_observed(xs, train, &mut |_, _| {})
    }

    /// [`Network::forward_all`] that also shows each node's output to `observe` (node id, tensor) as soon
    /// as it is computed (training-free scores read the ReLU outputs this way).
    pub fn forward_observed(
        &self,
        xs: &[Tensor],
        train: bool,
        observe: &mut dyn FnMut(NodeId, &Tensor),
    ) -> Result<Vec<Tensor>, LowerError> {
        let g = &self.graph;
        if xs.len() != g.inputs.len() {
            return Err(LowerError::Input(format!(
                "the network takes {} input(s), {} given",
                g.inputs.len(),
                xs.len()
            )));
        }
        let rt_batch = xs.first().and_then(|x| x.size().first().copied());
        let mut vals: Vec<Option<Tensor>> = (0..g.nodes.len()).map(|_| None).collect();
        let mut next_input = 0;
        for (i, n) in g.nodes.iter().enumerate() {
            let fail = |e: tch::TchError| LowerError::Op {
                path: n.path.clone(),
                op: n.op.name(),
                span: n.span,
                message: first_line(&e.to_string()),
            };
            let arg = |k: usize| -> &Tensor {
                vals[n.inputs[k]]
                    .as_ref()
                    .expect("inputs are computed before their users and kept until their last use")
            };
            let follow_batch = |shape: &[i64]| -> Vec<i64> {
                let mut s = shape.to_vec();
                if let (Some(first), Some(b)) = (s.first_mut(), rt_batch) {
                    if *first == self.batch {
                        *first = b;
                    }
                }
                s
            };
            let y: Tensor = match (&n.op, &self.weights[i]) {
                (Op::Input { .. }, _) => {
                    let x = &xs[next_input];
                    next_input += 1;
                    let want = &n.shape;
                    let got = x.size();
                    if got.len() != want.len() || got.get(1..) != want.get(1..) {
                        return Err(LowerError::Input(format!(
                            "input `{}` should have shape [B, {}], got {got:?}",
                            n.path,
                            want.get(1..)
                                .unwrap_or_default()
                                .iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    x.shallow_clone()
                }
                (
                    Op::Conv {
                        stride,
                        padding,
                        dilation,
                        groups,
                        ..
                    },
                    Weights::Affine { w, b },
                ) => arg(0)
                    .f_conv2d(
                        w,
                        b.as_ref(),
                        [*stride, *stride],
                        [*padding, *padding],
                        [*dilation, *dilation],
                        *groups,
                    )
                    .map_err(fail)?,
                (Op::Linear { .. }, Weights::Affine { w, b }) => {
                    arg(0).f_linear(w, b.as_ref()).map_err(fail)?
                }
                (
                    Op::BatchNorm { eps, momentum },
                    Weights::BatchNorm {
                        w,
                        b,
                        mean,
                        var,
                        tracked,
                    },
                ) => {
                    if train {
                        let _ = tch::no_grad(|| tracked.shallow_clone().f_add_scalar_(1));
                    }
                    arg(0)
                        .f_batch_norm(
                            Some(w),
                            Some(b),
                            Some(mean),
                            Some(var),
                            train,
                            *momentum,
                            *eps,
                            true,
                        )
                        .map_err(fail)?
                }
                (Op::LayerNorm { eps }, Weights::Affine { w, b }) => {
                    let d = *arg(0).size().last().unwrap_or(&1);
                    arg(0)
                        .f_layer_norm([d], Some(w), b.as_ref(), *eps, true)
                        .map_err(fail)?
                }
                (Op::GroupNorm { groups, eps }, Weights::Affine { w, b }) => arg(0)
                    .f_group_norm(*groups, Some(w), b.as_ref(), *eps, true)
                    .map_err(fail)?,
                (Op::Act { f }, _) => {
                    let x = arg(0);
                    match f {
                        Activation::Relu => x.f_relu(),
                        Activation::Relu6 => x.f_relu6(),
                        Activation::Gelu => x.f_gelu("none"),
                        Activation::Silu => x.f_silu(),
                        Activation::Sigmoid => x.f_sigmoid(),
                        Activation::Tanh => x.f_tanh(),
                        Activation::Hardswish => x.f_hardswish(),
                        Activation::Hardsigmoid => x.f_hardsigmoid(),
                    }
                    .map_err(fail)?
                }
                (Op::Softmax { dim }, _) => arg(0).f_softmax(*dim, None::<Kind>).map_err(fail)?,
                (Op::Dropout { p }, _) => {
                    if train && *p > 0.0 {
                        arg(0).f_dropout(*p, true).map_err(fail)?
                    } else {
                        arg(0).shallow_clone()
                    }
                }
                (Op::Identity, _) => arg(0).shallow_clone(),
                (Op::Zero, _) => arg(0).f_mul_scalar(0.0).map_err(fail)?,
                (
                    Op::Pool {
                        kind,
                        kernel,
                        stride,
                        padding,
                    },
                    _,
                ) => {
                    let (k, s, p) = ([*kernel, *kernel], [*stride, *stride], [*padding, *padding]);
                    match kind {
                        PoolKind::Avg => arg(0).f_avg_pool2d(k, s, p, false, true, None::<i64>),
                        PoolKind::Max => arg(0).f_max_pool2d(k, s, p, [1, 1], false),
                    }
                    .map_err(fail)?
                }
                (Op::GlobalPool { kind, keepdim }, _) => match kind {
                    PoolKind::Avg => arg(0).f_mean_dim(&[2i64, 3][..], *keepdim, None::<Kind>),
                    PoolKind::Max => arg(0).f_amax([2i64, 3], *keepdim),
                }
                .map_err(fail)?,
                (Op::Mean { dim, keepdim }, _) => arg(0)
                    .f_mean_dim(&[*dim][..], *keepdim, None::<Kind>)
                    .map_err(fail)?,
                (Op::Flatten { start }, _) => arg(0).f_flatten(*start, -1).map_err(fail)?,
                (Op::Reshape { shape }, _) => {
                    arg(0).f_reshape(follow_batch(shape)).map_err(fail)?
                }
                (Op::Transpose { d0, d1 }, _) => arg(0).f_transpose(*d0, *d1).map_err(fail)?,
                (Op::Permute { dims }, _) => arg(0).f_permute(dims.as_slice()).map_err(fail)?,
                (Op::Add, _) => arg(0).f_add(arg(1)).map_err(fail)?,
                (Op::Mul, _) => arg(0).f_mul(arg(1)).map_err(fail)?,
                (Op::Concat { dim }, _) => {
                    let ts: Vec<&Tensor> = (0..n.inputs.len()).map(arg).collect();
                    Tensor::f_cat(&ts, *dim).map_err(fail)?
                }
                (Op::Matmul, _) => arg(0).f_matmul(arg(1)).map_err(fail)?,
                (Op::Einsum { spec }, _) => {
                    let ts: Vec<&Tensor> = (0..n.inputs.len()).map(arg).collect();
                    Tensor::f_einsum(spec, &ts, None::<&[i64]>).map_err(fail)?
                }
                (Op::Scale { s }, _) => arg(0).f_mul_scalar(*s).map_err(fail)?,
                (Op::Param { .. }, Weights::Param(t)) => t.shallow_clone(),
                (Op::Expand { shape }, _) => {
                    arg(0).f_expand(follow_batch(shape), false).map_err(fail)?
                }
                (Op::Select { dim, index }, _) => arg(0).f_select(*dim, *index).map_err(fail)?,
                (Op::Slice { dim, start, end }, _) => {
                    arg(0).f_slice(*dim, *start, *end, 1).map_err(fail)?
                }
                (op, _) => {
                    return Err(LowerError::Op {
                        path: n.path.clone(),
                        op: op.name(),
                        span: n.span,
                        message: "internal: the node has no weights".into(),
                    })
                }
            };
            observe(i, &y);
            vals[i] = Some(y);
            for &j in &n.inputs {
                if self.last_use[j] == i {
                    vals[j] = None;
                }
            }
        }
        Ok(g.outputs
            .iter()
            .map(|&o| {
                vals[o]
                    .take()
                    .unwrap_or_else(|| Tensor::zeros([], (Kind::Float, self.device)))
            })
            .collect())
    }

    /// Number of learned parameters (elements) of the network's own nodes.
    pub fn num_params(&self) -> i64 {
        self.weights
            .iter()
            .map(|w| match w {
                Weights::None => 0,
                Weights::Affine { w, b } => {
                    w.numel() as i64 + b.as_ref().map_or(0, |b| b.numel() as i64)
                }
                Weights::BatchNorm { w, b, .. } => (w.numel() + b.numel()) as i64,
                Weights::Param(t) => t.numel() as i64,
            })
            .sum()
    }

    /// The id of the node at a path.
    pub fn node(&self, path: &str) -> Option<NodeId> {
        self.graph.find(path)
    }
}
