//! The registry's read side: DOCR is a standard OCI distribution endpoint
//! (`registry.digitalocean.com`), and it, not the API's listing, is the truth about what a
//! tag points to and how manifests reference each other.
//!
//! A [`RegistryReader`] asks the API for read-only Docker credentials with a short expiry
//! (kept in memory, never written anywhere, renewed before they expire), trades them at the
//! realm a `401` names for a bearer token per repository, and reads manifests (with the four index and manifest media
//! types in `Accept`, each verified against its digest), tags and referrers. Its requests go
//! through the client's retries (429 `Retry-After` included), in-flight bound and tracing;
//! no secret is traced.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::registry::RegistryExt;
//!
//! # async fn run(client: Client) -> Result<(), docr::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let repository: RepositoryName = "web".parse()?;
//! let reader = client.registry_reader(&registry);
//! for tag in reader.tags(&repository).await? {
//!     if let Some(m) = reader.manifest(&repository, &tag).await? {
//!         println!("{tag}: {} ({} children)", m.digest, m.structure.children.len());
//!     }
//! }
//! # Ok(()) }
//! ```

mod auth;
mod cache;
mod credentials;
mod manifest;
mod write;

pub use cache::{DEFAULT_MANIFEST_CACHE_BYTES, ManifestCache};
pub use write::RESTORE_CREDENTIALS_EXPIRY;

pub use manifest::{
    ACCEPTED as ACCEPTED_MANIFEST_TYPES, DOCKER_LIST, DOCKER_MANIFEST, Descriptor, ManifestKind,
    ManifestStructure, OCI_INDEX, OCI_MANIFEST, Platform, is_attestation,
};

use crate::Client;
use crate::ext::error::Error;
use crate::ext::names::{Digest, RegistryName, RepositoryName};
use auth::Bearer;
use bytes::Bytes;
use credentials::Credentials;
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long the read-only credentials a reader asks for live, unless the client says otherwise
/// ([`ClientBuilder::registry_credentials_expiry`](crate::ClientBuilder::registry_credentials_expiry)):
/// long enough for a large plan, short enough that a leaked one is soon worthless. A reader
/// renews them before they expire.
pub const READER_CREDENTIALS_EXPIRY: Duration = Duration::from_secs(3600);
/// The largest manifest read (distribution's own limit is 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Tags asked for per page.
const TAGS_PER_PAGE: u32 = 1000;

/// Reading the registry, as a method of [`Client`].
pub trait RegistryExt {
    /// A reader of one registry's manifests, tags and referrers.
    fn registry_reader(&self, registry: &RegistryName) -> RegistryReader;
}

impl RegistryExt for Client {
    fn registry_reader(&self, registry: &RegistryName) -> RegistryReader {
        let credentials = Credentials::new(self.inner.registry_credentials_expiry(), false);
        RegistryReader::new(self, registry, credentials, false)
    }
}

/// A manifest as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchedManifest {
    /// Its digest, checked against its bytes.
    pub digest: Digest,
    /// What it declares.
    pub structure: ManifestStructure,
    /// Its size in bytes.
    pub size: usize,
    /// Its bytes, exactly as the registry served them (they hash to `digest`).
    pub bytes: Bytes,
}

