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

use super::journal::{JournalFile, JournaledManifest};
use crate::Client;
use crate::ext::error::Error;
use crate::ext::names::{Digest, RepositoryName};
use crate::ext::registry::{ManifestKind, ManifestStructure, RegistryReader};
use crate::ext::transport::{RequestCounts, counting_requests};
use futures::stream::{self, StreamExt};
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Requests in flight at once while restoring, by default.
pub const DEFAULT_RESTORE_CONCURRENCY: usize = 8;

/// A manifest of the journal: its repository and digest.
type Key = (RepositoryName, Digest);

/// Restores what a [`JournalFile`] recorded; end it with [`send`](Self::send).
#[must_use = "nothing is pushed until `send`"]
pub struct RestoreJournal {
    client: Client,
    journal: JournalFile,
    concurrency: usize,
}

/// What became of one image of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// Pushed back: some or all of its manifests or tags were missing, and are there now.
    Restored,
    /// Everything it recorded is there already: nothing was pushed.
    AlreadyThere,
    /// What it needs is gone (a garbage collection freed it): nothing of it was pushed.
    Lost {
        /// What is missing.
        missing: Vec<Missing>,
    },
    /// A request failed; what could be pushed was (see the counts).
    Failed {
        /// What failed, on one line.
        error: String,
    },
}

/// Something a lost image needs that the registry no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Missing {
    /// A blob (config or layer) of one of its manifests.
    Blob {
        /// The manifest that references it.
        #[serde(serialize_with = "as_text")]
        manifest: Digest,
        /// The blob.
        #[serde(serialize_with = "as_text")]
        blob: Digest,
    },
    /// A manifest one of its indexes lists, neither in the registry nor in the journal.
    Manifest {
        /// The index.
        #[serde(serialize_with = "as_text")]
        index: Digest,
        /// The manifest it lists.
        #[serde(serialize_with = "as_text")]
        child: Digest,
    },
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Blob { manifest, blob } => write!(f, "blob {blob} of manifest {manifest}"),
            Missing::Manifest { index, child } => {
                write!(f, "manifest {child}, which index {index} lists")
            }
        }
    }
}

/// A tag the journal recorded that points at another manifest now: left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MovedTag {
    /// The tag.
    pub tag: String,
    /// The manifest it points at now.
    #[serde(serialize_with = "as_text")]
    pub now: Digest,
}

/// One image of the journal and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RestoredImage {
    /// Its repository.
    #[serde(serialize_with = "as_text")]
    pub repository: RepositoryName,
    /// Its root's digest.
    #[serde(serialize_with = "as_text")]
    pub digest: Digest,
    /// Its root's tags, as recorded.
    pub tags: Vec<String>,
    /// The recorded manifests it needs (its own and those its indexes list or that refer to
    /// them), itself included.
    pub manifests: usize,
    /// Of those, how many were pushed.
    pub manifests_pushed: usize,
    /// The tags pushed (of its manifests, the root's and the others').
    pub tags_pushed: Vec<String>,
    /// Tags that point elsewhere now, left alone.
    pub tags_moved: Vec<MovedTag>,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: RestoreOutcome,
}

impl RestoredImage {
    /// Whether it is in the registry now: restored, or there already.
    pub fn is_back(&self) -> bool {
        matches!(
            self.outcome,
            RestoreOutcome::Restored | RestoreOutcome::AlreadyThere
        )
    }

    /// `repository:tag, ...@digest`, or `repository@digest`, for messages.
    pub fn name(&self) -> String {
        let tags = self.tags.join(",");
        match tags.is_empty() {
            true => format!("{}@{}", self.repository, self.digest),
            false => format!("{}:{tags}@{}", self.repository, self.digest),
        }
    }
}

/// What a restore did, image by image in journal order.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Every image of the journal.
    pub images: Vec<RestoredImage>,
    /// Requests sent to the registry.
    pub registry_calls: u64,
    /// Requests sent to DigitalOcean's API (the registry credentials).
    pub api_calls: u64,
}

impl RestoreReport {
    /// Images pushed back.
    pub fn restored(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Restored))
    }

    /// Images found whole already.
    pub fn already_there(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::AlreadyThere))
    }

    /// Images lost: nothing of them was pushed.
    pub fn lost(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Lost { .. }))
    }

    /// Images whose restore failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, RestoreOutcome::Failed { .. }))
    }

    /// Whether every image is back: restored now or there already.
    pub fn is_complete(&self) -> bool {
        self.restored() + self.already_there() == self.images.len()
    }

    fn count(&self, f: impl Fn(&RestoreOutcome) -> bool) -> usize {
        self.images.iter().filter(|i| f(&i.outcome)).count()
    }
}

