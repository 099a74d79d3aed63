//! The registry side's listings over real HTTP: tags paged by `n` and `last` with a `Link`,
//! and the OCI 1.1 referrers API (and its absence, for clients' tag-schema fallback).

use crate::support::fake;
use crate::support::registry::{OCI_INDEX, OCI_MANIFEST, Registry, push_image};
use docr_fake::{FakeDocr, ImageSeed, RegistrySeed, RepositorySeed};

#[tokio::test]
async fn tags_list_pages_with_link() {
    let fake = fake().await;
    let registry = Registry::writer(&fake, "acme").await;
    let manifest = push_image(&registry, "acme/app", "t").await;
    for tag in ["c", "a", "d", "b", "e"] {
        registry
            .push_manifest("acme/app", tag, OCI_MANIFEST, &manifest)
            .await;
    }
    let all = registry.get("/v2/acme/app/tags/list", "*/*").await.json();
    assert_eq!(
        all,
        serde_json::json!({"name": "acme/app", "tags": ["a", "b", "c", "d", "e"]})
    );
    let mut path = "/v2/acme/app/tags/list?n=2".to_string();
    let mut pages = Vec::new();
    loop {
        let page = registry.get(&path, "*/*").await;
        pages.push(page.json()["tags"].clone());
        match page.header("link") {
            Some(link) => {
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            }
            None => break,
        }
    }
    assert_eq!(
        serde_json::json!(pages),
        serde_json::json!([["a", "b"], ["c", "d"], ["e"]])
    );
}

#[tokio::test]
async fn referrers_list_manifests_with_a_subject() {
    let image = ImageSeed::new("signed").seed();
    let sbom = ImageSeed::new("sbom")
        .artifact_type("application/spdx+json")
        .annotation("org.opencontainers.image.created", "2024-03-01T00:00:00Z")
        .subject(&image)
        .seed();
    let signature = ImageSeed::new("sig")
        .artifact_type("application/vnd.dev.cosign.artifact.sig.v1+json")
        .subject(&image)
        .seed();
    let repository = RepositorySeed::new("app")
        .manifest(image.clone().tag("1.0"))
        .manifest(sbom.clone())
        .manifest(signature);
    for enabled in [true, false] {
        let fake = FakeDocr::builder()
            .registry(RegistrySeed::new("acme").repository(repository.clone()))
            .referrers_api(enabled)
            .start()
            .await
            .unwrap();
        let registry = Registry::writer(&fake, "acme").await;
        let path = format!("/v2/acme/app/referrers/{}", image.digest());
        let all = registry.get(&path, OCI_INDEX).await;
        if !enabled {
            assert_eq!(all.status, 404);
            continue;
        }
        assert_eq!(all.header("content-type"), Some(OCI_INDEX));
        assert_eq!(all.json()["manifests"].as_array().unwrap().len(), 2);
        let filtered = registry
            .get(
                &format!("{path}?artifactType=application/spdx%2Bjson"),
                OCI_INDEX,
            )
            .await;
        assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
        let manifests = filtered.json()["manifests"].clone();
        assert_eq!(manifests.as_array().unwrap().len(), 1);
        assert_eq!(manifests[0]["digest"], sbom.digest());
        assert_eq!(manifests[0]["artifactType"], "application/spdx+json");
        assert_eq!(
            manifests[0]["annotations"]["org.opencontainers.image.created"],
            "2024-03-01T00:00:00Z"
        );
        let none = registry
            .get(
                &format!("/v2/acme/app/referrers/{}", sbom.digest()),
                OCI_INDEX,
            )
            .await;
        assert_eq!(none.json()["manifests"], serde_json::json!([]));
    }
}
