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

/// One pydo case per entry: `name: operation, |client| chain => check`, the vector replayed as
/// it is. The check is `ok`, or `decoded[..]` with the JSON pointers docr drops, then
/// optionally `then |got| { .. }` with more assertions on the decoded value.
macro_rules! pydo_cases {
    ($($(#[$doc:meta])* $name:ident: $op:literal, |$client:ident| $chain:expr
       => $check:ident $([$($skip:expr),*])? $(then |$got:ident| $after:block)?;)*) => {$(
        $(#[$doc])*
        pub(super) async fn $name(v: Vector) {
            let r = Replay::start(&v, $op, v.wire(), v.answer()).await;
            let $client = &r.client;
            let result = $chain.send().await;
            check_replay!(r v result $check $([$($skip),*])? $(then |$got| $after)?);
        }
    )*};
}

/// pydo's repository `repo-1` of `example`.
macro_rules! in_repo_1 {
    ($call:expr) => {
        $call.registry_name("example").repository_name("repo-1")
    };
}

pydo_cases! {
    pydo_create: "registry_create", |c| c.registry_create().body_map(|b| {
        b.name("example")
            .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Basic)
            .region(types::RegistryCreateRegion::Fra1)
    }) => decoded[];
    pydo_delete: "registry_delete", |c| c.registry_delete() => ok;
    pydo_get: "registry_get", |c| c.registry_get() => decoded[];
    /// DEFAULT QUERY.
    pydo_docker_credentials: "registry_get_dockerCredentials",
        |c| c.registry_get_docker_credentials() => decoded[];
    pydo_subscription: "registry_get_subscription", |c| c.registry_get_subscription()
        => decoded[];
    /// DEFAULT QUERY and GC META. The collections lack `type` and use fractional seconds.
    pydo_gc_list: "registry_list_garbageCollections",
        |c| c.registry_list_garbage_collections().registry_name("example")
        => decoded["/meta"] then |got| {
            assert_eq!(got.garbage_collections[0].type_, None);
        };
    /// DEFAULT QUERY. One blob carries the upstream typo `compressed_size_byte` and no
    /// `compressed_size_bytes`: docr ignores the unknown key and leaves the size unset.
    pydo_repos_v2: "registry_list_repositoriesV2",
        |c| c.registry_list_repositories_v2().registry_name("example")
        => decoded["/repositories/0/latest_manifest/blobs/1/compressed_size_byte"] then |got| {
            let manifest = got.repositories[0].latest_manifest.as_ref().expect("latest");
            assert_eq!(manifest.blobs[1].compressed_size_bytes, None);
        };
    /// DEFAULT QUERY.
    pydo_tags: "registry_list_repositoryTags",
        |c| in_repo_1!(c.registry_list_repository_tags()) => decoded[];
    /// DEFAULT QUERY, and the `compressed_size_byte` typo (see `pydo_repos_v2`).
    pydo_manifests: "registry_list_repositoryManifests",
        |c| in_repo_1!(c.registry_list_repository_manifests())
        => decoded["/manifests/0/blobs/1/compressed_size_byte"] then |got| {
            assert_eq!(got.manifests[0].blobs[1].compressed_size_bytes, None);
        };
    pydo_options: "registry_get_options", |c| c.registry_get_options() => decoded[];
    pydo_delete_tag: "registry_delete_repositoryTag",
        |c| in_repo_1!(c.registry_delete_repository_tag()).repository_tag("tag1") => ok;
    pydo_gc_cancel: "registry_update_garbageCollection",
        |c| c.registry_update_garbage_collection().registry_name("example")
            .garbage_collection_uuid(GC_UUID).body_map(|b| b.cancel(true)) => decoded[];
    pydo_upgrade: "registry_update_subscription", |c| c.registry_update_subscription()
        .body_map(|b| b.tier_slug(types::RegistryUpdateSubscriptionBodyTierSlug::Basic))
        => decoded[];
    pydo_validate_name: "registry_validate_name",
        |c| c.registry_validate_name().body_map(|b| b.name("example")) => ok;
    pydo_kubernetes_add: "kubernetes_add_registry", |c| c.kubernetes_add_registry()
        .body_map(|b| b.cluster_uuids(CLUSTERS.map(String::from).to_vec())) => ok;
    pydo_kubernetes_remove: "kubernetes_remove_registry", |c| c.kubernetes_remove_registry()
        .body_map(|b| b.cluster_uuids(CLUSTERS.map(String::from).to_vec())) => ok;
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
