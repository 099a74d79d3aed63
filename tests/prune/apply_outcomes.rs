//! What an apply does item by item when the registry or the API disagrees with its plan: an
//! index that stays keeps its children while other images still go; a delete that fails is a
//! failure, not "gone"; a repository that cannot be checked again skips its items in their
//! places; and a collection of untagged manifests after deleting from a registry of indexes is warned about.

use crate::apply::{planned, untagged};
use crate::images::long_ago;
use crate::registry_writer::Writer;
use docr::prelude::*;
use docr::{
    client::RetryPolicy, garbage_collection::GcType, prune::ApplyReport, prune::ItemOutcome,
    prune::Plan, prune::SkipReason,
};
use docr_fake::{FakeDocr, Faults, ImageSeed, IndexSeed, RepositorySeed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An untagged two-platform index a day newer than an untagged single image, both old: the
/// plan deletes the index with its children first, then the image.
pub(crate) fn index_and_lone() -> (RepositorySeed, IndexSeed, docr_fake::ManifestSeed) {
    let index = IndexSeed::new()
        .image(ImageSeed::new("amd64"))
        .image(ImageSeed::new("arm64").platform("linux", "arm64"))
        .updated_at(long_ago() + chrono::TimeDelta::days(1));
    let lone = ImageSeed::new("lone").seed().updated_at(long_ago());
    let repo = RepositorySeed::new("app")
        .index(index.clone())
        .manifest(lone.clone());
    (repo, index, lone)
}

/// A fake of `repositories` in `acme`, and a client that never retries (a 5xx is final).
async fn unretried(repositories: Vec<RepositorySeed>) -> (Arc<FakeDocr>, Client) {
    let (fake, _) = crate::acme_with(repositories).await;
    let client = fake
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    (Arc::new(fake), client)
}

/// Applies `plan`; once the first item's outcome is known, every API request fails with a 5xx.
async fn apply_then_fail_the_api(
    fake: &Arc<FakeDocr>,
    client: &Client,
    plan: &Plan,
) -> ApplyReport {
    let failing = Arc::clone(fake);
    let once = Mutex::new(false);
    client
        .apply_prune(plan)
        .concurrency(1)
        .on_item(move |_| {
            let mut done = once.lock().unwrap();
            if !*done {
                *done = true;
                failing.set_faults(Faults {
                    error_rate: 1.0,
                    ..Faults::default()
                });
            }
        })
        .send()
        .await
        .unwrap()
}

fn digests(report: &ApplyReport) -> Vec<String> {
    report
        .items
        .iter()
        .map(|i| i.item.digest.to_string())
        .collect()
}

#[tokio::test]
async fn an_index_that_stays_keeps_its_children_while_other_images_still_go() {
    let (repo, index, lone) = index_and_lone();
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &untagged()).await;
    let planned: Vec<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    let mut expected = vec![index.digest()];
    expected.extend(index.children().iter().map(|c| c.digest().to_string()));
    expected.push(lone.digest().to_string());
    assert_eq!(planned, expected, "{plan}");

    // The index is tagged after the plan: it stays, and so must its children.
    Writer::login(&fake, "app")
        .await
        .tag(&fake, "app", "hotfix", &index.digest())
        .await;
    let report = client
        .apply_prune(&plan)
        .concurrency(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        digests(&report),
        expected,
        "the report keeps the plan's order"
    );
    let outcomes: Vec<&ItemOutcome> = report.items.iter().map(|i| &i.outcome).collect();
    let moved = SkipReason::TagsChanged {
        current: vec!["hotfix".into()],
    };
    assert!(
        matches!(outcomes[0], ItemOutcome::Skipped { why } if *why == moved),
        "{report:?}"
    );
    for child in &outcomes[1..3] {
        assert!(
            matches!(
                child,
                ItemOutcome::Skipped {
                    why: SkipReason::ParentNotDeleted
                }
            ),
            "{report:?}"
        );
    }
    assert!(matches!(outcomes[3], ItemOutcome::Deleted), "{report:?}");
    let lone_bytes = report.items[3].item.compressed_size_bytes;
    assert!(lone_bytes > 1);
    assert_eq!(report.deleted_compressed_size_bytes(), lone_bytes);
    assert_eq!(
        (report.deleted(), report.skipped(), report.failed()),
        (1, 3, 0)
    );
    assert!(!report.is_complete());
    let left = crate::images::remaining(&client, "app").await;
    assert!(index.children().iter().all(|c| left.contains(c.digest())));
    assert!(!left.contains(lone.digest()));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_delete_that_fails_is_a_failure_not_gone() {
    let (repo, index, lone) = index_and_lone();
    let (fake, client) = unretried(vec![repo]).await;
    let slow = Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    };
    fake.set_faults(slow.clone());
    let plan = crate::plan(&client, &untagged()).await;
    assert_eq!(plan.totals.manifests, 4, "{plan}");

    // Once the apply's check has its registry token (its credentials obtained from the API),
    // every later API request fails with a 5xx: the check's registry reads still work, the
    // deletes do not.
    let tokens = fake.calls().of_registry("GET", "token");
    let watcher = {
        let fake = Arc::clone(&fake);
        tokio::spawn(async move {
            while fake.calls().of_registry("GET", "token") == tokens {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            fake.set_faults(Faults {
                error_rate: 1.0,
                ..slow
            });
        })
    };
    let report = client.apply_prune(&plan).send().await.unwrap();
    watcher.await.unwrap();
    assert_eq!(report.items.len(), 4);
    assert!(
        matches!(report.items[0].outcome, ItemOutcome::Failed { .. }),
        "{report:?}"
    );
    // The index failed, so its children stay; `lone`, an image of its own, failed too.
    for item in &report.items[1..3] {
        assert!(
            matches!(
                item.outcome,
                ItemOutcome::Skipped {
                    why: SkipReason::ParentNotDeleted
                }
            ),
            "{report:?}"
        );
    }
    assert_eq!(report.items[3].item.digest.as_str(), lone.digest());
    assert!(
        matches!(report.items[3].outcome, ItemOutcome::Failed { .. }),
        "{report:?}"
    );
    assert_eq!(
        (report.deleted(), report.failed(), report.skipped()),
        (0, 2, 2)
    );
    assert_eq!(report.deleted_compressed_size_bytes(), 0);
    assert!(!report.is_complete());
    fake.set_faults(Faults::default());
    let left = crate::images::remaining(&client, "app").await;
    assert!(left.contains(&index.digest()) && left.contains(lone.digest()));
}

#[tokio::test]
async fn a_repository_that_cannot_be_checked_again_skips_its_items_in_their_places() {
    let old = |name: &str| ImageSeed::new(name).seed().updated_at(long_ago());
    let first = RepositorySeed::new("a-first").manifest(old("one"));
    let second = RepositorySeed::new("b-second")
        .manifest(old("two"))
        .manifest(old("three"));
    let (fake, client) = unretried(vec![first, second]).await;
    let plan = crate::plan(&client, &untagged()).await;
    let planned: Vec<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    assert_eq!(planned.len(), 3, "{plan}");
    assert_eq!(plan.totals.manifests, 3);
    assert_eq!(plan.totals.images, 3);

    // Deleting a-first's item works; then b-second cannot be listed again.
    let report = apply_then_fail_the_api(&fake, &client, &plan).await;
    assert_eq!(digests(&report), planned, "every item in its place");
    assert!(
        matches!(report.items[0].outcome, ItemOutcome::Deleted),
        "{report:?}"
    );
    for item in &report.items[1..] {
        assert_eq!(item.item.repository.as_str(), "b-second");
        assert!(
            matches!(
                item.outcome,
                ItemOutcome::Skipped {
                    why: SkipReason::NotVerified
                }
            ),
            "{report:?}"
        );
    }
    assert_eq!(report.repository_errors.len(), 1);
    assert_eq!(report.repository_errors[0].repository.as_str(), "b-second");
    assert_eq!((report.deleted(), report.skipped()), (1, 2));
}

/// Everything the `fmt` subscriber writes while `f` runs on this thread.
async fn logs_of<F: std::future::Future>(f: F) -> String {
    let logs = crate::support::logs::LogBuffer::default();
    let _silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    f.await;
    drop(guard);
    logs.text()
}

const UNDOCUMENTED: &str = "how DigitalOcean treats an index's untagged children is not documented";

/// The warnings of applying the usual plan (an index kept, `lone` deleted) then collecting
/// `gc_type`.
async fn warnings_collecting(gc_type: GcType, with_index: bool) -> String {
    let (fake, client, plan) = if with_index {
        let (fake, client, plan, _) = planned().await;
        (fake, client, plan)
    } else {
        let lone = ImageSeed::new("lone").seed().updated_at(long_ago());
        let (fake, client) = crate::acme_with([RepositorySeed::new("app").manifest(lone)]).await;
        let plan = crate::plan(&client, &untagged()).await;
        (fake, client, plan)
    };
    assert_eq!(plan.holds_indexes(), with_index, "{plan}");
    let logs = logs_of(async {
        let report = client
            .apply_prune(&plan)
            .garbage_collect(gc_type, Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        assert_eq!(report.deleted(), 1, "{report:?}");
        assert!(report.is_complete(), "{report:?}");
    })
    .await;
    fake.shutdown().await;
    logs
}

#[tokio::test]
async fn collecting_untagged_manifests_after_deleting_from_a_registry_of_indexes_warns() {
    let untagged_gc = GcType::Both;
    assert!(
        warnings_collecting(untagged_gc, true)
            .await
            .contains(UNDOCUMENTED)
    );
    assert!(
        !warnings_collecting(GcType::UnreferencedBlobs, true)
            .await
            .contains(UNDOCUMENTED)
    );
    assert!(
        !warnings_collecting(untagged_gc, false)
            .await
            .contains(UNDOCUMENTED)
    );
}
