//! The checks shared by the shape rules: positive and non-negative hyper-parameters, ranks, axes, equal
//! dimensions (with both origins in the message), and broadcasting.

use super::Evaluator;
use crate::base::{Code, Diagnostic, Span};
use crate::check::sym::Sym;
use crate::check::value::{ShapeDisplay, Tensor, Value};

impl Evaluator<'_> {
    pub(super) fn int_arg(&self, v: &Value) -> Sym {
        match v {
            Value::Int(s) => self.norm(s),
            _ => Sym::constant(0),
        }
    }

    /// Reports unless `s` is positive (when known). `what` names the hyper-parameter.
    pub(super) fn positive(&mut self, s: &Sym, span: Span, what: &str, op: &str) -> bool {
        match self.known(s) {
            Some(k) if k <= 0 => {
                self.report(
                    Diagnostic::error(
                        Code::NotPositive,
                        format!("the {what} of `{op}` must be positive, but it is {k}"),
                    )
                    .with_label(span, format!("{what} {k}")),
                );
                false
            }
            _ => true,
        }
    }

    pub(super) fn non_negative(&mut self, s: &Sym, span: Span, what: &str, op: &str) -> bool {
        match self.known(s) {
            Some(k) if k < 0 => {
                self.report(
                    Diagnostic::error(
                        Code::OutOfRange,
                        format!("the {what} of `{op}` cannot be negative (it is {k})"),
                    )
                    .with_label(span, format!("{what} {k}")),
                );
                false
            }
            _ => true,
        }
    }

    pub(super) fn rank(
        &mut self,
        t: &Tensor,
        span: Span,
        op: &str,
        want: &[usize],
        layout: &str,
    ) -> bool {
        if want.contains(&t.shape.len()) {
            return true;
        }
        let want_s = want
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        self.report(
            Diagnostic::error(
                Code::RankMismatch,
                format!(
                    "`{op}` takes a rank-{want_s} tensor {layout}, but this one is {}",
                    ShapeDisplay(&t.shape)
                ),
            )
            .with_label(span, format!("rank {}", t.shape.len()))
            .with_note(format!(
                "it comes from {} at {}",
                t.origin.what,
                self.short_where(t.origin.span)
            )),
        );
        false
    }

    /// Normalises a possibly negative axis; reports when out of range.
    pub(super) fn axis(&mut self, d: &Sym, rank: usize, span: Span, op: &str) -> Option<usize> {
        let Some(k) = self.known(d) else {
            self.report(
                Diagnostic::error(
                    Code::NotConstant,
                    format!("the dimension index of `{op}` must be known"),
                )
                .with_label(span, format!("`{d}` is symbolic")),
            );
            return None;
        };
        let r = rank as i64;
        if k < -r || k >= r {
            self.report(
                Diagnostic::error(
                    Code::AxisOutOfRange,
                    format!("dimension {k} is out of range for a rank-{rank} tensor"),
                )
                .with_label(span, format!("dimension {k}"))
                .with_help(format!("valid dimensions are {} to {}", -r, r - 1)),
            );
            return None;
        }
        Some(if k < 0 { (k + r) as usize } else { k as usize })
    }

    /// Requires two dimensions to be equal; reports with both origins.
    #[expect(
        clippy::too_many_arguments,
        reason = "the operands and spans of one shape check, each reported in its diagnostic"
    )]
    pub(super) fn require_dim(
        &mut self,
        a: &Sym,
        b: &Sym,
        code: Code,
        what: &str,
        op: &str,
        ta: (&Tensor, Span),
        tb: (&Tensor, Span),
    ) -> bool {
        match self.same(a, b) {
            Some(true) => true,
            verdict => {
                let (na, nb) = (self.norm(a), self.norm(b));
                let (da, db) = (self.describe(a), self.describe(b));
                let msg = if verdict == Some(false) {
                    format!("{what} {da} and {db} do not match in this `{op}`")
                } else {
                    format!("{what} {da} and {db} cannot be shown equal in this `{op}`")
                };
                let d = Diagnostic::error(code, msg)
                    .with_label(
                        ta.1,
                        format!(
                            "{} from {} at {}",
                            ShapeDisplay(&ta.0.shape),
                            ta.0.origin.what,
                            self.where_from(ta.0.origin.span, ta.1)
                        ),
                    )
                    .with_label(
                        tb.1,
                        format!(
                            "{} from {} at {}",
                            ShapeDisplay(&tb.0.shape),
                            tb.0.origin.what,
                            self.where_from(tb.0.origin.span, tb.1)
                        ),
                    );
                let d = if verdict.is_none() {
                    d.with_help(cannot_show_help(&na, &nb))
                } else {
                    d
                };
                self.report(d);
                false
            }
        }
    }

    pub(super) fn origin_what(&self, op: &str, span: Span) -> String {
        match self.snippet(span) {
            Some(s) if s.chars().count() <= 40 => format!("`{s}`"),
            _ => format!("`{op}(…)`"),
        }
    }

    pub(super) fn broadcast(
        &mut self,
        a: &Tensor,
        sa: Span,
        b: &Tensor,
        sb: Span,
        op: &str,
    ) -> Option<Vec<Sym>> {
        let r = a.shape.len().max(b.shape.len());
        let mut out = Vec::new();
        for i in 0..r {
            let x = (i + a.shape.len())
                .checked_sub(r)
                .map(|j| self.norm(&a.shape[j]));
            let y = (i + b.shape.len())
                .checked_sub(r)
                .map(|j| self.norm(&b.shape[j]));
            let d = match (x, y) {
                (Some(x), None) => x,
                (None, Some(y)) => y,
                (Some(x), Some(y)) => {
                    if self.same(&x, &y) == Some(true) || y.as_const() == Some(1) {
                        x
                    } else if x.as_const() == Some(1) {
                        y
                    } else {
                        let name = dim_name(r, i);
                        let verdict = self.same(&x, &y);
                        let msg = if verdict == Some(false) {
                            format!(
                                "{name} {} and {} do not match in this `{op}`",
                                self.describe(&x),
                                self.describe(&y)
                            )
                        } else {
                            format!(
                                "{name} {} and {} cannot be shown equal in this `{op}`",
                                self.describe(&x),
                                self.describe(&y)
                            )
                        };
                        let mut d = Diagnostic::error(
                            if verdict == Some(false)
                                && x.as_const().is_some()
                                && y.as_const().is_some()
                                && op != "add"
                                && op != "mul"
                            {
                                Code::Broadcast
                            } else {
                                Code::DimMismatch
                            },
                            msg,
                        )
                        .with_label(
                            sa,
                            format!(
                                "{} from {} at {}",
                                ShapeDisplay(&a.shape),
                                a.origin.what,
                                self.where_from(a.origin.span, sa)
                            ),
                        )
                        .with_label(
                            sb,
                            format!(
                                "{} from {} at {}",
                                ShapeDisplay(&b.shape),
                                b.origin.what,
                                self.where_from(b.origin.span, sb)
                            ),
                        );
                        d = if verdict.is_none() {
                            d.with_help(cannot_show_help(&x, &y))
                        } else {
                            d.with_help(
                                "elementwise ops need equal sizes (or size 1, which broadcasts)",
                            )
                        };
                        self.report(d);
                        return None;
                    }
                }
                (None, None) => unreachable!(),
            };
            out.push(d);
        }
        Some(out)
    }
}

/// Help for an equality the checker cannot prove: what the difference is, and the usual fixes.
fn cannot_show_help(a: &Sym, b: &Sym) -> String {
    let diff = a
        .sub(b)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "?".into());
    format!(
        "they differ by `{diff}`, which is not 0 for every value of its symbols. Sizes must be equal for all \
         values: give the parameters involved defaults (blocks are checked again with the caller's values), \
         or guard the code with `if {a} == {b} {{ … }}`"
    )
}

/// Names of the dimensions of a rank-`r` tensor, for messages.
pub(super) fn dim_name(rank: usize, i: usize) -> String {
    match (rank, i) {
        (4, 0) | (2, 0) | (3, 0) => "batch".into(),
        (4, 1) => "channels".into(),
        (4, 2) => "height".into(),
        (4, 3) => "width".into(),
        (2, 1) | (3, 2) => "features".into(),
        (3, 1) => "tokens".into(),
        _ => format!("dim {i}"),
    }
}
