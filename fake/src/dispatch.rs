//! From a recognised route to its handler, with what every handler shares: the request's
//! context, the deprecated family's one-registry rule, and finding the registry acted on.

use super::content::InRepository;
use super::input::{ApiError, ApiResult, Query};
use super::pagination::LinkBase;
use super::routes::{Route, Target};
use super::state::{Now, Registry, State};
use super::{account, collections, content};
use docr::client::ApiFamily;

/// What a handler knows of its request.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) family: ApiFamily,
    pub(crate) query: &'a Query,
    pub(crate) body: &'a [u8],
    pub(crate) now: Now,
    pub(crate) links: LinkBase<'a>,
}

/// Runs the operation against the state.
pub(crate) fn execute(state: &mut State, route: &Route, call: &Call<'_>) -> ApiResult {
    state.advance(call.now.instant);
    // The deprecated family predates multiple registries and refuses to guess which one.
    if route.family == ApiFamily::Registry && state.registries.len() > 1 {
        return Err(ApiError::precondition_failed());
    }
    use Target::*;
    match &route.target {
        KubernetesAdd { plural } => account::kubernetes(state, call, *plural, true),
        KubernetesRemove { plural } => account::kubernetes(state, call, *plural, false),
        ListRegistries => account::list_registries(state),
        CreateRegistry => account::create_registry(state, call),
        GetRegistry(name) => account::get_registry(state, call, name.as_deref()),
        DeleteRegistry(name) => account::delete_registry(state, call, name.as_deref()),
        DockerCredentials(name) => account::docker_credentials(state, call, name.as_deref()),
        GetSubscription => account::get_subscription(state),
        UpdateSubscription => account::update_subscription(state, call),
        Options => account::options(state, call),
        ValidateName => account::validate_name(state, call),
        GetCollection(name) => collections::active(state, call, name),
        RunCollection(name) => collections::run(state, call, name),
        ListCollections(name) => collections::list(state, call, name),
        UpdateCollection(name, uuid) => collections::update(state, call, name, uuid),
        ListRepositories(name) => content::list_repositories(state, call, name, false),
        ListRepositoriesV2(name) => content::list_repositories(state, call, name, true),
        DeleteRepository(name, repo) => {
            content::in_repository(state, call, name, repo, InRepository::Delete)
        }
        ListTags(name, repo) => {
            content::in_repository(state, call, name, repo, InRepository::ListTags)
        }
        DeleteTag(name, repo, tag) => {
            content::in_repository(state, call, name, repo, InRepository::DeleteTag(tag))
        }
        ListManifests(name, repo) => {
            content::in_repository(state, call, name, repo, InRepository::ListManifests)
        }
        DeleteManifest(name, repo, digest) => content::in_repository(
            state,
            call,
            name,
            repo,
            InRepository::DeleteManifest(digest),
        ),
    }
}

/// The name of the registry an operation acts on. The current family names it; the
/// deprecated one acts on the account's only registry, and a name in its path must be that one.
pub(crate) fn registry_name(
    state: &State,
    family: ApiFamily,
    named: Option<&str>,
) -> Result<String, ApiError> {
    let name = match (family, named) {
        (ApiFamily::Registries, Some(name)) => name.to_string(),
        (ApiFamily::Registries, None) => {
            return Err(ApiError::not_found("no registry named in the path"));
        }
        (ApiFamily::Registry, named) => {
            let only = state
                .registries
                .keys()
                .next()
                .ok_or_else(|| ApiError::not_found("the account has no registry"))?;
            if let Some(name) = named.filter(|n| n != only) {
                return Err(not_found_registry(name));
            }
            only.clone()
        }
    };
    if state.registries.contains_key(&name) {
        Ok(name)
    } else {
        Err(not_found_registry(&name))
    }
}

/// The registry an operation acts on (see [`registry_name`]).
pub(crate) fn registry<'s>(
    state: &'s mut State,
    family: ApiFamily,
    named: Option<&str>,
) -> Result<&'s mut Registry, ApiError> {
    let name = registry_name(state, family, named)?;
    state
        .registries
        .get_mut(&name)
        .ok_or_else(|| not_found_registry(&name))
}

pub(crate) fn not_found_registry(name: &str) -> ApiError {
    ApiError::not_found(format!("registry `{name}` not found"))
}
