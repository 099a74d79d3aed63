//! Planning: which images a policy deletes, repository by repository, the manifests that go
//! with them, and what that frees.

use super::super::error::Error;
use super::super::names::{Digest, RegistryName, RepositoryName};
use super::super::pagination::ListExt;
use super::graph::{
    BlockReason, ImageGraph, ManifestRole, RepositoryStructure, tag_schema_subject,
};
use super::policy::RetentionPolicy;
use super::policy_file::Retention;
use super::structure::{DEFAULT_READ_CONCURRENCY, read_structure};
use super::verdict::{ImageFacts, PruneReason, Verdict};
use crate::ext::registry::{ManifestCache, ManifestKind, RegistryExt};
use crate::{Client, types};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// Repositories listed and read at once while planning, by default. Eight keep the registry's
/// in-flight bound ([`DEFAULT_MAX_IN_FLIGHT`](crate::client::DEFAULT_MAX_IN_FLIGHT)) busy while each
/// repository waits on its listing, its token and its tags, which one at a time they cannot.
pub const DEFAULT_PLAN_CONCURRENCY: usize = 8;

/// The version of the plan format (the JSON of [`Plan`]) this crate writes and reads. A plan of
/// another version is refused: its fields may not mean what this crate takes them to.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// One manifest a plan deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlannedDeletion {
    /// Its repository.
    pub repository: RepositoryName,
    /// Its digest: what the delete call names.
    pub digest: Digest,
    /// The image it goes with: itself, or the image whose closure holds it.
    pub image: Digest,
    /// How it belongs to that image.
    pub role: ManifestRole,
    /// The other deleted images whose closures hold it too (a platform shared by a release
    /// and its candidate): apply deletes it only once all of them are gone.
    #[serde(default)]
    pub held_by: Vec<Digest>,
    /// Its tags at plan time, sorted (empty: untagged). Deleting the manifest removes them.
    pub tags: Vec<String>,
    /// The platforms of an image's index (empty for other members and single-platform images).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// When it was last updated, as listed.
    pub updated_at: Option<DateTime<Utc>>,
    /// Each criterion that selected its image (never empty).
    pub reasons: Vec<PruneReason>,
    /// Its compressed size as listed (0 when not reported).
    pub compressed_size_bytes: u64,
    /// Its uncompressed size as listed (0 when not reported yet).
    pub size_bytes: u64,
}

/// One image of a repository and what the rules decided for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageVerdict {
    /// Its root's digest.
    pub digest: Digest,
    /// Its own tags, sorted (empty: untagged).
    pub tags: Vec<String>,
    /// The platforms of its index (empty for a single-platform image).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// When its root was last updated, as listed.
    pub updated_at: Option<DateTime<Utc>>,
    /// How many manifests its closure holds, itself included.
    pub manifests: usize,
    /// The verdict, with its reasons.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What a policy does to one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryPlan {
    /// The repository.
    pub repository: RepositoryName,
    /// The policy file's rule that decided it (the first matching it); absent when one
    /// policy was planned for every repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The manifests to delete: image by image, newest image first, each image's closure
    /// parent first.
    pub delete: Vec<PlannedDeletion>,
    /// How many manifests stay.
    pub kept: usize,
    /// How many images stay.
    #[serde(default)]
    pub kept_images: usize,
    /// Why nothing is deleted here, if something could not be read: nothing is deleted in
    /// doubt.
    #[serde(default)]
    pub blocked: Vec<BlockReason>,
    /// Every image, newest first, with its verdict and why: the deleted, the kept and the
    /// protected (empty when the repository is blocked).
    #[serde(default)]
    pub images: Vec<ImageVerdict>,
    /// How many index manifests (multi-platform images) the repository holds.
    #[serde(default)]
    pub indexes: usize,
    /// Every manifest seen at plan time: apply re-reads what is new since.
    #[serde(default)]
    pub seen: Vec<Digest>,
    /// Blobs of the deleted manifests (with sizes) and of the kept ones, for the GC estimate.
    #[serde(skip)]
    pub(crate) blobs: BlobUse,
}

