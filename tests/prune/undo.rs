//! The way back, against the embedded DOCR: an apply with an undo journal records every
//! manifest on disk before its delete is sent; a restore pushes back exactly what was deleted,
//! bytes, digests and tags, and a second restore pushes nothing; after a garbage collection,
//! the images whose blobs it freed are named lost and nothing of them is pushed; a tag pushed
//! since the prune is left alone.

use crate::images::long_ago;
use crate::registry_writer::Writer;
use docr::garbage_collection::GcType;
use docr::prelude::*;
use docr::prune::{GarbageCollectionOutcome, Plan, RetentionPolicy};
use docr::undo::{Journal, JournalFile, Missing, RestoreOutcome, RestoreReport};
use docr_fake::{FakeDocr, ImageSeed, IndexSeed, RepositorySeed};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DAY: Duration = Duration::from_secs(86_400);

/// Every image older than a day goes, tagged or not.
fn everything_old() -> RetentionPolicy {
    RetentionPolicy::new()
        .older_than(DAY)
        .delete_untagged(true)
        .grace(Duration::ZERO)
}

/// What `acme` holds: (repository, digest) -> (media type, bytes, tags).
type Contents = BTreeMap<(String, String), (String, Vec<u8>, Vec<String>)>;

fn contents(fake: &FakeDocr) -> Contents {
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").expect("acme");
    let mut all = Contents::new();
    for repository in &acme.repositories {
        for m in &repository.manifests {
            let (media_type, bytes) = m.content().expect("seeded with content");
            all.insert(
                (repository.name.clone(), m.digest.clone()),
                (media_type.to_string(), bytes.to_vec(), m.tags.clone()),
            );
        }
    }
    all
}

/// An untagged index of two platforms of its own, pushed long ago.
fn old_index(name: &str) -> IndexSeed {
    IndexSeed::new()
        .image(ImageSeed::new(format!("{name}-amd64")))
        .image(ImageSeed::new(format!("{name}-arm64")).platform("linux", "arm64"))
        .attestations()
        .updated_at(long_ago())
}

/// Applies `plan` with a new journal in `dir`; the report's deleted count and the journal.
async fn apply_journaled(client: &Client, plan: &Plan, dir: &Path) -> (usize, JournalFile) {
    let journal = Journal::create_in(dir, &crate::acme()).unwrap();
    let report = client
        .apply_prune(plan)
        .journal(journal.clone())
        .send()
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(journal.manifests(), report.deleted());
    (report.deleted(), JournalFile::read(journal.path()).unwrap())
}

async fn restore(client: &Client, journal: &JournalFile) -> RestoreReport {
    client.restore(journal).send().await.unwrap()
}

fn manifest_puts(fake: &FakeDocr) -> u64 {
    fake.calls().of_registry("PUT", "manifests")
}

#[tokio::test]
async fn a_restore_after_a_prune_gives_back_every_manifest_byte_for_byte_and_a_second_pushes_nothing()
 {
    let (repo, index, lone, sbom) = crate::images::app("0.9");
    let repo = repo.index(old_index("old"));
    let (fake, client) = crate::acme_with([repo]).await;
    let before = contents(&fake);
    let plan = crate::plan(&client, &everything_old()).await;
    let planned: BTreeSet<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    for digest in [index.digest().as_str(), lone.digest(), sbom.digest()] {
        assert!(planned.contains(digest), "{plan}");
    }
    assert_eq!(planned.len(), before.len(), "everything is old: {plan}");

    let dir = tempfile::tempdir().unwrap();
    let (deleted, journal) = apply_journaled(&client, &plan, dir.path()).await;
    assert_eq!(deleted, before.len());
    assert!(contents(&fake).is_empty(), "all deleted");
    assert_eq!(journal.registry, crate::acme());
    assert_eq!(journal.manifests.len(), deleted);
    for m in &journal.manifests {
        let key = (m.repository.to_string(), m.digest.to_string());
        let (media_type, bytes, tags) = &before[&key];
        assert_eq!(
            (&m.media_type, m.bytes.as_ref(), &m.tags),
            (media_type, bytes.as_slice(), tags),
            "{} is recorded as the registry held it",
            m.digest
        );
    }

    let restored = restore(&client, &journal).await;
    let images: BTreeSet<&str> = plan.deletions().map(|d| d.image.as_str()).collect();
    assert_eq!(restored.images.len(), images.len());
    assert_eq!(restored.restored(), images.len(), "{restored:#?}");
    assert!(restored.is_complete());
    let pushed: usize = restored.images.iter().map(|i| i.manifests_pushed).sum();
    assert_eq!(pushed, before.len());
    let tagged = restored
        .images
        .iter()
        .find(|i| i.digest.as_str() == index.digest())
        .expect("the tagged index");
    assert_eq!(tagged.tags, ["0.9"]);
    assert_eq!(tagged.tags_pushed, ["0.9"]);
    assert_eq!(
        contents(&fake),
        before,
        "every manifest back, byte for byte, tags and all"
    );

    // Again: everything is there, nothing is pushed.
    let puts = manifest_puts(&fake);
    let again = restore(&client, &journal).await;
    assert_eq!(again.already_there(), images.len(), "{again:#?}");
    assert!(
        again.images.iter().all(|i| i.tags_moved.is_empty()),
        "a tag at its recorded manifest has not moved: {again:#?}"
    );
    assert_eq!(manifest_puts(&fake), puts);
    assert_eq!(contents(&fake), before);
    fake.shutdown().await;
}

