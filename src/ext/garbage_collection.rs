//! Garbage collection, start to finish: start one (or attach to the one running), then wait for
//! it with a deadline, reporting each status change.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::garbage_collection::GcType;
//! use std::time::Duration;
//!
//! # async fn run(client: Client) -> Result<(), docr::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let started = client
//!     .start_garbage_collection(&registry)
//!     .gc_type(GcType::Both)
//!     .send()
//!     .await?;
//! let done = client
//!     .wait_for_garbage_collection(&registry, &started.uuid)
//!     .on_status(|gc| eprintln!("{}", gc.status.as_deref().unwrap_or("?")))
//!     .wait(Duration::from_secs(30 * 60))
//!     .await?;
//! println!("freed {} bytes", done.freed_bytes.unwrap_or(0));
//! # Ok(()) }
//! ```

mod start;
mod status;
mod wait;

pub use start::{GcStarted, StartGarbageCollection};
pub use status::{GcStatus, GcType};
pub use wait::{PollSchedule, WaitForGarbageCollection};

use super::error::Error;
pub use super::names::GcId;
use super::names::RegistryName;
use crate::ext::family::{ApiFamily, for_family};
use crate::{Client, types};

/// Garbage collection, as methods of [`Client`].
pub trait GarbageCollectionExt {
    /// Starts a garbage collection; end with [`StartGarbageCollection::send`].
    fn start_garbage_collection(&self, registry: &RegistryName) -> StartGarbageCollection;
    /// Waits for a garbage collection; end with [`WaitForGarbageCollection::wait`].
    fn wait_for_garbage_collection(
        &self,
        registry: &RegistryName,
        uuid: &GcId,
    ) -> WaitForGarbageCollection;
    /// The running garbage collection, if any (`None` on 404).
    fn active_garbage_collection(
        &self,
        registry: &RegistryName,
        family: ApiFamily,
    ) -> impl Future<Output = Result<Option<types::GarbageCollection>, Error>> + Send;
}

impl GarbageCollectionExt for Client {
    fn start_garbage_collection(&self, registry: &RegistryName) -> StartGarbageCollection {
        StartGarbageCollection {
            client: self.clone(),
            registry: registry.clone(),
            gc_type: Some(GcType::default()),
            family: ApiFamily::default(),
            attach: true,
        }
    }

    fn wait_for_garbage_collection(
        &self,
        registry: &RegistryName,
        uuid: &GcId,
    ) -> WaitForGarbageCollection {
        WaitForGarbageCollection {
            client: self.clone(),
            registry: registry.clone(),
            uuid: uuid.clone(),
            family: ApiFamily::default(),
            on_status: None,
            cancel_on_deadline: false,
            schedule: PollSchedule::default(),
        }
    }

    async fn active_garbage_collection(
        &self,
        registry: &RegistryName,
        family: ApiFamily,
    ) -> Result<Option<types::GarbageCollection>, Error> {
        let result = for_family!(
            family,
            self,
            registries_get_garbage_collection | registry_get_garbage_collection,
            |call| call.registry_name(registry).send().await
        );
        match result.map_err(Error::from) {
            Ok(response) => Ok(response.into_inner().garbage_collection),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}
