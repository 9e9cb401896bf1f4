//! Training and evaluation of a lowered network on a dataset's splits: SGD (momentum, Nesterov) or AdamW,
//! a constant or cosine learning-rate schedule, cross-entropy loss, mixed precision (autocast) on CUDA.
//! Progress is reported through a callback (the CLI draws the bar); each epoch ends with an evaluation on
//! the held-out validation split, never on the test split. Checkpoints are the `VarStore` saved as
//! safetensors, tensor names = IR paths (`h_1.conv.weight`), the same names a PyTorch state dict uses.

use super::optim::{Optimizer, Rule};
use super::{LowerError, Network};
use crate::data::{Part, Splits};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::nn;
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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Eval {
    pub loss: f64,
    pub accuracy: f64,
    pub images: i64,
    pub seconds: f64,
}

/// What one epoch did.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    let mut t = Trainer::new(net, vs, splits, cfg);
    while !t.done() {
        t.epoch(on_step)?;
    }
    Ok(t.reports)
}

/// A training run, an epoch at a time, whose whole state can be checkpointed between epochs and
/// restored ([`Trainer::save_state`], [`Trainer::load_state`]): the weights and batch-norm statistics,
/// the optimizer's buffers, the schedule position and the epoch reports so far. The data order and the
/// augmentation of an epoch are functions of (seed, epoch) (`data::Splits::batches`), and libtorch's
/// generator (dropout) is reseeded from (seed, epoch) at the start of every epoch, so the epoch counter is
/// the whole random state: a resumed run repeats an uninterrupted one bit for bit (on CPU, with the same
/// thread count).
pub struct Trainer<'a> {
    net: &'a Network,
    vs: &'a nn::VarStore,
    splits: &'a Splits,
    cfg: &'a TrainConfig,
    opt: Optimizer,
    /// Steps per epoch.
    steps: usize,
    /// The epochs done so far.
    pub reports: Vec<EpochReport>,
}

