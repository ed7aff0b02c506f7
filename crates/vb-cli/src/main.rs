//! `vb`: a drop-in for bubblewrap's `bwrap`, on voidbox. The program lives
//! in the `vb_cli` library, which also renders the man page and completions.

fn main() -> std::process::ExitCode {
    vb_cli::vb_main()
}
