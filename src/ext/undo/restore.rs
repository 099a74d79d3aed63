//! Restoring what a journal recorded: each image's manifests pushed back with their exact
//! bytes, members before the index that lists them, then their tags; an image whose blobs are
//! gone is lost, and nothing of it is pushed.
//!
//! In steps, each at most `concurrency` requests at once:
//! 1. **Check**: every recorded manifest, and every manifest an index lists that the journal
//!    does not hold, asked for by digest (`HEAD`): what is there is skipped.
//! 2. **Blobs**: every blob (config, layers) of a manifest to push, asked for (`HEAD`).
//! 3. **Decide** (no request): an image is lost when a blob of a manifest it needs is gone,
//!    or a manifest one of its indexes lists is neither there nor in the journal. A lost image
//!    is named, with what is missing, and nothing of it is pushed (but what another image,
//!    one that can come back, holds too).
//! 4. **Push**: the manifests in waves, each once what it references (an index's children,
//!    a referrer's subject) is back, by digest.
//! 5. **Tags**: each recorded tag that points nowhere now is pushed with its manifest's bytes;
//!    one that points at the manifest already is left; one that points elsewhere (a push
//!    since the prune) is left alone and reported.

use super::journal_file::JournalFile;
use super::recorded::{Decision, Key, Recorded, decide};
use super::report::{MovedTag, RestoreOutcome, RestoreReport, RestoredImage};
use crate::Client;
use crate::ext::error::{Error, with_causes};
use crate::ext::names::Digest;
use crate::ext::registry::RegistryReader;
use crate::ext::transport::RequestCounts;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Requests in flight at once while restoring, by default.
pub const DEFAULT_RESTORE_CONCURRENCY: usize = 8;

/// Restores what a [`JournalFile`] recorded; end it with [`send`](Self::send).
#[must_use = "nothing is pushed until `send`"]
pub struct RestoreJournal {
    client: Client,
    journal: JournalFile,
    concurrency: usize,
}

