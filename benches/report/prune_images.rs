//! `prune_plan_seconds_with_registry_reads` against `prune_plan_seconds_listing_only`: what a
//! plan's registry reads cost, on a registry of 50 repositories of 100 multi-arch images (an
//! OCI index of 2 platform manifests and 2 attestation manifests: 5 manifests an image, the
//! index tagged), both listeners answering 20 ms late (`Faults::latency`), the registry not
//! serving the referrers API (as DigitalOcean's and the distribution registry 2.8 do not).
//!
//! - with registry reads: `client.plan_prune(..).manifest_cache(..).send()` with an empty
//!   cache (a new directory each round), keep the newest 10 images;
//! - warm: the same plan again at once, the cache as the first left it
//!   (`prune_plan_seconds_warm_cache`, `prune_plan_warm_vs_cold`);
//! - listing only: what a plan did before it read the registry: the repositories' listing,
//!   then every manifest of each (`list_manifests(..).collect()`), `LISTING_CONCURRENCY`
//!   repositories at once.
//!
//! Medians of the rounds, the ways alternating. Calls are the fake's (tokens from the realm
//! and `401` challenges included): the API's must not grow with the registry reads (the plan
//! adds the one docker-credentials call its reader needs), and the registry's are at most one
//! `GET` per manifest, one request per tag and, the API being absent, one referrers call.
//! One plan more, without a cache, on a registry that serves the referrers API, gives
//! `prune_plan_registry_calls_per_manifest_referrers_api` (its calls only).

use crate::support::{
    Failure, Figure, chain, epoch, latent_fake_serving, median, progress, report, runtime,
};
use docr::prelude::*;
use docr::{Client, prune::Plan, prune::RetentionPolicy, registry::ManifestCache};
use docr_fake::{Calls, ImageSeed, IndexSeed, RegistrySeed, RepositorySeed};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::time::{Duration, Instant};

const REGISTRY: &str = "images";
const LATENCY: Duration = Duration::from_millis(20);
const KEEP_LAST: usize = 10;
/// Manifests an image is made of: the index, 2 platforms, 2 attestations.
const MANIFESTS_PER_IMAGE: usize = 5;

/// `repositories` repositories of `images` multi-arch images, one hour apart, each index
/// tagged `1.<n>`.
fn seed(repositories: usize, images: usize) -> RegistrySeed {
    let base = epoch();
    (0..repositories).fold(
        RegistrySeed::new(REGISTRY).tier("professional"),
        |registry, r| {
            let name = format!("team-{r:02}/app");
            let repository = (0..images).fold(RepositorySeed::new(&name), |repo, i| {
                let index = ["amd64", "arm64"]
                    .into_iter()
                    .fold(IndexSeed::new().attestations(), |index, arch| {
                        index.image(
                            ImageSeed::new(format!("{name}:{i}:{arch}")).platform("linux", arch),
                        )
                    })
                    .updated_at(base + chrono::TimeDelta::hours(i as i64))
                    .tag(format!("1.{i}"));
                repo.index(index)
            });
            registry.repository(repository)
        },
    )
}

/// What one way of planning took and asked.
struct Run {
    seconds: f64,
    calls: Calls,
}

