//! The one retry policy: which failures are tried again, and after how long.
//!
//! | outcome                                  | retried for           | after                                   |
//! |------------------------------------------|-----------------------|-----------------------------------------|
//! | 429 Too Many Requests                    | every method          | `Retry-After`, else `ratelimit-reset`, else backoff |
//! | 500, 502, 503, 504                       | safe-to-repeat calls  | `Retry-After`, else backoff             |
//! | connection failed or timed out           | safe-to-repeat calls  | backoff                                 |
//! | anything else                            | never                 |                                         |
//!
//! Safe to repeat: `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` (repeating them changes nothing
//! more). A `POST` (create a registry, start a garbage collection) is never sent twice after a
//! failure the server may have acted on. Backoff is exponential with full jitter.

use super::rate_limit;
use reqwest::{Method, StatusCode};
use std::time::{Duration, SystemTime};

/// Bounds on retrying. [`RetryPolicy::default`] suits interactive and CI use;
/// [`RetryPolicy::disabled`] sends every request once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per call, the first included (1 disables retries).
    pub max_attempts: u32,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
    /// The first backoff step; each further step doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The largest backoff step.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(120),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Sends every request once.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Attempts per call, the first included (1 disables retries).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// No retry starts later than this after the first attempt.
    pub fn with_max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// Backoff from `initial`, doubling each step, up to `max`.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }
}

/// What came back from one attempt, as far as retrying cares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Response {
        status: StatusCode,
        /// From `Retry-After` or, on a 429, `ratelimit-reset`.
        server_delay: Option<Duration>,
    },
    /// The request may or may not have reached the server.
    TransportError,
}

pub(crate) fn is_safe_to_repeat(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Decides whether attempt number `attempt` (1-based) is followed by another, and after
/// how long. `jitter` is a number in `[0, 1)`; `elapsed` is the time since the first attempt.
pub(crate) fn decide(
    policy: &RetryPolicy,
    method: &Method,
    outcome: Outcome,
    attempt: u32,
    elapsed: Duration,
    jitter: f64,
) -> Option<Duration> {
    if attempt >= policy.max_attempts {
        return None;
    }
    let backoff = || {
        let step = policy
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(policy.max_backoff);
        step.mul_f64(jitter)
    };
    let delay = match outcome {
        Outcome::Response {
            status,
            server_delay,
        } => match status.as_u16() {
            429 => server_delay.unwrap_or_else(backoff),
            // A 500 is as often passing trouble behind the API as a lasting fault; godo and pydo
            // retry it too. Repeating is harmless only for calls safe to repeat.
            500 | 502..=504 if is_safe_to_repeat(method) => server_delay.unwrap_or_else(backoff),
            _ => return None,
        },
        Outcome::TransportError if is_safe_to_repeat(method) => backoff(),
        Outcome::TransportError => return None,
    };
    (elapsed + delay <= policy.max_elapsed).then_some(delay)
}

/// The server's own word on when to come back: `Retry-After` (seconds or an HTTP date),
/// else, on a 429, the `ratelimit-reset` time. Read only for the statuses [`decide`] may retry
/// (429 and 5xx): on any other the headers go unread.
pub(crate) fn server_delay(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return None;
    }
    if let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            let at = SystemTime::from(date);
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(reset) = rate_limit::number(headers, &rate_limit::RATELIMIT_RESET)
    {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, server_delay: Option<Duration>) -> Outcome {
        Outcome::Response {
            status: StatusCode::from_u16(status).unwrap(),
            server_delay,
        }
    }

    #[test]
    fn the_decision_table_holds() {
        let p = RetryPolicy::default();
        let zero = Duration::ZERO;
        let d = |m: Method, o| decide(&p, &m, o, 1, zero, 0.5);
        // 429: every method, after what the server said.
        let wait = Some(Duration::from_secs(7));
        assert_eq!(d(Method::POST, response(429, wait)), wait);
        assert_eq!(d(Method::GET, response(429, wait)), wait);
        // 5xx gateways: only what is safe to repeat.
        assert_eq!(
            d(Method::GET, response(503, None)),
            Some(Duration::from_millis(125))
        );
        assert_eq!(
            d(Method::DELETE, response(502, None)),
            Some(Duration::from_millis(125))
        );
        assert_eq!(d(Method::POST, response(503, None)), None);
        assert_eq!(
            d(Method::GET, response(500, None)),
            Some(Duration::from_millis(125))
        );
        assert_eq!(d(Method::POST, response(500, None)), None);
        assert_eq!(d(Method::GET, response(501, None)), None);
        assert_eq!(d(Method::GET, response(404, None)), None);
        // Transport errors: only what is safe to repeat.
        assert!(d(Method::PUT, Outcome::TransportError).is_some());
        assert_eq!(d(Method::POST, Outcome::TransportError), None);
    }

    #[test]
    fn attempts_and_time_are_bounded() {
        let p = RetryPolicy::default();
        let o = response(503, None);
        assert!(decide(&p, &Method::GET, o, 4, Duration::ZERO, 0.5).is_some());
        assert_eq!(decide(&p, &Method::GET, o, 5, Duration::ZERO, 0.5), None);
        let late = p.max_elapsed - Duration::from_millis(10);
        assert_eq!(
            decide(
                &p,
                &Method::GET,
                response(429, Some(Duration::from_secs(1))),
                1,
                late,
                0.5
            ),
            None
        );
        assert_eq!(
            decide(
                &RetryPolicy::disabled(),
                &Method::GET,
                o,
                1,
                Duration::ZERO,
                0.5
            ),
            None
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let p = RetryPolicy {
            max_attempts: 100,
            max_elapsed: Duration::MAX / 4,
            ..RetryPolicy::default()
        };
        let step = |attempt| {
            decide(
                &p,
                &Method::GET,
                Outcome::TransportError,
                attempt,
                Duration::ZERO,
                0.999_999,
            )
            .unwrap()
        };
        assert!(step(1) < Duration::from_millis(251));
        assert!(step(2) > Duration::from_millis(499) && step(2) < Duration::from_millis(501));
        assert!(step(40) <= p.max_backoff);
    }

    #[test]
    fn server_delay_reads_both_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("ratelimit-reset", "1030".parse().unwrap());
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(server_delay(StatusCode::SERVICE_UNAVAILABLE, &h, now), None);
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(
            server_delay(StatusCode::SERVICE_UNAVAILABLE, &h, now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(server_delay(StatusCode::OK, &h, now), None);
    }
}
