//! Garbage collection in `docr_fake`: every status in order, what each type frees (and that
//! `blobs_deleted`/`freed_bytes` say exactly that), one at a time, cancelling, and where a
//! collection shows once it has ended.

use crate::support::calls::At;
use crate::support::{
    acme, assert_do_error, assert_journal_conforms, call, collect, plain_client, registry,
};
use docr::garbage_collection::PollSchedule;
use docr::prelude::*;
use docr::types;
use docr::{client::ApiFamily, garbage_collection::GcType};
use docr_fake::{FakeDocr, digest};
use std::time::Duration;

async fn fake_with_step(step: Duration) -> FakeDocr {
    FakeDocr::builder()
        .registry(acme())
        .gc_step(step)
        .start()
        .await
        .unwrap()
}

async fn run(
    client: &Client,
    gc_type: Option<types::RegistryRunGcType>,
) -> types::GarbageCollection {
    let response = client
        .registries_run_garbage_collection()
        .registry_name("acme")
        .body_map(|b| b.type_(gc_type))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.into_inner().garbage_collection.unwrap()
}

#[tokio::test]
async fn a_collection_goes_through_every_status_and_frees_unreferenced_blobs() {
    let step = Duration::from_millis(250);
    let fake = fake_with_step(step).await;
    let client = plain_client(&fake);
    let acme = registry("acme");
    At::current(&client, &acme)
        .delete_manifest("team/app", digest("app-0"))
        .await
        .unwrap();

    let started = run(&client, None).await;
    let uuid = started.uuid.clone().unwrap();
    let mut seen = vec![started.status.clone().unwrap()];
    let deadline = tokio::time::Instant::now() + step * 40;
    loop {
        match client
            .active_garbage_collection(&acme, ApiFamily::Registries)
            .await
            .unwrap()
        {
            Some(gc) => {
                assert_eq!(gc.uuid.as_deref(), Some(uuid.as_str()));
                let status = gc.status.unwrap();
                if seen.last() != Some(&status) {
                    seen.push(status);
                }
            }
            None => break,
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still running: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        seen,
        [
            "requested",
            "waiting for write JWTs to expire",
            "waiting for delete requests",
            "scanning manifests",
            "deleting unreferenced blobs",
        ]
    );

    // Over: the active-collection call answers 404; the list shows how it ended.
    let active = call(&fake, "GET", "/v2/registries/acme/garbage-collection", None).await;
    assert_do_error(&active, 404, "not_found");
    let listed = At::current(&client, &acme).collections().await;
    let done = &listed.garbage_collections[0];
    assert_eq!(done.status.as_deref(), Some("succeeded"));
    // app-0's own blobs (l0: 50, cfg0: 7) and the seeded orphan (11); `base` is still shared.
    assert_eq!((done.blobs_deleted, done.freed_bytes), (Some(3), Some(68)));
    let span = done.updated_at.unwrap() - done.created_at.unwrap();
    assert_eq!(span.to_std().unwrap(), step * 5);
    let acme_now = fake.snapshot().registry("acme").cloned().unwrap();
    assert_eq!(acme_now.storage_usage_bytes, 1668 - 68);
    assert!(!acme_now.has_blob(&digest("l0")) && acme_now.has_blob(&digest("base")));
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn the_waiter_follows_a_collection_to_its_end() {
    let fake = fake_with_step(Duration::from_millis(20)).await;
    let client = plain_client(&fake);
    let acme = registry("acme");
    let every_5_ms = PollSchedule {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(5),
        share_of_elapsed: 0.0,
    };
    let done = collect(&client, &acme, GcType::Both, every_5_ms).await;
    assert_eq!(done.status.as_deref(), Some("succeeded"));
    // Untagged app-0 goes, then every blob no manifest references: l0, cfg0, orphan.
    assert_eq!((done.blobs_deleted, done.freed_bytes), (Some(3), Some(68)));
}

#[tokio::test]
async fn each_type_frees_what_it_should() {
    let cases = [
        (types::RegistryRunGcType::UnreferencedBlobsOnly, 3, (1, 11)),
        (types::RegistryRunGcType::UntaggedManifestsOnly, 2, (0, 0)),
        (
            types::RegistryRunGcType::UntaggedManifestsAndUnreferencedBlobs,
            2,
            (3, 68),
        ),
    ];
    for (gc_type, manifests_left, (blobs, bytes)) in cases {
        let fake = fake_with_step(Duration::ZERO).await;
        let client = plain_client(&fake);
        let done = run(&client, Some(gc_type)).await;
        assert_eq!(done.status.as_deref(), Some("succeeded"), "{gc_type}");
        assert_eq!(
            (done.blobs_deleted, done.freed_bytes),
            (Some(blobs), Some(bytes)),
            "{gc_type}"
        );
        let snapshot = fake.snapshot();
        let acme = snapshot.registry("acme").unwrap();
        assert_eq!(
            acme.repository("team/app").unwrap().manifests.len(),
            manifests_left
        );
        assert_eq!(acme.storage_usage_bytes, 1668 - bytes as u64, "{gc_type}");
        let record = &acme.garbage_collections[0];
        assert_eq!(
            (record.blobs_deleted, record.freed_bytes),
            (blobs as u64, bytes as u64)
        );
    }
}

#[tokio::test]
async fn blobs_shared_with_other_repositories_survive() {
    let fake = fake_with_step(Duration::ZERO).await;
    let client = plain_client(&fake);
    client
        .registries_delete_repository()
        .registry_name("acme")
        .repository_name("team/app")
        .send()
        .await
        .unwrap();
    let done = run(&client, None).await;
    // team/app's own blobs (l2 200, l1 100, l0 50, cfg0 7) and the orphan (11); web keeps base.
    assert_eq!((done.blobs_deleted, done.freed_bytes), (Some(5), Some(368)));
    let acme = fake.snapshot().registry("acme").cloned().unwrap();
    let left: Vec<_> = acme.blobs.iter().map(|b| b.compressed_size_bytes).collect();
    assert_eq!(left.iter().sum::<u64>(), 1300);
}

#[tokio::test]
async fn one_collection_at_a_time_and_cancelling_frees_nothing() {
    let step = Duration::from_millis(100);
    let fake = fake_with_step(step).await;
    let client = plain_client(&fake);
    let first = run(&client, None).await;
    let uuid = first.uuid.unwrap();

    let second = call(
        &fake,
        "POST",
        "/v2/registries/acme/garbage-collection",
        Some("{}"),
    )
    .await;
    assert_do_error(&second, 409, "conflict");

    let body = r#"{"cancel": true}"#;
    let path = format!("/v2/registries/acme/garbage-collection/{uuid}");
    let cancelling = call(&fake, "PUT", &path, Some(body)).await;
    assert_eq!(cancelling.status, 200);
    assert_eq!(
        cancelling.body.unwrap()["garbage_collection"]["status"],
        "cancelling"
    );
    tokio::time::sleep(step * 2).await;
    let over = call(&fake, "GET", "/v2/registries/acme/garbage-collection", None).await;
    assert_do_error(&over, 404, "not_found");
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").unwrap();
    assert_eq!(acme.garbage_collections[0].status, "cancelled");
    assert_eq!(acme.storage_usage_bytes, 1668);

    let late = call(&fake, "PUT", &path, Some(body)).await;
    assert_do_error(&late, 409, "conflict");
    let unknown = call(
        &fake,
        "PUT",
        "/v2/registries/acme/garbage-collection/00000000-0000-4000-8000-000000000000",
        Some(body),
    )
    .await;
    assert_do_error(&unknown, 404, "not_found");
    let bad_type = call(
        &fake,
        "POST",
        "/v2/registries/acme/garbage-collection",
        Some(r#"{"type": "everything"}"#),
    )
    .await;
    assert_do_error(&bad_type, 422, "unprocessable_entity");

    // A new one may start now; the list is newest first.
    let next = run(&client, None).await;
    let listed = call(
        &fake,
        "GET",
        "/v2/registries/acme/garbage-collections?per_page=1",
        None,
    )
    .await;
    let listed = listed.body.unwrap();
    assert_eq!(
        listed["garbage_collections"][0]["uuid"],
        next.uuid.unwrap().as_str()
    );
    assert_eq!(listed["meta"]["total"], 2);
    let next_page = listed["links"]["pages"]["next"].as_str().unwrap();
    assert_eq!(
        next_page,
        format!(
            "{}/v2/registries/acme/garbage-collections?page=2&per_page=1",
            fake.url()
        )
    );
    assert_journal_conforms(&fake);
}
