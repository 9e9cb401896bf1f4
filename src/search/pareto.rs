//! Pareto fronts of (cost, accuracy) points — lower cost and higher accuracy are better — and each point's
//! distance to the front, the weight of alpha-NAS's parent selection (§5.3: sample ∝ 10^(−w)).

/// The indices of the points no other point dominates (≤ cost and ≥ accuracy, one of them strictly),
/// sorted by cost, then by accuracy (best first). Equal points are all kept. Points with a NaN are ignored.
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| !points[i].0.is_nan() && !points[i].1.is_nan())
        .collect();
    idx.sort_by(|&a, &b| {
        let (pa, pb) = (points[a], points[b]);
        pa.0.total_cmp(&pb.0)
            .then(pb.1.total_cmp(&pa.1))
            .then(a.cmp(&b))
    });
    let mut out: Vec<usize> = Vec::new();
    let mut best = f64::NEG_INFINITY;
    let mut last: Option<(f64, f64)> = None;
    for i in idx {
        let p = points[i];
        if p.1 > best || last == Some(p) {
            out.push(i);
            best = best.max(p.1);
            last = Some(p);
        }
    }
    out
}

/// How far below the Pareto curve point `i` lies: the best accuracy among points that cost no more than
/// it, minus its own accuracy (0 for a point on the front; in the accuracy's unit).
pub fn gap(points: &[(f64, f64)], i: usize) -> f64 {
    let (c, a) = points[i];
    let best = points
        .iter()
        .filter(|p| p.0 <= c && !p.1.is_nan())
        .map(|p| p.1)
        .fold(a, f64::max);
    (best - a).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_and_gap() {
        let p = [
            (10.0, 0.5),
            (5.0, 0.6),
            (20.0, 0.9),
            (20.0, 0.8),
            (5.0, 0.6),
            (1.0, 0.1),
        ];
        assert_eq!(front(&p), vec![5, 1, 4, 2]);
        assert_eq!(gap(&p, 1), 0.0);
        assert!((gap(&p, 0) - 0.1).abs() < 1e-12);
        assert!((gap(&p, 3) - 0.1).abs() < 1e-12);
        assert_eq!(gap(&p, 2), 0.0);
    }
}
