//! One state for both sides: what the registry side pushes and deletes shows in the API's
//! listings and storage, what the API deletes is gone from the registry side, and a garbage
//! collection frees exactly the blobs no remaining manifest references, indexes included.

use crate::support::calls::At;
use crate::support::registry::{
    ALL_MANIFESTS, OCI_INDEX, OCI_MANIFEST, Registry, push_image, sha256,
};
use crate::support::{self, fake, plain_client, registry};
use docr::{garbage_collection::GcType, garbage_collection::PollSchedule};
use docr_fake::{FakeDocr, ImageSeed, IndexSeed, RegistrySeed, RepositorySeed};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn pushes_and_deletes_show_on_both_sides() {
    let fake = fake().await;
    let client = plain_client(&fake);
    let acme = registry("acme");
    let api = At::current(&client, &acme);
    let writer = Registry::writer(&fake, "acme").await;
    let storage_before = fake
        .snapshot()
        .registry("acme")
        .unwrap()
        .storage_usage_bytes;
    let manifest = push_image(&writer, "acme/team/new", "v").await;
    let digest = sha256(&manifest);
    let pushed = writer
        .push_manifest("acme/team/new", "1.0", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(pushed.status, 201);

    let listed = api.manifests("team/new").await;
    let listed = &listed.manifests[0];
    assert_eq!(listed.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(listed.tags, ["1.0"]);
    let sizes: Vec<i64> = listed
        .blobs
        .iter()
        .filter_map(|b| b.compressed_size_bytes)
        .collect();
    assert_eq!(sizes, [13, 7]);
    assert_eq!(listed.compressed_size_bytes, Some(20));
    let pushed_at = listed.updated_at.unwrap();
    assert!((chrono::Utc::now() - pushed_at).num_seconds().abs() < 60);
    let storage = fake
        .snapshot()
        .registry("acme")
        .unwrap()
        .storage_usage_bytes;
    assert_eq!(storage, storage_before + 20);
    let tags = api.tags("team/new").await;
    assert_eq!(tags.tags[0].tag.as_deref(), Some("1.0"));

    // A registry-side delete of a tag leaves the manifest; of the digest, removes it.
    assert_eq!(
        writer
            .send("DELETE", "/v2/acme/team/new/manifests/1.0", &[], None)
            .await
            .status,
        202
    );
    let snapshot = fake.snapshot();
    let repository = snapshot.repository("acme", "team/new").unwrap();
    assert!(repository.manifest(&digest).unwrap().tags.is_empty());
    let path = format!("/v2/acme/team/new/manifests/{digest}");
    assert_eq!(writer.send("DELETE", &path, &[], None).await.status, 202);
    assert!(
        fake.snapshot()
            .repository("acme", "team/new")
            .unwrap()
            .manifests
            .is_empty()
    );
    assert_eq!(
        writer.get(&path, ALL_MANIFESTS).await.code(),
        "MANIFEST_UNKNOWN"
    );

    // An API delete is gone from the registry side.
    let seeded = format!("/v2/acme/team/app/manifests/{}", docr_fake::digest("app-1"));
    assert_eq!(writer.get(&seeded, ALL_MANIFESTS).await.status, 200);
    api.delete_manifest("team/app", docr_fake::digest("app-1"))
        .await
        .unwrap();
    assert_eq!(writer.get(&seeded, ALL_MANIFESTS).await.status, 404);
    api.delete_tag("team/app", "latest").await.unwrap();
    assert_eq!(
        writer
            .get("/v2/acme/team/app/manifests/latest", ALL_MANIFESTS)
            .await
            .status,
        404
    );
    assert_eq!(
        writer
            .get("/v2/acme/team/app/manifests/v2", ALL_MANIFESTS)
            .await
            .status,
        200
    );
}

/// `app`: a tagged index of two platforms with attestations, a lone untagged image and a
/// referrer of the index; a blob no manifest references.
fn with_index() -> (RegistrySeed, IndexSeed, docr_fake::ManifestSeed) {
    let index = IndexSeed::new()
        .image(ImageSeed::new("amd64"))
        .image(ImageSeed::new("arm64").platform("linux", "arm64"))
        .attestations()
        .tag("1.0");
    let lone = ImageSeed::new("lone").layer(&b"only here"[..]).seed();
    let referrer = ImageSeed::new("sbom")
        .artifact_type("application/spdx+json")
        .subject(&index.seed())
        .seed();
    let seed = RegistrySeed::new("acme")
        .blob(sha256(b"orphan"), 6)
        .repository(
            RepositorySeed::new("app")
                .index(index.clone())
                .manifest(lone.clone())
                .manifest(referrer),
        );
    (seed, index, lone)
}

async fn collect(fake: &FakeDocr, gc_type: GcType) -> (u64, u64) {
    let (client, acme) = (plain_client(fake), registry("acme"));
    let done = support::collect(&client, &acme, gc_type, PollSchedule::default()).await;
    (
        done.blobs_deleted.unwrap_or(0) as u64,
        done.freed_bytes.unwrap_or(0) as u64,
    )
}

fn blob_usage(fake: &FakeDocr) -> (BTreeSet<String>, Vec<(String, u64)>) {
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").unwrap();
    let referenced: BTreeSet<String> = acme
        .repositories
        .iter()
        .flat_map(|r| &r.manifests)
        .flat_map(|m| &m.blobs)
        .map(|b| b.digest.clone())
        .collect();
    let stored = acme
        .blobs
        .iter()
        .map(|b| (b.digest.clone(), b.compressed_size_bytes))
        .collect();
    (referenced, stored)
}

#[tokio::test]
async fn gc_frees_exactly_the_unreferenced_blobs_and_keeps_index_children() {
    let (seed, index, lone) = with_index();
    let fake = FakeDocr::builder()
        .registry(seed)
        .gc_step(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    assert_eq!(app.manifests.len(), 7);
    let tagged = app.tagged("1.0").unwrap();
    assert!(tagged.is_index() && tagged.blobs.is_empty() && tagged.compressed_size_bytes == 0);
    assert_eq!(tagged.children.len(), 4);
    assert_eq!(tagged.digest, index.digest());

    // Blobs only: the orphan goes, nothing a manifest references does.
    let (referenced, stored) = blob_usage(&fake);
    let expected: u64 = stored
        .iter()
        .filter(|(d, _)| !referenced.contains(d))
        .map(|(_, s)| s)
        .sum();
    assert_eq!(
        collect(&fake, GcType::UnreferencedBlobs).await,
        (1, expected)
    );
    assert_eq!(expected, 6);

    // Untagged manifests and blobs: the lone image and the referrer go, the children stay.
    let before = blob_usage(&fake).1;
    let (count, freed) = collect(&fake, GcType::Both).await;
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    let kept: BTreeSet<&str> = app.manifests.iter().map(|m| m.digest.as_str()).collect();
    let expected: BTreeSet<&str> = tagged
        .children
        .iter()
        .map(String::as_str)
        .chain([tagged.digest.as_str()])
        .collect();
    assert_eq!(kept, expected);
    assert!(!kept.contains(lone.digest()));
    let (referenced, after) = blob_usage(&fake);
    let gone: Vec<&(String, u64)> = before.iter().filter(|b| !after.contains(b)).collect();
    assert!(gone.iter().all(|(d, _)| !referenced.contains(d)));
    assert!(after.iter().all(|(d, _)| referenced.contains(d)));
    assert_eq!(count, gone.len() as u64);
    assert_eq!(freed, gone.iter().map(|(_, s)| s).sum::<u64>());
}

#[tokio::test]
async fn the_demo_archive_holds_multi_arch_and_signed_images() {
    let fake = FakeDocr::builder().demo_data().start().await.unwrap();
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme-archive", "shop/web").unwrap();
    let indexes: Vec<_> = web.manifests.iter().filter(|m| m.is_index()).collect();
    assert_eq!(indexes.len(), 4);
    assert_eq!(indexes.iter().filter(|m| m.tags.is_empty()).count(), 1);
    let latest = web.tagged("latest").unwrap();
    let rc = web.tagged("1.1-rc1").unwrap();
    assert_eq!(
        latest.children[..2],
        rc.children[..],
        "the candidate shares the images"
    );
    assert!(
        latest
            .children
            .iter()
            .all(|c| web.manifest(c).unwrap().tags.is_empty())
    );

    let reader = crate::support::registry::credentials(&fake, "acme-archive", false, 0).await;
    let registry = Registry::login(&fake, &reader, "repository:acme-archive/shop/web:pull").await;
    let index = registry
        .get("/v2/acme-archive/shop/web/manifests/latest", ALL_MANIFESTS)
        .await;
    let index = index.json();
    let attestation = &index["manifests"][2];
    assert_eq!(attestation["platform"]["os"], "unknown");
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.digest"],
        index["manifests"][0]["digest"]
    );
    let child = registry
        .get(
            &format!("/v2/acme-archive/shop/web/manifests/{}", latest.children[0]),
            OCI_MANIFEST,
        )
        .await
        .json();
    let layer = child["layers"][0]["digest"].as_str().unwrap();
    let blob = registry
        .get(&format!("/v2/acme-archive/shop/web/blobs/{layer}"), "*/*")
        .await;
    assert_eq!(sha256(&blob.bytes), layer);

    let signed = snapshot.repository("acme-archive", "signed/api").unwrap();
    let image = signed.tagged("2.0").unwrap();
    let sig = format!("sha256-{}.sig", image.digest.trim_start_matches("sha256:"));
    assert!(signed.tagged(&sig).is_some());
    let referrers = registry
        .get(
            &format!("/v2/acme-archive/signed/api/referrers/{}", image.digest),
            OCI_INDEX,
        )
        .await
        .json();
    assert_eq!(
        referrers["manifests"][0]["artifactType"],
        "application/spdx+json"
    );
}
