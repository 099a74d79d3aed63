//! Docker credential helpers: which one Docker's `config.json` names for the registry's host
//! (`credHelpers`, else `credsStore`), and storing or erasing through it with the
//! docker-credential-helpers protocol. The secret goes on the helper's stdin only: never on
//! its argv, in a log or in an error.

use crate::Result;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// `docker-credential-<name>`, as `config.json` names it.
pub struct CredentialHelper {
    name: String,
    /// The host it was named for.
    host: String,
}

impl CredentialHelper {
    /// The helper `dir/config.json` names for `host` (`registry.digitalocean.com` unless
    /// another registry URL is configured), if any: its `credHelpers` entry first, else
    /// `credsStore`, as Docker picks.
    pub fn configured(dir: &Path, host: &str) -> Result<Option<Self>> {
        let path = dir.join("config.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => return Ok(None),
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
        };
        let config: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON ({e})", path.display()))?;
        let named = config["credHelpers"][host]
            .as_str()
            .or_else(|| config["credsStore"].as_str())
            .filter(|name| !name.is_empty());
        Ok(named.map(|name| Self {
            name: name.to_string(),
            host: host.to_string(),
        }))
    }

    /// `docker-credential-<name>`.
    pub fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// `store`: `{"ServerURL", "Username", "Secret"}` on stdin.
    pub fn store(&self, username: &str, secret: &str) -> Result {
        let input = serde_json::json!({
            "ServerURL": self.host,
            "Username": username,
            "Secret": secret,
        });
        self.run("store", input.to_string().as_bytes(), Some(secret))
    }

    /// `erase`: the server URL on stdin. Credentials already gone are not an error.
    pub fn erase(&self) -> Result {
        match self.run("erase", self.host.as_bytes(), None) {
            Err(e) if e.to_string().contains("credentials not found") => Ok(()),
            other => other,
        }
    }

    fn run(&self, verb: &str, input: &[u8], secret: Option<&str>) -> Result {
        let program = self.program();
        let mut child = Command::new(&program)
            .arg(verb)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run {program} (Docker's config.json names it for {}): {e}",
                    self.host
                )
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input)
                .map_err(|e| format!("cannot write to {program} {verb}: {e}"))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("{program} {verb}: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        // The protocol puts the reason on stdout; some helpers use stderr.
        let mut said = format!(
            "{} {}",
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            said = said.replace(secret, "<secret>");
        }
        Err(format!(
            "{program} {verb} failed ({}): {}",
            output.status,
            said.trim()
        )
        .into())
    }
}

/// The user name and password inside credentials (`auths.<host>.auth`, base64 of `user:pass`).
pub fn basic_credentials(
    credentials: &docr::credentials::RegistryCredentials,
) -> Result<(String, String)> {
    use base64::Engine;
    let config: serde_json::Value = serde_json::from_str(&credentials.docker_config_json())?;
    let decoded = config["auths"][credentials.host()]["auth"]
        .as_str()
        .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or("the API's credentials hold no readable `auth`")?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or("the API's credentials are not `user:password`")?;
    Ok((user.to_string(), password.to_string()))
}
