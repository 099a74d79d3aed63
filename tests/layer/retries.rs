//! The one retry policy and the pacer, against a loopback wiremock server and on a virtual
//! clock: which failures are sent again, how long the client waits first, and the exact number
//! of calls the server saw.
//!
//! Rate-limit headers follow godo's `TestDo_rateLimit` (`tests/vectors/godo/common_rate_limit_headers.json`).

use docr::prelude::*;
use docr::types;
use docr::{client::Clock, client::TestClock};
use docr::{client::Pacing, client::RateLimit, client::RetryPolicy};
use serde_json::json;
use std::time::{Duration, SystemTime};

use crate::support::{self, GC_UUID, Script, client_on, server};
use wiremock::{MockServer, Respond, ResponseTemplate};

const ACTIVE: &str = "/v2/registries/example/garbage-collection";

fn builder(api_url: &str, clock: &TestClock) -> ClientBuilder {
    support::builder(api_url).clock(clock.clone())
}

fn client_with(server: &MockServer, clock: &TestClock, policy: RetryPolicy) -> Client {
    builder(&server.uri(), clock)
        .retry_policy(policy)
        .build()
        .unwrap()
}

/// The two kinds of call retrying tells apart: safe to repeat, and not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `GET .../garbage-collection`: the active collection.
    Get,
    /// `POST .../garbage-collection`: start one.
    Post,
}

impl Call {
    fn verb(self) -> &'static str {
        match self {
            Call::Get => "GET",
            Call::Post => "POST",
        }
    }

    fn success(self) -> ResponseTemplate {
        let status = match self {
            Call::Get => 200,
            Call::Post => 201,
        };
        ResponseTemplate::new(status).set_body_json(json!({"garbage_collection": {
            "uuid": GC_UUID,
            "registry_name": "example",
            "status": "requested",
            "type": "unreferenced blobs only",
        }}))
    }

    async fn send(self, client: &Client) -> Result<types::GarbageCollectionResponse, Error> {
        let response = match self {
            Call::Get => {
                client
                    .registries_get_garbage_collection()
                    .registry_name("example")
                    .send()
                    .await
            }
            Call::Post => {
                client
                    .registries_run_garbage_collection()
                    .registry_name("example")
                    .body(types::RegistryRunGc {
                        type_: Some(types::RegistryRunGcType::UnreferencedBlobsOnly),
                    })
                    .send()
                    .await
            }
        };
        Ok(response?.into_inner())
    }
}

fn api_error(status: u16, id: &str) -> ResponseTemplate {
    support::api_error(status, id, &format!("the server says {status}"))
}

fn too_many_requests() -> ResponseTemplate {
    api_error(429, "too_many_requests")
}

async fn answer(server: &MockServer, call: Call, respond: impl Respond + 'static) {
    support::mount(server, call.verb(), ACTIVE, respond).await;
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Unix seconds, as `ratelimit-reset` gives them, `ahead` of the clock's now.
fn unix_seconds(clock: &TestClock, ahead: Duration) -> String {
    let at = clock.now() + ahead;
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds_for_get_and_post_alike() {
    for call in [Call::Get, Call::Post] {
        let server = server().await;
        let clock = TestClock::new();
        let answers = [
            too_many_requests().insert_header("retry-after", "7"),
            call.success(),
        ];
        answer(&server, call, Script::new(answers)).await;

        let response = call.send(&client_on(&server, &clock)).await.unwrap();

        assert_eq!(
            response.garbage_collection.unwrap().uuid.as_deref(),
            Some(GC_UUID)
        );
        assert_eq!(calls(&server).await, 2, "{call:?}");
        assert_eq!(clock.sleeps(), [secs(7)], "{call:?}");
    }
}

#[tokio::test]
async fn a_429_without_retry_after_waits_until_the_reset() {
    // With the whole `ratelimit-*` set (the pacer also learns the quota is spent) and with the
    // reset alone: either way one wait, until the reset, and no second wait by the pacer.
    for whole_set in [true, false] {
        let server = server().await;
        let clock = TestClock::new();
        let mut limited =
            too_many_requests().insert_header("ratelimit-reset", unix_seconds(&clock, secs(42)));
        if whole_set {
            limited = limited
                .insert_header("ratelimit-limit", "5000")
                .insert_header("ratelimit-remaining", "0");
        }
        answer(
            &server,
            Call::Get,
            Script::new([limited, Call::Get.success()]),
        )
        .await;

        Call::Get.send(&client_on(&server, &clock)).await.unwrap();

        assert_eq!(calls(&server).await, 2, "whole set: {whole_set}");
        assert_eq!(clock.sleeps(), [secs(42)], "whole set: {whole_set}");
    }
}

fn three_attempts() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        max_elapsed: secs(60),
        initial_backoff: secs(1),
        max_backoff: secs(10),
    }
}

