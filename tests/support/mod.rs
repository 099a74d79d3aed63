//! What the library's test binaries share: the loopback server, clients pointed at it, the
//! values the fixtures use, the two API families, and the spec.
#![allow(dead_code, unused_imports, unused_macros)]

pub mod family;
pub mod logs;
pub mod spec;
pub mod wire;

pub(crate) use family::on_family;
pub use family::{FAMILIES, FamilyNames};
pub use wire::{Script, api_error, calls, mount};

use docr::{Client, ClientBuilder, client::RetryPolicy, client::TestClock};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The token every test client sends; `SECRET` is what a leak check looks for.
pub const TOKEN: &str = "t0ken-SECRET";
/// The spec's example garbage collection.
pub const GC_UUID: &str = "eff0feee-49c7-4e8f-ba5c-a320c109c8a8";
/// A second garbage collection, for a registry where another one runs.
pub const OTHER_GC_UUID: &str = "a3e6a8d2-0c1b-4d6e-9b1c-2f4f0e7d5c11";
/// The spec's example manifest digest.
pub const DIGEST: &str = "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221";
/// Two Kubernetes clusters, as the spec's and pydo's examples name them.
pub const CLUSTERS: [&str; 2] = [
    "bd5f5959-5e1e-4205-a714-a914373942af",
    "50c2f44c-011d-493e-aee5-361a4a0d1844",
];

/// A server on 127.0.0.1 that answers what no mock expects with a 418 naming the request, so
/// a missed expectation fails with its method and URL instead of a bare 404.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            let message = format!("no mock for {} {}", request.method, request.url);
            ResponseTemplate::new(418).set_body_json(json!({"id": "unmatched", "message": message}))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// A builder with the test token, pointed at `api_url`.
pub fn builder(api_url: &str) -> ClientBuilder {
    Client::builder().token(TOKEN).api_url(api_url)
}

/// A client for `server` with the default retries and pacing, sleeping on `clock`: tests of
/// waiting and retrying count its sleeps and never wait for real.
pub fn client_on(server: &MockServer, clock: &TestClock) -> Client {
    builder(&server.uri())
        .clock(clock.clone())
        .build()
        .expect("a client for the loopback server")
}

/// A client for `server` that sends each call once, at once: no retries, no pacing.
pub fn direct_client(server: &MockServer) -> Client {
    builder(&server.uri())
        .retry_policy(RetryPolicy::disabled())
        .pacing(None)
        .build()
        .expect("a client for the loopback server")
}
