//! Synthesis targets: the JSON of `nasc props --json` (shape, depth, mixing) plus optional `constraints`
//! (op counts, parameter and MAC budgets, the op library and kwarg domains), read and validated. A
//! malformed target is an error that names the field (and its line and column when the JSON parser knows
//! them), never a silently different target. The format is documented in docs/synthesis.md.

use super::json;
use crate::ir::Activation;
use crate::props::{Matrix, Props};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Ops the synthesizer may use (the alpha-NAS library plus `tanh`, `flatten`, `transpose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    Conv,
    Linear,
    BatchNorm,
    LayerNorm,
    GroupNorm,
    Act(Activation),
    Softmax,
    Dropout,
    Scale,
    AvgPool,
    MaxPool,
    GlobalAvgPool,
    GlobalMaxPool,
    Flatten,
    Transpose,
}

impl OpKind {
    /// Every op of the library, in the order the encoding numbers them.
    pub const ALL: &'static [OpKind] = &[
        OpKind::Conv,
        OpKind::Linear,
        OpKind::BatchNorm,
        OpKind::LayerNorm,
        OpKind::GroupNorm,
        OpKind::Act(Activation::Relu),
        OpKind::Act(Activation::Gelu),
        OpKind::Act(Activation::Silu),
        OpKind::Act(Activation::Sigmoid),
        OpKind::Act(Activation::Tanh),
        OpKind::Softmax,
        OpKind::Dropout,
        OpKind::Scale,
        OpKind::AvgPool,
        OpKind::MaxPool,
        OpKind::GlobalAvgPool,
        OpKind::GlobalMaxPool,
        OpKind::Flatten,
        OpKind::Transpose,
    ];

    /// The NASL name.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Conv => "conv",
            OpKind::Linear => "linear",
            OpKind::BatchNorm => "batch_norm",
            OpKind::LayerNorm => "layer_norm",
            OpKind::GroupNorm => "group_norm",
            OpKind::Act(Activation::Relu) => "relu",
            OpKind::Act(Activation::Relu6) => "relu6",
            OpKind::Act(Activation::Gelu) => "gelu",
            OpKind::Act(Activation::Silu) => "silu",
            OpKind::Act(Activation::Sigmoid) => "sigmoid",
            OpKind::Act(Activation::Tanh) => "tanh",
            OpKind::Act(Activation::Hardswish) => "hardswish",
            OpKind::Act(Activation::Hardsigmoid) => "hardsigmoid",
            OpKind::Softmax => "softmax",
            OpKind::Dropout => "dropout",
            OpKind::Scale => "scale",
            OpKind::AvgPool => "avg_pool",
            OpKind::MaxPool => "max_pool",
            OpKind::GlobalAvgPool => "global_avg_pool",
            OpKind::GlobalMaxPool => "global_max_pool",
            OpKind::Flatten => "flatten",
            OpKind::Transpose => "transpose",
        }
    }

    pub fn from_name(s: &str) -> Option<OpKind> {
        let s = if s == "swish" { "silu" } else { s };
        Self::ALL.iter().copied().find(|o| o.name() == s)
    }

    /// Nonlinear for depth (activations and softmax); everything else in the library is linear.
    pub fn nonlinear(self) -> bool {
        matches!(self, OpKind::Act(_) | OpKind::Softmax)
    }
}

/// A channel (feature) factor of `conv` and `linear`: `x2` doubles, `/2` halves, `out` sets the target
/// output's channel count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Factor {
    Mul(i64),
    Div(i64),
    Out,
}

impl Factor {
    pub fn parse(s: &str) -> Option<Factor> {
        let s = s.trim();
        if s == "out" {
            return Some(Factor::Out);
        }
        let (div, n) = if let Some(n) = s.strip_prefix('/') {
            (true, n)
        } else if let Some(n) = s.strip_prefix('x').or_else(|| s.strip_prefix('*')) {
            (false, n)
        } else {
            (false, s)
        };
        let n: i64 = n.parse().ok().filter(|&n| (1..=64).contains(&n))?;
        Some(if div && n > 1 {
            Factor::Div(n)
        } else {
            Factor::Mul(n)
        })
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Factor::Mul(n) => write!(f, "x{n}"),
            Factor::Div(n) => write!(f, "/{n}"),
            Factor::Out => f.write_str("out"),
        }
    }
}

/// The optional `constraints` object of a target. Every field is optional; absent fields take the
/// defaults of docs/synthesis.md (the alpha-NAS library and domains).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Fewest / most ops in the synthesized program (joins count as ops).
    pub min_ops: Option<usize>,
    pub max_ops: Option<usize>,
    /// Parameter budget (the `nasc cost` convention).
    pub max_params: Option<i64>,
    /// MAC budget per sample (the `nasc cost` convention: conv and linear MACs; "FLOPs" in the papers).
    pub max_flops: Option<i64>,
    /// The op library (NASL names); default: all of [`OpKind::ALL`].
    pub ops: Option<Vec<String>>,
    /// `conv` kernel sizes (odd; default 1, 3, 5).
    pub kernel: Option<Vec<i64>>,
    /// `conv` strides (default 1, 2).
    pub stride: Option<Vec<i64>>,
    /// `conv` dilations (default 1, 2).
    pub dilation: Option<Vec<i64>>,
    /// `conv` / `group_norm` group counts (default 1, 2, 4) — `"depthwise"` allows groups = channels.
    pub groups: Option<Vec<serde_json::Value>>,
    /// Pool windows with stride = window (default 2, 3, 4, 8); 3×3 pools with stride 1 or 2 and
    /// padding 1 are always in the library when a pool is.
    pub window: Option<Vec<i64>>,
    /// Channel factors of conv and linear (default `x1 x2 x4 /2 /4 out`).
    pub channel_factors: Option<Vec<String>>,
    /// Program sketches to try (default `chain`, `add`, `concat`).
    pub sketches: Option<Vec<String>>,
}

/// The sketch families (docs/synthesis.md): a chain of ops, or two branches from the input joined by
/// `add` / `concat` followed by a short tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SketchKind {
    Chain,
    Add,
    Concat,
}

impl SketchKind {
    pub fn name(self) -> &'static str {
        match self {
            SketchKind::Chain => "chain",
            SketchKind::Add => "add",
            SketchKind::Concat => "concat",
        }
    }
}

/// The library and domains a target allows, resolved from its constraints.
#[derive(Clone, Debug)]
pub struct Library {
    pub ops: Vec<OpKind>,
    pub kernels: Vec<i64>,
    pub strides: Vec<i64>,
    pub dilations: Vec<i64>,
    /// Group counts > 1 (1 is always allowed).
    pub groups: Vec<i64>,
    pub depthwise: bool,
    pub windows: Vec<i64>,
    pub factors: Vec<Factor>,
    pub sketches: Vec<SketchKind>,
}

/// A validated target.
#[derive(Clone, Debug)]
pub struct Target {
    pub props: Props,
    pub constraints: Constraints,
    pub library: Library,
}

/// A problem with a target, naming the field (a JSON path such as `depth[1].output`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError {
    pub field: String,
    pub message: String,
    /// 1-based line and column in the JSON text, when known.
    pub position: Option<(usize, usize)>,
    /// The byte range of the value (or key) the error is about, when known.
    pub range: Option<std::ops::Range<usize>>,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.field, self.message)
        }
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> TargetError {
    TargetError {
        field: field.into(),
        message: message.into(),
        position: None,
        range: None,
    }
}

const TOP_FIELDS: &[&str] = &[
    "source",
    "inputs",
    "outputs",
    "depth",
    "mixing",
    "constraints",
];

/// Places an error at a byte range of the text.
fn at(mut e: TargetError, text: &str, r: std::ops::Range<usize>) -> TargetError {
    e.position = Some(json::line_col(text, r.start));
    e.range = Some(r);
    e
}

/// serde's message without its " at line L column C" tail.
fn bare(msg: &str) -> String {
    msg.rsplit_once(" at line ")
        .map(|(m, _)| m.to_string())
        .unwrap_or_else(|| msg.to_string())
}

/// The name between the first pair of backticks of a serde message (`unknown field `x``).
fn quoted(msg: &str) -> Option<&str> {
    msg.split('`').nth(1)
}