/// Which blobs deleted and kept manifests reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BlobUse {
    pub deleted: BTreeMap<String, u64>,
    pub kept: BTreeSet<String>,
}

/// Sums over deletions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanTotals {
    /// Images deleted.
    #[serde(default)]
    pub images: usize,
    /// Manifests deleted.
    pub manifests: usize,
    /// Tags removed with them.
    pub tags: usize,
    /// Their compressed bytes, as listed (blobs shared between manifests count in each).
    pub compressed_size_bytes: u64,
    /// Their uncompressed bytes.
    pub size_bytes: u64,
    /// Manifests kept.
    pub kept: usize,
    /// The bytes a garbage collection after the deletions frees: blobs that the deleted
    /// manifests reference and no remaining manifest of the planned repositories does, each
    /// counted once.
    #[serde(default)]
    pub gc_frees_bytes: u64,
    /// Repositories where nothing is deleted because something could not be read.
    #[serde(default)]
    pub blocked_repositories: usize,
}

/// Everything a policy deletes in a registry: the exact manifests, per repository, and totals.
///
/// `Display` renders it as a table for people; `Serialize` gives JSON for programs, and a
/// plan read back can be applied (apply checks every item again): with [`Plan::from_json`],
/// which refuses a plan of another format version or another registry saying which, or with
/// `Deserialize`, which refuses another format version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The version of its format: [`PLAN_FORMAT_VERSION`] for a plan this crate made.
    #[serde(deserialize_with = "plan_format_version")]
    pub format_version: u32,
    /// The registry.
    pub registry: RegistryName,
    /// The policy, in words (a policy file's rules one to a line, each with its patterns).
    pub policy: String,
    /// The time ages were measured from.
    pub planned_at: DateTime<Utc>,
    /// Each repository planned, by name.
    pub repositories: Vec<RepositoryPlan>,
    /// Sums over every repository.
    pub totals: PlanTotals,
}

impl Plan {
    /// A plan of `repositories` (sorted by name), with its totals; `policy` (a
    /// [`RetentionPolicy`] or a [`Retention`](super::Retention)) is kept in words.
    pub fn new(
        registry: RegistryName,
        policy: &impl fmt::Display,
        planned_at: DateTime<Utc>,
        mut repositories: Vec<RepositoryPlan>,
    ) -> Self {
        repositories.sort_by(|a, b| a.repository.cmp(&b.repository));
        let mut totals = repositories
            .iter()
            .map(RepositoryPlan::totals)
            .fold(PlanTotals::default(), PlanTotals::plus);
        let kept: BTreeSet<&String> = repositories.iter().flat_map(|r| &r.blobs.kept).collect();
        let freed: BTreeMap<&String, u64> = repositories
            .iter()
            .flat_map(|r| &r.blobs.deleted)
            .filter(|(digest, _)| !kept.contains(digest))
            .map(|(d, size)| (d, *size))
            .collect();
        totals.gc_frees_bytes = freed.values().sum();
        Self {
            format_version: PLAN_FORMAT_VERSION,
            registry,
            policy: policy.to_string(),
            planned_at,
            repositories,
            totals,
        }
    }

