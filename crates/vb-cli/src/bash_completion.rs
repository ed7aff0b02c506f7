//! `completions/bash/vb`: bash completion, rendered from the option table.
//!
//! The script walks the words before the cursor as the parser does: an
//! option consumes as many words as it has values, and the first word that
//! does not start with `-` (or the one after `--`) is the command. At a
//! value it completes by the value's kind; at the command it hands over to
//! bash-completion's command completion when that is loaded.

use crate::table::{CAPABILITIES, Complete, OPTIONS};

/// The word the script uses for a completion kind.
fn kind_word(kind: Complete) -> &'static str {
    match kind {
        Complete::Path => "path",
        Complete::Directory => "directory",
        Complete::Fd => "fd",
        Complete::Capability => "capability",
        Complete::Number => "number",
        Complete::None => "none",
    }
}

const HEADER: &str = "\
# bash completion for vb                                   -*- shell-script -*-
# Generated from vb-cli's option table by `cargo xtask gen-cli-docs`; do not edit.
# Install as /usr/share/bash-completion/completions/vb, or source it.

";

const FUNCTIONS: &str = r#"
# Complete the current word as a value of kind $1.
_vb_complete_value()
{
    local cur=$2
    case $1 in
        path)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        directory)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            ;;
        fd)
            local fds=(/proc/$$/fd/*)
            mapfile -t COMPREPLY < <(compgen -W "${fds[*]##*/}" -- "$cur")
            ;;
        capability)
            mapfile -t COMPREPLY < <(compgen -W "$_vb_capabilities" -- "$cur")
            ;;
        *)
            COMPREPLY=()
            ;;
    esac
}

_vb()
{
    local cur=${COMP_WORDS[COMP_CWORD]} word i=1 options_done=
    local -a _vb_kinds
    while (( i < COMP_CWORD )); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            options_done=1
            i=$(( i + 1 ))
            break
        elif [[ $word != -* ]]; then
            options_done=1
            break
        fi
        _vb_value_kinds "$word"
        if (( COMP_CWORD <= i + ${#_vb_kinds[@]} )); then
            _vb_complete_value "${_vb_kinds[COMP_CWORD - i - 1]}" "$cur"
            return
        fi
        i=$(( i + 1 + ${#_vb_kinds[@]} ))
    done
    if [[ -z $options_done && $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_vb_options" -- "$cur")
        return
    fi
    # COMMAND and its arguments, from word i on.
    if declare -F _comp_command_offset >/dev/null; then
        _comp_command_offset "$i"
    elif declare -F _command_offset >/dev/null; then
        _command_offset "$i"
    elif (( i == COMP_CWORD )); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
    else
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

complete -F _vb vb
"#;

/// The script.
pub(crate) fn script() -> String {
    let mut out = HEADER.to_owned();
    let names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
    out.push_str(&format!("_vb_options='{}'\n", names.join(" ")));
    out.push_str(&format!("_vb_capabilities='{}'\n", CAPABILITIES.join(" ")));
    // Options grouped by the kinds of their values, in table order.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for spec in OPTIONS {
        let kinds: Vec<&str> = spec
            .values()
            .iter()
            .map(|v| kind_word(v.complete))
            .collect();
        if kinds.is_empty() {
            continue;
        }
        let kinds = kinds.join(" ");
        match groups.iter_mut().find(|(k, _)| *k == kinds) {
            Some((_, names)) => names.push(spec.name),
            None => groups.push((kinds, vec![spec.name])),
        }
    }
    out.push_str("\n# Set _vb_kinds to how each value of the option $1 is completed.\n");
    out.push_str("_vb_value_kinds()\n{\n    case $1 in\n");
    for (kinds, names) in &groups {
        out.push_str(&format!(
            "        {})\n            _vb_kinds=({kinds})\n            ;;\n",
            names.join("|")
        ));
    }
    out.push_str("        *)\n            _vb_kinds=()\n            ;;\n    esac\n}\n");
    out.push_str(FUNCTIONS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What the script offers for the command line `words`, the last word
    /// being the one under the cursor.
    fn complete(words: &[&str]) -> Option<Vec<String>> {
        let test = r#"eval "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _vb; printf '%s\n' "${COMPREPLY[@]}""#;
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", test, "bash"])
            .arg(script())
            .args(words)
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    #[test]
    fn completes_options_values_and_the_command() {
        let Some(options) = complete(&["vb", "--ro-bi"]) else {
            eprintln!("SKIP completes_options_values_and_the_command: bash is not installed");
            return;
        };
        assert_eq!(
            options,
            [
                "--ro-bind",
                "--ro-bind-try",
                "--ro-bind-fd",
                "--ro-bind-data"
            ]
        );
        // Both values of --bind are paths; then options again.
        assert!(
            complete(&["vb", "--bind", "/us"])
                .unwrap()
                .contains(&"/usr".into())
        );
        let second = complete(&["vb", "--bind", "/usr", "/us"]).unwrap();
        assert!(second.contains(&"/usr".into()));
        assert_eq!(
            complete(&["vb", "--bind", "/usr", "/usr", "--chd"]).unwrap(),
            ["--chdir"]
        );
        // A value that starts with a dash is a value, not an option.
        assert_eq!(complete(&["vb", "--setenv", "--chd"]).unwrap(), [""; 0]);
        assert_eq!(
            complete(&["vb", "--cap-add", "CAP_SYS_AD"]).unwrap(),
            ["CAP_SYS_ADMIN"]
        );
        assert_eq!(complete(&["vb", "--uid", ""]).unwrap(), [""; 0]);
        assert!(
            complete(&["vb", "--chdir", "/"])
                .unwrap()
                .contains(&"/usr".into())
        );
        // Descriptors are the shell's open ones.
        assert!(
            complete(&["vb", "--info-fd", ""])
                .unwrap()
                .contains(&"1".into())
        );
        // After the command or `--`, options are the command's business.
        let command = complete(&["vb", "--unshare-pid", "--", "--unsh"]).unwrap();
        assert!(!command.iter().any(|c| c.starts_with("--unshare")));
        assert!(
            complete(&["vb", "--unshare-pid", "tru"])
                .unwrap()
                .contains(&"true".into())
        );
    }
}
