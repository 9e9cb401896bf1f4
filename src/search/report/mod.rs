//! The HTML report of a search run — evolution or supernet — (`nasc search report`): one self-contained page (inline CSS and
//! SVG, a few lines of optional script to sort tables; no external resource, no network) made from the
//! run store's rows alone, so it can be made at any time, also while the search runs.
//!
//! [`summarize`] computes what the page shows ([`Summary`], `Serialize` for `--json`): counts by status,
//! the seed and the best individual, the Pareto fronts of validation accuracy against params and against
//! MACs, the best-so-far curves, and one row per mutation kind (children, failures, how many dominate their
//! parent, how many are on a front, synthesis outcomes). [`render`] is the page: a header (driver, seed,
//! version, settings, counts, wall time), accuracy-vs-cost scatter plots with the fronts, the search curves
//! by trial and by wall time, the mutation-kind table, the Pareto individuals with their export command
//! and program, and the failures; for a supernet run also its stage-1 curves (accuracy and loss by epoch). [`write`] stores the page and each plot (`DIR/index.html`,
//! `DIR/<plot>.svg`) through `base::fs::write_atomic`. Nothing here panics on any stored data: missing,
//! NaN or huge values are shown as `—` or in short units and left out of the plots.
//!
//! Uses `store` (the rows), `search::pareto` (fronts), `base::fs` (atomic writes) and [`svg`], the small
//! hand-written SVG plotter.

pub mod svg;

use crate::base::fs::write_atomic;
use crate::search::pareto;
use crate::search::supernet::Curve;
use crate::store::{Counts, Individual, Run, Status};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use svg::{escape, Axis, Line, Mark, Plot, Point, Series, TickFormat};

/// One individual as the summary names it.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub id: i64,
    pub status: Status,
    pub params: Option<i64>,
    pub macs: Option<i64>,
    /// A fraction (0..1).
    pub val_accuracy: Option<f64>,
}

/// One row of the mutation-kind table: the individuals made by one mutation (`seed` for those made by
/// none).
#[derive(Clone, Debug, Serialize)]
pub struct KindRow {
    pub kind: String,
    /// Individuals of this kind, whatever their status.
    pub children: u64,
    pub done: u64,
    pub failed: u64,
    /// Pending or running.
    pub unfinished: u64,
    /// failed / (done + failed); None before any finished.
    pub failure_rate: Option<f64>,
    pub best_accuracy: Option<f64>,
    pub best_id: Option<i64>,
    /// Done children whose parent is done too (the ones [`KindRow::dominate_parent`] counts among).
    pub compared_with_parent: u64,
    /// Done children at least as accurate as their parent with at most its params, one of them strictly.
    pub dominate_parent: u64,
    /// On the final Pareto front of params or of MACs.
    pub on_front: u64,
    /// What synthesis answered (the `result` field of `synth_outcome`: `sat`, `unsat`, `unknown`; `—` when
    /// there is no such field), for the individuals that have a synthesis outcome or are `property` ones.
    pub synthesis: BTreeMap<String, u64>,
}

/// One point of the best-so-far curves: a finished individual.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    /// Its position among finished individuals in id order (1 for the first).
    pub trial: u64,
    pub id: i64,
    /// Minutes from the run's start to when it finished (None when a time is missing).
    pub minutes: Option<f64>,
    /// Its own accuracy (None when it failed).
    pub val_accuracy: Option<f64>,
    /// The best accuracy among the individuals finished up to it, in the curve's order.
    pub best: Option<f64>,
}

/// What the report shows, computed from the stored run (Serialize, for `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub driver: String,
    pub seed: u64,
    pub nasc_version: String,
    /// Unix seconds.
    pub created_at: f64,
    pub counts: Counts,
    /// Seconds from the run's start to its last recorded event (an individual made, started or finished).
    pub wall_seconds: Option<f64>,
    /// The run's seed individual (the first made by no mutation).
    pub seed_individual: Option<Entry>,
    /// The most accurate done individual (fewer params, then the lower id, on a tie).
    pub best: Option<Entry>,
    /// Ids on the Pareto front of (params, accuracy), by params.
    pub pareto_params: Vec<i64>,
    /// Ids on the Pareto front of (MACs, accuracy), by MACs.
    pub pareto_macs: Vec<i64>,
    /// seed, duplicate, delete, property, then the other kinds by name (only kinds that occur).
    pub kinds: Vec<KindRow>,
    /// Best-so-far by trial: the finished individuals in id order.
    pub by_trial: Vec<CurvePoint>,
    /// Best-so-far by wall time: the finished individuals with a finish time, in the order they finished.
    pub by_time: Vec<CurvePoint>,
}

/// The kind of an individual: its mutation, or `seed` when none made it.
fn kind(i: &Individual) -> &str {
    i.mutation.as_deref().unwrap_or("seed")
}

