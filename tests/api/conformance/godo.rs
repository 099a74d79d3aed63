//! godo's registry calls. godo tests each call in both families, `registries_*` and the
//! deprecated `registry_*`, with the same fixtures: one case replays both, its family read
//! from the vector's name.
//!
//! The disagreements shared by many godo cases, said once here and referred to below:
//! - STATUS: godo's test server answers 200 (with no body for deletes and name checks) where the
//!   spec says 201 (create, start a garbage collection) or 204 (delete, validate a name). docr
//!   accepts exactly the spec's status, so the replay answers the spec's.
//! - REGION: godo creates its registry in region `r1`, which the spec's region enum does not
//!   list, so a typed client cannot send it; the replay sends the listed `fra1` instead and
//!   otherwise godo's exact body.
//! - GC META: godo (and pydo) assert `meta.total` of a garbage-collection listing; the spec's
//!   `garbage_collections_response` has neither `meta` nor `links`, so docr drops both.
//! - TIER ELIGIBLE: godo's subscription fixtures carry `eligible` on the tier; the spec's
//!   `subscription_tier_base` has no such field (only the options' tiers do), so docr drops it.

use super::replay::{Call, Replay, Vector};
use crate::support::{FamilyNames, on_family};
use docr::{Client, Error, client::ApiFamily, types};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::json;

const DIGEST: &str = "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f";

/// The family a godo vector exercises: `registries_*` or `registry_*`.
fn family_of(v: &Vector) -> ApiFamily {
    if v.name.starts_with("registries_") {
        ApiFamily::Registries
    } else {
        ApiFamily::Registry
    }
}

/// Starts the replay of `v` as its family's operation ending in `rest`.
async fn start(v: &Vector, rest: &str, status: Option<u16>) -> (ApiFamily, Replay) {
    let family = family_of(v);
    let answer = match status {
        Some(status) => v.answer().status(status),
        None => v.answer(),
    };
    let replay = Replay::start(v, &family.operation(rest), v.wire(), answer).await;
    (family, replay)
}

pub(super) async fn create(v: Vector) {
    // STATUS (200 -> 201) and REGION. godo ignores the top-level `subscription`; so does docr.
    let family = family_of(&v);
    let mut body = v.wire().body.expect("a create body");
    body["region"] = json!("fra1");
    let op = family.operation("create");
    let r = Replay::start(&v, &op, v.wire().body(body), v.answer().status(201)).await;
    match family {
        ApiFamily::Registries => {
            // Regions and tiers are open strings on this call (regen patch open-request-regions-and-tiers).
            let call = r.client.registries_create().body_map(|b| {
                b.name("test-registry")
                    .subscription_tier_slug("basic".to_string())
                    .region("fra1".to_string())
            });
            r.decoded(&v, call.send().await, &[]).await;
        }
        ApiFamily::Registry => {
            use types::{
                RegistryCreateRegion as Region, RegistryCreateSubscriptionTierSlug as Tier,
            };
            let call = r.client.registry_create().body_map(|b| {
                b.name("test-registry")
                    .subscription_tier_slug(Tier::Basic)
                    .region(Region::Fra1)
            });
            r.decoded(&v, call.send().await, &[]).await;
        }
    }
}

