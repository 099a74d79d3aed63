//! Applying a plan against the embedded DOCR: exactly the plan, one delete per manifest, and
//! every item checked at the registry first: a tag moved to it, a newer index that references
//! it, or a new referrer saves it; one already gone is skipped, not failed; a registry that
//! cannot be read deletes nothing.

use crate::images::{app, long_ago, remaining};
use crate::registry_writer::Writer;
use docr::prelude::*;
use docr::{
    client::Clock, garbage_collection::GcType, prune::GarbageCollectionOutcome, prune::ItemOutcome,
    prune::Plan, prune::RetentionPolicy, prune::SkipReason, registry::OCI_INDEX,
    registry::OCI_MANIFEST, types,
};
use docr_fake::{FakeDocr, ImageSeed, IndexSeed, ManifestSeed, RegistrySeed, RepositorySeed};
use serde_json::json;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// `app` (an index tagged 1.0 with platforms, attestations and an SBOM, and an untagged
/// image `lone`), planned with "delete untagged": the plan deletes `lone` only.
pub(crate) async fn planned() -> (FakeDocr, Client, Plan, ManifestSeed) {
    let (repo, _, lone, _) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &untagged()).await;
    let planned: Vec<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    assert_eq!(planned, [lone.digest()], "{plan}");
    (fake, client, plan, lone)
}

/// Applies `plan`, then collects unreferenced blobs when something was deleted.
async fn apply_and_collect(client: &Client, plan: &Plan) -> docr::prune::ApplyReport {
    client
        .apply_prune(plan)
        .garbage_collect(GcType::UnreferencedBlobs, Duration::from_secs(30))
        .send()
        .await
        .unwrap()
}

/// Delete untagged images, with no grace window (the seeds are new).
pub(crate) fn untagged() -> RetentionPolicy {
    RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::ZERO)
}

/// Pushes `manifest` to `app` under `reference`, then applies the plan: why its item was saved.
async fn put_then_apply(
    writer: &Writer,
    reference: &str,
    media_type: &str,
    manifest: &serde_json::Value,
    (client, plan, lone): (&Client, &Plan, &ManifestSeed),
) -> SkipReason {
    let bytes = serde_json::to_vec(manifest).unwrap();
    writer.put("app", reference, media_type, bytes).await;
    saved(client, plan, lone).await
}

/// Applies `plan` and returns why its one item was skipped, checking it is still there.
async fn saved(client: &Client, plan: &Plan, lone: &ManifestSeed) -> SkipReason {
    let (outcome, still_there) = apply_one(client, plan, lone).await;
    assert!(still_there, "{outcome:?}");
    match outcome {
        ItemOutcome::Skipped { why } => why,
        other => panic!("{other:?}"),
    }
}

/// The one item's outcome, and whether its manifest is still there.
async fn apply_one(client: &Client, plan: &Plan, lone: &ManifestSeed) -> (ItemOutcome, bool) {
    let report = client.apply_prune(plan).send().await.unwrap();
    assert_eq!(report.items.len(), 1, "{report:?}");
    let still_there = remaining(client, "app").await.contains(lone.digest());
    (
        report.items.into_iter().next().unwrap().outcome,
        still_there,
    )
}

fn descriptor(fake: &FakeDocr, digest: &str) -> serde_json::Value {
    let snapshot = fake.snapshot();
    let (media_type, bytes) = snapshot
        .repository("acme", "app")
        .and_then(|r| r.manifest(digest))
        .and_then(|m| m.content())
        .unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

#[tokio::test]
async fn a_tag_moved_to_a_planned_manifest_saves_it() {
    let (fake, client, plan, lone) = planned().await;
    Writer::login(&fake, "app")
        .await
        .tag(&fake, "app", "hotfix", lone.digest())
        .await;
    let (outcome, still_there) = apply_one(&client, &plan, &lone).await;
    let expected = SkipReason::TagsChanged {
        current: vec!["hotfix".into()],
    };
    assert!(
        matches!(&outcome, ItemOutcome::Skipped { why } if *why == expected),
        "{outcome:?}"
    );
    assert!(still_there);
    fake.shutdown().await;
}

/// An OCI index whose one platform is `lone`.
fn index_over(fake: &FakeDocr, lone: &ManifestSeed) -> serde_json::Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [descriptor(fake, lone.digest())],
    })
}

