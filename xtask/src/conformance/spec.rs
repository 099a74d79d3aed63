//! What a spec allows a request to carry, per operation: the method, the path template, the
//! query parameters and whether a body may (or must) be sent.
//!
//! Prism checks requests too, but it does not object to query parameters the spec does not
//! declare; this is the second opinion that catches them.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use xtask::bundle;

/// Whether an operation takes a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRule {
    None,
    Optional,
    Required,
}

/// One operation as the spec declares it.
#[derive(Clone, Debug)]
pub struct Operation {
    pub method: String,
    pub template: String,
    pub query: BTreeSet<String>,
    pub body: BodyRule,
}

/// Every operation of a spec, by operationId.
pub type Operations = BTreeMap<String, Operation>;

/// The vendored fragment: one bundled file.
pub fn vendored(file: &Path) -> Result<Operations, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not valid YAML: {e}", file.display()))?;
    operations(&bundle::yaml_to_json(yaml)).map_err(|e| format!("{}: {e}", file.display()))
}

/// The registry operations of the upstream split spec, bundled as `regen` does but unpatched.
pub fn upstream(root_file: &Path) -> Result<Operations, String> {
    let root = root_file.parent().unwrap_or(Path::new("."));
    let bundled = bundle::bundle(root)?;
    operations(&bundled.document).map_err(|e| format!("{}: {e}", root_file.display()))
}

fn operations(doc: &Value) -> Result<Operations, String> {
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("no `paths`")?;
    let mut out = Operations::new();
    for (template, item) in paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{method} {template} has no operationId"))?;
            let mut query = BTreeSet::new();
            for parameter in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let parameter = resolve(doc, parameter)?;
                if parameter.get("in").and_then(Value::as_str) == Some("query") {
                    let name = parameter
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("{id}: a query parameter without a name"))?;
                    query.insert(name.to_string());
                }
            }
            let body = match op.get("requestBody") {
                None => BodyRule::None,
                Some(body) if resolve(doc, body)?.get("required") == Some(&Value::Bool(true)) => {
                    BodyRule::Required
                }
                Some(_) => BodyRule::Optional,
            };
            let operation = Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                query,
                body,
            };
            if out.insert(id.to_string(), operation).is_some() {
                return Err(format!("operationId {id} appears twice"));
            }
        }
    }
    Ok(out)
}

/// Follows local `$ref`s (the documents are bundled: every reference is local).
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> Result<&'a Value, String> {
    let mut node = node;
    for _ in 0..32 {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
            return Ok(node);
        };
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| format!("`$ref: {reference}` is not local"))?;
        node = doc
            .pointer(pointer)
            .ok_or_else(|| format!("dangling `$ref: {reference}`"))?;
    }
    Err("a `$ref` cycle".into())
}
