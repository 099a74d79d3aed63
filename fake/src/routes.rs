//! The 41 operations of `spec/registry.yaml`, recognised from the method and the raw path.
//!
//! The path is split on `/` as received and each segment is percent-decoded exactly once, so
//! `team%2Fapp` names the repository `team/app` and `team%252Fapp` names `team%2Fapp`.

use super::input::ApiError;
use docr::client::ApiFamily;

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
    use Target::*;
    let s = |v: &str| v.to_string();
    let (family, prefix, rest) = match path {
        ["v2", "kubernetes", kind @ ("registry" | "registries")] => {
            let plural = *kind == "registries";
            let (verb, target) = match method {
                "POST" => ("add", KubernetesAdd { plural }),
                "DELETE" => ("remove", KubernetesRemove { plural }),
                _ => return None,
            };
            let name = format!("{verb}_{kind}");
            return Some(Route::new(
                ApiFamily::Registries,
                "kubernetes",
                &name,
                target,
            ));
        }
        ["v2", "registries", rest @ ..] => (ApiFamily::Registries, "registries", rest),
        ["v2", "registry", rest @ ..] => (ApiFamily::Registry, "registry", rest),
        _ => return None,
    };
    // The deprecated family names no registry where it acts on the account's one registry.
    let new = family == ApiFamily::Registries;
    let (name, target) = match (method, rest) {
        ("GET", []) if new => ("list", ListRegistries),
        ("GET", []) => ("get", GetRegistry(None)),
        ("POST", []) => ("create", CreateRegistry),
        ("DELETE", []) if !new => ("delete", DeleteRegistry(None)),
        ("GET", ["subscription"]) => ("get_subscription", GetSubscription),
        ("POST", ["subscription"]) => ("update_subscription", UpdateSubscription),
        ("GET", ["options"]) => ("get_options", Options),
        ("POST", ["validate-name"]) => ("validate_name", ValidateName),
        ("GET", ["docker-credentials"]) if !new => {
            ("get_dockerCredentials", DockerCredentials(None))
        }
        ("GET", [r]) if new && !RESERVED_NAMES.contains(r) => ("get", GetRegistry(Some(s(r)))),
        ("DELETE", [r]) if new && !RESERVED_NAMES.contains(r) => {
            ("delete", DeleteRegistry(Some(s(r))))
        }
        ("GET", [r, "docker-credentials"]) if new => {
            ("get_dockerCredentials", DockerCredentials(Some(s(r))))
        }
        ("GET", [r, "garbage-collection"]) => ("get_garbageCollection", GetCollection(s(r))),
        ("POST", [r, "garbage-collection"]) => ("run_garbageCollection", RunCollection(s(r))),
        ("GET", [r, "garbage-collections"]) => ("list_garbageCollections", ListCollections(s(r))),
        ("PUT", [r, "garbage-collection", uuid]) => {
            ("update_garbageCollection", UpdateCollection(s(r), s(uuid)))
        }
        ("GET", [r, "repositories"]) if !new => ("list_repositories", ListRepositories(s(r))),
        ("GET", [r, "repositoriesV2"]) => ("list_repositoriesV2", ListRepositoriesV2(s(r))),
        ("DELETE", [r, "repositories", repo]) if new => {
            ("delete_repository", DeleteRepository(s(r), s(repo)))
        }
        ("GET", [r, "repositories", repo, "tags"]) => {
            ("list_repositoryTags", ListTags(s(r), s(repo)))
        }
        ("DELETE", [r, "repositories", repo, "tags", tag]) => {
            ("delete_repositoryTag", DeleteTag(s(r), s(repo), s(tag)))
        }
        ("GET", [r, "repositories", repo, "digests"]) => {
            ("list_repositoryManifests", ListManifests(s(r), s(repo)))
        }
        ("DELETE", [r, "repositories", repo, "digests", digest]) => (
            "delete_repositoryManifest",
            DeleteManifest(s(r), s(repo), s(digest)),
        ),
        _ => return None,
    };
    Some(Route::new(family, prefix, name, target))
}

impl Route {
    /// The route to `target` by operation `{prefix}_{name}` of `OPERATIONS`.
    fn new(family: ApiFamily, prefix: &str, name: &str, target: Target) -> Self {
        let id = format!("{prefix}_{name}");
        let operation_id = OPERATIONS
            .into_iter()
            .find(|o| *o == id)
            .unwrap_or_else(|| panic!("`{id}` is not an operation of the spec"));
        Self {
            operation_id,
            family,
            target,
        }
    }
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