/// A cosign signature of `lone`: with a `subject` (the referrers API's way) or without one
/// (cosign's tag schema, where only the tag names what is signed).
async fn signature_of(
    writer: &Writer,
    fake: &FakeDocr,
    lone: &ManifestSeed,
    subject: bool,
) -> serde_json::Value {
    let config = writer.blob("app", b"{}").await;
    let mut signature = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [],
    });
    if subject {
        signature["subject"] = descriptor(fake, lone.digest());
    }
    signature
}

#[tokio::test]
async fn a_newer_index_that_references_a_planned_manifest_saves_it() {
    let (fake, client, plan, lone) = planned().await;
    let index = index_over(&fake, &lone);
    let writer = Writer::login(&fake, "app").await;
    let why = put_then_apply(&writer, "2.0", OCI_INDEX, &index, (&client, &plan, &lone)).await;
    assert!(matches!(why, SkipReason::ReferencedBy { .. }), "{why:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_new_untagged_index_that_references_a_planned_manifest_saves_it() {
    let (fake, client, plan, lone) = planned().await;
    let index = index_over(&fake, &lone);
    // Pushed by digest, as a push of a multi-platform image leaves its index before its tag.
    let digest = crate::sha256(&serde_json::to_vec(&index).unwrap());
    let writer = Writer::login(&fake, "app").await;
    let why = put_then_apply(&writer, &digest, OCI_INDEX, &index, (&client, &plan, &lone)).await;
    assert_eq!(
        why,
        SkipReason::ReferencedBy {
            digest: digest.parse().unwrap()
        }
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_new_referrer_saves_its_subject() {
    let (fake, client, plan, lone) = planned().await;
    let writer = Writer::login(&fake, "app").await;
    let signature = signature_of(&writer, &fake, &lone, true).await;
    let digest = crate::sha256(&serde_json::to_vec(&signature).unwrap());
    let why = put_then_apply(
        &writer,
        &digest,
        OCI_MANIFEST,
        &signature,
        (&client, &plan, &lone),
    )
    .await;
    assert!(matches!(why, SkipReason::GainedReferrer { .. }), "{why:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_new_signature_tag_saves_its_subject() {
    let (fake, client, plan, lone) = planned().await;
    let writer = Writer::login(&fake, "app").await;
    let signature = signature_of(&writer, &fake, &lone, false).await;
    let digest = crate::sha256(&serde_json::to_vec(&signature).unwrap());
    let tag = format!("{}.sig", lone.digest().replace(':', "-"));
    let why = put_then_apply(
        &writer,
        &tag,
        OCI_MANIFEST,
        &signature,
        (&client, &plan, &lone),
    )
    .await;
    assert_eq!(
        why,
        SkipReason::GainedReferrer {
            digest: digest.parse().unwrap()
        }
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_manifest_gone_before_the_apply_is_skipped_not_failed() {
    let (fake, client, plan, lone) = planned().await;
    client
        .registries_delete_repository_manifest()
        .registry_name(&crate::acme())
        .repository_name("app")
        .manifest_digest(lone.digest())
        .send()
        .await
        .unwrap();
    let (outcome, still_there) = apply_one(&client, &plan, &lone).await;
    assert!(
        matches!(
            &outcome,
            ItemOutcome::Skipped {
                why: SkipReason::Gone
            }
        ),
        "{outcome:?}"
    );
    assert!(!still_there);
    fake.shutdown().await;
}

#[tokio::test]
async fn apply_sends_one_delete_per_planned_manifest_then_collects_the_garbage() {
    let (repo, index, lone, sbom) = app("0.9");
    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme").repository(repo).repository(
            RepositorySeed::new("kept").manifest(ImageSeed::new("kept").seed().tag("v1")),
        ))
        .gc_step(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let policy = RetentionPolicy::new()
        .older_than(Duration::from_secs(86_400))
        .delete_untagged(true)
        .keep_tags_matching("v1")
        .unwrap()
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    // The index, its 2 platforms and 2 attestations, its SBOM, and `lone` (untagged).
    assert_eq!(plan.totals.manifests, 7, "{plan}");
    assert_eq!(plan.totals.images, 2);
    assert!(plan.deletions().any(|d| d.digest.as_str() == sbom.digest()));
    let before = fake.calls().of("registries_delete_repositoryManifest");
    let report = apply_and_collect(&client, &plan).await;
    assert_eq!(report.deleted(), 7, "{report:?}");
    assert_eq!(
        fake.calls().of("registries_delete_repositoryManifest") - before,
        7
    );
    let GarbageCollectionOutcome::Succeeded(gc) = &report.garbage_collection else {
        panic!("{:?}", report.garbage_collection)
    };
    assert_eq!(
        gc.freed_bytes.map(|b| b as u64),
        Some(plan.totals.gc_frees_bytes),
        "the plan's estimate is what the GC frees"
    );
    assert!(remaining(&client, "app").await.is_empty());
    assert_eq!(remaining(&client, "kept").await.len(), 1);
    let _ = (index, lone);
    fake.shutdown().await;
}

#[tokio::test]
async fn no_garbage_collection_runs_when_nothing_was_deleted() {
    let (repo, ..) = app("1.0");
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &RetentionPolicy::new()).await;
    assert!(plan.is_empty());
    let report = apply_and_collect(&client, &plan).await;
    assert!(matches!(
        report.garbage_collection,
        GarbageCollectionOutcome::NothingDeleted
    ));
    assert_eq!(fake.calls().of("registries_run_garbageCollection"), 0);
    fake.shutdown().await;
}

/// The real time, with every pause a client asks for cut to a few milliseconds and the time
/// skipped added: a waiter polls often enough to see each step of a fake's collection.
#[derive(Debug, Default)]
struct Hurried {
    skipped: Mutex<Duration>,
}

impl Clock for Hurried {
    fn now(&self) -> SystemTime {
        SystemTime::now() + *self.skipped.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let real = duration.min(Duration::from_millis(5));
        *self.skipped.lock().unwrap() += duration - real;
        Box::pin(tokio::time::sleep(real))
    }
}

/// `lone` planned for deletion in a fake whose collections step every `gc_step`, and a
/// client on the [`Hurried`] clock.
async fn planned_with_collections(gc_step: Duration) -> (FakeDocr, Client, Plan) {
    let (repo, ..) = app("1.0");
    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme").repository(repo))
        .gc_step(gc_step)
        .start()
        .await
        .unwrap();
    let client = fake
        .client_builder()
        .clock(Hurried::default())
        .build()
        .unwrap();
    let plan = crate::plan(&client, &untagged()).await;
    assert_eq!(plan.totals.manifests, 1, "{plan}");
    (fake, client, plan)
}

/// The statuses the fake answered for collection `uuid` (its start, each poll), each change
/// once, in order.
fn statuses_answered(fake: &FakeDocr, uuid: &str) -> Vec<String> {
    fn collect(value: &serde_json::Value, uuid: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("uuid").and_then(|u| u.as_str()) == Some(uuid)
                    && let Some(status) = map.get("status").and_then(|s| s.as_str())
                {
                    out.push(status.to_string());
                }
                map.values().for_each(|v| collect(v, uuid, out));
            }
            serde_json::Value::Array(values) => values.iter().for_each(|v| collect(v, uuid, out)),
            _ => {}
        }
    }
    let mut statuses = Vec::new();
    for exchange in fake.journal() {
        if let Some(body) = &exchange.body {
            collect(body, uuid, &mut statuses);
        }
    }
    statuses.dedup();
    statuses
}

/// Every record the hook is called with, in order.
fn recording() -> (
    Arc<Mutex<Vec<types::GarbageCollection>>>,
    impl FnMut(&types::GarbageCollection) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = {
        let seen = seen.clone();
        move |gc: &types::GarbageCollection| seen.lock().unwrap().push(gc.clone())
    };
    (seen, hook)
}

#[tokio::test]
async fn the_garbage_collection_hook_sees_each_status_ending_with_the_final_one() {
    let (fake, client, plan) = planned_with_collections(Duration::from_millis(40)).await;
    let (seen, hook) = recording();
    let report = client
        .apply_prune(&plan)
        .garbage_collect(GcType::UnreferencedBlobs, Duration::from_secs(3_600))
        .on_garbage_collection_status(hook)
        .send()
        .await
        .unwrap();
    let GarbageCollectionOutcome::Succeeded(done) = &report.garbage_collection else {
        panic!("{:?}", report.garbage_collection)
    };
    let seen = seen.lock().unwrap().clone();
    let statuses: Vec<&str> = seen.iter().filter_map(|gc| gc.status.as_deref()).collect();
    let uuid = done.uuid.as_deref().unwrap();
    // The start's record first, then each status the waiter saw change, none twice.
    assert_eq!(statuses, statuses_answered(&fake, uuid), "{seen:?}");
    assert_eq!(statuses.first(), Some(&"requested"));
    assert!(seen.iter().all(|gc| gc.uuid.as_deref() == Some(uuid)));
    // The last call is the final record, the one the report holds.
    let last = seen.last().unwrap();
    assert_eq!(last.status.as_deref(), Some("succeeded"));
    assert_eq!(
        (last.freed_bytes, last.blobs_deleted),
        (done.freed_bytes, done.blobs_deleted)
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_garbage_collection_not_waited_for_is_started_recorded_and_not_polled() {
    let (fake, client, plan) = planned_with_collections(Duration::from_secs(3_600)).await;
    let journal_dir = tempfile::tempdir().unwrap();
    let journal = docr::undo::Journal::create_in(journal_dir.path(), &crate::acme()).unwrap();
    let (seen, hook) = recording();
    let report = client
        .apply_prune(&plan)
        .journal(journal.clone())
        .garbage_collect_without_waiting(GcType::UnreferencedBlobs)
        .on_garbage_collection_status(hook)
        .send()
        .await
        .unwrap();
    let GarbageCollectionOutcome::Started(started) = &report.garbage_collection else {
        panic!("{:?}", report.garbage_collection)
    };
    assert_eq!(started.status.as_deref(), Some("requested"));
    assert!(report.is_complete(), "{report:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "the start's record only: {seen:?}");
    assert_eq!(seen[0].uuid, started.uuid);
    assert_eq!(fake.calls().of("registries_run_garbageCollection"), 1);
    assert_eq!(fake.calls().of("registries_get_garbageCollection"), 0);
    assert_eq!(journal.garbage_collections(), 1);
    let recorded = docr::undo::JournalFile::read(journal.path()).unwrap();
    assert_eq!(
        recorded
            .garbage_collections
            .iter()
            .map(|gc| Some(gc.uuid.as_str()))
            .collect::<Vec<_>>(),
        [started.uuid.as_deref()]
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_registry_that_cannot_be_read_blocks_every_repository_and_nothing_is_deleted() {
    let (repo, ..) = app("1.0");
    let (fake, _) = crate::acme_with([repo]).await;
    // Nothing listens on port 9: every registry read fails while the API answers.
    let client = fake
        .client_builder()
        .registry_url("http://127.0.0.1:9")
        .retry_policy(docr::client::RetryPolicy::disabled())
        .build()
        .unwrap();
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .older_than(Duration::from_secs(1))
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(plan.totals.blocked_repositories, 1);
    // One reason, naming the URL tried, not one per manifest left unread.
    let blocked = &plan.repositories[0].blocked;
    assert!(
        matches!(&blocked[..], [docr::prune::BlockReason::RegistryUnreadable { url, status: None, .. }] if url == "http://127.0.0.1:9"),
        "{blocked:?}"
    );
    assert_eq!(plan.to_string().matches("BLOCKED").count(), 1, "{plan}");
    let before = remaining(&client, "app").await;
    client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(remaining(&client, "app").await, before);
    let _ = long_ago();
    fake.shutdown().await;
}

#[tokio::test]
async fn a_plan_of_named_repositories_reads_only_those() {
    let (repo, ..) = app("1.0");
    let other =
        RepositorySeed::new("other").manifest(ImageSeed::new("o").seed().updated_at(long_ago()));
    let (fake, client) = crate::acme_with([repo, other]).await;
    let policy = untagged();
    let plan = client
        .plan_prune(&crate::acme(), &policy)
        .repositories(["app".parse().unwrap()])
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = plan
        .repositories
        .iter()
        .map(|r| r.repository.as_str())
        .collect();
    assert_eq!(names, ["app"]);
    assert_eq!(fake.calls().of("registries_list_repositoriesV2"), 0);
    // Without names, the repositories are listed (so the count above can tell).
    let all = crate::plan(&client, &policy).await;
    assert_eq!(all.repositories.len(), 2);
    assert!(fake.calls().of("registries_list_repositoriesV2") > 0);
    fake.shutdown().await;
}

/// `app`: a release `0.9` and its candidate `0.9-rc` (with attestations), old, sharing their
/// two platform manifests.
fn release_and_candidate() -> (IndexSeed, IndexSeed, RepositorySeed) {
    let platforms = || {
        IndexSeed::new()
            .image(ImageSeed::new("amd64"))
            .image(ImageSeed::new("arm64").platform("linux", "arm64"))
            .updated_at(long_ago())
    };
    let release = platforms().tag("0.9");
    let candidate = platforms().attestations().tag("0.9-rc");
    let repo = RepositorySeed::new("app")
        .index(release.clone())
        .index(candidate.clone());
    (release, candidate, repo)
}

/// A release and its candidate share their platform manifests; both are old and planned, the
/// shared platforms under one of them. If the OTHER is saved at apply (a tag moved to it), the
/// shared platforms stay with it: the image whose sequence deletes them must wait for it.
#[tokio::test]
async fn a_manifest_two_deleted_images_share_stays_while_either_stays() {
    let (release, candidate, repo) = release_and_candidate();
    let (fake, client) = crate::acme_with([repo]).await;
    let policy = RetentionPolicy::new()
        .older_than(Duration::from_secs(86_400))
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let shared: Vec<String> = release
        .children()
        .iter()
        .map(|c| c.digest().to_string())
        .collect();
    let mut owners = std::collections::BTreeSet::new();
    for digest in &shared {
        let row = plan
            .deletions()
            .find(|d| d.digest.as_str() == *digest)
            .expect("planned");
        assert_eq!(row.held_by.len(), 1, "{row:?}");
        owners.insert(row.image.to_string());
    }
    assert_eq!(owners.len(), 1);
    // Save the image that does not carry the shared platforms in the plan.
    let (saved, goes) = if owners.contains(&release.digest()) {
        (candidate.clone(), release.clone())
    } else {
        (release.clone(), candidate.clone())
    };
    Writer::login(&fake, "app")
        .await
        .tag(&fake, "app", "hotfix", &saved.digest())
        .await;
    let report = client.apply_prune(&plan).send().await.unwrap();
    let left = remaining(&client, "app").await;
    assert!(!left.contains(&goes.digest()), "{report:?}");
    assert!(left.contains(&saved.digest()));
    for child in saved.children() {
        assert!(
            left.contains(child.digest()),
            "the saved image stays whole: {report:?}"
        );
    }
    for digest in &shared {
        let item = report
            .items
            .iter()
            .find(|i| i.item.digest.as_str() == *digest)
            .unwrap();
        let kept = matches!(
            item.outcome,
            ItemOutcome::Skipped {
                why: SkipReason::ParentNotDeleted
            }
        );
        assert!(kept, "{:?}", item.outcome);
    }
    fake.shutdown().await;
}

/// On a multi-thread runtime a listing's later pages are read by tasks of their own: the
/// report still counts every call they send, as it counts the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_the_calls_of_pages_read_concurrently() {
    // 450 manifests, one untagged: the check before deleting it lists them in three pages.
    let repo = (0..450).fold(RepositorySeed::new("many"), |repo, n| {
        let seed = ManifestSeed::new(docr_fake::digest(&format!("many-{n}")))
            .blob(docr_fake::digest(&format!("many-layer-{n}")), 10);
        repo.manifest(if n == 0 {
            seed
        } else {
            seed.tags([format!("1.{n}")])
        })
    });
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &untagged()).await;
    assert_eq!(plan.totals.manifests, 1, "{plan}");
    let before = fake.calls();
    let report = client.apply_prune(&plan).send().await.unwrap();
    let after = fake.calls();
    assert_eq!(report.deleted(), 1, "{report:?}");
    assert_eq!(
        after.of("registries_list_repositoryManifests")
            - before.of("registries_list_repositoryManifests"),
        3,
        "the check lists the repository's manifests in three pages"
    );
    assert_eq!(report.api_calls, after.total - before.total);
    assert_eq!(
        report.registry_calls,
        after.registry_total() - before.registry_total()
    );
    fake.shutdown().await;
}

/// A registry that answers its tag listing with an error blocks the repository once, with the
/// status it answered (not "could not be reached").
#[tokio::test]
async fn a_registry_that_answers_an_error_blocks_with_its_status() {
    let (repo, ..) = app("1.0");
    let (fake, _) = crate::acme_with([repo]).await;
    let registry = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&registry)
        .await;
    let client = fake
        .client_builder()
        .registry_url(registry.uri())
        .retry_policy(docr::client::RetryPolicy::disabled())
        .build()
        .unwrap();
    let plan = crate::plan(&client, &untagged()).await;
    let blocked = &plan.repositories[0].blocked;
    assert!(
        matches!(&blocked[..], [docr::prune::BlockReason::RegistryUnreadable { status: Some(503), url, .. }] if *url == registry.uri()),
        "{blocked:?}"
    );
    assert!(
        plan.to_string()
            .contains(&format!("the registry at {} answered 503", registry.uri())),
        "{plan}"
    );
    fake.shutdown().await;
}

/// Two deleted images that share platforms: once both are gone, the shared platforms go too.
#[tokio::test]
async fn a_manifest_two_deleted_images_share_goes_once_both_are_gone() {
    let (_, _, repo) = release_and_candidate();
    let repo = repo.manifest(ImageSeed::new("kept").seed().tag("1.0"));
    let (fake, client) = crate::acme_with([repo]).await;
    let policy = RetentionPolicy::new().keep_last(1).grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    // Two images, 2 + 4 manifests, the two platforms once: 6 in all.
    assert_eq!(plan.totals.manifests, 6, "{plan}");
    let report = client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(report.deleted(), 6, "{report:?}");
    assert!(report.is_complete());
    let left = remaining(&client, "app").await;
    assert_eq!(left.len(), 1, "{left:?}");
    fake.shutdown().await;
}

/// `docker manifest`'s way: each platform pushed and tagged first (`1.0-amd64`), then a list
/// `1.0` of them. Each tagged platform is an image of its own and a member of the list: it is
/// planned under itself, waits for the list, and goes once the list is gone.
#[tokio::test]
async fn per_architecture_tags_go_after_their_list() {
    let release = |version: &str, at: chrono::DateTime<chrono::Utc>| {
        let amd64 = ImageSeed::new(format!("{version}-amd64"));
        let arm64 = ImageSeed::new(format!("{version}-arm64")).platform("linux", "arm64");
        let list = IndexSeed::new()
            .image(amd64.clone())
            .image(arm64.clone())
            .docker()
            .tag(version)
            .updated_at(at + chrono::TimeDelta::minutes(1));
        let platforms = [
            amd64.seed().tag(format!("{version}-amd64")).updated_at(at),
            arm64.seed().tag(format!("{version}-arm64")).updated_at(at),
        ];
        (list, platforms)
    };
    let (old, old_platforms) = release("1.0", long_ago());
    let (new, new_platforms) = release("2.0", long_ago() + chrono::TimeDelta::days(1));
    let repo = [old_platforms, new_platforms]
        .into_iter()
        .flatten()
        .fold(RepositorySeed::new("app"), RepositorySeed::manifest)
        .index(old.clone())
        .index(new.clone());
    let (fake, client) = crate::acme_with([repo]).await;
    let policy = RetentionPolicy::new().keep_last(3).grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let mut planned: Vec<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    planned.sort();
    let mut expected: Vec<String> = std::iter::once(old.digest())
        .chain(old.children().iter().map(|c| c.digest().to_string()))
        .collect();
    expected.sort();
    assert_eq!(planned, expected, "{plan}");
    for row in plan
        .deletions()
        .filter(|d| d.digest.as_str() != old.digest())
    {
        assert_eq!(row.image, row.digest, "planned under itself: {row:?}");
        assert_eq!(
            row.held_by,
            [old.digest().parse::<docr::Digest>().unwrap()],
            "waits for its list: {row:?}"
        );
    }
    // The kept list's platforms are among the newest 3 and held by it: both reasons shown.
    let images = &plan.repositories[0].images;
    for platform in new.children() {
        let verdict = &images
            .iter()
            .find(|i| i.digest.as_str() == platform.digest())
            .expect("a verdict")
            .verdict;
        assert!(
            matches!(verdict, docr::prune::Verdict::Keep(r) if matches!(&r[..], [
                docr::prune::KeepReason::AmongNewest { keep: 3, .. },
                docr::prune::KeepReason::MemberOfKeptImage { image },
            ] if image.as_str() == new.digest())),
            "{verdict:?}"
        );
    }
    let report = client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(report.deleted(), 3, "{report:?}");
    let kept: std::collections::BTreeSet<String> = std::iter::once(new.digest())
        .chain(new.children().iter().map(|c| c.digest().to_string()))
        .collect();
    assert_eq!(remaining(&client, "app").await, kept);
    fake.shutdown().await;
}
