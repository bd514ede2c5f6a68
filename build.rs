//! Links the `driftlint` binary as a position-dependent executable on Linux (see the README's
//! design notes, "start-up"): a PIE of this size spends about half of a small run's user-space
//! instructions in the dynamic loader applying ~26,000 relative relocations, and copies on
//! write every page of `.data.rel.ro` they touch. The code is still compiled position
//! independent; only the final link fixes the addresses.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bin=driftlint=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
