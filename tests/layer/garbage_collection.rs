//! Starting and waiting for a garbage collection, against a loopback wiremock server and on a
//! virtual clock: every status seen, every way a wait ends, and the exact calls it took.
//!
//! Records follow the `garbage_collection` example of `spec/registry.yaml` and godo's
//! `TestRegistries_GetGarbageCollection` (`tests/vectors/godo/registries_gc_get_active.json`).

use docr::TestClock;
use docr::prelude::*;
use docr::types;
use docr::{ApiFamily, GcType, RetryPolicy};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};

use crate::support::{GC_UUID, OTHER_GC_UUID, builder, client_on, server};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ACTIVE: &str = "/v2/registries/example/garbage-collection";
const LIST: &str = "/v2/registries/example/garbage-collections";

fn registry() -> RegistryName {
    "example".parse().unwrap()
}

fn record(uuid: &str, status: &str) -> Value {
    let done = status == "succeeded";
    json!({
        "uuid": uuid,
        "registry_name": "example",
        "status": status,
        "type": "unreferenced blobs only",
        "created_at": "2020-10-30T21:03:24Z",
        "updated_at": "2020-10-30T21:03:44Z",
        "blobs_deleted": if done { 42 } else { 0 },
        "freed_bytes": if done { 667 } else { 0 },
    })
}

/// The active-collection call's answer while `uuid` runs with `status`.
fn active(uuid: &str, status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"garbage_collection": record(uuid, status)}))
}

fn api_error(status: u16, id: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"id": id, "message": message}))
}

fn none_active() -> ResponseTemplate {
    api_error(404, "not_found", "no active garbage collection")
}

/// Answers with `answers` in turn, then keeps giving the last one.
struct Script {
    answers: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        Self {
            answers: answers.into_iter().collect(),
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.answers[n.min(self.answers.len() - 1)].clone()
    }
}

async fn mount(server: &MockServer, verb: &str, at: &str, respond: impl Respond + 'static) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(respond)
        .mount(server)
        .await;
}

/// `METHOD path` of every request the server saw, in order.
async fn calls(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn statuses_seen() -> (
    Arc<Mutex<Vec<String>>>,
    impl FnMut(&types::GarbageCollection) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let callback = move |gc: &types::GarbageCollection| {
        sink.lock().unwrap().push(gc.status.clone().unwrap());
    };
    (seen, callback)
}

fn total(sleeps: &[Duration]) -> Duration {
    sleeps.iter().sum()
}

#[tokio::test]
async fn a_wait_through_five_statuses_reports_each_once_in_order() {
    let server = server().await;
    let clock = TestClock::new();
    let polls = [
        ("requested", 2),
        ("waiting for write JWTs to expire", 3),
        ("scanning manifests", 2),
        ("deleting unreferenced blobs", 2),
        ("succeeded", 1),
    ];
    let answers = polls
        .iter()
        .flat_map(|&(status, times)| std::iter::repeat_n(active(GC_UUID, status), times));
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;
    let (seen, on_status) = statuses_seen();

    let done = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .on_status(on_status)
        .wait(Duration::from_secs(30 * 60))
        .await
        .unwrap();

    assert_eq!(done.uuid.as_deref(), Some(GC_UUID));
    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        (done.blobs_deleted, done.freed_bytes),
        (Some(42), Some(667))
    );
    let statuses: Vec<&str> = polls.iter().map(|&(status, _)| status).collect();
    assert_eq!(*seen.lock().unwrap(), statuses);
    // One call per poll, ten polls, nine pauses between them, and nothing else.
    assert_eq!(calls(&server).await, vec![format!("GET {ACTIVE}"); 10]);
    assert_eq!(clock.sleeps().len(), 9);
}

#[tokio::test]
async fn an_unlisted_status_is_reported_and_counts_as_running() {
    let server = server().await;
    let clock = TestClock::new();
    let answers = [
        active(GC_UUID, "requested"),
        active(GC_UUID, "waiting for delete requests"),
        active(GC_UUID, "waiting for delete requests"),
        active(GC_UUID, "succeeded"),
    ];
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;
    let (seen, on_status) = statuses_seen();

    let done = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .on_status(on_status)
        .wait(Duration::from_secs(600))
        .await
        .unwrap();

    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        *seen.lock().unwrap(),
        ["requested", "waiting for delete requests", "succeeded"]
    );
    assert_eq!(calls(&server).await.len(), 4);
}

