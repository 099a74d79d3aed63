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

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        Digest::new(format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
    }

    fn image(n: u8, outcome: RestoreOutcome) -> RestoredImage {
        RestoredImage {
            repository: "app".parse().unwrap(),
            digest: digest(n),
            tags: Vec::new(),
            manifests: 1,
            manifests_pushed: 0,
            tags_pushed: Vec::new(),
            tags_moved: Vec::new(),
            outcome,
        }
    }

    fn report(images: Vec<RestoredImage>) -> RestoreReport {
        RestoreReport {
            images,
            registry_calls: 0,
            api_calls: 0,
        }
    }

    #[test]
    fn a_report_counts_each_outcome_and_is_complete_only_when_every_image_is_back() {
        let lost = RestoreOutcome::Lost {
            missing: vec![Missing::Blob {
                manifest: digest(9),
                blob: digest(10),
            }],
        };
        let failed = RestoreOutcome::Failed { error: "no".into() };
        let all = report(vec![
            image(1, RestoreOutcome::Restored),
            image(2, RestoreOutcome::Restored),
            image(3, RestoreOutcome::AlreadyThere),
            image(4, lost.clone()),
            image(5, failed.clone()),
            image(6, failed),
        ]);
        let counts = (
            all.restored(),
            all.already_there(),
            all.lost(),
            all.failed(),
        );
        assert_eq!(counts, (2, 1, 1, 2));
        assert!(!all.is_complete());
        let back: Vec<bool> = all.images.iter().map(RestoredImage::is_back).collect();
        assert_eq!(back, [true, true, true, false, false, false]);

        let whole = report(vec![
            image(1, RestoreOutcome::Restored),
            image(3, RestoreOutcome::AlreadyThere),
        ]);
        assert!(whole.is_complete());
        assert!(!report(vec![image(1, RestoreOutcome::Restored), image(4, lost)]).is_complete());
        assert!(report(Vec::new()).is_complete(), "nothing to restore");
    }

    #[test]
    fn what_is_missing_says_which_manifest_needs_it() {
        let blob = Missing::Blob {
            manifest: digest(1),
            blob: digest(2),
        };
        assert_eq!(
            blob.to_string(),
            format!("blob {} of manifest {}", digest(2), digest(1))
        );
        let child = Missing::Manifest {
            index: digest(3),
            child: digest(4),
        };
        assert_eq!(
            child.to_string(),
            format!("manifest {}, which index {} lists", digest(4), digest(3))
        );
    }
}
