//! Reading a repository's structure from the registry: every tag resolved there, every
//! manifest read once, children followed, referrers asked for where the registry serves the
//! referrers API. A read that fails is recorded, not fatal: it blocks that repository's
//! deletions.
//!
//! The reads form one queue, bounded by a concurrency, rather than phases (tags, manifests,
//! referrers) that each wait for their slowest read: at a registry's latency, the work is the
//! number of requests, so each tag is read with a `GET` (its digest and its manifest in one
//! request) and a manifest read that way is not read again by digest: reads by digest wait
//! for the tags' answers (referrers calls fill the slots meanwhile).
//!
//! With a manifest cache that holds most of a repository's listed manifests (a run after an
//! earlier one), a tag is resolved with a `HEAD` instead, and its manifest read with a `GET`
//! only when the cache does not hold its digest: the same number of requests, without bodies.
//! Manifests read by digest come from the cache when it holds them.

use super::graph::{BlockReason, ReadFailure, RepositoryStructure};
use crate::ext::error::Error;
use crate::ext::names::{Digest, RepositoryName};
use crate::ext::registry::{Descriptor, FetchedManifest, RegistryReader};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeSet, VecDeque};

/// Reads of one repository at once, by default.
pub const DEFAULT_READ_CONCURRENCY: usize = 16;

/// One request to the registry.
enum Read {
    /// A tag: its manifest, and so its digest.
    Tag(String),
    /// A manifest by digest.
    Manifest(Digest),
    /// The referrers of a manifest.
    Referrers(Digest),
}

/// What a [`Read`] found.
enum Found {
    /// A tag's manifest (`None`: the tag is gone).
    Tag(String, Result<Option<FetchedManifest>, Error>),
    /// A tag whose manifest could not be read, resolved with a `HEAD` instead (so that a
    /// manifest this crate cannot parse fails its own read, by digest, as any other).
    Resolved(String, Result<Option<Digest>, Error>),
    Manifest(Digest, Result<Option<FetchedManifest>, Error>),
    Referrers(Digest, Result<Option<Vec<Descriptor>>, Error>),
}

async fn perform(
    reader: &RegistryReader,
    repository: &RepositoryName,
    read: Read,
    warm: bool,
) -> Found {
    match read {
        Read::Tag(tag) if warm => match reader.resolve(repository, &tag).await {
            Ok(Some(digest)) => match reader.manifest(repository, digest.as_ref()).await {
                Ok(Some(m)) => Found::Tag(tag, Ok(Some(m))),
                // Its own read, by digest, says what is wrong.
                _ => Found::Resolved(tag, Ok(Some(digest))),
            },
            resolved => Found::Resolved(tag, resolved),
        },
        Read::Tag(tag) => match reader.manifest(repository, &tag).await {
            Ok(read) => Found::Tag(tag, Ok(read)),
            Err(_) => {
                let resolved = reader.resolve(repository, &tag).await;
                Found::Resolved(tag, resolved)
            }
        },
        Read::Manifest(digest) => {
            let read = reader.manifest(repository, digest.as_ref()).await;
            Found::Manifest(digest, read)
        }
        Read::Referrers(digest) => {
            let found = reader.referrers(repository, &digest).await;
            Found::Referrers(digest, found)
        }
    }
}

/// What is known and asked so far.
#[derive(Default)]
struct Reading {
    structure: RepositoryStructure,
    /// The repository's manifests: listed, tagged, or children of those (each also gets its
    /// referrers asked for, and its children followed).
    closure: BTreeSet<Digest>,
    /// Manifests whose read is queued, running or done.
    requested: BTreeSet<Digest>,
    queue: VecDeque<Read>,
}

impl Reading {
    /// `digest` is one of the repository's manifests: read it (unless read already), ask for
    /// its referrers, and follow its children once it is read.
    fn admit(&mut self, digest: Digest) {
        if !self.closure.insert(digest.clone()) {
            return;
        }
        self.queue.push_back(Read::Referrers(digest.clone()));
        match self.structure.manifests.get(&digest) {
            // Read already (as a referrer): follow its children now.
            Some(Ok(m)) => {
                let children = children(&m.children);
                children.into_iter().for_each(|c| self.admit(c));
            }
            Some(Err(_)) => {}
            None => self.request(digest),
        }
    }

    fn request(&mut self, digest: Digest) {
        if self.requested.insert(digest.clone()) {
            self.queue.push_back(Read::Manifest(digest));
        }
    }

    /// Records a manifest read; the first read of a digest wins.
    fn record(&mut self, digest: Digest, entry: Result<FetchedManifest, ReadFailure>) {
        if self.structure.manifests.contains_key(&digest) {
            return;
        }
        let follow = entry
            .as_ref()
            .ok()
            .filter(|_| self.closure.contains(&digest))
            .map(|m| children(&m.structure.children));
        self.structure
            .manifests
            .insert(digest, entry.map(|m| m.structure));
        follow
            .into_iter()
            .flatten()
            .for_each(|child| self.admit(child));
    }

