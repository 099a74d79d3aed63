//! Planning and applying a prune against a loopback wiremock server: the listings a plan
//! reads, the exact deletes an apply sends, what it skips when the registry changed between
//! plan and apply, how failures are reported, and the garbage collection after.
//!
//! Manifest fixtures follow the `manifests` example of `spec/registry.yaml`.

use chrono::{DateTime, Duration as Days, Utc};
use docr::prelude::*;
use docr::types::RepositoryManifest;
use docr::{
    AppliedItem, GarbageCollectionOutcome, ItemOutcome, Plan, PruneReason, RepositoryPlan,
    SkipReason,
};
use docr::{Clock, TestClock};
use docr::{GcType, RetentionPolicy};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{any, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const APP_DIGESTS: &str = "/v2/registries/example/repositories/team%2Fapp/digests";
const WEB_DIGESTS: &str = "/v2/registries/example/repositories/web/digests";
const GC: &str = "/v2/registries/example/garbage-collection";
const UUID: &str = "eff0feee-49c7-4e8f-ba5c-a320c109c8a8";

fn registry() -> RegistryName {
    "example".parse().unwrap()
}

fn repository(name: &str) -> RepositoryName {
    name.parse().unwrap()
}

/// The test clock's start, 2024-01-01T00:00:00Z: plans measure ages from it.
fn now() -> DateTime<Utc> {
    DateTime::from(TestClock::new().now())
}

/// Digests that differ in their first digits, as the table shows them.
fn digest(n: u32) -> String {
    format!("sha256:{n:04}{}", "e".repeat(60))
}

fn manifest(repository: &str, n: u32, tags: &[&str], days_old: i64) -> Value {
    json!({
        "registry_name": "example",
        "repository": repository,
        "digest": digest(n),
        "compressed_size_bytes": 1_000_000 * u64::from(n),
        "size_bytes": 2_000_000 * u64::from(n),
        "updated_at": (now() - Days::days(days_old)).to_rfc3339(),
        "tags": tags,
        "blobs": [{"digest": digest(1000 + n), "compressed_size_bytes": 1_000_000 * u64::from(n)}],
    })
}

/// team/app: two release tags, a moving `latest`, untagged leftovers, old builds.
fn app_manifests() -> Vec<Value> {
    vec![
        manifest("team/app", 1, &["latest", "build-9"], 1),
        manifest("team/app", 2, &["build-8"], 5),
        manifest("team/app", 3, &[], 6),
        manifest("team/app", 4, &["release-1"], 40),
        manifest("team/app", 5, &["build-7", "build-7a"], 45),
        manifest("team/app", 6, &[], 50),
    ]
}

fn web_manifests() -> Vec<Value> {
    vec![
        manifest("web", 11, &["v2"], 2),
        manifest("web", 12, &["v1"], 60),
    ]
}

/// Keep the newest 2, delete what is older than 30 days, keep releases, delete untagged.
fn policy() -> RetentionPolicy {
    RetentionPolicy::new()
        .keep_last(2)
        .older_than(Duration::from_secs(30 * 86_400))
        .keep_tags_matching("release-[0-9]+")
        .unwrap()
        .delete_untagged(true)
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    // What no mock expects is answered loudly, naming the request, instead of a bare 404.
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(418).set_body_json(json!({
                "id": "unmatched",
                "message": format!("no mock for {} {}", request.method, request.url),
            }))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .token("t0ken")
        .api_url(server.uri())
        .clock(TestClock::new())
        .build()
        .unwrap()
}

/// Serves `manifests` by page, at most `cap` a page whatever is asked, with `meta.total`.
struct Manifests {
    items: Vec<Value>,
    cap: usize,
}

impl Respond for Manifests {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |key: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let page = query("page").unwrap_or(1);
        let per_page = query("per_page").unwrap_or(20).min(self.cap);
        let start = ((page - 1) * per_page).min(self.items.len());
        let end = (start + per_page).min(self.items.len());
        ResponseTemplate::new(200).set_body_json(json!({
            "manifests": self.items[start..end],
            "meta": {"total": self.items.len()},
        }))
    }
}

async fn serve_manifests(server: &MockServer, at: &str, items: Vec<Value>, cap: usize) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(Manifests { items, cap })
        .mount(server)
        .await;
}

