//! Pages as DigitalOcean serves them: `page`/`per_page` (20 by default, at most 200) with
//! `meta.total` and absolute `links.pages`; and, for `repositoriesV2`, a `page_token` carried
//! inside the `next` and `prev` links.

use super::input::{ApiError, Query, Reply};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

pub(crate) const DEFAULT_PER_PAGE: u64 = 20;
pub(crate) const MAX_PER_PAGE: u64 = 200;

/// Where the links of a listing point: the fake's URL and the request's path, as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkBase<'a> {
    pub(crate) url: &'a str,
    pub(crate) path: &'a str,
}

impl LinkBase<'_> {
    fn page(&self, page: u64, per_page: u64, token: Option<&str>) -> String {
        match token {
            Some(token) => format!(
                "{}{}?page={page}&page_token={token}&per_page={per_page}",
                self.url, self.path
            ),
            None => format!("{}{}?page={page}&per_page={per_page}", self.url, self.path),
        }
    }
}

impl<T> Page<T> {
    /// The listing's answer: the page's items rendered under `key`, with `meta` and `links`.
    /// Only the page's items are rendered: a page costs its size, not the total.
    /// The items are written as they are rendered, with no `Value` tree between.
    pub(crate) fn reply<R: Serialize>(self, key: &str, render: impl FnMut(T) -> R) -> Reply {
        let body = Written {
            key,
            items: self.items.into_iter().map(render).collect(),
            meta: self.meta,
            links: self.links,
        };
        Reply::written(StatusCode::OK, &body)
    }
}

/// A page's body: `{"<key>": [items], "links": {...}, "meta": {...}}`.
struct Written<'a, R> {
    key: &'a str,
    items: Vec<R>,
    meta: Value,
    links: Value,
}

impl<R: Serialize> Serialize for Written<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(self.key, &self.items)?;
        map.serialize_entry("links", &self.links)?;
        map.serialize_entry("meta", &self.meta)?;
        map.end()
    }
}

/// One page of a listing: its items, `meta` and `links`.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) meta: Value,
    pub(crate) links: Value,
}

fn per_page(query: &Query) -> Result<u64, ApiError> {
    Ok(query
        .integer("per_page", 1, MAX_PER_PAGE)?
        .unwrap_or(DEFAULT_PER_PAGE))
}

/// Where a page stands in its listing: its first item's offset, its number and its size.
#[derive(Debug, Clone, Copy)]
struct At {
    offset: u64,
    page: u64,
    per_page: u64,
}

/// The page of the query's `page` and `per_page`.
fn at_number(query: &Query) -> Result<At, ApiError> {
    let per_page = per_page(query)?;
    let page = query.integer_at_least("page", 1)?.unwrap_or(1);
    let offset = (page - 1).saturating_mul(per_page);
    Ok(At {
        offset,
        page,
        per_page,
    })
}

/// The window `(offset, len)` of `items`.
fn slice<T>(items: Vec<T>) -> impl FnOnce(usize, usize) -> Vec<T> {
    move |start, len| items.into_iter().skip(start).take(len).collect()
}

/// The page the query asks for, by `page` and `per_page`.
pub(crate) fn by_number<T>(
    items: Vec<T>,
    query: &Query,
    base: LinkBase<'_>,
) -> Result<Page<T>, ApiError> {
    by_number_window(items.len() as u64, slice(items), query, base)
}

/// The page the query asks for, by `page` and `per_page`, of a listing of `total` items:
/// `window(offset, len)` makes only the page's items, so that a page costs its size.
pub(crate) fn by_number_window<T>(
    total: u64,
    window: impl FnOnce(usize, usize) -> Vec<T>,
    query: &Query,
    base: LinkBase<'_>,
) -> Result<Page<T>, ApiError> {
    Ok(frame(total, window, at_number(query)?, base, false))
}

/// The page the query asks for, by `page_token` if it has one, else by `page`.
pub(crate) fn by_token<T>(
    items: Vec<T>,
    query: &Query,
    base: LinkBase<'_>,
) -> Result<Page<T>, ApiError> {
    let at = match query.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => {
            let per_page = per_page(query)?;
            let offset = decode_token(token)?;
            At {
                offset,
                page: offset / per_page + 1,
                per_page,
            }
        }
        None => at_number(query)?,
    };
    Ok(frame(items.len() as u64, slice(items), at, base, true))
}

/// The page at `at` of a listing of `total`, its items made by `window`, with its `meta` and
/// `links`.
fn frame<T>(
    total: u64,
    window: impl FnOnce(usize, usize) -> Vec<T>,
    at: At,
    base: LinkBase<'_>,
    tokens: bool,
) -> Page<T> {
    let At {
        offset,
        page,
        per_page,
    } = at;
    let start = usize::try_from(offset.min(total)).unwrap_or(usize::MAX);
    let items = window(start, usize::try_from(per_page).unwrap_or(usize::MAX));
    let last = total.div_ceil(per_page).max(1);
    let mut pages = Map::new();
    let token = |offset: u64| tokens.then(|| encode_token(offset));
    if offset > 0 {
        pages.insert("first".into(), base.page(1, per_page, None).into());
        let prev = offset.saturating_sub(per_page);
        let prev_page = page.saturating_sub(1).max(1);
        pages.insert(
            "prev".into(),
            base.page(prev_page, per_page, token(prev).as_deref())
                .into(),
        );
    }
    if offset.saturating_add(per_page) < total {
        let next = offset + per_page;
        pages.insert(
            "next".into(),
            base.page(page + 1, per_page, token(next).as_deref()).into(),
        );
        pages.insert("last".into(), base.page(last, per_page, None).into());
    }
    let links = if pages.is_empty() {
        json!({})
    } else {
        json!({ "pages": pages })
    };
    Page {
        items,
        meta: json!({ "total": total }),
        links,
    }
}

/// An opaque token for the page starting at `offset`.
pub(crate) fn encode_token(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{{\"offset\":{offset}}}"))
}

fn decode_token(token: &str) -> Result<u64, ApiError> {
    let invalid = || ApiError::bad_request(format!("invalid page_token `{token}`"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    value
        .get("offset")
        .and_then(Value::as_u64)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: LinkBase<'static> = LinkBase {
        url: "http://127.0.0.1:1",
        path: "/v2/x",
    };

    #[test]
    fn middle_pages_link_everywhere() {
        let query = Query::parse(Some("page=2&per_page=2"));
        let page = by_number((0..5).collect(), &query, BASE).unwrap();
        assert_eq!(page.items, [2, 3]);
        assert_eq!(page.meta, json!({"total": 5}));
        assert_eq!(
            page.links["pages"]["last"],
            "http://127.0.0.1:1/v2/x?page=3&per_page=2"
        );
        assert_eq!(
            page.links["pages"]["prev"],
            "http://127.0.0.1:1/v2/x?page=1&per_page=2"
        );
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(40)), Ok(40));
        assert!(decode_token("not a token").is_err());
        let query = Query::parse(Some(&format!("per_page=2&page_token={}", encode_token(2))));
        let page = by_token((0..5).collect(), &query, BASE).unwrap();
        assert_eq!(page.items, [2, 3]);
        let next = page.links["pages"]["next"].as_str().unwrap();
        assert!(next.contains(&format!("page_token={}", encode_token(4))));
    }

    #[test]
    fn one_page_has_no_links() {
        let page = by_number(vec![1], &Query::default(), BASE).unwrap();
        assert_eq!(page.links, json!({}));
    }
}
