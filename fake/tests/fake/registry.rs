//! The registry side over real HTTP: auth as DOCR does it, pushes (monolithic, chunked,
//! mounted), reads with Accept negotiation, tags paging and the referrers API.

use crate::support::fake;
use crate::support::registry::{
    ALL_MANIFESTS, OCI_INDEX, OCI_MANIFEST, Registry, credentials, push_image, sha256, token_answer,
};
use docr_fake::{FakeDocr, Faults, RegistrySeed, digest};
use std::time::Duration;

#[tokio::test]
async fn unauthenticated_calls_get_docrs_challenge() {
    let fake = fake().await;
    let anonymous = Registry::anonymous(&fake);
    let realm = format!("Bearer realm=\"{}/v2/registry/auth\"", fake.url());
    let base = anonymous.get("/v2/", "*/*").await;
    assert_eq!(base.status, 401);
    let challenge = base.header("www-authenticate").unwrap();
    assert_eq!(
        challenge,
        format!("{realm},service=\"registry.digitalocean.com\"")
    );
    assert_eq!(base.code(), "UNAUTHORIZED");
    for (method, path, scope) in [
        ("GET", "/v2/acme/team/app/manifests/v1", "pull"),
        ("POST", "/v2/acme/team/app/blobs/uploads/", "pull,push"),
        ("DELETE", "/v2/acme/team/app/manifests/v1", "delete"),
    ] {
        let answer = anonymous.send(method, path, &[], None).await;
        assert_eq!(answer.status, 401, "{method} {path}");
        let expected = format!(",scope=\"repository:acme/team/app:{scope}\"");
        assert!(
            answer
                .header("www-authenticate")
                .unwrap()
                .ends_with(&expected)
        );
    }
}

#[tokio::test]
async fn tokens_come_from_issued_credentials_only() {
    let fake = FakeDocr::builder()
        .registry(crate::support::acme())
        .registry(RegistrySeed::new("beta"))
        .start()
        .await
        .unwrap();
    let scope = "repository:acme/team/app:pull";
    let reader = credentials(&fake, "acme", false, 0).await;
    let granted = token_answer(&fake, &reader, scope).await;
    assert_eq!(granted.status, 200);
    let body = granted.json();
    assert_eq!(body["token"], body["access_token"]);
    assert_eq!(body["expires_in"], 300);

    let (user, _) = reader.split_once(':').unwrap();
    for refused in [
        format!("{user}:acme.read-write.never"),
        "docr-fake-999:acme.read-only.never".to_string(),
        "nobody:nothing".to_string(),
    ] {
        assert_eq!(
            token_answer(&fake, &refused, scope).await.status,
            401,
            "{refused}"
        );
    }
    let beta = credentials(&fake, "beta", true, 0).await;
    let elsewhere = token_answer(&fake, &beta, scope).await;
    assert_eq!(
        (elsewhere.status, elsewhere.code().as_str()),
        (403, "DENIED")
    );
    let expiring = credentials(&fake, "acme", false, 1).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(token_answer(&fake, &expiring, scope).await.status, 401);
    // The API token, as user and password, opens every registry.
    let api = format!("{0}:{0}", fake.token());
    assert_eq!(token_answer(&fake, &api, scope).await.status, 200);
    // Nothing secret reaches Debug.
    assert!(!format!("{fake:?}").contains(fake.token()));
}

