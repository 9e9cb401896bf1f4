//! The canonical printer: one layout for every program (4-space indent, one statement per line, keyword
//! arguments as written, parentheses only where precedence needs them, comments and single blank lines
//! kept). `parse(print(m)) == m` for every module `m` the parser can produce (property-tested).

use super::ast::*;

const WIDTH: usize = 100;
const INDENT: &str = "    ";

/// Prints a whole module.
pub fn print_module(m: &Module) -> String {
    let mut p = Printer::default();
    for imp in &m.imports {
        p.leading(&imp.comments, true);
        p.line_start();
        p.out.push_str(&import_text(imp));
        p.trailing(&imp.comments);
    }
    for (i, item) in m.items.iter().enumerate() {
        if i > 0 || !m.imports.is_empty() {
            p.out.push('\n');
        }
        p.leading(&item.comments, false);
        p.block_def(item);
        p.trailing(&item.comments);
    }
    if !m.dangling.is_empty() && (!m.items.is_empty() || !m.imports.is_empty()) {
        p.out.push('\n');
    }
    for c in &m.dangling {
        p.comment_line(c);
    }
    p.out
}

/// Prints one expression on one line (bodies inside it may span lines).
pub fn print_expr(e: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(e, 0);
    p.out
}

/// Prints a type.
pub fn print_type(t: &TypeExpr) -> String {
    let mut p = Printer::default();
    p.ty(t);
    p.out
}

fn import_text(imp: &Import) -> String {
    let mut s = format!("import {}", imp.module_path());
    if let Some(names) = &imp.names {
        let items: Vec<String> = names
            .iter()
            .map(|n| match &n.alias {
                Some(a) => format!("{} as {}", n.name.name, a.name),
                None => n.name.name.clone(),
            })
            .collect();
        s.push_str(&format!(".{{{}}}", items.join(", ")));
    }
    if let Some(a) = &imp.alias {
        s.push_str(&format!(" as {}", a.name));
    }
    s.push(';');
    s
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
    /// Print the bodies of the current `if`/`repeat` on their own lines (it did not fit on one).
    multiline: bool,
    /// Measuring the one-line form (no width decisions).
    probing: bool,
}

impl Printer {
    fn line_start(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    fn comment_line(&mut self, c: &str) {
        if c == super::comments::BLANK_LINE {
            self.out.push('\n');
            return;
        }
        self.line_start();
        self.out.push_str("//");
        self.out.push_str(c);
        self.out.push('\n');
    }

    fn leading(&mut self, c: &Comments, allow_blank: bool) {
        if c.blank_before && allow_blank {
            self.out.push('\n');
        }
        for l in &c.leading {
            self.comment_line(l);
        }
    }

    fn trailing(&mut self, c: &Comments) {
        if let Some(t) = &c.trailing {
            self.out.push_str(" //");
            self.out.push_str(t);
        }
        self.out.push('\n');
    }

    fn block_def(&mut self, b: &BlockDef) {
        self.line_start();
        let kw = match b.kind {
            BlockKind::Block => "block",
            BlockKind::Network => "network",
        };
        let params: Vec<String> = b.params.iter().map(param_text).collect();
        let ret = b
            .ret
            .as_ref()
            .map(|t| format!(" -> {}", print_type(t)))
            .unwrap_or_default();
        let one_line = format!("{kw} {}({}){ret} {{", b.name.name, params.join(", "));
        if one_line.len() + self.indent * 4 <= WIDTH {
            self.out.push_str(&one_line);
        } else {
            self.out.push_str(&format!("{kw} {}(\n", b.name.name));
            for p in &params {
                self.out.push_str(INDENT);
                self.out.push_str(p);
                self.out.push_str(",\n");
            }
            self.out.push_str(&format!("){ret} {{"));
        }
        self.body_lines(&b.body);
    }

    /// Prints the inside of a body after its `{` and up to and including its `}` (multi-line).
    fn body_lines(&mut self, b: &Body) {
        self.out.push('\n');
        self.indent += 1;
        for (i, s) in b.stmts.iter().enumerate() {
            self.leading(&s.comments, i > 0);
            self.line_start();
            self.out.push_str(&format!("let {} = ", s.name.name));
            self.expr(&s.value, 0);
            self.out.push(';');
            self.trailing(&s.comments);
        }
        self.leading(&b.result_comments, !b.stmts.is_empty());
        self.line_start();
        self.expr(&b.result, 0);
        self.trailing(&b.result_comments);
        for c in &b.dangling {
            self.comment_line(c);
        }
        self.indent -= 1;
        self.line_start();
        self.out.push('}');
    }

    /// Whether `e` (an `if` or `repeat`) printed on one line fits in the width from the current column.
    fn fits_inline(&self, e: &Expr) -> bool {
        let mut p = Printer {
            out: String::new(),
            indent: self.indent,
            multiline: false,
            probing: true,
        };
        p.expr(e, 0);
        let col = self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1);
        !p.out.contains('\n') && col + p.out.chars().count() <= WIDTH
    }

