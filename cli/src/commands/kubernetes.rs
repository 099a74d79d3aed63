//! `kubernetes add|remove`: the registry integration of Kubernetes clusters (DigitalOcean
//! adds, or removes, a pull Secret for the registries in every namespace of the clusters).

use crate::Result;
use crate::confirm::{Force, listed};
use crate::context::Context;
use crate::output;
use clap::{Args, Subcommand};
use docr::prelude::*;
use docr::types;

#[derive(Subcommand)]
pub enum KubernetesCommand {
    /// Let clusters pull from registries.
    #[command(
        after_help = "Examples:\n  docr kubernetes add acme acme-staging --cluster bd5f5959-5e1e-4205-a714-a914373942af\n  \
        docr kubernetes add --cluster bd5f5959-5e1e-4205-a714-a914373942af   (every registry)"
    )]
    Add(Integration),
    /// Stop clusters pulling from registries.
    #[command(
        after_help = "Example:\n  docr kubernetes remove acme --cluster bd5f5959-5e1e-4205-a714-a914373942af --force"
    )]
    Remove {
        #[command(flatten)]
        integration: Integration,
        #[command(flatten)]
        force: Force,
    },
}

#[derive(Args)]
pub struct Integration {
    /// The registries (default: every registry of the account).
    registries: Vec<RegistryName>,
    /// A cluster's UUID; repeat the option or separate UUIDs with commas.
    #[arg(
        long = "cluster",
        value_name = "UUID",
        required = true,
        value_delimiter = ','
    )]
    clusters: Vec<String>,
}

pub async fn run(context: &Context, command: KubernetesCommand) -> Result {
    let client = context.client()?;
    let (
        add,
        Integration {
            registries,
            clusters,
        },
    ) = match command {
        KubernetesCommand::Add(integration) => (true, integration),
        KubernetesCommand::Remove { integration, force } => {
            let which = if integration.registries.is_empty() {
                "every registry".to_string()
            } else {
                format!("registries {}", listed(&integration.registries))
            };
            force.confirm(&format!(
                "remove {which} from clusters {}: their pods can no longer pull from {}",
                listed(&integration.clusters),
                if integration.registries.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ))?;
            (false, integration)
        }
    };
    // No registry named: the singular call, which covers every registry of the account.
    let result = if registries.is_empty() {
        let body = types::ClusterRegistry {
            cluster_uuids: clusters.clone(),
        };
        if add {
            client.kubernetes_add_registry().body(body).send().await
        } else {
            client.kubernetes_remove_registry().body(body).send().await
        }
    } else {
        let body = types::ClusterRegistries {
            cluster_uuids: clusters.clone(),
            registries: registries.iter().map(|r| r.to_string()).collect(),
        };
        if add {
            client.kubernetes_add_registries().body(body).send().await
        } else {
            client
                .kubernetes_remove_registries()
                .body(body)
                .send()
                .await
        }
    };
    result.map_err(Error::from)?;
    let verb = if add { "added" } else { "removed" };
    if context.output.is_json() {
        let registries: Option<Vec<&str>> =
            (!registries.is_empty()).then(|| registries.iter().map(|r| r.as_str()).collect());
        return output::json(&serde_json::json!({
            verb: true,
            "registries": registries,
            "clusters": clusters,
        }));
    }
    let which = if registries.is_empty() {
        "every registry".to_string()
    } else {
        listed(&registries)
    };
    let preposition = if add { "to" } else { "from" };
    outln!(
        "{verb} {which} {preposition} clusters {}",
        listed(&clusters)
    );
    Ok(())
}
