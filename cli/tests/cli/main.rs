//! The `docr` command end to end: the built binary, run against an embedded DOCR on 127.0.0.1,
//! each command in both output formats, checked against the fake's state (`fake.snapshot()`)
//! and the requests it saw (`fake.calls()`, `fake.journal()`).
//!
//! Every run goes through [`execute`], which asserts that the API token appears neither on
//! stdout nor on stderr. The binary runs in `spawn_blocking` so that the fake, on the test's
//! runtime, keeps serving meanwhile.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use docr_fake::{
    FakeDocr, FakeDocrBuilder, GarbageCollectionSnapshot, ManifestSeed, RegistrySeed,
    RepositorySeed, Snapshot, digest,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The token of every fake here: distinctive, so that a leak cannot hide.
const TOKEN: &str = "dop_v1_cli-test-5ecret-4f1c9b";

/// A garbage collection stays in its first status for the whole test.
const FROZEN: Duration = Duration::from_secs(3_600);

/// A garbage collection runs through every status in a fraction of a second.
const GC_STEP: Duration = Duration::from_millis(50);

/// A garbage collection's statuses, in the order the fake walks them.
const GC_STATUSES: [&str; 6] = [
    "requested",
    "waiting for write JWTs to expire",
    "waiting for delete requests",
    "scanning manifests",
    "deleting unreferenced blobs",
    "succeeded",
];

/// The commands of `docr --help`, each with its subcommands, that this file covers.
const COVERED: [(&str, &[&str]); 13] = [
    ("registries", &["list", "get", "create", "delete"]),
    ("repos", &["list"]),
    ("tags", &["list", "delete"]),
    ("manifests", &["list", "delete"]),
    ("gc", &["start", "status", "list", "cancel"]),
    ("login", &[]),
    ("logout", &[]),
    ("k8s-secret", &[]),
    ("prune", &[]),
    ("options", &[]),
    ("subscription", &["get", "set"]),
    ("validate-name", &[]),
    ("fake", &["serve"]),
];

const REGISTRY_HOST: &str = "registry.digitalocean.com";

fn builder() -> FakeDocrBuilder {
    FakeDocr::builder().token(TOKEN).gc_step(FROZEN)
}

async fn demo() -> FakeDocr {
    builder()
        .demo_data()
        .start()
        .await
        .expect("the fake starts")
}

/// One run of the binary.
struct Run {
    args: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The first column of the table on stdout, header included.
    fn first_column(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect()
    }

    fn assert_success(&self) {
        assert!(
            self.status.success(),
            "docr {} failed ({}):\n{}{}",
            self.args,
            self.status,
            self.stdout,
            self.stderr
        );
    }

    /// Refused: exit status 1, nothing on stdout, one line on stderr; the line, without `docr: `.
    fn assert_refused(&self) -> &str {
        assert_eq!(
            self.status.code(),
            Some(1),
            "docr {}: {}\n{}{}",
            self.args,
            self.status,
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "docr {}: output on stdout", self.args);
        self.assert_one_error_line()
    }

    fn assert_one_error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "docr {}: not one line on stderr:\n{}",
            self.args,
            self.stderr
        );
        lines[0]
            .strip_prefix("docr: ")
            .unwrap_or_else(|| panic!("docr {}: `{}` lacks `docr: `", self.args, lines[0]))
    }

    /// stdout as exactly one JSON document.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "docr {}: stdout is not one JSON document ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }
}

/// Runs `command` to its end off the runtime; checks the token stayed out of its output.
async fn execute(mut command: Command) -> Run {
    let args = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        .replace(TOKEN, "<token>");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the blocking task ends")
        .expect("docr starts");
    let run = Run {
        args,
        status: output.status,
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stdout.contains(TOKEN),
        "docr {}: the token is on stdout",
        run.args
    );
    assert!(
        !run.stderr.contains(TOKEN),
        "docr {}: the token is on stderr",
        run.args
    );
    run
}

/// The `docr` binary pointed at one DOCR, with a Docker config folder of its own.
struct Docr {
    api_url: String,
    docker_config: tempfile::TempDir,
}

