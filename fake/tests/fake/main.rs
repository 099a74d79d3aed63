//! The embedded DOCR over HTTP: its state, its garbage collection, the deprecated family and
//! its HTTP conduct, each answer checked against the spec's schemas.

mod deprecated;
mod gc;
mod http;
mod prune_with_skopeo;
mod real_tools;
mod registry;
mod registry_listings;
mod registry_restore;
mod registry_state;
mod state;
mod support;
