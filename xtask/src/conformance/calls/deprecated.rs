//! The deprecated family (`/v2/registry*`), still served and still generated.

use super::{Call, DIGEST, GC_UUID, PAGE_TOKEN, REGISTRY, TAG, call, decoded};
use docr::types;

pub fn calls() -> Vec<Call> {
    vec![
        // Registry, subscription, options, credentials.
        call!("registry_get", "-", None, |c| c.registry_get()),
        call!("registry_create", "every field", None, |c| c
            .registry_create()
            .body_map(|b| b
                .name(REGISTRY)
                .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Starter)
                .region(types::RegistryCreateRegion::Ams3))),
        call!("registry_create", "no region", None, |c| c
            .registry_create()
            .body_map(|b| b.name(REGISTRY).subscription_tier_slug(
                types::RegistryCreateSubscriptionTierSlug::Basic
            ))),
        call!("registry_delete", "-", None, |c| c.registry_delete()),
        call!("registry_get_subscription", "-", None, |c| c
            .registry_get_subscription()),
        call!("registry_update_subscription", "tier_slug", None, |c| c
            .registry_update_subscription()
            .body_map(|b| b.tier_slug(
                types::RegistryUpdateSubscriptionBodyTierSlug::Basic
            ))),
        call!("registry_get_dockerCredentials", "no option", None, |c| c
            .registry_get_docker_credentials()),
        call!("registry_get_dockerCredentials", "read_write", None, |c| c
            .registry_get_docker_credentials()
            .read_write(true)),
        call!(
            "registry_get_dockerCredentials",
            "expiry_seconds",
            None,
            |c| c.registry_get_docker_credentials().expiry_seconds(3600u64)
        ),
        call!(
            "registry_get_dockerCredentials",
            "read_write and expiry_seconds",
            None,
            |c| c
                .registry_get_docker_credentials()
                .read_write(true)
                .expiry_seconds(600u64)
        ),
        call!("registry_validate_name", "-", None, |c| c
            .registry_validate_name()
            .body_map(|b| b.name(REGISTRY))),
        call!("registry_get_options", "-", None, |c| c
            .registry_get_options()),
        // Repositories, tags, manifests: names with `/`.
        call!(
            "registry_list_repositories",
            "page and per_page",
            None,
            in_registry registry_list_repositories
                .page(1u64)
                .per_page(20u64)
        ),
        call!(
            "registry_list_repositories",
            "no paging",
            None,
            in_registry registry_list_repositories
        ),
        call!(
            "registry_list_repositoriesV2",
            "page, per_page and page_token",
            None,
            in_registry registry_list_repositories_v2
                .page(2u64)
                .per_page(1u64)
                .page_token(PAGE_TOKEN)
        ),
        call!(
            "registry_list_repositoriesV2",
            "no paging",
            None,
            in_registry registry_list_repositories_v2
        ),
        call!(
            "registry_list_repositoryTags",
            "per_page",
            None,
            in_repository registry_list_repository_tags
                .per_page(5u64)
        ),
        call!(
            "registry_list_repositoryTags",
            "no paging",
            None,
            in_repository registry_list_repository_tags
        ),
        call!(
            "registry_delete_repositoryTag",
            "team/app",
            None,
            in_repository registry_delete_repository_tag
                .repository_tag(TAG)
        ),
        call!(
            "registry_list_repositoryManifests",
            "page",
            None,
            in_repository registry_list_repository_manifests
                .page(1u64)
        ),
        call!(
            "registry_list_repositoryManifests",
            "no paging",
            None,
            in_repository registry_list_repository_manifests
        ),
        call!(
            "registry_delete_repositoryManifest",
            "team/app",
            None,
            in_repository registry_delete_repository_manifest
                .manifest_digest(DIGEST)
        ),
        // Garbage collection: here the spec has the optional type body, so `{}` is allowed.
        call!(
            "registry_run_garbageCollection",
            "type",
            None,
            in_registry registry_run_garbage_collection
                .body_map(|b| b.type_(types::RegistryRunGcType::UntaggedManifestsOnly))
        ),
        call!(
            "registry_run_garbageCollection",
            "no type",
            None,
            in_registry registry_run_garbage_collection
        ),
        call!(
            "registry_get_garbageCollection",
            "-",
            None,
            in_registry registry_get_garbage_collection
        ),
        call!(
            "registry_list_garbageCollections",
            "per_page",
            None,
            in_registry registry_list_garbage_collections
                .per_page(2u64)
        ),
        call!(
            "registry_list_garbageCollections",
            "no paging",
            None,
            in_registry registry_list_garbage_collections
        ),
        call!(
            "registry_update_garbageCollection",
            "cancel",
            None,
            in_registry registry_update_garbage_collection
                .garbage_collection_uuid(GC_UUID)
                .body_map(|b| b.cancel(true))
        ),
    ]
}
