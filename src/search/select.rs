//! Parent selection for evolution. **Pareto** (alpha-NAS §5.3): each evaluated individual's weight is
//! 10^(−w), w its distance below the Pareto curve of (cost, validation accuracy in points) — 0 on the
//! front, 1 for a point one accuracy point below the best at its cost — after dropping individuals under
//! a minimum accuracy; the parent is drawn in proportion. **Aging** (regularized evolution, Real et al.
//! 2019): a tournament of `sample` individuals drawn from the `population` most recent ones; the most
//! accurate wins. Both are pure functions of the candidates and the generator, so a run is reproducible.

use super::pareto;
use rand::seq::index::sample;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The cost axis of the Pareto front.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    Params,
    Macs,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Params => "params",
            Objective::Macs => "macs",
        }
    }
}

/// How parents are chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "lowercase")]
pub enum Policy {
    Pareto {
        /// Individuals below this validation accuracy (a fraction) are never parents (unless all are).
        min_accuracy: Option<f64>,
    },
    Aging {
        population: usize,
        sample: usize,
    },
}

/// An evaluated individual as selection sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub id: i64,
    pub accuracy: f64,
    pub cost: f64,
}

/// Chooses a parent among `candidates` (in id order); None when there is none.
pub fn choose(policy: &Policy, candidates: &[Candidate], rng: &mut impl Rng) -> Option<i64> {
    if candidates.is_empty() {
        return None;
    }
    match policy {
        Policy::Pareto { min_accuracy } => {
            let kept: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| min_accuracy.is_none_or(|m| c.accuracy >= m))
                .collect();
            let pool: Vec<&Candidate> = if kept.is_empty() {
                candidates.iter().collect()
            } else {
                kept
            };
            let points: Vec<(f64, f64)> =
                pool.iter().map(|c| (c.cost, c.accuracy * 100.0)).collect();
            let weights: Vec<f64> = (0..pool.len())
                .map(|i| 10f64.powf(-pareto::gap(&points, i)))
                .collect();
            let total: f64 = weights.iter().sum();
            let mut r = rng.gen::<f64>() * total;
            for (c, w) in pool.iter().zip(&weights) {
                if r < *w {
                    return Some(c.id);
                }
                r -= w;
            }
            pool.last().map(|c| c.id)
        }
        Policy::Aging {
            population,
            sample: s,
        } => {
            let start = candidates.len().saturating_sub((*population).max(1));
            let recent = &candidates[start..];
            let k = (*s).clamp(1, recent.len());
            let picked = sample(rng, recent.len(), k);
            picked
                .iter()
                .map(|i| &recent[i])
                .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy).then(b.id.cmp(&a.id)))
                .map(|c| c.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn cands() -> Vec<Candidate> {
        vec![
            Candidate {
                id: 1,
                accuracy: 0.90,
                cost: 100.0,
            },
            Candidate {
                id: 2,
                accuracy: 0.80,
                cost: 100.0,
            },
            Candidate {
                id: 3,
                accuracy: 0.85,
                cost: 10.0,
            },
            Candidate {
                id: 4,
                accuracy: 0.10,
                cost: 1.0,
            },
        ]
    }

    #[test]
    fn pareto_prefers_the_front() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut n = [0usize; 5];
        let p = Policy::Pareto {
            min_accuracy: Some(0.5),
        };
        for _ in 0..4000 {
            n[choose(&p, &cands(), &mut rng).unwrap() as usize] += 1;
        }
        // 1 and 3 are on the front (weight 1); 2 is 10 points below 1 (weight 1e-10); 4 is filtered
        assert_eq!(n[4], 0);
        assert!(n[2] == 0 && n[1] > 1700 && n[3] > 1700, "{n:?}");
    }

    #[test]
    fn aging_takes_the_best_of_a_recent_tournament() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let p = Policy::Aging {
            population: 2,
            sample: 2,
        };
        for _ in 0..20 {
            assert_eq!(choose(&p, &cands(), &mut rng), Some(3));
        }
    }
}
