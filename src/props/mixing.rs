//! Mixing matrices: the lattice `. < o < m < a` (none, one-to-one, many-to-one, all-to-one), matrices
//! `M[in_dim][out_dim]` over it, their join and composition, and the analytic per-op rules (NCHW layout).
//! No Jacobian is computed here: every rule is a function of the op's hyper-parameters and shapes. The
//! concrete definition these rules abstract (centre-slice Jacobians) is in docs/properties.md; the oracle
//! tests compare the two with libtorch.

use crate::ir::Op;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One entry of a mixing matrix. The order is the lattice order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Mix {
    /// `.`: some position along the input dim influences nothing in the output slice.
    #[default]
    None,
    /// `o`: the centre output element depends on one position along the input dim.
    One,
    /// `m`: on more than one position, but not all.
    Many,
    /// `a`: on every position.
    All,
}

impl Mix {
    pub fn symbol(self) -> char {
        match self {
            Mix::None => '.',
            Mix::One => 'o',
            Mix::Many => 'm',
            Mix::All => 'a',
        }
    }

    pub fn from_symbol(c: char) -> Option<Mix> {
        match c {
            '.' => Some(Mix::None),
            'o' => Some(Mix::One),
            'm' => Some(Mix::Many),
            'a' => Some(Mix::All),
            _ => None,
        }
    }
}

/// A `rows × cols` matrix over [`Mix`]; rows are input dims, columns output dims. Serialised as one string
/// per row (`["o...", "aaaa"]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    cells: Vec<Mix>,
}

impl Matrix {
    /// All `.`.
    pub fn none(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            cells: vec![Mix::None; rows * cols],
        }
    }

    /// All `a` (the top of the lattice; the sound answer when nothing better is known).
    pub fn all(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            cells: vec![Mix::All; rows * cols],
        }
    }

    /// `o` on the diagonal, `.` elsewhere.
    pub fn identity(n: usize) -> Self {
        let mut m = Self::none(n, n);
        for i in 0..n {
            m.set(i, i, Mix::One);
        }
        m
    }

    pub fn get(&self, r: usize, c: usize) -> Mix {
        self.cells[r * self.cols + c]
    }

    pub fn set(&mut self, r: usize, c: usize, v: Mix) {
        self.cells[r * self.cols + c] = v;
    }

    /// Raises an entry to at least `v`.
    pub fn raise(&mut self, r: usize, c: usize, v: Mix) {
        let i = r * self.cols + c;
        self.cells[i] = self.cells[i].max(v);
    }

    /// Sets a whole row.
    pub fn set_row(&mut self, r: usize, v: Mix) {
        for c in 0..self.cols {
            self.set(r, c, v);
        }
    }

    /// The element-wise max (the lattice join). Shapes must agree.
    pub fn join(&self, other: &Matrix) -> Matrix {
        debug_assert_eq!((self.rows, self.cols), (other.rows, other.cols));
        Matrix {
            rows: self.rows,
            cols: self.cols,
            cells: self
                .cells
                .iter()
                .zip(&other.cells)
                .map(|(a, b)| *a.max(b))
                .collect(),
        }
    }

    /// `self ⊒ other` element-wise.
    pub fn covers(&self, other: &Matrix) -> bool {
        self.rows == other.rows
            && self.cols == other.cols
            && self.cells.iter().zip(&other.cells).all(|(a, b)| a >= b)
    }

    /// Composition through an op: `self` is `[a][b]` (graph input → op input), `q` is `[b][c]` (op input →
    /// op output). `R[a][c]` is the max of `self[a][b]` and `q[b][c]` over the connected `b` (both not
    /// `.`), `.` when no `b` connects.
    pub fn compose(&self, q: &Matrix) -> Matrix {
        debug_assert_eq!(self.cols, q.rows);
        let mut r = Matrix::none(self.rows, q.cols);
        for a in 0..self.rows {
            for b in 0..self.cols {
                let p = self.get(a, b);
                if p == Mix::None {
                    continue;
                }
                for c in 0..q.cols {
                    let x = q.get(b, c);
                    if x != Mix::None {
                        r.raise(a, c, p.max(x));
                    }
                }
            }
        }
        r
    }

    /// The rows as strings of `. o m a`.
    pub fn row_strings(&self) -> Vec<String> {
        (0..self.rows)
            .map(|r| (0..self.cols).map(|c| self.get(r, c).symbol()).collect())
            .collect()
    }

    /// Parses rows of `. o m a` (all of one length).
    pub fn from_rows(rows: &[impl AsRef<str>]) -> Result<Matrix, String> {
        let cols = rows
            .first()
            .map(|r| r.as_ref().chars().count())
            .unwrap_or(0);
        let mut cells = Vec::new();
        for r in rows {
            let r = r.as_ref();
            if r.chars().count() != cols {
                return Err(format!("mixing rows differ in length: `{r}`"));
            }
            for ch in r.chars() {
                cells.push(
                    Mix::from_symbol(ch)
                        .ok_or_else(|| format!("`{ch}` is not one of `. o m a`"))?,
                );
            }
        }
        Ok(Matrix {
            rows: rows.len(),
            cols,
            cells,
        })
    }

    /// The entries, row-major.
    pub fn cells(&self) -> &[Mix] {
        &self.cells
    }
}