fn kind_rank(k: &str) -> (usize, &str) {
    let r = ["seed", "duplicate", "delete", "property"]
        .iter()
        .position(|&x| x == k)
        .unwrap_or(4);
    (r, k)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn entry(i: &Individual) -> Entry {
    Entry {
        id: i.id,
        status: i.status,
        params: i.params,
        macs: i.macs,
        val_accuracy: i.val_accuracy,
    }
}

/// The ids on the Pareto front of `cost` against accuracy among done individuals with both known.
fn front_ids(done: &[&Individual], cost: fn(&Individual) -> Option<i64>) -> Vec<i64> {
    let pts: Vec<(i64, (f64, f64))> = done
        .iter()
        .filter_map(|i| Some((i.id, (cost(i)? as f64, finite(i.val_accuracy)?))))
        .collect();
    let xy: Vec<(f64, f64)> = pts.iter().map(|p| p.1).collect();
    pareto::front(&xy).into_iter().map(|k| pts[k].0).collect()
}

fn synth_result(v: &serde_json::Value) -> String {
    v.get("result")
        .and_then(|r| r.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| "—".to_string())
}

/// Whether `c` dominates `p`: ≥ accuracy and ≤ params, one of them strictly.
fn dominates(c: &Individual, p: &Individual) -> Option<bool> {
    let (ca, pa) = (finite(c.val_accuracy)?, finite(p.val_accuracy)?);
    let (cp, pp) = (c.params?, p.params?);
    Some(ca >= pa && cp <= pp && (ca > pa || cp < pp))
}

fn better(a: &Individual, b: &Individual) -> bool {
    let (aa, ba) = (
        finite(a.val_accuracy).unwrap_or(f64::NEG_INFINITY),
        finite(b.val_accuracy).unwrap_or(f64::NEG_INFINITY),
    );
    aa > ba
        || (aa == ba && (a.params.unwrap_or(i64::MAX), a.id) < (b.params.unwrap_or(i64::MAX), b.id))
}

/// Best-so-far over `order` (finished individuals).
fn curve(order: &[&Individual], trial: &HashMap<i64, u64>, created_at: f64) -> Vec<CurvePoint> {
    let mut best: Option<f64> = None;
    order
        .iter()
        .map(|i| {
            let acc = if i.status == Status::Done {
                finite(i.val_accuracy)
            } else {
                None
            };
            if let Some(a) = acc {
                best = Some(best.map_or(a, |b| b.max(a)));
            }
            CurvePoint {
                trial: trial.get(&i.id).copied().unwrap_or(0),
                id: i.id,
                minutes: i
                    .finished_at
                    .map(|f| (f - created_at) / 60.0)
                    .filter(|m| m.is_finite()),
                val_accuracy: acc,
                best,
            }
        })
        .collect()
}

/// What the report shows (see [`Summary`]); never fails, whatever the rows hold.
pub fn summarize(run: &Run, individuals: &[Individual]) -> Summary {
    let mut counts = Counts::default();
    for i in individuals {
        match i.status {
            Status::Pending => counts.pending += 1,
            Status::Running => counts.running += 1,
            Status::Done => counts.done += 1,
            Status::Failed => counts.failed += 1,
        }
    }
    let mut sorted: Vec<&Individual> = individuals.iter().collect();
    sorted.sort_by_key(|i| i.id);
    let by_id: HashMap<i64, &Individual> = sorted.iter().map(|i| (i.id, *i)).collect();
    let done: Vec<&Individual> = sorted
        .iter()
        .copied()
        .filter(|i| i.status == Status::Done)
        .collect();

    let last_event = individuals
        .iter()
        .flat_map(|i| [Some(i.created_at), i.started_at, i.finished_at])
        .flatten()
        .filter(|t| t.is_finite())
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let wall_seconds = last_event
        .map(|t| t - run.created_at)
        .filter(|s| s.is_finite())
        .map(|s| s.max(0.0));

    let seed_individual = sorted
        .iter()
        .find(|i| i.mutation.is_none() && i.parent_id.is_none())
        .or_else(|| sorted.iter().find(|i| i.mutation.is_none()))
        .map(|i| entry(i));
    let best = done
        .iter()
        .filter(|i| finite(i.val_accuracy).is_some())
        .fold(None, |b: Option<&Individual>, i| match b {
            Some(b) if !better(i, b) => Some(b),
            _ => Some(*i),
        })
        .map(entry);

    let pareto_params = front_ids(&done, |i| i.params);
    let pareto_macs = front_ids(&done, |i| i.macs);
    let on_front: BTreeSet<i64> = pareto_params.iter().chain(&pareto_macs).copied().collect();

    let mut kinds: BTreeMap<(usize, String), KindRow> = BTreeMap::new();
    for i in &sorted {
        let k = kind(i);
        let (rank, _) = kind_rank(k);
        let row = kinds
            .entry((rank, k.to_string()))
            .or_insert_with(|| KindRow {
                kind: k.to_string(),
                children: 0,
                done: 0,
                failed: 0,
                unfinished: 0,
                failure_rate: None,
                best_accuracy: None,
                best_id: None,
                compared_with_parent: 0,
                dominate_parent: 0,
                on_front: 0,
                synthesis: BTreeMap::new(),
            });
        row.children += 1;
        match i.status {
            Status::Done => row.done += 1,
            Status::Failed => row.failed += 1,
            Status::Pending | Status::Running => row.unfinished += 1,
        }
        if i.status == Status::Done {
            if let Some(a) = finite(i.val_accuracy) {
                if row.best_accuracy.is_none_or(|b| a > b) {
                    row.best_accuracy = Some(a);
                    row.best_id = Some(i.id);
                }
            }
            let parent = i.parent_id.and_then(|p| by_id.get(&p));
            if let Some(p) = parent.filter(|p| p.status == Status::Done) {
                if let Some(d) = dominates(i, p) {
                    row.compared_with_parent += 1;
                    row.dominate_parent += u64::from(d);
                }
            }
            if on_front.contains(&i.id) {
                row.on_front += 1;
            }
        }
        if i.synth_outcome.is_some() || k == "property" {
            let r = i
                .synth_outcome
                .as_ref()
                .map(synth_result)
                .unwrap_or_else(|| "—".to_string());
            *row.synthesis.entry(r).or_insert(0) += 1;
        }
    }
    let kinds: Vec<KindRow> = kinds
        .into_values()
        .map(|mut r| {
            let fin = r.done + r.failed;
            r.failure_rate = (fin > 0).then(|| r.failed as f64 / fin as f64);
            r
        })
        .collect();

    let finished: Vec<&Individual> = sorted
        .iter()
        .copied()
        .filter(|i| i.status.is_finished())
        .collect();
    let trial: HashMap<i64, u64> = finished
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id, k as u64 + 1))
        .collect();
    let by_trial = curve(&finished, &trial, run.created_at);
    let mut timed: Vec<&Individual> = finished
        .iter()
        .copied()
        .filter(|i| i.finished_at.is_some_and(f64::is_finite))
        .collect();
    timed.sort_by(|a, b| {
        a.finished_at
            .unwrap_or(0.0)
            .total_cmp(&b.finished_at.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
    let by_time = curve(&timed, &trial, run.created_at);

    Summary {
        driver: run.driver.clone(),
        seed: run.seed,
        nasc_version: run.nasc_version.clone(),
        created_at: run.created_at,
        counts,
        wall_seconds,
        seed_individual,
        best,
        pareto_params,
        pareto_macs,
        kinds,
        by_trial,
        by_time,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

/// `272474` → `272,474` (any i64).
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `272474` → `0.27 M`.
pub fn millions(n: i64) -> String {
    format!("{:.2} M", n as f64 / 1e6)
}

fn count(v: Option<i64>) -> String {
    v.map(grouped).unwrap_or_else(|| "—".into())
}

/// A fraction as a percentage (`0.9123` → `91.23 %`), `—` when missing or not finite.
pub fn percent(v: Option<f64>) -> String {
    match finite(v) {
        Some(a) => format!("{:.2} %", a * 100.0),
        None => "—".into(),
    }
}

/// Seconds, readable: `12.3 s`, `4 min 05 s`, `2 h 03 min`, `3 d 04 h`.
pub fn duration(s: Option<f64>) -> String {
    let Some(s) = finite(s) else {
        return "—".into();
    };
    let neg = if s < 0.0 { "-" } else { "" };
    let s = s.abs();
    if s < 60.0 {
        return format!("{neg}{s:.1} s");
    }
    if s >= 1e12 {
        return format!("{neg}{s:.3e} s");
    }
    let t = s.round() as u64;
    let (d, h, m, sec) = (t / 86_400, t / 3600 % 24, t / 60 % 60, t % 60);
    if d > 0 {
        format!("{neg}{d} d {h:02} h")
    } else if h > 0 {
        format!("{neg}{h} h {m:02} min")
    } else {
        format!("{neg}{m} min {sec:02} s")
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (`—` when not finite, the number itself when out of range).
pub fn utc(t: f64) -> String {
    if !t.is_finite() {
        return "—".into();
    }
    if t.abs() > 1e13 {
        return format!("{t}");
    }
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // days → civil date (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=+@%,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command that writes individual `id` out of the store.
fn export_command(location: &str, id: i64) -> String {
    format!(
        "nasc search export {} --id {id} --out individual-{id}",
        shell_quote(location)
    )
}

// ---------------------------------------------------------------------------------------------------------
// Plots

const SEED_COLOR: &str = "#111111";
const FRONT_COLOR: &str = "#ff7f0e";
const KIND_COLORS: &[(&str, &str)] = &[
    ("duplicate", "#1f77b4"),
    ("delete", "#2ca02c"),
    ("property", "#9467bd"),
];
const OTHER_COLORS: &[&str] = &[
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
];

const NO_POINT: &str = "no finished evaluation yet";

fn kind_color(kind: &str, others: &mut Vec<String>) -> String {
    if kind == "seed" {
        return SEED_COLOR.into();
    }
    if let Some((_, c)) = KIND_COLORS.iter().find(|(k, _)| *k == kind) {
        return (*c).into();
    }
    let k = match others.iter().position(|o| o == kind) {
        Some(k) => k,
        None => {
            others.push(kind.to_string());
            others.len() - 1
        }
    };
    OTHER_COLORS[k % OTHER_COLORS.len()].into()
}

/// Accuracy against `cost` (params or MACs): one series per kind, the front as a step line and rings.
fn cost_plot(
    summary: &Summary,
    sorted: &[&Individual],
    what: &str,
    cost: fn(&Individual) -> Option<i64>,
    front: &[i64],
) -> Plot {
    let tip = |i: &Individual| {
        format!(
            "id {} · {} · {} · {} {what}",
            i.id,
            kind(i),
            percent(i.val_accuracy),
            count(cost(i))
        )
    };
    let point = |i: &Individual| -> Option<Point> {
        Some(Point {
            x: cost(i)? as f64,
            y: finite(i.val_accuracy)? * 100.0,
            title: tip(i),
        })
    };
    let mut others = Vec::new();
    let mut series = Vec::new();
    for row in &summary.kinds {
        let pts: Vec<Point> = sorted
            .iter()
            .filter(|i| i.status == Status::Done && kind(i) == row.kind)
            .filter_map(|i| point(i))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let seed = row.kind == "seed";
        series.push(Series {
            name: format!("{} ({})", row.kind, pts.len()),
            color: kind_color(&row.kind, &mut others),
            mark: Some(if seed {
                Mark::Diamond(7.0)
            } else {
                Mark::Dot(4.5)
            }),
            line: Line::None,
            points: pts,
        });
    }
    let by_id: HashMap<i64, &Individual> = sorted.iter().map(|i| (i.id, *i)).collect();
    let front_pts: Vec<Point> = front
        .iter()
        .filter_map(|id| by_id.get(id).and_then(|i| point(i)))
        .collect();
    if !front_pts.is_empty() {
        series.push(Series {
            name: format!("Pareto front ({})", front_pts.len()),
            color: FRONT_COLOR.into(),
            mark: Some(Mark::Ring(8.0)),
            line: Line::Step,
            points: front_pts,
        });
    }
    Plot {
        title: format!("Validation accuracy vs {what}"),
        x: Axis::log(&format!("{what} (log scale)")),
        y: Axis::linear("validation accuracy (%)"),
        series,
        empty: NO_POINT.into(),
    }
}

/// Best accuracy so far (a step line) and each evaluation's own accuracy, by trial or by minutes.
fn curve_plot(points: &[CurvePoint], by_time: bool) -> Plot {
    let x = |p: &CurvePoint| {
        if by_time {
            p.minutes.unwrap_or(f64::NAN)
        } else {
            p.trial as f64
        }
    };
    let tip = |p: &CurvePoint, acc: Option<f64>, label: &str| {
        let at = if by_time {
            format!("{:.1} min", p.minutes.unwrap_or(f64::NAN))
        } else {
            format!("trial {}", p.trial)
        };
        format!("{label} · id {} · {at} · {}", p.id, percent(acc))
    };
    let best: Vec<Point> = points
        .iter()
        .filter_map(|p| {
            Some(Point {
                x: x(p),
                y: p.best? * 100.0,
                title: tip(p, p.best, "best so far"),
            })
        })
        .collect();
    let each: Vec<Point> = points
        .iter()
        .filter_map(|p| {
            Some(Point {
                x: x(p),
                y: p.val_accuracy? * 100.0,
                title: tip(p, p.val_accuracy, "evaluation"),
            })
        })
        .collect();
    let mut xa = Axis::linear(if by_time {
        "wall time (minutes since the run started)"
    } else {
        "trial (finished individuals, in id order)"
    });
    xa.integer = !by_time;
    xa.ticks = TickFormat::Plain;
    Plot {
        title: if by_time {
            "Best validation accuracy by wall time".into()
        } else {
            "Best validation accuracy by trial".into()
        },
        x: xa,
        y: Axis::linear("validation accuracy (%)"),
        series: vec![
            Series {
                name: "each evaluation".into(),
                color: "#9aa7b8".into(),
                mark: Some(Mark::Dot(3.5)),
                line: Line::None,
                points: each,
            },
            Series {
                name: "best so far".into(),
                color: "#d62728".into(),
                mark: None,
                line: Line::Step,
                points: best,
            },
        ],
        empty: NO_POINT.into(),
    }
}

/// A supernet's stage-1 curves by epoch: validation accuracy of the largest and smallest subnets, or the
/// training losses.
fn training_plot(curves: &[Curve], loss: bool) -> Plot {
    let series = |name: &str, color: &str, f: &dyn Fn(&Curve) -> f64, scale: f64| Series {
        name: name.into(),
        color: color.into(),
        mark: Some(Mark::Dot(3.5)),
        line: Line::Poly,
        points: curves
            .iter()
            .filter(|c| f(c).is_finite())
            .map(|c| Point {
                x: (c.epoch + 1) as f64,
                y: f(c) * scale,
                title: format!("{name} · epoch {} · {:.4}", c.epoch + 1, f(c) * scale),
            })
            .collect(),
    };
    let mut xa = Axis::linear("epoch");
    xa.integer = true;
    xa.ticks = TickFormat::Plain;
    let (title, y, s) = if loss {
        (
            "Training loss by epoch",
            "mean loss per step",
            vec![
                series("largest (labels)", "#1f77b4", &|c| c.loss_largest, 1.0),
                series("sampled (distilled)", "#9467bd", &|c| c.loss_sampled, 1.0),
                series("smallest (distilled)", "#ff7f0e", &|c| c.loss_smallest, 1.0),
            ],
        )
    } else {
        (
            "Validation accuracy by epoch",
            "validation accuracy (%)",
            vec![
                series("largest subnet", "#1f77b4", &|c| c.val_largest, 100.0),
                series("smallest subnet", "#ff7f0e", &|c| c.val_smallest, 100.0),
            ],
        )
    };
    Plot {
        title: title.into(),
        x: xa,
        y: Axis::linear(y),
        series: s,
        empty: NO_POINT.into(),
    }
}

/// The plots of the page: file stem, heading, SVG.
fn plots(summary: &Summary, sorted: &[&Individual]) -> Vec<(&'static str, String)> {
    vec![
        (
            "accuracy-params",
            cost_plot(
                summary,
                sorted,
                "params",
                |i| i.params,
                &summary.pareto_params,
            )
            .to_svg(),
        ),
        (
            "accuracy-macs",
            cost_plot(summary, sorted, "MACs", |i| i.macs, &summary.pareto_macs).to_svg(),
        ),
        (
            "best-by-trial",
            curve_plot(&summary.by_trial, false).to_svg(),
        ),
        ("best-by-time", curve_plot(&summary.by_time, true).to_svg()),
    ]
}

// ---------------------------------------------------------------------------------------------------------
// The page

const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 14px; color: #222;
  margin: 0 auto; padding: 16px 24px 48px; max-width: 1560px; background: #fafafa; }
h1 { font-size: 22px; margin: 4px 0 12px; } h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: #f3f3f3; border: 1px solid #e0e0e0; padding: 8px; overflow: auto; max-height: 480px; white-space: pre; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 10px; }
dl.meta dt { color: #666; } dl.meta dd { margin: 0; }
.counts span { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 10px; background: #eee; }
.counts .done { background: #dff0d8; } .counts .failed { background: #f8d7da; }
.counts .running { background: #fff3cd; } .counts .pending { background: #e7eef8; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; flex: 1 1 560px; max-width: 780px; background: #fff; border: 1px solid #e0e0e0; padding: 6px; }
figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table[data-sortable="ready"] th { cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td pre { max-width: 720px; margin: 4px 0 0; }
td.err { max-width: 900px; } td.err .first { white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.muted { color: #777; }
"#;

/// Sorts a table by the column whose header is clicked (numbers by `data-v`, text otherwise; missing
/// values last), and applies `#sort=TABLE:COLUMN[:desc]` from the address. The page needs none of it.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  function key(row, i) {
    var c = row.cells[i];
    if (!c) { return null; }
    var v = c.getAttribute("data-v");
    if (v !== null) { var n = parseFloat(v); return isNaN(n) ? null : n; }
    var t = c.textContent.trim().toLowerCase();
    return t === "" || t === "\u2014" ? null : t;
  }
  function sort(table, i, desc) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var heads = table.tHead.rows[0].cells;
    var th = heads[i];
    if (!th) { return; }
    if (desc === undefined) { desc = th.getAttribute("aria-sort") === "ascending"; }
    var dir = desc ? -1 : 1;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (x === y) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : 1) * dir;
    });
    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tHead.rows.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      th.addEventListener("click", function () { sort(table, i); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(table, i); }
      });
    });
    table.setAttribute("data-sortable", "ready");
  });
  var m = /^#sort=([A-Za-z0-9_-]+):([0-9]+)(:desc)?$/.exec(window.location.hash);
  if (m) {
    var t = document.getElementById(m[1]);
    if (t && t.getAttribute("data-sortable") === "ready") { sort(t, parseInt(m[2], 10), !!m[3]); }
  }
  document.documentElement.setAttribute("data-js", "ready");
})();
"#;

/// A numeric cell: shown text, sorted by `v` (missing values sort last).
fn num_cell(out: &mut String, text: &str, v: Option<f64>) {
    let v = finite(v).map(|v| format!("{v}")).unwrap_or_default();
    let _ = write!(out, r#"<td class="num" data-v="{v}">{}</td>"#, escape(text));
}

fn text_cell(out: &mut String, text: &str) {
    let _ = write!(out, "<td>{}</td>", escape(text));
}

fn head(out: &mut String, id: &str, cols: &[&str]) {
    let _ = write!(out, r#"<table class="sortable" id="{id}"><thead><tr>"#);
    for c in cols {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
}

fn header(out: &mut String, location: &str, run: &Run, s: &Summary) {
    let _ = write!(
        out,
        "<header><h1>Search report — {} run</h1><dl class=\"meta\">",
        escape(&run.driver)
    );
    let mut dd = |k: &str, v: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", escape(k));
    };
    dd("store", &format!("<code>{}</code>", escape(location)));
    dd("driver", &escape(&run.driver));
    dd("seed", &run.seed.to_string());
    dd("nasc version", &escape(&run.nasc_version));
    dd("created", &escape(&utc(run.created_at)));
    dd(
        "wall time so far",
        &format!(
            "{} <span class=\"muted\">(to the last recorded event)</span>",
            escape(&duration(s.wall_seconds))
        ),
    );
    let c = &s.counts;
    dd(
        "individuals",
        &format!(
            "<span class=\"counts\"><span class=\"total\">total {}</span><span class=\"done\">done {}</span>\
             <span class=\"failed\">failed {}</span><span class=\"running\">running {}</span>\
             <span class=\"pending\">pending {}</span></span>",
            c.total(),
            c.done,
            c.failed,
            c.running,
            c.pending
        ),
    );
    let describe = |e: &Option<Entry>| match e {
        Some(e) => format!(
            "id {} · {} · {} params ({}) · {} MACs",
            e.id,
            if e.status == Status::Done {
                percent(e.val_accuracy)
            } else {
                e.status.to_string()
            },
            count(e.params),
            e.params.map(millions).unwrap_or_else(|| "—".into()),
            count(e.macs)
        ),
        None => "—".into(),
    };
    dd("seed individual", &escape(&describe(&s.seed_individual)));
    dd("best accuracy", &escape(&describe(&s.best)));
    out.push_str("</dl>");
    let settings = serde_json::to_string_pretty(&run.settings).unwrap_or_default();
    let _ = write!(
        out,
        "<details><summary>settings (JSON)</summary><pre>{}</pre></details>\
         <details><summary>seed program</summary><pre>{}</pre></details></header>",
        escape(&settings),
        escape(&run.seed_program)
    );
}

fn kinds_table(out: &mut String, s: &Summary) {
    out.push_str("<h2 id=\"kinds-heading\">Mutation kinds</h2>");
    head(
        out,
        "kinds",
        &[
            "kind",
            "children",
            "done",
            "failed",
            "unfinished",
            "failure rate",
            "best accuracy",
            "dominate their parent",
            "on a Pareto front",
            "synthesis",
        ],
    );
    for r in &s.kinds {
        out.push_str("<tr>");
        text_cell(out, &r.kind);
        num_cell(out, &r.children.to_string(), Some(r.children as f64));
        num_cell(out, &r.done.to_string(), Some(r.done as f64));
        num_cell(out, &r.failed.to_string(), Some(r.failed as f64));
        num_cell(out, &r.unfinished.to_string(), Some(r.unfinished as f64));
        let rate = r
            .failure_rate
            .map(|f| format!("{:.0} %", f * 100.0))
            .unwrap_or_else(|| "—".into());
        num_cell(out, &rate, r.failure_rate);
        let best = match r.best_id {
            Some(id) => format!("{} (id {id})", percent(r.best_accuracy)),
            None => "—".into(),
        };
        num_cell(out, &best, r.best_accuracy);
        if r.compared_with_parent > 0 {
            num_cell(
                out,
                &format!("{} of {}", r.dominate_parent, r.compared_with_parent),
                Some(r.dominate_parent as f64),
            );
        } else {
            num_cell(out, "—", None);
        }
        num_cell(out, &r.on_front.to_string(), Some(r.on_front as f64));
        let synth = if r.synthesis.is_empty() {
            "—".to_string()
        } else {
            r.synthesis
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        text_cell(out, &synth);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out.push_str(
        "<p class=\"muted\">A child dominates its parent with at least its accuracy and at most its params, \
         one of them strictly (counted among the done children of done parents). Synthesis: what synthesis \
         answered for the property-guided mutations (— : no result recorded).</p>",
    );
}

fn pareto_table(out: &mut String, location: &str, s: &Summary, by_id: &HashMap<i64, &Individual>) {
    let pp: BTreeSet<i64> = s.pareto_params.iter().copied().collect();
    let pm: BTreeSet<i64> = s.pareto_macs.iter().copied().collect();
    let mut rows: Vec<&Individual> = pp
        .union(&pm)
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    rows.sort_by_key(|i| (i.params.is_none(), i.params, i.id));
    let _ = write!(
        out,
        "<h2 id=\"front-heading\">Pareto individuals ({})</h2>",
        rows.len()
    );
    if rows.is_empty() {
        let _ = write!(out, "<p class=\"muted\">{NO_POINT}.</p>");
        return;
    }
    head(
        out,
        "front",
        &[
            "id",
            "parent",
            "mutation",
            "accuracy",
            "params",
            "MACs",
            "train time",
            "front",
            "export",
            "program",
        ],
    );
    for i in rows {
        out.push_str("<tr>");
        num_cell(out, &i.id.to_string(), Some(i.id as f64));
        num_cell(out, &count(i.parent_id), i.parent_id.map(|p| p as f64));
        text_cell(out, kind(i));
        num_cell(out, &percent(i.val_accuracy), i.val_accuracy);
        num_cell(out, &count(i.params), i.params.map(|p| p as f64));
        num_cell(out, &count(i.macs), i.macs.map(|p| p as f64));
        num_cell(out, &duration(i.train_seconds), i.train_seconds);
        let front = match (pp.contains(&i.id), pm.contains(&i.id)) {
            (true, true) => "params, MACs",
            (true, false) => "params",
            _ => "MACs",
        };
        text_cell(out, front);
        let _ = write!(
            out,
            "<td><code>{}</code></td><td><details><summary>NASL ({} lines)</summary><pre>{}</pre></details></td>",
            escape(&export_command(location, i.id)),
            i.nasl.lines().count(),
            escape(&i.nasl)
        );
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// The first `lines` lines of `text`, each cut to `width` characters; whether anything was cut.
fn excerpt(text: &str, lines: usize, width: usize) -> (String, bool) {
    let mut cut = text.lines().count() > lines;
    let mut out = Vec::new();
    for l in text.lines().take(lines) {
        if l.chars().count() > width {
            cut = true;
            out.push(format!("{}…", l.chars().take(width).collect::<String>()));
        } else {
            out.push(l.to_string());
        }
    }
    (out.join("\n"), cut)
}

fn failed_table(out: &mut String, sorted: &[&Individual]) {
    let failed: Vec<&&Individual> = sorted
        .iter()
        .filter(|i| i.status == Status::Failed)
        .collect();
    let _ = write!(
        out,
        "<h2 id=\"failed-heading\">Failed individuals ({})</h2>",
        failed.len()
    );
    if failed.is_empty() {
        out.push_str("<p class=\"muted\">none.</p>");
        return;
    }
    head(
        out,
        "failed",
        &["id", "parent", "mutation", "attempts", "error"],
    );
    for i in failed {
        out.push_str("<tr>");
        num_cell(out, &i.id.to_string(), Some(i.id as f64));
        num_cell(out, &count(i.parent_id), i.parent_id.map(|p| p as f64));
        text_cell(out, kind(i));
        num_cell(out, &i.attempts.to_string(), Some(i.attempts as f64));
        let err = i.error.as_deref().unwrap_or("(no error recorded)");
        let (first, cut) = excerpt(err, 3, 160);
        let _ = write!(
            out,
            "<td class=\"err\"><div class=\"first\">{}</div>",
            escape(&first)
        );
        if cut {
            let _ = write!(
                out,
                "<details><summary>full error ({} lines)</summary><pre>{}</pre></details>",
                err.lines().count(),
                escape(err)
            );
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
}

/// The page and its plots (file stem, SVG).
fn build(
    location: &str,
    run: &Run,
    individuals: &[Individual],
    training: &[Curve],
) -> (String, Vec<(&'static str, String)>) {
    let s = summarize(run, individuals);
    let mut sorted: Vec<&Individual> = individuals.iter().collect();
    sorted.sort_by_key(|i| i.id);
    let by_id: HashMap<i64, &Individual> = sorted.iter().map(|i| (i.id, *i)).collect();
    let mut plots = plots(&s, &sorted);
    if !training.is_empty() {
        plots.push(("supernet-accuracy", training_plot(training, false).to_svg()));
        plots.push(("supernet-loss", training_plot(training, true).to_svg()));
    }

    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"nasc {}\"><title>nasc search report — {}</title><style>{CSS}</style></head><body>",
        escape(env!("CARGO_PKG_VERSION")),
        escape(location)
    );
    header(&mut out, location, run, &s);
    let figure = |out: &mut String, k: usize| {
        if let Some((name, svg)) = plots.get(k) {
            let _ = write!(out, "<figure id=\"plot-{name}\">{svg}</figure>");
        }
    };
    out.push_str(
        "<h2 id=\"cost-heading\">Accuracy against cost</h2><p class=\"muted\">Every done individual is a point \
         (the seed a diamond, failed ones not drawn); the Pareto front is the step line through the ringed \
         points. Hover a point for its id.</p><div class=\"plots\">",
    );
    figure(&mut out, 0);
    figure(&mut out, 1);
    out.push_str("</div><h2 id=\"curve-heading\">Search curve</h2><div class=\"plots\">");
    figure(&mut out, 2);
    figure(&mut out, 3);
    out.push_str("</div>");
    if !training.is_empty() {
        out.push_str(
            "<h2 id=\"training-heading\">Supernet training (stage 1)</h2><p class=\"muted\">Per epoch: \
             validation accuracy of the largest and smallest subnets after batch-norm calibration, and the \
             mean training loss of the largest, the sampled and the smallest subnets.</p><div class=\"plots\">",
        );
        figure(&mut out, 4);
        figure(&mut out, 5);
        out.push_str("</div>");
    }
    kinds_table(&mut out, &s);
    pareto_table(&mut out, location, &s, &by_id);
    failed_table(&mut out, &sorted);
    let _ = writeln!(out, "<script>{SCRIPT}</script></body></html>");
    (out, plots)
}

/// The whole HTML page (self-contained: inline CSS and inline SVGs, no external resources, no network).
/// `training` is a supernet run's stage-1 curves (empty for other drivers).
pub fn render(location: &str, run: &Run, individuals: &[Individual], training: &[Curve]) -> String {
    build(location, run, individuals, training).0
}

/// Writes `DIR/index.html` (and each plot also as `DIR/<name>.svg`) atomically, creating DIR; returns the
/// index path.
pub fn write(
    location: &str,
    run: &Run,
    individuals: &[Individual],
    training: &[Curve],
    dir: &Path,
) -> std::io::Result<PathBuf> {
    let (html, plots) = build(location, run, individuals, training);
    std::fs::create_dir_all(dir)?;
    for (name, svg) in &plots {
        write_atomic(&dir.join(format!("{name}.svg")), svg)?;
    }
    let index = dir.join("index.html");
    write_atomic(&index, html)?;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Run {
        Run {
            driver: "evolve".into(),
            settings: json!({"trials": 10}),
            seed: 7,
            seed_program: "network n(x: [B, 4]) -> [B, 4] { x }\n".into(),
            nasc_version: "0.1.0".into(),
            created_at: 1_000.0,
        }
    }

    fn ind(id: i64, parent: Option<i64>, mutation: Option<&str>, status: Status) -> Individual {
        Individual {
            id,
            parent_id: parent,
            mutation: mutation.map(str::to_string),
            status,
            nasl: format!("// {id} <&>\n"),
            fingerprint: format!("fp{id}"),
            params: None,
            macs: None,
            val_accuracy: None,
            val_loss: None,
            train_seconds: None,
            error: None,
            target_props: None,
            synth_outcome: None,
            created_at: 1_000.0 + id as f64,
            started_at: None,
            finished_at: None,
            attempts: 0,
        }
    }

    fn done(mut i: Individual, params: i64, macs: i64, acc: f64) -> Individual {
        i.status = Status::Done;
        i.params = Some(params);
        i.macs = Some(macs);
        i.val_accuracy = Some(acc);
        i.val_loss = Some(0.5);
        i.train_seconds = Some(10.0);
        i.finished_at = Some(1_000.0 + 60.0 * i.id as f64);
        i
    }

    fn failed(mut i: Individual, err: &str) -> Individual {
        i.status = Status::Failed;
        i.error = Some(err.into());
        i.finished_at = Some(1_000.0 + 60.0 * i.id as f64);
        i
    }

    fn population() -> Vec<Individual> {
        use Status::Pending as P;
        let mut p5 = ind(5, Some(2), Some("property"), P);
        p5.synth_outcome = Some(json!({"result": "sat", "solutions": []}));
        let mut p6 = ind(6, Some(1), Some("property"), P);
        p6.synth_outcome = Some(json!({"result": "unsat"}));
        let mut p7 = ind(7, Some(1), Some("property"), P);
        p7.synth_outcome = Some(json!(["not", "an", "object"]));
        vec![
            done(ind(1, None, None, P), 1000, 10_000, 0.80),
            // dominates the seed: fewer params, more accurate
            done(ind(2, Some(1), Some("duplicate"), P), 800, 12_000, 0.85),
            // does not: more params
            done(ind(3, Some(1), Some("duplicate"), P), 5000, 9_000, 0.90),
            failed(
                ind(4, Some(2), Some("delete"), P),
                "shape mismatch\nline 2\nline 3\nline 4",
            ),
            done(p5, 400, 50_000, 0.70),
            failed(p6, "no program"),
            p7,
            done(ind(8, Some(3), Some("widen"), P), 5000, 9_000, f64::NAN),
            ind(9, Some(3), Some("delete"), Status::Running),
        ]
    }

    #[test]
    fn summary_counts_fronts_and_kinds() {
        let s = summarize(&run(), &population());
        assert_eq!(
            (
                s.counts.done,
                s.counts.failed,
                s.counts.pending,
                s.counts.running
            ),
            (5, 2, 1, 1)
        );
        assert_eq!(s.seed_individual.as_ref().map(|e| e.id), Some(1));
        assert_eq!(s.best.as_ref().map(|e| e.id), Some(3));
        // (params, acc): 5 (400, .70), 2 (800, .85), 3 (5000, .90); 1 is dominated by 2; 8 has no accuracy
        assert_eq!(s.pareto_params, vec![5, 2, 3]);
        // (macs, acc): 3 (9000, .90) dominates everything
        assert_eq!(s.pareto_macs, vec![3]);
        let kinds: Vec<&str> = s.kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["seed", "duplicate", "delete", "property", "widen"]);
        let k = |name: &str| s.kinds.iter().find(|k| k.kind == name).unwrap();
        let dup = k("duplicate");
        assert_eq!((dup.children, dup.done, dup.failed), (2, 2, 0));
        assert_eq!(
            (dup.dominate_parent, dup.compared_with_parent, dup.on_front),
            (1, 2, 2)
        );
        assert_eq!(dup.best_id, Some(3));
        assert_eq!(dup.failure_rate, Some(0.0));
        let del = k("delete");
        assert_eq!((del.children, del.failed, del.unfinished), (2, 1, 1));
        assert_eq!(del.failure_rate, Some(1.0));
        assert_eq!(del.best_accuracy, None);
        let prop = k("property");
        assert_eq!(
            (prop.children, prop.done, prop.failed, prop.unfinished),
            (3, 1, 1, 1)
        );
        // 5's parent (2) is done and more accurate: compared, not dominating
        assert_eq!(
            (
                prop.dominate_parent,
                prop.compared_with_parent,
                prop.on_front
            ),
            (0, 1, 1)
        );
        let synth: Vec<(&str, u64)> = prop
            .synthesis
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(synth, [("sat", 1), ("unsat", 1), ("—", 1)]);
        assert_eq!(k("seed").compared_with_parent, 0);
        assert!(k("seed").synthesis.is_empty());
        let widen = k("widen");
        assert_eq!(
            (widen.done, widen.best_accuracy, widen.compared_with_parent),
            (1, None, 0)
        );
        // curves: finished in id order 1 2 3 4 5 6 8
        let trials: Vec<(u64, i64)> = s.by_trial.iter().map(|p| (p.trial, p.id)).collect();
        assert_eq!(
            trials,
            [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 8)]
        );
        let best: Vec<Option<f64>> = s.by_trial.iter().map(|p| p.best).collect();
        assert_eq!(
            best,
            [
                Some(0.8),
                Some(0.85),
                Some(0.9),
                Some(0.9),
                Some(0.9),
                Some(0.9),
                Some(0.9)
            ]
        );
        assert_eq!(s.by_time.first().and_then(|p| p.minutes), Some(1.0));
        assert_eq!(s.wall_seconds, Some(480.0));
        // it serializes (NaN as null)
        assert!(serde_json::to_string(&s).is_ok());
    }

    #[test]
    fn page_escapes_and_handles_edge_cases() {
        let pop = population();
        let html = render("runs/my run's.db", &run(), &pop, &[]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(!html.contains("<&>") && html.contains("// 2 &lt;&amp;&gt;"));
        assert!(html.contains("nasc search export &#39;runs/my run&#39;\\&#39;&#39;s.db&#39; --id 3 --out individual-3"));
        assert!(html.contains("<title>id 2 · duplicate · 85.00 % · 800 params</title>"));
        assert!(html.contains("full error (4 lines)"));
        assert_eq!(
            html.matches("http://").count(),
            html.matches(r#"<svg xmlns="http://www.w3.org/2000/svg""#)
                .count(),
            "no address but the SVG namespace"
        );
        assert!(!html.contains("https://") && !html.contains(" src=") && !html.contains("<link"));
        // nothing finished
        let empty = render("r.db", &run(), &[ind(1, None, None, Status::Pending)], &[]);
        assert_eq!(
            empty.matches("no finished evaluation yet").count(),
            5,
            "4 plots and the front table"
        );
        assert!(render("r.db", &run(), &[], &[]).contains("no finished evaluation yet"));
        // one point; all params equal; huge values; NaN times
        let one = render(
            "r.db",
            &run(),
            &[done(ind(1, None, None, Status::Pending), 272_474, 1, 0.5)],
            &[],
        );
        assert!(one.contains("272,474") && one.contains("0.27 M"));
        let mut same: Vec<Individual> = (1..5)
            .map(|k| {
                done(
                    ind(k, Some(1), Some("delete"), Status::Pending),
                    1000,
                    1000,
                    0.1 * k as f64,
                )
            })
            .collect();
        same.push(done(
            ind(9, Some(1), Some("x"), Status::Pending),
            i64::MAX,
            i64::MAX,
            0.99,
        ));
        let mut odd = done(
            ind(10, Some(99), Some(""), Status::Pending),
            0,
            -5,
            f64::INFINITY,
        );
        odd.finished_at = Some(f64::NAN);
        odd.train_seconds = Some(f64::NAN);
        same.push(odd);
        let mut r = run();
        r.created_at = f64::NAN;
        let html = render("r.db", &r, &same, &[]);
        assert!(html.contains("9,223,372,036,854,775,807"));
        // (the script's `isNaN` aside)
        let page = &html[..html.find("<script>").unwrap_or(html.len())];
        let nan = page
            .find("NaN")
            .map(|k| &page[k.saturating_sub(200)..(k + 50).min(page.len())]);
        assert_eq!(nan, None);
    }

    #[test]
    fn formats() {
        assert_eq!(grouped(272_474), "272,474");
        assert_eq!(grouped(-1_000), "-1,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(millions(272_474), "0.27 M");
        assert_eq!(percent(Some(0.91234)), "91.23 %");
        assert_eq!(percent(Some(f64::NAN)), "—");
        assert_eq!(duration(Some(12.34)), "12.3 s");
        assert_eq!(duration(Some(245.0)), "4 min 05 s");
        assert_eq!(duration(Some(7380.0)), "2 h 03 min");
        assert_eq!(duration(None), "—");
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_764_772_305.5), "2025-12-03 14:31:45 UTC");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(shell_quote("run.db"), "run.db");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(excerpt("a\nb\nc\nd", 3, 10), ("a\nb\nc".to_string(), true));
        assert_eq!(excerpt("abcdef", 3, 3), ("abc…".to_string(), true));
        assert_eq!(excerpt("ab", 3, 3), ("ab".to_string(), false));
    }

    #[test]
    fn a_supernet_run_shows_its_stage_1_curves() {
        let c = |epoch, acc: f64| Curve {
            epoch,
            steps: 10 * (epoch + 1),
            loss_largest: 2.0 - acc,
            loss_sampled: 2.1 - acc,
            loss_smallest: f64::NAN,
            val_largest: acc,
            val_smallest: acc / 2.0,
            seconds: 1.0,
        };
        let pop = [done(ind(1, None, None, Status::Pending), 272_474, 1, 0.5)];
        let plain = render("r.db", &run(), &pop, &[]);
        assert!(!plain.contains("training-heading"));
        let html = render("r.db", &run(), &pop, &[c(0, 0.25), c(1, 0.5)]);
        assert!(html.contains("training-heading"), "{html}");
        assert!(html.contains("Validation accuracy by epoch"));
        assert!(html.contains("Training loss by epoch"));
        // the NaN loss is left out of its plot, never drawn as NaN
        assert!(!html.contains("smallest (distilled) · epoch"));
        assert!(html.contains("largest subnet · epoch 2 · 50.0000"));
    }
}
