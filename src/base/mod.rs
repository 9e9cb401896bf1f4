//! Shared foundations of every stage: byte spans, the source map (files and line/column lookup), and the one
//! `Diagnostic` type with its stable codes. Diagnostics are data; they are rendered only at the edges
//! (`cli` prints them as text or JSON, `lsp` converts them to the protocol).

mod diagnostic;
pub mod fs;
mod source;
mod span;

pub use diagnostic::{Code, Diagnostic, Label, Severity};
pub use source::{FileId, LineCol, SourceFile, SourceMap};
pub use span::Span;