impl Serialize for Matrix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.row_strings().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Vec::<String>::deserialize(d)?;
        Matrix::from_rows(&rows).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.row_strings().join("/"))
    }
}

/// Names of the dims of a tensor of rank `r` in NCHW layout: `N C H W`, `N F` (features), `N T D`
/// (tokens), `N C D H W`; otherwise `d0 d1 …`.
pub fn dim_names(r: usize) -> Vec<String> {
    let v: &[&str] = match r {
        1 => &["N"],
        2 => &["N", "F"],
        3 => &["N", "T", "D"],
        4 => &["N", "C", "H", "W"],
        5 => &["N", "C", "D", "H", "W"],
        _ => &[],
    };
    if v.is_empty() {
        (0..r).map(|i| format!("d{i}")).collect()
    } else {
        v.iter().map(|s| s.to_string()).collect()
    }
}

fn norm(d: i64, r: usize) -> usize {
    if d < 0 {
        (d + r as i64).max(0) as usize
    } else {
        (d as usize).min(r.saturating_sub(1))
    }
}

/// Identity aligned to the right (broadcasting): input dim `b` → output dim `b + (out − in)`.
fn aligned(rin: usize, rout: usize) -> Matrix {
    let mut m = Matrix::none(rin, rout);
    if rin <= rout {
        let off = rout - rin;
        for b in 0..rin {
            m.set(b, b + off, Mix::One);
        }
    } else {
        return Matrix::all(rin, rout);
    }
    m
}

fn window(eff: i64) -> Mix {
    if eff > 1 {
        Mix::Many
    } else {
        Mix::One
    }
}

/// A spatial output dim of size 1 whose single window covers the whole input dim: every output depends
/// on every position along it, so its row is all `a` (as for a global pool), not `m` on the diagonal.
fn cover(m: &mut Matrix, inp: &[i64], out: &[i64], eff: i64, padding: i64) {
    for (s, (&o, &i)) in out.iter().zip(inp).enumerate().skip(2) {
        if o == 1 && i > 1 && eff - padding >= i {
            m.set_row(s, Mix::All);
        }
    }
}

fn conv_padding(op: &Op) -> i64 {
    match op {
        Op::Conv { padding, .. } => *padding,
        _ => 0,
    }
}

/// Groups of a reshape: pairs of (input dims, output dims) with equal products.
fn reshape_groups(a: &[i64], b: &[i64]) -> Option<Vec<(Vec<usize>, Vec<usize>)>> {
    let (mut i, mut j) = (0, 0);
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    while i < a.len() && j < b.len() {
        let (mut gi, mut gj) = (vec![i], vec![j]);
        let (mut pa, mut pb) = (a[i], b[j]);
        i += 1;
        j += 1;
        while pa != pb {
            if pa < pb {
                if i >= a.len() {
                    return None;
                }
                pa *= a[i];
                gi.push(i);
                i += 1;
            } else {
                if j >= b.len() {
                    return None;
                }
                pb *= b[j];
                gj.push(j);
                j += 1;
            }
        }
        groups.push((gi, gj));
    }
    // Leftover size-1 dims join the last group.
    let last = groups.last_mut()?;
    last.0.extend(i..a.len());
    last.1.extend(j..b.len());
    Some(groups)
}

