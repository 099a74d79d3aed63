//! `docr_fake` through `fake.client()`: every one of the 41 operations, with its effect on the
//! fake's state, and every answer decoded by the generated client (the typed decode is the
//! conformance check) and checked against the spec's schemas.
//!
//! The deprecated family: `fake_deprecated.rs`; garbage collection: `fake_gc.rs`; pagination,
//! errors, rate limits and faults: `fake_http.rs`.

use crate::support::calls::{At, answered, ok, status};
use crate::support::{
    acme, assert_called, assert_journal_conforms, decode_auth, plain_client, registry, schema::Spec,
};
use docr::types;
use docr_fake::{FakeDocr, OPERATIONS, RegistrySeed, digest};
use std::time::Duration;

fn names(registries: &[types::Registry]) -> Vec<String> {
    registries
        .iter()
        .filter_map(|r| r.name.as_ref().map(|n| n.to_string()))
        .collect()
}

#[tokio::test]
async fn the_current_family_and_kubernetes_operations_act_on_the_state() {
    let fake = FakeDocr::builder()
        .registry(acme())
        .registry(RegistrySeed::new("beta").region("fra1"))
        .gc_step(Duration::from_secs(3_600))
        .start()
        .await
        .unwrap();
    let client = plain_client(&fake);
    let (acme, beta) = (registry("acme"), registry("beta"));

    let list = ok(client.registries_list().send().await);
    assert_eq!(names(&list.registries), ["acme", "beta"]);
    assert_eq!(list.registries[0].storage_usage_bytes, Some(1668));
    assert!(list.registries[0].subscription.is_some());
    let got = ok(client.registries_get().registry_name(&acme).send().await);
    let got = got.registry.unwrap();
    assert_eq!(got.region.as_deref(), Some("nyc3"));

    let create = client.registries_create();
    let create = create.body_map(|b| b.name("gamma").region(Some("sgp1".to_string())));
    let created = answered(create.send().await, 201).registry.unwrap();
    assert_eq!(created.region.as_deref(), Some("sgp1"));
    assert_eq!(fake.snapshot().registry("gamma").unwrap().region, "sgp1");
    let validate = |name: &'static str| {
        client
            .registries_validate_name()
            .body_map(move |b| b.name(name))
    };
    assert_eq!(status(validate("gamma").send().await), 409, "taken");
    assert_eq!(status(validate("delta").send().await), 204, "free");
    let deleted = client
        .registries_delete()
        .registry_name("gamma")
        .send()
        .await;
    assert_eq!(status(deleted), 204);
    assert!(fake.snapshot().registry("gamma").is_none());
    let gone = client.registries_get().registry_name("gamma").send().await;
    assert_eq!(status(gone), 404);

    let credentials = || {
        client
            .registries_get_docker_credentials()
            .registry_name(&beta)
    };
    let issued = credentials().read_write(true).expiry_seconds(3_600u64);
    let auth = decode_auth(&ok(issued.send().await));
    let issued = fake.snapshot().credentials;
    let expires = issued[0].expires_at.expect("an expiry").timestamp();
    assert_eq!(
        auth,
        format!("{}:beta.read-write.{expires}", issued[0].username)
    );
    assert!(issued[0].read_write && issued[0].registry == "beta");
    let read_only = ok(credentials().send().await);
    assert!(decode_auth(&read_only).ends_with(":beta.read-only.never"));
    // `expiry_seconds` has no maximum in the spec; one past any date is as good as never.
    let far = ok(credentials().expiry_seconds(u64::MAX).send().await);
    assert!(decode_auth(&far).ends_with(":beta.read-only.never"));

    let subscription = ok(client.registries_get_subscription().send().await);
    let tier = subscription.subscription.unwrap().tier.unwrap();
    assert_eq!(tier.slug.as_deref(), Some("professional"));
    let update = |tier: &'static str| {
        client
            .registries_update_subscription()
            .body_map(move |b| b.tier_slug(Some(tier.to_string())))
    };
    assert_eq!(status(update("basic").send().await), 422, "too small");
    assert_eq!(status(update("professional").send().await), 200);
    let options = ok(client.registries_get_options().send().await);
    let options = options.options.unwrap();
    assert_eq!(options.available_regions.len(), 8);
    let basic = &options.subscription_tiers[1];
    assert_eq!(basic.eligible, Some(false));
    assert_eq!(basic.eligibility_reasons, ["OverRegistryLimit"]);

    let run = client
        .registries_run_garbage_collection()
        .registry_name(&acme);
    let run = run.body_map(|b| b.type_(Some(types::RegistryRunGcType::UntaggedManifestsOnly)));
    let started = answered(run.send().await, 201).garbage_collection.unwrap();
    assert_eq!(started.status.as_deref(), Some("requested"));
    assert_eq!(started.type_.as_deref(), Some("untagged manifests only"));
    let uuid = started.uuid.unwrap();
    let active = At::current(&client, &acme).active_collection().await;
    assert_eq!(
        active.garbage_collection.unwrap().uuid.as_deref(),
        Some(uuid.as_str())
    );
    let cancelled = At::current(&client, &acme)
        .update_collection(uuid.as_str(), true)
        .await;
    assert_eq!(cancelled.as_deref(), Some("cancelling"));
    let collections = At::current(&client, &acme).collections().await;
    assert_eq!(collections.garbage_collections.len(), 1);
    assert_eq!(collections.meta.unwrap().total, Some(1));

    let repositories = At::current(&client, &acme).repositories().await;
    assert_eq!(repositories.meta.total, 2);
    let app = &repositories.repositories[0];
    assert_eq!(app.name.as_deref(), Some("team/app"));
    assert_eq!((app.tag_count, app.manifest_count), (Some(3), Some(3)));
    let latest = app.latest_manifest.as_ref().unwrap();
    assert_eq!(latest.digest, Some(digest("app-2")));
    assert_eq!(latest.tags, ["latest", "v2"]);

    let tags = At::current(&client, &acme).tags("team/app").await;
    let tag_names: Vec<_> = tags.tags.iter().filter_map(|t| t.tag.clone()).collect();
    assert_eq!(tag_names, ["latest", "v2", "v1"]);
    assert_eq!(tags.tags[2].compressed_size_bytes, Some(1100));
    let manifests = At::current(&client, &acme).manifests("team/app").await;
    let digests: Vec<_> = manifests
        .manifests
        .iter()
        .filter_map(|m| m.digest.clone())
        .collect();
    assert_eq!(digests, [digest("app-2"), digest("app-1"), digest("app-0")]);
    assert_eq!(manifests.manifests[2].size_bytes, Some(4096));
    assert_eq!(manifests.manifests[2].blobs.len(), 3);

    let untag = At::current(&client, &acme).delete_tag("team/app", "v1");
    assert_eq!(status(untag.await), 204);
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "team/app").unwrap();
    assert!(app.manifest(&digest("app-1")).unwrap().tags.is_empty());
    At::current(&client, &acme)
        .delete_manifest("team/app", digest("app-0"))
        .await
        .unwrap();
    let snapshot = fake.snapshot();
    assert!(
        snapshot
            .repository("acme", "team/app")
            .unwrap()
            .manifest(&digest("app-0"))
            .is_none()
    );
    client
        .registries_delete_repository()
        .registry_name(&acme)
        .repository_name("web")
        .send()
        .await
        .unwrap();
    assert!(fake.snapshot().repository("acme", "web").is_none());

    let body = |clusters: &[&str], registries: &[&str]| types::ClusterRegistries {
        cluster_uuids: clusters.iter().map(|c| c.to_string()).collect(),
        registries: registries.iter().map(|r| r.to_string()).collect(),
    };
    let one = |clusters: &[&str]| types::ClusterRegistry {
        cluster_uuids: clusters.iter().map(|c| c.to_string()).collect(),
    };
    let added = client.kubernetes_add_registry().body(one(&["c1"]));
    assert_eq!(status(added.send().await), 204);
    ok(client
        .kubernetes_add_registries()
        .body(body(&["c2"], &["acme"]))
        .send()
        .await);
    let integrations = fake.snapshot().kubernetes;
    assert_eq!(integrations["c1"], ["acme", "beta"]);
    assert_eq!(integrations["c2"], ["acme"]);
    ok(client
        .kubernetes_remove_registries()
        .body(body(&["c1"], &["beta"]))
        .send()
        .await);
    client
        .kubernetes_remove_registry()
        .body(one(&["c2"]))
        .send()
        .await
        .unwrap();
    let integrations = fake.snapshot().kubernetes;
    assert_eq!(integrations.len(), 1);
    assert_eq!(integrations["c1"], ["acme"]);

    assert_called(&fake, "registries_", 19);
    assert_called(&fake, "kubernetes_", 4);
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn deleting_a_tag_a_manifest_or_a_repository_keeps_the_blobs_until_collected() {
    let fake = crate::support::fake().await;
    let client = plain_client(&fake);
    let acme = registry("acme");
    let before = fake.snapshot();
    let stored = before.registry("acme").unwrap().storage_usage_bytes;

    // The last tag of a manifest: the manifest stays, untagged.
    for tag in ["v2", "latest"] {
        At::current(&client, &acme)
            .delete_tag("team/app", tag)
            .await
            .unwrap();
    }
    let app = team_app(&fake);
    assert_eq!(app.manifests.len(), 3);
    assert!(app.manifest(&digest("app-2")).unwrap().tags.is_empty());
    let again = At::current(&client, &acme).delete_tag("team/app", "v2");
    assert_eq!(status(again.await), 404);

    // A manifest: its tags go with it.
    At::current(&client, &acme)
        .delete_manifest("team/app", digest("app-1"))
        .await
        .unwrap();
    let app = team_app(&fake);
    assert!(app.tagged("v1").is_none());
    assert_eq!(app.manifests.len(), 2);

    // A repository: everything in it.
    client
        .registries_delete_repository()
        .registry_name(&acme)
        .repository_name("team/app")
        .send()
        .await
        .unwrap();
    let after = fake.snapshot();
    let acme_now = after.registry("acme").unwrap();
    assert_eq!(acme_now.repositories.len(), 1);
    assert_eq!(
        acme_now.storage_usage_bytes, stored,
        "nothing is freed before a GC"
    );
    assert!(acme_now.has_blob(&digest("l1")));
    for path in [
        "/v2/registries/acme/repositories/team%2Fapp/tags",
        "/v2/registries/acme/repositories/team%2Fapp/digests",
    ] {
        let raw = crate::support::call(&fake, "GET", path, None).await;
        crate::support::assert_do_error(&raw, 404, "not_found");
    }
}