#[tokio::test]
async fn a_gateway_error_on_a_get_is_retried_up_to_max_attempts() {
    for status in [502, 503, 504] {
        let server = server().await;
        let clock = TestClock::new();
        answer(&server, Call::Get, api_error(status, "service_unavailable")).await;

        let error = Call::Get
            .send(&client_with(&server, &clock, three_attempts()))
            .await
            .unwrap_err();

        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(calls(&server).await, 3, "{status}");
        // Full jitter below a doubling step: under 1 s, then under 2 s.
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2, "{status}");
        assert!(sleeps[0] < secs(1) && sleeps[1] < secs(2), "{sleeps:?}");
    }
}

#[tokio::test]
async fn a_gateway_error_then_success_on_a_get_is_one_call_to_the_caller() {
    let server = server().await;
    let clock = TestClock::new();
    let answers = [
        api_error(503, "service_unavailable"),
        api_error(503, "service_unavailable").insert_header("retry-after", "3"),
        Call::Get.success(),
    ];
    answer(&server, Call::Get, Script::new(answers)).await;

    Call::Get
        .send(&client_with(&server, &clock, three_attempts()))
        .await
        .unwrap();

    assert_eq!(calls(&server).await, 3);
    let sleeps = clock.sleeps();
    assert!(sleeps[0] < secs(1), "{sleeps:?}");
    assert_eq!(sleeps[1], secs(3), "Retry-After on a 503 is honoured");
}

#[tokio::test]
async fn what_is_not_safe_to_repeat_or_not_transient_is_sent_once() {
    let cases = [
        (Call::Post, 503),
        (Call::Post, 502),
        (Call::Post, 500),
        (Call::Get, 501),
        (Call::Get, 404),
        (Call::Get, 401),
    ];
    for (call, status) in cases {
        let server = server().await;
        let clock = TestClock::new();
        answer(&server, call, api_error(status, "error")).await;

        let error = call
            .send(&client_with(&server, &clock, three_attempts()))
            .await
            .unwrap_err();

        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(calls(&server).await, 1, "{call:?} {status}");
        assert!(clock.sleeps().is_empty(), "{call:?} {status}");
    }
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_a_get_and_not_for_a_post() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    for (call, attempts) in [(Call::Get, 4), (Call::Post, 1)] {
        let clock = TestClock::new();
        let policy = RetryPolicy {
            max_attempts: 4,
            ..three_attempts()
        };
        let client = builder(&url, &clock).retry_policy(policy).build().unwrap();

        let error = call.send(&client).await.unwrap_err();

        assert!(matches!(error, Error::Transport(_)), "{call:?}: {error:?}");
        // Nothing listens, so the attempts show only as the pauses between them.
        assert_eq!(clock.sleeps().len(), attempts - 1, "{call:?}");
    }
}

