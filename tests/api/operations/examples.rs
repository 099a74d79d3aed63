//! Typed checks of the spec's examples, shared by the two API families.

use super::exchange::at;
use crate::support::{DIGEST, GC_UUID};
use docr::types;

/// The fields both families' registries have, as `registry_base`'s property examples give
/// them (the two registry types share no trait to write a function over).
macro_rules! assert_registry_fields {
    ($op:expr, $registry:expr) => {{
        let (op, registry) = ($op, $registry);
        assert_eq!(
            registry.name.as_ref().map(|n| n.as_str()),
            Some("example"),
            "{op}: name"
        );
        assert_eq!(registry.region.as_deref(), Some("fra1"), "{op}: region");
        assert_eq!(
            registry.created_at,
            Some(at("2020-03-21T16:02:37Z")),
            "{op}: created_at"
        );
        assert_eq!(
            registry.storage_usage_bytes,
            Some(29393920),
            "{op}: storage_usage_bytes"
        );
    }};
}

/// The registry composed from `registry_base`'s property examples.
pub(super) fn assert_registry_base(op: &str, registry: &types::RegistryBase) {
    assert_registry_fields!(op, registry);
    assert_eq!(
        registry.storage_usage_bytes_updated_at,
        Some(at("2020-11-04T21:39:49.530562231Z")),
        "{op}: storage_usage_bytes_updated_at (nanoseconds)"
    );
}

/// The registry of `registry_info` (deprecated family): the base plus its subscription.
pub(super) fn assert_registry(op: &str, registry: &types::Registry) {
    assert_registry_fields!(op, registry);
    let subscription = registry
        .subscription
        .as_ref()
        .expect("the registry's subscription");
    assert_subscription(op, subscription);
}

pub(super) fn assert_subscription(op: &str, subscription: &types::Subscription) {
    let tier = subscription.tier.as_ref().expect("the subscription's tier");
    assert_eq!(tier.slug.as_deref(), Some("basic"), "{op}: tier slug");
    assert_eq!(tier.name.as_deref(), Some("Basic"), "{op}: tier name");
    assert_eq!(
        tier.included_repositories,
        Some(5),
        "{op}: included_repositories"
    );
    assert_eq!(
        tier.included_storage_bytes,
        Some(5368709120),
        "{op}: included_storage_bytes"
    );
    assert_eq!(
        tier.allow_storage_overage,
        Some(true),
        "{op}: allow_storage_overage"
    );
    assert_eq!(
        tier.monthly_price_in_cents,
        Some(500),
        "{op}: monthly_price_in_cents"
    );
    assert_eq!(
        tier.storage_overage_price_in_cents,
        Some(2),
        "{op}: storage_overage_price"
    );
    assert_eq!(
        subscription.created_at,
        Some(at("2020-01-23T21:19:12Z")),
        "{op}: created_at"
    );
    assert_eq!(
        subscription.updated_at,
        Some(at("2020-11-05T15:53:24Z")),
        "{op}: updated_at"
    );
}

pub(super) fn assert_credentials(op: &str, credentials: types::DockerCredentials) {
    let auth = credentials
        .auths
        .and_then(|auths| auths.registry_digitalocean_com)
        .and_then(|registry| registry.auth);
    assert_eq!(
        auth.as_deref(),
        Some(
            "YjdkMDNhNjk0N2IyMTdlZmI2ZjNlYzNiZDM1MDQ1ODI6YjdkMDNhNjk0N2IyMTdlZmI2ZjNlYzNiZDM1MDQ1ODIK"
        ),
        "{op}: auths.\"registry.digitalocean.com\".auth"
    );
}

pub(super) fn assert_options(op: &str, options: types::RegistryOptionsResponse) {
    let options = options.options.expect("options");
    assert_eq!(
        options.available_regions,
        ["nyc3", "sfo3", "ams3", "sgp1", "fra1"],
        "{op}: regions"
    );
    let slugs: Vec<_> = options
        .subscription_tiers
        .iter()
        .map(|t| t.slug.as_deref())
        .collect();
    assert_eq!(
        slugs,
        [Some("starter"), Some("basic"), Some("professional")],
        "{op}: tiers"
    );
    let starter = &options.subscription_tiers[0];
    assert_eq!(starter.eligible, Some(false), "{op}: starter eligible");
    assert_eq!(
        starter.eligibility_reasons,
        ["OverRepositoryLimit"],
        "{op}: starter reasons"
    );
    assert_eq!(
        starter.included_storage_bytes,
        Some(524288000),
        "{op}: starter storage"
    );
    let professional = &options.subscription_tiers[2];
    assert_eq!(
        professional.included_repositories,
        Some(0),
        "{op}: unlimited repositories"
    );
    assert_eq!(
        professional.monthly_price_in_cents,
        Some(2000),
        "{op}: professional price"
    );
}

