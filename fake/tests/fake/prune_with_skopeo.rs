//! Image-aware pruning against what real `skopeo` pushes and pulls (issue 10).
//!
//! skopeo pushes, with credentials issued through docr, buildx-shaped images (an OCI index of
//! two platforms, each with its attestation manifest) and a plain one; a release candidate
//! shares its platform manifests with the release. docr plans and applies a policy that keeps
//! release tags and deletes the rest, a garbage collection frees the blobs, and skopeo then
//! pulls every kept image whole (every platform, attestation and blob) while every deleted
//! manifest answers `manifest unknown`.
//!
//! Without `skopeo` this test fails, saying what to install, unless `DOCR_SKIP_REAL_TOOLS=1`.

use crate::support::collect;
use crate::support::registry::{OCI_INDEX, OCI_MANIFEST, sha256};
use crate::support::tools::{self, TempDir};
use base64::Engine;
use docr::prelude::*;
use docr::{
    credentials::CredentialsExt, garbage_collection::GcType, garbage_collection::PollSchedule,
    prune::RetentionPolicy,
};
use docr_fake::{FakeDocr, RegistrySeed};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// An OCI layout being written: every image tagged in `index.json` by a ref name.
struct Layout {
    dir: PathBuf,
    refs: Vec<Value>,
}

/// A manifest of the layout: its descriptor and every digest of its closure (itself, its
/// children and every blob), which a complete pull must bring back.
#[derive(Clone)]
struct Pushed {
    descriptor: Value,
    closure: BTreeSet<String>,
}

impl Pushed {
    fn digest(&self) -> String {
        self.descriptor["digest"].as_str().unwrap().to_string()
    }
}

impl Layout {
    fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Self {
            dir,
            refs: Vec::new(),
        }
    }

    /// Writes a blob; its descriptor.
    fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = sha256(bytes);
        let path = self
            .dir
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        std::fs::write(path, bytes).unwrap();
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// An image manifest of a config and one layer, both made from `label`.
    fn manifest(&self, os: &str, arch: &str, layer_type: &str, layer: &[u8]) -> Pushed {
        let config = json!({"architecture": arch, "os": os, "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}});
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let layer = self.blob(layer_type, layer);
        let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]});
        let descriptor = self.blob(OCI_MANIFEST, manifest.to_string().as_bytes());
        let closure = [&descriptor, &config, &layer]
            .iter()
            .map(|d| d["digest"].as_str().unwrap().to_string())
            .collect();
        Pushed {
            descriptor,
            closure,
        }
    }

    /// A linux image whose layer is made from `label`, with its platform.
    fn platform(&self, arch: &str, label: &str) -> Pushed {
        let tar = "application/vnd.oci.image.layer.v1.tar";
        let mut image = self.manifest("linux", arch, tar, format!("{label} {arch}").as_bytes());
        image.descriptor["platform"] = json!({"architecture": arch, "os": "linux"});
        image
    }

    /// A buildx-style attestation manifest for `image`.
    fn attestation(&self, image: &Pushed) -> Pushed {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"digest": {"sha256": image.digest().trim_start_matches("sha256:")}}],
        });
        let mut attestation = self.manifest(
            "unknown",
            "unknown",
            "application/vnd.in-toto+json",
            statement.to_string().as_bytes(),
        );
        attestation.descriptor["platform"] = json!({"architecture": "unknown", "os": "unknown"});
        attestation.descriptor["annotations"] = json!({
            "vnd.docker.reference.digest": image.digest(),
            "vnd.docker.reference.type": "attestation-manifest",
        });
        attestation
    }

    /// What `docker buildx build --platform linux/amd64,linux/arm64` writes: both platforms,
    /// each with its attestation.
    fn buildx_children(&self, label: &str) -> Vec<Pushed> {
        let amd64 = self.platform("amd64", label);
        let arm64 = self.platform("arm64", label);
        let (amd64_attestation, arm64_attestation) =
            (self.attestation(&amd64), self.attestation(&arm64));
        vec![amd64, arm64, amd64_attestation, arm64_attestation]
    }

    /// An index of `children`, told apart from others of the same children by `version`.
    fn index(&self, children: &[Pushed], version: &str) -> Pushed {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children.iter().map(|c| c.descriptor.clone()).collect::<Vec<_>>(),
            "annotations": {"org.opencontainers.image.version": version},
        });
        let descriptor = self.blob(OCI_INDEX, index.to_string().as_bytes());
        let mut closure: BTreeSet<String> =
            children.iter().flat_map(|c| c.closure.clone()).collect();
        closure.insert(descriptor["digest"].as_str().unwrap().to_string());
        Pushed {
            descriptor,
            closure,
        }
    }

    /// Names `image` `reference` in `index.json` (what `oci:DIR:REFERENCE` reads).
    fn tag(&mut self, image: &Pushed, reference: &str) {
        let mut entry = image.descriptor.clone();
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": reference});
        if let Some(map) = entry.as_object_mut() {
            map.remove("platform");
        }
        self.refs.push(entry);
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs});
        std::fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
    }
}

