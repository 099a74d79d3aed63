//! `gc start|status|list|cancel`.

use super::*;

#[tokio::test]
async fn gc_start_without_wait_shows_the_requested_collection_or_joins_it() {
    let (fake, docr) = demo_with_docr().await;

    let table = docr.ok("gc start -f acme").await;
    let gcs = collections(&fake, "acme");
    assert_eq!(gcs.len(), 1);
    assert_eq!(gcs[0].status, "requested");
    assert_eq!(table.first_column(), ["UUID", gcs[0].uuid.as_str()]);
    assert!(
        table.lines()[1].contains("requested") && table.lines()[1].contains("unreferenced blobs"),
        "{}",
        table.stdout
    );

    // A second start joins the running one.
    let joined = docr
        .json("gc start -f acme --type untagged-manifests")
        .await;
    assert_eq!(items(&joined).len(), 1);
    assert_eq!(joined[0]["uuid"], gcs[0].uuid.as_str());
    assert_eq!(collections(&fake, "acme").len(), 1);

    let started = docr.json("gc start -f acme-staging --type both").await;
    let staging_gcs = collections(&fake, "acme-staging");
    assert_eq!(staging_gcs.len(), 1);
    assert_eq!(started[0]["uuid"], staging_gcs[0].uuid.as_str());
    assert_eq!(started[0]["status"], "requested");
    assert_eq!(started[0]["type"], staging_gcs[0].gc_type.as_str());
}

#[tokio::test]
async fn gc_start_wait_follows_every_status_to_the_end() {
    let fake = demo_stepping().await;
    let docr = Docr::new(fake.url());
    let left_behind = digest("layer:left-behind");
    assert!(
        fake.snapshot()
            .registry("acme-staging")
            .expect("demo")
            .has_blob(&left_behind)
    );

    let run = docr.ok("gc start -f acme-staging --wait").await;
    let snapshot = fake.snapshot();
    let staging = snapshot.registry("acme-staging").expect("demo");
    let gc = &staging.garbage_collections[0];
    assert_eq!(gc.status, "succeeded");
    assert_eq!((gc.blobs_deleted, gc.freed_bytes), (1, 12_345_678));
    assert!(!staging.has_blob(&left_behind));
    assert_eq!(
        run.stderr,
        format!("started garbage collection {}\n", gc.uuid)
    );
    assert_eq!(
        run.stdout,
        format!(
            "garbage collection {} succeeded: 1 blobs deleted, 11.8 MiB freed\n",
            gc.uuid
        )
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));

    // As JSON: the finished collection, one document.
    let done = docr.json("gc start -f acme --wait --type both").await;
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").expect("demo");
    let gc = &acme.garbage_collections[0];
    assert_eq!(done["uuid"], gc.uuid.as_str());
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["blobs_deleted"], json!(gc.blobs_deleted));
    assert_eq!(done["freed_bytes"], json!(gc.freed_bytes));
    assert!(gc.blobs_deleted > 0);
    assert!(
        acme.repositories
            .iter()
            .all(|r| r.manifests.iter().all(|m| !m.tags.is_empty())),
        "`both` removes the untagged manifests"
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));
}

#[tokio::test]
async fn gc_status_shows_the_running_collection_or_says_none_is() {
    let (fake, docr) = demo_with_docr().await;

    let none = docr.ok("gc status acme").await;
    assert_eq!(none.stdout, "no garbage collection is running on acme\n");
    assert_eq!(docr.json("gc status acme").await, Value::Null);

    docr.ok("gc start -f acme").await;
    let uuid = collections(&fake, "acme")[0].uuid.clone();
    let table = docr.ok("gc status acme").await;
    assert_eq!(table.first_column(), ["UUID", uuid.as_str()]);
    let running = docr.json("gc status acme").await;
    assert_eq!(running[0]["uuid"], uuid.as_str());
    assert_eq!(running[0]["status"], "requested");
}

#[tokio::test]
async fn gc_list_shows_every_collection_of_a_registry() {
    let fake = start(builder().demo_data().gc_step(Duration::ZERO)).await;
    let docr = Docr::new(fake.url());

    let empty = docr.ok("gc list acme").await;
    assert_eq!(empty.first_column(), ["UUID"]);
    assert_eq!(docr.json("gc list acme").await, json!([]));

    docr.ok("gc start -f acme --type untagged-manifests").await;
    docr.ok("gc start -f acme").await;
    let expected: BTreeMap<String, (String, String, u64, u64)> = collections(&fake, "acme")
        .iter()
        .map(|gc| {
            (
                gc.uuid.clone(),
                (
                    gc.status.clone(),
                    gc.gc_type.clone(),
                    gc.blobs_deleted,
                    gc.freed_bytes,
                ),
            )
        })
        .collect();
    assert_eq!(expected.len(), 2);

    let listed = docr.json("gc list acme").await;
    let got: BTreeMap<String, (String, String, u64, u64)> = items(&listed)
        .iter()
        .map(|gc| {
            (
                text(&gc["uuid"]),
                (
                    text(&gc["status"]),
                    text(&gc["type"]),
                    number(&gc["blobs_deleted"]),
                    number(&gc["freed_bytes"]),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);

    let table = docr.ok("gc list acme").await;
    let mut uuids = table.first_column();
    assert_eq!(uuids.remove(0), "UUID");
    uuids.sort_unstable();
    assert_eq!(uuids, expected.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn gc_cancel_cancels_the_running_or_the_named_collection() {
    let (fake, docr) = demo_with_docr().await;

    let why = docr.refused("gc cancel acme").await;
    assert_eq!(why, "no garbage collection is running on acme");
    assert_eq!(fake.calls().of("registries_update_garbage_collection"), 0);

    // Without a UUID: the running one.
    docr.ok("gc start -f acme").await;
    let uuid = collections(&fake, "acme")[0].uuid.clone();
    let cancelled = docr.ok("gc cancel acme").await;
    assert_eq!(cancelled.first_column(), ["UUID", uuid.as_str()]);
    assert!(
        cancelled.lines()[1].contains("cancelling"),
        "{}",
        cancelled.stdout
    );
    assert_eq!(collections(&fake, "acme")[0].status, "cancelling");

    // With a UUID.
    let started = docr.json("gc start -f acme-staging").await;
    let uuid = text(&started[0]["uuid"]);
    let cancelled = docr.json(&format!("gc cancel acme-staging {uuid}")).await;
    assert_eq!(cancelled[0]["uuid"], uuid.as_str());
    assert_eq!(cancelled[0]["status"], "cancelling");
    let gc = &collections(&fake, "acme-staging")[0];
    assert_eq!(
        (gc.uuid.as_str(), gc.status.as_str()),
        (uuid.as_str(), "cancelling")
    );
    assert_eq!(gc.freed_bytes, 0);

    docr.refused_saying(
        "gc cancel acme-archive 00000000-0000-4000-8000-000000000000",
        "404",
    )
    .await;
}
