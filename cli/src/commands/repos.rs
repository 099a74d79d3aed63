//! `repos list|delete`: every repository of a registry (every page), and deleting them.

use crate::Result;
use crate::args::repository;
use crate::batch::Batch;
use crate::confirm::{Force, listed};
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr::prelude::*;
use serde_json::json;

#[derive(Subcommand)]
pub enum ReposCommand {
    /// Every repository of a registry.
    #[command(after_help = "Example:\n  docr repos list acme")]
    List {
        /// The registry's name.
        registry: RegistryName,
    },
    /// Delete repositories, with every manifest and tag in them (space is freed by `gc start`).
    #[command(
        after_help = "Example:\n  docr repos delete acme team/old-api team/old-worker --force"
    )]
    Delete {
        /// The registry's name.
        registry: RegistryName,
        /// The repositories to delete (`team/app`).
        #[arg(required = true, value_name = "REPOSITORY")]
        repositories: Vec<String>,
        #[command(flatten)]
        force: Force,
    },
}

pub async fn run(context: &Context, command: ReposCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    match command {
        ReposCommand::List { registry } => {
            let repositories = client.list_repositories(&registry).collect().await?;
            out.show(
                &repositories,
                &["REPOSITORY", "TAGS", "MANIFESTS", "LATEST SIZE", "UPDATED"],
                |r| {
                    let latest = r.latest_manifest.as_ref();
                    vec![
                        r.name.clone().unwrap_or_default(),
                        output::count(r.tag_count),
                        output::count(r.manifest_count),
                        output::bytes(latest.and_then(|m| m.compressed_size_bytes)),
                        output::time(latest.and_then(|m| m.updated_at)),
                    ]
                },
            )
        }
        ReposCommand::Delete {
            registry,
            repositories,
            force,
        } => {
            let repositories = repositories
                .iter()
                .map(|r| repository(&registry, r))
                .collect::<Result<Vec<_>>>()?;
            force.confirm(&format!(
                "delete {} from registry {registry}, with every manifest and tag in {}",
                listed(&repositories),
                if repositories.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ))?;
            Batch::new("repository", out.format)
                .run(
                    &repositories,
                    |r| format!("{registry}/{r}"),
                    |repo| {
                        client
                            .registries_delete_repository()
                            .registry_name(&registry)
                            .repository_name(repo)
                            .send()
                    },
                )
                .await
                .finish(json!({"registry": registry.as_str()}))
        }
    }
}