impl Docr {
    fn new(api_url: &str) -> Self {
        Self {
            api_url: api_url.to_string(),
            docker_config: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn config_json(&self) -> PathBuf {
        self.docker_config.path().join("config.json")
    }

    /// `docr ARGS` (split on whitespace, as a shell would here) with the token in
    /// `DIGITALOCEAN_TOKEN` and the URL in `DIGITALOCEAN_API_URL`.
    fn command(&self, args: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_docr"));
        command
            .args(args.split_whitespace())
            .env_remove("DIGITALOCEAN_ACCESS_TOKEN")
            .env("DIGITALOCEAN_TOKEN", TOKEN)
            .env("DIGITALOCEAN_API_URL", &self.api_url)
            .env("DOCKER_CONFIG", self.docker_config.path())
            .stdin(Stdio::null());
        command
    }

    async fn run(&self, args: &str) -> Run {
        execute(self.command(args)).await
    }

    async fn ok(&self, args: &str) -> Run {
        let run = self.run(args).await;
        run.assert_success();
        run
    }

    /// `docr -o json ARGS`: succeeds, says nothing on stderr, prints one JSON document.
    async fn json(&self, args: &str) -> Value {
        let run = self.ok(&format!("-o json {args}")).await;
        assert_eq!(run.stderr, "", "docr {}: stderr", run.args);
        run.json()
    }

    /// Refused with one line on stderr; that line, without `docr: `.
    async fn refused(&self, args: &str) -> String {
        self.run(args).await.assert_refused().to_string()
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// The garbage collections of a registry now, oldest first.
fn collections(fake: &FakeDocr, registry: &str) -> Vec<GarbageCollectionSnapshot> {
    let snapshot = fake.snapshot();
    let registry = snapshot.registry(registry).expect("the registry exists");
    registry.garbage_collections.clone()
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_string()
}

fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

fn items(value: &Value) -> &[Value] {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
}

/// Every manifest of a registry: (repository, digest) -> sorted tags.
fn manifests_of(snapshot: &Snapshot, registry: &str) -> BTreeMap<(String, String), Vec<String>> {
    let registry = snapshot.registry(registry).expect("the registry exists");
    registry
        .repositories
        .iter()
        .flat_map(|r| {
            r.manifests
                .iter()
                .map(|m| ((r.name.clone(), m.digest.clone()), m.tags.clone()))
        })
        .collect()
}

/// The (repository, digest) pairs a prune plan (`-o json`) deletes.
fn planned(plan: &Value) -> BTreeSet<(String, String)> {
    items(&plan["repositories"])
        .iter()
        .flat_map(|r| items(&r["delete"]))
        .map(|d| (text(&d["repository"]), text(&d["digest"])))
        .collect()
}

/// The statuses the fake answered for garbage collection `uuid`, in the order answered.
fn statuses_answered(fake: &FakeDocr, uuid: &str) -> Vec<String> {
    fn collect(value: &Value, uuid: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("uuid").and_then(Value::as_str) == Some(uuid)
                    && let Some(status) = map.get("status").and_then(Value::as_str)
                {
                    out.push(status.to_string());
                }
                map.values().for_each(|v| collect(v, uuid, out));
            }
            Value::Array(values) => values.iter().for_each(|v| collect(v, uuid, out)),
            _ => {}
        }
    }
    let mut statuses = Vec::new();
    for exchange in fake.journal() {
        if let Some(body) = &exchange.body {
            collect(body, uuid, &mut statuses);
        }
    }
    statuses
}

/// From `requested` to `succeeded`, never a step back (a waiter sees only some of the steps).
fn assert_walked_in_order(statuses: &[String]) {
    let positions: Vec<usize> = statuses
        .iter()
        .map(|s| {
            GC_STATUSES
                .iter()
                .position(|known| known == s)
                .unwrap_or_else(|| panic!("unexpected status `{s}` in {statuses:?}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "statuses out of order: {statuses:?}"
    );
    assert_eq!(
        statuses.first().map(String::as_str),
        Some("requested"),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("succeeded"),
        "{statuses:?}"
    );
}

/// `base64(user:registry.access.expiry)` from a Docker config's DigitalOcean entry.
fn decoded_auth(config: &Value) -> String {
    let auth = config["auths"][REGISTRY_HOST]["auth"]
        .as_str()
        .unwrap_or_else(|| panic!("no {REGISTRY_HOST} auth in {config}"));
    String::from_utf8(BASE64.decode(auth).expect("auth is base64")).expect("auth is UTF-8")
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the file is readable");
    serde_json::from_str(&text).expect("the file is JSON")
}

#[cfg(unix)]
fn assert_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{} has mode {mode:o}", path.display());
}

#[cfg(not(unix))]
fn assert_private(_: &std::path::Path) {}

/// The commands a help text lists (`help` aside).
fn commands_in_help(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect()
}

#[tokio::test]
async fn every_command_of_the_help_is_covered_here() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let help = docr.ok("--help").await;
    let commands: Vec<&str> = COVERED.iter().map(|(command, _)| *command).collect();
    assert_eq!(commands_in_help(&help.stdout), commands);
    for (command, subcommands) in COVERED {
        let help = docr.ok(&format!("{command} --help")).await;
        assert_eq!(
            commands_in_help(&help.stdout),
            subcommands,
            "docr {command}"
        );
    }
    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn registries_list_shows_every_registry_of_the_account() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let snapshot = fake.snapshot();

    let table = docr.ok("registries list").await;
    assert_eq!(
        table.first_column(),
        ["NAME", "acme", "acme-archive", "acme-staging"]
    );
    assert!(table.lines()[1].contains("nyc3"), "{}", table.stdout);
    assert_eq!(table.stderr, "");

    let listed = docr.json("registries list").await;
    let mut got: Vec<(String, String, u64)> = items(&listed["registries"])
        .iter()
        .map(|r| {
            (
                text(&r["name"]),
                text(&r["region"]),
                number(&r["storage_usage_bytes"]),
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<_> = snapshot
        .registries
        .iter()
        .map(|r| (r.name.clone(), r.region.clone(), r.storage_usage_bytes))
        .collect();
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn registries_get_shows_one_registry() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let snapshot = fake.snapshot();
    let staging = snapshot.registry("acme-staging").expect("demo registry");

    let table = docr.ok("registries get acme-staging").await;
    assert_eq!(table.first_column(), ["NAME", "acme-staging"]);
    assert!(table.lines()[1].contains("fra1"), "{}", table.stdout);

    let got = docr.json("registries get acme-staging").await;
    assert_eq!(got["registry"]["name"], "acme-staging");
    assert_eq!(got["registry"]["region"], staging.region.as_str());
    assert_eq!(
        got["registry"]["storage_usage_bytes"],
        json!(staging.storage_usage_bytes)
    );
    assert_eq!(fake.calls().of("registries_get"), 2);
}

#[tokio::test]
async fn registries_create_and_delete_change_the_account() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let created = docr
        .ok("registries create acme-tools --tier professional --region sgp1")
        .await;
    assert_eq!(created.stdout, "created registry acme-tools\n");
    assert_eq!(
        fake.snapshot()
            .registry("acme-tools")
            .map(|r| r.region.clone()),
        Some("sgp1".into())
    );

    let created = docr
        .json("registries create acme-eu --tier professional --region fra1")
        .await;
    assert_eq!(created["registry"]["name"], "acme-eu");
    assert_eq!(created["registry"]["region"], "fra1");
    assert!(fake.snapshot().registry("acme-eu").is_some());

    let deleted = docr.ok("registries delete acme-tools").await;
    assert_eq!(deleted.stdout, "deleted registry acme-tools\n");
    let deleted = docr.json("registries delete acme-eu").await;
    assert_eq!(deleted, json!({"deleted": "acme-eu"}));
    let names: Vec<String> = fake
        .snapshot()
        .registries
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["acme", "acme-archive", "acme-staging"]);

    // An unknown tier or region is refused before any request.
    let creates = fake.calls().of("registries_create");
    let why = docr.refused("registries create x1 --tier gold").await;
    assert!(why.contains("unknown tier `gold`"), "{why}");
    let why = docr
        .refused("registries create x1 --tier basic --region mars")
        .await;
    assert!(why.contains("unknown region `mars`"), "{why}");
    assert_eq!(fake.calls().of("registries_create"), creates);
}

#[tokio::test]
async fn repos_list_shows_every_repository_with_its_counts() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").expect("demo registry");

    let table = docr.ok("repos list acme").await;
    let mut expected_names: Vec<&str> = acme.repositories.iter().map(|r| r.name.as_str()).collect();
    expected_names.sort_unstable();
    let mut column = table.first_column();
    assert_eq!(column.remove(0), "REPOSITORY");
    column.sort_unstable();
    assert_eq!(column, expected_names);

    let listed = docr.json("repos list acme").await;
    let got: BTreeMap<String, (u64, u64, String)> = items(&listed)
        .iter()
        .map(|r| {
            (
                text(&r["name"]),
                (
                    number(&r["tag_count"]),
                    number(&r["manifest_count"]),
                    text(&r["latest_manifest"]["digest"]),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, u64, String)> = acme
        .repositories
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                (
                    r.tags().len() as u64,
                    r.manifests.len() as u64,
                    r.manifests[0].digest.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn tags_list_follows_every_page() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").expect("demo repository");
    let expected: BTreeSet<(String, String)> = web
        .manifests
        .iter()
        .flat_map(|m| m.tags.iter().map(|t| (t.clone(), m.digest.clone())))
        .collect();
    assert_eq!(expected.len(), 45);

    // 45 tags: three pages of the API's default size; the table has them all.
    let table = docr.ok("tags list acme web").await;
    assert_eq!(table.lines().len(), 1 + 45);
    assert_eq!(table.first_column()[0], "TAG");

    let listed = docr.json("tags list acme web").await;
    let got: BTreeSet<(String, String)> = items(&listed)
        .iter()
        .map(|t| (text(&t["tag"]), text(&t["manifest_digest"])))
        .collect();
    assert_eq!(got, expected);

    // A repository as users paste it, host and registry included.
    let api = docr
        .json("tags list acme registry.digitalocean.com/acme/team/api")
        .await;
    let tags: BTreeSet<String> = items(&api).iter().map(|t| text(&t["tag"])).collect();
    let expected: BTreeSet<String> = snapshot
        .repository("acme", "team/api")
        .expect("demo repository")
        .tags()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(tags, expected);

    // ... but not one of another registry.
    let before = fake.calls().total;
    let why = docr
        .refused("tags list acme registry.digitalocean.com/acme-staging/team/api")
        .await;
    assert!(
        why.contains("names registry acme-staging, not acme"),
        "{why}"
    );
    assert_eq!(fake.calls().total, before);
}

#[tokio::test]
async fn tags_delete_removes_tags_and_keeps_their_manifests() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let before = fake.snapshot();
    let api = before.repository("acme", "team/api").expect("demo");
    let v1 = api.tagged("v1").expect("v1").digest.clone();
    let latest = api.tagged("latest").expect("latest").digest.clone();

    let deleted = docr.ok("tags delete acme team/api v1 v2").await;
    assert_eq!(
        deleted.lines(),
        ["deleted team/api:v1", "deleted team/api:v2"]
    );
    let deleted = docr.json("tags delete acme team/api latest").await;
    assert_eq!(
        deleted,
        json!({"repository": "team/api", "deleted_tags": ["latest"]})
    );

    let after = fake.snapshot();
    let api_after = after.repository("acme", "team/api").expect("still there");
    assert_eq!(api_after.manifests.len(), api.manifests.len());
    assert!(api_after.tagged("v1").is_none() && api_after.tagged("v2").is_none());
    assert!(api_after.tagged("latest").is_none());
    assert_eq!(
        api_after.manifest(&v1).map(|m| m.tags.clone()),
        Some(vec![])
    );
    assert_eq!(
        api_after.tagged("v6").map(|m| m.digest.clone()),
        Some(latest)
    );

    // A tag that is not there: the API's 404, on one line.
    let why = docr.refused("tags delete acme team/api v1").await;
    assert!(
        why.starts_with("deleting tag v1:") && why.contains("404"),
        "{why}"
    );
}

#[tokio::test]
async fn manifests_list_shows_each_manifest_with_its_tags() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").expect("demo repository");

    let listed = docr.json("manifests list acme web").await;
    let got: Vec<(String, BTreeSet<String>)> = items(&listed)
        .iter()
        .map(|m| {
            (
                text(&m["digest"]),
                // An untagged manifest has no `tags` field.
                if m["tags"].is_null() {
                    BTreeSet::new()
                } else {
                    strings(&m["tags"]).into_iter().collect()
                },
            )
        })
        .collect();
    let expected: Vec<(String, BTreeSet<String>)> = web
        .manifests
        .iter()
        .map(|m| (m.digest.clone(), m.tags.iter().cloned().collect()))
        .collect();
    assert_eq!(got, expected, "newest first, as the fake holds them");

    let table = docr.ok("manifests list acme web").await;
    assert_eq!(table.lines().len(), 1 + web.manifests.len());
    let untagged = web.manifests.iter().filter(|m| m.tags.is_empty()).count();
    assert_eq!(untagged, 3);
    assert_eq!(
        table
            .lines()
            .iter()
            .filter(|l| l.contains("<untagged>"))
            .count(),
        untagged
    );
}

#[tokio::test]
async fn manifests_delete_removes_manifests_and_their_tags() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let before = fake.snapshot();
    let api = before.repository("acme", "team/api").expect("demo");
    let v1 = api.tagged("v1").expect("v1").digest.clone();
    let untagged: Vec<String> = api
        .manifests
        .iter()
        .filter(|m| m.tags.is_empty())
        .map(|m| m.digest.clone())
        .collect();
    assert_eq!(untagged.len(), 2);

    let deleted = docr
        .ok(&format!("manifests delete acme team/api {v1}"))
        .await;
    assert_eq!(deleted.stdout, format!("deleted team/api@{v1}\n"));
    let deleted = docr
        .json(&format!(
            "manifests delete acme team/api {} {}",
            untagged[0], untagged[1]
        ))
        .await;
    assert_eq!(
        deleted,
        json!({"repository": "team/api", "deleted_manifests": untagged})
    );

    let mut expected = manifests_of(&before, "acme");
    for digest in untagged.iter().chain([&v1]) {
        expected.remove(&("team/api".to_string(), digest.clone()));
    }
    let after = fake.snapshot();
    assert_eq!(manifests_of(&after, "acme"), expected);
    assert!(
        after
            .repository("acme", "team/api")
            .expect("still there")
            .tagged("v1")
            .is_none()
    );
}

#[tokio::test]
async fn bad_names_tags_and_digests_are_refused_before_any_request() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let why = docr.refused("tags list acme Team/API").await;
    assert!(why.contains("invalid repository name `Team/API`"), "{why}");
    let why = docr.refused("manifests list acme web//x").await;
    assert!(why.contains("invalid repository name"), "{why}");
    // Every tag is checked before the first delete.
    let why = docr.refused("tags delete acme web 1.0.0 BAD:tag").await;
    assert!(why.contains("invalid tag `BAD:tag`"), "{why}");
    let why = docr.refused("manifests delete acme web sha256:zz").await;
    assert!(why.contains("invalid digest `sha256:zz`"), "{why}");
    let why = docr.refused("manifests delete acme web latest").await;
    assert!(why.contains("invalid digest `latest`"), "{why}");

    // A registry name is checked by the argument parser (its usual exit status 2).
    let run = docr.run("repos list Acme").await;
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("invalid registry name `Acme`"),
        "{}",
        run.stderr
    );

    assert_eq!(fake.calls().total, 0, "{:?}", fake.calls());
    assert!(
        fake.snapshot()
            .repository("acme", "web")
            .expect("demo")
            .tagged("1.0.0")
            .is_some()
    );
}

#[tokio::test]
async fn a_missing_token_names_the_variables() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let mut command = docr.command("repos list acme");
    command.env_remove("DIGITALOCEAN_TOKEN");
    let run = execute(command).await;
    let why = run.assert_refused();
    for name in ["--token", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"] {
        assert!(why.contains(name), "{why}");
    }
    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn the_token_and_url_come_from_flags_or_either_variable() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let expected = docr.ok("registries list").await.stdout;

    let mut flags = docr.command(&format!(
        "--api-url {} --token {TOKEN} registries list",
        fake.url()
    ));
    flags
        .env_remove("DIGITALOCEAN_TOKEN")
        .env_remove("DIGITALOCEAN_API_URL");
    let run = execute(flags).await;
    run.assert_success();
    assert_eq!(run.stdout, expected);

    let mut access_token = docr.command("registries list");
    access_token
        .env_remove("DIGITALOCEAN_TOKEN")
        .env("DIGITALOCEAN_ACCESS_TOKEN", TOKEN);
    let run = execute(access_token).await;
    run.assert_success();
    assert_eq!(run.stdout, expected);

    // A wrong token: the API's 401 on one line, and that token is not repeated either.
    let run = docr.run("--token dop_v1_wrong-one registries list").await;
    let why = run.assert_refused();
    assert!(why.contains("401"), "{why}");
    assert!(!why.contains("dop_v1_wrong-one"), "{why}");
    assert_eq!(fake.calls().of("registries_list"), 4);
}

#[tokio::test]
async fn an_unknown_registry_gives_the_reason_on_one_line() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    for args in [
        "registries get nope",
        "repos list nope",
        "registries delete nope",
        "gc list nope",
    ] {
        let why = docr.refused(args).await;
        assert!(why.contains("404") && why.contains("nope"), "{why}");
    }
}

