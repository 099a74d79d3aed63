//! `k8s-secret`: a Kubernetes Secret (kubernetes.io/dockerconfigjson) holding pull
//! credentials for a registry, printed; its name and namespace are checked before credentials
//! are issued.

use crate::Result;
use crate::context::Context;
use clap::Args;
use docr::credentials::{check_secret_names, default_secret_name};
use docr::prelude::*;

#[derive(Args)]
#[command(after_help = "Example:\n  docr k8s-secret acme --namespace apps | kubectl apply -f -")]
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

pub async fn run(context: &Context, args: SecretArgs) -> Result {
    let client = context.client()?;
    let host = context.registry_host()?;
    let name = args
        .name
        .unwrap_or_else(|| default_secret_name(&args.registry));
    // Refused before credentials are issued for nothing.
    check_secret_names(&name, &args.namespace)?;
    let credentials = client
        .docker_credentials(&args.registry)
        .send()
        .await?
        .with_host(&host);
    let manifest = credentials.kubernetes_secret(&name, &args.namespace)?;
    outln!("{}", manifest.trim_end());
    Ok(())
}
