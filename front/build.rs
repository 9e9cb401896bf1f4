//! Build script of the front end: generates the NASL parser from `grammar/nasl.lalrpop` and gives the
//! crate's test binaries an rpath to the real libz3 that `scripts/setup.sh` installs (cargo's `[env]`
//! cannot set `LD_LIBRARY_PATH`, and z3-sys adds no rpath itself).

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("front/ sits in the project root")
        .to_path_buf();
    lalrpop::Configuration::new()
        .set_in_dir(root.join("grammar"))
        .set_out_dir(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .emit_rerun_directives(true)
        .process()
        .expect("the NASL grammar must generate");

    println!("cargo:rerun-if-env-changed=Z3_LIBRARY_PATH_OVERRIDE");
    if let Some(z3) = std::env::var_os("Z3_LIBRARY_PATH_OVERRIDE").map(PathBuf::from) {
        println!(
            "cargo:rustc-link-arg=-Wl,-rpath,{}",
            canonical(&root.join(&z3)).display()
        );
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}
