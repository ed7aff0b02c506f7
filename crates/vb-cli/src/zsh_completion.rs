//! `completions/zsh/_vb`: zsh completion, rendered from the option table as
//! one `_arguments` call. Options stop at the first non-option (`-A '-*'`)
//! or at `--` (`-S`), as in the parser; the command and its arguments are
//! completed as a command line of their own.

use crate::table::{Action, CAPABILITIES, Complete, OPTIONS, OptionSpec};

/// `_arguments`'s action for a value of this kind.
fn action(kind: Complete) -> String {
    match kind {
        Complete::Path => "_files".into(),
        Complete::Directory => "_files -/".into(),
        Complete::Fd => "_file_descriptors".into(),
        Complete::Capability => format!("({})", CAPABILITIES.join(" ")),
        // A lone space shows the value's name and offers nothing.
        Complete::Number | Complete::None => " ".into(),
    }
}

/// Text inside a single-quoted shell word.
fn quote(text: &str) -> String {
    text.replace('\'', r"'\''")
}

/// The `_arguments` spec of one option.
fn spec_line(spec: &OptionSpec) -> String {
    let description = spec.help.replace('[', r"\[").replace(']', r"\]");
    // Options with values may be repeated (bubblewrap takes the last of a
    // single-valued one); a flag is offered once.
    let prefix = match spec.action {
        Action::Help | Action::Version => "(- 1 *)",
        Action::CheckHost => "(- 1 *)",
        _ if spec.values().is_empty() => "",
        _ => "*",
    };
    let mut out = format!("{prefix}{}[{description}]", spec.name);
    for value in spec.values() {
        out.push_str(&format!(
            ":{}:{}",
            value.name.replace(':', r"\:"),
            action(value.complete)
        ));
    }
    format!("'{}'", quote(&out))
}

const HEADER: &str = "\
#compdef vb
# zsh completion for vb.
# Generated from vb-cli's option table by `cargo xtask gen-cli-docs`; do not edit.
# Install as _vb in a directory of $fpath.

_arguments -S -A '-*' \\
";

const FOOTER: &str = "  '(-)1:command:_command_names -e' \\
  '*::arguments:_normal'
";

/// The completion function's file.
pub(crate) fn script() -> String {
    let mut out = HEADER.to_owned();
    for spec in OPTIONS {
        out.push_str(&format!("  {} \\\n", spec_line(spec)));
    }
    out.push_str(FOOTER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::find;

    #[test]
    fn specs_carry_values_and_quote_safely() {
        let line = |name| find(name).map(spec_line).unwrap();
        assert_eq!(
            line("--bind"),
            "'*--bind[Mount the host path SRC on DEST, writable]:SRC:_files:DEST:_files'"
        );
        assert_eq!(
            line("--argv0"),
            r"'*--argv0[Run COMMAND with VALUE as its argv\[0\]]:VALUE: '"
        );
        assert!(line("--share-net").starts_with(r"'--share-net[Stay in the host'\''s network"));
        assert!(line("--help").starts_with("'(- 1 *)--help["));
    }

    /// zsh's parser accepts the file, where zsh is installed.
    #[test]
    fn zsh_parses_the_script() {
        let Ok(out) = std::process::Command::new("zsh")
            .args(["-n", "-c"])
            .arg(script())
            .output()
        else {
            eprintln!("SKIP zsh_parses_the_script: zsh is not installed");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
