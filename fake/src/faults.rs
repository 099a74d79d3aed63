//! What can go wrong on purpose: injected faults (latency, 5xx, 429 bursts, dropped
//! connections) and DigitalOcean's rate limits, both applied to every request of the API
//! listener; the registry listener waits the latency too, and meets no other fault.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Faults the fake injects. Which request gets which fault is drawn from a generator seeded
/// with [`seed`](Faults::seed): the same requests in the same order meet the same faults.
///
/// ```
/// use docr_fake::Faults;
/// use std::time::Duration;
///
/// let flaky = Faults { error_rate: 0.2, latency: Duration::from_millis(5), ..Faults::default() };
/// assert_eq!(flaky.seed, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// How long after its request arrived every answer leaves (and a connection is dropped),
    /// on the API listener and on the registry listener alike (but not by the token endpoint).
    /// The fake does its work for the request within that time, as a remote server's work
    /// lies within its round trip; work that takes longer delays the answer past it.
    pub latency: Duration,
    /// Share of requests, `0.0..=1.0`, answered with a 5xx (500, 502, 503 or 504, drawn).
    pub error_rate: f64,
    /// The next `burst_429` requests are answered `429` with `Retry-After: 1`.
    pub burst_429: u32,
    /// Share of requests, `0.0..=1.0`, whose TCP connection is closed without an answer.
    pub drop_rate: f64,
    /// Seeds the generator behind `error_rate` and `drop_rate`.
    pub seed: u64,
}

impl Default for Faults {
    /// No faults.
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_rate: 0.0,
            burst_429: 0,
            drop_rate: 0.0,
            seed: 1,
        }
    }
}

/// When the answer to a request arriving now may leave: `latency` from now.
pub(crate) fn due(latency: Duration) -> Instant {
    Instant::now() + latency
}

/// Waits until `due`, to within a fraction of a millisecond. Tokio's timer wakes on whole
/// milliseconds, late (a 20 ms sleep lasts 20 to 22 ms, 1.2 ms more on average here): all but
/// the last 2 ms are slept on it, the rest on a blocking thread, which wakes when asked.
pub(crate) async fn wait_until(due: Instant) {
    const FINE: Duration = Duration::from_millis(2);
    if due.saturating_duration_since(Instant::now()) > FINE {
        tokio::time::sleep_until(due - FINE).await;
    }
    let rest = due.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Close the connection without answering.
    Drop,
    /// Answer 429 (a burst).
    TooManyRequests,
    /// Answer this 5xx status.
    ServerError(u16),
}

/// The faults in force and the generator that decides them.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    faults: Faults,
    rng: fastrand::Rng,
    burst_left: u32,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(faults.seed),
            burst_left: faults.burst_429,
            faults,
        }
    }

    /// Replaces the faults; the generator restarts from the new seed.
    pub(crate) fn set(&mut self, faults: Faults) {
        *self = Self::new(faults);
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    pub(crate) fn latency(&self) -> Duration {
        self.faults.latency
    }

    /// The fault for the next request, if any.
    pub(crate) fn roll(&mut self) -> Option<Fault> {
        // Every request draws the same numbers, so one rate never shifts another's sequence.
        let drop = self.rng.f64();
        let error = self.rng.f64();
        let status = [500, 502, 503, 504][self.rng.usize(0..4)];
        if drop < self.faults.drop_rate {
            return Some(Fault::Drop);
        }
        if self.burst_left > 0 {
            self.burst_left -= 1;
            return Some(Fault::TooManyRequests);
        }
        (error < self.faults.error_rate).then_some(Fault::ServerError(status))
    }
}

/// How many requests the fake accepts, per minute and per hour, before it answers 429.
/// DigitalOcean's limits, and the default, are 250 a minute and 5,000 an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    /// Requests accepted in any 60 seconds.
    pub per_minute: u32,
    /// Requests accepted in any hour; the `ratelimit-*` headers report this budget.
    pub per_hour: u32,
}

impl Default for RateBudget {
    fn default() -> Self {
        Self {
            per_minute: 250,
            per_hour: 5_000,
        }
    }
}

impl RateBudget {
    /// No limit (for benchmarks): nothing is counted, the headers report `u32::MAX`.
    pub const UNLIMITED: Self = Self {
        per_minute: u32::MAX,
        per_hour: u32::MAX,
    };
}

