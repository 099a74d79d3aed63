//! `PUT`/`GET`/`HEAD`/`DELETE /v2/<name>/manifests/<tag|digest>` in the four media types.
//!
//! A push checks the bytes (a manifest of its `Content-Type`; their SHA-256 is the digest a
//! digest reference names), that the blobs an image manifest references are stored and that
//! the manifests an index lists are in the repository; it creates the repository if need be,
//! moves the tag and stamps `updated_at`. A read answers only a media type its `Accept` lists
//! (no `Accept`, or `*/*`: any), else `MANIFEST_UNKNOWN` as distribution does. A delete by
//! digest removes the manifest and its tags; by tag, the tag alone.

use super::answer::{Answer, RegistryError, RegistryResult, checked_digest};
use super::call::Call;
use crate::oci::{self, Content};
use crate::state::{Manifest, State};
use axum::http::{HeaderMap, StatusCode, header};

fn is_digest(reference: &str) -> bool {
    reference.starts_with("sha256:")
}

/// The media types `Accept` lists, parameters dropped; `None` when any will do.
fn accepted(headers: &HeaderMap) -> Option<Vec<String>> {
    let types: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    (!types.is_empty() && !types.iter().any(|t| t == "*/*")).then_some(types)
}

fn find<'r>(manifests: &'r [Manifest], reference: &str) -> Option<&'r Manifest> {
    manifests.iter().find(|m| {
        if is_digest(reference) {
            m.digest == reference
        } else {
            m.tags.iter().any(|t| t == reference)
        }
    })
}

pub(crate) fn get(state: &mut State, call: &Call<'_>, reference: &str) -> RegistryResult {
    let repository = call.repository(state)?;
    let unknown = || RegistryError::manifest_unknown(reference);
    let manifest = find(&repository.manifests, reference).ok_or_else(unknown)?;
    let content = manifest.content.as_ref().ok_or_else(unknown)?;
    if let Some(types) = accepted(call.headers)
        && !types.contains(&content.media_type)
    {
        return Err(RegistryError::manifest_unknown(&format!(
            "{reference} is a {}, which the Accept header does not list",
            content.media_type
        )));
    }
    Ok(Answer::ok()
        .header("docker-content-digest", manifest.digest.as_str())
        .header("etag", format!("\"{}\"", manifest.digest))
        .bytes(&content.media_type, content.bytes.clone()))
}

pub(crate) fn put(state: &mut State, call: &Call<'_>, reference: &str) -> RegistryResult {
    let media_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    let content =
        Content::parse(media_type, call.body.clone()).map_err(RegistryError::manifest_invalid)?;
    let digest = oci::sha256(&content.bytes);
    let tag = if is_digest(reference) {
        if checked_digest(reference)? != digest {
            return Err(RegistryError::digest_invalid(format!(
                "the manifest's digest is {digest}, not {reference}"
            )));
        }
        None
    } else {
        docr::Tag::new(reference).map_err(|e| {
            RegistryError::new(StatusCode::BAD_REQUEST, "TAG_INVALID", e.to_string())
        })?;
        Some(reference.to_string())
    };
    let serial = state.next_serial();
    let registry = call.registry(state)?;
    let mut blobs = Vec::new();
    for blob in &content.blobs {
        let size = match registry.blobs.get(&blob.digest) {
            Some(size) => *size,
            None if blob.digest == oci::empty_blob_digest() => continue,
            None => return Err(blob_unknown(&blob.digest)),
        };
        blobs.push((blob.digest.clone(), size));
    }
    let repository = registry
        .repositories
        .entry(call.repository.to_string())
        .or_default();
    if let Some(child) = content
        .children
        .iter()
        .find(|c| repository.manifest(&c.digest).is_none())
    {
        return Err(blob_unknown(&child.digest));
    }
    if let Some(tag) = &tag {
        for manifest in &mut repository.manifests {
            manifest.tags.retain(|t| t != tag);
        }
    }
    let subject = content.subject.as_ref().map(|s| s.digest.clone());
    match repository.manifests.iter_mut().find(|m| m.digest == digest) {
        Some(known) => {
            known.tags.extend(tag);
            known.updated_at = call.now.wall;
        }
        None => {
            let manifest = Manifest {
                digest: digest.clone(),
                tags: tag.into_iter().collect(),
                updated_at: call.now.wall,
                size_bytes: blobs.iter().map(|(_, size)| size).sum(),
                blobs,
                serial,
                content: Some(content),
            };
            repository.manifests.push(manifest);
        }
    }
    let answer = Answer::new(StatusCode::CREATED)
        .header(
            "location",
            format!("{}/v2/{}/manifests/{digest}", call.url, call.name),
        )
        .header("docker-content-digest", digest);
    Ok(match subject.filter(|_| call.referrers_api) {
        Some(subject) => answer.header("oci-subject", subject),
        None => answer,
    })
}

fn blob_unknown(digest: &str) -> RegistryError {
    RegistryError::new(
        StatusCode::BAD_REQUEST,
        "MANIFEST_BLOB_UNKNOWN",
        format!("blob unknown to registry: {digest}"),
    )
}

pub(crate) fn delete(state: &mut State, call: &Call<'_>, reference: &str) -> RegistryResult {
    let repository = call.repository(state)?;
    if is_digest(reference) {
        let before = repository.manifests.len();
        repository.manifests.retain(|m| m.digest != reference);
        if repository.manifests.len() == before {
            return Err(RegistryError::manifest_unknown(reference));
        }
    } else {
        let tagged = repository
            .manifests
            .iter_mut()
            .find(|m| m.tags.iter().any(|t| t == reference))
            .ok_or_else(|| RegistryError::manifest_unknown(reference))?;
        tagged.tags.retain(|t| t != reference);
    }
    Ok(Answer::new(StatusCode::ACCEPTED))
}