#[tokio::test]
async fn after_a_collection_restore_names_exactly_the_lost_images_and_pushes_nothing_of_them() {
    // `twin` is `kept`'s image with another annotation: the same config and layer, which
    // `kept` keeps stored. `solo` and the index have blobs of their own.
    let kept = ImageSeed::new("web").seed().tag("1.0");
    let twin = ImageSeed::new("web")
        .annotation("org.example.rebuilt", "yes")
        .seed()
        .updated_at(long_ago());
    let solo = ImageSeed::new("solo")
        .seed()
        .tag("0.1")
        .updated_at(long_ago());
    let index = old_index("gone");
    let repo = RepositorySeed::new("app")
        .manifest(kept.clone())
        .manifest(twin.clone())
        .manifest(solo.clone())
        .index(index.clone());
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &everything_old()).await;

    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::create_in(dir.path(), &crate::acme()).unwrap();
    let report = client
        .apply_prune(&plan)
        .journal(journal.clone())
        .garbage_collect(GcType::UnreferencedBlobs, Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let GarbageCollectionOutcome::Succeeded(gc) = &report.garbage_collection else {
        panic!("{:?}", report.garbage_collection);
    };
    let journal = JournalFile::read(journal.path()).unwrap();
    assert_eq!(journal.garbage_collections.len(), 1);
    assert_eq!(Some(&journal.garbage_collections[0].uuid), gc.uuid.as_ref());
    assert_eq!(
        journal.garbage_collections[0].gc_type,
        "unreferenced blobs only"
    );

    let puts = manifest_puts(&fake);
    let restored = restore(&client, &journal).await;
    let outcomes: BTreeMap<String, &str> = restored
        .images
        .iter()
        .map(|i| {
            let status = match &i.outcome {
                RestoreOutcome::Restored => "restored",
                RestoreOutcome::Lost { .. } => "lost",
                other => panic!("{other:?}"),
            };
            (i.digest.to_string(), status)
        })
        .collect();
    let expected: BTreeMap<String, &str> = [
        (twin.digest().to_string(), "restored"),
        (solo.digest().to_string(), "lost"),
        (index.digest(), "lost"),
    ]
    .into_iter()
    .collect();
    assert_eq!(outcomes, expected);
    let lost = restored
        .images
        .iter()
        .find(|i| i.digest.as_str() == solo.digest())
        .unwrap();
    assert_eq!(lost.name(), format!("app:0.1@{}", solo.digest()));
    let RestoreOutcome::Lost { missing } = &lost.outcome else {
        unreachable!()
    };
    let solo_manifest: serde_json::Value =
        serde_json::from_slice(solo.content().unwrap().1).unwrap();
    let solo_blobs: BTreeSet<String> = std::iter::once(&solo_manifest["config"])
        .chain(solo_manifest["layers"].as_array().unwrap())
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .collect();
    let named: BTreeSet<String> = missing
        .iter()
        .map(|m| match m {
            Missing::Blob { manifest, blob } => {
                assert_eq!(manifest.as_str(), solo.digest());
                blob.to_string()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(named, solo_blobs, "every blob the collection took");
    assert!(!restored.is_complete());
    assert_eq!((restored.restored(), restored.lost()), (1, 2));

    // One push, the twin's; nothing of the lost ones.
    assert_eq!(manifest_puts(&fake) - puts, 1);
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    let left: BTreeSet<&str> = app.manifests.iter().map(|m| m.digest.as_str()).collect();
    assert_eq!(left, BTreeSet::from([kept.digest(), twin.digest()]));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_tag_pushed_since_the_prune_is_left_alone_and_reported() {
    let old = ImageSeed::new("one")
        .seed()
        .tag("v1")
        .updated_at(long_ago());
    let new = ImageSeed::new("two").seed().tag("latest");
    let (fake, client) = crate::acme_with([RepositorySeed::new("app")
        .manifest(old.clone())
        .manifest(new.clone())])
    .await;
    let plan = crate::plan(&client, &everything_old()).await;
    let dir = tempfile::tempdir().unwrap();
    let (deleted, journal) = apply_journaled(&client, &plan, dir.path()).await;
    assert_eq!(deleted, 1);

    // `v1` now names the new image.
    Writer::login(&fake, "app")
        .await
        .tag(&fake, "app", "v1", new.digest())
        .await;
    let restored = restore(&client, &journal).await;
    let image = &restored.images[0];
    assert_eq!(image.outcome, RestoreOutcome::Restored);
    assert_eq!((image.manifests_pushed, image.tags_pushed.len()), (1, 0));
    assert_eq!(image.tags_moved.len(), 1);
    assert_eq!(image.tags_moved[0].tag, "v1");
    assert_eq!(image.tags_moved[0].now.as_str(), new.digest());
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    assert_eq!(app.tagged("v1").unwrap().digest, new.digest());
    assert!(app.manifest(old.digest()).unwrap().tags.is_empty());
    fake.shutdown().await;
}

#[tokio::test]
async fn a_journal_for_another_registry_is_refused_before_any_request() {
    let (fake, client) = crate::acme_with([
        RepositorySeed::new("app").manifest(ImageSeed::new("a").seed().updated_at(long_ago()))
    ])
    .await;
    let plan = crate::plan(&client, &everything_old()).await;
    let dir = tempfile::tempdir().unwrap();
    let other: RegistryName = "other".parse().unwrap();
    let journal = Journal::create_in(dir.path(), &other).unwrap();
    let calls = fake.calls().total;
    let err = client
        .apply_prune(&plan)
        .journal(journal.clone())
        .send()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("is for registry other, not acme"), "{err}");
    assert_eq!(fake.calls().total, calls);
    fake.shutdown().await;
}

/// Answers each manifest delete 204, noting whether the journal file held the manifest's
/// digest when the delete arrived.
struct JournalChecker {
    journal: std::path::PathBuf,
    seen: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Respond for JournalChecker {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let digest = request.url.path().rsplit('/').next().unwrap().to_string();
        let journal = std::fs::read_to_string(&self.journal).unwrap_or_default();
        let recorded = journal
            .lines()
            .skip(1)
            .any(|l| l.contains(&format!("\"digest\":\"{digest}\"")));
        self.seen.lock().unwrap().push((digest, recorded));
        ResponseTemplate::new(204)
    }
}

/// The API in front of the fake's registry is a wiremock server: it serves the fake's own
/// listing, the API token as registry credentials, and checks the journal file at every
/// delete's arrival.
#[tokio::test]
async fn every_delete_arrives_after_its_manifest_is_in_the_journal_file() {
    let repo = RepositorySeed::new("app")
        .manifest(ImageSeed::new("a").seed().updated_at(long_ago()))
        .manifest(ImageSeed::new("b").seed().tag("b").updated_at(long_ago()))
        .index(old_index("i"));
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &everything_old()).await;
    let listing = app_listing(&fake).await;

    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::create_in(dir.path(), &crate::acme()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/repositories/app/digests"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&listing))
        .mount(&api)
        .await;
    let auth = docr_fake_auth(fake.token());
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/docker-credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "auths": {"registry.digitalocean.com": {"auth": auth}}
        })))
        .mount(&api)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(
            "^/v2/registries/acme/repositories/app/digests/sha256:[0-9a-f]{64}$",
        ))
        .respond_with(JournalChecker {
            journal: journal.path().to_path_buf(),
            seen: seen.clone(),
        })
        .mount(&api)
        .await;
    let through_api = docr::ClientBuilder::new()
        .token(fake.token())
        .api_url(api.uri())
        .registry_url(fake.registry_url())
        .build()
        .unwrap();

    let report = through_api
        .apply_prune(&plan)
        .journal(journal.clone())
        .concurrency(4)
        .send()
        .await
        .unwrap();
    let planned: BTreeSet<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    assert_eq!(report.deleted(), planned.len(), "{report:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), planned.len());
    for (digest, recorded) in &seen {
        assert!(recorded, "{digest} was deleted before the journal held it");
    }
    let deleted: BTreeSet<String> = seen.into_iter().map(|(d, _)| d).collect();
    assert_eq!(deleted, planned);
    fake.shutdown().await;
}

