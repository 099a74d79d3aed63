//! Every example `spec/registry.yaml` gives for a successful JSON response decodes into the
//! type the generated client returns for that operation, and keeps its fields doing so.
//!
//! Examples are found by walking the spec: for each operation and each 2xx response with JSON
//! content, the media type's `example`, each of its `examples.*.value`, and the `example` of the
//! response schema itself when it is an object.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;

/// Decodes an example into an operation's response type and encodes it back.
type Decoder = fn(Value) -> Result<Value, serde_json::Error>;

/// How many (operation, example) pairs the spec holds today; fewer means examples were lost.
const AT_LEAST: usize = 11;

/// Fields of the spec's examples the generated types do not keep, each for a known reason.
const DROPPED: &[(&str, &str)] = &[
    // The upstream examples misspell `compressed_size_bytes` on one blob.
    (
        "registries_list_repositoriesV2",
        "/repositories/0/latest_manifest/blobs/1/compressed_size_byte",
    ),
    (
        "registry_list_repositoriesV2",
        "/repositories/0/latest_manifest/blobs/1/compressed_size_byte",
    ),
    (
        "registries_list_repositoryManifests",
        "/manifests/0/blobs/1/compressed_size_byte",
    ),
    (
        "registry_list_repositoryManifests",
        "/manifests/0/blobs/1/compressed_size_byte",
    ),
];

fn roundtrip<T: DeserializeOwned + Serialize>(example: Value) -> Result<Value, serde_json::Error> {
    serde_json::to_value(serde_json::from_value::<T>(example)?)
}

