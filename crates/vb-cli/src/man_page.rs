//! `docs/vb.1`: the man page, in roff, rendered from the option table.

use crate::table::{OPTIONS, OptionSpec, Origin, Section};

/// Escape `text` for roff: backslashes and hyphens (which roff may render as
/// typographic hyphens, breaking copy and paste of options).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\e"),
            '-' => out.push_str(r"\-"),
            _ => out.push(c),
        }
    }
    // A line starting with `.` or `'` would be a request.
    if out.starts_with(['.', '\'']) {
        out.insert_str(0, r"\&");
    }
    out
}

/// `\fB\-\-bind\fR \fISRC\fR \fIDEST\fR`.
fn option_heading(spec: &OptionSpec) -> String {
    let mut out = format!(r"\fB{}\fR", escape(spec.name));
    for value in spec.values() {
        out.push_str(&format!(r" \fI{}\fR", escape(value.name)));
    }
    out
}

const HEADER: &str = r#".\" Generated from vb-cli's option table by `cargo xtask gen-cli-docs`; do not edit.
.TH VB 1 "" "voidbox VERSION" "User Commands"
.nh
.SH NAME
vb \- run a command in a Linux sandbox, with bubblewrap's command line
.SH SYNOPSIS
.B vb
[\fIOPTIONS\fR...] [\fB\-\-\fR] \fICOMMAND\fR [\fIARGS\fR...]
.SH DESCRIPTION
.B vb
runs \fICOMMAND\fR in new namespaces, on a root filesystem built from its options.
It accepts the command line of
.BR bwrap (1)
(bubblewrap 0.11.1) with the same meaning and the same messages, and adds options of its own.
Invoked under the name \fBbwrap\fR, it introduces its messages with \fBbwrap:\fR
and \fB\-\-version\fR prints bubblewrap's version.
.PP
Options are read from left to right, up to the first argument that does not start with
\fB\-\fR, which is \fICOMMAND\fR, or up to \fB\-\-\fR.
The values of an option are the arguments that follow it, even when they start with
\fB\-\fR; there is no \fB\-\-option=value\fR form.
Filesystem options take effect in the order they are given, in a new mount namespace.
An option that keeps a single value warns when it is given again, and the last one wins.
With \fB\-\-level\-prefix\fR, each message printed after that point starts with its
syslog level: \fB<3>\fR for errors, \fB<4>\fR for warnings.
.SH OPTIONS
"#;

const FOOTER: &str = r".SH EXIT STATUS
The exit status of \fICOMMAND\fR, or 128 plus the number of the signal that killed it.
When \fBvb\fR itself fails it prints a message and exits with status 1;
without a \fICOMMAND\fR it prints its usage on standard error and exits with status 1.
.SH SEE ALSO
.BR bwrap (1)
";

/// The man page.
pub(crate) fn man_page() -> String {
    let mut out = HEADER.replace("VERSION", env!("CARGO_PKG_VERSION"));
    let mut in_voidbox = false;
    for section in Section::ALL {
        let rows: Vec<&OptionSpec> = OPTIONS.iter().filter(|o| o.section == section).collect();
        if rows.is_empty() {
            continue;
        }
        if section.origin() == Origin::Voidbox && !in_voidbox {
            in_voidbox = true;
            out.push_str(".SH VOIDBOX OPTIONS\nThese options are voidbox's own; bubblewrap has no equivalent.\n");
        }
        out.push_str(&format!(".SS {}\n", section.title()));
        for spec in rows {
            out.push_str(&format!(
                ".TP\n{}\n{}.\n",
                option_heading(spec),
                escape(spec.help)
            ));
        }
    }
    out.push_str(FOOTER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escapes_hyphens_backslashes_and_requests() {
        assert_eq!(escape("--ro-bind"), r"\-\-ro\-bind");
        assert_eq!(escape(r"a\b"), r"a\eb");
        assert_eq!(escape(".x"), r"\&.x");
    }

    #[test]
    fn every_option_has_an_entry_under_its_section() {
        let page = man_page();
        for spec in OPTIONS {
            let entry = format!(".TP\n{}\n", option_heading(spec));
            let at = page
                .find(&entry)
                .unwrap_or_else(|| panic!("{} missing", spec.name));
            let heading = format!(".SS {}\n", spec.section.title());
            let section_at = page[..at].rfind(".SS ").unwrap();
            assert!(page[section_at..].starts_with(&heading), "{}", spec.name);
        }
        assert!(page.contains(r"\fB\-\-overlay\fR \fIRWSRC\fR \fIWORKDIR\fR \fIDEST\fR"));
    }

    /// groff's own check of the page, where groff is installed.
    #[test]
    fn groff_reads_the_page_without_warnings() {
        let Ok(mut child) = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("SKIP groff_reads_the_page_without_warnings: groff is not installed");
            return;
        };
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(man_page().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}
