//! Token-paged lists (repositories v2): follow `links.pages.next` one page at a time.

use super::paged::flatten_until_error;
use crate::ext::error::Error;
use crate::ext::family::ApiFamily;
use crate::ext::pagination::MAX_PER_PAGE;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::HashSet;
use std::sync::Arc;
/// A token-paged listing (repositories v2); end it with [`stream`](Self::stream) or
/// [`collect`](Self::collect).
#[must_use = "a listing does nothing until streamed"]
pub struct TokenList<T> {
    fetch: FetchTokenPage<T>,
    family: ApiFamily,
    per_page: u32,
}

pub(super) struct TokenPage<T> {
    pub(super) items: Vec<T>,
    pub(super) next: Option<String>,
}

/// Where the next page is: its number and token, as the `next` link gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Cursor {
    pub(super) page: Option<u64>,
    pub(super) token: Option<String>,
}

pub(super) type FetchTokenPage<T> = Arc<
    dyn Fn(ApiFamily, Cursor, u32) -> BoxFuture<'static, Result<TokenPage<T>, Error>> + Send + Sync,
>;

impl<T: Send + 'static> TokenList<T> {
    pub(super) fn new(fetch: FetchTokenPage<T>) -> Self {
        Self {
            fetch,
            family: ApiFamily::default(),
            per_page: MAX_PER_PAGE,
        }
    }

    listing_common!();

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
}

/// Reads `page` and `page_token` from a `links.pages.next` URL; `None` if it has neither.
pub(super) fn parse_next(link: &str) -> Option<Cursor> {
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
