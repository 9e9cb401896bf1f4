//! The `nasc` binary: everything happens in `nasc::cli`.

fn main() -> std::process::ExitCode {
    nasc::cli::main()
}
