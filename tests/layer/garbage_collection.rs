//! Starting and waiting for a garbage collection, against a loopback wiremock server and on a
//! virtual clock: every status seen, every way a wait ends, and the exact calls it took.
//!
//! Records follow the `garbage_collection` example of `spec/registry.yaml` and godo's
//! `TestRegistries_GetGarbageCollection` (`tests/vectors/godo/registries_gc_get_active.json`).

use docr::prelude::*;
use docr::types;
use docr::{
    client::ApiFamily, client::RetryPolicy, garbage_collection::GcStarted,
    garbage_collection::GcType, garbage_collection::StartGarbageCollection,
};
use docr::{client::TestClock, garbage_collection::WaitForGarbageCollection};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{GC_UUID, OTHER_GC_UUID, Script, api_error, builder, calls, client_on};
use crate::support::{mount, server};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

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

fn none_active() -> ResponseTemplate {
    api_error(404, "not_found", "no active garbage collection")
}

fn listed(records: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "garbage_collections": records }))
}

/// `METHOD path` of each call, in order.
fn sent(calls: &[(&str, &str)]) -> Vec<String> {
    calls
        .iter()
        .map(|(verb, at)| format!("{verb} {at}"))
        .collect()
}

/// `n` polls of the active collection.
fn polls(n: usize) -> Vec<String> {
    vec![format!("GET {ACTIVE}"); n]
}

/// A start, then the look-up of what runs.
fn start_then_look_up() -> Vec<String> {
    sent(&[("POST", ACTIVE), ("GET", ACTIVE)])
}

/// Waits up to `max_wait`: how the wait ended and every status reported on the way.
async fn wait_seeing(
    waiter: WaitForGarbageCollection,
    max_wait: Duration,
) -> (Result<types::GarbageCollection, Error>, Vec<String>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let result = waiter
        .on_status(move |gc| sink.lock().unwrap().push(gc.status.clone().unwrap()))
        .wait(max_wait)
        .await;
    let seen = seen.lock().unwrap().clone();
    (result, seen)
}

fn total(sleeps: &[Duration]) -> Duration {
    sleeps.iter().sum()
}

/// A loopback server and the virtual clock its clients sleep on.
struct Scene {
    server: MockServer,
    clock: TestClock,
}

impl Scene {
    async fn new() -> Self {
        Self {
            server: server().await,
            clock: TestClock::new(),
        }
    }

    async fn serve(&self, verb: &str, at: &str, respond: impl Respond + 'static) {
        mount(&self.server, verb, at, respond).await;
    }

    /// A scene whose active-collection call answers `answers` in turn, then keeps giving the
    /// last.
    async fn polling(answers: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        let scene = Self::new().await;
        scene.serve("GET", ACTIVE, Script::new(answers)).await;
        scene
    }

    /// A client with the default retries and pacing.
    fn client(&self) -> Client {
        client_on(&self.server, &self.clock)
    }

    /// A client whose transport sends each call once: what keeps going is the waiter itself.
    fn client_without_retries(&self) -> Client {
        builder(&self.server.uri())
            .clock(self.clock.clone())
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap()
    }

    fn wait_for(&self, client: Client) -> WaitForGarbageCollection {
        client.wait_for_garbage_collection(&registry(), &GC_UUID.parse().unwrap())
    }

    fn waiter(&self) -> WaitForGarbageCollection {
        self.wait_for(self.client())
    }

    fn start(&self) -> StartGarbageCollection {
        self.client().start_garbage_collection(&registry())
    }

    async fn calls(&self) -> Vec<String> {
        calls(&self.server).await
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.clock.sleeps()
    }
}

#[tokio::test]
async fn a_wait_through_five_statuses_reports_each_once_in_order() {
    let polled = [
        ("requested", 2),
        ("waiting for write JWTs to expire", 3),
        ("scanning manifests", 2),
        ("deleting unreferenced blobs", 2),
        ("succeeded", 1),
    ];
    let answers = polled
        .iter()
        .flat_map(|&(status, times)| std::iter::repeat_n(active(GC_UUID, status), times));
    let scene = Scene::polling(answers).await;
    let (done, seen) = wait_seeing(scene.waiter(), Duration::from_secs(30 * 60)).await;
    let done = done.unwrap();

    assert_eq!(done.uuid.as_deref(), Some(GC_UUID));
    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        (done.blobs_deleted, done.freed_bytes),
        (Some(42), Some(667))
    );
    let statuses: Vec<&str> = polled.iter().map(|&(status, _)| status).collect();
    assert_eq!(seen, statuses);
    // One call per poll, ten polls, nine pauses between them, and nothing else.
    assert_eq!(scene.calls().await, polls(10));
    assert_eq!(scene.sleeps().len(), 9);
}

