//! `prune` against what a real client pushed: buildah builds tiny images FROM scratch and
//! pushes them to the embedded DOCR's registry, single manifests (`buildah push`) and manifest
//! lists with every member (`buildah manifest push --all`), with the credentials
//! `docr docker-config --read-write` printed; skopeo reads back what landed.
//!
//! - "Keep the newest N" counts tagged images only (finding 1): a CI job that re-pushes
//!   `latest` leaves each old `latest` untagged, index and children; those neither count
//!   towards N nor go without `--untagged`.
//! - The `docker manifest` workflow (finding 3): `1.0-amd64` and `1.0-arm64` pushed and tagged
//!   first, then a list `1.0` of exactly those, so each platform manifest is an image of its
//!   own and a member of an index at once. Pruning the release deletes all three.
//!
//! The fake stamps a manifest's `updated_at` with the wall clock on every push (a re-push of
//! known bytes too), so the push order below is the ranking, newest last pushed.
//!
//! buildah runs (as root) with the vfs storage driver and chroot isolation, its storage in a
//! folder of the test's own. Without buildah or skopeo these tests fail, saying what to
//! install, unless `DOCR_SKIP_REAL_TOOLS=1`.

use super::confirm::tools_present;
use super::*;
use std::path::{Path, PathBuf};
use std::process::Output;

const TOOLS: [&str; 2] = ["buildah", "skopeo"];
const REGISTRY: &str = "acme-archive";
const REPOSITORY: &str = "ci/app";
/// The platforms of every list here, in the list's order.
const PLATFORMS: [&str; 2] = ["amd64", "arm64"];

/// A manifest list as pushed: its digest and its children's, in the list's order.
struct PushedList {
    digest: String,
    children: Vec<String>,
}

impl PushedList {
    /// The list and its children: what deleting the list's image deletes.
    fn closure(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.digest).chain(&self.children)
    }
}

/// buildah and skopeo pushing to one fake's registry, with storage, a HOME and credentials of
/// their own.
struct Buildah {
    dir: tempfile::TempDir,
    host: String,
}

impl Buildah {
    /// For `fake`, with the read-write credentials `docr docker-config` prints.
    async fn new(fake: &FakeDocr, docr: &Docr) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let printed = docr
            .ok(&format!(
                "docker-config {REGISTRY} --read-write --expiry 1h"
            ))
            .await;
        std::fs::write(dir.path().join("auth.json"), &printed.stdout).expect("auth.json");
        std::fs::create_dir_all(dir.path().join("home")).expect("HOME");
        Self {
            dir,
            host: fake.registry_host(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn auth_file(&self) -> String {
        self.path("auth.json").display().to_string()
    }

    /// `tag` of the test's repository, as buildah and skopeo name it.
    fn reference(&self, tag: &str) -> String {
        format!("docker://{}/{REGISTRY}/{REPOSITORY}:{tag}", self.host)
    }

    /// `program ARGS` that reads no configuration of the machine's user.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let home = self.path("home");
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("TMPDIR", &home)
            .env("REGISTRY_AUTH_FILE", self.auth_file())
            .env("BUILDAH_ISOLATION", "chroot")
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::null());
        command
    }