/// How the active-collection call stops showing the collection waited for.
#[derive(Debug, Clone, Copy)]
enum Gone {
    /// It answers 404: nothing runs.
    NotFound,
    /// Another collection runs.
    Replaced,
}

#[tokio::test]
async fn the_end_is_found_in_the_list_when_the_active_call_no_longer_shows_it() {
    for gone in [Gone::NotFound, Gone::Replaced] {
        for end in ["succeeded", "failed", "cancelled"] {
            let server = server().await;
            let clock = TestClock::new();
            let after = match gone {
                Gone::NotFound => none_active(),
                Gone::Replaced => active(OTHER_GC_UUID, "requested"),
            };
            let answers = [
                active(GC_UUID, "requested"),
                active(GC_UUID, "scanning manifests"),
                active(GC_UUID, "scanning manifests"),
                after,
            ];
            mount(&server, "GET", ACTIVE, Script::new(answers)).await;
            let listed = json!({"garbage_collections": [
                record(OTHER_GC_UUID, "requested"),
                record(GC_UUID, end),
                record("5d2b4c47-7d52-4b0e-8c53-3d8d7a2b9e10", "succeeded"),
            ]});
            let list = ResponseTemplate::new(200).set_body_json(listed);
            mount(&server, "GET", LIST, list).await;
            let (seen, on_status) = statuses_seen();

            let result = client_on(&server, &clock)
                .wait_for_garbage_collection(&registry(), GC_UUID)
                .on_status(on_status)
                .wait(Duration::from_secs(600))
                .await;

            let case = format!("{gone:?}, {end}");
            let record = match (end, result) {
                ("succeeded", Ok(gc)) => gc,
                ("failed", Err(Error::GarbageCollectionFailed(gc))) => *gc,
                ("cancelled", Err(Error::GarbageCollectionCancelled(gc))) => *gc,
                (_, other) => panic!("{case}: {other:?}"),
            };
            assert_eq!(record.uuid.as_deref(), Some(GC_UUID), "{case}");
            assert_eq!(record.status.as_deref(), Some(end), "{case}");
            assert_eq!(
                *seen.lock().unwrap(),
                ["requested", "scanning manifests", end],
                "{case}"
            );
            let mut expected = vec![format!("GET {ACTIVE}"); 4];
            expected.push(format!("GET {LIST}"));
            assert_eq!(calls(&server).await, expected, "{case}");
        }
    }
}

