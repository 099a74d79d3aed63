//! Docker credentials: the request that fetches them, the merge into Docker's `config.json`
//! that touches only DigitalOcean's entry, logging out again, and the Kubernetes pull Secret.

use base64::Engine;
use docr::{Error, RegistryName, client::ApiFamily, credentials::CredentialsExt};
use docr::{
    credentials::RegistryCredentials, credentials::default_secret_name,
    credentials::merge_docker_config,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::{direct_client, mount};
use wiremock::{MockServer, ResponseTemplate};

/// base64 of `dop_v1_registry:s3cret-PASSWORD`, as the API returns it.
const AUTH: &str = "ZG9wX3YxX3JlZ2lzdHJ5OnMzY3JldC1QQVNTV09SRA==";
const PASSWORD: &str = "s3cret-PASSWORD";

fn acme() -> RegistryName {
    "acme".parse().unwrap()
}

/// A server that answers `path` with Docker's `auths` object.
async fn answering_auths(at: &str, auths: Value) -> MockServer {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(200).set_body_json(json!({ "auths": auths }));
    mount(&server, "GET", at, answer).await;
    server
}

/// A server that answers `path` with credentials for the registry host.
async fn credentials_server(at: &str) -> MockServer {
    answering_auths(at, json!({ "registry.digitalocean.com": { "auth": AUTH } })).await
}

/// Read-write credentials valid an hour from `family`, served at `at`: both parameters sent.
async fn read_write_for_an_hour(at: &str, family: ApiFamily) -> RegistryCredentials {
    let server = credentials_server(at).await;
    let credentials = direct_client(&server)
        .docker_credentials(&acme())
        .family(family)
        .read_write(true)
        .expiry(Duration::from_secs(3600))
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_query(&server).await,
        query(&[("read_write", "true"), ("expiry_seconds", "3600")])
    );
    credentials
}

