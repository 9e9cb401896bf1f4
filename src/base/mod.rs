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

/// FNV-1a (64-bit) of a text, as 16 hex digits: a fingerprint stable across builds and platforms (of
/// canonical NASL in evolution, of a printed IR graph in a training checkpoint).
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The settings that differ between two JSON objects of settings keyed by flag, one line each:
/// `  --lr: 0.05 in the checkpoint, 0.1 now` (`saved` says where the first object came from).
pub fn differences(
    saved: &serde_json::Value,
    now: &serde_json::Value,
    saved_in: &str,
) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        saved.as_object().unwrap_or(&empty),
        now.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or("(none)".to_string(), |v| v.to_string())
                };
                format!("  {k}: {} {saved_in}, {} now", show(x), show(y))
            })
        })
        .collect()
}
