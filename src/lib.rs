//! # nasc — a compiler toolchain for neural architecture search
//!
//! The pipeline, one module per stage (each depends only on the ones before it):
//!
//! ```text
//! .nasl ──syntax──▶ AST ──check──▶ checked program (symbolic shapes, diagnostics)
//!                                        └──ir──▶ op graph of one architecture (concrete shapes, paths)
//!                                                   └──props──▶ (shape, depth, mixing) on an e-graph
//!                                                               └──synth──▶ z3: target properties → NASL
//!                                                   └──lower──▶ libtorch network: train, eval, cost, export
//!                                                               (data: datasets, splits, batches)
//!                                                               └──score──▶ training-free scores
//!                                                                          └──search──▶ random search
//! ```
//!
//! See `ARCHITECTURE.md` for what each module owns and may use.

pub mod base;
pub mod check;
pub mod cli;
pub mod data;
pub mod ir;
pub mod lower;
pub mod lsp;
pub mod props;
pub mod score;
pub mod search;
pub mod syntax;
pub mod synth;
