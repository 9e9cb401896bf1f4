//! Rendering diagnostics for people (miette's graphical reports, with source snippets) and for programs
//! (JSON). The only place that turns a `Diagnostic` into text.

use crate::base::{Diagnostic, Severity, SourceMap};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt;

struct Report<'a> {
    d: &'a Diagnostic,
    src: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    notes: String,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{}({})",
            self.d.code.id(),
            self.d.code.slug()
        )))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut h = String::new();
        if let Some(help) = &self.d.help {
            h.push_str(help);
        }
        if !self.notes.is_empty() {
            if !h.is_empty() {
                h.push('\n');
            }
            h.push_str(&self.notes);
        }
        (!h.is_empty()).then(|| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.labels.is_empty()).then_some(&self.src as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| {
            Box::new(self.labels.clone().into_iter()) as Box<dyn Iterator<Item = LabeledSpan>>
        })
    }
}

/// `path:line:col` of a diagnostic's primary span.
pub fn location(d: &Diagnostic, sources: &SourceMap) -> Option<String> {
    let s = d.span()?;
    let f = sources.get(s.file)?;
    let lc = f.line_col(s.start as usize);
    Some(format!(
        "{}:{}:{}",
        crate::check::program::display_path(&f.path),
        lc.line,
        lc.col
    ))
}

/// Renders one diagnostic as a graphical report. `color` selects ANSI colours.
pub fn render_text(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let primary = d
        .span()
        .and_then(|s| sources.get(s.file).map(|f| (s.file, f)));
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    let mut src = NamedSource::new("<no source>", String::new());
    if let Some((fid, f)) = primary {
        src = NamedSource::new(crate::check::program::display_path(&f.path), f.text.clone());
        for (i, l) in d.labels.iter().enumerate() {
            if l.span.file == fid {
                let len = l.span.range().len();
                let ls = if i == 0 {
                    LabeledSpan::new_primary_with_span(
                        Some(l.text.clone()),
                        (l.span.start as usize, len),
                    )
                } else {
                    LabeledSpan::new_with_span(Some(l.text.clone()), (l.span.start as usize, len))
                };
                labels.push(ls);
            } else if let Some(of) = sources.get(l.span.file) {
                let lc = of.line_col(l.span.start as usize);
                notes.push(format!(
                    "note: {}:{}:{}: {}",
                    crate::check::program::display_path(&of.path),
                    lc.line,
                    lc.col,
                    l.text
                ));
            }
        }
    }
    for n in &d.notes {
        notes.push(format!("note: {n}"));
    }
    let report = Report {
        d,
        src,
        labels,
        notes: notes.join("\n"),
    };
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(110)
        .with_links(false);
    let mut out = String::new();
    if let Some(loc) = location(d, sources) {
        out.push_str(&format!("{loc}: "));
    }
    out.push_str(&format!(
        "{} {}\n",
        match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        d.code.id()
    ));
    let _ = handler.render_report(&mut out, &report);
    out
}

/// A diagnostic as JSON: positions are 1-based lines and columns (and byte offsets).
pub fn to_json(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let pos = |span: crate::base::Span| -> serde_json::Value {
        match sources.get(span.file) {
            Some(f) => {
                let a = f.line_col(span.start as usize);
                let b = f.line_col(span.end as usize);
                serde_json::json!({
                    "file": crate::check::program::display_path(&f.path),
                    "line": a.line, "column": a.col, "end_line": b.line, "end_column": b.col,
                    "offset": span.start, "length": span.end - span.start,
                })
            }
            None => serde_json::Value::Null,
        }
    };
    serde_json::json!({
        "code": d.code.id(),
        "name": d.code.slug(),
        "severity": d.severity,
        "message": d.message,
        "location": d.span().map(pos),
        "labels": d.labels.iter().map(|l| serde_json::json!({"text": l.text, "location": pos(l.span)})).collect::<Vec<_>>(),
        "help": d.help,
        "notes": d.notes,
    })
}
