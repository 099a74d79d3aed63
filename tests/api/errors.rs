//! Errors keep what the server said, hostile responses give clear errors rather than panics or
//! hangs, and the token reaches no log line, no error and no `Debug`.

use crate::support::mount;
use docr::Client;
use docr::client::TestClock;
use docr::garbage_collection::GcStatus;
use docr::{
    Error, RegistryName, client::RateLimit, client::RetryPolicy, credentials::CredentialsExt,
};
use serde_json::json;
use std::future::Future;
use std::time::{Duration, SystemTime};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "t0ken-SECRET";
/// Only a guard against hangs: every call here answers at once or not at all.
const HANG_GUARD: Duration = Duration::from_secs(10);
const REQUEST_ID: &str = "4d9d8375-3c56-4925-a3e7-eb137fed17e9";

fn builder(server: &MockServer) -> docr::ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .api_url(server.uri())
        .retry_policy(RetryPolicy::disabled())
        .pacing(None)
}

fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// Runs `call`, failing the test if it has not returned within [`HANG_GUARD`].
async fn guarded<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, call)
        .await
        .expect("the call returned instead of hanging")
}

async fn get_registry(client: &Client) -> Result<docr::types::MultiregistryInfoResponse, Error> {
    let call = client.registries_get().registry_name("acme").send();
    Ok(guarded(call).await?.into_inner())
}

/// A server answering `GET at` with `response`, for every request.
async fn answering(at: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    mount(&server, "GET", at, response).await;
    server
}

fn rate_limit_headers(response: ResponseTemplate, remaining: u64) -> ResponseTemplate {
    response
        .insert_header("ratelimit-limit", "5000")
        .insert_header("ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("ratelimit-reset", "1444931833")
}

fn do_error(id: &str, message: &str) -> serde_json::Value {
    json!({ "id": id, "message": message })
}

fn api_error(err: &Error) -> &docr::ApiError {
    err.api()
        .unwrap_or_else(|| panic!("expected an API error, got {err:?}"))
}

// ---------------------------------------------------------------------------------------------
// DigitalOcean's error bodies.

#[tokio::test]
async fn a_not_found_keeps_status_id_message_request_id_and_rate_limit() {
    let body = json!({
        "id": "not_found",
        "message": "The resource you were accessing could not be found.",
        "request_id": REQUEST_ID,
    });
    let response = rate_limit_headers(ResponseTemplate::new(404), 4816)
        .insert_header("x-request-id", "from-the-header")
        .set_body_json(body);
    let server = answering("/v2/registries/acme", response).await;

    let err = get_registry(&client(&server)).await.unwrap_err();

    let api = api_error(&err);
    assert_eq!(api.status.as_u16(), 404);
    assert_eq!(api.id.as_deref(), Some("not_found"));
    assert_eq!(
        api.message.as_deref(),
        Some("The resource you were accessing could not be found.")
    );
    assert_eq!(
        api.request_id.as_deref(),
        Some(REQUEST_ID),
        "the body's request id wins over the header's"
    );
    let rate = RateLimit {
        limit: 5000,
        remaining: 4816,
        reset: SystemTime::UNIX_EPOCH + Duration::from_secs(1_444_931_833),
    };
    assert_eq!(api.rate_limit, Some(rate));
    assert_eq!(err.rate_limit(), Some(rate));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!(
            "DigitalOcean API error 404 (not_found): The resource you were accessing could not \
             be found. [request id {REQUEST_ID}]"
        )
    );
}

#[tokio::test]
async fn the_request_id_comes_from_the_header_when_the_body_has_none() {
    let response = ResponseTemplate::new(403)
        .insert_header("x-request-id", "a1b2c3")
        .set_body_json(do_error(
            "forbidden",
            "You do not have access for the attempted action.",
        ));
    let server = answering("/v2/registries/acme", response).await;

    let err = get_registry(&client(&server)).await.unwrap_err();

    let api = api_error(&err);
    assert_eq!(api.status.as_u16(), 403);
    assert_eq!(api.id.as_deref(), Some("forbidden"));
    assert_eq!(api.request_id.as_deref(), Some("a1b2c3"));
    assert_eq!(
        api.rate_limit, None,
        "no ratelimit-* headers, no rate limit"
    );
    assert!(!err.is_not_found());
    let shown = err.to_string();
    assert!(
        shown.contains("403") && shown.contains("(forbidden)"),
        "{shown}"
    );
    assert!(shown.contains("You do not have access"), "{shown}");
    assert!(shown.contains("[request id a1b2c3]"), "{shown}");
}

