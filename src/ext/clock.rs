//! Time, injectable: waiting and retrying read the clock and sleep through this trait, so tests
//! run them on a [`TestClock`] that never sleeps for real and records every pause.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(feature = "test-util")]
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of the current time and of sleeps.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time (DigitalOcean's `ratelimit-reset` is wall-clock).
    fn now(&self) -> SystemTime;
    /// Resolves after `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The real clock: the system time and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A virtual clock for tests (feature `test-util`): `sleep` returns at once and moves the time
/// forward.
///
/// ```
/// use docr::{client::Clock, client::TestClock};
/// use std::time::Duration;
/// # tokio_test_block(async {
/// let clock = TestClock::new();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(90)).await;
/// assert_eq!(clock.now().duration_since(start).unwrap(), Duration::from_secs(90));
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(90)]);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[cfg(feature = "test-util")]
#[derive(Debug, Clone)]
pub struct TestClock {
    state: Arc<Mutex<TestClockState>>,
}

#[cfg(feature = "test-util")]
#[derive(Debug)]
struct TestClockState {
    now: SystemTime,
    sleeps: Vec<Duration>,
}

#[cfg(feature = "test-util")]
impl TestClock {
    /// A clock that starts at 2024-01-01T00:00:00Z.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200))
    }

    /// A clock that starts at `now`.
    pub fn starting_at(now: SystemTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(TestClockState {
                now,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves the time forward without a sleep being recorded.
    pub fn advance(&self, by: Duration) {
        self.lock().now += by;
    }

    /// Every sleep asked of this clock so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TestClockState> {
        // A panic while holding this lock cannot leave the state half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(feature = "test-util")]
impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "test-util")]
impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        self.lock().now
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let mut state = self.lock();
        state.now += duration;
        state.sleeps.push(duration);
        // Yield once, as a real sleep would, so concurrent tasks interleave.
        Box::pin(tokio::task::yield_now())
    }
}
