//! The question before a change that deletes or costs: asked on a terminal, skipped with
//! `--force`, and without a terminal a refusal that says to pass `--force`.

use crate::Result;
use crate::exit::Refused;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};

/// `-f/--force`, flattened into every command that deletes or changes billing.
#[derive(Args, Clone, Copy, Debug)]
pub struct Force {
    /// Do it without asking (needed when stdin is not a terminal).
    #[arg(short = 'f', long)]
    pub force: bool,
}

impl Force {
    /// Asks "`what`. Continue? [y/N]" on stderr and reads the answer from stdin; only `y` or
    /// `yes` goes on. With `--force`, goes on without asking.
    pub fn confirm(self, what: &str) -> Result {
        if self.force {
            return Ok(());
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(Refused(format!(
                "{what}: not confirmed (no terminal to ask on); pass --force to go ahead"
            ))
            .into());
        }
        let mut stderr = std::io::stderr().lock();
        write!(stderr, "{what}. Continue? [y/N] ")?;
        stderr.flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if is_yes(&answer) {
            Ok(())
        } else {
            Err(Refused("not confirmed: nothing was changed".into()).into())
        }
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `a, b and c`: a list of targets in a question.
pub fn listed(items: &[impl std::fmt::Display]) -> String {
    let names: Vec<String> = items.iter().map(ToString::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_goes_on() {
        for yes in ["y\n", "Y", " yes \n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "y e s"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(listed(&["a"]), "a");
        assert_eq!(listed(&["a", "b"]), "a and b");
        assert_eq!(listed(&["a", "b", "c"]), "a, b and c");
    }
}
