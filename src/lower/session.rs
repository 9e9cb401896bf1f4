//! A training/evaluation session: one lowered network, its `VarStore` on a device, and the dataset splits
//! fitted to its input. This is what the CLI drives (`nasc train`, `nasc eval`), so that no tch type
//! crosses into `cli`.

use super::train::{self, EpochReport, Eval, Progress, TrainConfig};
use super::{parse_device, LowerError, Network};
use crate::base::SourceMap;
use crate::data::{Part, Source, SplitOptions, Splits};
use crate::ir::Graph;
use std::path::Path;
use tch::nn;

/// How to set a session up.
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// `--data` (see [`Source::parse`]).
    pub data: String,
    pub device: String,
    pub seed: u64,
    /// Validation images carved from the training set.
    pub val: i64,
    pub threads: Option<i32>,
    /// Random crop (padding 4) and flip on training batches.
    pub augment: bool,
    pub limit: Option<i64>,
}

pub struct Session {
    pub vs: nn::VarStore,
    pub net: Network,
    pub splits: Splits,
    /// The program's sources, to render diagnostics of lowering errors.
    pub sources: SourceMap,
}

impl Session {
    /// Seeds libtorch, lowers the graph on the device, reads and splits the data. On failure the sources
    /// come back with the error so that it can be rendered.
    pub fn new(
        g: Graph,
        sources: SourceMap,
        o: &SessionOptions,
    ) -> Result<Session, (LowerError, SourceMap)> {
        match Self::setup(&g, o) {
            Ok((vs, net, splits)) => Ok(Session {
                vs,
                net,
                splits,
                sources,
            }),
            Err(e) => Err((e, sources)),
        }
    }

    fn setup(g: &Graph, o: &SessionOptions) -> Result<(nn::VarStore, Network, Splits), LowerError> {
        let device = parse_device(&o.device)?;
        if let Some(t) = o.threads {
            tch::set_num_threads(t.max(1));
        }
        tch::manual_seed(o.seed as i64);
        let vs = nn::VarStore::new(device);
        let net = Network::new(&vs.root(), g)?;
        let shape = net.input_shape();
        if shape.len() != 4 {
            return Err(LowerError::Input(format!(
                "`{}` takes an input of shape {shape:?}; training on images needs [B, C, H, W]",
                g.name
            )));
        }
        let out = g
            .outputs
            .first()
            .and_then(|&i| g.nodes[i].shape.last().copied())
            .unwrap_or(0);
        let (train, test) = Source::parse(&o.data)?.load_for(Some(out))?;
        if out < train.classes {
            return Err(LowerError::Input(format!(
                "the dataset has {} classes but `{}` outputs {out} logits (pass a matching `classes`)",
                train.classes, g.name
            )));
        }
        let splits = Splits::new(
            train,
            test,
            &shape[1..],
            SplitOptions {
                val: o.val,
                seed: o.seed,
                limit: o.limit,
                crop_padding: if o.augment { 4 } else { 0 },
                flip: o.augment,
            },
        )?;
        Ok((vs, net, splits))
    }

    pub fn train(
        &self,
        cfg: &TrainConfig,
        on_step: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<EpochReport>, LowerError> {
        train::train(&self.net, &self.vs, &self.splits, cfg, on_step)
    }

    pub fn evaluate(&self, part: Part, batch: i64) -> Result<Eval, LowerError> {
        train::evaluate(&self.net, &self.splits, part, batch.max(1), false)
    }

    pub fn save(&self, file: &Path) -> Result<(), LowerError> {
        train::save_checkpoint(&self.vs, file)
    }

    pub fn load(&mut self, file: &Path) -> Result<(), LowerError> {
        train::load_checkpoint(&mut self.vs, file)
    }

    /// Weight inheritance: copies every tensor of the checkpoint whose name (the IR path) and shape match
    /// one of this network's, and leaves the others as initialised. Returns (copied, tensors in the file).
    pub fn load_matching(&mut self, file: &Path) -> Result<(usize, usize), LowerError> {
        let io = |e: tch::TchError| LowerError::Io {
            file: file.display().to_string(),
            message: super::first_line(&e.to_string()),
        };
        let named = tch::Tensor::read_safetensors(file).map_err(io)?;
        let vars = self.vs.variables();
        let mut copied = 0;
        tch::no_grad(|| -> Result<(), LowerError> {
            for (name, t) in &named {
                if let Some(v) = vars.get(name) {
                    if v.size() == t.size() && v.kind() == t.kind() {
                        let mut v = v.shallow_clone();
                        v.f_copy_(&t.to_device(v.device())).map_err(io)?;
                        copied += 1;
                    }
                }
            }
            Ok(())
        })?;
        Ok((copied, named.len()))
    }
}
