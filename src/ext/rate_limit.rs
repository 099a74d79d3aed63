//! DigitalOcean's rate limits: reading the `ratelimit-*` headers and pacing requests.
//!
//! DigitalOcean allows 5,000 requests an hour and 250 a minute per token. The headers report
//! the hourly quota; the minute limit is not reported, so the client keeps its own sliding
//! window of the last minute's requests and waits before it would exceed it.

use super::clock::Clock;
use reqwest::header::{HeaderMap, HeaderName};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The rate-limit state a response reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per hour (`ratelimit-limit`).
    pub limit: u64,
    /// Requests left in the hourly quota (`ratelimit-remaining`).
    pub remaining: u64,
    /// When the oldest counted request expires (`ratelimit-reset`, Unix seconds).
    pub reset: SystemTime,
}

/// The headers DigitalOcean reports its hourly quota in (names made once, not parsed per
/// response: every API response is read for them).
pub(crate) const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub(crate) const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub(crate) const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// A header's value as a whole number, if it is one.
pub(crate) fn number(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl RateLimit {
    /// Reads the three `ratelimit-*` headers; `None` unless all three are present and numeric.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        Some(Self {
            limit: number(headers, &RATELIMIT_LIMIT)?,
            remaining: number(headers, &RATELIMIT_REMAINING)?,
            reset: SystemTime::UNIX_EPOCH + Duration::from_secs(number(headers, &RATELIMIT_RESET)?),
        })
    }
}

/// How fast the client lets itself send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pacing {
    /// At most this many requests in any `window` (DigitalOcean: 250 a minute).
    pub max_requests: usize,
    /// The sliding window `max_requests` applies to.
    pub window: Duration,
    /// When the hourly quota is spent, wait for its reset up to this long (longer: send and
    /// let the server answer 429).
    pub max_quota_wait: Duration,
}

impl Pacing {
    /// At most `max_requests` in any `window`; the quota wait as by default.
    pub fn per_window(max_requests: usize, window: Duration) -> Self {
        Self {
            max_requests,
            window,
            ..Self::default()
        }
    }
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            max_requests: 250,
            window: Duration::from_secs(60),
            max_quota_wait: Duration::from_secs(60),
        }
    }
}

/// Shared pacing state of one client: the last window's send times and the last reported quota.
#[derive(Debug)]
pub(crate) struct Pacer {
    pacing: Option<Pacing>,
    state: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    /// Send times (past or reserved) of the last `max_requests` requests.
    sent: VecDeque<SystemTime>,
    last: Option<RateLimit>,
}

impl Pacer {
    pub(crate) fn new(pacing: Option<Pacing>) -> Self {
        Self {
            pacing,
            state: Mutex::new(PacerState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn last(&self) -> Option<RateLimit> {
        self.lock().last
    }

    pub(crate) fn record(&self, rate: RateLimit) {
        self.lock().last = Some(rate);
    }

    /// Reserves a send slot and returns how long to wait for it (zero when free now).
    pub(crate) fn reserve(&self, now: SystemTime) -> Duration {
        let Some(pacing) = self.pacing else {
            return Duration::ZERO;
        };
        let mut state = self.lock();
        let mut at = now;
        if let Some(rate) = state.last
            && rate.remaining == 0
            && let Ok(until_reset) = rate.reset.duration_since(now)
            && until_reset <= pacing.max_quota_wait
        {
            at = rate.reset;
        }
        if state.sent.len() >= pacing.max_requests.max(1) {
            let oldest = state.sent.pop_front().unwrap_or(now);
            at = at.max(oldest + pacing.window);
        }
        state.sent.push_back(at);
        at.duration_since(now).unwrap_or(Duration::ZERO)
    }

    /// Waits for a send slot on `clock`; returns how long it waited.
    pub(crate) async fn wait(&self, clock: &dyn Clock) -> Duration {
        let delay = self.reserve(clock.now());
        if !delay.is_zero() {
            clock.sleep(delay).await;
        }
        delay
    }
}
