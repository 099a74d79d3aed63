//! What a restore did: each image of the journal restored, there already, lost (with what is
//! missing) or failed, with the manifests and tags pushed and the tags left alone.

use crate::ext::names::{Digest, RepositoryName};
use serde::{Serialize, Serializer};

/// What became of one image of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// Pushed back: some or all of its manifests or tags were missing, and are there now.
    Restored,
    /// Everything it recorded is there already: nothing was pushed.
    AlreadyThere,
    /// What it needs is gone (a garbage collection freed it): nothing of it was pushed.
    Lost {
        /// What is missing.
        missing: Vec<Missing>,
    },
    /// A request failed; what could be pushed was (see the counts).
    Failed {
        /// What failed, on one line.
        error: String,
    },
}

/// Something a lost image needs that the registry no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Missing {
    /// A blob (config or layer) of one of its manifests.
    Blob {
        /// The manifest that references it.
        #[serde(serialize_with = "as_text")]
        manifest: Digest,
        /// The blob.
        #[serde(serialize_with = "as_text")]
        blob: Digest,
    },
    /// A manifest one of its indexes lists, neither in the registry nor in the journal.
    Manifest {
        /// The index.
        #[serde(serialize_with = "as_text")]
        index: Digest,
        /// The manifest it lists.
        #[serde(serialize_with = "as_text")]
        child: Digest,
    },
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Blob { manifest, blob } => write!(f, "blob {blob} of manifest {manifest}"),
            Missing::Manifest { index, child } => {
                write!(f, "manifest {child}, which index {index} lists")
            }
        }
    }
}

/// A tag the journal recorded that points at another manifest now: left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MovedTag {
    /// The tag.
    pub tag: String,
    /// The manifest it points at now.
    #[serde(serialize_with = "as_text")]
    pub now: Digest,
}

/// One image of the journal and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RestoredImage {
    /// Its repository.
    #[serde(serialize_with = "as_text")]
    pub repository: RepositoryName,
    /// Its root's digest.
    #[serde(serialize_with = "as_text")]
    pub digest: Digest,
    /// Its root's tags, as recorded.
    pub tags: Vec<String>,
    /// The recorded manifests it needs (its own and those its indexes list or that refer to
    /// them), itself included.
    pub manifests: usize,
    /// Of those, how many were pushed.
    pub manifests_pushed: usize,
    /// The tags pushed (of its manifests, the root's and the others').
    pub tags_pushed: Vec<String>,
    /// Tags that point elsewhere now, left alone.
    pub tags_moved: Vec<MovedTag>,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: RestoreOutcome,
}

impl RestoredImage {
    /// Whether it is in the registry now: restored, or there already.
    pub fn is_back(&self) -> bool {
        matches!(
            self.outcome,
            RestoreOutcome::Restored | RestoreOutcome::AlreadyThere
        )
    }

    /// `repository:tag, ...@digest`, or `repository@digest`, for messages.
    pub fn name(&self) -> String {
        let tags = self.tags.join(",");
        match tags.is_empty() {
            true => format!("{}@{}", self.repository, self.digest),
            false => format!("{}:{tags}@{}", self.repository, self.digest),
        }
    }
}

/// What a restore did, image by image in journal order.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Every image of the journal.
    pub images: Vec<RestoredImage>,
    /// Requests sent to the registry.
    pub registry_calls: u64,
    /// Requests sent to DigitalOcean's API (the registry credentials).
    pub api_calls: u64,
}

impl RestoreReport {
    /// Images pushed back.
    pub fn restored(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Restored))
    }

    /// Images found whole already.
    pub fn already_there(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::AlreadyThere))
    }

    /// Images lost: nothing of them was pushed.
    pub fn lost(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Lost { .. }))
    }

    /// Images whose restore failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Failed { .. }))
    }

    /// Whether every image is back: restored now or there already.
    pub fn is_complete(&self) -> bool {
        self.restored() + self.already_there() == self.images.len()
    }

    fn count(&self, f: impl Fn(&RestoreOutcome) -> bool) -> usize {
        self.images.iter().filter(|i| f(&i.outcome)).count()
    }
}

fn as_text<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}
