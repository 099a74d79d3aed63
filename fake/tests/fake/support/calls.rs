//! The calls both API families have, written once: each helper takes the family and sends
//! the current (`registries_*`) or the deprecated (`registry_*`) operation.

use docr::{
    Client, RegistryName, client::ApiFamily, client::GeneratedError, client::ResponseValue, types,
};

pub type Sent<T> = Result<ResponseValue<T>, GeneratedError<types::Error>>;

/// The call of `family`: `$current` or `$deprecated`, then the same builder chain.
macro_rules! pick {
    ($family:expr, $client:expr, $current:ident | $deprecated:ident, |$call:ident| $chain:expr) => {
        match $family {
            ApiFamily::Registries => {
                let $call = $client.$current();
                $chain
            }
            ApiFamily::Registry => {
                let $call = $client.$deprecated();
                $chain
            }
        }
    };
}

/// Listing methods: `name(repository?) -> answer = current | deprecated`, answered 2xx.
macro_rules! listings {
    ($($name:ident($($repository:ident)?) -> $out:ty = $current:ident | $deprecated:ident;)*) => {
        $(
            pub async fn $name(self $(, $repository: &str)?) -> $out {
                let sent = pick!(self.family, self.client, $current | $deprecated, |c| {
                    c.registry_name(self.registry)$(.repository_name($repository))?.send().await
                });
                sent.unwrap().into_inner()
            }
        )*
    };
}

/// A registry, as the per-repository calls name it.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub client: &'a Client,
    pub family: ApiFamily,
    pub registry: &'a RegistryName,
}

impl<'a> At<'a> {
    pub fn current(client: &'a Client, registry: &'a RegistryName) -> Self {
        Self {
            client,
            family: ApiFamily::Registries,
            registry,
        }
    }

    pub fn deprecated(client: &'a Client, registry: &'a RegistryName) -> Self {
        Self {
            family: ApiFamily::Registry,
            ..Self::current(client, registry)
        }
    }

    pub async fn delete_tag(self, repository: &str, tag: &str) -> Sent<()> {
        pick!(
            self.family,
            self.client,
            registries_delete_repository_tag | registry_delete_repository_tag,
            |c| {
                c.registry_name(self.registry)
                    .repository_name(repository)
                    .repository_tag(tag)
                    .send()
                    .await
            }
        )
    }

    pub async fn delete_manifest(self, repository: &str, digest: impl AsRef<str>) -> Sent<()> {
        pick!(
            self.family,
            self.client,
            registries_delete_repository_manifest | registry_delete_repository_manifest,
            |c| {
                c.registry_name(self.registry)
                    .repository_name(repository)
                    .manifest_digest(digest.as_ref())
                    .send()
                    .await
            }
        )
    }

    listings! {
        tags(repository) -> types::RepositoryTagsResponse =
            registries_list_repository_tags | registry_list_repository_tags;
        manifests(repository) -> types::RepositoryManifestsResponse =
            registries_list_repository_manifests | registry_list_repository_manifests;
        repositories() -> types::AllRepositoriesV2Response =
            registries_list_repositories_v2 | registry_list_repositories_v2;
        active_collection() -> types::GarbageCollectionResponse =
            registries_get_garbage_collection | registry_get_garbage_collection;
        collections() -> types::GarbageCollectionsResponse =
            registries_list_garbage_collections | registry_list_garbage_collections;
    }

    /// `PUT .../garbage-collection/<uuid>` with `{"cancel": cancel}`: the collection's status.
    pub async fn update_collection(self, uuid: impl AsRef<str>, cancel: bool) -> Option<String> {
        let sent = pick!(
            self.family,
            self.client,
            registries_update_garbage_collection | registry_update_garbage_collection,
            |c| {
                c.registry_name(self.registry)
                    .garbage_collection_uuid(uuid.as_ref())
                    .body_map(|b| b.cancel(Some(cancel)))
                    .send()
                    .await
            }
        );
        sent.unwrap().into_inner().garbage_collection?.status
    }
}

/// The body of a 2xx answer.
pub fn ok<T>(sent: Sent<T>) -> T {
    sent.expect("a 2xx answer").into_inner()
}

/// The status of an answer, 2xx or not.
pub fn status<T>(sent: Sent<T>) -> u16 {
    match sent {
        Ok(answer) => answer.status().as_u16(),
        Err(error) => error.status().map_or(0, |s| s.as_u16()),
    }
}

/// The client's error for an answer that is not 2xx.
pub fn refused<T: std::fmt::Debug>(sent: Sent<T>) -> docr::Error {
    sent.map_err(docr::Error::from)
        .expect_err("an error answer")
}

/// The body of an answer with `status`.
pub fn answered<T>(sent: Sent<T>, status: u16) -> T {
    let answer = sent.expect("a 2xx answer");
    assert_eq!(answer.status(), status);
    answer.into_inner()
}