/// The query of the one request `server` received, as name/value pairs.
async fn only_query(server: &MockServer) -> BTreeMap<String, String> {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    let pairs: Vec<(String, String)> = requests[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query: BTreeMap<String, String> = pairs.iter().cloned().collect();
    assert_eq!(query.len(), pairs.len(), "no parameter repeated: {pairs:?}");
    query
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Credentials as a test fixture, without a server.
fn credentials(auth: &str) -> RegistryCredentials {
    let response: docr::types::DockerCredentials = serde_json::from_value(json!({
        "auths": { "registry.digitalocean.com": { "auth": auth } }
    }))
    .unwrap();
    RegistryCredentials::from_response(&response).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The request.

#[tokio::test]
async fn read_write_credentials_with_an_expiry_send_both_parameters() {
    let at = "/v2/registries/acme/docker-credentials";
    let credentials = read_write_for_an_hour(at, ApiFamily::Registries).await;
    assert_eq!(
        serde_json::from_str::<Value>(&credentials.docker_config_json()).unwrap(),
        json!({ "auths": { "registry.digitalocean.com": { "auth": AUTH } } })
    );
}

#[tokio::test]
async fn default_credentials_send_no_query() {
    let server = credentials_server("/v2/registries/acme/docker-credentials").await;
    direct_client(&server)
        .docker_credentials(&acme())
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.query().unwrap_or(""), "", "no query");
}

#[tokio::test]
async fn an_expiry_under_one_second_is_refused_before_any_request() {
    let server = credentials_server("/v2/registries/acme/docker-credentials").await;
    let client = direct_client(&server);
    for expiry in [Duration::ZERO, Duration::from_millis(999)] {
        let err = client
            .docker_credentials(&acme())
            .expiry(expiry)
            .send()
            .await
            .expect_err("refused");
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            err.to_string().contains("at least one second"),
            "the message says why: {err}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_deprecated_family_calls_the_single_registry_endpoint() {
    let at = "/v2/registry/docker-credentials";
    let credentials = read_write_for_an_hour(at, ApiFamily::Registry).await;
    assert!(credentials.docker_config_json().contains(AUTH));
}

#[tokio::test]
async fn an_answer_without_the_registry_hosts_auth_is_an_error() {
    let at = "/v2/registries/acme/docker-credentials";
    let server = answering_auths(at, json!({ "ghcr.io": { "auth": AUTH } })).await;
    let err = direct_client(&server)
        .docker_credentials(&acme())
        .send()
        .await
        .expect_err("no usable entry");
    assert!(
        err.to_string()
            .contains("auths.registry.digitalocean.com.auth"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// config.json

#[test]
fn a_missing_folder_and_file_are_created_private() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("home").join(".docker");
    let written = credentials(AUTH).write_docker_config(&dir).unwrap();
    assert_eq!(written, dir.join("config.json"));
    assert_eq!(
        read_json(&written),
        json!({ "auths": { "registry.digitalocean.com": { "auth": AUTH } } })
    );
    #[cfg(unix)]
    assert_eq!(mode(&written), 0o600);
    assert_eq!(files_in(&dir), ["config.json"], "no temporary file is left");
}

/// A config.json as Docker Desktop and other tools leave it: other registries, a credential
/// store, headers, odd spacing and key order, numbers serde would rewrite.
const THEIR_CONFIG: &str = r#"{"credsStore"  :"desktop",
	"auths":{
	  "ghcr.io" :{ "auth":"Z2hjcjp0b2tlbg==",   "email" : "me@example.com" } ,
   "https://index.docker.io/v1/":{"auth":"ZG9ja2VyOmh1Yg=="},
	 "registry.digitalocean.com": {"auth": "b2xkOm9sZA==", "identitytoken": "old"},
  "quay.io":  {}
	},
  "HttpHeaders":{ "User-Agent" : "Docker-Client/24.0.7 (linux)",  "X-Team":"a\u0020b" },
  "experimental": "enabled", "numbers": [1.50, 1e3, -0, 123456789012345678901234567890]
}
"#;
const GHCR_ENTRY: &str = r#"{ "auth":"Z2hjcjp0b2tlbg==",   "email" : "me@example.com" }"#;
const HEADERS: &str = r#"{ "User-Agent" : "Docker-Client/24.0.7 (linux)",  "X-Team":"a\u0020b" }"#;
const NUMBERS: &str = "[1.50, 1e3, -0, 123456789012345678901234567890]";

/// Everything but DigitalOcean's entry.
fn without_do_entry(mut config: Value) -> Value {
    config["auths"]
        .as_object_mut()
        .expect("auths is an object")
        .remove("registry.digitalocean.com");
    config
}

#[test]
fn other_entries_keep_their_bytes_and_only_digitaloceans_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, THEIR_CONFIG).unwrap();
    #[cfg(unix)]
    set_mode(&file, 0o644);
    let before = read_json(&file);

    let written = credentials(AUTH).write_docker_config(dir.path()).unwrap();
    assert_eq!(written, file);

    let text = std::fs::read_to_string(&file).unwrap();
    let after = read_json(&file);
    assert_eq!(
        after["auths"]["registry.digitalocean.com"],
        json!({ "auth": AUTH }),
        "the old entry is replaced, not merged"
    );
    assert_eq!(without_do_entry(after), without_do_entry(before));
    for raw in [GHCR_ENTRY, HEADERS, NUMBERS] {
        assert!(text.contains(raw), "`{raw}` lost its bytes:\n{text}");
    }
    assert!(!text.contains("b2xkOm9sZA=="), "the old DO auth is gone");
    // Order is kept: the replaced entry stays where it was.
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("\"credsStore\"") < at("\"auths\""));
    assert!(at("\"auths\"") < at("\"HttpHeaders\""));
    assert!(at("\"ghcr.io\"") < at("\"https://index.docker.io/v1/\""));
    assert!(at("\"https://index.docker.io/v1/\"") < at("\"registry.digitalocean.com\""));
    assert!(at("\"registry.digitalocean.com\"") < at("\"quay.io\""));
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600, "a world-readable file becomes private");
    assert_eq!(files_in(dir.path()), ["config.json"]);
}

#[test]
fn writing_twice_replaces_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    credentials("Zmlyc3Q6b25l")
        .write_docker_config(dir.path())
        .unwrap();
    let file = credentials(AUTH).write_docker_config(dir.path()).unwrap();
    assert_eq!(
        read_json(&file),
        json!({ "auths": { "registry.digitalocean.com": { "auth": AUTH } } })
    );
    assert_eq!(files_in(dir.path()), ["config.json"]);
}

