//! What every registry-side handler shares: the [`Call`] it answers, finding the registry and
//! repository it names, and checking a `<registry>/<repository>` name.

use super::answer::RegistryError;
use crate::state::{Now, Registry, Repository, State};
use axum::body::Bytes;
use axum::http::HeaderMap;

/// What a handler knows of its call.
pub(crate) struct Call<'a> {
    pub(crate) registry: &'a str,
    pub(crate) repository: &'a str,
    pub(crate) name: String,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) query: &'a [(String, String)],
    pub(crate) body: Bytes,
    pub(crate) now: Now,
    /// The registry listener's URL, for `Location`.
    pub(crate) url: &'a str,
    pub(crate) referrers_api: bool,
}

impl Call<'_> {
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn registry<'s>(
        &self,
        state: &'s mut State,
    ) -> Result<&'s mut Registry, RegistryError> {
        state
            .registries
            .get_mut(self.registry)
            .ok_or_else(|| RegistryError::name_unknown(&self.name))
    }

    pub(crate) fn repository<'s>(
        &self,
        state: &'s mut State,
    ) -> Result<&'s mut Repository, RegistryError> {
        let name = self.name.clone();
        self.registry(state)?
            .repositories
            .get_mut(self.repository)
            .ok_or_else(|| RegistryError::name_unknown(&name))
    }
}

/// `<registry>/<repository>` split and checked.
pub(crate) fn split_name(name: &str) -> Result<(String, String), RegistryError> {
    let invalid = || RegistryError::name_invalid(name);
    let (registry, repository) = name.split_once('/').ok_or_else(invalid)?;
    docr::RegistryName::new(registry).map_err(|_| invalid())?;
    docr::RepositoryName::new(repository).map_err(|_| invalid())?;
    Ok((registry.to_string(), repository.to_string()))
}
