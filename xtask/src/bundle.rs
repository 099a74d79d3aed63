//! Bundles the registry operations of the split upstream spec into one document.
//!
//! Every external `$ref` is resolved into `components`, named after the file (or the
//! fragment's last segment), so the output is self-contained and stable across runs.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The component sections a `$ref` can land in, in the order they are written.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Kind {
    Schemas,
    Responses,
    Parameters,
    Headers,
    RequestBodies,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Schemas,
        Kind::Responses,
        Kind::Parameters,
        Kind::Headers,
        Kind::RequestBodies,
    ];

    pub fn section(self) -> &'static str {
        match self {
            Kind::Schemas => "schemas",
            Kind::Responses => "responses",
            Kind::Parameters => "parameters",
            Kind::Headers => "headers",
            Kind::RequestBodies => "requestBodies",
        }
    }
}

/// One operation picked from the upstream `paths`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub operation_id: String,
}

/// The result of bundling, before patches.
pub struct Bundle {
    pub document: Value,
    pub operations: Vec<Operation>,
    /// Every file read, relative to the specification root, with its bytes.
    pub inputs: BTreeMap<String, Vec<u8>>,
}

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// Whether an upstream path belongs to the registry fragment.
pub fn is_registry_path(path: &str) -> bool {
    path == "/v2/registry"
        || path.starts_with("/v2/registry/")
        || path == "/v2/registries"
        || path.starts_with("/v2/registries/")
        || path == "/v2/kubernetes/registry"
        || path == "/v2/kubernetes/registries"
}

struct Bundler {
    root: PathBuf,
    files: BTreeMap<PathBuf, Value>,
    inputs: BTreeMap<String, Vec<u8>>,
    /// (kind, file, pointer) -> component name.
    names: BTreeMap<(Kind, PathBuf, String), String>,
    components: BTreeMap<Kind, BTreeMap<String, Value>>,
}

/// Reads `DigitalOcean-public.v2.yaml` under `root` and bundles the registry operations.
pub fn bundle(root: &Path) -> Result<Bundle, String> {
    // Canonical, so that recorded input paths do not depend on how the root was spelled.
    let root =
        std::fs::canonicalize(root).map_err(|e| format!("cannot open {}: {e}", root.display()))?;
    let root = root.as_path();
    let mut b = Bundler {
        root: root.to_path_buf(),
        files: BTreeMap::new(),
        inputs: BTreeMap::new(),
        names: BTreeMap::new(),
        components: BTreeMap::new(),
    };
    let root_file = root.join("DigitalOcean-public.v2.yaml");
    let doc = b.load(&root_file)?;

    let mut paths = Map::new();
    let mut operations = Vec::new();
    let upstream_paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the root document has no `paths`")?;
    for (path, item) in upstream_paths {
        if !is_registry_path(path) {
            continue;
        }
        let item = item
            .as_object()
            .ok_or_else(|| format!("path {path} is not an object"))?;
        let mut out = Map::new();
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                return Err(format!("path {path} has an unexpected key `{method}`"));
            }
            let (file, op) = match op.get("$ref").and_then(Value::as_str) {
                Some(r) => b.follow(&root_file, r)?,
                None => (root_file.clone(), op.clone()),
            };
            let op = b
                .operation(&file, &op)
                .map_err(|e| format!("{method} {path}: {e}"))?;
            let operation_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{method} {path} has no operationId"))?
                .to_string();
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                operation_id,
            });
            out.insert(method.clone(), op);
        }
        paths.insert(path.clone(), Value::Object(out));
    }

    // Only the scheme these operations use; the spec also defines others (inference).
    let bearer = doc
        .pointer("/components/securitySchemes/bearer_auth")
        .cloned()
        .ok_or("the root document has no bearer_auth security scheme")?;
    let security_schemes = json!({ "bearer_auth": bearer });
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    let mut components = Map::new();
    for kind in Kind::ALL {
        if let Some(entries) = b.components.remove(&kind) {
            components.insert(
                kind.section().to_string(),
                Value::Object(entries.into_iter().collect()),
            );
        }
    }
    components.insert("securitySchemes".into(), security_schemes);

    let document = json!({
        "openapi": doc.get("openapi").cloned().unwrap_or(json!("3.0.0")),
        "info": {
            "title": "DigitalOcean API: Container Registry",
            "version": info.get("version").cloned().unwrap_or(json!("2.0")),
            "description": "The Container Registry operations of DigitalOcean's public API v2, \
                bundled and patched by `cargo xtask regen` for the docr crate.",
            "license": info.get("license").cloned().unwrap_or(Value::Null),
        },
        "servers": doc.get("servers").cloned().unwrap_or(json!([])),
        "security": doc.get("security").cloned().unwrap_or(json!([])),
        "paths": Value::Object(paths),
        "components": Value::Object(components),
    });
    Ok(Bundle {
        document,
        operations,
        inputs: b.inputs,
    })
}

