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

mod paged;
mod token;

pub use paged::PagedList;
pub use token::TokenList;

use crate::ext::family::{ApiFamily, for_family};
use crate::ext::names::{RegistryName, RepositoryName};
use crate::{Client, types};
use paged::{Page, total};
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

impl ListExt for Client {
    fn list_tags(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryTag> {
        let (client, registry, repository) =
            (self.clone(), registry.to_string(), repository.to_string());
        PagedList::new(Arc::new(move |family, page, per_page| {
            let (client, registry, repository) =
                (client.clone(), registry.clone(), repository.clone());
            Box::pin(async move {
                let body = for_family!(
                    family,
                    client,
                    registries_list_repository_tags | registry_list_repository_tags,
                    |call| call
                        .registry_name(registry)
                        .repository_name(repository)
                        .page(page)
                        .per_page(u64::from(per_page))
                        .send()
                        .await
                )?
                .into_inner();
                Ok(Page {
                    items: body.tags,
                    total: total(body.meta.total),
                })
            })
        }))
    }

    fn list_manifests(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
    ) -> PagedList<types::RepositoryManifest> {
        let (client, registry, repository) =
            (self.clone(), registry.to_string(), repository.to_string());
        PagedList::new(Arc::new(move |family, page, per_page| {
            let (client, registry, repository) =
                (client.clone(), registry.clone(), repository.clone());
            Box::pin(async move {
                let body = for_family!(
                    family,
                    client,
                    registries_list_repository_manifests | registry_list_repository_manifests,
                    |call| call
                        .registry_name(registry)
                        .repository_name(repository)
                        .page(page)
                        .per_page(u64::from(per_page))
                        .send()
                        .await
                )?
                .into_inner();
                Ok(Page {
                    items: body.manifests,
                    total: total(body.meta.total),
                })
            })
        }))
    }

    fn list_garbage_collections(
        &self,
        registry: &RegistryName,
    ) -> PagedList<types::GarbageCollection> {
        let (client, registry) = (self.clone(), registry.to_string());
        PagedList::new(Arc::new(move |family, page, per_page| {
            let (client, registry) = (client.clone(), registry.clone());
            Box::pin(async move {
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
            })
        }))
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
        let (client, registry) = (self.clone(), registry.to_string());
        let list = PagedList::new(Arc::new(move |_family, page, per_page| {
            let (client, registry) = (client.clone(), registry.clone());
            Box::pin(async move {
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
            })
        }));
        list.family(ApiFamily::Registry)
    }
}