    /// A plan saved as JSON (what `Serialize` wrote), for `registry`. Refused, saying which,
    /// when it is of another format version than [`PLAN_FORMAT_VERSION`] (or has none: made
    /// by an earlier docr) or for another registry; then when it is no plan. Nothing is sent.
    pub fn from_json(text: &str, registry: &RegistryName) -> Result<Self, Error> {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("the plan is not JSON: {e}")))?;
        check_plan_version(json.get("format_version"))?;
        match json.get("registry").and_then(serde_json::Value::as_str) {
            Some(other) if other != registry.as_str() => {
                return Err(Error::InvalidInput(format!(
                    "the plan is for registry {other}, not {registry}"
                )));
            }
            _ => {}
        }
        serde_json::from_value(json)
            .map_err(|e| Error::InvalidInput(format!("the plan is not a docr plan: {e}")))
    }

    /// Every planned deletion, repository by repository.
    pub fn deletions(&self) -> impl Iterator<Item = &PlannedDeletion> {
        self.repositories.iter().flat_map(|r| r.delete.iter())
    }

    /// Whether any planned repository holds an index (a multi-platform image): a garbage
    /// collection of untagged manifests there may take an index's children, which the
    /// registry lists as untagged; DigitalOcean does not document how it treats them.
    pub fn holds_indexes(&self) -> bool {
        self.repositories.iter().any(|r| r.indexes > 0)
    }

    /// Whether the plan deletes nothing.
    pub fn is_empty(&self) -> bool {
        self.deletions().next().is_none()
    }
}

/// Refuses a plan's `format_version` unless it is [`PLAN_FORMAT_VERSION`], saying which.
fn check_plan_version(version: Option<&serde_json::Value>) -> Result<(), Error> {
    match version {
        Some(v) if v.as_u64() == Some(u64::from(PLAN_FORMAT_VERSION)) => Ok(()),
        None => Err(Error::InvalidInput(format!(
            "the plan has no format version (an earlier docr made it); this docr reads plans of \
             version {PLAN_FORMAT_VERSION}: plan again"
        ))),
        Some(v) => Err(Error::InvalidInput(format!(
            "the plan is of format version {v}; this docr reads plans of version \
             {PLAN_FORMAT_VERSION}: plan again, or apply it with the docr that made it"
        ))),
    }
}

fn plan_format_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = serde_json::Value::deserialize(d)?;
    check_plan_version(Some(&version)).map_err(serde::de::Error::custom)?;
    Ok(PLAN_FORMAT_VERSION)
}

impl RepositoryPlan {
    /// This repository's sums (without the GC estimate, which spans repositories).
    pub fn totals(&self) -> PlanTotals {
        let images: BTreeSet<&Digest> = self.delete.iter().map(|d| &d.image).collect();
        self.delete.iter().fold(
            PlanTotals {
                kept: self.kept,
                images: images.len(),
                blocked_repositories: usize::from(!self.blocked.is_empty()),
                ..PlanTotals::default()
            },
            |t, d| PlanTotals {
                manifests: t.manifests + 1,
                tags: t.tags + d.tags.len(),
                compressed_size_bytes: t.compressed_size_bytes + d.compressed_size_bytes,
                size_bytes: t.size_bytes + d.size_bytes,
                ..t
            },
        )
    }
}

impl PlanTotals {
    fn plus(self, other: PlanTotals) -> PlanTotals {
        PlanTotals {
            images: self.images + other.images,
            manifests: self.manifests + other.manifests,
            tags: self.tags + other.tags,
            compressed_size_bytes: self.compressed_size_bytes + other.compressed_size_bytes,
            size_bytes: self.size_bytes + other.size_bytes,
            kept: self.kept + other.kept,
            gc_frees_bytes: self.gc_frees_bytes + other.gc_frees_bytes,
            blocked_repositories: self.blocked_repositories + other.blocked_repositories,
        }
    }
}