#[tokio::test]
async fn the_demo_data_is_rich_and_conforms() {
    let fake = FakeDocr::builder().demo_data().start().await.unwrap();
    let snapshot = fake.snapshot();
    assert_eq!(snapshot.registries.len(), 3);
    assert_eq!(snapshot.tier, "professional");
    let web = snapshot.repository("acme", "web").unwrap();
    assert_eq!(web.tags().len(), 45);
    assert!(web.manifests.iter().any(|m| m.tags.is_empty()));
    assert!(snapshot.repository("acme", "tools/ci/runner").is_some());
    let client = plain_client(&fake);
    use docr::prelude::*;
    let tags = client
        .list_tags(&registry("acme"), &"web".parse().unwrap())
        .per_page(7)
        .collect()
        .await
        .unwrap();
    assert_eq!(tags.len(), 45);
    let repositories = client
        .list_repositories(&registry("acme"))
        .per_page(1)
        .collect()
        .await;
    assert_eq!(repositories.unwrap().len(), 4);
    assert_journal_conforms(&fake);
}

#[test]
fn the_schema_checker_catches_what_it_should() {
    let spec = Spec::load();
    let ok = serde_json::json!({"tags": [], "meta": {"total": 0}, "links": {}});
    assert_eq!(
        spec.check("registries_list_repositoryTags", 200, Some(&ok)),
        Ok(())
    );
    let missing_meta = serde_json::json!({"tags": []});
    assert!(
        spec.check("registries_list_repositoryTags", 200, Some(&missing_meta))
            .is_err()
    );
    let wrong_type = serde_json::json!({"tags": [{"tag": 1}], "meta": {"total": 1}});
    assert!(
        spec.check("registries_list_repositoryTags", 200, Some(&wrong_type))
            .is_err()
    );
    let unknown = serde_json::json!({"tags": [], "meta": {"total": 0}, "extra": 1});
    assert!(
        spec.check("registries_list_repositoryTags", 200, Some(&unknown))
            .is_err()
    );
    assert!(spec.check("registries_delete", 204, Some(&ok)).is_err());
    assert!(spec.check("registries_delete", 302, None).is_err());
}