#[tokio::test]
async fn the_display_is_one_line_naming_status_id_and_message() {
    let cases = [
        (401, "unauthorized", "Unable to authenticate you."),
        (422, "unprocessable_entity", "name is already taken"),
        (429, "too_many_requests", "API Rate limit exceeded."),
        (
            500,
            "server_error",
            "Server was unable to give you a response.",
        ),
        (400, "bad_request", "  padded message\n"),
    ];
    for (status, id, message) in cases {
        let response = rate_limit_headers(ResponseTemplate::new(status), 0)
            .set_body_json(do_error(id, message));
        let server = answering("/v2/registries/acme", response).await;
        let err = get_registry(&client(&server)).await.unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains('\n'), "one line: {shown:?}");
        assert!(shown.contains(&status.to_string()), "{shown}");
        assert!(shown.contains(id), "{shown}");
        assert!(shown.contains(message.trim()), "{shown}");
        assert_eq!(api_error(&err).status.as_u16(), status);
        assert_eq!(err.rate_limit().map(|r| r.remaining), Some(0));
    }
}

#[tokio::test]
async fn a_body_spanning_lines_is_shown_on_one() {
    let message = "upstream said:\n  connection reset\r\n\tby peer\n";
    let response = ResponseTemplate::new(500).set_body_json(json!({
        "id": "server_error\n",
        "message": message,
        "request_id": "abc\ndef",
    }));
    let server = answering("/v2/registries/acme", response).await;

    let err = get_registry(&client(&server)).await.unwrap_err();

    let shown = err.to_string();
    assert!(
        !shown.contains('\n') && !shown.contains('\r'),
        "one line: {shown:?}"
    );
    assert!(
        shown.contains("upstream said: connection reset by peer"),
        "{shown:?}"
    );
    assert!(shown.contains("(server_error)"), "{shown:?}");
    assert_eq!(
        api_error(&err).message.as_deref(),
        Some(message),
        "the field keeps what the server said"
    );
}

#[tokio::test]
async fn a_412_from_the_deprecated_calls_points_to_the_registries_calls() {
    let response = ResponseTemplate::new(412).set_body_json(do_error(
        "precondition_failed",
        "This operation is not supported for multiple registries.",
    ));
    let server = answering("/v2/registry", response).await;

    let err = Error::from(
        guarded(client(&server).registry_get().send())
            .await
            .unwrap_err(),
    );

    assert_eq!(api_error(&err).status.as_u16(), 412);
    let shown = err.to_string();
    assert!(shown.contains("412 (precondition_failed)"), "{shown}");
    assert!(
        shown.contains("use the /v2/registries calls"),
        "the message says what to do instead: {shown}"
    );
    assert!(!shown.contains('\n'), "{shown:?}");
    assert!(!err.is_not_found());
}

