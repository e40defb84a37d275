//! Builds the capture app's credential checks (`crates/domain-wasm`) for
//! `wasm32-unknown-unknown`, so that `pwa.rs` can embed them with `include_bytes!`.
//!
//! A nested cargo with its own target directory under `OUT_DIR`: the outer build holds
//! the lock of the workspace's target directory, so sharing it would deadlock.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir.join("../..");
    for watched in [
        "crates/domain/src",
        "crates/domain/Cargo.toml",
        "crates/domain-wasm/src",
        "crates/domain-wasm/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let target_dir = out_dir.join("wasm-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--locked",
            "--package",
            "apoyo-domain-wasm",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
            "--target-dir",
        ])
        .arg(&target_dir)
        // Small rather than fast: the module is downloaded by phones on slow links.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        // What the outer cargo passes to build scripts must not leak into the inner build
        // (host flags, clippy as the compiler, another target directory).
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CLIPPY_ARGS")
        .env_remove("CARGO_PRIMARY_PACKAGE");
    let status = command.status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!(
            "building crates/domain-wasm for wasm32-unknown-unknown failed ({s}). \
             Is the target installed? `rustup target add wasm32-unknown-unknown` \
             (rust-toolchain.toml asks rustup for it)"
        )),
        Err(e) => fail(&format!(
            "cannot run cargo to build crates/domain-wasm: {e}"
        )),
    }
    let wasm = target_dir.join("wasm32-unknown-unknown/release/apoyo_domain_wasm.wasm");
    if !wasm.is_file() {
        fail(&format!("{} was not produced", wasm.display()));
    }
    // Not `APOYO_*`: cargo also sets this variable when it runs the crate's tests, and the
    // configuration refuses unknown `APOYO_*` variables.
    println!("cargo:rustc-env=PWA_CHECKS_WASM={}", wasm.display());
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
