//! The mechanics of a weight-sharing supernet (docs/supernet.md): one `VarStore` holding the largest
//! architecture's weights, every subnet lowered under the same root so that it runs on slices of them
//! (`shared_slice`: leading channels, centre kernel crops, the first blocks of a stage), and the pieces of
//! AttentiveNAS's sandwich step — the largest subnet on label-smoothed labels (its soft logits become the
//! teacher), other subnets distilled in place from the teacher, gradients accumulated, one optimizer step —
//! plus a candidate's loss without gradients (attentive sampling), batch-norm calibration and validation
//! of one subnet, the whole state saved and restored between epochs, and the extraction of a subnet's own
//! weights. Which subnets to train and when is the driver's policy (`search::supernet`).

use super::optim::{Optimizer, Rule};
use super::train::{self, Eval};
use super::{LowerError, Network, SessionOptions, Sharing};
use crate::base::SourceMap;
use crate::data::{Part, Splits};
use crate::ir::Graph;
use std::path::Path;
use tch::{nn, Kind, Tensor};

/// The optimizer of stage 1 (the paper's: SGD with Nesterov momentum, cosine learning rate, small weight
/// decay).
#[derive(Clone, Debug)]
pub struct SupernetConfig {
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Label smoothing of the largest subnet's loss (0.1).
    pub label_smoothing: f64,
}

/// A supernet on a device with its data.
pub struct Supernet {
    pub vs: nn::VarStore,
    pub splits: Splits,
    pub largest: Network,
    opt: std::cell::RefCell<Optimizer>,
    cfg: SupernetConfig,
}

/// A lowering error of the supernet set-up, with the sources to render it.
pub type SetupError = (LowerError, SourceMap);

impl Supernet {
    /// Lowers the largest architecture (its weights are the supernet), grows the shared weights to cover
    /// every architecture of `cover` (a weight another subnet needs larger in some dimension — a shortcut
    /// conv from 8 to 16 channels and one from 16 to 8 share a 16×16 one — or that the largest lacks),
    /// and loads the data. Subnets built later must fit these weights ([`Sharing::Frozen`]).
    pub fn new(
        largest: &Graph,
        cover: &[Graph],
        sources: SourceMap,
        o: &SessionOptions,
        cfg: SupernetConfig,
    ) -> Result<Supernet, SetupError> {
        let s = super::Session::new(largest.clone(), sources, o)?;
        for g in cover {
            if let Err(e) = Network::new_sharing(&s.vs.root(), g, Sharing::Grow) {
                return Err((e, s.sources));
            }
        }
        let rule = Rule::Sgd {
            momentum: cfg.momentum,
            weight_decay: cfg.weight_decay,
            nesterov: cfg.momentum > 0.0,
        };
        let opt = Optimizer::new(&s.vs, rule, cfg.lr);
        Ok(Supernet {
            vs: s.vs,
            splits: s.splits,
            largest: s.net,
            opt: std::cell::RefCell::new(opt),
            cfg,
        })
    }

    /// Lowers a subnet onto the shared weights.
    pub fn subnet(&self, g: &Graph) -> Result<Network, LowerError> {
        Network::new_sharing(&self.vs.root(), g, Sharing::Frozen)
    }

