//! `nasc props`: the (shape, depth, mixing) properties of a network or of a subgraph of it.

use super::{build_graph, ArchArgs};
use std::process::ExitCode;

pub(super) fn run(arch: &ArchArgs, select: Option<String>, batch: i64, json: bool) -> ExitCode {
    use crate::ir::subgraph::{Subgraph, SubgraphError};
    use crate::props::PropsError;
    let g = match build_graph(arch, batch) {
        Ok(b) => b.graph,
        Err(code) => return code,
    };
    let sub = match &select {
        Some(s) => Subgraph::select(&g, s),
        None => Subgraph::whole(&g),
    };
    match sub
        .map_err(PropsError::from)
        .and_then(|sub| crate::props::infer(&g, &sub))
    {
        Ok(mut p) => {
            if let Some(src) = &mut p.source {
                src.subgraph = select.unwrap_or_default();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            } else {
                print!("{p}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut hint = String::new();
            if let PropsError::Subgraph(SubgraphError::UnknownPath(_)) = &e {
                let mut tops: Vec<&str> = g
                    .nodes
                    .iter()
                    .map(|n| n.path.split('.').next().unwrap_or(""))
                    .collect();
                tops.dedup();
                hint = format!(
                    " (top-level paths: {}; `nasc ir` lists every node)",
                    tops.join(", ")
                );
            }
            eprintln!("error: {e}{hint}");
            ExitCode::from(2)
        }
    }
}
