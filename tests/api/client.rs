//! Building a client: the token never shows, every request carries it and docr's user agent,
//! the environment is read in doctl's order, and an API URL that would send the token in clear
//! across a network, or that is no URL at all, is refused before anything is sent.

use docr::Client;
use docr::{ClientBuilder, Error, client::RetryPolicy, client::Token};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "dop_v1_0123456789abcdef-s3cr3t";
/// Nothing listens on the discard port: a client left pointing here fails without leaving the
/// machine.
const NOWHERE: &str = "http://127.0.0.1:9";

/// A server on 127.0.0.1 answering every request with an empty registry listing.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"registries": []})))
        .mount(&server)
        .await;
    server
}

/// Lists registries through `client` and returns the one request `server` received.
async fn one_request(client: &Client, server: &MockServer) -> Request {
    let listing = client.registries_list().send().await;
    listing.unwrap_or_else(|e| panic!("the listing failed: {}", Error::from(e)));
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "one call, one request");
    requests.remove(0)
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII"))
}

/// An environment holding only `vars`.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn test_client(api_url: String) -> Client {
    Client::builder()
        .token(TOKEN)
        .api_url(api_url)
        .retry_policy(RetryPolicy::disabled())
        .pacing(None)
        .build()
        .expect("a client for a loopback server")
}

#[test]
fn debug_output_never_shows_the_token() {
    let token = Token::new(TOKEN);
    assert!(!format!("{token:?}").contains(TOKEN), "{token:?}");

    let builder = Client::builder().token(TOKEN).api_url(NOWHERE);
    for shown in [format!("{builder:?}"), format!("{builder:#?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "a useful Debug: {shown}");
    }

    let client = builder.build().expect("a client");
    for shown in [format!("{client:?}"), format!("{client:#?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "a useful Debug: {shown}");
    }
}

#[tokio::test]
async fn a_request_carries_the_bearer_token_and_docrs_user_agent() {
    let server = server().await;
    let client = test_client(server.uri());
    let request = one_request(&client, &server).await;

    assert_eq!(
        header(&request, "authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let user_agent = concat!("docr/", env!("CARGO_PKG_VERSION"));
    assert_eq!(header(&request, "user-agent"), Some(user_agent));
    // progenitor adds the spec's version as `api-version`; DigitalOcean's API has no such header.
    assert_eq!(
        header(&request, "api-version"),
        None,
        "{:?}",
        request.headers
    );
}

#[tokio::test]
async fn the_environment_is_read_in_doctls_order() {
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("DIGITALOCEAN_TOKEN", "first"),
                ("DIGITALOCEAN_ACCESS_TOKEN", "second"),
            ],
            "first",
        ),
        (&[("DIGITALOCEAN_ACCESS_TOKEN", "second")], "second"),
        // A blank variable counts as unset.
        (
            &[
                ("DIGITALOCEAN_TOKEN", "  "),
                ("DIGITALOCEAN_ACCESS_TOKEN", "second"),
            ],
            "second",
        ),
    ];
    for (vars, token) in cases {
        let server = server().await;
        let uri = server.uri();
        let mut vars = vars.to_vec();
        vars.push(("DIGITALOCEAN_API_URL", &uri));
        // The URL set before is replaced by DIGITALOCEAN_API_URL; were it not, the call would
        // go to NOWHERE and fail.
        let client = ClientBuilder::new()
            .api_url(NOWHERE)
            .from_env_lookup(env(&vars))
            .retry_policy(RetryPolicy::disabled())
            .pacing(None)
            .build()
            .expect("a client from the environment");
        let request = one_request(&client, &server).await;
        let want = format!("Bearer {token}");
        assert_eq!(
            header(&request, "authorization"),
            Some(want.as_str()),
            "{vars:?}"
        );
    }
}

#[tokio::test]
async fn what_the_environment_lacks_stays_as_it_was() {
    let server = server().await;
    let client = ClientBuilder::new()
        .token(TOKEN)
        .api_url(server.uri())
        .from_env_lookup(env(&[]))
        .pacing(None)
        .build()
        .expect("the token and URL set before");
    let request = one_request(&client, &server).await;
    let want = format!("Bearer {TOKEN}");
    assert_eq!(header(&request, "authorization"), Some(want.as_str()));
}

#[test]
fn a_missing_token_is_an_error_naming_both_variables() {
    let err = ClientBuilder::new()
        .from_env_lookup(env(&[("DIGITALOCEAN_API_URL", NOWHERE)]))
        .build()
        .expect_err("no token");
    assert!(matches!(err, Error::MissingToken), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("DIGITALOCEAN_TOKEN"), "{message}");
    assert!(message.contains("DIGITALOCEAN_ACCESS_TOKEN"), "{message}");
}

/// The configuration error a client for `url` is refused with.
fn refused_url(url: &str) -> String {
    let err = Client::builder()
        .token(TOKEN)
        .api_url(url)
        .build()
        .expect_err(url);
    let Error::Config(message) = err else {
        panic!("{url:?}: expected a configuration error, got {err:?}");
    };
    message
}

#[test]
fn plain_http_to_another_host_is_refused() {
    // `build` fails, so no client exists that could send anything.
    for url in [
        "http://api.digitalocean.com",
        "http://10.0.0.7:8080",
        "http://169.254.169.254/",
        "http://localhost.example.com",
        "http://127.0.0.1.example.com",
    ] {
        let message = refused_url(url);
        assert!(message.contains(url), "{message}");
        assert!(message.contains("use https"), "{message}");
        assert!(!message.contains(TOKEN), "{message}");
    }
}

#[tokio::test]
async fn plain_http_to_loopback_works() {
    let server = server().await;
    assert!(
        server.uri().starts_with("http://127.0.0.1:"),
        "{}",
        server.uri()
    );
    // A trailing slash is not doubled into the path.
    let client = test_client(format!("{}/", server.uri()));
    let request = one_request(&client, &server).await;
    assert_eq!(request.url.path(), "/v2/registries");
}

#[test]
fn a_url_that_is_not_one_is_refused_with_a_clear_message() {
    for (url, why) in [
        ("not a url", "is not a URL"),
        ("api.digitalocean.com", "is not a URL"),
        ("", "is not a URL"),
        ("ftp://api.digitalocean.com", "has scheme `ftp`; use https"),
    ] {
        let message = refused_url(url);
        assert!(message.contains(&format!("`{url}`")), "{message}");
        assert!(message.contains(why), "{message}");
    }
}

#[test]
fn a_token_that_cannot_be_sent_is_refused_without_echoing_it() {
    let token = "dop_v1_abc\ndef";
    let err = Client::builder()
        .token(token)
        .api_url(NOWHERE)
        .build()
        .expect_err("a newline cannot be in a header");
    let message = err.to_string();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(message.contains("token"), "{message}");
    assert!(!message.contains("dop_v1_abc"), "{message}");
    assert!(!format!("{err:?}").contains("dop_v1_abc"));
}

#[test]
fn registry_credentials_shorter_than_a_second_are_refused() {
    for expiry in [Duration::ZERO, Duration::from_millis(999)] {
        let err = Client::builder()
            .token(TOKEN)
            .registry_credentials_expiry(expiry)
            .build()
            .expect_err("the API asks for whole seconds, at least one");
        let Error::Config(message) = err else {
            panic!("{expiry:?}: expected a configuration error, got {err:?}");
        };
        assert!(message.contains("at least one second"), "{message}");
    }
    let accepted = Client::builder()
        .token(TOKEN)
        .registry_credentials_expiry(Duration::from_secs(1))
        .build();
    assert!(accepted.is_ok(), "{accepted:?}");
}
