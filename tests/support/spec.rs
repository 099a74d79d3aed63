//! The vendored spec, read at test time: the document, `$ref`s followed, every operation.

use serde_json::Value;
use std::sync::LazyLock;

/// `spec/registry.yaml` as JSON (its keys are all strings: status codes are quoted).
pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/registry.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not a JSON-shaped YAML: {e}"))
});

/// Follows `$ref`s inside the spec.
pub fn resolve(node: &Value) -> &Value {
    let mut node = node;
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let pointer = reference
            .strip_prefix('#')
            .expect("the spec is bundled: local refs only");
        node = SPEC
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    node
}

/// One operation of the spec.
pub struct SpecOperation {
    pub id: &'static str,
    /// Upper case: `GET`, `DELETE`, ...
    pub method: String,
    /// The path template, `{name}` for each parameter.
    pub path: &'static str,
    pub operation: &'static Value,
}

/// Every operation of the spec, in the spec's order.
pub fn operations() -> Vec<SpecOperation> {
    let paths = SPEC["paths"].as_object().expect("the spec has paths");
    let mut all = Vec::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .expect("every operation has an id");
                all.push(SpecOperation {
                    id,
                    method: method.to_uppercase(),
                    path: path.as_str(),
                    operation,
                });
            }
        }
    }
    all
}

/// Every operation id of the spec.
pub fn operation_ids() -> Vec<&'static str> {
    operations().into_iter().map(|op| op.id).collect()
}
