//! The hand-written layer: what takes several calls or care. Its capability modules are
//! public at the crate root (`docr::prune`, `docr::registry`, ...); the types nearly every
//! program names are re-exported at the root too.
//!
//! | capability | module | file |
//! |---|---|---|
//! | building a client: token, URL, timeouts, policies | `docr::client` | `ext/client.rs` |
//! | auth, pacing, retries and tracing of every call | (inside) | `ext/transport.rs`, `retry.rs`, `rate_limit.rs` |
//! | injectable time | `docr::client` | `ext/clock.rs` |
//! | errors | `docr::Error` | `ext/error.rs` |
//! | names | `docr::names` | `ext/names.rs` |
//! | the two API families | `docr::client` | `ext/family.rs` |
//! | every page as a stream | `docr::pagination` | `ext/pagination.rs` (`pagination/*.rs`) |
//! | garbage collection | `docr::garbage_collection` | `ext/garbage_collection.rs` (`garbage_collection/*.rs`) |
//! | Docker and Kubernetes credentials | `docr::credentials` | `ext/credentials.rs` |
//! | the registry's read side: manifests, tags, referrers | `docr::registry` | `ext/registry.rs` (`registry/*.rs`) |
//! | retention pruning | `docr::prune` | `ext/prune.rs` (`prune/*.rs`) |
//! | the way back: undo journal and restore | `docr::undo` | `ext/undo.rs` (`undo/*.rs`) |
//! | human sizes | `docr::HumanBytes` | `ext/size.rs` |
//! | times in answers, read fast | (inside) | `ext/time.rs` |

pub mod client;
mod clock;
pub mod credentials;
pub(crate) mod error;
mod family;
pub mod garbage_collection;
pub mod names;
pub mod pagination;
pub mod prune;
mod rate_limit;
pub mod registry;
mod retry;
pub(crate) mod size;
pub(crate) mod time;
pub(crate) mod transport;
pub mod undo;
