//! `login`: Docker credentials for a registry, stored as `docker login` would: through the
//! credential helper Docker's `config.json` names for the registry's host, else in its `auths`.

use crate::Result;
use crate::args::CredentialArgs;
use crate::context::Context;
use crate::credential_helper::{CredentialHelper, basic_credentials};
use crate::output;
use clap::Args;
use docr::credentials::docker_config_dir;
use serde_json::json;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  docr login acme\n  docr login acme --read-write --expiry 2h\n\n\
    With `credHelpers` for the registry's host (registry.digitalocean.com, or that of\n\
    --registry-url) or a `credsStore` in Docker's config.json, the credentials go to\n\
    docker-credential-<name> (as `docker login` does); otherwise into config.json's `auths`\n\
    (mode 0600). Credentials expire after 30 days unless told otherwise."
)]
pub struct LoginArgs {
    #[command(flatten)]
    credentials: CredentialArgs,
}

/// Stores through the credential helper config.json names, else into its `auths`.
pub async fn run(context: &Context, LoginArgs { credentials: args }: LoginArgs) -> Result {
    let client = context.client()?;
    let host = context.registry_host()?;
    let dir = docker_config_dir()?;
    let helper = CredentialHelper::configured(&dir, &host)?;
    let credentials = args.issue(&client, &host).await?;
    let registry = args.registry.as_str();
    let Some(helper) = helper else {
        let path = credentials.write_docker_config(&dir)?;
        if context.output.is_json() {
            return output::json(&json!({"config": path, "registry": registry}));
        }
        outln!("logged in to {host} ({})", path.display());
        return Ok(());
    };
    let (username, secret) = basic_credentials(&credentials)?;
    helper.store(&username, &secret)?;
    if context.output.is_json() {
        return output::json(&json!({"helper": helper.program(), "registry": registry}));
    }
    outln!("logged in to {host} (stored by {})", helper.program());
    Ok(())
}
