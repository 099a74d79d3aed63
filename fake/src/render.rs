//! The fake's state as the JSON of `spec/registry.yaml`'s schemas.

use super::state::{Collection, Manifest, Registry, Repository, Subscription, View};
use super::tiers::{Tier, Usage};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// RFC 3339 in UTC with `Z`, fractional seconds only when there are some.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `multiregistry` (`registry_base`); with `subscription`, the `registry` schema.
pub(crate) fn registry(registry: &Registry, subscription: Option<&Subscription>) -> Value {
    let mut body = json!({
        "name": registry.name,
        "created_at": time(registry.created_at),
        "region": registry.region,
        "storage_usage_bytes": registry.storage_usage_bytes(),
        "storage_usage_bytes_updated_at": time(registry.storage_updated_at),
    });
    if let (Some(subscription), Value::Object(map)) = (subscription, &mut body) {
        map.insert("subscription".into(), self::subscription(subscription));
    }
    body
}

/// `subscription`.
pub(crate) fn subscription(subscription: &Subscription) -> Value {
    json!({
        "tier": tier(subscription.tier),
        "created_at": time(subscription.created_at),
        "updated_at": time(subscription.updated_at),
    })
}

/// `subscription_tier_base`.
pub(crate) fn tier(tier: &Tier) -> Value {
    json!({
        "name": tier.name,
        "slug": tier.slug,
        "included_repositories": tier.included_repositories,
        "included_storage_bytes": tier.included_storage_bytes,
        "allow_storage_overage": tier.allow_storage_overage,
        "included_bandwidth_bytes": tier.included_bandwidth_bytes,
        "monthly_price_in_cents": tier.monthly_price_in_cents,
        "storage_overage_price_in_cents": tier.storage_overage_price_in_cents,
    })
}

/// `subscription_tier_base` and `subscription_tier_extended`, for the account's usage.
pub(crate) fn tier_option(tier: &Tier, usage: Usage) -> Value {
    let mut body = self::tier(tier);
    let reasons = tier.ineligibility(usage);
    if let Value::Object(map) = &mut body {
        map.insert("eligible".into(), reasons.is_empty().into());
        if !reasons.is_empty() {
            map.insert("eligibility_reasons".into(), json!(reasons));
        }
    }
    body
}

/// A time as [`time`] writes it.
fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time(*at))
}

/// `repository_tag`, written as it is: a page holds 200 of them. Fields in name order, as a
/// `Value` would write them.
#[derive(Debug, Serialize)]
pub(crate) struct Tag<'a> {
    compressed_size_bytes: u64,
    manifest_digest: &'a str,
    registry_name: &'a str,
    repository: &'a str,
    size_bytes: u64,
    tag: &'a str,
    #[serde(serialize_with = "rfc3339")]
    updated_at: DateTime<Utc>,
}

/// `repository_tag`.
pub(crate) fn tag<'a>(
    registry: &'a str,
    repository: &'a str,
    tag: &'a str,
    manifest: &'a Manifest,
) -> Tag<'a> {
    Tag {
        compressed_size_bytes: manifest.compressed_size_bytes(),
        manifest_digest: &manifest.digest,
        registry_name: registry,
        repository,
        size_bytes: manifest.size_bytes,
        tag,
        updated_at: manifest.updated_at,
    }
}

/// One of a manifest's blobs.
#[derive(Debug, Serialize)]
pub(crate) struct Blob<'a> {
    compressed_size_bytes: u64,
    digest: &'a str,
}

/// `repository_manifest`, written as it is. Fields in name order, as a `Value` would write
/// them.
#[derive(Debug, Serialize)]
pub(crate) struct ManifestJson<'a> {
    blobs: Vec<Blob<'a>>,
    compressed_size_bytes: u64,
    digest: &'a str,
    registry_name: &'a str,
    repository: &'a str,
    size_bytes: u64,
    tags: Vec<&'a str>,
    #[serde(serialize_with = "rfc3339")]
    updated_at: DateTime<Utc>,
}

/// `repository_manifest`.
pub(crate) fn manifest<'a>(
    registry: &'a str,
    repository: &'a str,
    manifest: &'a Manifest,
) -> ManifestJson<'a> {
    let mut tags: Vec<&str> = manifest.tags.iter().map(String::as_str).collect();
    tags.sort_unstable();
    ManifestJson {
        blobs: manifest
            .blobs
            .iter()
            .map(|(digest, size)| Blob {
                compressed_size_bytes: *size,
                digest,
            })
            .collect(),
        compressed_size_bytes: manifest.compressed_size_bytes(),
        digest: &manifest.digest,
        registry_name: registry,
        repository,
        size_bytes: manifest.size_bytes,
        tags,
        updated_at: manifest.updated_at,
    }
}

/// A rendered item as a `Value`, for the bodies built as one.
fn value(item: &impl Serialize) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// `repository` (the deprecated listing): the newest tag and the tag count.
pub(crate) fn repository_v1(registry: &str, name: &str, repository: &Repository) -> Value {
    let mut body = json!({
        "registry_name": registry,
        "name": name,
        "tag_count": repository.tag_count(),
    });
    if let (Some((latest, manifest)), Value::Object(map)) =
        (repository.tags_newest_first().first(), &mut body)
    {
        map.insert(
            "latest_tag".into(),
            value(&tag(registry, name, latest, manifest)),
        );
    }
    body
}

/// `repository_v2`: the newest manifest, the tag and manifest counts.
pub(crate) fn repository_v2(registry: &str, name: &str, repository: &Repository) -> Value {
    let mut body = json!({
        "registry_name": registry,
        "name": name,
        "tag_count": repository.tag_count(),
        "manifest_count": repository.manifests.len(),
    });
    if let (Some(latest), Value::Object(map)) =
        (repository.manifests_newest_first().first(), &mut body)
    {
        map.insert(
            "latest_manifest".into(),
            value(&manifest(registry, name, latest)),
        );
    }
    body
}

/// `garbage_collection`.
pub(crate) fn collection(collection: &Collection, view: &View) -> Value {
    json!({
        "uuid": collection.uuid,
        "registry_name": collection.registry,
        "status": view.status,
        "type": collection.kind.as_str(),
        "created_at": time(collection.created_at),
        "updated_at": time(view.updated_at),
        "blobs_deleted": view.blobs_deleted,
        "freed_bytes": view.freed_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_with_z() {
        let at = DateTime::from_timestamp(1_600_000_000, 5_000).unwrap_or_default();
        assert_eq!(time(at), "2020-09-13T12:26:40.000005Z");
        let whole = DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default();
        assert_eq!(time(whole), "2020-09-13T12:26:40Z");
    }
}
