//! The named patches `regen` applies to the bundled fragment, in order.
//!
//! Each is a small function with one line saying why. They run on the bundle, where every
//! shared piece already sits in `components`, and fail loudly when what they patch is gone
//! (a newer upstream may have fixed it: then the patch is removed, not silently skipped).

use serde_json::{Map, Value, json};

pub struct Patch {
    pub name: &'static str,
    pub why: &'static str,
    pub apply: fn(&mut Value) -> Result<(), String>,
}

pub const PATCHES: &[Patch] = &[
    Patch {
        name: "error-ranges",
        why: "progenitor counts `default` as a success type and panics (upstream issue 950); \
              every 4xx, 5xx and `default` response becomes one `4XX` and one `5XX` range of \
              the shared error schema, so every error status is typed",
        apply: error_ranges,
    },
    Patch {
        name: "open-response-enums",
        why: "closed enums fail a whole response on a value the spec does not list; the live \
              API sends the garbage-collection status `waiting for delete requests` and the \
              spec's own example sends the eligibility reason `OverRegistryLimit`",
        apply: open_response_enums,
    },
    Patch {
        name: "gc-type-in-response",
        why: "the API returns the collection's `type` (godo and pydo decode it); the model lacks it",
        apply: gc_type_in_response,
    },
    Patch {
        name: "gc-list-pages",
        why: "the garbage-collection listing is paged like the others and the API sends `meta` \
              and `links` (its own example has `meta.total`; godo and pydo read both)",
        apply: gc_list_pages,
    },
    Patch {
        name: "optional-error-fields",
        why: "error bodies without `id` (godo's error tests) or `message` must still decode, \
              so that the status and request id of the error are kept",
        apply: optional_error_fields,
    },
    Patch {
        name: "flat-page-links",
        why: "`links.pages` is an anyOf of two allOfs and `{}`, which typify turns into three \
              flattened optionals; the data is one object with optional first/prev/next/last",
        apply: flat_page_links,
    },
    Patch {
        name: "hoist-response-schemas",
        why: "inline response schemas become one type per operation; named components let the \
              `/v2/registry` and `/v2/registries` families share one type per response",
        apply: hoist_response_schemas,
    },
    Patch {
        name: "docker-credentials-query",
        why: "`GET /v2/registries/{registry_name}/docker-credentials` accepts `read_write` and \
              `expiry_seconds` like the deprecated call (godo sends both); the spec omits them",
        apply: docker_credentials_query,
    },
    Patch {
        name: "gc-start-type-body",
        why: "`POST /v2/registries/{registry_name}/garbage-collection` accepts the optional \
              collection type body of the deprecated call (godo sends it); the spec omits it",
        apply: gc_start_type_body,
    },
    Patch {
        name: "registries-total-storage",
        why: "the registries listing carries `total_storage_usage_bytes`, the account's storage \
              over every registry (godo decodes it); the model lacks it",
        apply: registries_total_storage,
    },
    Patch {
        name: "open-request-regions-and-tiers",
        why: "regions and tiers open and close over time (the options call lists them); a closed \
              enum in the create and subscription bodies refuses a region DigitalOcean opened \
              after the spec was cut, before any request",
        apply: open_request_regions_and_tiers,
    },
    Patch {
        name: "path-parameter-patterns",
        why: "the generated client leaves `.`, `..` and `\\` unencoded in path parameters and the \
              URL parser then moves the request (a raw tag `..\\..\\web\\tags\\stable` deleted \
              another repository's tag); the name rules of DigitalOcean and of the distribution \
              spec as patterns make the builders refuse such values before sending",
        apply: path_parameter_patterns,
    },
    Patch {
        name: "fenced-description-code",
        why: "rustdoc compiles the indented code blocks of descriptions (shell commands) as Rust \
              doctests; fenced `text` blocks show the same and compile nothing",
        apply: fenced_description_code,
    },
];

const ERROR_RESPONSE: &str = "error";

