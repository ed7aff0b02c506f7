//! The `--help` text.

/// The option list, one `(option, description)` per line, in the order
/// bubblewrap lists them, then voidbox's own options.
const OPTIONS: &[(&str, &str)] = &[
    ("--help", "Print this help"),
    ("--version", "Print version"),
    ("--args FD", "Parse NUL-separated args from FD"),
    (
        "--argv0 VALUE",
        "Set argv[0] to the value VALUE before running the program",
    ),
    ("--level-prefix", "Prepend e.g. <3> to diagnostic messages"),
    (
        "--unshare-all",
        "Unshare every namespace we support by default",
    ),
    (
        "--share-net",
        "Retain the network namespace (can only combine with --unshare-all)",
    ),
    (
        "--unshare-user",
        "Create new user namespace (may be automatically implied if not setuid)",
    ),
    (
        "--unshare-user-try",
        "Create new user namespace if possible else continue by skipping it",
    ),
    ("--unshare-ipc", "Create new ipc namespace"),
    ("--unshare-pid", "Create new pid namespace"),
    ("--unshare-net", "Create new network namespace"),
    ("--unshare-uts", "Create new uts namespace"),
    ("--unshare-cgroup", "Create new cgroup namespace"),
    (
        "--unshare-cgroup-try",
        "Create new cgroup namespace if possible else continue by skipping it",
    ),
    (
        "--userns FD",
        "Use this user namespace (cannot combine with --unshare-user)",
    ),
    (
        "--userns2 FD",
        "After setup switch to this user namespace, only useful with --userns",
    ),
    (
        "--disable-userns",
        "Disable further use of user namespaces inside sandbox",
    ),
    (
        "--assert-userns-disabled",
        "Fail unless further use of user namespace inside sandbox is disabled",
    ),
    (
        "--pidns FD",
        "Use this pid namespace (as parent namespace if using --unshare-pid)",
    ),
    (
        "--uid UID",
        "Custom uid in the sandbox (requires --unshare-user or --userns)",
    ),
    (
        "--gid GID",
        "Custom gid in the sandbox (requires --unshare-user or --userns)",
    ),
    (
        "--hostname NAME",
        "Custom hostname in the sandbox (requires --unshare-uts)",
    ),
    ("--chdir DIR", "Change directory to DIR"),
    ("--clearenv", "Unset all environment variables"),
    ("--setenv VAR VALUE", "Set an environment variable"),
    ("--unsetenv VAR", "Unset an environment variable"),
    (
        "--lock-file DEST",
        "Take a lock on DEST while sandbox is running",
    ),
    ("--sync-fd FD", "Keep this fd open while sandbox is running"),
    ("--bind SRC DEST", "Bind mount the host path SRC on DEST"),
    (
        "--bind-try SRC DEST",
        "Equal to --bind but ignores non-existent SRC",
    ),
    (
        "--dev-bind SRC DEST",
        "Bind mount the host path SRC on DEST, allowing device access",
    ),
    (
        "--dev-bind-try SRC DEST",
        "Equal to --dev-bind but ignores non-existent SRC",
    ),
    (
        "--ro-bind SRC DEST",
        "Bind mount the host path SRC readonly on DEST",
    ),
    (
        "--ro-bind-try SRC DEST",
        "Equal to --ro-bind but ignores non-existent SRC",
    ),
    (
        "--bind-fd FD DEST",
        "Bind open directory or path fd on DEST",
    ),
    (
        "--ro-bind-fd FD DEST",
        "Bind open directory or path fd read-only on DEST",
    ),
    (
        "--remount-ro DEST",
        "Remount DEST as readonly; does not recursively remount",
    ),
    (
        "--overlay-src SRC",
        "Read files from SRC in the following overlay",
    ),
    (
        "--overlay RWSRC WORKDIR DEST",
        "Mount overlayfs on DEST, with RWSRC as the host path for writes and WORKDIR an empty directory on the same filesystem as RWSRC",
    ),
    (
        "--tmp-overlay DEST",
        "Mount overlayfs on DEST, with writes going to an invisible tmpfs",
    ),
    ("--ro-overlay DEST", "Mount overlayfs read-only on DEST"),
    ("--exec-label LABEL", "Exec label for the sandbox"),
    (
        "--file-label LABEL",
        "File label for temporary sandbox content",
    ),
    ("--proc DEST", "Mount new procfs on DEST"),
    ("--dev DEST", "Mount new dev on DEST"),
    ("--tmpfs DEST", "Mount new tmpfs on DEST"),
    ("--mqueue DEST", "Mount new mqueue on DEST"),
    ("--dir DEST", "Create dir at DEST"),
    ("--file FD DEST", "Copy from FD to destination DEST"),
    (
        "--bind-data FD DEST",
        "Copy from FD to file which is bind-mounted on DEST",
    ),
    (
        "--ro-bind-data FD DEST",
        "Copy from FD to file which is readonly bind-mounted on DEST",
    ),
    (
        "--symlink SRC DEST",
        "Create symlink at DEST with target SRC",
    ),
    (
        "--seccomp FD",
        "Load and use seccomp rules from FD (not repeatable)",
    ),
    (
        "--add-seccomp-fd FD",
        "Load and use seccomp rules from FD (repeatable)",
    ),
    (
        "--block-fd FD",
        "Block on FD until some data to read is available",
    ),
    (
        "--userns-block-fd FD",
        "Block on FD until the user namespace is ready",
    ),
    (
        "--info-fd FD",
        "Write information about the running container to FD",
    ),
    (
        "--json-status-fd FD",
        "Write container status to FD as multiple JSON documents",
    ),
    ("--new-session", "Create a new terminal session"),
    (
        "--die-with-parent",
        "Kills with SIGKILL child process (COMMAND) when bwrap or bwrap's parent dies.",
    ),
    ("--as-pid-1", "Do not install a reaper process with PID=1"),
    (
        "--cap-add CAP",
        "Add cap CAP when running as privileged user",
    ),
    (
        "--cap-drop CAP",
        "Drop cap CAP when running as privileged user",
    ),
    (
        "--perms OCTAL",
        "Set permissions of next argument (--bind-data, --file, etc.)",
    ),
    (
        "--size BYTES",
        "Set size of next argument (only for --tmpfs)",
    ),
    (
        "--chmod OCTAL PATH",
        "Change permissions of PATH (must already exist)",
    ),
];

