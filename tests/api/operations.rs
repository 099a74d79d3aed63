//! Every operation of `spec/registry.yaml`, called through the generated client against a
//! loopback wiremock server: the request that leaves (method, raw path, query, body, headers)
//! is the one the spec describes, and the spec's own example decodes into typed values.
//!
//! The server answers with the status the spec gives and the spec's example for that response,
//! read from the spec at test time. Where the spec gives no example for a whole response, the
//! answer is composed from the examples it gives on the response schema's properties.

use chrono::{DateTime, Utc};
use docr::RetryPolicy;
use docr::{Client, ResponseValue, types};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The operationIds this file calls; a test below compares them with the spec's.
const OPERATIONS: &[&str] = &[
    "kubernetes_add_registry",
    "kubernetes_remove_registry",
    "kubernetes_add_registries",
    "kubernetes_remove_registries",
    "registries_list",
    "registries_create",
    "registries_get",
    "registries_delete",
    "registries_get_dockerCredentials",
    "registries_get_subscription",
    "registries_update_subscription",
    "registries_get_options",
    "registries_get_garbageCollection",
    "registries_run_garbageCollection",
    "registries_list_garbageCollections",
    "registries_update_garbageCollection",
    "registries_list_repositoriesV2",
    "registries_delete_repository",
    "registries_list_repositoryTags",
    "registries_delete_repositoryTag",
    "registries_list_repositoryManifests",
    "registries_delete_repositoryManifest",
    "registries_validate_name",
    "registry_get",
    "registry_create",
    "registry_delete",
    "registry_get_subscription",
    "registry_update_subscription",
    "registry_get_dockerCredentials",
    "registry_validate_name",
    "registry_list_repositories",
    "registry_list_repositoriesV2",
    "registry_list_repositoryTags",
    "registry_delete_repositoryTag",
    "registry_list_repositoryManifests",
    "registry_delete_repositoryManifest",
    "registry_run_garbageCollection",
    "registry_get_garbageCollection",
    "registry_list_garbageCollections",
    "registry_update_garbageCollection",
    "registry_get_options",
];

const TOKEN: &str = "t0ken";
const GC_UUID: &str = "eff0feee-49c7-4e8f-ba5c-a320c109c8a8";
const DIGEST: &str = "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221";
const CLUSTERS: [&str; 2] = [
    "bd5f5959-5e1e-4205-a714-a914373942af",
    "50c2f44c-011d-493e-aee5-361a4a0d1844",
];

// ---------------------------------------------------------------------------------------------
// The spec, read at test time.

use crate::support::spec::{SPEC, resolve};

/// (operationId, METHOD, path template, operation) for every operation of the spec.
fn spec_operations() -> Vec<(&'static str, String, &'static str, &'static Value)> {
    let paths = SPEC["paths"].as_object().expect("the spec has paths");
    let mut all = Vec::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .expect("every operation has an id");
                all.push((id, method.to_uppercase(), path.as_str(), operation));
            }
        }
    }
    all
}

/// Checks `wire` against the spec's description of its operation; returns the spec's success
/// status and the example body to answer with.
fn spec_response(wire: &Wire) -> (u16, Option<Value>) {
    let op = wire.operation;
    assert!(OPERATIONS.contains(&op), "{op}: list it in OPERATIONS");
    let (_, method, template, operation) = spec_operations()
        .into_iter()
        .find(|(id, ..)| *id == op)
        .unwrap_or_else(|| panic!("{op} is not an operation of spec/registry.yaml"));
    assert_eq!(wire.method, method, "{op}: the spec's method");
    assert!(
        path_fits(template, wire.path),
        "{op}: {} does not fit the spec's path {template}",
        wire.path
    );
    let declared: BTreeSet<&str> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(resolve)
        .filter(|parameter| parameter["in"] == "query")
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    for (name, _) in &wire.query {
        assert!(
            declared.contains(name),
            "{op}: the spec declares no query parameter `{name}`"
        );
    }
    match (&wire.body, operation.get("requestBody").map(resolve)) {
        (Some(_), None) => panic!("{op}: the spec declares no request body"),
        (None, Some(body)) if body["required"] == true => panic!("{op}: the spec requires a body"),
        _ => {}
    }
    let responses = operation["responses"]
        .as_object()
        .expect("every operation has responses");
    let mut success = responses
        .iter()
        .filter(|(status, _)| status.starts_with('2'));
    let (status, response) = success
        .next()
        .unwrap_or_else(|| panic!("{op}: no 2xx response"));
    assert!(success.next().is_none(), "{op}: more than one 2xx response");
    let example = resolve(response)
        .pointer("/content/application~1json")
        .map(|media| {
            media_example(media)
                .unwrap_or_else(|| panic!("{op}: the spec has no example to answer"))
        });
    (status.parse().expect("a numeric 2xx status"), example)
}

/// Whether a raw path fills the spec's template, one segment per `{parameter}`.
fn path_fits(template: &str, raw: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let raw: Vec<&str> = raw.split('/').collect();
    template.len() == raw.len()
        && template
            .iter()
            .zip(&raw)
            .all(|(t, r)| t == r || (t.starts_with('{') && t.ends_with('}') && !r.is_empty()))
}

/// The spec's example for a JSON response: the media type's own, else its first named one,
/// else the schema's, else one composed from the examples on the schema's parts.
fn media_example(media: &Value) -> Option<Value> {
    media
        .get("example")
        .cloned()
        .or_else(|| {
            let named = media.get("examples")?.as_object()?.values().next()?;
            resolve(named).get("value").cloned()
        })
        .or_else(|| compose(media.get("schema")?))
}

/// An example for `schema` built from the examples the spec gives on it and on its parts.
fn compose(schema: &Value) -> Option<Value> {
    let schema = resolve(schema);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(items) = schema.get("items") {
        return compose(items).map(|item| json!([item]));
    }
    for choice in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(choice).and_then(Value::as_array) {
            return first.iter().find_map(compose);
        }
    }
    let mut object = Map::new();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(Value::Object(fields)) = compose(part) {
            object.extend(fields);
        }
    }
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(example) = compose(property) {
            object.insert(name.clone(), example);
        }
    }
    (!object.is_empty()).then_some(Value::Object(object))
}

// ---------------------------------------------------------------------------------------------
// The exchange on the wire.

