//! Resilience: under injected faults (5% 5xx, a burst of 429s, dropped connections, slow
//! answers; fixed seeds) a full listing, a prune (plan, then apply) and a garbage-collection
//! wait all end with the right result, and a prune deletes what it planned and nothing else.
//!
//! The client retries generously with short real backoffs and does not pace. A call that is not
//! safe to repeat (a POST) is never retried after a 5xx, and a safe one can still outlast its
//! retries: a listing or plan that ends on a `500` fails as a whole, as documented; the tests
//! then run it again, as a caller would, check that the failure was that `500` and nothing
//! else, and count the re-runs.

use chrono::{DateTime, TimeDelta, Utc};
use docr::garbage_collection::PollSchedule;
use docr::prelude::*;
use docr::{client::RetryPolicy, garbage_collection::GcType, prune::RetentionPolicy};
use docr::{prune::ApplyReport, prune::ItemOutcome, prune::Plan, prune::SkipReason};
use docr_fake::{FakeDocr, Faults, ManifestSeed, RateBudget, RegistrySeed, RepositorySeed, digest};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// The faults of every test here, from the first request on.
fn faults(seed: u64) -> Faults {
    Faults {
        latency: Duration::from_millis(3),
        error_rate: 0.05,
        burst_429: 2,
        drop_rate: 0.03,
        seed,
    }
}

/// A fake with `registry`, faults from the start, no rate budget (so every 429 is an injected
/// one), a journal long enough to count every answer, and collections that step every 50 ms.
async fn faulty_fake(registry: RegistrySeed, seed: u64) -> FakeDocr {
    FakeDocr::builder()
        .registry(registry)
        .rate_limit(RateBudget::UNLIMITED)
        .journal_length(100_000)
        .gc_step(Duration::from_millis(50))
        .faults(faults(seed))
        .start()
        .await
        .unwrap()
}

/// Generous retries with short real backoffs, no pacing.
fn patient_client(fake: &FakeDocr) -> Client {
    fake.client_builder()
        .pacing(None)
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy {
            max_attempts: 12,
            max_elapsed: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(80),
        })
        .build()
        .unwrap()
}

/// Runs `f` again while it fails with a 500 that outlasted the retries, at most 20 times. Any
/// other error fails the test. Returns the result and the re-runs.
async fn rerun_on_500<T, F, Fut>(what: &str, mut f: F) -> (T, usize)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut reruns = 0;
    loop {
        match f().await {
            Ok(value) => return (value, reruns),
            Err(e) if e.status().map(|s| s.as_u16()) == Some(500) && reruns < 20 => {
                reruns += 1;
            }
            Err(e) => panic!("{what} failed after {reruns} re-runs with more than a 500: {e:?}"),
        }
    }
}

/// What the fake answered: requests, injected 429s, 5xx by status, dropped connections.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    dropped: u64,
    too_many: usize,
    server_errors: BTreeMap<u16, usize>,
}

fn tally(fake: &FakeDocr) -> Tally {
    let calls = fake.calls();
    let journal = fake.journal();
    assert_eq!(
        journal.len() as u64,
        calls.total - calls.dropped,
        "the journal holds every answer"
    );
    let mut tally = Tally {
        requests: calls.total,
        dropped: calls.dropped,
        ..Tally::default()
    };
    for exchange in journal {
        match exchange.status {
            429 => tally.too_many += 1,
            s @ 500..=599 => *tally.server_errors.entry(s).or_default() += 1,
            _ => {}
        }
    }
    tally
}

/// Guards against a hang; no assertion is made on time.
async fn guarded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("hang guard")
}

fn base() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::hours(470_000)
}

// ---------------------------------------------------------------------------------------------
// Listing.

const BIG_MANIFESTS: usize = 90;
const TAGS_PER_MANIFEST: usize = 5;

