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
//! # async fn run(client: Client) -> Result<(), docr::ext::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let repository: RepositoryName = "team/app".parse()?;
//! let mut tags = client.list_tags(&registry, &repository).stream();
//! while let Some(tag) = tags.try_next().await? {
//!     println!("{}", tag.tag.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

use super::error::Error;
use super::names::{RegistryName, RepositoryName};
use crate::{Client, types};
use futures::future::{self, BoxFuture};
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::HashSet;
use std::sync::Arc;

/// The largest page DigitalOcean serves (`per_page` maximum in the spec).
pub const MAX_PER_PAGE: u32 = 200;
/// Pages fetched at once once the total is known.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Which family of endpoints a call uses. `/v2/registries` is current and works on accounts
/// with several registries; `/v2/registry` is deprecated and answers 412 on such accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiFamily {
    /// `/v2/registries/...`
    #[default]
    Registries,
    /// `/v2/registry/...` (deprecated).
    Registry,
}

/// Runs one builder chain on the `/v2/registries` or the `/v2/registry` operation of a pair:
/// the two families' builders are distinct types with the same setters.
macro_rules! for_family {
    ($family:expr, $client:expr, $current:ident | $deprecated:ident, |$call:ident| $chain:expr) => {
        match $family {
            $crate::ext::pagination::ApiFamily::Registries => {
                let $call = $client.$current();
                $chain
            }
            $crate::ext::pagination::ApiFamily::Registry => {
                let $call = $client.$deprecated();
                $chain
            }
        }
    };
}
pub(crate) use for_family;

struct Page<T> {
    items: Vec<T>,
    total: Option<u64>,
}

type FetchPage<T> =
    Arc<dyn Fn(ApiFamily, u64, u32) -> BoxFuture<'static, Result<Page<T>, Error>> + Send + Sync>;

/// A page-numbered listing; end it with [`stream`](Self::stream) or [`collect`](Self::collect).
#[must_use = "a listing does nothing until streamed"]
pub struct PagedList<T> {
    fetch: FetchPage<T>,
    family: ApiFamily,
    per_page: u32,
    concurrency: usize,
}

impl<T: Send + 'static> PagedList<T> {
    fn new(fetch: FetchPage<T>) -> Self {
        Self {
            fetch,
            family: ApiFamily::default(),
            per_page: MAX_PER_PAGE,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Items per page, 1 to 200 (default 200: the fewest calls).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.clamp(1, MAX_PER_PAGE);
        self
    }

    /// How many pages may be in flight at once after the first (default 8; 1 is sequential).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Which endpoint family to call.
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Every item of every page, in order, as pages arrive. Ends after the first error.
    pub fn stream(self) -> BoxStream<'static, Result<T, Error>> {
        let Self {
            fetch,
            family,
            per_page,
            concurrency,
        } = self;
        let first = (fetch)(family, 1, per_page);
        let pages = stream::once(first).flat_map(move |result| match result {
            Ok(page) => {
                let got = page.items.len() as u64;
                let more = followers(
                    fetch.clone(),
                    family,
                    per_page,
                    concurrency,
                    got,
                    page.total,
                );
                stream::once(future::ready(Ok(page.items)))
                    .chain(more)
                    .boxed()
            }
            Err(e) => stream::once(future::ready(Err(e))).boxed(),
        });
        flatten_until_error(pages.boxed())
    }

    /// Every item, collected.
    pub async fn collect(self) -> Result<Vec<T>, Error> {
        use futures::TryStreamExt;
        self.stream().try_collect().await
    }
}

/// The pages after the first: concurrent when the total is known, else one by one until a
/// short page.
fn followers<T: Send + 'static>(
    fetch: FetchPage<T>,
    family: ApiFamily,
    per_page: u32,
    concurrency: usize,
    first_count: u64,
    total: Option<u64>,
) -> BoxStream<'static, Result<Vec<T>, Error>> {
    match total {
        Some(total) if first_count > 0 && total > first_count => {
            // The server may serve fewer than asked: what page 1 held is the page size.
            let size = first_count.min(u64::from(per_page));
            let pages = total.div_ceil(size);
            let size = size as u32;
            stream::iter(2..=pages)
                .map(move |n| (fetch)(family, n, size))
                .buffered(concurrency)
                .map(|r| r.map(|p| p.items))
                .boxed()
        }
        None if first_count >= u64::from(per_page) => stream::unfold(Some(2u64), move |next| {
            let fetch = fetch.clone();
            async move {
                let n = next?;
                Some(match (fetch)(family, n, per_page).await {
                    Ok(page) => {
                        let full = page.items.len() as u64 >= u64::from(per_page);
                        (Ok(page.items), full.then_some(n + 1))
                    }
                    Err(e) => (Err(e), None),
                })
            }
        })
        .boxed(),
        _ => stream::empty().boxed(),
    }
}

