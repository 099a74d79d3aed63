//! The registry reader's credentials over time, against the embedded DOCR: renewed before
//! they expire, renewed once when the registry or its realm refuses them, and a second refusal
//! an error that names the registry and holds no secret.

use crate::apply::untagged;
use crate::images::long_ago;
use docr::prelude::*;
use docr::{client::TestClock, prune::ItemOutcome, prune::PruneExt, registry::RegistryExt};
use docr_fake::{FakeDocr, Faults, ImageSeed, RegistrySeed, RepositorySeed};
use std::time::{Duration, Instant, SystemTime};

/// The operation that issues docker credentials.
const DOCKER_CREDENTIALS: &str = "registries_get_dockerCredentials";

/// `acme` with `count` repositories `svc-<n>`, each holding a tagged image and an untagged
/// one from long ago (the one "delete untagged" deletes).
fn services(count: usize) -> RegistrySeed {
    (0..count).fold(RegistrySeed::new("acme"), |registry, n| {
        registry.repository(
            RepositorySeed::new(format!("svc-{n}"))
                .manifest(ImageSeed::new(format!("keep-{n}")).seed().tag("1.0"))
                .manifest(
                    ImageSeed::new(format!("old-{n}"))
                        .seed()
                        .updated_at(long_ago()),
                ),
        )
    })
}

#[tokio::test]
async fn credentials_that_live_two_seconds_across_an_apply_of_ten() {
    // Asked for an hour, granted two seconds; every answer 100 ms away, so that one
    // repository after another the apply lasts several lifetimes of its credentials.
    let fake = FakeDocr::builder()
        .registry(services(10))
        .credentials_lifetime(Duration::from_secs(2))
        .faults(Faults {
            latency: Duration::from_millis(100),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let plan = client
        .plan_prune(&crate::acme(), untagged())
        .send()
        .await
        .unwrap();
    assert_eq!(plan.deletions().count(), 10, "{plan}");
    assert_eq!(plan.totals.blocked_repositories, 0, "{plan}");

    let before = fake.calls().of(DOCKER_CREDENTIALS);
    let started = Instant::now();
    let report = client
        .apply_prune(&plan)
        .concurrency(1)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(
        took > Duration::from_secs(4),
        "the apply took only {took:?}"
    );
    assert!(report.repository_errors.is_empty(), "{report:?}");
    assert_eq!(report.items.len(), 10, "{report:?}");
    for item in &report.items {
        assert!(matches!(item.outcome, ItemOutcome::Deleted), "{report:?}");
    }
    let renewals = fake.calls().of(DOCKER_CREDENTIALS) - before;
    assert!(renewals >= 2, "{renewals} credentials over {took:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn repositories_read_at_once_are_challenged_once_in_all() {
    // Every answer 50 ms away, so that the eight first reads are all on the wire before any
    // challenge comes back, unless they wait for the first.
    let fake = FakeDocr::builder()
        .registry(services(8))
        .faults(Faults {
            latency: Duration::from_millis(50),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let reader = client.registry_reader(&crate::acme());
    let repositories: Vec<RepositoryName> = (0..8)
        .map(|n| format!("svc-{n}").parse().unwrap())
        .collect();
    let tags = futures::future::join_all(repositories.iter().map(|r| reader.tags(r))).await;
    for read in tags {
        assert_eq!(read.unwrap(), ["1.0"]);
    }
    let calls = fake.calls();
    assert_eq!(
        calls.unauthorized_of_registry("GET", "tags"),
        1,
        "{calls:?}"
    );
    // One token a repository, one read each, and the one read sent again with its token.
    assert_eq!(calls.of_registry("GET", "token"), 8, "{calls:?}");
    assert_eq!(calls.of_registry("GET", "tags"), 9, "{calls:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_reader_renews_its_credentials_before_they_expire() {
    let fake = FakeDocr::builder()
        .registry(services(2))
        .start()
        .await
        .unwrap();
    // The virtual clock times the renewals; the fake's own two seconds (real time) are not
    // reached while the test runs.
    let clock = TestClock::starting_at(SystemTime::now());
    let client = fake
        .client_builder()
        .clock(clock.clone())
        .pacing(None)
        .registry_credentials_expiry(Duration::from_secs(2))
        .build()
        .unwrap();
    let reader = client.registry_reader(&crate::acme());
    let repositories: Vec<RepositoryName> = ["svc-0", "svc-1"]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    // Reads at 0, 0.7, ... 4.2 s: credentials at 0, then at 2.1 and 4.2 (each due at 1.8 s).
    for _ in 0..7 {
        for repository in &repositories {
            assert_eq!(reader.tags(repository).await.unwrap(), ["1.0"]);
        }
        clock.advance(Duration::from_millis(700));
    }
    let calls = fake.calls();
    assert_eq!(calls.of(DOCKER_CREDENTIALS), 3, "{calls:?}");
    assert_eq!(calls.of_registry("GET", "token"), 6, "{calls:?}");
    // Challenged once in all (the second repository's token is bought at the realm the
    // first challenge named); afterwards every token is bought before it is needed.
    assert_eq!(
        calls.unauthorized_of_registry("GET", "tags"),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.unauthorized_of_registry("GET", "token"),
        0,
        "{calls:?}"
    );
    assert_eq!(calls.of_registry("GET", "tags"), 1 + 7 * 2);
    let asked: Vec<String> = fake
        .journal()
        .into_iter()
        .filter(|e| e.operation_id.as_deref() == Some(DOCKER_CREDENTIALS))
        .map(|e| e.path_and_query)
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(
        asked.iter().all(|p| p.contains("expiry_seconds=2")),
        "{asked:?}"
    );
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    fake.shutdown().await;
}

#[tokio::test]
async fn credentials_refused_again_after_renewal_are_an_error_not_a_loop() {
    // Every credential is issued already expired.
    let fake = FakeDocr::builder()
        .registry(services(1))
        .credentials_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let reader = client.registry_reader(&crate::acme());
    let error = reader.tags(&"svc-0".parse().unwrap()).await.unwrap_err();
    let text = format!("{error} | {error:?} | {reader:?}");
    assert!(text.contains("acme/svc-0"), "{text}");
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("fresh credentials"), "{text}");
    let calls = fake.calls();
    assert_eq!(calls.of(DOCKER_CREDENTIALS), 2, "{calls:?}");
    assert_eq!(calls.unauthorized_of_registry("GET", "token"), 2);
    assert_eq!(calls.of_registry("GET", "tags"), 1, "{calls:?}");
    // Neither the API token nor the credentials (their user, their base64) show.
    let issued = fake.snapshot().credentials;
    assert_eq!(issued.len(), 2);
    assert!(!text.contains(fake.token()), "{text}");
    for credentials in &issued {
        assert!(!text.contains(&credentials.username), "{text}");
    }
    assert!(!text.contains("read-only"), "{text}");
    assert!(!text.to_lowercase().contains("basic "), "{text}");
    fake.shutdown().await;
}
