//! The registry reader on the wire: DOCR's token auth (a 401 challenge, Basic credentials from
//! the docker-credentials call traded at the realm for a bearer token), the four manifest media
//! types in `Accept`, a 429's `Retry-After` honoured on the test clock, bytes checked against
//! their digest, and no secret in an error or `Debug`.

use base64::Engine;
use docr::prelude::*;
use docr::{
    client::TestClock, registry::ACCEPTED_MANIFEST_TYPES, registry::OCI_MANIFEST,
    registry::RegistryExt,
};
use std::time::Duration;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "pw-SECRET-7d1e";
const TOKEN: &str = "tok-SECRET-93af";
const BODY: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

use crate::sha256 as digest_of;

/// Reads the test manifest through a reader of `server` and returns the error.
async fn read_error(server: &MockServer) -> docr::Error {
    let clock = TestClock::new();
    let reader = client(server, &clock).registry_reader(&"acme".parse().unwrap());
    reader
        .manifest(&"team/app".parse().unwrap(), &digest_of(BODY))
        .await
        .unwrap_err()
}

/// A server that is the API, the registry and the realm at once.
async fn docr_like(server: &MockServer) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("reader:{PASSWORD}"));
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/docker-credentials"))
        .and(query_param("expiry_seconds", "3600"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"auths": {"registry.digitalocean.com": {"auth": auth}}}),
        ))
        .expect(1)
        .mount(server)
        .await;
    let basic = format!("Basic {auth}");
    Mock::given(method("GET"))
        .and(path("/v2/registry/auth"))
        .and(header("authorization", basic.as_str()))
        .and(query_param("service", "registry.digitalocean.com"))
        .and(query_param("scope", "repository:acme/team/app:pull"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": TOKEN})))
        .expect(1)
        .mount(server)
        .await;
    let challenge = format!(
        r#"Bearer realm="{}/v2/registry/auth",service="registry.digitalocean.com",scope="repository:acme/team/app:pull""#,
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/acme/team/app/manifests/{}",
            digest_of(BODY)
        )))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str()),
        )
        .with_priority(10)
        .mount(server)
        .await;
}

fn client(server: &MockServer, clock: &TestClock) -> Client {
    Client::builder()
        .token("api-token")
        .api_url(server.uri())
        .registry_url(server.uri())
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_manifest_is_read_through_the_token_dance_and_a_429_is_waited_out() {
    let server = MockServer::start().await;
    docr_like(&server).await;
    let bearer = format!("Bearer {TOKEN}");
    let manifest = format!("/v2/acme/team/app/manifests/{}", digest_of(BODY));
    Mock::given(method("GET"))
        .and(path(manifest.as_str()))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(manifest.as_str()))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", OCI_MANIFEST)
                .insert_header("docker-content-digest", digest_of(BODY).as_str())
                .set_body_bytes(BODY),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let clock = TestClock::new();
    let client = client(&server, &clock);
    let reader = client.registry_reader(&"acme".parse().unwrap());
    let read = reader
        .manifest(&"team/app".parse().unwrap(), &digest_of(BODY))
        .await
        .unwrap()
        .expect("the manifest");
    let requests = server.received_requests().await.unwrap();
    let reads: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path().contains("/manifests/"))
        .collect();
    assert_eq!(reads.len(), 3, "challenged, limited, answered");
    for r in reads {
        let accept = r.headers.get("accept").and_then(|v| v.to_str().ok());
        assert_eq!(accept, Some(ACCEPTED_MANIFEST_TYPES.join(", ").as_str()));
    }
    assert_eq!(read.digest.as_str(), digest_of(BODY));
    assert_eq!(read.structure.media_type, OCI_MANIFEST);
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(7)],
        "Retry-After is honoured"
    );
    let debug = format!("{reader:?} {client:?}");
    assert!(
        !debug.contains(PASSWORD) && !debug.contains(TOKEN),
        "{debug}"
    );
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_digest_are_refused_without_leaking_secrets() {
    let server = MockServer::start().await;
    docr_like(&server).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/acme/team/app/manifests/{}",
            digest_of(BODY)
        )))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", OCI_MANIFEST)
                .set_body_bytes(&BODY[..BODY.len() - 1]),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let error = read_error(&server).await;
    let text = format!("{error} {error:?}");
    assert!(text.contains("its bytes hash to"), "{text}");
    assert!(!text.contains(PASSWORD) && !text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn a_realm_over_plain_http_elsewhere_gets_no_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/acme/team/app/manifests/{}",
            digest_of(BODY)
        )))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            r#"Bearer realm="http://203.0.113.9/auth",service="x""#,
        ))
        .mount(&server)
        .await;
    let error = read_error(&server).await;
    assert!(error.to_string().contains("is not https"), "{error}");
    // Refused before asking the API for credentials: no docker-credentials call was made.
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        asked.iter().all(|p| !p.contains("docker-credentials")),
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_token_refused_after_renewing_the_credentials_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("reader:{PASSWORD}"));
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/docker-credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"auths": {"registry.digitalocean.com": {"auth": auth}}}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/registry/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": TOKEN})))
        .expect(2)
        .mount(&server)
        .await;
    // The registry refuses every token it is shown.
    let challenge = format!(
        r#"Bearer realm="{}/v2/registry/auth",service="registry.digitalocean.com""#,
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/acme/team/app/manifests/{}",
            digest_of(BODY)
        )))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str()),
        )
        .expect(3)
        .mount(&server)
        .await;
    let error = read_error(&server).await;
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("acme/team/app") && text.contains("refused again with fresh credentials"),
        "{text}"
    );
    assert!(
        !text.contains(PASSWORD) && !text.contains(TOKEN) && !text.contains(&auth),
        "{text}"
    );
    server.verify().await;
}

