//! # nasc front end (crate `nasc_front`) — everything of nasc that needs no tensor library
//!
//! The stages from NASL text to synthesized programs, one module per stage (each depends only on the
//! ones before it), and the two edges:
//!
//! ```text
//! .nasl ──syntax──▶ AST ──check──▶ checked program (symbolic shapes, diagnostics)
//!                                        └──ir──▶ op graph of one architecture (concrete shapes, paths,
//!                                                 params/MACs/memory: ir::cost)
//!        driver: path or text → checked program → graph (the one front-end pipeline)
//!                                                   └──props──▶ (shape, depth, mixing) on an e-graph
//!                                                               └──synth──▶ z3: target properties → NASL
//! edges: lsp (the language server) · cli (arguments, rendering, exit codes; hands the libtorch commands
//!        to `nasc-torch`)
//! ```
//!
//! The stages that run networks (data, lower, score, exec, store, search) are in the root crate `nasc`,
//! which re-exports this one: `nasc::check` is `nasc_front::check`. The `nasc` executable links this crate
//! only, so `nasc check` never loads libtorch. See `ARCHITECTURE.md`.

pub mod base;
pub mod check;
pub mod cli;
pub mod driver;
pub mod ir;
pub mod lsp;
pub mod props;
pub mod syntax;
pub mod synth;
