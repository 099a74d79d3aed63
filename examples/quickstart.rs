//! The main job in a minute, with no token and no network: list what a registry holds, start a
//! garbage collection and wait for it with progress. It runs against a small scripted server
//! on 127.0.0.1 that answers like DigitalOcean's API.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use docr::prelude::*;
use futures::TryStreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    script(&server).await;

    let client = Client::builder()
        .token("quickstart-token")
        .api_url(server.uri())
        .build()?;
    let registry: RegistryName = "acme".parse()?;

    println!("Repositories of {registry}:");
    let repositories = client.list_repositories(&registry).collect().await?;
    for repo in &repositories {
        let name: RepositoryName = repo.name.as_deref().unwrap_or_default().parse()?;
        let tags: Vec<_> = client
            .list_tags(&registry, &name)
            .stream()
            .try_collect()
            .await?;
        let names: Vec<_> = tags.iter().filter_map(|t| t.tag.as_deref()).collect();
        println!("  {name:<16} {} tags: {}", tags.len(), names.join(", "));
    }

    let started = client
        .start_garbage_collection(&registry)
        .gc_type(GcType::Both)
        .send()
        .await?;
    println!("Garbage collection {} started", started.uuid);
    let done = client
        .wait_for_garbage_collection(&registry, &started.uuid)
        .poll_schedule(docr::ext::PollSchedule {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(50),
            share_of_elapsed: 0.0,
        })
        .on_status(|gc| println!("  status: {}", gc.status.as_deref().unwrap_or("?")))
        .wait(Duration::from_secs(30))
        .await?;
    println!(
        "Done: {} blobs deleted, {} bytes freed",
        done.blobs_deleted.unwrap_or(0),
        done.freed_bytes.unwrap_or(0)
    );
    Ok(())
}

/// A registry `acme` with two repositories and a collection that moves through its statuses.
async fn script(server: &MockServer) {
    let repositories = json!({
        "repositories": [
            {"registry_name": "acme", "name": "web", "tag_count": 2, "manifest_count": 2},
            {"registry_name": "acme", "name": "team/api", "tag_count": 1, "manifest_count": 1},
        ],
        "meta": {"total": 2},
    });
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/repositoriesV2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(repositories))
        .mount(server)
        .await;
    for (repo, tags) in [("web", vec!["latest", "1.0"]), ("team%2Fapi", vec!["v2"])] {
        let tags: Vec<_> = tags
            .iter()
            .map(|t| json!({"registry_name": "acme", "repository": repo.replace("%2F", "/"), "tag": t}))
            .collect();
        Mock::given(method("GET"))
            .and(path(format!(
                "/v2/registries/acme/repositories/{repo}/tags"
            )))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"tags": tags, "meta": {"total": tags.len()}})),
            )
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v2/registries/acme/garbage-collection"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"garbage_collection": gc("requested")})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/garbage-collection"))
        .respond_with(Progress(AtomicUsize::new(0)))
        .mount(server)
        .await;
}

struct Progress(AtomicUsize);

impl Respond for Progress {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        const STATUSES: [&str; 5] = [
            "requested",
            "waiting for write JWTs to expire",
            "scanning manifests",
            "deleting unreferenced blobs",
            "succeeded",
        ];
        let n = self
            .0
            .fetch_add(1, Ordering::SeqCst)
            .min(STATUSES.len() - 1);
        ResponseTemplate::new(200).set_body_json(json!({"garbage_collection": gc(STATUSES[n])}))
    }
}

fn gc(status: &str) -> serde_json::Value {
    let done = status == "succeeded";
    json!({
        "uuid": "eff0feee-49c7-4e8f-ba5c-a320c109c8a8",
        "registry_name": "acme",
        "status": status,
        "type": "untagged manifests and unreferenced blobs",
        "blobs_deleted": if done { 12 } else { 0 },
        "freed_bytes": if done { 48_234_496 } else { 0 },
    })
}