#[tokio::test]
async fn hand_written_calls_return_the_same_api_errors() {
    let response = rate_limit_headers(ResponseTemplate::new(404), 4999).set_body_json(json!({
        "id": "not_found",
        "message": "registry not found",
        "request_id": REQUEST_ID,
    }));
    let server = answering("/v2/registries/acme/docker-credentials", response).await;
    let registry: RegistryName = "acme".parse().unwrap();

    let err = guarded(client(&server).docker_credentials(&registry).send())
        .await
        .unwrap_err();

    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(api_error(&err).request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(err.rate_limit().map(|r| r.remaining), Some(4999));
}

// ---------------------------------------------------------------------------------------------
// Hostile responses: clear errors, no panic, no hang.

const PROXY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

#[tokio::test]
async fn an_html_error_page_from_a_proxy_keeps_its_status_and_quotes_the_page() {
    let response = ResponseTemplate::new(502)
        .insert_header("x-request-id", "edge-42")
        .set_body_raw(PROXY_PAGE, "text/html");
    let server = answering("/v2/registries/acme", response).await;

    let err = get_registry(&client(&server)).await.unwrap_err();

    let api = api_error(&err);
    assert_eq!(api.status.as_u16(), 502);
    assert_eq!(api.id, None, "a proxy's page has no DigitalOcean id");
    assert_eq!(api.request_id.as_deref(), Some("edge-42"));
    let shown = err.to_string();
    assert!(shown.contains("502"), "{shown}");
    assert!(
        shown.contains("<title>502 Bad Gateway</title>"),
        "the page is quoted: {shown}"
    );
    assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown:?}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "retries disabled: sent once"
    );
}

#[tokio::test]
async fn an_error_body_that_is_not_digitaloceans_keeps_its_status() {
    let huge = "<p>".repeat(4 * 1024 * 1024);
    let cases = [
        ("an empty body", 400, "", "empty body"),
        (
            "truncated JSON",
            500,
            r#"{"id": "server_error", "message": "trunc"#,
            "trunc",
        ),
        ("a JSON array", 400, r#"["bad_request"]"#, "bad_request"),
        (
            "plain text",
            503,
            "upstream connect error",
            "upstream connect error",
        ),
        ("a 12 MB page", 500, huge.as_str(), "<p><p>"),
    ];
    for (what, status, body, quoted) in cases {
        let response = ResponseTemplate::new(status).set_body_raw(body, "text/plain");
        let server = answering("/v2/registries/acme", response).await;
        let err = get_registry(&client(&server)).await.expect_err(what);
        assert_eq!(
            err.status().map(|s| s.as_u16()),
            Some(status),
            "{what}: {err:?}"
        );
        let shown = err.to_string();
        assert!(shown.contains(&status.to_string()), "{what}: {shown}");
        assert!(shown.contains(quoted), "{what}: says what came: {shown}");
        assert!(shown.len() < 500, "{what}: a short message: {shown}");
        assert!(!shown.contains('\n'), "{what}: {shown:?}");
    }

    // JSON of another shape: the status survives, there is no DigitalOcean id or message.
    let response = ResponseTemplate::new(504).set_body_json(json!({"error": "upstream timed out"}));
    let server = answering("/v2/registries/acme", response).await;
    let err = get_registry(&client(&server)).await.unwrap_err();
    let api = api_error(&err);
    assert_eq!(
        (api.status.as_u16(), &api.id, &api.message),
        (504, &None, &None)
    );
    assert_eq!(err.to_string(), "DigitalOcean API error 504");
}

/// The transport passes any JSON object through as DigitalOcean's error; one whose fields have
/// the wrong types then fails to decode, and progenitor's `InvalidResponsePayload` holds no
/// status, so the status is lost (src/ext/transport.rs, `error_body_as_json`).
#[tokio::test]
async fn an_error_object_with_wrongly_typed_fields_keeps_its_status() {
    let response = ResponseTemplate::new(404)
        .set_body_json(json!({"id": 404, "message": ["not", "a", "string"]}));
    let server = answering("/v2/registries/acme", response).await;
    let err = get_registry(&client(&server)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn undecodable_success_bodies_are_decode_errors_saying_why() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "truncated JSON",
            r#"{"registry": {"name": "acme", "region": "nyc3", "created_at": "2020-03-"#,
            "EOF",
        ),
        (
            "a string where a number belongs",
            r#"{"registry": {"name": "acme", "storage_usage_bytes": "lots"}}"#,
            "invalid type",
        ),
        (
            "an array where an object belongs",
            r#"{"registry": [1, 2]}"#,
            "invalid type",
        ),
        ("a top-level string", r#""acme""#, "invalid type"),
        (
            "a name the spec's pattern refuses",
            r#"{"registry": {"name": "Not A Registry"}}"#,
            "",
        ),
        ("an empty body", "", "EOF"),
    ];
    for (what, body, cause) in cases {
        let response = ResponseTemplate::new(200).set_body_raw(body, "application/json");
        let server = answering("/v2/registries/acme", response).await;
        let err = get_registry(&client(&server)).await.expect_err(what);
        assert!(matches!(err, Error::Decode { .. }), "{what}: {err:?}");
        let shown = err.to_string();
        assert!(shown.contains("could not be decoded"), "{what}: {shown}");
        assert!(!shown.contains('\n'), "{what}: {shown:?}");
        if body.is_empty() {
            assert!(shown.contains("empty body"), "{what}: {shown}");
        } else {
            let start: String = body.chars().take(12).collect();
            assert!(shown.contains(&start), "{what}: quotes the body: {shown}");
        }
        let source = std::error::Error::source(&err).expect("the JSON error is the source");
        assert!(
            source.to_string().contains(cause),
            "{what}: the source says why: {source}"
        );
        assert_eq!(err.status(), None, "{what}");
    }
}

#[tokio::test]
async fn a_huge_body_decodes_or_fails_with_a_short_message() {
    let ten_mb = 10 * 1024 * 1024;

    let garbage = "x".repeat(ten_mb);
    let server = answering(
        "/v2/registries/acme",
        ResponseTemplate::new(200).set_body_raw(garbage, "application/json"),
    )
    .await;
    let err = get_registry(&client(&server)).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.len() < 400,
        "the message quotes only the start: {} bytes",
        shown.len()
    );
    assert!(
        shown.contains("could not be decoded") && shown.contains("..."),
        "{shown}"
    );
    assert!(
        format!("{err:?}").len() < 4096,
        "Debug quotes only the start too"
    );

    let padded = json!({
        "registry": { "name": "acme", "region": "nyc3", "padding": "p".repeat(ten_mb) }
    });
    let server = answering(
        "/v2/registries/acme",
        ResponseTemplate::new(200).set_body_json(padded),
    )
    .await;
    let registry = get_registry(&client(&server))
        .await
        .unwrap()
        .registry
        .unwrap();
    assert_eq!(registry.name.as_deref().map(|n| n.as_str()), Some("acme"));
    assert_eq!(registry.region.as_deref(), Some("nyc3"));
}