    fn body(&mut self, b: &Body) {
        let inline_ok = b.stmts.is_empty() && b.result_comments.is_empty() && b.dangling.is_empty();
        if inline_ok && (self.probing || !self.multiline) {
            self.out.push_str("{ ");
            self.expr(&b.result, 0);
            self.out.push_str(" }");
        } else {
            // the statements inside decide their own layout
            let multiline = std::mem::replace(&mut self.multiline, false);
            self.out.push('{');
            self.body_lines(b);
            self.multiline = multiline;
        }
    }

    fn ty(&mut self, t: &TypeExpr) {
        match t {
            TypeExpr::Named(i) => self.out.push_str(&i.name),
            TypeExpr::Tensor(dims, _) => self.list(dims),
        }
    }

    fn list(&mut self, items: &[Expr]) {
        self.out.push('[');
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(e, 0);
        }
        self.out.push(']');
    }

    /// Prints `e`, parenthesised when its precedence is below `min`.
    fn expr(&mut self, e: &Expr, min: u8) {
        let prec = expr_precedence(e);
        let paren = prec < min;
        if paren {
            self.out.push('(');
        }
        match &e.kind {
            ExprKind::Int(v) => self.out.push_str(&v.to_string()),
            ExprKind::Float(v) => self.out.push_str(&format!("{v:?}")),
            ExprKind::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            ExprKind::Str(s) => {
                self.out.push('"');
                self.out.push_str(s);
                self.out.push('"');
            }
            ExprKind::Name(i) => self.out.push_str(&i.name),
            ExprKind::Path(m, i) => {
                self.out.push_str(&m.name);
                self.out.push('.');
                self.out.push_str(&i.name);
            }
            ExprKind::Wildcard => self.out.push('_'),
            ExprKind::Error => self.out.push('_'),
            ExprKind::Unary(op, a) => {
                self.out.push(match op {
                    UnOp::Neg => '-',
                    UnOp::Not => '!',
                });
                self.expr(a, PREC_UNARY);
            }
            ExprKind::Binary(op, a, b) => {
                let p = op.precedence();
                // left-associative; comparisons do not chain
                let (lmin, rmin) = if op.is_comparison() {
                    (p + 1, p + 1)
                } else {
                    (p, p + 1)
                };
                self.expr(a, lmin);
                self.out.push(' ');
                self.out.push_str(op.symbol());
                self.out.push(' ');
                self.expr(b, rmin);
            }
            ExprKind::Call(f, args) => {
                self.expr(f, PREC_POSTFIX);
                self.out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    if let Some(n) = &a.name {
                        self.out.push_str(&n.name);
                        self.out.push_str(": ");
                    }
                    self.expr(&a.value, 0);
                }
                self.out.push(')');
            }
            ExprKind::List(items) => self.list(items),
            ExprKind::If(..) | ExprKind::Repeat { .. }
                if !self.multiline && !self.probing && !self.fits_inline(e) =>
            {
                self.multiline = true;
                self.expr(e, 0);
                self.multiline = false;
            }
            ExprKind::If(c, t, f) => {
                self.out.push_str("if ");
                self.expr(c, 0);
                self.out.push(' ');
                self.body(t);
                self.out.push_str(" else ");
                let else_if = f.stmts.is_empty()
                    && f.result_comments.is_empty()
                    && f.dangling.is_empty()
                    && matches!(f.result.kind, ExprKind::If(..));
                if else_if {
                    self.expr(&f.result, 0);
                } else {
                    self.body(f);
                }
            }
            ExprKind::Repeat {
                count,
                var,
                init,
                index,
                body,
            } => {
                self.out.push_str("repeat ");
                self.expr(count, 0);
                self.out.push_str(&format!(" with {} = ", var.name));
                self.expr(init, 0);
                if let Some(i) = index {
                    self.out.push_str(&format!(", {}", i.name));
                }
                self.out.push(' ');
                self.body(body);
            }
            ExprKind::Choice(ChoiceKind::Options(opts)) => {
                self.out.push_str("choice(");
                for (i, o) in opts.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(o, 0);
                }
                self.out.push(')');
            }
            ExprKind::Choice(ChoiceKind::Range {
                lo,
                hi,
                inclusive,
                step,
            }) => {
                self.out.push_str("choice(");
                self.expr(lo, 0);
                self.out.push_str(if *inclusive { "..=" } else { ".." });
                self.expr(hi, 0);
                if let Some(s) = step {
                    self.out.push_str(" step ");
                    self.expr(s, 0);
                }
                self.out.push(')');
            }
        }
        if paren {
            self.out.push(')');
        }
    }
}

const PREC_UNARY: u8 = 6;
const PREC_POSTFIX: u8 = 7;
const PREC_PRIMARY: u8 = 8;

fn expr_precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => op.precedence(),
        ExprKind::Unary(..) => PREC_UNARY,
        ExprKind::Int(v) if *v < 0 => PREC_UNARY,
        ExprKind::Call(..) => PREC_POSTFIX,
        _ => PREC_PRIMARY,
    }
}

fn param_text(p: &Param) -> String {
    let mut s = format!("{}: {}", p.name.name, print_type(&p.ty));
    if let Some(d) = &p.default {
        s.push_str(" = ");
        s.push_str(&print_expr(d));
    }
    s
}