#[tokio::test]
async fn verbose_logs_each_call_on_stderr_and_nothing_else_changes() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let quiet = docr.ok("repos list acme").await;
    assert_eq!(quiet.stderr, "");

    let verbose = docr.ok("-v repos list acme").await;
    assert_eq!(verbose.stdout, quiet.stdout);
    assert!(
        verbose.stderr.lines().any(
            |l| l.contains("operation=\"registries_list_repositories_v2\"")
                && l.contains("status=200")
        ),
        "{}",
        verbose.stderr
    );
    assert!(
        !verbose.stderr.contains('\u{1b}'),
        "colour codes in a log that is not a terminal:\n{}",
        verbose.stderr
    );

    // The token given as a flag stays out of the log, failure or not.
    let mut flag = docr.command(&format!("-v --token {TOKEN} registries get nope"));
    flag.env_remove("DIGITALOCEAN_TOKEN");
    let run = execute(flag).await;
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("operation=\"registries_get\""));
    assert!(run.stderr.contains("status=404"), "{}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("docr: ") && l.contains("404")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn gc_start_without_wait_shows_the_requested_collection_or_joins_it() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let table = docr.ok("gc start acme").await;
    let gcs = collections(&fake, "acme");
    assert_eq!(gcs.len(), 1);
    assert_eq!(gcs[0].status, "requested");
    assert_eq!(table.first_column(), ["UUID", gcs[0].uuid.as_str()]);
    assert!(
        table.lines()[1].contains("requested") && table.lines()[1].contains("unreferenced blobs"),
        "{}",
        table.stdout
    );

    // A second start joins the running one.
    let joined = docr.json("gc start acme --type untagged-manifests").await;
    assert_eq!(items(&joined).len(), 1);
    assert_eq!(joined[0]["uuid"], gcs[0].uuid.as_str());
    assert_eq!(collections(&fake, "acme").len(), 1);

    let started = docr.json("gc start acme-staging --type both").await;
    let staging_gcs = collections(&fake, "acme-staging");
    assert_eq!(staging_gcs.len(), 1);
    assert_eq!(started[0]["uuid"], staging_gcs[0].uuid.as_str());
    assert_eq!(started[0]["status"], "requested");
    assert_eq!(started[0]["type"], staging_gcs[0].gc_type.as_str());
}

