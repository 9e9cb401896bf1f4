//! The scores that run a network (tch): one gradient pass on the labelled batch gives the input
//! Jacobian (EPE-NAS, jacob_cov), the ReLU codes (NASWOT) and the loss gradients (snip, grad_norm);
//! synflow runs separately in double precision on |W| with an all-ones input. Networks are built from the
//! full graph first (so initial weights do not depend on which scores are asked) and run on the live
//! graph (see [`super::live`]) unless NASWOT needs every ReLU of the full one.

use super::{
    arch_label, epe, live, ArchScores, EpeClasses, Pick, ScoreError, ScoreKind, ScoreOptions,
    Signal,
};
use crate::data::{Part, Source, SplitOptions, Splits};
use crate::ir::{Activation, Graph, Op};
use crate::lower::{self, cost, Network};
use indexmap::IndexMap;
use std::cell::Cell;
use std::collections::HashMap;
use std::time::Instant;
use tch::{nn, Device, Kind, Tensor};

/// Scores graphs on one device with one batch policy. Build once, score many.
pub struct Scorer {
    pub opts: ScoreOptions,
    device: Device,
    splits: Option<Splits>,
    fixed: Option<(Tensor, Tensor)>,
    /// Samples per pass found to fit after an out-of-memory error (kept for the next architectures).
    fitted_chunk: Cell<Option<i64>>,
}

/// What one gradient pass gives.
struct Pass {
    /// `[N, D]` input Jacobian on the CPU.
    jac: Option<Tensor>,
    /// `[N, N]` NASWOT kernel (double).
    kernel: Option<Tensor>,
    /// Gradients of the loss for each conv/linear weight.
    grads: Vec<Tensor>,
}

fn is_oom(e: &ScoreError) -> bool {
    let m = e.to_string().to_lowercase();
    m.contains("out of memory") || m.contains("can't allocate memory")
}

/// The NASWOT kernel of one layer's binary codes `c` (`[N, D]`, 0/1 float):
/// c cᵀ + (1 − c)(1 − c)ᵀ = 2 c cᵀ − r 1ᵀ − 1 rᵀ + D with r the row sums (exact in float: integers < 2²⁴).
fn kernel_part(c: &Tensor) -> Result<Tensor, tch::TchError> {
    let d = c.size().get(1).copied().unwrap_or(0) as f64;
    let r = c.f_sum_dim_intlist(&[1i64][..], true, Kind::Float)?;
    let cc = c.f_matmul(&c.f_tr()?)?;
    let k = (cc * 2.0 - &r - r.f_tr()?) + d;
    k.f_to_kind(Kind::Double)
}

impl Scorer {
    /// Reads the data (when an asked score needs it) fitted to `g`'s input, and draws the fixed batch.
    pub fn new(opts: ScoreOptions, g: &Graph) -> Result<Scorer, ScoreError> {
        let device = lower::parse_device(&opts.device)?;
        if let Some(t) = opts.threads {
            lower::set_threads(t);
        }
        if opts.batch < 2 {
            return Err(ScoreError::Usage(format!(
                "a batch of {} sample(s) is too small to score (use --batch 2 or more)",
                opts.batch
            )));
        }
        if opts.chunk.is_some_and(|c| c < 1) {
            return Err(ScoreError::Usage("--chunk must be at least 1".into()));
        }
        let shape = g
            .inputs
            .first()
            .map(|&i| g.nodes[i].shape.clone())
            .unwrap_or_default();
        let mut s = Scorer {
            opts,
            device,
            splits: None,
            fixed: None,
            fitted_chunk: Cell::new(None),
        };
        if !s.opts.scores.iter().any(|k| k.needs_data()) {
            return Ok(s);
        }
        if g.inputs.len() != 1 || shape.len() != 4 {
            return Err(ScoreError::Usage(format!(
                "`{}` takes {} input(s) of shape {shape:?}; scoring on images needs one [B, C, H, W] input",
                g.name,
                g.inputs.len()
            )));
        }
        let (train, test) = Source::parse(&s.opts.data)?.load()?;
        let logits = logit_width(g);
        if logits < train.classes {
            return Err(ScoreError::Usage(format!(
                "the dataset has {} classes but `{}` outputs {logits} logits",
                train.classes, g.name
            )));
        }
        if train.len() < s.opts.batch {
            return Err(ScoreError::Usage(format!(
                "the dataset has {} training images, fewer than the batch of {}",
                train.len(),
                s.opts.batch
            )));
        }
        let splits = Splits::new(
            train,
            test,
            &shape[1..],
            SplitOptions {
                val: 0,
                seed: s.opts.seed,
                limit: None,
                crop_padding: 0,
                flip: false,
            },
        )?;
        if !s.opts.fresh_batch {
            s.fixed = Some(draw(&splits, s.opts.batch, 0, device)?);
        }
        s.splits = Some(splits);
        Ok(s)
    }

