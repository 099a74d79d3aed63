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
//!
//! # Inside
//!
//! One job per file, and imports run one way: each file imports only files listed below it.
//! `lib.rs` declares the modules and re-exports the public types.
//!
//! - `builder.rs`: [`FakeDocrBuilder`] checks the seeds and settings, builds the state, binds
//!   the two listeners and mounts their handlers (the registry side's token endpoint on the
//!   API listener, as DOCR has it).
//! - `server.rs`: the API listener: counts a request, injects faults, checks the token, charges
//!   the rate budget, answers.
//! - `dispatch.rs`: a recognised route to its handler: `account.rs`, `collections.rs`,
//!   `content.rs`, which share `call.rs` (the request, and the registry it names).
//! - `registry/`: the registry side's listener: `mod.rs` routes to `blobs.rs`, `manifests.rs`,
//!   `referrers.rs` and `uploads.rs` once `auth.rs` has checked the token; they share `call.rs`
//!   and `answer.rs`.
//! - `fake_docr.rs`: [`FakeDocr`], the running fake's handle.
//! - `shared.rs`: what the listeners and the handle share: the token, the URLs, and the state,
//!   faults, rate budget and call log behind their locks.
//! - `render.rs` (the state as the spec's JSON) and `snapshot.rs` (the state as [`Snapshot`]).
//! - `state/`: the account (`mod.rs`), what a registry holds (`registry.rs`), garbage
//!   collections (`collection.rs`), the registry side's uploads and token grants
//!   (`registry_side.rs`), [`IssuedCredentials`] (`credentials.rs`), and `now.rs`.
//! - `demo.rs`, `seed.rs` ([`RegistrySeed`], [`RepositorySeed`]), `images.rs` ([`ImageSeed`],
//!   [`IndexSeed`]), `manifest_seed.rs` ([`ManifestSeed`], [`digest`]).
//! - At the bottom: `routes.rs` (the 41 operations), `pagination.rs`, `input.rs` (requests
//!   read, replies and errors), `faults.rs`, `calls.rs`, `net.rs`, `oci.rs`, `tiers.rs`.

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
mod fake_docr;
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
pub use fake_docr::FakeDocr;
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