#[tokio::test]
async fn an_unlisted_status_is_reported_and_counts_as_running() {
    let unlisted = active(GC_UUID, "waiting for delete requests");
    let answers = [
        active(GC_UUID, "requested"),
        unlisted.clone(),
        unlisted,
        active(GC_UUID, "succeeded"),
    ];
    let scene = Scene::polling(answers).await;
    let (done, seen) = wait_seeing(scene.waiter(), Duration::from_secs(600)).await;
    let done = done.unwrap();

    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(
        seen,
        ["requested", "waiting for delete requests", "succeeded"]
    );
    assert_eq!(scene.calls().await.len(), 4);
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
            let after = match gone {
                Gone::NotFound => none_active(),
                Gone::Replaced => active(OTHER_GC_UUID, "requested"),
            };
            let scanning = active(GC_UUID, "scanning manifests");
            let answers = [
                active(GC_UUID, "requested"),
                scanning.clone(),
                scanning,
                after,
            ];
            let scene = Scene::polling(answers).await;
            let list = listed(vec![
                record(OTHER_GC_UUID, "requested"),
                record(GC_UUID, end),
                record("5d2b4c47-7d52-4b0e-8c53-3d8d7a2b9e10", "succeeded"),
            ]);
            scene.serve("GET", LIST, list).await;
            let (result, seen) = wait_seeing(scene.waiter(), Duration::from_secs(600)).await;

            let case = format!("{gone:?}, {end}");
            let record = match (end, result) {
                ("succeeded", Ok(gc)) => gc,
                ("failed", Err(Error::GarbageCollectionFailed(gc))) => *gc,
                ("cancelled", Err(Error::GarbageCollectionCancelled(gc))) => *gc,
                (_, other) => panic!("{case}: {other:?}"),
            };
            assert_eq!(record.uuid.as_deref(), Some(GC_UUID), "{case}");
            assert_eq!(record.status.as_deref(), Some(end), "{case}");
            assert_eq!(seen, ["requested", "scanning manifests", end], "{case}");
            let mut expected = polls(4);
            expected.push(format!("GET {LIST}"));
            assert_eq!(scene.calls().await, expected, "{case}");
        }
    }
}

#[tokio::test]
async fn a_collection_shown_nowhere_is_not_found() {
    let scene = Scene::polling([none_active()]).await;
    let list = listed(vec![record(OTHER_GC_UUID, "succeeded")]);
    scene.serve("GET", LIST, list).await;

    let error = scene
        .waiter()
        .wait(Duration::from_secs(600))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::GarbageCollectionNotFound { registry, uuid }
            if registry == "example" && uuid == GC_UUID),
        "{error:?}"
    );
    assert_eq!(scene.calls().await, sent(&[("GET", ACTIVE), ("GET", LIST)]));
    assert!(scene.sleeps().is_empty());
}

/// A collection that keeps scanning past any deadline.
async fn never_ending() -> Scene {
    Scene::polling([active(GC_UUID, "scanning manifests")]).await
}

#[tokio::test]
async fn the_deadline_is_never_slept_past() {
    for max_wait in [
        Duration::from_millis(2500),
        Duration::from_secs(60),
        Duration::from_secs(30 * 60),
    ] {
        let scene = never_ending().await;

        let error = scene.waiter().wait(max_wait).await.unwrap_err();

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
        let sleeps = scene.sleeps();
        assert!(total(&sleeps) <= max_wait, "{max_wait:?}: slept {sleeps:?}");
        assert!(waited <= max_wait, "{max_wait:?}: waited {waited:?}");
        // A poll after every pause, none after the deadline, and no cancellation.
        assert_eq!(scene.calls().await, polls(sleeps.len() + 1), "{max_wait:?}");
    }
}

