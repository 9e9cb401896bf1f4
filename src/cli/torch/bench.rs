//! `nasc bench`: training throughput (images/s) on synthetic data.

use super::{build_graph, fail_lower, ArchArgs};
use std::process::ExitCode;

pub(super) fn run(
    arch: &ArchArgs,
    batch: i64,
    steps: usize,
    warmup: usize,
    device: &str,
    threads: Option<i32>,
    quiet: bool,
) -> ExitCode {
    let built = match build_graph(arch, batch) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let (g, sources) = (built.graph, built.program.sources);
    let r = crate::lower::parse_device(device).and_then(|d| {
        if let Some(t) = threads {
            crate::lower::set_threads(t);
        }
        crate::lower::seed(0);
        crate::lower::train::benchmark(&g, d, batch, steps, warmup)
    });
    match r {
        Ok(ips) if quiet => {
            println!("{ips:.1}");
            ExitCode::SUCCESS
        }
        Ok(ips) => {
            println!(
                "{}: {ips:.1} training images/s (batch {batch}, {steps} steps, {device}, {} threads)",
                g.name,
                crate::lower::threads()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail_lower(&e, &sources),
    }
}
