//! What applying a plan did: each item's outcome, the calls made, the garbage collection.

use super::super::error::{Error, with_causes};
use super::super::names::Digest;
use super::super::names::RepositoryName;
use super::plan::PlannedDeletion;
use crate::types;
use serde::{Serialize, Serializer};

/// One planned deletion and what became of it.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct AppliedItem {
    /// The deletion as planned.
    #[serde(flatten)]
    pub item: PlannedDeletion,
    /// What happened.
    pub outcome: ItemOutcome,
}

/// What became of one planned deletion.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemOutcome {
    /// The manifest was deleted (with its tags).
    Deleted,
    /// Nothing was sent for it.
    Skipped {
        /// Why.
        why: SkipReason,
    },
    /// The delete call failed.
    Failed {
        /// How.
        #[serde(serialize_with = "error_text")]
        error: Error,
    },
    /// Nothing was sent: the manifest could not be read from the registry, or written to
    /// the undo journal, and nothing is deleted that is not recorded.
    NotRecorded {
        /// Why.
        #[serde(serialize_with = "error_text")]
        error: Error,
    },
}

/// Why a planned deletion was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// The manifest is no longer listed (or its delete answered 404): someone removed it.
    Gone,
    /// Its tags are not the ones planned: a tag moved to or from it since, and the plan's
    /// reasons may no longer hold.
    TagsChanged {
        /// Its tags now, sorted.
        current: Vec<String>,
    },
    /// Its repository could not be read again, so the item could not be checked (the error
    /// is in [`ApplyReport::repository_errors`]).
    NotVerified,
    /// A manifest that stays references it now (an index pushed since the plan, or one
    /// whose closure changed).
    ReferencedBy {
        /// The manifest that references it.
        digest: Digest,
    },
    /// Something refers to it now that did not at plan time (a new signature, SBOM or
    /// attestation).
    GainedReferrer {
        /// The referrer.
        digest: Digest,
    },
    /// Its image's manifest before it (its index) was not deleted, so it must stay.
    ParentNotDeleted,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Gone => f.write_str("gone since the plan"),
            SkipReason::TagsChanged { current } if current.is_empty() => {
                f.write_str("its tags changed since the plan (now untagged)")
            }
            SkipReason::TagsChanged { current } => write!(
                f,
                "its tags changed since the plan (now {})",
                current.join(", ")
            ),
            SkipReason::NotVerified => f.write_str("its repository could not be read again"),
            SkipReason::ReferencedBy { digest } => write!(f, "{digest} references it now"),
            SkipReason::GainedReferrer { digest } => write!(f, "{digest} refers to it now"),
            SkipReason::ParentNotDeleted => f.write_str("its image's index was not deleted"),
        }
    }
}

/// A repository whose manifests could not be listed again before deleting.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct RepositoryError {
    /// The repository.
    #[serde(serialize_with = "as_text")]
    pub repository: RepositoryName,
    /// The listing's error.
    #[serde(serialize_with = "error_text")]
    pub error: Error,
}

/// The garbage collection after the deletions.
#[derive(Debug, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GarbageCollectionOutcome {
    /// None was asked for.
    NotRequested,
    /// None was started, because nothing was deleted.
    NothingDeleted,
    /// It ran and succeeded.
    Succeeded(Box<types::GarbageCollection>),
    /// It started and was not waited for
    /// ([`garbage_collect_without_waiting`](super::ApplyPrune::garbage_collect_without_waiting)):
    /// the record its start returned.
    Started(Box<types::GarbageCollection>),
    /// Starting it, or waiting for it, failed (the deadline passing included).
    Failed(#[serde(serialize_with = "error_text")] Error),
}

/// What applying a plan did.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Every planned deletion with its outcome, in plan order.
    pub items: Vec<AppliedItem>,
    /// Repositories that could not be checked again (their items are skipped).
    pub repository_errors: Vec<RepositoryError>,
    /// Requests sent to DigitalOcean's API (rate-limited), retries and the garbage
    /// collection's calls included.
    pub api_calls: u64,
    /// Requests sent to the registry to check the plan again (not counted against the API's
    /// rate limit).
    pub registry_calls: u64,
    /// The garbage collection, when one was asked for.
    pub garbage_collection: GarbageCollectionOutcome,
}

impl ApplyReport {
    /// Manifests deleted.
    pub fn deleted(&self) -> usize {
        self.count(|o| matches!(o, ItemOutcome::Deleted))
    }

