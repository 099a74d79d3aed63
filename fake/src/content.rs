//! What a registry holds: listing and deleting repositories, tags and manifests.
//!
//! Deleting a tag leaves its manifest (untagged when it was the last tag); deleting a manifest
//! removes its tags; deleting a repository removes its manifests and tags. Blobs stay stored,
//! and counted in storage usage, until a garbage collection deletes those no manifest
//! references.

use super::call::{Call, registry};
use super::input::{ApiError, ApiResult, Reply};
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
) -> ApiResult {
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

/// What a call does to one repository: delete it, list its tags or manifests (newest first),
/// or delete one tag or manifest of it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum InRepository<'a> {
    Delete,
    ListTags,
    ListManifests,
    DeleteTag(&'a str),
    DeleteManifest(&'a str),
}

pub(crate) fn in_repository(
    state: &mut State,
    call: &Call<'_>,
    registry_name: &str,
    name: &str,
    action: InRepository<'_>,
) -> ApiResult {
    if let InRepository::Delete = action {
        let registry = registry(state, call.family, Some(registry_name))?;
        return match registry.repositories.remove(name) {
            Some(_) => Ok(Reply::NoContent),
            None => Err(not_found_repository(&registry.name, name)),
        };
    }
    let (registry_name, repository) = repository(state, call, registry_name, name)?;
    let (query, links) = (call.query, call.links);
    let deleted = match action {
        InRepository::Delete => unreachable!("deleted above"),
        InRepository::ListTags => {
            let total: usize = repository.listed().map(|m| m.tags.len()).sum();
            let window = |offset, len| repository.tags_window(offset, len);
            let page = pagination::by_number_window(total as u64, window, query, links)?;
            return Ok(page.reply("tags", |(tag, manifest)| {
                render::tag(&registry_name, name, tag, manifest)
            }));
        }
        InRepository::ListManifests => {
            let page = pagination::by_number(repository.listed_newest_first(), query, links)?;
            return Ok(page.reply("manifests", |manifest| {
                render::manifest(&registry_name, name, manifest)
            }));
        }
        InRepository::DeleteTag(tag) => repository
            .manifests
            .iter_mut()
            .find(|m| m.tags.iter().any(|t| t == tag))
            .map(|manifest| manifest.tags.retain(|t| t != tag))
            .ok_or_else(|| format!("tag `{tag}`")),
        InRepository::DeleteManifest(digest) => {
            let before = repository.manifests.len();
            repository.manifests.retain(|m| m.digest != digest);
            (repository.manifests.len() < before)
                .then_some(())
                .ok_or_else(|| format!("manifest `{digest}`"))
        }
    };
    deleted.map(|()| Reply::NoContent).map_err(|what| {
        ApiError::not_found(format!(
            "{what} not found in repository `{name}` of registry `{registry_name}`"
        ))
    })
}
