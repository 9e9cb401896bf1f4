//! The flat form evolution works on: a network as a chain of block instances, each block a list of
//! primitive ops with concrete hyper-parameters and shapes (the alpha-NAS program representation).
//!
//! [`Flat::from_graph`] reads it off any one-input, one-output IR graph: the graph is cut at every node
//! that all later nodes reach only through (a *cut point*); the pieces between cuts are grouped into
//! instances by the source structure (consecutive pieces that lie in the same block instance of the
//! source program — by their IR paths — form one instance, so ResNet's basic blocks, the stem and the
//! head each become one); identical instances share one block definition. [`Flat::to_nasl`] prints it
//! as a self-contained NASL program (builtins only, one `let h = bK(h)` per instance), which builds to
//! the same graph, and reads back to the same flat form: printing is canonical, so the text (without its
//! header comment) is the individual's fingerprint ([`Flat::fingerprint`]).
//!
//! Uses `ir`.

use crate::ir::{Graph, NodeId, Op};
use std::collections::HashMap;
use std::fmt::Write as _;

/// An operand of a statement: the block's input, or an earlier statement's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arg {
    Input,
    Stmt(usize),
}

/// One op of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub op: Op,
    pub args: Vec<Arg>,
    /// The result's shape (batch first).
    pub shape: Vec<i64>,
}

/// A block definition: its ops in order; the last one is the result.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    pub input: Vec<i64>,
    pub stmts: Vec<Stmt>,
}

impl Def {
    /// The result shape.
    pub fn output(&self) -> &[i64] {
        self.stmts.last().map_or(&self.input, |s| &s.shape)
    }

    /// Whether the block keeps its input's shape (so it can be duplicated or deleted).
    pub fn keeps_shape(&self) -> bool {
        self.input[1..] == self.output()[1..]
    }
}

/// A network as a chain of block instances.
#[derive(Clone, Debug, PartialEq)]
pub struct Flat {
    /// The network's name.
    pub name: String,
    /// Its input's name and shape.
    pub input_name: String,
    pub input: Vec<i64>,
    pub defs: Vec<Def>,
    /// The block each instance calls, in order.
    pub calls: Vec<usize>,
}

/// Why a graph has no flat form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatError(pub String);

impl std::fmt::Display for FlatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlatError {}

/// The components of a node's enclosing instance (its path without the last component).
fn enclosing(path: &str) -> Vec<&str> {
    let mut v: Vec<&str> = path.split('.').collect();
    v.pop();
    v
}

fn common<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    a.iter()
        .zip(b)
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| *x)
        .collect()
}

/// Ops that print as a NASL call of the same name and hyper-parameters.
fn printable(op: &Op) -> bool {
    !matches!(
        op,
        Op::Input { .. } | Op::Param { .. } | Op::Reshape { .. } | Op::Expand { .. }
    )
}

