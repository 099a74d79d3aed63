//! The way back, as the distribution registry has it: a deleted manifest's blobs stay stored
//! until a garbage collection, so its exact bytes pushed again (by digest, then by tag) bring
//! it back; an index comes back once its children are there; after a collection freed its
//! blobs, the push is refused and the blobs answer 404.

use crate::support::registry::{
    ALL_MANIFESTS, OCI_INDEX, OCI_MANIFEST, Registry, push_image, sha256,
};
use crate::support::{self, fake, plain_client, registry};
use docr::garbage_collection::{GcType, PollSchedule};
use serde_json::json;

const NAME: &str = "acme/app";

/// The manifest's digest and whether the registry serves it, by digest.
async fn served(registry: &Registry, digest: &str) -> bool {
    let path = format!("/v2/{NAME}/manifests/{digest}");
    let answer = registry
        .send("HEAD", &path, &[("accept", ALL_MANIFESTS)], None)
        .await;
    answer.status == 200
}

async fn blob_status(registry: &Registry, digest: &str) -> u16 {
    let path = format!("/v2/{NAME}/blobs/{digest}");
    registry.send("HEAD", &path, &[], None).await.status
}

async fn put(
    registry: &Registry,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) -> (u16, String) {
    let answer = registry
        .push_manifest(NAME, reference, media_type, bytes)
        .await;
    let code = if answer.status >= 400 {
        answer.code()
    } else {
        String::new()
    };
    (answer.status, code)
}

async fn delete(registry: &Registry, digest: &str) {
    let path = format!("/v2/{NAME}/manifests/{digest}");
    assert_eq!(registry.send("DELETE", &path, &[], None).await.status, 202);
}

/// The config and layer digests of an image manifest.
fn blobs_of(manifest: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    std::iter::once(&value["config"])
        .chain(value["layers"].as_array().unwrap())
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn deleted_manifests_come_back_by_digest_and_tag_until_a_collection_frees_their_blobs() {
    let fake = fake().await;
    let writer = Registry::writer(&fake, "acme").await;
    let client = plain_client(&fake);

    // An image tagged 1.0, and an index tagged 2.0 of two images pushed by digest.
    let image = push_image(&writer, NAME, "one").await;
    let image_digest = sha256(&image);
    assert_eq!(put(&writer, "1.0", OCI_MANIFEST, &image).await.0, 201);
    let mut children = Vec::new();
    for label in ["amd64", "arm64"] {
        let bytes = push_image(&writer, NAME, label).await;
        let digest = sha256(&bytes);
        assert_eq!(put(&writer, &digest, OCI_MANIFEST, &bytes).await.0, 201);
        children.push((digest, bytes));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": children.iter().map(|(d, b)| json!({"mediaType": OCI_MANIFEST, "digest": d, "size": b.len()})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let index_digest = sha256(&index);
    assert_eq!(put(&writer, "2.0", OCI_INDEX, &index).await.0, 201);

    // Deleted: the image through the API, the index and its children at the registry.
    client
        .registries_delete_repository_manifest()
        .registry_name(&registry("acme"))
        .repository_name("app")
        .manifest_digest(image_digest.as_str())
        .send()
        .await
        .unwrap();
    delete(&writer, &index_digest).await;
    for (digest, _) in &children {
        delete(&writer, digest).await;
    }
    assert!(!served(&writer, &image_digest).await);
    assert!(!served(&writer, &index_digest).await);
    for blob in blobs_of(&image) {
        assert_eq!(
            blob_status(&writer, &blob).await,
            200,
            "kept until a collection"
        );
    }

    // The same bytes again: by digest, then by tag.
    assert_eq!(
        put(&writer, &image_digest, OCI_MANIFEST, &image).await.0,
        201
    );
    assert_eq!(put(&writer, "1.0", OCI_MANIFEST, &image).await.0, 201);
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    assert_eq!(
        app.tagged("1.0").map(|m| m.digest.as_str()),
        Some(image_digest.as_str())
    );

    // An index before its children is refused, naming the child; after them, accepted.
    let (status, code) = put(&writer, &index_digest, OCI_INDEX, &index).await;
    assert_eq!((status, code.as_str()), (400, "MANIFEST_BLOB_UNKNOWN"));
    for (digest, bytes) in &children {
        assert_eq!(put(&writer, digest, OCI_MANIFEST, bytes).await.0, 201);
    }
    assert_eq!(put(&writer, &index_digest, OCI_INDEX, &index).await.0, 201);
    assert_eq!(put(&writer, "2.0", OCI_INDEX, &index).await.0, 201);
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    assert_eq!(
        app.tagged("2.0").map(|m| m.digest.as_str()),
        Some(index_digest.as_str())
    );
    assert_eq!(app.manifests.len(), 4);

    // Deleted again, then collected: the blobs only it referenced are gone, and so is the way
    // back; the index's children, still there, keep theirs.
    delete(&writer, &image_digest).await;
    let acme = registry("acme");
    support::collect(
        &client,
        &acme,
        GcType::UnreferencedBlobs,
        PollSchedule::default(),
    )
    .await;
    for blob in blobs_of(&image) {
        assert_eq!(
            blob_status(&writer, &blob).await,
            404,
            "freed by the collection"
        );
    }
    let (status, code) = put(&writer, &image_digest, OCI_MANIFEST, &image).await;
    assert_eq!((status, code.as_str()), (400, "MANIFEST_BLOB_UNKNOWN"));
    let (status, _) = put(&writer, "1.0", OCI_MANIFEST, &image).await;
    assert_eq!(status, 400);
    assert!(!served(&writer, &image_digest).await);
    for (digest, bytes) in &children {
        for blob in blobs_of(bytes) {
            assert_eq!(
                blob_status(&writer, &blob).await,
                200,
                "{digest} keeps its blobs"
            );
        }
    }
}