    /// The labels of the fixed batch (for reports).
    pub fn fixed_labels(&self) -> Option<Vec<i64>> {
        self.fixed
            .as_ref()
            .and_then(|(_, y)| Vec::<i64>::try_from(y.to_device(Device::Cpu)).ok())
    }

    /// Scores one architecture. `index` picks the fresh batch (with `fresh_batch`).
    pub fn score(&self, g: &Graph, index: u64) -> Result<ArchScores, ScoreError> {
        let t0 = Instant::now();
        let live = live::live_graph(g);
        let (live_params, live_macs) = live.as_ref().map_or((0, 0), |l| {
            let c = cost::cost(l, 1);
            (c.total.params, c.total.macs)
        });
        let mut out = ArchScores {
            network: g.name.clone(),
            arch: arch_label(g),
            choices: g
                .choices
                .iter()
                .map(|c| Pick {
                    name: c.name.clone(),
                    index: c.chosen,
                    option: c.options.get(c.chosen).cloned().unwrap_or_default(),
                })
                .collect(),
            live: live.is_some(),
            live_params,
            live_macs,
            scores: IndexMap::new(),
            no_signal: IndexMap::new(),
            combined: None,
            chunk: None,
            epe_form: None,
            seconds: 0.0,
        };
        let mut got: HashMap<ScoreKind, Signal> = HashMap::new();
        if let Some(live) = &live {
            let kinds = &self.opts.scores;
            let grad = kinds.iter().any(|k| {
                matches!(
                    k,
                    ScoreKind::Epe
                        | ScoreKind::Naswot
                        | ScoreKind::JacobCov
                        | ScoreKind::Snip
                        | ScoreKind::GradNorm
                )
            });
            if grad {
                let (x, y) = match (&self.fixed, &self.splits) {
                    (Some((x, y)), _) => (x.shallow_clone(), y.shallow_clone()),
                    (None, Some(s)) => draw(s, self.opts.batch, index + 1, self.device)?,
                    (None, None) => {
                        return Err(ScoreError::Usage("internal: no batch was drawn".into()))
                    }
                };
                out.chunk = self.gradient_scores(g, live, &x, &y, &mut got, &mut out.epe_form)?;
            }
            if kinds.contains(&ScoreKind::Synflow) {
                got.insert(ScoreKind::Synflow, self.synflow(g, live)?);
            }
            got.insert(ScoreKind::Params, Signal::Value(live_params as f64));
            got.insert(ScoreKind::Macs, Signal::Value(live_macs as f64));
        }
        for k in &self.opts.scores {
            let s = got.remove(k).unwrap_or_else(|| {
                Signal::NoSignal("no path carries signal from the input to the output".into())
            });
            if let Signal::NoSignal(why) = &s {
                out.no_signal.insert(k.name().to_string(), why.clone());
            }
            out.scores.insert(k.name().to_string(), s);
        }
        out.seconds = t0.elapsed().as_secs_f64();
        Ok(out)
    }

