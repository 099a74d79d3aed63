//! Real tools read what `docr login` wrote (issue 11): skopeo pulls from the embedded DOCR's
//! registry with nothing but the credentials `docr login` stored, in `config.json`'s `auths`
//! or through Debian's `docker-credential-pass`, and is refused once `docr logout` removed them.
//!
//! skopeo reads `REGISTRY_AUTH_FILE` alone when it is set (containers/image otherwise tries
//! `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json` and Docker's
//! config), so each run names `$DOCKER_CONFIG/config.json` there and gets a HOME of its own.
//!
//! Without skopeo, gpg, pass or docker-credential-pass these tests fail, saying what to
//! install, unless `DOCR_SKIP_REAL_TOOLS=1`.

use super::confirm::tools_present;
use super::helper::PassStore;
use super::*;
use std::path::Path;
use std::process::Output;

const TOOLS: [&str; 4] = ["skopeo", "gpg", "pass", "docker-credential-pass"];

/// An OCI layout of one small image named `1.0`; the manifest's digest.
fn layout(dir: &Path) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout folder");
    let blob = |media_type: &str, bytes: &[u8]| {
        let digest = sha256(bytes);
        std::fs::write(blobs.join(&digest["sha256:".len()..]), bytes).expect("blob");
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    };
    let layer = b"a private layer";
    let config = json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}});
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob("application/vnd.oci.image.config.v1+json", config.to_string().as_bytes()),
        "layers": [blob("application/vnd.oci.image.layer.v1.tar", layer)],
    });
    let mut top = blob(
        "application/vnd.oci.image.manifest.v1+json",
        manifest.to_string().as_bytes(),
    );
    let digest = text(&top["digest"]);
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "1.0"});
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [top]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    digest
}

/// skopeo with a HOME of its own and `auth_file` as its only source of credentials.
async fn skopeo(auth_file: &Path, store: Option<&PassStore>, args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("a temporary folder");
    let mut command = Command::new("skopeo");
    command
        .args(args)
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("REGISTRY_AUTH_FILE", auth_file)
        .env_remove("DOCKER_CONFIG")
        .stdin(Stdio::null());
    if let Some(store) = store {
        // The helper it runs finds the gpg key and pass store there (HOME too).
        store.env(&mut command);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the blocking task ends")
        .expect("skopeo runs");
    drop(home);
    output
}

/// A fake whose registry `acme` holds `app:1.0`, pushed by skopeo with the credentials
/// `docr docker-config --read-write` printed; the fake, and the image's digest.
async fn with_private_image() -> (FakeDocr, String) {
    let fake = start(builder().registry(RegistrySeed::new("acme"))).await;
    let host = fake.registry_host();
    let printer = Docr::for_fake(&fake);
    let printed = printer
        .ok("docker-config acme --read-write --expiry 1h")
        .await;
    let config: Value = serde_json::from_str(&printed.stdout).expect("JSON");
    assert!(
        config["auths"][&host]["auth"].is_string(),
        "docker-config names the configured registry's host: {config}"
    );
    let work = tempfile::tempdir().expect("a temporary folder");
    let auth_file = work.path().join("push.json");
    std::fs::write(&auth_file, &printed.stdout).expect("the printed config");
    let digest = layout(&work.path().join("layout"));
    let source = format!("oci:{}:1.0", work.path().join("layout").display());
    let target = format!("docker://{host}/acme/app:1.0");
    let pushed = skopeo(
        &auth_file,
        None,
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &source,
            &target,
        ],
    )
    .await;
    assert!(
        pushed.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    (fake, digest)
}

/// `skopeo inspect` of `app:1.0` with what `config` (and the helper it names) holds.
async fn inspect(fake: &FakeDocr, config: &Path, store: Option<&PassStore>) -> Output {
    let image = format!("docker://{}/acme/app:1.0", fake.registry_host());
    skopeo(config, store, &["inspect", "--tls-verify=false", &image]).await
}

fn assert_pulled(output: &Output, digest: &str) {
    assert!(
        output.status.success(),
        "skopeo inspect: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inspected: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(inspected["Digest"], digest);
}

fn assert_unauthorized(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("unauthorized"),
        "skopeo was not refused: {stderr}"
    );
}

/// The fake with its private image, the registry's host and `docr` for the fake; `None` when
/// the tools are missing and the test is skipped.
async fn skopeo_setup() -> Option<(FakeDocr, String, String, Docr)> {
    if !tools_present(&TOOLS) {
        return None;
    }
    let (fake, digest) = with_private_image().await;
    let host = fake.registry_host();
    let docr = Docr::for_fake(&fake);
    Some((fake, digest, host, docr))
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_pulls_with_what_docr_login_wrote_and_is_refused_after_logout() {
    let Some((fake, digest, host, docr)) = skopeo_setup().await else {
        return;
    };
    let config = docr.config_json();
    assert_unauthorized(&inspect(&fake, &config, None).await);

    let run = docr.ok("login acme").await;
    assert_eq!(
        run.stdout,
        format!("logged in to {host} ({})\n", config.display())
    );
    let written = read_json(&config);
    let auths = written["auths"].as_object().expect("auths");
    assert_eq!(
        auths.keys().collect::<Vec<_>>(),
        [&host],
        "only the registry's host: {written}"
    );
    assert_pulled(&inspect(&fake, &config, None).await, &digest);
    let issued = fake.snapshot().credentials;
    assert_eq!(issued.len(), 2, "docker-config's, then login's");
    assert!(!issued[1].read_write, "read-only unless asked");

    docr.ok("logout").await;
    assert!(read_json(&config)["auths"].get(&host).is_none());
    assert_unauthorized(&inspect(&fake, &config, None).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_pulls_through_the_credential_helper_docr_login_stored_in() {
    let Some((fake, digest, host, docr)) = skopeo_setup().await else {
        return;
    };
    let store = tokio::task::spawn_blocking(PassStore::new)
        .await
        .expect("pass store");
    let config = docr.config_json();
    let before = json!({"credHelpers": {&host: "pass"}});
    std::fs::write(&config, before.to_string()).expect("config.json");
    assert_unauthorized(&inspect(&fake, &config, Some(&store)).await);

    let with_store = |args: &str| {
        let mut command = docr.command(args);
        command.env("DIGITALOCEAN_REGISTRY_URL", fake.registry_url());
        store.env(&mut command);
        command
    };
    let run = execute(with_store("login acme --read-write")).await;
    run.assert_success();
    assert_eq!(
        run.stdout,
        format!("logged in to {host} (stored by docker-credential-pass)\n")
    );
    assert_eq!(read_json(&config), before, "nothing written to config.json");
    let stored = store
        .get_for(&host)
        .expect("stored under the registry's host");
    assert_eq!(stored["ServerURL"], host.as_str());
    assert_pulled(&inspect(&fake, &config, Some(&store)).await, &digest);

    execute(with_store("logout")).await.assert_success();
    assert_eq!(store.get_for(&host), None, "erased");
    assert_unauthorized(&inspect(&fake, &config, Some(&store)).await);
}
