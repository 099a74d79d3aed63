//! What a registry holds: listing and deleting repositories, tags and manifests.
//!
//! Deleting a tag leaves its manifest (untagged when it was the last tag); deleting a manifest
//! removes its tags; deleting a repository removes its manifests and tags. Blobs stay stored,
//! and counted in storage usage, until a garbage collection deletes those no manifest
//! references.

use super::dispatch::{Call, registry};
use super::input::{ApiError, Reply};
use super::pagination;
use super::render;
use super::state::{Repository, State};

fn not_found_repository(registry: &str, repository: &str) -> ApiError {
    ApiError::not_found(format!(
        "repository `{repository}` not found in registry `{registry}`"
    ))
}

fn repository<'s>(
    state: &'s mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
) -> Result<(String, &'s mut Repository), ApiError> {
    let registry = registry(state, call.family, Some(registry_name))?;
    let registry_name = registry.name.clone();
    let repository = registry
        .repositories
        .get_mut(name)
        .ok_or_else(|| not_found_repository(&registry_name, name))?;
    Ok((registry_name, repository))
}

/// `repositoriesV2` (`v2`, token-paged) or the deprecated `repositories` listing.
pub(crate) fn list_repositories(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    v2: bool,
) -> Result<Reply, ApiError> {
    let registry = registry(state, call.family, Some(registry_name))?;
    let items: Vec<_> = registry
        .repositories
        .iter()
        .map(|(name, repo)| {
            if v2 {
                render::repository_v2(&registry.name, name, repo)
            } else {
                render::repository_v1(&registry.name, name, repo)
            }
        })
        .collect();
    let page = if v2 {
        pagination::by_token(items, call.query, call.links)?
    } else {
        pagination::by_number(items, call.query, call.links)?
    };
    Ok(page.reply("repositories", |item| item))
}

pub(crate) fn delete_repository(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    let registry = registry(state, call.family, Some(registry_name))?;
    match registry.repositories.remove(name) {
        Some(_) => Ok(Reply::NoContent),
        None => Err(not_found_repository(&registry.name, name)),
    }
}

/// What a repository lists: its tags or its manifests, newest first.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listing {
    Tags,
    Manifests,
}

pub(crate) fn list(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
    listing: Listing,
) -> Result<Reply, ApiError> {
    let (registry_name, repository) = repository(state, call, registry_name, name)?;
    let (query, links) = (call.query, call.links);
    Ok(match listing {
        Listing::Tags => {
            let total: usize = repository.manifests.iter().map(|m| m.tags.len()).sum();
            let window = |offset, len| repository.tags_window(offset, len);
            pagination::by_number_window(total as u64, window, query, links)?
                .reply("tags", |(tag, manifest)| {
                    render::tag(&registry_name, name, tag, manifest)
                })
        }
        Listing::Manifests => {
            pagination::by_number(repository.manifests_newest_first(), query, links)?
                .reply("manifests", |manifest| {
                    render::manifest(&registry_name, name, manifest)
                })
        }
    })
}

pub(crate) fn delete_tag(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
    tag: &str,
) -> Result<Reply, ApiError> {
    let (registry_name, repository) = repository(state, call, registry_name, name)?;
    let manifest = repository
        .manifests
        .iter_mut()
        .find(|m| m.tags.iter().any(|t| t == tag))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "tag `{tag}` not found in repository `{name}` of registry `{registry_name}`"
            ))
        })?;
    manifest.tags.retain(|t| t != tag);
    Ok(Reply::NoContent)
}

pub(crate) fn delete_manifest(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
    digest: &str,
) -> Result<Reply, ApiError> {
    let (registry_name, repository) = repository(state, call, registry_name, name)?;
    let before = repository.manifests.len();
    repository.manifests.retain(|m| m.digest != digest);
    if repository.manifests.len() == before {
        return Err(ApiError::not_found(format!(
            "manifest `{digest}` not found in repository `{name}` of registry `{registry_name}`"
        )));
    }
    Ok(Reply::NoContent)
}
