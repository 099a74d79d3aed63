//! A plan with a manifest cache and the referrers API found once, against the embedded DOCR:
//! a corrupt entry is read again, a moved tag is seen, a registry with the API keeps being
//! asked, and concurrent plans share one cache directory.

use crate::images::app;
use crate::registry_writer::Writer;
use docr::prelude::*;
use docr::{
    prune::Plan, prune::PlannedDeletion, prune::PruneExt, prune::RetentionPolicy,
    registry::ManifestCache,
};
use docr_fake::{FakeDocr, ImageSeed, RegistrySeed, RepositorySeed};
use std::path::Path;
use std::time::Duration;

fn untagged() -> RetentionPolicy {
    RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO)
}

async fn plan_with(client: &Client, policy: &RetentionPolicy, cache: &ManifestCache) -> Plan {
    client
        .plan_prune(&crate::acme(), policy)
        .manifest_cache(cache.clone())
        .send()
        .await
        .expect("a plan")
}

fn deletions(plan: &Plan) -> Vec<PlannedDeletion> {
    plan.deletions().cloned().collect()
}

/// The cache's entries, each checked: its bytes hash to its name. No temporary file is left.
fn entries(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir.join("sha256")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "a temporary file is left: {name}");
        let bytes = std::fs::read(entry.path()).unwrap();
        assert_eq!(crate::sha256(&bytes), format!("sha256:{name}"));
        names.push(name);
    }
    names.sort();
    names
}

/// `n` single-platform images tagged `1.<i>` in `name`.
fn tagged(name: &str, n: usize) -> RepositorySeed {
    (0..n).fold(RepositorySeed::new(name), |repo, i| {
        repo.manifest(
            ImageSeed::new(format!("{name}-{i}"))
                .seed()
                .tag(format!("1.{i}")),
        )
    })
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_read_again_and_the_plan_is_the_same() {
    let (repo, _, _, _) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ManifestCache::open(dir.path()).unwrap();
    let without = crate::plan(&client, &untagged()).await;
    let cold = plan_with(&client, &untagged(), &cache).await;
    assert_eq!(deletions(&cold), deletions(&without));
    let kept = entries(dir.path());
    assert_eq!(kept.len(), 7, "every manifest of `app` is kept: {kept:?}");

    // Truncate every entry: none may be trusted.
    for name in &kept {
        let path = dir.path().join("sha256").join(name);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    fake.reset_calls();
    let again = plan_with(&client, &untagged(), &cache).await;
    assert_eq!(deletions(&again), deletions(&without), "{again}");
    assert!(
        again.repositories.iter().all(|r| r.blocked.is_empty()),
        "{again}"
    );
    let gets = fake.calls().of_registry("GET", "manifests");
    assert_eq!(gets, 7, "each corrupt entry read again from the registry");
    assert_eq!(entries(dir.path()), kept, "and written again whole");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_tag_moved_since_the_cache_was_filled_is_seen() {
    let (repo, index, lone, _) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ManifestCache::open(dir.path()).unwrap();
    fake.reset_calls();
    let before = plan_with(&client, &untagged(), &cache).await;
    let planned: Vec<String> = before.deletions().map(|d| d.digest.to_string()).collect();
    assert_eq!(planned, [lone.digest()], "{before}");
    // Cold: each tag read with a GET (digest and manifest at once), each manifest once.
    let calls = fake.calls();
    assert_eq!(calls.of_registry("HEAD", "manifests"), 0, "{calls:?}");
    assert_eq!(calls.of_registry("GET", "manifests"), 7, "{calls:?}");

    // `1.0` now names the lone image; the index is untagged.
    Writer::login(&fake, "app")
        .await
        .tag(&fake, "app", "1.0", lone.digest())
        .await;
    fake.reset_calls();
    let after = plan_with(&client, &untagged(), &cache).await;
    let planned: Vec<String> = after.deletions().map(|d| d.digest.to_string()).collect();
    assert!(planned.contains(&index.digest()), "{after}");
    assert!(!planned.contains(&lone.digest().to_string()), "{after}");
    let calls = fake.calls();
    assert_eq!(
        calls.of_registry("HEAD", "manifests"),
        1,
        "the tag resolved"
    );
    assert_eq!(
        calls.of_registry("GET", "manifests"),
        0,
        "every digest was known"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_registry_with_the_referrers_api_keeps_being_asked() {
    let (fake, client) = crate::acme_with([tagged("app", 5)]).await;
    let plan = crate::plan(&client, &RetentionPolicy::new().keep_last(2)).await;
    assert_eq!(plan.totals.manifests, 3, "{plan}");
    assert_eq!(fake.calls().of_registry("GET", "referrers"), 5);
    fake.shutdown().await;
}

#[tokio::test]
async fn a_registry_without_the_referrers_api_is_asked_once() {
    let registry = (0..3).fold(RegistrySeed::new("acme"), |registry, r| {
        registry.repository(tagged(&format!("app-{r}"), 5))
    });
    let fake = FakeDocr::builder()
        .registry(registry)
        .referrers_api(false)
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let plan = crate::plan(&client, &RetentionPolicy::new().keep_last(2)).await;
    assert_eq!(plan.totals.manifests, 9, "{plan}");
    let calls = fake.calls();
    assert_eq!(calls.of_registry("GET", "referrers"), 1);
    assert_eq!(
        calls.of_registry("GET", "manifests"),
        15,
        "each manifest read once: {:?}",
        calls.registry
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn two_concurrent_plans_sharing_a_cache_both_succeed_and_leave_it_valid() {
    let (repo, _, _, _) = app("1.0");
    let (fake, client) = crate::acme_with([repo, tagged("web", 20)]).await;
    let dir = tempfile::tempdir().unwrap();
    // As two processes would: each its own handle on the directory.
    let (one, two) = (
        ManifestCache::open(dir.path()).unwrap(),
        ManifestCache::open(dir.path()).unwrap(),
    );
    let policy = untagged().keep_last(5);
    let (a, b) = tokio::join!(
        plan_with(&client, &policy, &one),
        plan_with(&client, &policy, &two)
    );
    let without = crate::plan(&client, &policy).await;
    assert_eq!(deletions(&a), deletions(&without));
    assert_eq!(deletions(&b), deletions(&without));
    assert_eq!(entries(dir.path()).len(), 27);
    fake.shutdown().await;
}

/// An empty cache is no reason for a `HEAD` per tag, however small the repository.
#[tokio::test]
async fn a_cold_cache_reads_tags_with_a_get_even_in_a_small_repository() {
    let (fake, client) = crate::acme_with([tagged("app", 1)]).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ManifestCache::open(dir.path()).unwrap();
    fake.reset_calls();
    plan_with(&client, &untagged(), &cache).await;
    let calls = fake.calls();
    assert_eq!(calls.of_registry("HEAD", "manifests"), 0, "{calls:?}");
    assert_eq!(calls.of_registry("GET", "manifests"), 1, "{calls:?}");
    // Warm: the tag resolved with a HEAD, its manifest from the cache.
    fake.reset_calls();
    plan_with(&client, &untagged(), &cache).await;
    let calls = fake.calls();
    assert_eq!(calls.of_registry("HEAD", "manifests"), 1, "{calls:?}");
    assert_eq!(calls.of_registry("GET", "manifests"), 0, "{calls:?}");
    fake.shutdown().await;
}