fn error_ranges(doc: &mut Value) -> Result<(), String> {
    // One shared response: DigitalOcean's error body with the rate-limit headers.
    let headers = json!({
        "ratelimit-limit": {"$ref": "#/components/headers/ratelimit-limit"},
        "ratelimit-remaining": {"$ref": "#/components/headers/ratelimit-remaining"},
        "ratelimit-reset": {"$ref": "#/components/headers/ratelimit-reset"},
    });
    for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        get(doc, &format!("/components/headers/{name}"))?;
    }
    get(doc, "/components/schemas/error")?;
    let responses = object_mut(doc, "/components/responses")?;
    responses.insert(
        ERROR_RESPONSE.into(),
        json!({
            "description": "DigitalOcean's error body: a short `id`, a `message` and, on some \
                calls, a `request_id`.",
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
        }),
    );
    let error_ref = json!({"$ref": format!("#/components/responses/{ERROR_RESPONSE}")});
    for_each_operation(doc, |label, op| {
        let responses = op
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("{label} has no responses"))?;
        let before = responses.len();
        responses.retain(|status, _| status.starts_with('2'));
        if responses.is_empty() || responses.len() == before {
            return Err(format!("{label}: expected success and error responses"));
        }
        responses.insert("4XX".into(), error_ref.clone());
        responses.insert("5XX".into(), error_ref.clone());
        Ok(())
    })
}

fn open_response_enums(doc: &mut Value) -> Result<(), String> {
    for pointer in [
        "/components/schemas/garbage_collection/properties/status",
        "/components/schemas/subscription_tier_extended/properties/eligibility_reasons/items",
    ] {
        open_enum(get_mut(doc, pointer)?, pointer)?;
    }
    Ok(())
}

/// Turns a closed string enum into a string whose description lists the known values.
fn open_enum(schema: &mut Value, pointer: &str) -> Result<(), String> {
    let obj = schema
        .as_object_mut()
        .ok_or_else(|| format!("{pointer} is not a schema object"))?;
    let values = obj
        .remove("enum")
        .ok_or_else(|| format!("{pointer} has no enum to open"))?;
    let known: Vec<String> = values
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
        .collect();
    let description = obj
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end()
        .to_string();
    obj.insert(
        "description".into(),
        json!(format!(
            "{description} Known values: {}; others may appear.",
            known.join(", ")
        )),
    );
    Ok(())
}

fn gc_type_in_response(doc: &mut Value) -> Result<(), String> {
    let props = object_mut(doc, "/components/schemas/garbage_collection/properties")?;
    if props.contains_key("type") {
        return Err("garbage_collection already has `type`: drop this patch".into());
    }
    props.insert(
        "type".into(),
        json!({
            "type": "string",
            "example": "unreferenced blobs only",
            "description": "The type of this garbage collection. Known values: `untagged \
                manifests only`, `unreferenced blobs only`, `untagged manifests and \
                unreferenced blobs`; others may appear.",
        }),
    );
    Ok(())
}

fn gc_list_pages(doc: &mut Value) -> Result<(), String> {
    get(doc, "/components/schemas/meta_properties")?;
    get(doc, "/components/schemas/page_links")?;
    let schema = get_mut(
        doc,
        "/components/responses/garbage_collections/content/application~1json/schema",
    )?;
    let props = schema
        .pointer_mut("/properties")
        .and_then(Value::as_object_mut)
        .ok_or("the garbage-collection listing has no inline properties: review this patch")?;
    if props.contains_key("meta") || props.contains_key("links") {
        return Err(
            "the garbage-collection listing has meta or links already: drop this patch".into(),
        );
    }
    props.insert(
        "meta".into(),
        json!({"$ref": "#/components/schemas/meta_properties"}),
    );
    props.insert(
        "links".into(),
        json!({"$ref": "#/components/schemas/page_links"}),
    );
    Ok(())
}

fn optional_error_fields(doc: &mut Value) -> Result<(), String> {
    let error = object_mut(doc, "/components/schemas/error")?;
    error
        .remove("required")
        .ok_or("the error schema requires nothing already: drop this patch")?;
    Ok(())
}

fn flat_page_links(doc: &mut Value) -> Result<(), String> {
    let pages = get_mut(doc, "/components/schemas/page_links/properties/pages")?;
    if pages.get("anyOf").is_none() {
        return Err("page_links.pages is no longer an anyOf: review this patch".into());
    }
    let example = pages.get("example").cloned();
    *pages = json!({"$ref": "#/components/schemas/page_links_pages"});
    let link = |what: &str| json!({"type": "string", "description": format!("URI of the {what} page of the results.")});
    let mut schema = json!({
        "type": "object",
        "description": "Links to the other pages of a listing; each is present only when \
            that page exists.",
        "properties": {
            "first": link("first"),
            "prev": link("previous"),
            "next": link("next"),
            "last": link("last"),
        },
    });
    if let Some(Value::Object(mut ex)) = example {
        // The upstream example nests the links under a redundant `pages` key.
        if let Some(inner) = ex.remove("pages") {
            schema["example"] = inner;
        }
    }
    insert_component(doc, "schemas", "page_links_pages", schema)
}