#[tokio::test]
async fn the_deadline_can_cancel_the_collection() {
    let scene = never_ending().await;
    let cancel = format!("{ACTIVE}/{GC_UUID}");
    scene
        .serve("PUT", &cancel, active(GC_UUID, "cancelling"))
        .await;
    let max_wait = Duration::from_secs(90);

    let error = scene
        .waiter()
        .cancel_on_deadline(true)
        .wait(max_wait)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::DeadlinePassed { cancel_requested: true, last_status, .. }
            if last_status.as_deref() == Some("scanning manifests")),
        "{error:?}"
    );
    assert!(total(&scene.sleeps()) <= max_wait);
    let requests = scene.server.received_requests().await.unwrap();
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
    let scene = never_ending().await;
    let refusal = api_error(412, "precondition_failed", "cannot cancel now");
    scene
        .serve("PUT", &format!("{ACTIVE}/{GC_UUID}"), refusal)
        .await;

    let error = scene
        .waiter()
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
    let puts = scene
        .calls()
        .await
        .into_iter()
        .filter(|c| c.starts_with("PUT"));
    assert_eq!(puts.count(), 1);
}

#[tokio::test]
async fn transient_errors_while_polling_do_not_end_the_wait() {
    let scene = Scene::polling([
        active(GC_UUID, "requested"),
        api_error(503, "service_unavailable", "try again"),
        api_error(429, "too_many_requests", "slow down").insert_header("retry-after", "5"),
        active(GC_UUID, "scanning manifests"),
        active(GC_UUID, "succeeded"),
    ])
    .await;
    let (done, seen) = wait_seeing(
        scene.wait_for(scene.client_without_retries()),
        Duration::from_secs(600),
    )
    .await;
    let done = done.unwrap();

    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(seen, ["requested", "scanning manifests", "succeeded"]);
    assert_eq!(scene.calls().await, polls(5));
    assert_eq!(scene.sleeps().len(), 4);
}

// A 5xx whose body is not DigitalOcean's JSON error becomes `Error::Decode`, which keeps no
// status, so `is_transient` (src/ext/garbage_collection.rs) does not see a 503.
#[tokio::test]
async fn a_transient_error_without_a_json_body_does_not_end_the_wait() {
    // A load balancer's 503 carries no DigitalOcean error body.
    let scene = Scene::polling([
        active(GC_UUID, "requested"),
        ResponseTemplate::new(503).set_body_string("upstream connect error"),
        active(GC_UUID, "succeeded"),
    ])
    .await;

    let done = scene
        .wait_for(scene.client_without_retries())
        .wait(Duration::from_secs(600))
        .await;

    assert_eq!(done.unwrap().status.as_deref(), Some("succeeded"));
    assert_eq!(scene.calls().await.len(), 3);
}

#[tokio::test]
async fn a_call_that_fails_for_good_ends_the_wait() {
    let scene = Scene::polling([
        active(GC_UUID, "requested"),
        api_error(401, "unauthorized", "Unable to authenticate you."),
    ])
    .await;

    let error = scene
        .waiter()
        .wait(Duration::from_secs(600))
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(scene.calls().await.len(), 2);
    assert_eq!(scene.sleeps().len(), 1);
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
        let scene = Scene::new().await;
        scene.serve("POST", ACTIVE, started(GC_UUID)).await;

        let mut start = scene.start();
        if let Some(gc_type) = gc_type {
            start = start.gc_type(gc_type);
        }
        let started = start.send().await.unwrap();

        assert_eq!(started.uuid, GC_UUID);
        assert!(!started.attached);
        assert_eq!(
            posted_bodies(&scene.server).await,
            [json!({"type": wire})],
            "{gc_type:?}"
        );
        assert_eq!(scene.calls().await.len(), 1);
    }
}

/// A start answered with `post`, then the active collection looked up as `get`.
async fn start_answered(
    post: ResponseTemplate,
    get: ResponseTemplate,
    start: impl FnOnce(StartGarbageCollection) -> StartGarbageCollection,
) -> (Scene, Result<GcStarted, Error>) {
    let scene = Scene::new().await;
    scene.serve("POST", ACTIVE, post).await;
    scene.serve("GET", ACTIVE, get).await;
    let result = start(scene.start()).send().await;
    (scene, result)
}

