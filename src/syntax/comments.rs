//! Attaching comments to the line-owning nodes of a parsed module (imports, blocks, `let` statements, body
//! results), so that `nasc fmt` keeps them. A comment inside an expression that owns no line is moved before
//! the statement that contains it: comments are moved, never lost. A blank line (or several) between two
//! nodes of a sequence is kept as one blank line (`Comments::blank_before`; never before a first node).

use super::ast::*;
use super::lexer::RawComment;

struct Lines {
    starts: Vec<usize>,
    blank: Vec<bool>,
}

impl Lines {
    fn new(src: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        let blank = src.split('\n').map(|l| l.trim().is_empty()).collect();
        Lines { starts, blank }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// The line of the last character of `[start, end)`.
    fn last_line(&self, start: usize, end: usize) -> usize {
        self.line(end.saturating_sub(1).max(start))
    }

    /// A blank line follows `line`, and some code or comment comes after it.
    fn blank_after(&self, line: usize) -> bool {
        self.blank.get(line + 1).copied().unwrap_or(false)
            && self.blank.iter().skip(line + 2).any(|b| !b)
    }

    fn any_blank(&self, from: usize, to: usize) -> bool {
        (from..to).any(|l| self.blank.get(l).copied().unwrap_or(false))
    }
}

/// A node of a sequence that can own comments.
struct Slot<'a> {
    start: usize,
    end: usize,
    comments: &'a mut Comments,
    /// Bodies nested in the node (comments inside the node go there when one contains them).
    bodies: Vec<&'a mut Body>,
}

pub fn attach_comments(module: &mut Module, comments: &[RawComment], src: &str) {
    let lines = Lines::new(src);
    mark_blanks(module_slots(module), &lines);
    // the module's slots once (rebuilding them per comment made attaching quadratic in the file's size)
    let (mut slots, dangling) = module_slots(module);
    for c in comments {
        place(&mut slots, dangling, c, &lines);
    }
    // the printer always separates items by one blank line: that is layout, not something to keep
    for item in &mut module.items {
        item.comments.blank_before = false;
    }
}

fn module_slots(module: &mut Module) -> (Vec<Slot<'_>>, &mut Vec<String>) {
    let mut slots = Vec::new();
    for i in &mut module.imports {
        let (start, end) = (i.span.start as usize, i.span.end as usize);
        slots.push(Slot {
            start,
            end,
            comments: &mut i.comments,
            bodies: vec![],
        });
    }
    for item in &mut module.items {
        let (start, end) = (item.span.start as usize, item.span.end as usize);
        // bodies inside the signature (an `if` in a default or a type) can hold comments too
        let mut bodies = Vec::new();
        for p in &mut item.params {
            if let Some(d) = &mut p.default {
                collect_bodies(d, &mut bodies);
            }
            if let TypeExpr::Tensor(dims, _) = &mut p.ty {
                dims.iter_mut().for_each(|d| collect_bodies(d, &mut bodies));
            }
        }
        if let Some(TypeExpr::Tensor(dims, _)) = &mut item.ret {
            dims.iter_mut().for_each(|d| collect_bodies(d, &mut bodies));
        }
        bodies.push(&mut item.body);
        slots.push(Slot {
            start,
            end,
            comments: &mut item.comments,
            bodies,
        });
    }
    (slots, &mut module.dangling)
}

fn body_slots(body: &mut Body) -> (Vec<Slot<'_>>, &mut Vec<String>) {
    let mut slots = Vec::new();
    for s in &mut body.stmts {
        let (start, end) = (s.span.start as usize, s.span.end as usize);
        let mut bodies = Vec::new();
        collect_bodies(&mut s.value, &mut bodies);
        slots.push(Slot {
            start,
            end,
            comments: &mut s.comments,
            bodies,
        });
    }
    let (start, end) = (
        body.result.span.start as usize,
        body.result.span.end as usize,
    );
    let mut bodies = Vec::new();
    collect_bodies(&mut body.result, &mut bodies);
    slots.push(Slot {
        start,
        end,
        comments: &mut body.result_comments,
        bodies,
    });
    (slots, &mut body.dangling)
}