fn hoist_response_schemas(doc: &mut Value) -> Result<(), String> {
    let names: Vec<String> = get(doc, "/components/responses")?
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut hoisted = 0;
    for name in names {
        let pointer = format!("/components/responses/{name}/content/application~1json/schema");
        let Some(schema) = doc.pointer_mut(&pointer) else {
            continue;
        };
        if schema.get("$ref").is_some() {
            continue;
        }
        let schema_name = if name.ends_with("_response") {
            name.clone()
        } else {
            format!("{name}_response")
        };
        let inline = std::mem::replace(
            schema,
            json!({"$ref": format!("#/components/schemas/{schema_name}")}),
        );
        insert_component(doc, "schemas", &schema_name, inline)?;
        hoisted += 1;
    }
    if hoisted == 0 {
        return Err("no inline response schema left to hoist: drop this patch".into());
    }
    Ok(())
}

fn docker_credentials_query(doc: &mut Value) -> Result<(), String> {
    for name in ["registry_read_write", "registry_expiry_seconds"] {
        get(doc, &format!("/components/parameters/{name}"))?;
    }
    let params = get_mut(
        doc,
        "/paths/~1v2~1registries~1{registry_name}~1docker-credentials/get/parameters",
    )?
    .as_array_mut()
    .ok_or("docker-credentials parameters is not a list")?;
    if params.len() != 1 {
        return Err("the docker-credentials call changed its parameters: review this patch".into());
    }
    params.push(json!({"$ref": "#/components/parameters/registry_read_write"}));
    params.push(json!({"$ref": "#/components/parameters/registry_expiry_seconds"}));
    Ok(())
}

fn gc_start_type_body(doc: &mut Value) -> Result<(), String> {
    let body = get(
        doc,
        "/paths/~1v2~1registry~1{registry_name}~1garbage-collection/post/requestBody",
    )?
    .clone();
    let op = object_mut(
        doc,
        "/paths/~1v2~1registries~1{registry_name}~1garbage-collection/post",
    )?;
    if op.contains_key("requestBody") {
        return Err("the garbage-collection start has a body already: drop this patch".into());
    }
    op.insert("requestBody".into(), body);
    Ok(())
}

fn registries_total_storage(doc: &mut Value) -> Result<(), String> {
    let props = object_mut(
        doc,
        "/components/schemas/all_registries_info_response/properties",
    )?;
    if props.contains_key("total_storage_usage_bytes") {
        return Err(
            "the registries listing has `total_storage_usage_bytes`: drop this patch".into(),
        );
    }
    props.insert(
        "total_storage_usage_bytes".into(),
        json!({
            "type": "integer",
            "example": 29393920,
            "description": "The storage used by every registry of the account, in bytes."
        }),
    );
    Ok(())
}

fn open_request_regions_and_tiers(doc: &mut Value) -> Result<(), String> {
    for pointer in [
        "/components/schemas/multiregistry_create/properties/region",
        "/components/schemas/multiregistry_create/properties/subscription_tier_slug",
        "/paths/~1v2~1registries~1subscription/post/requestBody/content/application~1json/schema/properties/tier_slug",
    ] {
        open_enum(get_mut(doc, pointer)?, pointer)?;
    }
    Ok(())
}

fn for_each_operation(
    doc: &mut Value,
    mut f: impl FnMut(&str, &mut Map<String, Value>) -> Result<(), String>,
) -> Result<(), String> {
    let paths = object_mut(doc, "/paths")?;
    for (path, item) in paths.iter_mut() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let label = format!("{} {path}", method.to_uppercase());
            let op = op
                .as_object_mut()
                .ok_or_else(|| format!("{label} is not an object"))?;
            f(&label, op)?;
        }
    }
    Ok(())
}

fn insert_component(
    doc: &mut Value,
    section: &str,
    name: &str,
    value: Value,
) -> Result<(), String> {
    let components = object_mut(doc, "/components")?;
    let entries = components
        .entry(section)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("components/{section} is not an object"))?;
    if entries.contains_key(name) {
        return Err(format!("components/{section}/{name} exists already"));
    }
    entries.insert(name.into(), value);
    Ok(())
}

fn get<'a>(doc: &'a Value, pointer: &str) -> Result<&'a Value, String> {
    doc.pointer(pointer)
        .ok_or_else(|| format!("the bundle has no `{pointer}`"))
}

/// The object at `pointer`.
fn object_mut<'a>(
    doc: &'a mut Value,
    pointer: &str,
) -> Result<&'a mut serde_json::Map<String, Value>, String> {
    get_mut(doc, pointer)?
        .as_object_mut()
        .ok_or_else(|| format!("`{pointer}` in the bundle is not an object"))
}

