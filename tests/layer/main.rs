//! The hand-written layer: pages, garbage collection, retries, credentials, names, and how it
//! holds up under faults and load.

#[path = "../support/mod.rs"]
mod support;

#[cfg(unix)]
mod config_crash;
mod credentials;
mod garbage_collection;
mod load;
mod name_properties;
mod names;
mod pagination;
mod resilience;
mod retries;