/// What `policy` deletes in one repository, from the API's listing and the registry's
/// structure, ages measured at `now`. Pure and deterministic: the order of `manifests` does
/// not matter.
///
/// A short sequence of named steps, none of which decides anything itself: the **graph** of
/// images and closures (or why the repository is blocked), the images **ranked** newest first
/// (the tagged ones among themselves), each **judged** by [`RetentionPolicy::judge`] on the
/// facts gathered about it, the **shared members** (an image whose root a kept image holds
/// is protected by it, and a manifest goes only when every image holding it goes), the
/// **deletions** in order, and the **sizes** a garbage collection frees.
pub fn plan_repository(
    policy: &RetentionPolicy,
    registry: &RegistryName,
    repository: &RepositoryName,
    manifests: &[types::RepositoryManifest],
    structure: &RepositoryStructure,
    now: DateTime<Utc>,
) -> RepositoryPlan {
    let listing = Listing::new(repository, manifests);
    let graph = ImageGraph::build(&listing.by_digest.keys().cloned().collect(), structure);
    let tags = tags_by_digest(&listing, structure);
    let mut plan = RepositoryPlan {
        repository: repository.clone(),
        rule: None,
        delete: Vec::new(),
        kept: graph.nodes.len() + listing.unaddressable,
        kept_images: 0,
        blocked: graph.blocked.clone(),
        images: Vec::new(),
        indexes: structure
            .manifests
            .values()
            .filter(|m| m.as_ref().is_ok_and(|m| m.kind == ManifestKind::Index))
            .count(),
        seen: graph.nodes.iter().cloned().collect(),
        blobs: BlobUse::default(),
    };
    let images = rank(&graph, &tags, &listing, now);
    plan.kept_images = images.len();
    if !plan.blocked.is_empty() {
        return plan;
    }
    let verdicts = judge(policy, registry, repository, &images);
    plan.delete = deletions(repository, &images, &verdicts, &tags, &listing);
    plan.kept = graph.nodes.len() + listing.unaddressable - plan.delete.len();
    plan.kept_images = verdicts.iter().filter(|v| !v.deletes()).count();
    plan.images = (images.into_iter().zip(verdicts))
        .map(|(image, verdict)| ImageVerdict {
            updated_at: listing.updated(&image.digest),
            manifests: image.closure.len(),
            platforms: image.platforms(),
            digest: image.digest,
            tags: image.tags,
            verdict,
        })
        .collect();
    plan.blobs = blob_use(&listing, &plan.delete);
    plan
}

/// The API's listing of a repository, by digest.
struct Listing<'a> {
    by_digest: BTreeMap<Digest, &'a types::RepositoryManifest>,
    /// Manifests listed without a valid digest: they cannot be deleted, so they stay.
    unaddressable: usize,
}

impl<'a> Listing<'a> {
    fn new(repository: &RepositoryName, manifests: &'a [types::RepositoryManifest]) -> Self {
        let mut listing = Listing {
            by_digest: BTreeMap::new(),
            unaddressable: 0,
        };
        for m in manifests {
            match m.digest.as_deref().map(Digest::new) {
                Some(Ok(digest)) => {
                    // Listed twice (pages shifting): the first wins, deterministically by
                    // content.
                    listing.by_digest.entry(digest).or_insert(m);
                }
                _ => {
                    tracing::warn!(%repository, digest = ?m.digest, "a manifest without a valid digest cannot be deleted; keeping it");
                    listing.unaddressable += 1;
                }
            }
        }
        listing
    }

    fn updated(&self, digest: &Digest) -> Option<DateTime<Utc>> {
        self.by_digest.get(digest).and_then(|m| m.updated_at)
    }
}

/// Every manifest's tags, from the listing and the registry (which wins where they differ,
/// by adding), sorted.
fn tags_by_digest(
    listing: &Listing,
    structure: &RepositoryStructure,
) -> BTreeMap<Digest, Vec<String>> {
    let mut tags: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
    for (digest, m) in &listing.by_digest {
        tags.entry(digest.clone())
            .or_default()
            .extend(m.tags.iter().cloned());
    }
    for (tag, digest) in &structure.tags {
        tags.entry(digest.clone()).or_default().push(tag.clone());
    }
    for t in tags.values_mut() {
        t.sort();
        t.dedup();
    }
    tags
}

