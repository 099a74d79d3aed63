//! Pruning by image against the embedded DOCR's registry: an index keeps its children,
//! attestations and referrers; an unreadable manifest blocks its repository; deleting an image
//! deletes its closure, the index first.

use docr::prelude::*;
use docr::{pagination::ListExt, prune::ItemOutcome, prune::ManifestRole, prune::RetentionPolicy};
use docr_fake::{FakeDocr, ImageSeed, IndexSeed, ManifestSeed, RegistrySeed, RepositorySeed};
use std::collections::BTreeSet;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

pub fn long_ago() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(19_000)
}

/// `app`: a tagged multi-arch index (two platforms, attestations) with an SBOM referring to
/// it, and an untagged single-platform image.
pub fn app(tag: &str) -> (RepositorySeed, IndexSeed, ManifestSeed, ManifestSeed) {
    let index = two_platforms().attestations().tag(tag);
    let lone = ImageSeed::new("lone").seed().updated_at(long_ago());
    let sbom = sbom_of(&index);
    let repo = RepositorySeed::new("app")
        .index(index.clone())
        .manifest(lone.clone())
        .manifest(sbom.clone());
    (repo, index, lone, sbom)
}

/// An untagged OCI index of two platforms (amd64, arm64), updated long ago.
fn two_platforms() -> IndexSeed {
    IndexSeed::new()
        .image(ImageSeed::new("amd64"))
        .image(ImageSeed::new("arm64").platform("linux", "arm64"))
        .updated_at(long_ago())
}

/// An SBOM referring to `index`, updated long ago.
fn sbom_of(index: &IndexSeed) -> ManifestSeed {
    ImageSeed::new("sbom")
        .artifact_type("application/spdx+json")
        .subject(&index.seed())
        .seed()
        .updated_at(long_ago())
}

pub async fn remaining(client: &Client, repository: &str) -> BTreeSet<String> {
    let registry = crate::acme();
    client
        .list_manifests(&registry, &repository.parse().unwrap())
        .collect()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| m.digest)
        .collect()
}

