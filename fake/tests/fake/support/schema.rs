//! A small, strict check of JSON against `spec/registry.yaml`: `$ref`, `allOf`, `oneOf`,
//! types, `required`, string `enum`s, `date-time`, and no property the schema does not declare.

use serde_json::Value;

pub struct Spec(Value);

impl Spec {
    pub fn load() -> Self {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/registry.yaml"
        ))
        .expect("spec/registry.yaml");
        Self(serde_yaml::from_str(&text).expect("the spec is YAML"))
    }

    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let path = reference.trim_start_matches("#/");
            node = path
                .split('/')
                .fold(&self.0, |at, key| &at[key.replace("~1", "/")]);
            assert!(!node.is_null(), "unresolved {reference}");
        }
        node
    }

    /// The operation with this operationId.
    fn operation(&self, operation_id: &str) -> &Value {
        self.0["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
            .find(|op| op["operationId"] == operation_id)
            .unwrap_or_else(|| panic!("no operation {operation_id} in the spec"))
    }

    /// Checks an answer of `operation_id`: the status is declared, and the body is what the
    /// declared response holds (no body where it declares no content).
    pub fn check(
        &self,
        operation_id: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Result<(), String> {
        let responses = &self.operation(operation_id)["responses"];
        let range = format!("{}XX", status / 100);
        let response = [status.to_string(), range]
            .iter()
            .map(|key| &responses[key.as_str()])
            .find(|r| !r.is_null())
            .ok_or_else(|| format!("{operation_id}: status {status} is not declared"))?;
        let response = self.resolve(response);
        let schema = &response["content"]["application/json"]["schema"];
        match (schema.is_null(), body) {
            (true, None) => Ok(()),
            (true, Some(body)) => Err(format!(
                "{operation_id}: {status} declares no body, got {body}"
            )),
            (false, None) => Err(format!(
                "{operation_id}: {status} declares a body, got none"
            )),
            (false, Some(body)) => self
                .validate(schema, body, "$")
                .map_err(|e| format!("{operation_id} {status}: {e}")),
        }
    }

    pub fn validate(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(options) = schema["oneOf"].as_array() {
            let fits = options
                .iter()
                .filter(|s| self.validate(s, value, at).is_ok())
                .count();
            if fits != 1 {
                return Err(format!("{at}: fits {fits} of the oneOf options"));
            }
        }
        let kind = schema["type"].as_str().or_else(|| {
            let object = !schema["properties"].is_null() || !schema["allOf"].is_null();
            object.then_some("object")
        });
        match (kind, value) {
            (None, _) => Ok(()),
            (Some("object"), Value::Object(map)) => {
                let (properties, required) = self.members(schema);
                for name in required {
                    if !map.contains_key(&name) {
                        return Err(format!("{at}: required `{name}` is missing"));
                    }
                }
                for (name, item) in map {
                    let declared = properties
                        .iter()
                        .find(|(n, _)| n == name)
                        .ok_or_else(|| format!("{at}: `{name}` is not declared"))?;
                    self.validate(declared.1, item, &format!("{at}.{name}"))?;
                }
                Ok(())
            }
            (Some("array"), Value::Array(items)) => {
                items.iter().enumerate().try_for_each(|(i, item)| {
                    self.validate(&schema["items"], item, &format!("{at}[{i}]"))
                })
            }
            (Some("string"), Value::String(s)) => {
                if let Some(allowed) = schema["enum"].as_array()
                    && !allowed.iter().any(|a| a == s)
                {
                    return Err(format!("{at}: `{s}` is not one of {allowed:?}"));
                }
                if schema["format"] == "date-time"
                    && chrono::DateTime::parse_from_rfc3339(s).is_err()
                {
                    return Err(format!("{at}: `{s}` is not a date-time"));
                }
                Ok(())
            }
            (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
            (Some("number"), Value::Number(_)) | (Some("boolean"), Value::Bool(_)) => Ok(()),
            (Some(kind), other) => Err(format!("{at}: expected {kind}, got {other}")),
        }
    }

    /// Every declared property (name, schema) and required name, through `allOf`.
    fn members<'a>(&'a self, schema: &'a Value) -> (Vec<(String, &'a Value)>, Vec<String>) {
        let schema = self.resolve(schema);
        let mut properties: Vec<(String, &Value)> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v))
            .collect();
        let mut required: Vec<String> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            let (p, r) = self.members(part);
            properties.extend(p);
            required.extend(r);
        }
        (properties, required)
    }
}
