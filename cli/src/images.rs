//! `repos`, `tags`, `manifests`: listing every page and deleting by name.

use crate::Result;
use crate::batch::Batch;
use crate::confirm::{Force, listed};
use crate::output::{self, Format};
use clap::{Args, Subcommand};
use docr::prelude::*;
use serde_json::json;

/// A registry and one of its repositories, as every image command names them.
#[derive(Args)]
pub struct RepositoryArgs {
    /// The registry's name (as in registry.digitalocean.com/<REGISTRY>).
    registry: RegistryName,
    /// The repository: `team/app`, or as pasted, `registry.digitalocean.com/<REGISTRY>/team/app`.
    repository: String,
}

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

impl RepositoryArgs {
    fn resolve(&self) -> Result<(&RegistryName, RepositoryName)> {
        Ok((
            &self.registry,
            repository(&self.registry, &self.repository)?,
        ))
    }

    /// Confirms, then deletes each of `names` (`kind`s of this repository, written after it
    /// with `separator`) through `delete`; the question ends with what else the deletes do.
    #[allow(clippy::too_many_arguments)]
    async fn delete_each<T, Fut, R, E>(
        &self,
        names: &[String],
        kind: &'static str,
        separator: char,
        effect: &str,
        force: Force,
        format: Format,
        delete: impl Fn(&RegistryName, &RepositoryName, &T) -> Fut,
    ) -> Result
    where
        T: std::str::FromStr + std::fmt::Display,
        T::Err: std::error::Error + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<R, E>>,
        E: Into<docr::Error>,
    {
        let (registry, repo) = self.resolve()?;
        let targets: Vec<T> = parse_all(names)?;
        force.confirm(&format!(
            "delete {kind}{} {} of {registry}/{repo}{effect}",
            plural(targets.len()),
            listed(&targets)
        ))?;
        Batch::new(kind, format)
            .run(
                &targets,
                |t| format!("{repo}{separator}{t}"),
                |t| delete(registry, &repo, t),
            )
            .await
            .finish(json!({"repository": repo.as_str()}))
    }
}

/// Every name parsed before the first request.
fn parse_all<T: std::str::FromStr>(names: &[String]) -> Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(names
        .iter()
        .map(|n| n.parse::<T>())
        .collect::<std::result::Result<_, _>>()?)
}

pub async fn repos(client: &Client, command: ReposCommand, format: Format) -> Result {
    match command {
        ReposCommand::List { registry } => {
            let repositories = client.list_repositories(&registry).collect().await?;
            output::show(
                format,
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
            Batch::new("repository", format)
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

pub async fn tags(client: &Client, command: TagsCommand, format: Format) -> Result {
    match command {
        TagsCommand::List { at } => {
            let (registry, repo) = at.resolve()?;
            let tags = client.list_tags(registry, &repo).collect().await?;
            output::show(format, &tags, &["TAG", "DIGEST", "SIZE", "UPDATED"], |t| {
                vec![
                    t.tag.clone().unwrap_or_default(),
                    short_digest(t.manifest_digest.as_deref()),
                    output::bytes(t.compressed_size_bytes),
                    output::time(t.updated_at),
                ]
            })
        }
        TagsCommand::Delete { at, tags, force } => {
            at.delete_each::<Tag, _, _, _>(
                &tags,
                "tag",
                ':',
                " (the manifests stay)",
                force,
                format,
                |registry, repo, tag| {
                    client
                        .registries_delete_repository_tag()
                        .registry_name(registry)
                        .repository_name(repo)
                        .repository_tag(tag)
                        .send()
                },
            )
            .await
        }
    }
}

pub async fn manifests(client: &Client, command: ManifestsCommand, format: Format) -> Result {
    match command {
        ManifestsCommand::List { at } => {
            let (registry, repo) = at.resolve()?;
            let manifests = client.list_manifests(registry, &repo).collect().await?;
            output::show(
                format,
                &manifests,
                &["DIGEST", "TAGS", "SIZE", "UPDATED"],
                |m| {
                    vec![
                        short_digest(m.digest.as_deref()),
                        if m.tags.is_empty() {
                            "<untagged>".into()
                        } else {
                            m.tags.join(",")
                        },
                        output::bytes(m.compressed_size_bytes),
                        output::time(m.updated_at),
                    ]
                },
            )
        }
        ManifestsCommand::Delete { at, digests, force } => {
            let effect = if digests.len() == 1 {
                ", with every tag pointing at it"
            } else {
                ", with every tag pointing at them"
            };
            at.delete_each::<Digest, _, _, _>(
                &digests,
                "manifest",
                '@',
                effect,
                force,
                format,
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `sha256:cb8a924afdf0` for tables; JSON keeps the full digest.
pub fn short_digest(digest: Option<&str>) -> String {
    digest
        .map(|d| d.chars().take(19).collect())
        .unwrap_or_else(|| "-".into())
}
