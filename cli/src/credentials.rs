//! `login`, `logout`, `docker-config`, `k8s-secret`.

use crate::Result;
use crate::credential_helper::{CredentialHelper, basic_credentials};
use crate::output::{self, Format};
use clap::Args;
use docr::prelude::*;
use docr::{
    client::DEFAULT_REGISTRY_URL, client::REGISTRY_URL_VARIABLE, credentials::check_secret_names,
    credentials::default_secret_name, credentials::docker_config_dir,
    credentials::merge_docker_config_for,
};
use serde_json::json;
use std::time::Duration;

/// Which credentials to ask for.
#[derive(Args)]
pub struct CredentialArgs {
    /// The registry's name.
    registry: RegistryName,
    /// Credentials that can push (default: pull only).
    #[arg(long)]
    read_write: bool,
    /// Credentials that expire after this long (90s, 15m, 2h, 30d).
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, default_value = "30d")]
    expiry: Duration,
    /// Credentials that never expire (instead of after --expiry).
    #[arg(long, conflicts_with = "expiry")]
    never_expire: bool,
}

/// The host Docker names the registry by: that of `--registry-url`, else of
/// DIGITALOCEAN_REGISTRY_URL, else `registry.digitalocean.com`. A mirror or the embedded DOCR
/// (`127.0.0.1:PORT`) gets credentials under its own host, where docker and skopeo look.
pub fn registry_host(registry_url: Option<&str>) -> Result<String> {
    let from_env = std::env::var(REGISTRY_URL_VARIABLE)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let url = registry_url
        .map(str::to_string)
        .or(from_env)
        .unwrap_or_else(|| DEFAULT_REGISTRY_URL.to_string());
    let parsed =
        url::Url::parse(&url).map_err(|e| format!("the registry URL `{url}` is not a URL: {e}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("the registry URL `{url}` names no host"))?;
    Ok(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

impl CredentialArgs {
    async fn fetch(
        &self,
        client: &Client,
        host: &str,
    ) -> Result<docr::credentials::RegistryCredentials> {
        let mut request = client
            .docker_credentials(&self.registry)
            .read_write(self.read_write);
        if !self.never_expire {
            request = request.expiry(self.expiry);
        }
        Ok(request.send().await?.with_host(host))
    }
}

#[derive(Args)]
pub struct SecretArgs {
    /// The registry's name.
    registry: RegistryName,
    /// The Secret's name (default: registry-<REGISTRY>).
    #[arg(long)]
    name: Option<String>,
    /// The Secret's namespace.
    #[arg(long, default_value = "default")]
    namespace: String,
}

/// Stores through the credential helper config.json names, else into its `auths`.
pub async fn login(client: &Client, host: &str, args: CredentialArgs, format: Format) -> Result {
    let dir = docker_config_dir()?;
    let helper = CredentialHelper::configured(&dir, host)?;
    let credentials = args.fetch(client, host).await?;
    let registry = args.registry.as_str();
    let Some(helper) = helper else {
        let path = credentials.write_docker_config(&dir)?;
        if format == Format::Json {
            return output::json(&json!({"config": path, "registry": registry}));
        }
        outln!("logged in to {host} ({})", path.display());
        return Ok(());
    };
    let (username, secret) = basic_credentials(&credentials)?;
    helper.store(&username, &secret)?;
    if format == Format::Json {
        return output::json(&json!({"helper": helper.program(), "registry": registry}));
    }
    outln!("logged in to {host} (stored by {})", helper.program());
    Ok(())
}

/// Erases through the credential helper, if config.json names one, and drops the `auths` entry.
pub fn logout(host: &str, format: Format) -> Result {
    let dir = docker_config_dir()?;
    let helper = CredentialHelper::configured(&dir, host)?;
    if let Some(helper) = &helper {
        helper.erase()?;
    }
    let path = merge_docker_config_for(&dir, host, None)?;
    let program = helper.as_ref().map(CredentialHelper::program);
    if format == Format::Json {
        return output::json(&match &program {
            Some(program) => json!({"config": path, "helper": program}),
            None => json!({"config": path}),
        });
    }
    match program {
        Some(program) => outln!(
            "logged out of {host} (erased by {program}; {})",
            path.display()
        ),
        None => outln!("logged out of {host} ({})", path.display()),
    }
    Ok(())
}

/// Prints a Docker config.json holding the credentials; writes nothing.
pub async fn docker_config(client: &Client, host: &str, args: CredentialArgs) -> Result {
    let credentials = args.fetch(client, host).await?;
    outln!("{}", credentials.docker_config_json());
    Ok(())
}

pub async fn secret(client: &Client, host: &str, args: SecretArgs) -> Result {
    let name = args
        .name
        .unwrap_or_else(|| default_secret_name(&args.registry));
    // Refused before credentials are issued for nothing.
    check_secret_names(&name, &args.namespace)?;
    let credentials = client
        .docker_credentials(&args.registry)
        .send()
        .await?
        .with_host(host);
    let manifest = credentials.kubernetes_secret(&name, &args.namespace)?;
    outln!("{}", manifest.trim_end());
    Ok(())
}
