//! Blob uploads: `POST /v2/<name>/blobs/uploads/` starts one (monolithic with `?digest=`, or a
//! cross-repository mount with `?mount=<digest>&from=<other>`), `PATCH` appends a chunk (its
//! `Content-Range` must start where the upload ends), `PUT ?digest=` ends it, `GET` says how
//! far it is, `DELETE` cancels it. A finished blob is stored in the registry, counted in its
//! storage until a garbage collection frees it.

use super::answer::{Answer, RegistryError, RegistryResult, checked_digest};
use super::call::{Call, split_name};
use crate::oci;
use crate::state::{State, Upload};
use axum::http::StatusCode;

fn location(call: &Call<'_>, id: &str) -> String {
    format!("{}/v2/{}/blobs/uploads/{id}", call.url, call.name)
}

/// distribution's `Range` for `length` bytes received: `0-<last byte>`, `0-0` when none.
fn range(length: usize) -> String {
    format!("0-{}", length.saturating_sub(1))
}

fn accepted(call: &Call<'_>, id: &str, length: usize) -> Answer {
    Answer::new(StatusCode::ACCEPTED)
        .header("location", location(call, id))
        .header("docker-upload-uuid", id)
        .header("range", range(length))
}

/// Stores `bytes` as the blob `digest` (after checking it) and answers 201.
fn store(state: &mut State, call: &Call<'_>, digest: &str, bytes: Vec<u8>) -> RegistryResult {
    let digest = checked_digest(digest)?;
    if oci::sha256(&bytes) != digest {
        return Err(RegistryError::digest_invalid(format!(
            "the content does not match digest {digest}"
        )));
    }
    let registry = call.registry(state)?;
    registry
        .blobs
        .insert(digest.to_string(), bytes.len() as u64);
    registry
        .blob_content
        .insert(digest.to_string(), bytes.into());
    registry.storage_updated_at = call.now.wall;
    Ok(created(call, digest))
}

fn created(call: &Call<'_>, digest: &str) -> Answer {
    Answer::new(StatusCode::CREATED)
        .header(
            "location",
            format!("{}/v2/{}/blobs/{digest}", call.url, call.name),
        )
        .header("docker-content-digest", digest)
}

pub(crate) fn start(state: &mut State, call: &Call<'_>) -> RegistryResult {
    call.registry(state)?;
    if let Some(digest) = call.query("mount") {
        let digest = checked_digest(digest)?;
        let from = call.query("from").unwrap_or_default();
        let (from_registry, _) = split_name(from)?;
        let registry = call.registry(state)?;
        // A mount within the registry finds the blob in its storage; anything else uploads.
        if from_registry == call.registry && registry.blob_content.contains_key(digest) {
            return Ok(created(call, digest));
        }
    } else if let Some(digest) = call.query("digest") {
        return store(state, call, digest, call.body.to_vec());
    }
    let id = state.new_uuid();
    state.registry_side.uploads.insert(
        id.clone(),
        Upload {
            name: call.name.clone(),
            data: call.body.to_vec(),
        },
    );
    Ok(accepted(call, &id, call.body.len()))
}

fn upload<'s>(
    state: &'s mut State,
    call: &Call<'_>,
    id: &str,
) -> Result<&'s mut Upload, RegistryError> {
    state
        .registry_side
        .uploads
        .get_mut(id)
        .filter(|u| u.name == call.name)
        .ok_or_else(|| RegistryError::upload_unknown(id))
}

pub(crate) fn append(state: &mut State, call: &Call<'_>, id: &str) -> RegistryResult {
    let upload = upload(state, call, id)?;
    if let Some(range) = call
        .headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
    {
        let start = range
            .trim()
            .trim_start_matches("bytes ")
            .split('-')
            .next()
            .and_then(|s| s.trim().parse::<usize>().ok());
        if start != Some(upload.data.len()) {
            return Err(RegistryError::range_invalid(format!(
                "Content-Range `{range}` does not start at {}",
                upload.data.len()
            )));
        }
    }
    upload.data.extend_from_slice(&call.body);
    let length = upload.data.len();
    Ok(accepted(call, id, length))
}

pub(crate) fn finish(state: &mut State, call: &Call<'_>, id: &str) -> RegistryResult {
    let digest = call
        .query("digest")
        .ok_or_else(|| RegistryError::digest_invalid("a digest is required to end an upload"))?;
    let mut data = std::mem::take(&mut upload(state, call, id)?.data);
    data.extend_from_slice(&call.body);
    state.registry_side.uploads.remove(id);
    store(state, call, digest, data)
}

pub(crate) fn status(state: &mut State, call: &Call<'_>, id: &str) -> RegistryResult {
    let length = upload(state, call, id)?.data.len();
    Ok(Answer::new(StatusCode::NO_CONTENT)
        .header("location", location(call, id))
        .header("docker-upload-uuid", id)
        .header("range", range(length)))
}

pub(crate) fn cancel(state: &mut State, call: &Call<'_>, id: &str) -> RegistryResult {
    upload(state, call, id)?;
    state.registry_side.uploads.remove(id);
    Ok(Answer::new(StatusCode::NO_CONTENT))
}