#[tokio::test]
async fn a_collection_shown_nowhere_is_not_found() {
    let server = server().await;
    let clock = TestClock::new();
    mount(&server, "GET", ACTIVE, none_active()).await;
    let list = json!({"garbage_collections": [record(OTHER_GC_UUID, "succeeded")]});
    mount(
        &server,
        "GET",
        LIST,
        ResponseTemplate::new(200).set_body_json(list),
    )
    .await;

    let error = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .wait(Duration::from_secs(600))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::GarbageCollectionNotFound { registry, uuid }
            if registry == "example" && uuid == GC_UUID),
        "{error:?}"
    );
    assert_eq!(
        calls(&server).await,
        [format!("GET {ACTIVE}"), format!("GET {LIST}")]
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn the_deadline_is_never_slept_past() {
    for max_wait in [
        Duration::from_millis(2500),
        Duration::from_secs(60),
        Duration::from_secs(30 * 60),
    ] {
        let server = server().await;
        let clock = TestClock::new();
        mount(
            &server,
            "GET",
            ACTIVE,
            active(GC_UUID, "scanning manifests"),
        )
        .await;

        let error = client_on(&server, &clock)
            .wait_for_garbage_collection(&registry(), GC_UUID)
            .wait(max_wait)
            .await
            .unwrap_err();

        let Error::DeadlinePassed {
            uuid,
            waited,
            last_status,
            cancel_requested,
        } = error
        else {
            panic!("{max_wait:?}: {error:?}");
        };
        assert_eq!(uuid, GC_UUID);
        assert_eq!(last_status.as_deref(), Some("scanning manifests"));
        assert!(!cancel_requested);
        let sleeps = clock.sleeps();
        assert!(total(&sleeps) <= max_wait, "{max_wait:?}: slept {sleeps:?}");
        assert!(waited <= max_wait, "{max_wait:?}: waited {waited:?}");
        // A poll after every pause, none after the deadline, and no cancellation.
        assert_eq!(
            calls(&server).await,
            vec![format!("GET {ACTIVE}"); sleeps.len() + 1],
            "{max_wait:?}"
        );
    }
}

#[tokio::test]
async fn the_deadline_can_cancel_the_collection() {
    let server = server().await;
    let clock = TestClock::new();
    mount(
        &server,
        "GET",
        ACTIVE,
        active(GC_UUID, "scanning manifests"),
    )
    .await;
    let cancel = format!("{ACTIVE}/{GC_UUID}");
    mount(&server, "PUT", &cancel, active(GC_UUID, "cancelling")).await;
    let max_wait = Duration::from_secs(90);

    let error = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .cancel_on_deadline(true)
        .wait(max_wait)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::DeadlinePassed { cancel_requested: true, last_status, .. }
            if last_status.as_deref() == Some("scanning manifests")),
        "{error:?}"
    );
    assert!(total(&clock.sleeps()) <= max_wait);
    let requests = server.received_requests().await.unwrap();
    let puts: Vec<&Request> = requests.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].url.path(), cancel);
    assert_eq!(
        puts[0].body_json::<Value>().unwrap(),
        json!({"cancel": true})
    );
    assert_eq!(
        requests.last().unwrap().method,
        "PUT",
        "the cancel comes last"
    );
}

#[tokio::test]
async fn a_refused_cancellation_is_reported_as_not_requested() {
    let server = server().await;
    let clock = TestClock::new();
    mount(
        &server,
        "GET",
        ACTIVE,
        active(GC_UUID, "scanning manifests"),
    )
    .await;
    let refusal = api_error(412, "precondition_failed", "cannot cancel now");
    mount(&server, "PUT", &format!("{ACTIVE}/{GC_UUID}"), refusal).await;

    let error = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .cancel_on_deadline(true)
        .wait(Duration::from_secs(10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            Error::DeadlinePassed {
                cancel_requested: false,
                ..
            }
        ),
        "{error:?}"
    );
    let puts = calls(&server)
        .await
        .into_iter()
        .filter(|c| c.starts_with("PUT"));
    assert_eq!(puts.count(), 1);
}

#[tokio::test]
async fn transient_errors_while_polling_do_not_end_the_wait() {
    let server = server().await;
    let clock = TestClock::new();
    let answers = [
        active(GC_UUID, "requested"),
        api_error(503, "service_unavailable", "try again"),
        api_error(429, "too_many_requests", "slow down").insert_header("retry-after", "5"),
        active(GC_UUID, "scanning manifests"),
        active(GC_UUID, "succeeded"),
    ];
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;
    let (seen, on_status) = statuses_seen();
    // The transport sends each call once: what keeps going is the waiter itself.
    let client = builder(&server.uri())
        .clock(clock.clone())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();

    let done = client
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .on_status(on_status)
        .wait(Duration::from_secs(600))
        .await
        .unwrap();

    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        *seen.lock().unwrap(),
        ["requested", "scanning manifests", "succeeded"]
    );
    assert_eq!(calls(&server).await, vec![format!("GET {ACTIVE}"); 5]);
    assert_eq!(clock.sleeps().len(), 4);
}