/// Docker's `auth` for the API token as the password, which the fake's realm accepts.
fn docr_fake_auth(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("docr:{token}"))
}

/// With the registry refusing to serve the manifests (a wiremock registry answering 403 to
/// each read by digest), nothing can be recorded: every item is reported not recorded, no
/// delete is sent, and the journal holds its header alone.
#[tokio::test]
async fn a_manifest_that_cannot_be_recorded_is_not_deleted() {
    let repo = RepositorySeed::new("app")
        .manifest(ImageSeed::new("a").seed().updated_at(long_ago()))
        .manifest(ImageSeed::new("b").seed().updated_at(long_ago()));
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &everything_old()).await;
    let listing = app_listing(&fake).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/registries/acme/repositories/app/digests"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&listing))
        .mount(&api)
        .await;
    let registry = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/acme/app/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"tags": []})))
        .mount(&registry)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v2/acme/app/manifests/sha256:[0-9a-f]{64}$"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "errors": [{"code": "DENIED", "message": "not today"}]
        })))
        .mount(&registry)
        .await;
    let through = docr::ClientBuilder::new()
        .token(fake.token())
        .api_url(api.uri())
        .registry_url(registry.uri())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::create_in(dir.path(), &crate::acme()).unwrap();

    let report = through
        .apply_prune(&plan)
        .journal(journal.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(report.not_recorded(), 2, "{report:?}");
    assert_eq!((report.deleted(), report.failed()), (0, 0));
    assert!(!report.is_complete());
    let deletes = api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .count();
    assert_eq!(deletes, 0);
    assert_eq!(journal.manifests(), 0);
    assert!(
        JournalFile::read(journal.path())
            .unwrap()
            .manifests
            .is_empty()
    );
    fake.shutdown().await;
}

