//! From a recognised route to its handler, after bringing the state up to date and the
//! deprecated family's one-registry rule. What the handlers share is in [`call`](super::call).

use super::call::Call;
use super::content::InRepository;
use super::input::{ApiError, ApiResult};
use super::routes::{Route, Target};
use super::state::State;
use super::{account, collections, content};
use docr::client::ApiFamily;

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