    /// EPE-NAS, jacob_cov, NASWOT, snip, grad_norm from one forward pass (and one or two backward
    /// passes); returns the chunk size when the batch was split.
    fn gradient_scores(
        &self,
        g: &Graph,
        live: &Graph,
        x: &Tensor,
        y: &Tensor,
        got: &mut HashMap<ScoreKind, Signal>,
        epe_form: &mut Option<String>,
    ) -> Result<Option<i64>, ScoreError> {
        let kinds = &self.opts.scores;
        let want_jac = kinds.contains(&ScoreKind::Epe) || kinds.contains(&ScoreKind::JacobCov);
        let want_naswot = kinds.contains(&ScoreKind::Naswot);
        let want_loss = kinds.contains(&ScoreKind::Snip) || kinds.contains(&ScoreKind::GradNorm);
        lower::seed(self.opts.seed);
        let mut vs = nn::VarStore::new(self.device);
        let full = Network::new(&vs.root(), g)?;
        let net = if want_naswot {
            full
        } else {
            drop(full);
            Network::new(&vs.root(), live)?
        };
        if !want_loss {
            vs.freeze();
        }
        if self.opts.channels_last {
            to_channels_last(&vs)?;
        }
        let weights = prunable(&vs, &net.graph);
        let n = x.size()[0];
        let mut chunk = self
            .opts
            .chunk
            .or(self.fitted_chunk.get())
            .unwrap_or(n)
            .clamp(1, n);
        let pass = loop {
            match self.pass(&net, x, y, chunk, want_jac, want_naswot, &weights) {
                Ok(p) => break p,
                Err(e) if is_oom(&e) && chunk > 1 => {
                    chunk = (chunk + 1) / 2;
                    self.fitted_chunk.set(Some(chunk));
                }
                Err(e) => return Err(e),
            }
        };
        if let Some(j) = &pass.jac {
            let dim = j.size()[1] as usize;
            let rows = Vec::<f64>::try_from(j.f_to_kind(Kind::Double)?.f_flatten(0, -1)?)?;
            let labels = Vec::<i64>::try_from(y.f_to_device(Device::Cpu)?)?;
            if kinds.contains(&ScoreKind::Epe) {
                let pairwise =
                    self.opts.epe_classes == EpeClasses::Paper && logit_width(&net.graph) > 100;
                *epe_form = Some(if pairwise { "pairwise" } else { "sum" }.to_string());
                got.insert(
                    ScoreKind::Epe,
                    epe::epe_score(&rows, dim, &labels, pairwise),
                );
            }
            if kinds.contains(&ScoreKind::JacobCov) {
                got.insert(ScoreKind::JacobCov, jacob_cov(&rows, dim)?);
            }
        }
        if let Some(k) = &pass.kernel {
            got.insert(ScoreKind::Naswot, naswot(k)?);
        }
        if want_loss {
            let (mut snip, mut norm) = (0.0, 0.0);
            for (w, gr) in weights.iter().zip(&pass.grads) {
                snip += (gr * w).f_abs()?.f_sum(Kind::Double)?.f_double_value(&[])?;
                norm += gr.f_norm()?.f_double_value(&[])?;
            }
            got.insert(
                ScoreKind::Snip,
                Signal::from_f64(snip, "the snip sum is not finite"),
            );
            got.insert(
                ScoreKind::GradNorm,
                Signal::from_f64(norm, "the gradient norm is not finite"),
            );
        }
        Ok((chunk < n).then_some(chunk))
    }