// A 5xx whose body is not DigitalOcean's JSON error becomes `Error::Decode`, which keeps no
// status, so `is_transient` (src/ext/garbage_collection.rs) does not see a 503.
#[tokio::test]
async fn a_transient_error_without_a_json_body_does_not_end_the_wait() {
    let server = server().await;
    let clock = TestClock::new();
    // A load balancer's 503 carries no DigitalOcean error body.
    let answers = [
        active(GC_UUID, "requested"),
        ResponseTemplate::new(503).set_body_string("upstream connect error"),
        active(GC_UUID, "succeeded"),
    ];
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;
    let client = builder(&server.uri())
        .clock(clock.clone())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();

    let done = client
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .wait(Duration::from_secs(600))
        .await;

    assert_eq!(done.unwrap().status.as_deref(), Some("succeeded"));
    assert_eq!(calls(&server).await.len(), 3);
}

#[tokio::test]
async fn a_call_that_fails_for_good_ends_the_wait() {
    let server = server().await;
    let clock = TestClock::new();
    let answers = [
        active(GC_UUID, "requested"),
        api_error(401, "unauthorized", "Unable to authenticate you."),
    ];
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;

    let error = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .wait(Duration::from_secs(600))
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(calls(&server).await.len(), 2);
    assert_eq!(clock.sleeps().len(), 1);
}

fn started(uuid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201)
        .set_body_json(json!({"garbage_collection": record(uuid, "requested")}))
}

