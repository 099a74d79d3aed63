//! Credentials for Docker and Kubernetes: fetch them, merge them into Docker's `config.json`
//! (only the registry host's entry, `registry.digitalocean.com` unless told otherwise,
//! atomically, mode 0600), remove them again, or render a `kubernetes.io/dockerconfigjson`
//! Secret.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::{credentials::CredentialsExt, credentials::docker_config_dir};
//! use std::time::Duration;
//!
//! # async fn run(client: Client) -> Result<(), docr::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let credentials = client
//!     .docker_credentials(&registry)
//!     .read_write(true)
//!     .expiry(Duration::from_secs(3600))
//!     .send()
//!     .await?;
//! let written = credentials.write_docker_config(&docker_config_dir()?)?;
//! println!("logged in: {}", written.display());
//! # Ok(()) }
//! ```

use super::error::Error;
use super::names::{REGISTRY_HOST, RegistryName};
use crate::Client;
use crate::ext::family::ApiFamily;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::value::RawValue;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Credentials for DigitalOcean's registry host (or, with [`with_host`](Self::with_host),
/// another host serving the same registry). `Debug` shows nothing of the secret.
#[derive(Clone)]
pub struct RegistryCredentials {
    /// The `registry.digitalocean.com` entry of the API's answer, as JSON.
    entry: serde_json::Value,
    /// The host Docker's config names them for.
    host: String,
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistryCredentials(<redacted>)")
    }
}

impl RegistryCredentials {
    /// Wraps the API's answer; fails when it holds no entry for the registry host.
    pub fn from_response(response: &crate::types::DockerCredentials) -> Result<Self, Error> {
        let entry = response
            .auths
            .as_ref()
            .and_then(|a| a.registry_digitalocean_com.as_ref())
            .filter(|e| e.auth.as_deref().is_some_and(|a| !a.is_empty()))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the API's docker credentials hold no `auths.{REGISTRY_HOST}.auth`"
                ))
            })?;
        let entry = serde_json::to_value(entry).map_err(|source| Error::Decode {
            snippet: "docker credentials".into(),
            source,
        })?;
        Ok(Self {
            entry,
            host: REGISTRY_HOST.to_string(),
        })
    }

    /// The same credentials for another host serving the registry (`host` or `host:port`, as
    /// image references name it: a mirror, the embedded DOCR): Docker's config, its credential
    /// helpers and the Secret then key them to `host` instead of `registry.digitalocean.com`.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The host they are for: `registry.digitalocean.com` unless [`with_host`](Self::with_host)
    /// said otherwise.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `auth` value: base64 of `user:password`, what HTTP Basic sends.
    pub(crate) fn basic_auth(&self) -> Option<&str> {
        self.entry.get("auth").and_then(serde_json::Value::as_str)
    }

    /// A Docker `config.json` holding only these credentials, for their [host](Self::host).
    pub fn docker_config_json(&self) -> String {
        serde_json::json!({ "auths": { self.host.as_str(): self.entry } }).to_string()
    }

    /// Merges these credentials into `dir/config.json`, for their [host](Self::host) (see
    /// [`merge_docker_config_for`]).
    pub fn write_docker_config(&self, dir: &Path) -> Result<PathBuf, Error> {
        merge_docker_config_for(dir, &self.host, Some(&self.entry))
    }

    /// A `kubernetes.io/dockerconfigjson` Secret manifest (YAML) holding these credentials.
    /// `name` and `namespace` must be DNS-1123 names.
    pub fn kubernetes_secret(&self, name: &str, namespace: &str) -> Result<String, Error> {
        check_secret_names(name, namespace)?;
        let data = base64::engine::general_purpose::STANDARD.encode(self.docker_config_json());
        Ok(format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n\
             type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
        ))
    }
}

/// The name doctl gives a registry's pull Secret: `registry-<registry>`.
pub fn default_secret_name(registry: &RegistryName) -> String {
    format!("registry-{registry}")
}

/// Checks a Secret's name (DNS-1123 subdomain) and namespace (DNS-1123 label), so that a
/// caller can refuse bad ones before fetching credentials.
pub fn check_secret_names(name: &str, namespace: &str) -> Result<(), Error> {
    check_dns1123("Secret name", name, 253, true)?;
    check_dns1123("namespace", namespace, 63, false)
}

fn check_dns1123(what: &str, v: &str, max: usize, dots: bool) -> Result<(), Error> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !v.is_empty()
        && v.len() <= max
        && v.starts_with(alnum)
        && v.ends_with(alnum)
        && v.chars()
            .all(|c| alnum(c) || c == '-' || (dots && c == '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid Kubernetes {what} `{v}`: use at most {max} lowercase letters, digits{} and `-`, \
             starting and ending with a letter or digit",
            if dots { ", `.`" } else { "" }
        )))
    }
}

/// Docker's configuration folder: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    std::env::home_dir()
        .map(|home| home.join(".docker"))
        .ok_or_else(|| {
            Error::Config("cannot find Docker's config folder: set DOCKER_CONFIG or HOME".into())
        })
}