/// The type each operation with a JSON success response returns, by spec operationId.
fn decoder(operation_id: &str) -> Option<Decoder> {
    use docr::types::*;
    Some(match operation_id {
        "registries_list" => roundtrip::<AllRegistriesInfoResponse>,
        "registries_create" => roundtrip::<MultiregistryInfoResponse>,
        "registries_get" => roundtrip::<MultiregistryInfoResponse>,
        "registries_get_dockerCredentials" => roundtrip::<DockerCredentials>,
        "registries_get_subscription" => roundtrip::<SubscriptionResponse>,
        "registries_update_subscription" => roundtrip::<SubscriptionResponse>,
        "registries_get_options" => roundtrip::<RegistryOptionsResponse>,
        "registries_get_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registries_run_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registries_list_garbageCollections" => roundtrip::<GarbageCollectionsResponse>,
        "registries_update_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registries_list_repositoriesV2" => roundtrip::<AllRepositoriesV2Response>,
        "registries_list_repositoryTags" => roundtrip::<RepositoryTagsResponse>,
        "registries_list_repositoryManifests" => roundtrip::<RepositoryManifestsResponse>,
        "registry_get" => roundtrip::<RegistryInfoResponse>,
        "registry_create" => roundtrip::<RegistryInfoResponse>,
        "registry_get_subscription" => roundtrip::<SubscriptionResponse>,
        "registry_update_subscription" => roundtrip::<SubscriptionResponse>,
        "registry_get_dockerCredentials" => roundtrip::<DockerCredentials>,
        "registry_list_repositories" => roundtrip::<AllRepositoriesResponse>,
        "registry_list_repositoriesV2" => roundtrip::<AllRepositoriesV2Response>,
        "registry_list_repositoryTags" => roundtrip::<RepositoryTagsResponse>,
        "registry_list_repositoryManifests" => roundtrip::<RepositoryManifestsResponse>,
        "registry_run_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registry_get_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registry_list_garbageCollections" => roundtrip::<GarbageCollectionsResponse>,
        "registry_update_garbageCollection" => roundtrip::<GarbageCollectionResponse>,
        "registry_get_options" => roundtrip::<RegistryOptionsResponse>,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Walking the spec.

use crate::support::spec::{SPEC, resolve};

/// A JSON success response of one operation.
struct JsonResponse {
    operation: &'static str,
    status: &'static str,
    media: &'static Value,
}

/// Every 2xx response with `application/json` content, and the operations without one.
fn json_responses() -> (Vec<JsonResponse>, Vec<&'static str>) {
    let mut with = Vec::new();
    let mut without = Vec::new();
    for item in SPEC["paths"]
        .as_object()
        .expect("the spec has paths")
        .values()
    {
        for method in ["get", "put", "post", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"]
                .as_str()
                .expect("every operation has an id");
            let responses = operation["responses"]
                .as_object()
                .expect("every operation has responses");
            let before = with.len();
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
                if let Some(media) = resolve(response).pointer("/content/application~1json") {
                    with.push(JsonResponse {
                        operation: id,
                        status,
                        media,
                    });
                }
            }
            if with.len() == before {
                without.push(id);
            }
        }
    }
    (with, without)
}

/// One example of a JSON success response.
struct Example {
    operation: &'static str,
    /// Where it sits, for messages: `201 media example`, `200 schema example of #/...`.
    label: String,
    value: Value,
}

fn examples() -> Vec<Example> {
    let mut found = Vec::new();
    for JsonResponse {
        operation,
        status,
        media,
    } in json_responses().0
    {
        let mut add = |label: String, value: &Value| {
            found.push(Example {
                operation,
                label: format!("{status} {label}"),
                value: value.clone(),
            })
        };
        if let Some(example) = media.get("example") {
            add("media example".into(), example);
        }
        for (name, example) in media
            .get("examples")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = resolve(example)
                .get("value")
                .unwrap_or_else(|| panic!("{operation}: examples.{name} has no value"));
            add(format!("examples.{name}"), value);
        }
        if let Some(schema) = media.get("schema") {
            let example = resolve(schema).get("example").filter(|e| e.is_object());
            if let Some(example) = example {
                let name = schema
                    .get("$ref")
                    .and_then(Value::as_str)
                    .unwrap_or("inline");
                add(format!("schema example of {name}"), example);
            }
        }
    }
    found
}

/// JSON pointers of the fields in `example` that `kept` lacks (empty arrays count as absent).
fn dropped_fields(example: &Value, kept: &Value, at: &str, out: &mut Vec<String>) {
    match (example, kept) {
        (Value::Object(fields), Value::Object(kept_fields)) => {
            for (name, value) in fields {
                let here = format!("{at}/{name}");
                match kept_fields.get(name) {
                    Some(kept_value) => dropped_fields(value, kept_value, &here, out),
                    None if value.is_null() || value == &Value::Array(Vec::new()) => {}
                    None => out.push(here),
                }
            }
        }
        (Value::Array(items), Value::Array(kept_items)) => {
            for (i, (item, kept_item)) in items.iter().zip(kept_items).enumerate() {
                dropped_fields(item, kept_item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn every_operation_with_a_json_success_response_has_a_decoder() {
    let (with, without) = json_responses();
    let missing: BTreeSet<&str> = with
        .iter()
        .map(|r| r.operation)
        .filter(|op| decoder(op).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "operations with a JSON success response but no arm in `decoder`: {missing:?}"
    );
    let stray: Vec<&str> = without
        .into_iter()
        .filter(|op| decoder(op).is_some())
        .collect();
    assert!(
        stray.is_empty(),
        "`decoder` maps operations whose success response has no JSON body: {stray:?}"
    );
}

#[test]
fn every_response_example_decodes_into_its_operations_type() {
    let mut decoded = 0;
    let mut failures = Vec::new();
    for example in examples() {
        let Some(decode) = decoder(example.operation) else {
            failures.push(format!(
                "{} ({}): no decoder",
                example.operation, example.label
            ));
            continue;
        };
        match decode(example.value) {
            Ok(_) => decoded += 1,
            Err(e) => failures.push(format!("{} ({}): {e}", example.operation, example.label)),
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not decode:\n{}",
        failures.join("\n")
    );
    assert!(
        decoded >= AT_LEAST,
        "{decoded} examples decoded, expected at least {AT_LEAST}: were examples dropped from the spec?"
    );
}

#[test]
fn decoding_keeps_every_field_of_the_examples_but_the_known_gaps() {
    let mut dropped = BTreeSet::new();
    for example in examples() {
        let decode = decoder(example.operation)
            .unwrap_or_else(|| panic!("{}: no decoder", example.operation));
        let kept = decode(example.value.clone())
            .unwrap_or_else(|e| panic!("{} ({}): {e}", example.operation, example.label));
        let mut fields = Vec::new();
        dropped_fields(&example.value, &kept, "", &mut fields);
        dropped.extend(fields.into_iter().map(|field| (example.operation, field)));
    }
    let known: BTreeSet<(&str, String)> = DROPPED
        .iter()
        .map(|(op, field)| (*op, field.to_string()))
        .collect();
    let unexpected: Vec<_> = dropped.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&dropped).collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "fields of the spec's examples the generated types drop: {unexpected:?}; \
         listed in DROPPED but kept now (remove them): {fixed:?}"
    );
}
