//! Page-numbered lists: the first page gives the total, the rest are fetched concurrently and
//! yielded in order.

use crate::ext::error::Error;
use crate::ext::family::ApiFamily;
use crate::ext::pagination::{DEFAULT_CONCURRENCY, MAX_PER_PAGE};
use crate::ext::transport::spawn_carrying;
use futures::future::{self, BoxFuture};
use futures::stream::{self, BoxStream, StreamExt};
use std::sync::Arc;
pub(super) struct Page<T> {
    pub(super) items: Vec<T>,
    pub(super) total: Option<u64>,
}

pub(super) type FetchPage<T> =
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
    pub(super) fn new(fetch: FetchPage<T>) -> Self {
        Self {
            fetch,
            family: ApiFamily::default(),
            per_page: MAX_PER_PAGE,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    listing_common!();

    /// How many pages may be in flight at once after the first (default 8; 1 is sequential).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
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
            // Each page its own task: decoding one no longer waits for the consumer's.
            stream::iter(2..=pages)
                .map(move |n| spawn_carrying((fetch)(family, n, size)))
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
pub(super) fn flatten_until_error<T: Send + 'static>(
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

pub(super) fn total(meta_total: i64) -> Option<u64> {
    u64::try_from(meta_total).ok()
}