/// Sets (`Some`) or removes (`None`) the `registry.digitalocean.com` entry of `dir/config.json`:
/// [`merge_docker_config_for`] DigitalOcean's registry host.
pub fn merge_docker_config(
    dir: &Path,
    entry: Option<&serde_json::Value>,
) -> Result<PathBuf, Error> {
    merge_docker_config_for(dir, REGISTRY_HOST, entry)
}

/// Sets (`Some`) or removes (`None`) the `host` entry of `dir/config.json`'s `auths`,
/// keeping every other entry as it was, byte for byte. Writes a temporary file in the same
/// folder and renames it over the old one, so a crash leaves the old file or the new, never a
/// torn one; the file is mode 0600. A malformed file is an error and is left untouched. A
/// process killed mid-write can leave its temporary file (`.config.json.*`, mode 0600) beside
/// the config; Docker ignores it, and it may be deleted.
pub fn merge_docker_config_for(
    dir: &Path,
    host: &str,
    entry: Option<&serde_json::Value>,
) -> Result<PathBuf, Error> {
    let path = dir.join("config.json");
    let mut config: IndexMap<String, Box<RawValue>> = match std::fs::read(&path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => IndexMap::new(),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::Config(format!(
                "{} is not a JSON object ({e}); it was left untouched",
                path.display()
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => IndexMap::new(),
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let mut auths: IndexMap<String, Box<RawValue>> = match config.get("auths") {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            Error::Config(format!(
                "`auths` in {} is not a JSON object ({e}); it was left untouched",
                path.display()
            ))
        })?,
        None => IndexMap::new(),
    };
    match entry {
        Some(entry) => {
            let raw = RawValue::from_string(entry.to_string()).map_err(|source| Error::Decode {
                snippet: "docker credentials".into(),
                source,
            })?;
            auths.insert(host.to_string(), raw);
        }
        None => {
            if auths.shift_remove(host).is_none() {
                return Ok(path);
            }
        }
    }
    let auths = serde_json::to_string(&auths).and_then(RawValue::from_string);
    config.insert(
        "auths".into(),
        auths.map_err(|source| Error::Decode {
            snippet: "docker config auths".into(),
            source,
        })?,
    );
    let mut text = serde_json::to_string_pretty(&config).map_err(|source| Error::Decode {
        snippet: "docker config".into(),
        source,
    })?;
    text.push('\n');
    // A linked config.json (dotfile managers) is rewritten at its target, as Docker does.
    let target = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    write_atomically(&target, text.as_bytes())?;
    Ok(path)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |what: &str, e: std::io::Error| {
        Error::Config(format!("cannot {what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".config.json.")
        .tempfile_in(dir)
        .map_err(|e| fail("write beside", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail("restrict the permissions of", e))?;
    }
    tmp.write_all(bytes).map_err(|e| fail("write", e))?;
    tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
    tmp.persist(path).map_err(|e| fail("replace", e.error))?;
    Ok(())
}

/// Credentials, as methods of [`Client`].
pub trait CredentialsExt {
    /// Docker credentials for a registry; end with [`DockerCredentialsRequest::send`].
    fn docker_credentials(&self, registry: &RegistryName) -> DockerCredentialsRequest;
}

impl CredentialsExt for Client {
    fn docker_credentials(&self, registry: &RegistryName) -> DockerCredentialsRequest {
        DockerCredentialsRequest {
            client: self.clone(),
            registry: registry.clone(),
            read_write: false,
            expiry: None,
            family: ApiFamily::default(),
        }
    }
}

/// Asks for Docker credentials: read-only and never expiring unless told otherwise.
#[must_use = "nothing is sent until `send`"]
pub struct DockerCredentialsRequest {
    client: Client,
    registry: RegistryName,
    read_write: bool,
    expiry: Option<Duration>,
    family: ApiFamily,
}

impl DockerCredentialsRequest {
    /// Credentials that may push (default: pull only).
    pub fn read_write(mut self, read_write: bool) -> Self {
        self.read_write = read_write;
        self
    }

    /// Credentials that expire after `expiry` (whole seconds, at least one).
    pub fn expiry(mut self, expiry: Duration) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// Which endpoint family to call (the deprecated one serves the account's only registry).
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Fetches the credentials.
    pub async fn send(self) -> Result<RegistryCredentials, Error> {
        let expiry =
            match self.expiry {
                Some(d) if d.as_secs() == 0 => {
                    return Err(Error::InvalidInput(
                    "a credentials expiry must be at least one second (leave it unset for none)"
                        .into(),
                ));
                }
                Some(d) => Some(i64::try_from(d.as_secs()).map_err(|_| {
                    Error::InvalidInput("the credentials expiry is too long".into())
                })?),
                None => None,
            };
        let response = match self.family {
            ApiFamily::Registries => {
                let mut call = self
                    .client
                    .registries_get_docker_credentials()
                    .registry_name(&self.registry);
                if self.read_write {
                    call = call.read_write(true);
                }
                if let Some(seconds) = expiry {
                    call = call.expiry_seconds(seconds);
                }
                call.send().await
            }
            ApiFamily::Registry => {
                let mut call = self.client.registry_get_docker_credentials();
                if self.read_write {
                    call = call.read_write(true);
                }
                if let Some(seconds) = expiry {
                    call = call.expiry_seconds(seconds);
                }
                call.send().await
            }
        }?;
        RegistryCredentials::from_response(&response.into_inner())
    }
}