#[tokio::test]
async fn unknown_fields_decode_fine() {
    let body = json!({
        "registry": {
            "name": "acme",
            "region": "fra1",
            "created_at": "2020-03-21T16:02:37Z",
            "storage_usage_bytes": 29393920,
            "brand_new_field": { "nested": [1, 2, 3] },
            "subscription": {
                "tier": { "slug": "basic", "name": "Basic", "future_flag": true },
                "created_at": "2020-01-23T21:19:12Z",
                "another_new_field": null
            }
        },
        "meta": { "whatever": "the API adds next" }
    });
    let server = MockServer::start().await;
    for at in ["/v2/registries/acme", "/v2/registry"] {
        let answer = ResponseTemplate::new(200).set_body_json(body.clone());
        mount(&server, "GET", at, answer).await;
    }
    let client = client(&server);

    let registry = get_registry(&client).await.unwrap().registry.unwrap();
    assert_eq!(registry.name.as_deref().map(|n| n.as_str()), Some("acme"));
    assert_eq!(registry.region.as_deref(), Some("fra1"));
    assert_eq!(registry.storage_usage_bytes, Some(29_393_920));

    // The deprecated call's type also reads the subscription, unknown fields and all.
    let registry = guarded(client.registry_get().send())
        .await
        .unwrap()
        .into_inner()
        .registry
        .unwrap();
    assert_eq!(registry.name.as_deref().map(|n| n.as_str()), Some("acme"));
    let tier = registry.subscription.and_then(|s| s.tier).unwrap();
    assert_eq!(tier.slug.as_deref(), Some("basic"));
    assert_eq!(tier.name.as_deref(), Some("Basic"));
}