impl<'a> Trainer<'a> {
    pub fn new(
        net: &'a Network,
        vs: &'a nn::VarStore,
        splits: &'a Splits,
        cfg: &'a TrainConfig,
    ) -> Trainer<'a> {
        let rule = match cfg.optimizer {
            OptimizerKind::Sgd => Rule::Sgd {
                momentum: cfg.momentum,
                weight_decay: cfg.weight_decay,
                nesterov: cfg.momentum > 0.0,
            },
            // tch's and PyTorch's AdamW defaults: betas (0.9, 0.999), eps 1e-8
            OptimizerKind::AdamW => Rule::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: cfg.weight_decay,
            },
        };
        let n = splits.train.len();
        let per_epoch = ((n + cfg.batch - 1) / cfg.batch.max(1)) as usize;
        Trainer {
            net,
            vs,
            splits,
            cfg,
            opt: Optimizer::new(vs, rule, cfg.lr),
            steps: cfg.max_steps.map_or(per_epoch, |m| m.min(per_epoch)),
            reports: Vec::new(),
        }
    }

    /// Whether every epoch is done.
    pub fn done(&self) -> bool {
        self.reports.len() >= self.cfg.epochs
    }

    /// Trains one more epoch and evaluates on the validation split.
    pub fn epoch(
        &mut self,
        on_step: &mut dyn FnMut(&Progress),
    ) -> Result<&EpochReport, LowerError> {
        let (net, cfg) = (self.net, self.cfg);
        let epoch = self.reports.len();
        let steps = self.steps;
        let total = (steps * cfg.epochs).max(1);
        let amp = cfg.amp && net.device.is_cuda();
        tch::manual_seed(
            (self.splits.opts.seed ^ (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) as i64,
        );
        let t0 = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0i64, 0i64);
        for (step, b) in self
            .splits
            .batches(Part::Train, cfg.batch, epoch as u64, net.device)
            .take(steps)
            .enumerate()
        {
            let global = epoch * steps + step;
            let lr = match cfg.schedule {
                Schedule::Constant => cfg.lr,
                Schedule::Cosine => {
                    0.5 * cfg.lr
                        * (1.0 + (std::f64::consts::PI * global as f64 / total as f64).cos())
                }
            };
            self.opt.set_lr(lr);
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
            self.opt.zero_grad();
            loss.f_backward()?;
            self.opt.step()?;
            let k = y.size()[0];
            loss_sum += value * k as f64;
            correct += c;
            seen += k;
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
        let val = evaluate(net, self.splits, Part::Val, cfg.batch.max(256), cfg.amp)?;
        self.reports.push(EpochReport {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            images_per_s: seen as f64 / seconds.max(1e-9),
            seconds,
            val,
        });
        Ok(self.reports.last().expect("just pushed"))
    }

    /// Writes the run's state into the folder `dir` (created if missing), after the epochs done so far:
    /// `weights-E.safetensors` (what `--save` writes), `optimizer-E.safetensors` and, last, `state.json`,
    /// which names them and holds `run` (the settings the run must be resumed with), the schedule
    /// position and the epoch reports. Every file is written atomically and `state.json` is the commit
    /// point: a kill at any moment leaves the previous epoch's state or this one's. Older epochs' files
    /// are removed.
    pub fn save_state(&self, dir: &Path, run: &serde_json::Value) -> Result<(), LowerError> {
        let io = |file: &Path, e: &dyn std::fmt::Display| LowerError::Io {
            file: file.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
        let e = self.reports.len();
        let weights = format!("weights-{e}.safetensors");
        let optimizer = format!("optimizer-{e}.safetensors");
        save_checkpoint(self.vs, &dir.join(&weights))?;
        let state = self.opt.state();
        let file = dir.join(&optimizer);
        crate::base::fs::with_atomic(&file, |tmp| {
            Tensor::write_safetensors(&state, tmp)
                .map_err(|e| std::io::Error::other(super::first_line(&e.to_string())))
        })
        .map_err(|e| io(&file, &e))?;
        let meta = TrainState {
            format: STATE_FORMAT,
            epochs_done: e,
            optimizer_steps: self.opt.steps,
            weights: weights.clone(),
            optimizer: optimizer.clone(),
            run: run.clone(),
            reports: self.reports.clone(),
        };
        let file = dir.join("state.json");
        let text = serde_json::to_string_pretty(&meta).map_err(|e| io(&file, &e))?;
        crate::base::fs::write_atomic(&file, text + "\n").map_err(|e| io(&file, &e))?;
        // the older epochs' files are no longer named by state.json
        if let Ok(rd) = std::fs::read_dir(dir) {
            for f in rd.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let ours = (name.starts_with("weights-") || name.starts_with("optimizer-"))
                    && name.ends_with(".safetensors");
                if ours && name != weights && name != optimizer {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
        Ok(())
    }

    /// Restores the state `save_state` wrote into `dir`. `run` must equal the saved settings; otherwise
    /// the error names every setting that differs.
    pub fn load_state(&mut self, dir: &Path, run: &serde_json::Value) -> Result<(), LowerError> {
        let meta = TrainState::read(dir)?;
        let diffs = crate::base::differences(&meta.run, run, "in the checkpoint");
        if !diffs.is_empty() {
            return Err(LowerError::Resume {
                dir: dir.display().to_string(),
                message: format!(
                    "it was made by a different run:\n{}\n(resume with the same command and flags that started it)",
                    diffs.join("\n")
                ),
            });
        }
        if meta.epochs_done > self.cfg.epochs {
            return Err(LowerError::Resume {
                dir: dir.display().to_string(),
                message: format!(
                    "it has {} epochs done, more than --epochs",
                    meta.epochs_done
                ),
            });
        }
        copy_checkpoint(self.vs, &dir.join(&meta.weights))?;
        let file = dir.join(&meta.optimizer);
        let named = Tensor::read_safetensors(&file).map_err(|e| LowerError::Io {
            file: file.display().to_string(),
            message: super::first_line(&e.to_string()),
        })?;
        self.opt
            .load_state(named, meta.optimizer_steps)
            .map_err(|message| LowerError::Resume {
                dir: dir.display().to_string(),
                message,
            })?;
        self.reports = meta.reports;
        Ok(())
    }
}

/// The version of `state.json`'s layout.
const STATE_FORMAT: u32 = 1;

/// `state.json` of a training checkpoint folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    pub format: u32,
    pub epochs_done: usize,
    pub optimizer_steps: i64,
    pub weights: String,
    pub optimizer: String,
    pub run: serde_json::Value,
    pub reports: Vec<EpochReport>,
}

impl TrainState {
    /// Reads `dir/state.json`.
    pub fn read(dir: &Path) -> Result<TrainState, LowerError> {
        let err = |message: String| LowerError::Resume {
            dir: dir.display().to_string(),
            message,
        };
        let file = dir.join("state.json");
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(err(if dir.is_dir() {
                    "it holds no state.json: no epoch of the run was finished".into()
                } else {
                    "no such folder".into()
                }))
            }
            Err(e) => return Err(err(format!("cannot read state.json: {e}"))),
        };
        let meta: TrainState = serde_json::from_str(&text)
            .map_err(|e| err(format!("state.json is not a training state: {e}")))?;
        if meta.format != STATE_FORMAT {
            return Err(err(format!(
                "state.json has format {}, this nasc reads {STATE_FORMAT}",
                meta.format
            )));
        }
        Ok(meta)
    }
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

/// Copies a checkpoint into the tensors of `vs` in place (so that handles to them, such as an
/// optimizer's, stay valid): every tensor of `vs` must be in the file with the same shape.
fn copy_checkpoint(vs: &nn::VarStore, file: &Path) -> Result<(), LowerError> {
    let err = |message: String| LowerError::Io {
        file: file.display().to_string(),
        message,
    };
    let named: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(file)
        .map_err(|e| err(super::first_line(&e.to_string())))?
        .into_iter()
        .collect();
    tch::no_grad(|| {
        for (name, v) in vs.variables() {
            let t = named
                .get(&name)
                .ok_or_else(|| err(format!("`{name}` is missing")))?;
            if t.size() != v.size() {
                return Err(err(format!(
                    "`{name}` has shape {:?}, the network {:?}",
                    t.size(),
                    v.size()
                )));
            }
            let mut v = v;
            v.f_copy_(t)
                .map_err(|e| err(super::first_line(&e.to_string())))?;
        }
        Ok(())
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
    // the optimizer `nasc train` uses (momentum 0.9, weight decay 5e-4, as scripts/bench_train.py)
    let rule = Rule::Sgd {
        momentum: 0.9,
        weight_decay: 5e-4,
        nesterov: false,
    };
    let mut opt = Optimizer::new(&vs, rule, 0.01);
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
        opt.step()?;
    }
    sync();
    Ok((steps as i64 * batch) as f64 / t0.elapsed().as_secs_f64().max(1e-9))
}
