//! Page-numbered lists: the first page gives the total, the rest are fetched concurrently and
//! yielded in order.

use crate::ext::error::Error;
use crate::ext::family::ApiFamily;
use crate::ext::pagination::{DEFAULT_CONCURRENCY, MAX_PER_PAGE};
use crate::ext::transport::spawn_in_span;
use futures::future::{self, BoxFuture};
use futures::stream::{self, BoxStream, FuturesUnordered, StreamExt};
use std::collections::BTreeMap;
use std::future::Future;
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

    /// How many page requests may be in flight at once after the first (default 8; 1 is
    /// sequential). A request goes out once another has come back, even if the page awaited
    /// next has not; pages answered ahead of it are kept, at most twice this many.
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
            let read = move |n| spawn_in_span((fetch)(family, n, size as u32));
            in_order(Window::new(2..=pages, concurrency), read)
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

/// Which pages to read next: at most `concurrency` requests in flight, and at most twice that
/// many pages read ahead of the one the consumer waits for.
///
/// A request goes out once any other has come back (seen when the stream is next polled), not
/// only when the page before it has been yielded: one slow page does not hold back the rest.
#[derive(Debug)]
struct Window {
    pages: std::ops::RangeInclusive<u64>,
    concurrency: usize,
    /// The next page to ask for.
    next: u64,
    /// The next page to yield.
    wanted: u64,
}

impl Window {
    fn new(pages: std::ops::RangeInclusive<u64>, concurrency: usize) -> Self {
        let first = *pages.start();
        Self {
            pages,
            concurrency: concurrency.max(1),
            next: first,
            wanted: first,
        }
    }

    /// The next page to ask for, with `in_flight` requests out, if one may go now.
    fn ask(&mut self, in_flight: usize) -> Option<u64> {
        let ahead = (self.concurrency as u64).saturating_mul(2);
        let may = in_flight < self.concurrency
            && self.pages.contains(&self.next)
            && self.next < self.wanted.saturating_add(ahead);
        may.then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    fn done(&self) -> bool {
        !self.pages.contains(&self.wanted)
    }
}

/// A page's number and what reading it gave.
type Numbered<T> = (u64, Result<Page<T>, Error>);

/// The pages of `window`, each read by `read` (a task of its own) as the window lets it go,
/// yielded in page order; ends after the first error.
fn in_order<T, F, Fut>(window: Window, read: F) -> BoxStream<'static, Result<Vec<T>, Error>>
where
    T: Send + 'static,
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    struct State<T, F> {
        window: Window,
        read: F,
        in_flight: FuturesUnordered<BoxFuture<'static, Numbered<T>>>,
        arrived: BTreeMap<u64, Result<Page<T>, Error>>,
    }
    let state = State {
        window,
        read,
        in_flight: FuturesUnordered::new(),
        arrived: BTreeMap::new(),
    };
    stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        loop {
            if state.window.done() {
                return None;
            }
            let wanted = state.window.wanted;
            if let Some(result) = state.arrived.remove(&wanted) {
                state.window.wanted += 1;
                return Some(match result {
                    Ok(page) => (Ok(page.items), Some(state)),
                    // Nothing after an error: the tasks still out are aborted with the state.
                    Err(e) => (Err(e), None),
                });
            }
            while let Some(n) = state.window.ask(state.in_flight.len()) {
                let page = (state.read)(n);
                state
                    .in_flight
                    .push(Box::pin(async move { (n, page.await) }));
            }
            let (n, result) = state.in_flight.next().await?;
            state.arrived.insert(n, result);
        }
    })
    .boxed()
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

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn the_window_bounds_requests_in_flight_and_pages_ahead() {
        let mut window = Window::new(2..=20, 2);
        assert_eq!(
            (window.ask(0), window.ask(1), window.ask(2)),
            (Some(2), Some(3), None)
        );
        // Page 3 came back while page 2 is still awaited: pages 4 and 5 may go, not 6.
        assert_eq!(
            (window.ask(1), window.ask(1), window.ask(0)),
            (Some(4), Some(5), None)
        );
        window.wanted = 3;
        assert_eq!(window.ask(0), Some(6));
    }

    #[test]
    fn an_unbounded_concurrency_asks_for_every_page_without_overflow() {
        let mut window = Window::new(2..=5, usize::MAX);
        let asked: Vec<u64> = std::iter::from_fn(|| window.ask(0)).collect();
        assert_eq!(asked, [2, 3, 4, 5]);
        assert!(!window.done());
    }
}
