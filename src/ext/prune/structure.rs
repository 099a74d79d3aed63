//! Reading a repository's structure from the registry: every tag resolved there, every
//! manifest read once (concurrently, bounded), children followed, referrers asked for where
//! the registry serves the referrers API. A read that fails is recorded, not fatal: it blocks
//! that repository's deletions.

use super::graph::RepositoryStructure;
use crate::ext::names::{Digest, RepositoryName};
use crate::ext::registry::RegistryReader;
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

/// Reads of one repository at once, by default.
pub const DEFAULT_READ_CONCURRENCY: usize = 8;

/// Reads the structure of `repository`: its tags at the registry, and every manifest of
/// `listed` (the API's listing), what the tags point to, and what those reference.
pub(crate) async fn read_structure(
    reader: &RegistryReader,
    repository: &RepositoryName,
    listed: &BTreeSet<Digest>,
    concurrency: usize,
) -> RepositoryStructure {
    let mut structure = RepositoryStructure::default();
    let tags = match reader.tags(repository).await {
        Ok(tags) => tags,
        Err(e) => {
            structure.failures.push(format!("listing tags: {e}"));
            return structure;
        }
    };
    let resolved: Vec<_> = stream::iter(tags)
        .map(|tag| async move {
            let digest = reader.resolve(repository, &tag).await;
            (tag, digest)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (tag, digest) in resolved {
        match digest {
            Ok(Some(digest)) => {
                structure.tags.insert(tag, digest);
            }
            // Deleted between the listing and the read: nothing points there any more.
            Ok(None) => {}
            Err(e) => structure.failures.push(format!("resolving tag {tag}: {e}")),
        }
    }

    let mut pending: BTreeSet<Digest> = listed.clone();
    pending.extend(structure.tags.values().cloned());
    while !pending.is_empty() {
        let batch: Vec<Digest> = std::mem::take(&mut pending).into_iter().collect();
        let reads: Vec<_> = stream::iter(batch)
            .map(|digest| async move {
                let read = reader.manifest(repository, digest.as_ref()).await;
                (digest, read)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (digest, read) in reads {
            let entry = match read {
                Ok(Some(m)) => {
                    for child in &m.structure.children {
                        if let Ok(child) = Digest::new(child.digest.clone())
                            && !structure.manifests.contains_key(&child)
                        {
                            pending.insert(child);
                        }
                    }
                    Ok(m.structure)
                }
                Ok(None) => Err("listed by the API but unknown to the registry".to_string()),
                Err(e) => Err(e.to_string()),
            };
            structure.manifests.insert(digest, entry);
        }
        pending.retain(|d| !structure.manifests.contains_key(d));
    }

    let known: Vec<Digest> = structure.manifests.keys().cloned().collect();
    let referrers: Vec<_> = stream::iter(known)
        .map(|digest| async move {
            let found = reader.referrers(repository, &digest).await;
            (digest, found)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut unread: BTreeSet<Digest> = BTreeSet::new();
    for (digest, found) in referrers {
        match found {
            Ok(Some(list)) if !list.is_empty() => {
                let digests = list
                    .into_iter()
                    .filter_map(|d| Digest::new(d.digest).ok())
                    .collect::<Vec<_>>();
                unread.extend(
                    digests
                        .iter()
                        .filter(|d| !structure.manifests.contains_key(*d))
                        .cloned(),
                );
                structure.referrers.insert(digest, digests);
            }
            Ok(_) => {}
            Err(e) => structure
                .failures
                .push(format!("referrers of {digest}: {e}")),
        }
    }
    // Referrers the listing did not show (it lags the registry): read too, so that the
    // graph knows what they are.
    let reads: Vec<_> = stream::iter(unread)
        .map(|digest| async move {
            let read = reader.manifest(repository, digest.as_ref()).await;
            (digest, read)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (digest, read) in reads {
        let entry = match read {
            Ok(Some(m)) => Ok(m.structure),
            Ok(None) => Err("a referrer unknown to the registry".to_string()),
            Err(e) => Err(e.to_string()),
        };
        structure.manifests.insert(digest, entry);
    }
    structure
}