/// Runs skopeo off the runtime (the fake keeps serving on it).
async fn skopeo(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new("skopeo")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("skopeo runs")
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn assert_ran(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `user:password` for `registry`, as docr issues them (the one entry of the Docker config).
async fn credentials_through_docr(client: &Client, registry: &RegistryName) -> String {
    let credentials = client
        .docker_credentials(registry)
        .read_write(true)
        .send()
        .await
        .expect("credentials");
    let config: Value = serde_json::from_str(&credentials.docker_config_json()).unwrap();
    let auths = config["auths"].as_object().expect("auths");
    assert_eq!(auths.len(), 1, "{config}");
    let auth = auths.values().next().unwrap()["auth"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .expect("base64");
    String::from_utf8(decoded).unwrap()
}

/// The digests of every blob file of an OCI layout.
fn blobs_of(layout: &Path) -> BTreeSet<String> {
    std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pruned_registry_still_serves_every_kept_image_whole_to_skopeo() {
    if !tools::present(false) {
        return;
    }
    let dir = TempDir::new("prune-skopeo");
    let mut layout = Layout::new(dir.0.join("layout"));
    // 1.0 and its release candidate share every platform manifest and attestation.
    let release_children = layout.buildx_children("one");
    let release = layout.index(&release_children, "1.0");
    let candidate = layout.index(&release_children, "1.0-rc1");
    let two = layout.index(&layout.buildx_children("two"), "2.0");
    let old_children = layout.buildx_children("old");
    let old = layout.index(&old_children, "0.9");
    let plain = layout.manifest(
        "linux",
        "amd64",
        "application/vnd.oci.image.layer.v1.tar",
        b"a plain single-platform image",
    );
    for (image, reference) in [
        (&release, "1.0"),
        (&candidate, "1.0-rc1"),
        (&two, "2.0"),
        (&old, "old"),
        (&plain, "plain"),
    ] {
        layout.tag(image, reference);
    }

    let fake = FakeDocr::builder()
        .registry(RegistrySeed::new("acme"))
        .gc_step(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let acme: RegistryName = "acme".parse().unwrap();
    let creds = credentials_through_docr(&client, &acme).await;
    let host = fake.registry_host();
    for reference in ["1.0", "1.0-rc1", "2.0", "old", "plain"] {
        let pushed = skopeo(args(&[
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:{reference}", layout.dir.display()),
            &format!("docker://{host}/acme/app:{reference}"),
        ]))
        .await;
        assert_ran(&pushed, &format!("skopeo copy {reference}"));
    }
    // `old` and `plain` lose their tags: what is left of a moved or abandoned tag.
    for tag in ["old", "plain"] {
        client
            .registries_delete_repository_tag()
            .registry_name(&acme)
            .repository_name("app")
            .repository_tag(tag)
            .send()
            .await
            .expect("the tag is deleted");
    }
    let listed = fake.snapshot();
    let listed = listed.repository("acme", "app").unwrap();
    assert_eq!(listed.tags(), ["1.0", "1.0-rc1", "2.0"], "{listed:?}");
    assert_eq!(
        listed.manifests.len(),
        5 + 1 + 5 + 5 + 1,
        "every manifest pushed"
    );

    // Keep release tags; everything else (a candidate, untagged images) is beyond the newest 0.
    let policy = RetentionPolicy::new()
        .keep_last(0)
        .keep_tags_matching(r"\d+\.\d+")
        .unwrap()
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = client.plan_prune(&acme, &policy).send().await.unwrap();
    let app = &plan.repositories[0];
    assert!(app.blocked.is_empty(), "{:?}", app.blocked);
    let planned: BTreeSet<String> = plan.deletions().map(|d| d.digest.to_string()).collect();
    let manifests = |p: &Pushed| -> BTreeSet<String> {
        let listed: BTreeSet<String> = listed.manifests.iter().map(|m| m.digest.clone()).collect();
        p.closure.intersection(&listed).cloned().collect()
    };
    let kept: BTreeSet<String> = manifests(&release)
        .union(&manifests(&two))
        .cloned()
        .collect();
    assert_eq!(kept.len(), 10);
    assert!(
        planned.is_disjoint(&kept),
        "the plan deletes a child of a kept index: {:?}",
        planned.intersection(&kept).collect::<Vec<_>>()
    );
    let mut expected: BTreeSet<String> = manifests(&old);
    expected.insert(candidate.digest());
    expected.insert(plain.digest());
    assert_eq!(
        planned, expected,
        "the candidate's index alone, and each untagged image whole"
    );
    assert_eq!(plan.totals.images, 3);

    let report = client.apply_prune(&plan).send().await.unwrap();
    assert_eq!(
        (report.deleted(), report.skipped(), report.failed()),
        (7, 0, 0),
        "{:?}",
        report.items
    );
    let schedule = PollSchedule::default();
    let collected = collect(&client, &acme, GcType::UnreferencedBlobs, schedule).await;
    assert!(collected.blobs_deleted.unwrap_or(0) > 0, "{collected:?}");

    // Blobs only the deleted images held are gone; every blob of a kept image stays.
    let after = fake.snapshot();
    let stored: BTreeSet<String> = after
        .registry("acme")
        .unwrap()
        .blobs
        .iter()
        .map(|b| b.digest.clone())
        .collect();
    let kept_closures: BTreeSet<String> = release.closure.union(&two.closure).cloned().collect();
    let only_deleted: BTreeSet<String> = old
        .closure
        .union(&plain.closure)
        .filter(|d| !kept_closures.contains(*d) && !planned.contains(*d))
        .cloned()
        .collect();
    assert!(!only_deleted.is_empty());
    assert!(
        stored.is_disjoint(&only_deleted),
        "the collection left blobs"
    );

    for (reference, image) in [("1.0", &release), ("2.0", &two)] {
        let out = dir.0.join(format!("pulled-{reference}"));
        let pulled = skopeo(args(&[
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &format!("docker://{host}/acme/app:{reference}"),
            &format!("oci:{}:{reference}", out.display()),
        ]))
        .await;
        assert_ran(&pulled, &format!("skopeo copy from {reference}"));
        let index: Value =
            serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        assert_eq!(index["manifests"][0]["digest"], json!(image.digest()));
        assert_eq!(
            blobs_of(&out),
            image.closure,
            "{reference}: every platform, attestation and blob, nothing else"
        );
    }

    for deleted in &planned {
        let inspected = skopeo(args(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{host}/acme/app@{deleted}"),
        ]))
        .await;
        let stderr = String::from_utf8_lossy(&inspected.stderr);
        assert!(
            !inspected.status.success() && stderr.contains("manifest unknown"),
            "{deleted} is still served: {stderr}"
        );
    }
    let candidate_tag = skopeo(args(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{host}/acme/app:1.0-rc1"),
    ]))
    .await;
    assert!(
        !candidate_tag.status.success(),
        "the candidate's tag went with it"
    );
}