impl Flat {
    /// The flat form of a one-input, one-output graph.
    pub fn from_graph(g: &Graph) -> Result<Flat, FlatError> {
        if g.inputs.len() != 1 || g.outputs.len() != 1 {
            return Err(FlatError(format!(
                "evolution needs a network with one input and one output; `{}` has {} and {}",
                g.name,
                g.inputs.len(),
                g.outputs.len()
            )));
        }
        let input = g.inputs[0];
        let output = g.outputs[0];
        let n = g.nodes.len();
        if output + 1 != n {
            return Err(FlatError(format!(
                "the output of `{}` is not its last node",
                g.name
            )));
        }
        for (i, node) in g.nodes.iter().enumerate() {
            if i != input && !printable(&node.op) {
                return Err(FlatError(format!(
                    "evolution cannot rewrite `{}` at `{}` yet (learned tensors, reshapes and expands \
                     have no flat form)",
                    node.op.name(),
                    node.path
                )));
            }
            if node.inputs.iter().any(|&j| j >= i) {
                return Err(FlatError("the graph is not in topological order".into()));
            }
        }
        let Op::Input { name: input_name } = &g.nodes[input].op else {
            return Err(FlatError("the graph's input is not an input node".into()));
        };
        // cut points: v such that no edge jumps from before v to after v
        let users = g.users();
        let mut cuts = Vec::new();
        let mut reach = 0; // the furthest user of any node before v
        for (v, used_by) in users.iter().enumerate() {
            if v > input && reach <= v {
                cuts.push(v);
            }
            reach = reach.max(used_by.iter().copied().max().unwrap_or(v));
        }
        // pieces: (previous cut, cut]; each piece's nodes and enclosing instance
        let mut pieces: Vec<(Vec<NodeId>, Vec<&str>)> = Vec::new();
        let mut start = input + 1;
        for &c in &cuts {
            let nodes: Vec<NodeId> = (start..=c).filter(|&i| i != input).collect();
            let mut inst = enclosing(&g.nodes[nodes[0]].path);
            for &i in &nodes[1..] {
                inst = common(&inst, &enclosing(&g.nodes[i].path));
            }
            pieces.push((nodes, inst));
            start = c + 1;
        }
        // instances: consecutive pieces whose common instance is one of theirs (and not the top level)
        let mut units: Vec<(Vec<NodeId>, Vec<&str>)> = Vec::new();
        for (nodes, inst) in pieces {
            if let Some((un, ui)) = units.last_mut() {
                let l = common(ui, &inst);
                if !l.is_empty() && (l == *ui || l == inst) {
                    un.extend(nodes);
                    *ui = l;
                    continue;
                }
            }
            units.push((nodes, inst));
        }
        let mut flat = Flat {
            name: g.name.clone(),
            input_name: input_name.clone(),
            input: g.nodes[input].shape.clone(),
            defs: Vec::new(),
            calls: Vec::new(),
        };
        let mut prev = input;
        for (nodes, _) in units {
            let index: HashMap<NodeId, usize> =
                nodes.iter().enumerate().map(|(k, &i)| (i, k)).collect();
            let mut stmts = Vec::with_capacity(nodes.len());
            for &i in &nodes {
                let node = &g.nodes[i];
                let args = node
                    .inputs
                    .iter()
                    .map(|j| match index.get(j) {
                        Some(&k) => Ok(Arg::Stmt(k)),
                        None if *j == prev => Ok(Arg::Input),
                        None => Err(FlatError(format!(
                            "`{}` uses a tensor from outside its block instance",
                            node.path
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                stmts.push(Stmt {
                    op: node.op.clone(),
                    args,
                    shape: node.shape.clone(),
                });
            }
            let def = Def {
                input: g.nodes[prev].shape.clone(),
                stmts,
            };
            flat.call(def);
            prev = *nodes.last().unwrap_or(&prev);
        }
        if flat.calls.is_empty() {
            return Err(FlatError(format!("`{}` has no ops", g.name)));
        }
        Ok(flat)
    }

    /// Appends an instance of `def`, sharing an identical existing definition.
    fn call(&mut self, def: Def) {
        let k = match self.defs.iter().position(|d| *d == def) {
            Some(k) => k,
            None => {
                self.defs.push(def);
                self.defs.len() - 1
            }
        };
        self.calls.push(k);
    }

    /// The same network with definitions renumbered in order of first use, unused ones dropped and
    /// identical ones merged: the canonical form (the printer's).
    pub fn canonical(&self) -> Flat {
        let mut out = Flat {
            defs: Vec::new(),
            calls: Vec::new(),
            ..self.clone()
        };
        for &c in &self.calls {
            out.call(self.defs[c].clone());
        }
        out
    }

    /// The output shape.
    pub fn output(&self) -> &[i64] {
        self.calls
            .last()
            .map_or(&self.input, |&c| self.defs[c].output())
    }

    /// The IR path of instance `i` in the printed program (`h`, `h_1`, …).
    pub fn instance_path(i: usize) -> String {
        if i == 0 {
            "h".into()
        } else {
            format!("h_{i}")
        }
    }

    /// The program as NASL (canonical; `header` lines become a leading comment).
    pub fn to_nasl(&self, header: &str) -> String {
        let flat = self.canonical();
        let mut out = String::new();
        for l in header.lines() {
            let _ = writeln!(out, "// {l}");
        }
        let shape = |s: &[i64]| {
            let mut v = vec!["B".to_string()];
            v.extend(s[1..].iter().map(i64::to_string));
            format!("[{}]", v.join(", "))
        };
        for (k, d) in flat.defs.iter().enumerate() {
            let uses = flat.calls.iter().filter(|&&c| c == k).count();
            let _ = writeln!(
                out,
                "/// {} op(s), {} instance(s).\nblock b{}(x: {}) -> {} {{",
                d.stmts.len(),
                uses,
                k + 1,
                shape(&d.input),
                shape(d.output())
            );
            let name = |a: &Arg| match a {
                Arg::Input => "x".to_string(),
                Arg::Stmt(j) => format!("v{}", j + 1),
            };
            for (j, s) in d.stmts.iter().enumerate() {
                let call = call_text(&s.op, &s.args.iter().map(name).collect::<Vec<_>>());
                if j + 1 == d.stmts.len() {
                    let _ = writeln!(out, "    {call}");
                } else {
                    let _ = writeln!(out, "    let v{} = {call};", j + 1);
                }
            }
            out.push_str("}\n\n");
        }
        let _ = writeln!(
            out,
            "network {}({}: {}) -> {} {{",
            flat.name,
            flat.input_name,
            shape(&flat.input),
            shape(flat.output())
        );
        let mut cur = flat.input_name.clone();
        for &c in &flat.calls {
            let _ = writeln!(out, "    let h = b{}({cur});", c + 1);
            cur = "h".into();
        }
        let _ = writeln!(out, "    {cur}\n}}");
        out
    }

    /// What makes two individuals the same: a stable hash of the canonical text (no header).
    pub fn fingerprint(&self) -> String {
        fingerprint_text(&self.to_nasl(""))
    }
}

/// The fingerprint of a text ([`crate::base::fingerprint`]).
pub fn fingerprint_text(text: &str) -> String {
    crate::base::fingerprint(text)
}

/// An op applied to named operands, as a NASL call (`conv(x, 16, kernel: 3)`).
fn call_text(op: &Op, args: &[String]) -> String {
    let attrs = op.attrs_text();
    let attrs = match op {
        Op::Conv { .. } | Op::Linear { .. } => attrs.replacen("out: ", "", 1),
        Op::GroupNorm { .. } => attrs.replacen("groups: ", "", 1),
        _ => attrs,
    };
    let mut parts: Vec<String> = args.to_vec();
    if !attrs.is_empty() {
        parts.push(attrs);
    }
    format!("{}({})", op.name(), parts.join(", "))
}
