//! The fake's state as plain values, for tests to read and compare.

use super::state::{IssuedCredentials, State};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// Everything the fake holds at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The account's subscription tier slug.
    pub tier: String,
    /// By name.
    pub registries: Vec<RegistrySnapshot>,
    /// Kubernetes cluster UUID -> the registries integrated with it, by name.
    pub kubernetes: BTreeMap<String, Vec<String>>,
    /// The Docker credentials issued, oldest first (the last 1,000).
    pub credentials: Vec<IssuedCredentials>,
}

/// A registry and everything in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrySnapshot {
    /// The registry's name.
    pub name: String,
    /// Its region slug.
    pub region: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The sum of the stored blobs, referenced or not (what the API reports).
    pub storage_usage_bytes: u64,
    /// By name.
    pub repositories: Vec<RepositorySnapshot>,
    /// Every stored blob, by digest, including those no manifest references any more.
    pub blobs: Vec<BlobSnapshot>,
    /// Oldest first.
    pub garbage_collections: Vec<GarbageCollectionSnapshot>,
}

/// A repository and its manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepositorySnapshot {
    /// The repository's name (`team/app`).
    pub name: String,
    /// Newest first, as the API lists them.
    pub manifests: Vec<ManifestSnapshot>,
}

/// A manifest, its tags and blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestSnapshot {
    /// `sha256:...`.
    pub digest: String,
    /// Sorted; empty when the manifest is untagged.
    pub tags: Vec<String>,
    /// When it (and its tags) were last updated.
    pub updated_at: DateTime<Utc>,
    /// The sum of its blobs.
    pub compressed_size_bytes: u64,
    /// The uncompressed size.
    pub size_bytes: u64,
    /// The blobs it references, in order.
    pub blobs: Vec<BlobSnapshot>,
    /// Its media type, as the registry side serves it (`None`: seeded with a digest of the
    /// test's own making, which the registry side does not serve).
    pub media_type: Option<String>,
    /// Its bytes, as the registry side serves them.
    pub bytes: Option<Bytes>,
    /// The digest of its `subject`, for a referrer.
    pub subject: Option<String>,
    /// The digests of the manifests it lists, for an index.
    pub children: Vec<String>,
}

impl ManifestSnapshot {
    /// Its media type and bytes, when the registry side serves it.
    pub fn content(&self) -> Option<(&str, &[u8])> {
        Some((self.media_type.as_deref()?, self.bytes.as_deref()?))
    }

    /// Whether it is an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type.as_deref().is_some_and(crate::oci::is_index)
    }
}

/// A blob: digest and compressed size.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct BlobSnapshot {
    /// `sha256:...`.
    pub digest: String,
    /// Its compressed size.
    pub compressed_size_bytes: u64,
}

/// A garbage collection as the API would show it now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GarbageCollectionSnapshot {
    /// Its UUID.
    pub uuid: String,
    /// `untagged manifests only`, `unreferenced blobs only` or both.
    pub gc_type: String,
    /// Its status now.
    pub status: String,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// Blobs deleted (0 until it succeeds).
    pub blobs_deleted: u64,
    /// Bytes freed (0 until it succeeds).
    pub freed_bytes: u64,
}

impl Snapshot {
    /// The registry named `name`.
    pub fn registry(&self, name: &str) -> Option<&RegistrySnapshot> {
        self.registries.iter().find(|r| r.name == name)
    }

    /// The repository `repository` of registry `registry`.
    pub fn repository(&self, registry: &str, repository: &str) -> Option<&RepositorySnapshot> {
        self.registry(registry)?.repository(repository)
    }
}

impl RegistrySnapshot {
    /// Every manifest of the registry by (repository, digest), with its tags: what a test
    /// compares before and after a change.
    pub fn manifest_tags(&self) -> BTreeMap<(String, String), Vec<String>> {
        self.repositories
            .iter()
            .flat_map(|r| {
                r.manifests
                    .iter()
                    .map(|m| ((r.name.clone(), m.digest.clone()), m.tags.clone()))
            })
            .collect()
    }

