//! Every page of every listing, against a loopback wiremock server: which pages leave (number,
//! size, token, path), in what order the items come back, and when a listing stops.
//!
//! Item fixtures follow the examples of `spec/registry.yaml`; the token pages follow godo's
//! `TestRegistries_ListRepositoriesV2` (`tests/vectors/godo/registries_list_repositories_v2.json`).

use docr::client::ApiFamily;
use docr::client::TestClock;
use docr::prelude::*;
use docr::{pagination::DEFAULT_CONCURRENCY, pagination::MAX_PER_PAGE};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use wiremock::matchers::{method, path_regex};

use crate::support::{DIGEST, client_on, mount, server};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn registry() -> RegistryName {
    "example".parse().unwrap()
}

fn repository(name: &str) -> RepositoryName {
    name.parse().unwrap()
}

fn client(server: &MockServer) -> Client {
    client_on(server, &TestClock::new())
}

const TAGS: &str = "/v2/registries/example/repositories/repo-1/tags";

/// A server answering `GET at` with `respond`.
async fn serving(at: &str, respond: impl Respond + 'static) -> MockServer {
    let server = server().await;
    mount(&server, "GET", at, respond).await;
    server
}

/// The tags of `repo-1`, listed from `server`.
fn repo_1_tags(server: &MockServer) -> docr::pagination::PagedList<docr::types::RepositoryTag> {
    client(server).list_tags(&registry(), &repository("repo-1"))
}

/// `count` tags, `v00000` on.
fn tag_listing(count: usize) -> PagedListing {
    PagedListing::new("tags", (0..count).map(tag).collect())
}

fn tag(n: usize) -> Value {
    json!({
        "registry_name": "example",
        "repository": "repo-1",
        "tag": format!("v{n:05}"),
        "manifest_digest": DIGEST,
        "compressed_size_bytes": 2803255,
        "size_bytes": 5861888,
        "updated_at": "2020-04-09T23:54:25Z",
    })
}

fn manifest(n: usize) -> Value {
    json!({
        "registry_name": "example",
        "repository": "repo-1",
        "digest": format!("sha256:{n:064x}"),
        "compressed_size_bytes": 2803255,
        "size_bytes": 5861888,
        "updated_at": "2020-04-09T23:54:25Z",
        "tags": [format!("v{n:05}")],
        "blobs": [{"digest": DIGEST, "compressed_size_bytes": 2803255}],
    })
}

fn garbage_collection(n: usize) -> Value {
    json!({
        "uuid": format!("00000000-0000-4000-8000-{n:012}"),
        "registry_name": "example",
        "status": "succeeded",
        "type": "unreferenced blobs only",
        "created_at": "2020-10-30T21:03:24Z",
        "updated_at": "2020-10-30T21:03:44Z",
        "blobs_deleted": 42,
        "freed_bytes": 667,
    })
}

fn repository_v2(n: usize) -> Value {
    json!({
        "registry_name": "example",
        "name": format!("team/repo-{n}"),
        "tag_count": 1,
        "manifest_count": 1,
    })
}

/// `field` of every item, which each item has.
fn values<T>(items: &[T], field: impl Fn(&T) -> Option<String>) -> Vec<String> {
    items.iter().map(|item| field(item).unwrap()).collect()
}

/// `name(n)` for `n` in `0..count`.
fn numbered(count: usize, name: impl Fn(usize) -> String) -> Vec<String> {
    (0..count).map(name).collect()
}

fn tag_names(tags: &[docr::types::RepositoryTag]) -> Vec<String> {
    values(tags, |t| t.tag.clone())
}

fn expected_tag_names(count: usize) -> Vec<String> {
    numbered(count, |n| format!("v{n:05}"))
}

/// Every item of a listing that must succeed.
async fn all<T>(items: BoxStream<'static, Result<T, Error>>) -> Vec<T> {
    items.try_collect().await.unwrap()
}

