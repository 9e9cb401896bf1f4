//! Byte spans into a source file.

use super::FileId;

/// A byte range `[start, end)` in one source file.
///
/// Spans are **not** part of a syntax node's identity: `PartialEq` on `Span` is always true, so two ASTs that
/// differ only in where they came from compare equal (what the parse∘print round trip needs). Compare
/// positions explicitly with [`Span::range`] and [`Span::file`].
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// A span for synthesized nodes that come from no source text.
    pub fn detached() -> Span {
        Span {
            file: FileId::DETACHED,
            start: 0,
            end: 0,
        }
    }

    pub fn file(&self) -> FileId {
        self.file
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn is_detached(&self) -> bool {
        self.file == FileId::DETACHED
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn contains(&self, other: Span) -> bool {
        self.file == other.file && self.start <= other.start && other.end <= self.end
    }

    /// Whether the two spans are the same place (the `PartialEq` impl ignores positions on purpose).
    pub fn same_place(&self, other: &Span) -> bool {
        self.file == other.file && self.start == other.start && self.end == other.end
    }
}
