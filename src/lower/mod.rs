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
use crate::ir::{Activation, Graph, Node, NodeId, Op, PoolKind};
use std::fmt;
pub mod export;
pub mod optim;
pub mod session;
pub mod supernet;
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
    /// A training checkpoint folder cannot be resumed (`nasc train --resume DIR`): missing, from another
    /// run, damaged.
    Resume { dir: String, message: String },
    /// The training loss became NaN or infinite: training stopped there (1-based epoch and step).
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
        lr: f64,
    },
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::Op {
                path, op, message, ..
            } => write!(f, "libtorch failed on `{op}` at `{path}`: {message}"),
            LowerError::Device(m) | LowerError::Input(m) | LowerError::Torch(m) => f.write_str(m),
            LowerError::Io { file, message } => write!(f, "`{file}`: {message}"),
            LowerError::Resume { dir, message } => {
                write!(f, "cannot resume from `{dir}`: {message}")
            }
            LowerError::Data(e) => write!(f, "{e}"),
            LowerError::Diverged {
                epoch,
                step,
                loss,
                lr,
            } => write!(
                f,
                "the loss diverged ({loss}) at epoch {epoch}, step {step}, with a learning rate of {}; \
                 training stopped",
                number(*lr)
            ),
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

/// A number as people write it: `0.05`, `1e30`.
pub fn number(x: f64) -> String {
    if x == 0.0 || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// libtorch messages carry a C++ backtrace after the first line(s); keep the message
/// ([`crate::data::torch_message`]).
fn first_line(s: &str) -> String {
    crate::data::torch_message(s)
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

/// What running a node needs besides its inputs.
struct Ctx<'a> {
    /// The network's inputs.
    inputs: &'a [Tensor],
    train: bool,
    /// The batch size of this run (the first dimension of the first input).
    batch: Option<i64>,
    /// Batch norm's running-statistics momentum for this run instead of each layer's own (calibration:
    /// 1 on the first batch, 1/k on the k-th, so the statistics are the average over the batches).
    bn_momentum: Option<f64>,
}

/// The inputs of the node being run: the values computed so far and the node's input ids.
struct Args<'a> {
    vals: &'a [Option<Tensor>],
    of: &'a [NodeId],
}

impl Args<'_> {
    fn get(&self, k: usize) -> &Tensor {
        self.vals[self.of[k]]
            .as_ref()
            .expect("inputs are computed before their users and kept until their last use")
    }

    fn all(&self) -> Vec<&Tensor> {
        (0..self.of.len()).map(|k| self.get(k)).collect()
    }
}

/// Why running a node failed.
enum Failure {
    Torch(tch::TchError),
    /// The network input does not fit (becomes [`LowerError::Input`]).
    Input(String),
}

impl From<tch::TchError> for Failure {
    fn from(e: tch::TchError) -> Self {
        Failure::Torch(e)
    }
}

type Run = Box<dyn Fn(&Ctx, &Args) -> Result<Tensor, Failure> + Send>;

/// A lowered node: the number of learned parameters it owns, and how it runs (holding its tensors).
struct Layer {
    params: i64,
    run: Run,
}

impl fmt::Debug for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layer")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Layer {
    fn new(
        params: i64,
        run: impl Fn(&Ctx, &Args) -> Result<Tensor, Failure> + Send + 'static,
    ) -> Layer {
        Layer {
            params,
            run: Box::new(run),
        }
    }

    /// A node without tensors of its own that maps its first input.
    fn unary(f: impl Fn(&Tensor) -> Result<Tensor, tch::TchError> + Send + 'static) -> Layer {
        Layer::new(0, move |_, a| Ok(f(a.get(0))?))
    }
}

/// The error of a node that libtorch rejected.
fn node_error(n: &Node, e: tch::TchError) -> LowerError {
    LowerError::Op {
        path: n.path.clone(),
        op: n.op.name(),
        span: n.span,
        message: first_line(&e.to_string()),
    }
}

