//! Starting a collection, or joining the one running.

use crate::ext::error::Error;
use crate::ext::family::{ApiFamily, for_family};
use crate::ext::garbage_collection::{GarbageCollectionExt, GcType};
use crate::ext::names::{GcId, RegistryName};
use crate::{Client, types};
use reqwest::StatusCode;

/// A started (or joined) garbage collection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GcStarted {
    /// The collection's uuid.
    pub uuid: GcId,
    /// The record as the API returned it.
    pub collection: types::GarbageCollection,
    /// `true` when this call did not start it: one was running already (and attaching was
    /// allowed), or the start failed ambiguously and the active one was found instead.
    pub attached: bool,
}

/// Starts a garbage collection. By default its type is [`GcType::UnreferencedBlobs`] and a
/// collection already running is joined rather than reported as an error.
#[must_use = "nothing is sent until `send`"]
pub struct StartGarbageCollection {
    pub(super) client: Client,
    pub(super) registry: RegistryName,
    /// `None`: no type is sent and the server's default applies.
    pub(super) gc_type: Option<GcType>,
    pub(super) family: ApiFamily,
    pub(super) attach: bool,
}

impl StartGarbageCollection {
    /// What to collect.
    pub fn gc_type(mut self, gc_type: GcType) -> Self {
        self.gc_type = Some(gc_type);
        self
    }

    /// Sends no type: the server picks its default (the call then has no body, as
    /// DigitalOcean's spec and pydo have it).
    pub fn server_default_type(mut self) -> Self {
        self.gc_type = None;
        self
    }

    /// Which endpoint family to call.
    pub fn family(mut self, family: ApiFamily) -> Self {
        self.family = family;
        self
    }

    /// Whether a collection already running is joined (default) or an error.
    pub fn attach_to_running(mut self, attach: bool) -> Self {
        self.attach = attach;
        self
    }

    /// Sends the start. A start that failed in a way the server may have acted on (5xx, lost
    /// connection) is never repeated: the active collection is looked up instead.
    pub async fn send(self) -> Result<GcStarted, Error> {
        let body = types::RegistryRunGc {
            type_: self.gc_type.map(Into::into),
        };
        let result = for_family!(
            self.family,
            self.client,
            registries_run_garbage_collection | registry_run_garbage_collection,
            |call| call.registry_name(&self.registry).body(body).send().await
        );
        let error = match result.map_err(Error::from) {
            Ok(response) => return started(response.into_inner().garbage_collection, false),
            Err(e) => e,
        };
        let conflict = error.status() == Some(StatusCode::CONFLICT) && self.attach;
        let ambiguous = matches!(error, Error::Transport(_))
            || error.status().is_some_and(|s| s.is_server_error());
        if !(conflict || ambiguous) {
            return Err(error);
        }
        tracing::info!(registry = %self.registry, %error, "start failed; looking for the active garbage collection");
        match self
            .client
            .active_garbage_collection(&self.registry, self.family)
            .await
        {
            Ok(Some(active)) => started(Some(active), true),
            _ => Err(error),
        }
    }
}

fn started(gc: Option<types::GarbageCollection>, attached: bool) -> Result<GcStarted, Error> {
    let broken = |problem: &str| Error::Protocol {
        what: "the API's answer to a garbage collection's start".into(),
        problem: problem.into(),
    };
    let collection = gc.ok_or_else(|| broken("it holds no `garbage_collection`"))?;
    let uuid = collection
        .uuid
        .as_deref()
        .ok_or_else(|| broken("its garbage collection has no uuid"))?;
    let uuid = GcId::new(uuid).map_err(|e| broken(&e.to_string()))?;
    Ok(GcStarted {
        uuid,
        collection,
        attached,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_without_its_collection_or_uuid_breaks_the_protocol() {
        let missing = started(None, false).unwrap_err();
        let no_uuid = started(Some(types::GarbageCollection::default()), true).unwrap_err();
        for (err, says) in [
            (missing, "it holds no `garbage_collection`"),
            (no_uuid, "its garbage collection has no uuid"),
        ] {
            let Error::Protocol { what, problem } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(what, "the API's answer to a garbage collection's start");
            assert_eq!(problem, says);
        }
        let whole = types::GarbageCollection {
            uuid: Some("eff0feee-49c7-4e8f-ba5c-a320c109c8a8".into()),
            ..Default::default()
        };
        let ok = started(Some(whole), true).unwrap();
        assert_eq!(ok.uuid.as_str(), "eff0feee-49c7-4e8f-ba5c-a320c109c8a8");
        let odd = types::GarbageCollection {
            uuid: Some("not/a-uuid".into()),
            ..Default::default()
        };
        let Error::Protocol { problem, .. } = started(Some(odd), true).unwrap_err() else {
            panic!("a uuid that is no id breaks the protocol");
        };
        assert!(problem.contains("not/a-uuid"), "{problem}");
    }
}
