//! What concurrent paging buys: 100 pages of tags from a local server that takes 20 ms per
//! answer, listed one page at a time and then with the default concurrency.
//!
//! ```text
//! cargo run --example paging_latency
//! ```
//!
//! A measurement, not a test: the numbers depend on the machine, so nothing asserts on them.

use docr::pagination::DEFAULT_CONCURRENCY;
use docr::prelude::*;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PAGES: usize = 100;
const PER_PAGE: usize = 200;
const LATENCY: Duration = Duration::from_millis(20);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/registries/example/repositories/repo-1/tags"))
        .respond_with(|request: &Request| {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(key, _)| key == "page")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(1);
            let first = (page - 1) * PER_PAGE;
            let tags: Vec<_> = (first..(first + PER_PAGE).min(PAGES * PER_PAGE))
                .map(|n| json!({"registry_name": "example", "repository": "repo-1", "tag": format!("v{n}")}))
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"tags": tags, "meta": {"total": PAGES * PER_PAGE}}))
                .set_delay(LATENCY)
        })
        .mount(&server)
        .await;

    let registry: RegistryName = "example".parse()?;
    let repository: RepositoryName = "repo-1".parse()?;
    let mut times = Vec::new();
    for concurrency in [1, DEFAULT_CONCURRENCY] {
        // A client each, so that neither run shares the other's pacing window.
        let client = Client::builder()
            .token("paging-latency")
            .api_url(server.uri())
            .build()?;
        let started = Instant::now();
        let tags = client
            .list_tags(&registry, &repository)
            .concurrency(concurrency)
            .collect()
            .await?;
        let took = started.elapsed();
        assert_eq!(tags.len(), PAGES * PER_PAGE);
        println!(
            "{PAGES} pages, {} ms a page, concurrency {concurrency}: {took:.2?}",
            LATENCY.as_millis()
        );
        times.push(took);
    }
    println!(
        "sequential / concurrent: {:.2}x",
        times[0].as_secs_f64() / times[1].as_secs_f64()
    );
    Ok(())
}