/// The garbage collection composed from `garbage_collection`'s property examples.
pub(super) fn assert_garbage_collection(op: &str, response: types::GarbageCollectionResponse) {
    let gc = response.garbage_collection.expect("garbage_collection");
    assert_eq!(gc.uuid.as_deref(), Some(GC_UUID), "{op}: uuid");
    assert_eq!(
        gc.registry_name.as_deref(),
        Some("example"),
        "{op}: registry_name"
    );
    assert_eq!(gc.status.as_deref(), Some("requested"), "{op}: status");
    assert_eq!(
        gc.type_.as_deref(),
        Some("unreferenced blobs only"),
        "{op}: type"
    );
    assert_eq!(
        gc.created_at,
        Some(at("2020-10-30T21:03:24Z")),
        "{op}: created_at"
    );
    assert_eq!(
        gc.updated_at,
        Some(at("2020-10-30T21:03:44Z")),
        "{op}: updated_at"
    );
    assert_eq!(gc.blobs_deleted, Some(42), "{op}: blobs_deleted");
    assert_eq!(gc.freed_bytes, Some(667), "{op}: freed_bytes");
}

pub(super) fn assert_garbage_collections(op: &str, response: types::GarbageCollectionsResponse) {
    let [gc] = response.garbage_collections.as_slice() else {
        panic!(
            "{op}: one garbage collection, got {:?}",
            response.garbage_collections
        );
    };
    assert_eq!(gc.uuid.as_deref(), Some(GC_UUID), "{op}: uuid");
    assert_eq!(gc.status.as_deref(), Some("requested"), "{op}: status");
    assert_eq!(
        gc.created_at,
        Some(at("2020-10-30T21:03:24Z")),
        "{op}: created_at (.000Z)"
    );
    assert_eq!(gc.blobs_deleted, Some(42), "{op}: blobs_deleted");
    assert_eq!(gc.freed_bytes, Some(667), "{op}: freed_bytes");
    assert_eq!(gc.type_, None, "{op}: the example gives no type");
}

pub(super) fn assert_repositories_v2(op: &str, response: types::AllRepositoriesV2Response) {
    assert_eq!(response.meta.total, 5, "{op}: meta.total");
    let pages = pages_of(response.links);
    let next = "https://api.digitalocean.com/v2/registry/example/repositoriesV2?page=2&page_token=JPZmZzZXQiOjB9&per_page=1";
    assert_eq!(pages["next"], next, "{op}: links.pages.next");
    assert_eq!(
        pages["prev"],
        serde_json::Value::Null,
        "{op}: links.pages.prev"
    );
    let [repository] = response.repositories.as_slice() else {
        panic!("{op}: one repository, got {:?}", response.repositories);
    };
    assert_eq!(repository.name.as_deref(), Some("repo-1"), "{op}: name");
    assert_eq!(repository.tag_count, Some(57), "{op}: tag_count");
    assert_eq!(repository.manifest_count, Some(82), "{op}: manifest_count");
    let manifest = repository
        .latest_manifest
        .as_ref()
        .expect("latest_manifest");
    assert_eq!(
        manifest.digest.as_deref(),
        Some(DIGEST),
        "{op}: latest_manifest.digest"
    );
    assert_eq!(
        manifest.updated_at,
        Some(at("2021-04-09T23:54:25Z")),
        "{op}: updated_at"
    );
    let sizes: Vec<_> = manifest
        .blobs
        .iter()
        .map(|b| b.compressed_size_bytes)
        .collect();
    // The example's second blob spells the field `compressed_size_byte`: unknown, so absent.
    assert_eq!(sizes, [Some(1471), None, Some(528)], "{op}: blob sizes");
}

pub(super) fn assert_tags(op: &str, response: types::RepositoryTagsResponse) {
    assert_eq!(response.meta.total, 1, "{op}: meta.total");
    let [tag] = response.tags.as_slice() else {
        panic!("{op}: one tag, got {:?}", response.tags);
    };
    assert_eq!(tag.tag.as_deref(), Some("latest"), "{op}: tag");
    assert_eq!(
        tag.repository.as_deref(),
        Some("repo-1"),
        "{op}: repository"
    );
    assert_eq!(
        tag.manifest_digest.as_deref(),
        Some(DIGEST),
        "{op}: manifest_digest"
    );
    assert_eq!(
        tag.compressed_size_bytes,
        Some(2803255),
        "{op}: compressed_size_bytes"
    );
    assert_eq!(tag.size_bytes, Some(5861888), "{op}: size_bytes");
    assert_eq!(
        tag.updated_at,
        Some(at("2020-04-09T23:54:25Z")),
        "{op}: updated_at"
    );
}

pub(super) fn assert_manifests(op: &str, response: types::RepositoryManifestsResponse) {
    assert_eq!(response.meta.total, 3, "{op}: meta.total");
    let last = "https://api.digitalocean.com/v2/registry/example/repositories/repo-1/digests?page=3&per_page=1";
    assert_eq!(
        pages_of(response.links)["last"],
        last,
        "{op}: links.pages.last"
    );
    let [manifest] = response.manifests.as_slice() else {
        panic!("{op}: one manifest, got {:?}", response.manifests);
    };
    assert_eq!(manifest.digest.as_deref(), Some(DIGEST), "{op}: digest");
    assert_eq!(manifest.tags, ["v1", "v2"], "{op}: tags");
    assert_eq!(manifest.size_bytes, Some(2816445), "{op}: size_bytes");
    assert_eq!(manifest.blobs.len(), 3, "{op}: blobs");
}

/// A listing's `links.pages` as JSON, its links by name (`next`, `last`); an absent one is null.
fn pages_of(links: Option<types::PageLinks>) -> serde_json::Value {
    let pages = links.and_then(|links| links.pages).expect("links.pages");
    serde_json::to_value(pages).expect("the pages serialize")
}