#[tokio::test]
async fn an_unknown_garbage_collection_status_decodes_as_still_running() {
    let body = json!({
        "garbage_collection": {
            "uuid": "eff0feee-49c7-4e8f-ba5c-a320c109c8a8",
            "registry_name": "acme",
            "status": "waiting for delete requests",
            "type": "some type from the future",
            "created_at": "2020-10-30T21:03:24Z",
            "updated_at": "2020-10-30T21:03:44Z",
            "blobs_deleted": 42,
            "freed_bytes": 667
        }
    });
    let server = answering(
        "/v2/registries/acme/garbage-collection",
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    let client = client(&server);

    let call = client
        .registries_get_garbage_collection()
        .registry_name("acme")
        .send();
    let gc = guarded(call)
        .await
        .unwrap()
        .into_inner()
        .garbage_collection
        .unwrap();

    assert_eq!(gc.status.as_deref(), Some("waiting for delete requests"));
    assert_eq!(gc.type_.as_deref(), Some("some type from the future"));
    let status = GcStatus::of(&gc);
    assert_eq!(
        status,
        GcStatus::Other("waiting for delete requests".into())
    );
    assert!(!status.is_terminal());
}

#[tokio::test]
async fn a_success_status_the_spec_does_not_list_is_an_unexpected_status() {
    let server = answering(
        "/v2/registries/acme",
        rate_limit_headers(ResponseTemplate::new(203), 12),
    )
    .await;
    let err = get_registry(&client(&server)).await.unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(203));
    assert_eq!(err.rate_limit().map(|r| r.remaining), Some(12));
    assert!(err.to_string().contains("unexpected status 203"), "{err}");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_transport_error() {
    // A port that was free a moment ago, on loopback: connecting is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .token(TOKEN)
        .api_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::disabled())
        .pacing(None)
        .build()
        .unwrap();
    let err = get_registry(&client).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("request to DigitalOcean's API failed"),
        "{err}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets stay out of logs, errors and Debug.

/// Asserts the token is in none of `shown`.
fn assert_no_token(what: &str, shown: &str) {
    assert!(!shown.contains(TOKEN), "{what} shows the token: {shown}");
    assert!(
        !shown.contains("SECRET"),
        "{what} shows part of the token: {shown}"
    );
}

fn assert_error_keeps_the_secret(err: &Error) {
    assert_no_token("Display", &err.to_string());
    assert_no_token("Debug", &format!("{err:?}"));
    assert_no_token("Debug (pretty)", &format!("{err:#?}"));
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        assert_no_token("a cause", &cause.to_string());
        assert_no_token("a cause's Debug", &format!("{cause:?}"));
        source = cause.source();
    }
}

/// What one run of [`calls_that_succeed_and_fail`] left behind.
struct Outcomes {
    server: MockServer,
    clients: [Client; 2],
    errors: Vec<Error>,
    credentials: docr::credentials::RegistryCredentials,
}

