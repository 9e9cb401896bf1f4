//! A small hand-written SVG plotter for the search report: scatter points (with a `<title>` tooltip each),
//! polylines and step lines over a linear or log-scale x axis and a linear y axis, with grid lines, readable
//! ticks, axis labels, a title and a legend. Self-contained SVG text (no fonts, scripts or links), the same
//! string inline in the HTML page and as a standalone `.svg` file. Points that cannot be drawn (NaN,
//! infinite, or ≤ 0 on a log axis) are left out; a plot with no point left shows its `empty` message.
//! Uses nothing but `std`.

use std::fmt::Write as _;

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Base-10 logarithm; values ≤ 0 are not drawn.
    Log,
}

/// How tick labels are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickFormat {
    /// As many decimals as the tick step needs (`0.5`, `90`, `92.5`).
    Plain,
    /// Short with a unit suffix (`200k`, `1.5M`, `2G`), for counts.
    Compact,
}

/// One axis: its label, scale and tick labels.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub ticks: TickFormat,
    /// Only whole-number ticks (trial numbers).
    pub integer: bool,
}

impl Axis {
    pub fn linear(label: &str) -> Axis {
        Axis {
            label: label.to_string(),
            scale: Scale::Linear,
            ticks: TickFormat::Plain,
            integer: false,
        }
    }

    pub fn log(label: &str) -> Axis {
        Axis {
            label: label.to_string(),
            scale: Scale::Log,
            ticks: TickFormat::Compact,
            integer: false,
        }
    }
}

/// How a series' points are marked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// A filled dot of this radius.
    Dot(f64),
    /// A hollow circle of this radius (to highlight points drawn by another series).
    Ring(f64),
    /// A filled diamond of this half-width.
    Diamond(f64),
}

/// How a series' points are joined, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    None,
    /// Straight segments.
    Poly,
    /// Horizontal then vertical: each value holds until the next point's x (a best-so-far curve, a front).
    Step,
}

/// One point; `title` is its tooltip (plain text, escaped here).
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub title: String,
}

/// One series: a legend entry (none when `name` is empty), a colour (any CSS colour), its marks and line.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub color: String,
    pub mark: Option<Mark>,
    pub line: Line,
    pub points: Vec<Point>,
}

/// A whole plot.
#[derive(Clone, Debug)]
pub struct Plot {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// Shown instead of the axes when no series has a point that can be drawn.
    pub empty: String,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 74.0;
const RIGHT: f64 = 566.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 360.0;
const LEGEND_X: f64 = 586.0;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

/// `s` with the five XML/HTML special characters replaced by entities (safe in text and in attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The step of about `target` ticks over `span`: 1, 2 or 5 times a power of ten.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Ticks at multiples of a round step (1, 2 or 5 × 10^k) inside [lo, hi], about `target` of them.
/// `integer` keeps the step ≥ 1. A degenerate or non-finite range gives its one finite end, if any.
pub fn linear_ticks(lo: f64, hi: f64, target: usize, integer: bool) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() {
        return [lo, hi]
            .into_iter()
            .filter(|v| v.is_finite())
            .take(1)
            .collect();
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let mut step = nice_step(span, target);
    if integer {
        step = step.max(1.0).round();
    }
    if !(step.is_finite() && step > 0.0) {
        return vec![lo];
    }
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 1000.0 {
        return vec![lo, hi];
    }
    let mut out = Vec::new();
    let mut i = first;
    while i <= last {
        let v = i * step;
        // −0 and float noise (0.30000000000000004) away
        let v = if v == 0.0 { 0.0 } else { v };
        out.push(v);
        i += 1.0;
    }
    out
}

/// Ticks for a log axis over [lo, hi] (both > 0): the powers of ten inside (every n-th when there are many);
/// where fewer than three fit, 2× and 5× (then every whole multiple) of them; failing that, round linear
/// ticks. Never empty for a valid range.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > 0.0 && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    // a relative tolerance, so that 10^k computed as 1e5 counts as inside [1e5, …]
    let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let k0 = lo.log10().floor() as i32;
    let k1 = hi.log10().ceil() as i32;
    let decades: Vec<i32> = (k0..=k1).filter(|&k| inside(10f64.powi(k))).collect();
    if decades.len() >= 3 {
        let every = decades.len().div_ceil(8);
        return decades
            .iter()
            .filter(|&&k| k.rem_euclid(every as i32) == 0)
            .map(|&k| 10f64.powi(k))
            .collect();
    }
    for mults in [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        let v: Vec<f64> = (k0..=k1)
            .flat_map(|k| mults.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|&v| inside(v))
            .collect();
        if v.len() >= 3 {
            return v;
        }
    }
    let v: Vec<f64> = linear_ticks(lo, hi, 4, false)
        .into_iter()
        .filter(|&v| v > 0.0)
        .collect();
    if v.is_empty() {
        vec![lo]
    } else {
        v
    }
}

