//! The rustc command line that builds `vb-init` (`init/main.rs`): shared by
//! `build.rs`, which builds it for the crate's target, and by
//! `tests/vb_init.rs`, which also builds it for another architecture to run
//! under emulation. One list, so the program the tests run is built as the
//! one the library carries.

use std::ffi::OsString;
use std::path::Path;

/// The arguments that make rustc build `source` into `output`, a static
/// executable for `target` without a C library, linked by `linker` when
/// given (else rustc's default for the target).
pub(crate) fn rustc_args(
    target: &str,
    source: &Path,
    output: &Path,
    linker: Option<&str>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--edition",
        "2024",
        "--crate-type",
        "bin",
        "--crate-name",
        "vb_init",
        "--target",
        target,
        "-C",
        "panic=abort",
        "-C",
        "opt-level=s",
        "-C",
        "debuginfo=0",
        "-C",
        "relocation-model=static",
        "-C",
        "target-feature=+crt-static",
        "-C",
        "link-arg=-nostartfiles",
        "-C",
        "link-arg=-nostdlib",
        "-C",
        "link-arg=-static",
        "-C",
        "strip=symbols",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    if target.contains("-musl") {
        // Not the target's own start files and C library: the program has
        // its own entry point. (On glibc targets the C compiler that links
        // adds them, and -nostartfiles -nostdlib keep it from doing so; the
        // linker rustc picks there must stay as it is.)
        args.extend(["-C", "link-self-contained=no"].map(OsString::from));
    }
    if let Some(linker) = linker {
        args.push("-C".into());
        args.push(format!("linker={linker}").into());
    }
    args.push("-o".into());
    args.push(output.into());
    args.push(source.into());
    args
}