/// Reads one registry: DOCR is a standard OCI distribution endpoint, and it, not the API's
/// listing, is the truth about what a tag points to and how manifests reference each other.
///
/// A reader asks the API for read-only Docker credentials when it first needs them (kept in
/// memory, never written anywhere), trades them at the realm a `401` names for a bearer token
/// per repository, and reads manifests (the four index and manifest media types in `Accept`,
/// each verified against its digest), tags and referrers. Its requests go through the client's
/// retries (429 `Retry-After` included), in-flight bound and tracing; no secret is traced.
/// Cheap to share by reference across tasks. Whether the registry serves the referrers API is
/// learned once ([`referrers`](Self::referrers)); with a [`ManifestCache`]
/// ([`with_cache`](Self::with_cache)), a manifest is read from the registry once in its life.
///
/// # Credentials over time
/// The credentials live as long as the client asks
/// ([`registry_credentials_expiry`](crate::ClientBuilder::registry_credentials_expiry), an
/// hour by default), and a bearer token no longer than the credentials it was bought with.
/// So that a long run (a prune of thousands of manifests at the API's rate limit) outlives
/// them, the reader:
///
/// - renews them before they expire: once less than a tenth of their lifetime, or a minute,
///   whichever is smaller, remains on the client's clock. Tokens bought with the old ones are
///   not sent again; each repository's is bought anew from its last challenge.
/// - renews them once when the registry refuses a token just bought, or the realm refuses
///   the credentials (a `401`: the server may have granted less than asked), and tries again.
///   A second refusal is the error.
///
/// One renewal at a time: callers that need credentials meanwhile wait for it.
///
/// ```no_run
/// use docr::prelude::*;
/// use docr::registry::RegistryExt;
///
/// # async fn run(client: Client) -> Result<(), docr::Error> {
/// let registry: RegistryName = "acme".parse()?;
/// let repository: RepositoryName = "web".parse()?;
/// let reader = client.registry_reader(&registry);
/// for tag in reader.tags(&repository).await? {
///     if let Some(m) = reader.manifest(&repository, &tag).await? {
///         println!("{tag}: {} ({} children)", m.digest, m.structure.children.len());
///     }
/// }
/// # Ok(()) }
/// ```
pub struct RegistryReader {
    client: Client,
    registry: RegistryName,
    /// `Basic <auth>`, marked sensitive, renewed before it expires.
    credentials: Credentials,
    /// A writer (restoring manifests): read-write credentials, tokens that push.
    read_write: bool,
    /// Per repository, its `Bearer <token>` (marked sensitive) and the challenge it answered.
    tokens: Mutex<HashMap<String, Bearer>>,
    /// The realm and service the registry's challenges name, once one was answered: a token
    /// for another repository is bought there without being challenged first.
    realm: Mutex<Option<auth::Challenge>>,
    /// Held by the one request sent without a token while the realm is unknown: the others
    /// wait for the challenge it gets rather than each be challenged (a `401` apiece).
    realm_probe: futures::lock::Mutex<()>,
    /// Whether the referrers API answers (learned from the first call that tells).
    referrers_api: Mutex<Option<bool>>,
    /// Held by the one referrers call asked while the above is unknown: the others wait for
    /// its answer rather than each ask a registry that may not serve the API.
    referrers_probe: futures::lock::Mutex<()>,
    /// Manifests kept between runs, by digest.
    cache: Option<ManifestCache>,
}

impl std::fmt::Debug for RegistryReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryReader")
            .field("registry", &self.registry)
            .field("credentials", &"<redacted>")
            .field("cache", &self.cache.as_ref().map(ManifestCache::dir))
            .finish()
    }
}

impl RegistryReader {
    fn new(
        client: &Client,
        registry: &RegistryName,
        credentials: Credentials,
        read_write: bool,
    ) -> Self {
        Self {
            client: client.clone(),
            registry: registry.clone(),
            credentials,
            read_write,
            tokens: Mutex::new(HashMap::new()),
            realm: Mutex::new(None),
            realm_probe: futures::lock::Mutex::new(()),
            referrers_api: Mutex::new(None),
            referrers_probe: futures::lock::Mutex::new(()),
            cache: None,
        }
    }

    /// The registry read.
    pub fn registry(&self) -> &RegistryName {
        &self.registry
    }

    /// The registry's URL (`https://registry.digitalocean.com` unless the client says
    /// otherwise).
    pub fn registry_url(&self) -> &str {
        self.client.inner.registry_url()
    }

