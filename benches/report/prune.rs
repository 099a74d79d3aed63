//! `prune_calls_vs_per_tag` and `prune_seconds_at_rate_limit`: a keep-last-10 prune of a
//! seeded registry (50 repositories of 100 manifests, 1 to 3 tags each).
//!
//! - docr: `plan_prune` then `apply_prune`, with the default pacing (250 a minute), against the
//!   embedded DOCR enforcing DigitalOcean's budget (250 a minute, 5,000 an hour), both on
//!   tokio's paused clock: minutes of pacing pass in a moment, and the fake's budget counts
//!   them as minutes. Calls are what the server received; 429s are read from its journal.
//! - per tag, as doctl cleans up (`doctl registry repository list-v2`, `list-tags`,
//!   `delete-tag` for each): the repositories' listing, every page of every repository's tags,
//!   and one `DELETE .../tags/{tag}` for each tag of the manifests the plan deletes. Run against
//!   a second fake with the same seed (no budget, real time), counted by the server.

use crate::support::{
    Failure, Figure, chain, epoch, progress, report, runtime, start_on_tokio_time,
};
use docr::prelude::*;
use docr::prune::Plan;
use docr::prune::RetentionPolicy;
use docr_fake::{FakeDocr, ManifestSeed, RateBudget, RegistrySeed, RepositorySeed, digest};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::time::Duration;

const REGISTRY: &str = "bench";
const MANIFESTS: usize = 100;
const KEEP_LAST: usize = 10;
/// Deletes in flight at once for the per-tag baseline (its count does not depend on it).
const BASELINE_CONCURRENCY: usize = 8;

/// `repositories` repositories of 100 manifests, each with 1 to 3 tags and a layer of its own,
/// one hour apart.
fn seed(repositories: usize) -> RegistrySeed {
    let base = epoch();
    (0..repositories).fold(
        RegistrySeed::new(REGISTRY).tier("professional"),
        |registry, r| {
            let name = format!("team-{r:02}/service");
            let repository = (0..MANIFESTS).fold(RepositorySeed::new(&name), |repo, m| {
                let tags = 1 + (r * 7 + m * 5) % 3;
                repo.manifest(
                    ManifestSeed::new(digest(&format!("{name}@{m}")))
                        .updated_at(base + chrono::TimeDelta::hours(m as i64))
                        .tags((0..tags).map(|t| format!("1.{m}.{t}")))
                        .blob(digest(&format!("{name}@{m}/layer")), 10_000 + m as u64),
                )
            });
            registry.repository(repository)
        },
    )
}

pub fn run(quick: bool) -> Result<(), Failure> {
    let repositories = if quick { 10 } else { 50 };
    let registry: RegistryName = REGISTRY.parse().map_err(|e| chain(&e))?;
    let policy = RetentionPolicy::new().keep_last(KEEP_LAST);

    progress(format!(
        "prune: {repositories} repositories of {MANIFESTS} manifests, keep the newest {KEEP_LAST}, 250 requests a minute (virtual time)"
    ));
    let paused = runtime(true)?;
    let (plan, docr_calls, too_many, plan_seconds, apply_seconds) = paused.block_on(async {
        let (fake, client) = start_on_tokio_time(
            FakeDocr::builder()
                .registry(seed(repositories))
                .rate_limit(RateBudget::default())
                // Every answer kept, to count the 429s among them.
                .journal_length(20 * repositories * MANIFESTS),
        )
        .await?;
        let started = tokio::time::Instant::now();
        let plan = client
            .plan_prune(&registry, &policy)
            .send()
            .await
            .map_err(|e| chain(&e))?;
        let planned = started.elapsed();
        let applied = client
            .apply_prune(&plan)
            .send()
            .await
            .map_err(|e| chain(&e))?;
        let apply = started.elapsed() - planned;
        let expected = repositories * (MANIFESTS - KEEP_LAST);
        if applied.deleted() != expected {
            return Err(format!(
                "the prune deleted {} manifests, expected {expected} ({} skipped, {} failed)",
                applied.deleted(),
                applied.skipped(),
                applied.failed()
            ));
        }
        let calls = fake.calls().total;
        let journal = fake.journal();
        if journal.len() as u64 != calls {
            return Err(format!(
                "the journal kept {} of {calls} answers",
                journal.len()
            ));
        }
        let too_many = journal.iter().filter(|e| e.status == 429).count();
        Ok::<_, Failure>((plan, calls, too_many, planned, apply))
    })?;
    drop(paused);

    progress("prune: the per-tag baseline");
    let per_tag_calls = runtime(false)?.block_on(per_tag(repositories, &registry, &plan))?;

    let floor = rate_floor(docr_calls);
    let per_tag_floor = rate_floor(per_tag_calls);
    report(Figure::new("prune_calls", docr_calls as f64, "calls"));
    report(Figure::new(
        "prune_calls_per_tag_baseline",
        per_tag_calls as f64,
        "calls",
    ));
    report(Figure::new(
        "prune_calls_vs_per_tag",
        docr_calls as f64 / per_tag_calls as f64,
        "x",
    ));
    report(Figure::new("prune_429s", too_many as f64, "count"));
    report(Figure::new(
        "prune_plan_seconds_at_rate_limit",
        plan_seconds.as_secs_f64(),
        "s",
    ));
    report(Figure::new(
        "prune_seconds_at_rate_limit",
        apply_seconds.as_secs_f64(),
        "s",
    ));
    report(Figure::new(
        "prune_seconds_floor_at_rate_limit",
        floor.as_secs_f64(),
        "s",
    ));
    report(Figure::new(
        "prune_per_tag_seconds_floor_at_rate_limit",
        per_tag_floor.as_secs_f64(),
        "s",
    ));
    Ok(())
}

