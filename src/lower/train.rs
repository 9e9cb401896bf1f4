//! Training and evaluation of a lowered network on a dataset's splits: SGD (momentum, Nesterov) or AdamW,
//! a constant or cosine learning-rate schedule, cross-entropy loss, mixed precision (autocast) on CUDA.
//! Progress is reported through a callback (the CLI draws the bar); each epoch ends with an evaluation on
//! the held-out validation split, never on the test split. Checkpoints are the `VarStore` saved as
//! safetensors, tensor names = IR paths (`h_1.conv.weight`), the same names a PyTorch state dict uses.

use super::{LowerError, Network};
use crate::data::{Part, Splits};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    AdamW,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    Constant,
    /// Cosine decay from `lr` to 0 over all steps.
    Cosine,
}

/// How to train.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: i64,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    pub schedule: Schedule,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Autocast to half precision for the forward pass (CUDA only; ignored on CPU).
    pub amp: bool,
    /// Stop each epoch after this many steps (quick runs and tests).
    pub max_steps: Option<usize>,
}

impl TrainConfig {
    /// The defaults of an optimizer, with the user's learning rate and weight decay when given: SGD lr 0.05,
    /// weight decay 5e-4; AdamW lr 1e-3, weight decay 0.05.
    pub fn for_optimizer(
        optimizer: OptimizerKind,
        lr: Option<f64>,
        weight_decay: Option<f64>,
    ) -> TrainConfig {
        let adamw = optimizer == OptimizerKind::AdamW;
        TrainConfig {
            optimizer,
            lr: lr.unwrap_or(if adamw { 1e-3 } else { 0.05 }),
            weight_decay: weight_decay.unwrap_or(if adamw { 0.05 } else { 5e-4 }),
            ..TrainConfig::default()
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 1,
            batch: 128,
            lr: 0.05,
            optimizer: OptimizerKind::Sgd,
            schedule: Schedule::Cosine,
            momentum: 0.9,
            weight_decay: 5e-4,
            amp: false,
            max_steps: None,
        }
    }
}

/// A progress tick, after each training step.
#[derive(Clone, Debug)]
pub struct Progress {
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    /// Running means over the epoch so far.
    pub loss: f64,
    pub acc: f64,
    pub images_per_s: f64,
    pub lr: f64,
}

/// Loss and accuracy of a pass over a split.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Eval {
    pub loss: f64,
    pub accuracy: f64,
    pub images: i64,
    pub seconds: f64,
}

/// What one epoch did.
#[derive(Clone, Debug, Serialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// Training throughput (forward + backward + update), images per second.
    pub images_per_s: f64,
    pub seconds: f64,
    pub val: Eval,
}

fn loss_and_correct(logits: &Tensor, y: &Tensor) -> Result<(Tensor, i64), LowerError> {
    let logits = logits.f_to_kind(Kind::Float)?;
    let loss = logits.f_log_softmax(-1, Kind::Float)?.f_nll_loss(
        y,
        None::<Tensor>,
        tch::Reduction::Mean,
        -100,
    )?;
    let correct = logits
        .f_argmax(-1, false)?
        .f_eq_tensor(y)?
        .f_sum(Kind::Int64)?
        .int64_value(&[]);
    Ok((loss, correct))
}

