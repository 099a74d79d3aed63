//! The hand-written layer: what takes several calls or care.
//!
//! | capability | where |
//! |---|---|
//! | building a client: token, URL, timeouts | [`client`] |
//! | auth, pacing, retries and tracing of every call | [`transport`], [`retry`], [`rate_limit`] |
//! | injectable time | [`clock`] |
//! | errors | [`error`] |

pub mod client;
pub mod clock;
pub mod error;
pub mod rate_limit;
pub mod retry;
pub mod transport;

pub use client::{ClientBuilder, Token};
pub use error::{ApiError, Error};
pub use rate_limit::{Pacing, RateLimit};
pub use retry::RetryPolicy;
pub mod names;
pub mod pagination;

pub use names::{Digest, ImageReference, NameError, RegistryName, RepositoryName, Tag};
pub use pagination::{ApiFamily, ListExt, PagedList, TokenList};
pub mod garbage_collection;

pub use garbage_collection::{GarbageCollectionExt, GcStatus, GcType, PollSchedule};
pub mod credentials;

pub use credentials::{CredentialsExt, RegistryCredentials};
pub mod prune;

pub use prune::{Plan, PruneExt, RetentionPolicy};
