//! `--replace`: a block instance of a program as a synthesis target, and the program with that instance
//! replaced by a synthesized block. Splicing works on the source text (the rest of the file is kept as
//! written, then printed canonically), and every spliced program is checked again in context: no errors,
//! the same output shapes, and the new instance satisfies the target when its properties are re-inferred.

use crate::check::segments::Segments;
use crate::driver::{self, Failure, Source};
use crate::ir::subgraph::Subgraph;
use crate::ir::Graph;
use crate::props::Props;
use crate::syntax::ast::{BlockDef, BlockKind, ExprKind};
use std::path::{Path, PathBuf};

/// Why an instance cannot be replaced.
#[derive(Debug)]
pub enum ReplaceError {
    /// The program does not check or build (its diagnostics), or the file is missing.
    Front(Failure),
    /// A usage problem: the spec's form, a nested or unknown path; the message says what.
    Usage(String),
}

impl std::fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplaceError::Front(e) => e.fmt(f),
            ReplaceError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ReplaceError {}

/// A block instance chosen for replacement: its program, graph, properties and size.
pub struct Replace {
    pub file: PathBuf,
    pub text: String,
    pub graph: Graph,
    /// The instance path (a top-level `let` of the entry block, or its result call).
    pub path: String,
    /// The instance's own properties (the default target).
    pub props: Props,
    /// Ops in the instance (parameters not counted).
    pub ops: usize,
    /// Its op sequence (for the `closest` objective).
    pub reference: Vec<super::OpKind>,
}

/// The `let` statements of a block and their IR path segments (`h`, `h_1`, …).
fn let_paths(def: &BlockDef) -> Vec<(String, usize)> {
    let mut segments = Segments::default();
    def.body
        .stmts
        .iter()
        .enumerate()
        .map(|(i, s)| (segments.next(&s.name.name), i))
        .collect()
}

impl Replace {
    /// Parses `FILE:PATH` and prepares that instance.
    pub fn from_spec(spec: &str) -> Result<Replace, ReplaceError> {
        let Some((file, path)) = spec.rsplit_once(':') else {
            return Err(ReplaceError::Usage(format!(
                "--replace takes FILE:PATH (e.g. examples/cifarnet.nasl:h_1), not `{spec}`"
            )));
        };
        Replace::new(Path::new(file), path)
    }

    /// The instance `path` of the program in `file`.
    pub fn new(file: &Path, path: &str) -> Result<Replace, ReplaceError> {
        if path.contains('.') {
            return Err(ReplaceError::Usage(format!(
                "--replace replaces a top-level `let` of the entry block; `{path}` is nested (select its \
enclosing instance, or use `nasc props --block {path} --json` and `nasc synth --props`)"
            )));
        }
        let file = file.to_path_buf();
        let opts = crate::ir::BuildOptions {
            batch: Some(1),
            ..Default::default()
        };
        let g = driver::build(Source::path(&file), &opts)
            .map_err(ReplaceError::Front)?
            .graph;
        let sub = Subgraph::by_path(&g, path).map_err(|e| {
            let mut tops: Vec<&str> = g
                .nodes
                .iter()
                .map(|n| n.path.split('.').next().unwrap_or(""))
                .filter(|p| *p != "inputs")
                .collect();
            tops.dedup();
            ReplaceError::Usage(format!("{e} (top-level paths: {})", tops.join(", ")))
        })?;
        let mut props =
            crate::props::infer(&g, &sub).map_err(|e| ReplaceError::Usage(e.to_string()))?;
        if let Some(s) = &mut props.source {
            s.subgraph = path.to_string();
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| ReplaceError::Usage(format!("cannot read `{}`: {e}", file.display())))?;
        let ops = sub
            .nodes
            .iter()
            .filter(|&&i| !matches!(g.nodes[i].op, crate::ir::Op::Param { .. }))
            .count();
        let reference = super::op_sequence(&g, &sub.nodes);
        Ok(Replace {
            file,
            text,
            graph: g,
            path: path.to_string(),
            props,
            ops,
            reference,
        })
    }

