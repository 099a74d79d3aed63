//! Garbage collection, start to finish: start one (or attach to the one running), then wait for
//! it with a deadline, reporting each status change.
//!
//! ```no_run
//! use docr::prelude::*;
//! use std::time::Duration;
//!
//! # async fn run(client: Client) -> Result<(), docr::ext::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let started = client
//!     .start_garbage_collection(&registry)
//!     .gc_type(GcType::Both)
//!     .send()
//!     .await?;
//! let done = client
//!     .wait_for_garbage_collection(&registry, &started.uuid)
//!     .on_status(|gc| eprintln!("{}", gc.status.as_deref().unwrap_or("?")))
//!     .wait(Duration::from_secs(30 * 60))
//!     .await?;
//! println!("freed {} bytes", done.freed_bytes.unwrap_or(0));
//! # Ok(()) }
//! ```

use super::error::Error;
use super::names::RegistryName;
use super::pagination::{ApiFamily, ListExt, for_family};
use crate::{Client, types};
use futures::TryStreamExt;
use reqwest::StatusCode;
use std::fmt;
use std::time::Duration;

/// What a garbage collection removes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GcType {
    /// Manifests no tag points at.
    UntaggedManifests,
    /// Blobs no manifest references (DigitalOcean's clients send this when none is chosen).
    #[default]
    UnreferencedBlobs,
    /// Both of the above.
    Both,
}

impl GcType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            GcType::UntaggedManifests => "untagged manifests only",
            GcType::UnreferencedBlobs => "unreferenced blobs only",
            GcType::Both => "untagged manifests and unreferenced blobs",
        }
    }
}

impl From<GcType> for types::RegistryRunGcType {
    fn from(t: GcType) -> Self {
        match t {
            GcType::UntaggedManifests => Self::UntaggedManifestsOnly,
            GcType::UnreferencedBlobs => Self::UnreferencedBlobsOnly,
            GcType::Both => Self::UntaggedManifestsAndUnreferencedBlobs,
        }
    }
}

/// A garbage collection's status. Statuses the spec does not list (the live API sends
/// `waiting for delete requests`) are [`GcStatus::Other`] and count as still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcStatus {
    Requested,
    WaitingForWriteJwtsToExpire,
    ScanningManifests,
    DeletingUnreferencedBlobs,
    Cancelling,
    Failed,
    Succeeded,
    Cancelled,
    /// A status this crate does not know; treated as running.
    Other(String),
}

impl GcStatus {
    /// Reads a wire status.
    pub fn parse(status: &str) -> Self {
        match status {
            "requested" => Self::Requested,
            "waiting for write JWTs to expire" => Self::WaitingForWriteJwtsToExpire,
            "scanning manifests" => Self::ScanningManifests,
            "deleting unreferenced blobs" => Self::DeletingUnreferencedBlobs,
            "cancelling" => Self::Cancelling,
            "failed" => Self::Failed,
            "succeeded" => Self::Succeeded,
            "cancelled" => Self::Cancelled,
            other => Self::Other(other.to_string()),
        }
    }

    /// Whether the collection has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded | Self::Cancelled)
    }
}

impl fmt::Display for GcStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Requested => "requested",
            Self::WaitingForWriteJwtsToExpire => "waiting for write JWTs to expire",
            Self::ScanningManifests => "scanning manifests",
            Self::DeletingUnreferencedBlobs => "deleting unreferenced blobs",
            Self::Cancelling => "cancelling",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Cancelled => "cancelled",
            Self::Other(s) => s,
        })
    }
}

/// The status of a collection record (a record without one counts as requested).
pub fn status_of(gc: &types::GarbageCollection) -> GcStatus {
    gc.status
        .as_deref()
        .map(GcStatus::parse)
        .unwrap_or(GcStatus::Requested)
}

/// A started (or joined) garbage collection.
#[derive(Debug, Clone)]
pub struct Started {
    /// The collection's uuid.
    pub uuid: String,
    /// The record as the API returned it.
    pub collection: types::GarbageCollection,
    /// `true` when this call did not start it: one was running already (and attaching was
    /// allowed), or the start failed ambiguously and the active one was found instead.
    pub attached: bool,
}

