//! `tags list|delete`: every tag of a repository (every page), and deleting tags.

use crate::Result;
use crate::args::RepositoryArgs;
use crate::batch::InRepository;
use crate::confirm::Force;
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr::prelude::*;

#[derive(Subcommand)]
pub enum TagsCommand {
    /// Every tag of a repository.
    #[command(after_help = "Example:\n  docr tags list acme team/api")]
    List {
        #[command(flatten)]
        at: RepositoryArgs,
    },
    /// Delete tags (their manifests stay, untagged if no tag is left).
    #[command(after_help = "Example:\n  docr tags delete acme team/api v1 v2 --force")]
    Delete {
        #[command(flatten)]
        at: RepositoryArgs,
        /// The tags to delete (`v1`, `latest`).
        #[arg(required = true, value_name = "TAG")]
        tags: Vec<String>,
        #[command(flatten)]
        force: Force,
    },
}

pub async fn run(context: &Context, command: TagsCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    match command {
        TagsCommand::List { at } => {
            let (registry, repo) = at.resolve()?;
            let tags = client.list_tags(registry, &repo).collect().await?;
            out.show(&tags, &["TAG", "DIGEST", "SIZE", "UPDATED"], |t| {
                vec![
                    t.tag.clone().unwrap_or_default(),
                    output::short_digest(t.manifest_digest.as_deref()),
                    output::bytes(t.compressed_size_bytes),
                    output::time(t.updated_at),
                ]
            })
        }
        TagsCommand::Delete { at, tags, force } => {
            let what = InRepository {
                kind: "tag",
                separator: ':',
                effect: " (the manifests stay)",
            };
            what.delete::<Tag, _, _, _>(&at, &tags, force, out.format, |registry, repo, tag| {
                client
                    .registries_delete_repository_tag()
                    .registry_name(registry)
                    .repository_name(repo)
                    .repository_tag(tag)
                    .send()
            })
            .await
        }
    }
}
