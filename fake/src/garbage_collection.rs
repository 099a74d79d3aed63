//! Garbage collection as a state machine, computed lazily from elapsed time: each status lasts
//! one `gc_step`, and what a collection frees is taken when it succeeds.
//!
//! ```text
//! requested -> waiting for write JWTs to expire -> waiting for delete requests
//!           -> scanning manifests -> deleting unreferenced blobs -> succeeded
//! (any of the first five) --cancel--> cancelling --one step--> cancelled
//! ```
//! `waiting for delete requests` is not in the spec's list; the live API sends it.

use super::state::{Now, Registry, Repository};
use chrono::{DateTime, TimeDelta, Utc};
use docr::garbage_collection::GcType;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::time::Instant;

/// The statuses of a running collection, one `gc_step` each.
pub(crate) const STEPS: [&str; 5] = [
    "requested",
    "waiting for write JWTs to expire",
    "waiting for delete requests",
    "scanning manifests",
    "deleting unreferenced blobs",
];

/// The collection type the API names, parsed.
pub(crate) fn parse_type(name: &str) -> Option<GcType> {
    [
        GcType::UntaggedManifests,
        GcType::UnreferencedBlobs,
        GcType::Both,
    ]
    .into_iter()
    .find(|t| t.as_str() == name)
}

#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub(crate) uuid: String,
    pub(crate) registry: String,
    pub(crate) kind: GcType,
    pub(crate) created_at: DateTime<Utc>,
    started: Instant,
    cancel_requested: Option<(Instant, DateTime<Utc>)>,
    ended: Option<Ended>,
}

#[derive(Debug, Clone, Copy)]
struct Ended {
    status: &'static str,
    at: DateTime<Utc>,
    blobs_deleted: u64,
    freed_bytes: u64,
}

/// A collection as the API shows it at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    pub(crate) status: &'static str,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) blobs_deleted: u64,
    pub(crate) freed_bytes: u64,
}

impl Collection {
    pub(crate) fn new(uuid: String, registry: String, kind: GcType, now: Now) -> Self {
        Self {
            uuid,
            registry,
            kind,
            created_at: now.wall,
            started: now.instant,
            cancel_requested: None,
            ended: None,
        }
    }

    /// Neither succeeded nor cancelled yet (a cancelling one is still active).
    pub(crate) fn is_active(&self) -> bool {
        self.ended.is_none()
    }

    /// What the API shows at `now` (after [`advance`] has run for `now`).
    pub(crate) fn view(&self, now: Instant, step: Duration) -> View {
        if let Some(ended) = self.ended {
            return View {
                status: ended.status,
                updated_at: ended.at,
                blobs_deleted: ended.blobs_deleted,
                freed_bytes: ended.freed_bytes,
            };
        }
        let (status, updated_at) = match self.cancel_requested {
            Some((_, wall)) => ("cancelling", wall),
            None => {
                let index = steps_elapsed(now.duration_since(self.started), step)
                    .min(STEPS.len() as u32 - 1);
                (
                    STEPS[index as usize],
                    later(self.created_at, step.saturating_mul(index)),
                )
            }
        };
        View {
            status,
            updated_at,
            blobs_deleted: 0,
            freed_bytes: 0,
        }
    }

    /// Asks an active collection to stop; it is `cancelling` for one step, then `cancelled`.
    pub(crate) fn cancel(&mut self, now: Now) -> Result<(), &'static str> {
        if let Some(ended) = self.ended {
            return Err(ended.status);
        }
        if self.cancel_requested.is_none() {
            self.cancel_requested = Some((now.instant, now.wall));
        }
        Ok(())
    }
}

fn steps_elapsed(elapsed: Duration, step: Duration) -> u32 {
    if step.is_zero() {
        return u32::MAX;
    }
    u32::try_from(elapsed.as_nanos() / step.as_nanos()).unwrap_or(u32::MAX)
}

/// `at + d`, or `at` when that is beyond what a date can hold.
fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(at)
}