#[tokio::test]
async fn gc_start_wait_follows_every_status_to_the_end() {
    let fake = builder()
        .demo_data()
        .gc_step(GC_STEP)
        .start()
        .await
        .expect("the fake starts");
    let docr = Docr::new(fake.url());
    let left_behind = digest("layer:left-behind");
    assert!(
        fake.snapshot()
            .registry("acme-staging")
            .expect("demo")
            .has_blob(&left_behind)
    );

    let run = docr.ok("gc start acme-staging --wait").await;
    let snapshot = fake.snapshot();
    let staging = snapshot.registry("acme-staging").expect("demo");
    let gc = &staging.garbage_collections[0];
    assert_eq!(gc.status, "succeeded");
    assert_eq!((gc.blobs_deleted, gc.freed_bytes), (1, 12_345_678));
    assert!(!staging.has_blob(&left_behind));
    assert_eq!(
        run.stderr,
        format!("started garbage collection {}\n", gc.uuid)
    );
    assert_eq!(
        run.stdout,
        format!(
            "garbage collection {} succeeded: 1 blobs deleted, 11.8 MiB freed\n",
            gc.uuid
        )
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));

    // As JSON: the finished collection, one document.
    let done = docr.json("gc start acme --wait --type both").await;
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").expect("demo");
    let gc = &acme.garbage_collections[0];
    assert_eq!(done["uuid"], gc.uuid.as_str());
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["blobs_deleted"], json!(gc.blobs_deleted));
    assert_eq!(done["freed_bytes"], json!(gc.freed_bytes));
    assert!(gc.blobs_deleted > 0);
    assert!(
        acme.repositories
            .iter()
            .all(|r| r.manifests.iter().all(|m| !m.tags.is_empty())),
        "`both` removes the untagged manifests"
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));
}