/// A lowered network: the graph and the lowered nodes.
#[derive(Debug)]
pub struct Network {
    pub graph: Graph,
    layers: Vec<Layer>,
    /// Last user of each node (to free activations early); outputs are kept.
    last_use: Vec<usize>,
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

/// The part of a shared tensor `t` that a subnet needing shape `dims` uses: the leading channels / features
/// of every dimension, and the centre of a conv kernel's spatial dimensions (a 3×3 kernel is the middle of
/// a shared 5×5). A view: writing it writes `t`. `None` when `t` is smaller than `dims` somewhere.
pub fn shared_slice(t: &Tensor, dims: &[i64]) -> Result<Option<Tensor>, tch::TchError> {
    let have = t.size();
    if have == dims {
        return Ok(Some(t.shallow_clone()));
    }
    if have.len() != dims.len() || have.iter().zip(dims).any(|(h, d)| h < d) {
        return Ok(None);
    }
    let mut v = t.shallow_clone();
    for (k, (&h, &d)) in have.iter().zip(dims).enumerate() {
        if h != d {
            let centre = have.len() == 4 && k >= 2;
            let start = if centre { (h - d) / 2 } else { 0 };
            v = v.f_narrow(k as i64, start, d)?;
        }
    }
    Ok(Some(v))
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
    let sharing = SHARING.with(|s| s.get());
    if let Some(t) = p.get(name) {
        if let Some(v) = shared_slice(&t, dims)? {
            return Ok(v);
        }
        let have = t.size();
        if sharing == Sharing::Grow && have.len() == dims.len() {
            let max: Vec<i64> = have.iter().zip(dims).map(|(a, b)| *a.max(b)).collect();
            grow(&t, &max, init)?;
            if let Some(v) = shared_slice(&t, dims)? {
                return Ok(v);
            }
        }
        return Err(tch::TchError::Shape(format!(
            "a shared weight `{name}` exists with shape {have:?}, smaller than the {dims:?} this node \
             needs (a supernet is built from the largest architecture and grown to cover its space \
             before training)"
        )));
    }
    if sharing == Sharing::Frozen {
        return Err(tch::TchError::Shape(format!(
            "the supernet has no weight `{name}` for this node: its shapes were fixed before training \
             and this subnet needs one they do not cover"
        )));
    }
    if trainable {
        p.f_var(name, dims, init)
    } else {
        let t = nn::f_init(init, dims, p.device(), Kind::Float)?;
        Ok(p.add(name, t, false))
    }
}

/// Enlarges the shared tensor `t` in place to `max` (every dimension at least its own): the old values
/// stay where [`shared_slice`] finds them (leading channels, kernel centre), the new elements are
/// initialised with `init`. Every holder of `t` (the `VarStore`, earlier slices' base) sees the new size.
fn grow(t: &Tensor, max: &[i64], init: nn::Init) -> Result<(), tch::TchError> {
    tch::no_grad(|| -> Result<(), tch::TchError> {
        let trainable = t.requires_grad();
        let mut base = t.shallow_clone();
        let mut old = base.f_zeros_like()?;
        old.f_copy_(&base)?;
        let fresh = nn::f_init(init, max, base.device(), base.kind())?;
        if trainable {
            base = base.f_set_requires_grad(false)?;
        }
        let _ = base.f_resize_(max)?;
        base.f_copy_(&fresh)?;
        if let Some(mut region) = shared_slice(&base, &old.size())? {
            region.f_copy_(&old)?;
        }
        if trainable {
            let _ = base.f_set_requires_grad(true)?;
        }
        Ok(())
    })
}

/// How [`Network::new_sharing`] treats weights that already exist under the root (a supernet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Create what is missing; reuse (slice) what exists; a smaller existing weight is an error.
    Create,
    /// As `Create`, and enlarge a smaller existing weight to the elementwise maximum of both shapes
    /// (building a supernet's weights to cover its space, before any optimizer holds them).
    Grow,
    /// Only reuse: a missing or smaller weight is an error (subnets of a supernet being trained).
    Frozen,
}

thread_local! {
    static SHARING: std::cell::Cell<Sharing> = const { std::cell::Cell::new(Sharing::Create) };
}

