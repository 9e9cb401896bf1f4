//! `nasc cost`: params, MACs and activation memory per block and in total (counted on the IR).

use super::{build_graph, ArchArgs};
use std::process::ExitCode;

pub(super) fn run(arch: &ArchArgs, batch: i64, depth: usize, json: bool) -> ExitCode {
    match build_graph(arch, batch) {
        Ok(b) => {
            let c = crate::ir::cost::cost(&b.graph, depth.max(1));
            if json {
                println!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
            } else {
                print!("{c}");
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
