//! What a collection is and where it stands: its type and its status, classified.

use crate::types;
use std::fmt;

/// What a garbage collection removes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GcType {
    /// Manifests no tag points at.
    UntaggedManifests,
    /// Blobs no manifest references (DigitalOcean's clients send this when none is chosen).
    #[default]
    UnreferencedBlobs,
    /// Both of the above.
    Both,
}

impl GcType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            GcType::UntaggedManifests => "untagged manifests only",
            GcType::UnreferencedBlobs => "unreferenced blobs only",
            GcType::Both => "untagged manifests and unreferenced blobs",
        }
    }
}

impl From<GcType> for types::RegistryRunGcType {
    fn from(t: GcType) -> Self {
        match t {
            GcType::UntaggedManifests => Self::UntaggedManifestsOnly,
            GcType::UnreferencedBlobs => Self::UnreferencedBlobsOnly,
            GcType::Both => Self::UntaggedManifestsAndUnreferencedBlobs,
        }
    }
}

/// A garbage collection's status. Statuses the spec does not list (the live API sends
/// `waiting for delete requests`) are [`GcStatus::Other`] and count as still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcStatus {
    /// `requested`: accepted, not started.
    Requested,
    /// `waiting for write JWTs to expire`: pushes in progress may still finish; the registry
    /// is read-only from here to the end.
    WaitingForWriteJwtsToExpire,
    /// `scanning manifests`: finding what is referenced.
    ScanningManifests,
    /// `deleting unreferenced blobs`: freeing space.
    DeletingUnreferencedBlobs,
    /// `cancelling`: a cancellation was asked for and is under way.
    Cancelling,
    /// `failed`: ended without finishing (an end state).
    Failed,
    /// `succeeded`: ended, space freed (an end state).
    Succeeded,
    /// `cancelled`: ended by a cancellation (an end state).
    Cancelled,
    /// A status this crate does not know; treated as running.
    Other(String),
}

impl GcStatus {
    /// The status of a collection record (a record without one counts as requested).
    pub fn of(gc: &types::GarbageCollection) -> Self {
        gc.status
            .as_deref()
            .map(Self::parse)
            .unwrap_or(Self::Requested)
    }

    /// Reads a wire status.
    pub fn parse(status: &str) -> Self {
        match status {
            "requested" => Self::Requested,
            "waiting for write JWTs to expire" => Self::WaitingForWriteJwtsToExpire,
            "scanning manifests" => Self::ScanningManifests,
            "deleting unreferenced blobs" => Self::DeletingUnreferencedBlobs,
            "cancelling" => Self::Cancelling,
            "failed" => Self::Failed,
            "succeeded" => Self::Succeeded,
            "cancelled" => Self::Cancelled,
            other => Self::Other(other.to_string()),
        }
    }

    /// Whether the collection has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded | Self::Cancelled)
    }
}

impl fmt::Display for GcStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Requested => "requested",
            Self::WaitingForWriteJwtsToExpire => "waiting for write JWTs to expire",
            Self::ScanningManifests => "scanning manifests",
            Self::DeletingUnreferencedBlobs => "deleting unreferenced blobs",
            Self::Cancelling => "cancelling",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Cancelled => "cancelled",
            Self::Other(s) => s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::garbage_collection::PollSchedule;
    use std::time::Duration;

    #[test]
    fn statuses_classify() {
        assert!(GcStatus::parse("succeeded").is_terminal());
        assert!(GcStatus::parse("failed").is_terminal());
        assert!(GcStatus::parse("cancelled").is_terminal());
        assert!(!GcStatus::parse("cancelling").is_terminal());
        let unknown = GcStatus::parse("waiting for delete requests");
        assert_eq!(
            unknown,
            GcStatus::Other("waiting for delete requests".into())
        );
        assert!(!unknown.is_terminal());
        assert_eq!(unknown.to_string(), "waiting for delete requests");
    }

    #[test]
    fn polling_starts_quick_and_is_capped() {
        let s = PollSchedule::default();
        assert_eq!(s.interval(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(s.interval(Duration::from_secs(80)), Duration::from_secs(8));
        assert_eq!(
            s.interval(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn jitter_only_shortens_the_share() {
        let s = PollSchedule::default();
        for elapsed in [0, 5, 10, 11, 80, 299, 301, 3600].map(Duration::from_secs) {
            for draw in [0.0, 0.3, 0.999, 1.0, 7.0] {
                let pause = s.pause(elapsed, draw);
                assert!(pause <= s.interval(elapsed), "{elapsed:?} {draw}");
                assert!(pause >= s.initial, "{elapsed:?} {draw}");
            }
        }
        // Under ten seconds the floor holds exactly; beyond, a draw shortens by up to a tenth.
        assert_eq!(
            s.pause(Duration::from_secs(5), 0.999),
            Duration::from_secs(1)
        );
        assert_eq!(
            s.pause(Duration::from_secs(80), 0.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            s.pause(Duration::from_secs(80), 0.5),
            Duration::from_millis(7600)
        );
    }
}
