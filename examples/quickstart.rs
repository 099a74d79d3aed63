//! The main job, end to end: look at a registry, plan a cleanup, apply it, then collect the
//! garbage and see what was freed.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With no token it runs against the embedded DOCR (`docr_fake`) seeded with demo data: no
//! account, no network. With `DIGITALOCEAN_TOKEN` set it takes a read-only tour of the real
//! account instead, and deletes nothing there.

use docr::prelude::*;
use docr::{client::ApiFamily, prune::RetentionPolicy};
use docr_fake::FakeDocr;
use futures::TryStreamExt;
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result {
    let real = ["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|t| !t.is_empty()));
    if real {
        return tour(&Client::from_env()?).await;
    }

    let fake = FakeDocr::builder()
        .demo_data()
        .gc_step(Duration::from_millis(150))
        .start()
        .await?;
    println!(
        "Embedded DOCR on {} (demo data; no token, no network)\n",
        fake.url()
    );
    let client = fake.client()?;
    let registry: RegistryName = "acme".parse()?;

    // 1. What is there.
    let used_before = storage(&client, &registry).await?;
    println!("Registry {registry}: {} stored", size(used_before));
    for repo in client.list_repositories(&registry).collect().await? {
        let name: RepositoryName = repo.name.as_deref().unwrap_or_default().parse()?;
        let tags: Vec<_> = client
            .list_tags(&registry, &name)
            .stream()
            .try_collect()
            .await?;
        println!(
            "  {name:<18} {:>3} manifests {:>3} tags",
            repo.manifest_count.unwrap_or(0),
            tags.len()
        );
    }

    // 2. Plan a cleanup, and show it.
    let policy = RetentionPolicy::new()
        .keep_last(5)
        .older_than(Duration::from_secs(30 * 24 * 3600))
        .keep_tags_matching("latest|prod|stable|lts")?
        .delete_untagged(true);
    println!();
    let plan = client.plan_prune(&registry, &policy).send().await?;
    println!("{plan}");

    // 3. Apply it.
    let report = client.apply_prune(&plan).send().await?;
    println!(
        "Applied: {} manifests deleted, {} skipped, {} failed, in {} API calls (and {} registry reads)",
        report.deleted(),
        report.skipped(),
        report.failed(),
        report.api_calls,
        report.registry_calls
    );

    // 4. Collect the garbage, with progress, and see what was freed. A manifest's size counts
    //    the layers it shares with others; a collection frees only blobs nothing still uses.
    let started = client.start_garbage_collection(&registry).send().await?;
    println!("\nGarbage collection {}:", started.uuid);
    let done = client
        .wait_for_garbage_collection(&registry, &started.uuid)
        .poll_schedule(docr::garbage_collection::PollSchedule {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(100),
            share_of_elapsed: 0.0,
        })
        .on_status(|gc| println!("  {}", gc.status.as_deref().unwrap_or("?")))
        .wait(Duration::from_secs(60))
        .await?;
    let used_after = storage(&client, &registry).await?;
    println!(
        "Freed {} in {} blobs: {} -> {} stored (the plan said {})",
        size(done.freed_bytes.unwrap_or(0)),
        done.blobs_deleted.unwrap_or(0),
        size(used_before),
        size(used_after),
        docr::HumanBytes(plan.totals.gc_frees_bytes)
    );

    // 5. Multi-platform images: the API lists their platform and attestation manifests as
    //    untagged, yet "delete untagged" keeps every one that a kept image holds.
    let archive: RegistryName = "acme-archive".parse()?;
    let untagged_listed = untagged(&client, &archive).await?;
    let plan = client
        .plan_prune(&archive, RetentionPolicy::new().delete_untagged(true))
        .send()
        .await?;
    println!("\n{plan}");
    println!(
        "Registry {archive}: the API lists {untagged_listed} untagged manifests; the plan deletes \
         {} of them and keeps the rest, which belong to tagged multi-platform images, their \
         attestations and signatures.",
        plan.totals.manifests
    );
    fake.shutdown().await;
    Ok(())
}

/// How many manifests of a registry the API lists without a tag.
async fn untagged(client: &Client, registry: &RegistryName) -> Result<usize> {
    let mut count = 0;
    for repo in client.list_repositories(registry).collect().await? {
        let name: RepositoryName = repo.name.as_deref().unwrap_or_default().parse()?;
        let manifests = client.list_manifests(registry, &name).collect().await?;
        count += manifests.iter().filter(|m| m.tags.is_empty()).count();
    }
    Ok(count)
}

/// The read-only tour of a real account: lists, never deletes.
async fn tour(client: &Client) -> Result {
    println!("Read-only tour of your account (nothing is changed)\n");
    let registries = client
        .registries_list()
        .send()
        .await
        .map_err(Error::from)?
        .into_inner()
        .registries;
    for r in &registries {
        let name: RegistryName = r
            .name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default()
            .parse()?;
        println!(
            "Registry {name} ({}): {} stored",
            r.region.as_deref().unwrap_or("?"),
            size(r.storage_usage_bytes.unwrap_or(0))
        );
        let repositories = client.list_repositories(&name).collect().await?;
        for repo in repositories.iter().take(10) {
            println!(
                "  {:<24} {:>4} manifests {:>4} tags",
                repo.name.as_deref().unwrap_or("?"),
                repo.manifest_count.unwrap_or(0),
                repo.tag_count.unwrap_or(0)
            );
        }
        if repositories.len() > 10 {
            println!("  ... and {} more", repositories.len() - 10);
        }
        match client
            .active_garbage_collection(&name, ApiFamily::Registries)
            .await?
        {
            Some(gc) => println!(
                "  garbage collection running: {}",
                gc.status.as_deref().unwrap_or("?")
            ),
            None => println!("  no garbage collection running"),
        }
    }
    if let Some(rate) = client.rate_limit() {
        println!(
            "\nRate limit: {} of {} requests left this hour",
            rate.remaining, rate.limit
        );
    }
    Ok(())
}

async fn storage(client: &Client, registry: &RegistryName) -> Result<i64> {
    let info = client
        .registries_get()
        .registry_name(registry)
        .send()
        .await
        .map_err(Error::from)?;
    Ok(info
        .into_inner()
        .registry
        .and_then(|r| r.0.storage_usage_bytes)
        .unwrap_or(0))
}

fn size(bytes: i64) -> String {
    docr::HumanBytes(u64::try_from(bytes).unwrap_or(0)).to_string()
}
