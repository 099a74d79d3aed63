//! Applying a plan: one delete per manifest, image by image and parent first, each checked
//! against the registry as it is now.

use super::super::error::Error;
use super::super::garbage_collection::{GarbageCollectionExt, GcType};
use super::super::names::RegistryName;
use super::super::pagination::ListExt;
use super::super::transport::{RequestCounts, counting_requests};
use super::graph::{ManifestRole, tag_schema_subject};
use super::plan::{Plan, PlannedDeletion, RepositoryPlan};
use super::report::{
    AppliedItem, ApplyReport, GarbageCollectionOutcome, ItemOutcome, RepositoryError, SkipReason,
};
use super::structure::{DEFAULT_READ_CONCURRENCY, read_structure};
use crate::Client;
use crate::ext::names::Digest;
use crate::ext::registry::{RegistryExt, RegistryReader};
use futures::future::{self, BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Deletes in flight at once, by default.
pub const DEFAULT_APPLY_CONCURRENCY: usize = 4;

type ItemCallback = Box<dyn FnMut(&AppliedItem) + Send>;

/// Applies a [`Plan`]; end it with [`send`](Self::send).
#[must_use = "nothing is deleted until `send`"]
pub struct ApplyPrune {
    client: Client,
    plan: Plan,
    concurrency: usize,
    on_item: Option<ItemCallback>,
    garbage_collection: Option<(GcType, Duration)>,
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
        }
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
        self.garbage_collection = Some((gc_type, max_wait));
        self
    }

    /// Applies the plan: per repository, one listing of its manifests, then one delete per
    /// planned manifest whose tags are still the planned ones. Failures are reported per item
    /// and never stop the others. Errors, before any request, only for a malformed plan (an
    /// item under the wrong repository, a repository or digest given twice).
    pub async fn send(mut self) -> Result<ApplyReport, Error> {
        check(&self.plan)?;
        let calls = Arc::new(RequestCounts::default());
        let (items, repository_errors, garbage_collection) =
            counting_requests(calls.clone(), self.run()).await;
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
        let reader = Arc::new(client.registry_reader(&registry));
        let (checker, tasker) = (
            (client.clone(), registry.clone(), reader),
            (client.clone(), registry.clone()),
        );
        let mut work = stream::iter(repositories)
            // Checked at the registry just before its deletes are queued, one repository
            // after another.
            .then(move |(r, start)| {
                let (client, registry, reader) = checker.clone();
                async move {
                    let verdicts = verify(&client, &registry, &reader, &r).await;
                    (r, start, verdicts)
                }
            })
            .flat_map(move |(r, start, verdicts)| {
                stream::iter(tasks(&tasker.0, &tasker.1, r, start, verdicts, concurrency))
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
                collect_garbage(&client, &registry, gc_type, max_wait).await
            }
        };
        (items, repository_errors, gc)
    }
}

/// What the registry says now about each planned item: `None` to go ahead, or why not.
type Verdicts = HashMap<Digest, Option<SkipReason>>;

/// Checks a repository's planned items against the registry as it is now: each item's tags
/// resolved there again, and every manifest new since the plan (tagged or listed) read, with
/// its children, to see whether it references or refers to an item.
async fn verify(
    client: &Client,
    registry: &RegistryName,
    reader: &RegistryReader,
    r: &RepositoryPlan,
) -> Result<Verdicts, Error> {
    let seen: BTreeSet<&str> = r.seen.iter().map(String::as_str).collect();
    let structure = {
        let listed: BTreeSet<Digest> = client
            .list_manifests(registry, &r.repository)
            .collect()
            .await?
            .into_iter()
            .filter_map(|m| m.digest.and_then(|d| Digest::new(d).ok()))
            .collect();
        let new: BTreeSet<Digest> = listed
            .into_iter()
            .filter(|d| !seen.contains(d.as_str()))
            .collect();
        read_structure(reader, &r.repository, &new, DEFAULT_READ_CONCURRENCY).await
    };
    if let Some(failure) = structure.failures.first() {
        return Err(Error::InvalidInput(format!(
            "{} cannot be checked again at the registry: {failure}",
            r.repository
        )));
    }
    let planned: BTreeSet<&Digest> = r.delete.iter().map(|d| &d.digest).collect();
    let mut verdicts: Verdicts = HashMap::new();
    let mut tags_now: HashMap<&Digest, Vec<String>> = HashMap::new();
    for (tag, digest) in &structure.tags {
        tags_now.entry(digest).or_default().push(tag.clone());
        if let Some(subject) = tag_schema_subject(tag)
            && planned.contains(&subject)
            && !seen.contains(digest.as_str())
        {
            let why = SkipReason::GainedReferrer {
                digest: digest.to_string(),
            };
            verdicts.entry(subject).or_insert(Some(why));
        }
    }
    for (digest, read) in &structure.manifests {
        let m = match read {
            Ok(m) => m,
            Err(why) => {
                return Err(Error::InvalidInput(format!(
                    "{} cannot be checked again at the registry: {digest}: {why}",
                    r.repository
                )));
            }
        };
        // Only what is new since the plan can have changed what references an item; a
        // planned item itself read here (a child of a new index) references nothing new.
        if seen.contains(digest.as_str()) {
            continue;
        }
        for child in &m.children {
            if let Ok(child) = Digest::new(child.digest.clone())
                && planned.contains(&child)
            {
                let why = SkipReason::ReferencedBy {
                    digest: digest.to_string(),
                };
                verdicts.entry(child).or_insert(Some(why));
            }
        }
        if let Some(subject) = &m.subject
            && planned.contains(subject)
        {
            let why = SkipReason::GainedReferrer {
                digest: digest.to_string(),
            };
            verdicts.entry(subject.clone()).or_insert(Some(why));
        }
    }
    for item in &r.delete {
        let mut now = tags_now.get(&item.digest).cloned().unwrap_or_default();
        now.sort();
        let mut planned = item.tags.clone();
        planned.sort();
        if now != planned {
            verdicts
                .entry(item.digest.clone())
                .or_insert(Some(SkipReason::TagsChanged { current: now }));
        }
        verdicts.entry(item.digest.clone()).or_insert(None);
    }
    Ok(verdicts)
}

