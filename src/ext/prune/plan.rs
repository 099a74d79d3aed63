//! Planning: which manifests a policy deletes, repository by repository, and what that frees.

use super::super::error::Error;
use super::super::names::{Digest, RegistryName, RepositoryName};
use super::super::pagination::ListExt;
use super::policy::{PruneDecision, PruneReason, RetentionPolicy};
use crate::{Client, types};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// Repositories listed at once while planning, by default.
pub const DEFAULT_PLAN_CONCURRENCY: usize = 4;

/// One manifest a plan deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlannedDeletion {
    /// Its repository.
    #[serde(with = "name")]
    pub repository: RepositoryName,
    /// Its digest: what the delete call names.
    #[serde(with = "name")]
    pub digest: Digest,
    /// Its tags at plan time, sorted (empty: untagged). Deleting the manifest removes them.
    pub tags: Vec<String>,
    /// When it was last updated, as listed.
    pub updated_at: Option<DateTime<Utc>>,
    /// Each criterion that selected it (never empty).
    pub reasons: Vec<PruneReason>,
    /// Its compressed size as listed (0 when not reported).
    pub compressed_size_bytes: u64,
    /// Its uncompressed size as listed (0 when not reported yet).
    pub size_bytes: u64,
}

/// What a policy does to one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryPlan {
    /// The repository.
    #[serde(with = "name")]
    pub repository: RepositoryName,
    /// The manifests to delete, newest first.
    pub delete: Vec<PlannedDeletion>,
    /// How many manifests stay.
    pub kept: usize,
}

/// Sums over deletions. Bytes are an upper bound of what is freed: blobs shared with kept
/// manifests stay, and space is reclaimed only by a garbage collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanTotals {
    /// Manifests deleted.
    pub manifests: usize,
    /// Tags removed with them.
    pub tags: usize,
    /// Their compressed bytes.
    pub compressed_size_bytes: u64,
    /// Their uncompressed bytes.
    pub size_bytes: u64,
    /// Manifests kept.
    pub kept: usize,
}

/// Everything a policy deletes in a registry: the exact manifests, per repository, and totals.
///
/// `Display` renders it as a table for people; `Serialize` gives JSON for programs, and a
/// plan read back with `Deserialize` can be applied (apply checks every item again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The registry.
    #[serde(with = "name")]
    pub registry: RegistryName,
    /// The policy, in words.
    pub policy: String,
    /// The time ages were measured from.
    pub planned_at: DateTime<Utc>,
    /// Each repository planned, by name.
    pub repositories: Vec<RepositoryPlan>,
    /// Sums over every repository.
    pub totals: PlanTotals,
}

impl Plan {
    /// A plan of `repositories` (sorted by name), with its totals.
    pub fn new(
        registry: RegistryName,
        policy: &RetentionPolicy,
        planned_at: DateTime<Utc>,
        mut repositories: Vec<RepositoryPlan>,
    ) -> Self {
        repositories.sort_by(|a, b| a.repository.cmp(&b.repository));
        let totals = repositories
            .iter()
            .map(RepositoryPlan::totals)
            .fold(PlanTotals::default(), PlanTotals::plus);
        Self {
            registry,
            policy: policy.to_string(),
            planned_at,
            repositories,
            totals,
        }
    }

    /// Every planned deletion, repository by repository.
    pub fn deletions(&self) -> impl Iterator<Item = &PlannedDeletion> {
        self.repositories.iter().flat_map(|r| r.delete.iter())
    }

    /// Whether the plan deletes nothing.
    pub fn is_empty(&self) -> bool {
        self.deletions().next().is_none()
    }
}

impl RepositoryPlan {
    /// This repository's sums.
    pub fn totals(&self) -> PlanTotals {
        self.delete.iter().fold(
            PlanTotals {
                kept: self.kept,
                ..PlanTotals::default()
            },
            |t, d| PlanTotals {
                manifests: t.manifests + 1,
                tags: t.tags + d.tags.len(),
                compressed_size_bytes: t.compressed_size_bytes + d.compressed_size_bytes,
                size_bytes: t.size_bytes + d.size_bytes,
                kept: t.kept,
            },
        )
    }
}

impl PlanTotals {
    fn plus(self, other: PlanTotals) -> PlanTotals {
        PlanTotals {
            manifests: self.manifests + other.manifests,
            tags: self.tags + other.tags,
            compressed_size_bytes: self.compressed_size_bytes + other.compressed_size_bytes,
            size_bytes: self.size_bytes + other.size_bytes,
            kept: self.kept + other.kept,
        }
    }
}