#[tokio::test]
async fn gc_status_shows_the_running_collection_or_says_none_is() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let none = docr.ok("gc status acme").await;
    assert_eq!(none.stdout, "no garbage collection is running on acme\n");
    assert_eq!(docr.json("gc status acme").await, Value::Null);

    docr.ok("gc start acme").await;
    let uuid = collections(&fake, "acme")[0].uuid.clone();
    let table = docr.ok("gc status acme").await;
    assert_eq!(table.first_column(), ["UUID", uuid.as_str()]);
    let running = docr.json("gc status acme").await;
    assert_eq!(running[0]["uuid"], uuid.as_str());
    assert_eq!(running[0]["status"], "requested");
}

#[tokio::test]
async fn gc_list_shows_every_collection_of_a_registry() {
    let fake = builder()
        .demo_data()
        .gc_step(Duration::ZERO)
        .start()
        .await
        .expect("the fake starts");
    let docr = Docr::new(fake.url());

    let empty = docr.ok("gc list acme").await;
    assert_eq!(empty.first_column(), ["UUID"]);
    assert_eq!(docr.json("gc list acme").await, json!([]));

    docr.ok("gc start acme --type untagged-manifests").await;
    docr.ok("gc start acme").await;
    let expected: BTreeMap<String, (String, String, u64, u64)> = collections(&fake, "acme")
        .iter()
        .map(|gc| {
            (
                gc.uuid.clone(),
                (
                    gc.status.clone(),
                    gc.gc_type.clone(),
                    gc.blobs_deleted,
                    gc.freed_bytes,
                ),
            )
        })
        .collect();
    assert_eq!(expected.len(), 2);

    let listed = docr.json("gc list acme").await;
    let got: BTreeMap<String, (String, String, u64, u64)> = items(&listed)
        .iter()
        .map(|gc| {
            (
                text(&gc["uuid"]),
                (
                    text(&gc["status"]),
                    text(&gc["type"]),
                    number(&gc["blobs_deleted"]),
                    number(&gc["freed_bytes"]),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);

    let table = docr.ok("gc list acme").await;
    let mut uuids = table.first_column();
    assert_eq!(uuids.remove(0), "UUID");
    uuids.sort_unstable();
    assert_eq!(uuids, expected.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn gc_cancel_cancels_the_running_or_the_named_collection() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let why = docr.refused("gc cancel acme").await;
    assert_eq!(why, "no garbage collection is running on acme");
    assert_eq!(fake.calls().of("registries_update_garbage_collection"), 0);

    // Without a UUID: the running one.
    docr.ok("gc start acme").await;
    let uuid = collections(&fake, "acme")[0].uuid.clone();
    let cancelled = docr.ok("gc cancel acme").await;
    assert_eq!(cancelled.first_column(), ["UUID", uuid.as_str()]);
    assert!(
        cancelled.lines()[1].contains("cancelling"),
        "{}",
        cancelled.stdout
    );
    assert_eq!(collections(&fake, "acme")[0].status, "cancelling");

    // With a UUID.
    let started = docr.json("gc start acme-staging").await;
    let uuid = text(&started[0]["uuid"]);
    let cancelled = docr.json(&format!("gc cancel acme-staging {uuid}")).await;
    assert_eq!(cancelled[0]["uuid"], uuid.as_str());
    assert_eq!(cancelled[0]["status"], "cancelling");
    let gc = &collections(&fake, "acme-staging")[0];
    assert_eq!(
        (gc.uuid.as_str(), gc.status.as_str()),
        (uuid.as_str(), "cancelling")
    );
    assert_eq!(gc.freed_bytes, 0);

    let why = docr
        .refused("gc cancel acme-archive 00000000-0000-4000-8000-000000000000")
        .await;
    assert!(why.contains("404"), "{why}");
}

#[tokio::test]
async fn login_merges_credentials_and_logout_removes_only_them() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let config = docr.config_json();

    // Into an empty folder: the file is created, private.
    let run = docr.ok("login acme").await;
    assert_eq!(
        run.stdout,
        format!("logged in to {REGISTRY_HOST} ({})\n", config.display())
    );
    assert_private(&config);
    let issued = fake.snapshot().credentials;
    assert_eq!(issued.len(), 1);
    assert!(!issued[0].read_write && issued[0].expires_at.is_none());
    let written = read_json(&config);
    assert_eq!(
        decoded_auth(&written),
        format!("{}:acme.read-only.never", issued[0].username)
    );

    // Into a file with other entries: those are kept as they were.
    let others = json!({
        "auths": {
            "ghcr.io": {"auth": "Z2g6dG9rZW4="},
            REGISTRY_HOST: {"auth": "b2xkOm9sZA=="}
        },
        "credsStore": "desktop",
        "currentContext": "default"
    });
    std::fs::write(&config, others.to_string()).expect("write config.json");
    let logged_in = docr.json("login acme --read-write --expiry 1h").await;
    assert_eq!(logged_in, json!({"config": config, "registry": "acme"}));
    assert_private(&config);
    let written = read_json(&config);
    assert_eq!(written["auths"]["ghcr.io"], others["auths"]["ghcr.io"]);
    assert_eq!(written["credsStore"], "desktop");
    assert_eq!(written["currentContext"], "default");
    let issued = fake.snapshot().credentials;
    let last = issued.last().expect("issued");
    assert!(last.read_write && last.expires_at.is_some());
    let auth = decoded_auth(&written);
    assert!(
        auth.starts_with(&format!("{}:acme.read-write.", last.username))
            && !auth.ends_with("never"),
        "{auth}"
    );

    let run = docr.ok("logout").await;
    assert_eq!(
        run.stdout,
        format!("logged out of {REGISTRY_HOST} ({})\n", config.display())
    );
    let written = read_json(&config);
    assert_eq!(
        written,
        json!({
            "auths": {"ghcr.io": {"auth": "Z2g6dG9rZW4="}},
            "credsStore": "desktop",
            "currentContext": "default"
        })
    );
    assert_private(&config);

    // Logged out already: nothing to change.
    let before = std::fs::read(&config).expect("config.json");
    assert_eq!(docr.json("logout").await, json!({"config": config}));
    assert_eq!(std::fs::read(&config).expect("config.json"), before);
    assert_eq!(fake.snapshot().credentials.len(), 2, "logout asks nothing");
}

#[tokio::test]
async fn k8s_secret_prints_a_docker_config_secret() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let run = docr.ok("k8s-secret acme").await;
    assert_eq!(run.stderr, "");
    assert!(
        run.stdout
            .lines()
            .all(|l| !l.trim().is_empty() && !l.contains('\t') && l.trim_end() == l),
        "{}",
        run.stdout
    );
    let secret: serde_yaml::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(secret["apiVersion"].as_str(), Some("v1"));
    assert_eq!(secret["kind"].as_str(), Some("Secret"));
    assert_eq!(
        secret["type"].as_str(),
        Some("kubernetes.io/dockerconfigjson")
    );
    assert_eq!(secret["metadata"]["name"].as_str(), Some("registry-acme"));
    assert_eq!(secret["metadata"]["namespace"].as_str(), Some("default"));
    let payload = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("the payload");
    let config: Value =
        serde_json::from_slice(&BASE64.decode(payload).expect("base64")).expect("JSON");
    let issued = fake.snapshot().credentials;
    assert_eq!(
        decoded_auth(&config),
        format!("{}:acme.read-only.never", issued[0].username)
    );
    assert_eq!(config["auths"].as_object().map(|a| a.len()), Some(1));
    assert!(!docr.config_json().exists(), "k8s-secret writes no file");

    let run = docr
        .ok("k8s-secret acme-staging --name pull.acme --namespace apps")
        .await;
    let secret: serde_yaml::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(secret["metadata"]["name"].as_str(), Some("pull.acme"));
    assert_eq!(secret["metadata"]["namespace"].as_str(), Some("apps"));

    let why = docr.refused("k8s-secret acme --namespace Apps").await;
    assert!(why.contains("invalid Kubernetes namespace `Apps`"), "{why}");
}

#[tokio::test]
async fn prune_without_apply_deletes_nothing() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let before = fake.snapshot();

    let table = docr.ok("prune acme --keep-last 5").await;
    assert!(
        table.stdout.contains("web: delete 38 manifests, keep 5"),
        "{}",
        table.stdout
    );
    assert_eq!(
        table.lines().last().copied(),
        Some("dry run: nothing was deleted; add --apply to delete the above")
    );

    let dry = docr.json("prune acme --untagged --older-than 30d").await;
    assert_eq!(dry["applied"], false);
    assert!(!planned(&dry["plan"]).is_empty());

    assert_eq!(fake.snapshot(), before);
    assert_eq!(fake.calls().of("registries_delete_repository_manifest"), 0);
    assert_eq!(fake.calls().of("registries_delete_repository_tag"), 0);
}

#[tokio::test]
async fn prune_apply_deletes_exactly_what_the_plan_lists() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    let before = fake.snapshot();

    let applied = docr
        .json("prune acme --keep-last 3 --keep-tag lts|stable --untagged --apply")
        .await;
    assert_eq!(applied["applied"], true);
    let planned = planned(&applied["plan"]);
    assert!(planned.len() > 10, "{planned:?}");
    let outcomes: Vec<&Value> = items(&applied["report"]["items"])
        .iter()
        .map(|i| &i["outcome"]["status"])
        .collect();
    assert_eq!(outcomes.len(), planned.len());
    assert!(outcomes.iter().all(|s| *s == "deleted"), "{outcomes:?}");
    assert_eq!(applied["garbage_collection"], Value::Null);

    let after = fake.snapshot();
    let was = manifests_of(&before, "acme");
    assert!(planned.iter().all(|p| was.contains_key(p)));
    let expected: BTreeMap<_, _> = was
        .into_iter()
        .filter(|(key, _)| !planned.contains(key))
        .collect();
    assert_eq!(manifests_of(&after, "acme"), expected);
    let web = after.repository("acme", "web").expect("kept");
    assert!(web.tagged("lts").is_some() && web.tagged("stable").is_some());
    for other in ["acme-staging", "acme-archive"] {
        assert_eq!(after.registry(other), before.registry(other));
    }

    // As a table, on another registry: the plan, then what was done.
    let sandbox = before
        .repository("acme-staging", "sandbox")
        .expect("demo")
        .manifests[0]
        .digest
        .clone();
    let run = docr.ok("prune acme-staging --untagged --apply").await;
    assert!(
        run.stdout.contains("sandbox: delete 1 manifest, keep 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.lines()
            .last()
            .is_some_and(|l| l.starts_with("deleted 1 manifest") && l.contains("failed 0")),
        "{}",
        run.stdout
    );
    let staging = fake.snapshot();
    let sandbox_after = staging
        .repository("acme-staging", "sandbox")
        .map(|r| r.manifest(&sandbox).is_some());
    assert_ne!(sandbox_after, Some(true));
    assert_eq!(
        staging.repository("acme-staging", "team/api"),
        before.repository("acme-staging", "team/api")
    );
}

#[tokio::test]
async fn prune_apply_gc_wait_frees_the_space() {
    let fake = builder()
        .demo_data()
        .gc_step(GC_STEP)
        .start()
        .await
        .expect("the fake starts");
    let docr = Docr::new(fake.url());
    let before = fake.snapshot();
    let stored_before = before
        .registry("acme-staging")
        .expect("demo")
        .storage_usage_bytes;

    let run = docr
        .ok("prune acme-staging --untagged --apply --gc --wait")
        .await;
    let after = fake.snapshot();
    let staging = after.registry("acme-staging").expect("demo");
    let gc = &staging.garbage_collections[0];
    assert_eq!(gc.status, "succeeded");
    assert!(gc.freed_bytes > 12_345_678, "the left-behind blob and more");
    assert_eq!(staging.storage_usage_bytes, stored_before - gc.freed_bytes);
    assert_eq!(
        run.stderr,
        format!("started garbage collection {}\n", gc.uuid)
    );
    assert!(
        run.lines().last().is_some_and(|l| l
            .starts_with(&format!("garbage collection {}: succeeded, ", gc.uuid))),
        "{}",
        run.stdout
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));
    // Every stored blob is referenced by a manifest that is left.
    let referenced: BTreeSet<&str> = staging
        .repositories
        .iter()
        .flat_map(|r| &r.manifests)
        .flat_map(|m| m.blobs.iter().map(|b| b.digest.as_str()))
        .collect();
    let stored: BTreeSet<&str> = staging.blobs.iter().map(|b| b.digest.as_str()).collect();
    assert_eq!(stored, referenced);

    // As JSON: the plan, the report and the finished collection in one document.
    let applied = docr.json("prune acme --untagged --apply --gc --wait").await;
    let after = fake.snapshot();
    let gc = &after.registry("acme").expect("demo").garbage_collections[0];
    assert_eq!(applied["garbage_collection"]["uuid"], gc.uuid.as_str());
    assert_eq!(applied["garbage_collection"]["status"], "succeeded");
    assert_eq!(
        applied["garbage_collection"]["freed_bytes"],
        json!(gc.freed_bytes)
    );
    assert_eq!(
        planned(&applied["plan"]).len(),
        5,
        "3 untagged in web, 2 in team/api"
    );
}

