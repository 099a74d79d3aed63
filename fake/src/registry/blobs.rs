//! `GET`/`HEAD /v2/<name>/blobs/<digest>`: a blob's bytes from the registry's storage.
//!
//! Blobs are stored per registry, as DOCR counts them, so any repository of the registry reads
//! them (distribution answers `BLOB_UNKNOWN` for a blob never linked to the repository). A blob
//! seeded by size alone has no bytes: it is listed and counted but answers `BLOB_UNKNOWN` here.
//! The OCI empty blob, `{}`, is readable everywhere.

use super::answer::{Answer, RegistryError, RegistryResult, checked_digest};
use super::call::Call;
use crate::oci;
use crate::state::State;
use axum::body::Bytes;

pub(crate) fn get(state: &mut State, call: &Call<'_>, digest: &str) -> RegistryResult {
    let digest = checked_digest(digest)?;
    let registry = call.registry(state)?;
    let bytes = if digest == oci::empty_blob_digest() {
        Bytes::from_static(oci::EMPTY_BLOB)
    } else {
        registry
            .blob_content
            .get(digest)
            .cloned()
            .ok_or_else(|| RegistryError::blob_unknown(digest))?
    };
    Ok(Answer::ok()
        .header("docker-content-digest", digest)
        .header("etag", format!("\"{digest}\""))
        .bytes("application/octet-stream", bytes))
}
