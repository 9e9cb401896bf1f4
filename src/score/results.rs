//! Measured accuracies to judge scores against (`nasc score --against FILE`), and the correlations.
//!
//! The file is CSV with a header line naming the columns; nasc reads the architecture column (`arch`
//! unless [`Columns`] names another) and the accuracy column (`accuracy`, or another: a file with
//! `val_acc` and `test_acc` is read with `--against-column val_acc`) and ignores the others. `arch` is the architecture as `--choose` takes it: `NAME=INDEX` pairs separated by spaces
//! (`e01=3 e02=1 e03=0 e12=4 e13=2 e23=1`); `accuracy` is a number (any scale: only ranks matter).
//! Empty lines and lines starting with `#` are skipped. Fields are not quoted (no commas inside a field).

use super::{stats, ArchScores, ScoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One row of a results file.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// The decisions, by name.
    pub choices: BTreeMap<String, usize>,
    pub arch: String,
    pub accuracy: f64,
    /// 1-based line in the file.
    pub line: usize,
}

/// Parses an `arch` field (`e01=3 e02=1`).
pub fn parse_arch(s: &str) -> Result<BTreeMap<String, usize>, String> {
    let mut m = BTreeMap::new();
    for tok in s.split_whitespace() {
        let (k, v) = tok
            .split_once('=')
            .ok_or_else(|| format!("`{tok}` is not NAME=INDEX"))?;
        let i = v
            .parse::<usize>()
            .map_err(|_| format!("`{v}` is not an alternative index (in `{tok}`)"))?;
        if m.insert(k.to_string(), i).is_some() {
            return Err(format!("decision `{k}` is given twice"));
        }
    }
    Ok(m)
}

/// Which columns of a results file hold the architecture and the accuracy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Columns {
    pub arch: String,
    pub accuracy: String,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            arch: "arch".into(),
            accuracy: "accuracy".into(),
        }
    }
}

/// Parses the text of a results file (`file` names it in errors).
pub fn parse_results(
    text: &str,
    file: &str,
    columns: &Columns,
) -> Result<Vec<Measured>, ScoreError> {
    let err = |line: usize, message: String| ScoreError::Results {
        file: file.to_string(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (hl, header) = lines.next().ok_or_else(|| {
        err(
            0,
            format!(
                "the file is empty (expected a header naming the columns, such as `{},{}`)",
                columns.arch, columns.accuracy
            ),
        )
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str, flag: &str| {
        cols.iter().position(|c| c.eq_ignore_ascii_case(name)).ok_or_else(|| {
            err(
                hl,
                format!(
                    "the header has no `{name}` column (its columns: {}); name the column with {flag}",
                    cols.join(", ")
                ),
            )
        })
    };
    let (ca, cc) = (
        col(&columns.arch, "--against-arch-column")?,
        col(&columns.accuracy, "--against-column")?,
    );
    let mut out = Vec::new();
    for (ln, l) in lines {
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != cols.len() {
            return Err(err(
                ln,
                format!("{} field(s), the header has {}", f.len(), cols.len()),
            ));
        }
        let choices = parse_arch(f[ca]).map_err(|m| err(ln, m))?;
        let accuracy = f[cc]
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite())
            .ok_or_else(|| {
                err(
                    ln,
                    format!(
                        "`{}` in column `{}` is not an accuracy (a number)",
                        f[cc], columns.accuracy
                    ),
                )
            })?;
        out.push(Measured {
            choices,
            arch: f[ca].split_whitespace().collect::<Vec<_>>().join(" "),
            accuracy,
            line: ln,
        });
    }
    if out.is_empty() {
        return Err(err(0, "no result rows after the header".into()));
    }
    Ok(out)
}

/// Reads a results file.
pub fn read_results(path: &Path, columns: &Columns) -> Result<Vec<Measured>, ScoreError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScoreError::Results {
        file: file.clone(),
        line: 0,
        message: format!("cannot read it: {e}"),
    })?;
    parse_results(&text, &file, columns)
}

/// How well one score ranks the architectures: Kendall τ-b and Spearman ρ against the accuracies, over
/// the `n` architectures where the score has a signal (`excluded` have none).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Correlation {
    pub score: String,
    pub n: usize,
    pub excluded: usize,
    pub kendall_tau_b: Option<f64>,
    pub spearman_rho: Option<f64>,
}

/// The correlation of every score column of `rows` (and the combined score, when present) with
/// `accuracy` (one per row).
pub fn correlate(rows: &[ArchScores], accuracy: &[f64]) -> Vec<Correlation> {
    let mut names: Vec<String> = rows
        .first()
        .map(|r| r.scores.keys().cloned().collect())
        .unwrap_or_default();
    if rows.iter().any(|r| r.combined.is_some()) {
        names.push("combined".into());
    }
    names
        .into_iter()
        .map(|name| {
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for (r, &a) in rows.iter().zip(accuracy) {
                let s = if name == "combined" {
                    r.combined.as_ref()
                } else {
                    r.scores.get(&name)
                };
                if let Some(v) = s.and_then(|s| s.value()) {
                    xs.push(v);
                    ys.push(a);
                }
            }
            Correlation {
                n: xs.len(),
                excluded: rows.len() - xs.len(),
                kendall_tau_b: stats::kendall_tau_b(&xs, &ys),
                spearman_rho: stats::spearman(&xs, &ys),
                score: name,
            }
        })
        .collect()
}
