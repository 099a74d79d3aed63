//! The current family (`/v2/registries*`) and the Kubernetes registry integration.

use super::{
    CREDENTIALS_QUERY, Call, DIGEST, GC_START_BODY, GC_UUID, NESTED_REPOSITORY, PAGE_TOKEN,
    REGISTRY, REPOSITORY, TAG, call, clusters, decoded,
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
        call!("registries_get", "-", None, |c| c
            .registries_get()
            .registry_name(REGISTRY)),
        call!("registries_delete", "-", None, |c| c
            .registries_delete()
            .registry_name(REGISTRY)),
        call!("registries_get_dockerCredentials", "no option", None, |c| c
            .registries_get_docker_credentials()
            .registry_name(REGISTRY)),
        call!(
            "registries_get_dockerCredentials",
            "read_write",
            Some(CREDENTIALS_QUERY),
            |c| c
                .registries_get_docker_credentials()
                .registry_name(REGISTRY)
                .read_write(true)
        ),
        call!(
            "registries_get_dockerCredentials",
            "read_write and expiry_seconds",
            Some(CREDENTIALS_QUERY),
            |c| c
                .registries_get_docker_credentials()
                .registry_name(REGISTRY)
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
        call!("registries_get_garbageCollection", "-", None, |c| c
            .registries_get_garbage_collection()
            .registry_name(REGISTRY)),
        call!(
            "registries_run_garbageCollection",
            "type",
            Some(GC_START_BODY),
            |c| c
                .registries_run_garbage_collection()
                .registry_name(REGISTRY)
                .body_map(
                    |b| b.type_(types::RegistryRunGcType::UntaggedManifestsAndUnreferencedBlobs)
                )
        ),
        call!("registries_run_garbageCollection", "no type", None, |c| c
            .registries_run_garbage_collection()
            .registry_name(REGISTRY)),
        call!(
            "registries_list_garbageCollections",
            "page and per_page",
            None,
            |c| c
                .registries_list_garbage_collections()
                .registry_name(REGISTRY)
                .page(2u64)
                .per_page(10u64)
        ),
        call!(
            "registries_list_garbageCollections",
            "no paging",
            None,
            |c| c
                .registries_list_garbage_collections()
                .registry_name(REGISTRY)
        ),
        call!("registries_update_garbageCollection", "cancel", None, |c| c
            .registries_update_garbage_collection()
            .registry_name(REGISTRY)
            .garbage_collection_uuid(GC_UUID)
            .body_map(|b| b.cancel(true))),
        // Repositories, tags, manifests: names with `/`.
        call!(
            "registries_list_repositoriesV2",
            "per_page and page_token",
            None,
            |c| c
                .registries_list_repositories_v2()
                .registry_name(REGISTRY)
                .per_page(1u64)
                .page_token(PAGE_TOKEN)
        ),
        call!("registries_list_repositoriesV2", "page", None, |c| c
            .registries_list_repositories_v2()
            .registry_name(REGISTRY)
            .page(3u64)),
        call!("registries_list_repositoriesV2", "no paging", None, |c| c
            .registries_list_repositories_v2()
            .registry_name(REGISTRY)),
        call!("registries_delete_repository", "team/app", None, |c| c
            .registries_delete_repository()
            .registry_name(REGISTRY)
            .repository_name(REPOSITORY)),
        call!(
            "registries_list_repositoryTags",
            "page and per_page",
            None,
            |c| c
                .registries_list_repository_tags()
                .registry_name(REGISTRY)
                .repository_name(REPOSITORY)
                .page(2u64)
                .per_page(5u64)
        ),
        call!("registries_list_repositoryTags", "no paging", None, |c| c
            .registries_list_repository_tags()
            .registry_name(REGISTRY)
            .repository_name(REPOSITORY)),
        call!("registries_delete_repositoryTag", "team/app", None, |c| c
            .registries_delete_repository_tag()
            .registry_name(REGISTRY)
            .repository_name(REPOSITORY)
            .repository_tag(TAG)),
        call!(
            "registries_list_repositoryManifests",
            "team/sub/app, page and per_page",
            None,
            |c| c
                .registries_list_repository_manifests()
                .registry_name(REGISTRY)
                .repository_name(NESTED_REPOSITORY)
                .page(2u64)
                .per_page(1u64)
        ),
        call!(
            "registries_list_repositoryManifests",
            "no paging",
            None,
            |c| c
                .registries_list_repository_manifests()
                .registry_name(REGISTRY)
                .repository_name(REPOSITORY)
        ),
        call!(
            "registries_delete_repositoryManifest",
            "team/app",
            None,
            |c| c
                .registries_delete_repository_manifest()
                .registry_name(REGISTRY)
                .repository_name(REPOSITORY)
                .manifest_digest(DIGEST)
        ),
    ]
}