/// An image, ranked: the facts planning gathers about it before it is judged.
struct RankedImage {
    digest: Digest,
    /// Its own tags (tag-schema tags of referrers left out): empty when untagged.
    tags: Vec<String>,
    /// Every tag of its root, tag-schema ones included (what an in-use tag may name).
    all_tags: Vec<String>,
    tagged_rank: usize,
    age: Option<Duration>,
    closure: Vec<(Digest, ManifestRole)>,
}

impl RankedImage {
    fn platforms(&self) -> Vec<String> {
        (self.closure.iter())
            .filter_map(|(_, role)| match role {
                ManifestRole::Platform { platform } => platform.clone(),
                _ => None,
            })
            .collect()
    }
}

/// The images, newest first (by their root's `updated_at`; one without it first; ties by
/// digest), each with its place among the tagged images.
fn rank(
    graph: &ImageGraph,
    tags: &BTreeMap<Digest, Vec<String>>,
    listing: &Listing,
    now: DateTime<Utc>,
) -> Vec<RankedImage> {
    let mut digests = graph.images(tags);
    digests.sort_by(|a, b| {
        newest_first(listing.updated(a), listing.updated(b)).then_with(|| a.cmp(b))
    });
    let mut tagged = 0;
    (digests.into_iter())
        .map(|digest| {
            let all_tags = tags.get(&digest).cloned().unwrap_or_default();
            let own: Vec<String> = (all_tags.iter())
                .filter(|t| tag_schema_subject(t).is_none())
                .cloned()
                .collect();
            let tagged_rank = tagged;
            if !own.is_empty() {
                tagged += 1;
            }
            RankedImage {
                age: listing
                    .updated(&digest)
                    .map(|t| (now - t).to_std().unwrap_or(Duration::ZERO)),
                closure: graph.closure(&digest),
                digest,
                tags: own,
                all_tags,
                tagged_rank,
            }
        })
        .collect()
}

/// Every image's verdict, in two passes of the same rules: each image on its own facts, then
/// the images a kept image holds (their root in its closure) once more, with that fact.
fn judge(
    policy: &RetentionPolicy,
    registry: &RegistryName,
    repository: &RepositoryName,
    images: &[RankedImage],
) -> Vec<Verdict> {
    let facts: Vec<ImageFacts> = (images.iter())
        .map(|image| {
            let closure: Vec<&Digest> = image.closure.iter().map(|(d, _)| d).collect();
            let in_use = policy.in_use_matches(registry, repository, &image.all_tags, &closure);
            let facts = if image.tags.is_empty() {
                ImageFacts::untagged(image.age)
            } else {
                ImageFacts::tagged(image.tags.clone(), image.tagged_rank, image.age)
            };
            facts.in_use(in_use)
        })
        .collect();
    let first: Vec<Verdict> = facts.iter().map(|f| policy.judge(f)).collect();
    // A kept image keeps its whole closure; its closure holds the closures of the images
    // whose roots it holds, so one pass finds every image a kept image holds.
    let mut held_by_kept: BTreeMap<&Digest, &Digest> = BTreeMap::new();
    for (image, verdict) in images.iter().zip(&first) {
        if !verdict.deletes() {
            for (member, _) in image.closure.iter().skip(1) {
                held_by_kept.entry(member).or_insert(&image.digest);
            }
        }
    }
    // Judged again with that fact: a selected image becomes protected by it, and a kept one
    // names it among its reasons.
    (images.iter().zip(facts).zip(first))
        .map(
            |((image, facts), verdict)| match held_by_kept.get(&image.digest) {
                Some(kept) => policy.judge(&facts.member_of_kept(Some((*kept).clone()))),
                None => verdict,
            },
        )
        .collect()
}