/// What the `ratelimit-*` headers of a response say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateState {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Unix seconds at which the oldest request of the hour stops counting.
    pub(crate) reset: u64,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3_600);

/// Sliding windows over the requests accepted in the last hour.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    budget: RateBudget,
    /// When each accepted request arrived: the clock for windows, Unix seconds for headers.
    accepted: VecDeque<(Instant, u64)>,
}

impl RateLimiter {
    pub(crate) fn new(budget: RateBudget) -> Self {
        Self {
            budget,
            accepted: VecDeque::new(),
        }
    }

    fn forget_older_than_an_hour(&mut self, now: Instant) {
        while let Some((at, _)) = self.accepted.front() {
            if now.duration_since(*at) >= HOUR {
                self.accepted.pop_front();
            } else {
                break;
            }
        }
    }

    /// The headers' view now, without counting a request.
    pub(crate) fn state(&mut self, now: Instant, wall: SystemTime) -> RateState {
        self.forget_older_than_an_hour(now);
        let used = u32::try_from(self.accepted.len()).unwrap_or(u32::MAX);
        let reset = match self.accepted.front() {
            Some((_, unix)) => unix + HOUR.as_secs(),
            None => unix_seconds(wall),
        };
        RateState {
            limit: self.budget.per_hour,
            remaining: self.budget.per_hour.saturating_sub(used),
            reset,
        }
    }

    /// Counts one request, or says after how many seconds one would be accepted again.
    pub(crate) fn charge(&mut self, now: Instant, wall: SystemTime) -> Result<(), u64> {
        if self.budget == RateBudget::UNLIMITED {
            return Ok(());
        }
        self.forget_older_than_an_hour(now);
        let in_hour = self.accepted.len();
        // Arrival times only grow: the minute's first request is found by bisection.
        let minute_start = self
            .accepted
            .partition_point(|(at, _)| now.duration_since(*at) >= MINUTE);
        let in_minute = in_hour - minute_start;
        let wait_for = |index: usize, window: Duration| {
            let since = self
                .accepted
                .get(index)
                .map(|(at, _)| now.duration_since(*at))
                .unwrap_or(window);
            window.saturating_sub(since).as_secs_f64().ceil().max(1.0) as u64
        };
        if in_hour >= self.budget.per_hour as usize {
            return Err(wait_for(0, HOUR));
        }
        if in_minute >= self.budget.per_minute as usize {
            return Err(wait_for(minute_start, MINUTE));
        }
        self.accepted.push_back((now, unix_seconds(wall)));
        Ok(())
    }
}

fn unix_seconds(wall: SystemTime) -> u64 {
    wall.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let faults = Faults {
            error_rate: 0.3,
            drop_rate: 0.2,
            seed: 7,
            ..Faults::default()
        };
        let run = || {
            let mut injector = FaultInjector::new(faults.clone());
            (0..50).map(|_| injector.roll()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(run().contains(&Some(Fault::Drop)));
    }

    #[test]
    fn a_burst_answers_429_then_stops() {
        let mut injector = FaultInjector::new(Faults {
            burst_429: 2,
            ..Faults::default()
        });
        let seen: Vec<_> = (0..4).map(|_| injector.roll()).collect();
        assert_eq!(
            seen,
            [
                Some(Fault::TooManyRequests),
                Some(Fault::TooManyRequests),
                None,
                None
            ]
        );
    }

    #[test]
    fn the_minute_budget_refuses_then_recovers() {
        let mut limiter = RateLimiter::new(RateBudget {
            per_minute: 2,
            per_hour: 10,
        });
        let start = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(limiter.charge(start, wall), Ok(()));
        assert_eq!(limiter.charge(start, wall), Ok(()));
        assert_eq!(limiter.charge(start, wall), Err(60));
        let state = limiter.state(start, wall);
        assert_eq!((state.limit, state.remaining, state.reset), (10, 8, 4_600));
        assert_eq!(limiter.charge(start + MINUTE, wall), Ok(()));
    }

    #[test]
    fn an_unlimited_budget_counts_nothing() {
        let mut limiter = RateLimiter::new(RateBudget::UNLIMITED);
        let (now, wall) = (Instant::now(), SystemTime::now());
        for _ in 0..1_000 {
            assert_eq!(limiter.charge(now, wall), Ok(()));
        }
        assert_eq!(limiter.state(now, wall).remaining, u32::MAX);
    }
}