/// What `policy` deletes among a repository's `manifests`, ages measured at `now`. Pure and
/// deterministic: the order of `manifests` does not matter.
///
/// Manifests are ranked newest first by `updated_at` (one without it ranks as newest), ties
/// by digest, and each gets [`RetentionPolicy::decide`]. A manifest listed twice (pages shifting
/// during a listing) counts once; one without a valid digest cannot be deleted and is kept.
pub fn plan_repository(
    policy: &RetentionPolicy,
    repository: &RepositoryName,
    manifests: &[types::RepositoryManifest],
    now: DateTime<Utc>,
) -> RepositoryPlan {
    let mut unaddressable = 0;
    let mut ranked: Vec<(&types::RepositoryManifest, Digest, Vec<String>)> = Vec::new();
    for m in manifests {
        match m.digest.as_deref().map(Digest::new) {
            Some(Ok(digest)) => {
                let mut tags = m.tags.clone();
                tags.sort();
                ranked.push((m, digest, tags));
            }
            _ => {
                tracing::warn!(%repository, digest = ?m.digest, "a manifest without a valid digest cannot be deleted; keeping it");
                unaddressable += 1;
            }
        }
    }
    ranked.sort_by(|(a, da, ta), (b, db, tb)| {
        newest_first(a.updated_at, b.updated_at)
            .then_with(|| da.cmp(db))
            .then_with(|| ta.cmp(tb))
    });
    let mut seen = HashSet::new();
    ranked.retain(|(_, digest, _)| seen.insert(digest.clone()));

    let mut delete = Vec::new();
    for (rank, (m, digest, tags)) in ranked.iter().enumerate() {
        let age = m
            .updated_at
            .map(|t| (now - t).to_std().unwrap_or(Duration::ZERO));
        if let PruneDecision::Delete(reasons) = policy.decide(rank, age, tags) {
            delete.push(PlannedDeletion {
                repository: repository.clone(),
                digest: digest.clone(),
                tags: tags.clone(),
                updated_at: m.updated_at,
                reasons,
                compressed_size_bytes: bytes(m.compressed_size_bytes),
                size_bytes: bytes(m.size_bytes),
            });
        }
    }
    RepositoryPlan {
        repository: repository.clone(),
        kept: ranked.len() - delete.len() + unaddressable,
        delete,
    }
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

/// Plans a prune from the API's listings; end it with [`send`](Self::send).
#[must_use = "nothing is listed until `send`"]
pub struct PlanPrune {
    client: Client,
    registry: RegistryName,
    policy: RetentionPolicy,
    repositories: Option<Vec<RepositoryName>>,
    concurrency: usize,
}

impl PlanPrune {
    pub(super) fn new(client: Client, registry: RegistryName, policy: RetentionPolicy) -> Self {
        Self {
            client,
            registry,
            policy,
            repositories: None,
            concurrency: DEFAULT_PLAN_CONCURRENCY,
        }
    }

    /// Plans these repositories only (default: every repository of the registry).
    pub fn repositories(mut self, repositories: impl IntoIterator<Item = RepositoryName>) -> Self {
        self.repositories = Some(repositories.into_iter().collect());
        self
    }

    /// How many repositories are listed at once (default 4).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Lists the repositories (unless given) and every manifest of each, then plans. Changes
    /// nothing. Fails when a listing fails: a plan is complete or it is not made.
    pub async fn send(self) -> Result<Plan, Error> {
        let Self {
            client,
            registry,
            policy,
            repositories,
            concurrency,
        } = self;
        let now: DateTime<Utc> = client.clock().now().into();
        let names: BTreeSet<RepositoryName> = match repositories {
            Some(names) => names.into_iter().collect(),
            None => client
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
                .collect(),
        };
        let (client, registry, policy) = (&client, &registry, &policy);
        let repositories: Vec<RepositoryPlan> = stream::iter(names)
            .map(|repository| async move {
                let manifests = client
                    .list_manifests(registry, &repository)
                    .collect()
                    .await?;
                Ok::<_, Error>(plan_repository(policy, &repository, &manifests, now))
            })
            .buffered(concurrency)
            .try_collect()
            .await?;
        Ok(Plan::new(registry.clone(), policy, now, repositories))
    }
}

/// Names as plain strings on the wire, checked again when read back.
mod name {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer, N: AsRef<str>>(name: &N, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(name.as_ref())
    }

    pub fn deserialize<'de, D, N>(d: D) -> Result<N, D::Error>
    where
        D: Deserializer<'de>,
        N: FromStr<Err = crate::ext::names::NameError>,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}