#[tokio::test]
async fn prune_refuses_an_incomplete_command_before_any_request() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let why = docr.refused("prune acme").await;
    assert!(why.starts_with("no policy"), "{why}");
    let why = docr.refused("prune acme --untagged --keep-tag ([").await;
    assert!(why.contains("(["), "{why}");
    let why = docr.refused("prune acme Web --untagged").await;
    assert!(why.contains("invalid repository name `Web`"), "{why}");

    // `--gc` without `--apply`: the argument parser says so.
    let run = docr.run("prune acme --untagged --gc").await;
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stderr.contains("--apply"), "{}", run.stderr);

    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn options_lists_regions_and_tiers() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let options = docr.json("options").await;
    let regions = strings(&options["options"]["available_regions"]);
    assert!(regions.iter().any(|r| r == "nyc3"), "{regions:?}");
    let tiers = items(&options["options"]["subscription_tiers"]);
    let slugs: Vec<&str> = tiers
        .iter()
        .map(|t| t["slug"].as_str().expect("slug"))
        .collect();
    assert_eq!(slugs, ["starter", "basic", "professional"]);
    // Three registries: only professional allows them.
    assert_eq!(tiers[2]["eligible"], true);
    for tier in &tiers[..2] {
        assert_eq!(tier["eligible"], false);
        assert!(strings(&tier["eligibility_reasons"]).contains(&"OverRegistryLimit".to_string()));
    }

    let table = docr.ok("options").await;
    assert_eq!(table.lines()[0], format!("regions: {}", regions.join(", ")));
    assert_eq!(
        table.first_column()[1..],
        ["TIER", "starter", "basic", "professional"]
    );
    assert!(table.lines()[4].ends_with("yes"), "{}", table.stdout);
    assert!(table.lines()[2].contains("no (OverRepositoryLimit, OverRegistryLimit)"));
}

