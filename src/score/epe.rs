//! The EPE-NAS score (Lopes et al. 2021) as plain `f64` math on a Jacobian matrix: one row per sample
//! (the flattened input gradient of the summed logits), one label per row. No tch here, so the formula
//! can be tested to 1e-9 against an independent numpy version (`tests/it/score.rs`).
//!
//! For each class c present: Σ_c = the Pearson correlation matrix between the rows of class c (numpy's
//! `corrcoef`, values clipped to [-1, 1]); e_c = Σ_ij ln(|Σ_c[i,j]| + 1e-5). With the sum form,
//! S = Σ_c |e_c|; with the pairwise form (the paper's rule for more than 100 classes), e_c ← e_c / n_c
//! and S = (1/|K|) Σ_i Σ_j |e_i − e_j| over the classes K with at least two samples.
//! Singletons: in the sum form a singleton class contributes |ln(1 + 1e-5)| (the correlation of one row
//! with itself is 1, as in the reference); in the pairwise form it is left out (the reference drops it
//! through an exception). A row with zero variance (a zero or constant Jacobian) or a non-finite entry
//! makes the whole score [`Signal::NoSignal`], never a number.

use super::Signal;

/// The k of e_c = Σ ln(|Σ| + k).
pub const K: f64 = 1e-5;

/// Dot product with four accumulators (vectorises; the summation order is fixed, so deterministic).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        s0 += x[0] * y[0];
        s1 += x[1] * y[1];
        s2 += x[2] * y[2];
        s3 += x[3] * y[3];
    }
    let mut s = (s0 + s1) + (s2 + s3);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Rows centred and scaled to unit norm (so that their dot products are Pearson correlations).
/// `Err` names the first row with zero variance or a non-finite value.
pub fn standardise(rows: &[f64], dim: usize) -> Result<Vec<f64>, String> {
    let mut out = rows.to_vec();
    for (i, r) in out.chunks_exact_mut(dim.max(1)).enumerate() {
        if r.iter().any(|v| !v.is_finite()) {
            return Err(format!("sample {i} has a non-finite Jacobian"));
        }
        let mean = r.iter().sum::<f64>() / dim as f64;
        r.iter_mut().for_each(|v| *v -= mean);
        let norm = dot(r, r).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(format!(
                "sample {i} has a zero or constant Jacobian (the output does not depend on the input)"
            ));
        }
        r.iter_mut().for_each(|v| *v /= norm);
    }
    Ok(out)
}

/// The Pearson correlation matrix (n × n, row-major) of standardised rows.
pub fn correlation(z: &[f64], dim: usize) -> Vec<f64> {
    let n = z.len() / dim.max(1);
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let v = dot(&z[i * dim..(i + 1) * dim], &z[j * dim..(j + 1) * dim]).clamp(-1.0, 1.0);
            c[i * n + j] = v;
            c[j * n + i] = v;
        }
    }
    c
}

/// The EPE-NAS score of a Jacobian matrix (`rows`: n × `dim`, row-major) with one label per row.
/// `pairwise`: the normalised pairwise form (the paper's rule for more than 100 classes).
pub fn epe_score(rows: &[f64], dim: usize, labels: &[i64], pairwise: bool) -> Signal {
    let n = labels.len();
    if dim == 0 || rows.len() != n * dim {
        return Signal::NoSignal(format!(
            "a {}-element Jacobian does not have {n} rows of {dim}",
            rows.len()
        ));
    }
    if n == 0 {
        return Signal::NoSignal("an empty batch".into());
    }
    let z = match standardise(rows, dim) {
        Ok(z) => z,
        Err(e) => return Signal::NoSignal(e),
    };
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut per_class = Vec::with_capacity(classes.len());
    for c in classes {
        let idx: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        if idx.len() == 1 && pairwise {
            continue;
        }
        let mut zc = Vec::with_capacity(idx.len() * dim);
        for &i in &idx {
            zc.extend_from_slice(&z[i * dim..(i + 1) * dim]);
        }
        let corr = correlation(&zc, dim);
        let mut e: f64 = corr.iter().map(|r| (r.abs() + K).ln()).sum();
        if pairwise {
            e /= idx.len() as f64;
        }
        per_class.push(e);
    }
    let s = if pairwise {
        if per_class.is_empty() {
            return Signal::NoSignal("no class has two samples in the batch".into());
        }
        let mut s = 0.0;
        for a in &per_class {
            for b in &per_class {
                s += (a - b).abs();
            }
        }
        s / per_class.len() as f64
    } else {
        per_class.iter().map(|e| e.abs()).sum()
    };
    if s.is_finite() {
        Signal::Value(s)
    } else {
        Signal::NoSignal("the score is not finite".into())
    }
}
