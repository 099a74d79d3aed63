//! Garbage collection, the same calls in both families.

use super::examples::{assert_garbage_collection, assert_garbage_collections};
use super::exchange::{Api, Paging, Wire, paged};
use crate::support::{FAMILIES, GC_UUID, on_family};
use docr::types::RegistryRunGcType;
use serde_json::json;

#[tokio::test]
async fn get_garbage_collection() {
    for family in FAMILIES {
        let wire = Wire::of(
            family,
            "get_garbageCollection",
            "GET",
            "/example/garbage-collection",
        );
        let api = Api::expect(wire).await;
        let result = on_family!(
            family,
            api.client,
            registries_get_garbage_collection | registry_get_garbage_collection,
            |call| call.registry_name("example").send().await
        );
        assert_garbage_collection(api.op(), api.finish(result).await);
    }
}

/// Of each type the families' tests asked for, and of none: the body is optional in the spec,
/// and without a type the client sends none.
#[tokio::test]
async fn run_garbage_collection_of_a_type_or_without_one() {
    let types = [
        Some((
            "untagged manifests and unreferenced blobs",
            RegistryRunGcType::UntaggedManifestsAndUnreferencedBlobs,
        )),
        Some((
            "untagged manifests only",
            RegistryRunGcType::UntaggedManifestsOnly,
        )),
        None,
    ];
    for family in FAMILIES {
        for gc_type in types {
            let at = "/example/garbage-collection";
            let wire = Wire::of(family, "run_garbageCollection", "POST", at);
            let wire = match gc_type {
                Some((name, _)) => wire.body(json!({"type": name})),
                None => wire,
            };
            let api = Api::expect(wire).await;
            let result = on_family!(
                family,
                api.client,
                registries_run_garbage_collection | registry_run_garbage_collection,
                |call| {
                    let call = call.registry_name("example");
                    match gc_type {
                        Some((_, gc_type)) => call.body_map(|b| b.type_(gc_type)).send().await,
                        None => call.send().await,
                    }
                }
            );
            assert_garbage_collection(api.op(), api.finish(result).await);
        }
    }
}

#[tokio::test]
async fn list_garbage_collections_with_and_without_paging() {
    let pagings = [
        Paging::page(2, 10),
        Paging {
            per_page: Some(2),
            ..Paging::NONE
        },
        Paging::NONE,
    ];
    for family in FAMILIES {
        for paging in pagings {
            let at = "/example/garbage-collections";
            let wire = Wire::of(family, "list_garbageCollections", "GET", at).paged(paging);
            let api = Api::expect(wire).await;
            let result = on_family!(
                family,
                api.client,
                registries_list_garbage_collections | registry_list_garbage_collections,
                |call| paged!(call.registry_name("example"), paging).send().await
            );
            assert_garbage_collections(api.op(), api.finish(result).await);
        }
    }
}

#[tokio::test]
async fn update_garbage_collection() {
    for family in FAMILIES {
        let under = format!("/example/garbage-collection/{GC_UUID}");
        let wire = Wire::of(family, "update_garbageCollection", "PUT", &under);
        let api = Api::expect(wire.body(json!({"cancel": true}))).await;
        let result = on_family!(
            family,
            api.client,
            registries_update_garbage_collection | registry_update_garbage_collection,
            |call| {
                let call = call
                    .registry_name("example")
                    .garbage_collection_uuid(GC_UUID);
                call.body_map(|b| b.cancel(true)).send().await
            }
        );
        assert_garbage_collection(api.op(), api.finish(result).await);
    }
}
