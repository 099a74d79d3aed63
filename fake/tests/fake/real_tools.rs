//! The registry side against real tools from Debian: `skopeo` pushes a multi-arch OCI layout
//! (an index of two platform images and a buildx-style attestation manifest) with the
//! credentials the docker-credentials call issued, reads it back, lists its tags and deletes
//! it; and the same script runs against Debian's `docker-registry` (the CNCF distribution
//! registry 2.8, no auth), the answers compared step by step.
//!
//! Differences from docker-registry, none of which the script sees:
//! - auth: the fake requires DOCR's Bearer token from the API's `/v2/registry/auth`; this
//!   docker-registry runs without auth.
//! - blobs are stored per registry (as DOCR counts storage), so any repository of the registry
//!   reads a stored blob and a mount from any repository of the registry succeeds; distribution
//!   answers `BLOB_UNKNOWN` for a blob never linked to the repository.
//! - a manifest read without `Accept` gets the manifest as stored; distribution 2.8 would try a
//!   schema 1 conversion.
//! - error messages: the fake names the reference (`manifest unknown: 1.0`), distribution
//!   says `manifest unknown`; the codes are the same.
//! - the fake serves the OCI 1.1 referrers API; distribution 2.8 answers 404 there (the fake
//!   does too with `referrers_api(false)`).
//!
//! Without `skopeo` or `docker-registry` these tests fail, saying what to install, unless
//! `DOCR_SKIP_REAL_TOOLS=1`.

use crate::support::registry::{OCI_INDEX, OCI_MANIFEST, credentials, sha256};
use crate::support::tools::{self, DISTRIBUTION, TempDir};
use docr_fake::{FakeDocr, RegistrySeed};
use serde_json::json;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Writes `bytes` as a blob of the layout; its descriptor.
fn blob(dir: &Path, media_type: &str, bytes: &[u8]) -> serde_json::Value {
    let digest = sha256(bytes);
    let path = dir
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    std::fs::write(path, bytes).unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

fn image(dir: &Path, os: &str, arch: &str, layer_type: &str, layer: &[u8]) -> serde_json::Value {
    let config = json!({"architecture": arch, "os": os, "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}});
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": blob(dir, "application/vnd.oci.image.config.v1+json", config.to_string().as_bytes()),
        "layers": [blob(dir, layer_type, layer)],
    });
    blob(dir, OCI_MANIFEST, manifest.to_string().as_bytes())
}

/// A multi-arch OCI layout: an index of linux/amd64, linux/arm64 and an attestation manifest
/// for the amd64 image. Its index's bytes.
fn layout(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let tar = "application/vnd.oci.image.layer.v1.tar";
    let mut amd64 = image(dir, "linux", "amd64", tar, b"amd64 layer");
    amd64["platform"] = json!({"architecture": "amd64", "os": "linux"});
    let mut arm64 = image(dir, "linux", "arm64", tar, b"arm64 layer");
    arm64["platform"] = json!({"architecture": "arm64", "os": "linux"});
    let statement = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2"});
    let mut attestation = image(
        dir,
        "unknown",
        "unknown",
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
    );
    attestation["platform"] = json!({"architecture": "unknown", "os": "unknown"});
    attestation["annotations"] = json!({
        "vnd.docker.reference.digest": amd64["digest"],
        "vnd.docker.reference.type": "attestation-manifest",
    });
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd64, arm64, attestation]});
    let bytes = index.to_string().into_bytes();
    let mut top = blob(dir, OCI_INDEX, &bytes);
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "1.0"});
    let layout_index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]});
    std::fs::write(dir.join("index.json"), layout_index.to_string()).unwrap();
    bytes
}

/// One step of the script: whether skopeo succeeded, and its output with the host replaced.
type Step = (&'static str, bool, String);

fn skopeo(host: &str, step: &'static str, args: &[&str]) -> Step {
    let output = Command::new("skopeo")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).replace(host, "HOST");
    if !output.status.success() {
        eprintln!("{step}: {}", String::from_utf8_lossy(&output.stderr));
    }
    (step, output.status.success(), stdout)
}

