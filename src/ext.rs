//! The hand-written layer: what takes several calls or care. Its modules are private; every
//! public item is re-exported once, at the crate root.
//!
//! | capability | file |
//! |---|---|
//! | building a client: token, URL, timeouts | `ext/client.rs` |
//! | auth, pacing, retries and tracing of every call | `ext/transport.rs`, `retry.rs`, `rate_limit.rs` |
//! | injectable time | `ext/clock.rs` |
//! | errors | `ext/error.rs` |
//! | names | `ext/names.rs` |
//! | the two API families | `ext/family.rs` |
//! | every page as a stream | `ext/pagination.rs` (`pagination/*.rs`) |
//! | garbage collection | `ext/garbage_collection.rs` (`garbage_collection/*.rs`) |
//! | Docker and Kubernetes credentials | `ext/credentials.rs` |
//! | the registry's read side: manifests, tags, referrers | `ext/registry.rs` (`registry/*.rs`) |
//! | retention pruning | `ext/prune.rs` (`prune/*.rs`) |
//! | the way back: undo journal and restore | `ext/undo.rs` (`undo/*.rs`) |
//! | human sizes | `ext/size.rs` |
//! | times in answers, read fast | `ext/time.rs` |

mod client;
mod clock;
mod credentials;
mod error;
mod family;
mod garbage_collection;
mod names;
mod pagination;
mod prune;
mod rate_limit;
mod registry;
mod retry;
mod size;
pub(crate) mod time;
pub(crate) mod transport;
mod undo;

pub use client::{
    API_URL_VARIABLE, ClientBuilder, DEFAULT_API_URL, DEFAULT_MAX_IN_FLIGHT, DEFAULT_REGISTRY_URL,
    REGISTRY_URL_VARIABLE, TOKEN_VARIABLES, Token,
};
#[cfg(feature = "test-util")]
pub use clock::TestClock;
pub use clock::{Clock, SystemClock};
pub use credentials::{
    CredentialsExt, DockerCredentialsRequest, RegistryCredentials, check_secret_names,
    default_secret_name, docker_config_dir, merge_docker_config, merge_docker_config_for,
};
pub use error::{ApiError, Error};
pub use family::ApiFamily;
pub use garbage_collection::{
    GarbageCollectionExt, GcStarted, GcStatus, GcType, PollSchedule, StartGarbageCollection,
    WaitForGarbageCollection,
};
pub use names::{
    Digest, ImageReference, NameError, REGISTRY_HOST, RegistryName, RepositoryName, Tag,
};
pub use pagination::{DEFAULT_CONCURRENCY, ListExt, MAX_PER_PAGE, PagedList, TokenList};
pub use prune::{
    AppliedItem, ApplyPrune, ApplyReport, BlockReason, DEFAULT_APPLY_CONCURRENCY, DEFAULT_GRACE,
    DEFAULT_PLAN_CONCURRENCY, DEFAULT_READ_CONCURRENCY, GarbageCollectionOutcome, ImageFacts,
    ImageInUse, ImageVerdict, ImagesInUse, InUseError, InUseMatch, ItemOutcome, KeepReason,
    ManifestRole, PLAN_FORMAT_VERSION, Plan, PlanPrune, PlanTotals, PlannedDeletion, PruneExt,
    PruneReason, ReadFailure, RepositoryError, RepositoryPlan, RepositoryStructure,
    RetentionPolicy, SkipReason, Verdict, Workload, plan_repository,
};
pub use rate_limit::{Pacing, RateLimit};
pub use registry::{
    ACCEPTED_MANIFEST_TYPES, DEFAULT_MANIFEST_CACHE_BYTES, DOCKER_LIST, DOCKER_MANIFEST,
    Descriptor, FetchedManifest, ManifestCache, ManifestKind, ManifestStructure, OCI_INDEX,
    OCI_MANIFEST, Platform, READER_CREDENTIALS_EXPIRY, RESTORE_CREDENTIALS_EXPIRY, RegistryExt,
    RegistryReader, is_attestation,
};
pub use retry::RetryPolicy;
pub use size::HumanBytes;
pub use undo::{
    DEFAULT_RESTORE_CONCURRENCY, JOURNAL_FORMAT_VERSION, Journal, JournalFile, JournaledCollection,
    JournaledManifest, Missing, MovedTag, RestoreExt, RestoreJournal, RestoreOutcome,
    RestoreReport, RestoredImage,
};