    /// The training batches of an epoch (order and augmentation are functions of the seed and epoch).
    pub fn train_batches(
        &self,
        batch: i64,
        epoch: u64,
    ) -> impl Iterator<Item = Result<(Tensor, Tensor), LowerError>> + '_ {
        self.splits
            .batches(Part::Train, batch, epoch, self.vs.device())
            .map(|b| b.map_err(LowerError::from))
    }

    /// Steps per epoch at this batch size.
    pub fn steps_per_epoch(&self, batch: i64) -> usize {
        let n = self.splits.train.len();
        ((n + batch - 1) / batch.max(1)) as usize
    }

    /// Starts a step: clears the gradients and sets the learning rate.
    pub fn begin_step(&self, lr: f64) {
        let mut opt = self.opt.borrow_mut();
        opt.set_lr(lr);
        opt.zero_grad();
    }

    /// The largest subnet on the labels (label-smoothed cross-entropy), gradients accumulated. Returns
    /// the loss and the teacher: the largest subnet's soft predictions, detached.
    pub fn teach(&self, x: &Tensor, y: &Tensor) -> Result<(f64, Tensor), LowerError> {
        let logits = self.largest.forward_t(x, true)?.f_to_kind(Kind::Float)?;
        let logp = logits.f_log_softmax(-1, Kind::Float)?;
        let nll = logp.f_nll_loss(y, None::<Tensor>, tch::Reduction::Mean, -100)?;
        let smooth = logp
            .f_mean_dim(-1, false, Kind::Float)?
            .f_mean(Kind::Float)?;
        let e = self.cfg.label_smoothing;
        let loss = (nll * (1.0 - e)).f_sub(&(smooth * e))?;
        let value = loss.f_double_value(&[])?;
        loss.f_backward()?;
        let teacher = logp.f_exp()?.f_detach()?;
        Ok((value, teacher))
    }

    /// `net`'s soft cross-entropy against the teacher's predictions (in-place distillation).
    fn distill_loss(net: &Network, x: &Tensor, teacher: &Tensor) -> Result<Tensor, LowerError> {
        let logp = net
            .forward_t(x, true)?
            .f_to_kind(Kind::Float)?
            .f_log_softmax(-1, Kind::Float)?;
        Ok(teacher
            .f_mul(&logp)?
            .f_sum_dim_intlist(-1, false, Kind::Float)?
            .f_mean(Kind::Float)?
            .f_neg()?)
    }

    /// Trains `net` on the teacher this step (gradients accumulated); returns its loss.
    pub fn distill(&self, net: &Network, x: &Tensor, teacher: &Tensor) -> Result<f64, LowerError> {
        let loss = Self::distill_loss(net, x, teacher)?;
        let value = loss.f_double_value(&[])?;
        loss.f_backward()?;
        Ok(value)
    }

    /// `net`'s distillation loss on this minibatch without gradients (attentive sampling compares
    /// candidates by it).
    pub fn candidate_loss(
        &self,
        net: &Network,
        x: &Tensor,
        teacher: &Tensor,
    ) -> Result<f64, LowerError> {
        tch::no_grad(|| -> Result<f64, LowerError> {
            Ok(Self::distill_loss(net, x, teacher)?.f_double_value(&[])?)
        })
    }

    /// Ends a step: one optimizer step over the accumulated gradients.
    pub fn end_step(&self) -> Result<(), LowerError> {
        self.opt.borrow_mut().step()
    }

    /// Recalibrates `net`'s batch-norm statistics on `calib` training batches (fixed: the first batches
    /// of epoch 0's order, so every subnet is calibrated on the same images), then measures it on `part`.
    pub fn evaluate(
        &self,
        net: &Network,
        calib: usize,
        batch: i64,
        part: Part,
    ) -> Result<Eval, LowerError> {
        let device = self.vs.device();
        let batches = self
            .splits
            .batches(Part::Train, batch, 0, device)
            .take(calib)
            .map(|b| b.map(|(x, _)| x).map_err(LowerError::from));
        net.calibrate_batch_norm(batches)?;
        train::evaluate(net, &self.splits, part, batch.max(1), false)
    }

    /// Saves the shared weights and the optimizer state (two files, each written atomically).
    pub fn save(&self, weights: &Path, optimizer: &Path) -> Result<(), LowerError> {
        train::save_checkpoint(&self.vs, weights)?;
        let state = self.opt.borrow().state();
        crate::base::fs::with_atomic(optimizer, |tmp| {
            Tensor::write_safetensors(&state, tmp)
                .map_err(|e| std::io::Error::other(super::first_line(&e.to_string())))
        })
        .map_err(|e| LowerError::Io {
            file: optimizer.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Restores what [`Supernet::save`] wrote (`steps`: optimizer steps taken, for AdamW-style rules).
    pub fn load(&mut self, weights: &Path, optimizer: &Path, steps: i64) -> Result<(), LowerError> {
        train::load_checkpoint(&mut self.vs, weights)?;
        let named = Tensor::read_safetensors(optimizer).map_err(|e| LowerError::Io {
            file: optimizer.display().to_string(),
            message: super::first_line(&e.to_string()),
        })?;
        self.opt
            .borrow_mut()
            .load_state(named, steps)
            .map_err(|message| LowerError::Io {
                file: optimizer.display().to_string(),
                message,
            })
    }

    /// Writes `net`'s own weights — the slices of the shared tensors it runs on, batch-norm statistics
    /// included (calibrate first) — as safetensors named by path, the file `nasc eval --weights` loads
    /// for the standalone program of the same architecture.
    pub fn extract(&self, net: &Network, file: &Path) -> Result<usize, LowerError> {
        let own = nn::VarStore::new(tch::Device::Cpu);
        Network::new(&own.root(), &net.graph)?;
        let shared = self.vs.variables();
        let mut named: Vec<(String, Tensor)> = Vec::new();
        for (name, t) in own.variables() {
            let src = shared.get(&name).ok_or_else(|| LowerError::Io {
                file: file.display().to_string(),
                message: format!("the supernet has no tensor `{name}`"),
            })?;
            let slice = super::shared_slice(src, &t.size())?.ok_or_else(|| LowerError::Io {
                file: file.display().to_string(),
                message: format!(
                    "the supernet's `{name}` ({:?}) is smaller than the subnet's ({:?})",
                    src.size(),
                    t.size()
                ),
            })?;
            named.push((name, slice.f_to_device(tch::Device::Cpu)?.f_contiguous()?));
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let n = named.len();
        crate::base::fs::with_atomic(file, |tmp| {
            Tensor::write_safetensors(&named, tmp)
                .map_err(|e| std::io::Error::other(super::first_line(&e.to_string())))
        })
        .map_err(|e| LowerError::Io {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(n)
    }
}
