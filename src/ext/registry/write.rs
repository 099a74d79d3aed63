//! The registry's write side, as restoring deleted manifests needs it: whether a blob is
//! still stored (a `HEAD`), and a manifest's exact bytes pushed again (a `PUT` by digest or
//! by tag).
//!
//! A writer is a [`RegistryReader`] whose credentials are read-write and short-lived
//! ([`RESTORE_CREDENTIALS_EXPIRY`]), asked of the API when first needed, kept in memory only,
//! renewed as a reader's are; its tokens are bought for `pull,push`. Nothing of them is
//! written anywhere or traced.

use super::auth::Body;
use super::credentials::Credentials;
use super::{RegistryReader, header, ok, refused};
use crate::Client;
use crate::ext::error::Error;
use crate::ext::names::{Digest, RegistryName, RepositoryName};
use bytes::Bytes;
use reqwest::{Method, StatusCode};
use std::time::Duration;

/// How long the read-write credentials a restore asks for live (or less, when the client's
/// [`registry_credentials_expiry`](crate::ClientBuilder::registry_credentials_expiry) is
/// shorter): a restore renews them before they expire, and a leaked one is soon worthless.
pub const RESTORE_CREDENTIALS_EXPIRY: Duration = Duration::from_secs(15 * 60);

impl RegistryReader {
    /// A writer of `registry`: read-write credentials of at most
    /// [`RESTORE_CREDENTIALS_EXPIRY`].
    pub(crate) fn writer(client: &Client, registry: &RegistryName) -> Self {
        let lifetime = client
            .inner
            .registry_credentials_expiry()
            .min(RESTORE_CREDENTIALS_EXPIRY);
        Self::new(client, registry, Credentials::new(lifetime, true), true)
    }

    /// Whether `repository` holds blob `digest` (a `HEAD`): `false` for a 404.
    pub(crate) async fn blob_exists(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let what = format!("blob {}/{repository}@{digest}", self.registry);
        let url = self.url(repository, &format!("blobs/{digest}"));
        let response = self
            .send(repository, Method::HEAD, &url, None, &what)
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        ok(response, &what).await.map(|_| true)
    }

    /// Pushes `bytes`, the manifest `digest` of `media_type`, under `reference` (its digest, or
    /// a tag). The registry must accept it as `digest`: an answer naming another digest is an
    /// error.
    pub(crate) async fn put_manifest(
        &self,
        repository: &RepositoryName,
        reference: &str,
        media_type: &str,
        bytes: &Bytes,
        digest: &Digest,
    ) -> Result<(), Error> {
        let what = format!(
            "push of manifest {}/{repository}:{reference}",
            self.registry
        );
        let url = self.url(repository, &format!("manifests/{reference}"));
        let body = Body {
            content_type: media_type.to_string(),
            bytes: bytes.clone(),
        };
        let response = self
            .send_with(repository, Method::PUT, &url, None, Some(&body), &what)
            .await?;
        let response = ok(response, &what).await?;
        match header(&response, "docker-content-digest") {
            Some(answered) if answered != digest.as_str() => Err(refused(
                &what,
                &format!("the registry stored it as {answered}, not {digest}"),
            )),
            _ => Ok(()),
        }
    }
}
