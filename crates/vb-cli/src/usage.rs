//! The `--help` text (also printed to stderr when there is no command),
//! rendered from the option table.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use crate::table::{OPTIONS, OptionSpec, Origin};

/// The synopsis after `usage: <argv[0]>`.
const SYNOPSIS: &str = " [OPTIONS...] [--] COMMAND [ARGS...]\n";

/// The option list: bubblewrap's options in the table's order, then
/// voidbox's under their own heading.
pub(crate) fn options_text() -> String {
    let mut out = String::new();
    let line = |out: &mut String, spec: &OptionSpec| {
        out.push_str(&format!("    {:<28} {}\n", spec.synopsis(), spec.help));
    };
    for spec in OPTIONS.iter().filter(|o| o.origin == Origin::Bubblewrap) {
        line(&mut out, spec);
    }
    out.push_str("\nvoidbox options:\n");
    for spec in OPTIONS.iter().filter(|o| o.origin == Origin::Voidbox) {
        line(&mut out, spec);
    }
    out
}

/// Write the help for the program invoked as `argv0` (printed byte for byte,
/// as bubblewrap prints its own argv[0]).
pub(crate) fn write_usage(out: &mut dyn Write, argv0: &OsStr) -> io::Result<()> {
    out.write_all(b"usage: ")?;
    out.write_all(argv0.as_bytes())?;
    out.write_all(SYNOPSIS.as_bytes())?;
    out.write_all(b"\n")?;
    out.write_all(options_text().as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(argv0: &str) -> String {
        let mut out = Vec::new();
        write_usage(&mut out, OsStr::new(argv0)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn usage_names_the_program_as_invoked() {
        assert!(usage("./vb").starts_with("usage: ./vb [OPTIONS...] [--] COMMAND [ARGS...]\n\n"));
        assert!(usage("/usr/bin/bwrap").starts_with("usage: /usr/bin/bwrap [OPTIONS...]"));
    }

    #[test]
    fn usage_lists_every_option_bubblewraps_first() {
        let text = usage("vb");
        let voidbox_heading = text.find("\nvoidbox options:\n").unwrap();
        for spec in OPTIONS {
            let line = format!("\n    {:<28} {}\n", spec.synopsis(), spec.help);
            let at = text
                .find(&line)
                .unwrap_or_else(|| panic!("{} missing", spec.name));
            assert_eq!(
                at < voidbox_heading,
                spec.origin == Origin::Bubblewrap,
                "{}",
                spec.name
            );
        }
        assert!(text.contains("    --help                       Show this help and exit\n"));
        assert!(text.contains("    --bind SRC DEST              "));
    }
}
