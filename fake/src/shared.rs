//! [`Shared`]: what both listeners' handlers share with the [`FakeDocr`](super::FakeDocr)
//! handle: the token and URLs, and, each behind its lock, the state, the faults, the rate
//! budget and the call log.

use super::calls::CallLog;
use super::faults::{FaultInjector, RateLimiter};
use super::state::State;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What the handlers of both listeners share with the [`FakeDocr`](super::FakeDocr) handle.
pub(crate) struct Shared {
    pub(crate) token: String,
    pub(crate) url: String,
    /// The registry side's URL.
    pub(crate) registry_url: String,
    /// Whether the registry side serves the referrers API.
    pub(crate) referrers_api: bool,
    state: Mutex<State>,
    faults: Mutex<FaultInjector>,
    limiter: Mutex<RateLimiter>,
    log: Mutex<CallLog>,
    requests: AtomicU64,
}

/// A poisoned lock still holds consistent data here (no handler panics mid-update by design),
/// so the fake keeps serving rather than failing every later request.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(
        token: String,
        url: String,
        state: State,
        faults: FaultInjector,
        limiter: RateLimiter,
        journal_length: usize,
    ) -> Self {
        Self {
            token,
            url,
            registry_url: String::new(),
            referrers_api: true,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            limiter: Mutex::new(limiter),
            log: Mutex::new(CallLog::new(journal_length)),
            requests: AtomicU64::new(0),
        }
    }

    pub(crate) fn with_registry(self, url: String, referrers_api: bool) -> Self {
        Self {
            registry_url: url,
            referrers_api,
            ..self
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        lock(&self.faults)
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, CallLog> {
        lock(&self.log)
    }

    pub(crate) fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.limiter)
    }

    /// The number of the API request that has just come, counting from 1.
    pub(crate) fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }
}