fn as_text<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// A recorded manifest and what its bytes reference.
struct Entry {
    manifest: JournaledManifest,
    blobs: Vec<Digest>,
    children: Vec<Digest>,
    subject: Option<Digest>,
    /// Why its bytes cannot be pushed as they are (not a manifest this crate reads).
    unreadable: Option<String>,
}

impl Entry {
    fn new(manifest: JournaledManifest) -> Self {
        let mut entry = Self {
            manifest,
            blobs: Vec::new(),
            children: Vec::new(),
            subject: None,
            unreadable: None,
        };
        match references(&entry.manifest) {
            Ok((blobs, children, subject)) => {
                (entry.blobs, entry.children, entry.subject) = (blobs, children, subject)
            }
            Err(why) => entry.unreadable = Some(why),
        }
        entry
    }
}

type References = (Vec<Digest>, Vec<Digest>, Option<Digest>);

/// The blobs (config, layers), children and subject of a recorded manifest.
fn references(manifest: &JournaledManifest) -> Result<References, String> {
    #[derive(serde::Deserialize)]
    struct Blobs {
        #[serde(default)]
        config: Option<Reference>,
        #[serde(default)]
        layers: Vec<Reference>,
    }
    #[derive(serde::Deserialize)]
    struct Reference {
        digest: String,
    }
    let structure = ManifestStructure::parse(Some(&manifest.media_type), &manifest.bytes)?;
    let digest = |d: String| Digest::new(d).map_err(|e| e.to_string());
    let children = (structure.children.into_iter())
        .map(|c| digest(c.digest))
        .collect::<Result<_, _>>()?;
    let blobs = match structure.kind {
        ManifestKind::Index => Vec::new(),
        ManifestKind::Image => {
            let b: Blobs = serde_json::from_slice(&manifest.bytes).map_err(|e| e.to_string())?;
            (b.config.into_iter().chain(b.layers))
                .map(|r| digest(r.digest))
                .collect::<Result<_, _>>()?
        }
    };
    Ok((blobs, children, structure.subject))
}

/// The journal's manifests, once each, and its images.
struct Recorded {
    entries: BTreeMap<Key, Entry>,
    /// Each image's root and its recorded manifests, in journal order.
    images: Vec<(Key, Vec<Key>)>,
    /// Recorded manifests by the subject they refer to.
    referrers: HashMap<Key, Vec<Key>>,
}

impl Recorded {
    fn new(file: JournalFile) -> Self {
        let mut entries: BTreeMap<Key, Entry> = BTreeMap::new();
        let mut images: Vec<(Key, Vec<Key>)> = Vec::new();
        let mut image_index: HashMap<Key, usize> = HashMap::new();
        for m in file.manifests {
            let key = (m.repository.clone(), m.digest.clone());
            let root = (m.repository.clone(), m.image.clone());
            if let Some(known) = entries.get_mut(&key) {
                // Recorded twice (two runs' journals joined): one entry, every tag.
                known.manifest.tags.extend(m.tags);
                known.manifest.tags.sort();
                known.manifest.tags.dedup();
                continue;
            }
            entries.insert(key.clone(), Entry::new(m));
            let at = *image_index.entry(root.clone()).or_insert_with(|| {
                images.push((root, Vec::new()));
                images.len() - 1
            });
            images[at].1.push(key);
        }
        let mut referrers: HashMap<Key, Vec<Key>> = HashMap::new();
        for (key, entry) in &entries {
            if let Some(subject) = &entry.subject {
                let subject = (key.0.clone(), subject.clone());
                referrers.entry(subject).or_default().push(key.clone());
            }
        }
        Self {
            entries,
            images,
            referrers,
        }
    }

