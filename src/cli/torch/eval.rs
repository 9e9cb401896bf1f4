//! `nasc eval`: trained weights on the validation, test or training split.

use super::train::prepare_run;
use super::{fail_lower, ArchArgs, RunArgs};
use std::process::ExitCode;

pub(super) fn run(
    arch: &ArchArgs,
    run: &RunArgs,
    weights: &std::path::Path,
    part: &str,
    json: bool,
) -> ExitCode {
    let mut s = match prepare_run(arch, run, false, None) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(e) = s.load(weights) {
        return fail_lower(&e, &s.sources);
    }
    let p = match part {
        "val" => crate::data::Part::Val,
        "train" => crate::data::Part::Train,
        _ => crate::data::Part::Test,
    };
    match s.evaluate(p, run.batch) {
        Ok(ev) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&ev).unwrap_or_default());
            } else {
                println!(
                    "{part} accuracy: {:.2}% ({} images), loss {:.4}, {:.1} s",
                    100.0 * ev.accuracy,
                    ev.images,
                    ev.loss,
                    ev.seconds
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail_lower(&e, &s.sources),
    }
}