/// One request as it must leave the client.
#[derive(Clone, Debug)]
struct Wire {
    operation: &'static str,
    method: &'static str,
    /// Raw, as on the wire: percent-encoded once.
    path: &'static str,
    /// Every query parameter, in any order; nothing else may be sent.
    query: Vec<(&'static str, String)>,
    /// `None`: no body at all.
    body: Option<Value>,
}

impl Wire {
    fn new(operation: &'static str, method: &'static str, path: &'static str) -> Self {
        Self {
            operation,
            method,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// What in `request` differs from this exchange, in words; empty when it matches.
    fn differences(&self, request: &Request) -> Vec<String> {
        let mut found = Vec::new();
        if request.method.as_str() != self.method {
            found.push(format!(
                "method {} instead of {}",
                request.method, self.method
            ));
        }
        if request.url.path() != self.path {
            found.push(format!(
                "path {} instead of {}",
                request.url.path(),
                self.path
            ));
        }
        let mut sent: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut expected: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        sent.sort();
        expected.sort();
        if sent != expected {
            found.push(format!("query {sent:?} instead of {expected:?}"));
        } else if expected.is_empty() && request.url.query().is_some() {
            found.push(format!(
                "a query string `?{}` where none was expected",
                request.url.query().unwrap_or_default()
            ));
        }
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        match &self.body {
            None if !request.body.is_empty() => found.push(format!(
                "a body where none should be: {}",
                String::from_utf8_lossy(&request.body)
            )),
            None => {}
            Some(expected) => {
                match serde_json::from_slice::<Value>(&request.body) {
                    Ok(sent) if sent == *expected => {}
                    Ok(sent) => found.push(format!("body {sent} instead of {expected}")),
                    Err(e) => found.push(format!("a body that is not JSON ({e})")),
                }
                if !header("content-type").is_some_and(|t| t.starts_with("application/json")) {
                    found.push(format!(
                        "content-type {:?} instead of application/json",
                        header("content-type")
                    ));
                }
            }
        }
        let authorizations: Vec<&str> = request
            .headers
            .get_all("authorization")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if authorizations != [format!("Bearer {TOKEN}")] {
            found.push(format!(
                "{} Authorization headers, not one `Bearer <the token>`",
                authorizations.len()
            ));
        }
        if let Some(version) = header("api-version") {
            found.push(format!("an `api-version: {version}` header"));
        }
        found
    }
}

/// A request in one line, without its headers (the token stays out of test output).
fn summary(request: &Request) -> String {
    format!(
        "{} {}{} body: {:?}",
        request.method,
        request.url.path(),
        request
            .url
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default(),
        String::from_utf8_lossy(&request.body)
    )
}

/// A loopback server expecting exactly one exchange, answering as the spec says, and a client
/// pointed at it.
struct Api {
    server: MockServer,
    client: Client,
    wire: Wire,
    status: u16,
}

impl Api {
    async fn expect(wire: Wire) -> Self {
        let (status, example) = spec_response(&wire);
        let server = MockServer::start().await;
        let mut answer = ResponseTemplate::new(status);
        if let Some(example) = example {
            answer = answer.set_body_json(example);
        }
        let expected = wire.clone();
        Mock::given(move |request: &Request| expected.differences(request).is_empty())
            .respond_with(answer)
            .expect(1)
            .named(format!(
                "{} ({} {})",
                wire.operation, wire.method, wire.path
            ))
            .mount(&server)
            .await;
        let client = Client::builder()
            .token(TOKEN)
            .api_url(server.uri())
            .retry_policy(RetryPolicy::disabled())
            .pacing(None)
            .build()
            .expect("a client for the loopback server");
        Self {
            server,
            client,
            wire,
            status,
        }
    }

    /// Checks the one request the server received, then the status, and returns the value.
    async fn finish<T>(
        &self,
        result: Result<ResponseValue<T>, docr::GeneratedError<types::Error>>,
    ) -> T {
        let op = self.wire.operation;
        let received = self
            .server
            .received_requests()
            .await
            .expect("wiremock records requests");
        match received.as_slice() {
            [request] => {
                let differences = self.wire.differences(request);
                assert!(
                    differences.is_empty(),
                    "{op}: the request is not the expected one:\n- {}\nsent: {}",
                    differences.join("\n- "),
                    summary(request)
                );
            }
            other => panic!(
                "{op}: expected one request, the server received {}: {:#?}",
                other.len(),
                other.iter().map(summary).collect::<Vec<_>>()
            ),
        }
        self.server.verify().await;
        let response = result.unwrap_or_else(|e| panic!("{op}: the call failed: {e}"));
        assert_eq!(
            response.status().as_u16(),
            self.status,
            "{op}: the spec's status"
        );
        response.into_inner()
    }
}

fn at(timestamp: &str) -> DateTime<Utc> {
    timestamp.parse().expect("an RFC 3339 timestamp")
}

// ---------------------------------------------------------------------------------------------
// Typed checks of the spec's examples, shared by the two API families.

/// The registry composed from `registry_base`'s property examples.
fn assert_registry_base(op: &str, registry: &types::RegistryBase) {
    assert_eq!(
        registry.name.as_ref().map(|n| n.as_str()),
        Some("example"),
        "{op}: name"
    );
    assert_eq!(registry.region.as_deref(), Some("fra1"), "{op}: region");
    assert_eq!(
        registry.created_at,
        Some(at("2020-03-21T16:02:37Z")),
        "{op}: created_at"
    );
    assert_eq!(
        registry.storage_usage_bytes,
        Some(29393920),
        "{op}: storage_usage_bytes"
    );
    assert_eq!(
        registry.storage_usage_bytes_updated_at,
        Some(at("2020-11-04T21:39:49.530562231Z")),
        "{op}: storage_usage_bytes_updated_at (nanoseconds)"
    );
}

/// The registry of `registry_info` (deprecated family): the base plus its subscription.
fn assert_registry(op: &str, registry: &types::Registry) {
    assert_eq!(
        registry.name.as_ref().map(|n| n.as_str()),
        Some("example"),
        "{op}: name"
    );
    assert_eq!(registry.region.as_deref(), Some("fra1"), "{op}: region");
    assert_eq!(
        registry.created_at,
        Some(at("2020-03-21T16:02:37Z")),
        "{op}: created_at"
    );
    assert_eq!(
        registry.storage_usage_bytes,
        Some(29393920),
        "{op}: storage_usage_bytes"
    );
    let subscription = registry
        .subscription
        .as_ref()
        .expect("the registry's subscription");
    assert_subscription(op, subscription);
}

fn assert_subscription(op: &str, subscription: &types::Subscription) {
    let tier = subscription.tier.as_ref().expect("the subscription's tier");
    assert_eq!(tier.slug.as_deref(), Some("basic"), "{op}: tier slug");
    assert_eq!(tier.name.as_deref(), Some("Basic"), "{op}: tier name");
    assert_eq!(
        tier.included_repositories,
        Some(5),
        "{op}: included_repositories"
    );
    assert_eq!(
        tier.included_storage_bytes,
        Some(5368709120),
        "{op}: included_storage_bytes"
    );
    assert_eq!(
        tier.allow_storage_overage,
        Some(true),
        "{op}: allow_storage_overage"
    );
    assert_eq!(
        tier.monthly_price_in_cents,
        Some(500),
        "{op}: monthly_price_in_cents"
    );
    assert_eq!(
        tier.storage_overage_price_in_cents,
        Some(2),
        "{op}: storage_overage_price"
    );
    assert_eq!(
        subscription.created_at,
        Some(at("2020-01-23T21:19:12Z")),
        "{op}: created_at"
    );
    assert_eq!(
        subscription.updated_at,
        Some(at("2020-11-05T15:53:24Z")),
        "{op}: updated_at"
    );
}

fn assert_credentials(op: &str, credentials: types::DockerCredentials) {
    let auth = credentials
        .auths
        .and_then(|auths| auths.registry_digitalocean_com)
        .and_then(|registry| registry.auth);
    assert_eq!(
        auth.as_deref(),
        Some(
            "YjdkMDNhNjk0N2IyMTdlZmI2ZjNlYzNiZDM1MDQ1ODI6YjdkMDNhNjk0N2IyMTdlZmI2ZjNlYzNiZDM1MDQ1ODIK"
        ),
        "{op}: auths.\"registry.digitalocean.com\".auth"
    );
}

fn assert_options(op: &str, options: types::RegistryOptionsResponse) {
    let options = options.options.expect("options");
    assert_eq!(
        options.available_regions,
        ["nyc3", "sfo3", "ams3", "sgp1", "fra1"],
        "{op}: regions"
    );
    let slugs: Vec<_> = options
        .subscription_tiers
        .iter()
        .map(|t| t.slug.as_deref())
        .collect();
    assert_eq!(
        slugs,
        [Some("starter"), Some("basic"), Some("professional")],
        "{op}: tiers"
    );
    let starter = &options.subscription_tiers[0];
    assert_eq!(starter.eligible, Some(false), "{op}: starter eligible");
    assert_eq!(
        starter.eligibility_reasons,
        ["OverRepositoryLimit"],
        "{op}: starter reasons"
    );
    assert_eq!(
        starter.included_storage_bytes,
        Some(524288000),
        "{op}: starter storage"
    );
    let professional = &options.subscription_tiers[2];
    assert_eq!(
        professional.included_repositories,
        Some(0),
        "{op}: unlimited repositories"
    );
    assert_eq!(
        professional.monthly_price_in_cents,
        Some(2000),
        "{op}: professional price"
    );
}

/// The garbage collection composed from `garbage_collection`'s property examples.
fn assert_garbage_collection(op: &str, response: types::GarbageCollectionResponse) {
    let gc = response.garbage_collection.expect("garbage_collection");
    assert_eq!(gc.uuid.as_deref(), Some(GC_UUID), "{op}: uuid");
    assert_eq!(
        gc.registry_name.as_deref(),
        Some("example"),
        "{op}: registry_name"
    );
    assert_eq!(gc.status.as_deref(), Some("requested"), "{op}: status");
    assert_eq!(
        gc.type_.as_deref(),
        Some("unreferenced blobs only"),
        "{op}: type"
    );
    assert_eq!(
        gc.created_at,
        Some(at("2020-10-30T21:03:24Z")),
        "{op}: created_at"
    );
    assert_eq!(
        gc.updated_at,
        Some(at("2020-10-30T21:03:44Z")),
        "{op}: updated_at"
    );
    assert_eq!(gc.blobs_deleted, Some(42), "{op}: blobs_deleted");
    assert_eq!(gc.freed_bytes, Some(667), "{op}: freed_bytes");
}

fn assert_garbage_collections(op: &str, response: types::GarbageCollectionsResponse) {
    let [gc] = response.garbage_collections.as_slice() else {
        panic!(
            "{op}: one garbage collection, got {:?}",
            response.garbage_collections
        );
    };
    assert_eq!(gc.uuid.as_deref(), Some(GC_UUID), "{op}: uuid");
    assert_eq!(gc.status.as_deref(), Some("requested"), "{op}: status");
    assert_eq!(
        gc.created_at,
        Some(at("2020-10-30T21:03:24Z")),
        "{op}: created_at (.000Z)"
    );
    assert_eq!(gc.blobs_deleted, Some(42), "{op}: blobs_deleted");
    assert_eq!(gc.freed_bytes, Some(667), "{op}: freed_bytes");
    assert_eq!(gc.type_, None, "{op}: the example gives no type");
}

fn assert_repositories_v2(op: &str, response: types::AllRepositoriesV2Response) {
    assert_eq!(response.meta.total, 5, "{op}: meta.total");
    let pages = response
        .links
        .and_then(|links| links.pages)
        .expect("links.pages");
    assert_eq!(
        pages.next.as_deref(),
        Some(
            "https://api.digitalocean.com/v2/registry/example/repositoriesV2?page=2&page_token=JPZmZzZXQiOjB9&per_page=1"
        ),
        "{op}: links.pages.next"
    );
    assert_eq!(pages.prev, None, "{op}: links.pages.prev");
    let [repository] = response.repositories.as_slice() else {
        panic!("{op}: one repository, got {:?}", response.repositories);
    };
    assert_eq!(repository.name.as_deref(), Some("repo-1"), "{op}: name");
    assert_eq!(repository.tag_count, Some(57), "{op}: tag_count");
    assert_eq!(repository.manifest_count, Some(82), "{op}: manifest_count");
    let manifest = repository
        .latest_manifest
        .as_ref()
        .expect("latest_manifest");
    assert_eq!(
        manifest.digest.as_deref(),
        Some(DIGEST),
        "{op}: latest_manifest.digest"
    );
    assert_eq!(
        manifest.updated_at,
        Some(at("2021-04-09T23:54:25Z")),
        "{op}: updated_at"
    );
    let sizes: Vec<_> = manifest
        .blobs
        .iter()
        .map(|b| b.compressed_size_bytes)
        .collect();
    // The example's second blob spells the field `compressed_size_byte`: unknown, so absent.
    assert_eq!(sizes, [Some(1471), None, Some(528)], "{op}: blob sizes");
}

fn assert_tags(op: &str, response: types::RepositoryTagsResponse) {
    assert_eq!(response.meta.total, 1, "{op}: meta.total");
    let [tag] = response.tags.as_slice() else {
        panic!("{op}: one tag, got {:?}", response.tags);
    };
    assert_eq!(tag.tag.as_deref(), Some("latest"), "{op}: tag");
    assert_eq!(
        tag.repository.as_deref(),
        Some("repo-1"),
        "{op}: repository"
    );
    assert_eq!(
        tag.manifest_digest.as_deref(),
        Some(DIGEST),
        "{op}: manifest_digest"
    );
    assert_eq!(
        tag.compressed_size_bytes,
        Some(2803255),
        "{op}: compressed_size_bytes"
    );
    assert_eq!(tag.size_bytes, Some(5861888), "{op}: size_bytes");
    assert_eq!(
        tag.updated_at,
        Some(at("2020-04-09T23:54:25Z")),
        "{op}: updated_at"
    );
}

fn assert_manifests(op: &str, response: types::RepositoryManifestsResponse) {
    assert_eq!(response.meta.total, 3, "{op}: meta.total");
    let pages = response
        .links
        .and_then(|links| links.pages)
        .expect("links.pages");
    assert_eq!(
        pages.last.as_deref(),
        Some(
            "https://api.digitalocean.com/v2/registry/example/repositories/repo-1/digests?page=3&per_page=1"
        ),
        "{op}: links.pages.last"
    );
    let [manifest] = response.manifests.as_slice() else {
        panic!("{op}: one manifest, got {:?}", response.manifests);
    };
    assert_eq!(manifest.digest.as_deref(), Some(DIGEST), "{op}: digest");
    assert_eq!(manifest.tags, ["v1", "v2"], "{op}: tags");
    assert_eq!(manifest.size_bytes, Some(2816445), "{op}: size_bytes");
    assert_eq!(manifest.blobs.len(), 3, "{op}: blobs");
}

// ---------------------------------------------------------------------------------------------
// The coverage of this file.

#[test]
fn this_file_calls_every_operation_of_the_spec_and_no_other() {
    let spec: BTreeSet<&str> = spec_operations().into_iter().map(|(id, ..)| id).collect();
    let listed: BTreeSet<&str> = OPERATIONS.iter().copied().collect();
    assert_eq!(
        listed.len(),
        OPERATIONS.len(),
        "OPERATIONS lists an operation twice"
    );
    let untested: Vec<_> = spec.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&spec).collect();
    assert!(
        untested.is_empty() && unknown.is_empty(),
        "spec/registry.yaml has operations this file does not call: {untested:?}; \
         OPERATIONS lists operations the spec lacks: {unknown:?}"
    );
    assert_eq!(spec.len(), 41, "the fragment's operation count changed");
    // Every listed operation appears once more, in the `Wire` of a test that calls it.
    let source = include_str!("operations.rs");
    for op in OPERATIONS {
        assert!(
            source.matches(&format!("\"{op}\"")).count() >= 2,
            "{op} is listed in OPERATIONS but no test calls it"
        );
    }
}

#[test]
fn every_json_success_response_has_an_example_to_answer_with() {
    for (op, _, _, operation) in spec_operations() {
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
            if let Some(media) = resolve(response).pointer("/content/application~1json") {
                let example = media_example(media);
                assert!(
                    matches!(example, Some(Value::Object(_))),
                    "{op} {status}: no example object to answer with: {example:?}"
                );
            }
        }
    }
}

fn clusters() -> Vec<String> {
    CLUSTERS.map(String::from).to_vec()
}

// ---------------------------------------------------------------------------------------------
// Kubernetes integration.

#[tokio::test]
async fn kubernetes_add_registry() {
    let api = Api::expect(
        Wire::new("kubernetes_add_registry", "POST", "/v2/kubernetes/registry")
            .body(json!({"cluster_uuids": CLUSTERS})),
    )
    .await;
    let result = api
        .client
        .kubernetes_add_registry()
        .body_map(|b| b.cluster_uuids(clusters()))
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn kubernetes_remove_registry() {
    let api = Api::expect(
        Wire::new(
            "kubernetes_remove_registry",
            "DELETE",
            "/v2/kubernetes/registry",
        )
        .body(json!({"cluster_uuids": CLUSTERS})),
    )
    .await;
    let result = api
        .client
        .kubernetes_remove_registry()
        .body_map(|b| b.cluster_uuids(clusters()))
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn kubernetes_add_registries() {
    let api = Api::expect(
        Wire::new(
            "kubernetes_add_registries",
            "POST",
            "/v2/kubernetes/registries",
        )
        .body(json!({"cluster_uuids": CLUSTERS, "registries": ["registry-a", "registry-b"]})),
    )
    .await;
    let result = api
        .client
        .kubernetes_add_registries()
        .body_map(|b| {
            b.cluster_uuids(clusters())
                .registries(vec!["registry-a".to_string(), "registry-b".to_string()])
        })
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn kubernetes_remove_registries() {
    let api = Api::expect(
        Wire::new(
            "kubernetes_remove_registries",
            "DELETE",
            "/v2/kubernetes/registries",
        )
        .body(json!({"cluster_uuids": CLUSTERS, "registries": ["registry-a"]})),
    )
    .await;
    let result = api
        .client
        .kubernetes_remove_registries()
        .body_map(|b| {
            b.cluster_uuids(clusters())
                .registries(vec!["registry-a".to_string()])
        })
        .send()
        .await;
    api.finish(result).await;
}

// ---------------------------------------------------------------------------------------------
// `/v2/registries`: registries, subscription, options.

#[tokio::test]
async fn registries_list() {
    let api = Api::expect(Wire::new("registries_list", "GET", "/v2/registries")).await;
    let result = api.client.registries_list().send().await;
    let list = api.finish(result).await;
    let [registry] = list.registries.as_slice() else {
        panic!("registries_list: one registry, got {:?}", list.registries);
    };
    assert_registry("registries_list", registry);
}

#[tokio::test]
async fn registries_create_with_every_field() {
    let api = Api::expect(
        Wire::new("registries_create", "POST", "/v2/registries")
            .body(json!({"name": "example", "subscription_tier_slug": "basic", "region": "fra1"})),
    )
    .await;
    let result = api
        .client
        .registries_create()
        .body_map(|b| {
            b.name("example")
                .subscription_tier_slug(types::MultiregistryCreateSubscriptionTierSlug::Basic)
                .region(types::MultiregistryCreateRegion::Fra1)
        })
        .send()
        .await;
    let created = api
        .finish(result)
        .await
        .registry
        .expect("registries_create: registry");
    assert_registry_base("registries_create", &created);
}

#[tokio::test]
async fn registries_create_with_only_the_name_sends_only_the_name() {
    let api = Api::expect(
        Wire::new("registries_create", "POST", "/v2/registries").body(json!({"name": "example"})),
    )
    .await;
    let result = api
        .client
        .registries_create()
        .body_map(|b| b.name("example"))
        .send()
        .await;
    let created = api
        .finish(result)
        .await
        .registry
        .expect("registries_create: registry");
    assert_registry_base("registries_create", &created);
}

#[tokio::test]
async fn registries_get() {
    let api = Api::expect(Wire::new("registries_get", "GET", "/v2/registries/example")).await;
    let result = api
        .client
        .registries_get()
        .registry_name("example")
        .send()
        .await;
    let registry = api
        .finish(result)
        .await
        .registry
        .expect("registries_get: registry");
    assert_registry_base("registries_get", &registry);
}

#[tokio::test]
async fn registries_delete() {
    let api = Api::expect(Wire::new(
        "registries_delete",
        "DELETE",
        "/v2/registries/example",
    ))
    .await;
    let result = api
        .client
        .registries_delete()
        .registry_name("example")
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn registries_get_docker_credentials_read_only_by_default() {
    let wire = Wire::new(
        "registries_get_dockerCredentials",
        "GET",
        "/v2/registries/example/docker-credentials",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_get_docker_credentials()
        .registry_name("example")
        .send()
        .await;
    assert_credentials("registries_get_dockerCredentials", api.finish(result).await);
}

#[tokio::test]
async fn registries_get_docker_credentials_read_write_with_expiry() {
    let wire = Wire::new(
        "registries_get_dockerCredentials",
        "GET",
        "/v2/registries/example/docker-credentials",
    )
    .query("read_write", true)
    .query("expiry_seconds", 3600);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_get_docker_credentials()
        .registry_name("example")
        .read_write(true)
        .expiry_seconds(3600u64)
        .send()
        .await;
    assert_credentials("registries_get_dockerCredentials", api.finish(result).await);
}

#[tokio::test]
async fn registries_get_subscription() {
    let api = Api::expect(Wire::new(
        "registries_get_subscription",
        "GET",
        "/v2/registries/subscription",
    ))
    .await;
    let result = api.client.registries_get_subscription().send().await;
    let subscription = api.finish(result).await.subscription.expect("subscription");
    assert_subscription("registries_get_subscription", &subscription);
}

#[tokio::test]
async fn registries_update_subscription() {
    let api = Api::expect(
        Wire::new(
            "registries_update_subscription",
            "POST",
            "/v2/registries/subscription",
        )
        .body(json!({"tier_slug": "professional"})),
    )
    .await;
    let result = api
        .client
        .registries_update_subscription()
        .body_map(|b| b.tier_slug(types::RegistriesUpdateSubscriptionBodyTierSlug::Professional))
        .send()
        .await;
    let subscription = api.finish(result).await.subscription.expect("subscription");
    assert_subscription("registries_update_subscription", &subscription);
}

#[tokio::test]
async fn registries_get_options() {
    let api = Api::expect(Wire::new(
        "registries_get_options",
        "GET",
        "/v2/registries/options",
    ))
    .await;
    let result = api.client.registries_get_options().send().await;
    assert_options("registries_get_options", api.finish(result).await);
}

#[tokio::test]
async fn registries_validate_name() {
    let api = Api::expect(
        Wire::new(
            "registries_validate_name",
            "POST",
            "/v2/registries/validate-name",
        )
        .body(json!({"name": "example"})),
    )
    .await;
    let result = api
        .client
        .registries_validate_name()
        .body_map(|b| b.name("example"))
        .send()
        .await;
    api.finish(result).await;
}

// ---------------------------------------------------------------------------------------------
// `/v2/registries`: garbage collection.

#[tokio::test]
async fn registries_get_garbage_collection() {
    let wire = Wire::new(
        "registries_get_garbageCollection",
        "GET",
        "/v2/registries/example/garbage-collection",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_get_garbage_collection()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collection("registries_get_garbageCollection", api.finish(result).await);
}

#[tokio::test]
async fn registries_run_garbage_collection_of_a_type() {
    let wire = Wire::new(
        "registries_run_garbageCollection",
        "POST",
        "/v2/registries/example/garbage-collection",
    )
    .body(json!({"type": "untagged manifests and unreferenced blobs"}));
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_run_garbage_collection()
        .registry_name("example")
        .body_map(|b| b.type_(types::RegistryRunGcType::UntaggedManifestsAndUnreferencedBlobs))
        .send()
        .await;
    assert_garbage_collection("registries_run_garbageCollection", api.finish(result).await);
}

/// The body is optional in the spec; the generated client still sends one, empty.
#[tokio::test]
async fn registries_run_garbage_collection_without_a_type_sends_no_body() {
    let wire = Wire::new(
        "registries_run_garbageCollection",
        "POST",
        "/v2/registries/example/garbage-collection",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_run_garbage_collection()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collection("registries_run_garbageCollection", api.finish(result).await);
}

#[tokio::test]
async fn registries_list_garbage_collections_with_paging() {
    let wire = Wire::new(
        "registries_list_garbageCollections",
        "GET",
        "/v2/registries/example/garbage-collections",
    )
    .query("page", 2)
    .query("per_page", 10);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_garbage_collections()
        .registry_name("example")
        .page(2u64)
        .per_page(10u64)
        .send()
        .await;
    assert_garbage_collections(
        "registries_list_garbageCollections",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registries_list_garbage_collections_without_paging() {
    let wire = Wire::new(
        "registries_list_garbageCollections",
        "GET",
        "/v2/registries/example/garbage-collections",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_garbage_collections()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collections(
        "registries_list_garbageCollections",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registries_update_garbage_collection() {
    let wire = Wire::new(
        "registries_update_garbageCollection",
        "PUT",
        "/v2/registries/example/garbage-collection/eff0feee-49c7-4e8f-ba5c-a320c109c8a8",
    )
    .body(json!({"cancel": true}));
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_update_garbage_collection()
        .registry_name("example")
        .garbage_collection_uuid(GC_UUID)
        .body_map(|b| b.cancel(true))
        .send()
        .await;
    assert_garbage_collection(
        "registries_update_garbageCollection",
        api.finish(result).await,
    );
}

// ---------------------------------------------------------------------------------------------
// `/v2/registries`: repositories, tags and manifests. Names with `/` leave encoded once.

#[tokio::test]
async fn registries_list_repositories_v2_with_a_page_token() {
    // The token's `+`, `/` and `=` are form-encoded in the query, once.
    let wire = Wire::new(
        "registries_list_repositoriesV2",
        "GET",
        "/v2/registries/example/repositoriesV2",
    )
    .query("per_page", 1)
    .query("page_token", "JPZm+Zz/ZX==");
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repositories_v2()
        .registry_name("example")
        .per_page(1u64)
        .page_token("JPZm+Zz/ZX==")
        .send()
        .await;
    let received = api.server.received_requests().await.unwrap_or_default();
    let raw_query = received
        .first()
        .and_then(|r| r.url.query().map(String::from));
    assert!(
        raw_query
            .as_deref()
            .is_some_and(|q| q.contains("page_token=JPZm%2BZz%2FZX%3D%3D")),
        "registries_list_repositoriesV2: the page token is not encoded once: {raw_query:?}"
    );
    assert_repositories_v2("registries_list_repositoriesV2", api.finish(result).await);
}

#[tokio::test]
async fn registries_list_repositories_v2_by_page_number() {
    let wire = Wire::new(
        "registries_list_repositoriesV2",
        "GET",
        "/v2/registries/example/repositoriesV2",
    )
    .query("page", 3);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repositories_v2()
        .registry_name("example")
        .page(3u64)
        .send()
        .await;
    assert_repositories_v2("registries_list_repositoriesV2", api.finish(result).await);
}

#[tokio::test]
async fn registries_list_repositories_v2_without_paging() {
    let wire = Wire::new(
        "registries_list_repositoriesV2",
        "GET",
        "/v2/registries/example/repositoriesV2",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repositories_v2()
        .registry_name("example")
        .send()
        .await;
    assert_repositories_v2("registries_list_repositoriesV2", api.finish(result).await);
}

#[tokio::test]
async fn registries_delete_repository() {
    let wire = Wire::new(
        "registries_delete_repository",
        "DELETE",
        "/v2/registries/example/repositories/team%2Fapp",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_delete_repository()
        .registry_name("example")
        .repository_name("team/app")
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn registries_list_repository_tags_with_paging() {
    let wire = Wire::new(
        "registries_list_repositoryTags",
        "GET",
        "/v2/registries/example/repositories/team%2Fapp/tags",
    )
    .query("page", 2)
    .query("per_page", 5);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repository_tags()
        .registry_name("example")
        .repository_name("team/app")
        .page(2u64)
        .per_page(5u64)
        .send()
        .await;
    assert_tags("registries_list_repositoryTags", api.finish(result).await);
}

#[tokio::test]
async fn registries_list_repository_tags_without_paging() {
    let wire = Wire::new(
        "registries_list_repositoryTags",
        "GET",
        "/v2/registries/example/repositories/team%2Fapp/tags",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repository_tags()
        .registry_name("example")
        .repository_name("team/app")
        .send()
        .await;
    assert_tags("registries_list_repositoryTags", api.finish(result).await);
}

#[tokio::test]
async fn registries_delete_repository_tag() {
    let wire = Wire::new(
        "registries_delete_repositoryTag",
        "DELETE",
        "/v2/registries/example/repositories/team%2Fapp/tags/v1.2",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_delete_repository_tag()
        .registry_name("example")
        .repository_name("team/app")
        .repository_tag("v1.2")
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn registries_list_repository_manifests_of_a_nested_name_with_paging() {
    let wire = Wire::new(
        "registries_list_repositoryManifests",
        "GET",
        "/v2/registries/example/repositories/team%2Fsub%2Fapp/digests",
    )
    .query("page", 2)
    .query("per_page", 1);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repository_manifests()
        .registry_name("example")
        .repository_name("team/sub/app")
        .page(2u64)
        .per_page(1u64)
        .send()
        .await;
    assert_manifests(
        "registries_list_repositoryManifests",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registries_list_repository_manifests_without_paging() {
    let wire = Wire::new(
        "registries_list_repositoryManifests",
        "GET",
        "/v2/registries/example/repositories/team%2Fapp/digests",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_list_repository_manifests()
        .registry_name("example")
        .repository_name("team/app")
        .send()
        .await;
    assert_manifests(
        "registries_list_repositoryManifests",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registries_delete_repository_manifest() {
    let wire = Wire::new(
        "registries_delete_repositoryManifest",
        "DELETE",
        "/v2/registries/example/repositories/team%2Fapp/digests/sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registries_delete_repository_manifest()
        .registry_name("example")
        .repository_name("team/app")
        .manifest_digest(DIGEST)
        .send()
        .await;
    api.finish(result).await;
}

// ---------------------------------------------------------------------------------------------
// `/v2/registry` (deprecated): registry, subscription, options, credentials.

#[tokio::test]
async fn registry_get() {
    let api = Api::expect(Wire::new("registry_get", "GET", "/v2/registry")).await;
    let result = api.client.registry_get().send().await;
    let registry = api
        .finish(result)
        .await
        .registry
        .expect("registry_get: registry");
    assert_registry("registry_get", &registry);
}

#[tokio::test]
async fn registry_create() {
    let api =
        Api::expect(Wire::new("registry_create", "POST", "/v2/registry").body(
            json!({"name": "example", "subscription_tier_slug": "starter", "region": "ams3"}),
        ))
        .await;
    let result = api
        .client
        .registry_create()
        .body_map(|b| {
            b.name("example")
                .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Starter)
                .region(types::RegistryCreateRegion::Ams3)
        })
        .send()
        .await;
    let registry = api
        .finish(result)
        .await
        .registry
        .expect("registry_create: registry");
    assert_registry("registry_create", &registry);
}

#[tokio::test]
async fn registry_create_without_a_region_leaves_it_out() {
    let api = Api::expect(
        Wire::new("registry_create", "POST", "/v2/registry")
            .body(json!({"name": "example", "subscription_tier_slug": "basic"})),
    )
    .await;
    let result = api
        .client
        .registry_create()
        .body_map(|b| {
            b.name("example")
                .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Basic)
        })
        .send()
        .await;
    let registry = api
        .finish(result)
        .await
        .registry
        .expect("registry_create: registry");
    assert_registry("registry_create", &registry);
}

#[tokio::test]
async fn registry_delete() {
    let api = Api::expect(Wire::new("registry_delete", "DELETE", "/v2/registry")).await;
    let result = api.client.registry_delete().send().await;
    api.finish(result).await;
}

#[tokio::test]
async fn registry_get_subscription() {
    let api = Api::expect(Wire::new(
        "registry_get_subscription",
        "GET",
        "/v2/registry/subscription",
    ))
    .await;
    let result = api.client.registry_get_subscription().send().await;
    let subscription = api.finish(result).await.subscription.expect("subscription");
    assert_subscription("registry_get_subscription", &subscription);
}

#[tokio::test]
async fn registry_update_subscription() {
    let api = Api::expect(
        Wire::new(
            "registry_update_subscription",
            "POST",
            "/v2/registry/subscription",
        )
        .body(json!({"tier_slug": "basic"})),
    )
    .await;
    let result = api
        .client
        .registry_update_subscription()
        .body_map(|b| b.tier_slug(types::RegistryUpdateSubscriptionBodyTierSlug::Basic))
        .send()
        .await;
    let subscription = api.finish(result).await.subscription.expect("subscription");
    assert_subscription("registry_update_subscription", &subscription);
}

#[tokio::test]
async fn registry_get_docker_credentials_read_only_by_default() {
    let api = Api::expect(Wire::new(
        "registry_get_dockerCredentials",
        "GET",
        "/v2/registry/docker-credentials",
    ))
    .await;
    let result = api.client.registry_get_docker_credentials().send().await;
    assert_credentials("registry_get_dockerCredentials", api.finish(result).await);
}

#[tokio::test]
async fn registry_get_docker_credentials_read_write_only() {
    let wire = Wire::new(
        "registry_get_dockerCredentials",
        "GET",
        "/v2/registry/docker-credentials",
    )
    .query("read_write", true);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_get_docker_credentials()
        .read_write(true)
        .send()
        .await;
    assert_credentials("registry_get_dockerCredentials", api.finish(result).await);
}

#[tokio::test]
async fn registry_get_docker_credentials_expiring() {
    let wire = Wire::new(
        "registry_get_dockerCredentials",
        "GET",
        "/v2/registry/docker-credentials",
    )
    .query("expiry_seconds", 3600);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_get_docker_credentials()
        .expiry_seconds(3600u64)
        .send()
        .await;
    assert_credentials("registry_get_dockerCredentials", api.finish(result).await);
}

#[tokio::test]
async fn registry_validate_name() {
    let api = Api::expect(
        Wire::new(
            "registry_validate_name",
            "POST",
            "/v2/registry/validate-name",
        )
        .body(json!({"name": "example"})),
    )
    .await;
    let result = api
        .client
        .registry_validate_name()
        .body_map(|b| b.name("example"))
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn registry_get_options() {
    let api = Api::expect(Wire::new(
        "registry_get_options",
        "GET",
        "/v2/registry/options",
    ))
    .await;
    let result = api.client.registry_get_options().send().await;
    assert_options("registry_get_options", api.finish(result).await);
}

// ---------------------------------------------------------------------------------------------
// `/v2/registry` (deprecated): repositories, tags and manifests.

#[tokio::test]
async fn registry_list_repositories_with_paging() {
    let wire = Wire::new(
        "registry_list_repositories",
        "GET",
        "/v2/registry/example/repositories",
    )
    .query("page", 1)
    .query("per_page", 20);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repositories()
        .registry_name("example")
        .page(1u64)
        .per_page(20u64)
        .send()
        .await;
    let list = api.finish(result).await;
    assert_eq!(list.meta.total, 1, "registry_list_repositories: meta.total");
    let [repository] = list.repositories.as_slice() else {
        panic!(
            "registry_list_repositories: one repository, got {:?}",
            list.repositories
        );
    };
    assert_eq!(
        repository.name.as_deref(),
        Some("repo-1"),
        "registry_list_repositories: name"
    );
    assert_eq!(
        repository.tag_count,
        Some(1),
        "registry_list_repositories: tag_count"
    );
    let latest = repository.latest_tag.as_ref().expect("latest_tag");
    assert_eq!(
        latest.tag.as_deref(),
        Some("latest"),
        "registry_list_repositories: latest_tag"
    );
    assert_eq!(
        latest.updated_at,
        Some(at("2020-04-09T23:54:25Z")),
        "registry_list_repositories: updated_at"
    );
}

#[tokio::test]
async fn registry_list_repositories_without_paging() {
    let api = Api::expect(Wire::new(
        "registry_list_repositories",
        "GET",
        "/v2/registry/example/repositories",
    ))
    .await;
    let result = api
        .client
        .registry_list_repositories()
        .registry_name("example")
        .send()
        .await;
    let list = api.finish(result).await;
    assert_eq!(list.meta.total, 1, "registry_list_repositories: meta.total");
    assert_eq!(
        list.repositories.len(),
        1,
        "registry_list_repositories: repositories"
    );
}

#[tokio::test]
async fn registry_list_repositories_v2_with_every_paging_parameter() {
    let wire = Wire::new(
        "registry_list_repositoriesV2",
        "GET",
        "/v2/registry/example/repositoriesV2",
    )
    .query("page", 2)
    .query("per_page", 1)
    .query("page_token", "JPZmZzZXQiOjB9");
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repositories_v2()
        .registry_name("example")
        .page(2u64)
        .per_page(1u64)
        .page_token("JPZmZzZXQiOjB9")
        .send()
        .await;
    assert_repositories_v2("registry_list_repositoriesV2", api.finish(result).await);
}

#[tokio::test]
async fn registry_list_repositories_v2_without_paging() {
    let api = Api::expect(Wire::new(
        "registry_list_repositoriesV2",
        "GET",
        "/v2/registry/example/repositoriesV2",
    ))
    .await;
    let result = api
        .client
        .registry_list_repositories_v2()
        .registry_name("example")
        .send()
        .await;
    assert_repositories_v2("registry_list_repositoriesV2", api.finish(result).await);
}

#[tokio::test]
async fn registry_list_repository_tags_with_a_page_size() {
    let wire = Wire::new(
        "registry_list_repositoryTags",
        "GET",
        "/v2/registry/example/repositories/team%2Fapp/tags",
    )
    .query("per_page", 5);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repository_tags()
        .registry_name("example")
        .repository_name("team/app")
        .per_page(5u64)
        .send()
        .await;
    assert_tags("registry_list_repositoryTags", api.finish(result).await);
}

#[tokio::test]
async fn registry_list_repository_tags_without_paging() {
    let wire = Wire::new(
        "registry_list_repositoryTags",
        "GET",
        "/v2/registry/example/repositories/team%2Fapp/tags",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repository_tags()
        .registry_name("example")
        .repository_name("team/app")
        .send()
        .await;
    assert_tags("registry_list_repositoryTags", api.finish(result).await);
}

#[tokio::test]
async fn registry_delete_repository_tag() {
    let wire = Wire::new(
        "registry_delete_repositoryTag",
        "DELETE",
        "/v2/registry/example/repositories/team%2Fapp/tags/latest",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_delete_repository_tag()
        .registry_name("example")
        .repository_name("team/app")
        .repository_tag("latest")
        .send()
        .await;
    api.finish(result).await;
}

#[tokio::test]
async fn registry_list_repository_manifests_with_a_page() {
    let wire = Wire::new(
        "registry_list_repositoryManifests",
        "GET",
        "/v2/registry/example/repositories/team%2Fapp/digests",
    )
    .query("page", 1);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repository_manifests()
        .registry_name("example")
        .repository_name("team/app")
        .page(1u64)
        .send()
        .await;
    assert_manifests(
        "registry_list_repositoryManifests",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registry_list_repository_manifests_without_paging() {
    let wire = Wire::new(
        "registry_list_repositoryManifests",
        "GET",
        "/v2/registry/example/repositories/team%2Fapp/digests",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_repository_manifests()
        .registry_name("example")
        .repository_name("team/app")
        .send()
        .await;
    assert_manifests(
        "registry_list_repositoryManifests",
        api.finish(result).await,
    );
}

#[tokio::test]
async fn registry_delete_repository_manifest() {
    let wire = Wire::new(
        "registry_delete_repositoryManifest",
        "DELETE",
        "/v2/registry/example/repositories/team%2Fapp/digests/sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_delete_repository_manifest()
        .registry_name("example")
        .repository_name("team/app")
        .manifest_digest(DIGEST)
        .send()
        .await;
    api.finish(result).await;
}

// ---------------------------------------------------------------------------------------------
// `/v2/registry` (deprecated): garbage collection.

#[tokio::test]
async fn registry_run_garbage_collection_of_a_type() {
    let wire = Wire::new(
        "registry_run_garbageCollection",
        "POST",
        "/v2/registry/example/garbage-collection",
    )
    .body(json!({"type": "untagged manifests only"}));
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_run_garbage_collection()
        .registry_name("example")
        .body_map(|b| b.type_(types::RegistryRunGcType::UntaggedManifestsOnly))
        .send()
        .await;
    assert_garbage_collection("registry_run_garbageCollection", api.finish(result).await);
}

/// The body is optional in the spec; the generated client still sends one, empty.
#[tokio::test]
async fn registry_run_garbage_collection_without_a_type_sends_no_body() {
    let wire = Wire::new(
        "registry_run_garbageCollection",
        "POST",
        "/v2/registry/example/garbage-collection",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_run_garbage_collection()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collection("registry_run_garbageCollection", api.finish(result).await);
}

#[tokio::test]
async fn registry_get_garbage_collection() {
    let wire = Wire::new(
        "registry_get_garbageCollection",
        "GET",
        "/v2/registry/example/garbage-collection",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_get_garbage_collection()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collection("registry_get_garbageCollection", api.finish(result).await);
}

#[tokio::test]
async fn registry_list_garbage_collections_with_a_page_size() {
    let wire = Wire::new(
        "registry_list_garbageCollections",
        "GET",
        "/v2/registry/example/garbage-collections",
    )
    .query("per_page", 2);
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_garbage_collections()
        .registry_name("example")
        .per_page(2u64)
        .send()
        .await;
    assert_garbage_collections("registry_list_garbageCollections", api.finish(result).await);
}

#[tokio::test]
async fn registry_list_garbage_collections_without_paging() {
    let wire = Wire::new(
        "registry_list_garbageCollections",
        "GET",
        "/v2/registry/example/garbage-collections",
    );
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_list_garbage_collections()
        .registry_name("example")
        .send()
        .await;
    assert_garbage_collections("registry_list_garbageCollections", api.finish(result).await);
}

#[tokio::test]
async fn registry_update_garbage_collection() {
    let wire = Wire::new(
        "registry_update_garbageCollection",
        "PUT",
        "/v2/registry/example/garbage-collection/eff0feee-49c7-4e8f-ba5c-a320c109c8a8",
    )
    .body(json!({"cancel": true}));
    let api = Api::expect(wire).await;
    let result = api
        .client
        .registry_update_garbage_collection()
        .registry_name("example")
        .garbage_collection_uuid(GC_UUID)
        .body_map(|b| b.cancel(true))
        .send()
        .await;
    assert_garbage_collection(
        "registry_update_garbageCollection",
        api.finish(result).await,
    );
}
