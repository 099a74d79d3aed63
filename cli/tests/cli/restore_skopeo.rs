//! Prune, then restore, proven with real tools: skopeo pushes a multi-arch release (an OCI
//! index of two platforms and an attestation manifest), a plain image and a rebuilt twin of a
//! kept platform image (the same config and layer, another annotation); after the restore,
//! `skopeo copy --all` pulls every image whole, with its original digests and tags.
//!
//! - Against the embedded DOCR: `docr prune --apply` deletes and journals them, `docr restore`
//!   pushes them back.
//! - Against Debian's `docker-registry` (the CNCF distribution registry 2.8, deletes
//!   enabled): `docr prune` needs DigitalOcean's API to list and delete, which distribution
//!   has not; so the manifests are read from the registry and journaled by the library (the
//!   calls `prune --apply` makes: `RegistryReader::manifest`, then
//!   `Journal::record_manifest`) and deleted with `skopeo delete`, then `docr restore` runs
//!   as it does against DigitalOcean. Then they are deleted again, the registry's own
//!   `garbage-collect` runs, and `docr restore` names exactly the two images whose blobs it
//!   freed, pushes the twin (its blobs are the kept image's) and nothing else.
//!
//! Without skopeo or docker-registry these tests fail, saying what to install, unless
//! `DOCR_SKIP_REAL_TOOLS=1`.

use super::confirm::tools_present;
use super::*;
use docr::prelude::*;
use docr::undo::{Journal, JournaledManifest};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

const DISTRIBUTION: &str = "docker-registry";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// An OCI layout of one image (an index or a manifest), as skopeo reads it.
struct Layout {
    dir: PathBuf,
    tag: &'static str,
    /// The top manifest's digest and bytes.
    digest: String,
    bytes: Vec<u8>,
    /// An index's children, in order.
    children: Vec<String>,
}

/// Writes `bytes` as a blob of the layout in `dir`; its descriptor.
fn blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout folder");
    let digest = sha256(bytes);
    std::fs::write(blobs.join(&digest["sha256:".len()..]), bytes).expect("blob");
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// An image manifest of a config naming `platform` and one layer, with `annotations`.
fn manifest(dir: &Path, platform: (&str, &str), layer: &[u8], annotations: Value) -> Value {
    let config = json!({"architecture": platform.1, "os": platform.0, "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}});
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": blob(dir, OCI_CONFIG, config.to_string().as_bytes()),
        "layers": [blob(dir, OCI_LAYER, layer)],
    });
    if !annotations.is_null() {
        manifest["annotations"] = annotations;
    }
    blob(dir, OCI_MANIFEST, manifest.to_string().as_bytes())
}

impl Layout {
    fn write(root: &Path, tag: &'static str, top: Value, children: Vec<String>) -> Self {
        let dir = root.join(tag);
        let digest = text(&top["digest"]);
        let bytes = std::fs::read(dir.join("blobs/sha256").join(&digest["sha256:".len()..]))
            .expect("the top blob");
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]});
        std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        Self {
            dir,
            tag,
            digest,
            bytes,
            children,
        }
    }

    /// An index of amd64 and arm64 images made from `name`, with an attestation manifest for
    /// amd64 when `attested`.
    fn index(root: &Path, tag: &'static str, name: &str, attested: bool) -> Self {
        let dir = root.join(tag);
        let mut amd64 = manifest(
            &dir,
            ("linux", "amd64"),
            format!("{name} amd64").as_bytes(),
            Value::Null,
        );
        amd64["platform"] = json!({"architecture": "amd64", "os": "linux"});
        let mut arm64 = manifest(
            &dir,
            ("linux", "arm64"),
            format!("{name} arm64").as_bytes(),
            Value::Null,
        );
        arm64["platform"] = json!({"architecture": "arm64", "os": "linux"});
        let mut children = vec![amd64.clone(), arm64];
        if attested {
            let statement = json!({"_type": "https://in-toto.io/Statement/v0.1", "subject": name});
            let mut attestation = manifest(
                &dir,
                ("unknown", "unknown"),
                statement.to_string().as_bytes(),
                Value::Null,
            );
            attestation["platform"] = json!({"architecture": "unknown", "os": "unknown"});
            attestation["annotations"] = json!({
                "vnd.docker.reference.digest": amd64["digest"],
                "vnd.docker.reference.type": "attestation-manifest",
            });
            children.push(attestation);
        }
        let digests = children.iter().map(|c| text(&c["digest"])).collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children});
        let top = blob(&dir, OCI_INDEX, index.to_string().as_bytes());
        Self::write(root, tag, top, digests)
    }

    /// One linux/amd64 image of a layer made from `name`, with `annotations`.
    fn image(root: &Path, tag: &'static str, name: &str, annotations: Value) -> Self {
        let dir = root.join(tag);
        let layer = format!("{name} amd64");
        let top = manifest(&dir, ("linux", "amd64"), layer.as_bytes(), annotations);
        Self::write(root, tag, top, Vec::new())
    }

    /// Every digest of its closure.
    fn closure(&self) -> Vec<String> {
        std::iter::once(self.digest.clone())
            .chain(self.children.iter().cloned())
            .collect()
    }
}

