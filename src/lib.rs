//! # nasc — a compiler toolchain for neural architecture search
//!
//! The pipeline, one module per stage (each depends only on the ones before it):
//!
//! ```text
//! .nasl ──syntax──▶ AST ──check──▶ checked program (symbolic shapes, diagnostics)
//! ```
//!
//! See `ARCHITECTURE.md` for what each module owns and may use.

pub mod base;
pub mod check;
pub mod cli;
pub mod lsp;
pub mod syntax;