/// Deserializes the top-level field `name` from its own text, so that an error carries the JSON path
/// and the position of the value it is about (serde reports neither through the flattened props).
fn field<T: serde::de::DeserializeOwned>(
    text: &str,
    spans: &[json::Span],
    name: &str,
) -> Result<Option<T>, TargetError> {
    let Some(top) = spans.iter().find(|s| s.path == name) else {
        return Ok(None);
    };
    let base = top.range.start;
    let sub = &text[top.range.clone()];
    serde_json::from_str::<T>(sub).map(Some).map_err(|e| {
        let msg = e.to_string();
        let off = base + json::offset(sub, e.line(), e.column());
        let inner = json::innermost(spans, off).unwrap_or(top);
        let container = spans
            .iter()
            .filter(|s| s.range.start <= off && off <= s.range.end)
            .filter(|s| text.as_bytes().get(s.range.start) == Some(&b'{'))
            .min_by_key(|s| s.range.len())
            .unwrap_or(inner);
        let named = |f: &str| {
            if container.path.is_empty() {
                f.to_string()
            } else {
                format!("{}.{f}", container.path)
            }
        };
        if msg.starts_with("unknown field") {
            let f = named(quoted(&msg).unwrap_or(""));
            let r = spans
                .iter()
                .find(|s| s.path == f)
                .and_then(|s| s.key.clone())
                .unwrap_or(container.range.clone());
            at(err(f, bare(&msg)), text, r)
        } else if msg.starts_with("missing field") {
            let f = named(quoted(&msg).unwrap_or(""));
            let r = container.range.start..container.range.start + 1;
            at(err(f, bare(&msg)), text, r)
        } else {
            at(
                err(inner.path.clone(), bare(&msg)),
                text,
                inner.range.clone(),
            )
        }
    })
}