/// voidbox's options that bubblewrap lacks.
const VOIDBOX_OPTIONS: &[(&str, &str)] = &[
    (
        "--rootfs DIR",
        "Use the host directory DIR as the sandbox's root",
    ),
    (
        "--pivot-root",
        "Enter the root with pivot_root (the default)",
    ),
    (
        "--no-pivot-root",
        "Enter the root with chroot instead (alias: --chroot)",
    ),
];

/// The full help text for the program named `prog`.
pub(crate) fn usage_text(prog: &str) -> String {
    let mut out = format!("usage: {prog} [OPTIONS...] [--] COMMAND [ARGS...]\n\n");
    let line = |out: &mut String, (opt, desc): &(&str, &str)| {
        out.push_str(&format!("    {opt:<28} {desc}\n"));
    };
    for entry in OPTIONS {
        line(&mut out, entry);
    }
    out.push_str("\nvoidbox options:\n");
    for entry in VOIDBOX_OPTIONS {
        line(&mut out, entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_every_bubblewrap_option() {
        let text = usage_text("vb");
        assert!(text.starts_with("usage: vb [OPTIONS...] [--] COMMAND [ARGS...]\n"));
        // 0.11.1's 67 options, less --overlay's own line counted once.
        assert_eq!(OPTIONS.len(), 67);
        for (opt, _) in OPTIONS.iter().chain(VOIDBOX_OPTIONS) {
            assert!(text.contains(opt), "{opt} missing from usage");
        }
    }
}
