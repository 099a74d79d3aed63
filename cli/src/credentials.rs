//! `login`, `logout`, `k8s-secret`.

use crate::Result;
use crate::output::{self, Format};
use clap::Args;
use docr::prelude::*;
use docr::{check_secret_names, default_secret_name, docker_config_dir, merge_docker_config};
use std::time::Duration;

#[derive(Args)]
pub struct LoginArgs {
    registry: RegistryName,
    /// Credentials that can push (default: pull only).
    #[arg(long)]
    read_write: bool,
    /// Credentials that expire after this long (90s, 15m, 2h, 30d); default: never.
    #[arg(long, value_parser = output::parse_duration)]
    expiry: Option<Duration>,
}

#[derive(Args)]
pub struct SecretArgs {
    registry: RegistryName,
    /// The Secret's name (default: registry-<REGISTRY>).
    #[arg(long)]
    name: Option<String>,
    /// The Secret's namespace.
    #[arg(long, default_value = "default")]
    namespace: String,
}

pub async fn login(client: &Client, args: LoginArgs, format: Format) -> Result {
    let dir = docker_config_dir()?;
    let mut request = client
        .docker_credentials(&args.registry)
        .read_write(args.read_write);
    if let Some(expiry) = args.expiry {
        request = request.expiry(expiry);
    }
    let path = request.send().await?.write_docker_config(&dir)?;
    if format == Format::Json {
        return output::json(
            &serde_json::json!({"config": path, "registry": args.registry.as_str()}),
        );
    }
    outln!("logged in to {} ({})", docr::REGISTRY_HOST, path.display());
    Ok(())
}

pub fn logout(format: Format) -> Result {
    let path = merge_docker_config(&docker_config_dir()?, None)?;
    if format == Format::Json {
        return output::json(&serde_json::json!({"config": path}));
    }
    outln!("logged out of {} ({})", docr::REGISTRY_HOST, path.display());
    Ok(())
}

pub async fn secret(client: &Client, args: SecretArgs) -> Result {
    let name = args
        .name
        .unwrap_or_else(|| default_secret_name(&args.registry));
    // Refused before credentials are issued for nothing.
    check_secret_names(&name, &args.namespace)?;
    let credentials = client.docker_credentials(&args.registry).send().await?;
    let manifest = credentials.kubernetes_secret(&name, &args.namespace)?;
    outln!("{}", manifest.trim_end());
    Ok(())
}
