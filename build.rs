//! Build script: generates the NASL parser from `grammar/nasl.lalrpop`, and gives the binaries an rpath to
//! the real libtorch and libz3 that `scripts/setup.sh` installs (cargo's `[env]` cannot set
//! `LD_LIBRARY_PATH`, and tch/z3-sys add no rpath themselves).

use std::path::{Path, PathBuf};

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .set_in_dir("grammar")
        .emit_rerun_directives(true)
        .process()
        .expect("the NASL grammar must generate");

    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=Z3_LIBRARY_PATH_OVERRIDE");
    if let Some(torch) = std::env::var_os("LIBTORCH").map(PathBuf::from) {
        let lib = canonical(&torch.join("lib"));
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        // `--as-needed` would drop libtorch_cuda.so (nothing references it by symbol): keep it so that
        // a binary sees the GPU where one exists.
        if lib.join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg=-L{}", lib.display());
            println!("cargo:rustc-link-arg=-ltorch_cuda");
            println!("cargo:rustc-link-arg=-Wl,--as-needed");
        }
    }
    if let Some(z3) = std::env::var_os("Z3_LIBRARY_PATH_OVERRIDE").map(PathBuf::from) {
        println!(
            "cargo:rustc-link-arg=-Wl,-rpath,{}",
            canonical(&z3).display()
        );
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}
