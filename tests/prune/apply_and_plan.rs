//! Planning and applying a prune against a loopback wiremock server: the listings a plan
//! reads, the exact deletes an apply sends, what it skips when the registry changed between
//! plan and apply, how failures are reported, and the garbage collection after.
//!
//! Manifest fixtures follow the `manifests` example of `spec/registry.yaml`.

use chrono::{DateTime, Duration as Days, Utc};
use docr::prelude::*;
use docr::prune::Plan;
use docr::prune::RetentionPolicy;
use docr::types::RepositoryManifest;
use docr::{client::Clock, client::TestClock};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn registry() -> RegistryName {
    "example".parse().unwrap()
}

fn repository(name: &str) -> RepositoryName {
    name.parse().unwrap()
}

/// The test clock's start, 2024-01-01T00:00:00Z: plans measure ages from it.
fn now() -> DateTime<Utc> {
    DateTime::from(TestClock::new().now())
}

/// Digests that differ in their first digits, as the table shows them.
fn digest(n: u32) -> String {
    docr_fake::digest(&format!("manifest-{n:04}"))
}

fn manifest(repository: &str, n: u32, tags: &[&str], days_old: i64) -> Value {
    json!({
        "registry_name": "example",
        "repository": repository,
        "digest": digest(n),
        "compressed_size_bytes": 1_000_000 * u64::from(n),
        "size_bytes": 2_000_000 * u64::from(n),
        "updated_at": (now() - Days::days(days_old)).to_rfc3339(),
        "tags": tags,
        "blobs": [{"digest": digest(1000 + n), "compressed_size_bytes": 1_000_000 * u64::from(n)}],
    })
}

/// team/app: two release tags, a moving `latest`, untagged leftovers, old builds.
fn app_manifests() -> Vec<Value> {
    vec![
        manifest("team/app", 1, &["latest", "build-9"], 1),
        manifest("team/app", 2, &["build-8"], 5),
        manifest("team/app", 3, &[], 6),
        manifest("team/app", 4, &["release-1"], 40),
        manifest("team/app", 5, &["build-7", "build-7a"], 45),
        manifest("team/app", 6, &[], 50),
    ]
}

fn web_manifests() -> Vec<Value> {
    vec![
        manifest("web", 11, &["v2"], 2),
        manifest("web", 12, &["v1"], 60),
    ]
}

/// Keep the newest 2, delete what is older than 30 days, keep releases, delete untagged.
fn policy() -> RetentionPolicy {
    RetentionPolicy::new()
        .keep_last(2)
        .older_than(Duration::from_secs(30 * 86_400))
        .keep_tags_matching("release-[0-9]+")
        .unwrap()
        .delete_untagged(true)
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    // What no mock expects is answered loudly, naming the request, instead of a bare 404.
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(418).set_body_json(json!({
                "id": "unmatched",
                "message": format!("no mock for {} {}", request.method, request.url),
            }))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .token("t0ken")
        .api_url(server.uri())
        .clock(TestClock::new())
        .build()
        .unwrap()
}

/// `METHOD path` of every request, in order.
async fn calls(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn typed(items: Vec<Value>) -> Vec<RepositoryManifest> {
    serde_json::from_value(Value::Array(items)).unwrap()
}

/// The plan of the fixtures, made without the server.
fn fixture_plan() -> Plan {
    let repositories = vec![
        crate::plan_flat(
            &policy(),
            &repository("team/app"),
            &typed(app_manifests()),
            now(),
        ),
        crate::plan_flat(
            &policy(),
            &repository("web"),
            &typed(web_manifests()),
            now(),
        ),
    ];
    Plan::new(registry(), &policy(), now(), repositories)
}

#[tokio::test]
async fn a_plan_that_would_delete_twice_is_refused_before_any_call() {
    let server = server().await;
    let mut json = serde_json::to_value(fixture_plan()).unwrap();
    let first = json["repositories"][0]["delete"][0].clone();
    json["repositories"][0]["delete"]
        .as_array_mut()
        .unwrap()
        .push(first);
    let doubled: Plan = serde_json::from_value(json).unwrap();
    let err = client(&server)
        .apply_prune(&doubled)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    assert!(calls(&server).await.is_empty());

    let mut json = serde_json::to_value(fixture_plan()).unwrap();
    json["repositories"][0]["delete"][0]["digest"] = json!("sha256:nothex");
    assert!(serde_json::from_value::<Plan>(json).is_err());
}

#[test]
fn planning_and_applying_can_run_on_any_thread() {
    fn send<T: Send + 'static>(_: T) {}
    let client = Client::builder()
        .token("t0ken")
        .api_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    send(client.plan_prune(&registry(), policy()).send());
    send(client.apply_prune(&fixture_plan()).on_item(|_| {}).send());
}

#[test]
fn a_saved_plan_of_another_format_version_or_registry_is_refused_saying_which() {
    let plan = fixture_plan();
    assert_eq!(plan.format_version, docr::prune::PLAN_FORMAT_VERSION);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["format_version"], json!(1));
    let text = json.to_string();
    let back = Plan::from_json(&text, &registry()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);

    let other: RegistryName = "acme".parse().unwrap();
    let err = Plan::from_json(&text, &other).unwrap_err().to_string();
    assert_eq!(err, "the plan is for registry example, not acme");

    let mut newer = json.clone();
    newer["format_version"] = json!(2);
    let err = Plan::from_json(&newer.to_string(), &registry())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("the plan is of format version 2; this docr reads plans of version 1"),
        "{err}"
    );
    // Deserialize alone refuses it too.
    let err = serde_json::from_value::<Plan>(newer)
        .unwrap_err()
        .to_string();
    assert!(err.contains("format version 2"), "{err}");

    let mut unversioned = json;
    unversioned
        .as_object_mut()
        .unwrap()
        .remove("format_version");
    let err = Plan::from_json(&unversioned.to_string(), &registry())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("the plan has no format version"), "{err}");
    assert!(serde_json::from_value::<Plan>(unversioned).is_err());
}