/// Parses and validates a target.
pub fn parse(text: &str) -> Result<Target, TargetError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| TargetError {
        field: String::new(),
        message: format!("not valid JSON: {}", bare(&e.to_string())),
        position: Some((e.line(), e.column())),
        range: None,
    })?;
    let spans = json::spans(text);
    let obj = value.as_object().ok_or_else(|| {
        let e = err(
            "",
            "a target is a JSON object (the output of `nasc props --json`)",
        );
        match json::find(&spans, "") {
            Some(root) => at(e, text, root.range.clone()),
            None => e,
        }
    })?;
    for k in obj.keys() {
        if !TOP_FIELDS.contains(&k.as_str()) {
            let hint = crate::check::program::closest(k, TOP_FIELDS.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            let e = err(
                k.clone(),
                format!(
                    "unknown field (expected one of {}){hint}",
                    TOP_FIELDS.join(", ")
                ),
            );
            return Err(match spans.iter().find(|s| s.path == *k) {
                Some(s) => at(e, text, s.key.clone().unwrap_or(s.range.clone())),
                None => e,
            });
        }
    }
    for k in ["inputs", "outputs"] {
        if !obj.contains_key(k) {
            return Err(at(
                err(
                    k,
                    "missing: a target needs `inputs` and `outputs` (as `nasc props --json` prints them)",
                ),
                text,
                0..1.min(text.len()),
            ));
        }
    }
    let props = Props {
        source: field(text, &spans, "source")?,
        shape: crate::props::Shape {
            inputs: field(text, &spans, "inputs")?.unwrap_or_default(),
            outputs: field(text, &spans, "outputs")?.unwrap_or_default(),
        },
        depth: field(text, &spans, "depth")?.unwrap_or_default(),
        mixing: field(text, &spans, "mixing")?.unwrap_or_default(),
    };
    let constraints: Constraints = field(text, &spans, "constraints")?.unwrap_or_default();
    let library = validate(&props, &constraints).map_err(|e| {
        if e.position.is_some() {
            return e;
        }
        match json::find(&spans, &e.field) {
            Some(s) => {
                let r = s.range.clone();
                at(e, text, r)
            }
            None => e,
        }
    })?;
    Ok(Target {
        props,
        constraints,
        library,
    })
}

impl Target {
    /// A target from properties (e.g. of a subgraph) and constraints, validated.
    pub fn new(props: Props, constraints: Constraints) -> Result<Target, TargetError> {
        let library = validate(&props, &constraints)?;
        Ok(Target {
            props,
            constraints,
            library,
        })
    }
}

