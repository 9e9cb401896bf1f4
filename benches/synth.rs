//! Synthesis benchmark (`cargo bench --bench synth`, or `scripts/bench_synth.sh`). Takes every block
//! instance of the bundled examples (deduplicated by properties) and synthesizes (1) its own properties
//! (identity targets) and (2) 1,000 seeded mutations of them (docs/properties.md rules, small-image
//! rates), then prints a table of sat / unsat / unknown and latency percentiles. Every sat program was
//! re-checked by `props` inside `synthesize`; an internal error is counted and printed.
//!
//! Options (after `--`): `--mutations N` (default 1000), `--timeout S` per synthesis (default 10),
//! `--seed S` (default 0), `--identity-only`, `--max-ops N` (skip instances larger than N ops).

use nasc::check;
use nasc::ir::{self, BuildOptions};
use nasc::props::MutationRates;
use nasc::synth::{self, Constraints, Instance, Options, Outcome, Target};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Tally {
    sat: usize,
    unsat: usize,
    unknown: usize,
    internal: usize,
    unsupported: usize,
    times: Vec<f64>,
}

impl Tally {
    fn add(&mut self, r: &Result<(Outcome, synth::Stats), synth::SynthError>, secs: f64) {
        self.times.push(secs);
        match r {
            Ok((Outcome::Sat { .. }, _)) => self.sat += 1,
            Ok((Outcome::Unsat { .. }, _)) => self.unsat += 1,
            Ok((Outcome::Unknown { .. }, _)) => self.unknown += 1,
            Err(e) => {
                self.internal += 1;
                eprintln!("{e}");
            }
        }
    }

    fn row(&mut self, what: &str) -> String {
        self.times.sort_by(|a, b| a.total_cmp(b));
        let n = self.times.len().max(1);
        let pct = |p: f64| {
            self.times
                .get(((n as f64 * p) as usize).min(n - 1))
                .copied()
                .unwrap_or(0.0)
        };
        let share = |k: usize| format!("{k} ({:.1}%)", 100.0 * k as f64 / n as f64);
        format!(
            "| {what} | {} | {} | {} | {} | {} | {} | {:.3} s | {:.3} s | {:.3} s |",
            self.times.len() + self.unsupported,
            self.unsupported,
            share(self.sat),
            share(self.unsat),
            share(self.unknown),
            self.internal,
            pct(0.5),
            pct(0.95),
            self.times.last().copied().unwrap_or(0.0)
        )
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mutations = opt("--mutations", 1000.0) as usize;
    let timeout = opt("--timeout", 10.0);
    let seed = opt("--seed", 0.0) as u64;
    let max_ops = opt("--max-ops", 1e9) as usize;
    let identity_only = args.iter().any(|a| a == "--identity-only");
    check::with_big_stack(move || {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
            .expect("examples/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "nasl"))
            .collect();
        files.sort();
        let mut all: Vec<(String, Instance)> = Vec::new();
        let mut seen = HashSet::new();
        for f in &files {
            let r = check::check_paths(std::slice::from_ref(f));
            assert!(!r.has_errors(), "{} has errors", f.display());
            let g = ir::build(&r.program, &BuildOptions::default()).expect("builds");
            let name = f
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            for i in synth::instances(&g) {
                let key = synth::target_key(&i.props);
                if i.ops <= max_ops && seen.insert(key) {
                    all.push((name.clone(), i));
                }
            }
        }
        let opts = |i: &Instance, s: u64| Options {
            count: 1,
            seed: Some(s),
            timeout: Duration::from_secs_f64(timeout),
            replaced_ops: Some(i.ops),
            ..Default::default()
        };
        eprintln!(
            "{} distinct block instances in {} examples; timeout {timeout} s per synthesis",
            all.len(),
            files.len()
        );
        let mut ident = Tally::default();
        let mut by_size: [Tally; 3] = Default::default();
        let mut supported: Vec<usize> = Vec::new();
        for (k, (file, inst)) in all.iter().enumerate() {
            let size = if inst.ops <= 8 {
                0
            } else if inst.ops <= 24 {
                1
            } else {
                2
            };
            let t = match Target::new(inst.props.clone(), Constraints::default()) {
                Ok(t) => t,
                Err(e) => {
                    // outside what synthesis supports (several inputs, rank 4 → 3): counted, not timed
                    eprintln!(
                        "identity {file}:{} ({} ops): unsupported: {e}",
                        inst.path, inst.ops
                    );
                    ident.unsupported += 1;
                    by_size[size].unsupported += 1;
                    continue;
                }
            };
            supported.push(k);
            let start = Instant::now();
            let r = synth::synthesize(&t, &opts(inst, seed));
            let secs = start.elapsed().as_secs_f64();
            if !matches!(r, Ok((Outcome::Sat { .. }, _))) {
                let what = match &r {
                    Ok((Outcome::Unsat { explanation }, _)) => {
                        format!("unsat: {}", explanation.summary)
                    }
                    Ok((Outcome::Unknown { reason }, _)) => format!("unknown: {reason}"),
                    Err(e) => e.to_string(),
                    _ => String::new(),
                };
                eprintln!("identity {file}:{} ({} ops): {what}", inst.path, inst.ops);
            }
            by_size[size].add(&r, secs);
            ident.add(&r, secs);
            if (k + 1) % 25 == 0 {
                eprintln!("  identity: {}/{}", k + 1, all.len());
            }
        }
        let mut muts = Tally::default();
        if !identity_only {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for m in 0..mutations {
                let (_, inst) = &all[supported[rng.gen_range(0..supported.len())]];
                let props = inst.props.mutate(&mut rng, MutationRates::SMALL);
                let t = Target::new(props, Constraints::default())
                    .expect("a mutation of a valid target is valid");
                let start = Instant::now();
                let r = synth::synthesize(&t, &opts(inst, seed + m as u64));
                muts.add(&r, start.elapsed().as_secs_f64());
                if (m + 1) % 100 == 0 {
                    eprintln!("  mutations: {}/{mutations}", m + 1);
                }
            }
        }
        println!("\n| targets | n | unsupported | sat | unsat | unknown | internal errors | p50 | p95 | max |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!("{}", ident.row("identity (every instance)"));
        for (t, what) in by_size.iter_mut().zip([
            "identity, ≤ 8 ops",
            "identity, 9–24 ops",
            "identity, > 24 ops",
        ]) {
            if !t.times.is_empty() || t.unsupported > 0 {
                println!("{}", t.row(what));
            }
        }
        if !identity_only {
            println!("{}", muts.row("mutated (seeded)"));
        }
        println!(
            "\nReference (alpha-NAS progressive synthesis, CifarNet block, 2-core machine): median 30 s, p95 41 s; \
71% success on identity targets, 62% on mutated ones (docs/properties.md)."
        );
    });
}