    /// An image's recorded manifests and every recorded manifest they need or that refers to
    /// them: its indexes' children, their referrers, recursively.
    fn closure(&self, own: &[Key]) -> BTreeSet<Key> {
        let mut closure = BTreeSet::new();
        let mut next: VecDeque<Key> = own.iter().cloned().collect();
        while let Some(key) = next.pop_front() {
            if !closure.insert(key.clone()) {
                continue;
            }
            if let Some(entry) = self.entries.get(&key) {
                for child in &entry.children {
                    let child = (key.0.clone(), child.clone());
                    if self.entries.contains_key(&child) {
                        next.push_back(child);
                    }
                }
            }
            next.extend(self.referrers.get(&key).into_iter().flatten().cloned());
        }
        closure
    }

    /// The recorded manifests `key` must follow when pushed: its children and its subject,
    /// where the journal holds them.
    fn dependencies(&self, key: &Key) -> Vec<Key> {
        let Some(entry) = self.entries.get(key) else {
            return Vec::new();
        };
        (entry.children.iter().chain(&entry.subject))
            .map(|d| (key.0.clone(), d.clone()))
            .filter(|k| self.entries.contains_key(k))
            .collect()
    }
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

/// One line, with its causes.
fn error_text(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What step 3 decided for an image.
enum Decision {
    Failed(String),
    Lost(Vec<Missing>),
    /// Its closure's manifests to push.
    Push(BTreeSet<Key>),
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
    pub async fn send(self) -> Result<RestoreReport, Error> {
        let calls = Arc::new(RequestCounts::default());
        let images = counting_requests(calls.clone(), self.run()).await;
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
                    .map_err(|e| error_text(&e))
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
                (writer.blob_exists(&repository, &digest).await).map_err(|e| error_text(&e))
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
                    .map_err(|e| error_text(&e))
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
                        Err(e) => TagState::Failed(format!("tag {tag}: {}", error_text(&e))),
                    },
                    Err(e) => TagState::Failed(format!("tag {tag}: {}", error_text(&e))),
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

/// Step 3 for one image.
fn decide(
    journal: &Recorded,
    closure: &BTreeSet<Key>,
    there: &HashMap<Key, Result<bool, String>>,
    stored: &HashMap<Key, Result<bool, String>>,
) -> Decision {
    let mut missing = Vec::new();
    let mut push = BTreeSet::new();
    for key in closure {
        let Some(entry) = journal.entries.get(key) else {
            continue;
        };
        match there.get(key) {
            Some(Ok(true)) => continue,
            Some(Ok(false)) => {}
            Some(Err(e)) => return Decision::Failed(format!("checking {}: {e}", key.1)),
            None => return Decision::Failed(format!("{} was not checked", key.1)),
        }
        if let Some(why) = &entry.unreadable {
            return Decision::Failed(format!("{} cannot be pushed: {why}", key.1));
        }
        for blob in &entry.blobs {
            match stored.get(&(key.0.clone(), blob.clone())) {
                Some(Ok(true)) => {}
                Some(Ok(false)) => missing.push(Missing::Blob {
                    manifest: key.1.clone(),
                    blob: blob.clone(),
                }),
                Some(Err(e)) => return Decision::Failed(format!("checking blob {blob}: {e}")),
                None => return Decision::Failed(format!("blob {blob} was not checked")),
            }
        }
        for child in &entry.children {
            let child_key = (key.0.clone(), child.clone());
            if journal.entries.contains_key(&child_key) {
                continue;
            }
            match there.get(&child_key) {
                Some(Ok(true)) => {}
                Some(Ok(false)) | None => missing.push(Missing::Manifest {
                    index: key.1.clone(),
                    child: child.clone(),
                }),
                Some(Err(e)) => return Decision::Failed(format!("checking {child}: {e}")),
            }
        }
        push.insert(key.clone());
    }
    if missing.is_empty() {
        Decision::Push(push)
    } else {
        Decision::Lost(missing)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::registry::{OCI_INDEX, OCI_MANIFEST};

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn image(label: &str, blobs: &[u8]) -> JournaledManifest {
        let layers: Vec<String> = blobs
            .iter()
            .map(|b| format!(r#"{{"mediaType":"l","digest":"{}","size":1}}"#, digest(*b)))
            .collect();
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"c","digest":"{}","size":1}},"layers":[{}],"annotations":{{"l":"{label}"}}}}"#,
            digest(0),
            layers.join(",")
        );
        JournaledManifest::new(
            "app".parse().unwrap(),
            OCI_MANIFEST,
            bytes.into_bytes(),
            vec![],
            None,
        )
    }

    fn index(children: &[&JournaledManifest], extra: &[u8]) -> JournaledManifest {
        let mut listed: Vec<String> = children
            .iter()
            .map(|c| {
                format!(
                    r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1}}"#,
                    c.digest
                )
            })
            .collect();
        listed.extend(extra.iter().map(|n| {
            format!(
                r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1}}"#,
                digest(*n)
            )
        }));
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
            listed.join(",")
        );
        JournaledManifest::new(
            "app".parse().unwrap(),
            OCI_INDEX,
            bytes.into_bytes(),
            vec!["1.0".into()],
            None,
        )
    }

    fn member(m: JournaledManifest, of: &JournaledManifest) -> JournaledManifest {
        JournaledManifest {
            image: of.digest.clone(),
            ..m
        }
    }

    fn key(m: &JournaledManifest) -> Key {
        (m.repository.clone(), m.digest.clone())
    }

    fn journal(manifests: Vec<JournaledManifest>) -> Recorded {
        Recorded::new(JournalFile {
            registry: "acme".parse().unwrap(),
            created_at: chrono::Utc::now(),
            manifests,
            garbage_collections: Vec::new(),
            torn_line: None,
        })
    }

    fn blob(n: u8) -> Key {
        ("app".parse().unwrap(), Digest::new(digest(n)).unwrap())
    }

    #[test]
    fn an_index_follows_its_children_and_is_lost_with_any_of_their_blobs() {
        let (a, b) = (image("a", &[1]), image("b", &[2]));
        let top = index(&[&a, &b], &[]);
        let j = journal(vec![
            top.clone(),
            member(a.clone(), &top),
            member(b.clone(), &top),
        ]);
        assert_eq!(j.images.len(), 1);
        let closure = j.closure(&j.images[0].1);
        assert_eq!(closure.len(), 3);
        let mut deps = j.dependencies(&key(&top));
        deps.sort();
        let mut children = vec![key(&a), key(&b)];
        children.sort();
        assert_eq!(deps, children);

        let there: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(false))).collect();
        let mut stored: HashMap<Key, Result<bool, String>> =
            [0, 1, 2].into_iter().map(|n| (blob(n), Ok(true))).collect();
        assert!(matches!(decide(&j, &closure, &there, &stored), Decision::Push(p) if p.len() == 3));
        stored.insert(blob(2), Ok(false));
        match decide(&j, &closure, &there, &stored) {
            Decision::Lost(missing) => assert_eq!(
                missing,
                [Missing::Blob {
                    manifest: b.digest.clone(),
                    blob: Digest::new(digest(2)).unwrap()
                }]
            ),
            _ => panic!("not lost"),
        }
    }

    #[test]
    fn a_child_neither_recorded_nor_there_loses_the_index_and_one_there_is_enough() {
        let a = image("a", &[1]);
        let top = index(&[&a], &[9]);
        let j = journal(vec![top.clone(), member(a.clone(), &top)]);
        let closure = j.closure(&j.images[0].1);
        let mut there: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(false))).collect();
        let stored: HashMap<Key, Result<bool, String>> =
            [0, 1].into_iter().map(|n| (blob(n), Ok(true))).collect();
        there.insert(blob(9), Ok(false));
        assert!(matches!(
            decide(&j, &closure, &there, &stored),
            Decision::Lost(m) if m == [Missing::Manifest { index: top.digest.clone(), child: Digest::new(digest(9)).unwrap() }]
        ));
        there.insert(blob(9), Ok(true));
        assert!(matches!(
            decide(&j, &closure, &there, &stored),
            Decision::Push(_)
        ));
        // All there already: nothing to push.
        let all: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(true))).collect();
        assert!(
            matches!(decide(&j, &closure, &all, &HashMap::new()), Decision::Push(p) if p.is_empty())
        );
    }

    #[test]
    fn a_platform_shared_by_two_images_is_in_both_closures() {
        let (shared, own) = (image("shared", &[1]), image("own", &[2]));
        let release = index(&[&shared, &own], &[]);
        let candidate = index(&[&shared], &[3]);
        let j = journal(vec![
            release.clone(),
            member(shared.clone(), &release),
            member(own.clone(), &release),
            candidate.clone(),
        ]);
        assert_eq!(j.images.len(), 2);
        let second = j.closure(&j.images[1].1);
        assert!(second.contains(&key(&shared)) && second.contains(&key(&candidate)));
        assert!(!second.contains(&key(&own)));
    }
}