    /// The program text with `let PATH = …` calling the synthesized block instead, and the block appended.
    /// Returns the text and the path the new instance has in it.
    pub fn splice(&self, block: &str, name: &str) -> Result<(String, String), String> {
        let fid = crate::base::FileId::default();
        let parsed = crate::syntax::parse(fid, &self.text);
        let module = &parsed.module;
        let entry = module
            .items
            .iter()
            .rev()
            .find(|b| b.kind == BlockKind::Network)
            .or_else(|| module.items.last())
            .ok_or("the file defines no block")?;
        // a top-level `let` named by the path, else the block's result when it is a call of that name
        let (value, idx, what) = match let_paths(entry)
            .into_iter()
            .find(|(seg, _)| *seg == self.path)
        {
            Some((_, idx)) => {
                let st = &entry.body.stmts[idx];
                (&st.value, idx, format!("let {} = …", st.name.name))
            }
            None => {
                let res = &*entry.body.result;
                let callee = match &res.kind {
                    ExprKind::Call(f, _) => match &f.kind {
                        ExprKind::Name(id) => Some(id.name.clone()),
                        ExprKind::Path(_, id) => Some(id.name.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                if callee.as_deref() != Some(self.path.as_str()) {
                    return Err(format!(
                        "no top-level `let` of `{}` has path `{}`, and its result is not a call of `{}`",
                        entry.name.name, self.path, self.path
                    ));
                }
                (res, entry.body.stmts.len(), "the result".to_string())
            }
        };
        // the argument: the name in the expression that refers to the subgraph's input
        let input = self
            .props
            .shape
            .inputs
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let lets = let_paths(entry);
        let mut arg = None;
        let mut stack = vec![value];
        let mut names = Vec::new();
        while let Some(e) = stack.pop() {
            if let ExprKind::Name(id) = &e.kind {
                names.push(id.name.clone());
            }
            let mut ch = e.children();
            ch.reverse();
            stack.extend(ch);
        }
        for n in names {
            // the most recent binding of `n` before this statement, else a parameter
            let prefix = lets[..idx]
                .iter()
                .rev()
                .find(|(_, i)| entry.body.stmts[*i].name.name == n)
                .map(|(seg, _)| seg.clone())
                .unwrap_or_else(|| format!("inputs.{n}"));
            if input == prefix || input.starts_with(&format!("{prefix}.")) {
                arg = Some(n);
                break;
            }
        }
        let arg = arg.ok_or_else(|| {
            format!("cannot tell which name in {what} carries the subgraph's input `{input}`")
        })?;
        let (s, e) = (value.span.start as usize, value.span.end as usize);
        let mut out = String::new();
        out.push_str(&self.text[..s]);
        out.push_str(&format!("{name}({arg})"));
        out.push_str(&self.text[e..]);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
        out.push_str(block);
        let reparsed = crate::syntax::parse(fid, &out);
        if reparsed.diagnostics.iter().any(|d| d.is_error()) {
            return Err("the spliced program does not parse".into());
        }
        // a `let` keeps its path; a result call is named by the callee, now the synthesized block
        let new_path = if idx < entry.body.stmts.len() {
            self.path.clone()
        } else {
            name.to_string()
        };
        Ok((crate::syntax::print_module(&reparsed.module), new_path))
    }

    /// Checks the spliced program: no errors, same output shapes, and the new instance satisfies the target.
    pub fn verify(&self, text: &str, path: &str, target: &Props) -> Result<(), String> {
        let g = super::build_text(&self.file, text, None, 1)?;
        let shapes = |g: &crate::ir::Graph| -> Vec<Vec<i64>> {
            g.outputs
                .iter()
                .map(|&o| g.nodes[o].shape.clone())
                .collect()
        };
        if shapes(&g) != shapes(&self.graph) {
            return Err(format!(
                "the network's output shapes changed: {:?} → {:?}",
                shapes(&self.graph),
                shapes(&g)
            ));
        }
        let sub = Subgraph::by_path(&g, path).map_err(|e| e.to_string())?;
        let p = crate::props::infer(&g, &sub)
            .map_err(|e| e.to_string())?
            .renamed_like(target);
        if !Props::satisfies(&p, target) {
            return Err(format!(
                "the replaced instance does not satisfy the target in context:\n{p}"
            ));
        }
        Ok(())
    }
}
