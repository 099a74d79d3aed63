//! Arguments parsed one way wherever they are taken: the global options (made into the
//! [`Context`]), durations, a registry and one of its repositories, the credentials to ask
//! for, the type of a garbage collection.

use crate::Result;
use crate::context::Context;
use crate::output::{Format, Output, TableOptions};
use clap::{Args, ValueEnum};
use docr::garbage_collection::GcType;
use docr::prelude::*;
use std::time::Duration;

/// The help heading of [`GlobalArgs`], apart from each command's own options.
const GLOBAL: &str = "Global options";

/// The options every command takes (shown under their own heading in every command's help).
#[derive(Args)]
pub struct GlobalArgs {
    /// The API URL (default: DIGITALOCEAN_API_URL, else https://api.digitalocean.com).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    api_url: Option<String>,
    /// The registry URL, where `prune` reads manifests and whose host `login`, `logout`,
    /// `docker-config` and `k8s-secret` name (default: DIGITALOCEAN_REGISTRY_URL, else
    /// https://registry.digitalocean.com).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    registry_url: Option<String>,
    /// The API token (default: DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Output for people (table) or for scripts (one JSON document on stdout).
    #[arg(short = 'o', long, global = true, help_heading = GLOBAL, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Table columns to show, in this order (e.g. `name,region`; see each table's header).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "COL,...", value_delimiter = ',')]
    format: Vec<String>,
    /// Tables without their header line (and without a footer).
    #[arg(long, global = true, help_heading = GLOBAL)]
    no_header: bool,
    /// Log each API call to stderr (never the token).
    #[arg(short = 'v', long, global = true, help_heading = GLOBAL)]
    verbose: bool,
}

impl GlobalArgs {
    /// The run's context.
    pub fn into_context(self) -> Context {
        let tables = TableOptions {
            columns: self.format,
            no_header: self.no_header,
        };
        Context::new(
            Output::new(self.output, tables),
            self.api_url,
            self.registry_url,
            self.token,
            self.verbose,
        )
    }
}

/// A user's `90s`, `15m`, `2h`, `30d`.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration like 90s, 15m, 2h or 30d ({e})"))
}

/// A registry and one of its repositories, as `tags` and `manifests` name them.
#[derive(Args)]
pub struct RepositoryArgs {
    /// The registry's name (as in registry.digitalocean.com/<REGISTRY>).
    registry: RegistryName,
    /// The repository: `team/app`, or as pasted, `registry.digitalocean.com/<REGISTRY>/team/app`.
    repository: String,
}

impl RepositoryArgs {
    /// The registry, and the repository read as [`repository`] reads it.
    pub fn resolve(&self) -> Result<(&RegistryName, RepositoryName)> {
        Ok((
            &self.registry,
            repository(&self.registry, &self.repository)?,
        ))
    }
}

/// A repository argument as users paste it: `team/app`, `team/app:tag`, or
/// `registry.digitalocean.com/<registry>/team/app`; the registry, when named, must agree.
pub fn repository(registry: &RegistryName, arg: &str) -> Result<RepositoryName> {
    let reference: ImageReference = arg.parse()?;
    if let Some(named) = &reference.registry
        && named != registry
    {
        return Err(format!("`{arg}` names registry {named}, not {registry}").into());
    }
    if reference.tag.is_some() || reference.digest.is_some() {
        return Err(format!(
            "`{arg}` names an image; give the repository only (`{}`)",
            reference.repository
        )
        .into());
    }
    Ok(reference.repository)
}

/// Which Docker credentials to ask for (`login`, `docker-config`).
#[derive(Args)]
pub struct CredentialArgs {
    /// The registry's name.
    pub registry: RegistryName,
    /// Credentials that can push (default: pull only).
    #[arg(long)]
    read_write: bool,
    /// Credentials that expire after this long (90s, 15m, 2h, 30d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    expiry: Duration,
    /// Credentials that never expire (instead of after --expiry).
    #[arg(long, conflicts_with = "expiry")]
    never_expire: bool,
}

impl CredentialArgs {
    /// Asks the API for these credentials, named for `host` (see
    /// [`Context::registry_host`](crate::context::Context::registry_host)).
    pub async fn issue(
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

/// What a garbage collection collects (`gc start --type`, `prune --gc-type`).
#[derive(Clone, Copy, ValueEnum)]
pub enum GcKind {
    UntaggedManifests,
    UnreferencedBlobs,
    Both,
}

impl From<GcKind> for GcType {
    fn from(kind: GcKind) -> Self {
        match kind {
            GcKind::UntaggedManifests => GcType::UntaggedManifests,
            GcKind::UnreferencedBlobs => GcType::UnreferencedBlobs,
            GcKind::Both => GcType::Both,
        }
    }
}
