//! The integration suites of the `voidbox-tests` crate, as root and as an
//! unprivileged user.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run::{cargo, is_root, step};

/// The uid/gid the unprivileged pass runs as.
const NOBODY: &str = "65534";

/// Build `vb` and the suites; return `(vb path, test binaries)`.
fn build() -> Result<(PathBuf, Vec<PathBuf>)> {
    step("build vb", cargo(&["build", "-p", "vb-cli"]))?;
    // The library's examples, which suites run as programs.
    step(
        "build the examples",
        cargo(&["build", "-p", "voidbox", "--examples"]),
    )?;
    let out = cargo(&[
        "test",
        "-p",
        "voidbox-tests",
        "--no-run",
        "--message-format=json",
    ])
    .stderr(std::process::Stdio::inherit())
    .output()
    .context("building the integration suites")?;
    if !out.status.success() {
        bail!("building the integration suites failed");
    }
    let mut bins = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // Cargo's JSON messages: pick test executables of voidbox-tests.
        if !line.contains("\"reason\":\"compiler-artifact\"") || !line.contains("voidbox-tests") {
            continue;
        }
        if let Some(exe) = json_string(line, "executable")
            && line.contains("\"test\":true")
        {
            bins.push(PathBuf::from(exe));
        }
    }
    bins.sort();
    let vb = crate::run::profile_dir("debug")?.join("vb");
    Ok((vb, bins))
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths
/// contain no escaped quotes on the systems this runs on).
fn json_string(line: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\":\"");
    let start = line.find(&needle)? + needle.len();
    let end = line[start..].find('"')? + start;
    Some(line[start..end].replace("\\\\", "\\"))
}

/// The voidbox crate's example programs, as built.
fn example_programs() -> Result<Vec<PathBuf>> {
    let built = crate::run::profile_dir("debug")?.join("examples");
    let sources = crate::run::root().join("crates/voidbox/examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&sources).context("listing the examples")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            out.push(built.join(stem));
        }
    }
    out.sort();
    Ok(out)
}

fn suite_command(bin: &Path, vb: &Path, examples: &Path, unprivileged: bool) -> Command {
    let mut cmd = if unprivileged {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
        ])
        .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.env("VB_BIN", vb)
        .env("VB_EXAMPLES", examples)
        .current_dir("/");
    cmd
}

/// A copy of `files` in a fresh world-readable directory, so the unprivileged
/// pass can execute them wherever the checkout lives.
fn stage_for_nobody(files: &[PathBuf]) -> Result<(PathBuf, Vec<PathBuf>)> {
    let dir = std::env::temp_dir().join(format!("voidbox-unpriv-{}", std::process::id()));
    stage_for_nobody_in(&dir, files)
}

/// [`stage_for_nobody`] into `dir`.
fn stage_for_nobody_in(dir: &Path, files: &[PathBuf]) -> Result<(PathBuf, Vec<PathBuf>)> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir.to_path_buf();
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().context("binary without a name")?;
        let dest = dir.join(name);
        std::fs::copy(f, &dest).with_context(|| format!("copying {}", f.display()))?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))?;
        out.push(dest);
    }
    Ok((dir, out))
}

/// Run every suite.
pub(crate) fn run_suites() -> Result<()> {
    let (vb, bins) = build()?;
    let examples = example_programs()?;
    let examples_dir = crate::run::profile_dir("debug")?.join("examples");
    if bins.is_empty() {
        bail!("no integration suites found");
    }
    let mut failed = Vec::new();
    for bin in &bins {
        let name = bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let who = if is_root() { "root" } else { "current user" };
        if step(
            &format!("suite {name} as {who}"),
            suite_command(bin, &vb, &examples_dir, false),
        )
        .is_err()
        {
            failed.push(format!("{name} ({who})"));
        }
    }
    if is_root() {
        let mut files = bins.clone();
        files.push(vb.clone());
        let (dir, staged) = stage_for_nobody(&files)?;
        let (staged_bins, staged_vb) = staged.split_at(staged.len() - 1);
        let (staged_examples, _) = stage_for_nobody_in(&dir.join("examples"), &examples)?;
        for bin in staged_bins {
            let name = bin
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if step(
                &format!("suite {name} as uid {NOBODY}"),
                suite_command(bin, &staged_vb[0], &staged_examples, true),
            )
            .is_err()
            {
                failed.push(format!("{name} (uid {NOBODY})"));
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    } else {
        println!(
            "SKIP unprivileged pass: already unprivileged (the suites above ran as this user)"
        );
    }
    if !failed.is_empty() {
        bail!("failing suites: {}", failed.join(", "));
    }
    Ok(())
}