#[tokio::test]
async fn subscription_get_and_set_change_the_tier() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let table = docr.ok("subscription get").await;
    assert_eq!(table.first_column(), ["TIER", "professional"]);
    let got = docr.json("subscription get").await;
    assert_eq!(
        got["subscription"]["tier"]["slug"],
        fake.snapshot().tier.as_str()
    );

    // Three registries do not fit on basic: the API's 422, on one line.
    let why = docr.refused("subscription set basic").await;
    assert!(
        why.contains("422") && why.contains("OverRegistryLimit"),
        "{why}"
    );
    let why = docr.refused("subscription set gold").await;
    assert!(why.contains("unknown tier `gold`"), "{why}");
    assert_eq!(fake.snapshot().tier, "professional");
    assert_eq!(fake.calls().of("registries_update_subscription"), 1);

    // One registry with one repository fits on any tier.
    let small = builder()
        .registry(
            RegistrySeed::new("solo").tier("professional").repository(
                RepositorySeed::new("app").manifest(
                    ManifestSeed::new(digest("app-1"))
                        .tag("v1")
                        .blob(digest("l1"), 10),
                ),
            ),
        )
        .start()
        .await
        .expect("the fake starts");
    let docr = Docr::new(small.url());
    let set = docr.json("subscription set basic").await;
    assert_eq!(set["subscription"]["tier"]["slug"], "basic");
    assert_eq!(small.snapshot().tier, "basic");
    let set = docr.ok("subscription set starter").await;
    assert_eq!(set.first_column(), ["TIER", "starter"]);
    assert_eq!(small.snapshot().tier, "starter");
}

