//! Project automation.
//!
//! * `cargo xtask test` — the ceiling on `vb`'s dependency crates, formatting,
//!   clippy (`-D warnings`), the unit and crate tests, vb-proc's aarch64 code
//!   under qemu-aarch64 (or a `SKIP aarch64` line saying what is missing),
//!   then the integration suites.
//! * `cargo xtask aarch64` — that aarch64 step alone, with vb-proc's vb-init
//!   tests.
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
//! * `cargo xtask gen-cli-docs` — write the files rendered from vb's option
//!   table: `docs/vb.1` and the bash and zsh completions under `completions/`.

mod aarch64;
mod bench;
mod deps;
mod integration;
mod run;

use anyhow::{Context, Result, bail};

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
        Some("aarch64") => aarch64::alone(),
        Some("integration") => integration::run_suites(),
        Some("bench") => bench::run(&args[1..]),
        // The release build's half of `bench` (the in-process figures).
        Some("bench-in-process") => bench::print_in_process(&args[1..]),
        Some("fuzz") => fuzz(),
        Some("dist") => run::dist().map(|path| println!("{}", path.display())),
        Some("gen-cli-docs") => gen_cli_docs(),
        _ => bail!("usage: cargo xtask <test|aarch64|integration|bench|fuzz|dist|gen-cli-docs>"),
    }
}

fn test() -> Result<()> {
    deps::check()?;
    run::step("format", run::cargo(&["fmt", "--all", "--check"]))?;
    run::step(
        "clippy",
        run::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--examples",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // Every public item documented, every intra-doc link resolving.
    let mut doc = run::cargo(&["doc", "--workspace", "--no-deps"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    run::step("documentation", doc)?;
    // The library crates package as they would be published, and each
    // package builds on its own (the workspace crates are packaged together,
    // so they find each other unpublished).
    // The library as an embedder usually builds it: for the host's glibc
    // target (the workspace's own programs are musl ones). vb-proc's build
    // script links the vb-init program differently for each.
    let host = run::host_triple()?;
    if run::build_target()? != host {
        run::step(
            &format!("the library for {host}"),
            run::cargo(&["build", "-p", "voidbox", "--target", &host]),
        )?;
    }
    let verify_dir = forget_packaged_sources()?;
    let mut package = run::cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "voidbox-tests",
        "--exclude",
        "xtask",
        "--allow-dirty",
    ]);
    package.env("CARGO_TARGET_DIR", verify_dir);
    run::step("packaging", package)?;
    let mut unit = run::cargo(&[
        "test",
        "--workspace",
        "--exclude",
        "voidbox-tests",
        "--exclude",
        "xtask",
    ]);
    // vb-proc's tests run vb-init's aarch64 build under qemu when they can;
    // with the tools here, not being able to is a failure.
    let aarch64 = aarch64::probe();
    if aarch64.is_ok() {
        unit.env(aarch64::REQUIRE_VAR, "require");
    }
    run::step("unit and crate tests", unit)?;
    match &aarch64 {
        Ok(tools) => aarch64::run(tools)?,
        Err(reason) => println!("SKIP aarch64: {reason}"),
    }
    integration::run_suites()
}

/// The workspace's publishable crates.
const PACKAGED: [&str; 7] = [
    "vb-netlink",
    "vb-fs",
    "vb-cgroup",
    "vb-net",
    "vb-proc",
    "voidbox",
    "vb-cli",
];

/// Remove the previous packaging's build directory, and this workspace's
/// crates from cargo's extracted-source cache of local registries. `cargo package` verifies each package against the
/// others through a temporary local registry, and cargo extracts a crate of
/// a given version there once: a later run would build against the sources
/// of an earlier one. Only our own crates, only local registries (whose
/// directory names start with `-`), are touched.
fn forget_packaged_sources() -> Result<std::path::PathBuf> {
    // The verification builds go to a target directory of their own, where
    // every one of our crates comes from the temporary registry: cargo takes
    // a registry crate of a given version as unchanging and would reuse what
    // it built from an earlier run's sources, so ours are removed from it.
    let verify_dir = run::target_dir().join("package-verify");
    let tuple = run::build_target()?;
    // Outputs go under the host's tuple (see .cargo/config.toml); the plain
    // layout is cleared too, for a build that overrides the target.
    let subs = ["package".to_owned()].into_iter().chain(
        ["debug".to_owned(), format!("{tuple}/debug")]
            .into_iter()
            .flat_map(|p| [".fingerprint", "deps", "build"].map(|d| format!("{p}/{d}"))),
    );
    for sub in subs {
        let Ok(entries) = std::fs::read_dir(verify_dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = PACKAGED.iter().any(|p| {
                let lib = p.replace('-', "_");
                [p.to_string(), lib.clone(), format!("lib{lib}")]
                    .iter()
                    .any(|stem| {
                        name.strip_prefix(stem.as_str())
                            .is_some_and(|r| r.starts_with('-'))
                    })
            });
            if ours {
                let path = entry.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
        }
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")) else {
        return Ok(verify_dir);
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return Ok(verify_dir);
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for krate in std::fs::read_dir(registry.path())?.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            let ours = PACKAGED.iter().any(|p| {
                name.strip_prefix(p)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(krate.path())?;
            }
        }
    }
    Ok(verify_dir)
}

/// Write the man page and completions rendered from vb's option table (a
/// vb-cli test fails while the committed copies differ).
fn gen_cli_docs() -> Result<()> {
    let root = run::root();
    for file in vb_cli::generated_files() {
        let path = root.join(file.path);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents) {
            println!("xtask: {} is up to date", file.path);
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("xtask: wrote {}", file.path);
    }
    Ok(())
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