    /// One pass over the batch in chunks of `chunk` samples.
    #[expect(
        clippy::too_many_arguments,
        reason = "the per-architecture state of one scoring pass"
    )]
    fn pass(
        &self,
        net: &Network,
        x: &Tensor,
        y: &Tensor,
        chunk: i64,
        want_jac: bool,
        want_naswot: bool,
        weights: &[Tensor],
    ) -> Result<Pass, ScoreError> {
        let n = x.size()[0];
        let want_loss = !weights.is_empty()
            && self
                .opts
                .scores
                .iter()
                .any(|k| matches!(k, ScoreKind::Snip | ScoreKind::GradNorm));
        // NASWOT: one kernel per distinct ReLU input (ReLUs of one tensor give the same codes), times
        // the number of ReLUs that read it, as the reference's per-module hooks count them
        let mut mult: Vec<usize> = vec![0; net.graph.nodes.len()];
        let mut first: HashMap<usize, usize> = HashMap::new();
        for (i, node) in net.graph.nodes.iter().enumerate() {
            if matches!(
                node.op,
                Op::Act {
                    f: Activation::Relu
                }
            ) {
                let src = node.inputs.first().copied().unwrap_or(i);
                let f = *first.entry(src).or_insert(i);
                mult[f] += 1;
            }
        }
        let whole = chunk >= n;
        let mut kernel: Option<Tensor> = None;
        let mut codes: HashMap<usize, Vec<Tensor>> = HashMap::new();
        let mut jacs = Vec::new();
        let mut grads: Vec<Tensor> = Vec::new();
        let mut start = 0;
        while start < n {
            let len = chunk.min(n - start);
            let mut xc = x.f_narrow(0, start, len)?.f_detach()?;
            if self.opts.channels_last && xc.dim() == 4 {
                xc = channels_last(&xc)?;
            }
            let xc = if want_jac {
                xc.set_requires_grad(true)
            } else {
                xc
            };
            let mut hook_err: Option<tch::TchError> = None;
            let mut observe = |i: usize, t: &Tensor| {
                if !want_naswot || mult[i] == 0 || hook_err.is_some() {
                    return;
                }
                let r = tch::no_grad(|| -> Result<(), tch::TchError> {
                    let c = t.f_flatten(1, -1)?.f_gt(0.0)?;
                    if whole {
                        let k = kernel_part(&c.f_to_kind(Kind::Float)?)? * (mult[i] as f64);
                        kernel = Some(match kernel.take() {
                            Some(acc) => acc + k,
                            None => k,
                        });
                    } else {
                        codes.entry(i).or_default().push(c);
                    }
                    Ok(())
                });
                if let Err(e) = r {
                    hook_err = Some(e);
                }
            };
            let outs = net.forward_observed(
                std::slice::from_ref(&xc),
                self.opts.train_mode,
                &mut observe,
            )?;
            if let Some(e) = hook_err {
                return Err(e.into());
            }
            let logits = outs
                .into_iter()
                .next()
                .ok_or_else(|| ScoreError::Usage("the network has no output".into()))?;
            if logits.dim() != 2 {
                return Err(ScoreError::Usage(format!(
                    "`{}` outputs shape {:?}; scores need logits [B, classes]",
                    net.graph.name,
                    logits.size()
                )));
            }
            if want_jac {
                let s = logits.f_sum(Kind::Float)?;
                let g = Tensor::f_run_backward(&[&s], &[&xc], want_loss, false)?;
                let j = g
                    .into_iter()
                    .next()
                    .ok_or_else(|| ScoreError::Usage("no input gradient".into()))?;
                jacs.push(j.f_flatten(1, -1)?.f_to_device(Device::Cpu)?);
            }
            if want_loss {
                let yc = y.f_narrow(0, start, len)?;
                let loss = logits.f_cross_entropy_loss(
                    &yc,
                    None::<Tensor>,
                    tch::Reduction::Mean,
                    -100,
                    0.0,
                )? * (len as f64 / n as f64);
                let gs = Tensor::f_run_backward(&[&loss], weights, false, false)?;
                if grads.is_empty() {
                    grads = gs;
                } else {
                    for (a, b) in grads.iter_mut().zip(gs) {
                        *a = &*a + b;
                    }
                }
            }
            start += len;
        }
        if want_naswot && !whole {
            tch::no_grad(|| -> Result<(), tch::TchError> {
                for (i, cs) in &codes {
                    let c = Tensor::f_cat(cs, 0)?.f_to_kind(Kind::Float)?;
                    let k = kernel_part(&c)? * (mult[*i] as f64);
                    kernel = Some(match kernel.take() {
                        Some(acc) => acc + k,
                        None => k,
                    });
                }
                Ok(())
            })?;
        }
        if want_naswot && kernel.is_none() {
            kernel = Some(Tensor::f_zeros([n, n], (Kind::Double, Device::Cpu))?);
        }
        let jac = if want_jac {
            Some(Tensor::f_cat(&jacs, 0)?)
        } else {
            None
        };
        Ok(Pass { jac, kernel, grads })
    }

    /// synflow: Σ |θ ⊙ ∂R/∂θ| over conv and linear weights, R = Σ f(1) with every parameter replaced by
    /// its absolute value, in double precision, batch norm with its (fresh) running statistics; reported
    /// as ln of the sum (computed with log-sum-exp over the weight tensors, so it does not overflow).
    fn synflow(&self, g: &Graph, live: &Graph) -> Result<Signal, ScoreError> {
        lower::seed(self.opts.seed);
        let mut vs = nn::VarStore::new(self.device);
        let full = Network::new(&vs.root(), g)?;
        drop(full);
        let net = Network::new(&vs.root(), live)?;
        vs.double();
        tch::no_grad(|| -> Result<(), tch::TchError> {
            for (_, v) in vs.variables() {
                let mut v = v;
                let _ = v.f_abs_()?;
            }
            Ok(())
        })?;
        let mut shape = net.input_shape();
        if let Some(b) = shape.first_mut() {
            *b = 1;
        }
        let x = Tensor::f_ones(shape.as_slice(), (Kind::Double, self.device))?;
        let out = net.forward_t(&x, false)?;
        let weights = prunable(&vs, &net.graph);
        if weights.is_empty() {
            return Ok(Signal::NoSignal("no conv or linear weight".into()));
        }
        let r = out.f_sum(Kind::Double)?;
        let gs = Tensor::f_run_backward(&[&r], &weights, false, false)?;
        let mut logs = Vec::new();
        for (w, gr) in weights.iter().zip(&gs) {
            let s = (gr * w).f_abs()?.f_sum(Kind::Double)?.f_double_value(&[])?;
            if !s.is_finite() {
                return Ok(Signal::NoSignal(
                    "synflow overflows double precision".into(),
                ));
            }
            if s > 0.0 {
                logs.push(s.ln());
            }
        }
        let Some(m) = logs.iter().copied().reduce(f64::max) else {
            return Ok(Signal::NoSignal("every synflow term is zero".into()));
        };
        let lse = m + logs.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
        Ok(Signal::from_f64(lse, "synflow is not finite"))
    }
}

