//! What the fake holds when it starts: registries, repositories, manifests with their tags and
//! blobs, as builders; and the demo data set.

use super::images::IndexSeed;
use super::oci;
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};

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

    /// The region slug (`nyc3`, `sfo3`, `sfo2`, `ams3`, `sgp1`, `fra1`, `blr1`, `syd1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The subscription tier (`starter`, `basic`, `professional`). The subscription belongs to
    /// the account, as in DigitalOcean's API: the last seed that names a tier sets it.
    pub fn tier(mut self, slug: impl Into<String>) -> Self {
        self.tier = Some(slug.into());
        self
    }

    /// When the registry was created (default: when the fake started).
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
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

/// A manifest to create at start: its digest, tags (none: untagged), blobs and times, and the
/// bytes the registry side serves.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestSeed {
    pub(crate) digest: String,
    pub(crate) tags: Vec<String>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
    pub(crate) size_bytes: Option<u64>,
    pub(crate) blobs: Vec<(String, u64)>,
    /// Media type and bytes; `None` for a digest [`digest`] did not make.
    pub(crate) content: Option<(String, Bytes)>,
    /// Whether the API's `blobs` come from the content (config and layers) rather than from
    /// [`blob`](Self::blob) calls.
    pub(crate) blobs_from_content: bool,
    /// Blobs whose bytes the registry side serves, by digest.
    pub(crate) blob_contents: Vec<(String, Bytes)>,
}

impl ManifestSeed {
    /// A manifest with this digest (`sha256:` and 64 lowercase hex digits; see [`digest`]).
    /// A digest from [`digest`] comes with the bytes of its synthesized manifest, which the
    /// registry side serves; the API's `blobs` are the ones [`blob`](Self::blob) adds.
    pub fn new(digest: impl Into<String>) -> Self {
        let digest = digest.into();
        let content = oci::synthesized(&digest).map(|bytes| (oci::OCI_MANIFEST.to_string(), bytes));
        Self {
            digest,
            tags: Vec::new(),
            updated_at: None,
            size_bytes: None,
            blobs: Vec::new(),
            content,
            blobs_from_content: false,
            blob_contents: Vec::new(),
        }
    }

    /// A manifest of these bytes (one of the four manifest media types), its digest their
    /// SHA-256. The API's `blobs` are an image manifest's config and layers (an index has
    /// none); [`ImageSeed`](crate::ImageSeed) and [`IndexSeed`](crate::IndexSeed) build such
    /// bytes. Bytes that are no manifest make [`start`](crate::FakeDocrBuilder::start) fail.
    pub fn raw(media_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            digest: oci::sha256(&bytes),
            blobs_from_content: true,
            content: Some((media_type.into(), bytes)),
            ..Self::new(String::new())
        }
    }

    /// Its digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Its media type and bytes, when it has them.
    pub fn content(&self) -> Option<(&str, &[u8])> {
        self.content
            .as_ref()
            .map(|(media_type, bytes)| (media_type.as_str(), bytes.as_ref()))
    }

    /// Stores the bytes of a blob it references, for the registry side to serve.
    pub fn blob_content(mut self, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        self.blob_contents.push((oci::sha256(&bytes), bytes));
        self
    }

    /// Adds tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Adds one tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// When the manifest (and its tags) were last updated (default: when the fake started).
    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = Some(at);
        self
    }

    /// Adds a blob (layer or config) the manifest references. A blob shared by several
    /// manifests of a registry is stored, and counted in its storage, once.
    pub fn blob(mut self, digest: impl Into<String>, compressed_size_bytes: u64) -> Self {
        self.blobs.push((digest.into(), compressed_size_bytes));
        self
    }

    /// The uncompressed size (default: the compressed size, the sum of the blobs).
    pub fn size_bytes(mut self, size: u64) -> Self {
        self.size_bytes = Some(size);
        self
    }
}

/// A deterministic `sha256:` digest made from `label`: the real SHA-256 of an OCI image
/// manifest synthesized for the label (the empty config and layer, and the annotation
/// `dev.docr-fake.label: <label>`). The same label always gives the same digest; a
/// [`ManifestSeed::new`] with it is served by the registry side as those bytes. The process
/// remembers the first million labels it was given for that.
///
/// ```
/// let d = docr_fake::digest("web-1.0");
/// assert!(d.starts_with("sha256:") && d.len() == 71);
/// assert_eq!(d, docr_fake::digest("web-1.0"));
/// ```
pub fn digest(label: &str) -> String {
    oci::label_digest(label)
}