/// Letters of an einsum operand, or `None` for specs this rule does not model (ellipsis).
fn einsum_parts(spec: &str) -> Option<(Vec<Vec<char>>, Vec<char>)> {
    let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    if spec.contains("...") {
        return None;
    }
    let (lhs, rhs) = spec.split_once("->")?;
    let ops = lhs.split(',').map(|s| s.chars().collect()).collect();
    Some((ops, rhs.chars().collect()))
}

/// The per-op mixing matrix of input slot `slot`: rows are the dims of `ins[slot]`, columns the dims of
/// `out`. Ops without inputs (input, param) have no slots; asking for one gives an empty matrix.
pub fn op_matrix(op: &Op, ins: &[&[i64]], out: &[i64], slot: usize) -> Matrix {
    let Some(inp) = ins.get(slot) else {
        return Matrix::none(0, out.len());
    };
    let (ri, ro) = (inp.len(), out.len());
    match op {
        Op::Input { .. } | Op::Param { .. } => Matrix::none(ri, ro),
        Op::Zero => Matrix::none(ri, ro),
        Op::Act { .. }
        | Op::Dropout { .. }
        | Op::Identity
        | Op::Scale { .. }
        | Op::BatchNorm { .. } => aligned(ri, ro),
        Op::Add | Op::Mul | Op::Expand { .. } | Op::Concat { .. } => aligned(ri, ro),
        Op::Conv {
            kernel,
            dilation,
            groups,
            ..
        } => {
            if ri != ro || ri < 2 {
                return Matrix::all(ri, ro);
            }
            let mut m = Matrix::none(ri, ro);
            m.set(0, 0, Mix::One);
            let cin = inp[1];
            if *groups <= 1 {
                m.set_row(1, Mix::All);
            } else {
                m.set(
                    1,
                    1,
                    if cin / groups <= 1 {
                        Mix::One
                    } else {
                        Mix::Many
                    },
                );
            }
            for s in 2..ri {
                m.set(s, s, window((kernel - 1) * dilation + 1));
            }
            cover(
                &mut m,
                inp,
                out,
                (kernel - 1) * dilation + 1,
                conv_padding(op),
            );
            m
        }
        Op::Linear { .. } | Op::LayerNorm { .. } => {
            if ri != ro || ri == 0 {
                return Matrix::all(ri, ro);
            }
            let mut m = aligned(ri, ro);
            m.set_row(ri - 1, Mix::All);
            m
        }
        Op::Softmax { dim } => {
            if ri != ro || ri == 0 {
                return Matrix::all(ri, ro);
            }
            let mut m = aligned(ri, ro);
            m.set_row(norm(*dim, ri), Mix::All);
            m
        }
        Op::GroupNorm { groups, .. } => {
            if ri != ro || ri < 2 {
                return Matrix::all(ri, ro);
            }
            let mut m = Matrix::none(ri, ro);
            m.set(0, 0, Mix::One);
            let c = inp[1];
            if *groups <= 1 {
                m.set_row(1, Mix::All);
            } else {
                m.set(1, 1, if c / groups <= 1 { Mix::One } else { Mix::Many });
            }
            for s in 2..ri {
                m.set_row(s, Mix::All);
            }
            m
        }
        Op::Pool {
            kernel, padding, ..
        } => {
            if ri != ro {
                return Matrix::all(ri, ro);
            }
            let mut m = aligned(ri, ro);
            for s in 2.min(ri)..ri {
                m.set(s, s, window(*kernel));
            }
            cover(&mut m, inp, out, *kernel, *padding);
            m
        }
        Op::GlobalPool { .. } => {
            let mut m = Matrix::none(ri, ro);
            for b in 0..ri.min(2).min(ro) {
                m.set(b, b, Mix::One);
            }
            for s in 2..ri {
                m.set_row(s, Mix::All);
            }
            m
        }
        Op::Mean { dim, keepdim } => {
            let d = norm(*dim, ri);
            let mut m = Matrix::none(ri, ro);
            for b in 0..ri {
                if b == d {
                    m.set_row(b, Mix::All);
                } else {
                    let c = if *keepdim || b < d { b } else { b - 1 };
                    if c < ro {
                        m.set(b, c, Mix::One);
                    }
                }
            }
            m
        }
        Op::Flatten { start } => {
            let s = norm(*start, ri);
            let mut m = Matrix::none(ri, ro);
            for b in 0..ri {
                let c = b.min(s).min(ro.saturating_sub(1));
                m.set(b, c, Mix::One);
            }
            m
        }
        Op::Reshape { .. } => match reshape_groups(inp, out) {
            Some(groups) => {
                let mut m = Matrix::none(ri, ro);
                for (gi, gj) in groups {
                    for &b in &gi {
                        for &c in &gj {
                            m.set(b, c, Mix::One);
                        }
                    }
                }
                m
            }
            None => Matrix::all(ri, ro),
        },
        Op::Transpose { d0, d1 } => {
            let (a, b) = (norm(*d0, ri), norm(*d1, ri));
            let mut m = Matrix::identity(ri);
            if a != b && ri == ro {
                m.set(a, a, Mix::None);
                m.set(b, b, Mix::None);
                m.set(a, b, Mix::One);
                m.set(b, a, Mix::One);
            }
            m
        }
        Op::Permute { dims } => {
            let mut m = Matrix::none(ri, ro);
            for (k, &d) in dims.iter().enumerate() {
                if k < ro {
                    m.set(norm(d, ri), k, Mix::One);
                }
            }
            m
        }
        Op::Select { dim, .. } => {
            let d = norm(*dim, ri);
            let mut m = Matrix::none(ri, ro);
            for b in 0..ri {
                if b != d {
                    let c = if b < d { b } else { b - 1 };
                    if c < ro {
                        m.set(b, c, Mix::One);
                    }
                }
            }
            m
        }
        Op::Slice { .. } => aligned(ri, ro),
        Op::Matmul => {
            if ri < 2 || ro < 2 {
                return Matrix::all(ri, ro);
            }
            let mut m = Matrix::none(ri, ro);
            for b in 0..ri - 2 {
                if b + ro >= ri {
                    m.set(b, b + ro - ri, Mix::One);
                }
            }
            if slot == 0 {
                m.set(ri - 2, ro - 2, Mix::One);
                m.set_row(ri - 1, Mix::All);
            } else {
                m.set_row(ri - 2, Mix::All);
                m.set(ri - 1, ro - 1, Mix::One);
            }
            m
        }
        Op::Einsum { spec } => match einsum_parts(spec) {
            Some((ops, rhs)) if ops.get(slot).is_some_and(|o| o.len() == ri) && rhs.len() == ro => {
                let mut m = Matrix::none(ri, ro);
                for (b, ch) in ops[slot].iter().enumerate() {
                    match rhs.iter().position(|x| x == ch) {
                        Some(c) => m.set(b, c, Mix::One),
                        None => m.set_row(b, Mix::All),
                    }
                }
                m
            }
            _ => Matrix::all(ri, ro),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_and_join() {
        let p = Matrix::from_rows(&["o.", ".o"]).unwrap();
        let q = Matrix::from_rows(&["o.", "aa"]).unwrap();
        assert_eq!(p.compose(&q).row_strings(), vec!["o.", "aa"]);
        assert_eq!(p.join(&q).row_strings(), vec!["o.", "aa"]);
        assert!(q.covers(&p));
    }

    #[test]
    fn reshape_merges_and_splits() {
        let g = reshape_groups(&[1, 197, 192], &[1, 197, 3, 64]).unwrap();
        assert_eq!(g[2], (vec![2], vec![2, 3]));
    }
}