impl Bundler {
    fn load(&mut self, file: &Path) -> Result<Value, String> {
        if let Some(v) = self.files.get(file) {
            return Ok(v.clone());
        }
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let yaml: serde_yaml::Value = serde_yaml::from_slice(&bytes)
            .map_err(|e| format!("{} is not valid YAML: {e}", file.display()))?;
        let value = yaml_to_json(yaml);
        let rel = file
            .strip_prefix(&self.root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        self.inputs.insert(rel, bytes);
        self.files.insert(file.to_path_buf(), value.clone());
        Ok(value)
    }

    /// Splits a `$ref` into the file it names and the JSON pointer inside it.
    fn target(&self, from: &Path, reference: &str) -> (PathBuf, String) {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let file = if file.is_empty() {
            from.to_path_buf()
        } else {
            normalize(&from.parent().unwrap_or(Path::new("")).join(file))
        };
        (file, pointer.to_string())
    }

    /// Loads what a `$ref` points at, returning its file (the base for nested refs) and value.
    fn follow(&mut self, from: &Path, reference: &str) -> Result<(PathBuf, Value), String> {
        let (file, pointer) = self.target(from, reference);
        let doc = self.load(&file)?;
        let value = if pointer.is_empty() {
            doc
        } else {
            doc.pointer(&pointer).cloned().ok_or_else(|| {
                format!(
                    "`$ref: {reference}` from {}: no `{pointer}` in {}",
                    from.display(),
                    file.display()
                )
            })?
        };
        Ok((file, value))
    }

    /// Resolves a `$ref` into a component of `kind` and returns the local reference to it.
    fn component(&mut self, kind: Kind, from: &Path, reference: &str) -> Result<Value, String> {
        let (file, pointer) = self.target(from, reference);
        let key = (kind, file.clone(), pointer.clone());
        if let Some(name) = self.names.get(&key) {
            return Ok(local_ref(kind, name));
        }
        let name = self.name_for(kind, &file, &pointer)?;
        self.names.insert(key, name.clone());
        // Reserve the name before walking, so that recursive schemas terminate.
        self.components
            .entry(kind)
            .or_default()
            .insert(name.clone(), Value::Null);
        let (file, value) = self.follow(from, reference)?;
        let walked = match kind {
            Kind::Schemas => self.schema(&file, &value)?,
            Kind::Responses => self.response(&file, &value)?,
            Kind::Parameters => self.parameter(&file, &value)?,
            Kind::Headers => self.header(&file, &value)?,
            Kind::RequestBodies => self.request_body(&file, &value)?,
        };
        self.components
            .entry(kind)
            .or_default()
            .insert(name.clone(), walked);
        Ok(local_ref(kind, &name))
    }

    fn name_for(&self, kind: Kind, file: &Path, pointer: &str) -> Result<String, String> {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let last = pointer.rsplit('/').next().filter(|s| !s.is_empty());
        let base = last.map(str::to_string).unwrap_or(stem);
        let taken = |n: &str| {
            self.components
                .get(&kind)
                .is_some_and(|m| m.contains_key(n))
        };
        if !taken(&base) {
            return Ok(base);
        }
        // Two different sources share a name: qualify with the folder they live in.
        let folder = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let qualified = format!("{folder}_{base}");
        if taken(&qualified) {
            return Err(format!(
                "two sources want the {} name `{base}` (second: {}#{pointer})",
                kind.section(),
                file.display()
            ));
        }
        Ok(qualified)
    }

    /// A slot that holds either a `$ref` of `kind` or an inline object walked by `walk`.
    fn slot(
        &mut self,
        kind: Kind,
        file: &Path,
        value: &Value,
        walk: fn(&mut Self, &Path, &Value) -> Result<Value, String>,
    ) -> Result<Value, String> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => self.component(kind, file, r),
            None => walk(self, file, value),
        }
    }

    fn operation(&mut self, file: &Path, op: &Value) -> Result<Value, String> {
        let mut out = Map::new();
        for (key, value) in as_object(op)? {
            let walked = match key.as_str() {
                // Code samples are documentation for other languages.
                "x-codeSamples" => continue,
                "parameters" => Value::Array(
                    as_array(value)?
                        .iter()
                        .map(|p| self.slot(Kind::Parameters, file, p, Self::parameter))
                        .collect::<Result<_, _>>()?,
                ),
                "requestBody" => self.slot(Kind::RequestBodies, file, value, Self::request_body)?,
                "responses" => {
                    let mut responses = Map::new();
                    for (status, response) in as_object(value)? {
                        let r = self.slot(Kind::Responses, file, response, Self::response)?;
                        responses.insert(status.clone(), r);
                    }
                    Value::Object(responses)
                }
                _ => value.clone(),
            };
            out.insert(key.clone(), walked);
        }
        Ok(Value::Object(out))
    }

    fn parameter(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        self.map_keys(file, value, |b, file, key, v| match key {
            "schema" => b.slot(Kind::Schemas, file, v, Self::schema).map(Some),
            _ => Ok(None),
        })
    }

    fn header(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        self.parameter(file, value)
    }

    fn request_body(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        self.map_keys(file, value, |b, file, key, v| match key {
            "content" => b.content(file, v).map(Some),
            _ => Ok(None),
        })
    }

    fn response(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        self.map_keys(file, value, |b, file, key, v| match key {
            "content" => b.content(file, v).map(Some),
            "headers" => {
                let mut headers = Map::new();
                for (name, header) in as_object(v)? {
                    let h = b.slot(Kind::Headers, file, header, Self::header)?;
                    headers.insert(name.clone(), h);
                }
                Ok(Some(Value::Object(headers)))
            }
            _ => Ok(None),
        })
    }

    fn content(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        let mut out = Map::new();
        for (media_type, media) in as_object(value)? {
            let walked = self.map_keys(file, media, |b, file, key, v| match key {
                "schema" => b.slot(Kind::Schemas, file, v, Self::schema).map(Some),
                "examples" => {
                    // Examples are inlined: they are data, and no generator reads them by name.
                    let mut examples = Map::new();
                    for (name, example) in as_object(v)? {
                        let e = match example.get("$ref").and_then(Value::as_str) {
                            Some(r) => b.follow(file, r)?.1,
                            None => example.clone(),
                        };
                        examples.insert(name.clone(), e);
                    }
                    Ok(Some(Value::Object(examples)))
                }
                _ => Ok(None),
            })?;
            out.insert(media_type.clone(), walked);
        }
        Ok(Value::Object(out))
    }

    fn schema(&mut self, file: &Path, value: &Value) -> Result<Value, String> {
        if let Some(r) = value.get("$ref").and_then(Value::as_str) {
            return self.component(Kind::Schemas, file, r);
        }
        self.map_keys(file, value, |b, file, key, v| match key {
            "properties" => {
                let mut props = Map::new();
                for (name, prop) in as_object(v)? {
                    props.insert(name.clone(), b.schema(file, prop)?);
                }
                Ok(Some(Value::Object(props)))
            }
            "items" | "not" => b.schema(file, v).map(Some),
            "additionalProperties" if v.is_object() => b.schema(file, v).map(Some),
            "allOf" | "anyOf" | "oneOf" => Ok(Some(Value::Array(
                as_array(v)?
                    .iter()
                    .map(|s| b.schema(file, s))
                    .collect::<Result<_, _>>()?,
            ))),
            _ => Ok(None),
        })
    }

    /// Copies an object, letting `f` replace the value of the keys it knows.
    fn map_keys(
        &mut self,
        file: &Path,
        value: &Value,
        f: impl Fn(&mut Self, &Path, &str, &Value) -> Result<Option<Value>, String>,
    ) -> Result<Value, String> {
        if value.get("$ref").is_some() {
            return Err(format!("unexpected `$ref` in {}: {value}", file.display()));
        }
        let mut out = Map::new();
        for (key, v) in as_object(value)? {
            let walked = f(self, file, key, v)?.unwrap_or_else(|| v.clone());
            out.insert(key.clone(), walked);
        }
        Ok(Value::Object(out))
    }
}

