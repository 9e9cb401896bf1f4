//! The optimizers, written on tensors so that their state can be checkpointed: SGD (momentum, Nesterov,
//! L2 weight decay) and AdamW (decoupled weight decay), with the update rules of `torch.optim.SGD` and
//! `torch.optim.AdamW`. tch's own optimizers keep their state inside libtorch where it cannot be read or
//! restored, and a resumed run must continue with the same momentum buffers to end bit-identical to an
//! uninterrupted one.
//!
//! The state is one tensor per trainable parameter for SGD (`momentum.<path>`) and two for AdamW
//! (`exp_avg.<path>`, `exp_avg_sq.<path>`), plus the step count; [`Optimizer::state`] names them for a
//! safetensors file and [`Optimizer::load_state`] puts them back.

use super::LowerError;
use tch::{nn, Tensor};

/// Which update rule, with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// `d = g + wd·p; buf = m·buf + d (buf = d at the first step); d = d + m·buf (Nesterov) or buf;
    /// p -= lr·d`.
    Sgd {
        momentum: f64,
        weight_decay: f64,
        nesterov: bool,
    },
    /// `p *= 1 − lr·wd; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
    /// p -= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)`.
    AdamW {
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    },
}

/// An optimizer over the trainable variables of a `VarStore`, in the order of their names.
pub struct Optimizer {
    rule: Rule,
    lr: f64,
    /// (name, parameter) of every trainable variable, sorted by name.
    params: Vec<(String, Tensor)>,
    /// Per parameter: SGD's momentum buffer, or AdamW's (exp_avg, exp_avg_sq); `None` before the first
    /// step that touched it.
    state: Vec<Option<(Tensor, Option<Tensor>)>>,
    /// Steps taken (AdamW's bias correction).
    pub steps: i64,
}

impl Optimizer {
    pub fn new(vs: &nn::VarStore, rule: Rule, lr: f64) -> Optimizer {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let state = params.iter().map(|_| None).collect();
        Optimizer {
            rule,
            lr,
            params,
            state,
            steps: 0,
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Clears the gradients of every parameter.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self) -> Result<(), LowerError> {
        self.steps += 1;
        let (lr, t) = (self.lr, self.steps);
        let rule = self.rule;
        tch::no_grad(|| -> Result<(), LowerError> {
            for ((_, p), st) in self.params.iter_mut().zip(self.state.iter_mut()) {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                match rule {
                    Rule::Sgd {
                        momentum,
                        weight_decay,
                        nesterov,
                    } => {
                        let mut d = if weight_decay != 0.0 {
                            g.f_add(&p.f_mul_scalar(weight_decay)?)?
                        } else {
                            g
                        };
                        if momentum != 0.0 {
                            let buf = match st {
                                Some((buf, _)) => {
                                    let _ = buf.f_mul_scalar_(momentum)?;
                                    let _ = buf.f_add_(&d)?;
                                    buf.shallow_clone()
                                }
                                None => {
                                    let buf = d.copy();
                                    *st = Some((buf.shallow_clone(), None));
                                    buf
                                }
                            };
                            d = if nesterov {
                                d.f_add(&buf.f_mul_scalar(momentum)?)?
                            } else {
                                buf
                            };
                        }
                        let _ = p.f_sub_(&d.f_mul_scalar(lr)?)?;
                    }
                    Rule::AdamW {
                        beta1,
                        beta2,
                        eps,
                        weight_decay,
                    } => {
                        let _ = p.f_mul_scalar_(1.0 - lr * weight_decay)?;
                        let (m, v) = match st {
                            Some((m, Some(v))) => (m.shallow_clone(), v.shallow_clone()),
                            _ => {
                                let m = g.f_zeros_like()?;
                                let v = g.f_zeros_like()?;
                                *st = Some((m.shallow_clone(), Some(v.shallow_clone())));
                                (m, v)
                            }
                        };
                        let (mut m, mut v) = (m, v);
                        let _ = m.f_mul_scalar_(beta1)?;
                        let _ = m.f_add_(&g.f_mul_scalar(1.0 - beta1)?)?;
                        let _ = v.f_mul_scalar_(beta2)?;
                        let _ = v.f_add_(&g.f_mul(&g)?.f_mul_scalar(1.0 - beta2)?)?;
                        let bc1 = 1.0 - beta1.powi(t as i32);
                        let bc2 = 1.0 - beta2.powi(t as i32);
                        let denom = v.f_sqrt()?.f_div_scalar(bc2.sqrt())?.f_add_scalar(eps)?;
                        let _ = p.f_sub_(&m.f_div(&denom)?.f_mul_scalar(lr / bc1)?)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// The state tensors, named for a checkpoint (`momentum.<path>`, `exp_avg.<path>`,
    /// `exp_avg_sq.<path>`); parameters never stepped have none.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for ((name, _), st) in self.params.iter().zip(&self.state) {
            match (self.rule, st) {
                (Rule::Sgd { .. }, Some((buf, _))) => {
                    out.push((format!("momentum.{name}"), buf.shallow_clone()))
                }
                (Rule::AdamW { .. }, Some((m, Some(v)))) => {
                    out.push((format!("exp_avg.{name}"), m.shallow_clone()));
                    out.push((format!("exp_avg_sq.{name}"), v.shallow_clone()));
                }
                _ => {}
            }
        }
        out
    }

    /// Restores the state saved by [`Optimizer::state`]; every tensor must belong to a parameter of this
    /// optimizer, with its shape. Tensors are moved to the parameter's device.
    pub fn load_state(&mut self, named: Vec<(String, Tensor)>, steps: i64) -> Result<(), String> {
        let mut by_name: std::collections::HashMap<String, Tensor> = named.into_iter().collect();
        let adam = matches!(self.rule, Rule::AdamW { .. });
        for ((name, p), st) in self.params.iter().zip(self.state.iter_mut()) {
            let mut take = |key: String| -> Result<Option<Tensor>, String> {
                match by_name.remove(&key) {
                    None => Ok(None),
                    Some(t) if t.size() == p.size() => Ok(Some(t.to_device(p.device()))),
                    Some(t) => Err(format!(
                        "`{key}` has shape {:?}, the parameter {:?}",
                        t.size(),
                        p.size()
                    )),
                }
            };
            *st = if adam {
                match (
                    take(format!("exp_avg.{name}"))?,
                    take(format!("exp_avg_sq.{name}"))?,
                ) {
                    (Some(m), Some(v)) => Some((m, Some(v))),
                    (None, None) => None,
                    _ => return Err(format!("`{name}` has only one of its two AdamW moments")),
                }
            } else {
                take(format!("momentum.{name}"))?.map(|b| (b, None))
            };
        }
        if let Some(extra) = by_name.keys().min() {
            return Err(format!(
                "`{extra}` is not the state of a parameter of this network and optimizer"
            ));
        }
        self.steps = steps;
        Ok(())
    }
}