/// Answers deletes: 204, or the status given for a digest.
async fn serve_deletes(server: &MockServer, statuses: &[(String, u16)]) {
    let statuses: HashMap<String, u16> = statuses.iter().cloned().collect();
    Mock::given(method("DELETE"))
        .and(path_regex(
            r"^/v2/registries/example/repositories/[^/]+/digests/[^/]+$",
        ))
        .respond_with(move |request: &Request| {
            let digest = deleted_digest(request.url.path());
            match statuses.get(&digest) {
                Some(&status) => ResponseTemplate::new(status).set_body_json(json!({
                    "id": if status == 404 { "not_found" } else { "server_error" },
                    "message": format!("cannot delete {digest}"),
                })),
                None => ResponseTemplate::new(204),
            }
        })
        .mount(server)
        .await;
}

fn deleted_digest(path: &str) -> String {
    path.rsplit('/').next().unwrap().to_string()
}

/// `METHOD path` of every request, in order.
async fn calls(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

/// The digests deleted, sorted (deletes run concurrently).
async fn deletes(server: &MockServer) -> Vec<String> {
    let mut digests: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| deleted_digest(r.url.path()))
        .collect();
    digests.sort();
    digests
}

fn typed(items: Vec<Value>) -> Vec<RepositoryManifest> {
    serde_json::from_value(Value::Array(items)).unwrap()
}

/// The plan of the fixtures, made without the server.
fn fixture_plan() -> Plan {
    let repositories = vec![
        crate::plan_flat(
            &policy(),
            &repository("team/app"),
            &typed(app_manifests()),
            now(),
        ),
        crate::plan_flat(
            &policy(),
            &repository("web"),
            &typed(web_manifests()),
            now(),
        ),
    ];
    Plan::new(registry(), &policy(), now(), repositories)
}

fn digests_of(plan: &RepositoryPlan) -> Vec<String> {
    plan.delete
        .iter()
        .map(|d| d.digest.as_str().to_string())
        .collect()
}

fn outcomes(items: &[AppliedItem]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| {
            let outcome = match &i.outcome {
                ItemOutcome::Deleted => "deleted".to_string(),
                ItemOutcome::Skipped { why } => format!("skipped: {why:?}"),
                ItemOutcome::Failed { error } => format!("failed: {}", error.status().unwrap()),
                other => format!("{other:?}"),
            };
            (i.item.digest.as_str().to_string(), outcome)
        })
        .collect()
}

#[tokio::test]
async fn a_plan_reads_every_page_of_every_repository_and_deletes_nothing() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/registries/example/repositoriesV2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "repositories": [{"name": "team/app"}, {"name": "web"}],
            "meta": {"total": 2},
        })))
        .mount(&server)
        .await;
    serve_manifests(&server, APP_DIGESTS, app_manifests(), 2).await;
    serve_manifests(&server, WEB_DIGESTS, web_manifests(), 2).await;

    let plan = client(&server)
        .plan_prune(&registry(), &policy())
        .send()
        .await
        .unwrap();

    // team/app: 1 and 2 are the newest two; 4 is a release; 3 and 6 are untagged; 5 is old.
    let app = &plan.repositories[0];
    assert_eq!(app.repository.as_str(), "team/app");
    assert_eq!(digests_of(app), [digest(3), digest(5), digest(6)]);
    assert_eq!(app.kept, 3);
    assert_eq!(app.delete[0].reasons, [PruneReason::Untagged]);
    let old = Duration::from_secs(30 * 86_400);
    assert_eq!(
        app.delete[1].reasons,
        [
            PruneReason::BeyondNewest { keep: 2 },
            PruneReason::OlderThan { age: old }
        ]
    );
    assert_eq!(app.delete[1].tags, ["build-7", "build-7a"]);
    assert_eq!(app.delete[2].reasons.len(), 3);
    // web: both are among the newest two.
    assert_eq!(plan.repositories[1].repository.as_str(), "web");
    assert!(plan.repositories[1].delete.is_empty());
    assert_eq!(plan.planned_at, now());

    let t = plan.totals;
    assert_eq!((t.manifests, t.tags, t.kept), (3, 2, 5));
    assert_eq!(t.compressed_size_bytes, 14_000_000);
    assert_eq!(t.size_bytes, 28_000_000);
    assert_eq!(plan, fixture_plan());

    // Three pages of team/app (two manifests a page), one of web, and nothing else.
    let mut seen = calls(&server).await;
    seen[1..].sort(); // repositories first, then the manifests, concurrently
    let listing = |p: &str| format!("GET {p}");
    assert_eq!(
        seen,
        [
            "GET /v2/registries/example/repositoriesV2".to_string(),
            listing(APP_DIGESTS),
            listing(APP_DIGESTS),
            listing(APP_DIGESTS),
            listing(WEB_DIGESTS),
        ]
    );

    let table = plan.to_string();
    assert!(table.contains("Policy: keep the newest 2; delete older than 30d; keep tags matching `release-[0-9]+`; delete untagged"), "{table}");
    assert!(
        table.contains("team/app: delete 3 manifests, keep 3"),
        "{table}"
    );
    assert!(table.contains("web: nothing to delete, keep 2"), "{table}");
    let row = table
        .lines()
        .find(|l| l.contains(&digest(5)[..19]))
        .unwrap();
    assert!(
        row.contains(" beyond the newest 2, older than 30d "),
        "{table}"
    );
    assert!(row.ends_with("  build-7, build-7a"), "{table}");
    assert!(table.contains("<none>"), "{table}");
    assert!(
        table.ends_with(
            "Total: delete 3 manifests (2 tags, 13.4 MiB compressed, 26.7 MiB uncompressed); keep 5"
        ),
        "{table}"
    );
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["registry"], "example");
    assert_eq!(json["repositories"][0]["delete"][1]["digest"], digest(5));
    assert_eq!(
        json["repositories"][0]["delete"][1]["reasons"][1],
        json!({"kind": "older_than", "seconds": 2_592_000})
    );
}

