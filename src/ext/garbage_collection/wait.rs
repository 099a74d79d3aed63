//! Waiting for a collection to end: a deadline, a poll schedule, each status reported.

use crate::ext::error::Error;
use crate::ext::family::{ApiFamily, for_family};
use crate::ext::garbage_collection::{GarbageCollectionExt, GcStatus};
use crate::ext::names::{GcId, RegistryName};
use crate::ext::pagination::ListExt;
use crate::{Client, types};
use futures::TryStreamExt;
use reqwest::StatusCode;
use std::time::Duration;

/// How often a waiter polls: quick at first, then a fraction of the time waited so far
/// (so the delay in noticing the end stays a small share of the collection's length), capped.
///
/// The default polls every second for the first ten seconds, then every tenth of the time
/// waited, at most every 30 s: the end of a collection is noticed within a second while it is
/// shorter than ten seconds, and within a tenth of its length after that, in far fewer calls
/// than polling every second (`BENCHMARKS.md`, `gc_wait_*`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PollSchedule {
    /// The shortest interval (also the first).
    pub initial: Duration,
    /// The longest interval.
    pub max: Duration,
    /// Interval as a share of the time waited so far.
    pub share_of_elapsed: f64,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(30), 0.1)
    }
}

/// The most jitter shortens the share of elapsed time by.
const JITTER: f64 = 0.1;

impl PollSchedule {
    /// Polls every `initial` at first, then every `share_of_elapsed` of the time waited so
    /// far, at most every `max`.
    pub const fn new(initial: Duration, max: Duration, share_of_elapsed: f64) -> Self {
        Self {
            initial,
            max,
            share_of_elapsed,
        }
    }

    /// Polls every `interval`, however long the wait.
    pub const fn fixed(interval: Duration) -> Self {
        Self::new(interval, interval, 0.0)
    }

    /// The interval after waiting `elapsed`, before jitter: the longest pause there can be.
    pub fn interval(&self, elapsed: Duration) -> Duration {
        elapsed
            .mul_f64(self.share_of_elapsed)
            .max(self.initial)
            .min(self.max)
    }

    /// The pause after waiting `elapsed`, for a random `draw` in `[0, 1)`: the share of elapsed
    /// time shortened by up to a tenth, so that waiters started together drift apart, then kept
    /// within `initial` and `max`. Never longer than [`interval`](Self::interval): jitter
    /// that lengthened a pause would let the end go unnoticed past the schedule's bound.
    pub fn pause(&self, elapsed: Duration, draw: f64) -> Duration {
        let share = self.share_of_elapsed * (1.0 - JITTER * draw.clamp(0.0, 1.0));
        elapsed.mul_f64(share).max(self.initial).min(self.max)
    }
}

// In a Mutex so that the waiter is Sync, and its `wait` future Send (it borrows the waiter).
type StatusCallback = std::sync::Mutex<Box<dyn FnMut(&types::GarbageCollection) + Send>>;

/// Waits for one garbage collection to end.
#[must_use = "nothing is polled until `wait`"]
pub struct WaitForGarbageCollection {
    pub(super) client: Client,
    pub(super) registry: RegistryName,
    pub(super) uuid: GcId,
    pub(super) family: ApiFamily,
    pub(super) on_status: Option<StatusCallback>,
    pub(super) cancel_on_deadline: bool,
    pub(super) schedule: PollSchedule,
}

impl WaitForGarbageCollection {
    /// Which endpoint family to poll.
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Called with the record each time its status changes (the first time too).
    pub fn on_status(mut self, f: impl FnMut(&types::GarbageCollection) + Send + 'static) -> Self {
        self.on_status = Some(std::sync::Mutex::new(Box::new(f)));
        self
    }

    /// Cancel the collection when the deadline passes (default: leave it running).
    pub fn cancel_on_deadline(mut self, cancel: bool) -> Self {
        self.cancel_on_deadline = cancel;
        self
    }