/// A second repository's token is bought at the realm the first one's challenge named,
/// without a 401 of its own; when the registry refuses that guess, its own challenge is
/// followed, and the credentials are not renewed for it.
#[tokio::test]
async fn a_second_repository_is_not_challenged_and_a_wrong_guess_follows_its_challenge() {
    let server = MockServer::start().await;
    docr_like(&server).await;
    let bearer = format!("Bearer {TOKEN}");
    let manifest = format!("/v2/acme/team/app/manifests/{}", digest_of(BODY));
    let served = || {
        ResponseTemplate::new(200)
            .insert_header("content-type", OCI_MANIFEST)
            .insert_header("docker-content-digest", digest_of(BODY).as_str())
            .set_body_bytes(BODY)
    };
    Mock::given(method("GET"))
        .and(path(manifest.as_str()))
        .and(header("authorization", bearer.as_str()))
        .respond_with(served())
        .with_priority(1)
        .mount(&server)
        .await;
    // team/web: the realm's token for the guessed scope is refused; the challenge names
    // another scope, whose token is taken.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("reader:{PASSWORD}"));
    let basic = format!("Basic {auth}");
    for (scope, token) in [
        ("repository:acme/team/web:pull", "tok-guessed"),
        ("repository:acme/team/web:pull,push", "tok-right"),
    ] {
        Mock::given(method("GET"))
            .and(path("/v2/registry/auth"))
            .and(header("authorization", basic.as_str()))
            .and(query_param("scope", scope))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": token})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let other = format!("/v2/acme/team/web/manifests/{}", digest_of(BODY));
    Mock::given(method("GET"))
        .and(path(other.as_str()))
        .and(header("authorization", "Bearer tok-right"))
        .respond_with(served())
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let challenge = format!(
        r#"Bearer realm="{}/v2/registry/auth",service="registry.digitalocean.com",scope="repository:acme/team/web:pull,push""#,
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(other.as_str()))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str()),
        )
        .expect(1)
        .with_priority(5)
        .mount(&server)
        .await;

    let clock = TestClock::new();
    let client = client(&server, &clock);
    let reader = client.registry_reader(&"acme".parse().unwrap());
    for repository in ["team/app", "team/web"] {
        let read = reader
            .manifest(&repository.parse().unwrap(), &digest_of(BODY))
            .await
            .unwrap();
        assert!(read.is_some(), "{repository}");
    }
    // The mocks' `expect` say the rest when the server drops: one credentials call, one
    // token per scope, one 401 for team/web (its guess refused) and none for a fresh token.
    let unauthorized = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == other)
        .count();
    assert_eq!(unauthorized, 2, "the guess refused, then the right token");
}