    fn found(&mut self, found: Found) {
        match found {
            Found::Tag(tag, Ok(Some(m))) => {
                let digest = m.digest.clone();
                self.structure.tags.insert(tag, digest.clone());
                self.requested.insert(digest.clone());
                self.record(digest.clone(), Ok(m));
                self.admit(digest);
            }
            // Deleted between the listing and the read: nothing points there any more.
            Found::Tag(_, Ok(None)) | Found::Resolved(_, Ok(None)) => {}
            Found::Tag(tag, Err(e)) | Found::Resolved(tag, Err(e)) => {
                self.structure.failures.push(BlockReason::TagUnreadable {
                    tag,
                    error: e.to_string(),
                })
            }
            Found::Resolved(tag, Ok(Some(digest))) => {
                self.structure.tags.insert(tag, digest.clone());
                self.admit(digest);
            }
            Found::Manifest(digest, read) => {
                // Which manifest the registry lacks (listed, a child, a referrer) is for the
                // graph to say: it knows who names it.
                let entry = match read {
                    Ok(Some(m)) => Ok(m),
                    Ok(None) => Err(ReadFailure::NotFound),
                    Err(e) => Err(ReadFailure::Failed(e.to_string())),
                };
                self.record(digest, entry);
            }
            Found::Referrers(digest, Ok(Some(list))) if !list.is_empty() => {
                let digests: Vec<Digest> = list
                    .into_iter()
                    .filter_map(|d| Digest::new(d.digest).ok())
                    .collect();
                // Referrers the listing did not show (it lags the registry): read too, so
                // that the graph knows what they are.
                for d in &digests {
                    self.request(d.clone());
                }
                self.structure.referrers.insert(digest, digests);
            }
            Found::Referrers(_, Ok(_)) => {}
            Found::Referrers(digest, Err(e)) => {
                self.structure
                    .failures
                    .push(BlockReason::ReferrersUnreadable {
                        digest,
                        error: e.to_string(),
                    })
            }
        }
    }
}

fn children(children: &[Descriptor]) -> Vec<Digest> {
    children
        .iter()
        .filter_map(|c| Digest::new(c.digest.clone()).ok())
        .collect()
}

/// Reads the structure of `repository`: its tags at the registry, and every manifest of
/// `listed` (the API's listing), what the tags point to, and what those reference, at most
/// `concurrency` requests at once.
pub(crate) async fn read_structure(
    reader: &RegistryReader,
    repository: &RepositoryName,
    listed: &BTreeSet<Digest>,
    concurrency: usize,
) -> RepositoryStructure {
    let mut reading = Reading::default();
    let tags = match reader.tags(repository).await {
        Ok(tags) => tags,
        Err(e) => {
            let status = match &e {
                Error::Registry { status, .. } => status.map(|s| s.as_u16()),
                _ => None,
            };
            reading
                .structure
                .failures
                .push(BlockReason::RegistryUnreadable {
                    url: reader.registry_url().to_string(),
                    status,
                    error: e.to_string(),
                });
            return reading.structure;
        }
    };
    // Tags first: a tag read reads its manifest too, which then is not read again by digest.
    reading.queue.extend(tags.into_iter().map(Read::Tag));
    // The listed manifests' referrers before their reads, for the same reason.
    for digest in listed {
        reading.closure.insert(digest.clone());
        reading.queue.push_back(Read::Referrers(digest.clone()));
    }
    for digest in listed {
        reading.request(digest.clone());
    }
    // A `HEAD` per tag pays when most manifests need no `GET` after it.
    let warm = reader.cache().is_some()
        && listed.iter().filter(|d| reader.caches(d)).count() * 2 >= listed.len().max(1);
    let mut running = FuturesUnordered::new();
    // Tag reads not answered yet: until they are, a read by digest may be one a tag's answer
    // makes needless.
    let mut tags_running = 0usize;
    loop {
        while running.len() < concurrency.max(1) {
            if tags_running > 0 && matches!(reading.queue.front(), Some(Read::Manifest(_))) {
                break;
            }
            let Some(read) = reading.queue.pop_front() else {
                break;
            };
            // Read already, through a tag.
            if let Read::Manifest(digest) = &read
                && reading.structure.manifests.contains_key(digest)
            {
                continue;
            }
            if matches!(read, Read::Tag(_)) {
                tags_running += 1;
            }
            running.push(perform(reader, repository, read, warm));
        }
        match running.next().await {
            Some(found) => {
                if matches!(found, Found::Tag(..) | Found::Resolved(..)) {
                    tags_running -= 1;
                }
                reading.found(found)
            }
            None => break,
        }
    }
    reading.structure
}