/// How often a waiter polls: quick at first, then a fraction of the time waited so far
/// (so the delay in noticing the end stays a small share of the collection's length), capped.
///
/// The default polls every second for the first ten seconds, then every tenth of the time
/// waited, at most every 30 s: the end of a collection is noticed within a second while it is
/// shorter than ten seconds, and within a tenth of its length after that, in far fewer calls
/// than polling every second (`BENCHMARKS.md`, `gc_wait_*`).
#[derive(Debug, Clone, Copy, PartialEq)]
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
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            share_of_elapsed: 0.1,
        }
    }
}

/// The most jitter shortens the share of elapsed time by.
const JITTER: f64 = 0.1;

impl PollSchedule {
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

/// Garbage collection, as methods of [`Client`].
pub trait GarbageCollectionExt {
    /// Starts a garbage collection; end with [`StartGarbageCollection::send`].
    fn start_garbage_collection(&self, registry: &RegistryName) -> StartGarbageCollection;
    /// Waits for a garbage collection; end with [`WaitForGarbageCollection::wait`].
    fn wait_for_garbage_collection(
        &self,
        registry: &RegistryName,
        uuid: &str,
    ) -> WaitForGarbageCollection;
    /// The running garbage collection, if any (`None` on 404).
    fn active_garbage_collection(
        &self,
        registry: &RegistryName,
        family: ApiFamily,
    ) -> impl Future<Output = Result<Option<types::GarbageCollection>, Error>> + Send;
}

impl GarbageCollectionExt for Client {
    fn start_garbage_collection(&self, registry: &RegistryName) -> StartGarbageCollection {
        StartGarbageCollection {
            client: self.clone(),
            registry: registry.clone(),
            gc_type: GcType::default(),
            family: ApiFamily::default(),
            attach: true,
        }
    }

    fn wait_for_garbage_collection(
        &self,
        registry: &RegistryName,
        uuid: &str,
    ) -> WaitForGarbageCollection {
        WaitForGarbageCollection {
            client: self.clone(),
            registry: registry.clone(),
            uuid: uuid.to_string(),
            family: ApiFamily::default(),
            on_status: None,
            cancel_on_deadline: false,
            schedule: PollSchedule::default(),
        }
    }