/// One step of SplitMix64: a well-mixed 64-bit value from any input.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A size between `min` and `min + spread` that depends only on `label`.
fn size_of(label: &str, min: u64, spread: u64) -> u64 {
    let hash = label
        .bytes()
        .fold(0u64, |h, b| splitmix64(h ^ u64::from(b)));
    min + hash % spread.max(1)
}

/// The demo data set: three registries on a professional subscription, repositories with
/// nested names, one with 45 tags, manifests sharing base layers, untagged manifests and an
/// unreferenced blob. Every digest, size and time is fixed.
pub(crate) fn demo() -> Vec<RegistrySeed> {
    let base = Utc
        .with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let at = |hours: i64| base + chrono::TimeDelta::hours(hours);
    let debian = (digest("layer:debian-bookworm"), 29_150_000);
    let alpine = (digest("layer:alpine-3.19"), 3_410_000);
    let image = |repo: &str, n: usize, base_layer: &(String, u64), hours: i64| {
        let label = format!("{repo}#{n}");
        ManifestSeed::new(digest(&format!("manifest:{label}")))
            .updated_at(at(hours))
            .blob(
                digest(&format!("config:{label}")),
                size_of(&label, 1_000, 6_000),
            )
            .blob(base_layer.0.clone(), base_layer.1)
            .blob(
                digest(&format!("layer:{label}")),
                size_of(&label, 200_000, 9_000_000),
            )
    };

    // `web`: 40 releases (some also `lts`, `stable`, `latest`, `prod`, `edge`), 3 untagged.
    let mut web = RepositorySeed::new("web");
    for n in 0..43 {
        let mut manifest = image("web", n, &debian, n as i64);
        if n < 40 {
            manifest = manifest.tag(format!("1.{}.{}", n / 10, n % 10));
        }
        manifest = match n {
            30 => manifest.tag("lts"),
            37 => manifest.tag("stable"),
            38 => manifest.tags(["latest", "prod"]),
            39 => manifest.tag("edge"),
            _ => manifest,
        };
        web = web.manifest(manifest);
    }
    let mut api = RepositorySeed::new("team/api");
    for n in 0..8 {
        let mut manifest = image("team/api", n, &alpine, 100 + n as i64);
        if n >= 2 {
            manifest = manifest.tag(format!("v{}", n - 1));
        }
        if n == 7 {
            manifest = manifest.tag("latest");
        }
        api = api.manifest(manifest);
    }
    let worker = (0..3).fold(RepositorySeed::new("team/worker"), |repo, n| {
        repo.manifest(image("team/worker", n, &alpine, 200 + n as i64).tag(format!("r{n}")))
    });
    let runner = RepositorySeed::new("tools/ci/runner")
        .manifest(image("tools/ci/runner", 0, &debian, 300).tags(["latest", "2024.03"]));

    // The staging registry holds the same team/api images as acme (same digests).
    let staging_api = (5..8).fold(RepositorySeed::new("team/api"), |repo, n| {
        repo.manifest(image("team/api", n, &alpine, 100 + n as i64).tag(format!("v{}", n - 1)))
    });
    let sandbox = RepositorySeed::new("sandbox").manifest(image("sandbox", 0, &alpine, 400));

    vec![
        RegistrySeed::new("acme")
            .tier("professional")
            .region("nyc3")
            .created_at(at(-24 * 30))
            .repository(web)
            .repository(api)
            .repository(worker)
            .repository(runner),
        RegistrySeed::new("acme-staging")
            .region("fra1")
            .created_at(at(-24 * 7))
            .repository(staging_api)
            .repository(sandbox)
            .blob(digest("layer:left-behind"), 12_345_678),
        RegistrySeed::new("acme-archive")
            .region("ams3")
            .created_at(at(-24 * 365)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_well_formed_and_stable() {
        let d = digest("x");
        assert!(docr::Digest::new(d.clone()).is_ok());
        assert_eq!(d, digest("x"));
        assert_ne!(d, digest("y"));
    }

    #[test]
    fn the_demo_has_many_tags_and_untagged_manifests() {
        let demo = demo();
        let web = &demo[0].repositories[0];
        let tags: usize = web.manifests.iter().map(|m| m.tags.len()).sum();
        assert_eq!(tags, 45);
        assert!(web.manifests.iter().any(|m| m.tags.is_empty()));
    }
}
