//! The current family (`/v2/registries*`) and the Kubernetes registry integration.

use super::{
    CREDENTIALS_QUERY, Call, DIGEST, GC_START_BODY, GC_UUID, NESTED_REPOSITORY, PAGE_TOKEN,
    REGISTRY, TAG, call, clusters, decoded,
};
use docr::types;

pub fn calls() -> Vec<Call> {
    vec![
        // Kubernetes integration.
        call!("kubernetes_add_registry", "cluster_uuids", None, |c| c
            .kubernetes_add_registry()
            .body_map(|b| b.cluster_uuids(clusters()))),
        call!("kubernetes_remove_registry", "cluster_uuids", None, |c| c
            .kubernetes_remove_registry()
            .body_map(|b| b.cluster_uuids(clusters()))),
        call!(
            "kubernetes_add_registries",
            "cluster_uuids and registries",
            None,
            |c| c.kubernetes_add_registries().body_map(|b| b
                .cluster_uuids(clusters())
                .registries(vec!["registry-a".to_string(), "registry-b".to_string()]))
        ),
        call!(
            "kubernetes_add_registries",
            "cluster_uuids only",
            None,
            |c| c
                .kubernetes_add_registries()
                .body_map(|b| b.cluster_uuids(clusters()))
        ),
        call!(
            "kubernetes_remove_registries",
            "cluster_uuids and registries",
            None,
            |c| c.kubernetes_remove_registries().body_map(|b| b
                .cluster_uuids(clusters())
                .registries(vec!["registry-a".to_string()]))
        ),
        // Registries, subscription, options, credentials.
        call!("registries_list", "-", None, |c| c.registries_list()),
        call!("registries_create", "every field", None, |c| c
            .registries_create()
            .body_map(|b| b
                .name(REGISTRY)
                .subscription_tier_slug("basic".to_string())
                .region("fra1".to_string()))),
        call!("registries_create", "name only", None, |c| c
            .registries_create()
            .body_map(|b| b.name(REGISTRY))),
        call!("registries_get", "-", None, in_registry registries_get),
        call!("registries_delete", "-", None, in_registry registries_delete),
        call!(
            "registries_get_dockerCredentials",
            "no option",
            None,
            in_registry registries_get_docker_credentials
        ),
        call!(
            "registries_get_dockerCredentials",
            "read_write",
            Some(CREDENTIALS_QUERY),
            in_registry registries_get_docker_credentials
                .read_write(true)
        ),
        call!(
            "registries_get_dockerCredentials",
            "read_write and expiry_seconds",
            Some(CREDENTIALS_QUERY),
            in_registry registries_get_docker_credentials
                .read_write(true)
                .expiry_seconds(3600u64)
        ),
        call!("registries_get_subscription", "-", None, |c| c
            .registries_get_subscription()),
        call!("registries_update_subscription", "tier_slug", None, |c| c
            .registries_update_subscription()
            .body_map(|b| b.tier_slug("professional".to_string()))),
        call!("registries_get_options", "-", None, |c| c
            .registries_get_options()),
        call!("registries_validate_name", "-", None, |c| c
            .registries_validate_name()
            .body_map(|b| b.name(REGISTRY))),
        // Garbage collection.
        call!(
            "registries_get_garbageCollection",
            "-",
            None,
            in_registry registries_get_garbage_collection
        ),
        call!(
            "registries_run_garbageCollection",
            "type",
            Some(GC_START_BODY),
            in_registry registries_run_garbage_collection
                .body_map(|b| b.type_(
                    types::RegistryRunGcType::UntaggedManifestsAndUnreferencedBlobs
                ))
        ),
        call!(
            "registries_run_garbageCollection",
            "no type",
            None,
            in_registry registries_run_garbage_collection
        ),
        call!(
            "registries_list_garbageCollections",
            "page and per_page",
            None,
            in_registry registries_list_garbage_collections
                .page(2u64)
                .per_page(10u64)
        ),
        call!(
            "registries_list_garbageCollections",
            "no paging",
            None,
            in_registry registries_list_garbage_collections
        ),
        call!(
            "registries_update_garbageCollection",
            "cancel",
            None,
            in_registry registries_update_garbage_collection
                .garbage_collection_uuid(GC_UUID)
                .body_map(|b| b.cancel(true))
        ),
        // Repositories, tags, manifests: names with `/`.
        call!(
            "registries_list_repositoriesV2",
            "per_page and page_token",
            None,
            in_registry registries_list_repositories_v2
                .per_page(1u64)
                .page_token(PAGE_TOKEN)
        ),
        call!(
            "registries_list_repositoriesV2",
            "page",
            None,
            in_registry registries_list_repositories_v2
                .page(3u64)
        ),
        call!(
            "registries_list_repositoriesV2",
            "no paging",
            None,
            in_registry registries_list_repositories_v2
        ),
        call!(
            "registries_delete_repository",
            "team/app",
            None,
            in_repository registries_delete_repository
        ),
        call!(
            "registries_list_repositoryTags",
            "page and per_page",
            None,
            in_repository registries_list_repository_tags
                .page(2u64)
                .per_page(5u64)
        ),
        call!(
            "registries_list_repositoryTags",
            "no paging",
            None,
            in_repository registries_list_repository_tags
        ),
        call!(
            "registries_delete_repositoryTag",
            "team/app",
            None,
            in_repository registries_delete_repository_tag
                .repository_tag(TAG)
        ),
        call!(
            "registries_list_repositoryManifests",
            "team/sub/app, page and per_page",
            None,
            in_registry registries_list_repository_manifests
                .repository_name(NESTED_REPOSITORY)
                .page(2u64)
                .per_page(1u64)
        ),
        call!(
            "registries_list_repositoryManifests",
            "no paging",
            None,
            in_repository registries_list_repository_manifests
        ),
        call!(
            "registries_delete_repositoryManifest",
            "team/app",
            None,
            in_repository registries_delete_repository_manifest
                .manifest_digest(DIGEST)
        ),
    ]
}