#[tokio::test]
async fn a_plan_of_named_repositories_lists_only_those() {
    let server = server().await;
    serve_manifests(&server, WEB_DIGESTS, web_manifests(), 200).await;
    let plan = client(&server)
        .plan_prune(&registry(), &RetentionPolicy::new().keep_last(1))
        .repositories([repository("web"), repository("web")])
        .send()
        .await
        .unwrap();
    assert_eq!(plan.repositories.len(), 1);
    assert_eq!(digests_of(&plan.repositories[0]), [digest(12)]);
    assert_eq!(calls(&server).await, [format!("GET {WEB_DIGESTS}")]);
}

#[tokio::test]
async fn apply_sends_one_delete_per_planned_manifest_after_one_listing_per_repository() {
    let server = server().await;
    serve_manifests(&server, APP_DIGESTS, app_manifests(), 200).await;
    serve_manifests(&server, WEB_DIGESTS, web_manifests(), 200).await;
    serve_deletes(&server, &[]).await;
    let plan = client(&server)
        .plan_prune(&registry(), &policy())
        .repositories([repository("team/app"), repository("web")])
        .send()
        .await
        .unwrap();
    // Applied through a server of its own, so that its calls are all the apply's.
    let server = self::server().await;
    serve_manifests(&server, APP_DIGESTS, app_manifests(), 200).await;
    serve_deletes(&server, &[]).await;

    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let report = client(&server)
        .apply_prune(&plan)
        .on_item(move |applied| {
            sink.lock()
                .unwrap()
                .push(applied.item.digest.as_str().to_string())
        })
        .send()
        .await
        .unwrap();

    assert_eq!(deletes(&server).await, [digest(3), digest(5), digest(6)]);
    // web has nothing planned: not even listed. team/app: listed once, before any delete;
    // the digest leaves as it is (`:` needs no escaping in a path segment).
    let mut all = calls(&server).await;
    all[1..].sort();
    let delete = |n| format!("DELETE {APP_DIGESTS}/{}", digest(n));
    assert_eq!(
        all,
        [
            format!("GET {APP_DIGESTS}"),
            delete(3),
            delete(5),
            delete(6)
        ]
    );
    assert_eq!(report.api_calls, all.len() as u64);
    assert_eq!(
        (report.deleted(), report.skipped(), report.failed()),
        (3, 0, 0)
    );
    assert!(report.is_complete());
    assert_eq!(report.deleted_compressed_size_bytes(), 14_000_000);
    assert!(matches!(
        report.garbage_collection,
        GarbageCollectionOutcome::NotRequested
    ));
    // In plan order in the report; each item reported once as it finished.
    let order: Vec<String> = report
        .items
        .iter()
        .map(|i| i.item.digest.as_str().to_string())
        .collect();
    assert_eq!(order, [digest(3), digest(5), digest(6)]);
    let mut reported = seen.lock().unwrap().clone();
    reported.sort();
    assert_eq!(reported, order);
}