/// The fake's answer to the listing of `acme/app`'s manifests, as JSON: what a mock API in
/// its place answers.
async fn app_listing(fake: &docr_fake::FakeDocr) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!(
            "{}/v2/registries/acme/repositories/app/digests?per_page=200",
            fake.url()
        ))
        .bearer_auth(fake.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An index whose platforms are there while it is not (a restore cut short, or the index
/// deleted alone since): restore pushes the index alone, after the members it finds there.
#[tokio::test]
async fn an_index_whose_members_are_there_is_pushed_alone() {
    let (repo, index, _, _) = crate::images::app("0.9");
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &everything_old()).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, journal) = apply_journaled(&client, &plan, dir.path()).await;
    assert!(restore(&client, &journal).await.is_complete());

    client
        .registries_delete_repository_manifest()
        .registry_name("acme")
        .repository_name("app")
        .manifest_digest(index.digest().as_str())
        .send()
        .await
        .unwrap();
    let puts = manifest_puts(&fake);
    let again = restore(&client, &journal).await;
    assert!(again.is_complete(), "{again:#?}");
    let restored = again
        .images
        .iter()
        .find(|i| i.digest.as_str() == index.digest())
        .expect("the tagged index");
    assert_eq!(restored.outcome, RestoreOutcome::Restored, "{again:#?}");
    assert_eq!(restored.manifests_pushed, 1, "the index alone: {again:#?}");
    assert_eq!(
        manifest_puts(&fake) - puts,
        1 + 1,
        "by digest, then by its tag"
    );
    fake.shutdown().await;
}
