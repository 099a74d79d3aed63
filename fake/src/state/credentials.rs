//! [`IssuedCredentials`]: what the fake remembers of the Docker credentials it issued, for the
//! registry side to trade them for tokens and for the [`Snapshot`](crate::Snapshot) to show.

use chrono::{DateTime, Utc};

/// Docker credentials the fake issued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedCredentials {
    /// The registry they are for.
    pub registry: String,
    /// The user name inside the `auth` value.
    pub username: String,
    /// Whether they allow pushing.
    pub read_write: bool,
    /// When they expire (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
}