#[test]
fn a_config_without_auths_gains_them_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(
        &file,
        r#"{ "credsStore": "pass", "detachKeys": "ctrl-e,e" }"#,
    )
    .unwrap();
    credentials(AUTH).write_docker_config(dir.path()).unwrap();
    assert_eq!(
        read_json(&file),
        json!({
            "credsStore": "pass",
            "detachKeys": "ctrl-e,e",
            "auths": { "registry.digitalocean.com": { "auth": AUTH } }
        })
    );
}

#[test]
fn logging_out_removes_only_digitaloceans_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, THEIR_CONFIG).unwrap();
    let before = read_json(&file);

    assert_eq!(merge_docker_config(dir.path(), None).unwrap(), file);

    let text = std::fs::read_to_string(&file).unwrap();
    let after = read_json(&file);
    assert!(
        after["auths"].get("registry.digitalocean.com").is_none(),
        "{text}"
    );
    assert_eq!(after, without_do_entry(before));
    for raw in [GHCR_ENTRY, HEADERS, NUMBERS] {
        assert!(text.contains(raw), "`{raw}` lost its bytes:\n{text}");
    }
    assert_eq!(files_in(dir.path()), ["config.json"]);
}

#[test]
fn logging_out_when_logged_out_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    let theirs = r#"{"auths":{"ghcr.io":{"auth":"Z2hjcjp0b2tlbg=="}}}"#;
    std::fs::write(&file, theirs).unwrap();
    merge_docker_config(dir.path(), None).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), theirs);

    let empty = tempfile::tempdir().unwrap();
    merge_docker_config(empty.path(), None).unwrap();
    assert!(files_in(empty.path()).is_empty(), "no file is created");
}

#[test]
fn a_malformed_config_is_an_error_naming_the_file_and_is_left_untouched() {
    let cases = [
        (
            "truncated JSON",
            r#"{"auths": {"ghcr.io": {"auth": "Z2hj"#,
            "is not a JSON object",
        ),
        (
            "a top-level array",
            r#"[{"auths": {}}]"#,
            "is not a JSON object",
        ),
        ("a top-level string", r#""auths""#, "is not a JSON object"),
        (
            "`auths` being a string",
            r#"{"auths": "ghcr.io", "credsStore": "desktop"}"#,
            "`auths` in",
        ),
        (
            "`auths` being an array",
            r#"{"auths": [1, 2]}"#,
            "`auths` in",
        ),
    ];
    for (what, content, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, content).unwrap();
        #[cfg(unix)]
        set_mode(&file, 0o644);

        for attempt in [
            credentials(AUTH).write_docker_config(dir.path()),
            merge_docker_config(dir.path(), None),
        ] {
            let err = attempt.expect_err(what);
            let message = err.to_string();
            assert!(matches!(err, Error::Config(_)), "{what}: {err:?}");
            assert!(
                message.contains(&file.display().to_string()),
                "{what}: the error names the file: {message}"
            );
            assert!(message.contains(says), "{what}: {message}");
            assert!(message.contains("left untouched"), "{what}: {message}");
            assert!(!message.contains('\n'), "{what}: one line: {message}");
        }
        assert_eq!(
            std::fs::read(&file).unwrap(),
            content.as_bytes(),
            "{what}: the file is byte-for-byte untouched"
        );
        #[cfg(unix)]
        assert_eq!(mode(&file), 0o644, "{what}: its mode too");
        assert_eq!(
            files_in(dir.path()),
            ["config.json"],
            "{what}: nothing left"
        );
    }
}

#[test]
fn an_unreadable_config_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // config.json is a folder: neither readable nor replaceable.
    std::fs::create_dir(dir.path().join("config.json")).unwrap();
    let err = credentials(AUTH)
        .write_docker_config(dir.path())
        .expect_err("a folder is not a config file");
    assert!(
        err.to_string()
            .contains(&dir.path().join("config.json").display().to_string()),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["config.json"], "nothing left");
}

#[test]
fn a_whitespace_only_config_counts_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, " \n\t\n").unwrap();
    credentials(AUTH).write_docker_config(dir.path()).unwrap();
    assert_eq!(
        read_json(&file),
        json!({ "auths": { "registry.digitalocean.com": { "auth": AUTH } } })
    );
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

