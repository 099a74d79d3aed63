//! Every page: a lazy `Stream` of items for every list call.
//!
//! Page-numbered lists (tags, manifests, garbage collections, repositories v1) fetch the first
//! page, learn `meta.total`, then fetch the remaining pages concurrently (bounded) while
//! yielding items in order. Token lists (repositories v2) follow the `page_token` inside
//! `links.pages.next` one page at a time and stop on a repeated token. Every page request goes
//! through the same client, so the same auth, pacing, retries and encoding apply.
//!
//! ```no_run
//! use docr::prelude::*;
//! use futures::TryStreamExt;
//!
//! # async fn run(client: Client) -> Result<(), docr::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let repository: RepositoryName = "team/app".parse()?;
//! let mut tags = client.list_tags(&registry, &repository).stream();
//! while let Some(tag) = tags.try_next().await? {
//!     println!("{}", tag.tag.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

/// The setters and the collecting end that both kinds of listing share.
macro_rules! listing_common {
    () => {
        /// Items per page, 1 to 200 (default 200: the fewest calls).
        pub fn per_page(mut self, per_page: u32) -> Self {
            self.per_page = per_page.clamp(1, MAX_PER_PAGE);
            self
        }

        /// Which endpoint family to call.
        pub fn family(mut self, family: ApiFamily) -> Self {
            self.family = family;
            self
        }

        /// Every item, collected.
        pub async fn collect(self) -> Result<Vec<T>, Error> {
            use futures::TryStreamExt;
            self.stream().try_collect().await
        }
    };
}

mod paged;
mod token;

pub use paged::PagedList;
pub use token::TokenList;

use crate::ext::error::Error;
use crate::ext::family::{ApiFamily, for_family};
use crate::ext::names::{RegistryName, RepositoryName};
use crate::{Client, types};
use paged::{Page, total};
use std::future::Future;
use std::sync::Arc;
use token::{Cursor, TokenPage};

/// The largest page DigitalOcean serves (`per_page` maximum in the spec).
pub const MAX_PER_PAGE: u32 = 200;
/// Pages fetched at once once the total is known.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The listings, as methods of [`Client`].
pub trait ListExt {
    /// Every tag of a repository.
    fn list_tags(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryTag>;
    /// Every manifest of a repository, with its tags and blobs.
    fn list_manifests(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryManifest>;
    /// Every garbage collection of a registry, newest first.
    fn list_garbage_collections(
        &self,
        registry: &RegistryName,
    ) -> PagedList<types::GarbageCollection>;
    /// Every repository of a registry (the v2 listing, paged by token).
    fn list_repositories(&self, registry: &RegistryName) -> TokenList<types::RepositoryV2>;
    /// Every repository of a registry through the deprecated v1 listing (page-numbered;
    /// `/v2/registry` only).
    fn list_repositories_v1(&self, registry: &RegistryName) -> PagedList<types::Repository>;
}

/// A page-numbered listing whose pages `fetch` reads, each with its own clone of `names`.
fn paged<T, N, F, Fut>(names: N, fetch: F) -> PagedList<T>
where
    T: Send + 'static,
    N: Clone + Send + Sync + 'static,
    F: Fn(N, ApiFamily, u64, u32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    PagedList::new(Arc::new(move |family, page, per_page| {
        Box::pin(fetch(names.clone(), family, page, per_page))
    }))
}

/// Tags and manifests: the same query on a repository, differing only in the operation pair
/// and the field that holds the items.
macro_rules! repository_listing {
    ($client:expr, $registry:expr, $repository:expr, $current:ident | $deprecated:ident, $items:ident) => {
        paged(
            (
                $client.clone(),
                $registry.to_string(),
                $repository.to_string(),
            ),
            |(client, registry, repository), family, page, per_page| async move {
                let body = for_family!(family, client, $current | $deprecated, |call| call
                    .registry_name(registry)
                    .repository_name(repository)
                    .page(page)
                    .per_page(u64::from(per_page))
                    .send()
                    .await)?
                .into_inner();
                Ok(Page {
                    items: body.$items,
                    total: total(body.meta.total),
                })
            },
        )
    };
}

impl ListExt for Client {
    fn list_tags(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryTag> {
        repository_listing!(
            self,
            registry,
            repository,
            registries_list_repository_tags | registry_list_repository_tags,
            tags
        )
    }

    fn list_manifests(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryManifest> {
        repository_listing!(
            self,
            registry,
            repository,
            registries_list_repository_manifests | registry_list_repository_manifests,
            manifests
        )
    }

    fn list_garbage_collections(
        &self,
        registry: &RegistryName,
    ) -> PagedList<types::GarbageCollection> {
        let names = (self.clone(), registry.to_string());
        paged(
            names,
            |(client, registry), family, page, per_page| async move {
                let body = for_family!(
                    family,
                    client,
                    registries_list_garbage_collections | registry_list_garbage_collections,
                    |call| call
                        .registry_name(registry)
                        .page(page)
                        .per_page(u64::from(per_page))
                        .send()
                        .await
                )?
                .into_inner();
                // Older answers carry no `meta`: then pages are read until a short one.
                let total = body.meta.and_then(|m| m.total).and_then(total);
                Ok(Page {
                    items: body.garbage_collections,
                    total,
                })
            },
        )
    }

    fn list_repositories(&self, registry: &RegistryName) -> TokenList<types::RepositoryV2> {
        let (client, registry) = (self.clone(), registry.to_string());
        TokenList::new(Arc::new(move |family, cursor: Cursor, per_page| {
            let (client, registry) = (client.clone(), registry.clone());
            Box::pin(async move {
                let body = for_family!(
                    family,
                    client,
                    registries_list_repositories_v2 | registry_list_repositories_v2,
                    |call| {
                        let mut call = call.registry_name(registry).per_page(u64::from(per_page));
                        if let Some(page) = cursor.page {
                            call = call.page(page);
                        }
                        if let Some(token) = cursor.token {
                            call = call.page_token(token);
                        }
                        call.send().await
                    }
                )?
                .into_inner();
                let next = body.links.and_then(|l| l.pages).and_then(|p| p.next);
                Ok(TokenPage {
                    items: body.repositories,
                    next,
                })
            })
        }))
    }

    fn list_repositories_v1(&self, registry: &RegistryName) -> PagedList<types::Repository> {
        let names = (self.clone(), registry.to_string());
        paged(
            names,
            |(client, registry), _family, page, per_page| async move {
                let body = client
                    .registry_list_repositories()
                    .registry_name(registry)
                    .page(page)
                    .per_page(u64::from(per_page))
                    .send()
                    .await?
                    .into_inner();
                Ok(Page {
                    items: body.repositories,
                    total: total(body.meta.total),
                })
            },
        )
        .family(ApiFamily::Registry)
    }
}
