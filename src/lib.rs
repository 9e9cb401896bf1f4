//! # nasc — a compiler toolchain for neural architecture search
//!
//! The pipeline, one module per stage (each depends only on the ones before it):
//!
//! ```text
//! .nasl ──syntax──▶ AST ──check──▶ checked program (symbolic shapes, diagnostics)
//!                                        └──ir──▶ op graph of one architecture (concrete shapes, paths)
//!        driver: path or text → checked program → graph
//!                                                   └──props──▶ (shape, depth, mixing) on an e-graph
//!                                                               └──synth──▶ z3: target properties → NASL
//!  ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ above: crate `nasc_front` (no libtorch); below: libtorch ─ ─
//!                                                   └──lower──▶ libtorch network: train, eval, export
//!                                                               (data: datasets, splits, batches)
//!                                                               └──score──▶ training-free scores
//!                                   store (run history, SQLite) · exec (evaluation jobs, executors)
//!                                                                          └──search──▶ drivers
//! ```
//!
//! This crate re-exports the front end (`nasc_front`) under the same module names, so `nasc::check`,
//! `nasc::ir`, … are the front end's, and adds the stages that run on libtorch. Two executables: `nasc`
//! (the front end only; it hands `train`, `eval`, `export`, `bench`, `score` and `search` to the second)
//! and `nasc-torch` (every command). See `ARCHITECTURE.md` for what each module owns and may use.

pub use nasc_front::{base, check, driver, ir, lsp, props, syntax, synth};

pub mod data;
pub mod exec;
pub mod lower;
pub mod score;
pub mod search;
pub mod store;

/// The commands that run on libtorch (the `nasc-torch` executable); the rest of the command line —
/// arguments, rendering, the commands that need no libtorch — is the front end's `cli`, re-exported here.
#[path = "cli/torch/mod.rs"]
pub mod cli;