/// Flattens pages into items, ending the stream after the first error.
fn flatten_until_error<T: Send + 'static>(
    pages: BoxStream<'static, Result<Vec<T>, Error>>,
) -> BoxStream<'static, Result<T, Error>> {
    pages
        .scan(false, |failed, page| {
            future::ready(if *failed {
                None
            } else {
                *failed = page.is_err();
                Some(page)
            })
        })
        .flat_map(|page| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok)).boxed(),
            Err(e) => stream::once(future::ready(Err(e))).boxed(),
        })
        .boxed()
}

/// A token-paged listing (repositories v2); end it with [`stream`](Self::stream) or
/// [`collect`](Self::collect).
#[must_use = "a listing does nothing until streamed"]
pub struct TokenList<T> {
    fetch: FetchTokenPage<T>,
    family: ApiFamily,
    per_page: u32,
}

struct TokenPage<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// Where the next page is: its number and token, as the `next` link gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Cursor {
    page: Option<u64>,
    token: Option<String>,
}

type FetchTokenPage<T> = Arc<
    dyn Fn(ApiFamily, Cursor, u32) -> BoxFuture<'static, Result<TokenPage<T>, Error>> + Send + Sync,
>;

impl<T: Send + 'static> TokenList<T> {
    fn new(fetch: FetchTokenPage<T>) -> Self {
        Self {
            fetch,
            family: ApiFamily::default(),
            per_page: MAX_PER_PAGE,
        }
    }

    /// Items per page, 1 to 200 (default 200).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.clamp(1, MAX_PER_PAGE);
        self
    }

    /// Which endpoint family to call.
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Every item of every page, in order. Ends after the first error, when there is no `next`
    /// link, or when the server repeats a token (which would loop forever).
    pub fn stream(self) -> BoxStream<'static, Result<T, Error>> {
        let Self {
            fetch,
            family,
            per_page,
        } = self;
        let state = (Some(Cursor::default()), HashSet::<Cursor>::new());
        let pages = stream::unfold(state, move |(cursor, mut seen)| {
            let fetch = fetch.clone();
            async move {
                let cursor = cursor?;
                seen.insert(cursor.clone());
                Some(match (fetch)(family, cursor, per_page).await {
                    Ok(page) => {
                        // A cursor (or token) already followed would loop forever.
                        let next = page.next.as_deref().and_then(parse_next).filter(|next| {
                            let repeated = seen.contains(next)
                                || next.token.as_ref().is_some_and(|t| {
                                    seen.iter().any(|c| c.token.as_ref() == Some(t))
                                });
                            if repeated {
                                tracing::warn!(
                                    "the server pointed back at a page already read; stopping"
                                );
                            }
                            !repeated
                        });
                        (Ok(page.items), (next, seen))
                    }
                    Err(e) => (Err(e), (None, seen)),
                })
            }
        });
        flatten_until_error(pages.boxed())
    }

    /// Every item, collected.
    pub async fn collect(self) -> Result<Vec<T>, Error> {
        use futures::TryStreamExt;
        self.stream().try_collect().await
    }
}

/// Reads `page` and `page_token` from a `links.pages.next` URL; `None` if it has neither.
fn parse_next(link: &str) -> Option<Cursor> {
    let url = reqwest::Url::parse(link)
        .or_else(|_| reqwest::Url::parse("http://relative.invalid").and_then(|b| b.join(link)))
        .ok()?;
    let mut cursor = Cursor::default();
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "page" => cursor.page = value.parse().ok(),
            "page_token" if !value.is_empty() => cursor.token = Some(value.into_owned()),
            _ => {}
        }
    }
    (cursor.page.is_some() || cursor.token.is_some()).then_some(cursor)
}

fn total(meta_total: i64) -> Option<u64> {
    u64::try_from(meta_total).ok()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_give_page_and_token() {
        let next = parse_next(
            "https://api.digitalocean.com/v2/registry/example/repositoriesV2?page=2&page_token=JPZmZzZXQiOjB9&per_page=1",
        );
        assert_eq!(
            next,
            Some(Cursor {
                page: Some(2),
                token: Some("JPZmZzZXQiOjB9".into())
            })
        );
        assert_eq!(
            parse_next("/v2/x?page=3"),
            Some(Cursor {
                page: Some(3),
                token: None
            })
        );
        assert_eq!(parse_next("https://api.digitalocean.com/v2/x"), None);
    }
}