async fn posted_bodies(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| {
            assert_eq!(r.url.path(), ACTIVE);
            r.body_json().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn start_sends_the_chosen_type() {
    let cases = [
        (None, "unreferenced blobs only"),
        (Some(GcType::UnreferencedBlobs), "unreferenced blobs only"),
        (Some(GcType::UntaggedManifests), "untagged manifests only"),
        (
            Some(GcType::Both),
            "untagged manifests and unreferenced blobs",
        ),
    ];
    for (gc_type, wire) in cases {
        let server = server().await;
        let clock = TestClock::new();
        mount(&server, "POST", ACTIVE, started(GC_UUID)).await;

        let client = client_on(&server, &clock);
        let mut start = client.start_garbage_collection(&registry());
        if let Some(gc_type) = gc_type {
            start = start.gc_type(gc_type);
        }
        let started = start.send().await.unwrap();

        assert_eq!(started.uuid, GC_UUID);
        assert!(!started.attached);
        assert_eq!(
            posted_bodies(&server).await,
            [json!({"type": wire})],
            "{gc_type:?}"
        );
        assert_eq!(calls(&server).await.len(), 1);
    }
}

#[tokio::test]
async fn a_conflict_attaches_to_the_running_collection() {
    let server = server().await;
    let clock = TestClock::new();
    let conflict = api_error(409, "conflict", "a garbage collection is already running");
    mount(&server, "POST", ACTIVE, conflict).await;
    mount(
        &server,
        "GET",
        ACTIVE,
        active(OTHER_GC_UUID, "scanning manifests"),
    )
    .await;

    let started = client_on(&server, &clock)
        .start_garbage_collection(&registry())
        .send()
        .await
        .unwrap();

    assert!(started.attached);
    assert_eq!(started.uuid, OTHER_GC_UUID);
    assert_eq!(
        started.collection.status.as_deref(),
        Some("scanning manifests")
    );
    assert_eq!(
        calls(&server).await,
        [format!("POST {ACTIVE}"), format!("GET {ACTIVE}")]
    );
}

#[tokio::test]
async fn a_conflict_is_an_error_when_attaching_is_refused() {
    let server = server().await;
    let clock = TestClock::new();
    let conflict = api_error(409, "conflict", "a garbage collection is already running");
    mount(&server, "POST", ACTIVE, conflict).await;
    mount(
        &server,
        "GET",
        ACTIVE,
        active(OTHER_GC_UUID, "scanning manifests"),
    )
    .await;

    let error = client_on(&server, &clock)
        .start_garbage_collection(&registry())
        .attach_to_running(false)
        .send()
        .await
        .unwrap_err();

    let api = error.api().expect("the API's own error");
    assert_eq!(api.status.as_u16(), 409);
    assert_eq!(api.id.as_deref(), Some("conflict"));
    assert_eq!(calls(&server).await, [format!("POST {ACTIVE}")]);
}

#[tokio::test]
async fn a_failed_start_is_not_resent_but_looked_up() {
    let server = server().await;
    let clock = TestClock::new();
    mount(
        &server,
        "POST",
        ACTIVE,
        api_error(500, "server_error", "oops"),
    )
    .await;
    mount(&server, "GET", ACTIVE, active(GC_UUID, "requested")).await;

    let started = client_on(&server, &clock)
        .start_garbage_collection(&registry())
        .send()
        .await
        .unwrap();

    assert!(started.attached);
    assert_eq!(started.uuid, GC_UUID);
    assert_eq!(
        calls(&server).await,
        [format!("POST {ACTIVE}"), format!("GET {ACTIVE}")]
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_failed_start_with_nothing_running_keeps_its_error() {
    for answer in [503, 500] {
        let server = server().await;
        let clock = TestClock::new();
        let failure = api_error(answer, "server_error", "oops");
        mount(&server, "POST", ACTIVE, failure).await;
        mount(&server, "GET", ACTIVE, none_active()).await;

        let error = client_on(&server, &clock)
            .start_garbage_collection(&registry())
            .send()
            .await
            .unwrap_err();

        assert_eq!(error.status().map(|s| s.as_u16()), Some(answer));
        assert_eq!(
            calls(&server).await,
            [format!("POST {ACTIVE}"), format!("GET {ACTIVE}")],
            "{answer}"
        );
    }
}

// Same cause as above: the 502 becomes `Error::Decode`, which `send` does not count as ambiguous.
#[tokio::test]
async fn a_failed_start_without_a_json_body_is_looked_up_too() {
    let server = server().await;
    let clock = TestClock::new();
    let gateway = ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>");
    mount(&server, "POST", ACTIVE, gateway).await;
    mount(&server, "GET", ACTIVE, active(GC_UUID, "requested")).await;

    let started = client_on(&server, &clock)
        .start_garbage_collection(&registry())
        .send()
        .await
        .unwrap();

    assert!(started.attached);
    assert_eq!(
        calls(&server).await,
        [format!("POST {ACTIVE}"), format!("GET {ACTIVE}")]
    );
}

#[tokio::test]
async fn the_deprecated_family_waits_on_v2_registry_paths() {
    let server = server().await;
    let clock = TestClock::new();
    let at = "/v2/registry/example/garbage-collection";
    mount(&server, "POST", at, started(GC_UUID)).await;
    let answers = [active(GC_UUID, "requested"), active(GC_UUID, "succeeded")];
    mount(&server, "GET", at, Script::new(answers)).await;
    let client = client_on(&server, &clock);

    let started = client
        .start_garbage_collection(&registry())
        .family(ApiFamily::Registry)
        .send()
        .await
        .unwrap();
    let done = client
        .wait_for_garbage_collection(&registry(), &started.uuid)
        .family(ApiFamily::Registry)
        .wait(Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        calls(&server).await,
        [
            format!("POST {at}"),
            format!("GET {at}"),
            format!("GET {at}")
        ]
    );
}

// The transport's retry (src/ext/transport.rs) knows nothing of the waiter's deadline: a
// Retry-After longer than the time left is waited in full inside one poll.
#[tokio::test]
async fn a_retry_inside_a_poll_does_not_sleep_past_the_deadline() {
    let server = server().await;
    let clock = TestClock::new();
    let answers = [
        active(GC_UUID, "scanning manifests"),
        api_error(429, "too_many_requests", "slow down").insert_header("retry-after", "100"),
        active(GC_UUID, "scanning manifests"),
    ];
    mount(&server, "GET", ACTIVE, Script::new(answers)).await;
    let max_wait = Duration::from_secs(60);

    let error = client_on(&server, &clock)
        .wait_for_garbage_collection(&registry(), GC_UUID)
        .wait(max_wait)
        .await
        .unwrap_err();

    assert!(matches!(error, Error::DeadlinePassed { .. }), "{error:?}");
    let sleeps = clock.sleeps();
    assert!(total(&sleeps) <= max_wait, "slept {sleeps:?}");
}