/// `v` with at most `digits` significant digits, trailing zeros dropped (`0.27`, `250`, `1.5`).
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            format!("{v}")
        };
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).clamp(0, 12) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A count, short: `950`, `272k`, `1.5M`, `2G`, `3T` (beyond, or below 0.001, in scientific notation).
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e15 || (a > 0.0 && a < 1e-3) {
        return format!("{v:.1e}");
    }
    let (d, unit) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{}{unit}", significant(v / d, 3))
}

/// The labels of `ticks` in `format`: for `Plain`, as many decimals as the smallest gap between ticks needs.
fn tick_labels(ticks: &[f64], format: TickFormat) -> Vec<String> {
    match format {
        TickFormat::Compact => ticks.iter().map(|&t| compact(t)).collect(),
        TickFormat::Plain => {
            let gap = ticks
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .filter(|g| *g > 0.0)
                .fold(f64::INFINITY, f64::min);
            let decimals = if gap.is_finite() {
                (-(gap.log10().floor())).clamp(0.0, 10.0) as usize
            } else {
                let t = ticks.first().copied().unwrap_or(0.0).abs();
                if t == 0.0 || t >= 10.0 {
                    0
                } else {
                    2
                }
            };
            ticks
                .iter()
                .map(|&t| {
                    let t = if t == 0.0 { 0.0 } else { t };
                    if t.abs() >= 1e6 {
                        compact(t)
                    } else {
                        format!("{t:.decimals$}")
                    }
                })
                .collect()
        }
    }
}

/// One axis' data range turned into a drawing domain (padded, never empty) in transformed units
/// (log10 for a log axis), and its ticks in data units.
struct Domain {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Domain {
    fn new(axis: &Axis, min: f64, max: f64, pad: f64) -> Domain {
        match axis.scale {
            Scale::Log => {
                let (mut lo, mut hi) = (min.log10(), max.log10());
                if hi - lo < 1e-9 {
                    lo -= 0.3;
                    hi += 0.3;
                } else {
                    let p = ((hi - lo) * pad).max(0.04);
                    lo -= p;
                    hi += p;
                }
                let ticks = log_ticks(
                    10f64.powf(lo).max(f64::MIN_POSITIVE),
                    10f64.powf(hi).min(f64::MAX),
                );
                Domain {
                    scale: Scale::Log,
                    lo,
                    hi,
                    ticks,
                }
            }
            Scale::Linear => {
                let (mut lo, mut hi) = (min, max);
                if hi - lo <= 0.0 {
                    let d = if axis.integer || lo == 0.0 {
                        1.0
                    } else {
                        (lo.abs() * 0.05).max(1e-9)
                    };
                    lo -= d;
                    hi += d;
                } else {
                    let p = (hi - lo) * pad;
                    lo -= p;
                    hi += p;
                }
                let ticks = linear_ticks(lo, hi, 6, axis.integer);
                Domain {
                    scale: Scale::Linear,
                    lo,
                    hi,
                    ticks,
                }
            }
        }
    }

