//! Where each value of a JSON text is: a map from JSON paths (`outputs[0].shape[2]`,
//! `constraints.ops`) to byte ranges, so that an error about a target's field points at that field's
//! line and column (serde reports neither the path nor, for a type error, the start of the value).
//!
//! The scanner runs on text that `serde_json` has already accepted; on anything else it stops early and
//! returns the spans found so far (it never fails or panics).

use std::ops::Range;

/// One value of the text: its JSON path (`""` for the whole document) and its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub path: String,
    pub range: Range<usize>,
    /// For an object member, the range of its key (with the quotes).
    pub key: Option<Range<usize>>,
}

/// The spans of every value in `text`, in document order (a parent before its children).
pub fn spans(text: &str) -> Vec<Span> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
        out: Vec::new(),
    };
    s.value(String::new(), None, 0);
    s.out
}

/// The span of `path`, or of its longest prefix that is in the text (a missing field's parent).
pub fn find<'a>(spans: &'a [Span], path: &str) -> Option<&'a Span> {
    let mut p = path;
    loop {
        if let Some(s) = spans.iter().find(|s| s.path == p) {
            return Some(s);
        }
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
    }
}

/// The innermost value whose range holds byte `at` (serde's error offsets point inside or just past
/// the offending value).
pub fn innermost(spans: &[Span], at: usize) -> Option<&Span> {
    spans
        .iter()
        .filter(|s| s.range.start <= at && at <= s.range.end)
        .min_by_key(|s| s.range.len())
}

/// 1-based line and column (in characters) of byte `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..floor_char(text, at)];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The byte offset of a 1-based line and column (as serde_json reports them).
pub fn offset(text: &str, line: usize, col: usize) -> usize {
    let mut at = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let c: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return at + c;
        }
        at += l.len();
    }
    text.len()
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<Span>,
}

const MAX_DEPTH: usize = 128;

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Scans one value at the cursor; false when the text is not JSON here.
    fn value(&mut self, path: String, key: Option<Range<usize>>, depth: usize) -> bool {
        self.ws();
        let start = self.i;
        let slot = self.out.len();
        self.out.push(Span {
            path: path.clone(),
            range: start..start,
            key,
        });
        let ok = match self.peek() {
            Some(b'{') if depth < MAX_DEPTH => self.object(&path, depth),
            Some(b'[') if depth < MAX_DEPTH => self.array(&path, depth),
            Some(b'"') => self.string().is_some(),
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b']' | b'}')
                    && !self.b[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                self.i > start
            }
            None => false,
        };
        self.out[slot].range = start..self.i;
        ok
    }

    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(start..self.i);
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn object(&mut self, path: &str, depth: usize) -> bool {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return true;
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return false;
            }
            let Some(k) = self.string() else {
                return false;
            };
            let raw = &self.b[k.start + 1..k.end - 1];
            let name: String = serde_json::from_slice::<String>(&self.b[k.clone()])
                .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned());
            self.ws();
            if self.peek() != Some(b':') {
                return false;
            }
            self.i += 1;
            let child = if path.is_empty() {
                name
            } else {
                format!("{path}.{name}")
            };
            if !self.value(child, Some(k), depth + 1) {
                return false;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn array(&mut self, path: &str, depth: usize) -> bool {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return true;
        }
        let mut n = 0;
        loop {
            if !self.value(format!("{path}[{n}]"), None, depth + 1) {
                return false;
            }
            n += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "{\n  \"inputs\": [{\"name\": \"x\", \"shape\": [1, 8]}],\n  \"outputs\": [\n    {\"name\": \"y\", \"shape\": [1, \"é\", 4]}\n  ],\n  \"constraints\": {\"ops\": [\"relu\"]}\n}";

    #[test]
    fn paths_point_at_their_values() {
        let s = spans(T);
        let at = |p: &str| {
            let sp = find(&s, p).unwrap();
            line_col(T, sp.range.start)
        };
        assert_eq!(at(""), (1, 1));
        assert_eq!(at("inputs[0].shape[1]"), (2, 41));
        assert_eq!(at("outputs[0].shape[2]"), (4, 37));
        assert_eq!(at("constraints.ops[0]"), (6, 27));
        // a missing field: its parent
        assert_eq!(find(&s, "constraints.max_ops").unwrap().path, "constraints");
        let v = find(&s, "outputs[0].shape[1]").unwrap();
        assert_eq!(&T[v.range.clone()], "\"é\"");
        assert_eq!(
            innermost(&s, v.range.end).unwrap().path,
            "outputs[0].shape[1]"
        );
    }

    #[test]
    fn offsets_round_trip_and_bad_text_stops_quietly() {
        for at in [0, 5, 40, T.len()] {
            let (l, c) = line_col(T, at);
            assert_eq!(offset(T, l, c), at);
        }
        for bad in ["", "{", "[1,", "{\"a\" 1}", "\"abc", &"[".repeat(1000)] {
            let _ = spans(bad);
        }
    }
}
