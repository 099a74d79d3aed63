//! The generated calls on the wire: every operation against the spec, the spec's examples, the
//! godo and pydo vectors, client construction, and errors.

#[path = "../support/mod.rs"]
mod support;

mod client;
mod conformance;
mod errors;
mod operations;
mod spec_examples;
