//! Instance path segments: within one block instance, the n-th use of a name `h` gets the segment `h`,
//! then `h_1`, `h_2`, … (the rule of IR paths, docs/language.md). The evaluator names instances with it,
//! and tools that map source statements to IR paths (`synth::replace`) use the same rule.

use std::collections::HashMap;

/// Counts the uses of each name in one instance.
#[derive(Clone, Debug, Default)]
pub struct Segments {
    counts: HashMap<String, usize>,
}

impl Segments {
    /// The segment of the next use of `base`.
    pub fn next(&mut self, base: &str) -> String {
        let n = self.counts.entry(base.to_string()).or_insert(0);
        let s = if *n == 0 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        *n += 1;
        s
    }
}
