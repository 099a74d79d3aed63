//! An embedded, stateful DigitalOcean Container Registry: a real HTTP server on 127.0.0.1 that
//! answers all 41 operations of `spec/registry.yaml` as DigitalOcean's API does, for the
//! quickstart, this crate's tests and benchmarks, and tests of code that uses docr.
//!
//! ```no_run
//! use docr_fake::{FakeDocr, ManifestSeed, RegistrySeed, RepositorySeed, digest};
//! use docr::prelude::*;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = FakeDocr::builder()
//!     .registry(RegistrySeed::new("acme").tier("professional").region("nyc3").repository(
//!         RepositorySeed::new("team/app")
//!             .manifest(ManifestSeed::new(digest("app-1")).tags(["v1", "latest"]).blob(digest("l1"), 1234))
//!             .manifest(ManifestSeed::new(digest("app-0")).blob(digest("l0"), 999)),
//!     ))
//!     .gc_step(Duration::from_millis(20))
//!     .start()
//!     .await?;
//! let client = fake.client()?;
//! let registry: RegistryName = "acme".parse()?;
//!
//! client
//!     .registries_delete_repository_manifest()
//!     .registry_name(&registry)
//!     .repository_name("team/app")
//!     .manifest_digest(digest("app-0"))
//!     .send()
//!     .await?;
//! let started = client.start_garbage_collection(&registry).send().await?;
//! let done = client
//!     .wait_for_garbage_collection(&registry, &started.uuid)
//!     .wait(Duration::from_secs(10))
//!     .await?;
//! assert_eq!(done.freed_bytes, Some(999));
//! let acme = fake.snapshot().registry("acme").cloned();
//! assert!(acme.is_some_and(|r| !r.has_blob(&digest("l0"))));
//! fake.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What it does
//! - **State.** Registries (several), their repositories (nested names such as `team/app`),
//!   manifests with tags and blobs, and the account's subscription. Deleting a tag leaves its
//!   manifest (untagged after its last tag); deleting a manifest removes its tags; deleting a
//!   repository removes its manifests and tags. Blobs stay stored, and counted in
//!   `storage_usage_bytes`, until a garbage collection deletes them: until then, as the
//!   distribution registry does, a deleted manifest's bytes pushed again (by digest or by
//!   tag; an index once its children are back) restore it, and after it the push is refused
//!   with `MANIFEST_BLOB_UNKNOWN`.
//! - **Garbage collection.** Each status lasts [`gc_step`](FakeDocrBuilder::gc_step):
//!   `requested`, `waiting for write JWTs to expire`, `waiting for delete requests` (not in the
//!   spec's list; the live API sends it), `scanning manifests`, `deleting unreferenced blobs`,
//!   then `succeeded`. `untagged manifests only` removes untagged manifests and deletes no
//!   blob; `unreferenced blobs only` deletes the stored blobs no remaining manifest of the
//!   registry references; the combined type does both, in that order. `blobs_deleted` and
//!   `freed_bytes` count exactly those blobs. One collection at a time per registry (409
//!   otherwise); the active one answers `GET .../garbage-collection`, and once it has ended only
//!   the list shows it. `PUT {"cancel": true}` moves it to `cancelling`, one step later
//!   `cancelled`, freeing nothing.
//! - **The deprecated family** (`/v2/registry*`) answers 412 `precondition_failed` while the
//!   account has more than one registry, and otherwise acts on its only registry.
//! - **Subscription tiers**: `starter` (1 repository, 500 MiB, no overage), `basic`
//!   (5 repositories, 5 GiB), `professional` (unlimited repositories, 100 GiB). The fake allows
//!   1 registry on starter and basic and 10 on professional; a change to a tier the account
//!   does not fit answers 422 and the options list says why (`OverRepositoryLimit`,
//!   `OverStorageLimit`, `OverRegistryLimit`).
//! - **Docker credentials**: `auth` is base64 of
//!   `docr-fake-<n>:<registry>.<read-only|read-write>.<expiry Unix seconds|never>`, as
//!   `read_write` and `expiry_seconds` ask, within
//!   [`credentials_lifetime`](FakeDocrBuilder::credentials_lifetime) when one is set; each
//!   issue is recorded in the [`Snapshot`]. A registry token never outlives the credentials it
//!   was traded for.
//! - **HTTP as DigitalOcean**: `Authorization: Bearer <token>` or 401; `page`/`per_page`
//!   (default 20, at most 200, anything else 400) with `meta.total` and absolute `links.pages`
//!   on the fake's URL; `repositoriesV2` carries an opaque `page_token` in its `next`/`prev`
//!   links; errors as `{"id", "message", "request_id"}`; `x-request-id` and `ratelimit-*` on
//!   every answer, 429 with `Retry-After` once the [`RateBudget`] is spent; bad input gets a
//!   4xx, never a 5xx. Repository names are percent-decoded exactly once from the raw path.
//! - **Faults** ([`Faults`]): latency (each answer leaves that long after its request came,
//!   the fake's own work done within it), a share of 5xx, bursts of 429, and connections
//!   closed without an answer, drawn from a seeded generator; changeable while running.
//! - **The registry side**: the OCI distribution API on a second listener,
//!   [`registry_url`](FakeDocr::registry_url), repositories named `<registry>/<repository>`:
//!   blob uploads (monolithic, chunked, cross-repository mounts), manifests in the four media
//!   types with `Accept` negotiation and verified digests, tags paging, the referrers API
//!   (off with [`referrers_api(false)`](FakeDocrBuilder::referrers_api)), deletes. It shares
//!   the API's state: pushes show in the listings and in storage, deletes on either side show
//!   on both, and a garbage collection keeps the children of tagged indexes. Auth is DOCR's:
//!   401 with a Bearer challenge whose realm is the API's `/v2/registry/auth`, which trades
//!   the docker-credentials `user:password` (or the API token as both) for a token; read-only
//!   credentials pull only. Faults and the rate budget apply to the API listener alone, but
//!   for latency, which both listeners wait; [`Calls::registry`] counts the registry's calls.
//!   Seeded manifests are served too: [`digest`] is the SHA-256 of a synthesized manifest,
//!   and [`ImageSeed`] and [`IndexSeed`] seed real content. As DigitalOcean's, the API's
//!   listings can lag the registry: [`lag_listing`](FakeDocr::lag_listing) leaves manifests
//!   out of them until [`catch_up`](FakeDocr::catch_up).