    async fn active_garbage_collection(
        &self,
        registry: &RegistryName,
        family: ApiFamily,
    ) -> Result<Option<types::GarbageCollection>, Error> {
        let result = for_family!(
            family,
            self,
            registries_get_garbage_collection | registry_get_garbage_collection,
            |call| call.registry_name(registry).send().await
        );
        match result.map_err(Error::from) {
            Ok(response) => Ok(response.into_inner().garbage_collection),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Starts a garbage collection. By default its type is [`GcType::UnreferencedBlobs`] and a
/// collection already running is joined rather than reported as an error.
#[must_use = "nothing is sent until `send`"]
pub struct StartGarbageCollection {
    client: Client,
    registry: RegistryName,
    gc_type: GcType,
    family: ApiFamily,
    attach: bool,
}

impl StartGarbageCollection {
    /// What to collect.
    pub fn gc_type(mut self, gc_type: GcType) -> Self {
        self.gc_type = gc_type;
        self
    }

    /// Which endpoint family to call.
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Whether a collection already running is joined (default) or an error.
    pub fn attach_to_running(mut self, attach: bool) -> Self {
        self.attach = attach;
        self
    }

    /// Sends the start. A start that failed in a way the server may have acted on (5xx, lost
    /// connection) is never repeated: the active collection is looked up instead.
    pub async fn send(self) -> Result<Started, Error> {
        let body = types::RegistryRunGc {
            type_: Some(self.gc_type.into()),
        };
        let result = for_family!(
            self.family,
            self.client,
            registries_run_garbage_collection | registry_run_garbage_collection,
            |call| call.registry_name(&self.registry).body(body).send().await
        );
        let error = match result.map_err(Error::from) {
            Ok(response) => return started(response.into_inner().garbage_collection, false),
            Err(e) => e,
        };
        let conflict = error.status() == Some(StatusCode::CONFLICT) && self.attach;
        let ambiguous = matches!(error, Error::Transport(_))
            || error.status().is_some_and(|s| s.is_server_error());
        if !(conflict || ambiguous) {
            return Err(error);
        }
        tracing::info!(registry = %self.registry, %error, "start failed; looking for the active garbage collection");
        match self
            .client
            .active_garbage_collection(&self.registry, self.family)
            .await
        {
            Ok(Some(active)) => started(Some(active), true),
            _ => Err(error),
        }
    }
}

fn started(gc: Option<types::GarbageCollection>, attached: bool) -> Result<Started, Error> {
    let collection = gc.ok_or_else(|| {
        Error::InvalidInput("the API returned no garbage_collection in its answer".into())
    })?;
    let uuid = collection.uuid.clone().ok_or_else(|| {
        Error::InvalidInput("the API returned a garbage collection without a uuid".into())
    })?;
    Ok(Started {
        uuid,
        collection,
        attached,
    })
}

// In a Mutex so that the waiter is Sync, and its `wait` future Send (it borrows the waiter).
type StatusCallback = std::sync::Mutex<Box<dyn FnMut(&types::GarbageCollection) + Send>>;

/// Waits for one garbage collection to end.
#[must_use = "nothing is polled until `wait`"]
pub struct WaitForGarbageCollection {
    client: Client,
    registry: RegistryName,
    uuid: String,
    family: ApiFamily,
    on_status: Option<StatusCallback>,
    cancel_on_deadline: bool,
    schedule: PollSchedule,
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
        let mut last: Option<types::GarbageCollection> = None;
        let mut polls = 0u32;
        loop {
            polls += 1;
            let deadline = start + max_wait;
            match super::transport::with_deadline(deadline, self.observe()).await {
                Ok(gc) => {
                    let status = status_of(&gc);
                    let changed = last.as_ref().map(status_of) != Some(status.clone());
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
    async fn observe(&self) -> Result<types::GarbageCollection, Error> {
        let active = self
            .client
            .active_garbage_collection(&self.registry, self.family)
            .await?;
        if let Some(gc) = active.filter(|gc| gc.uuid.as_deref() == Some(self.uuid.as_str())) {
            return Ok(gc);
        }
        let found = self
            .client
            .list_garbage_collections(&self.registry)
            .family(self.family)
            .stream()
            .try_filter(|gc| futures::future::ready(gc.uuid.as_deref() == Some(self.uuid.as_str())))
            .try_next()
            .await?;
        found.ok_or_else(|| Error::GarbageCollectionNotFound {
            registry: self.registry.to_string(),
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
            last_status: last.as_ref().map(status_of).map(|s| s.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify() {
        assert!(GcStatus::parse("succeeded").is_terminal());
        assert!(GcStatus::parse("failed").is_terminal());
        assert!(GcStatus::parse("cancelled").is_terminal());
        assert!(!GcStatus::parse("cancelling").is_terminal());
        let unknown = GcStatus::parse("waiting for delete requests");
        assert_eq!(
            unknown,
            GcStatus::Other("waiting for delete requests".into())
        );
        assert!(!unknown.is_terminal());
        assert_eq!(unknown.to_string(), "waiting for delete requests");
    }

    #[test]
    fn polling_starts_quick_and_is_capped() {
        let s = PollSchedule::default();
        assert_eq!(s.interval(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(s.interval(Duration::from_secs(80)), Duration::from_secs(8));
        assert_eq!(
            s.interval(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn jitter_only_shortens_the_share() {
        let s = PollSchedule::default();
        for elapsed in [0, 5, 10, 11, 80, 299, 301, 3600].map(Duration::from_secs) {
            for draw in [0.0, 0.3, 0.999, 1.0, 7.0] {
                let pause = s.pause(elapsed, draw);
                assert!(pause <= s.interval(elapsed), "{elapsed:?} {draw}");
                assert!(pause >= s.initial, "{elapsed:?} {draw}");
            }
        }
        // Under ten seconds the floor holds exactly; beyond, a draw shortens by up to a tenth.
        assert_eq!(
            s.pause(Duration::from_secs(5), 0.999),
            Duration::from_secs(1)
        );
        assert_eq!(
            s.pause(Duration::from_secs(80), 0.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            s.pause(Duration::from_secs(80), 0.5),
            Duration::from_millis(7600)
        );
    }
}
