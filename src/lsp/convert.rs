//! The one place where compiler values and protocol values meet (in the manner of rust-analyzer's
//! `from_proto` / `to_proto`). LSP positions are 0-based lines and UTF-16 columns; the compiler's are byte
//! offsets, so every position goes through [`offset`] or [`position`], which use the source map's UTF-16
//! helpers. URIs become paths here and only here.

use super::analysis::{Completion, CompletionKind, Symbol, SymbolKind};
use crate::base::{Code, Diagnostic, FileId, Severity, SourceFile, SourceMap, Span};
use lsp_types as lsp;
use std::path::{Path, PathBuf};
use std::str::FromStr;

// ----- from the protocol ----------------------------------------------------------------------------

/// The file a URI names. `file:` URIs are decoded to their path; other schemes (an unsaved buffer) get a
/// stand-in path made of the whole URI, so that the document still has an identity.
pub fn uri_to_path(uri: &lsp::Uri) -> PathBuf {
    let s = uri.as_str();
    let Some(rest) = s.strip_prefix("file://") else {
        return PathBuf::from(s);
    };
    // skip the authority (empty or `localhost`)
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    PathBuf::from(percent_decode(path))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte offset of an LSP position in a file (clamped into the file, on a character boundary).
pub fn offset(file: &SourceFile, p: lsp::Position) -> usize {
    file.offset_utf16(p.line as usize, p.character as usize)
}

/// Applies one `didChange` content change to a document's text: a range edit (UTF-16 positions, ends
/// clamped, reversed ranges tolerated) or, without a range, a replacement of the whole text.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let file = SourceFile::new(PathBuf::new(), std::mem::take(text));
    let (a, b) = (offset(&file, range.start), offset(&file, range.end));
    *text = file.text;
    text.replace_range(a.min(b)..a.max(b), &change.text);
}

// ----- to the protocol ------------------------------------------------------------------------------

/// A `file:` URI for a path (made absolute; bytes outside the unreserved set percent-encoded).
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut s = String::from("file://");
    for &c in abs.to_string_lossy().as_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~/".contains(&c) {
            s.push(c as char);
        } else {
            s.push_str(&format!("%{c:02X}"));
        }
    }
    lsp::Uri::from_str(&s).ok()
}

pub fn position(file: &SourceFile, offset: usize) -> lsp::Position {
    let (line, col) = file.position_utf16(offset);
    lsp::Position::new(line as u32, col as u32)
}

pub fn range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(
        position(file, span.start as usize),
        position(file, span.end as usize),
    )
}

/// The range of a whole text.
pub fn whole(file: &SourceFile) -> lsp::Range {
    lsp::Range::new(lsp::Position::new(0, 0), position(file, file.text.len()))
}

/// Finds the URI of a file of the program (the document's own URI for its file).
pub type UriOf<'a> = dyn Fn(FileId) -> Option<lsp::Uri> + 'a;

pub fn location(sources: &SourceMap, span: Span, uri_of: &UriOf) -> Option<lsp::Location> {
    let file = sources.get(span.file)?;
    Some(lsp::Location::new(uri_of(span.file)?, range(file, span)))
}

/// A checker diagnostic: same code, message and severity; the primary label gives the range, the other
/// labels (with their files) become related information, and so do the help and the notes (at the primary
/// range). Unused-something warnings are tagged `Unnecessary`.
pub fn diagnostic(d: &Diagnostic, sources: &SourceMap, uri_of: &UriOf) -> Option<lsp::Diagnostic> {
    let primary = d.labels.first()?;
    let file = sources.get(primary.span.file)?;
    let here = location(sources, primary.span, uri_of);
    let mut related: Vec<lsp::DiagnosticRelatedInformation> = d.labels[1..]
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(sources, l.span, uri_of)?,
                message: l.text.clone(),
            })
        })
        .collect();
    if let Some(loc) = here {
        let extra = d
            .help
            .iter()
            .map(|h| format!("help: {h}"))
            .chain(d.notes.iter().map(|n| format!("note: {n}")));
        related.extend(extra.map(|message| lsp::DiagnosticRelatedInformation {
            location: loc.clone(),
            message,
        }));
    }
    let unnecessary = matches!(
        d.code,
        Code::UnusedBinding | Code::UnusedImport | Code::UnusedParameter
    );
    Some(lsp::Diagnostic {
        range: range(file, primary.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id().to_string())),
        code_description: None,
        source: Some("nasc".to_string()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        data: None,
    })
}

pub fn hover(file: &SourceFile, span: Span, markdown: String) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(range(file, span)),
    }
}

pub fn document_symbols(file: &SourceFile, symbols: Vec<Symbol>) -> Vec<lsp::DocumentSymbol> {
    symbols
        .into_iter()
        .map(|s| {
            #[expect(deprecated, reason = "the field must be given; it is None")]
            lsp::DocumentSymbol {
                name: s.name,
                detail: s.detail,
                kind: match s.kind {
                    SymbolKind::Block => lsp::SymbolKind::FUNCTION,
                    SymbolKind::Network => lsp::SymbolKind::CLASS,
                    SymbolKind::Let => lsp::SymbolKind::VARIABLE,
                },
                tags: None,
                deprecated: None,
                range: range(file, s.span),
                selection_range: range(file, s.name_span),
                children: (!s.children.is_empty()).then(|| document_symbols(file, s.children)),
            }
        })
        .collect()
}

pub fn completion_items(items: Vec<Completion>) -> Vec<lsp::CompletionItem> {
    items
        .into_iter()
        .map(|c| {
            let (kind, rank) = match c.kind {
                CompletionKind::Argument => (lsp::CompletionItemKind::FIELD, 0),
                CompletionKind::Local => (lsp::CompletionItemKind::VARIABLE, 1),
                CompletionKind::Block => (lsp::CompletionItemKind::FUNCTION, 2),
                CompletionKind::Network => (lsp::CompletionItemKind::CLASS, 2),
                CompletionKind::Module => (lsp::CompletionItemKind::MODULE, 3),
                CompletionKind::Op => (lsp::CompletionItemKind::FUNCTION, 4),
                CompletionKind::Keyword => (lsp::CompletionItemKind::KEYWORD, 5),
            };
            lsp::CompletionItem {
                sort_text: Some(format!("{rank}{}", c.label)),
                label: c.label,
                kind: Some(kind),
                detail: c.detail,
                documentation: c.doc.map(|d| {
                    lsp::Documentation::MarkupContent(lsp::MarkupContent {
                        kind: lsp::MarkupKind::Markdown,
                        value: d,
                    })
                }),
                insert_text: c.insert,
                ..Default::default()
            }
        })
        .collect()
}

/// The edits that turn a document into its formatted text: none when it is already formatted, else one
/// edit replacing the whole text.
pub fn formatting(file: &SourceFile, formatted: String) -> Vec<lsp::TextEdit> {
    if formatted == file.text {
        return Vec::new();
    }
    vec![lsp::TextEdit {
        range: whole(file),
        new_text: formatted,
    }]
}

/// What the server can do.
pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                    lsp::SaveOptions {
                        include_text: Some(false),
                    },
                )),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "(".into(), ",".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        ..Default::default()
    }
}
