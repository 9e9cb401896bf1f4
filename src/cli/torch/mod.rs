//! The commands that run networks on libtorch — `train`, `eval`, `export`, `bench`, `score`, `search` —
//! one file each: the `nasc-torch` executable's side of the command line. Arguments are parsed by the
//! front end's `cli` (re-exported here with its helpers), which hands these commands over; any other
//! command runs as the front end runs it.

mod bench;
mod eval;
mod evolve;
mod export;
mod score;
mod search;
mod supernet;
mod train;

pub use nasc_front::cli::*;

use clap::Parser;
use std::process::ExitCode;

/// Entry point of the `nasc-torch` executable.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse_from(std::env::args_os());
    crate::check::with_big_stack(move || run(cli))
}

/// Runs a parsed command line: every command.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Train {
            arch,
            run,
            epochs,
            lr,
            optimizer,
            schedule,
            weight_decay,
            augment,
            amp,
            limit,
            max_steps,
            save,
            weights,
            checkpoint_dir,
            resume,
            json,
        } => {
            use crate::lower::train::{OptimizerKind, Schedule, TrainConfig};
            let kind = if optimizer == "adamw" {
                OptimizerKind::AdamW
            } else {
                OptimizerKind::Sgd
            };
            let cfg = TrainConfig {
                epochs,
                batch: run.batch,
                schedule: if schedule == "constant" {
                    Schedule::Constant
                } else {
                    Schedule::Cosine
                },
                amp,
                max_steps,
                ..TrainConfig::for_optimizer(kind, lr, weight_decay)
            };
            train::run(
                &arch,
                &run,
                &cfg,
                augment,
                limit,
                &train::Files {
                    save: save.as_deref(),
                    weights: weights.as_deref(),
                    checkpoint_dir: checkpoint_dir.as_deref(),
                    resume: resume.as_deref(),
                },
                json,
            )
        }
        Command::Bench {
            arch,
            batch,
            steps,
            warmup,
            device,
            threads,
            quiet,
        } => bench::run(&arch, batch, steps, warmup, &device, threads, quiet),

        Command::Export {
            arch,
            torchscript,
            pytorch,
            weights,
            batch,
            seed,
        } => export::run(
            &arch,
            torchscript.as_deref(),
            pytorch.as_deref(),
            weights.as_deref(),
            batch,
            seed,
        ),
        Command::Eval {
            arch,
            run,
            weights,
            part,
            json,
        } => eval::run(&arch, &run, &weights, &part, json),
        Command::Score(a) => score::run(&a),
        Command::Search(c) => search::run(&c),
        Command::Supernet(c) => supernet::run(&c),
        command => nasc_front::cli::run(Cli { command }),
    }
}

/// Prints a lowering error (a diagnostic at the node's span when it has one); exit 2.
pub(crate) fn fail_lower(
    e: &crate::lower::LowerError,
    sources: &crate::base::SourceMap,
) -> ExitCode {
    match e.to_diagnostic() {
        Some(d) => print_diagnostics(std::slice::from_ref(&d), sources, false),
        None => eprintln!("error: {e}"),
    }
    ExitCode::from(2)
}
