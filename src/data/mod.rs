//! Datasets for training and evaluating lowered networks, read from disk (nothing is downloaded): IDX
//! (MNIST, Fashion-MNIST; gzip or not), CIFAR-10/100 binary batches, and CSV images (`label, pixel…` or
//! `pixel…, label`, gzip or not; pixels are integers 0–255, labels class indices: see [`load_csv`]). The
//! embedded default is Fashion-MNIST from the Debian package `dataset-fashion-mnist`
//! (`/usr/share/datasets/fashion-mnist`).
//!
//! [`Dataset`] holds raw images (`u8`, `[N, C, H, W]`) and labels. [`Splits::new`] carves a held-out
//! validation split from the training set with a seeded shuffle (the test set is never used for tuning),
//! computes per-channel normalisation from the training part only, and fits images to the network's input
//! shape (zero padding when smaller, bilinear resizing otherwise, grey↔colour by repeating or averaging
//! channels). [`Splits::batches`] yields normalised float batches on a device, shuffled per epoch under the
//! seed, with optional augmentation (random crop with padding, horizontal flip). Depends on nothing else of
//! nasc; the only other module besides `lower` that knows tch.

use flate2::read::GzDecoder;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// The directory of the embedded default dataset.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Why a dataset could not be read or used. Every file problem names the file.
#[derive(Debug)]
pub enum DataError {
    /// The file does not exist.
    Missing { file: PathBuf, hint: String },
    /// The file exists but is not what it should be (bad magic, truncated, inconsistent counts).
    Corrupt { file: PathBuf, message: String },
    /// A bad request (unknown format, empty split).
    Usage(String),
    /// libtorch failed while preparing tensors.
    Torch(String),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Missing { file, hint } => {
                write!(f, "dataset file `{}` does not exist", file.display())?;
                if !hint.is_empty() {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            DataError::Corrupt { file, message } => {
                write!(
                    f,
                    "dataset file `{}` is corrupt or not in the expected format: {message}",
                    file.display()
                )
            }
            DataError::Usage(m) | DataError::Torch(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DataError {}

impl From<tch::TchError> for DataError {
    fn from(e: tch::TchError) -> Self {
        DataError::Torch(torch_message(&e.to_string()))
    }
}

/// libtorch's message without its C++ backtrace (`Exception raised from …`, `frame #0: …`) and without
/// the `[enforce fail at …]` prefix; an allocation failure becomes `out of memory: …` with the size asked
/// for. (`lower` turns every libtorch error into text through this too.)
pub fn torch_message(s: &str) -> String {
    let s = s.trim();
    let cut = [
        "\nException raised from",
        "\nframe #",
        "\nFrame",
        "\nException raised",
    ]
    .iter()
    .filter_map(|m| s.find(m))
    .min()
    .unwrap_or(s.len());
    let mut m = s[..cut].trim().to_string();
    for prefix in ["Internal torch error: ", "Torch error: "] {
        if let Some(rest) = m.strip_prefix(prefix) {
            m = rest.to_string();
        }
    }
    if m.starts_with("[enforce fail at") {
        if let Some(i) = m.find("] ") {
            m = m[i + 2..].trim_start_matches("err == 0. ").to_string();
        }
    }
    let oom = [
        "can't allocate memory",
        "out of memory",
        "Cannot allocate memory",
    ]
    .iter()
    .any(|k| m.contains(k));
    if oom {
        let bytes = m.match_indices("allocate ").find_map(|(i, _)| {
            m[i + 9..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        });
        return match bytes {
            Some(b) => format!(
                "out of memory: libtorch could not allocate {b} bytes ({:.1} GiB)",
                b as f64 / (1u64 << 30) as f64
            ),
            None => format!("out of memory: {}", m.lines().next().unwrap_or("")),
        };
    }
    m
}

/// Images and labels in memory.
#[derive(Debug)]
pub struct Dataset {
    /// `[N, C, H, W]`, `u8`, on the CPU.
    pub images: Tensor,
    /// `[N]`, `i64`.
    pub labels: Tensor,
    /// Number of classes (1 + the largest label, or the format's count).
    pub classes: i64,
}

impl Dataset {
    pub fn len(&self) -> i64 {
        self.labels.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[C, H, W]`.
    pub fn image_shape(&self) -> Vec<i64> {
        self.images.size()[1..].to_vec()
    }
}

/// Reads a whole file, gunzipping when it starts with the gzip magic.
fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                file: path.to_path_buf(),
                hint: String::new(),
            }
        } else {
            DataError::Corrupt {
                file: path.to_path_buf(),
                message: e.to_string(),
            }
        }
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| DataError::Corrupt {
                file: path.to_path_buf(),
                message: format!("gzip: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads an IDX file of unsigned bytes: its dimensions and data.
pub fn read_idx(path: &Path) -> Result<(Vec<i64>, Vec<u8>), DataError> {
    let b = read_bytes(path)?;
    let corrupt = |m: String| DataError::Corrupt {
        file: path.to_path_buf(),
        message: m,
    };
    if b.len() < 4 || b[0] != 0 || b[1] != 0 {
        return Err(corrupt("no IDX magic number (00 00 type rank)".into()));
    }
    if b[2] != 0x08 {
        return Err(corrupt(format!(
            "element type 0x{:02x} is not unsigned byte (0x08)",
            b[2]
        )));
    }
    let rank = b[3] as usize;
    if rank == 0 || b.len() < 4 + 4 * rank {
        return Err(corrupt("the header is truncated".into()));
    }
    let dims: Vec<i64> = (0..rank)
        .map(|k| {
            let o = 4 + 4 * k;
            u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as i64
        })
        .collect();
    let n: i64 = dims.iter().product();
    let data = &b[4 + 4 * rank..];
    if data.len() as i64 != n {
        return Err(corrupt(format!(
            "the header announces {n} bytes of data ({dims:?}), the file holds {}",
            data.len()
        )));
    }
    Ok((dims, data.to_vec()))
}

/// Reads an IDX image file (`[N, H, W]`) and its label file (`[N]`).
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let (d, px) = read_idx(images)?;
    if d.len() != 3 {
        return Err(DataError::Corrupt {
            file: images.to_path_buf(),
            message: format!("an image file has 3 dimensions [N, H, W], this one {d:?}"),
        });
    }
    let (dl, lb) = read_idx(labels)?;
    if dl.len() != 1 || dl[0] != d[0] {
        return Err(DataError::Corrupt {
            file: labels.to_path_buf(),
            message: format!(
                "{} labels for {} images in `{}`",
                dl.first().copied().unwrap_or(0),
                d[0],
                images.display()
            ),
        });
    }
    let imgs = Tensor::from_slice(&px).reshape([d[0], 1, d[1], d[2]]);
    let labels_i: Vec<i64> = lb.iter().map(|&x| x as i64).collect();
    let classes = labels_i.iter().max().map_or(0, |m| m + 1);
    Ok(Dataset {
        images: imgs,
        labels: Tensor::from_slice(&labels_i),
        classes,
    })
}

/// Reads CIFAR binary batches: records of `label (1 byte; 2 for CIFAR-100: coarse, fine) + 3072 bytes`.
pub fn load_cifar(files: &[PathBuf], cifar100: bool) -> Result<Dataset, DataError> {
    let label_bytes = if cifar100 { 2 } else { 1 };
    let rec = label_bytes + 3072;
    let (mut px, mut labels) = (Vec::new(), Vec::new());
    for f in files {
        let b = read_bytes(f)?;
        if b.is_empty() || b.len() % rec != 0 {
            return Err(DataError::Corrupt {
                file: f.clone(),
                message: format!(
                    "{} bytes is not a whole number of {rec}-byte CIFAR-{} records",
                    b.len(),
                    if cifar100 { 100 } else { 10 }
                ),
            });
        }
        let classes = if cifar100 { 100 } else { 10 };
        for (k, r) in b.chunks(rec).enumerate() {
            let l = r[label_bytes - 1] as i64;
            if l >= classes {
                return Err(DataError::Corrupt {
                    file: f.clone(),
                    message: format!(
                        "record {} has label {l}; CIFAR-{classes} labels are 0 to {}",
                        k + 1,
                        classes - 1
                    ),
                });
            }
            labels.push(l);
            px.extend_from_slice(&r[label_bytes..]);
        }
    }
    let n = labels.len() as i64;
    Ok(Dataset {
        images: Tensor::from_slice(&px).reshape([n, 3, 32, 32]),
        labels: Tensor::from_slice(&labels),
        classes: if cifar100 { 100 } else { 10 },
    })
}

/// Where the label is in a CSV row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    First,
    Last,
}

/// Reads a CSV of images: one image per row, `C×H×W` pixel values and a label. A first line that does not
/// parse is a header. Every value is checked, with the file, line and column in the error:
///
/// * **labels** are class indices, integers 0 or more (`2.5`, `-1`, `nan` are errors); with `classes`
///   (the network's number of outputs) they must also be below it;
/// * **pixels** are 8-bit intensities, integers from 0 to 255 (as MNIST-style CSV exports write them):
///   they are used as they are, like the bytes of IDX and CIFAR files, and normalised with the training
///   part's statistics. A value outside 0–255, a fraction or `nan` is an error (data scaled to `[0, 1]`
///   must be multiplied by 255 first).
pub fn load_csv(path: &Path, shape: &[i64], label: LabelColumn) -> Result<Dataset, DataError> {
    load_csv_for(path, shape, label, None)
}

/// [`load_csv`], with labels checked against a network's `classes` outputs.
pub fn load_csv_for(
    path: &Path,
    shape: &[i64],
    label: LabelColumn,
    classes: Option<i64>,
) -> Result<Dataset, DataError> {
    let b = read_bytes(path)?;
    let corrupt = |message: String| DataError::Corrupt {
        file: path.to_path_buf(),
        message,
    };
    let text = String::from_utf8(b).map_err(|_| corrupt("not UTF-8 text".into()))?;
    if shape.len() != 3 || shape.iter().any(|&d| d < 1) {
        return Err(DataError::Usage(format!(
            "a CSV image shape is C,H,W of positive sizes, not {shape:?}"
        )));
    }
    let want = shape
        .iter()
        .try_fold(1i64, |a, &d| a.checked_mul(d))
        .filter(|&w| w <= 1 << 24)
        .ok_or_else(|| DataError::Usage(format!("a CSV image of shape {shape:?} is too large")))?;
    let (mut px, mut labels) = (Vec::<u8>::new(), Vec::<i64>::new());
    for (k, line) in text.lines().enumerate() {
        let line_no = k + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row: Result<Vec<f64>, _> = line.split(',').map(|v| v.trim().parse::<f64>()).collect();
        let Ok(row) = row else {
            if labels.is_empty() && k == 0 {
                continue; // a header
            }
            let (col, v) = line
                .split(',')
                .enumerate()
                .find(|(_, v)| v.trim().parse::<f64>().is_err())
                .unwrap_or((0, ""));
            return Err(corrupt(format!(
                "line {line_no}, column {}: `{}` is not a number",
                col + 1,
                v.trim()
            )));
        };
        if row.len() as i64 != want + 1 {
            return Err(corrupt(format!(
                "line {line_no} has {} values; an image of shape {shape:?} and a label need {}",
                row.len(),
                want + 1
            )));
        }
        let (label_col, pixels) = match label {
            LabelColumn::First => (0, 1..row.len()),
            LabelColumn::Last => (row.len() - 1, 0..row.len() - 1),
        };
        let l = row[label_col];
        if !(l.is_finite() && l >= 0.0 && l.fract() == 0.0 && l < (1u64 << 31) as f64) {
            return Err(corrupt(format!(
                "line {line_no}, column {}: the label `{l}` is not a class index (an integer, 0 or more)",
                label_col + 1
            )));
        }
        let l = l as i64;
        if let Some(c) = classes.filter(|&c| l >= c) {
            return Err(DataError::Usage(format!(
                "`{}` line {line_no}, column {}: label {l} is out of range: the network has {c} \
                 classes (labels 0 to {})",
                path.display(),
                label_col + 1,
                c - 1
            )));
        }
        labels.push(l);
        for i in pixels {
            let v = row[i];
            if !(v.is_finite() && (0.0..=255.0).contains(&v) && v.fract() == 0.0) {
                return Err(corrupt(format!(
                    "line {line_no}, column {}: the pixel value `{v}` is not an integer from 0 to 255 \
                     (CSV pixels are 8-bit intensities)",
                    i + 1
                )));
            }
            px.push(v as u8);
        }
    }
    if labels.is_empty() {
        return Err(corrupt("no rows".into()));
    }
    let n = labels.len() as i64;
    let mut s = vec![n];
    s.extend_from_slice(shape);
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    Ok(Dataset {
        images: Tensor::from_slice(&px).f_reshape(s.as_slice())?,
        labels: Tensor::from_slice(&labels),
        classes,
    })
}

/// A dataset on disk: a train part and a test part.
#[derive(Clone, Debug)]
pub enum Source {
    /// IDX files in a directory, named `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` (MNIST and
    /// Fashion-MNIST).
    Idx(PathBuf),
    /// CIFAR-10 (`data_batch_{1..5}.bin`, `test_batch.bin`) or CIFAR-100 (`train.bin`, `test.bin`) binary.
    Cifar { dir: PathBuf, cifar100: bool },
    /// CSV files of images, each with its shape; the test file is optional (else 20% of the train file).
    Csv {
        train: PathBuf,
        test: Option<PathBuf>,
        shape: Vec<i64>,
        label: LabelColumn,
    },
}

impl Default for Source {
    fn default() -> Self {
        Source::Idx(PathBuf::from(FASHION_MNIST_DIR))
    }
}

fn idx_file(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let hint = if dir == Path::new(FASHION_MNIST_DIR) {
        "the default dataset comes from the Debian package `dataset-fashion-mnist`; run scripts/setup.sh"
            .to_string()
    } else {
        format!("expected `{stem}` or `{stem}.gz` in `{}`", dir.display())
    };
    Err(DataError::Missing {
        file: dir.join(format!("{stem}.gz")),
        hint,
    })
}

impl Source {
    /// Parses `--data`: `fashion-mnist` (default), `idx:DIR`, `cifar10:DIR`, `cifar100:DIR`,
    /// `csv:TRAIN[,TEST]:C,H,W[:first]`.
    pub fn parse(s: &str) -> Result<Source, DataError> {
        let bad = || {
            DataError::Usage(format!(
                "`{s}` is not a dataset (fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, \
                 csv:TRAIN[,TEST]:C,H,W[:first])"
            ))
        };
        if s == "fashion-mnist" || s.is_empty() {
            return Ok(Source::default());
        }
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "idx" | "mnist" => Ok(Source::Idx(rest.into())),
            "cifar10" | "cifar100" => Ok(Source::Cifar {
                dir: rest.into(),
                cifar100: kind == "cifar100",
            }),
            "csv" => {
                let parts: Vec<&str> = rest.split(':').collect();
                if parts.len() < 2 {
                    return Err(bad());
                }
                let files: Vec<&str> = parts[0].split(',').collect();
                let shape: Result<Vec<i64>, _> =
                    parts[1].split(',').map(|d| d.trim().parse()).collect();
                Ok(Source::Csv {
                    train: files[0].into(),
                    test: files.get(1).map(PathBuf::from),
                    shape: shape.map_err(|_| bad())?,
                    label: if parts.get(2) == Some(&"first") {
                        LabelColumn::First
                    } else {
                        LabelColumn::Last
                    },
                })
            }
            _ => Err(bad()),
        }
    }

    /// Reads the train and test parts.
    pub fn load(&self) -> Result<(Dataset, Dataset), DataError> {
        self.load_for(None)
    }

    /// Reads the train and test parts for a network with `classes` outputs: every CSV label must be a
    /// class index below it (the error names the file and the line). The label bytes of IDX and CIFAR
    /// files are checked by the caller against the dataset's class count.
    pub fn load_for(&self, classes: Option<i64>) -> Result<(Dataset, Dataset), DataError> {
        match self {
            Source::Idx(dir) => Ok((
                load_idx(
                    &idx_file(dir, "train-images-idx3-ubyte")?,
                    &idx_file(dir, "train-labels-idx1-ubyte")?,
                )?,
                load_idx(
                    &idx_file(dir, "t10k-images-idx3-ubyte")?,
                    &idx_file(dir, "t10k-labels-idx1-ubyte")?,
                )?,
            )),
            Source::Cifar { dir, cifar100 } => {
                let (train, test): (Vec<PathBuf>, Vec<PathBuf>) = if *cifar100 {
                    (vec![dir.join("train.bin")], vec![dir.join("test.bin")])
                } else {
                    (
                        (1..=5)
                            .map(|k| dir.join(format!("data_batch_{k}.bin")))
                            .collect(),
                        vec![dir.join("test_batch.bin")],
                    )
                };
                Ok((
                    load_cifar(&train, *cifar100)?,
                    load_cifar(&test, *cifar100)?,
                ))
            }
            Source::Csv {
                train,
                test,
                shape,
                label,
            } => {
                let tr = load_csv_for(train, shape, *label, classes)?;
                match test {
                    Some(t) => Ok((tr, load_csv_for(t, shape, *label, classes)?)),
                    None => {
                        // a fixed 80/20 split of the one file (seed 0, independent of --seed)
                        let n = tr.len();
                        let perm = permutation(n, 0);
                        let cut = n - n / 5;
                        Ok((
                            subset(&tr, &perm[..cut as usize]),
                            subset(&tr, &perm[cut as usize..]),
                        ))
                    }
                }
            }
        }
    }
}

fn permutation(n: i64, seed: u64) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n).collect();
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    v
}

fn subset(d: &Dataset, idx: &[i64]) -> Dataset {
    let i = Tensor::from_slice(idx);
    Dataset {
        images: d.images.index_select(0, &i),
        labels: d.labels.index_select(0, &i),
        classes: d.classes,
    }
}

/// How to prepare the splits.
#[derive(Clone, Debug)]
pub struct SplitOptions {
    /// Images held out of the training set for validation.
    pub val: i64,
    /// Seed of the train/validation split and of the per-epoch shuffles.
    pub seed: u64,
    /// Use at most this many training images (after the split; for quick runs).
    pub limit: Option<i64>,
    /// Random crop with this padding (0: none) and horizontal flips, on training batches only.
    pub crop_padding: i64,
    pub flip: bool,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            val: 5000,
            seed: 0,
            limit: None,
            crop_padding: 0,
            flip: false,
        }
    }
}

/// Train, validation and test parts for a network's input `[C, H, W]` (images are fitted to it batch by
/// batch), with normalisation from the training part.
#[derive(Debug)]
pub struct Splits {
    pub train: Dataset,
    pub val: Dataset,
    pub test: Dataset,
    /// Per-channel mean and standard deviation (of the `[0, 1]` pixel values of `train`).
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// The network's `[C, H, W]`.
    pub shape: Vec<i64>,
    pub opts: SplitOptions,
}

/// Which part to iterate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Train,
    Val,
    Test,
}

impl Splits {
    /// Splits `train` into train/validation under the seed for a network input `shape` (`[C, H, W]`).
    pub fn new(
        train: Dataset,
        test: Dataset,
        shape: &[i64],
        opts: SplitOptions,
    ) -> Result<Splits, DataError> {
        if shape.len() != 3 {
            return Err(DataError::Usage(format!(
                "the network's input has shape {shape:?}; image data needs [B, C, H, W]"
            )));
        }
        let n = train.len();
        if opts.val < 0 || opts.val >= n {
            return Err(DataError::Usage(format!(
                "a validation split of {} images leaves nothing of the {n} training images",
                opts.val
            )));
        }
        let perm = permutation(n, opts.seed);
        let (vi, mut ti) = (
            &perm[..opts.val as usize],
            perm[opts.val as usize..].to_vec(),
        );
        // statistics of the fitted training images: the first 4,096 of the training part *before*
        // `limit`, so that `nasc eval` (which trains nothing and takes no limit) normalises exactly as
        // the training run did (in chunks, to bound memory)
        let stats = subset(&train, &ti[..ti.len().min(4096)]);
        if let Some(l) = opts.limit {
            ti.truncate(l.max(1) as usize);
        }
        let tr = subset(&train, &ti);
        let va = subset(&train, vi);
        let c = shape[0];
        let k = stats.len();
        let (mut sum, mut sq) = (vec![0f64; c as usize], vec![0f64; c as usize]);
        let mut count = 0f64;
        for start in (0..k).step_by(256) {
            let len = (k - start).min(256);
            let chunk = fit_images(&stats.images.f_narrow(0, start, len)?, shape)?;
            let f = chunk.f_to_kind(Kind::Double)? / 255.0;
            let s1 = Vec::<f64>::try_from(f.f_sum_dim_intlist(
                &[0i64, 2, 3][..],
                false,
                Kind::Double,
            )?)?;
            let s2 = Vec::<f64>::try_from(f.f_square()?.f_sum_dim_intlist(
                &[0i64, 2, 3][..],
                false,
                Kind::Double,
            )?)?;
            for ch in 0..c as usize {
                sum[ch] += s1[ch];
                sq[ch] += s2[ch];
            }
            count += (len * shape[1] * shape[2]) as f64;
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / count.max(1.0)).collect();
        let std: Vec<f64> = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| (q / count.max(1.0) - m * m).max(0.0).sqrt())
            .collect();
        Ok(Splits {
            train: tr,
            val: va,
            test,
            mean,
            std: std.into_iter().map(|s| s.max(1e-6)).collect(),
            shape: shape.to_vec(),
            opts,
        })
    }

    pub fn part(&self, p: Part) -> &Dataset {
        match p {
            Part::Train => &self.train,
            Part::Val => &self.val,
            Part::Test => &self.test,
        }
    }

    /// The batches of a part for one epoch: shuffled (train only, seeded by `seed` and `epoch`),
    /// normalised, augmented (train only), as float tensors on `device`. The last batch may be smaller.
    pub fn batches(
        &self,
        part: Part,
        batch: i64,
        epoch: u64,
        device: Device,
    ) -> impl Iterator<Item = Result<(Tensor, Tensor), DataError>> + '_ {
        let d = self.part(part);
        let n = d.len();
        let order: Vec<i64> = if part == Part::Train {
            permutation(
                n,
                self.opts
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add(epoch + 1),
            )
        } else {
            (0..n).collect()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.opts.seed ^ (epoch << 32) ^ 0x5eed);
        let c = self.shape[0];
        let mean = Tensor::from_slice(&self.mean)
            .to_kind(Kind::Float)
            .reshape([1, c, 1, 1])
            .to_device(device);
        let std = Tensor::from_slice(&self.std)
            .to_kind(Kind::Float)
            .reshape([1, c, 1, 1])
            .to_device(device);
        let batch = batch.max(1);
        (0..n).step_by(batch as usize).map(move |start| {
            let end = (start + batch).min(n);
            let idx = Tensor::from_slice(&order[start as usize..end as usize]);
            let x = fit_images(&d.images.f_index_select(0, &idx)?, &self.shape)?;
            let y = d.labels.f_index_select(0, &idx)?.f_to_device(device)?;
            let x = x.f_to_device(device)?.f_to_kind(Kind::Float)? / 255.0;
            let mut x = (x - &mean) / &std;
            if part == Part::Train {
                x = augment(&x, self.opts.crop_padding, self.opts.flip, &mut rng)?;
            }
            Ok((x, y))
        })
    }
}

/// Random crop (after zero padding) and horizontal flip, per image.
fn augment(x: &Tensor, pad: i64, flip: bool, rng: &mut ChaCha8Rng) -> Result<Tensor, DataError> {
    let s = x.size();
    let (b, h, w) = (s[0], s[2], s[3]);
    let mut x = x.shallow_clone();
    if pad > 0 {
        let padded = x.f_constant_pad_nd([pad, pad, pad, pad])?;
        let mut rows = Vec::with_capacity(b as usize);
        for i in 0..b {
            let (dy, dx) = (rng.gen_range(0..=2 * pad), rng.gen_range(0..=2 * pad));
            rows.push(
                padded
                    .f_select(0, i)?
                    .f_narrow(1, dy, h)?
                    .f_narrow(2, dx, w)?,
            );
        }
        x = Tensor::f_stack(&rows, 0)?;
    }
    if flip {
        let mask: Vec<bool> = (0..b).map(|_| rng.gen_bool(0.5)).collect();
        let m = Tensor::from_slice(&mask)
            .to_device(x.device())
            .reshape([b, 1, 1, 1]);
        x = x.f_flip([3])?.f_where_self(&m, &x)?;
    }
    Ok(x)
}

/// Fits `[N, C, H, W]` `u8` images to `[C', H', W']`: channels repeated (1 → C') or averaged (→ 1); a
/// smaller image is zero-padded around its centre, any other size is resized bilinearly.
pub fn fit_images(images: &Tensor, shape: &[i64]) -> Result<Tensor, DataError> {
    let s = images.size();
    let (c, h, w) = (s[1], s[2], s[3]);
    let (c2, h2, w2) = (shape[0], shape[1], shape[2]);
    let mut x = images.shallow_clone();
    if c != c2 {
        x = if c == 1 {
            x.f_repeat([1, c2, 1, 1])?
        } else if c2 == 1 {
            x.f_to_kind(Kind::Float)?
                .f_mean_dim(&[1i64][..], true, Kind::Float)?
                .f_round()?
                .f_to_kind(Kind::Uint8)?
        } else {
            return Err(DataError::Usage(format!(
                "images with {c} channels cannot feed a network that takes {c2}"
            )));
        };
    }
    if (h, w) != (h2, w2) {
        x = if h <= h2 && w <= w2 {
            let (t, l) = ((h2 - h) / 2, (w2 - w) / 2);
            x.f_constant_pad_nd([l, w2 - w - l, t, h2 - h - t])?
        } else {
            x.f_to_kind(Kind::Float)?
                .f_upsample_bilinear2d([h2, w2], false, None, None)?
                .f_round()?
                .f_clamp(0, 255)?
                .f_to_kind(Kind::Uint8)?
        };
    }
    Ok(x)
}
