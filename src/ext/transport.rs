//! The choke point: every request of the generated client passes through [`Transport`], which
//! adds the token, paces against the rate limits, retries by the one [`RetryPolicy`], records
//! the rate-limit state and traces the call.

use super::clock::Clock;
use super::rate_limit::{Pacer, RateLimit};
use super::retry::{self, Outcome, RetryPolicy};
use crate::Client;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tracing::Instrument;

/// One call's span: its operation and method now, the status, attempts, duration (and any
/// `extra` field) recorded as it ends.
macro_rules! call_span {
    ($name:literal, $operation:expr, $request:expr $(, $extra:ident)*) => {
        tracing::debug_span!(
            $name,
            operation = $operation,
            method = %$request.method(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            $($extra = tracing::field::Empty,)*
        )
    };
}

/// The header progenitor adds to every request (the spec's version), which DigitalOcean's API
/// neither needs nor documents.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");
/// The id DigitalOcean gives each request, for support tickets.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The hand-written state of a [`Client`]: token, policies and rate-limit state, and the
/// context of the operation its calls belong to.
///
/// Made by [`ClientBuilder`](super::client::ClientBuilder); cloning shares the state. An
/// operation that measures or bounds its calls (a waiter's deadline, a prune's request counts)
/// runs them through a clone of the client that carries its [`CallContext`]: whatever the calls
/// are sent from, a spawned task included, they carry it, because they hold the client.
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
    context: CallContext,
}

/// What the calls of one operation carry, with the client value they are sent through.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallContext {
    /// The deadline of the waiter the calls belong to: no retry sleeps past it.
    deadline: Option<SystemTime>,
    /// Where every request the calls send (retries included) is counted.
    counts: Option<Arc<RequestCounts>>,
}

impl Client {
    /// This client, its calls refusing retries that would end after `deadline`.
    pub(crate) fn with_deadline(&self, deadline: SystemTime) -> Client {
        let mut scoped = self.clone();
        scoped.inner.context.deadline = Some(deadline);
        scoped
    }

    /// This client, its calls adding every request they send (retries included) to `counts`.
    pub(crate) fn counting_into(&self, counts: Arc<RequestCounts>) -> Client {
        let mut scoped = self.clone();
        scoped.inner.context.counts = Some(counts);
        scoped
    }
}

struct Shared {
    /// `Bearer <token>`, marked sensitive so that no header dump shows it.
    authorization: HeaderValue,
    retry: RetryPolicy,
    pacer: Pacer,
    clock: Arc<dyn Clock>,
    /// Bounds the requests on the wire at once, so that a burst of calls reuses pooled
    /// connections instead of opening one each: one bound per host, so that a plan's
    /// registry reads do not queue the API calls behind them (nor the reverse).
    in_flight: Option<tokio::sync::Semaphore>,
    registry_in_flight: Option<tokio::sync::Semaphore>,
    /// The OCI distribution endpoint (no trailing slash).
    registry_url: String,
    /// How long the credentials of a registry reader live.
    registry_credentials_expiry: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("token", &"<redacted>")
            .field("retry", &self.shared.retry)
            .field("pacer", &self.shared.pacer)
            .field("clock", &self.shared.clock)
            .finish()
    }
}

