//! `cargo xtask` chores for docr. The library half is what the crate's drift test reuses.

pub mod bundle;
pub mod patches;
pub mod regen;