/// `team/big`: 90 manifests of 5 tags each, 450 tags.
fn big_registry() -> RegistrySeed {
    let repo = (0..BIG_MANIFESTS).fold(RepositorySeed::new("team/big"), |repo, m| {
        repo.manifest(
            ManifestSeed::new(digest(&format!("big-{m}")))
                .tags((0..TAGS_PER_MANIFEST).map(|k| format!("t{m}-{k}")))
                .updated_at(base() + TimeDelta::minutes(m as i64))
                .blob(digest(&format!("big-layer-{m}")), 100),
        )
    });
    RegistrySeed::new("acme")
        .tier("professional")
        .repository(repo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_a_listing_arrives_once_and_in_order_under_faults() {
    let fake = faulty_fake(big_registry(), 7).await;
    let client = patient_client(&fake);
    let registry: RegistryName = "acme".parse().unwrap();
    let repository: RepositoryName = "team/big".parse().unwrap();
    let seeded: BTreeSet<String> = (0..BIG_MANIFESTS)
        .flat_map(|m| (0..TAGS_PER_MANIFEST).map(move |k| format!("t{m}-{k}")))
        .collect();

    // 65, 23 and 3 pages, 8 in flight.
    let mut listings = Vec::new();
    let mut reruns = 0;
    for per_page in [7, 20, 200] {
        let (listed, again) = guarded(rerun_on_500("the listing", || {
            client
                .list_tags(&registry, &repository)
                .per_page(per_page)
                .collect()
        }))
        .await;
        reruns += again;
        assert!(
            listed
                .iter()
                .all(|t| t.repository.as_deref() == Some("team/big"))
        );
        let names: Vec<String> = listed.into_iter().map(|t| t.tag.unwrap()).collect();
        let unique: BTreeSet<String> = names.iter().cloned().collect();
        assert_eq!(unique.len(), names.len(), "{per_page} a page: no tag twice");
        assert_eq!(unique, seeded, "{per_page} a page: every tag");
        listings.push((per_page, names));
    }
    let faulted = tally(&fake);

    // In the same order as a listing without faults.
    fake.set_faults(Faults::default());
    let calm: Vec<String> = client
        .list_tags(&registry, &repository)
        .collect()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tag.unwrap())
        .collect();
    for (per_page, names) in &listings {
        assert_eq!(names, &calm, "{per_page} a page: the server's order");
    }

    eprintln!("3 listings of 450 tags (91 pages): {faulted:?}, re-runs after a 500: {reruns}");
    // The burst's 429s were the only ones (no rate budget) and each was ridden out by a retry.
    assert_eq!(faulted.too_many, 2);
    assert!(faulted.requests >= 91 + 2, "retries happened");
}

// ---------------------------------------------------------------------------------------------
// Pruning.

/// `team/app` (40 manifests), `web` (12) and `tools/ci/runner` (4): tagged releases, builds,
/// untagged manifests, shared and own layers.
fn prune_registry() -> RegistrySeed {
    let manifest = |repo: &str, n: usize| {
        let label = format!("{repo}#{n}");
        let mut m = ManifestSeed::new(digest(&label))
            .updated_at(base() + TimeDelta::hours(n as i64))
            .blob(digest("shared-base"), 5_000)
            .blob(digest(&format!("layer:{label}")), 100 + n as u64);
        m = match n % 5 {
            0 => m,
            1 => m.tag(format!("v1.{n}")),
            _ => m.tags([format!("build-{n}"), format!("sha-{n}")]),
        };
        m
    };
    let repo = |name: &str, count: usize| {
        (0..count).fold(RepositorySeed::new(name), |r, n| {
            r.manifest(manifest(name, n))
        })
    };
    let mut app = repo("team/app", 39);
    app = app.manifest(manifest("team/app", 39).tag("latest"));
    RegistrySeed::new("acme")
        .tier("professional")
        .repository(app)
        .repository(repo("web", 12))
        .repository(repo("tools/ci/runner", 4))
}

/// Every manifest of `acme` by (repository, digest), with its sorted tags.
type State = BTreeMap<(String, String), Vec<String>>;

fn state(fake: &FakeDocr) -> State {
    fake.snapshot().registry("acme").unwrap().manifest_tags()
}

fn key(item: &docr::prune::PlannedDeletion) -> (String, String) {
    (
        item.repository.as_str().to_string(),
        item.digest.as_str().to_string(),
    )
}

/// The state after `report` must be `before` minus what was removed, and what was removed is
/// within the plan. Asserted on the state, not the labels where a label is ambiguous: a DELETE
/// retried after a lost answer may find its manifest gone (404), which apply reports as
/// `Skipped { Gone }` though it was our own delete; so `Gone` counts as removed. This fake
/// drops a connection before acting on its request, so a `Failed` delete or an item skipped
/// unverified (its repository's listing failed) is certainly still there.
fn assert_removed_only_what_was_planned(
    before: &State,
    after: &State,
    plan: &Plan,
    report: &ApplyReport,
) {
    let planned: BTreeSet<_> = plan.deletions().map(key).collect();
    let removed: BTreeSet<_> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    assert!(
        removed.is_subset(&planned),
        "removed outside the plan: {:?}",
        removed.difference(&planned).collect::<Vec<_>>()
    );
    assert!(
        after.keys().all(|k| before.contains_key(k)),
        "nothing appears"
    );
    for (k, tags) in after {
        assert_eq!(Some(tags), before.get(k), "{k:?} kept its tags");
    }
    assert_eq!(report.items.len(), planned.len(), "one outcome per item");
    let mut expected_removed = BTreeSet::new();
    for applied in &report.items {
        let k = key(&applied.item);
        match &applied.outcome {
            ItemOutcome::Deleted
            | ItemOutcome::Skipped {
                why: SkipReason::Gone,
            } => {
                expected_removed.insert(k);
            }
            ItemOutcome::Skipped {
                why: SkipReason::TagsChanged { .. },
            } => panic!("nobody else changes tags here: {k:?}"),
            _ => assert!(
                after.contains_key(&k),
                "{k:?} failed or unverified, yet gone"
            ),
        }
    }
    assert_eq!(
        removed, expected_removed,
        "before minus (planned minus kept)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_under_faults_deletes_exactly_what_it_planned() {
    let fake = faulty_fake(prune_registry(), 11).await;
    let client = patient_client(&fake);
    let registry: RegistryName = "acme".parse().unwrap();
    let policy = RetentionPolicy::new()
        .keep_last(5)
        .keep_tags_matching(r"latest|v1\..*")
        .unwrap()
        .delete_untagged(true);

    let initial = state(&fake);
    let mut first_plan: Option<BTreeSet<(String, String)>> = None;
    let (mut rounds, mut plan_reruns, mut not_deleted) = (0, 0, 0);
    loop {
        rounds += 1;
        assert!(rounds <= 6, "the prune did not converge in 5 rounds");
        let before = state(&fake);
        let (plan, reruns) = guarded(rerun_on_500("the plan", || {
            client.plan_prune(&registry, &policy).send()
        }))
        .await;
        plan_reruns += reruns;
        let planned: BTreeSet<_> = plan.deletions().map(key).collect();
        // Later rounds plan only what an earlier round left (the policy's choice is stable).
        let first = first_plan.get_or_insert_with(|| planned.clone());
        assert!(planned.is_subset(first), "round {rounds} planned more");
        if plan.is_empty() {
            break;
        }
        let report = guarded(client.apply_prune(&plan).concurrency(4).send())
            .await
            .unwrap();
        let after = state(&fake);
        assert_removed_only_what_was_planned(&before, &after, &plan, &report);
        not_deleted += report.failed() + report.skipped();
    }

    // In the end: exactly the first plan removed, everything else as seeded.
    let first = first_plan.unwrap();
    assert!(!first.is_empty() && first.len() < initial.len());
    let mut expected = initial.clone();
    for k in &first {
        expected.remove(k);
    }
    assert_eq!(state(&fake), expected);
    // What the policy protects is there: the newest 5 of each repository and the kept tags.
    let kept_tags: Vec<_> = expected.values().flatten().collect();
    assert!(kept_tags.iter().any(|t| *t == "latest"));
    assert!(kept_tags.iter().filter(|t| t.starts_with("v1.")).count() >= 8);

    let faulted = tally(&fake);
    eprintln!(
        "prune of {} manifests ({} planned) in {rounds} rounds: {faulted:?}, plan re-runs: \
         {plan_reruns}, items left for a later round: {not_deleted}",
        initial.len(),
        first.len()
    );
    assert_eq!(faulted.too_many, 2, "the burst, ridden out");
}

// ---------------------------------------------------------------------------------------------
// Garbage collection.

/// `team/app` with two manifests and registry `acme` storing three blobs nothing references.
fn gc_registry() -> RegistrySeed {
    RegistrySeed::new("acme")
        .tier("professional")
        .blob(digest("orphan-1"), 1_000)
        .blob(digest("orphan-2"), 2_000)
        .blob(digest("orphan-3"), 4_000)
        .repository(
            RepositorySeed::new("team/app")
                .manifest(
                    ManifestSeed::new(digest("app-1"))
                        .tag("v1")
                        .blob(digest("base"), 10_000)
                        .blob(digest("l1"), 100),
                )
                .manifest(ManifestSeed::new(digest("app-0")).blob(digest("base"), 10_000)),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_collection_wait_under_faults_ends_in_success() {
    let fake = faulty_fake(gc_registry(), 17).await;
    let client = patient_client(&fake);
    let registry: RegistryName = "acme".parse().unwrap();
    let manifests_before = state(&fake);

    // A start is a POST: never repeated by the client after a 5xx or a lost connection (the
    // server may have acted). This fake acts on no request it faults, so the caller may start
    // again; the registry must then hold exactly one collection.
    let mut start_failures = 0;
    let started = loop {
        match guarded(
            client
                .start_garbage_collection(&registry)
                .gc_type(GcType::UnreferencedBlobs)
                .send(),
        )
        .await
        {
            Ok(started) => break started,
            Err(e) => {
                let ambiguous = matches!(e, Error::Transport(_))
                    || e.status().is_some_and(|s| s.is_server_error());
                assert!(ambiguous, "a start fails only ambiguously here: {e:?}");
                start_failures += 1;
                assert!(start_failures <= 8, "no start got through");
            }
        }
    };
    assert!(!started.attached);

    let (tx, rx) = std::sync::mpsc::channel();
    let done = guarded(
        client
            .wait_for_garbage_collection(&registry, &started.uuid)
            .poll_schedule(PollSchedule {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(40),
                share_of_elapsed: 0.125,
            })
            .on_status(move |gc| {
                let _ = tx.send(gc.status.clone().unwrap_or_default());
            })
            .wait(Duration::from_secs(30)),
    )
    .await
    .expect("the collection succeeds despite the faults");
    let seen: Vec<String> = rx.try_iter().collect();

    assert_eq!(done.uuid.as_deref(), Some(started.uuid.as_str()));
    assert_eq!(done.status.as_deref(), Some("succeeded"));
    assert_eq!(done.blobs_deleted, Some(3));
    assert_eq!(done.freed_bytes, Some(7_000));
    assert_eq!(seen.last().map(String::as_str), Some("succeeded"));

    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").unwrap();
    assert_eq!(acme.garbage_collections.len(), 1, "exactly one collection");
    assert_eq!(acme.garbage_collections[0].status, "succeeded");
    let blobs: BTreeSet<&str> = acme.blobs.iter().map(|b| b.digest.as_str()).collect();
    let referenced: BTreeSet<String> = [digest("base"), digest("l1")].into();
    assert_eq!(
        blobs,
        referenced.iter().map(String::as_str).collect(),
        "the orphans went, the referenced blobs stayed"
    );
    assert_eq!(state(&fake), manifests_before, "manifests untouched");

    let faulted = tally(&fake);
    eprintln!(
        "garbage collection: {faulted:?}, start failures: {start_failures}, statuses seen: {seen:?}"
    );
    assert_eq!(faulted.too_many, 2, "the burst, ridden out");
    let injected = faulted.dropped + faulted.server_errors.values().sum::<usize>() as u64;
    assert!(
        start_failures <= injected,
        "a start failed only where a fault was injected"
    );
}