#[tokio::test]
async fn untagged_children_of_a_kept_index_are_never_deleted() {
    let (repo, index, lone, sbom) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let planned: Vec<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    assert_eq!(planned, [lone.digest()], "{plan}");
    assert_eq!(plan.repositories[0].indexes, 1);

    let report = client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(report.deleted(), 1);
    let left = remaining(&client, "app").await;
    let mut kept: BTreeSet<String> = index
        .children()
        .iter()
        .map(|c| c.digest().to_string())
        .collect();
    kept.insert(index.digest());
    kept.insert(sbom.digest().to_string());
    assert_eq!(
        left, kept,
        "the index, its platforms, attestations and SBOM stay"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn an_old_index_goes_with_its_whole_closure_index_first() {
    let (repo, index, lone, sbom) = app("0.9");
    let (fake, client) = crate::acme_with([repo]).await;
    // The age limit alone selects tagged images; untagged ones need their own switch.
    let policy = RetentionPolicy::new().older_than(DAY).grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    assert!(
        plan.deletions().all(|d| d.digest.as_str() != lone.digest()),
        "{plan}"
    );
    let policy = policy.delete_untagged(true);
    let plan = crate::plan(&client, &policy).await;
    let rows: Vec<_> = plan.deletions().collect();
    let index_row = rows
        .iter()
        .position(|d| d.digest.as_str() == index.digest())
        .expect("the index is planned");
    for child in index.children() {
        let at = rows
            .iter()
            .position(|d| d.digest.as_str() == child.digest())
            .expect("every child is planned with its index");
        assert!(at > index_row, "the index is deleted before its children");
        assert_ne!(rows[at].role, ManifestRole::Image);
        assert_eq!(rows[at].image.as_str(), index.digest());
    }
    let sbom_row = rows
        .iter()
        .find(|d| d.digest.as_str() == sbom.digest())
        .expect("the SBOM goes too");
    assert!(matches!(sbom_row.role, ManifestRole::Referrer { .. }));
    assert!(rows.iter().any(|d| d.digest.as_str() == lone.digest()));
    assert!(plan.totals.gc_frees_bytes > 0, "{plan}");

    let report = client.apply_prune(&plan).send().await.unwrap();
    assert!(
        report
            .items
            .iter()
            .all(|i| matches!(i.outcome, ItemOutcome::Deleted)),
        "{report:?}"
    );
    assert!(remaining(&client, "app").await.is_empty());
    fake.shutdown().await;
}

#[tokio::test]
async fn a_manifest_the_registry_cannot_serve_blocks_its_repository_only() {
    let (repo, _, lone, _) = app("1.0");
    let unreadable = ManifestSeed::new(format!("sha256:{}", "e".repeat(64))).updated_at(long_ago());
    let other = ImageSeed::new("other").seed().updated_at(long_ago());
    let fake = FakeDocr::builder()
        .registry(
            RegistrySeed::new("acme").repository(repo).repository(
                RepositorySeed::new("broken")
                    .manifest(unreadable)
                    .manifest(other.clone()),
            ),
        )
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let broken = plan
        .repositories
        .iter()
        .find(|r| r.repository.as_str() == "broken")
        .unwrap();
    assert!(
        broken.delete.is_empty() && !broken.blocked.is_empty(),
        "{plan}"
    );
    assert_eq!(plan.totals.blocked_repositories, 1);
    let planned: Vec<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    assert_eq!(planned, [lone.digest()]);
    client.apply_prune(&plan).send().await.unwrap();
    assert!(
        remaining(&client, "broken").await.contains(other.digest()),
        "nothing deleted in doubt"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_manifest_listed_since_the_plan_that_cannot_be_read_stops_its_repository_at_apply() {
    let unreadable = ManifestSeed::new(format!("sha256:{}", "e".repeat(64))).updated_at(long_ago());
    let old = ImageSeed::new("old").seed().updated_at(long_ago());
    let fake = FakeDocr::builder()
        .registry(
            RegistrySeed::new("acme").repository(
                RepositorySeed::new("app")
                    .manifest(unreadable.clone())
                    .manifest(old.clone()),
            ),
        )
        .start()
        .await
        .unwrap();
    // The plan's listing does not show the unreadable manifest yet; apply's does.
    fake.lag_listing("acme", "app", [unreadable.digest()]);
    let client = fake.client().unwrap();
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let planned: Vec<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    assert_eq!(planned, [old.digest()], "{plan}");
    fake.catch_up();

    let report = client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(report.repository_errors.len(), 1, "{report:?}");
    let error = &report.repository_errors[0].error;
    let docr::Error::NotRechecked { repository, reason } = error else {
        panic!("{error:?}");
    };
    assert_eq!(repository, "app");
    let why = reason
        .downcast_ref::<docr::prune::BlockReason>()
        .unwrap_or_else(|| panic!("{reason:?}"));
    assert!(
        matches!(why, docr::prune::BlockReason::ManifestUnreadable { digest, .. }
            if digest.as_str() == unreadable.digest()),
        "{why:?}"
    );
    assert!(
        remaining(&client, "app").await.contains(old.digest()),
        "nothing deleted in doubt"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn an_image_in_use_or_in_the_grace_window_is_kept() {
    let (repo, index, lone, _) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let registry = crate::acme();
    // A platform digest, as `kubectl get pods` reports in imageID, protects its whole index.
    let child = index.children()[0].digest().to_string();
    let in_use: ImageReference = format!("registry.digitalocean.com/acme/app@{child}")
        .parse()
        .unwrap();
    let policy = RetentionPolicy::new()
        .older_than(DAY)
        .grace(Duration::ZERO)
        .keep_images([in_use, format!("app@{}", lone.digest()).parse().unwrap()]);
    let plan = crate::plan(&client, &policy).await;
    assert!(
        plan.deletions()
            .all(|d| d.digest.as_str() != index.digest() && d.digest.as_str() != lone.digest()),
        "{plan}"
    );
    let protected: Vec<String> = plan.repositories[0]
        .images
        .iter()
        .filter(|i| matches!(i.verdict, docr::prune::Verdict::Protected(_)))
        .map(|i| i.verdict.to_string())
        .collect();
    assert!(
        protected.iter().any(|p| p.contains("in use: ")),
        "{protected:?}"
    );

    // Untagged and young (seeded now, without an age): never deleted in the default hour.
    let fresh = FakeDocr::builder()
        .registry(
            RegistrySeed::new("acme")
                .repository(RepositorySeed::new("app").manifest(ImageSeed::new("pushing").seed())),
        )
        .start()
        .await
        .unwrap();
    let policy = RetentionPolicy::new().delete_untagged(true);
    let plan = fresh
        .client()
        .unwrap()
        .plan_prune(&registry, &policy)
        .send()
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
    fake.shutdown().await;
    fresh.shutdown().await;
}

#[tokio::test]
async fn a_listing_that_lags_the_registry_still_plans_whole_images() {
    let index = two_platforms();
    let sbom = sbom_of(&index);
    let repo = RepositorySeed::new("app")
        .index(index.clone())
        .manifest(sbom.clone());
    let (fake, client) = crate::acme_with([repo]).await;
    // The API lists the index only: its platforms and its SBOM are at the registry alone.
    let children: Vec<String> = index
        .children()
        .iter()
        .map(|c| c.digest().to_string())
        .collect();
    let hidden = children.iter().cloned().chain([sbom.digest().to_string()]);
    fake.lag_listing("acme", "app", hidden);
    assert_eq!(
        remaining(&client, "app").await,
        BTreeSet::from([index.digest()])
    );

    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let planned: BTreeSet<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    let mut whole: BTreeSet<String> = children.into_iter().collect();
    whole.insert(index.digest());
    whole.insert(sbom.digest().to_string());
    assert_eq!(
        planned, whole,
        "the image with what the registry alone shows: {plan}"
    );
    assert_eq!(plan.totals.images, 1);
    let roles: Vec<&ManifestRole> = plan.deletions().map(|d| &d.role).collect();
    assert_eq!(roles[0], &ManifestRole::Image, "the index first: {plan}");

    fake.catch_up();
    assert_eq!(remaining(&client, "app").await.len(), 4);
    fake.shutdown().await;
}

#[tokio::test]
async fn a_plan_reads_a_repository_at_most_its_read_concurrency_at_once() {
    let repo = (0..40).fold(RepositorySeed::new("app"), |repo, n| {
        repo.manifest(
            ImageSeed::new(format!("image-{n}"))
                .seed()
                .tag(format!("1.{n}")),
        )
    });
    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme").repository(repo))
        .faults(docr_fake::Faults {
            latency: Duration::from_millis(20),
            ..docr_fake::Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = fake.client_builder().max_in_flight(None).build().unwrap();
    let plan = crate::plan(&client, &RetentionPolicy::new().keep_last(1)).await;
    assert_eq!(plan.totals.manifests, 39, "{plan}");
    // 40 tags, 40 referrers calls: plenty to fill the queue.
    let peak = fake.calls().registry_peak_in_flight;
    assert!(
        (2..=docr::prune::DEFAULT_READ_CONCURRENCY as u64).contains(&peak),
        "{peak} registry requests at once"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_plan_lists_its_repositories_in_name_order_whichever_is_read_first() {
    // `a-big` (120 images) is planned beside `b-small` (one) and is read last; the plan still
    // lists it first.
    let big = (0..120).fold(RepositorySeed::new("a-big"), |repo, n| {
        repo.manifest(
            ImageSeed::new(format!("big-{n}"))
                .seed()
                .tag(format!("v{n}")),
        )
    });
    let small = RepositorySeed::new("b-small").manifest(ImageSeed::new("small").seed().tag("v1"));
    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme").repository(big).repository(small))
        .start()
        .await
        .unwrap();
    let plan = fake
        .client()
        .unwrap()
        .plan_prune(&crate::acme(), RetentionPolicy::new().keep_last(100))
        .send()
        .await
        .unwrap();
    let names: Vec<String> = plan
        .repositories
        .iter()
        .map(|r| r.repository.to_string())
        .collect();
    assert_eq!(names, ["a-big", "b-small"]);
    assert_eq!(plan.repositories[0].images.len(), 120);
    assert_eq!(plan.deletions().count(), 20, "{plan}");
    fake.shutdown().await;
}