/// A planned item in its image: its index in the report, the item, and the registry's verdict.
type Member = (usize, PlannedDeletion, Option<SkipReason>);

/// The work for one repository, given the registry's verdicts: per image, its members
/// deleted in order (parent first), and once a member is not deleted, the members after it
/// stay too (an index's children outlive it, never the reverse).
fn tasks(
    client: &Client,
    registry: &RegistryName,
    r: RepositoryPlan,
    start: usize,
    verdicts: Result<Verdicts, Error>,
    concurrency: usize,
) -> Vec<BoxFuture<'static, Vec<Event>>> {
    let verdicts = match verdicts {
        Ok(v) => v,
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
    // A member other deleted images hold too waits for all of their roots (phase two).
    let mut images: Vec<(Digest, Vec<Member>)> = Vec::new();
    let mut shared: Vec<Member> = Vec::new();
    for (i, item) in r.delete.iter().enumerate() {
        let verdict = verdicts.get(&item.digest).cloned().flatten();
        let member = (start + i, item.clone(), verdict);
        if !item.held_by.is_empty() {
            shared.push(member);
            continue;
        }
        match images.last_mut() {
            Some((image, members)) if *image == item.image => members.push(member),
            _ => images.push((item.image.clone(), vec![member])),
        }
    }
    let (client, registry) = (client.clone(), registry.clone());
    vec![
        async move {
            let mut events: Vec<Event> = stream::iter(images)
                .map(|(_, members)| delete_image(&client, &registry, members))
                .buffer_unordered(concurrency)
                .flat_map(stream::iter)
                .collect()
                .await;
            let gone: HashSet<String> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Item(_, applied)
                        if applied.item.role == ManifestRole::Image
                            && removed(&applied.outcome) =>
                    {
                        Some(applied.item.digest.to_string())
                    }
                    _ => None,
                })
                .collect();
            for (index, item, verdict) in shared {
                let roots_gone = std::iter::once(item.image.as_str())
                    .chain(item.held_by.iter().map(String::as_str))
                    .all(|root| gone.contains(root));
                let outcome = match verdict {
                    _ if !roots_gone => skipped(SkipReason::ParentNotDeleted),
                    Some(why) => skipped(why),
                    None => delete(&client, &registry, &item).await,
                };
                events.push(Event::Item(index, Box::new(AppliedItem { item, outcome })));
            }
            events
        }
        .boxed(),
    ]
}

/// One image's members in order, index first; once its index stays, the rest stay too.
async fn delete_image(
    client: &Client,
    registry: &RegistryName,
    members: Vec<Member>,
) -> Vec<Event> {
    let mut events = Vec::new();
    let mut parent_stays = false;
    for (index, item, verdict) in members {
        let outcome = match verdict {
            _ if parent_stays => skipped(SkipReason::ParentNotDeleted),
            Some(why) => skipped(why),
            None => delete(client, registry, &item).await,
        };
        if item.role == ManifestRole::Image && !removed(&outcome) {
            parent_stays = true;
        }
        events.push(Event::Item(index, Box::new(AppliedItem { item, outcome })));
    }
    events
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

async fn collect_garbage(
    client: &Client,
    registry: &RegistryName,
    gc_type: GcType,
    max_wait: Duration,
) -> GarbageCollectionOutcome {
    let started = client
        .start_garbage_collection(registry)
        .gc_type(gc_type)
        .attach_to_running(false)
        .send()
        .await;
    let result = match started {
        Ok(started) => {
            client
                .wait_for_garbage_collection(registry, &started.uuid)
                .wait(max_wait)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
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
