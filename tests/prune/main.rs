//! Retention pruning: plans, their application, and properties over random repositories.

#[path = "../support/mod.rs"]
mod support;

mod apply_and_plan;
mod properties;
