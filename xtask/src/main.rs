//! Project automation.
//!
//! * `cargo xtask test` — formatting, clippy (`-D warnings`), the unit and
//!   crate tests, then the integration suites.
//! * `cargo xtask integration` — the integration suites alone: as root, the
//!   suites run as root and again as an unprivileged user (uid/gid 65534 via
//!   `setpriv`); otherwise as the current user, where each privileged test
//!   prints a SKIP line.
//! * `cargo xtask bench` — vb against bubblewrap, side by side in one run;
//!   results under `target/bench/`.
//! * `cargo xtask fuzz` — the netlink parser fuzz target for a bounded time
//!   with a nightly toolchain, else the proptest suite over the seed corpus.
//! * `cargo xtask dist` — the release `vb`, statically linked (static-pie), the
//!   binary the benchmark measures.

mod bench;
mod integration;
mod run;

use anyhow::{Result, bail};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("integration") => integration::run_suites(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz(),
        Some("dist") => run::dist().map(|path| println!("{}", path.display())),
        _ => bail!("usage: cargo xtask <test|integration|bench|fuzz|dist>"),
    }
}

fn test() -> Result<()> {
    run::step("format", run::cargo(&["fmt", "--all", "--check"]))?;
    run::step(
        "clippy",
        run::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run::step(
        "unit and crate tests",
        run::cargo(&[
            "test",
            "--workspace",
            "--exclude",
            "voidbox-tests",
            "--exclude",
            "xtask",
        ]),
    )?;
    integration::run_suites()
}

fn fuzz() -> Result<()> {
    let nightly = std::process::Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let has_cargo_fuzz = std::process::Command::new("cargo")
        .args(["fuzz", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if nightly && has_cargo_fuzz {
        let mut cmd = std::process::Command::new("cargo");
        cmd.current_dir(run::root().join("fuzz")).args([
            "+nightly",
            "fuzz",
            "run",
            "parse_netlink",
            "--",
            "-max_total_time=120",
        ]);
        run::step("cargo fuzz (120 s)", cmd)
    } else {
        println!(
            "xtask: no nightly toolchain with cargo-fuzz; running the parser's corpus and property tests instead"
        );
        run::step(
            "netlink corpus and property tests",
            run::cargo(&["test", "-p", "vb-netlink", "--release"]),
        )
    }
}
