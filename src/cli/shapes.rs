//! `nasc shapes`: the inferred shape of every binding of every block, as text or JSON.

use super::{print_diagnostics, summary};
use crate::check::{self, ShapeDisplay, Value};
use crate::driver;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn run(file: &PathBuf, only: Option<&str>, json: bool) -> ExitCode {
    if !file.is_file() {
        return super::fail(driver::Failure::Missing(vec![file.clone()]), "");
    }
    let r = driver::check(driver::Source::path(file));
    let sources = &r.program.sources;
    let blocks: Vec<&check::BlockReport> = r
        .blocks
        .iter()
        .filter(|b| r.program.block_module(b.id) == r.program.roots[0])
        .filter(|b| only.is_none_or(|n| b.name == n))
        .collect();
    if let Some(n) = only {
        if blocks.is_empty() {
            let names: Vec<&str> = r.blocks.iter().map(|b| b.name.as_str()).collect();
            eprintln!(
                "error: `{}` has no block `{n}` (it defines: {})",
                file.display(),
                names.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let line_col = |s: crate::base::Span| sources.get(s.file).map(|f| f.line_col(s.start as usize));
    let prog = &r.program;
    let show = |v: &Value| match v {
        Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
        Value::Block(b) => super::block_value_text(prog, b),
        other => other.to_string(),
    };
    if json {
        let arr: Vec<_> = blocks
            .iter()
            .map(|b| {
                serde_json::json!({
                    "block": b.name,
                    "kind": if b.kind == crate::syntax::ast::BlockKind::Network { "network" } else { "block" },
                    "signature": b.signature,
                    "result": show(&b.result),
                    "bindings": b.bindings.iter().map(|x| {
                        let lc = line_col(x.span);
                        serde_json::json!({"name": x.name, "line": lc.map(|l| l.line), "column": lc.map(|l| l.col), "value": show(&x.value), "kind": x.value.kind()})
                    }).collect::<Vec<_>>(),
                    "decisions": b.decisions,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr).unwrap_or_default());
    } else {
        let mut out = String::new();
        for b in &blocks {
            let kw = if b.kind == crate::syntax::ast::BlockKind::Network {
                "network"
            } else {
                "block"
            };
            out.push_str(&format!("{kw} {}\n", b.signature));
            let width = b
                .bindings
                .iter()
                .map(|x| x.name.len())
                .max()
                .unwrap_or(0)
                .max(6);
            for x in &b.bindings {
                let lc = line_col(x.span)
                    .map(|l| format!("{}:{}", l.line, l.col))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {lc:>7}  {:<width$} : {}\n",
                    x.name,
                    show(&x.value)
                ));
            }
            out.push_str(&format!(
                "  {:>7}  {:<width$} : {}\n",
                "",
                "result",
                show(&b.result)
            ));
            if !b.decisions.is_empty() {
                out.push_str(&format!("  decisions ({}):\n", b.decisions.len()));
                for d in &b.decisions {
                    out.push_str(&format!("    {} ∈ {{{}}}\n", d.name, d.options.join(", ")));
                }
            }
            out.push('\n');
        }
        print!("{out}");
    }
    if r.has_errors() {
        print_diagnostics(&r.diagnostics, sources, true);
        eprintln!("{}", summary(&r.diagnostics, 1));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