fn conflict() -> ResponseTemplate {
    api_error(409, "conflict", "a garbage collection is already running")
}

#[tokio::test]
async fn a_conflict_attaches_to_the_running_collection() {
    let running = active(OTHER_GC_UUID, "scanning manifests");
    let (scene, started) = start_answered(conflict(), running, |start| start).await;
    let started = started.unwrap();

    assert!(started.attached);
    assert_eq!(started.uuid, OTHER_GC_UUID);
    assert_eq!(
        started.collection.status.as_deref(),
        Some("scanning manifests")
    );
    assert_eq!(scene.calls().await, start_then_look_up());
}

#[tokio::test]
async fn a_conflict_is_an_error_when_attaching_is_refused() {
    let running = active(OTHER_GC_UUID, "scanning manifests");
    let refuse = |start: StartGarbageCollection| start.attach_to_running(false);
    let (scene, error) = start_answered(conflict(), running, refuse).await;
    let error = error.unwrap_err();

    let api = error.api().expect("the API's own error");
    assert_eq!(api.status.as_u16(), 409);
    assert_eq!(api.id.as_deref(), Some("conflict"));
    assert_eq!(scene.calls().await, sent(&[("POST", ACTIVE)]));
}

#[tokio::test]
async fn a_failed_start_is_not_resent_but_looked_up() {
    let failure = api_error(500, "server_error", "oops");
    let running = active(GC_UUID, "requested");
    let (scene, started) = start_answered(failure, running, |start| start).await;
    let started = started.unwrap();

    assert!(started.attached);
    assert_eq!(started.uuid, GC_UUID);
    assert_eq!(scene.calls().await, start_then_look_up());
    assert!(scene.sleeps().is_empty());
}

#[tokio::test]
async fn a_failed_start_with_nothing_running_keeps_its_error() {
    for answer in [503, 500] {
        let failure = api_error(answer, "server_error", "oops");
        let (scene, error) = start_answered(failure, none_active(), |start| start).await;
        let error = error.unwrap_err();

        assert_eq!(error.status().map(|s| s.as_u16()), Some(answer));
        assert_eq!(scene.calls().await, start_then_look_up(), "{answer}");
    }
}

// Same cause as above: the 502 becomes `Error::Decode`, which `send` does not count as ambiguous.
#[tokio::test]
async fn a_failed_start_without_a_json_body_is_looked_up_too() {
    let gateway = ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>");
    let running = active(GC_UUID, "requested");
    let (scene, started) = start_answered(gateway, running, |start| start).await;

    assert!(started.unwrap().attached);
    assert_eq!(scene.calls().await, start_then_look_up());
}

#[tokio::test]
async fn the_deprecated_family_waits_on_v2_registry_paths() {
    let scene = Scene::new().await;
    let at = "/v2/registry/example/garbage-collection";
    scene.serve("POST", at, started(GC_UUID)).await;
    let answers = [active(GC_UUID, "requested"), active(GC_UUID, "succeeded")];
    scene.serve("GET", at, Script::new(answers)).await;
    let client = scene.client();

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
        scene.calls().await,
        sent(&[("POST", at), ("GET", at), ("GET", at)])
    );
}

// The transport's retry (src/ext/transport.rs) knows nothing of the waiter's deadline: a
// Retry-After longer than the time left is waited in full inside one poll.
#[tokio::test]
async fn a_retry_inside_a_poll_does_not_sleep_past_the_deadline() {
    let scanning = active(GC_UUID, "scanning manifests");
    let answers = [
        scanning.clone(),
        api_error(429, "too_many_requests", "slow down").insert_header("retry-after", "100"),
        scanning,
    ];
    let scene = Scene::polling(answers).await;
    let max_wait = Duration::from_secs(60);

    let error = scene.waiter().wait(max_wait).await.unwrap_err();

    assert!(matches!(error, Error::DeadlinePassed { .. }), "{error:?}");
    let sleeps = scene.sleeps();
    assert!(total(&sleeps) <= max_wait, "slept {sleeps:?}");
}
