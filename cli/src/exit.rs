//! Exit statuses: which error ends `docr` with which code. Documented in `docr --help`'s
//! footer ([`FOOTER`]) and the README.

use std::fmt;

/// Failed: the API, the network, a file or a helper said no.
pub const ERROR: u8 = 1;
/// A usage error, or refused: a bad argument (clap uses 2 too), or a change that was not
/// confirmed.
pub const USAGE: u8 = 2;
/// Some of several targets failed; the others were done.
pub const PARTIAL: u8 = 3;

/// The footer of `docr --help`.
pub const FOOTER: &str = "\
Exit status: 0 success; 1 error (the API, the network, a file or a credential helper failed);
2 usage error or refused (a bad argument, or a delete or billing change not confirmed: answer
the question on a terminal or pass --force); 3 partial failure (some of several targets failed,
each is named on stderr, the others were done).";

/// A command refused before it changed anything: exit status [`USAGE`].
#[derive(Debug)]
pub struct Refused(pub String);

/// Some targets failed, the others were done: exit status [`PARTIAL`].
#[derive(Debug)]
pub struct PartialFailure(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PartialFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}
impl std::error::Error for PartialFailure {}

/// The exit status for an error that ended the command.
pub fn code(error: &(dyn std::error::Error + 'static)) -> u8 {
    // What the library refuses before any request is the user's input: a usage error.
    let refused_input = error.downcast_ref::<docr::Error>().is_some_and(|e| {
        matches!(
            e,
            docr::Error::InvalidInput(_)
                | docr::Error::InvalidName(_)
                | docr::Error::Pattern { .. }
                | docr::Error::PolicyFile(_)
        )
    });
    if error.is::<Refused>() || refused_input {
        USAGE
    } else if error.is::<PartialFailure>() {
        PARTIAL
    } else {
        ERROR
    }
}
