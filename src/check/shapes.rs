//! The report of `nasc shapes`: the inferred value of every binding of every block of a checked file,
//! with positions — `Serialize` for `--json`, `Display` for the aligned text listing.

use super::{CheckResult, Decision, ShapeDisplay, Value};
use crate::syntax::ast::BlockKind;
use serde::Serialize;
use std::fmt;

/// One binding: its name, position and value as text.
#[derive(Clone, Debug, Serialize)]
pub struct BindingShape {
    pub name: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The shape (`[B, 64, H / 2, W / 2]`), the block, or the integer/other value, as text.
    pub value: String,
    /// `tensor`, `int`, `block`, … (`Value::kind`).
    pub kind: &'static str,
}

/// One block's bindings, result and decisions.
#[derive(Clone, Debug, Serialize)]
pub struct BlockShapes {
    pub block: String,
    /// `network` or `block`.
    pub kind: &'static str,
    pub signature: String,
    pub result: String,
    pub bindings: Vec<BindingShape>,
    pub decisions: Vec<Decision>,
}

/// The blocks of a file, in source order.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct ShapesReport {
    pub blocks: Vec<BlockShapes>,
}

/// A value as `nasc shapes` prints it.
pub fn value_text(r: &CheckResult, v: &Value) -> String {
    match v {
        Value::Tensor(t) => ShapeDisplay(&t.shape).to_string(),
        other => other.display(&r.program).to_string(),
    }
}

impl ShapesReport {
    /// The blocks of the first root file (`only`: one block by name; `None` when it has no such block).
    pub fn new(r: &CheckResult, only: Option<&str>) -> Option<ShapesReport> {
        let sources = &r.program.sources;
        let root = *r.program.roots.first()?;
        let blocks: Vec<BlockShapes> = r
            .blocks
            .iter()
            .filter(|b| r.program.block_module(b.id) == root)
            .filter(|b| only.is_none_or(|n| b.name == n))
            .map(|b| BlockShapes {
                block: b.name.clone(),
                kind: if b.kind == BlockKind::Network {
                    "network"
                } else {
                    "block"
                },
                signature: b.signature.clone(),
                result: value_text(r, &b.result),
                bindings: b
                    .bindings
                    .iter()
                    .map(|x| {
                        let lc = sources
                            .get(x.span.file)
                            .map(|f| f.line_col(x.span.start as usize));
                        BindingShape {
                            name: x.name.clone(),
                            line: lc.map(|l| l.line),
                            column: lc.map(|l| l.col),
                            value: value_text(r, &x.value),
                            kind: x.value.kind(),
                        }
                    })
                    .collect(),
                decisions: b.decisions.clone(),
            })
            .collect();
        (only.is_none() || !blocks.is_empty()).then_some(ShapesReport { blocks })
    }
}

impl fmt::Display for ShapesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.blocks {
            writeln!(f, "{} {}", b.kind, b.signature)?;
            let width = b
                .bindings
                .iter()
                .map(|x| x.name.len())
                .max()
                .unwrap_or(0)
                .max(6);
            for x in &b.bindings {
                let lc = match (x.line, x.column) {
                    (Some(l), Some(c)) => format!("{l}:{c}"),
                    _ => String::new(),
                };
                writeln!(f, "  {lc:>7}  {:<width$} : {}", x.name, x.value)?;
            }
            writeln!(f, "  {:>7}  {:<width$} : {}", "", "result", b.result)?;
            if !b.decisions.is_empty() {
                writeln!(f, "  decisions ({}):", b.decisions.len())?;
                for d in &b.decisions {
                    writeln!(f, "    {} ∈ {{{}}}", d.name, d.options.join(", "))?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