/// The manifests deleted images take: every member of a deleted image's closure that no kept
/// image holds, once, image by image (newest first), each image's parent first. A member that
/// is itself a deleted image's root is planned under its own image; `held_by` names the other
/// deleted images that hold a member, which apply deletes first.
fn deletions(
    repository: &RepositoryName,
    images: &[RankedImage],
    verdicts: &[Verdict],
    tags: &BTreeMap<Digest, Vec<String>>,
    listing: &Listing,
) -> Vec<PlannedDeletion> {
    let mut kept_members: BTreeSet<&Digest> = BTreeSet::new();
    let mut holders: BTreeMap<&Digest, Vec<&Digest>> = BTreeMap::new();
    let mut deleted_roots: BTreeSet<&Digest> = BTreeSet::new();
    for (image, verdict) in images.iter().zip(verdicts) {
        if verdict.deletes() {
            deleted_roots.insert(&image.digest);
            for (member, _) in &image.closure {
                holders.entry(member).or_default().push(&image.digest);
            }
        } else {
            kept_members.extend(image.closure.iter().map(|(d, _)| d));
        }
    }
    let no_tags = Vec::new();
    let mut planned: BTreeSet<&Digest> = BTreeSet::new();
    let mut delete = Vec::new();
    for (image, verdict) in images.iter().zip(verdicts) {
        let Verdict::Delete(reasons) = verdict else {
            continue;
        };
        let platforms = image.platforms();
        for (digest, role) in &image.closure {
            let own_image = digest == &image.digest;
            if kept_members.contains(digest)
                || (!own_image && deleted_roots.contains(digest))
                || !planned.insert(digest)
            {
                continue;
            }
            let listed = listing.by_digest.get(digest);
            delete.push(PlannedDeletion {
                repository: repository.clone(),
                digest: digest.clone(),
                image: image.digest.clone(),
                role: role.clone(),
                held_by: (holders.get(digest).into_iter().flatten())
                    .filter(|holder| **holder != &image.digest)
                    .map(|holder| (*holder).clone())
                    .collect(),
                tags: tags.get(digest).unwrap_or(&no_tags).clone(),
                platforms: if own_image {
                    platforms.clone()
                } else {
                    Vec::new()
                },
                updated_at: listing.updated(digest),
                reasons: reasons.clone(),
                compressed_size_bytes: bytes(listed.and_then(|m| m.compressed_size_bytes)),
                size_bytes: bytes(listed.and_then(|m| m.size_bytes)),
            });
        }
    }
    delete
}

/// Which blobs the deleted manifests and the kept ones reference.
fn blob_use(listing: &Listing, delete: &[PlannedDeletion]) -> BlobUse {
    let planned: BTreeSet<&Digest> = delete.iter().map(|d| &d.digest).collect();
    let mut blobs = BlobUse::default();
    for (digest, m) in &listing.by_digest {
        for blob in &m.blobs {
            let Some(blob_digest) = blob.digest.clone() else {
                continue;
            };
            if planned.contains(digest) {
                blobs
                    .deleted
                    .insert(blob_digest, bytes(blob.compressed_size_bytes));
            } else {
                blobs.kept.insert(blob_digest);
            }
        }
    }
    blobs
}

/// Newest first; a manifest without `updated_at` before every dated one.
fn newest_first(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => b.cmp(&a),
    }
}

fn bytes(listed: Option<i64>) -> u64 {
    listed.and_then(|b| u64::try_from(b).ok()).unwrap_or(0)
}

/// Plans a prune from the API's listings and the registry's structure; end it with
/// [`send`](Self::send).
#[must_use = "nothing is listed until `send`"]
pub struct PlanPrune {
    client: Client,
    registry: RegistryName,
    retention: Retention,
    repositories: Option<Vec<RepositoryName>>,
    concurrency: usize,
    cache: Option<ManifestCache>,
}

impl PlanPrune {
    pub(super) fn new(client: Client, registry: RegistryName, retention: Retention) -> Self {
        Self {
            client,
            registry,
            retention,
            repositories: None,
            concurrency: DEFAULT_PLAN_CONCURRENCY,
            cache: None,
        }
    }