    /// Items skipped, for any reason (gone already included).
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, ItemOutcome::Skipped { .. }))
    }

    /// Items found gone already (someone removed them since the plan): no longer there, as
    /// planned, but not this run's doing.
    pub fn gone(&self) -> usize {
        self.count(|o| {
            matches!(
                o,
                ItemOutcome::Skipped {
                    why: SkipReason::Gone
                }
            )
        })
    }

    /// Items skipped because the registry changed since the plan: a tag moved, something new
    /// references or refers to them.
    pub fn changed(&self) -> usize {
        self.count(|o| {
            matches!(
                o,
                ItemOutcome::Skipped {
                    why: SkipReason::TagsChanged { .. }
                        | SkipReason::ReferencedBy { .. }
                        | SkipReason::GainedReferrer { .. }
                }
            )
        })
    }

    /// Items that stay because their image's root (or another image holding them) stayed.
    pub fn stayed_with_their_image(&self) -> usize {
        self.count(|o| {
            matches!(
                o,
                ItemOutcome::Skipped {
                    why: SkipReason::ParentNotDeleted
                }
            )
        })
    }

    /// Items not sent because their repository could not be checked again.
    pub fn not_verified(&self) -> usize {
        self.count(|o| {
            matches!(
                o,
                ItemOutcome::Skipped {
                    why: SkipReason::NotVerified
                }
            )
        })
    }

    /// Items whose delete failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, ItemOutcome::Failed { .. }))
    }

    /// Items not deleted because they could not be recorded in the undo journal.
    pub fn not_recorded(&self) -> usize {
        self.count(|o| matches!(o, ItemOutcome::NotRecorded { .. }))
    }

    /// Compressed bytes of the manifests deleted (an upper bound of what a collection frees).
    pub fn deleted_compressed_size_bytes(&self) -> u64 {
        self.items
            .iter()
            .filter(|i| matches!(i.outcome, ItemOutcome::Deleted))
            .map(|i| i.item.compressed_size_bytes)
            .sum()
    }

    /// Whether every item is no longer there (deleted now, or gone already), every
    /// repository could be checked, and the collection, if asked for, succeeded. A plan's
    /// blocked repositories are the plan's to tell ([`PlanTotals::blocked_repositories`](super::PlanTotals)).
    pub fn is_complete(&self) -> bool {
        self.deleted() + self.gone() == self.items.len()
            && self.repository_errors.is_empty()
            && !matches!(self.garbage_collection, GarbageCollectionOutcome::Failed(_))
    }

    fn count(&self, f: impl Fn(&ItemOutcome) -> bool) -> usize {
        self.items.iter().filter(|i| f(&i.outcome)).count()
    }
}

fn as_text<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// An error and its causes, on one line.
fn error_text<S: Serializer>(error: &Error, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&with_causes(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::prune::graph::{ManifestRole, ReadFailure};

    fn digest(n: u8) -> Digest {
        Digest::new(format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
    }

    fn item(n: u8, outcome: ItemOutcome) -> AppliedItem {
        let digest = digest(n);
        AppliedItem {
            item: PlannedDeletion {
                repository: "app".parse().unwrap(),
                image: digest.clone(),
                digest,
                role: ManifestRole::Image,
                held_by: Vec::new(),
                tags: Vec::new(),
                platforms: Vec::new(),
                updated_at: None,
                reasons: Vec::new(),
                compressed_size_bytes: 10,
                size_bytes: 20,
            },
            outcome,
        }
    }

    fn skipped(why: SkipReason) -> ItemOutcome {
        ItemOutcome::Skipped { why }
    }

    fn report(items: Vec<AppliedItem>) -> ApplyReport {
        ApplyReport {
            items,
            repository_errors: Vec::new(),
            api_calls: 0,
            registry_calls: 0,
            garbage_collection: GarbageCollectionOutcome::NotRequested,
        }
    }

    #[test]
    fn a_report_counts_each_outcome_by_its_cause() {
        let r = report(vec![
            item(1, ItemOutcome::Deleted),
            item(2, ItemOutcome::Deleted),
            item(3, skipped(SkipReason::Gone)),
            item(4, skipped(SkipReason::TagsChanged { current: vec![] })),
            item(5, skipped(SkipReason::ReferencedBy { digest: digest(50) })),
            item(
                6,
                skipped(SkipReason::GainedReferrer { digest: digest(51) }),
            ),
            item(7, skipped(SkipReason::ParentNotDeleted)),
            item(8, skipped(SkipReason::ParentNotDeleted)),
            item(9, skipped(SkipReason::NotVerified)),
            item(11, skipped(SkipReason::NotVerified)),
            item(
                10,
                ItemOutcome::Failed {
                    error: Error::InvalidInput("no".into()),
                },
            ),
            item(
                12,
                ItemOutcome::NotRecorded {
                    error: Error::InvalidInput("disk full".into()),
                },
            ),
        ]);
        assert_eq!(
            [
                r.deleted(),
                r.gone(),
                r.changed(),
                r.stayed_with_their_image(),
                r.not_verified(),
                r.failed(),
                r.not_recorded(),
                r.skipped(),
            ],
            [2, 1, 3, 2, 2, 1, 1, 8]
        );
        assert_eq!(r.deleted_compressed_size_bytes(), 20);
        assert!(!r.is_complete());
    }

    #[test]
    fn complete_means_nothing_planned_is_still_there_and_nothing_went_wrong() {
        let done = || {
            vec![
                item(1, ItemOutcome::Deleted),
                item(2, skipped(SkipReason::Gone)),
            ]
        };
        assert!(report(done()).is_complete());
        assert!(!report(vec![item(1, skipped(SkipReason::NotVerified))]).is_complete());
        let mut unchecked = report(done());
        unchecked.repository_errors.push(RepositoryError {
            repository: "app".parse().unwrap(),
            error: Error::NotRechecked {
                repository: "app".parse().unwrap(),
                reason: Box::new(ReadFailure::NotFound),
            },
        });
        assert!(!unchecked.is_complete());
        let mut collection = report(done());
        collection.garbage_collection =
            GarbageCollectionOutcome::Failed(Error::InvalidInput("gc".into()));
        assert!(!collection.is_complete());
        collection.garbage_collection = GarbageCollectionOutcome::NothingDeleted;
        assert!(collection.is_complete());
    }
}