    /// How often to poll.
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Polls until the collection ends or `max_wait` passes. `Ok` when it succeeded; errors
    /// for failed, cancelled, deadline passed, or a call that failed for good. Transient errors
    /// (429, 5xx, connection) while polling are logged and polling goes on.
    pub async fn wait(mut self, max_wait: Duration) -> Result<types::GarbageCollection, Error> {
        let clock = self.client.clock().clone();
        let start = clock.now();
        // Every poll carries the wait's deadline: no retry sleeps past it. (The cancellation
        // after it goes through the client as given.)
        let bounded = self.client.with_deadline(start + max_wait);
        let mut last: Option<types::GarbageCollection> = None;
        let mut polls = 0u32;
        loop {
            polls += 1;
            match self.observe(&bounded).await {
                Ok(gc) => {
                    let status = GcStatus::of(&gc);
                    let changed = last.as_ref().map(GcStatus::of) != Some(status.clone());
                    tracing::debug!(uuid = %self.uuid, %status, poll = polls, "garbage collection poll");
                    if changed {
                        tracing::info!(uuid = %self.uuid, %status, "garbage collection status");
                        if let Some(f) = self.on_status.as_mut() {
                            let f = f.get_mut().unwrap_or_else(|e| e.into_inner());
                            f(&gc);
                        }
                    }
                    match status {
                        GcStatus::Succeeded => return Ok(gc),
                        GcStatus::Failed => {
                            return Err(Error::GarbageCollectionFailed(Box::new(gc)));
                        }
                        GcStatus::Cancelled => {
                            return Err(Error::GarbageCollectionCancelled(Box::new(gc)));
                        }
                        _ => last = Some(gc),
                    }
                }
                Err(e) if is_transient(&e) => {
                    tracing::warn!(uuid = %self.uuid, error = %e, poll = polls, "garbage collection poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
            let elapsed = clock.now().duration_since(start).unwrap_or_default();
            let Some(left) = max_wait.checked_sub(elapsed).filter(|d| !d.is_zero()) else {
                return Err(self.deadline_passed(last, elapsed).await);
            };
            let pause = self.schedule.pause(elapsed, fastrand::f64()).min(left);
            clock.sleep(pause).await;
        }
    }

    /// The collection's current record: from the active-GC call while it shows this one, else
    /// from the list of collections (where finished ones are).
    async fn observe(&self, client: &Client) -> Result<types::GarbageCollection, Error> {
        let active = client
            .active_garbage_collection(&self.registry, self.family)
            .await?;
        if let Some(gc) = active.filter(|gc| gc.uuid.as_deref() == Some(self.uuid.as_str())) {
            return Ok(gc);
        }
        let found = client
            .list_garbage_collections(&self.registry)
            .family(self.family)
            .stream()
            .try_filter(|gc| futures::future::ready(gc.uuid.as_deref() == Some(self.uuid.as_str())))
            .try_next()
            .await?;
        found.ok_or_else(|| Error::GarbageCollectionNotFound {
            registry: self.registry.clone(),
            uuid: self.uuid.clone(),
        })
    }

    async fn deadline_passed(
        &self,
        last: Option<types::GarbageCollection>,
        waited: Duration,
    ) -> Error {
        let mut cancel_requested = false;
        if self.cancel_on_deadline {
            let body = types::UpdateRegistry { cancel: Some(true) };
            let result = for_family!(
                self.family,
                self.client,
                registries_update_garbage_collection | registry_update_garbage_collection,
                |call| call
                    .registry_name(&self.registry)
                    .garbage_collection_uuid(self.uuid.as_str())
                    .body(body)
                    .send()
                    .await
                    .map(|_| ())
            );
            match result {
                Ok(()) => cancel_requested = true,
                Err(e) => {
                    tracing::warn!(uuid = %self.uuid, error = %Error::from(e), "cancelling after the deadline failed")
                }
            }
        }
        Error::DeadlinePassed {
            uuid: self.uuid.clone(),
            waited,
            last_status: last.as_ref().map(GcStatus::of).map(|s| s.to_string()),
            cancel_requested,
        }
    }
}

/// Errors worth polling through: rate limits, server errors, lost connections.
fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport(_) => true,
        _ => e
            .status()
            .is_some_and(|s| s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error()),
    }
}