    /// Reads manifests through `cache` and keeps there what it reads: a manifest is read
    /// from the registry once in its life (see [`RegistryReader::with_cache`](crate::registry::RegistryReader::with_cache)). Tags are
    /// still resolved at the registry.
    pub fn manifest_cache(mut self, cache: ManifestCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Plans these repositories only (default: every repository of the registry). With
    /// [`RetentionRules`](super::RetentionRules), those no rule matches are left out, and a
    /// rule may match none of these.
    pub fn repositories(mut self, repositories: impl IntoIterator<Item = RepositoryName>) -> Self {
        self.repositories = Some(repositories.into_iter().collect());
        self
    }

    /// How many repositories are planned at once (default 4); each reads up to
    /// `DEFAULT_READ_CONCURRENCY` manifests at once.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Lists the repositories (unless given) and every manifest of each, reads each
    /// manifest's structure from the registry once, then plans. Changes nothing. Fails when a
    /// listing of the API fails: a plan is complete or it is not made. A registry read that
    /// fails blocks its repository instead (see [`RepositoryPlan::blocked`]).
    ///
    /// With [`RetentionRules`](super::RetentionRules): each repository is planned under the
    /// first rule matching it, and one no rule matches is neither read nor planned. Refused
    /// before any manifest is read ([`Error::PolicyFile`]): rules made for another registry,
    /// and, when every repository is planned, a rule that decides none of them (see
    /// [`RetentionRules::check_repositories`](super::RetentionRules::check_repositories)).
    pub async fn send(self) -> Result<Plan, Error> {
        let Self {
            client,
            registry,
            retention,
            repositories,
            concurrency,
            cache,
        } = self;
        retention.check(&registry, None)?;
        let now: DateTime<Utc> = client.clock().now().into();
        let names: BTreeSet<RepositoryName> = match repositories {
            Some(names) => names.into_iter().collect(),
            None => {
                let listed: Vec<RepositoryName> = client
                    .list_repositories(&registry)
                    .collect()
                    .await?
                    .into_iter()
                    .filter_map(|r| {
                        let name = r.name?;
                        name.parse()
                            .inspect_err(|e| tracing::warn!(error = %e, "skipping a repository whose name this crate refuses"))
                            .ok()
                    })
                    .collect();
                retention.check(&registry, Some(&listed))?;
                listed.into_iter().collect()
            }
        };
        let reader = match cache {
            Some(cache) => client.registry_reader(&registry).with_cache(cache),
            None => client.registry_reader(&registry),
        };
        let (client, registry, retention, reader) = (&client, &registry, &retention, &reader);
        // A repository no rule matches is left alone: neither listed nor read.
        let names = names
            .into_iter()
            .filter(|repository| retention.policy_for(repository).is_some());
        let repositories: Vec<Option<RepositoryPlan>> = stream::iter(names)
            .map(|repository| async move {
                let Some((rule, policy)) = retention.policy_for(&repository) else {
                    return Ok(None);
                };
                let manifests = client
                    .list_manifests(registry, &repository)
                    .collect()
                    .await?;
                let listed: BTreeSet<Digest> = manifests
                    .iter()
                    .filter_map(|m| m.digest.as_deref().and_then(|d| Digest::new(d).ok()))
                    .collect();
                let structure =
                    read_structure(reader, &repository, &listed, DEFAULT_READ_CONCURRENCY).await;
                let mut plan =
                    plan_repository(policy, registry, &repository, &manifests, &structure, now);
                plan.rule = rule.map(str::to_string);
                Ok::<_, Error>(Some(plan))
            })
            // Unordered: a slow repository does not hold back the ones after it (`Plan::new`
            // puts them back in name order).
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let repositories = repositories.into_iter().flatten().collect();
        Ok(Plan::new(registry.clone(), retention, now, repositories))
    }
}
