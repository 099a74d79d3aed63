//! The 41 operations of `spec/registry.yaml`, recognised from the method and the raw path.
//!
//! The path is split on `/` as received and each segment is percent-decoded exactly once, so
//! `team%2Fapp` names the repository `team/app` and `team%252Fapp` names `team%2Fapp`.

use super::input::ApiError;
use docr::ApiFamily;

/// The operationIds of `spec/registry.yaml`, in its order.
pub const OPERATIONS: [&str; 41] = [
    "kubernetes_add_registry",
    "kubernetes_remove_registry",
    "kubernetes_add_registries",
    "kubernetes_remove_registries",
    "registries_list",
    "registries_create",
    "registries_get",
    "registries_delete",
    "registries_get_dockerCredentials",
    "registries_get_subscription",
    "registries_update_subscription",
    "registries_get_options",
    "registries_get_garbageCollection",
    "registries_run_garbageCollection",
    "registries_list_garbageCollections",
    "registries_update_garbageCollection",
    "registries_list_repositoriesV2",
    "registries_delete_repository",
    "registries_list_repositoryTags",
    "registries_delete_repositoryTag",
    "registries_list_repositoryManifests",
    "registries_delete_repositoryManifest",
    "registries_validate_name",
    "registry_get",
    "registry_create",
    "registry_delete",
    "registry_get_subscription",
    "registry_update_subscription",
    "registry_get_dockerCredentials",
    "registry_validate_name",
    "registry_list_repositories",
    "registry_list_repositoriesV2",
    "registry_list_repositoryTags",
    "registry_delete_repositoryTag",
    "registry_list_repositoryManifests",
    "registry_delete_repositoryManifest",
    "registry_run_garbageCollection",
    "registry_get_garbageCollection",
    "registry_list_garbageCollections",
    "registry_update_garbageCollection",
    "registry_get_options",
];

/// A recognised request: which operation, of which family, on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) operation_id: &'static str,
    pub(crate) family: ApiFamily,
    pub(crate) target: Target,
}

/// What an operation acts on. A registry name is `None` where the deprecated family has none
/// in its path (it acts on the account's one registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    KubernetesAdd { plural: bool },
    KubernetesRemove { plural: bool },
    ListRegistries,
    CreateRegistry,
    GetRegistry(Option<String>),
    DeleteRegistry(Option<String>),
    DockerCredentials(Option<String>),
    GetSubscription,
    UpdateSubscription,
    Options,
    ValidateName,
    GetCollection(String),
    RunCollection(String),
    ListCollections(String),
    UpdateCollection(String, String),
    ListRepositories(String),
    ListRepositoriesV2(String),
    DeleteRepository(String, String),
    ListTags(String, String),
    DeleteTag(String, String, String),
    ListManifests(String, String),
    DeleteManifest(String, String, String),
}

/// The operation for `method` on `raw_path`: 404 for a path no operation has, 405 for a
/// method the path does not take, 400 for a path that does not decode.
pub(crate) fn recognize(method: &str, raw_path: &str) -> Result<Route, ApiError> {
    let segments = segments(raw_path)?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(route) = route(method, &segments) {
        return Ok(route);
    }
    let allowed: Vec<&str> = ["GET", "POST", "PUT", "DELETE"]
        .into_iter()
        .filter(|m| route(m, &segments).is_some())
        .collect();
    if !allowed.is_empty() {
        return Err(ApiError::method_not_allowed(method, &allowed));
    }
    Err(ApiError::not_found(
        "The resource you were accessing could not be found.",
    ))
}

/// The path's segments, each percent-decoded once; a trailing `/` is ignored.
fn segments(raw_path: &str) -> Result<Vec<String>, ApiError> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').map(decode).collect()
}

fn decode(segment: &str) -> Result<String, ApiError> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(ApiError::bad_request(format!(
                    "malformed percent-encoding in path segment `{segment}`"
                )));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        ApiError::bad_request(format!(
            "path segment `{segment}` is not UTF-8 once decoded"
        ))
    })
}

/// The names that follow `/v2/registries/` in the spec's own paths: no registry can have them,
/// so `/v2/registries/options` is that resource and never the registry `options`.
pub(crate) const RESERVED_NAMES: [&str; 3] = ["subscription", "options", "validate-name"];