/// `0.1` (plain), `0.2` (the twin of `2.0`'s amd64 image), `1.0` (a release with an
/// attestation) and `2.0` (the newest release, kept), pushed in that order.
struct Images {
    _root: tempfile::TempDir,
    plain: Layout,
    twin: Layout,
    release: Layout,
    kept: Layout,
}

impl Images {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("a temporary folder");
        let plain = Layout::image(root.path(), "0.1", "plain", Value::Null);
        let twin = Layout::image(
            root.path(),
            "0.2",
            "kept",
            json!({"org.example.rebuilt": "yes"}),
        );
        let release = Layout::index(root.path(), "1.0", "release", true);
        let kept = Layout::index(root.path(), "2.0", "kept", false);
        Self {
            _root: root,
            plain,
            twin,
            release,
            kept,
        }
    }

    fn all(&self) -> [&Layout; 4] {
        [&self.plain, &self.twin, &self.release, &self.kept]
    }

    /// What `--keep-last 1` deletes: all but `2.0`.
    fn pruned(&self) -> [&Layout; 3] {
        [&self.plain, &self.twin, &self.release]
    }
}

/// skopeo with a HOME of its own, against one registry host, with an auth file or none.
struct Skopeo {
    home: tempfile::TempDir,
    host: String,
    auth_file: Option<PathBuf>,
}

impl Skopeo {
    fn new(host: String, auth: Option<&str>) -> Self {
        let home = tempfile::tempdir().expect("a temporary folder");
        let auth_file = auth.map(|json| {
            let path = home.path().join("auth.json");
            std::fs::write(&path, json).expect("auth.json");
            path
        });
        Self {
            home,
            host,
            auth_file,
        }
    }

