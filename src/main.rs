//! The `nasc` executable: the front end only (`nasc_front::cli`). It links no libtorch, so `nasc check`,
//! `fmt`, `props`, `synth`, `lsp`, … start in milliseconds; the commands that run networks are handed to
//! `nasc-torch`, found beside this executable.

/// The checker allocates many small short-lived values (symbolic shapes) on a big-stack thread, where
/// glibc's per-thread arena grows in small `mprotect` steps; mimalloc halves the time of checking a
/// 10,000-line program (scripts/bench_startup.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    nasc_front::cli::main()
}