#[tokio::test]
async fn apply_skips_items_whose_tags_moved_or_that_are_gone() {
    let server = server().await;
    let plan = fixture_plan();
    // Since the plan: `build-7a` moved off 5 (so its tags changed), 6 was deleted by someone
    // else, and a new push tagged 3, which was untagged when planned.
    let mut now_listed = app_manifests();
    now_listed[4] = manifest("team/app", 5, &["build-7"], 45);
    now_listed[2] = manifest("team/app", 3, &["hotfix"], 6);
    now_listed.remove(5);
    serve_manifests(&server, APP_DIGESTS, now_listed, 200).await;
    serve_deletes(&server, &[]).await;

    let report = client(&server).apply_prune(&plan).send().await.unwrap();

    assert_eq!(deletes(&server).await, Vec::<String>::new());
    assert_eq!(calls(&server).await, [format!("GET {APP_DIGESTS}")]);
    assert_eq!(
        outcomes(&report.items),
        [
            (
                digest(3),
                "skipped: TagsChanged { current: [\"hotfix\"] }".to_string()
            ),
            (
                digest(5),
                "skipped: TagsChanged { current: [\"build-7\"] }".to_string()
            ),
            (digest(6), "skipped: Gone".to_string()),
        ]
    );
    assert_eq!(report.api_calls, 1);
    assert!(!report.is_complete());
}

#[tokio::test]
async fn apply_deletes_the_unchanged_and_skips_the_changed_in_the_same_repository() {
    let server = server().await;
    let plan = fixture_plan();
    let mut now_listed = app_manifests();
    now_listed.remove(5); // 6 is gone; 3 and 5 are as planned
    serve_manifests(&server, APP_DIGESTS, now_listed, 200).await;
    serve_deletes(&server, &[]).await;

    let report = client(&server)
        .apply_prune(&plan)
        .concurrency(1)
        .send()
        .await
        .unwrap();

    assert_eq!(deletes(&server).await, [digest(3), digest(5)]);
    assert_eq!(
        outcomes(&report.items)[2],
        (digest(6), "skipped: Gone".to_string())
    );
    assert_eq!(report.api_calls, 3);
}

#[tokio::test]
async fn failures_are_reported_per_item_and_never_stop_the_others() {
    for concurrency in [1, 4] {
        let server = server().await;
        // Two repositories with deletions: team/app (its listing works) and web (it fails).
        let repositories = vec![
            crate::plan_flat(
                &policy(),
                &repository("team/app"),
                &typed(app_manifests()),
                now(),
            ),
            crate::plan_flat(
                &RetentionPolicy::new().keep_last(0),
                &repository("web"),
                &typed(web_manifests()),
                now(),
            ),
        ];
        let plan = Plan::new(registry(), &policy(), now(), repositories);
        serve_manifests(&server, APP_DIGESTS, app_manifests(), 200).await;
        Mock::given(method("GET"))
            .and(path(WEB_DIGESTS))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({"id": "forbidden", "message": "no"})),
            )
            .mount(&server)
            .await;
        // 501 is never retried; 404 means someone else deleted it first.
        serve_deletes(&server, &[(digest(3), 501), (digest(5), 404)]).await;

        let report = client(&server)
            .apply_prune(&plan)
            .concurrency(concurrency)
            .send()
            .await
            .unwrap();

        assert_eq!(deletes(&server).await, [digest(3), digest(5), digest(6)]);
        assert_eq!(
            outcomes(&report.items),
            [
                (digest(3), "failed: 501 Not Implemented".to_string()),
                (digest(5), "skipped: Gone".to_string()),
                (digest(6), "deleted".to_string()),
                (digest(11), "skipped: NotVerified".to_string()),
                (digest(12), "skipped: NotVerified".to_string()),
            ],
            "concurrency {concurrency}"
        );
        assert_eq!(report.repository_errors.len(), 1);
        assert_eq!(report.repository_errors[0].repository.as_str(), "web");
        assert_eq!(
            report.repository_errors[0].error.status().unwrap().as_u16(),
            403
        );
        // Two listings and three deletes.
        assert_eq!(report.api_calls, 5);
        assert_eq!(calls(&server).await.len(), 5);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["items"][0]["outcome"]["status"], "failed");
        assert!(
            json["items"][0]["outcome"]["error"]
                .as_str()
                .unwrap()
                .contains("cannot delete")
        );
        assert_eq!(
            json["items"][1]["outcome"],
            json!({"status": "skipped", "why": {"kind": "gone"}})
        );
    }
}

