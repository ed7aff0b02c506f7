//! The files rendered from the option table and committed to the repository
//! (`cargo xtask gen-cli-docs` writes them; a test here fails when they are
//! stale).

use crate::{bash_completion, man_page, zsh_completion};

/// A file rendered from the option table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Where it lives, relative to the repository's root.
    pub path: &'static str,
    /// Its contents.
    pub contents: String,
}

/// The man page and the shell completions, as they should be committed.
pub fn generated_files() -> Vec<GeneratedFile> {
    vec![
        GeneratedFile {
            path: "docs/vb.1",
            contents: man_page::man_page(),
        },
        GeneratedFile {
            path: "completions/bash/vb",
            contents: bash_completion::script(),
        },
        GeneratedFile {
            path: "completions/zsh/_vb",
            contents: zsh_completion::script(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::OPTIONS;
    use crate::usage::options_text;
    use std::path::{Path, PathBuf};

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn committed(path: &str) -> String {
        std::fs::read_to_string(repo_root().join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}; run `cargo xtask gen-cli-docs`"))
    }

    #[test]
    fn committed_files_are_up_to_date() {
        for file in generated_files() {
            assert!(
                committed(file.path) == file.contents,
                "{} is stale: run `cargo xtask gen-cli-docs` and commit the result",
                file.path
            );
        }
    }

    /// Every option the parser accepts (the parser knows no option but the
    /// table's rows) is in the help, the committed man page and both
    /// committed completions.
    #[test]
    fn every_option_is_documented_and_completed() {
        let help = options_text();
        let man = committed("docs/vb.1");
        let bash = committed("completions/bash/vb");
        let bash_options = bash
            .lines()
            .find_map(|l| l.strip_prefix("_vb_options='"))
            .and_then(|l| l.strip_suffix('\''))
            .unwrap();
        let zsh = committed("completions/zsh/_vb");
        for spec in OPTIONS {
            let name = spec.name;
            assert!(
                help.contains(&format!("    {} ", spec.synopsis())),
                "{name}: --help"
            );
            let roff = format!(r"\fB{}\fR", name.replace('-', r"\-"));
            assert!(man.contains(&format!(".TP\n{roff}")), "{name}: docs/vb.1");
            assert!(
                bash_options.split(' ').any(|o| o == name),
                "{name}: completions/bash/vb"
            );
            assert!(
                zsh.contains(&format!("{name}[")),
                "{name}: completions/zsh/_vb"
            );
        }
    }

    /// The crate's source (tests aside) spells an option name as a string of
    /// its own only for a row of the table: a parser arm matching an option
    /// outside the table would have to, and fails here.
    #[test]
    fn option_names_in_the_source_are_table_rows() {
        fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        files.sort();
        assert!(files.iter().any(|f| f.ends_with("apply/mounts.rs")));
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for literal in code.split("\"--").skip(1) {
                let name: String = literal
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let closed = literal[name.len()..].starts_with('"');
                if closed && !name.is_empty() {
                    let option = format!("--{name}");
                    assert!(
                        crate::table::find(&option).is_some(),
                        "{}: {option} is not a row of the option table",
                        file.display()
                    );
                }
            }
        }
    }
}