    /// `buildah ARGS` on the test's own storage; it must succeed; its stdout, trimmed.
    async fn buildah(&self, args: &[&str]) -> String {
        let (root, runroot) = (self.path("root"), self.path("runroot"));
        let mut all = vec![
            "--root",
            root.to_str().expect("UTF-8"),
            "--runroot",
            runroot.to_str().expect("UTF-8"),
            "--storage-driver",
            "vfs",
        ];
        all.extend_from_slice(args);
        let output = output_of(self.command("buildah", &all)).await;
        assert!(
            output.status.success(),
            "buildah {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("UTF-8")
            .trim()
            .to_string()
    }

    async fn skopeo(&self, args: &[&str]) -> Output {
        output_of(self.command("skopeo", args)).await
    }

    /// Builds an image FROM scratch for `arch` holding one file, its own name: a build that
    /// no other makes. Its local name.
    async fn image(&self, name: &str, arch: &str) -> String {
        let container = self.buildah(&["from", "scratch"]).await;
        let file = self.path(name);
        std::fs::write(&file, name).expect("the image's file");
        let file = file.display().to_string();
        self.buildah(&["copy", &container, &file, "/content"]).await;
        let label = format!("test.build={name}");
        let platform = ["--os", "linux", "--arch", arch];
        let mut config = vec!["config", "--label", &label];
        config.extend_from_slice(&platform);
        config.push(&container);
        self.buildah(&config).await;
        self.buildah(&["commit", "--quiet", "--rm", &container, name])
            .await;
        name.to_string()
    }

    /// Pushes local image `name` as `tag`; the digest it landed as.
    async fn push(&self, name: &str, tag: &str) -> String {
        let digest_file = self.path(&format!("{tag}.digest"));
        let (auth, digests) = (self.auth_file(), digest_file.display().to_string());
        self.buildah(&[
            "push",
            "--quiet",
            "--tls-verify=false",
            "--authfile",
            &auth,
            "--digestfile",
            &digests,
            name,
            &self.reference(tag),
        ])
        .await;
        read_digest(&digest_file)
    }

    /// Pushes a manifest list of `members` (each a local image or a `docker://` reference,
    /// with its architecture) as `tag`, every member with it (`--all`); the list as the
    /// registry now serves it under `tag`.
    async fn push_list(&self, tag: &str, members: &[(String, &str)]) -> PushedList {
        let list = format!("list-{tag}");
        let auth = self.auth_file();
        self.buildah(&["manifest", "create", &list]).await;
        for (member, arch) in members {
            self.buildah(&[
                "manifest",
                "add",
                "--tls-verify=false",
                "--authfile",
                &auth,
                "--os",
                "linux",
                "--arch",
                arch,
                &list,
                member,
            ])
            .await;
        }
        let digest_file = self.path(&format!("{tag}-list.digest"));
        let digests = digest_file.display().to_string();
        self.buildah(&[
            "manifest",
            "push",
            "--all",
            "--quiet",
            "--tls-verify=false",
            "--authfile",
            &auth,
            "--digestfile",
            &digests,
            &list,
            &self.reference(tag),
        ])
        .await;
        self.buildah(&["manifest", "rm", &list]).await;
        let digest = read_digest(&digest_file);
        let raw = self.raw(tag).await;
        let children: Vec<String> = items(&raw["manifests"])
            .iter()
            .map(|m| text(&m["digest"]))
            .collect();
        assert_eq!(children.len(), members.len(), "{tag}: {raw}");
        PushedList { digest, children }
    }

    /// Builds an image per platform named `build-<arch>` and pushes a list of them as `tag`.
    async fn push_platforms(&self, build: &str, tag: &str) -> PushedList {
        let mut members = Vec::new();
        for arch in PLATFORMS {
            members.push((self.image(&format!("{build}-{arch}"), arch).await, arch));
        }
        self.push_list(tag, &members).await
    }

    /// `skopeo inspect --raw` of `tag`: the manifest the registry serves.
    async fn raw(&self, tag: &str) -> Value {
        let output = self.inspect(tag, true).await;
        assert!(
            output.status.success(),
            "skopeo inspect --raw {tag}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("a manifest is JSON")
    }

    async fn inspect(&self, tag: &str, raw: bool) -> Output {
        let reference = self.reference(tag);
        let mut args = vec!["inspect", "--tls-verify=false"];
        if raw {
            args.push("--raw");
        }
        args.push(&reference);
        self.skopeo(&args).await
    }

    /// The repository's tags as the registry lists them (`skopeo list-tags`).
    async fn tags(&self) -> Vec<String> {
        let repository = format!("docker://{}/{REGISTRY}/{REPOSITORY}", self.host);
        let output = self
            .skopeo(&["list-tags", "--tls-verify=false", &repository])
            .await;
        assert!(
            output.status.success(),
            "skopeo list-tags: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let listed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let mut tags = strings(&listed["Tags"]);
        tags.sort();
        tags
    }
}

/// Runs `command` to its end off the runtime, so that the fake keeps serving meanwhile.
async fn output_of(mut command: Command) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the blocking task ends")
        .unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn read_digest(path: &Path) -> String {
    let digest = std::fs::read_to_string(path).expect("buildah wrote the digest");
    let digest = digest.trim().to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    digest
}

/// A fake with registry `acme-archive`, `docr` for it and buildah pushing to it; `None` when
/// the tools are missing and the test is skipped.
async fn setup() -> Option<(FakeDocr, Docr, Buildah)> {
    if !tools_present(&TOOLS) {
        return None;
    }
    let fake = start(builder().registry(RegistrySeed::new(REGISTRY))).await;
    let docr = Docr::for_fake(&fake);
    let buildah = Buildah::new(&fake, &docr).await;
    Some((fake, docr, buildah))
}

/// What the pushes made, by digest, for failure messages that say which image is which.
#[derive(Default)]
struct Names(BTreeMap<String, String>);

impl Names {
    fn name(&mut self, digest: &str, name: &str) {
        self.0.insert(digest.to_string(), name.to_string());
    }

    fn list(&mut self, list: &PushedList, name: &str, arches: &[&str]) {
        self.name(&list.digest, &format!("{name} (list)"));
        for (child, arch) in list.children.iter().zip(arches) {
            self.name(child, &format!("{name} ({arch})"));
        }
    }

    fn of(&self, digest: &str) -> String {
        self.0
            .get(digest)
            .cloned()
            .unwrap_or_else(|| digest.to_string())
    }

    /// `digests` by name.
    fn all<'a>(&self, digests: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
        digests.into_iter().map(|d| self.of(d)).collect()
    }

    /// `manifest of image` for every manifest of `image`'s closure, by name.
    fn closure<'a>(
        &self,
        image: &str,
        closure: impl IntoIterator<Item = &'a String>,
    ) -> BTreeSet<String> {
        closure
            .into_iter()
            .map(|d| format!("{} of {}", self.of(d), self.of(image)))
            .collect()
    }

    /// A plan's deletions (`-o json`), each as `manifest of image`, by name.
    fn planned(&self, plan: &Value) -> BTreeSet<String> {
        items(&plan["repositories"])
            .iter()
            .flat_map(|r| items(&r["delete"]))
            .map(|d| {
                assert_eq!(d["repository"], REPOSITORY, "{d}");
                format!(
                    "{} of {}",
                    self.of(&text(&d["digest"])),
                    self.of(&text(&d["image"]))
                )
            })
            .collect()
    }
}

/// `v1`, then `latest` three times: a list of two platforms, a single manifest, another list.
/// Each push of `latest` leaves the one before untagged; only `v1` and the last are tagged.
#[tokio::test(flavor = "multi_thread")]
async fn prune_keep_last_counts_tagged_images_only_after_buildah_pushes_latest_again() {
    let Some((fake, docr, buildah)) = setup().await else {
        return;
    };
    let mut names = Names::default();
    let v1 = buildah
        .push(&buildah.image("v1", "amd64").await, "v1")
        .await;
    names.name(&v1, "v1");
    let first = buildah.push_platforms("latest-1", "latest").await;
    names.list(&first, "latest-1", &PLATFORMS);
    let second = buildah
        .push(&buildah.image("latest-2", "amd64").await, "latest")
        .await;
    names.name(&second, "latest-2");
    let third = buildah.push_platforms("latest-3", "latest").await;
    names.list(&third, "latest-3", &PLATFORMS);

    // What landed: 8 manifests, `v1` and `latest` (the last list) tagged, the rest untagged.
    let snapshot = fake.snapshot();
    let repository = snapshot.repository(REGISTRY, REPOSITORY).expect("pushed");
    assert_eq!(repository.manifests.len(), 8, "{:?}", repository.manifests);
    assert_eq!(repository.tagged("v1").map(|m| &m.digest), Some(&v1));
    assert_eq!(
        repository.tagged("latest").map(|m| &m.digest),
        Some(&third.digest)
    );

    // The newest two tagged images are `v1` and `latest`: nothing to delete, whether the
    // grace window protects the untagged images or not.
    for grace in ["", " --grace 0s"] {
        let args = format!("prune {REGISTRY} {REPOSITORY} --keep-last 2{grace}");
        let plan = docr.json(&args).await;
        assert_eq!(
            names.planned(&plan["plan"]),
            BTreeSet::new(),
            "{args}: both tagged images stay and nothing untagged is selected"
        );
    }

    // With --untagged: exactly the old `latest` images, each whole.
    let args = format!("prune {REGISTRY} {REPOSITORY} --keep-last 2 --untagged --grace 0s");
    let plan = docr.json(&args).await;
    let mut expected = names.closure(&first.digest, first.closure());
    expected.extend(names.closure(&second, [&second]));
    assert_eq!(
        names.planned(&plan["plan"]),
        expected,
        "{args}: the untagged old `latest` images, never `v1` or `latest`"
    );

    // The newest tagged image is `latest`: `v1` goes, nothing untagged does.
    for grace in ["", " --grace 0s"] {
        let args = format!("prune {REGISTRY} {REPOSITORY} --keep-last 1{grace}");
        let plan = docr.json(&args).await;
        assert_eq!(
            names.planned(&plan["plan"]),
            names.closure(&v1, [&v1]),
            "{args}: `v1` alone"
        );
    }
}

/// A release pushed the `docker manifest` way: each platform tagged, then a list of exactly
/// those tagged manifests.
struct Release {
    version: String,
    list: PushedList,
    /// `<version>-<arch>`, in [`PLATFORMS`] order.
    platforms: Vec<(String, String)>,
}

impl Buildah {
    /// Pushes `<version>-amd64` and `<version>-arm64`, then the list `<version>` of them, made
    /// from the pushed references, so the list names the very manifests those tags hold.
    async fn push_release(&self, version: &str, names: &mut Names) -> Release {
        let mut platforms = Vec::new();
        for arch in PLATFORMS {
            let tag = format!("{version}-{arch}");
            let digest = self.push(&self.image(&tag, arch).await, &tag).await;
            names.name(&digest, &tag);
            platforms.push((tag, digest));
        }
        let members: Vec<(String, &str)> = platforms
            .iter()
            .zip(PLATFORMS)
            .map(|((tag, _), arch)| (self.reference(tag), arch))
            .collect();
        let list = self.push_list(version, &members).await;
        names.name(&list.digest, version);
        let tagged: Vec<String> = platforms.iter().map(|(_, d)| d.clone()).collect();
        assert_eq!(
            list.children, tagged,
            "the list {version} holds the tagged platform images themselves"
        );
        Release {
            version: version.to_string(),
            list,
            platforms,
        }
    }
}

impl Release {
    /// `<version>` and each `<version>-<arch>`.
    fn tags(&self) -> Vec<String> {
        std::iter::once(self.version.clone())
            .chain(self.platforms.iter().map(|(tag, _)| tag.clone()))
            .collect()
    }
}

/// `1.0-amd64`, `1.0-arm64`, `1.0`, then `2.0-amd64`, `2.0-arm64`, `2.0`: the three newest
/// tagged images are release 2.0's, and `--keep-last 3` deletes all of release 1.0.
#[tokio::test(flavor = "multi_thread")]
async fn prune_keep_last_deletes_a_docker_manifest_release_with_its_platform_tags() {
    let Some((fake, docr, buildah)) = setup().await else {
        return;
    };
    let mut names = Names::default();
    // Every push (a list's members again with the list) stamps `updated_at`: all of 2.0 is
    // newer than all of 1.0.
    let old = buildah.push_release("1.0", &mut names).await;
    let new = buildah.push_release("2.0", &mut names).await;
    assert_eq!(
        buildah.tags().await,
        [
            "1.0",
            "1.0-amd64",
            "1.0-arm64",
            "2.0",
            "2.0-amd64",
            "2.0-arm64"
        ]
    );
    let released = |release: &Release| -> BTreeSet<String> { names.all(release.list.closure()) };

    // The plan: release 1.0's three manifests; no item waits for itself.
    let dry = docr
        .json(&format!("prune {REGISTRY} {REPOSITORY} --keep-last 3"))
        .await;
    let deletions: Vec<&Value> = items(&dry["plan"]["repositories"])
        .iter()
        .flat_map(|r| items(&r["delete"]))
        .collect();
    for item in &deletions {
        let digest = text(&item["digest"]);
        assert!(
            !strings(&item["held_by"]).contains(&digest),
            "{} is held by itself: {item}",
            names.of(&digest)
        );
    }
    let planned: BTreeSet<String> = deletions
        .iter()
        .map(|d| names.of(&text(&d["digest"])))
        .collect();
    assert_eq!(planned, released(&old), "--keep-last 3 plans release 1.0");

    // Applied: all three deleted, exit status 0.
    let run = docr
        .run(&format!(
            "-o json prune {REGISTRY} {REPOSITORY} --keep-last 3 --apply"
        ))
        .await;
    let applied = run.json();
    let outcomes: BTreeMap<String, String> = items(&applied["report"]["items"])
        .iter()
        .map(|i| (names.of(&text(&i["digest"])), text(&i["outcome"]["status"])))
        .collect();
    let deleted: BTreeMap<String, String> = released(&old)
        .into_iter()
        .map(|n| (n, "deleted".to_string()))
        .collect();
    assert_eq!(outcomes, deleted, "{}", applied["report"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);

    // What the registry serves now: release 2.0 alone.
    for tag in old.tags() {
        let output = buildah.inspect(&tag, true).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains("manifest unknown"),
            "{tag} is still served: {stderr}"
        );
    }
    for (tag, digest) in &new.platforms {
        let output = buildah.inspect(tag, false).await;
        let inspected: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{tag}: {e}: {}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(&text(&inspected["Digest"]), digest, "{tag}");
    }
    let list = strings(&json!(
        items(&buildah.raw(&new.version).await["manifests"])
            .iter()
            .map(|m| m["digest"].clone())
            .collect::<Vec<_>>()
    ));
    assert_eq!(list, new.list.children, "2.0 is whole");
    assert_eq!(buildah.tags().await, ["2.0", "2.0-amd64", "2.0-arm64"]);
    let after = fake.snapshot();
    let repository = after.repository(REGISTRY, REPOSITORY).expect("kept");
    assert_eq!(
        names.all(repository.manifests.iter().map(|m| &m.digest)),
        released(&new)
    );
}
