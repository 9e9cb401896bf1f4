//! The `nasc-torch` executable: every `nasc` command, including those that run networks on libtorch.
//! Users run `nasc`, which hands the libtorch commands (`train`, `eval`, `export`, `bench`, `score`,
//! `search`) to this executable with the same arguments.

fn main() -> std::process::ExitCode {
    nasc::cli::main()
}
