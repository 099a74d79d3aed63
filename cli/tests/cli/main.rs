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
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

mod confirm;
mod credentials;
mod flags;
mod gc;
mod helper;
mod images;
mod policy;
mod prune;
mod prune_buildah;
mod prune_status;
mod registries;
mod restore;
mod restore_skopeo;
mod skopeo_login;
mod surface;

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

/// The commands of `docr --help`, each with its subcommands, that this file covers (`fake`
/// only in a binary built with the feature of that name, the default).
const COVERED: &[(&str, &[&str])] = &[
    ("registries", &["list", "get", "create", "delete"]),
    ("repos", &["list", "delete"]),
    ("tags", &["list", "delete"]),
    ("manifests", &["list", "delete"]),
    ("gc", &["start", "status", "list", "cancel"]),
    ("login", &[]),
    ("logout", &[]),
    ("docker-config", &[]),
    ("k8s-secret", &[]),
    ("kubernetes", &["add", "remove"]),
    ("prune", &[]),
    ("policy", &["check"]),
    ("restore", &[]),
    ("options", &[]),
    ("subscription", &["get", "set"]),
    ("validate-name", &[]),
    #[cfg(feature = "fake")]
    ("fake", &["serve"]),
    ("completions", &[]),
];

const REGISTRY_HOST: &str = "registry.digitalocean.com";

fn builder() -> FakeDocrBuilder {
    FakeDocr::builder().token(TOKEN).gc_step(FROZEN)
}

async fn demo() -> FakeDocr {
    start(builder().demo_data()).await
}

/// The demo data, and `docr` for its API.
async fn demo_with_docr() -> (FakeDocr, Docr) {
    let fake = demo().await;
    let docr = Docr::new(fake.url());
    (fake, docr)
}

/// The demo data, with garbage collections that run through every status.
async fn demo_stepping() -> FakeDocr {
    start(builder().demo_data().gc_step(GC_STEP)).await
}

async fn start(builder: FakeDocrBuilder) -> FakeDocr {
    builder.start().await.expect("the fake starts")
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

    fn assert_stdout_contains(&self, needle: &str) {
        assert!(
            self.stdout.contains(needle),
            "docr {}: `{needle}` not in\n{}",
            self.args,
            self.stdout
        );
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
        self.assert_refused_with(1)
    }

    /// Ended with exit status `code`, nothing on stdout, one line on stderr.
    fn assert_refused_with(&self, code: i32) -> &str {
        assert_eq!(
            self.status.code(),
            Some(code),
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
    registry_url: Option<String>,
    docker_config: tempfile::TempDir,
}

impl Docr {
    fn new(api_url: &str) -> Self {
        Self {
            api_url: api_url.to_string(),
            registry_url: None,
            docker_config: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// Against both sides of `fake`: its API and its registry.
    fn for_fake(fake: &FakeDocr) -> Self {
        Self {
            registry_url: Some(fake.registry_url().to_string()),
            ..Self::new(fake.url())
        }
    }

    /// Where its undo journals go: `<XDG_STATE_HOME>/docr/journals`.
    fn state_home(&self) -> PathBuf {
        self.docker_config.path().join("state")
    }

    /// The undo journals `prune --apply` wrote, by name.
    fn journals(&self) -> Vec<PathBuf> {
        let dir = self.state_home().join("docr").join("journals");
        let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        all.sort();
        all
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
            .env_remove("DIGITALOCEAN_REGISTRY_URL")
            .env("DOCKER_CONFIG", self.docker_config.path())
            // The manifest cache and the undo journals inside the test's own directory, never
            // the user's.
            .env("XDG_CACHE_HOME", self.docker_config.path().join("cache"))
            .env("XDG_STATE_HOME", self.state_home())
            .stdin(Stdio::null());
        command
    }

    async fn run(&self, args: &str) -> Run {
        let mut command = self.command(args);
        if let Some(url) = &self.registry_url {
            command.env("DIGITALOCEAN_REGISTRY_URL", url);
        }
        execute(command).await
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

    /// Refused with one line on stderr that contains `needle`.
    async fn refused_saying(&self, args: &str, needle: &str) {
        let why = self.refused(args).await;
        assert!(why.contains(needle), "docr {args}: {why}");
    }

    /// Refused as a usage error (exit status 2) before any change; the line, without `docr: `.
    async fn usage(&self, args: &str) -> String {
        self.run(args).await.assert_refused_with(2).to_string()
    }

    /// Succeeds and prints exactly `expected`.
    async fn prints(&self, args: &str, expected: &str) -> Run {
        let run = self.ok(args).await;
        assert_eq!(run.stdout, expected, "docr {args}");
        run
    }

    /// Succeeds and prints exactly these lines.
    async fn prints_lines(&self, args: &str, expected: &[&str]) -> Run {
        let run = self.ok(args).await;
        assert_eq!(run.lines(), expected, "docr {args}");
        run
    }

    /// Succeeds with a table whose first column (header included) is `expected`.
    async fn prints_column(&self, args: &str, expected: &[&str]) -> Run {
        let run = self.ok(args).await;
        assert_eq!(run.first_column(), expected, "docr {args}");
        run
    }

    /// `docr -o json ARGS` prints exactly `expected`.
    async fn prints_json(&self, args: &str, expected: Value) {
        assert_eq!(self.json(args).await, expected, "docr -o json {args}");
    }
}

/// `fake`, a `docr` against it, and the fake's state before `docr` runs.
fn with_docr(fake: FakeDocr) -> (FakeDocr, Docr, Snapshot) {
    let before = fake.snapshot();
    let docr = Docr::for_fake(&fake);
    (fake, docr, before)
}

/// Runs `command` with `input` on its stdin, capturing stdout and stderr.
fn output_with_stdin(command: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the command ends")
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
    snapshot
        .registry(registry)
        .expect("the registry exists")
        .manifest_tags()
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

/// `sha256:<hex>` of `bytes`, as a registry names content.
fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
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