    fn t(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log => v.log10(),
            Scale::Linear => v,
        }
    }

    /// `v`'s position between `a` (at lo) and `b` (at hi).
    fn map(&self, v: f64, a: f64, b: f64) -> f64 {
        let span = self.hi - self.lo;
        if span.is_finite() && span > 0.0 {
            a + (self.t(v) - self.lo) / span * (b - a)
        } else {
            (a + b) / 2.0
        }
    }
}

fn drawable(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

fn mark_svg(out: &mut String, mark: Mark, color: &str, x: f64, y: f64, title: Option<&str>) {
    let tip = |out: &mut String| {
        if let Some(t) = title {
            let _ = write!(out, "<title>{}</title>", escape(t));
        }
    };
    match mark {
        Mark::Dot(r) => {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{c}" fill-opacity="0.8" stroke="#ffffff" stroke-width="0.8">"##,
                c = escape(color)
            );
            tip(out);
            out.push_str("</circle>");
        }
        Mark::Ring(r) => {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="#ffffff" fill-opacity="0" stroke="{c}" stroke-width="2.2">"##,
                c = escape(color)
            );
            tip(out);
            out.push_str("</circle>");
        }
        Mark::Diamond(r) => {
            let _ = write!(
                out,
                r##"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" fill="{c}" stroke="#ffffff" stroke-width="0.8">"##,
                y - r,
                x + r,
                y + r,
                x - r,
                c = escape(color)
            );
            tip(out);
            out.push_str("</path>");
        }
    }
}

