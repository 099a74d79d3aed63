//! Applying a plan: one delete per manifest, each checked against a fresh listing first.

use super::super::error::Error;
use super::super::garbage_collection::{GarbageCollectionExt, GcType};
use super::super::names::RegistryName;
use super::super::pagination::ListExt;
use super::super::transport::counting_requests;
use super::plan::{Plan, PlannedDeletion, RepositoryPlan};
use super::report::{
    AppliedItem, ApplyReport, GarbageCollectionOutcome, ItemOutcome, RepositoryError, SkipReason,
};
use crate::{Client, types};
use futures::future::{self, BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    Item(usize, AppliedItem),
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

    /// Called with each item's outcome as it is known (in completion order).
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
        let calls = Arc::new(AtomicU64::new(0));
        let (items, repository_errors, garbage_collection) =
            counting_requests(calls.clone(), self.run()).await;
        Ok(ApplyReport {
            items,
            repository_errors,
            api_calls: calls.load(Ordering::Relaxed),
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
        let mut repositories = Vec::new();
        let mut next = 0;
        for r in &self.plan.repositories {
            if !r.delete.is_empty() {
                repositories.push((r.clone(), next));
            }
            next += r.delete.len();
        }
        let (lister, tasker) = (
            (client.clone(), registry.clone()),
            (client.clone(), registry.clone()),
        );
        let mut work = stream::iter(repositories)
            // Listed just before its deletes are queued, one repository after another.
            .then(move |(r, start)| {
                let (client, registry) = lister.clone();
                async move {
                    let listed = client
                        .list_manifests(&registry, &r.repository)
                        .collect()
                        .await;
                    (r, start, listed)
                }
            })
            .flat_map(move |(r, start, listed)| {
                stream::iter(tasks(&tasker.0, &tasker.1, r, start, listed))
            })
            .buffer_unordered(self.concurrency)
            .boxed();

        let mut slots: Vec<Option<AppliedItem>> = (0..next).map(|_| None).collect();
        let mut repository_errors = Vec::new();
        while let Some(event) = work.next().await {
            match event {
                Event::Item(index, applied) => {
                    if let Some(f) = self.on_item.as_mut() {
                        f(&applied);
                    }
                    slots[index] = Some(applied);
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
                collect_garbage(&client, &registry, gc_type, max_wait).await
            }
        };
        (items, repository_errors, gc)
    }
}

/// The work for one repository, given its fresh listing: a delete for each item still as
/// planned, an outcome at once for the others.
fn tasks(
    client: &Client,
    registry: &RegistryName,
    r: RepositoryPlan,
    start: usize,
    listed: Result<Vec<types::RepositoryManifest>, Error>,
) -> Vec<BoxFuture<'static, Event>> {
    let ready = |index: usize, item: &PlannedDeletion, outcome| {
        let applied = AppliedItem {
            item: item.clone(),
            outcome,
        };
        future::ready(Event::Item(index, applied)).boxed()
    };
    let current: HashMap<String, Vec<String>> = match listed {
        Ok(manifests) => manifests
            .into_iter()
            .filter_map(|m| {
                let mut tags = m.tags;
                tags.sort();
                Some((m.digest?, tags))
            })
            .collect(),
        Err(error) => {
            tracing::warn!(repository = %r.repository, %error, "cannot list the repository again; skipping its items");
            let mut events: Vec<_> = (r.delete.iter().enumerate())
                .map(|(i, item)| {
                    let why = SkipReason::NotVerified;
                    ready(start + i, item, ItemOutcome::Skipped { why })
                })
                .collect();
            let error = RepositoryError {
                repository: r.repository.clone(),
                error,
            };
            events.push(future::ready(Event::RepositoryError(error)).boxed());
            return events;
        }
    };
    r.delete
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let index = start + i;
            // Compared as sets: a plan read back from a file may list them in any order.
            let mut planned = item.tags.clone();
            planned.sort();
            match current.get(item.digest.as_str()) {
                None => ready(index, item, skipped(SkipReason::Gone)),
                Some(tags) if *tags != planned => {
                    let why = SkipReason::TagsChanged {
                        current: tags.clone(),
                    };
                    ready(index, item, ItemOutcome::Skipped { why })
                }
                Some(_) => delete(client.clone(), registry.clone(), index, item.clone()).boxed(),
            }
        })
        .collect()
}

async fn delete(
    client: Client,
    registry: RegistryName,
    index: usize,
    item: PlannedDeletion,
) -> Event {
    let result = client
        .registries_delete_repository_manifest()
        .registry_name(&registry)
        .repository_name(&item.repository)
        .manifest_digest(&item.digest)
        .send()
        .await;
    let outcome = match result.map_err(Error::from) {
        Ok(_) => ItemOutcome::Deleted,
        // Removed by someone else since the listing: what we wanted, but not our doing.
        Err(e) if e.is_not_found() => skipped(SkipReason::Gone),
        Err(error) => {
            tracing::warn!(repository = %item.repository, digest = %item.digest, %error, "delete failed");
            ItemOutcome::Failed { error }
        }
    };
    Event::Item(index, AppliedItem { item, outcome })
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