    /// Keeps the manifests this reader reads in `cache`, and reads a manifest by digest from
    /// there when it holds it (checked against the digest; an entry that does not match is
    /// read again from the registry). Tags are always resolved at the registry and referrers
    /// always asked where the API exists: those change; a manifest does not.
    ///
    /// A manifest read from the cache is not asked for at the registry: whether a repository
    /// still holds it is for the API's listing and the tags resolved at the registry to say.
    pub fn with_cache(mut self, cache: ManifestCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The cache given with [`with_cache`](Self::with_cache).
    pub fn cache(&self) -> Option<&ManifestCache> {
        self.cache.as_ref()
    }

    /// A manifest by tag or digest; `None` when the registry does not have it. A manifest
    /// whose bytes do not match its digest, or that is not a manifest this crate understands,
    /// is an error that says why. By digest, it is read from the reader's cache when there.
    pub async fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &str,
    ) -> Result<Option<FetchedManifest>, Error> {
        if let Some(cached) = self.cached(reference) {
            return Ok(Some(cached));
        }
        let what = format!("manifest {}/{repository}:{reference}", self.registry);
        let Some(response) = self
            .manifest_request(repository, Method::GET, reference, &what)
            .await?
        else {
            return Ok(None);
        };
        let served_type = header(&response, "content-type");
        let served_digest = header(&response, "docker-content-digest");
        let bytes = response
            .bytes()
            .await
            .map_err(|e| registry_error(&what, None, e))?;
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(refused(&what, "the manifest is larger than 4 MiB"));
        }
        let digest = sha256_digest(&bytes);
        let expected = if reference.contains(':') {
            Some(reference.to_string())
        } else {
            served_digest
        };
        if let Some(expected) = expected
            && expected != digest.as_ref()
        {
            return Err(refused(
                &what,
                &format!("its bytes hash to {digest}, not {expected}"),
            ));
        }
        // Kept only when its bytes say all it is (its own `mediaType`): a cached entry has no
        // `Content-Type` beside it.
        let structure = match ManifestStructure::parse(None, &bytes) {
            Ok(structure) => {
                if let Some(cache) = &self.cache {
                    cache.put(&digest, &bytes);
                }
                structure
            }
            Err(_) => ManifestStructure::parse(served_type.as_deref(), &bytes)
                .map_err(|e| refused(&what, &e))?,
        };
        Ok(Some(FetchedManifest {
            digest,
            structure,
            size: bytes.len(),
            bytes,
        }))
    }

    /// Whether the reader's cache holds `digest` (not checked: a read checks it).
    pub(crate) fn caches(&self, digest: &Digest) -> bool {
        self.cache.as_ref().is_some_and(|c| c.contains(digest))
    }

    /// The manifest `reference` from the cache, when it is a digest held there.
    fn cached(&self, reference: &str) -> Option<FetchedManifest> {
        let cache = self.cache.as_ref()?;
        let digest = Digest::new(reference).ok()?;
        let bytes = cache.get(&digest)?;
        let structure = ManifestStructure::parse(None, &bytes).ok()?;
        Some(FetchedManifest {
            digest,
            structure,
            size: bytes.len(),
            bytes,
        })
    }

    /// The digest a tag points to now (a `HEAD`), or `None` when the tag does not exist.
    pub async fn resolve(
        &self,
        repository: &RepositoryName,
        tag: &str,
    ) -> Result<Option<Digest>, Error> {
        let what = format!("tag {}/{repository}:{tag}", self.registry);
        let Some(response) = self
            .manifest_request(repository, Method::HEAD, tag, &what)
            .await?
        else {
            return Ok(None);
        };
        match header(&response, "docker-content-digest") {
            Some(d) => Digest::new(d)
                .map(Some)
                .map_err(|e| refused(&what, &e.to_string())),
            // No digest header: read the manifest and hash it.
            None => Ok(self.manifest(repository, tag).await?.map(|m| m.digest)),
        }
    }

    /// Every tag of a repository, as the registry lists them (`tags/list`, every page).
    pub async fn tags(&self, repository: &RepositoryName) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let what = format!("the tags of {}/{repository}", self.registry);
        let mut url = format!("{}?n={TAGS_PER_PAGE}", self.url(repository, "tags/list"));
        let mut all: Vec<String> = Vec::new();
        loop {
            let response = self
                .send(repository, Method::GET, &url, None, &what)
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(all);
            }
            let response = ok(response, &what).await?;
            let next = header(&response, "link").and_then(|l| next_link(&l));
            let page: Page = response
                .json()
                .await
                .map_err(|e| registry_error(&what, None, e))?;
            let before = all.len();
            all.extend(page.tags.unwrap_or_default());
            match next {
                Some(next) if all.len() > before => url = self.absolute(&next),
                _ => break,
            }
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// The manifests that refer to `digest` (their `subject`), through the referrers API, or
    /// `None` when the registry does not serve that API (then the `sha256-<hex>` tags are
    /// where referrers live).
    ///
    /// Whether it does is learned once for the reader's life: the first call asks alone (the
    /// others wait for its answer), and a `404` or `405` that is not an OCI index (an empty
    /// one means the API is there) marks the API absent; no later call then asks. A registry
    /// that serves it keeps being asked (referrers are added any time).
    pub async fn referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        match self.referrers_api() {
            Some(false) => return Ok(None),
            Some(true) => return self.ask_referrers(repository, digest).await,
            None => {}
        }
        let _probe = self.referrers_probe.lock().await;
        match self.referrers_api() {
            Some(false) => Ok(None),
            _ => self.ask_referrers(repository, digest).await,
        }
    }

    fn referrers_api(&self) -> Option<bool> {
        *self.referrers_api.lock().expect("not poisoned")
    }

    async fn ask_referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        #[derive(serde::Deserialize)]
        struct Listing {
            #[serde(default)]
            manifests: Option<Vec<Descriptor>>,
        }
        let what = format!("the referrers of {}/{repository}@{digest}", self.registry);
        let url = self.url(repository, &format!("referrers/{digest}"));
        let response = self
            .send(repository, Method::GET, &url, Some(OCI_INDEX), &what)
            .await?;
        let status = response.status();
        let listing: Listing = if matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) {
            let body = response.bytes().await.unwrap_or_default();
            match serde_json::from_slice::<Listing>(&body) {
                // An index, empty or not: the API is there.
                Ok(listing) if listing.manifests.is_some() => listing,
                _ => {
                    *self.referrers_api.lock().expect("not poisoned") = Some(false);
                    tracing::debug!(registry = %self.registry, %status, "the registry does not serve the referrers API: its tag schema only");
                    return Ok(None);
                }
            }
        } else {
            ok(response, &what)
                .await?
                .json()
                .await
                .map_err(|e| registry_error(&what, None, e))?
        };
        *self.referrers_api.lock().expect("not poisoned") = Some(true);
        let manifests = listing.manifests.unwrap_or_default();
        for d in &manifests {
            Digest::new(d.digest.clone()).map_err(|e| refused(&what, &e.to_string()))?;
        }
        Ok(Some(manifests))
    }

    /// `GET` or `HEAD` of `manifests/<reference>` with every manifest type in `Accept`: the
    /// successful response, `None` for a 404, or the registry's error.
    async fn manifest_request(
        &self,
        repository: &RepositoryName,
        method: Method,
        reference: &str,
        what: &str,
    ) -> Result<Option<reqwest::Response>, Error> {
        let url = self.url(repository, &format!("manifests/{reference}"));
        let accept = ACCEPTED.join(", ");
        let response = self
            .send(repository, method, &url, Some(&accept), what)
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        ok(response, what).await.map(Some)
    }

    fn url(&self, repository: &RepositoryName, rest: &str) -> String {
        format!(
            "{}/v2/{}/{repository}/{rest}",
            self.client.inner.registry_url(),
            self.registry
        )
    }

    /// A `Link` target made absolute against the registry URL.
    fn absolute(&self, link: &str) -> String {
        if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else {
            format!("{}{link}", self.client.inner.registry_url())
        }
    }
}