#[tokio::test]
async fn a_garbage_collection_runs_after_the_deletes_and_is_waited_for() {
    let server = server().await;
    serve_manifests(&server, APP_DIGESTS, app_manifests(), 200).await;
    serve_deletes(&server, &[]).await;
    let record = |status: &str| {
        json!({"garbage_collection": {
            "uuid": UUID, "registry_name": "example", "status": status,
            "type": "unreferenced blobs only",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "blobs_deleted": 3, "freed_bytes": 14_000_000,
        }})
    };
    Mock::given(method("POST"))
        .and(path(GC))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("requested")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(GC))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("succeeded")))
        .mount(&server)
        .await;

    let report = client(&server)
        .apply_prune(&fixture_plan())
        .garbage_collect(GcType::UnreferencedBlobs, Duration::from_secs(600))
        .send()
        .await
        .unwrap();

    let GarbageCollectionOutcome::Succeeded(gc) = &report.garbage_collection else {
        panic!("{:?}", report.garbage_collection);
    };
    assert_eq!(gc.freed_bytes, Some(14_000_000));
    assert!(report.is_complete());
    let all = calls(&server).await;
    assert_eq!(all.len(), 6);
    assert!(all[..4].iter().all(|c| !c.contains("garbage")));
    assert_eq!(all[4..], [format!("POST {GC}"), format!("GET {GC}")]);
    assert_eq!(report.api_calls, 6);
    let post = &server.received_requests().await.unwrap()[4];
    assert_eq!(
        post.body_json::<Value>().unwrap(),
        json!({"type": "unreferenced blobs only"})
    );
}

#[tokio::test]
async fn no_garbage_collection_is_started_when_nothing_was_deleted() {
    let server = server().await;
    serve_manifests(&server, APP_DIGESTS, vec![], 200).await;
    let report = client(&server)
        .apply_prune(&fixture_plan())
        .garbage_collect(GcType::Both, Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    assert!(matches!(
        report.garbage_collection,
        GarbageCollectionOutcome::NothingDeleted
    ));
    assert_eq!(calls(&server).await, [format!("GET {APP_DIGESTS}")]);
    assert!(report.items.iter().all(|i| matches!(
        i.outcome,
        ItemOutcome::Skipped {
            why: SkipReason::Gone
        }
    )));
}

#[tokio::test]
async fn a_plan_that_would_delete_twice_is_refused_before_any_call() {
    let server = server().await;
    let mut json = serde_json::to_value(fixture_plan()).unwrap();
    let first = json["repositories"][0]["delete"][0].clone();
    json["repositories"][0]["delete"]
        .as_array_mut()
        .unwrap()
        .push(first);
    let doubled: Plan = serde_json::from_value(json).unwrap();
    let err = client(&server)
        .apply_prune(&doubled)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    assert!(calls(&server).await.is_empty());

    let mut json = serde_json::to_value(fixture_plan()).unwrap();
    json["repositories"][0]["delete"][0]["digest"] = json!("sha256:nothex");
    assert!(serde_json::from_value::<Plan>(json).is_err());
}

#[tokio::test]
async fn a_retried_delete_is_counted_in_the_calls_and_sent_for_that_item_only() {
    let server = server().await;
    serve_manifests(&server, APP_DIGESTS, app_manifests(), 200).await;
    // The first delete of 3 meets a 503 (retried after the server's `Retry-After`).
    let tries = AtomicUsize::new(0);
    Mock::given(method("DELETE"))
        .and(path(format!("{APP_DIGESTS}/{}", digest(3))))
        .respond_with(move |_: &Request| {
            if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                ResponseTemplate::new(503).insert_header("retry-after", "2")
            } else {
                ResponseTemplate::new(204)
            }
        })
        .mount(&server)
        .await;
    serve_deletes(&server, &[]).await;

    let report = client(&server)
        .apply_prune(&fixture_plan())
        .send()
        .await
        .unwrap();

    assert_eq!(report.deleted(), 3);
    assert_eq!(
        deletes(&server).await,
        [digest(3), digest(3), digest(5), digest(6)]
    );
    assert_eq!(report.api_calls, 5);
}

#[test]
fn planning_and_applying_can_run_on_any_thread() {
    fn send<T: Send + 'static>(_: T) {}
    let client = Client::builder()
        .token("t0ken")
        .api_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    send(client.plan_prune(&registry(), &policy()).send());
    send(client.apply_prune(&fixture_plan()).on_item(|_| {}).send());
}