#[tokio::test]
async fn a_disabled_policy_sends_once() {
    let cases = [
        api_error(503, "service_unavailable"),
        too_many_requests().insert_header("retry-after", "7"),
    ];
    for failure in cases {
        let server = server().await;
        let clock = TestClock::new();
        answer(
            &server,
            Call::Get,
            Script::new([failure, Call::Get.success()]),
        )
        .await;

        let error = Call::Get
            .send(&client_with(&server, &clock, RetryPolicy::disabled()))
            .await
            .unwrap_err();

        assert!(
            error
                .status()
                .is_some_and(|s| s.as_u16() == 503 || s.as_u16() == 429)
        );
        assert_eq!(calls(&server).await, 1);
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn max_elapsed_bounds_the_time_spent_retrying() {
    let policy = RetryPolicy {
        max_attempts: 10,
        max_elapsed: secs(10),
        ..three_attempts()
    };
    // (Retry-After, calls, sleeps): a wait beyond the bound is not started at all; shorter
    // waits go on until the next one would cross it (4 + 4 = 8, then 12 > 10).
    let cases: [(&str, usize, &[Duration]); 2] = [("30", 1, &[]), ("4", 3, &[secs(4), secs(4)])];
    for (retry_after, expected_calls, expected_sleeps) in cases {
        let server = server().await;
        let clock = TestClock::new();
        let limited = too_many_requests().insert_header("retry-after", retry_after);
        answer(&server, Call::Get, limited).await;

        let error = Call::Get
            .send(&client_with(&server, &clock, policy))
            .await
            .unwrap_err();

        assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
        assert_eq!(calls(&server).await, expected_calls, "{retry_after}");
        assert_eq!(clock.sleeps(), expected_sleeps, "{retry_after}");
    }
}

#[tokio::test]
async fn pacing_keeps_every_window_within_its_limit() {
    let server = server().await;
    let clock = TestClock::new();
    answer(&server, Call::Get, Call::Get.success()).await;
    let pacing = Pacing {
        max_requests: 5,
        window: secs(60),
        ..Pacing::default()
    };
    let client = builder(&server.uri(), &clock)
        .pacing(Some(pacing))
        .build()
        .unwrap();
    let start = clock.now();

    // Only the pacer sleeps here, before each send: the clock after a call is its send time.
    let mut sent = Vec::new();
    for _ in 0..12 {
        Call::Get.send(&client).await.unwrap();
        sent.push(clock.now().duration_since(start).unwrap());
    }

    assert_eq!(calls(&server).await, 12);
    // Any six sends in a row span at least a window: no window holds more than five.
    for six in sent.windows(6) {
        assert!(six[5] - six[0] >= secs(60), "sent at {sent:?}");
    }
    // And no more waiting than that takes: twice a full window.
    assert_eq!(clock.sleeps(), [secs(60), secs(60)]);
    assert_eq!(sent[11], secs(120));
}

#[tokio::test]
async fn a_spent_quota_waits_for_its_reset_within_bounds() {
    // (reset ahead of now, the wait before the next call)
    let cases = [
        (secs(10), vec![secs(10)]),
        // Beyond `max_quota_wait` (60 s by default): send, and let the server decide.
        (secs(3600), vec![]),
    ];
    for (ahead, expected) in cases {
        let server = server().await;
        let clock = TestClock::new();
        let spent = Call::Get
            .success()
            .insert_header("ratelimit-limit", "5000")
            .insert_header("ratelimit-remaining", "0")
            .insert_header("ratelimit-reset", unix_seconds(&clock, ahead));
        answer(
            &server,
            Call::Get,
            Script::new([spent, Call::Get.success()]),
        )
        .await;
        let client = client_on(&server, &clock);

        Call::Get.send(&client).await.unwrap();
        assert!(clock.sleeps().is_empty());
        Call::Get.send(&client).await.unwrap();

        assert_eq!(clock.sleeps(), expected, "{ahead:?}");
        assert_eq!(calls(&server).await, 2);
    }
}

#[tokio::test]
async fn rate_limit_reflects_the_last_response_that_reported_one() {
    let server = server().await;
    let clock = TestClock::new();
    let rated = |remaining: u64, reset: u64| {
        move |answer: ResponseTemplate| {
            answer
                .insert_header("ratelimit-limit", "5000")
                .insert_header("ratelimit-remaining", remaining.to_string())
                .insert_header("ratelimit-reset", reset.to_string())
        }
    };
    let answers = [
        rated(4816, 1444931833)(Call::Get.success()),
        rated(4815, 1444931834)(Call::Get.success()),
        // Reports nothing: the last state stands.
        Call::Get.success(),
        rated(4814, 1444931835)(api_error(404, "not_found")),
    ];
    answer(&server, Call::Get, Script::new(answers)).await;
    let client = client_on(&server, &clock);
    let state = |remaining, reset| RateLimit {
        limit: 5000,
        remaining,
        reset: SystemTime::UNIX_EPOCH + Duration::from_secs(reset),
    };

    assert_eq!(client.rate_limit(), None);
    Call::Get.send(&client).await.unwrap();
    assert_eq!(client.rate_limit(), Some(state(4816, 1444931833)));
    Call::Get.send(&client).await.unwrap();
    assert_eq!(client.rate_limit(), Some(state(4815, 1444931834)));
    Call::Get.send(&client).await.unwrap();
    assert_eq!(client.rate_limit(), Some(state(4815, 1444931834)));
    let error = Call::Get.send(&client).await.unwrap_err();
    assert_eq!(client.rate_limit(), Some(state(4814, 1444931835)));
    assert_eq!(error.rate_limit(), Some(state(4814, 1444931835)));
    assert_eq!(calls(&server).await, 4);
}
