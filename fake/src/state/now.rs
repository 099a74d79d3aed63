//! [`Now`]: the moment a request is handled, on the clock collections are paced by and as the
//! wall time the API reports.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// The moment a request is handled: the clock GC steps and windows are measured on, and the
/// wall time the API reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) instant: Instant,
    pub(crate) wall: DateTime<Utc>,
}

impl Now {
    pub(crate) fn current() -> Self {
        Self {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }
}