impl Transport {
    pub(crate) fn new(
        authorization: HeaderValue,
        retry: RetryPolicy,
        pacer: Pacer,
        clock: Arc<dyn Clock>,
        max_in_flight: Option<usize>,
        registry_url: String,
        registry_credentials_expiry: Duration,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                authorization,
                retry,
                pacer,
                clock,
                in_flight: max_in_flight.map(|n| tokio::sync::Semaphore::new(n.max(1))),
                registry_in_flight: max_in_flight.map(|n| tokio::sync::Semaphore::new(n.max(1))),
                registry_url,
                registry_credentials_expiry,
            }),
            context: CallContext::default(),
        }
    }

    pub(crate) fn registry_url(&self) -> &str {
        &self.shared.registry_url
    }

    pub(crate) fn registry_credentials_expiry(&self) -> Duration {
        self.shared.registry_credentials_expiry
    }

    /// Sends a request to the registry (not the API): its own authorization, no API pacing,
    /// the same retries, in-flight bound and tracing, and the body left as the registry sent it.
    pub(crate) async fn execute_registry(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let span = call_span!("docr.registry", operation, request);
        self.attempts(client, request, Call::Registry)
            .instrument(span)
            .await
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        self.shared.pacer.last()
    }

    pub(crate) async fn execute(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let headers = request.headers_mut();
        headers.remove(&API_VERSION);
        headers.insert(AUTHORIZATION, self.shared.authorization.clone());
        // progenitor sends `{}` for an optional body left unset; these calls then send none,
        // as DigitalOcean's spec (no body at all on the `/v2/registries` start) has it.
        if OPTIONAL_BODY_OPERATIONS.contains(&operation)
            && request.body().and_then(reqwest::Body::as_bytes) == Some(b"{}".as_slice())
        {
            *request.body_mut() = None;
            request.headers_mut().remove(CONTENT_TYPE);
            request.headers_mut().remove(CONTENT_LENGTH);
        }
        let span = call_span!("docr.call", operation, request, request_id);
        self.attempts(client, request, Call::Api)
            .instrument(span.clone())
            .await
            .inspect(|response| {
                if let Some(id) = response
                    .headers()
                    .get(&X_REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                {
                    span.record("request_id", id);
                }
            })
    }

    async fn attempts(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        call: Call,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &*self.shared;
        let clock = &*shared.clock;
        let method = request.method().clone();
        let started = clock.now();
        let timer = Instant::now();
        let mut attempt = 1;
        loop {
            // A streaming body cannot be replayed; every body this crate sends can.
            let replay = request.try_clone();
            if call == Call::Api {
                shared.pacer.wait(clock).await;
            }
            // Counted for whoever asked (a prune reports the requests it took).
            if let Some(count) = &self.context.counts {
                match call {
                    Call::Api => count.api.fetch_add(1, Ordering::Relaxed),
                    Call::Registry => count.registry.fetch_add(1, Ordering::Relaxed),
                };
            }
            let limit = match call {
                Call::Api => &shared.in_flight,
                Call::Registry => &shared.registry_in_flight,
            };
            let permit = match limit {
                Some(limit) => limit.acquire().await.ok(),
                None => None,
            };
            let result = client.execute(request).await;
            drop(permit);
            let now = clock.now();
            let outcome = match &result {
                Ok(response) => {
                    let status = response.status();
                    if call == Call::Api
                        && let Some(rate) = RateLimit::from_headers(response.headers())
                    {
                        shared.pacer.record(rate);
                    }
                    Outcome::Response {
                        status,
                        server_delay: retry::server_delay(status, response.headers(), now),
                    }
                }
                Err(_) => Outcome::TransportError,
            };
            let elapsed = now.duration_since(started).unwrap_or_default();
            // A caller with a deadline (a waiter) gets no retry that would sleep past it.
            let deadline = self.context.deadline;
            let next = replay.and_then(|copy| {
                retry::decide(
                    &shared.retry,
                    &method,
                    outcome,
                    attempt,
                    elapsed,
                    fastrand::f64(),
                )
                .filter(|delay| deadline.is_none_or(|d| now + *delay <= d))
                .map(|delay| (copy, delay))
            });
            let span = tracing::Span::current();
            match next {
                None => {
                    span.record("attempts", attempt);
                    span.record("duration_ms", timer.elapsed().as_millis() as u64);
                    match &result {
                        Ok(response) => {
                            span.record("status", response.status().as_u16());
                            tracing::debug!(status = response.status().as_u16(), "response");
                        }
                        Err(e) => tracing::debug!(error = %e, "request failed"),
                    }
                    return match result {
                        Ok(response) if call == Call::Api => error_body_as_json(response).await,
                        other => other,
                    };
                }
                Some((copy, delay)) => {
                    match &result {
                        Ok(response) => tracing::info!(
                            attempt,
                            status = response.status().as_u16(),
                            delay_ms = delay.as_millis() as u64,
                            "retrying"
                        ),
                        Err(e) => tracing::info!(
                            attempt,
                            error = %e,
                            delay_ms = delay.as_millis() as u64,
                            "retrying"
                        ),
                    }
                    drop(result);
                    clock.sleep(delay).await;
                    request = copy;
                    attempt += 1;
                }
            }
        }
    }
}

/// Whom a request goes to: the API (paced by its rate limit, errors normalized to its JSON) or
/// the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Api,
    Registry,
}

/// Operations (progenitor's snake-case names) whose request body is optional: an empty object
/// is not sent.
const OPTIONAL_BODY_OPERATIONS: [&str; 2] = [
    "registries_run_garbage_collection",
    "registry_run_garbage_collection",
];