pub fn run(quick: bool) -> Result<(), Failure> {
    let (repositories, images, rounds) = if quick { (4, 20, 1) } else { (50, 100, 3) };
    let manifests = repositories * images * MANIFESTS_PER_IMAGE;
    progress(format!(
        "prune_images: {repositories} repositories of {images} multi-arch images ({manifests} manifests), {} ms a request, {rounds} rounds",
        LATENCY.as_millis()
    ));
    let registry: RegistryName = REGISTRY.parse().map_err(|e| chain(&e))?;
    let policy = RetentionPolicy::new().keep_last(KEEP_LAST);
    let expected = repositories * (images - KEEP_LAST) * MANIFESTS_PER_IMAGE;
    let check = |plan: &Plan| {
        if plan.totals.manifests != expected || plan.totals.blocked_repositories > 0 {
            return Err(format!(
                "the plan deletes {} manifests, expected {expected} ({} repositories blocked)",
                plan.totals.manifests, plan.totals.blocked_repositories
            ));
        }
        Ok(())
    };

    // With the referrers API, once, without a cache: its calls.
    let api_calls = {
        let (server, client) = latent_fake_serving(seed(repositories, images), LATENCY, true)?;
        let plan = runtime(false)?.block_on(client.plan_prune(&registry, &policy).send());
        check(&plan.map_err(|e| chain(&e))?)?;
        let calls = server.fake().calls();
        drop(server);
        calls
    };

    let (server, client) = latent_fake_serving(seed(repositories, images), LATENCY, false)?;
    let (mut planned, mut warmed, mut listed) = (Vec::new(), Vec::new(), Vec::new());
    runtime(false)?.block_on(async {
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for way in order {
                if way == 1 {
                    server.fake().reset_calls();
                    let started = Instant::now();
                    let count = listing_only(&client, &registry).await?;
                    if count != manifests {
                        return Err(format!("listed {count} manifests, expected {manifests}"));
                    }
                    listed.push(Run {
                        seconds: started.elapsed().as_secs_f64(),
                        calls: server.fake().calls(),
                    });
                    continue;
                }
                let dir = tempfile::tempdir().map_err(|e| chain(&e))?;
                let cache = ManifestCache::open(dir.path()).map_err(|e| chain(&e))?;
                for runs in [&mut planned, &mut warmed] {
                    server.fake().reset_calls();
                    let started = Instant::now();
                    let plan = client
                        .plan_prune(&registry, &policy)
                        .manifest_cache(cache.clone())
                        .send()
                        .await
                        .map_err(|e| chain(&e))?;
                    let seconds = started.elapsed().as_secs_f64();
                    check(&plan)?;
                    runs.push(Run {
                        seconds,
                        calls: server.fake().calls(),
                    });
                }
            }
        }
        Ok::<(), Failure>(())
    })?;

    let seconds = |runs: &[Run]| median(&mut runs.iter().map(|r| r.seconds).collect::<Vec<_>>());
    let (with_reads, warm, listing) = (seconds(&planned), seconds(&warmed), seconds(&listed));
    let (plan_calls, warm_calls, list_calls) = match (planned.last(), warmed.last(), listed.last())
    {
        (Some(p), Some(w), Some(l)) => (p.calls.clone(), w.calls.clone(), l.calls.clone()),
        _ => return Err("no round ran".into()),
    };
    let tags = repositories * images;
    let gets = plan_calls.of_registry("GET", "manifests");
    let heads = plan_calls.of_registry("HEAD", "manifests");
    let referrers = plan_calls.of_registry("GET", "referrers");
    // Every manifest once, and no more than one request per tag and one referrers call besides.
    if gets + heads > (manifests + tags) as u64 || referrers > 1 {
        return Err(format!(
            "the plan read too much: {gets} GETs and {heads} HEADs of manifests, {referrers} referrers calls, for {manifests} manifests and {tags} tags"
        ));
    }
    let per_manifest = |n: u64| n as f64 / manifests as f64;
    // Requests on the wire on average: each is `LATENCY` long.
    let in_flight = |n: u64, seconds: f64| n as f64 * LATENCY.as_secs_f64() / seconds;
    let figures = [
        ("prune_plan_seconds_with_registry_reads", with_reads, "s"),
        ("prune_plan_seconds_listing_only", listing, "s"),
        (
            "prune_plan_registry_reads_vs_listing_only",
            with_reads / listing,
            "x",
        ),
        ("prune_plan_seconds_warm_cache", warm, "s"),
        ("prune_plan_warm_vs_cold", warm / with_reads, "x"),
        (
            "prune_plan_api_calls_with_registry_reads",
            plan_calls.total as f64,
            "calls",
        ),
        (
            "prune_plan_api_calls_listing_only",
            list_calls.total as f64,
            "calls",
        ),
        (
            "prune_plan_registry_calls",
            plan_calls.registry_total() as f64,
            "calls",
        ),
        (
            "prune_plan_registry_calls_per_manifest",
            per_manifest(plan_calls.registry_total()),
            "calls",
        ),
        (
            "prune_plan_registry_calls_per_manifest_referrers_api",
            per_manifest(api_calls.registry_total()),
            "calls",
        ),
        (
            "prune_plan_registry_gets_per_manifest",
            per_manifest(gets),
            "calls",
        ),
        (
            "prune_plan_registry_heads_per_tag",
            heads as f64 / tags as f64,
            "calls",
        ),
        (
            "prune_plan_registry_referrers_calls",
            referrers as f64,
            "calls",
        ),
        (
            "prune_plan_warm_registry_calls",
            warm_calls.registry_total() as f64,
            "calls",
        ),
        (
            "prune_plan_warm_registry_calls_beyond_tags_plus_2_per_repository",
            warm_calls.registry_total() as f64 - (tags + 2 * repositories) as f64,
            "calls",
        ),
        // Both plans at the registry's in-flight bound take their requests' share of time:
        // the least warm/cold ratio at this bound.
        (
            "prune_plan_warm_vs_cold_calls",
            warm_calls.registry_total() as f64 / plan_calls.registry_total() as f64,
            "x",
        ),
        (
            "prune_plan_registry_mean_in_flight",
            in_flight(plan_calls.registry_total(), with_reads),
            "requests",
        ),
        (
            "prune_plan_warm_registry_mean_in_flight",
            in_flight(warm_calls.registry_total(), warm),
            "requests",
        ),
        (
            "prune_plan_warm_registry_gets",
            warm_calls.of_registry("GET", "manifests") as f64,
            "calls",
        ),
    ];
    for (name, value, unit) in figures {
        report(Figure::new(name, value, unit));
    }
    drop(server);
    Ok(())
}

/// Repositories listed at once by the listing-only plan: the plan's concurrency when the goal
/// for `prune_plan_registry_reads_vs_listing_only` was set against it, kept so that the
/// yardstick stays the same when the plan's own concurrency changes.
const LISTING_CONCURRENCY: usize = 4;

/// The API's part of a plan: the repositories, then every manifest of each,
/// `LISTING_CONCURRENCY` repositories at once. Returns the manifests listed.
async fn listing_only(client: &Client, registry: &RegistryName) -> Result<usize, Failure> {
    let repositories = client
        .list_repositories(registry)
        .collect()
        .await
        .map_err(|e| chain(&e))?;
    let names = repositories
        .into_iter()
        .map(|r| r.name.unwrap_or_default().parse::<RepositoryName>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| chain(&e))?;
    let counts: Vec<usize> = stream::iter(names)
        .map(|repository| async move {
            client
                .list_manifests(registry, &repository)
                .collect()
                .await
                .map(|m| m.len())
        })
        .buffered(LISTING_CONCURRENCY)
        .try_collect()
        .await
        .map_err(|e| chain(&e))?;
    Ok(counts.iter().sum())
}
