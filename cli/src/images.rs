//! `repos`, `tags`, `manifests`: listing every page and deleting by name.

use crate::Result;
use crate::output::{self, Format};
use clap::Subcommand;
use docr::prelude::*;

#[derive(Subcommand)]
pub enum ReposCommand {
    /// Every repository of a registry.
    List { registry: RegistryName },
}

#[derive(Subcommand)]
pub enum TagsCommand {
    /// Every tag of a repository.
    List {
        registry: RegistryName,
        repository: String,
    },
    /// Delete tags (their manifests stay, untagged if no tag is left).
    Delete {
        registry: RegistryName,
        repository: String,
        #[arg(required = true)]
        tags: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum ManifestsCommand {
    /// Every manifest of a repository, with its tags.
    List {
        registry: RegistryName,
        repository: String,
    },
    /// Delete manifests, and every tag pointing at them.
    Delete {
        registry: RegistryName,
        repository: String,
        #[arg(required = true)]
        digests: Vec<String>,
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

pub async fn repos(client: &Client, command: ReposCommand, format: Format) -> Result {
    let ReposCommand::List { registry } = command;
    let repositories = client.list_repositories(&registry).collect().await?;
    if format == Format::Json {
        return output::json(&repositories);
    }
    let rows: Vec<_> = repositories
        .iter()
        .map(|r| {
            let latest = r.latest_manifest.as_ref();
            vec![
                r.name.clone().unwrap_or_default(),
                r.tag_count.map(|n| n.to_string()).unwrap_or_default(),
                r.manifest_count.map(|n| n.to_string()).unwrap_or_default(),
                output::bytes(latest.and_then(|m| m.compressed_size_bytes)),
                output::time(latest.and_then(|m| m.updated_at)),
            ]
        })
        .collect();
    output::table(
        &["REPOSITORY", "TAGS", "MANIFESTS", "LATEST SIZE", "UPDATED"],
        &rows,
    );
    Ok(())
}

pub async fn tags(client: &Client, command: TagsCommand, format: Format) -> Result {
    match command {
        TagsCommand::List {
            registry,
            repository: repo,
        } => {
            let repo = repository(&registry, &repo)?;
            let tags = client.list_tags(&registry, &repo).collect().await?;
            if format == Format::Json {
                return output::json(&tags);
            }
            let rows: Vec<_> = tags
                .iter()
                .map(|t| {
                    vec![
                        t.tag.clone().unwrap_or_default(),
                        short_digest(t.manifest_digest.as_deref()),
                        output::bytes(t.compressed_size_bytes),
                        output::time(t.updated_at),
                    ]
                })
                .collect();
            output::table(&["TAG", "DIGEST", "SIZE", "UPDATED"], &rows);
            Ok(())
        }
        TagsCommand::Delete {
            registry,
            repository: repo,
            tags,
        } => {
            let repo = repository(&registry, &repo)?;
            // Every name is checked before the first delete.
            let tags = tags
                .iter()
                .map(|t| t.parse::<Tag>())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut deleted = Vec::new();
            for tag in &tags {
                client
                    .registries_delete_repository_tag()
                    .registry_name(&registry)
                    .repository_name(&repo)
                    .repository_tag(tag)
                    .send()
                    .await
                    .map_err(|e| format!("deleting tag {tag}: {}", Error::from(e)))?;
                deleted.push(tag.as_str());
                if format == Format::Table {
                    outln!("deleted {repo}:{tag}");
                }
            }
            if format == Format::Json {
                output::json(
                    &serde_json::json!({"repository": repo.as_str(), "deleted_tags": deleted}),
                )?;
            }
            Ok(())
        }
    }
}

pub async fn manifests(client: &Client, command: ManifestsCommand, format: Format) -> Result {
    match command {
        ManifestsCommand::List {
            registry,
            repository: repo,
        } => {
            let repo = repository(&registry, &repo)?;
            let manifests = client.list_manifests(&registry, &repo).collect().await?;
            if format == Format::Json {
                return output::json(&manifests);
            }
            let rows: Vec<_> = manifests
                .iter()
                .map(|m| {
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
                })
                .collect();
            output::table(&["DIGEST", "TAGS", "SIZE", "UPDATED"], &rows);
            Ok(())
        }
        ManifestsCommand::Delete {
            registry,
            repository: repo,
            digests,
        } => {
            let repo = repository(&registry, &repo)?;
            let digests = digests
                .iter()
                .map(|d| d.parse::<Digest>())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut deleted = Vec::new();
            for digest in &digests {
                client
                    .registries_delete_repository_manifest()
                    .registry_name(&registry)
                    .repository_name(&repo)
                    .manifest_digest(digest)
                    .send()
                    .await
                    .map_err(|e| format!("deleting manifest {digest}: {}", Error::from(e)))?;
                deleted.push(digest.as_str());
                if format == Format::Table {
                    outln!("deleted {repo}@{digest}");
                }
            }
            if format == Format::Json {
                output::json(
                    &serde_json::json!({"repository": repo.as_str(), "deleted_manifests": deleted}),
                )?;
            }
            Ok(())
        }
    }
}

/// `sha256:cb8a924afdf0` for tables; JSON keeps the full digest.
pub fn short_digest(digest: Option<&str>) -> String {
    digest
        .map(|d| d.chars().take(19).collect())
        .unwrap_or_else(|| "-".into())
}
