//! `list_speedup_vs_sequential` and `list_vs_floor`: every tag of a repository of 20,000
//! (100 pages of 200) from the embedded DOCR answering each request after 20 ms.
//!
//! - sequential: one page after another, following `links.pages.next` until there is none, as
//!   godo and doctl page; through docr's generated call, so only the paging differs.
//! - docr: `client.list_tags(..).stream()`, the first page, then the rest `DEFAULT_CONCURRENCY`
//!   at a time, items in order.
//! - both on a multi-thread runtime, as `#[tokio::main]` makes one, so that the stream's pages are
//!   decoded on either core while the fake's thread waits out its latency.
//! - floor: the round trips nobody can avoid at that concurrency, times the latency:
//!   `(1 + ceil((pages - 1) / concurrency)) * 20 ms`.

use crate::support::{
    Failure, Figure, chain, latent_fake, median, multi_thread_runtime, progress, report,
};
use docr::Client;
use docr::prelude::*;
use docr::{pagination::DEFAULT_CONCURRENCY, pagination::MAX_PER_PAGE};
use docr_fake::{ManifestSeed, RegistrySeed, RepositorySeed, digest};
use futures::TryStreamExt;
use std::time::{Duration, Instant};

const REGISTRY: &str = "bench";
const REPOSITORY: &str = "team/app";
const TAGS: usize = 20_000;
const LATENCY: Duration = Duration::from_millis(20);
/// A bound on the sequential loop, should the server never stop pointing at a next page.
const MAX_PAGES: u64 = 10_000;

/// Tags per manifest in the listed repositories (what the client sees does not depend on it;
/// fewer manifests keep the fake's own work per page small).
const TAGS_PER_MANIFEST: usize = 10;

/// A repository of `tags` tags, ten per manifest.
pub fn repository_of(name: &str, tags: usize) -> RepositorySeed {
    (0..tags.div_ceil(TAGS_PER_MANIFEST)).fold(RepositorySeed::new(name), |repo, n| {
        let first = n * TAGS_PER_MANIFEST;
        let last = (first + TAGS_PER_MANIFEST).min(tags);
        repo.manifest(
            ManifestSeed::new(digest(&format!("{name}-{n}")))
                .tags((first..last).map(|t| format!("1.{n}.{t}")))
                .blob(digest(&format!("{name}-layer-{n}")), 1_000 + n as u64),
        )
    })
}

pub fn run(quick: bool) -> Result<(), Failure> {
    let rounds = if quick { 1 } else { 5 };
    let (server, client) = latent_fake(
        RegistrySeed::new(REGISTRY).repository(repository_of(REPOSITORY, TAGS)),
        LATENCY,
    )?;
    let registry: RegistryName = REGISTRY.parse().map_err(|e| chain(&e))?;
    let repository: RepositoryName = REPOSITORY.parse().map_err(|e| chain(&e))?;

    let pages = TAGS.div_ceil(MAX_PER_PAGE as usize) as u64;
    let round_trips = 1 + (pages - 1).div_ceil(DEFAULT_CONCURRENCY as u64);
    let floor = LATENCY.as_secs_f64() * round_trips as f64;

    progress(format!(
        "listing: {TAGS} tags in {pages} pages, {} ms a request, {rounds} rounds",
        LATENCY.as_millis()
    ));
    let runtime = multi_thread_runtime()?;
    let (mut sequential, mut streamed) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for way in order {
                let started = Instant::now();
                let count = if way == 0 {
                    sequential_loop(&client).await?
                } else {
                    client
                        .list_tags(&registry, &repository)
                        .stream()
                        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
                        .await
                        .map_err(|e| chain(&e))?
                };
                let took = started.elapsed().as_secs_f64();
                if count != TAGS {
                    return Err(format!("listed {count} tags, expected {TAGS}"));
                }
                if way == 0 {
                    sequential.push(took);
                } else {
                    streamed.push(took);
                }
            }
        }
        Ok::<(), Failure>(())
    })?;
    let sequential = median(&mut sequential);
    let streamed = median(&mut streamed);
    report(Figure::new("list_sequential_seconds", sequential, "s"));
    report(Figure::new("list_stream_seconds", streamed, "s"));
    report(Figure::new("list_floor_seconds", floor, "s"));
    let speedup = sequential / streamed;
    report(Figure::new("list_speedup_vs_sequential", speedup, "x"));
    report(Figure::new("list_vs_floor", streamed / floor, "x"));
    drop(server);
    Ok(())
}

/// godo's loop: ask for a page, read it, follow `next` while there is one.
async fn sequential_loop(client: &Client) -> Result<usize, Failure> {
    let mut count = 0;
    for page in 1..=MAX_PAGES {
        let body = client
            .registries_list_repository_tags()
            .registry_name(REGISTRY)
            .repository_name(REPOSITORY)
            .page(page)
            .per_page(u64::from(MAX_PER_PAGE))
            .send()
            .await
            .map_err(|e| chain(&e))?
            .into_inner();
        count += body.tags.len();
        if body
            .links
            .and_then(|l| l.pages)
            .and_then(|p| p.next)
            .is_none()
        {
            return Ok(count);
        }
    }
    Err(format!("still a next page after {MAX_PAGES} pages"))
}
