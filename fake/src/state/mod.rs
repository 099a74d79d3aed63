//! [`State`], the account the fake serves: its registries (what each holds is in
//! [`registry`]), the subscription, Kubernetes integrations, issued credentials, and the
//! registry side's uploads and tokens ([`registry_side`]); built from the seeds. [`Now`] is the
//! moment a request is handled.

mod collection;
mod credentials;
mod now;
mod registry;
mod registry_side;

pub(crate) use collection::{Collection, View};
pub use credentials::IssuedCredentials;
pub(crate) use now::Now;
pub(crate) use registry::{Manifest, Registry, Repository};
pub(crate) use registry_side::{Grant, RegistrySide, Upload};

use crate::oci::Content;
use crate::seed::{RegistrySeed, splitmix64};
use crate::tiers::{self, Tier, Usage};
use chrono::{DateTime, Utc};
use docr::{Digest, RegistryName, RepositoryName, Tag};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// How many issued credentials the fake remembers.
const CREDENTIALS_KEPT: usize = 1_000;

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) registries: BTreeMap<String, Registry>,
    pub(crate) subscription: Subscription,
    /// Cluster UUID -> the registries integrated with it.
    pub(crate) kubernetes: BTreeMap<String, BTreeSet<String>>,
    pub(crate) credentials: VecDeque<IssuedCredentials>,
    /// The longest any docker credentials live, whatever was asked (`None`: as asked).
    pub(crate) credentials_lifetime: Option<Duration>,
    pub(crate) gc_step: Duration,
    /// Uploads in progress and tokens issued by the registry side.
    pub(crate) registry_side: RegistrySide,
    ids: fastrand::Rng,
    serial: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) tier: &'static Tier,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl State {
    /// The account described by `seeds`; says what is wrong with a seed otherwise.
    pub(crate) fn from_seeds(
        seeds: &[RegistrySeed],
        gc_step: Duration,
        now: DateTime<Utc>,
    ) -> Result<Self, String> {
        let named_tier = seeds.iter().rev().find_map(|s| s.tier.as_deref());
        let slug = named_tier.unwrap_or(if seeds.len() > 1 {
            "professional"
        } else {
            "basic"
        });
        let tier = tiers::tier(slug).ok_or_else(|| {
            format!(
                "unknown subscription tier `{slug}` (one of {})",
                tiers::slugs()
            )
        })?;
        let mut state = Self {
            registries: BTreeMap::new(),
            subscription: Subscription {
                tier,
                created_at: now,
                updated_at: now,
            },
            kubernetes: BTreeMap::new(),
            credentials: VecDeque::new(),
            credentials_lifetime: None,
            gc_step,
            registry_side: RegistrySide::default(),
            ids: fastrand::Rng::with_seed(0x00d0_c0de),
            serial: 0,
        };
        for seed in seeds {
            state.seed_registry(seed, now)?;
        }
        Ok(state)
    }

    fn seed_registry(&mut self, seed: &RegistrySeed, now: DateTime<Utc>) -> Result<(), String> {
        RegistryName::new(seed.name.as_str()).map_err(|e| e.to_string())?;
        if self.registries.contains_key(&seed.name) {
            return Err(format!("registry `{}` is seeded twice", seed.name));
        }
        let region = seed.region.clone().unwrap_or_else(|| "nyc3".into());
        if !tiers::REGIONS.contains(&region.as_str()) {
            return Err(format!(
                "registry `{}`: unknown region `{region}` (one of {})",
                seed.name,
                tiers::REGIONS.join(", ")
            ));
        }
        let created_at = seed.created_at.unwrap_or(now);
        let mut registry = Registry::new(seed.name.clone(), region, created_at);
        let at = |what: &str| format!("registry `{}`, {what}", seed.name);
        for (digest, size) in &seed.blobs {
            store_blob(&mut registry.blobs, digest, *size).map_err(|e| at(&e))?;
        }
        for repo_seed in &seed.repositories {
            let where_ = at(&format!("repository `{}`", repo_seed.name));
            RepositoryName::new(repo_seed.name.as_str())
                .map_err(|e| format!("registry `{}`: {e}", seed.name))?;
            if registry.repositories.contains_key(&repo_seed.name) {
                return Err(format!("{where_} is seeded twice"));
            }
            let mut repository = Repository::default();
            // Sets, not scans of what came before: seeds of 100,000 tags stay quick.
            let (mut digests, mut seeded_tags) = (BTreeSet::new(), BTreeSet::new());
            for m in &repo_seed.manifests {
                Digest::new(m.digest.as_str()).map_err(|e| format!("{where_}: {e}"))?;
                if !digests.insert(m.digest.as_str()) {
                    return Err(format!("{where_}: manifest {} is seeded twice", m.digest));
                }
                let mut tags: Vec<String> = Vec::new();
                for tag in &m.tags {
                    Tag::new(tag.as_str()).map_err(|e| format!("{where_}: {e}"))?;
                    if !seeded_tags.insert(tag.as_str()) {
                        return Err(format!("{where_}: tag `{tag}` is on two manifests"));
                    }
                    tags.push(tag.clone());
                }
                let content = m
                    .content
                    .as_ref()
                    .map(|(media_type, bytes)| Content::parse(media_type, bytes.clone()))
                    .transpose()
                    .map_err(|e| format!("{where_}: manifest {}: {e}", m.digest))?;
                let mut blobs = Vec::new();
                if let Some(content) = content.as_ref().filter(|_| m.blobs_from_content) {
                    blobs.extend(content.blobs.iter().map(|d| (d.digest.clone(), d.size)));
                }
                blobs.extend(m.blobs.iter().cloned());
                for (digest, size) in &blobs {
                    store_blob(&mut registry.blobs, digest, *size)
                        .map_err(|e| format!("{where_}: {e}"))?;
                }
                for (digest, bytes) in &m.blob_contents {
                    store_blob(&mut registry.blobs, digest, bytes.len() as u64)
                        .map_err(|e| format!("{where_}: {e}"))?;
                    registry.blob_content.insert(digest.clone(), bytes.clone());
                }
                let serial = self.next_serial();
                let manifest = Manifest {
                    digest: m.digest.clone(),
                    tags,
                    updated_at: m.updated_at.unwrap_or(now),
                    size_bytes: 0,
                    blobs,
                    serial,
                    content,
                };
                let size_bytes = m
                    .size_bytes
                    .unwrap_or_else(|| manifest.compressed_size_bytes());
                repository.manifests.push(Manifest {
                    size_bytes,
                    ..manifest
                });
            }
            registry
                .repositories
                .insert(repo_seed.name.clone(), repository);
        }
        self.registries.insert(seed.name.clone(), registry);
        Ok(())
    }

    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// A fresh, well-formed (version 4) UUID, from a generator with a fixed seed.
    pub(crate) fn new_uuid(&mut self) -> String {
        uuid(self.ids.u64(..), self.ids.u64(..))
    }

    pub(crate) fn usage(&self) -> Usage {
        Usage {
            registries: self.registries.len(),
            repositories: self.registries.values().map(|r| r.repositories.len()).sum(),
            storage_bytes: self
                .registries
                .values()
                .map(Registry::storage_usage_bytes)
                .sum(),
        }
    }

    /// Brings every garbage collection up to `now`: the ones whose time has come end, and a
    /// successful one frees what it frees at that moment. Every request calls this first.
    pub(crate) fn advance(&mut self, now: Instant) {
        for registry in self.registries.values_mut() {
            registry.advance(now, self.gc_step);
        }
    }

    /// Removes a registry, everything in it and its Kubernetes integrations.
    pub(crate) fn remove_registry(&mut self, name: &str) -> bool {
        let removed = self.registries.remove(name).is_some();
        for registries in self.kubernetes.values_mut() {
            registries.remove(name);
        }
        self.kubernetes
            .retain(|_, registries| !registries.is_empty());
        removed
    }

    pub(crate) fn remember_credentials(&mut self, issued: IssuedCredentials) {
        if self.credentials.len() == CREDENTIALS_KEPT {
            self.credentials.pop_front();
        }
        self.credentials.push_back(issued);
    }
}

fn store_blob(blobs: &mut BTreeMap<String, u64>, digest: &str, size: u64) -> Result<(), String> {
    Digest::new(digest).map_err(|e| format!("blob {e}"))?;
    match blobs.get(digest) {
        Some(known) if *known != size => Err(format!(
            "blob {digest} is seeded with two sizes ({known} and {size})"
        )),
        _ => {
            blobs.insert(digest.to_string(), size);
            Ok(())
        }
    }
}

/// A version-4 UUID built from two random words.
pub(crate) fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A request id: a UUID that depends only on the request's number.
pub(crate) fn request_id(number: u64) -> String {
    uuid(splitmix64(number), splitmix64(!number))
}