/// The script: push the layout, read the index and a child, list tags, delete, read again.
fn script(host: &str, layout: &Path, creds: Option<&str>, child: &str) -> Vec<Step> {
    let image = format!("docker://{host}/acme/app:1.0");
    let child = format!("docker://{host}/acme/app@{child}");
    let repository = format!("docker://{host}/acme/app");
    let source = format!("oci:{}", layout.display());
    fn read(reference: &str) -> Vec<&str> {
        vec!["inspect", "--raw", "--tls-verify=false", reference]
    }
    let copy = [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &source,
        &image,
    ];
    let steps = [
        ("copy", copy.to_vec(), "--dest-creds"),
        ("inspect index", read(&image), "--creds"),
        ("inspect child", read(&child), "--creds"),
        (
            "list tags",
            vec!["list-tags", "--tls-verify=false", &repository],
            "--creds",
        ),
        (
            "delete",
            vec!["delete", "--tls-verify=false", &image],
            "--creds",
        ),
        ("inspect deleted", read(&image), "--creds"),
        ("inspect child after", read(&child), "--creds"),
    ];
    steps
        .into_iter()
        .map(|(step, mut args, flag)| {
            args.extend(creds.map(|c| [flag, c]).into_iter().flatten());
            skopeo(host, step, &args)
        })
        .collect()
}

/// A docker-registry on a free loopback port, without auth, killed when dropped.
struct Distribution {
    child: Child,
    host: String,
}

impl Distribution {
    async fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.join("storage").display()
        );
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(DISTRIBUTION)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let distribution = Self { child, host };
        let url = format!("http://{}/v2/", distribution.host);
        for _ in 0..100 {
            if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
                return distribution;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("docker-registry did not start on {}", distribution.host);
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_sees_the_fake_as_it_sees_docker_registry() {
    if !tools::present(true) {
        return;
    }
    let dir = TempDir::new("skopeo");
    let layout_dir = dir.0.join("layout");
    let index = layout(&layout_dir);
    let parsed: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let child = parsed["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();

    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme"))
        .start()
        .await
        .unwrap();
    let creds = credentials(&fake, "acme", true, 0).await;
    let host = fake.registry_host();
    let (layout_path, fake_host) = (layout_dir.clone(), host.clone());
    let on_fake =
        tokio::task::spawn_blocking(move || script(&fake_host, &layout_path, Some(&creds), &child))
            .await
            .unwrap();

    let distribution = Distribution::start(&dir.0).await;
    let (layout_path, registry_host) = (layout_dir.clone(), distribution.host.clone());
    let child = parsed["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let on_distribution =
        tokio::task::spawn_blocking(move || script(&registry_host, &layout_path, None, &child))
            .await
            .unwrap();
    drop(distribution);

    let successes: Vec<(&str, bool)> = on_fake.iter().map(|(s, ok, _)| (*s, *ok)).collect();
    assert_eq!(
        successes,
        [
            ("copy", true),
            ("inspect index", true),
            ("inspect child", true),
            ("list tags", true),
            ("delete", true),
            ("inspect deleted", false),
            ("inspect child after", true),
        ]
    );
    assert_eq!(
        on_fake[1].2.as_bytes(),
        index.as_slice(),
        "the index comes back byte for byte"
    );
    let tags: serde_json::Value = serde_json::from_str(&on_fake[3].2).unwrap();
    assert_eq!(tags["Tags"], json!(["1.0"]));
    for (fake_step, distribution_step) in on_fake.iter().zip(&on_distribution) {
        assert_eq!(
            fake_step, distribution_step,
            "the fake and docker-registry differ"
        );
    }
    // What skopeo pushed is in the API's listing: the index tagged, its three children not.
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").unwrap();
    assert_eq!(
        app.manifests.len(),
        3,
        "the index is deleted, its children stay"
    );
    assert!(app.manifests.iter().all(|m| m.tags.is_empty()));
}