/// Builder methods that each set a field: `name(arg: Type) => field` stores the argument,
/// `name(arg: Type) => field = value` stores `value`.
macro_rules! setters {
    (@value $arg:ident) => { $arg };
    (@value $arg:ident $value:expr) => { $value };
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident $(= $value:expr)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.$field = setters!(@value $arg $($value)?);
                self
            }
        )*
    };
}

mod account;
mod builder;
mod call;
mod calls;
mod collections;
mod content;
mod demo;
mod dispatch;
mod faults;
mod images;
mod input;
mod manifest_seed;
mod net;
mod oci;
mod pagination;
mod registry;
mod render;
mod routes;
mod seed;
mod server;
mod shared;
mod snapshot;
mod state;
mod tiers;

pub use builder::FakeDocrBuilder;
pub use calls::{Calls, Exchange};
pub use faults::{Faults, RateBudget};
pub use images::{ImageSeed, IndexSeed};
pub use manifest_seed::{ManifestSeed, digest};
pub use routes::OPERATIONS;
pub use seed::{RegistrySeed, RepositorySeed};
pub use snapshot::{
    BlobSnapshot, GarbageCollectionSnapshot, ManifestSnapshot, RegistrySnapshot,
    RepositorySnapshot, Snapshot,
};
pub use state::IssuedCredentials;

use docr::Client;
use docr::ClientBuilder;
use shared::Shared;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long [`FakeDocr::shutdown`] lets open requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running fake DOCR. Dropping it stops the server at once; [`shutdown`](Self::shutdown)
/// lets open requests finish first.
pub struct FakeDocr {
    shared: Arc<Shared>,
    url: String,
    addr: SocketAddr,
    registry_addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl FakeDocr {
    /// Starts configuring a fake.
    pub fn builder() -> FakeDocrBuilder {
        FakeDocrBuilder::default()
    }

    /// `http://127.0.0.1:PORT`, the API URL to give a client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the registry side: the OCI distribution API for every registry
    /// of the fake, repositories named `<registry>/<repository>`.
    pub fn registry_url(&self) -> &str {
        &self.shared.registry_url
    }

    /// `127.0.0.1:PORT`, the registry side as image references name it
    /// (`127.0.0.1:PORT/acme/app:1.0`).
    pub fn registry_host(&self) -> String {
        self.registry_addr.to_string()
    }

    /// The token requests must bear.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// A client builder with this fake's token, API URL and registry URL, to adjust (retries,
    /// pacing, clock).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .token(self.shared.token.as_str())
            .api_url(self.url.as_str())
            .registry_url(self.shared.registry_url.as_str())
    }

    /// A client for this fake, with the default policies.
    pub fn client(&self) -> Result<Client, docr::Error> {
        self.client_builder().build()
    }

    /// The state now, garbage collections brought up to date.
    pub fn snapshot(&self) -> Snapshot {
        let now = tokio::time::Instant::now();
        let mut state = self.shared.state();
        state.advance(now);
        snapshot::take(&state, now)
    }

    /// The requests received so far.
    pub fn calls(&self) -> Calls {
        self.shared.log().calls()
    }

    /// The last answered requests (see [`FakeDocrBuilder::journal_length`]), oldest first,
    /// with the JSON answered.
    pub fn journal(&self) -> Vec<Exchange> {
        self.shared.log().journal()
    }

    /// Makes the API's listings of `registry/repository` lag behind its registry, as
    /// DigitalOcean's do: these manifests (by digest) stay served by the registry, tags and
    /// referrers included, but the API's manifest and tag listings leave them out until
    /// [`catch_up`](Self::catch_up). A digest the repository does not hold is ignored.
    pub fn lag_listing<I, S>(&self, registry: &str, repository: &str, digests: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut state = self.shared.state();
        if let Some(repository) = state
            .registries
            .get_mut(registry)
            .and_then(|r| r.repositories.get_mut(repository))
        {
            repository
                .unlisted
                .extend(digests.into_iter().map(Into::into));
        }
    }

    /// The API's listings show everything the registry holds again.
    pub fn catch_up(&self) {
        let mut state = self.shared.state();
        for registry in state.registries.values_mut() {
            for repository in registry.repositories.values_mut() {
                repository.unlisted.clear();
            }
        }
    }

    /// Forgets the counts and the journal.
    pub fn reset_calls(&self) {
        self.shared.log().reset();
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults().faults().clone()
    }

    /// Replaces the faults from the next request on (the generator restarts from their seed).
    /// Rates outside `0.0..=1.0` are clamped.
    pub fn set_faults(&self, mut faults: Faults) {
        faults.error_rate = clamp_rate(faults.error_rate);
        faults.drop_rate = clamp_rate(faults.drop_rate);
        self.shared.faults().set(faults);
    }

    /// Stops accepting connections, lets open requests finish (up to 5 s) and stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

// The token stays out of `Debug`, as everywhere in docr.
impl fmt::Debug for FakeDocr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDocr")
            .field("url", &self.url)
            .field("registry_url", &self.shared.registry_url)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

impl Drop for FakeDocr {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
