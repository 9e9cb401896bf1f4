//! Rank statistics for judging scores against measured accuracies: average ranks (ties share the mean of
//! their positions), Spearman's ρ (Pearson's r on average ranks) and Kendall's τ-b (the tie-corrected τ),
//! and the rank-average used by the combined score. Plain `f64`, no tch.

/// Average ranks, 1-based, ascending (the smallest value gets rank 1; tied values share the mean of
/// their positions). Values must be finite.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation coefficient; `None` when either side has no variance or fewer than 2 values.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// Spearman's rank correlation ρ (Pearson's r of the average ranks, so ties are handled).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Kendall's τ-b: (concordant − discordant) / √((n0 − n1)(n0 − n2)), where n1 and n2 count the pairs
/// tied in x and in y. `None` when either side is constant or there are fewer than 2 values. O(n²).
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let (mut s, mut tx, mut ty, mut pairs) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            pairs += 1;
            let dx = x[i].total_cmp(&x[j]) as i64;
            let dy = y[i].total_cmp(&y[j]) as i64;
            if dx == 0 {
                tx += 1;
            }
            if dy == 0 {
                ty += 1;
            }
            s += dx * dy;
        }
    }
    let d = ((pairs - tx) as f64 * (pairs - ty) as f64).sqrt();
    if d == 0.0 {
        None
    } else {
        Some(s as f64 / d)
    }
}

/// The rank-average of several score columns (higher is better in each): for each row, the mean over the
/// columns of its average rank divided by the row count, so the best row of every column gets 1.0 and
/// the combined score is in (0, 1], higher better. Rows with a `None` in any column get `None`; the
/// others are ranked among themselves.
pub fn rank_average(columns: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    let rows = columns.first().map_or(0, Vec::len);
    let complete: Vec<usize> = (0..rows)
        .filter(|&i| {
            columns
                .iter()
                .all(|c| c.get(i).copied().flatten().is_some())
        })
        .collect();
    let mut out = vec![None; rows];
    if complete.is_empty() || columns.is_empty() {
        return out;
    }
    // Ranks are multiples of 1/2, so their sum is exact in f64 and the one division at the end gives
    // equal rank sums equal averages (dividing each rank first split ties by float noise).
    let m = complete.len() as f64;
    let mut acc = vec![0.0; complete.len()];
    for c in columns {
        let vals: Vec<f64> = complete.iter().map(|&i| c[i].unwrap_or(0.0)).collect();
        for (a, r) in acc.iter_mut().zip(ranks(&vals)) {
            *a += r;
        }
    }
    let scale = m * columns.len() as f64;
    for (k, &i) in complete.iter().enumerate() {
        out[i] = Some(acc[k] / scale);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rank_sums_give_equal_averages() {
        // rank sums 1+3+2 = 3+2+1 = 2+1+3: dividing each rank by 3 first gives 0.333…+1+0.666… and
        // 1+0.666…+0.333…, which differ in the last bit
        let cols = vec![
            vec![Some(1.0), Some(3.0), Some(2.0)],
            vec![Some(3.0), Some(2.0), Some(1.0)],
            vec![Some(2.0), Some(1.0), Some(3.0)],
        ];
        let r = rank_average(&cols);
        assert_eq!(r[0], r[1]);
        assert_eq!(r[1], r[2]);
        let mut cols = cols;
        for c in &mut cols {
            c.extend([Some(0.5), Some(7.0), Some(-1.0), Some(4.0)]);
        }
        let r = rank_average(&cols);
        assert_eq!(r[0], r[1]);
        assert_eq!(r[1], r[2]);
    }

    #[test]
    fn ties_and_known_values() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            spearman(&x, &[5.0, 6.0, 7.0, 8.0, 7.0]).map(|v| (v * 1e6).round()),
            Some(820783.0)
        );
        assert_eq!(kendall_tau_b(&x, &[2.0, 1.0, 3.0, 4.0, 5.0]), Some(0.8));
        // scipy.stats.kendalltau([1,2,2,3],[1,2,3,3]) = 0.8
        let t = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 3.0]).unwrap();
        assert!((t - 0.8).abs() < 1e-12, "{t}");
        assert_eq!(kendall_tau_b(&x, &[1.0; 5]), None);
    }
}
