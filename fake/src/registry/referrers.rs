//! Listings: `GET /v2/<name>/tags/list` (sorted, paged by `n` and `last` with a `Link` to the
//! next page) and the OCI 1.1 referrers API, `GET /v2/<name>/referrers/<digest>`: an index of
//! the manifests whose `subject` is that digest, with their `artifactType` and `annotations`,
//! filtered by `?artifactType=`. With the referrers API turned off it answers 404, as a
//! registry without it does, so that clients fall back to the `sha256-<hex>` tag.

use super::answer::{Answer, RegistryError, RegistryResult, checked_digest};
use super::call::Call;
use crate::oci;
use crate::snapshot::sorted_tags;
use crate::state::State;
use serde_json::{Map, Value, json};

pub(crate) fn tags(state: &mut State, call: &Call<'_>) -> RegistryResult {
    let repository = call.repository(state)?;
    let mut tags = sorted_tags(repository.manifests.iter().map(|m| &m.tags));
    if let Some(last) = call.query("last") {
        tags.retain(|t| *t > last);
    }
    let limit = call.query("n").and_then(|n| n.parse::<usize>().ok());
    let mut answer = Answer::ok();
    if let Some(limit) = limit.filter(|n| *n < tags.len()) {
        tags.truncate(limit);
        if let Some(last) = tags.last() {
            answer = answer.header(
                "link",
                format!(
                    "</v2/{}/tags/list?last={last}&n={limit}>; rel=\"next\"",
                    call.name
                ),
            );
        }
    }
    Ok(answer.json(&json!({"name": call.name, "tags": tags})))
}

pub(crate) fn referrers(state: &mut State, call: &Call<'_>, digest: &str) -> RegistryResult {
    if !call.referrers_api {
        return Err(RegistryError::not_found());
    }
    let digest = checked_digest(digest)?;
    let wanted = call.query("artifactType");
    let repository = call.repository(state)?;
    let mut manifests: Vec<Value> = Vec::new();
    for manifest in repository.manifests_newest_first() {
        let Some(content) = &manifest.content else {
            continue;
        };
        if content.subject.as_ref().is_none_or(|s| s.digest != digest) {
            continue;
        }
        if wanted.is_some_and(|w| content.artifact_type.as_deref() != Some(w)) {
            continue;
        }
        let mut descriptor = Map::new();
        descriptor.insert("mediaType".into(), content.media_type.clone().into());
        descriptor.insert("digest".into(), manifest.digest.clone().into());
        descriptor.insert("size".into(), content.bytes.len().into());
        if let Some(artifact_type) = &content.artifact_type {
            descriptor.insert("artifactType".into(), artifact_type.clone().into());
        }
        if let Some(annotations) = &content.annotations {
            descriptor.insert("annotations".into(), Value::Object(annotations.clone()));
        }
        manifests.push(Value::Object(descriptor));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_INDEX,
        "manifests": manifests,
    });
    let answer = Answer::ok().bytes(oci::OCI_INDEX, index.to_string().into());
    Ok(match wanted {
        Some(_) => answer.header("oci-filters-applied", "artifactType"),
        None => answer,
    })
}
