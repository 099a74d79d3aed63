//! pydo's calls: the deprecated single-registry family and the Kubernetes integration.
//!
//! - DEFAULT QUERY: pydo's generated builders always send their defaults (`page=1&per_page=20`,
//!   `expiry_seconds=0&read_write=false`); the spec declares those very values as the
//!   parameters' defaults, and docr sends no parameter it was not given. The replay makes pydo's
//!   call (no parameters) and expects no query.

use super::replay::{Replay, Vector};
use crate::support::{CLUSTERS, GC_UUID, direct_client};
use docr::{Error, types};
use serde_json::json;

pub(super) async fn pydo_create(v: Vector) {
    let r = Replay::start(&v, "registry_create", v.wire(), v.answer()).await;
    let call = r.client.registry_create().body_map(|b| {
        b.name("example")
            .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Basic)
            .region(types::RegistryCreateRegion::Fra1)
    });
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_delete(v: Vector) {
    let r = Replay::start(&v, "registry_delete", v.wire(), v.answer()).await;
    r.ok(r.client.registry_delete().send().await).await;
}

pub(super) async fn pydo_get(v: Vector) {
    let r = Replay::start(&v, "registry_get", v.wire(), v.answer()).await;
    r.decoded(&v, r.client.registry_get().send().await, &[])
        .await;
}

pub(super) async fn pydo_docker_credentials(v: Vector) {
    // DEFAULT QUERY.
    let op = "registry_get_dockerCredentials";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r.client.registry_get_docker_credentials();
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_subscription(v: Vector) {
    let r = Replay::start(&v, "registry_get_subscription", v.wire(), v.answer()).await;
    let call = r.client.registry_get_subscription();
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_gc_list(v: Vector) {
    // DEFAULT QUERY and GC META. The collections lack `type` and use fractional seconds.
    let op = "registry_list_garbageCollections";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_list_garbage_collections()
        .registry_name("example");
    let got = r.decoded(&v, call.send().await, &["/meta"]).await;
    assert_eq!(got.garbage_collections[0].type_, None);
}

pub(super) async fn pydo_repos_v2(v: Vector) {
    // DEFAULT QUERY. One blob carries the upstream typo `compressed_size_byte` and no
    // `compressed_size_bytes`: docr ignores the unknown key and leaves the size unset.
    let op = "registry_list_repositoriesV2";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_list_repositories_v2()
        .registry_name("example");
    let typo = ["/repositories/0/latest_manifest/blobs/1/compressed_size_byte"];
    let got = r.decoded(&v, call.send().await, &typo).await;
    let manifest = got.repositories[0]
        .latest_manifest
        .as_ref()
        .expect("latest");
    assert_eq!(manifest.blobs[1].compressed_size_bytes, None);
}

pub(super) async fn pydo_tags(v: Vector) {
    // DEFAULT QUERY.
    let op = "registry_list_repositoryTags";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_list_repository_tags()
        .registry_name("example")
        .repository_name("repo-1");
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_manifests(v: Vector) {
    // DEFAULT QUERY, and the `compressed_size_byte` typo (see `pydo_repos_v2`).
    let op = "registry_list_repositoryManifests";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_list_repository_manifests()
        .registry_name("example")
        .repository_name("repo-1");
    let typo = ["/manifests/0/blobs/1/compressed_size_byte"];
    let got = r.decoded(&v, call.send().await, &typo).await;
    assert_eq!(got.manifests[0].blobs[1].compressed_size_bytes, None);
}

pub(super) async fn pydo_options(v: Vector) {
    let r = Replay::start(&v, "registry_get_options", v.wire(), v.answer()).await;
    r.decoded(&v, r.client.registry_get_options().send().await, &[])
        .await;
}

pub(super) async fn pydo_delete_manifest(v: Vector) {
    // pydo deletes the placeholder `manifest_digest`, which is no digest. docr refuses it before
    // sending (regen patch `path-parameter-patterns`): no server sees a request.
    assert_eq!(
        v.json["request"]["path"],
        "/v2/registry/example/repositories/repo-1/digests/manifest_digest"
    );
    let server = wiremock::MockServer::start().await;
    let client = direct_client(&server);
    let refused = client
        .registry_delete_repository_manifest()
        .registry_name("example")
        .repository_name("repo-1")
        .manifest_digest("manifest_digest")
        .send()
        .await
        .expect_err("a placeholder digest is refused");
    let refused = Error::from(refused);
    assert!(matches!(refused, Error::InvalidInput(_)), "{refused:?}");
    assert!(refused.to_string().contains("manifest_digest"), "{refused}");
    let seen = server.received_requests().await.unwrap_or_default();
    assert!(seen.is_empty(), "{seen:?}");
}

pub(super) async fn pydo_gc_start(v: Vector) {
    // pydo sends no body, and neither does docr when no type is given (the spec's body is
    // optional). pydo's mock answers 201 with `null`; the spec's 201 carries a
    // `garbage_collection` object, so the replay answers one.
    let op = "registry_run_garbageCollection";
    let answer = v.answer().json(json!({"garbage_collection": {
        "uuid": GC_UUID,
        "registry_name": "example",
        "status": "requested",
    }}));
    let r = Replay::start(&v, op, v.wire(), answer).await;
    let call = r
        .client
        .registry_run_garbage_collection()
        .registry_name("example");
    let got = r.decoded(&v, call.send().await, &[]).await;
    assert_eq!(
        got.garbage_collection.and_then(|gc| gc.status).as_deref(),
        Some("requested")
    );
}

pub(super) async fn pydo_delete_tag(v: Vector) {
    let op = "registry_delete_repositoryTag";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_delete_repository_tag()
        .registry_name("example")
        .repository_name("repo-1")
        .repository_tag("tag1");
    r.ok(call.send().await).await;
}

pub(super) async fn pydo_gc_cancel(v: Vector) {
    let op = "registry_update_garbageCollection";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_update_garbage_collection()
        .registry_name("example")
        .garbage_collection_uuid(GC_UUID)
        .body_map(|b| b.cancel(true));
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_upgrade(v: Vector) {
    let op = "registry_update_subscription";
    let r = Replay::start(&v, op, v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_update_subscription()
        .body_map(|b| b.tier_slug(types::RegistryUpdateSubscriptionBodyTierSlug::Basic));
    r.decoded(&v, call.send().await, &[]).await;
}

pub(super) async fn pydo_validate_name(v: Vector) {
    let r = Replay::start(&v, "registry_validate_name", v.wire(), v.answer()).await;
    let call = r
        .client
        .registry_validate_name()
        .body_map(|b| b.name("example"));
    r.ok(call.send().await).await;
}

pub(super) async fn pydo_kubernetes_add(v: Vector) {
    let r = Replay::start(&v, "kubernetes_add_registry", v.wire(), v.answer()).await;
    let clusters = CLUSTERS.map(String::from).to_vec();
    let call = r
        .client
        .kubernetes_add_registry()
        .body_map(|b| b.cluster_uuids(clusters));
    r.ok(call.send().await).await;
}

pub(super) async fn pydo_kubernetes_remove(v: Vector) {
    let r = Replay::start(&v, "kubernetes_remove_registry", v.wire(), v.answer()).await;
    let clusters = CLUSTERS.map(String::from).to_vec();
    let call = r
        .client
        .kubernetes_remove_registry()
        .body_map(|b| b.cluster_uuids(clusters));
    r.ok(call.send().await).await;
}
