//! The `nasc` executable: the front end only (`nasc_front::cli`). It links no libtorch, so `nasc check`,
//! `fmt`, `props`, `synth`, `lsp`, … start in milliseconds; the commands that run networks are handed to
//! `nasc-torch`, found beside this executable.

fn main() -> std::process::ExitCode {
    nasc_front::cli::main()
}