#[test]
fn the_operations_split_into_the_families_the_tests_cover() {
    let count = |prefix: &str| {
        OPERATIONS
            .iter()
            .filter(|op| op.starts_with(prefix))
            .count()
    };
    // `registries_` here, `kubernetes_` here, `registry_` in fake_deprecated.rs.
    assert_eq!(
        (
            count("registries_"),
            count("kubernetes_"),
            count("registry_")
        ),
        (19, 4, 18)
    );
    let mut unique = OPERATIONS.to_vec();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 41);
}

#[tokio::test]
async fn the_fake_is_shareable_and_keeps_its_token_out_of_debug() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    let fake = FakeDocr::builder()
        .token("sekrit-123")
        .start()
        .await
        .unwrap();
    shareable(&fake);
    assert_eq!(fake.token(), "sekrit-123");
    assert!(!format!("{fake:?}").contains("sekrit"));
    let builder = FakeDocr::builder().token("sekrit-123");
    assert!(!format!("{builder:?}").contains("sekrit"));
    fake.shutdown().await;
}

/// `team/app` of `acme` now.
fn team_app(fake: &FakeDocr) -> docr_fake::RepositorySnapshot {
    fake.snapshot()
        .repository("acme", "team/app")
        .cloned()
        .expect("team/app")
}