fn route(method: &str, path: &[&str]) -> Option<Route> {
    use ApiFamily::{Registries as New, Registry as Old};
    use Target::*;
    let s = |v: &str| v.to_string();
    let (operation_id, family, target) = match (method, path) {
        ("POST", ["v2", "kubernetes", "registry"]) => (
            "kubernetes_add_registry",
            New,
            KubernetesAdd { plural: false },
        ),
        ("DELETE", ["v2", "kubernetes", "registry"]) => (
            "kubernetes_remove_registry",
            New,
            KubernetesRemove { plural: false },
        ),
        ("POST", ["v2", "kubernetes", "registries"]) => (
            "kubernetes_add_registries",
            New,
            KubernetesAdd { plural: true },
        ),
        ("DELETE", ["v2", "kubernetes", "registries"]) => (
            "kubernetes_remove_registries",
            New,
            KubernetesRemove { plural: true },
        ),
        ("GET", ["v2", "registries"]) => ("registries_list", New, ListRegistries),
        ("POST", ["v2", "registries"]) => ("registries_create", New, CreateRegistry),
        ("GET", ["v2", "registries", "subscription"]) => {
            ("registries_get_subscription", New, GetSubscription)
        }
        ("POST", ["v2", "registries", "subscription"]) => {
            ("registries_update_subscription", New, UpdateSubscription)
        }
        ("GET", ["v2", "registries", "options"]) => ("registries_get_options", New, Options),
        ("POST", ["v2", "registries", "validate-name"]) => {
            ("registries_validate_name", New, ValidateName)
        }
        ("GET", ["v2", "registries", r]) if !RESERVED_NAMES.contains(r) => {
            ("registries_get", New, GetRegistry(Some(s(r))))
        }
        ("DELETE", ["v2", "registries", r]) if !RESERVED_NAMES.contains(r) => {
            ("registries_delete", New, DeleteRegistry(Some(s(r))))
        }
        ("GET", ["v2", "registries", r, "docker-credentials"]) => (
            "registries_get_dockerCredentials",
            New,
            DockerCredentials(Some(s(r))),
        ),
        ("GET", ["v2", "registries", r, "garbage-collection"]) => {
            ("registries_get_garbageCollection", New, GetCollection(s(r)))
        }
        ("POST", ["v2", "registries", r, "garbage-collection"]) => {
            ("registries_run_garbageCollection", New, RunCollection(s(r)))
        }
        ("GET", ["v2", "registries", r, "garbage-collections"]) => (
            "registries_list_garbageCollections",
            New,
            ListCollections(s(r)),
        ),
        ("PUT", ["v2", "registries", r, "garbage-collection", uuid]) => (
            "registries_update_garbageCollection",
            New,
            UpdateCollection(s(r), s(uuid)),
        ),
        ("GET", ["v2", "registries", r, "repositoriesV2"]) => (
            "registries_list_repositoriesV2",
            New,
            ListRepositoriesV2(s(r)),
        ),
        ("DELETE", ["v2", "registries", r, "repositories", repo]) => (
            "registries_delete_repository",
            New,
            DeleteRepository(s(r), s(repo)),
        ),
        ("GET", ["v2", "registries", r, "repositories", repo, "tags"]) => (
            "registries_list_repositoryTags",
            New,
            ListTags(s(r), s(repo)),
        ),
        ("DELETE", ["v2", "registries", r, "repositories", repo, "tags", tag]) => (
            "registries_delete_repositoryTag",
            New,
            DeleteTag(s(r), s(repo), s(tag)),
        ),
        ("GET", ["v2", "registries", r, "repositories", repo, "digests"]) => (
            "registries_list_repositoryManifests",
            New,
            ListManifests(s(r), s(repo)),
        ),
        (
            "DELETE",
            [
                "v2",
                "registries",
                r,
                "repositories",
                repo,
                "digests",
                digest,
            ],
        ) => (
            "registries_delete_repositoryManifest",
            New,
            DeleteManifest(s(r), s(repo), s(digest)),
        ),
        ("GET", ["v2", "registry"]) => ("registry_get", Old, GetRegistry(None)),
        ("POST", ["v2", "registry"]) => ("registry_create", Old, CreateRegistry),
        ("DELETE", ["v2", "registry"]) => ("registry_delete", Old, DeleteRegistry(None)),
        ("GET", ["v2", "registry", "subscription"]) => {
            ("registry_get_subscription", Old, GetSubscription)
        }
        ("POST", ["v2", "registry", "subscription"]) => {
            ("registry_update_subscription", Old, UpdateSubscription)
        }
        ("GET", ["v2", "registry", "docker-credentials"]) => (
            "registry_get_dockerCredentials",
            Old,
            DockerCredentials(None),
        ),
        ("POST", ["v2", "registry", "validate-name"]) => {
            ("registry_validate_name", Old, ValidateName)
        }
        ("GET", ["v2", "registry", "options"]) => ("registry_get_options", Old, Options),
        ("GET", ["v2", "registry", r, "repositories"]) => {
            ("registry_list_repositories", Old, ListRepositories(s(r)))
        }
        ("GET", ["v2", "registry", r, "repositoriesV2"]) => (
            "registry_list_repositoriesV2",
            Old,
            ListRepositoriesV2(s(r)),
        ),
        ("GET", ["v2", "registry", r, "repositories", repo, "tags"]) => {
            ("registry_list_repositoryTags", Old, ListTags(s(r), s(repo)))
        }
        ("DELETE", ["v2", "registry", r, "repositories", repo, "tags", tag]) => (
            "registry_delete_repositoryTag",
            Old,
            DeleteTag(s(r), s(repo), s(tag)),
        ),
        ("GET", ["v2", "registry", r, "repositories", repo, "digests"]) => (
            "registry_list_repositoryManifests",
            Old,
            ListManifests(s(r), s(repo)),
        ),
        ("DELETE", ["v2", "registry", r, "repositories", repo, "digests", digest]) => (
            "registry_delete_repositoryManifest",
            Old,
            DeleteManifest(s(r), s(repo), s(digest)),
        ),
        ("POST", ["v2", "registry", r, "garbage-collection"]) => {
            ("registry_run_garbageCollection", Old, RunCollection(s(r)))
        }
        ("GET", ["v2", "registry", r, "garbage-collection"]) => {
            ("registry_get_garbageCollection", Old, GetCollection(s(r)))
        }
        ("GET", ["v2", "registry", r, "garbage-collections"]) => (
            "registry_list_garbageCollections",
            Old,
            ListCollections(s(r)),
        ),
        ("PUT", ["v2", "registry", r, "garbage-collection", uuid]) => (
            "registry_update_garbageCollection",
            Old,
            UpdateCollection(s(r), s(uuid)),
        ),
        _ => return None,
    };
    Some(Route {
        operation_id,
        family,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_exactly_once() {
        let route = recognize("GET", "/v2/registries/acme/repositories/team%2Fapp/tags").unwrap();
        assert_eq!(
            route.target,
            Target::ListTags("acme".into(), "team/app".into())
        );
        let route = recognize("GET", "/v2/registries/acme/repositories/team%252Fapp/tags").unwrap();
        assert_eq!(
            route.target,
            Target::ListTags("acme".into(), "team%2Fapp".into())
        );
        assert_eq!(
            recognize("GET", "/v2/registries/a%zz").unwrap_err().status,
            400
        );
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(recognize("GET", "/v2/droplets").unwrap_err().status, 404);
        let wrong = recognize("PUT", "/v2/registries").unwrap_err();
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.allow.as_deref(), Some("GET, POST"));
        // The spec's own paths are never read as a registry name.
        let wrong = recognize("DELETE", "/v2/registries/options").unwrap_err();
        assert_eq!(wrong.allow.as_deref(), Some("GET"));
        let wrong = recognize("GET", "/v2/registries/validate-name").unwrap_err();
        assert_eq!(wrong.allow.as_deref(), Some("POST"));
        assert_eq!(
            recognize("GET", "/v2/registries/").unwrap().operation_id,
            "registries_list"
        );
    }

    #[test]
    fn every_operation_has_a_route() {
        let mut ids: Vec<&str> = OPERATIONS.to_vec();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 41);
    }
}
