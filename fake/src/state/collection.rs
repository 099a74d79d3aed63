//! Garbage collection as a state machine, computed lazily from elapsed time: each status lasts
//! one `gc_step`, and what a collection frees is taken when it succeeds (what that is, its
//! registry says: [`registry`](super::registry)).
//!
//! ```text
//! requested -> waiting for write JWTs to expire -> waiting for delete requests
//!           -> scanning manifests -> deleting unreferenced blobs -> succeeded
//! (any of the first five) --cancel--> cancelling --one step--> cancelled
//! ```
//! `waiting for delete requests` is not in the spec's list; the live API sends it.

use super::now::Now;
use chrono::{DateTime, TimeDelta, Utc};
use docr::garbage_collection::GcType;
use std::time::Duration;
use tokio::time::Instant;

/// The statuses of a running collection, one `gc_step` each.
const STEPS: [&str; 5] = [
    "requested",
    "waiting for write JWTs to expire",
    "waiting for delete requests",
    "scanning manifests",
    "deleting unreferenced blobs",
];

#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub(crate) uuid: String,
    pub(crate) registry: String,
    pub(crate) kind: GcType,
    pub(crate) created_at: DateTime<Utc>,
    started: Instant,
    cancel_requested: Option<(Instant, DateTime<Utc>)>,
    ended: Option<Ended>,
}

#[derive(Debug, Clone, Copy)]
struct Ended {
    status: &'static str,
    at: DateTime<Utc>,
    blobs_deleted: u64,
    freed_bytes: u64,
}

/// A collection as the API shows it at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    pub(crate) status: &'static str,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) blobs_deleted: u64,
    pub(crate) freed_bytes: u64,
}

impl Collection {
    pub(crate) fn new(uuid: String, registry: String, kind: GcType, now: Now) -> Self {
        Self {
            uuid,
            registry,
            kind,
            created_at: now.wall,
            started: now.instant,
            cancel_requested: None,
            ended: None,
        }
    }

    /// Neither succeeded nor cancelled yet (a cancelling one is still active).
    pub(crate) fn is_active(&self) -> bool {
        self.ended.is_none()
    }

    /// What the API shows at `now` (after [`advance`](Self::advance) has run for `now`).
    pub(crate) fn view(&self, now: Instant, step: Duration) -> View {
        if let Some(ended) = self.ended {
            return View {
                status: ended.status,
                updated_at: ended.at,
                blobs_deleted: ended.blobs_deleted,
                freed_bytes: ended.freed_bytes,
            };
        }
        let (status, updated_at) = match self.cancel_requested {
            Some((_, wall)) => ("cancelling", wall),
            None => {
                let index = steps_elapsed(now.duration_since(self.started), step)
                    .min(STEPS.len() as u32 - 1);
                (
                    STEPS[index as usize],
                    later(self.created_at, step.saturating_mul(index)),
                )
            }
        };
        View {
            status,
            updated_at,
            blobs_deleted: 0,
            freed_bytes: 0,
        }
    }

    /// Asks an active collection to stop; it is `cancelling` for one step, then `cancelled`.
    pub(crate) fn cancel(&mut self, now: Now) -> Result<(), &'static str> {
        if let Some(ended) = self.ended {
            return Err(ended.status);
        }
        if self.cancel_requested.is_none() {
            self.cancel_requested = Some((now.instant, now.wall));
        }
        Ok(())
    }

    /// Ends it when its time has come at `now`: one step after a cancel it is `cancelled`,
    /// having freed nothing; after its last status it has `succeeded`, having freed what `free`
    /// frees at that moment (given the type and the moment, it returns the blobs deleted and
    /// the bytes freed).
    pub(crate) fn advance(
        &mut self,
        now: Instant,
        step: Duration,
        free: impl FnOnce(GcType, DateTime<Utc>) -> (u64, u64),
    ) {
        if self.ended.is_some() {
            return;
        }
        if let Some((asked, wall)) = self.cancel_requested {
            if now.duration_since(asked) >= step {
                self.ended = Some(Ended {
                    status: "cancelled",
                    at: later(wall, step),
                    blobs_deleted: 0,
                    freed_bytes: 0,
                });
            }
            return;
        }
        let steps = STEPS.len() as u32;
        if steps_elapsed(now.duration_since(self.started), step) >= steps {
            let at = later(self.created_at, step.saturating_mul(steps));
            let (blobs_deleted, freed_bytes) = free(self.kind, at);
            self.ended = Some(Ended {
                status: "succeeded",
                at,
                blobs_deleted,
                freed_bytes,
            });
        }
    }
}

fn steps_elapsed(elapsed: Duration, step: Duration) -> u32 {
    if step.is_zero() {
        return u32::MAX;
    }
    u32::try_from(elapsed.as_nanos() / step.as_nanos()).unwrap_or(u32::MAX)
}

/// `at + d`, or `at` when that is beyond what a date can hold.
fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(at)
}
