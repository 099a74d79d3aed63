//! `docr login` and `logout` through a real credential helper: Debian's
//! `docker-credential-pass` over a throwaway gpg key and pass store.

use super::confirm::tools_present;
use super::*;

/// A gpg home and a pass store in one temporary folder, initialised for a fresh key.
pub struct PassStore {
    dir: tempfile::TempDir,
}

impl PassStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = Self { dir };
        std::fs::create_dir(store.gnupg()).expect("gnupg folder");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(store.gnupg(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod gnupg");
        }
        store.run(
            "gpg",
            &[
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "docr-test@example.invalid",
                "default",
                "default",
                "never",
            ],
        );
        store.run("pass", &["init", "docr-test@example.invalid"]);
        store
    }

    fn gnupg(&self) -> PathBuf {
        self.dir.path().join("gnupg")
    }

    pub fn env(&self, command: &mut Command) {
        command
            .env("GNUPGHOME", self.gnupg())
            .env("PASSWORD_STORE_DIR", self.dir.path().join("store"))
            .env("HOME", self.dir.path());
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut command = Command::new(program);
        command.args(args);
        self.env(&mut command);
        let output = command.output().expect("the tool runs");
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `docker-credential-pass get`: the stored JSON, or `None` when nothing is stored.
    fn get(&self) -> Option<Value> {
        self.get_for(REGISTRY_HOST)
    }

    /// What is stored for `host`, or `None`.
    pub fn get_for(&self, host: &str) -> Option<Value> {
        let mut command = Command::new("docker-credential-pass");
        command.arg("get");
        self.env(&mut command);
        let output = output_with_stdin(&mut command, host);
        // Nothing stored: an error, or (this helper) empty credentials.
        let stored: Value = serde_json::from_slice(&output.stdout).ok()?;
        (output.status.success() && stored["Secret"] != "").then_some(stored)
    }
}

#[tokio::test]
async fn login_stores_through_the_credential_helper_and_logout_erases() {
    if !tools_present(&["gpg", "pass", "docker-credential-pass"]) {
        return;
    }
    let (fake, docr) = demo_with_docr().await;
    let store = tokio::task::spawn_blocking(PassStore::new)
        .await
        .expect("pass store");
    let config = docr.config_json();
    let before = json!({"credHelpers": {REGISTRY_HOST: "pass"}, "auths": {"ghcr.io": {"auth": "Z2g6dG9rZW4="}}});
    std::fs::write(&config, before.to_string()).expect("config.json");
    assert_eq!(store.get(), None);

    let mut login = docr.command("login acme --read-write");
    store.env(&mut login);
    let run = execute(login).await;
    run.assert_success();
    assert_eq!(
        run.stdout,
        format!("logged in to {REGISTRY_HOST} (stored by docker-credential-pass)\n")
    );
    let issued = fake.snapshot().credentials;
    let stored = store.get().expect("stored");
    assert_eq!(stored["ServerURL"], REGISTRY_HOST);
    assert_eq!(stored["Username"], issued[0].username.as_str());
    let secret = text(&stored["Secret"]);
    assert!(
        secret.starts_with("acme.read-write.") && !secret.ends_with("never"),
        "30 days by default"
    );
    assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));
    assert_eq!(read_json(&config), before, "config.json is left as it was");

    let mut logout = docr.command("-o json logout");
    store.env(&mut logout);
    let run = execute(logout).await;
    run.assert_success();
    assert_eq!(run.json()["helper"], "docker-credential-pass");
    assert_eq!(store.get(), None, "erased");
    assert_eq!(read_json(&config), before);

    // A helper that is not installed: the error names it, and no secret leaks.
    std::fs::write(&config, json!({"credsStore": "docr-missing"}).to_string())
        .expect("config.json");
    docr.refused_saying("login acme", "docker-credential-docr-missing")
        .await;
}
