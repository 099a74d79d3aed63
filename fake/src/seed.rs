//! What the fake holds when it starts: registries and their repositories, as builders. The
//! manifests they hold are [`ManifestSeed`]s, made by hand (`manifest_seed.rs`) or from images
//! and indexes (`images.rs`).

use super::images::IndexSeed;
use super::manifest_seed::ManifestSeed;
use chrono::{DateTime, Utc};

/// A registry to create at start.
///
/// ```
/// use docr_fake::{ManifestSeed, RegistrySeed, RepositorySeed, digest};
///
/// let acme = RegistrySeed::new("acme").tier("professional").region("nyc3").repository(
///     RepositorySeed::new("team/app")
///         .manifest(ManifestSeed::new(digest("app-1")).tags(["v1", "latest"]).blob(digest("layer"), 1234)),
/// );
/// # let _ = acme;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySeed {
    pub(crate) name: String,
    pub(crate) region: Option<String>,
    pub(crate) tier: Option<String>,
    pub(crate) created_at: Option<DateTime<Utc>>,
    pub(crate) repositories: Vec<RepositorySeed>,
    pub(crate) blobs: Vec<(String, u64)>,
}

impl RegistrySeed {
    /// A registry named `name` (`a-z`, `0-9`, `-`, at most 63), empty, in `nyc3`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            region: None,
            tier: None,
            created_at: None,
            repositories: Vec::new(),
            blobs: Vec::new(),
        }
    }

    setters! {
        /// The region slug (`nyc3`, `sfo3`, `sfo2`, `ams3`, `sgp1`, `fra1`, `blr1`, `syd1`).
        region(region: impl Into<String>) => region = Some(region.into());
        /// The subscription tier (`starter`, `basic`, `professional`). The subscription belongs
        /// to the account, as in DigitalOcean's API: the last seed that names a tier sets it.
        tier(slug: impl Into<String>) => tier = Some(slug.into());
        /// When the registry was created (default: when the fake started).
        created_at(at: DateTime<Utc>) => created_at = Some(at);
    }

    /// Adds a repository.
    pub fn repository(mut self, repository: RepositorySeed) -> Self {
        self.repositories.push(repository);
        self
    }

    /// Adds a blob that no manifest references (what a garbage collection frees).
    pub fn blob(mut self, digest: impl Into<String>, compressed_size_bytes: u64) -> Self {
        self.blobs.push((digest.into(), compressed_size_bytes));
        self
    }
}

/// A repository to create at start; its name may be nested (`team/app`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepositorySeed {
    pub(crate) name: String,
    pub(crate) manifests: Vec<ManifestSeed>,
}

impl RepositorySeed {
    /// An empty repository.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            manifests: Vec::new(),
        }
    }

    /// Adds a manifest.
    pub fn manifest(mut self, manifest: ManifestSeed) -> Self {
        self.manifests.push(manifest);
        self
    }

    /// Adds an index: its children untagged (those the repository already has are shared, not
    /// added twice), then the index with its tags.
    pub fn index(mut self, index: IndexSeed) -> Self {
        for child in index.children() {
            if !self.manifests.iter().any(|m| m.digest == child.digest) {
                self.manifests.push(child);
            }
        }
        self.manifests.push(index.seed());
        self
    }
}

/// One step of SplitMix64: a well-mixed 64-bit value from any input.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