/// One godo case per line: `name: operation, status, current | deprecated, |call| chain =>
/// check`. The case replays the vector as its family's operation (answering the spec's status
/// where one is given), sends `chain` on the family's builder, and checks the answer with
/// `ok`, or `decoded[..]` with the JSON pointers docr drops, then optionally
/// `then |got| { .. }` with more assertions on the decoded value.
macro_rules! family_cases {
    ($($(#[$doc:meta])* $name:ident: $rest:literal, $status:expr,
       $current:ident | $deprecated:ident, |$call:ident| $chain:expr
       => $check:ident $([$($skip:literal),*])? $(then |$got:ident| $after:block)?;)*) => {$(
        $(#[$doc])*
        pub(super) async fn $name(v: Vector) {
            let (family, r) = start(&v, $rest, $status).await;
            let result = on_family!(family, r.client, $current | $deprecated, |$call| {
                $chain.send().await
            });
            check_replay!(r v result $check $([$($skip),*])? $(then |$got| $after)?);
        }
    )*};
}

/// The call on godo's repository `test/repository` of `test-registry`.
macro_rules! in_repository {
    ($call:expr) => {
        $call
            .registry_name("test-registry")
            .repository_name("test/repository")
    };
}

family_cases! {
    /// STATUS (200 -> 204). The raw name `test/repository` must leave encoded once, as godo's.
    delete_manifest: "delete_repositoryManifest", Some(204),
        registries_delete_repository_manifest | registry_delete_repository_manifest,
        |call| in_repository!(call).manifest_digest(DIGEST) => ok;
    /// STATUS (200 -> 204).
    delete_tag: "delete_repositoryTag", Some(204),
        registries_delete_repository_tag | registry_delete_repository_tag,
        |call| in_repository!(call).repository_tag("test-tag") => ok;
    gc_cancel: "update_garbageCollection", None,
        registries_update_garbage_collection | registry_update_garbage_collection,
        |call| call.registry_name("test-registry").garbage_collection_uuid("mew-mew-id")
            .body_map(|b| b.cancel(true)) => decoded[];
    gc_get_active: "get_garbageCollection", None,
        registries_get_garbage_collection | registry_get_garbage_collection,
        |call| call.registry_name("test-registry") => decoded[];
    /// GC META.
    gc_list: "list_garbageCollections", None,
        registries_list_garbage_collections | registry_list_garbage_collections,
        |call| call.registry_name("test-registry").page(1u64).per_page(1u64)
            => decoded["/meta"];
    /// STATUS (200 -> 201). godo sends `{"type": "unreferenced blobs only"}` when given no
    /// request; docr sends what it is given, so the replay asks for that type explicitly.
    gc_start: "run_garbageCollection", Some(201),
        registries_run_garbage_collection | registry_run_garbage_collection,
        |call| call.registry_name("test-registry")
            .body_map(|b| b.type_(types::RegistryRunGcType::UnreferencedBlobsOnly))
            => decoded[];
    /// godo asserts nothing beyond success: the whole answer must decode and survive.
    get_options: "get_options", None, registries_get_options | registry_get_options,
        |call| call => decoded[] then |got| {
            let options = got.options.expect("options");
            assert_eq!(options.available_regions, ["r1", "r2"]);
            assert_eq!(
                options.subscription_tiers[0].eligibility_reasons,
                ["OverStorageLimit", "OverRepositoryLimit"]
            );
        };
    subscription: "get_subscription", None,
        registries_get_subscription | registry_get_subscription, |call| call => decoded[];
    manifests: "list_repositoryManifests", None,
        registries_list_repository_manifests | registry_list_repository_manifests,
        |call| in_repository!(call).page(3u64).per_page(1u64) => decoded[];
    repos_v2: "list_repositoriesV2", None,
        registries_list_repositories_v2 | registry_list_repositories_v2,
        |call| call.registry_name("test-registry").page(3u64).per_page(1u64).page_token("bbb")
            => decoded[];
    tags: "list_repositoryTags", None,
        registries_list_repository_tags | registry_list_repository_tags,
        |call| in_repository!(call).page(1u64).per_page(1u64) => decoded[];
    /// STATUS (200 -> 204).
    validate_name: "validate_name", Some(204),
        registries_validate_name | registry_validate_name,
        |call| call.body_map(|b| b.name("test-registry")) => ok;
}

pub(super) async fn delete(v: Vector) {
    // STATUS (200 -> 204).
    let (family, r) = start(&v, "delete", Some(204)).await;
    let result = match family {
        ApiFamily::Registries => {
            let call = r.client.registries_delete().registry_name("test-registry");
            call.send().await
        }
        ApiFamily::Registry => r.client.registry_delete().send().await,
    };
    r.ok(result).await;
}

pub(super) async fn get(v: Vector) {
    let (family, r) = start(&v, "get", None).await;
    match family {
        ApiFamily::Registries => {
            let call = r.client.registries_get().registry_name("test-registry");
            r.decoded(&v, call.send().await, &[]).await;
        }
        ApiFamily::Registry => {
            r.decoded(&v, r.client.registry_get().send().await, &[])
                .await;
        }
    }
}

pub(super) async fn registries_list(v: Vector) {
    let (_, r) = start(&v, "list", None).await;
    r.decoded(&v, r.client.registries_list().send().await, &[])
        .await;
}

pub(super) async fn registry_repos_v1(v: Vector) {
    let (_, r) = start(&v, "list_repositories", None).await;
    let call = r
        .client
        .registry_list_repositories()
        .registry_name("test-registry");
    let got = r
        .decoded(&v, call.page(1u64).per_page(1u64).send().await, &[])
        .await;
    let latest = got.repositories[0].latest_tag.as_ref().expect("latest_tag");
    assert_eq!(latest.manifest_digest.as_deref(), Some(DIGEST));
}

pub(super) async fn upgrade(v: Vector) {
    // TIER ELIGIBLE.
    use types::RegistryUpdateSubscriptionBodyTierSlug as DeprecatedTier;
    let (family, r) = start(&v, "update_subscription", None).await;
    let result = match family {
        ApiFamily::Registries => {
            r.client
                .registries_update_subscription()
                .body_map(|b| b.tier_slug("professional".to_string()))
                .send()
                .await
        }
        ApiFamily::Registry => {
            r.client
                .registry_update_subscription()
                .body_map(|b| b.tier_slug(DeprecatedTier::Professional))
                .send()
                .await
        }
    };
    r.decoded(&v, result, &["/subscription/tier/eligible"])
        .await;
}

/// godo's docker-credentials cases. The query is godo's: godo always sends `read_write`
/// (`false` by default) and docr sends what it is given, so the call states it. godo's mock
/// answers the text `this could be a docker config` and godo hands back the raw bytes; the spec
/// promises a JSON `docker_credentials` object. So the vector's answer must come back as a
/// decode error that shows the body, and a spec-shaped answer (carrying godo's bytes, base64,
/// as the auth) must decode.
pub(super) async fn docker_credentials(v: Vector, read_write: bool, expiry: Option<u64>) {
    let family = family_of(&v);
    let call = move |client: Client| -> BoxFuture<'static, Call<types::DockerCredentials>> {
        async move {
            macro_rules! with_expiry {
                ($call:expr) => {{
                    let call = $call.read_write(read_write);
                    match expiry {
                        Some(seconds) => call.expiry_seconds(seconds).send().await,
                        None => call.send().await,
                    }
                }};
            }
            match family {
                ApiFamily::Registries => with_expiry!(
                    client
                        .registries_get_docker_credentials()
                        .registry_name("test-registry")
                ),
                ApiFamily::Registry => with_expiry!(client.registry_get_docker_credentials()),
            }
        }
        .boxed()
    };
    let op = family.operation("get_dockerCredentials");
    let expected = v.expected().expect("expected_decoded")["DockerConfigJSON_bytes"]
        .as_str()
        .expect("godo's bytes")
        .to_string();

    let r = Replay::start(&v, &op, v.wire(), v.answer()).await;
    let err = r.err(call(r.client.clone()).await).await;
    let Error::Decode { snippet, .. } = &err else {
        panic!("a non-JSON body is a decode error, got {err:?}");
    };
    assert!(snippet.contains(&expected), "{snippet}");

    let auth = "dGhpcyBjb3VsZCBiZSBhIGRvY2tlciBjb25maWc="; // base64 of godo's bytes
    let spec_body = json!({"auths": {"registry.digitalocean.com": {"auth": auth}}});
    let r = Replay::start(&v, &op, v.wire(), v.answer().json(spec_body)).await;
    let got = r.ok(call(r.client.clone()).await).await.into_inner();
    let registry = got.auths.and_then(|a| a.registry_digitalocean_com);
    assert_eq!(registry.and_then(|r| r.auth).as_deref(), Some(auth));
}