fn validate(p: &Props, c: &Constraints) -> Result<Library, TargetError> {
    if p.shape.inputs.len() != 1 {
        return Err(err(
            "inputs",
            format!(
                "synthesis supports subgraphs with one input; the target has {}",
                p.shape.inputs.len()
            ),
        ));
    }
    if p.shape.outputs.len() != 1 {
        return Err(err(
            "outputs",
            format!(
                "synthesis supports subgraphs with one output; the target has {}",
                p.shape.outputs.len()
            ),
        ));
    }
    let (inp, out) = (&p.shape.inputs[0], &p.shape.outputs[0]);
    for (f, t) in [("inputs[0]", inp), ("outputs[0]", out)] {
        if !(2..=4).contains(&t.shape.len()) {
            return Err(err(
                format!("{f}.shape"),
                format!(
                    "rank {} is not supported (rank 2 [N, F], 3 [N, T, D] or 4 [N, C, H, W])",
                    t.shape.len()
                ),
            ));
        }
        if let Some(d) = t.shape.iter().find(|&&d| d < 1) {
            return Err(err(
                format!("{f}.shape"),
                format!("dimension {d} is not a positive size"),
            ));
        }
        if t.shape.iter().any(|&d| d > 1 << 20) {
            return Err(err(
                format!("{f}.shape"),
                "a dimension above 1,048,576 is out of range",
            ));
        }
    }
    if inp.shape[0] != out.shape[0] {
        return Err(err(
            "outputs[0].shape",
            format!(
                "the batch dimension {} differs from the input's {}",
                out.shape[0], inp.shape[0]
            ),
        ));
    }
    let names = |f: &str, i: usize, o: &str, n: &str| -> Result<(), TargetError> {
        if o != out.name {
            return Err(err(
                format!("{f}[{i}].output"),
                format!("`{o}` is not the target's output (`{}`)", out.name),
            ));
        }
        if n != inp.name {
            return Err(err(
                format!("{f}[{i}].input"),
                format!("`{n}` is not the target's input (`{}`)", inp.name),
            ));
        }
        Ok(())
    };
    for (i, d) in p.depth.pairs.iter().enumerate() {
        names("depth", i, &d.output, &d.input)?;
        if d.depth > 256 {
            return Err(err(
                format!("depth[{i}].depth"),
                "a depth above 256 is out of range",
            ));
        }
    }
    for (i, m) in p.mixing.pairs.iter().enumerate() {
        names("mixing", i, &m.output, &m.input)?;
        let Matrix { rows, cols, .. } = m.matrix;
        if rows != inp.shape.len() || cols != out.shape.len() {
            return Err(err(
                format!("mixing[{i}].matrix"),
                format!(
                    "a {rows}×{cols} matrix; the pair needs {}×{} (input rank × output rank)",
                    inp.shape.len(),
                    out.shape.len()
                ),
            ));
        }
    }
    library(c, inp.shape.len(), out.shape.len())
}

