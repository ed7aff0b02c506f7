//! Diagnostics in bubblewrap's format: `<prog>: <message>` on stderr, with an
//! optional syslog level prefix (`--level-prefix`).

use crate::state::Warning;

/// Rust's `io::Error` renders as `<strerror text> (os error N)`; bubblewrap
/// prints the `strerror` text alone. Remove the suffix wherever it occurs.
pub(crate) fn strip_os_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" (os error ") {
        let tail = &rest[start + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail.as_bytes().get(digits) == Some(&b')') {
            out.push_str(&rest[..start]);
            rest = &tail[digits + 1..];
        } else {
            out.push_str(&rest[..start + 1]);
            rest = &rest[start + 1..];
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

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