/// Runs `f` over `items`, `concurrency` at once; the results by item.
async fn each<T, R, F, Fut>(items: Vec<T>, concurrency: usize, f: F) -> HashMap<T, R>
where
    T: Clone + Eq + std::hash::Hash,
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    stream::iter(items)
        .map(|item| {
            let run = f(item.clone());
            async move { (item, run.await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

/// Where a tag stands after step 5.
enum TagState {
    There,
    Pushed,
    Moved(Digest),
    Failed(String),
}

impl RestoreJournal {
    pub(super) fn new(client: Client, journal: JournalFile) -> Self {
        Self {
            client,
            journal,
            concurrency: DEFAULT_RESTORE_CONCURRENCY,
        }
    }

    /// Requests in flight at once (default 8; at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Restores every image of the journal (see the module's steps): read-write registry
    /// credentials of short expiry are asked of the API when the registry first wants them,
    /// kept in memory only. Failures are reported per image and never stop the others; a
    /// restore run twice pushes nothing the second time.
    pub async fn send(mut self) -> Result<RestoreReport, Error> {
        let calls = Arc::new(RequestCounts::default());
        // Every call of the restore is counted.
        self.client = self.client.counting_into(calls.clone());
        let images = self.run().await;
        Ok(RestoreReport {
            images,
            registry_calls: calls.registry.load(Ordering::Relaxed),
            api_calls: calls.api.load(Ordering::Relaxed),
        })
    }

    async fn run(self) -> Vec<RestoredImage> {
        let writer = RegistryReader::writer(&self.client, &self.journal.registry);
        let (writer, n) = (&writer, self.concurrency);
        let journal = Recorded::new(self.journal);
        let closures: Vec<BTreeSet<Key>> = (journal.images.iter())
            .map(|(_, own)| journal.closure(own))
            .collect();

        // 1. What is there, by digest: the recorded manifests and what indexes list.
        let mut asked: BTreeSet<Key> = journal.entries.keys().cloned().collect();
        for (key, entry) in &journal.entries {
            asked.extend(entry.children.iter().map(|c| (key.0.clone(), c.clone())));
        }
        let there: HashMap<Key, Result<bool, String>> = each(
            asked.into_iter().collect(),
            n,
            |(repository, digest)| async move {
                (writer.resolve(&repository, digest.as_str()).await)
                    .map(|found| found.is_some())
                    .map_err(|e| with_causes(&e))
            },
        )
        .await;
        let is_there = |key: &Key| matches!(there.get(key), Some(Ok(true)));

        // 2. The blobs of what is to be pushed.
        let mut blobs: BTreeSet<Key> = BTreeSet::new();
        for (key, entry) in &journal.entries {
            if matches!(there.get(key), Some(Ok(false))) {
                blobs.extend(entry.blobs.iter().map(|b| (key.0.clone(), b.clone())));
            }
        }
        let stored: HashMap<Key, Result<bool, String>> = each(
            blobs.into_iter().collect(),
            n,
            |(repository, digest)| async move {
                (writer.blob_exists(&repository, &digest).await).map_err(|e| with_causes(&e))
            },
        )
        .await;

        // 3. Each image: failed, lost, or what to push.
        let decisions: Vec<Decision> = closures
            .iter()
            .map(|closure| decide(&journal, closure, &there, &stored))
            .collect();

        // 4. The manifests, in waves.
        let mut to_push: BTreeSet<Key> = BTreeSet::new();
        for decision in &decisions {
            if let Decision::Push(keys) = decision {
                to_push.extend(keys.iter().cloned());
            }
        }
        let mut pushed: HashMap<Key, Result<(), String>> = HashMap::new();
        while !to_push.is_empty() {
            let (ready, waiting): (Vec<Key>, Vec<Key>) = to_push.iter().cloned().partition(|k| {
                (journal.dependencies(k).iter())
                    .all(|d| !to_push.contains(d) || pushed.contains_key(d))
            });
            to_push = waiting.into_iter().collect();
            let mut sendable = Vec::new();
            for key in ready {
                let blocked = (journal.dependencies(&key).into_iter())
                    .find(|d| matches!(pushed.get(d), Some(Err(_))));
                match blocked {
                    Some(d) => {
                        let why = format!("{} not pushed: {} before it failed", key.1, d.1);
                        pushed.insert(key, Err(why));
                    }
                    None => sendable.push(key),
                }
            }
            if sendable.is_empty() && !to_push.is_empty() {
                // A cycle, which no registry accepts: refuse the rest.
                for key in std::mem::take(&mut to_push) {
                    let why = format!("{} not pushed: its references form a cycle", key.1);
                    pushed.insert(key, Err(why));
                }
                break;
            }
            let entries = &journal.entries;
            let done = each(sendable, n, |key| async move {
                let m = &entries[&key].manifest;
                let reference = m.digest.as_str();
                (writer.put_manifest(&m.repository, reference, &m.media_type, &m.bytes, &m.digest))
                    .await
                    .map_err(|e| with_causes(&e))
            })
            .await;
            pushed.extend(done);
        }

        // 5. The tags of every manifest of an image that is back whole.
        let mut tags: BTreeSet<(Key, String)> = BTreeSet::new();
        for (decision, closure) in decisions.iter().zip(&closures) {
            let Decision::Push(_) = decision else {
                continue;
            };
            for key in closure {
                let back = is_there(key) || matches!(pushed.get(key), Some(Ok(())));
                if back && let Some(entry) = journal.entries.get(key) {
                    tags.extend(entry.manifest.tags.iter().map(|t| (key.clone(), t.clone())));
                }
            }
        }
        let entries = &journal.entries;
        let tag_states: HashMap<(Key, String), TagState> =
            each(tags.into_iter().collect(), n, |(key, tag)| async move {
                let m = &entries[&key].manifest;
                match writer.resolve(&m.repository, &tag).await {
                    Ok(Some(now)) if now == m.digest => TagState::There,
                    Ok(Some(now)) => TagState::Moved(now),
                    Ok(None) => match (writer.put_manifest(
                        &m.repository,
                        &tag,
                        &m.media_type,
                        &m.bytes,
                        &m.digest,
                    ))
                    .await
                    {
                        Ok(()) => TagState::Pushed,
                        Err(e) => TagState::Failed(format!("tag {tag}: {}", with_causes(&e))),
                    },
                    Err(e) => TagState::Failed(format!("tag {tag}: {}", with_causes(&e))),
                }
            })
            .await;

        (journal.images.iter().zip(closures).zip(decisions))
            .map(|(((root, _), closure), decision)| {
                report(&journal, root, &closure, decision, &pushed, &tag_states)
            })
            .collect()
    }
}

/// One image's line of the report.
fn report(
    journal: &Recorded,
    root: &Key,
    closure: &BTreeSet<Key>,
    decision: Decision,
    pushed: &HashMap<Key, Result<(), String>>,
    tag_states: &HashMap<(Key, String), TagState>,
) -> RestoredImage {
    let mut image = RestoredImage {
        repository: root.0.clone(),
        digest: root.1.clone(),
        tags: (journal.entries.get(root))
            .map(|e| e.manifest.tags.clone())
            .unwrap_or_default(),
        manifests: closure.len(),
        manifests_pushed: 0,
        tags_pushed: Vec::new(),
        tags_moved: Vec::new(),
        outcome: RestoreOutcome::AlreadyThere,
    };
    let keys = match decision {
        Decision::Failed(error) => {
            image.outcome = RestoreOutcome::Failed { error };
            return image;
        }
        Decision::Lost(missing) => {
            image.outcome = RestoreOutcome::Lost { missing };
            return image;
        }
        Decision::Push(keys) => keys,
    };
    let mut errors: Vec<String> = Vec::new();
    for key in &keys {
        match pushed.get(key) {
            Some(Ok(())) => image.manifests_pushed += 1,
            Some(Err(e)) => errors.push(e.clone()),
            None => errors.push(format!("{} was not pushed", key.1)),
        }
    }
    for key in closure {
        let Some(entry) = journal.entries.get(key) else {
            continue;
        };
        for tag in &entry.manifest.tags {
            match tag_states.get(&(key.clone(), tag.clone())) {
                Some(TagState::Pushed) => image.tags_pushed.push(tag.clone()),
                Some(TagState::Moved(now)) => image.tags_moved.push(MovedTag {
                    tag: tag.clone(),
                    now: now.clone(),
                }),
                Some(TagState::Failed(e)) => errors.push(e.clone()),
                // There already, or its manifest did not come back (said above).
                Some(TagState::There) | None => {}
            }
        }
    }
    image.tags_pushed.sort();
    image.tags_moved.sort_by(|a, b| a.tag.cmp(&b.tag));
    image.outcome = if !errors.is_empty() {
        RestoreOutcome::Failed {
            error: errors.join("; "),
        }
    } else if image.manifests_pushed + image.tags_pushed.len() > 0 {
        RestoreOutcome::Restored
    } else {
        RestoreOutcome::AlreadyThere
    };
    image
}