fn mark_blanks((slots, _): (Vec<Slot<'_>>, &mut Vec<String>), lines: &Lines) {
    let mut prev: Option<usize> = None;
    for slot in slots {
        if let Some(p) = prev {
            // a blank line right after the previous node (blank lines among the leading comments are markers)
            slot.comments.blank_before =
                lines.any_blank(p + 1, (p + 2).min(lines.line(slot.start)));
        }
        prev = Some(lines.last_line(slot.start, slot.end));
        for b in slot.bodies {
            mark_blanks(body_slots(b), lines);
        }
    }
}

/// In a list of whole-line comments, a blank line between two of them (or between the last and the node)
/// is kept as this marker (a comment's text never contains a newline).
pub const BLANK_LINE: &str = "\n";

fn push_line_comment(list: &mut Vec<String>, text: String, blank_after: bool) {
    list.push(text);
    if blank_after {
        list.push(BLANK_LINE.to_string());
    }
}

fn place(slots: &mut [Slot<'_>], dangling: &mut Vec<String>, c: &RawComment, lines: &Lines) {
    let (cs, ce) = (c.span.start as usize, c.span.end as usize);
    let text = c.text.clone();
    let cline = lines.line(cs);
    let blank_after = !c.trailing && lines.blank_after(cline);
    let ends_on_comment_line = |s: &Slot| c.trailing && lines.last_line(s.start, s.end) == cline;
    // slots are in source order and do not overlap: the first one ending after the comment
    let first_after = slots.partition_point(|s| s.end <= cs);
    match (first_after < slots.len()).then_some(first_after) {
        Some(i) if slots[i].start < cs => {
            let slot = &mut slots[i];
            let inner = slot
                .bodies
                .iter_mut()
                .find(|b| (b.span.start as usize) < cs && ce < b.span.end as usize);
            match inner {
                Some(b) => {
                    let (mut inner_slots, inner_dangling) = body_slots(b);
                    place(&mut inner_slots, inner_dangling, c, lines);
                }
                None => slot.comments.leading.push(text),
            }
        }
        Some(i) => {
            if i > 0
                && ends_on_comment_line(&slots[i - 1])
                && slots[i - 1].comments.trailing.is_none()
            {
                slots[i - 1].comments.trailing = Some(text);
            } else {
                push_line_comment(&mut slots[i].comments.leading, text, blank_after);
            }
        }
        None => match slots.last_mut() {
            Some(last)
                if c.trailing
                    && lines.last_line(last.start, last.end) == cline
                    && last.comments.trailing.is_none() =>
            {
                last.comments.trailing = Some(text)
            }
            _ => push_line_comment(dangling, text, blank_after),
        },
    }
}

fn collect_bodies<'a>(e: &'a mut Expr, out: &mut Vec<&'a mut Body>) {
    match &mut e.kind {
        ExprKind::If(c, t, f) => {
            collect_bodies(c, out);
            out.push(t);
            out.push(f);
        }
        ExprKind::Repeat {
            count, init, body, ..
        } => {
            collect_bodies(count, out);
            collect_bodies(init, out);
            out.push(body);
        }
        ExprKind::Unary(_, a) => collect_bodies(a, out),
        ExprKind::Binary(_, a, b) => {
            collect_bodies(a, out);
            collect_bodies(b, out);
        }
        ExprKind::Call(f, args) => {
            collect_bodies(f, out);
            for a in args {
                collect_bodies(&mut a.value, out);
            }
        }
        ExprKind::List(items) | ExprKind::Choice(ChoiceKind::Options(items)) => {
            for i in items {
                collect_bodies(i, out);
            }
        }
        ExprKind::Choice(ChoiceKind::Range { lo, hi, step, .. }) => {
            collect_bodies(lo, out);
            collect_bodies(hi, out);
            if let Some(s) = step {
                collect_bodies(s, out);
            }
        }
        _ => {}
    }
}
