//! Every operation of `spec/registry.yaml`, called through the generated client against a
//! loopback wiremock server: the request that leaves (method, raw path, query, body, headers)
//! is the one the spec describes, and the spec's own example decodes into typed values.
//!
//! The server answers with the status the spec gives and the spec's example for that response,
//! read from the spec at test time. Where the spec gives no example for a whole response, the
//! answer is composed from the examples it gives on the response schema's properties.

mod account;
mod examples;
mod exchange;
mod garbage_collection;
mod repositories;

use crate::support::spec::{self, resolve};
use serde_json::Value;
use std::collections::BTreeSet;

/// The sources of the tests, which name every operation they call.
const TESTS: [&str; 3] = [
    include_str!("operations/account.rs"),
    include_str!("operations/garbage_collection.rs"),
    include_str!("operations/repositories.rs"),
];

#[test]
fn the_tests_call_every_operation_of_the_spec() {
    let ids = spec::operation_ids();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "the spec names an operation twice");
    assert_eq!(ids.len(), 41, "the fragment's operation count changed");
    // A test names an operation by its id, or, run for both families, by the id's common end
    // (`Wire::of(family, "get_garbageCollection", ...)`); a wrong id fails that test itself.
    let named = |text: &str| {
        TESTS
            .iter()
            .any(|source| source.contains(&format!("\"{text}\"")))
    };
    let uncalled: Vec<&str> = ids
        .into_iter()
        .filter(|id| {
            let rest = id
                .strip_prefix("registries_")
                .or_else(|| id.strip_prefix("registry_"));
            !named(id) && !rest.is_some_and(named)
        })
        .collect();
    assert!(
        uncalled.is_empty(),
        "spec/registry.yaml has operations no test calls: {uncalled:?}"
    );
}

#[test]
fn every_json_success_response_has_an_example_to_answer_with() {
    for spec::SpecOperation { id, operation, .. } in spec::operations() {
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
            if let Some(media) = resolve(response).pointer("/content/application~1json") {
                let example = exchange::media_example(media);
                assert!(
                    matches!(example, Some(Value::Object(_))),
                    "{id} {status}: no example object to answer with: {example:?}"
                );
            }
        }
    }
}
