//! `manifests list|delete`: every manifest of a repository with its tags (every page), and
//! deleting manifests by digest.

use crate::Result;
use crate::args::RepositoryArgs;
use crate::batch::InRepository;
use crate::confirm::Force;
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr::prelude::*;

#[derive(Subcommand)]
pub enum ManifestsCommand {
    /// Every manifest of a repository, with its tags.
    #[command(after_help = "Example:\n  docr manifests list acme team/api")]
    List {
        #[command(flatten)]
        at: RepositoryArgs,
    },
    /// Delete manifests, and every tag pointing at them.
    #[command(
        after_help = "Example:\n  docr manifests delete acme team/api sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221"
    )]
    Delete {
        #[command(flatten)]
        at: RepositoryArgs,
        /// The manifests to delete, by digest (`sha256:<64 hex digits>`).
        #[arg(required = true, value_name = "DIGEST")]
        digests: Vec<String>,
        #[command(flatten)]
        force: Force,
    },
}

pub async fn run(context: &Context, command: ManifestsCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    match command {
        ManifestsCommand::List { at } => {
            let (registry, repo) = at.resolve()?;
            let manifests = client.list_manifests(registry, &repo).collect().await?;
            out.show(&manifests, &["DIGEST", "TAGS", "SIZE", "UPDATED"], |m| {
                vec![
                    output::short_digest(m.digest.as_deref()),
                    if m.tags.is_empty() {
                        "<untagged>".into()
                    } else {
                        m.tags.join(",")
                    },
                    output::bytes(m.compressed_size_bytes),
                    output::time(m.updated_at),
                ]
            })
        }
        ManifestsCommand::Delete { at, digests, force } => {
            let what = InRepository {
                kind: "manifest",
                separator: '@',
                effect: if digests.len() == 1 {
                    ", with every tag pointing at it"
                } else {
                    ", with every tag pointing at them"
                },
            };
            what.delete::<Digest, _, _, _>(
                &at,
                &digests,
                force,
                out.format,
                |registry, repo, digest| {
                    client
                        .registries_delete_repository_manifest()
                        .registry_name(registry)
                        .repository_name(repo)
                        .manifest_digest(digest)
                        .send()
                },
            )
            .await
        }
    }
}