/// Ends the registry's collections whose time has come; a successful one frees its garbage.
pub(crate) fn advance(registry: &mut Registry, now: Instant, step: Duration) {
    let Registry {
        repositories,
        blobs,
        blob_content,
        storage_updated_at,
        collections,
        ..
    } = registry;
    for collection in collections.iter_mut().filter(|c| c.ended.is_none()) {
        if let Some((asked, wall)) = collection.cancel_requested {
            if now.duration_since(asked) >= step {
                collection.ended = Some(Ended {
                    status: "cancelled",
                    at: later(wall, step),
                    blobs_deleted: 0,
                    freed_bytes: 0,
                });
            }
            continue;
        }
        let steps = STEPS.len() as u32;
        if steps_elapsed(now.duration_since(collection.started), step) >= steps {
            let (blobs_deleted, freed_bytes) = collect(repositories, blobs, collection.kind);
            blob_content.retain(|digest, _| blobs.contains_key(digest));
            let at = later(collection.created_at, step.saturating_mul(steps));
            if blobs_deleted > 0 {
                *storage_updated_at = at;
            }
            collection.ended = Some(Ended {
                status: "succeeded",
                at,
                blobs_deleted,
                freed_bytes,
            });
        }
    }
}

/// Deletes what a collection of type `kind` deletes; returns the blobs deleted and the bytes
/// freed. Untagged manifests are removed from their repositories (their blobs stay stored
/// until a collection that deletes unreferenced blobs runs), except the children of a tagged
/// index, nested or not (the distribution registry once deleted those: distribution#3178);
/// referrers are removed like any untagged manifest. Unreferenced blobs are the stored blobs
/// no remaining manifest of the registry references (an index references manifests, not
/// blobs).
pub(crate) fn collect(
    repositories: &mut BTreeMap<String, Repository>,
    blobs: &mut BTreeMap<String, u64>,
    kind: GcType,
) -> (u64, u64) {
    if kind != GcType::UnreferencedBlobs {
        for repository in repositories.values_mut() {
            let kept = repository.reachable_from_tags();
            repository
                .manifests
                .retain(|m| kept.contains(m.digest.as_str()));
        }
    }
    if kind == GcType::UntaggedManifests {
        return (0, 0);
    }
    let referenced: BTreeSet<&str> = repositories
        .values()
        .flat_map(|r| &r.manifests)
        .flat_map(|m| &m.blobs)
        .map(|(digest, _)| digest.as_str())
        .collect();
    let unreferenced: Vec<String> = blobs
        .keys()
        .filter(|d| !referenced.contains(d.as_str()))
        .cloned()
        .collect();
    let (mut count, mut bytes) = (0, 0);
    for digest in unreferenced {
        if let Some(size) = blobs.remove(&digest) {
            count += 1;
            bytes += size;
        }
    }
    (count, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Manifest;

    fn manifest(digest: &str, tags: &[&str], blobs: &[(&str, u64)]) -> Manifest {
        Manifest {
            digest: digest.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            updated_at: DateTime::UNIX_EPOCH,
            size_bytes: 0,
            blobs: blobs.iter().map(|(d, s)| (d.to_string(), *s)).collect(),
            serial: 0,
            content: None,
        }
    }

    fn registry() -> (BTreeMap<String, Repository>, BTreeMap<String, u64>) {
        let repo = Repository {
            manifests: vec![
                manifest("m1", &["v1"], &[("base", 100), ("a", 10)]),
                manifest("m2", &[], &[("base", 100), ("b", 20)]),
            ],
            ..Repository::default()
        };
        let blobs = [("base", 100), ("a", 10), ("b", 20), ("orphan", 5)]
            .into_iter()
            .map(|(d, s)| (d.to_string(), s))
            .collect();
        (BTreeMap::from([("app".to_string(), repo)]), blobs)
    }

    #[test]
    fn each_type_frees_what_it_should() {
        let (mut repos, mut blobs) = registry();
        assert_eq!(
            collect(&mut repos, &mut blobs, GcType::UnreferencedBlobs),
            (1, 5)
        );
        let (mut repos, mut blobs) = registry();
        assert_eq!(
            collect(&mut repos, &mut blobs, GcType::UntaggedManifests),
            (0, 0)
        );
        assert_eq!(repos["app"].manifests.len(), 1);
        let (mut repos, mut blobs) = registry();
        assert_eq!(collect(&mut repos, &mut blobs, GcType::Both), (2, 25));
        assert_eq!(blobs.keys().collect::<Vec<_>>(), ["a", "base"]);
    }
}
