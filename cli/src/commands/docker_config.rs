//! `docker-config`: a Docker config.json holding credentials for a registry, printed; nothing
//! is written.

use crate::Result;
use crate::args::CredentialArgs;
use crate::context::Context;
use clap::Args;

#[derive(Args)]
#[command(after_help = "Example:\n  docr docker-config acme --expiry 1h > config.json")]
pub struct DockerConfigArgs {
    #[command(flatten)]
    credentials: CredentialArgs,
}

pub async fn run(context: &Context, args: DockerConfigArgs) -> Result {
    let client = context.client()?;
    let host = context.registry_host()?;
    let credentials = args.credentials.issue(&client, &host).await?;
    outln!("{}", credentials.docker_config_json());
    Ok(())
}