fn library(c: &Constraints, rin: usize, rout: usize) -> Result<Library, TargetError> {
    let ops = match &c.ops {
        None => OpKind::ALL.to_vec(),
        Some(v) => {
            let mut ops = Vec::new();
            for (i, n) in v.iter().enumerate() {
                let op = OpKind::from_name(n).ok_or_else(|| {
                    let names: Vec<&str> = OpKind::ALL.iter().map(|o| o.name()).collect();
                    let hint = crate::check::program::closest(n, names.iter().copied())
                        .map(|c| format!(" — did you mean `{c}`?"))
                        .unwrap_or_default();
                    err(
                        format!("constraints.ops[{i}]"),
                        format!(
                            "`{n}` is not in the synthesis library ({}){hint}",
                            names.join(", ")
                        ),
                    )
                })?;
                if !ops.contains(&op) {
                    ops.push(op);
                }
            }
            if ops.is_empty() {
                return Err(err("constraints.ops", "the op library is empty"));
            }
            ops
        }
    };
    let ints = |field: &str,
                v: &Option<Vec<i64>>,
                default: &[i64],
                ok: &dyn Fn(i64) -> bool,
                what: &str|
     -> Result<Vec<i64>, TargetError> {
        match v {
            None => Ok(default.to_vec()),
            Some(v) if v.is_empty() => Err(err(
                format!("constraints.{field}"),
                "an empty domain (leave the field out for the default)",
            )),
            Some(v) => {
                for (i, &x) in v.iter().enumerate() {
                    if !ok(x) {
                        return Err(err(
                            format!("constraints.{field}[{i}]"),
                            format!("{x} is not {what}"),
                        ));
                    }
                }
                let mut v = v.clone();
                v.sort_unstable();
                v.dedup();
                Ok(v)
            }
        }
    };
    let kernels = ints(
        "kernel",
        &c.kernel,
        &[1, 3, 5],
        &|k| k >= 1 && k % 2 == 1 && k <= 15,
        "an odd kernel size from 1 to 15",
    )?;
    let strides = ints(
        "stride",
        &c.stride,
        &[1, 2],
        &|s| (1..=8).contains(&s),
        "a stride from 1 to 8",
    )?;
    let dilations = ints(
        "dilation",
        &c.dilation,
        &[1, 2],
        &|d| (1..=8).contains(&d),
        "a dilation from 1 to 8",
    )?;
    let windows = ints(
        "window",
        &c.window,
        &[2, 3, 4, 8],
        &|w| (2..=64).contains(&w),
        "a pool window from 2 to 64",
    )?;
    let (mut groups, mut depthwise) = (vec![2, 4], true);
    if let Some(v) = &c.groups {
        groups.clear();
        depthwise = false;
        for (i, g) in v.iter().enumerate() {
            match g {
                serde_json::Value::String(s) if s == "depthwise" => depthwise = true,
                serde_json::Value::Number(n)
                    if n.as_i64().is_some_and(|g| (1..=256).contains(&g)) =>
                {
                    let g = n.as_i64().unwrap_or(1);
                    if g > 1 && !groups.contains(&g) {
                        groups.push(g);
                    }
                }
                _ => {
                    return Err(err(
                        format!("constraints.groups[{i}]"),
                        format!("{g} is not a group count from 1 to 256 or \"depthwise\""),
                    ))
                }
            }
        }
        groups.sort_unstable();
    }
    let factors = match &c.channel_factors {
        None => vec![
            Factor::Mul(1),
            Factor::Mul(2),
            Factor::Mul(4),
            Factor::Div(2),
            Factor::Div(4),
            Factor::Out,
        ],
        Some(v) => {
            let mut fs = Vec::new();
            for (i, s) in v.iter().enumerate() {
                let f = Factor::parse(s).ok_or_else(|| {
                    err(
                        format!("constraints.channel_factors[{i}]"),
                        format!("`{s}` is not a factor (`x1`, `x2`, `/2`, …, or `out`)"),
                    )
                })?;
                if !fs.contains(&f) {
                    fs.push(f);
                }
            }
            if fs.is_empty() {
                return Err(err("constraints.channel_factors", "an empty domain"));
            }
            fs
        }
    };
    let sketches = match &c.sketches {
        None => vec![SketchKind::Chain, SketchKind::Add, SketchKind::Concat],
        Some(v) => {
            let mut s = Vec::new();
            for (i, n) in v.iter().enumerate() {
                let k = match n.as_str() {
                    "chain" => SketchKind::Chain,
                    "add" | "residual" => SketchKind::Add,
                    "concat" => SketchKind::Concat,
                    _ => {
                        return Err(err(
                            format!("constraints.sketches[{i}]"),
                            format!("`{n}` is not a sketch (`chain`, `add`, `concat`)"),
                        ))
                    }
                };
                if !s.contains(&k) {
                    s.push(k);
                }
            }
            if s.is_empty() {
                return Err(err("constraints.sketches", "no sketch to try"));
            }
            s
        }
    };
    if let (Some(lo), Some(hi)) = (c.min_ops, c.max_ops) {
        if lo > hi {
            return Err(err(
                "constraints.min_ops",
                format!("min_ops {lo} is above max_ops {hi}"),
            ));
        }
    }
    if c.max_ops == Some(0) {
        return Err(err(
            "constraints.max_ops",
            "a program needs at least one op",
        ));
    }
    if c.max_ops.is_some_and(|m| m > 64) || c.min_ops.is_some_and(|m| m > 64) {
        return Err(err(
            "constraints.max_ops",
            "sketches of more than 64 ops are out of range",
        ));
    }
    for (f, v) in [("max_params", c.max_params), ("max_flops", c.max_flops)] {
        if v.is_some_and(|v| v < 0) {
            return Err(err(
                format!("constraints.{f}"),
                "a budget cannot be negative",
            ));
        }
    }
    if rin != rout && !(rin == 4 && rout == 2) {
        return Err(err(
            "outputs[0].shape",
            format!("no op of the library turns a rank-{rin} tensor into a rank-{rout} one"),
        ));
    }
    Ok(Library {
        ops,
        kernels,
        strides,
        dilations,
        groups,
        depthwise,
        windows,
        factors,
        sketches,
    })
}
