//! Diagnostics in bubblewrap's format: `<prog>: <message>` on stderr, with an
//! optional syslog level prefix (`--level-prefix`).

use crate::state::Warning;

/// Rust's `io::Error` renders as `<strerror text> (os error N)`; bubblewrap
/// prints glibc's `strerror` text alone. Remove the suffix wherever it
/// occurs, and where the text before it is this C library's `strerror` text
/// for N, put glibc's in its place (a musl build words some errors
/// differently).
pub(crate) fn strip_os_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" (os error ") {
        let tail = &rest[start + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail.as_bytes().get(digits) == Some(&b')') {
            let before = &rest[..start];
            let errno = tail[..digits].parse().ok();
            out.push_str(
                &errno
                    .and_then(|n| as_glibc(before, n))
                    .unwrap_or_else(|| before.to_owned()),
            );
            rest = &tail[digits + 1..];
        } else {
            out.push_str(&rest[..start + 1]);
            rest = &rest[start + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `text` with its trailing `strerror` text for `errno` (as this program's C
/// library words it) replaced by glibc's; `None` when it does not end so.
fn as_glibc(text: &str, errno: i32) -> Option<String> {
    let glibc = crate::errno_text::glibc_strerror(errno)?;
    let local = std::io::Error::from_raw_os_error(errno).to_string();
    let local = local.strip_suffix(&format!(" (os error {errno})"))?;
    let head = text.strip_suffix(local)?;
    Some(format!("{head}{glibc}"))
}

/// How diagnostics are printed.
#[derive(Clone, Debug)]
pub(crate) struct Reporter {
    /// `vb`, or `bwrap` when invoked under that name.
    pub(crate) prog: String,
    /// Prefix lines with `<3>`/`<4>`.
    pub(crate) level_prefix: bool,
}

impl Reporter {
    fn line(&self, level: u8, level_prefix: bool, message: &str) -> String {
        let prefix = if level_prefix {
            format!("<{level}>")
        } else {
            String::new()
        };
        format!("{prefix}{}: {}", self.prog, strip_os_error(message))
    }

    /// An error line (`<3>` with `--level-prefix`).
    pub(crate) fn error(&self, message: &str) -> String {
        self.line(3, self.level_prefix, message)
    }

    /// An informational line (`<6>` with `--level-prefix`).
    pub(crate) fn info(&self, message: &str) -> String {
        self.line(6, self.level_prefix, message)
    }

    /// A warning line (`<4>` with `--level-prefix`).
    pub(crate) fn warning(&self, message: &str) -> String {
        self.line(4, self.level_prefix, message)
    }

    /// A warning from the parse, prefixed as `--level-prefix` stood when it
    /// arose.
    pub(crate) fn parse_warning(&self, warning: &Warning) -> String {
        self.line(4, warning.level_prefix, &warning.message)
    }
}

/// A duration in milliseconds with microsecond precision, for `--verbose`.
pub(crate) fn ms(d: std::time::Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// `bytes` for a reader: the largest binary unit that divides it.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

/// The lines that say which limit ended the command, or refused it
/// processes, when one did and the command failed.
pub(crate) fn limit_lines(
    status: &voidbox::ExitStatus,
    limits: &voidbox::ResourceLimits,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(max) = limits.memory_max
        && status.killed_by_memory_limit()
    {
        lines.push(format!(
            "the command was killed: memory limit {} reached",
            human_bytes(max)
        ));
    }
    if let Some(max) = limits.pids_max
        && !status.success()
        && status.pids_limit_reached()
    {
        lines.push(format!(
            "the command was refused new processes: process limit {max} reached"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_lines_name_the_limit_that_ended_the_command() {
        use voidbox::{ExitStatus, LimitEvents, ResourceLimits, Termination};
        let limits = ResourceLimits {
            memory_max: Some(64 << 20),
            pids_max: Some(8),
            ..ResourceLimits::default()
        };
        let events = |oom, pids| {
            Some(LimitEvents {
                oom_kills: Some(oom),
                pids_max_refusals: Some(pids),
            })
        };
        let killed = ExitStatus::new(Termination::Signaled(libc::SIGKILL), events(1, 0));
        assert_eq!(
            limit_lines(&killed, &limits),
            ["the command was killed: memory limit 64 MiB reached"]
        );
        let refused = ExitStatus::new(Termination::Exited(1), events(0, 3));
        assert_eq!(
            limit_lines(&refused, &limits),
            ["the command was refused new processes: process limit 8 reached"]
        );
        // Nothing when the command did fine, or died of something else.
        let fine = ExitStatus::new(Termination::Exited(0), events(0, 3));
        assert!(limit_lines(&fine, &limits).is_empty());
        let other = ExitStatus::new(Termination::Signaled(libc::SIGTERM), events(1, 0));
        assert!(limit_lines(&other, &limits).is_empty());
        assert_eq!(human_bytes(1536 << 20), "1536 MiB");
        assert_eq!(human_bytes(2 << 30), "2 GiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }

    #[test]
    fn os_error_suffixes_are_removed() {
        assert_eq!(
            strip_os_error("execvp /x: No such file or directory (os error 2)"),
            "execvp /x: No such file or directory"
        );
        assert_eq!(strip_os_error("a (os error 1) b (os error 22)"), "a b");
        assert_eq!(strip_os_error("keep (os error x)"), "keep (os error x)");
    }

    #[test]
    fn errors_are_worded_as_glibc_words_them() {
        // Whatever C library this is linked with, as bubblewrap (glibc) says.
        for (errno, text) in [
            (libc::ELOOP, "Too many levels of symbolic links"),
            (libc::EBUSY, "Device or resource busy"),
            (libc::ENOENT, "No such file or directory"),
        ] {
            let e = std::io::Error::from_raw_os_error(errno);
            assert_eq!(
                strip_os_error(&format!("open /x: {e}")),
                format!("open /x: {text}")
            );
        }
    }

    #[test]
    fn level_prefix_marks_errors_and_warnings() {
        let r = Reporter {
            prog: "bwrap".into(),
            level_prefix: true,
        };
        assert_eq!(r.error("boom"), "<3>bwrap: boom");
        assert_eq!(r.warning("hm"), "<4>bwrap: hm");
        let early = Warning {
            message: "early".into(),
            level_prefix: false,
        };
        assert_eq!(r.parse_warning(&early), "bwrap: early");
    }
}