fn get_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value, String> {
    doc.pointer_mut(pointer)
        .ok_or_else(|| format!("the bundle has no `{pointer}`"))
}

/// (path parameter, schema name, pattern, max length) for every path parameter.
const PATH_PARAMETERS: [(&str, &str, &str, usize); 5] = [
    (
        "registry_name",
        "registry_name_parameter",
        "^[a-z0-9-]{1,63}$",
        63,
    ),
    (
        "registry_repository_name",
        "repository_name_parameter",
        "^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$",
        255,
    ),
    (
        "registry_repository_tag",
        "repository_tag_parameter",
        "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        128,
    ),
    (
        "registry_manifest_digest",
        "manifest_digest_parameter",
        "^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$",
        256,
    ),
    (
        "garbage_collection_uuid",
        "garbage_collection_uuid_parameter",
        "^[A-Za-z0-9_-]{1,128}$",
        128,
    ),
];

fn path_parameter_patterns(doc: &mut Value) -> Result<(), String> {
    for (parameter, schema_name, pattern, max) in PATH_PARAMETERS {
        let param = get_mut(doc, &format!("/components/parameters/{parameter}"))?;
        if param.get("in").and_then(Value::as_str) != Some("path") {
            return Err(format!(
                "parameter {parameter} is not a path parameter any more"
            ));
        }
        let schema = param
            .get_mut("schema")
            .ok_or_else(|| format!("parameter {parameter} has no schema"))?;
        if schema.get("pattern").is_some() {
            return Err(format!(
                "parameter {parameter} has a pattern already: drop this patch"
            ));
        }
        let description = param
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        param["schema"] = json!({"$ref": format!("#/components/schemas/{schema_name}")});
        insert_component(
            doc,
            "schemas",
            schema_name,
            json!({
                "type": "string",
                "pattern": pattern,
                "maxLength": max,
                "description": format!("{description} Checked before sending: a value that \
                    breaks the name rules never leaves the client."),
            }),
        )?;
    }
    Ok(())
}

fn fenced_description_code(doc: &mut Value) -> Result<(), String> {
    let mut changed = 0;
    let paths = get_mut(doc, "/paths")?;
    visit_descriptions(paths, &mut |text| {
        if let Some(fenced) = fence_indented_blocks(text) {
            *text = fenced;
            changed += 1;
        }
    });
    if changed == 0 {
        return Err("no description has an indented code block: drop this patch".into());
    }
    Ok(())
}

fn visit_descriptions(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "description" => f(text),
                    _ => visit_descriptions(v, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| visit_descriptions(v, f)),
        _ => {}
    }
}

/// Turns Markdown code blocks indented by four spaces into fenced `text` blocks.
fn fence_indented_blocks(text: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut previous_blank = true;
    let mut changed = false;
    for line in text.lines() {
        let indented = line.starts_with("    ");
        if !in_block && indented && previous_blank {
            out.push("```text".to_string());
            in_block = true;
            changed = true;
        } else if in_block && !indented && !line.trim().is_empty() {
            out.push("```".to_string());
            in_block = false;
        }
        if in_block && indented {
            out.push(line[4..].to_string());
        } else if in_block {
            // A blank line inside a block: close it unless the block goes on after it.
            out.push(String::new());
        } else {
            out.push(line.to_string());
        }
        previous_blank = line.trim().is_empty();
    }
    if in_block {
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out.push("```".to_string());
    }
    if !changed {
        return None;
    }
    // A blank line inside a block that ended right after it belongs outside the fence.
    let mut joined = out.join("\n").replace("\n\n```\n", "\n```\n\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indented_blocks_become_fenced_text() {
        let text =
            "Create a Secret:\n\n    kubectl create secret \\\n      --type=x\n\nThen use it.\n";
        let fenced = fence_indented_blocks(text).unwrap();
        assert_eq!(
            fenced,
            "Create a Secret:\n\n```text\nkubectl create secret \\\n  --type=x\n```\n\nThen use it.\n"
        );
        assert_eq!(fence_indented_blocks("no code here\n"), None);
    }

    #[test]
    fn open_enum_keeps_the_known_values_in_the_description() {
        let mut schema = json!({"type": "string", "enum": ["a", "b"], "description": "Status."});
        open_enum(&mut schema, "/x").unwrap();
        assert_eq!(
            schema,
            json!({"type": "string", "description": "Status. Known values: `a`, `b`; others may appear."})
        );
        assert!(open_enum(&mut schema, "/x").is_err());
    }
}