/// The per-tag cleanup, counted by the server: list the repositories, every page of each one's
/// tags, then delete each tag of the manifests `plan` deletes.
async fn per_tag(
    repositories: usize,
    registry: &RegistryName,
    plan: &Plan,
) -> Result<u64, Failure> {
    let fake = FakeDocr::builder()
        .registry(seed(repositories))
        .rate_limit(RateBudget::UNLIMITED)
        .journal_length(0)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let client = fake
        .client_builder()
        .pacing(None)
        .build()
        .map_err(|e| chain(&e))?;
    let listed = client
        .list_repositories(registry)
        .collect()
        .await
        .map_err(|e| chain(&e))?;
    let mut tags = Vec::new();
    for repository in listed {
        let name: RepositoryName = repository
            .name
            .unwrap_or_default()
            .parse()
            .map_err(|e| chain(&e))?;
        // One page after another, as doctl reads them.
        let listed = client
            .list_tags(registry, &name)
            .concurrency(1)
            .collect()
            .await
            .map_err(|e| chain(&e))?;
        let doomed: Vec<&str> = plan
            .repositories
            .iter()
            .filter(|r| r.repository == name)
            .flat_map(|r| {
                r.delete
                    .iter()
                    .flat_map(|d| d.tags.iter().map(String::as_str))
            })
            .collect();
        let (listed_doomed, _): (Vec<_>, Vec<_>) = listed
            .into_iter()
            .filter_map(|t| t.tag)
            .partition(|t| doomed.contains(&t.as_str()));
        if listed_doomed.len() != doomed.len() {
            return Err(format!(
                "{name}: the listing shows {} of the plan's {} tags",
                listed_doomed.len(),
                doomed.len()
            ));
        }
        tags.extend(listed_doomed.into_iter().map(|t| (name.clone(), t)));
    }
    stream::iter(tags)
        .map(|(repository, tag)| {
            let client = client.clone();
            async move {
                client
                    .registries_delete_repository_tag()
                    .registry_name(REGISTRY)
                    .repository_name(&repository)
                    .repository_tag(tag.as_str())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| chain(&e))
            }
        })
        .buffer_unordered(BASELINE_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(fake.calls().total)
}

/// The least time `calls` requests can take within DigitalOcean's budget (the fake's
/// default: 250 in any minute, 5,000 in any hour): each goes out as soon as both windows allow.
fn rate_floor(calls: u64) -> Duration {
    let budget = RateBudget::default();
    let windows = [
        (budget.per_minute as usize, 60.0),
        (budget.per_hour as usize, 3_600.0),
    ];
    let mut sent: Vec<f64> = Vec::with_capacity(calls as usize);
    for k in 0..calls as usize {
        let mut at = sent.last().copied().unwrap_or(0.0);
        for (limit, window) in windows {
            if k >= limit {
                at = at.max(sent[k - limit] + window);
            }
        }
        sent.push(at);
    }
    Duration::from_secs_f64(sent.last().copied().unwrap_or(0.0))
}
