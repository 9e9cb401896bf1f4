//! The syntax stage: NASL text → AST and back. The lexer ([`lexer`]) turns text into tokens and collects
//! comments; the parser facade ([`parse`]) runs the lalrpop grammar (`grammar/nasl.lalrpop`), recovers from
//! errors and attaches comments; the printer ([`printer`]) is the canonical formatter.
//!
//! **Invariants:** parsing never fails and never panics (it returns a module and diagnostics);
//! `parse(print(m)) == m`; this module knows nothing of the later stages, and no other module knows lalrpop.

pub mod ast;
mod comments;
pub mod lexer;
mod parser;
pub mod printer;

pub use parser::{parse, parse_expr, Parsed, MAX_DEPTH, MAX_NESTING};
pub use printer::{print_expr, print_module, print_type};