/// How many items a whole listing yields.
async fn count<T>(items: BoxStream<'static, Result<T, Error>>) -> usize {
    all(items).await.len()
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn number(request: &Request, name: &str) -> Option<u64> {
    query(request, name).map(|v| v.parse().unwrap())
}

/// A page-numbered listing as DigitalOcean serves it: `page` and `per_page` from the query, at
/// most `cap` items a page, and `meta.total` when the listing reports one.
struct PagedListing {
    key: &'static str,
    items: Vec<Value>,
    reports_total: bool,
    cap: u64,
    slow_pages: HashMap<u64, Duration>,
    failing_page: Option<u64>,
}

impl PagedListing {
    fn new(key: &'static str, items: Vec<Value>) -> Self {
        Self {
            key,
            items,
            reports_total: true,
            cap: u64::from(MAX_PER_PAGE),
            slow_pages: HashMap::new(),
            failing_page: None,
        }
    }

    fn without_total(mut self) -> Self {
        self.reports_total = false;
        self
    }

    fn capped_at(mut self, cap: u64) -> Self {
        self.cap = cap;
        self
    }

    fn slow_page(mut self, page: u64, delay: Duration) -> Self {
        self.slow_pages.insert(page, delay);
        self
    }

    fn failing_page(mut self, page: u64) -> Self {
        self.failing_page = Some(page);
        self
    }
}

impl Respond for PagedListing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page = number(request, "page").unwrap_or(1);
        if Some(page) == self.failing_page {
            return ResponseTemplate::new(500)
                .insert_header("x-request-id", format!("req-page-{page}"))
                .set_body_json(json!({"id": "server_error", "message": "page went missing"}));
        }
        let per_page = number(request, "per_page").unwrap_or(20).min(self.cap) as usize;
        let start = ((page - 1) as usize * per_page).min(self.items.len());
        let end = (start + per_page).min(self.items.len());
        let mut body = json!({ self.key: self.items[start..end] });
        if self.reports_total {
            body["meta"] = json!({"total": self.items.len()});
        }
        let answer = ResponseTemplate::new(200).set_body_json(body);
        match self.slow_pages.get(&page) {
            Some(delay) => answer.set_delay(*delay),
            None => answer,
        }
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// `(page, per_page)` for pages `numbers`, each of `per_page`.
fn pages(numbers: impl IntoIterator<Item = u64>, per_page: u64) -> Vec<(u64, u64)> {
    numbers.into_iter().map(|page| (page, per_page)).collect()
}

/// `(page, per_page)` of every request the server saw, sorted.
async fn pages_requested(server: &MockServer) -> Vec<(u64, u64)> {
    let mut pages: Vec<(u64, u64)> = requests(server)
        .await
        .iter()
        .map(|r| {
            let page = number(r, "page").expect("every page request names its page");
            let per_page = number(r, "per_page").expect("every page request names its size");
            (page, per_page)
        })
        .collect();
    pages.sort_unstable();
    pages
}

async fn raw_paths(server: &MockServer) -> Vec<String> {
    requests(server)
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect()
}

#[tokio::test]
async fn tags_over_100_pages_are_fetched_once_each_and_yielded_in_order() {
    // 99 full pages and a last one of 150.
    let count = 99 * 200 + 150;
    let server = serving(
        TAGS,
        tag_listing(count).slow_page(2, Duration::from_millis(300)),
    )
    .await;

    let tags = repo_1_tags(&server).collect().await.unwrap();

    assert_eq!(tag_names(&tags), expected_tag_names(count));
    assert_eq!(pages_requested(&server).await, pages(1..=100, 200));
}

#[tokio::test]
async fn items_stay_in_order_when_a_later_page_answers_first() {
    let count = 5 * 20;
    let server = serving(
        TAGS,
        tag_listing(count)
            .slow_page(2, Duration::from_millis(400))
            .slow_page(3, Duration::from_millis(100)),
    )
    .await;

    let mut stream = repo_1_tags(&server)
        .per_page(20)
        .concurrency(DEFAULT_CONCURRENCY)
        .stream();
    let mut names = Vec::new();
    while let Some(tag) = stream.try_next().await.unwrap() {
        names.push(tag.tag.unwrap());
    }

    assert_eq!(names, expected_tag_names(count));
    assert_eq!(pages_requested(&server).await, pages(1..=5, 20));
}

#[tokio::test]
async fn a_slow_page_does_not_hold_back_the_requests_after_it() {
    let count = 8 * 20;
    let server = serving(
        TAGS,
        tag_listing(count).slow_page(2, Duration::from_millis(1_000)),
    )
    .await;

    let mut stream = repo_1_tags(&server).per_page(20).concurrency(2).stream();
    let mut names = Vec::new();
    while names.len() <= 20 {
        names.push(stream.try_next().await.unwrap().unwrap().tag.unwrap());
    }
    // Page 2's first item is out. While it was awaited, each page answered let another go (two
    // in flight), up to twice the concurrency ahead of page 2: pages 3, 4 and 5, not 6.
    assert_eq!(pages_requested(&server).await, pages(1..=5, 20));
    while let Some(tag) = stream.try_next().await.unwrap() {
        names.push(tag.tag.unwrap());
    }
    assert_eq!(names, expected_tag_names(count));
    assert_eq!(pages_requested(&server).await, pages(1..=8, 20));
}

#[tokio::test]
async fn manifests_are_fetched_once_each_and_yielded_in_order() {
    let count = 4 * 25 + 7;
    let server = serving(
        "/v2/registries/example/repositories/repo-1/digests",
        PagedListing::new("manifests", (0..count).map(manifest).collect())
            .slow_page(2, Duration::from_millis(200)),
    )
    .await;

    let manifests = client(&server)
        .list_manifests(&registry(), &repository("repo-1"))
        .per_page(25)
        .collect()
        .await
        .unwrap();

    assert_eq!(
        values(&manifests, |m| m.digest.clone()),
        numbered(count, |n| format!("sha256:{n:064x}"))
    );
    assert_eq!(manifests[0].blobs.len(), 1);
    assert_eq!(pages_requested(&server).await, pages(1..=5, 25));
}

#[tokio::test]
async fn garbage_collections_are_read_until_a_short_page() {
    // (collections the registry holds, pages that must be asked for)
    let cases: [(usize, &[u64]); 4] = [
        (0, &[1]),
        (199, &[1]),
        (450, &[1, 2, 3]),
        // The last page is full: only an empty page after it shows the end.
        (400, &[1, 2, 3]),
    ];
    for (count, pages) in cases {
        let server = serving(
            "/v2/registries/example/garbage-collections",
            PagedListing::new(
                "garbage_collections",
                (0..count).map(garbage_collection).collect(),
            )
            .without_total(),
        )
        .await;

        let collections = all(client(&server)
            .list_garbage_collections(&registry())
            .stream())
        .await;

        let expected = numbered(count, |n| format!("00000000-0000-4000-8000-{n:012}"));
        let uuids = values(&collections, |gc| gc.uuid.clone());
        assert_eq!(uuids, expected, "{count} collections");
        assert_eq!(
            pages_requested(&server).await,
            self::pages(pages.iter().copied(), 200),
            "{count} collections"
        );
    }
}

/// Repositories v2 pages by token: `links.pages.next` carries the next `page` and `page_token`.
/// `next_tokens[i]` is the token the page after request `i` links to (`None`: no next link).
struct TokenListing {
    next_tokens: Vec<Option<&'static str>>,
    per_page_answered: usize,
}

impl Respond for TokenListing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        // The first request has no page; every later one has the page its link gave.
        let index = number(request, "page").map_or(0, |page| page as usize - 1);
        let first = index * self.per_page_answered;
        let repositories: Vec<Value> = (first..first + self.per_page_answered)
            .map(repository_v2)
            .collect();
        let mut body = json!({"repositories": repositories, "meta": {"total": 1000}});
        if let Some(token) = self.next_tokens[index] {
            let page = index + 2;
            body["links"] = json!({"pages": {
                "first": "https://api.digitalocean.com/v2/registries/example/repositoriesV2?page=1&page_size=2",
                "next": format!(
                    "https://api.digitalocean.com/v2/registries/example/repositoriesV2?page={page}&page_size=2&page_token={token}"
                ),
            }});
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// `(page, page_token)` of every request, in the order sent.
async fn token_requests(server: &MockServer) -> Vec<(Option<u64>, Option<String>)> {
    requests(server)
        .await
        .iter()
        .map(|r| {
            assert_eq!(number(r, "per_page"), Some(200));
            (number(r, "page"), query(r, "page_token"))
        })
        .collect()
}

/// A server listing repositories v2 two a page, linking on with `next_tokens`.
async fn token_listing(next_tokens: Vec<Option<&'static str>>) -> MockServer {
    let listing = TokenListing {
        next_tokens,
        per_page_answered: 2,
    };
    serving("/v2/registries/example/repositoriesV2", listing).await
}

/// The requests of a listing that followed `tokens` from a first page without one.
fn followed(tokens: [&str; 2]) -> Vec<(Option<u64>, Option<String>)> {
    let [second, third] = tokens.map(|token| Some(token.to_string()));
    vec![(None, None), (Some(2), second), (Some(3), third)]
}

#[tokio::test]
async fn repositories_follow_the_next_link_token_by_token() {
    let server = token_listing(vec![
        Some("JPZmZzZXQiOjB9"),
        Some("eyJUb2tlbiI6IkNnZGpiMjlz"),
        None,
    ])
    .await;

    let repositories = all(client(&server).list_repositories(&registry()).stream()).await;

    assert_eq!(
        values(&repositories, |r| r.name.clone()),
        numbered(6, |n| format!("team/repo-{n}"))
    );
    assert_eq!(
        token_requests(&server).await,
        followed(["JPZmZzZXQiOjB9", "eyJUb2tlbiI6IkNnZGpiMjlz"])
    );
}

#[tokio::test]
async fn a_repeated_token_stops_the_listing_instead_of_looping() {
    // aaa -> bbb -> aaa -> bbb -> ...: a server that would send the client round forever.
    let server = token_listing([Some("aaa"), Some("bbb")].repeat(50)).await;

    // `take` only keeps a regression from hanging the suite; the listing must end on its own.
    let repositories: Vec<_> = client(&server)
        .list_repositories(&registry())
        .stream()
        .take(1000)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(repositories.len(), 3 * 2);
    assert_eq!(token_requests(&server).await, followed(["aaa", "bbb"]));
}

#[tokio::test]
async fn the_deprecated_family_calls_v2_registry_paths() {
    let server = server().await;
    let tags = tag_listing(3);
    let manifests = PagedListing::new("manifests", (0..3).map(manifest).collect());
    let collections =
        PagedListing::new("garbage_collections", vec![garbage_collection(0)]).without_total();
    let repositories_v1 = PagedListing::new(
        "repositories",
        vec![json!({"registry_name": "example", "name": "repo-1", "tag_count": 1})],
    );
    let mounts: [(&str, Box<dyn Respond>); 5] = [
        (
            "/v2/registry/example/repositories/repo-1/tags",
            Box::new(tags),
        ),
        (
            "/v2/registry/example/repositories/repo-1/digests",
            Box::new(manifests),
        ),
        (
            "/v2/registry/example/garbage-collections",
            Box::new(collections),
        ),
        (
            "/v2/registry/example/repositories",
            Box::new(repositories_v1),
        ),
        (
            "/v2/registry/example/repositoriesV2",
            Box::new(TokenListing {
                next_tokens: vec![None],
                per_page_answered: 1,
            }),
        ),
    ];
    for (at, respond) in mounts {
        mount(&server, "GET", at, BoxedRespond(respond)).await;
    }
    let client = client(&server);
    let (registry, repository) = (registry(), repository("repo-1"));

    let family = ApiFamily::Registry;
    // Listings are lazy: each is sent when counted, in this order.
    let tags = client.list_tags(&registry, &repository).family(family);
    let manifests = client.list_manifests(&registry, &repository).family(family);
    let collections = client.list_garbage_collections(&registry).family(family);
    let repositories = client.list_repositories(&registry).family(family);
    let repositories_v1 = client.list_repositories_v1(&registry);
    let counts = (
        count(tags.stream()).await,
        count(manifests.stream()).await,
        count(collections.stream()).await,
        count(repositories.stream()).await,
        count(repositories_v1.stream()).await,
    );

    assert_eq!(counts, (3, 3, 1, 1, 1));
    assert_eq!(
        raw_paths(&server).await,
        [
            "/v2/registry/example/repositories/repo-1/tags",
            "/v2/registry/example/repositories/repo-1/digests",
            "/v2/registry/example/garbage-collections",
            "/v2/registry/example/repositoriesV2",
            "/v2/registry/example/repositories",
        ]
    );
}

/// Lets boxed responders of different types share one table.
struct BoxedRespond(Box<dyn Respond>);

impl Respond for BoxedRespond {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

#[tokio::test]
async fn a_nested_repository_name_is_encoded_once_on_every_page() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path_regex(
            "^/v2/registries/example/repositories/[^/]+/(tags|digests)$",
        ))
        .respond_with(|request: &Request| {
            if request.url.path().ends_with("/tags") {
                tag_listing(5).respond(request)
            } else {
                PagedListing::new("manifests", (0..5).map(manifest).collect()).respond(request)
            }
        })
        .mount(&server)
        .await;
    let client = client(&server);
    let nested = repository("team/app/api");

    let tags = client.list_tags(&registry(), &nested).per_page(2);
    let manifests = client.list_manifests(&registry(), &nested).per_page(2);
    let counts = (count(tags.stream()).await, count(manifests.stream()).await);

    assert_eq!(counts, (5, 5));
    let mut paths = raw_paths(&server).await;
    paths.sort();
    let tags_path = "/v2/registries/example/repositories/team%2Fapp%2Fapi/tags";
    let digests_path = "/v2/registries/example/repositories/team%2Fapp%2Fapi/digests";
    assert_eq!(
        paths,
        [
            digests_path,
            digests_path,
            digests_path,
            tags_path,
            tags_path,
            tags_path
        ]
    );
}

#[tokio::test]
async fn an_error_on_a_later_page_ends_the_listing_after_the_items_before_it() {
    for concurrency in [1, DEFAULT_CONCURRENCY] {
        let server = serving(TAGS, tag_listing(100).failing_page(3)).await;

        let results: Vec<Result<_, Error>> = repo_1_tags(&server)
            .per_page(20)
            .concurrency(concurrency)
            .stream()
            .collect()
            .await;

        assert_eq!(results.len(), 2 * 20 + 1, "concurrency {concurrency}");
        let (items, error) = results.split_at(40);
        let names: Vec<String> = items
            .iter()
            .map(|r| r.as_ref().unwrap().tag.clone().unwrap())
            .collect();
        assert_eq!(names, expected_tag_names(40));
        let Err(error) = &error[0] else {
            panic!("the listing must end with the page's error");
        };
        let api = error.api().expect("the API's own error");
        assert_eq!(api.status.as_u16(), 500);
        assert_eq!(api.id.as_deref(), Some("server_error"));
        assert_eq!(api.request_id.as_deref(), Some("req-page-3"));
    }
}

#[tokio::test]
async fn an_error_on_the_first_page_is_the_whole_listing() {
    let server = serving(
        TAGS,
        ResponseTemplate::new(404).set_body_json(json!({
            "id": "not_found",
            "message": "repository not found",
        })),
    )
    .await;

    let results: Vec<Result<_, Error>> = repo_1_tags(&server).stream().collect().await;

    assert_eq!(results.len(), 1);
    assert!(results[0].as_ref().unwrap_err().is_not_found());
    assert_eq!(pages_requested(&server).await, [(1, 200)]);
}

#[tokio::test]
async fn a_server_serving_smaller_pages_than_asked_still_yields_every_item() {
    let count = 4 * 50 + 30;
    let server = serving(TAGS, tag_listing(count).capped_at(50)).await;

    let tags = repo_1_tags(&server).collect().await.unwrap();

    assert_eq!(tag_names(&tags), expected_tag_names(count));
    // Page 1 asked for 200 and got 50: the later pages are numbered by the size served.
    assert_eq!(
        pages_requested(&server).await,
        [(1, 200), (2, 50), (3, 50), (4, 50), (5, 50)]
    );
}