/// Requests sent, retries included: to the API and to the registry.
#[derive(Debug, Default)]
pub(crate) struct RequestCounts {
    pub api: AtomicU64,
    pub registry: AtomicU64,
}

/// Runs `f` as a task of its own, in the caller's span: on a multi-thread runtime a page is
/// then decoded on any worker while the caller consumes the page before it. What its calls
/// are measured by travels in the client they hold. Dropping the returned future aborts the
/// task, as dropping `f` would have cancelled it; a panic in it resumes here.
pub(crate) fn spawn_in_span<T>(
    f: impl Future<Output = Result<T, crate::Error>> + Send + 'static,
) -> impl Future<Output = Result<T, crate::Error>> + Send + 'static
where
    T: Send + 'static,
{
    let handle = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(f.in_current_span()));
    async move {
        match handle.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(crate::Error::RuntimeShutDown),
        }
    }
}

/// The most of an error body read; past it the body is not DigitalOcean's error object anyway.
const MAX_ERROR_BODY: usize = 1 << 20;

/// Makes sure an error response carries a JSON object, so that its status, headers and request
/// id survive decoding: a proxy's HTML page, an empty or truncated body become
/// `{"message": "<status> (<what came>)"}`. DigitalOcean's own error bodies pass unchanged.
async fn error_body_as_json(mut response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let mut body = Vec::new();
    let mut complete = true;
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_ERROR_BODY {
            complete = false;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    // What decodes as DigitalOcean's error passes as it is; anything else would lose the status.
    let decodes = complete && serde_json::from_slice::<crate::types::Error>(&body).is_ok();
    let body = if decodes {
        body
    } else {
        let reason = status.canonical_reason().unwrap_or("error");
        let text = String::from_utf8_lossy(&body[..body.len().min(160)]);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let message = if text.is_empty() {
            format!("{reason} (empty body)")
        } else {
            format!("{reason} (the body is not DigitalOcean's JSON error: `{text}`...)")
        };
        serde_json::json!({ "message": message })
            .to_string()
            .into_bytes()
    };
    let mut rebuilt = http::Response::builder()
        .status(status)
        .version(response.version());
    for (name, value) in response.headers() {
        if name != CONTENT_LENGTH && name != CONTENT_TYPE {
            rebuilt = rebuilt.header(name, value);
        }
    }
    let rebuilt = rebuilt.header(CONTENT_TYPE, "application/json").body(body);
    match rebuilt {
        Ok(rebuilt) => Ok(reqwest::Response::from(rebuilt)),
        // Unreachable with parts copied from a valid response; keep what we had if not.
        Err(_) => Ok(response),
    }
}

impl ClientHooks<Transport> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner()
            .execute(self.client(), request, info.operation_id)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{RetryPolicy, TestClock};
    use std::time::UNIX_EPOCH;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A server that answers every request 503, asking to be retried in `retry_after` s.
    async fn unavailable(retry_after: u64) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(503).insert_header("retry-after", retry_after.to_string()),
            )
            .mount(&server)
            .await;
        server
    }

    fn client(server: &MockServer, clock: &TestClock) -> Client {
        Client::builder()
            .token("t")
            .api_url(server.uri())
            .pacing(None)
            .clock(clock.clone())
            .retry_policy(RetryPolicy::default().with_max_attempts(3))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_scoped_client_carries_its_deadline_and_counts_into_a_spawned_task() {
        let server = unavailable(30).await;
        let clock = TestClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_000_000));
        let client = client(&server, &clock);
        let counts = Arc::new(RequestCounts::default());
        // A deadline 10 s away: the 30 s the server asks for would end past it.
        let scoped = client
            .with_deadline(clock.now() + Duration::from_secs(10))
            .counting_into(counts.clone());
        let answer = tokio::spawn(async move { scoped.registries_list().send().await })
            .await
            .unwrap();
        assert_eq!(answer.unwrap_err().status().map(|s| s.as_u16()), Some(503));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        assert_eq!(counts.api.load(Ordering::Relaxed), 1);
        assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());

        // The client it was scoped from has neither: it retries, and counts nowhere.
        let plain = tokio::spawn(async move { client.registries_list().send().await })
            .await
            .unwrap();
        assert!(plain.is_err());
        assert_eq!(server.received_requests().await.unwrap().len(), 1 + 3);
        assert_eq!(counts.api.load(Ordering::Relaxed), 1);
        assert_eq!(clock.sleeps().len(), 2, "{:?}", clock.sleeps());
    }
}