/// The same tensor with NHWC strides (PyTorch's `channels_last` memory format: libtorch's CPU
/// convolutions run faster on it; values and logical layout are unchanged).
fn channels_last(t: &Tensor) -> Result<Tensor, tch::TchError> {
    t.f_permute([0, 2, 3, 1])?
        .f_contiguous()?
        .f_permute([0, 3, 1, 2])
}

/// Every 4-d variable of the store (conv weights) in the channels-last memory format, in place.
fn to_channels_last(vs: &nn::VarStore) -> Result<(), tch::TchError> {
    tch::no_grad(|| {
        for (_, mut v) in vs.variables() {
            if v.dim() == 4 {
                let cl = channels_last(&v)?;
                v.f_set_data(&cl)?;
            }
        }
        Ok(())
    })
}

/// The weights of conv and linear nodes (the "prunable" layers of the zero-cost proxies), in node order.
fn prunable(vs: &nn::VarStore, g: &Graph) -> Vec<Tensor> {
    let vars = vs.variables();
    g.nodes
        .iter()
        .filter(|n| matches!(n.op, Op::Conv { .. } | Op::Linear { .. }))
        .filter_map(|n| vars.get(&format!("{}.weight", n.path)))
        .map(Tensor::shallow_clone)
        .collect()
}

/// The last dimension of the graph's first output.
fn logit_width(g: &Graph) -> i64 {
    g.outputs
        .first()
        .and_then(|&o| g.nodes[o].shape.last().copied())
        .unwrap_or(0)
}

/// One batch of the training part (the first of epoch `epoch`'s seeded shuffle).
fn draw(
    splits: &Splits,
    batch: i64,
    epoch: u64,
    device: Device,
) -> Result<(Tensor, Tensor), ScoreError> {
    match splits.batches(Part::Train, batch, epoch, device).next() {
        Some(r) => Ok(r?),
        None => Err(ScoreError::Usage("the dataset is empty".into())),
    }
}

/// jacob_cov (Mellor et al. v1, as in the zero-cost-proxies code): −Σ_i (ln(λ_i + k) + 1/(λ_i + k)) over
/// the eigenvalues λ of the correlation matrix of all Jacobian rows, k = 1e-5.
fn jacob_cov(rows: &[f64], dim: usize) -> Result<Signal, ScoreError> {
    let z = match epe::standardise(rows, dim) {
        Ok(z) => z,
        Err(e) => return Ok(Signal::NoSignal(e)),
    };
    let n = (z.len() / dim) as i64;
    let zt = Tensor::from_slice(&z).f_reshape([n, dim as i64])?;
    let c = zt.f_matmul(&zt.f_tr()?)?.f_clamp(-1.0, 1.0)?;
    let v = Vec::<f64>::try_from(c.f_linalg_eigvalsh("L")?)?;
    let s: f64 = -v
        .iter()
        .map(|l| (l + epe::K).ln() + 1.0 / (l + epe::K))
        .sum::<f64>();
    Ok(Signal::from_f64(s, "jacob_cov is not finite"))
}

/// NASWOT: ln |det K| of the ReLU-code kernel, when the determinant is positive.
fn naswot(k: &Tensor) -> Result<Signal, ScoreError> {
    if k.f_abs()?.f_sum(Kind::Double)?.f_double_value(&[])? == 0.0 {
        return Ok(Signal::NoSignal(
            "no ReLU sees the input (the code kernel is zero)".into(),
        ));
    }
    let (sign, logdet) = Tensor::f_linalg_slogdet(&k.f_to_device(Device::Cpu)?)?;
    let sign = sign.f_double_value(&[])?;
    let logdet = logdet.f_double_value(&[])?;
    if sign > 0.0 && logdet.is_finite() {
        Ok(Signal::Value(logdet))
    } else {
        Ok(Signal::NoSignal(
            "the ReLU-code kernel is singular (samples share their codes)".into(),
        ))
    }
}
