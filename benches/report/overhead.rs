//! `overhead_vs_reqwest`: the median time of one call through docr (generated builder, the
//! transport's auth, pacing bookkeeping, retry decision and tracing, typed decoding) divided by
//! the same call made with a bare reqwest client that decodes into the same type: the floor.
//!
//! The call is one page of 20 tags (`GET .../repositories/team%2Fapp/tags?page=1&per_page=20`)
//! from the embedded DOCR, served on a thread of its own; the bare call builds its URL and
//! query as hand-written code does. Both clients run on one thread, interleaved (call by call
//! at concurrency 1, in short rounds at 64) so that drift in the machine falls on both alike.

use crate::support::{Failure, FakeThread, Figure, chain, median, progress, report, runtime};
use docr::types::RepositoryTagsResponse;
use docr_fake::{FakeDocr, ManifestSeed, RateBudget, RegistrySeed, RepositorySeed, digest};
use futures::future::join_all;
use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

const REGISTRY: &str = "bench";
const REPOSITORY: &str = "team/app";
const TAGS: usize = 20;

/// How one concurrency is measured: `rounds` rounds of `calls` calls each way.
struct Rounds {
    concurrency: usize,
    rounds: usize,
    calls: usize,
}

pub fn run(quick: bool) -> Result<(), Failure> {
    // One call a round at concurrency 1: docr's and reqwest's calls interleave one by one, so
    // that drift in the machine (other processes, frequency, which core) falls on both alike.
    let plans = if quick {
        [(1, 200, 1), (64, 2, 500)]
    } else {
        [(1, 8_000, 1), (64, 40, 1_000)]
    }
    .map(|(concurrency, rounds, calls)| Rounds {
        concurrency,
        rounds,
        calls,
    });
    let repository = (0..TAGS).fold(RepositorySeed::new(REPOSITORY), |repo, n| {
        repo.manifest(
            ManifestSeed::new(digest(&format!("app-{n}")))
                .tag(format!("1.0.{n}"))
                .blob(digest(&format!("layer-{n}")), 1_000 + n as u64),
        )
    });
    let server = FakeThread::start(
        FakeDocr::builder()
            .registry(RegistrySeed::new(REGISTRY).repository(repository))
            .rate_limit(RateBudget::UNLIMITED)
            .journal_length(0),
    )?;
    let fake = server.fake();
    // Pacing off: 250 a minute would measure the rate limit, not the client.
    let docr = fake
        .client_builder()
        .pacing(None)
        .build()
        .map_err(|e| chain(&e))?;
    let bare = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| chain(&e))?;
    let base = fake.url().to_string();
    let authorization = format!("Bearer {}", fake.token());

    let docr_call = || {
        let docr = docr.clone();
        async move {
            let page = docr
                .registries_list_repository_tags()
                .registry_name(REGISTRY)
                .repository_name(REPOSITORY)
                .page(1)
                .per_page(TAGS as u64)
                .send()
                .await
                .map_err(|e| chain(&e))?
                .into_inner();
            check(&page)
        }
    };
    let bare_call = || {
        let (bare, base, authorization) = (bare.clone(), base.clone(), authorization.clone());
        async move {
            // As a hand-written call does: the path from the (encoded) names, the page as query.
            let url = format!("{base}/v2/registries/{REGISTRY}/repositories/team%2Fapp/tags");
            let response = bare
                .get(url)
                .query(&[("page", 1), ("per_page", TAGS)])
                .header(reqwest::header::AUTHORIZATION, authorization)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| chain(&e))?
                .error_for_status()
                .map_err(|e| chain(&e))?;
            let page: RepositoryTagsResponse = response.json().await.map_err(|e| chain(&e))?;
            check(&page)
        }
    };

    let runtime = runtime(false)?;
    // The figure is one request in flight; c64 (CPU per call) is reported beside it.
    let mut at_one: Option<f64> = None;
    for Rounds {
        concurrency,
        rounds,
        calls,
    } in plans
    {
        progress(format!(
            "overhead: {rounds} rounds of {calls} calls each way, concurrency {concurrency}"
        ));
        let (mut through_docr, mut through_bare) = (Vec::new(), Vec::new());
        runtime.block_on(async {
            // Warm-up: connections opened, allocator and caches settled; not recorded.
            let warm_up = (rounds * calls / 4).max(concurrency);
            measure(concurrency, warm_up, docr_call).await?;
            measure(concurrency, warm_up, bare_call).await?;
            for round in 0..rounds {
                // ABBA: neither always goes first.
                if round % 4 == 0 || round % 4 == 3 {
                    through_docr.extend(measure(concurrency, calls, docr_call).await?);
                    through_bare.extend(measure(concurrency, calls, bare_call).await?);
                } else {
                    through_bare.extend(measure(concurrency, calls, bare_call).await?);
                    through_docr.extend(measure(concurrency, calls, docr_call).await?);
                }
            }
            Ok::<(), Failure>(())
        })?;
        let docr_median = median(&mut through_docr);
        let bare_median = median(&mut through_bare);
        let ratio = docr_median / bare_median;
        if concurrency == 1 {
            at_one = Some(ratio);
        }
        report(Figure::new(
            format!("call_median_docr_c{concurrency}"),
            docr_median * 1e6,
            "us",
        ));
        report(Figure::new(
            format!("call_median_reqwest_c{concurrency}"),
            bare_median * 1e6,
            "us",
        ));
        report(Figure::new(
            format!("overhead_vs_reqwest_c{concurrency}"),
            ratio,
            "x",
        ));
    }
    let at_one = at_one.ok_or("no round at concurrency 1")?;
    report(Figure::new("overhead_vs_reqwest", at_one, "x"));
    drop(server);
    Ok(())
}

fn check(page: &RepositoryTagsResponse) -> Result<(), Failure> {
    if page.tags.len() == TAGS {
        Ok(())
    } else {
        Err(format!("expected {TAGS} tags, got {}", page.tags.len()))
    }
}

/// `calls` calls by `concurrency` workers, each timed on its own: seconds per call.
async fn measure<F, Fut>(concurrency: usize, calls: usize, call: F) -> Result<Vec<f64>, Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let next = Cell::new(0usize);
    let workers = (0..concurrency).map(|_| async {
        let mut times = Vec::new();
        while next.get() < calls {
            next.set(next.get() + 1);
            let started = Instant::now();
            call().await?;
            times.push(started.elapsed().as_secs_f64());
        }
        Ok::<_, Failure>(times)
    });
    let mut all = Vec::with_capacity(calls);
    for times in join_all(workers).await {
        all.extend(times?);
    }
    Ok(all)
}
