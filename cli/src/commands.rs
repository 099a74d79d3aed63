//! One module per command of `docr --help`, named for it (`validate-name` in
//! `validate_name.rs`). Each holds the command's arguments (with their help) and its `run`,
//! which takes the [`Context`](crate::context::Context); what several commands share lives
//! outside this folder, so that no command imports another but `registries` and
//! `subscription`, which check a tier or region against [`options`].

pub mod completions;
pub mod docker_config;
#[cfg(feature = "fake")]
pub mod fake;
pub mod gc;
pub mod k8s_secret;
pub mod kubernetes;
pub mod login;
pub mod logout;
pub mod manifests;
pub mod options;
pub mod policy;
pub mod prune;
pub mod registries;
pub mod repos;
pub mod restore;
pub mod subscription;
pub mod tags;
pub mod validate_name;