#[tokio::test]
async fn validate_name_exits_zero_only_for_a_free_name() {
    let fake = demo().await;
    let docr = Docr::new(fake.url());

    let free = docr.ok("validate-name acme-next").await;
    assert_eq!(free.stdout, "acme-next is available\n");
    let why = docr.refused("validate-name acme").await;
    assert_eq!(why, "acme is taken");

    let free = docr.json("validate-name acme-next").await;
    assert_eq!(free, json!({"name": "acme-next", "available": true}));
    // As JSON too, a taken name is a non-zero exit, with the document on stdout.
    let taken = docr.run("-o json validate-name acme").await;
    assert_eq!(taken.status.code(), Some(1));
    assert_eq!(taken.json(), json!({"name": "acme", "available": false}));
    assert_eq!(taken.assert_one_error_line(), "acme is taken");
    assert_eq!(fake.calls().of("registries_validate_name"), 4);

    let why = docr.refused("validate-name Acme_2").await;
    assert!(why.contains("invalid registry name `Acme_2`"), "{why}");
    assert_eq!(
        fake.calls().total,
        4,
        "a bad name is refused before any request"
    );
}

/// A child process killed (and reaped) however the test ends.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn fake_serve_answers_docr_until_killed() {
    let child = Command::new(env!("CARGO_BIN_EXE_docr"))
        .args(["fake", "serve", "--port", "0", "--token", TOKEN])
        .env_remove("DIGITALOCEAN_TOKEN")
        .env_remove("DIGITALOCEAN_ACCESS_TOKEN")
        .env_remove("DIGITALOCEAN_API_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("docr fake serve starts");
    let mut serving = Serving(child);
    let stdout = serving.0.stdout.take().expect("stdout is piped");
    // The reader stays open until the end: a closed stdout would end the server.
    let (first_line, _reader): (String, BufReader<ChildStdout>) =
        tokio::task::spawn_blocking(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            reader.read_line(&mut line).expect("read stdout");
            (line, reader)
        })
        .await
        .expect("the blocking task ends");
    assert!(
        first_line.starts_with("embedded DOCR on http://127.0.0.1:"),
        "{first_line}"
    );
    assert!(!first_line.contains(TOKEN));
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL");

    let docr = Docr::new(url);
    let repositories = docr.json("repos list acme").await;
    let names: Vec<&str> = items(&repositories)
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["team/api", "team/worker", "tools/ci/runner", "web"]);
    let table = docr.ok("repos list acme").await;
    assert_eq!(
        table.first_column(),
        [
            "REPOSITORY",
            "team/api",
            "team/worker",
            "tools/ci/runner",
            "web"
        ]
    );

    serving.0.kill().expect("kill docr fake serve");
    let status = serving.0.wait().expect("reap docr fake serve");
    assert!(!status.success(), "{status}");
}