/// Runs the network in eval mode over a split.
pub fn evaluate(
    net: &Network,
    splits: &Splits,
    part: Part,
    batch: i64,
    amp: bool,
) -> Result<Eval, LowerError> {
    let t0 = Instant::now();
    let (mut loss, mut correct, mut n) = (0.0, 0i64, 0i64);
    let amp = amp && net.device.is_cuda();
    tch::no_grad(|| -> Result<(), LowerError> {
        for b in splits.batches(part, batch, 0, net.device) {
            let (x, y) = b?;
            let logits = tch::autocast(amp, || net.forward_t(&x, false))?;
            let (l, c) = loss_and_correct(&logits, &y)?;
            let k = y.size()[0];
            loss += l.double_value(&[]) * k as f64;
            correct += c;
            n += k;
        }
        Ok(())
    })?;
    Ok(Eval {
        loss: loss / n.max(1) as f64,
        accuracy: correct as f64 / n.max(1) as f64,
        images: n,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Trains `net` (whose parameters live in `vs`) for `cfg.epochs` epochs; evaluates on the validation
/// split after each. `on_step` is called after every step.
pub fn train(
    net: &Network,
    vs: &nn::VarStore,
    splits: &Splits,
    cfg: &TrainConfig,
    on_step: &mut dyn FnMut(&Progress),
) -> Result<Vec<EpochReport>, LowerError> {
    let mut opt = match cfg.optimizer {
        OptimizerKind::Sgd => nn::Sgd {
            momentum: cfg.momentum,
            dampening: 0.0,
            wd: cfg.weight_decay,
            nesterov: cfg.momentum > 0.0,
        }
        .build(vs, cfg.lr)?,
        OptimizerKind::AdamW => nn::AdamW {
            wd: cfg.weight_decay,
            ..Default::default()
        }
        .build(vs, cfg.lr)?,
    };
    let n = splits.train.len();
    let per_epoch = ((n + cfg.batch - 1) / cfg.batch.max(1)) as usize;
    let steps = cfg.max_steps.map_or(per_epoch, |m| m.min(per_epoch));
    let total = (steps * cfg.epochs).max(1);
    let amp = cfg.amp && net.device.is_cuda();
    let mut reports = Vec::new();
    let mut global = 0usize;
    for epoch in 0..cfg.epochs {
        let t0 = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0i64, 0i64);
        for (step, b) in splits
            .batches(Part::Train, cfg.batch, epoch as u64, net.device)
            .take(steps)
            .enumerate()
        {
            let lr = match cfg.schedule {
                Schedule::Constant => cfg.lr,
                Schedule::Cosine => {
                    0.5 * cfg.lr
                        * (1.0 + (std::f64::consts::PI * global as f64 / total as f64).cos())
                }
            };
            opt.set_lr(lr);
            let (x, y) = b?;
            let logits = tch::autocast(amp, || net.forward_t(&x, true))?;
            let (loss, c) = loss_and_correct(&logits, &y)?;
            let value = loss.f_double_value(&[])?;
            if !value.is_finite() {
                return Err(LowerError::Diverged {
                    epoch: epoch + 1,
                    step: step + 1,
                    loss: value,
                    lr,
                });
            }
            opt.zero_grad();
            loss.f_backward()?;
            opt.step();
            let k = y.size()[0];
            loss_sum += value * k as f64;
            correct += c;
            seen += k;
            global += 1;
            let secs = t0.elapsed().as_secs_f64().max(1e-9);
            on_step(&Progress {
                epoch,
                epochs: cfg.epochs,
                step: step + 1,
                steps,
                loss: loss_sum / seen as f64,
                acc: correct as f64 / seen as f64,
                images_per_s: seen as f64 / secs,
                lr,
            });
        }
        let seconds = t0.elapsed().as_secs_f64();
        let val = evaluate(net, splits, Part::Val, cfg.batch.max(256), cfg.amp)?;
        reports.push(EpochReport {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            images_per_s: seen as f64 / seconds.max(1e-9),
            seconds,
            val,
        });
    }
    Ok(reports)
}

/// Saves every tensor of `vs` (parameters and buffers) as safetensors, named by path. The file is written
/// atomically (`base::fs::with_atomic`): a reader, or a run killed during the save, finds the old file or
/// the new one, never a torn one.
pub fn save_checkpoint(vs: &nn::VarStore, file: &Path) -> Result<(), LowerError> {
    crate::base::fs::with_atomic(file, |tmp| {
        vs.save(tmp)
            .map_err(|e| std::io::Error::other(super::first_line(&e.to_string())))
    })
    .map_err(|e| LowerError::Io {
        file: file.display().to_string(),
        message: e.to_string(),
    })
}

/// Loads a checkpoint into `vs`: every tensor of `vs` must be in the file with the same shape.
pub fn load_checkpoint(vs: &mut nn::VarStore, file: &Path) -> Result<(), LowerError> {
    if !file.is_file() {
        return Err(LowerError::Io {
            file: file.display().to_string(),
            message: "no such checkpoint file".into(),
        });
    }
    vs.load(file).map_err(|e| LowerError::Io {
        file: file.display().to_string(),
        message: format!(
            "cannot load it into this network: {}",
            super::first_line(&e.to_string())
        ),
    })
}

/// Training throughput on synthetic data (the same fixed random batch every step): `warmup` untimed
/// steps, then `steps` timed steps of forward, cross-entropy, backward and an SGD update (momentum 0.9).
/// Returns images per second. The benchmark's PyTorch side (scripts/bench_train.py) does the same.
pub fn benchmark(
    g: &crate::ir::Graph,
    device: tch::Device,
    batch: i64,
    steps: usize,
    warmup: usize,
) -> Result<f64, LowerError> {
    let vs = nn::VarStore::new(device);
    let net = Network::new(&vs.root(), g)?;
    let mut shape = net.input_shape();
    if let Some(b) = shape.first_mut() {
        *b = batch;
    }
    let classes = g
        .outputs
        .first()
        .and_then(|&o| g.nodes[o].shape.last().copied())
        .unwrap_or(1);
    let x = Tensor::f_randn(shape.as_slice(), (Kind::Float, device))?;
    let y = Tensor::f_randint(classes, [batch], (Kind::Int64, device))?;
    let mut opt = nn::Sgd {
        momentum: 0.9,
        dampening: 0.0,
        wd: 5e-4,
        nesterov: false,
    }
    .build(&vs, 0.01)?;
    let sync = || {
        if let tch::Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };
    let mut t0 = Instant::now();
    for k in 0..warmup + steps {
        if k == warmup {
            sync();
            t0 = Instant::now();
        }
        let logits = net.forward_t(&x, true)?;
        let (loss, _) = loss_and_correct(&logits, &y)?;
        opt.zero_grad();
        loss.f_backward()?;
        opt.step();
    }
    sync();
    Ok((steps as i64 * batch) as f64 / t0.elapsed().as_secs_f64().max(1e-9))
}