/// Lowers one node: creates (or reuses, by path) its tensors under `p` and says how it runs. The one place
/// that knows how each op maps to libtorch. `inputs_seen` counts the graph inputs lowered so far (the k-th
/// input node takes the k-th tensor given to the network); `batch` is the batch size the graph was built
/// for (reshape and expand sizes equal to it follow the real batch).
fn lower_node(
    p: &nn::Path,
    g: &Graph,
    n: &Node,
    inputs_seen: &mut usize,
    batch: i64,
) -> Result<Layer, tch::TchError> {
    let in_shape = |k: usize| -> &[i64] {
        n.inputs
            .get(k)
            .map(|&i| g.nodes[i].shape.as_slice())
            .unwrap_or(&[])
    };
    let numel = |t: &Tensor| t.numel() as i64;
    let follow_batch = move |shape: &[i64], cx: &Ctx| -> Vec<i64> {
        let mut s = shape.to_vec();
        if let (Some(first), Some(b)) = (s.first_mut(), cx.batch) {
            if *first == batch {
                *first = b;
            }
        }
        s
    };
    Ok(match &n.op {
        Op::Input { .. } => {
            let k = *inputs_seen;
            *inputs_seen += 1;
            let (path, want) = (n.path.clone(), n.shape.clone());
            Layer::new(0, move |cx, _| {
                let x = &cx.inputs[k];
                let got = x.size();
                if got.len() != want.len() || got.get(1..) != want.get(1..) {
                    return Err(Failure::Input(format!(
                        "input `{path}` should have shape [B, {}], got {got:?}",
                        want.get(1..)
                            .unwrap_or_default()
                            .iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                Ok(x.shallow_clone())
            })
        }
        &Op::Conv {
            out,
            kernel,
            groups,
            bias,
            stride,
            padding,
            dilation,
        } => {
            let cin = in_shape(0).get(1).copied().unwrap_or(1);
            let fan_in = (cin / groups.max(1)) * kernel * kernel;
            let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
            let u = nn::Init::Uniform {
                lo: -bound,
                up: bound,
            };
            let w = var(p, "weight", &[out, cin / groups, kernel, kernel], u, true)?;
            let b = bias.then(|| var(p, "bias", &[out], u, true)).transpose()?;
            let params = numel(&w) + b.as_ref().map_or(0, numel);
            Layer::new(params, move |_, a| {
                Ok(a.get(0).f_conv2d(
                    &w,
                    b.as_ref(),
                    [stride, stride],
                    [padding, padding],
                    [dilation, dilation],
                    groups,
                )?)
            })
        }
        &Op::Linear { out, bias } => {
            let d = in_shape(0).last().copied().unwrap_or(1);
            let bound = 1.0 / (d.max(1) as f64).sqrt();
            let u = nn::Init::Uniform {
                lo: -bound,
                up: bound,
            };
            let w = var(p, "weight", &[out, d], u, true)?;
            let b = bias.then(|| var(p, "bias", &[out], u, true)).transpose()?;
            let params = numel(&w) + b.as_ref().map_or(0, numel);
            Layer::new(params, move |_, a| Ok(a.get(0).f_linear(&w, b.as_ref())?))
        }
        &Op::BatchNorm { eps, momentum } => {
            let c = in_shape(0).get(1).copied().unwrap_or(1);
            let one = nn::Init::Const(1.0);
            let zero = nn::Init::Const(0.0);
            let tracked = match p.get("num_batches_tracked") {
                Some(t) => t,
                None => {
                    let t = Tensor::f_zeros([], (Kind::Int64, p.device()))?;
                    p.add("num_batches_tracked", t, false)
                }
            };
            let w = var(p, "weight", &[c], one, true)?;
            let b = var(p, "bias", &[c], zero, true)?;
            let mean = var(p, "running_mean", &[c], zero, false)?;
            let running_var = var(p, "running_var", &[c], one, false)?;
            Layer::new(numel(&w) + numel(&b), move |cx, a| {
                if cx.train {
                    let _ = tch::no_grad(|| tracked.shallow_clone().f_add_scalar_(1));
                }
                Ok(a.get(0).f_batch_norm(
                    Some(&w),
                    Some(&b),
                    Some(&mean),
                    Some(&running_var),
                    cx.train,
                    cx.bn_momentum.unwrap_or(momentum),
                    eps,
                    true,
                )?)
            })
        }
        &Op::LayerNorm { eps } => {
            let c = in_shape(0).last().copied().unwrap_or(1);
            let (w, b) = norm_affine(p, c)?;
            Layer::new(numel(&w) + numel(&b), move |_, a| {
                let x = a.get(0);
                let d = *x.size().last().unwrap_or(&1);
                Ok(x.f_layer_norm([d], Some(&w), Some(&b), eps, true)?)
            })
        }
        &Op::GroupNorm { groups, eps } => {
            let c = in_shape(0).get(1).copied().unwrap_or(1);
            let (w, b) = norm_affine(p, c)?;
            Layer::new(numel(&w) + numel(&b), move |_, a| {
                Ok(a.get(0)
                    .f_group_norm(groups, Some(&w), Some(&b), eps, true)?)
            })
        }
        &Op::Act { f } => Layer::unary(move |x| match f {
            Activation::Relu => x.f_relu(),
            Activation::Relu6 => x.f_relu6(),
            Activation::Gelu => x.f_gelu("none"),
            Activation::Silu => x.f_silu(),
            Activation::Sigmoid => x.f_sigmoid(),
            Activation::Tanh => x.f_tanh(),
            Activation::Hardswish => x.f_hardswish(),
            Activation::Hardsigmoid => x.f_hardsigmoid(),
        }),
        &Op::Softmax { dim } => Layer::unary(move |x| x.f_softmax(dim, None::<Kind>)),
        &Op::Dropout { p: rate } => Layer::new(0, move |cx, a| {
            let x = a.get(0);
            Ok(if cx.train && rate > 0.0 {
                x.f_dropout(rate, true)?
            } else {
                x.shallow_clone()
            })
        }),
        Op::Identity => Layer::unary(|x| Ok(x.shallow_clone())),
        Op::Zero => Layer::unary(|x| x.f_mul_scalar(0.0)),
        &Op::Pool {
            kind,
            kernel,
            stride,
            padding,
        } => {
            let (k, s, pad) = ([kernel, kernel], [stride, stride], [padding, padding]);
            Layer::unary(move |x| match kind {
                PoolKind::Avg => x.f_avg_pool2d(k, s, pad, false, true, None::<i64>),
                PoolKind::Max => x.f_max_pool2d(k, s, pad, [1, 1], false),
            })
        }
        &Op::GlobalPool { kind, keepdim } => Layer::unary(move |x| match kind {
            PoolKind::Avg => x.f_mean_dim(&[2i64, 3][..], keepdim, None::<Kind>),
            PoolKind::Max => x.f_amax([2i64, 3], keepdim),
        }),
        &Op::Mean { dim, keepdim } => {
            Layer::unary(move |x| x.f_mean_dim(&[dim][..], keepdim, None::<Kind>))
        }
        &Op::Flatten { start } => Layer::unary(move |x| x.f_flatten(start, -1)),
        Op::Reshape { shape } => {
            let shape = shape.clone();
            Layer::new(0, move |cx, a| {
                Ok(a.get(0).f_reshape(follow_batch(&shape, cx))?)
            })
        }
        &Op::Transpose { d0, d1 } => Layer::unary(move |x| x.f_transpose(d0, d1)),
        Op::Permute { dims } => {
            let dims = dims.clone();
            Layer::unary(move |x| x.f_permute(dims.as_slice()))
        }
        Op::Add => Layer::new(0, |_, a| Ok(a.get(0).f_add(a.get(1))?)),
        Op::Mul => Layer::new(0, |_, a| Ok(a.get(0).f_mul(a.get(1))?)),
        &Op::Concat { dim } => Layer::new(0, move |_, a| Ok(Tensor::f_cat(&a.all(), dim)?)),
        Op::Matmul => Layer::new(0, |_, a| Ok(a.get(0).f_matmul(a.get(1))?)),
        Op::Einsum { spec } => {
            let spec = spec.clone();
            Layer::new(0, move |_, a| {
                Ok(Tensor::f_einsum(&spec, &a.all(), None::<&[i64]>)?)
            })
        }
        &Op::Scale { s } => Layer::unary(move |x| x.f_mul_scalar(s)),
        Op::Param { shape } => {
            let init = nn::Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            };
            let t = var(p, "weight", shape, init, true)?;
            Layer::new(numel(&t), move |_, _| Ok(t.shallow_clone()))
        }
        Op::Expand { shape } => {
            let shape = shape.clone();
            Layer::new(0, move |cx, a| {
                Ok(a.get(0).f_expand(follow_batch(&shape, cx), false)?)
            })
        }
        &Op::Select { dim, index } => Layer::unary(move |x| x.f_select(dim, index)),
        &Op::Slice { dim, start, end } => Layer::unary(move |x| x.f_slice(dim, start, end, 1)),
    })
}

/// The affine weight (ones) and bias (zeros) of a layer or group norm over `c` features.
fn norm_affine(p: &nn::Path, c: i64) -> Result<(Tensor, Tensor), tch::TchError> {
    Ok((
        var(p, "weight", &[c], nn::Init::Const(1.0), true)?,
        var(p, "bias", &[c], nn::Init::Const(0.0), true)?,
    ))
}

impl Network {
    /// Creates (or reuses, by path) the parameters of every node of `graph` under `root`.
    /// Initialisation follows PyTorch's defaults (conv/linear: U(±1/√fan_in); norms: 1 and 0).
    pub fn new(root: &nn::Path, graph: &Graph) -> Result<Network, LowerError> {
        Self::new_sharing(root, graph, Sharing::Create)
    }

    /// [`Network::new`] with a rule for weights that already exist under `root` ([`Sharing`]).
    pub fn new_sharing(
        root: &nn::Path,
        graph: &Graph,
        sharing: Sharing,
    ) -> Result<Network, LowerError> {
        let before = SHARING.with(|s| s.replace(sharing));
        let r = Self::lower(root, graph);
        SHARING.with(|s| s.set(before));
        r
    }

    fn lower(root: &nn::Path, graph: &Graph) -> Result<Network, LowerError> {
        let batch = graph
            .inputs
            .first()
            .and_then(|&i| graph.nodes[i].shape.first().copied())
            .unwrap_or(1);
        let mut inputs_seen = 0;
        let layers = graph
            .nodes
            .iter()
            .map(|n| {
                lower_node(&node_path(root, &n.path), graph, n, &mut inputs_seen, batch)
                    .map_err(|e| node_error(n, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut last_use: Vec<usize> = (0..graph.nodes.len()).collect();
        for (i, n) in graph.nodes.iter().enumerate() {
            for &j in &n.inputs {
                last_use[j] = last_use[j].max(i);
            }
        }
        for &o in &graph.outputs {
            last_use[o] = usize::MAX;
        }
        Ok(Network {
            graph: graph.clone(),
            layers,
            last_use,
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
        self.run(xs, train, None, observe)
    }

    /// Re-estimates the running statistics of every batch norm of the network from `batches` (train-mode
    /// forward passes without gradients; the statistics become the average over the batches, as
    /// PyTorch's `momentum=None` does), touching no parameter. In a supernet this writes only the slices of
    /// the shared statistics this subnet uses: calibrate a subnet right before evaluating it.
    pub fn calibrate_batch_norm(
        &self,
        batches: impl Iterator<Item = Result<Tensor, LowerError>>,
    ) -> Result<usize, LowerError> {
        let mut k = 0usize;
        tch::no_grad(|| -> Result<(), LowerError> {
            for x in batches {
                let x = x?;
                k += 1;
                self.run(
                    std::slice::from_ref(&x),
                    true,
                    Some(1.0 / k as f64),
                    &mut |_, _| {},
                )?;
            }
            Ok(())
        })?;
        Ok(k)
    }

    fn run(
        &self,
        xs: &[Tensor],
        train: bool,
        bn_momentum: Option<f64>,
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
        let cx = Ctx {
            inputs: xs,
            train,
            batch: xs.first().and_then(|x| x.size().first().copied()),
            bn_momentum,
        };
        let mut vals: Vec<Option<Tensor>> = (0..g.nodes.len()).map(|_| None).collect();
        for (i, (n, layer)) in g.nodes.iter().zip(&self.layers).enumerate() {
            let args = Args {
                vals: &vals,
                of: &n.inputs,
            };
            let y = (layer.run)(&cx, &args).map_err(|e| match e {
                Failure::Torch(e) => node_error(n, e),
                Failure::Input(m) => LowerError::Input(m),
            })?;
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
        self.layers.iter().map(|l| l.params).sum()
    }

    /// The id of the node at a path.
    pub fn node(&self, path: &str) -> Option<NodeId> {
        self.graph.find(path)
    }
}