impl Plot {
    /// The plot as one `<svg>` element (with its namespace, so the same text is a valid `.svg` file).
    pub fn to_svg(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}" font-family="{FONT}" font-size="12">"##,
            t = escape(&self.title)
        );
        let _ = write!(
            out,
            r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/><text x="{:.1}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="#222222">{}</text>"##,
            (LEFT + RIGHT) / 2.0,
            escape(&self.title)
        );
        // the points that can be drawn, per series
        let pts: Vec<Vec<&Point>> = self
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .filter(|p| drawable(self.x.scale, p.x) && drawable(self.y.scale, p.y))
                    .collect()
            })
            .collect();
        let all = || pts.iter().flatten();
        let frame = format!(
            r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#888888" stroke-width="1"/>"##,
            RIGHT - LEFT,
            BOTTOM - TOP
        );
        if all().next().is_none() {
            out.push_str(&frame);
            let _ = write!(
                out,
                r##"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14" fill="#666666">{}</text></svg>"##,
                (LEFT + RIGHT) / 2.0,
                (TOP + BOTTOM) / 2.0,
                escape(&self.empty)
            );
            return out;
        }
        let minmax = |f: fn(&Point) -> f64| {
            all()
                .map(|p| f(p))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                })
        };
        let (x0, x1) = minmax(|p| p.x);
        let (y0, y1) = minmax(|p| p.y);
        let dx = Domain::new(&self.x, x0, x1, 0.04);
        let dy = Domain::new(&self.y, y0, y1, 0.08);
        let px = |v: f64| dx.map(v, LEFT, RIGHT);
        let py = |v: f64| dy.map(v, BOTTOM, TOP);

        // grid, ticks and tick labels
        out.push_str(r##"<g class="axes" fill="#444444">"##);
        for (t, label) in dx.ticks.iter().zip(tick_labels(&dx.ticks, self.x.ticks)) {
            let x = px(*t);
            if !(LEFT - 0.5..=RIGHT + 0.5).contains(&x) {
                continue;
            }
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#e4e4e4"/><line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{:.1}" stroke="#888888"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                BOTTOM + 5.0,
                BOTTOM + 19.0,
                escape(&label)
            );
        }
        for (t, label) in dy.ticks.iter().zip(tick_labels(&dy.ticks, self.y.ticks)) {
            let y = py(*t);
            if !(TOP - 0.5..=BOTTOM + 0.5).contains(&y) {
                continue;
            }
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#e4e4e4"/><line x1="{:.1}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#888888"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 5.0,
                LEFT - 8.0,
                y + 4.0,
                escape(&label)
            );
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">{}</text><text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle" font-size="13">{}</text></g>"##,
            (LEFT + RIGHT) / 2.0,
            BOTTOM + 42.0,
            escape(&self.x.label),
            (TOP + BOTTOM) / 2.0,
            escape(&self.y.label)
        );
        out.push_str(&frame);

        // lines first, then marks (in series order) on top
        for (s, p) in self.series.iter().zip(&pts) {
            if s.line == Line::None || p.len() < 2 {
                continue;
            }
            let mut d = String::new();
            for (i, q) in p.iter().enumerate() {
                let (x, y) = (px(q.x), py(q.y));
                if i == 0 {
                    let _ = write!(d, "M{x:.1} {y:.1}");
                } else if s.line == Line::Step {
                    let _ = write!(d, "H{x:.1}V{y:.1}");
                } else {
                    let _ = write!(d, "L{x:.1} {y:.1}");
                }
            }
            let _ = write!(
                out,
                r##"<path class="line" d="{d}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>"##,
                escape(&s.color)
            );
        }
        for (s, p) in self.series.iter().zip(&pts) {
            let Some(mark) = s.mark else { continue };
            let _ = write!(out, r#"<g class="series" data-name="{}">"#, escape(&s.name));
            for q in p {
                let title = (!q.title.is_empty()).then_some(q.title.as_str());
                mark_svg(&mut out, mark, &s.color, px(q.x), py(q.y), title);
            }
            out.push_str("</g>");
        }

        // legend
        let mut y = TOP + 8.0;
        out.push_str(r#"<g class="legend">"#);
        for s in self.series.iter().filter(|s| !s.name.is_empty()) {
            let cx = LEGEND_X + 12.0;
            if s.line != Line::None {
                let _ = write!(
                    out,
                    r##"<line x1="{LEGEND_X}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="2"/>"##,
                    LEGEND_X + 24.0,
                    escape(&s.color)
                );
            }
            if let Some(m) = s.mark {
                let m = match m {
                    Mark::Dot(r) => Mark::Dot(r.min(6.0)),
                    Mark::Ring(r) => Mark::Ring(r.min(6.0)),
                    Mark::Diamond(r) => Mark::Diamond(r.min(7.0)),
                };
                mark_svg(&mut out, m, &s.color, cx, y, None);
            }
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" fill="#222222">{}</text>"##,
                LEGEND_X + 32.0,
                y + 4.0,
                escape(&s.name)
            );
            y += 20.0;
        }
        out.push_str("</g></svg>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-9 * y.abs().max(1.0))
    }

    #[test]
    fn log_ticks_are_decades_then_finer() {
        assert!(close(
            &log_ticks(3.0, 250_000.0),
            &[10.0, 100.0, 1e3, 1e4, 1e5]
        ));
        assert!(close(&log_ticks(1e5, 1e7), &[1e5, 1e6, 1e7]));
        // less than three decades inside: 1, 2, 5 ×
        assert!(close(
            &log_ticks(150_000.0, 2_100_000.0),
            &[2e5, 5e5, 1e6, 2e6]
        ));
        // inside one decade: whole multiples, then round linear ticks
        assert!(close(
            &log_ticks(250_000.0, 480_000.0),
            &[2.5e5, 3e5, 3.5e5, 4e5, 4.5e5]
        ));
        let narrow = log_ticks(272_000.0, 274_000.0);
        assert!(!narrow.is_empty());
        assert!(narrow.iter().all(|&t| (272_000.0..=274_000.0).contains(&t)));
        // very wide: at most about 8 labels
        let wide = log_ticks(1.0, 1e30);
        assert!(wide.len() <= 9 && wide.len() >= 3, "{wide:?}");
        assert!(log_ticks(0.0, 10.0).is_empty());
        assert!(log_ticks(f64::NAN, 10.0).is_empty());
    }

    #[test]
    fn linear_ticks_are_round() {
        assert!(close(
            &linear_ticks(0.0, 100.0, 5, false),
            &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        ));
        assert!(close(
            &linear_ticks(88.3, 91.7, 6, false),
            &[88.5, 89.0, 89.5, 90.0, 90.5, 91.0, 91.5]
        ));
        assert!(close(&linear_ticks(0.6, 3.4, 6, true), &[1.0, 2.0, 3.0]));
        assert_eq!(linear_ticks(5.0, 5.0, 6, false), vec![5.0]);
        assert_eq!(linear_ticks(f64::NAN, 5.0, 6, false), vec![5.0]);
        assert!(linear_ticks(f64::NAN, f64::INFINITY, 6, false).is_empty());
        assert!(linear_ticks(-1e308, 1e308, 6, false).len() <= 12);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(compact(272_474.0), "272k");
        assert_eq!(compact(1_500_000.0), "1.5M");
        assert_eq!(compact(2e9), "2G");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(0.5), "0.5");
        assert_eq!(
            tick_labels(&[88.5, 89.0, 89.5], TickFormat::Plain),
            ["88.5", "89.0", "89.5"]
        );
        assert_eq!(
            tick_labels(&[0.0, 20.0, 40.0], TickFormat::Plain),
            ["0", "20", "40"]
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        let plot = Plot {
            title: "acc <vs> params & \"more\"".into(),
            x: Axis::log("params"),
            y: Axis::linear("accuracy (%)"),
            series: vec![Series {
                name: "kind <script>".into(),
                color: "#1f77b4".into(),
                mark: Some(Mark::Dot(4.0)),
                line: Line::Step,
                points: vec![
                    Point {
                        x: 1000.0,
                        y: 90.0,
                        title: "id 1 · <b>seed</b>".into(),
                    },
                    Point {
                        x: 5000.0,
                        y: 91.0,
                        title: String::new(),
                    },
                    Point {
                        x: -1.0,
                        y: 92.0,
                        title: "not drawn".into(),
                    },
                    Point {
                        x: 10.0,
                        y: f64::NAN,
                        title: "not drawn".into(),
                    },
                ],
            }],
            empty: "nothing".into(),
        };
        let svg = plot.to_svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("kind &lt;script&gt;"));
        assert!(svg.contains("<title>id 1 · &lt;b&gt;seed&lt;/b&gt;</title>"));
        assert!(!svg.contains("not drawn"));
        assert_eq!(
            svg.matches("<circle").count(),
            3,
            "two points and the legend's mark"
        );
        let line = svg.split(r#"class="line" d=""#).nth(1).unwrap_or_default();
        assert!(line.starts_with('M') && line.split('"').next().unwrap_or_default().contains('H'));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn empty_and_degenerate_plots_draw() {
        let mut plot = Plot {
            title: "t".into(),
            x: Axis::log("params"),
            y: Axis::linear("acc"),
            series: vec![],
            empty: "no finished evaluation yet".into(),
        };
        assert!(plot.to_svg().contains("no finished evaluation yet"));
        // one point, then all points equal
        for n in [1, 3] {
            plot.series = vec![Series {
                name: String::new(),
                color: "red".into(),
                mark: Some(Mark::Ring(5.0)),
                line: Line::Poly,
                points: vec![
                    Point {
                        x: 272_474.0,
                        y: 91.0,
                        title: "p".into()
                    };
                    n
                ],
            }];
            let svg = plot.to_svg();
            assert!(
                !svg.contains("no finished") && !svg.contains("NaN"),
                "{svg}"
            );
            assert_eq!(svg.matches("<title>p</title>").count(), n);
        }
        // huge and tiny values
        plot.series[0].points = vec![
            Point {
                x: f64::MIN_POSITIVE,
                y: -1e300,
                title: "a".into(),
            },
            Point {
                x: f64::MAX,
                y: 1e300,
                title: "b".into(),
            },
        ];
        let svg = plot.to_svg();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
