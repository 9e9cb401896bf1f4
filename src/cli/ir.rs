//! `nasc ir`: the IR of one architecture, as the readable listing or JSON.

use super::{build_graph, ArchArgs};
use std::process::ExitCode;

pub(super) fn run(arch: &ArchArgs, batch: i64, json: bool) -> ExitCode {
    match build_graph(arch, batch) {
        Ok(b) => {
            let g = b.graph;
            if json {
                println!("{}", serde_json::to_string_pretty(&g).unwrap_or_default());
            } else {
                print!("{g}");
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