/// Successful and failing calls: a 200, a 401, a 503 retried into a 200, a 503 retried until
/// the policy gives up, credentials fetched and refused, and a proxy's HTML page.
async fn calls_that_succeed_and_fail() -> Outcomes {
    let server = MockServer::start().await;
    // Fails once, then succeeds (the answer below): one retry.
    Mock::given(method("GET"))
        .and(path("/v2/registries/options"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(do_error("service_unavailable", "try again")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let answers = [
        (
            "/v2/registries/acme",
            rate_limit_headers(ResponseTemplate::new(200), 4999)
                .insert_header("x-request-id", "req-ok")
                .set_body_json(json!({ "registry": { "name": "acme" } })),
        ),
        (
            "/v2/registries",
            ResponseTemplate::new(401)
                .set_body_json(do_error("unauthorized", "Unable to authenticate you.")),
        ),
        (
            "/v2/registries/options",
            ResponseTemplate::new(200).set_body_json(json!({ "options": {} })),
        ),
        // Fails every time: retried until the policy gives up.
        (
            "/v2/registries/acme/garbage-collection",
            ResponseTemplate::new(503).set_body_json(do_error("service_unavailable", "still down")),
        ),
        (
            "/v2/registries/acme/docker-credentials",
            ResponseTemplate::new(200).set_body_json(json!({
                "auths": { "registry.digitalocean.com": { "auth": REGISTRY_AUTH } }
            })),
        ),
    ];
    for (at, answer) in answers {
        mount(&server, "GET", at, answer).await;
    }

    let client = client(&server);
    let retrying = builder(&server)
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        })
        .clock(TestClock::new())
        .build()
        .unwrap();
    let registry: RegistryName = "acme".parse().unwrap();

    get_registry(&client).await.unwrap();
    let unauthorized = Error::from(guarded(client.registries_list().send()).await.unwrap_err());
    assert_eq!(api_error(&unauthorized).status.as_u16(), 401);
    guarded(retrying.registries_get_options().send())
        .await
        .unwrap();
    let gave_up = Error::from(
        guarded(
            retrying
                .registries_get_garbage_collection()
                .registry_name("acme")
                .send(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(api_error(&gave_up).status.as_u16(), 503);
    let credentials = guarded(client.docker_credentials(&registry).send())
        .await
        .unwrap();
    let refused = guarded(
        client
            .docker_credentials(&registry)
            .expiry(Duration::ZERO)
            .send(),
    )
    .await
    .unwrap_err();
    let proxy_page = {
        let server = answering(
            "/v2/registries/acme",
            ResponseTemplate::new(502).set_body_raw(PROXY_PAGE, "text/html"),
        )
        .await;
        get_registry(&builder(&server).build().unwrap())
            .await
            .unwrap_err()
    };
    Outcomes {
        server,
        clients: [client, retrying],
        errors: vec![unauthorized, gave_up, refused, proxy_page],
        credentials,
    }
}

const REGISTRY_AUTH: &str = "ZG9fdXNlcjpwdWxsLXBhc3N3b3Jk";

#[tokio::test]
async fn the_token_reaches_no_log_no_error_and_no_debug() {
    let logs = crate::support::logs::LogBuffer::default();
    // tracing caches, per callsite and for the whole process, whether anyone listens. With a
    // single scoped subscriber, a callsite first reached by a test running in parallel (on a
    // thread without one) is cached as unheard for this thread too. A second, silent dispatcher
    // makes tracing ask the current thread's subscriber at every event instead.
    let _silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    // The test runs on one thread, so every span and event of the calls lands here.
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let outcomes = calls_that_succeed_and_fail().await;
    drop(guard);

    for err in &outcomes.errors {
        assert_error_keeps_the_secret(err);
    }
    for client in &outcomes.clients {
        assert_no_token("the client's Debug", &format!("{client:?}"));
        assert_no_token("the client's Debug", &format!("{client:#?}"));
    }
    assert_no_token(
        "the builder's Debug",
        &format!("{:?}", builder(&outcomes.server)),
    );
    assert_no_token(
        "the credentials' Debug",
        &format!("{:?}", outcomes.credentials),
    );

    // The token did go out, so its absence above means something.
    let sent = outcomes.server.received_requests().await.unwrap();
    assert!(!sent.is_empty());
    for request in &sent {
        let authorization = request.headers.get("authorization").unwrap();
        assert_eq!(authorization.to_str().unwrap(), format!("Bearer {TOKEN}"));
    }

    let log = logs.text();
    assert_no_token("the log", &log);
    assert!(
        !log.contains(REGISTRY_AUTH),
        "the log shows registry credentials:\n{log}"
    );
    // Logging was on: every call is there by name, with the retries.
    for operation in [
        "registries_get",
        "registries_list",
        "registries_get_options",
        "registries_get_garbage_collection",
        "registries_get_docker_credentials",
    ] {
        assert!(
            log.contains(&format!("operation=\"{operation}\"")),
            "{operation} missing from the log:\n{log}"
        );
    }
    assert!(log.contains("retrying"), "the retry is logged:\n{log}");
    assert!(log.contains("status=401"), "the 401 is logged:\n{log}");
}