#[test]
fn the_kubernetes_secret_holds_a_docker_config_for_the_registry_host() {
    let name = default_secret_name(&acme());
    assert_eq!(name, "registry-acme");
    let yaml = credentials(AUTH)
        .kubernetes_secret(&name, "default")
        .unwrap();

    let lines: Vec<&str> = yaml.lines().collect();
    for expected in [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: registry-acme",
        "  namespace: default",
        "type: kubernetes.io/dockerconfigjson",
        "data:",
    ] {
        assert!(lines.contains(&expected), "`{expected}` missing:\n{yaml}");
    }
    let data_lines: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("  .dockerconfigjson: "))
        .collect();
    assert_eq!(
        data_lines.len(),
        1,
        "one .dockerconfigjson under data:\n{yaml}"
    );
    let at = |line: &str| lines.iter().position(|l| *l == line).unwrap();
    assert!(
        at("data:")
            < lines
                .iter()
                .position(|l| l.contains(".dockerconfigjson"))
                .unwrap()
    );
    assert!(at("metadata:") < at("  name: registry-acme"));

    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data_lines[0].trim())
        .expect(".dockerconfigjson is base64");
    let config: Value = serde_json::from_slice(&decoded).expect("it decodes to JSON");
    assert_eq!(
        config,
        json!({ "auths": { "registry.digitalocean.com": { "auth": AUTH } } })
    );

    // And it is YAML a Kubernetes client reads the same way.
    let parsed: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(parsed["metadata"]["name"].as_str(), Some("registry-acme"));
    assert_eq!(
        parsed["data"][".dockerconfigjson"].as_str(),
        Some(data_lines[0].trim())
    );
}

#[test]
fn invalid_kubernetes_names_are_refused_with_the_rule() {
    let credentials = credentials(AUTH);
    let long_name = "a".repeat(254);
    for name in [
        "",
        "Registry-Acme",
        "-registry",
        "registry-",
        "registry_acme",
        "registry acme",
        "registry-acme\nnamespace: kube-system",
        long_name.as_str(),
    ] {
        let err = credentials
            .kubernetes_secret(name, "default")
            .expect_err(name);
        let message = err.to_string();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            message.starts_with("invalid Kubernetes Secret name"),
            "{message}"
        );
        assert!(
            message.contains("at most 253 lowercase letters"),
            "{message}"
        );
    }
    for namespace in ["", "kube.system", "Default", "ns_1", &"n".repeat(64)] {
        let err = credentials
            .kubernetes_secret("registry-acme", namespace)
            .expect_err(namespace);
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("invalid Kubernetes namespace `{namespace}`")),
            "{message}"
        );
        assert!(
            message.contains("at most 63 lowercase letters"),
            "{message}"
        );
    }
    // The limits themselves are allowed; Secret names may hold dots.
    assert!(
        credentials
            .kubernetes_secret(&"a".repeat(253), &"n".repeat(63))
            .is_ok()
    );
    assert!(
        credentials
            .kubernetes_secret("registry.acme", "kube-system")
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn debug_shows_nothing_of_the_credentials() {
    let server = credentials_server("/v2/registries/acme/docker-credentials").await;
    let credentials = direct_client(&server)
        .docker_credentials(&acme())
        .send()
        .await
        .unwrap();
    for shown in [format!("{credentials:?}"), format!("{credentials:#?}")] {
        assert!(!shown.contains(AUTH), "{shown}");
        assert!(!shown.contains(PASSWORD), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
    // The secret is still there for those who ask for it.
    assert!(credentials.docker_config_json().contains(AUTH));
}

/// Dotfile managers keep `~/.docker/config.json` as a link into a repository; Docker's own
/// `config.Save` follows the link and rewrites its target.
#[cfg(unix)]
#[test]
fn a_linked_config_is_written_through_its_link() {
    let root = tempfile::tempdir().unwrap();
    let dotfiles = root.path().join("dotfiles");
    let docker = root.path().join(".docker");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::create_dir_all(&docker).unwrap();
    let target = dotfiles.join("docker-config.json");
    std::fs::write(
        &target,
        r#"{"auths":{"ghcr.io":{"auth":"Z2hjcjp0b2tlbg=="}}}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, docker.join("config.json")).unwrap();

    credentials(AUTH).write_docker_config(&docker).unwrap();

    let link = std::fs::symlink_metadata(docker.join("config.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is kept");
    let config = read_json(&target);
    assert_eq!(config["auths"]["registry.digitalocean.com"]["auth"], AUTH);
    assert_eq!(config["auths"]["ghcr.io"]["auth"], "Z2hjcjp0b2tlbg==");
}