use manifest::ACCEPTED;

/// The response when it is a success; otherwise the registry's error, with its code.
async fn ok(response: reqwest::Response, what: &str) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let body = response.bytes().await.unwrap_or_default();
    let detail = serde_json::from_slice::<Errors>(&body).ok().and_then(|e| {
        e.errors
            .first()
            .map(|e| format!("{} {}", e.code, e.message).trim().to_string())
    });
    Err(Error::Registry {
        what: what.to_string(),
        status: Some(status),
        detail,
    })
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The target of a `Link: <...>; rel="next"` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// The `sha256:<hex>` digest of some bytes.
pub(crate) fn sha256_digest(bytes: &[u8]) -> Digest {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Digest::new(format!("sha256:{hex}")).expect("a sha256 digest is a valid digest")
}

fn refused(what: &str, detail: &str) -> Error {
    Error::Registry {
        what: what.to_string(),
        status: None,
        detail: Some(detail.to_string()),
    }
}

fn registry_error(what: &str, status: Option<StatusCode>, e: reqwest::Error) -> Error {
    Error::Registry {
        what: what.to_string(),
        status: status.or(e.status()),
        detail: Some(e.without_url().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_read() {
        assert_eq!(
            next_link(r#"</v2/acme/web/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/acme/web/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }
}
