//! What every API handler shares: the request's [`Call`] and finding the registry it acts on,
//! by the name the current family gives or as the deprecated family's only registry.

use super::input::{ApiError, Query};
use super::pagination::LinkBase;
use super::state::{Now, Registry, State};
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
