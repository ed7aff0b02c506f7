//! A ceiling on what the `vb` binary links.
//!
//! Every crate in `vb`'s normal dependency tree is code that ships, builds on each clean
//! checkout and needs auditing. A subsystem dependency can bring dozens of crates with it
//! (cgroups-rs 0.4 and later link a systemd D-Bus client, about seventy crates voidbox never
//! calls), so `cargo xtask test` counts them and fails above [`MAX_CRATES`].

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

use crate::run::cargo;

/// The most distinct crates `vb-cli`'s normal dependency tree may hold (itself and the
/// workspace's crates included).
pub(crate) const MAX_CRATES: usize = 70;

/// The distinct `name version` pairs in the output of `cargo tree --prefix none`. A crate
/// appears once per place it is used (repeats marked `(*)`), and one name can appear in two
/// versions, which are two crates to build and ship.
fn distinct_crates(tree: &str) -> BTreeSet<(&str, &str)> {
    tree.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect()
}

/// Counts `vb-cli`'s normal dependency crates and fails above [`MAX_CRATES`].
pub(crate) fn check() -> Result<()> {
    println!("xtask: == dependency count of vb-cli");
    let out = cargo(&["tree", "-p", "vb-cli", "-e", "normal", "--prefix", "none"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree -p vb-cli failed ({})", out.status);
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates = distinct_crates(&tree);
    if crates.len() > MAX_CRATES {
        bail!(
            "vb-cli's normal dependency tree holds {} distinct crates, more than the {MAX_CRATES} \
             allowed; `cargo tree -p vb-cli -e normal` shows which dependency brought them in",
            crates.len()
        );
    }
    println!(
        "xtask: vb-cli links {} distinct crates (at most {MAX_CRATES} allowed)",
        crates.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_count_once_and_versions_apart() {
        let tree = "\
vb-cli v0.1.0 (/src/crates/vb-cli)
anyhow v1.0.105
thiserror v1.0.69
thiserror-impl v1.0.69 (proc-macro)
proc-macro2 v1.0.107
proc-macro2 v1.0.107 (*)
thiserror v2.0.21
thiserror v2.0.21 (*)

";
        let crates = distinct_crates(tree);
        assert_eq!(crates.len(), 6, "{crates:?}");
        assert!(crates.contains(&("thiserror", "v1.0.69")));
        assert!(crates.contains(&("thiserror", "v2.0.21")));
        assert!(crates.contains(&("vb-cli", "v0.1.0")));
    }
}
