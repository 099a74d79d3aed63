//! What a registry holds: repositories, their manifests with tags and blobs (in the orders the
//! API lists them), the stored blobs and their bytes, and its garbage collections, which it
//! advances, freeing what a successful one frees.

use super::collection::Collection;
use crate::oci::Content;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use docr::garbage_collection::GcType;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) repositories: BTreeMap<String, Repository>,
    /// Every blob stored, referenced or not, by digest: what storage usage counts.
    pub(crate) blobs: BTreeMap<String, u64>,
    /// The bytes of the stored blobs that have some (pushed, or seeded with content).
    pub(crate) blob_content: BTreeMap<String, Bytes>,
    pub(crate) storage_updated_at: DateTime<Utc>,
    /// Oldest first.
    pub(crate) collections: Vec<Collection>,
}

#[derive(Debug, Default)]
pub(crate) struct Repository {
    pub(crate) manifests: Vec<Manifest>,
    /// Manifests the registry serves that the API's listings do not show yet (DigitalOcean's
    /// listing lags its registry), by digest.
    pub(crate) unlisted: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) digest: String,
    pub(crate) tags: Vec<String>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) size_bytes: u64,
    pub(crate) blobs: Vec<(String, u64)>,
    /// Creation order, to break ties between equal times.
    pub(crate) serial: u64,
    /// What the registry side serves; `None` for a seed with a digest of its own making.
    pub(crate) content: Option<Content>,
}

impl Manifest {
    pub(crate) fn compressed_size_bytes(&self) -> u64 {
        self.blobs.iter().map(|(_, size)| size).sum()
    }
}

/// `manifests` newest first (by `updated_at`, then creation order).
fn newest_first<'a>(manifests: impl Iterator<Item = &'a Manifest>) -> Vec<&'a Manifest> {
    let mut manifests: Vec<&Manifest> = manifests.collect();
    // The keys are unique (serials are), so an unstable sort orders alike, and faster.
    manifests.sort_unstable_by(|a, b| {
        (b.updated_at, b.serial, &a.digest).cmp(&(a.updated_at, a.serial, &b.digest))
    });
    manifests
}

impl Repository {
    /// Newest first (by `updated_at`, then creation order).
    pub(crate) fn manifests_newest_first(&self) -> Vec<&Manifest> {
        newest_first(self.manifests.iter())
    }

    /// What the API lists, in no order: every manifest but those its listing lags behind on.
    pub(crate) fn listed(&self) -> impl Iterator<Item = &Manifest> {
        self.manifests
            .iter()
            .filter(|m| !self.unlisted.contains(&m.digest))
    }

    /// What the API lists, newest first.
    pub(crate) fn listed_newest_first(&self) -> Vec<&Manifest> {
        newest_first(self.listed())
    }

    /// Every tag with its manifest, newest manifest first, then by tag name.
    pub(crate) fn tags_newest_first(&self) -> Vec<(&str, &Manifest)> {
        let mut tags: Vec<(&str, &Manifest)> = Vec::new();
        for manifest in self.listed_newest_first() {
            let mut names: Vec<&str> = manifest.tags.iter().map(String::as_str).collect();
            names.sort_unstable();
            tags.extend(names.into_iter().map(|t| (t, manifest)));
        }
        tags
    }

    /// At most `len` of the tags [`tags_newest_first`](Self::tags_newest_first) lists, from
    /// `offset`: only the manifests in that window have their tags sorted, so that a page of
    /// a listing of 20,000 tags costs its 200.
    pub(crate) fn tags_window(&self, offset: usize, len: usize) -> Vec<(&str, &Manifest)> {
        let mut before = 0;
        let mut window: Vec<(&str, &Manifest)> = Vec::new();
        for manifest in self.listed_newest_first() {
            let count = manifest.tags.len();
            if window.len() >= len {
                break;
            }
            if before + count > offset {
                let mut names: Vec<&str> = manifest.tags.iter().map(String::as_str).collect();
                names.sort_unstable();
                let wanted = len - window.len();
                let names = names.into_iter().skip(offset.saturating_sub(before));
                window.extend(names.take(wanted).map(|t| (t, manifest)));
            }
            before += count;
        }
        window
    }

    /// The digests of the tagged manifests and of everything their indexes list, nested.
    pub(crate) fn reachable_from_tags(&self) -> BTreeSet<String> {
        let mut reached = BTreeSet::new();
        let mut next: Vec<&str> = self
            .manifests
            .iter()
            .filter(|m| !m.tags.is_empty())
            .map(|m| m.digest.as_str())
            .collect();
        while let Some(digest) = next.pop() {
            if !reached.insert(digest.to_string()) {
                continue;
            }
            if let Some(content) = self.manifest(digest).and_then(|m| m.content.as_ref()) {
                next.extend(content.children.iter().map(|c| c.digest.as_str()));
            }
        }
        reached
    }

    pub(crate) fn manifest(&self, digest: &str) -> Option<&Manifest> {
        self.manifests.iter().find(|m| m.digest == digest)
    }

    pub(crate) fn tag_count(&self) -> usize {
        self.manifests.iter().map(|m| m.tags.len()).sum()
    }
}

impl Registry {
    pub(crate) fn new(name: String, region: String, created_at: DateTime<Utc>) -> Self {
        Self {
            name,
            region,
            created_at,
            repositories: BTreeMap::new(),
            blobs: BTreeMap::new(),
            blob_content: BTreeMap::new(),
            storage_updated_at: created_at,
            collections: Vec::new(),
        }
    }

    pub(crate) fn storage_usage_bytes(&self) -> u64 {
        self.blobs.values().sum()
    }

    pub(crate) fn active_collection(&self) -> Option<&Collection> {
        self.collections.iter().find(|c| c.is_active())
    }

    /// Ends the collections whose time has come at `now`; a successful one frees its garbage.
    pub(crate) fn advance(&mut self, now: Instant, step: Duration) {
        let Registry {
            repositories,
            blobs,
            blob_content,
            storage_updated_at,
            collections,
            ..
        } = self;
        for collection in collections.iter_mut() {
            collection.advance(now, step, |kind, at| {
                let (blobs_deleted, freed_bytes) = collect(repositories, blobs, kind);
                blob_content.retain(|digest, _| blobs.contains_key(digest));
                if blobs_deleted > 0 {
                    *storage_updated_at = at;
                }
                (blobs_deleted, freed_bytes)
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
