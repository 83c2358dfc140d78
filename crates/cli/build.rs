//! Link flags of the `dso` binary.
//!
//! On GNU/Linux the executable's relative relocations (about 47,000: every
//! pointer in its static data) are packed in the compact RELR form
//! (`-z pack-relative-relocs`, glibc 2.36 and later): the table shrinks from
//! 1.1 MB, which the dynamic loader reads at every start, to 14 kB. Every
//! command starts faster (bench/RESULTS.md); ASLR is unchanged.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