    /// The repository named `name`.
    pub fn repository(&self, name: &str) -> Option<&RepositorySnapshot> {
        self.repositories.iter().find(|r| r.name == name)
    }

    /// Whether a blob with this digest is stored.
    pub fn has_blob(&self, digest: &str) -> bool {
        self.blobs.iter().any(|b| b.digest == digest)
    }
}

impl RepositorySnapshot {
    /// The manifest with this digest.
    pub fn manifest(&self, digest: &str) -> Option<&ManifestSnapshot> {
        self.manifests.iter().find(|m| m.digest == digest)
    }

    /// The manifest a tag points at.
    pub fn tagged(&self, tag: &str) -> Option<&ManifestSnapshot> {
        self.manifests
            .iter()
            .find(|m| m.tags.iter().any(|t| t == tag))
    }

    /// Every tag, sorted.
    pub fn tags(&self) -> Vec<&str> {
        sorted_tags(self.manifests.iter().map(|m| &m.tags))
    }
}

/// Every tag of these manifests' tag lists, sorted.
pub(crate) fn sorted_tags<'a>(tag_lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<&'a str> {
    let mut tags: Vec<&str> = tag_lists.flatten().map(String::as_str).collect();
    tags.sort_unstable();
    tags
}

fn blob(digest: &str, size: u64) -> BlobSnapshot {
    BlobSnapshot {
        digest: digest.to_string(),
        compressed_size_bytes: size,
    }
}

/// The snapshot of `state` at `now` (which must have been advanced to `now`).
pub(crate) fn take(state: &State, now: Instant) -> Snapshot {
    let registries = state
        .registries
        .values()
        .map(|r| RegistrySnapshot {
            name: r.name.clone(),
            region: r.region.clone(),
            created_at: r.created_at,
            storage_usage_bytes: r.storage_usage_bytes(),
            repositories: r
                .repositories
                .iter()
                .map(|(name, repo)| RepositorySnapshot {
                    name: name.clone(),
                    manifests: repo
                        .manifests_newest_first()
                        .into_iter()
                        .map(|m| {
                            let mut tags = m.tags.clone();
                            tags.sort_unstable();
                            ManifestSnapshot {
                                digest: m.digest.clone(),
                                tags,
                                updated_at: m.updated_at,
                                compressed_size_bytes: m.compressed_size_bytes(),
                                size_bytes: m.size_bytes,
                                blobs: m.blobs.iter().map(|(d, s)| blob(d, *s)).collect(),
                                media_type: m.content.as_ref().map(|c| c.media_type.clone()),
                                bytes: m.content.as_ref().map(|c| c.bytes.clone()),
                                subject: m
                                    .content
                                    .as_ref()
                                    .and_then(|c| c.subject.as_ref())
                                    .map(|s| s.digest.clone()),
                                children: m
                                    .content
                                    .iter()
                                    .flat_map(|c| &c.children)
                                    .map(|c| c.digest.clone())
                                    .collect(),
                            }
                        })
                        .collect(),
                })
                .collect(),
            blobs: r.blobs.iter().map(|(d, s)| blob(d, *s)).collect(),
            garbage_collections: r
                .collections
                .iter()
                .map(|c| {
                    let view = c.view(now, state.gc_step);
                    GarbageCollectionSnapshot {
                        uuid: c.uuid.clone(),
                        gc_type: c.kind.as_str().to_string(),
                        status: view.status.to_string(),
                        created_at: c.created_at,
                        blobs_deleted: view.blobs_deleted,
                        freed_bytes: view.freed_bytes,
                    }
                })
                .collect(),
        })
        .collect();
    Snapshot {
        tier: state.subscription.tier.slug.to_string(),
        registries,
        kubernetes: state
            .kubernetes
            .iter()
            .map(|(cluster, regs)| (cluster.clone(), regs.iter().cloned().collect()))
            .collect(),
        credentials: state.credentials.iter().cloned().collect(),
    }
}
