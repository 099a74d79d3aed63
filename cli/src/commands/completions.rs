//! `completions`: a shell completion script for the whole command line.

use crate::Result;
use clap::Args;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  docr completions bash > ~/.local/share/bash-completion/completions/docr\n  \
    docr completions zsh > \"${fpath[1]}/_docr\""
)]
pub struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Prints the script for `command`, the whole of `docr` (handed over by `main`, which
/// defines it).
pub fn run(args: CompletionsArgs, mut command: clap::Command) -> Result {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "docr", &mut out);
    outln!("{}", String::from_utf8_lossy(&out).trim_end());
    Ok(())
}