fn local_ref(kind: Kind, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{}/{name}", kind.section()) })
}

fn as_object(v: &Value) -> Result<&Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("expected an object, found {v}"))
}

fn as_array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected an array, found {v}"))
}

/// Removes `.` and `..` segments without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// YAML allows non-string keys (`200:`); JSON Schema documents want strings.
pub fn yaml_to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim_end()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

/// Every `#/components/...` reference reachable from `paths`, transitively.
pub fn reachable_components(doc: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![doc.get("paths").cloned().unwrap_or(Value::Null)];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && let Some(ptr) = r.strip_prefix('#')
                    && seen.insert(ptr.to_string())
                    && let Some(target) = doc.pointer(ptr)
                {
                    stack.push(target.clone());
                }
                stack.extend(map.into_iter().map(|(_, v)| v));
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    seen
}

/// Drops the components nothing reaches any more (after patches replaced them).
pub fn prune_unreferenced(doc: &mut Value) {
    let reachable = reachable_components(doc);
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for kind in Kind::ALL {
            let section = kind.section();
            if let Some(entries) = components.get_mut(section).and_then(Value::as_object_mut) {
                entries
                    .retain(|name, _| reachable.contains(&format!("/components/{section}/{name}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_paths_are_exactly_the_three_families() {
        for path in [
            "/v2/registry",
            "/v2/registry/{registry_name}/repositories",
            "/v2/registries",
            "/v2/registries/options",
            "/v2/kubernetes/registry",
            "/v2/kubernetes/registries",
        ] {
            assert!(is_registry_path(path), "{path}");
        }
        for path in [
            "/v2/registryx",
            "/v2/kubernetes/clusters",
            "/v2/databases/{uuid}/schema-registry",
            "/v2/kubernetes/registries/extra",
        ] {
            assert!(!is_registry_path(path), "{path}");
        }
    }

    #[test]
    fn paths_normalize_without_the_file_system() {
        assert_eq!(
            normalize(Path::new("spec/resources/registry/../../shared/x.yml")),
            PathBuf::from("spec/shared/x.yml")
        );
    }
}