    fn reference(&self, reference: &str) -> String {
        let separator = if reference.starts_with("sha256:") {
            "@"
        } else {
            ":"
        };
        format!("docker://{}/acme/app{separator}{reference}", self.host)
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new("skopeo");
        command
            .args(args)
            .env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("TMPDIR", self.home.path())
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::null());
        match &self.auth_file {
            Some(file) => command.env("REGISTRY_AUTH_FILE", file),
            None => command.env("REGISTRY_AUTH_FILE", self.home.path().join("none.json")),
        };
        tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the blocking task ends")
            .expect("skopeo runs")
    }

    async fn ok(&self, args: &[&str]) -> Vec<u8> {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "skopeo {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// Pushes each layout under its tag, every manifest with it, digests as they are.
    async fn push(&self, images: &[&Layout]) {
        for layout in images {
            let source = format!("oci:{}", layout.dir.display());
            let target = self.reference(layout.tag);
            self.ok(&[
                "copy",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
                &source,
                &target,
            ])
            .await;
        }
    }

    /// Whether the registry serves `reference`.
    async fn serves(&self, reference: &str) -> bool {
        let reference = self.reference(reference);
        self.run(&["inspect", "--raw", "--tls-verify=false", &reference])
            .await
            .status
            .success()
    }

    async fn tags(&self) -> Vec<String> {
        let repository = format!("docker://{}/acme/app", self.host);
        let listed: Value = serde_json::from_slice(
            &self
                .ok(&["list-tags", "--tls-verify=false", &repository])
                .await,
        )
        .expect("JSON");
        let mut tags = strings(&listed["Tags"]);
        tags.sort();
        tags
    }

    /// `skopeo copy --all` of each image to a layout of its own: every manifest and blob
    /// pulled, digests checked by skopeo; the image's index in the pulled layout must name
    /// the original digest, its children must be there, and the registry must serve the
    /// original bytes under the tag.
    async fn pulls_whole(&self, images: &[&Layout]) {
        let into = tempfile::tempdir().expect("a temporary folder");
        for layout in images {
            let dir = into.path().join(layout.tag);
            let target = format!("oci:{}", dir.display());
            let source = self.reference(layout.tag);
            self.ok(&[
                "copy",
                "--all",
                "--preserve-digests",
                "--src-tls-verify=false",
                &source,
                &target,
            ])
            .await;
            let pulled = read_json(&dir.join("index.json"));
            assert_eq!(
                text(&pulled["manifests"][0]["digest"]),
                layout.digest,
                "{} pulled with its original digest",
                layout.tag
            );
            for digest in layout.closure() {
                let path = dir.join("blobs/sha256").join(&digest["sha256:".len()..]);
                assert!(path.exists(), "{}: {digest} pulled", layout.tag);
            }
            let raw = self
                .ok(&["inspect", "--raw", "--tls-verify=false", &source])
                .await;
            assert_eq!(raw, layout.bytes, "{}: the original bytes", layout.tag);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_pulls_every_image_whole_after_prune_and_restore_on_the_embedded_docr() {
    if !tools_present(&["skopeo"]) {
        return;
    }
    let fake = start(builder().registry(RegistrySeed::new("acme"))).await;
    let docr = Docr::for_fake(&fake);
    let auth = docr
        .ok("docker-config acme --read-write --expiry 1h")
        .await
        .stdout;
    let skopeo = Skopeo::new(fake.registry_host(), Some(&auth));
    let images = Images::new();
    skopeo.push(&images.all()).await;
    assert_eq!(skopeo.tags().await, ["0.1", "0.2", "1.0", "2.0"]);

    let dir = tempfile::tempdir().expect("a temporary folder");
    let journal = dir.path().join("prune.jsonl");
    let applied = docr
        .json(&format!(
            "prune acme app --keep-last 1 --apply --journal {}",
            journal.display()
        ))
        .await;
    let pruned: BTreeSet<String> = images.pruned().iter().flat_map(|l| l.closure()).collect();
    let planned: BTreeSet<String> = super::planned(&applied["plan"])
        .into_iter()
        .map(|(_, digest)| digest)
        .collect();
    assert_eq!(planned, pruned);
    for layout in images.pruned() {
        assert!(!skopeo.serves(layout.tag).await, "{} deleted", layout.tag);
    }
    assert_eq!(skopeo.tags().await, ["2.0"]);

    docr.ok(&format!("restore {}", journal.display())).await;
    assert_eq!(skopeo.tags().await, ["0.1", "0.2", "1.0", "2.0"]);
    skopeo.pulls_whole(&images.all()).await;
}

/// Debian's docker-registry on a loopback port, without auth, deletes enabled; killed when
/// dropped.
struct Distribution {
    child: std::process::Child,
    host: String,
    config: PathBuf,
}

impl Distribution {
    async fn start(dir: &Path, port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(|| {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
        });
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
                dir.join("storage").display()
            ),
        )
        .expect("config.yml");
        let child = Command::new(DISTRIBUTION)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        // Killed when dropped, a failed start included.
        let distribution = Self {
            child,
            host,
            config,
        };
        let url = format!("http://{}/v2/", distribution.host);
        for _ in 0..200 {
            if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
                return distribution;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("docker-registry did not start on {}", distribution.host);
    }

    fn port(&self) -> u16 {
        self.host
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    /// Stops it, collects its garbage (its own `garbage-collect`), starts it again.
    async fn collect_garbage(mut self, dir: &Path) -> Self {
        let port = self.port();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let config = self.config.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(DISTRIBUTION)
                .arg("garbage-collect")
                .arg(&config)
                .output()
        })
        .await
        .expect("the blocking task ends")
        .expect("garbage-collect runs");
        assert!(
            output.status.success(),
            "garbage-collect: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self::start(dir, Some(port)).await
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Journals each image of `images` as `prune --apply` does (its manifests read from the
/// registry, the root first), then deletes it with `skopeo delete`, index first.
async fn journal_and_delete(
    client: &Client,
    skopeo: &Skopeo,
    journal: &Journal,
    images: &[&Layout],
) {
    let registry: RegistryName = "acme".parse().expect("a name");
    let repository: RepositoryName = "app".parse().expect("a name");
    let reader = client.registry_reader(&registry);
    for layout in images {
        let root: docr::Digest = layout.digest.parse().expect("a digest");
        for (digest, tags) in std::iter::once((&layout.digest, vec![layout.tag.to_string()]))
            .chain(layout.children.iter().map(|c| (c, Vec::new())))
        {
            let fetched = reader
                .manifest(&repository, digest)
                .await
                .expect("read")
                .expect("there");
            let record = JournaledManifest::new(
                repository.clone(),
                fetched.structure.media_type,
                fetched.bytes,
                tags,
                Some(root.clone()),
            );
            assert_eq!(record.digest.as_str(), digest.as_str());
            journal.record_manifest(&record).expect("recorded");
        }
        for digest in layout.closure() {
            let reference = skopeo.reference(&digest);
            skopeo
                .ok(&["delete", "--tls-verify=false", &reference])
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_pulls_every_image_whole_after_restore_on_docker_registry_and_a_collection_loses_exactly_two()
 {
    if !tools_present(&["skopeo", DISTRIBUTION]) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let distribution = Distribution::start(dir.path(), None).await;
    let skopeo = Skopeo::new(distribution.host.clone(), None);
    let images = Images::new();
    skopeo.push(&images.all()).await;

    // docr against the registry alone: no API is ever asked (distribution asks for no
    // credentials), so its URL points nowhere.
    let docr = Docr {
        registry_url: Some(format!("http://{}", distribution.host)),
        ..Docr::new("http://127.0.0.1:9")
    };
    let client = ClientBuilder::new()
        .token(TOKEN)
        .api_url("http://127.0.0.1:9")
        .registry_url(format!("http://{}", distribution.host))
        .build()
        .expect("a client");
    let file = dir.path().join("journal.jsonl");
    let journal = Journal::create(&file, &"acme".parse().expect("a name")).expect("a journal");
    journal_and_delete(&client, &skopeo, &journal, &images.pruned()).await;
    assert_eq!(skopeo.tags().await, ["2.0"]);
    for layout in images.pruned() {
        for digest in layout.closure() {
            assert!(!skopeo.serves(&digest).await, "{digest} deleted");
        }
    }

    let restored = docr.ok(&format!("restore {}", file.display())).await;
    assert!(
        restored
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("restored 3 images, 0 already there, 0 lost")),
        "{}",
        restored.stdout
    );
    assert_eq!(skopeo.tags().await, ["0.1", "0.2", "1.0", "2.0"]);
    skopeo.pulls_whole(&images.all()).await;

    // Deleted again, then the registry's own garbage collection: the twin's blobs are the
    // kept image's, the others' are freed.
    let again = dir.path().join("again.jsonl");
    let journal = Journal::create(&again, &"acme".parse().expect("a name")).expect("a journal");
    journal_and_delete(&client, &skopeo, &journal, &images.pruned()).await;
    let distribution = distribution.collect_garbage(dir.path()).await;
    let run = docr.run(&format!("restore {}", again.display())).await;
    assert_eq!(run.status.code(), Some(3), "{}{}", run.stdout, run.stderr);
    let lost: Vec<String> = [&images.plain, &images.release]
        .iter()
        .map(|l| format!("app:{}@{}", l.tag, l.digest))
        .collect();
    for (line, name) in run
        .lines()
        .iter()
        .filter(|l| l.starts_with("lost "))
        .zip(&lost)
    {
        assert!(
            line.starts_with(&format!("lost {name}: gone: blob ")),
            "{line}"
        );
    }
    assert_eq!(
        run.lines()
            .iter()
            .filter(|l| l.starts_with("lost "))
            .count(),
        2,
        "{}",
        run.stdout
    );
    assert!(
        run.lines().contains(
            &format!(
                "restored app:0.2@{}: 1 of 1 manifests pushed, tags 0.2",
                images.twin.digest
            )
            .as_str()
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr.lines().last(),
        Some(format!(
            "docr: 2 images lost (a garbage collection freed their blobs; nothing of them was \
             pushed): {}",
            lost.join(", ")
        ))
        .as_deref()
    );
    assert_eq!(skopeo.tags().await, ["0.2", "2.0"]);
    for layout in [&images.plain, &images.release] {
        for digest in layout.closure() {
            assert!(!skopeo.serves(&digest).await, "{digest} not pushed");
        }
    }
    skopeo.pulls_whole(&[&images.twin, &images.kept]).await;
    drop(distribution);
}
