//! What the `fake_*` tests share: a small seeded registry, raw HTTP helpers, and a check of
//! answered JSON against the schemas of `spec/registry.yaml`.

pub mod calls;
pub mod registry;
pub mod schema;
pub mod tools;

use base64::Engine;
use docr::client::RetryPolicy;
use docr::prelude::*;
use docr::types;
use docr_fake::{FakeDocr, ManifestSeed, OPERATIONS, RegistrySeed, RepositorySeed, digest};
use serde_json::Value;
use std::time::Duration;

pub const TOKEN: &str = "fake-token";

/// `team/app` of registry `acme`:
/// - `app-2` tagged `v2` and `latest`: blobs `base` (1000), `l2` (200)
/// - `app-1` tagged `v1`: blobs `base`, `l1` (100)
/// - `app-0` untagged: blobs `base`, `l0` (50), `cfg0` (7)
///
/// and `web` with one manifest `web-1` (`stable`): blobs `base`, `w1` (300).
/// Registry `acme` also stores an unreferenced blob `orphan` (11).
pub fn acme() -> RegistrySeed {
    let at = |h: i64| chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::hours(400_000 + h);
    RegistrySeed::new("acme")
        .tier("professional")
        .region("nyc3")
        .blob(digest("orphan"), 11)
        .repository(
            RepositorySeed::new("team/app")
                .manifest(
                    ManifestSeed::new(digest("app-2"))
                        .tags(["v2", "latest"])
                        .updated_at(at(2))
                        .blob(digest("base"), 1000)
                        .blob(digest("l2"), 200),
                )
                .manifest(
                    ManifestSeed::new(digest("app-1"))
                        .tag("v1")
                        .updated_at(at(1))
                        .blob(digest("base"), 1000)
                        .blob(digest("l1"), 100),
                )
                .manifest(
                    ManifestSeed::new(digest("app-0"))
                        .updated_at(at(0))
                        .size_bytes(4096)
                        .blob(digest("base"), 1000)
                        .blob(digest("l0"), 50)
                        .blob(digest("cfg0"), 7),
                ),
        )
        .repository(
            RepositorySeed::new("web").manifest(
                ManifestSeed::new(digest("web-1"))
                    .tag("stable")
                    .updated_at(at(3))
                    .blob(digest("base"), 1000)
                    .blob(digest("w1"), 300),
            ),
        )
}

/// A fake holding only [`acme`].
pub async fn fake() -> FakeDocr {
    FakeDocr::builder()
        .registry(acme())
        .gc_step(Duration::ZERO)
        .start()
        .await
        .expect("the fake starts")
}

/// A client that sends each request once and does not pace itself: what the fake answers is
/// what the test sees.
pub fn plain_client(fake: &FakeDocr) -> Client {
    fake.client_builder()
        .retry_policy(RetryPolicy::disabled())
        .pacing(None)
        .build()
        .expect("a client for the fake")
}

pub fn registry(name: &str) -> RegistryName {
    name.parse().expect("a registry name")
}

/// A raw answer: status, headers, JSON body (if any).
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Option<Value>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_id(&self) -> Option<&str> {
        self.body.as_ref()?.get("id")?.as_str()
    }
}

/// Sends `method path` with `body` (raw bytes) and the token (unless `token` is `None`).
pub async fn raw(
    fake: &FakeDocr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Raw {
    let http = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = http.request(method, format!("{}{path}", fake.url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_vec());
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body =
        (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).expect("the fake answers JSON"));
    Raw {
        status,
        headers,
        body,
    }
}

/// `raw` with the fake's token.
pub async fn call(fake: &FakeDocr, method: &str, path: &str, body: Option<&str>) -> Raw {
    raw(fake, method, path, Some(TOKEN), body.map(str::as_bytes)).await
}

/// Asserts an error answer in DigitalOcean's shape, with the header's request id in the body.
pub fn assert_do_error(raw: &Raw, status: u16, id: &str) {
    assert_eq!(raw.status, status, "{raw:?}");
    let body = raw.body.as_ref().expect("an error body");
    assert_eq!(body["id"], id, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        raw.header("x-request-id"),
        "{body}"
    );
}

/// Every exchange in the fake's journal has a declared status and a body its schema accepts.
pub fn assert_journal_conforms(fake: &FakeDocr) {
    let spec = schema::Spec::load();
    let journal = fake.journal();
    assert!(!journal.is_empty());
    for exchange in journal {
        let Some(operation) = &exchange.operation_id else {
            continue;
        };
        if let Err(e) = spec.check(operation, exchange.status, exchange.body.as_ref()) {
            panic!("{} {}: {e}", exchange.method, exchange.path_and_query);
        }
    }
}

/// The `user:password` inside Docker credentials.
pub fn decode_auth(credentials: &types::DockerCredentials) -> String {
    let auth = credentials
        .auths
        .as_ref()
        .and_then(|a| a.registry_digitalocean_com.as_ref())
        .and_then(|e| e.auth.clone())
        .expect("an auth entry");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

/// The operations a test called, checked against a family of `OPERATIONS`.
pub fn assert_called(fake: &FakeDocr, prefix: &str, expected: usize) {
    let calls = fake.calls();
    let family: Vec<&str> = OPERATIONS
        .iter()
        .copied()
        .filter(|op| op.starts_with(prefix))
        .collect();
    assert_eq!(family.len(), expected);
    let missed: Vec<&&str> = family.iter().filter(|op| calls.of(op) == 0).collect();
    assert!(missed.is_empty(), "never called: {missed:?}");
}

/// Starts a garbage collection of `gc_type` and waits, polling by `schedule`, for its end.
pub async fn collect(
    client: &Client,
    registry: &RegistryName,
    gc_type: docr::garbage_collection::GcType,
    schedule: docr::garbage_collection::PollSchedule,
) -> types::GarbageCollection {
    let start = client.start_garbage_collection(registry).gc_type(gc_type);
    let started = start.send().await.expect("the collection starts");
    client
        .wait_for_garbage_collection(registry, &started.uuid)
        .poll_schedule(schedule)
        .wait(Duration::from_secs(30))
        .await
        .expect("the collection ends")
}