#[tokio::test]
async fn a_token_dies_with_its_credentials_and_the_fake_may_grant_less_than_asked() {
    // Asked for an hour, granted two seconds.
    let fake = FakeDocr::builder()
        .registry(crate::support::acme())
        .credentials_lifetime(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let scope = "repository:acme/team/app:pull";
    let reader = credentials(&fake, "acme", false, 3600).await;
    let issued = fake.snapshot().credentials[0].expires_at.unwrap();
    let lifetime = issued - chrono::Utc::now();
    assert!(
        lifetime <= chrono::TimeDelta::seconds(2) && lifetime > chrono::TimeDelta::zero(),
        "{lifetime}"
    );
    let granted = token_answer(&fake, &reader, scope).await;
    assert_eq!(granted.status, 200);
    assert!(granted.json()["expires_in"].as_i64().unwrap() <= 2);
    let registry = Registry::login(&fake, &reader, scope).await;
    let path = "/v2/acme/team/app/manifests/v1";
    assert_eq!(registry.get(path, ALL_MANIFESTS).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    // The token was good for five minutes but for its credentials: it is refused with them.
    let refused = registry.get(path, ALL_MANIFESTS).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (401, "UNAUTHORIZED")
    );
    assert_eq!(token_answer(&fake, &reader, scope).await.status, 401);
    let calls = fake.calls();
    assert_eq!(calls.unauthorized_of_registry("GET", "manifests"), 1);
    assert_eq!(calls.unauthorized_of_registry("GET", "token"), 1);

    // Zero: issued already expired; never-expiring ones are capped too.
    let fake = FakeDocr::builder()
        .registry(crate::support::acme())
        .credentials_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let reader = credentials(&fake, "acme", false, 0).await;
    assert!(fake.snapshot().credentials[0].expires_at.is_some());
    assert_eq!(token_answer(&fake, &reader, scope).await.status, 401);
}

#[tokio::test]
async fn read_only_tokens_pull_but_neither_push_nor_delete() {
    let fake = fake().await;
    let reader = credentials(&fake, "acme", false, 0).await;
    let registry = Registry::login(&fake, &reader, "repository:acme/team/app:pull").await;
    let pulled = registry
        .get("/v2/acme/team/app/manifests/v1", ALL_MANIFESTS)
        .await;
    assert_eq!(pulled.status, 200);
    for (method, path) in [
        ("POST", "/v2/acme/team/app/blobs/uploads/"),
        ("DELETE", "/v2/acme/team/app/manifests/v1"),
    ] {
        let denied = registry.send(method, path, &[], None).await;
        assert_eq!((denied.status, denied.code().as_str()), (403, "DENIED"));
    }
    assert!(
        fake.snapshot()
            .repository("acme", "team/app")
            .unwrap()
            .tagged("v1")
            .is_some()
    );
}

#[tokio::test]
async fn calls_wait_the_latency_and_are_counted_apart_from_the_apis() {
    let latency = Duration::from_millis(80);
    let fake = FakeDocr::builder()
        .registry(crate::support::acme())
        .faults(Faults {
            latency,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let scope = "repository:acme/team/app:pull";
    let api = format!("{0}:{0}", fake.token());
    let registry = Registry::login(&fake, &api, scope).await;
    let head = registry
        .send("HEAD", "/v2/acme/team/app/manifests/v1", &[], None)
        .await;
    assert_eq!(head.status, 200);
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
    assert_eq!(
        registry
            .get("/v2/acme/team/app/tags/list", "*/*")
            .await
            .status,
        200
    );
    let calls = fake.calls();
    assert_eq!(calls.of_registry("GET", "token"), 1);
    assert_eq!(calls.of_registry("HEAD", "manifests"), 1);
    assert_eq!(calls.of_registry("GET", "tags"), 1);
    assert_eq!(calls.registry_total(), 3);
    assert_eq!(calls.total, 0, "the API counts its own calls only");
}

#[tokio::test]
async fn seeded_manifests_are_content_addressed_for_real() {
    let fake = fake().await;
    let registry = Registry::writer(&fake, "acme").await;
    let by_tag = registry
        .get("/v2/acme/team/app/manifests/v2", ALL_MANIFESTS)
        .await;
    assert_eq!(by_tag.status, 200);
    assert_eq!(sha256(&by_tag.bytes), digest("app-2"));
    assert_eq!(
        by_tag.header("docker-content-digest"),
        Some(digest("app-2").as_str())
    );
    assert_eq!(by_tag.header("content-type"), Some(OCI_MANIFEST));
    let head = registry
        .send(
            "HEAD",
            &format!("/v2/acme/team/app/manifests/{}", digest("app-0")),
            &[("accept", OCI_MANIFEST)],
            None,
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.bytes.is_empty());
    let snapshot = fake.snapshot();
    let seeded = snapshot
        .repository("acme", "team/app")
        .unwrap()
        .manifest(&digest("app-0"))
        .unwrap();
    assert_eq!(
        head.header("content-length"),
        Some(seeded.bytes.as_ref().unwrap().len().to_string().as_str())
    );
}

#[tokio::test]
async fn pushes_monolithic_chunked_and_mounted() {
    let fake = fake().await;
    let registry = Registry::writer(&fake, "acme").await;
    let manifest = push_image(&registry, "acme/team/new", "one").await;

    // Chunked: two PATCHes, the second must start where the first ended.
    let started = registry
        .send("POST", "/v2/acme/team/new/blobs/uploads/", &[], None)
        .await;
    assert_eq!(
        (started.status, started.header("range")),
        (202, Some("0-0"))
    );
    let location = started.header("location").unwrap().to_string();
    let patch = async |range: &str, bytes: &[u8]| {
        let body = Some(bytes.to_vec());
        registry
            .send("PATCH", &location, &[("content-range", range)], body)
            .await
    };
    let first = patch("0-4", b"hello").await;
    assert_eq!((first.status, first.header("range")), (202, Some("0-4")));
    assert_eq!(patch("0-1", b"xx").await.status, 416, "misplaced");
    let second = patch("5-10", b" world").await;
    assert_eq!(second.header("range"), Some("0-10"));
    let wrong = registry
        .send(
            "PUT",
            &format!("{location}?digest={}", sha256(b"nope")),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (400, "DIGEST_INVALID")
    );
    let chunked = sha256(b"hello world");
    let restarted = registry
        .send("POST", "/v2/acme/team/new/blobs/uploads/", &[], None)
        .await;
    let location = restarted.header("location").unwrap().to_string();
    registry
        .send("PATCH", &location, &[], Some(b"hello ".to_vec()))
        .await;
    let done = registry
        .send(
            "PUT",
            &format!("{location}?digest={chunked}"),
            &[],
            Some(b"world".to_vec()),
        )
        .await;
    assert_eq!(done.status, 201);
    assert_eq!(done.header("docker-content-digest"), Some(chunked.as_str()));
    let blob = registry
        .get(&format!("/v2/acme/team/new/blobs/{chunked}"), "*/*")
        .await;
    assert_eq!(blob.bytes, b"hello world");

    // A mount from another repository of the registry needs no bytes.
    let mount = format!("/v2/acme/web/blobs/uploads/?mount={chunked}&from=acme/team/new");
    let mounted = registry.send("POST", &mount, &[], None).await;
    assert_eq!(mounted.status, 201);
    let unknown = format!(
        "/v2/acme/web/blobs/uploads/?mount={}&from=acme/team/new",
        sha256(b"?")
    );
    assert_eq!(registry.send("POST", &unknown, &[], None).await.status, 202);

    let pushed = registry
        .push_manifest("acme/team/new", "1.0", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(pushed.status, 201);
    assert_eq!(
        pushed.header("docker-content-digest"),
        Some(sha256(&manifest).as_str())
    );
    let read = registry
        .get("/v2/acme/team/new/manifests/1.0", OCI_MANIFEST)
        .await;
    assert_eq!(read.bytes, manifest);
}

#[tokio::test]
async fn manifests_are_checked_and_negotiated() {
    let fake = fake().await;
    let registry = Registry::writer(&fake, "acme").await;
    let manifest = push_image(&registry, "acme/app", "x").await;
    let wrong_digest = format!("/v2/acme/app/manifests/{}", sha256(b"other"));
    let put = registry
        .send(
            "PUT",
            &wrong_digest,
            &[("content-type", OCI_MANIFEST)],
            Some(manifest.clone()),
        )
        .await;
    assert_eq!(put.code(), "DIGEST_INVALID");
    let missing = crate::support::registry::image_manifest((&sha256(b"c"), 1), &[]);
    let put = registry
        .push_manifest("acme/app", "x", OCI_MANIFEST, &missing)
        .await;
    assert_eq!(
        (put.status, put.code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );
    let put = registry
        .push_manifest("acme/app", "x", OCI_MANIFEST, b"{")
        .await;
    assert_eq!(put.code(), "MANIFEST_INVALID");
    let digest = sha256(&manifest);
    registry
        .push_manifest("acme/app", &digest, OCI_MANIFEST, &manifest)
        .await;
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(),
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    assert_eq!(
        registry
            .push_manifest("acme/app", "multi", OCI_INDEX, &index)
            .await
            .status,
        201
    );
    let image_only = registry.get("/v2/acme/app/manifests/multi", OCI_MANIFEST);
    let image_only = image_only.await;
    assert_eq!(
        (image_only.status, image_only.code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let read = registry
        .get("/v2/acme/app/manifests/multi", ALL_MANIFESTS)
        .await;
    assert_eq!(read.header("content-type"), Some(OCI_INDEX));
    let missing_child = index.replace_digest(&digest, &sha256(b"gone"));
    let put = registry
        .push_manifest("acme/app", "broken", OCI_INDEX, &missing_child)
        .await;
    assert_eq!(put.code(), "MANIFEST_BLOB_UNKNOWN");
    let unknown = registry.get("/v2/acme/nothing/manifests/x", ALL_MANIFESTS);
    let unknown = unknown.await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "NAME_UNKNOWN")
    );
}

trait ReplaceDigest {
    fn replace_digest(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceDigest for Vec<u8> {
    fn replace_digest(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8_lossy(self).replace(from, to).into_bytes()
    }
}

#[tokio::test]
async fn the_token_endpoint_answers_get_alone_and_other_methods_are_the_apis() {
    let fake = fake().await;
    for method in ["POST", "PUT", "DELETE", "HEAD"] {
        let raw = crate::support::call(&fake, method, "/v2/registry/auth", None).await;
        assert_eq!(raw.status, 404, "{method}");
        assert!(raw.header("x-request-id").is_some(), "{method}");
        if method != "HEAD" {
            crate::support::assert_do_error(&raw, 404, "not_found");
        }
    }
    let calls = fake.calls();
    assert_eq!((calls.total, calls.registry_total()), (4, 0));
    let api = format!("{0}:{0}", fake.token());
    let granted = token_answer(&fake, &api, "repository:acme/team/app:pull").await;
    assert_eq!(granted.status, 200);
    let calls = fake.calls();
    assert_eq!((calls.total, calls.of_registry("GET", "token")), (4, 1));
}
