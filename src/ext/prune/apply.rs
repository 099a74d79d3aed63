//! Applying a plan: one delete per manifest, image by image and parent first, each checked
//! against the registry as it is now.

use super::super::error::Error;
use super::super::garbage_collection::{GarbageCollectionExt, GcStatus, GcType};
use super::super::names::RegistryName;
use super::super::pagination::ListExt;
use super::super::transport::RequestCounts;
use super::graph::{BlockReason, tag_schema_subject};
use super::plan::{Plan, PlannedDeletion, RepositoryPlan};
use super::report::{
    AppliedItem, ApplyReport, GarbageCollectionOutcome, ItemOutcome, RepositoryError, SkipReason,
};
use super::structure::{DEFAULT_READ_CONCURRENCY, read_structure};
use crate::ext::names::Digest;
use crate::ext::registry::{ManifestCache, RegistryExt, RegistryReader};
use crate::ext::undo::{Journal, JournaledCollection, JournaledManifest};
use crate::{Client, types};
use futures::future::{self, BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Deletes in flight at once, by default.
pub const DEFAULT_APPLY_CONCURRENCY: usize = 4;

type ItemCallback = Box<dyn FnMut(&AppliedItem) + Send>;
type StatusCallback = Box<dyn FnMut(&types::GarbageCollection) + Send>;

/// The garbage collection asked for after the deletions: its type, and how long to wait for
/// it (`None`: not waited for).
type CollectAfter = (GcType, Option<Duration>);

/// Applies a [`Plan`]; end it with [`send`](Self::send).
#[must_use = "nothing is deleted until `send`"]
pub struct ApplyPrune {
    client: Client,
    plan: Plan,
    concurrency: usize,
    on_item: Option<ItemCallback>,
    garbage_collection: Option<CollectAfter>,
    on_garbage_collection_status: Option<StatusCallback>,
    cache: Option<ManifestCache>,
    journal: Option<Journal>,
}

/// What the work stream yields: an item's outcome (with its plan position) or a listing error.
enum Event {
    Item(usize, Box<AppliedItem>),
    RepositoryError(RepositoryError),
}

impl ApplyPrune {
    pub(super) fn new(client: Client, plan: Plan) -> Self {
        Self {
            client,
            plan,
            concurrency: DEFAULT_APPLY_CONCURRENCY,
            on_item: None,
            garbage_collection: None,
            on_garbage_collection_status: None,
            cache: None,
            journal: None,
        }
    }

    /// Records in `journal`, before each delete is sent, the manifest's exact bytes (read
    /// from the registry, or the manifest cache, and checked against its digest), media type,
    /// repository, tags and image, on disk: a manifest that cannot be read or recorded is not
    /// deleted (its item fails, saying why); one the registry no longer has is gone. A garbage
    /// collection started after the deletions is recorded too. `docr restore`, or
    /// [`RestoreExt::restore`](crate::undo::RestoreExt::restore), pushes them back until a garbage
    /// collection frees their blobs. Without a journal, a delete is final.
    ///
    /// The journal must be for the plan's registry.
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Checks again at the registry through `cache`: only manifests it does not hold are
    /// read (see [`RegistryReader::with_cache`]); tags are resolved at the registry.
    pub fn manifest_cache(mut self, cache: ManifestCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Deletes in flight at once (default 4; at least 1). The client's pacing keeps any
    /// concurrency within DigitalOcean's rate limits.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Called with each item's outcome: a repository's items together, once its deletes are done.
    pub fn on_item(mut self, f: impl FnMut(&AppliedItem) + Send + 'static) -> Self {
        self.on_item = Some(Box::new(f));
        self
    }

    /// After the deletions, starts a garbage collection of `gc_type` and waits up to
    /// `max_wait` for it; skipped when nothing was deleted. A collection already running is
    /// not joined (it might not see these deletions): the start then fails and the report says
    /// so. The registry is read-only while a collection runs.
    pub fn garbage_collect(mut self, gc_type: GcType, max_wait: Duration) -> Self {
        self.garbage_collection = Some((gc_type, Some(max_wait)));
        self
    }

    /// As [`garbage_collect`](Self::garbage_collect), without waiting: once the collection
    /// has started, `send` returns, the report holding
    /// [`GarbageCollectionOutcome::Started`] with the record the start returned. The
    /// collection goes on at DigitalOcean (the registry read-only meanwhile).
    pub fn garbage_collect_without_waiting(mut self, gc_type: GcType) -> Self {
        self.garbage_collection = Some((gc_type, None));
        self
    }

    /// Called with the record of the garbage collection asked for after the deletions: first
    /// with the one its start returned, then, when it is waited for
    /// ([`garbage_collect`](Self::garbage_collect)), each time its status changes (as
    /// [`WaitForGarbageCollection::on_status`](crate::garbage_collection::WaitForGarbageCollection::on_status)),
    /// the last time with its final record once it has ended. Not called when no collection
    /// starts (nothing deleted, or the start failed). With a journal, the collection is
    /// recorded there before the first call. A progress display hangs here.
    pub fn on_garbage_collection_status(
        mut self,
        f: impl FnMut(&types::GarbageCollection) + Send + 'static,
    ) -> Self {
        self.on_garbage_collection_status = Some(Box::new(f));
        self
    }

    /// Applies the plan: per repository, one listing of its manifests, then one delete per
    /// planned manifest whose tags are still the planned ones. Failures are reported per item
    /// and never stop the others. Errors, before any request, only for a malformed plan (an
    /// item under the wrong repository, a repository or digest given twice).
    pub async fn send(mut self) -> Result<ApplyReport, Error> {
        check(&self.plan)?;
        if let Some(journal) = &self.journal
            && journal.registry() != &self.plan.registry
        {
            return Err(Error::InvalidInput(format!(
                "the journal {} is for registry {}, not {}",
                journal.path().display(),
                journal.registry(),
                self.plan.registry
            )));
        }
        let calls = Arc::new(RequestCounts::default());
        // Every call of the apply (the reader's, the deletes, the collection) is counted.
        self.client = self.client.counting_into(calls.clone());
        let (items, repository_errors, garbage_collection) = self.run().await;
        Ok(ApplyReport {
            items,
            repository_errors,
            api_calls: calls.api.load(Ordering::Relaxed),
            registry_calls: calls.registry.load(Ordering::Relaxed),
            garbage_collection,
        })
    }

    async fn run(
        &mut self,
    ) -> (
        Vec<AppliedItem>,
        Vec<RepositoryError>,
        GarbageCollectionOutcome,
    ) {
        // Owned values in a boxed stream: borrowed closure arguments make rustc unable to prove
        // the future Send (its higher-ranked lifetime inference), and callers spawn it.
        let (client, registry) = (self.client.clone(), self.plan.registry.clone());
        let concurrency = self.concurrency;
        let mut repositories = Vec::new();
        let mut next = 0;
        for r in &self.plan.repositories {
            if !r.delete.is_empty() {
                repositories.push((r.clone(), next));
            }
            next += r.delete.len();
        }
        let reader = client.registry_reader(&registry);
        let reader = Arc::new(match self.cache.clone() {
            Some(cache) => reader.with_cache(cache),
            None => reader,
        });
        let journal = self.journal.clone();
        let (checker, tasker) = (
            (client.clone(), registry.clone(), reader.clone()),
            Deletion {
                client: client.clone(),
                registry: registry.clone(),
                reader,
                journal: journal.clone(),
            },
        );
        let mut work = stream::iter(repositories)
            // Checked at the registry just before its deletes are queued, one repository
            // after another.
            .then(move |(r, start)| {
                let (client, registry, reader) = checker.clone();
                async move {
                    let checked = verify(&client, &registry, &reader, &r).await;
                    (r, start, checked)
                }
            })
            .flat_map(move |(r, start, checked)| {
                stream::iter(tasks(&tasker, r, start, checked, concurrency))
            })
            // A repository's images are deleted `concurrency` at a time inside its task.
            .buffered(1)
            .flat_map(stream::iter)
            .boxed();

        let mut slots: Vec<Option<AppliedItem>> = (0..next).map(|_| None).collect();
        let mut repository_errors = Vec::new();
        while let Some(event) = work.next().await {
            match event {
                Event::Item(index, applied) => {
                    if let Some(f) = self.on_item.as_mut() {
                        f(&applied);
                    }
                    slots[index] = Some(*applied);
                }
                Event::RepositoryError(e) => repository_errors.push(e),
            }
        }
        let items: Vec<AppliedItem> = slots.into_iter().flatten().collect();

        let deleted = items
            .iter()
            .any(|i| matches!(i.outcome, ItemOutcome::Deleted));
        let gc = match self.garbage_collection {
            None => GarbageCollectionOutcome::NotRequested,
            Some(_) if !deleted => GarbageCollectionOutcome::NothingDeleted,
            Some((gc_type, max_wait)) => {
                if gc_type != GcType::UnreferencedBlobs && self.plan.holds_indexes() {
                    tracing::warn!(%registry, "a garbage collection of untagged manifests on a registry with multi-platform images: how DigitalOcean treats an index's untagged children is not documented");
                }
                let collection = Collection {
                    gc_type,
                    max_wait,
                    on_status: self.on_garbage_collection_status.take(),
                };
                collect_garbage(&client, &registry, collection, journal.as_ref()).await
            }
        };
        (items, repository_errors, gc)
    }
}

/// What the registry says now about a repository's planned items: their tags, and the
/// manifests new since the plan that reference them or refer to them.
#[derive(Default)]
struct RegistryNow {
    tags: HashMap<Digest, Vec<String>>,
    referenced_by: HashMap<Digest, Digest>,
    referred_by: HashMap<Digest, Digest>,
}

/// Whether one planned item is deleted: the whole of apply's skip rules, in order. An item
/// whose image's root (or another deleted image holding it) stays, stays; one that something
/// new references or refers to stays; one whose tags are not the planned ones stays.
fn skip_reason(
    item: &PlannedDeletion,
    registry: &RegistryNow,
    parents_removed: bool,
) -> Option<SkipReason> {
    if !parents_removed {
        return Some(SkipReason::ParentNotDeleted);
    }
    if let Some(by) = registry.referenced_by.get(&item.digest) {
        return Some(SkipReason::ReferencedBy { digest: by.clone() });
    }
    if let Some(by) = registry.referred_by.get(&item.digest) {
        return Some(SkipReason::GainedReferrer { digest: by.clone() });
    }
    let mut now = registry.tags.get(&item.digest).cloned().unwrap_or_default();
    now.sort();
    let mut planned = item.tags.clone();
    planned.sort();
    (now != planned).then_some(SkipReason::TagsChanged { current: now })
}

/// Reads a repository again at the registry: each item's tags resolved there again, and every
/// manifest new since the plan (tagged or listed) read, with its children, to see whether it
/// references or refers to an item.
async fn verify(
    client: &Client,
    registry: &RegistryName,
    reader: &RegistryReader,
    r: &RepositoryPlan,
) -> Result<RegistryNow, Error> {
    let seen: BTreeSet<&Digest> = r.seen.iter().collect();
    let structure = {
        let listed: BTreeSet<Digest> = client
            .list_manifests(registry, &r.repository)
            .collect()
            .await?
            .into_iter()
            .filter_map(|m| m.digest.and_then(|d| Digest::new(d).ok()))
            .collect();
        let new: BTreeSet<Digest> = listed.into_iter().filter(|d| !seen.contains(d)).collect();
        read_structure(reader, &r.repository, &new, DEFAULT_READ_CONCURRENCY).await
    };
    if let Some(failure) = structure.failures.first() {
        return Err(Error::NotRechecked {
            repository: r.repository.clone(),
            reason: Box::new(failure.clone()),
        });
    }
    let planned: BTreeSet<&Digest> = r.delete.iter().map(|d| &d.digest).collect();
    let mut now = RegistryNow::default();
    for (tag, digest) in &structure.tags {
        now.tags
            .entry(digest.clone())
            .or_default()
            .push(tag.clone());
        if let Some(subject) = tag_schema_subject(tag)
            && planned.contains(&subject)
            && !seen.contains(digest)
        {
            now.referred_by.entry(subject).or_insert(digest.clone());
        }
    }
    for (digest, read) in &structure.manifests {
        let m = match read {
            Ok(m) => m,
            Err(why) => {
                return Err(Error::NotRechecked {
                    repository: r.repository.clone(),
                    reason: Box::new(BlockReason::ManifestUnreadable {
                        digest: digest.clone(),
                        error: why.to_string(),
                    }),
                });
            }
        };
        // Only what is new since the plan can have changed what references an item; a
        // planned item itself read here (a child of a new index) references nothing new.
        if seen.contains(digest) {
            continue;
        }
        for child in &m.children {
            if let Ok(child) = Digest::new(child.digest.clone())
                && planned.contains(&child)
            {
                now.referenced_by.entry(child).or_insert(digest.clone());
            }
        }
        if let Some(subject) = &m.subject
            && planned.contains(subject)
        {
            now.referred_by
                .entry(subject.clone())
                .or_insert(digest.clone());
        }
    }
    Ok(now)
}

/// A planned item, its index in the report, and the roots it waits for: its image's root
/// (unless it is one) and the other deleted images that hold it.
struct Pending {
    index: usize,
    item: PlannedDeletion,
    waits_for: BTreeSet<Digest>,
}

impl Pending {
    fn new(index: usize, item: PlannedDeletion) -> Self {
        let mut waits_for: BTreeSet<Digest> = item.held_by.iter().cloned().collect();
        if item.digest != item.image {
            waits_for.insert(item.image.clone());
        }
        Self {
            index,
            item,
            waits_for,
        }
    }
}

/// What deleting an item takes: the API, and with a journal, the registry to read the
/// manifest's bytes from.
#[derive(Clone)]
struct Deletion {
    client: Client,
    registry: RegistryName,
    reader: Arc<RegistryReader>,
    journal: Option<Journal>,
}

impl Deletion {
    /// Records the item (with a journal), then deletes it.
    async fn run(&self, item: &PlannedDeletion) -> ItemOutcome {
        if let Some(journal) = &self.journal {
            match record(&self.reader, journal, item).await {
                Ok(true) => {}
                Ok(false) => return skipped(SkipReason::Gone),
                Err(error) => {
                    tracing::warn!(repository = %item.repository, digest = %item.digest, %error, "not recorded, so not deleted");
                    return ItemOutcome::NotRecorded { error };
                }
            }
        }
        delete(&self.client, &self.registry, item).await
    }
}

/// Reads the item's manifest and records it, on disk, in `journal`: `false` when the
/// registry no longer has it.
async fn record(
    reader: &RegistryReader,
    journal: &Journal,
    item: &PlannedDeletion,
) -> Result<bool, Error> {
    let Some(fetched) = reader
        .manifest(&item.repository, item.digest.as_str())
        .await?
    else {
        return Ok(false);
    };
    if fetched.digest != item.digest {
        return Err(Error::InvalidInput(format!(
            "{}@{}: the registry served {} instead",
            item.repository, item.digest, fetched.digest
        )));
    }
    let manifest = JournaledManifest::new(
        item.repository.clone(),
        fetched.structure.media_type,
        fetched.bytes,
        item.tags.clone(),
        Some(item.image.clone()),
    );
    let writer = journal.clone();
    match tokio::task::spawn_blocking(move || writer.record_manifest(&manifest)).await {
        Ok(recorded) => recorded.map(|()| true),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime shutting down: not recorded, so not deleted.
        Err(e) => Err(Error::Journal {
            action: "write",
            path: journal.path().to_path_buf(),
            source: std::io::Error::other(e),
        }),
    }
}

/// The work for one repository, given what the registry says now: in waves, each item once
/// every root it waits for is resolved (removed, or staying), `concurrency` deletes at a
/// time. An item whose roots are all gone is referenced by nothing that stays, so the
/// members of one wave may go in any order; an item whose root stays, stays.
fn tasks(
    deletion: &Deletion,
    r: RepositoryPlan,
    start: usize,
    checked: Result<RegistryNow, Error>,
    concurrency: usize,
) -> Vec<BoxFuture<'static, Vec<Event>>> {
    let registry_now = match checked {
        Ok(now) => Arc::new(now),
        Err(error) => {
            tracing::warn!(repository = %r.repository, %error, "cannot check the repository again; skipping its items");
            let mut events: Vec<Event> = (r.delete.iter().enumerate())
                .map(|(i, item)| {
                    let applied = AppliedItem {
                        item: item.clone(),
                        outcome: skipped(SkipReason::NotVerified),
                    };
                    Event::Item(start + i, Box::new(applied))
                })
                .collect();
            events.push(Event::RepositoryError(RepositoryError {
                repository: r.repository.clone(),
                error,
            }));
            return vec![future::ready(events).boxed()];
        }
    };
    let roots: HashSet<Digest> = (r.delete.iter())
        .filter(|i| i.digest == i.image)
        .map(|i| i.digest.clone())
        .collect();
    let mut pending: Vec<Pending> = (r.delete.into_iter().enumerate())
        .map(|(i, item)| Pending::new(start + i, item))
        .collect();
    let deletion = deletion.clone();
    vec![
        async move {
            let mut events = Vec::new();
            // A root resolved: true when it is no longer there.
            let mut resolved: HashMap<Digest, bool> = HashMap::new();
            while !pending.is_empty() {
                let (ready, waiting): (Vec<Pending>, Vec<Pending>) =
                    pending.into_iter().partition(|p| {
                        (p.waits_for.iter())
                            .all(|root| !roots.contains(root) || resolved.contains_key(root))
                    });
                pending = waiting;
                if ready.is_empty() {
                    // Roots that never resolve (impossible in a plan docr made): stay.
                    for p in pending.drain(..) {
                        let outcome = skipped(SkipReason::ParentNotDeleted);
                        let applied = AppliedItem {
                            item: p.item,
                            outcome,
                        };
                        events.push(Event::Item(p.index, Box::new(applied)));
                    }
                    break;
                }
                let done: Vec<(usize, AppliedItem)> = stream::iter(ready)
                    .map(|p| {
                        // A root not in this plan's deletions stays.
                        let parents_removed = (p.waits_for.iter())
                            .all(|root| resolved.get(root).copied().unwrap_or(false));
                        let (deletion, registry_now) = (&deletion, &registry_now);
                        async move {
                            let outcome = match skip_reason(&p.item, registry_now, parents_removed)
                            {
                                Some(why) => skipped(why),
                                None => deletion.run(&p.item).await,
                            };
                            let applied = AppliedItem {
                                item: p.item,
                                outcome,
                            };
                            (p.index, applied)
                        }
                    })
                    .buffer_unordered(concurrency)
                    .collect()
                    .await;
                for (index, applied) in done {
                    if applied.item.digest == applied.item.image {
                        resolved.insert(applied.item.digest.clone(), removed(&applied.outcome));
                    }
                    events.push(Event::Item(index, Box::new(applied)));
                }
            }
            events
        }
        .boxed(),
    ]
}

/// Deleted now, or already gone (404): either way no longer there.
fn removed(outcome: &ItemOutcome) -> bool {
    matches!(
        outcome,
        ItemOutcome::Deleted
            | ItemOutcome::Skipped {
                why: SkipReason::Gone
            }
    )
}

async fn delete(client: &Client, registry: &RegistryName, item: &PlannedDeletion) -> ItemOutcome {
    let result = client
        .registries_delete_repository_manifest()
        .registry_name(registry)
        .repository_name(&item.repository)
        .manifest_digest(&item.digest)
        .send()
        .await;
    match result.map_err(Error::from) {
        Ok(_) => ItemOutcome::Deleted,
        // Removed by someone else since the listing: what we wanted, but not our doing.
        Err(e) if e.is_not_found() => skipped(SkipReason::Gone),
        Err(error) => {
            tracing::warn!(repository = %item.repository, digest = %item.digest, %error, "delete failed");
            ItemOutcome::Failed { error }
        }
    }
}

fn skipped(why: SkipReason) -> ItemOutcome {
    ItemOutcome::Skipped { why }
}

/// The garbage collection to run after the deletions, and who hears of its statuses.
struct Collection {
    gc_type: GcType,
    max_wait: Option<Duration>,
    on_status: Option<StatusCallback>,
}

/// Starts the collection (never joining one already running), records it in the journal,
/// tells `on_status` of the record the start returned, then waits for it unless told not to,
/// telling `on_status` of each status after the start's.
async fn collect_garbage(
    client: &Client,
    registry: &RegistryName,
    collection: Collection,
    journal: Option<&Journal>,
) -> GarbageCollectionOutcome {
    let Collection {
        gc_type,
        max_wait,
        mut on_status,
    } = collection;
    let started = match client
        .start_garbage_collection(registry)
        .gc_type(gc_type)
        .attach_to_running(false)
        .send()
        .await
    {
        Ok(started) => started,
        Err(e) => return GarbageCollectionOutcome::Failed(e),
    };
    if let Some(journal) = journal {
        let collection = JournaledCollection::new(started.uuid.clone(), gc_type);
        if let Err(error) = journal.record_garbage_collection(&collection) {
            tracing::warn!(%error, uuid = %started.uuid, "the garbage collection is not recorded in the undo journal");
        }
    }
    if let Some(f) = on_status.as_mut() {
        f(&started.collection);
    }
    let Some(max_wait) = max_wait else {
        return GarbageCollectionOutcome::Started(Box::new(started.collection));
    };
    let mut waiter = client.wait_for_garbage_collection(registry, &started.uuid);
    if let Some(mut f) = on_status {
        // The waiter reports its first status too: told already when it is the start's.
        let mut told = Some(GcStatus::of(&started.collection));
        waiter = waiter.on_status(move |gc| {
            if told.take() != Some(GcStatus::of(gc)) {
                f(gc);
            }
        });
    }
    match waiter.wait(max_wait).await {
        Ok(gc) => GarbageCollectionOutcome::Succeeded(Box::new(gc)),
        Err(e) => GarbageCollectionOutcome::Failed(e),
    }
}

/// Refuses a plan that would send a delete twice or under the wrong repository.
fn check(plan: &Plan) -> Result<(), Error> {
    let mut repositories = HashSet::new();
    for r in &plan.repositories {
        if !repositories.insert(&r.repository) {
            return Err(Error::InvalidInput(format!(
                "the plan lists repository {} twice",
                r.repository
            )));
        }
        let mut digests = HashSet::new();
        for item in &r.delete {
            if item.repository != r.repository {
                return Err(Error::InvalidInput(format!(
                    "the plan lists {} of repository {} under repository {}",
                    item.digest, item.repository, r.repository
                )));
            }
            if !digests.insert(&item.digest) {
                return Err(Error::InvalidInput(format!(
                    "the plan lists {} of repository {} twice",
                    item.digest, r.repository
                )));
            }
        }
    }
    Ok(())
}
