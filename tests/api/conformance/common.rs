//! godo's errors, rate limits and retries (`common_*`). These carry no registry call of their
//! own (or `GET /` and `GET /v2/account`): each is replayed as the answer to a real registry
//! call, `GET /v2/registries/test-registry`.

use super::replay::{Answer, Replay, Vector, Wire, status_of};
use crate::support::{self, server};
use docr::client::TestClock;
use docr::{Client, Error, client::RateLimit, client::RetryPolicy};
use serde_json::{Value, json};
use std::time::SystemTime;
use wiremock::Mock;
use wiremock::matchers::{method, path};

pub(super) async fn godo_error_body(v: Vector) {
    let expected = &v.json["expected_error"];
    let expected_message = expected["message"].as_str().map(str::to_string);
    let expected_request_id = expected["request_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string);

    // As the vector is: godo's body has no `id`. The vendored spec makes `id` optional
    // (regen patch `optional-error-fields`), so godo's values hold with no id.
    let api = api_error_replay(&v, v.answer()).await;
    assert_eq!(api.id, None);
    assert_eq!(api.message, expected_message);
    assert_eq!(api.request_id, expected_request_id);

    // As the spec has it (the same body with an `id`): godo's values, the body's request id
    // winning over the `x-request-id` header, which fills in when the body has none.
    let mut body: Value = serde_json::from_str(v.answer().text()).expect("a JSON error body");
    body["id"] = json!("bad_request");
    let api = api_error_replay(&v, v.answer().json(body)).await;
    assert_eq!(api.id.as_deref(), Some("bad_request"));
    assert_eq!(api.message, expected_message);
    assert_eq!(api.request_id, expected_request_id);
}

pub(super) async fn godo_error_no_body(v: Vector) {
    // godo turns an empty 400 into an API error with an empty message. docr keeps the status
    // and says the body was empty, which tells a reader more than an empty message.
    let api = api_error_replay(&v, v.answer()).await;
    assert_eq!(api.id, None);
    assert_eq!(api.message.as_deref(), Some("Bad Request (empty body)"));
    assert_eq!(v.json["expected_error"]["message"], "");
}

pub(super) async fn godo_rate_limit_on_success(v: Vector) {
    // godo's `GET /` answers 200 with no body; a registry listing answers JSON, so the replay
    // answers an empty listing with the vector's status and headers.
    let wire = Wire::get("/v2/registries");
    let answer = v.answer().json(json!({"registries": []}));
    let r = Replay::start(&v, "registries_list", wire, answer).await;
    let got = r.ok(r.client.registries_list().send().await).await;
    assert!(got.registries.is_empty());
    assert_eq!(r.client.rate_limit(), Some(expected_rate(&v)));
}

pub(super) async fn godo_rate_limit_on_error(v: Vector) {
    let rate = expected_rate(&v);

    // As the vector is (no `id` in the body, see `godo_error_body`): the error and the client
    // both carry the rate limit of the error response.
    let (err, client) = error_replay(&v, v.answer()).await;
    assert_eq!(err.rate_limit(), Some(rate), "{err:?}");
    assert_eq!(client.rate_limit(), Some(rate));

    // As the spec has it: the error itself carries the rate limit too.
    let mut body: Value = serde_json::from_str(v.answer().text()).expect("a JSON error body");
    body["id"] = json!("bad_request");
    let (err, client) = error_replay(&v, v.answer().json(body)).await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    let message = v.json["expected_error"]["message"].as_str();
    assert_eq!(err.api().and_then(|a| a.message.as_deref()), message);
    assert_eq!(err.rate_limit(), Some(rate));
    assert_eq!(client.rate_limit(), Some(rate));
}

pub(super) async fn godo_retry_give_up_500(v: Vector) {
    // godo (go-retryablehttp, RetryMax 3) retries every 5xx and gives up after 4 attempts.
    // docr's one policy (src/ext/retry.rs) retries a 500 for calls safe to repeat, up to
    // `max_attempts` (5 by default) with jittered backoff; the typed error and the rate limit
    // it then reports are godo's.
    let clock = TestClock::new();
    let server = server().await;
    let attempts = RetryPolicy::default().max_attempts as usize;
    Mock::given(method("GET"))
        .and(path("/v2/registries/test-registry"))
        .respond_with(v.answer().template())
        .expect(attempts as u64)
        .mount(&server)
        .await;
    let client = support::client_on(&server, &clock);

    let result = client
        .registries_get()
        .registry_name("test-registry")
        .send()
        .await;
    let err = Error::from(result.expect_err("a 500"));
    let calls = server.received_requests().await.expect("recording").len();
    assert_eq!(calls, attempts, "godo makes 4 attempts; docr max_attempts");
    assert_eq!(clock.sleeps().len(), attempts - 1, "{:?}", clock.sleeps());

    let expected = &v.json["expected_error"];
    let api = api_of(&err);
    assert_eq!(u64::from(api.status.as_u16()), expected["status"]);
    assert_eq!(api.message.as_deref(), expected["message"].as_str());
    assert_eq!(api.id.as_deref(), Some("bad_request"));
    let limit = |rate: Option<RateLimit>| rate.map(|r| (r.limit, r.remaining));
    let want = (
        v.json["expected_rate"]["limit"].as_u64().expect("limit"),
        v.json["expected_rate"]["remaining"]
            .as_u64()
            .expect("remaining"),
    );
    assert_eq!(limit(err.rate_limit()), Some(want));
    assert_eq!(limit(client.rate_limit()), Some(want));
}

/// Answers `GET /v2/registries/test-registry` with `answer`; returns docr's error.
/// The API error `answer` becomes, with the vector's status.
async fn api_error_replay(v: &Vector, answer: Answer) -> docr::ApiError {
    let (err, _) = error_replay(v, answer).await;
    let api = api_of(&err).clone();
    assert_eq!(api.status.as_u16(), status_of(v));
    api
}

fn api_of(err: &Error) -> &docr::ApiError {
    err.api()
        .unwrap_or_else(|| panic!("an API error, got {err:?}"))
}

async fn error_replay(v: &Vector, answer: Answer) -> (Error, Client) {
    let wire = Wire::get("/v2/registries/test-registry");
    let r = Replay::start(v, "registries_get", wire, answer).await;
    let call = r.client.registries_get().registry_name("test-registry");
    let err = r.err(call.send().await).await;
    (err, r.client)
}

/// The vector's `expected_rate`, its reset an RFC 3339 time.
fn expected_rate(v: &Vector) -> RateLimit {
    let rate = &v.json["expected_rate"];
    let reset = rate["reset"].as_str().expect("a reset time");
    let reset = chrono::DateTime::parse_from_rfc3339(reset).expect("an RFC 3339 time");
    RateLimit {
        limit: rate["limit"].as_u64().expect("limit"),
        remaining: rate["remaining"].as_u64().expect("remaining"),
        reset: SystemTime::from(reset),
    }
}
